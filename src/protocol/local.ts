/**
 * All parties of a job in one process over the in-memory transport, with an in-memory
 * dealer: the reference harness for tests and for benchmarking the protocol without a
 * network.
 * @module
 */
import type { Plan } from '../compiler/plan.ts';
import { ANALYST } from '../circuit/builder.ts';
import { Prg, randomSeed } from '../ring/prg.ts';
import { memoryExtras } from '../preprocessing/dealer.ts';
import { memoryNetwork } from './memory.ts';
import { execute, type PartyResult } from './executor.ts';
import { encodePartyInputs, type RawInputs } from './inputs.ts';
import { semiHonest } from './semi-honest.ts';
import type { ProtocolSuite } from './suite.ts';
import type { Transport } from './transport.ts';
import type { Kernels } from './kernels.ts';

export interface LocalRunOptions {
  /** Computing parties in job order; defaults to the plan's parties. */
  parties?: readonly string[];
  suite?: ProtocolSuite<unknown, unknown>;
  /** Wrap a party's transport (fault-injection tests). */
  wrapTransport?: (t: Transport, self: number) => Transport;
  /** Pin the dealer's seeds (known-answer tests). */
  dealerSeeds?: Uint8Array[];
  /** Where every party's kernels run (e.g. a worker pool); default: `defaultKernels()`. */
  kernels?: Kernels;
  /**
   * Party `self`'s material source over its transport (e.g. OT preprocessing,
   * src/preprocessing/ot/material.ts), in place of the in-memory dealer.
   */
  material?: (transport: Transport, self: number, parties: readonly string[]) => unknown;
}

export interface LocalRunResult {
  perParty: PartyResult[];
  /** Outputs addressed to the analyst, reconstructed (and verified) as the analyst does. */
  analyst: Record<string, BigUint64Array>;
  bytesSent: number[];
}

export async function runLocal(plan: Plan, inputs: RawInputs, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const parties = options.parties ?? plan.parties;
  const suite = options.suite ?? (semiHonest as ProtocolSuite<unknown, unknown>);
  const n = parties.length;
  const transports = memoryNetwork(n).map((t, i) => options.wrapTransport?.(t, i) ?? t);
  const make = options.material;
  const dealing = make ? undefined : suite.deal(plan, n, options.dealerSeeds);
  const runs = parties.map((p, i) =>
    execute(
      plan,
      {
        self: i,
        parties,
        transport: transports[i],
        prep: dealing ? suite.prep(plan, n, i, dealing.seeds[i], memoryExtras(dealing, i)) : suite.prepWith(plan, n, i, make!(transports[i], i, parties)),
        rng: new Prg(randomSeed(), 'local'),
        kernels: options.kernels,
      },
      suite,
      encodePartyInputs(plan, p, inputs[p], 'inputs'),
    ),
  );
  // Any party's failure aborts the others, as a node's abort message would.
  runs.forEach((r) => r.catch((e: Error) => transports.forEach((t) => t.abort(e))));
  const perParty = await Promise.all(runs);
  const analyst: Record<string, BigUint64Array> = {};
  for (const o of plan.outputs) {
    if (!o.to.includes(ANALYST)) continue;
    analyst[o.name] = suite.reconstructExternal(perParty.map((r) => r.external[o.name]), plan.wireLength[o.wire], o.name);
  }
  return { perParty, analyst, bytesSent: transports.map((t) => t.stats().bytesSent) };
}
