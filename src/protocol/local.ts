/**
 * All parties of a job in one process over the in-memory transport: the reference harness
 * for tests and for benchmarking the protocol without a network.
 * @module
 */
import type { Plan } from '../compiler/plan.ts';
import { ANALYST } from '../circuit/builder.ts';
import { Prg, randomSeed } from '../ring/prg.ts';
import { localTripleSources, type TripleSource } from '../preprocessing/dealer.ts';
import { memoryNetwork } from './memory.ts';
import { execute, type PartyResult } from './executor.ts';
import { encodePartyInputs, type RawInputs } from './inputs.ts';
import { reconstruct } from './outputs.ts';
import { semiHonest } from './semi-honest.ts';
import type { ProtocolSuite } from './suite.ts';
import type { Transport } from './transport.ts';

export interface LocalRunOptions<S> {
  /** Computing parties in job order; defaults to the plan's parties. */
  parties?: readonly string[];
  suite?: ProtocolSuite<S>;
  /** Wrap a party's transport (fault-injection tests). */
  wrapTransport?: (t: Transport, self: number) => Transport;
  triples?: TripleSource[];
}

export interface LocalRunResult {
  perParty: PartyResult[];
  /** Outputs reconstructed from every party's share, as the analyst would. */
  analyst: Record<string, BigUint64Array>;
  bytesSent: number[];
}

export async function runLocal<S = BigUint64Array>(plan: Plan, inputs: RawInputs, options: LocalRunOptions<S> = {}): Promise<LocalRunResult> {
  const parties = options.parties ?? plan.parties;
  const suite = (options.suite ?? semiHonest) as ProtocolSuite<S>;
  const n = parties.length;
  const transports = memoryNetwork(n).map((t, i) => options.wrapTransport?.(t, i) ?? t);
  const triples = options.triples ?? localTripleSources(n, plan.needs.tripleBatches);
  const runs = parties.map((p, i) =>
    execute(plan, { self: i, parties, transport: transports[i], triples: triples[i], rng: new Prg(randomSeed(), 'local') }, suite, encodePartyInputs(plan, p, inputs[p], 'inputs')),
  );
  // Any party's failure aborts the others, as a node's abort message would.
  runs.forEach((r) => r.catch((e: Error) => transports.forEach((t) => t.abort(e))));
  const perParty = await Promise.all(runs);
  const external = plan.outputs.filter((o) => o.to.includes(ANALYST)).map((o) => o.name);
  const all = reconstruct(perParty.map((r) => r.shares));
  const analyst: Record<string, BigUint64Array> = {};
  for (const name of external) analyst[name] = all[name];
  return { perParty, analyst, bytesSent: transports.map((t) => t.stats().bytesSent) };
}
