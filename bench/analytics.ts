/**
 * Issue 6's benchmark rows: comparisons per second, and every canonical analytics circuit
 * end to end, through the code path of `mpc run` (an embedded federation of real node
 * processes and a dealer on 127.0.0.1, mTLS), under both security modes.
 *
 * - **comparisons**: one vectorised `a.lt(b)` over W elements (2 parties; W = 10^4, 10^5 and
 *   10^6, 10^3 with `--quick`; 10^5 also with 3 parties), and `a.eq(b)` at 10^4 and 10^5; the
 *   rate is W / (job seconds).
 * - **circuits**: histogram, max, mean-fixed, median, linreg, regression on random inputs in their
 *   stated ranges; every result is checked against a plaintext reference, and a row whose
 *   result is outside the stated error is reported as failed.
 * Job seconds are the coordinator's wall time from submission to the last node's result
 * (input sharing, dealer preprocessing, the online phase and output), not process start-up.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { lusolve, type MathNumericType } from 'mathjs';
import { circuit, type CircuitDefinition } from '../src/circuit/index.ts';
import { loadCircuit, type LoadedCircuit } from '../src/compiler/load.ts';
import { withEmbeddedFederation } from '../src/coordinator/embedded.ts';
import { runJob, type JobResult } from '../src/coordinator/client.ts';
import type { SecurityLevel } from '../src/protocol/suites.ts';
import type { RawInputs } from '../src/protocol/inputs.ts';
import type { OutputValue } from '../src/protocol/outputs.ts';

export interface AnalyticsRow {
  name: string;
  security: SecurityLevel;
  parties: number;
  /** Input elements in all. */
  elements: number;
  /** Non-linear operations per kind, from the plan. */
  comparisons: number;
  multiplications: number;
  rounds: number;
  seconds: number;
  /** Comparisons per second (comparison rows), else null. */
  comparisonsPerSecond: number | null;
  bytesSent: number;
  /** Largest deviation from the plaintext reference, in the output's units. */
  error: number | null;
  /** The stated bound on that error (absolute, or relative for linreg and regression). */
  bound: number | null;
  ok: boolean;
  failure?: string;
}

interface Case {
  name: string;
  file?: string;
  definition?: CircuitDefinition;
  /** Compile in this value domain (default: the circuit's own choice). */
  ring?: 128;
  /** Run in these modes only (default: every mode asked for). */
  only?: SecurityLevel;
  parties: string[];
  inputs: RawInputs;
  /** Largest error of the outputs against the reference, and the bound it must meet. */
  check(outputs: Record<string, OutputValue>): { error: number; bound: number };
}

