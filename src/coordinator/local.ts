/**
 * All parties of a job in one process over the in-memory transport, with an in-memory
 * dealer or OT preprocessing among them: the reference harness for tests and for
 * benchmarking the protocol without a network.
 * @module
 */
import type { Plan } from '../compiler/plan.ts';
import { planForSecurity } from '../compiler/range-checks.ts';
import { ANALYST } from '../circuit/builder.ts';
import { Prg, randomSeed } from '../ring/prg.ts';
import { memoryExtras, type Dealing } from '../preprocessing/dealer.ts';
import { dealerFor, dealerPrep } from '../preprocessing/dealers.ts';
import { createOtMaterial, otSessionId } from '../preprocessing/ot/material.ts';
import type { BaseOtProvider } from '../preprocessing/ot/extension.ts';
import { memoryNetwork } from '../protocol/memory.ts';
import { execute, type PartyResult } from '../protocol/executor.ts';
import { encodePartyInputs, type RawInputs } from '../protocol/inputs.ts';
import { assertSupported, suiteFor } from '../protocol/suites.ts';
import type { ProtocolSuite } from '../protocol/suite.ts';
import type { Transport } from '../protocol/transport.ts';
import type { Kernels } from '../protocol/kernels.ts';

export interface LocalRunOptions<V = BigUint64Array> {
  /** Computing parties in job order; defaults to the plan's parties. */
  parties?: readonly string[];
  /** Default: the semi-honest suite of the plan's domain. */
  suite?: ProtocolSuite<unknown, unknown, V>;
  /** Wrap a party's transport (fault-injection tests). */
  wrapTransport?: (t: Transport, self: number) => Transport;
  /** Pin the dealer's seeds (known-answer tests). */
  dealerSeeds?: Uint8Array[];
  /** Where every party's kernels run (e.g. a worker pool); default: `defaultKernels()`. */
  kernels?: Kernels;
  /**
   * `dealer` (default): an in-memory dealer; `ot`: the parties make their own preprocessing
   * by oblivious transfer over the in-memory transport (src/preprocessing/ot).
   */
  preprocessing?: 'dealer' | 'ot';
  /** Dealer preprocessing: see (or alter) the dealer's material on its way to the parties (tests). */
  wrapDealing?: (d: Dealing) => Dealing;
  /** OT preprocessing: how sessions get their base OTs (tests inject a cheap double). */
  baseOt?: BaseOtProvider;
  /**
   * How a party turns its raw inputs into ring elements; default `encodePartyInputs`, which
   * refuses values outside their declared range. Tests replace it to play a cheating party.
   */
  encodeInputs?: (plan: Plan, party: string, values: RawInputs[string] | undefined) => Map<number, V>;
  /** Elements per piece of long local ops (executor's ExecuteOptions.localPiece). */
  localPiece?: number;
}

export interface LocalRunResult<V = BigUint64Array> {
  perParty: PartyResult<V>[];
  /** Outputs addressed to the analyst, reconstructed (and verified) as the analyst does (Z128Vecs in Z_2^128). */
  analyst: Record<string, V>;
  bytesSent: number[];
}

export async function runLocal<V = BigUint64Array>(submitted: Plan, inputs: RawInputs, options: LocalRunOptions<V> = {}): Promise<LocalRunResult<V>> {
  const parties = options.parties ?? submitted.parties;
  const suite = options.suite ?? (suiteFor('semi-honest', submitted.ring ?? 64) as unknown as ProtocolSuite<unknown, unknown, V>);
  assertSupported(suite.name, submitted.ring ?? 64);
  const plan = planForSecurity(submitted, suite.name);
  const encode = options.encodeInputs ?? ((pl: Plan, p: string, v: RawInputs[string] | undefined) => encodePartyInputs<V>(pl, p, v, 'inputs'));
  const n = parties.length;
  const transports = memoryNetwork(n).map((t, i) => options.wrapTransport?.(t, i) ?? t);
  const dealt = options.preprocessing === 'ot' ? undefined : dealerFor(suite.name).deal(plan, n, options.dealerSeeds);
  const dealing = dealt && options.wrapDealing ? options.wrapDealing(dealt) : dealt;
  const sessionId = otSessionId(`local/${randomSeed().join('.')}`, plan.circuit);
  const otMaterial = (transport: Transport) => createOtMaterial(suite.name, { transport, parties, sessionId, ring: plan.ring ?? 64, ...(options.baseOt ? { baseOt: options.baseOt } : {}) }).material;
  const runs = parties.map((p, i) =>
    execute(
      plan,
      {
        self: i,
        parties,
        transport: transports[i],
        prep: dealing ? dealerPrep(suite, plan, n, i, dealing.seeds[i], memoryExtras(dealing, i)) : suite.prep(plan, n, i, otMaterial(transports[i])),
        rng: new Prg(randomSeed(), 'local'),
        kernels: options.kernels,
      },
      suite,
      encode(plan, p, inputs[p]),
      options.localPiece === undefined ? {} : { localPiece: options.localPiece },
    ),
  );
  // Any party's failure aborts the others, as a node's abort message would.
  runs.forEach((r) => r.catch((e: Error) => transports.forEach((t) => t.abort(e))));
  const perParty = await Promise.all(runs);
  const analyst: Record<string, V> = {};
  for (const o of plan.outputs) {
    if (!o.to.includes(ANALYST)) continue;
    analyst[o.name] = suite.reconstructExternal(perParty.map((r) => r.external[o.name]), plan.wireLength[o.wire], o.name);
  }
  return { perParty, analyst, bytesSent: transports.map((t) => t.stats().bytesSent) };
}
