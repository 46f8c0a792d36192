/**
 * In-memory online cost of one multiplication layer, malicious (SPDZ2k) against
 * semi-honest: both parties' Beaver round over the memory transport, timed from the first
 * send to the last combine, plus (malicious) the MAC check of that layer's openings.
 * Preprocessing (the dealer's corrections, each party's seed expansion of its triples) and
 * input sharing are done before the clock starts. No network, so this bounds what the
 * protocol code itself costs per gate.
 * @module
 */
import { dealerFor, dealerPrep } from '../src/preprocessing/dealers.ts';
import { circuit } from '../src/circuit/index.ts';
import { compileLoaded } from '../src/compiler/load.ts';
import { MUL_CHUNK, type Plan } from '../src/compiler/plan.ts';
import { Prg, randomSeed } from '../src/ring/prg.ts';
import { memoryNetwork } from '../src/protocol/memory.ts';
import { semiHonest } from '../src/protocol/semi-honest.ts';
import type { Session } from '../src/protocol/session.ts';
import type { ProtocolSuite } from '../src/protocol/suite.ts';
import { spdz2k } from '../src/protocol/spdz2k/suite.ts';
import type { Spdz2kPrep } from '../src/protocol/spdz2k/prep.ts';

export interface Spdz2kBenchRow {
  security: 'semi-honest' | 'malicious';
  parties: number;
  /** Multiplications in the layer. */
  batch: number;
  /** Median wall time of the layer's round (all parties, in one process). */
  seconds: number;
  multiplicationsPerSecond: number;
  /** Bytes one party sends per multiplication (to all its peers together). */
  bytesPerMultiplication: number;
  /** Malicious only: median time of the MAC check over the layer's openings. */
  macCheckSeconds?: number;
}

function layerPlan(width: number, parties: string[]): Plan {
  const definition = circuit({ name: 'bench-layer', parties }, (c) => {
    c.reveal('z', c.vector(parties[0], 'x').mul(c.vector(parties[1], 'y')).sum());
  });
  return compileLoaded({ definition, file: 'bench-layer.ts' }, new Map([[`${parties[0]}.x`, width], [`${parties[1]}.y`, width]])).plan;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function runOnce<S, P>(suite: ProtocolSuite<S, P>, plan: Plan, parties: string[], width: number): Promise<{ seconds: number; bytes: number; check?: number }> {
  const n = parties.length;
  const net = memoryNetwork(n);
  const dealing = dealerFor(suite.name).deal(plan, n);
  const sessions: Session<P>[] = parties.map((_, i) => {
    // The dealer's material up front, so dealing is not timed.
    const extras = [...dealing.extras(i)];
    let next = 0;
    const nextExtra = (): Promise<Uint8Array> => Promise.resolve(extras[next++]);
    return { self: i, parties, transport: net[i], prep: dealerPrep(suite, plan, n, i, dealing.seeds[i], nextExtra), rng: new Prg(randomSeed(), 'bench') };
  });
  const specs = plan.inputs.map((inp) => ({ owner: parties.indexOf(inp.party), length: inp.length, wire: inp.wire }));
  const values = new Prg(randomSeed(), 'bench-values');
  const shared = await Promise.all(
    sessions.map((s, i) => {
      const mine = new Map(plan.inputs.filter((inp) => inp.party === parties[i]).map((inp) => [inp.wire, values.u64(inp.length)]));
      return suite.input(s, specs, mine);
    }),
  );
  // Both suites' sources have triples(count); take the layer's batch before the clock starts.
  for (const s of sessions) {
    const prep = s.prep as unknown as { triples(count: number): Promise<unknown> };
    const batch = await prep.triples(width);
    prep.triples = () => Promise.resolve(batch);
  }
  const before = net[0].stats().bytesSent;
  const t0 = performance.now();
  await Promise.all(sessions.map((s, i) => suite.multiply(s, 1, shared[i].get(specs[0].wire)!, shared[i].get(specs[1].wire)!)));
  const seconds = (performance.now() - t0) / 1000;
  const bytes = net[0].stats().bytesSent - before;
  if (suite.name !== 'malicious') return { seconds, bytes };
  const t1 = performance.now();
  await Promise.all(sessions.map((s) => (s.prep as unknown as Spdz2kPrep).opened.flush(s as unknown as Session<Spdz2kPrep>)));
  return { seconds, bytes, check: (performance.now() - t1) / 1000 };
}

/**
 * Measure one `width`-wide layer (default 10^5) for `parties` parties (default 2), each suite
 * `repeats` times (default 3, after one warm-up run), and report medians.
 */
export async function benchSpdz2k(options: { width?: number; parties?: number; repeats?: number } = {}): Promise<Spdz2kBenchRow[]> {
  const width = options.width ?? 100_000;
  const n = options.parties ?? 2;
  const repeats = options.repeats ?? 3;
  if (n < 2) throw new RangeError(`benchSpdz2k: options.parties must be at least 2, got ${n}`);
  // One multiply call is one chunk of a layer (the executor cuts wider layers).
  if (!Number.isSafeInteger(width) || width < 1 || width > MUL_CHUNK) throw new RangeError(`benchSpdz2k: options.width must be 1..${MUL_CHUNK} (one layer chunk), got ${width}`);
  const parties = Array.from({ length: n }, (_, i) => `p${i + 1}`);
  const plan = layerPlan(width, parties);
  const rows: Spdz2kBenchRow[] = [];
  for (const suite of [semiHonest, spdz2k] as ProtocolSuite<unknown, unknown>[]) {
    await runOnce(suite, plan, parties, width);
    const runs = [];
    for (let r = 0; r < repeats; r++) runs.push(await runOnce(suite, plan, parties, width));
    const seconds = median(runs.map((r) => r.seconds));
    rows.push({
      security: suite.name,
      parties: n,
      batch: width,
      seconds,
      multiplicationsPerSecond: width / seconds,
      bytesPerMultiplication: runs[0].bytes / width,
      ...(suite.name === 'malicious' ? { macCheckSeconds: median(runs.map((r) => r.check!)) } : {}),
    });
  }
  return rows;
}