/** A deterministic generator (xorshift32), so runs compare like with like. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const num = (v: OutputValue): number => Number(v as number);
const list = (v: OutputValue): number[] => (v as number[]).map(Number);

function cases(quick: boolean): Case[] {
  const r = rng(6);
  const real = (max: number, n: number, digits = 3): number[] => Array.from({ length: n }, () => Math.round((r() * 2 - 1) * max * 10 ** digits) / 10 ** digits);
  const ints = (lo: number, hi: number, n: number): number[] => Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
  const size = (full: number, small: number): number => (quick ? small : full);
  const out: Case[] = [];

  const W = size(1e4, 1e3);
  // Comparisons and equality tests of two parties' vectors (a third party, if any, only computes).
  const pairwise = (op: 'lt' | 'eq', parties: string[]): CircuitDefinition =>
    circuit({ name: op === 'lt' ? 'compare' : 'equal', parties }, (c) => {
      const a = c.vector('p1', 'a');
      const b = c.vector('p2', 'b', { length: a.length });
      c.reveal('hits', (op === 'lt' ? a.lt(b) : a.eq(b)).sum());
    });
  // Issue 14's rows: 10^4, 10^5 (and 10^6 in a full run) wide, 2 parties; 10^5 with 3; equality beside.
  const widths = quick ? [W] : [W, 10 * W, 100 * W];
  const specs: Array<{ op: 'lt' | 'eq'; w: number; n: number }> = [
    ...widths.map((w) => ({ op: 'lt' as const, w, n: 2 })),
    { op: 'lt', w: quick ? W : 10 * W, n: 3 },
    ...widths.slice(0, 2).map((w) => ({ op: 'eq' as const, w, n: 2 })),
  ];
  for (const { op, w, n } of specs) {
    const a = ints(-1e9, 1e9, w);
    // Equality rows: about one element in ten equal, so both outcomes occur.
    const b = op === 'lt' ? ints(-1e9, 1e9, w) : a.map((x) => (r() < 0.1 ? x : x + 1 + Math.floor(r() * 1000)));
    const want = a.filter((x, i) => (op === 'lt' ? x < b[i] : x === b[i])).length;
    const parties = ['p1', 'p2', 'p3'].slice(0, n);
    out.push({
      // 10^6 malicious comparisons do not finish yet: a node's local work between rounds still
      // blocks its event loop for over 5 s and its peer drops it as lost (PEER_LOST).
      ...(w >= 1e6 ? { only: 'semi-honest' as const } : {}),
      name: `${op === 'lt' ? 'compare' : 'equal'} ${w}${n > 2 ? `, ${n} parties` : ''}`,
      definition: pairwise(op, parties),
      parties,
      inputs: { p1: { a }, p2: { b } },
      check: (o) => ({ error: Math.abs(num(o.hits) - want), bound: 0 }),
    });
  }

  const edges = [0, 18, 30, 45, 65, 121];
  const ages = [ints(0, 120, size(3000, 300)), ints(0, 120, size(3000, 300)), ints(0, 120, size(3000, 300))];
  const counts = edges.slice(1).map((hi, i) => ages.flat().filter((a) => a >= edges[i] && a < hi).length);
  out.push({
    name: 'histogram', file: 'circuits/histogram.ts', parties: ['p1', 'p2', 'p3'], inputs: { p1: { age: ages[0] }, p2: { age: ages[1] }, p3: { age: ages[2] } },
    check: (o) => ({ error: Math.max(...list(o.counts).map((x, i) => Math.abs(x - counts[i]))), bound: 0 }),
  });

  const bids = [ints(1, 1e6, size(1000, 100)), ints(1, 1e6, size(1000, 100)), ints(1, 1e6, size(1000, 100))];
  const best = Math.max(...bids.flat());
  const winner = bids.findIndex((b) => b.includes(best)) + 1;
  out.push({
    name: 'max', file: 'circuits/max.ts', parties: ['p1', 'p2', 'p3'], inputs: { p1: { bid: bids[0] }, p2: { bid: bids[1] }, p3: { bid: bids[2] } },
    check: (o) => ({ error: Math.abs(num(o.max) - best) + Math.abs(num(o.winner) - winner), bound: 0 }),
  });

  const vs = [real(1e4, size(40000, 1000)), real(1e4, size(30000, 1000)), real(1e4, size(30000, 1000))];
  const all = vs.flat();
  const mean = all.reduce((s, x) => s + x, 0) / all.length;
  const sd = Math.sqrt(all.reduce((s, x) => s + (x - mean) ** 2, 0) / all.length);
  out.push({
    name: 'mean-fixed', file: 'circuits/mean-fixed.ts', parties: ['p1', 'p2', 'p3'], inputs: { p1: { v: vs[0] }, p2: { v: vs[1] }, p3: { v: vs[2] } },
    check: (o) => ({ error: Math.max(Math.abs(num(o.mean) - mean), Math.abs(num(o.stddev) - sd)), bound: 1e-3 }),
  });

  // The same job in Z_2^128 (32 fractional bits), for the cost of the wider domain.
  out.push({ ...out[out.length - 1], name: 'mean-fixed (Z_2^128)', ring: 128 });
  // Readings around 10^7 with a spread of 0.1 (the compiler picks Z_2^128): stddev to 10^-6 relative.
  const centre = 1e7;
  const ws = [0, 1, 2].map(() => real(0.1, size(3000, 300), 4).map((d) => Number((centre + d).toFixed(4))));
  const wAll = ws.flat();
  const wMean = wAll.reduce((t, x) => t + (x - centre), 0) / wAll.length;
  const wSd = Math.sqrt(wAll.reduce((t, x) => t + (x - centre - wMean) ** 2, 0) / wAll.length);
  out.push({
    name: 'wide-stats (Z_2^128)', file: 'circuits/wide-stats.ts', parties: ['p1', 'p2', 'p3'], inputs: { p1: { readings: ws[0] }, p2: { readings: ws[1] }, p3: { readings: ws[2] } },
    check: (o) => ({ error: Math.max(Math.abs(num(o.mean) - centre - wMean) / centre, Math.abs(num(o.stddev) - wSd) / wSd), bound: 1e-6 }),
  });

  const m1 = real(1e4, size(1000, 100));
  const m2 = real(1e4, size(1000, 100));
  const sorted = [...m1, ...m2].sort((x, y) => x - y);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  out.push({
    name: 'median', file: 'circuits/median.ts', parties: ['p1', 'p2'], inputs: { p1: { v: m1 }, p2: { v: m2 } },
    check: (o) => ({ error: Math.abs(num(o.median) - median), bound: 1e-3 }),
  });

  const rows = size(10000, 500);
  const x1 = real(100, rows, 2);
  const x2 = real(100, rows, 2);
  const beta = [3, -1.5, 0.75];
  const y = x1.map((a, i) => Math.max(-100, Math.min(100, Math.round((beta[0] + beta[1] * a + beta[2] * x2[i] + (r() - 0.5)) * 100) / 100)));
  const ref = olsReference([x1, x2], y);
  out.push({
    name: 'linreg', file: 'circuits/linreg.ts', parties: ['p1', 'p2'], inputs: { p1: { x1, x2 }, p2: { y } },
    check: (o) => ({ error: Math.max(...list(o.beta).map((b, i) => Math.abs(b - ref[i]) / Math.max(Math.abs(ref[i]), 1e-9))), bound: 1e-2 }),
  });

  // regression.ts: five regressors in Z_2^128, every coefficient within 10^-6 of its own magnitude.
  const n5 = size(1000, 100);
  const xs5 = [0, 1, 2, 3, 4].map(() => real(20, n5, 2));
  const beta5 = [3.5, 0.8, -1.25, 0.4, 0.05, -0.6];
  const y5 = xs5[0].map((_, i) => Math.round((beta5[0] + xs5.reduce((t, x, j) => t + beta5[j + 1] * x[i], 0) + (r() - 0.5) * 4) * 100) / 100);
  const ref5 = olsReference(xs5, y5);
  out.push({
    name: 'regression (5 regressors, Z_2^128)', file: 'circuits/regression.ts', parties: ['p1', 'p2'],
    inputs: { p1: { x1: xs5[0], x2: xs5[1], x3: xs5[2] }, p2: { x4: xs5[3], x5: xs5[4], y: y5 } },
    check: (o) => ({ error: Math.max(...list(o.beta).map((b, i) => Math.abs(b - ref5[i]) / Math.abs(ref5[i]))), bound: 1e-6 }),
  });
  return out;
}

/** The rows whose rate is comparisons (or equality tests) per second. */
const isComparisonRow = (name: string): boolean => name.startsWith('compare') || name.startsWith('equal');

/** Least squares [β0, β1 … βk] by the normal equations X'X β = X'y in doubles (mathjs lusolve). */
function olsReference(xs: number[][], y: number[]): number[] {
  const cols = [new Array<number>(y.length).fill(1), ...xs];
  const dot = (a: number[], b: number[]): number => a.reduce((t, v, i) => t + v * b[i], 0);
  return (lusolve(cols.map((a) => cols.map((b) => dot(a, b))), cols.map((a) => dot(a, y))) as MathNumericType[][]).map((r) => r[0] as number);
}

export interface AnalyticsOptions {
  quick: boolean;
  securities: readonly SecurityLevel[];
  progress: (line: string) => void;
}

/** Every case under every security, one embedded federation per case (its parties and inputs). */
export async function runAnalyticsBench(opts: AnalyticsOptions): Promise<AnalyticsRow[]> {
  const rows: AnalyticsRow[] = [];
  for (const c of cases(opts.quick)) {
    const base: LoadedCircuit = c.file ? await loadCircuit(c.file) : { definition: c.definition!, file: c.name };
    const loaded: LoadedCircuit = c.ring ? { ...base, definition: { ...base.definition, ring: c.ring, fracBits: undefined } } : base;
    const elements = Object.values(c.inputs)
      .flatMap((m) => Object.values(m))
      .reduce((t: number, v) => t + (Array.isArray(v) ? v.length : 1), 0);
    // --quick keeps to a minute: both modes for the comparison rows, semi-honest for the circuits.
    const modes = c.only ? opts.securities.filter((s) => s === c.only) : opts.securities;
    const securities = opts.quick && !isComparisonRow(c.name) ? modes.filter((s) => s === 'semi-honest') : modes;
    await withEmbeddedFederation({ parties: c.parties, inputs: c.inputs }, async (target) => {
      for (const security of securities) {
        opts.progress(`analytics: ${c.name} (${elements} input elements), ${security}`);
        const row: AnalyticsRow = {
          name: c.name, security, parties: c.parties.length, elements, comparisons: 0, multiplications: 0, rounds: 0, seconds: 0,
          comparisonsPerSecond: null, bytesSent: 0, error: null, bound: null, ok: false,
        };
        try {
          let comparisons = 0;
          const t0 = performance.now();
          const res: JobResult = await runJob(target, loaded, {
            security, preprocessing: 'dealer', connectRetry: { attempts: 40, baseMs: 50, maxMs: 500 },
            onPlan: (plan) => { comparisons = (plan.stats.nonlinear.comparison ?? 0) + (plan.stats.nonlinear.equality ?? 0); },
          });
          const wall = (performance.now() - t0) / 1000;
          const { error, bound } = c.check(res.outputs);
          Object.assign(row, {
            comparisons, multiplications: res.stats.multiplications, rounds: res.stats.rounds, seconds: res.stats.seconds || wall,
            bytesSent: res.stats.bytesSent, error, bound, ok: error <= bound,
          });
          if (isComparisonRow(c.name)) row.comparisonsPerSecond = comparisons / row.seconds;
          if (!row.ok) row.failure = `error ${error} above the bound ${bound}`;
        } catch (e) {
          row.failure = (e as Error).message;
        }
        rows.push(row);
      }
    });
  }
  return rows;
}

export function formatAnalyticsRows(rows: readonly AnalyticsRow[]): string {
  const head = ['case', 'security', 'parties', 'inputs', 'comparisons', 'mults', 'rounds', 'seconds', 'cmp/s', 'error', 'bound', 'ok'];
  const fmt = (x: number | null, d = 3): string => (x === null ? '—' : Number.isInteger(x) ? String(x) : x.toPrecision(d));
  const body = rows.map((r) => [
    r.name, r.security, String(r.parties), String(r.elements), String(r.comparisons), String(r.multiplications), String(r.rounds),
    r.seconds.toFixed(2), r.comparisonsPerSecond === null ? '—' : Math.round(r.comparisonsPerSecond).toLocaleString('en-US'),
    fmt(r.error), fmt(r.bound), r.ok ? 'yes' : `NO: ${r.failure ?? ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}
