// Property tests of the non-linear library (src/circuit/lib: comparisons, truncation, fixed
// point, division, square root, sorting, statistics) run as real MPC jobs: every party of
// the job in this process over the in-memory transport, under both security suites, with
// 2, 3 and 5 computing parties (the circuits have p1 and p2; p3..p5 join without inputs),
// on random inputs against a BigInt / mathjs reference. The error bounds are the ones the
// README ("Exactness and error bounds") and lib/fixed.ts document.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { corr, lusolve, mean as mMean, std as mStd, variance as mVariance, type MathNumericType } from 'mathjs';
import { circuit, type CircuitBody } from '../../src/circuit/index.ts';
import { correlation, covariance, histogram, kth, mean, median, ols, percentile, sort, stddev, topK, variance } from '../../src/circuit/stats.ts';
import { compileLoaded } from '../../src/compiler/load.ts';
import { divSecret } from '../../src/circuit/lib/fixed.ts';
import { OPEN_CHUNK_BASE, type Plan } from '../../src/compiler/plan.ts';
import { ErrorCode, isMpcError, type MpcError } from '../../src/errors.ts';
import { chunkRound } from '../../src/protocol/executor.ts';
import { encodePartyInputs, type RawInputs } from '../../src/protocol/inputs.ts';
import { runLocal } from '../../src/coordinator/local.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { suiteFor, SECURITY_LEVELS, type SecurityLevel } from '../../src/protocol/suites.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { encodeFixed } from '../../src/ring/encoding.ts';
import { forParties, signed } from '../helpers.ts';
import { addAt, runParties, tamperSends } from '../protocol/spdz2k/harness.ts';

const FILE = 'test/circuit/nonlinear.test.ts';
const THIS_LINE = /test\/circuit\/nonlinear\.test\.ts:\d+:\d+/;
const ALL = ['p1', 'p2', 'p3', 'p4', 'p5'];
const PARTY_COUNTS = [2, 3, 5] as const;
const F = 16;
const UNIT = 2 ** -F;

// ---------- compiling and running ----------

const plans = new Map<string, Plan>();
/** Compile a circuit over p1, p2 once per key (plans are shared by both suites and all party counts). */
function compile(key: string, body: CircuitBody, shapes: Record<string, number> = {}, ring?: 64 | 128): Plan {
  const k = `${key} ${JSON.stringify(shapes)} ${ring}`;
  let plan = plans.get(k);
  if (!plan) {
    const definition = circuit({ name: 'nonlinear', parties: ['p1', 'p2'], ring }, body);
    plan = compileLoaded({ definition, file: FILE }, new Map(Object.entries(shapes))).plan;
    plans.set(k, plan);
  }
  return plan;
}

/** Run a job with n computing parties; the analyst's outputs as signed ring values, and formatted. */
async function run(plan: Plan, raw: RawInputs, n: number, security: SecurityLevel) {
  const res = await runLocal(plan, raw, { suite: suiteFor(security), parties: ALL.slice(0, n) });
  const ints: Record<string, bigint[]> = {};
  for (const [name, v] of Object.entries(res.analyst)) ints[name] = Array.from(v, signed);
  return { ints, out: formatOutputs(plan, res.analyst, 'analyst') };
}

// ---------- reference helpers ----------

const B62 = (1n << 62n) - 1n;
const asRaw = (x: bigint): number | string => (x >= -(2n ** 53n) + 1n && x <= 2n ** 53n - 1n ? Number(x) : x.toString());
const bit = (b: boolean): bigint => (b ? 1n : 0n);
/** ⌊a/d⌋ for bigints (d > 0). */
const floorDiv = (a: bigint, d: bigint): bigint => {
  const q = a / d;
  return a % d !== 0n && a < 0n !== d < 0n ? q - 1n : q;
};
/** The ring units a fixed-point input value is encoded as (round(v·2^16)), signed. */
const units = (v: number | string): bigint => signed(encodeFixed(v, F, 'reference'));
/** The real a fixed-point input value stands for after encoding. */
const real = (v: number | string): number => Number(units(v)) * UNIT;
/** x is ⌊exact⌋ or ⌊exact⌋ + 1 (a truncation's two possible results), exact = num/den. */
function expectFloorOrNext(got: bigint, num: bigint, den: bigint, what: string): void {
  const lo = floorDiv(num, den);
  expect(got === lo || got === lo + 1n, `${what}: ${got} is neither ⌊${num}/${den}⌋ = ${lo} nor one more`).toBe(true);
  // A truncation of an exact multiple has nothing to round.
  if (num % den === 0n) expect(got, `${what}: exact`).toBe(lo);
}
const isqrt = (n: bigint): bigint => {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
};
const jsSort = (xs: bigint[]): bigint[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
/** Track the worst observed error of a bounded operation, for the report in the test names' output. */
const worst: Record<string, number> = {};
const note = (what: string, err: number): void => {
  worst[what] = Math.max(worst[what] ?? 0, err);
};

// ---------- generators ----------

/** Signed 64-bit integers with |v| < 2^62, edge values and small values (for ties) over-represented. */
const EDGES = [0n, 1n, -1n, 2n, -2n, B62, -B62, B62 - 1n, -B62 + 1n, 1n << 61n, -(1n << 61n)];
const int62 = fc.oneof(
  { arbitrary: fc.bigInt({ min: -B62, max: B62 }), weight: 4 },
  { arbitrary: fc.constantFrom(...EDGES), weight: 2 },
  { arbitrary: fc.bigInt({ min: -5n, max: 5n }), weight: 2 },
);
const clamp62 = (v: bigint): bigint => (v > B62 ? B62 : v < -B62 ? -B62 : v);
/** A pair of values to compare: random, equal, neighbours, or large negative vs large positive. */
const cmpPair = fc.oneof(
  fc.tuple(int62, int62),
  int62.map((v) => [v, v] as [bigint, bigint]),
  fc.tuple(int62, fc.bigInt({ min: -2n, max: 2n })).map(([v, d]) => [v, clamp62(v + d)] as [bigint, bigint]),
  fc.constantFrom<[bigint, bigint]>([-B62, B62], [B62, -B62], [-B62, -B62], [B62, B62], [-(1n << 61n), 1n << 61n], [0n, -1n], [-1n, 0n]),
);
const pairs = (L: number) => fc.array(cmpPair, { minLength: L, maxLength: L });
/** Fixed-point inputs in [-m, m] given as decimal numbers (JS numbers and decimal strings), edges included. */
const fixedIn = (m: number) =>
  fc.oneof(
    { arbitrary: fc.double({ min: -m, max: m, noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)), weight: 4 },
    { arbitrary: fc.integer({ min: -Math.round(m * 2 ** F), max: Math.round(m * 2 ** F) }).map((u) => u / 2 ** F), weight: 2 },
    { arbitrary: fc.integer({ min: -Math.round(m * 1000), max: Math.round(m * 1000) }).map((u) => (u / 1000).toFixed(3)), weight: 2 },
    { arbitrary: fc.constantFrom(0, m, -m, UNIT, -UNIT, 1, -1, 0.5), weight: 1 },
  );
const fixedVec = (m: number, L: number) => fc.array(fixedIn(m), { minLength: L, maxLength: L });

const OPS = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
const REF: Record<(typeof OPS)[number], (a: bigint, b: bigint) => boolean> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
};


// ---------- the properties ----------

const CMP_L = 10;
/** Public constants compared with secrets (compile-time), edges first. */
const K = [0n, 1n, -1n, B62, -B62, 5n, -(1n << 61n), 1n << 40n, -12345678901234567n, 2n];

describe.each(SECURITY_LEVELS)('non-linear library (%s)', (security) => {
  const seed = 0x6e6c + (security === 'malicious' ? 100 : 0);

  it('comparisons lt le gt ge eq ne: secret–secret and secret–public, exact for |values| < 2^62', async () => {
    const plan = compile(
      'cmp',
      (c) => {
        const x = c.vector('p1', 'x');
        const y = c.vector('p2', 'y');
        const k = c.constant(K.map(String));
        for (const op of OPS) {
          c.reveal(op, x[op](y));
          c.reveal(`${op}K`, x[op](k));
        }
        c.reveal('ltScalar', x.lt(5));
        c.reveal('publicLeft', c.constant(-1).lt(y));
      },
      { 'p1.x': CMP_L, 'p2.y': CMP_L },
    );
    await forParties(2, seed, (n) =>
      fc.asyncProperty(pairs(CMP_L), async (ps) => {
        const x = ps.map((p) => p[0]);
        const y = ps.map((p) => p[1]);
        const { ints } = await run(plan, { p1: { x: x.map(asRaw) }, p2: { y: y.map(asRaw) } }, n, security);
        for (const op of OPS) {
          expect(ints[op], `${op} secret–secret`).toEqual(x.map((a, i) => bit(REF[op](a, y[i]))));
          expect(ints[`${op}K`], `${op} secret–public`).toEqual(x.map((a, i) => bit(REF[op](a, K[i]))));
        }
        expect(ints.ltScalar).toEqual(x.map((a) => bit(a < 5n)));
        expect(ints.publicLeft).toEqual(y.map((b) => bit(-1n < b)));
      }),
    );
  });

  it('select, min/max (elementwise and reductions), abs, clamp, argmax/argmin (first index on ties, payload)', async () => {
    const L = 7;
    const plan = compile(
      'order',
      (c) => {
        const x = c.vector('p1', 'x');
        const y = c.vector('p2', 'y');
        const s = c.vector('p2', 's', { length: x.length, min: 0, max: 1 });
        const pay = c.vector('p2', 'pay', { length: x.length });
        const lo = c.scalar('p1', 'lo');
        const hi = c.scalar('p2', 'hi');
        const f = c.fixed('p1', 'f', { length: x.length, min: -1e6, max: 1e6 });
        c.reveal('select', c.select(s, x, y));
        c.reveal('selectCmp', c.select(x.gt(y), x, y));
        c.reveal('min', x.min(y));
        c.reveal('max', x.max(y));
        c.reveal('maxOf', x.max());
        c.reveal('minOf', x.min());
        c.reveal('abs', x.abs());
        c.reveal('clampPublic', x.clamp(-3, 1000));
        c.reveal('clampSecret', x.clamp(lo, hi));
        const am = c.argmax(x);
        c.reveal('argmax', am.arg);
        c.reveal('argmaxValue', am.max);
        c.reveal('argmaxPay', c.argmax(x, pay).arg);
        const an = c.argmin(x, pay);
        c.reveal('argminPay', an.arg);
        c.reveal('argminValue', an.min);
        c.reveal('argminIdx', c.argmin(x).arg);
        c.reveal('fabs', f.abs());
        c.reveal('fmax', f.max());
        c.reveal('fmin', f.min(0.5));
        c.reveal('fargmax', c.argmax(f).arg);
      },
      { 'p1.x': L, 'p2.y': L },
    );
    // Small values make ties likely; wide ones test the full range.
    const elem = fc.oneof(fc.bigInt({ min: -3n, max: 3n }), int62);
    const vec = fc.array(elem, { minLength: L, maxLength: L });
    await forParties(2, seed, (n) =>
      fc.asyncProperty(
        vec,
        vec,
        fc.array(fc.boolean(), { minLength: L, maxLength: L }),
        fc.array(fc.bigInt({ min: -1000n, max: 1000n }), { minLength: L, maxLength: L }),
        fc.tuple(int62, int62),
        fixedVec(1e6, L),
        async (x, y, s, pay, [a, b], f) => {
          const raw = {
            p1: { x: x.map(asRaw), lo: asRaw(a), f },
            p2: { y: y.map(asRaw), s: s.map(Number), pay: pay.map(asRaw), hi: asRaw(b) },
          };
          const { ints } = await run(plan, raw, n, security);
          const max = (u: bigint, v: bigint) => (u > v ? u : v);
          const min = (u: bigint, v: bigint) => (u < v ? u : v);
          expect(ints.select).toEqual(x.map((v, i) => (s[i] ? v : y[i])));
          expect(ints.selectCmp).toEqual(x.map((v, i) => max(v, y[i])));
          expect(ints.min).toEqual(x.map((v, i) => min(v, y[i])));
          expect(ints.max).toEqual(x.map((v, i) => max(v, y[i])));
          const top = x.reduce(max);
          const bottom = x.reduce(min);
          expect(ints.maxOf).toEqual([top]);
          expect(ints.minOf).toEqual([bottom]);
          expect(ints.abs).toEqual(x.map((v) => (v < 0n ? -v : v)));
          expect(ints.clampPublic).toEqual(x.map((v) => min(max(v, -3n), 1000n)));
          expect(ints.clampSecret).toEqual(x.map((v) => min(max(v, a), b)));
          const first = x.indexOf(top);
          const firstMin = x.indexOf(bottom);
          expect(ints.argmax).toEqual([BigInt(first)]);
          expect(ints.argmaxValue).toEqual([top]);
          expect(ints.argmaxPay).toEqual([pay[first]]);
          expect(ints.argminPay).toEqual([pay[firstMin]]);
          expect(ints.argminValue).toEqual([bottom]);
          expect(ints.argminIdx).toEqual([BigInt(firstMin)]);
          const fu = f.map(units);
          expect(ints.fabs).toEqual(fu.map((v) => (v < 0n ? -v : v)));
          expect(ints.fmax).toEqual([fu.reduce(max)]);
          expect(ints.fmin).toEqual(fu.map((v) => min(v, 1n << 15n)));
          expect(ints.fargmax).toEqual([BigInt(fu.indexOf(fu.reduce(max)))]);
        },
      ),
    );
  });

  it('fixed point: products and dot within one unit (floor or floor + 1), toFixed exact, toInt floor or floor + 1', async () => {
    const L = 6;
    const plan = compile(
      'fixed',
      (c) => {
        const a = c.fixed('p1', 'a', { min: -1000, max: 1000 });
        const b = c.fixed('p2', 'b', { length: a.length, min: -1000, max: 1000 });
        const i = c.vector('p1', 'i', { length: a.length });
        const g = c.fixed('p2', 'g', { length: a.length });
        c.reveal('mul', a.mul(b));
        c.reveal('square', a.square());
        c.reveal('mulConst', a.mul(1.5));
        c.reveal('mulInt', a.mul(3));
        c.reveal('dot', a.dot(b));
        c.reveal('toFixed', i.toFixed());
        c.reveal('toInt', g.toInt());
        c.reveal('mixed', i.toFixed().add(a));
      },
      { 'p1.a': L },
    );
    const i46 = fc.oneof(fc.bigInt({ min: -(1n << 46n), max: 1n << 46n }), fc.bigInt({ min: -100n, max: 100n }));
    const big = fc.oneof(
      fc.double({ min: -(2 ** 40), max: 2 ** 40, noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -1e6, max: 1e6 }),
      fc.constantFrom(0, -0.5, 0.5, -UNIT, 2 ** 45, -(2 ** 45), 2 ** 46 - 1, -(2 ** 46) + 1),
    );
    await forParties(3, seed, (n) =>
      fc.asyncProperty(fixedVec(1000, L), fixedVec(1000, L), fc.array(i46, { minLength: L, maxLength: L }), fc.array(big, { minLength: L, maxLength: L }), async (a, b, i, g) => {
        const raw = { p1: { a, i: i.map(asRaw) }, p2: { b, g } };
        const { ints, out } = await run(plan, raw, n, security);
        const A = a.map(units);
        const B = b.map(units);
        const S = 1n << 16n;
        A.forEach((u, k) => {
          expectFloorOrNext(ints.mul[k], u * B[k], S, `mul[${k}] ${a[k]}·${b[k]}`);
          expectFloorOrNext(ints.square[k], u * u, S, `square[${k}]`);
          expectFloorOrNext(ints.mulConst[k], u * units(1.5), S, `mulConst[${k}]`);
          expect(ints.mulInt[k]).toBe(3n * u);
          expect(ints.toFixed[k]).toBe(i[k] * S);
          expect(ints.mixed[k]).toBe(i[k] * S + u);
          expectFloorOrNext(ints.toInt[k], units(g[k]), S, `toInt[${k}] of ${g[k]}`);
        });
        expectFloorOrNext(ints.dot[0], A.reduce((t, u, k) => t + u * B[k], 0n), S, 'dot');
        // Formatting shows fixed-point values as their exact real value.
        expect(out.mul).toEqual(ints.mul.map((u) => Number(u) * UNIT));
        expect(out.toInt).toEqual(ints.toInt.map(Number));
      }),
    );
  });

  // Division by public numbers: one plan, operands with a narrow declared range, a wide one,
  // none, and integers.
  const INT_DIVISORS = [1, -1, 2, -2, 3, -7, 10, 1000, 65537];
  const REAL_DIVISORS = [0.3, -2.5, 1.75, 0.001, 123.456];
  const DIV_L = 5;
  const divPublicPlan = () =>
    compile(
      'divPublic',
      (c) => {
        const s = c.fixed('p1', 's', { min: -1000, max: 1000 });
        const r = c.fixed('p1', 'r', { length: s.length, min: -1e6, max: 1e6 });
        const u = c.fixed('p2', 'u', { length: s.length });
        const i = c.vector('p2', 'i', { length: s.length, min: -1e9, max: 1e9 });
        for (const [name, x] of [['s', s], ['r', r], ['u', u], ['i', i]] as const) {
          // ±1 and ±2 of an operand without a declared range: see the test of that below.
          INT_DIVISORS.forEach((d, k) => c.reveal(`${name}_int${k}`, name === 'u' && Math.abs(d) <= 2 ? x : x.div(d)));
          REAL_DIVISORS.forEach((d, k) => c.reveal(`${name}_real${k}`, x.div(d)));
        }
      },
      { 'p1.s': DIV_L },
    );
  const divInputs = fc.tuple(
    fixedVec(1000, DIV_L),
    fixedVec(1e6, DIV_L),
    fixedVec(1e6, DIV_L),
    fc.array(fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: -10, max: 10 })), { minLength: DIV_L, maxLength: DIV_L }),
  );
  /** Each operand in ring units, by input name. */
  const divOperands = ([s, r, u, i]: [(number | string)[], (number | string)[], (number | string)[], number[]]) => ({
    s: s.map(units),
    r: r.map(units),
    u: u.map(units),
    i: i.map((v) => BigInt(v) << 16n),
  });

  it('division by a public integer: within 2 units', async () => {
    const plan = divPublicPlan();
    await forParties(2, seed, (n) =>
      fc.asyncProperty(divInputs, async (inputs) => {
        const [s, r, u, i] = inputs;
        const { ints } = await run(plan, { p1: { s, r }, p2: { u, i } }, n, security);
        for (const [name, xs] of Object.entries(divOperands(inputs))) {
          INT_DIVISORS.forEach((d, j) =>
            xs.forEach((num, k) => {
              if (name === 'u' && Math.abs(d) <= 2) return;
              // |got − num/d| ≤ 2 units, exactly: |got·d − num| ≤ 2|d|.
              const got = ints[`${name}_int${j}`][k];
              const dd = BigInt(d);
              const diff = got * dd - num;
              note('x.div(integer), units', Math.abs(Number(diff) / d));
              expect(diff < 0n ? -diff : diff, `${name}[${k}] / ${d}: ${got} vs ${num}/${d} units`).toBeLessThanOrEqual(2n * (dd < 0n ? -dd : dd));
            }),
          );
        }
      }),
    );
  });

  it('division by a public non-integer: relative error ≤ 2^-30 plus one unit', async () => {
    const plan = divPublicPlan();
    await forParties(2, seed, (n) =>
      fc.asyncProperty(divInputs, async (inputs) => {
        const [s, r, u, i] = inputs;
        const { ints } = await run(plan, { p1: { s, r }, p2: { u, i } }, n, security);
        const bad: string[] = [];
        for (const [name, xs] of Object.entries(divOperands(inputs))) {
          REAL_DIVISORS.forEach((p, j) =>
            xs.forEach((num, k) => {
              const got = ints[`${name}_real${j}`][k];
              const exact = Number(num) / p; // in units
              const err = Math.abs(Number(got) - exact);
              note(`x.div(non-integer) of ${name}, relative beyond one unit`, Math.max(0, err - 1) / Math.max(Math.abs(exact), 1));
              if (err > Math.abs(exact) * 2 ** -30 + 1 + 1e-6) {
                bad.push(`${name}[${k}] = ${Number(num) * UNIT} / ${p}: got ${Number(got) * UNIT}, want ${exact * UNIT} (error ${err.toFixed(2)} units, relative ${(err / Math.abs(exact)).toExponential(2)})`);
              }
            }),
          );
        }
        expect(bad, 'operands: s in ±1000 declared, r in ±10^6 declared, u undeclared, i integers in ±10^9 declared').toEqual([]);
      }),
    );
  });

  it('division of an operand without a declared range by ±1 and ±2, and the mean of one or two such values', async () => {
    const plan = compile(
      'divSmall',
      (c) => {
        const u = c.fixed('p1', 'u');
        const w = c.fixed('p2', 'w', { length: 2 });
        const z = c.fixed('p2', 'z', { length: 1 });
        [1, -1, 2, -2].forEach((d, k) => c.reveal(`d${k}`, u.div(d)));
        c.reveal('mean2', mean(w));
        c.reveal('mean1', mean(z));
      },
      { 'p1.u': 3 },
    );
    const u = [1.5, -1e6, 2 ** 40 + 0.25];
    const { ints } = await run(plan, { p1: { u }, p2: { w: [3, -0.5], z: [-7.25] } }, 2, security);
    [1, -1, 2, -2].forEach((d, k) =>
      u.forEach((v, i) => expect(Math.abs(Number(ints[`d${k}`][i]) - Number(units(v)) / d), `${v} / ${d}`).toBeLessThanOrEqual(2)),
    );
    expect(Math.abs(Number(ints.mean2[0]) - Number(units(1.25)))).toBeLessThanOrEqual(2);
    expect(Math.abs(Number(ints.mean1[0]) - Number(units(-7.25)))).toBeLessThanOrEqual(2);
  });

  it('secret division and reciprocal: relative error ≤ 1e-4 plus 2^-15 for |b| ≥ 0.01, |a/b| < 10^4; b = 0 gives 0', async () => {
    const L = 6;
    const plan = compile(
      'divSecret',
      (c) => {
        // Without declared ranges (the default divisor bound) and with them.
        const a = c.fixed('p1', 'a');
        const b = c.fixed('p2', 'b', { length: a.length });
        const ar = c.fixed('p1', 'ar', { length: a.length, min: -1e8, max: 1e8 });
        const br = c.fixed('p2', 'br', { length: a.length, min: -1e4, max: 1e4 });
        c.reveal('q', a.div(b));
        c.reveal('qr', ar.div(br));
        c.reveal('recip', b.reciprocal());
        c.reveal('recipR', br.reciprocal());
        c.reveal('intDiv', c.vector('p1', 'ia', { length: a.length }).div(c.vector('p2', 'ib', { length: a.length })));
      },
      { 'p1.a': L },
    );
    // |b| in [0.01, 10^4], log-uniform, either sign; a = q·b with |q| < 10^4.
    const divisor = fc.tuple(fc.double({ min: Math.log(0.01), max: Math.log(1e4), noNaN: true }), fc.boolean()).map(([e, neg]) => (neg ? -1 : 1) * Math.exp(e));
    const quotient = fc.oneof(fc.double({ min: -9999, max: 9999, noNaN: true }), fc.constantFrom(0, 1, -1, 9999, -9999, 0.5));
    const row = fc.tuple(divisor, quotient).map(([b, q]) => {
      const bb = real(b) === 0 ? 0.01 : b;
      return { b: bb, a: Math.max(-1e8, Math.min(1e8, q * real(bb))) };
    });
    const rows = fc.array(row, { minLength: L, maxLength: L });
    // Integer operands (no declared ranges): |a/b| < 10^4 too.
    const intRow = fc
      .tuple(fc.integer({ min: -1e4, max: 1e4 }).filter((d) => d !== 0), fc.integer({ min: -9999, max: 9999 }), fc.integer({ min: -100, max: 100 }))
      .map(([d, q, r]) => [q * d + (Math.abs(r) < Math.abs(d) ? r : 0), d] as [number, number]);
    await forParties(2, seed, (n) =>
      fc.asyncProperty(rows, rows, fc.array(intRow, { minLength: L, maxLength: L }), fc.integer({ min: 0, max: L - 1 }), async (u, v, iv, zero) => {
        const raw = {
          p1: { a: u.map((e) => e.a), ar: v.map((e) => e.a), ia: iv.map((e) => e[0]) },
          p2: { b: u.map((e, k) => (k === zero ? 0 : e.b)), br: v.map((e) => e.b), ib: iv.map((e) => e[1]) },
        };
        const { out } = await run(plan, raw, n, security);
        const check = (got: number, want: number, what: string) => {
          const err = Math.abs(got - want);
          if (want !== 0) note('a.div(b), relative beyond 2^-15', Math.max(0, err - 2 ** -15) / Math.abs(want));
          expect(err, `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(1e-4 * Math.abs(want) + 2 ** -15);
        };
        const q = out.q as number[];
        u.forEach((e, k) => {
          if (k === zero) expect(q[k], 'a / 0').toBe(0);
          else check(q[k], real(e.a) / real(e.b), `${e.a} / ${e.b}`);
        });
        expect((out.recip as number[])[zero], '1 / 0').toBe(0);
        u.forEach((e, k) => k !== zero && check((out.recip as number[])[k], 1 / real(e.b), `1 / ${e.b}`));
        v.forEach((e, k) => {
          check((out.qr as number[])[k], real(e.a) / real(e.b), `${e.a} / ${e.b} (declared ranges)`);
          check((out.recipR as number[])[k], 1 / real(e.b), `1 / ${e.b} (declared range)`);
        });
        iv.forEach(([x, d], k) => check((out.intDiv as number[])[k], x / d, `${x} / ${d} (integers)`));
      }),
    );
  });

  it('secret division by a divisor known to be non-negative: one comparison fewer per element, the same quotients for b > 0, and 0 for b = 0', async () => {
    const body = (nonNegativeDivisor: boolean): CircuitBody => (c) => {
      const a = c.fixed('p1', 'a', { min: -1e4, max: 1e4 });
      const b = c.fixed('p2', 'b', { length: a.length, min: 0, max: 1e4 });
      c.reveal('q', divSecret(a, b, { nonNegativeDivisor }));
    };
    const signed = compile('divSigned', body(false), { 'p1.a': 4 });
    const plan = compile('divNonNegative', body(true), { 'p1.a': 4 });
    expect(signed.stats.nonlinear.comparison! - plan.stats.nonlinear.comparison!).toBe(4);
    expect(plan.stats.rounds).toBeLessThan(signed.stats.rounds);
    const a = [3, -7.5, 1234.25, 5];
    const b = [0.25, 3, 0.01, 0];
    const { out } = await run(plan, { p1: { a }, p2: { b } }, 2, security);
    const q = out.q as number[];
    [0, 1, 2].forEach((k) => expect(Math.abs(q[k] - real(a[k]) / real(b[k])), `${a[k]} / ${b[k]}`).toBeLessThanOrEqual(1e-4 * Math.abs(real(a[k]) / real(b[k])) + 2 ** -15));
    expect(q[3], 'a / 0').toBe(0);
  });

  it('sqrt: the floor of √x·2^16 (error < 2^-16) for 0 ≤ x ≤ 10^8, declared range or not', async () => {
    const L = 5;
    const plan = compile(
      'sqrt',
      (c) => {
        const x = c.fixed('p1', 'x', { min: 0, max: 1e8 });
        const y = c.fixed('p2', 'y', { length: x.length });
        const i = c.vector('p2', 'i', { length: x.length, min: 0, max: 1e8 });
        c.reveal('sx', x.sqrt());
        c.reveal('sy', y.sqrt());
        c.reveal('si', i.sqrt());
      },
      { 'p1.x': L },
    );
    const nonNeg = fc.oneof(
      fc.double({ min: 0, max: 1e8, noNaN: true }),
      fc.double({ min: 0, max: 10, noNaN: true }),
      fc.integer({ min: 0, max: 10000 }).map((k) => k * k),
      fc.constantFrom(0, UNIT, 2 * UNIT, 0.25, 1, 2, 1e8, 1e8 - UNIT, 99999999),
    );
    const ints = fc.oneof(fc.integer({ min: 0, max: 1e8 }), fc.constantFrom(0, 1, 2, 3, 4, 1e8, 99980001));
    await forParties(2, seed, (n) =>
      fc.asyncProperty(fc.array(nonNeg, { minLength: L, maxLength: L }), fc.array(nonNeg, { minLength: L, maxLength: L }), fc.array(ints, { minLength: L, maxLength: L }), async (x, y, i) => {
        const res = await run(plan, { p1: { x }, p2: { y, i } }, n, security);
        x.forEach((v, k) => expect(res.ints.sx[k], `sqrt(${v})`).toBe(isqrt(units(v) << 16n)));
        y.forEach((v, k) => expect(res.ints.sy[k], `sqrt(${v}), no declared range`).toBe(isqrt(units(v) << 16n)));
        i.forEach((v, k) => expect(res.ints.si[k], `sqrt(${v}), integer`).toBe(isqrt(BigInt(v) << 32n)));
        x.forEach((v, k) => expect(Math.abs((res.out.sx as number[])[k] - Math.sqrt(real(v)))).toBeLessThanOrEqual(2 ** -15));
      }),
    );
  });

  it('sorting: sort, median (lower), percentile, topK, kth equal JS sort, with duplicates and negatives', async () => {
    // (p1, p2) lengths: 1 element in all, then 5, 8 and 11.
    const shapes: [number, number][] = [[1, 0], [2, 3], [4, 4], [6, 5]];
    const elem = fc.oneof(fc.bigInt({ min: -4n, max: 4n }), int62);
    await forParties(2, seed, (n) =>
      fc.asyncProperty(
        fc.constantFrom(...shapes).chain(([l1, l2]) => fc.tuple(fc.array(elem, { minLength: l1, maxLength: l1 }), fc.array(elem, { minLength: l2, maxLength: l2 }))),
        async ([v, w]) => {
          const total = v.length + w.length;
          const kk = Math.floor(total / 3);
          const top = Math.min(3, total);
          const plan = compile(
            'sort',
            (c) => {
              const all = c.concat([c.vector('p1', 'v'), c.vector('p2', 'w')]);
              c.reveal('sorted', sort(all));
              c.reveal('median', median(all));
              for (const p of [0, 25, 90, 100]) c.reveal(`p${p}`, percentile(all, p));
              c.reveal('top', topK(all, top));
              c.reveal('kth', kth(all, kk));
              c.reveal('last', kth(all, total - 1));
            },
            { 'p1.v': v.length, 'p2.w': w.length },
          );
          const { ints } = await run(plan, { p1: { v: v.map(asRaw) }, p2: { w: w.map(asRaw) } }, n, security);
          const s = jsSort([...v, ...w]);
          expect(ints.sorted).toEqual(s);
          expect(ints.median).toEqual([s[Math.floor((total - 1) / 2)]]);
          for (const p of [0, 25, 90, 100]) expect(ints[`p${p}`], `percentile ${p}`).toEqual([s[Math.floor((p * (total - 1)) / 100)]]);
          expect(ints.top).toEqual(s.slice(total - top).reverse());
          expect(ints.kth).toEqual([s[kk]]);
          expect(ints.last).toEqual([s[total - 1]]);
        },
      ),
    );
  });

  it('sorting fixed-point values and histograms: edges, below the first edge, at/above the last (not counted), empty buckets', async () => {
    const L = 9;
    const EDGES_I = [-10, 0, 5, 6, 20];
    const EDGES_F = [-1.5, 0, 0.25, 2];
    const plan = compile(
      'histogram',
      (c) => {
        const v = c.vector('p1', 'v');
        const f = c.fixed('p2', 'f', { length: v.length, min: -1e4, max: 1e4 });
        c.reveal('hist', histogram(v, EDGES_I));
        c.reveal('histF', histogram(f, EDGES_F));
        c.reveal('sortedF', sort(f));
        c.reveal('medianF', median(f));
      },
      { 'p1.v': L },
    );
    const near = (es: number[]) => es.flatMap((e) => [e - 1, e, e + 1]);
    const vi = fc.oneof(fc.constantFrom(...near(EDGES_I), -1000, 1000), fc.integer({ min: -30, max: 30 }));
    const vf = fc.oneof(fc.constantFrom(...EDGES_F, ...EDGES_F.map((e) => e - UNIT), ...EDGES_F.map((e) => e + UNIT), -1e4, 1e4, 0.1), fixedIn(3));
    const counts = (xs: number[], es: number[]) => es.slice(1).map((e, i) => BigInt(xs.filter((x) => x >= es[i] && x < e).length));
    await forParties(2, seed, (n) =>
      fc.asyncProperty(fc.array(vi, { minLength: L, maxLength: L }), fc.array(vf, { minLength: L, maxLength: L }), async (v, f) => {
        const { ints } = await run(plan, { p1: { v }, p2: { f } }, n, security);
        expect(ints.hist, `histogram of ${v}`).toEqual(counts(v, EDGES_I));
        expect(ints.histF, `histogram of ${f}`).toEqual(counts(f.map(real), EDGES_F));
        const s = jsSort(f.map(units));
        expect(ints.sortedF).toEqual(s);
        expect(ints.medianF).toEqual([s[Math.floor((L - 1) / 2)]]);
      }),
    );
  });

  it('statistics: mean, variance, stddev, covariance, correlation within 1e-3 of mathjs for |v| ≤ 10^4', async () => {
    const L1 = 6;
    const L2 = 5;
    const plan = compile(
      'stats',
      (c) => {
        const v = c.concat([c.fixed('p1', 'v', { min: -1e4, max: 1e4 }), c.fixed('p2', 'v', { min: -1e4, max: 1e4 })]);
        const x = c.fixed('p1', 'x', { min: -1e4, max: 1e4 });
        const y = c.fixed('p2', 'y', { length: x.length, min: -1e4, max: 1e4 });
        const k = c.vector('p2', 'k', { length: x.length, min: -1e4, max: 1e4 });
        c.reveal('mean', mean(v));
        c.reveal('variance', variance(v));
        c.reveal('stddev', stddev(v));
        c.reveal('cov', covariance(x, y));
        c.reveal('corr', correlation(x, y));
        c.reveal('meanInt', mean(k));
        c.reveal('stddevInt', stddev(k));
      },
      { 'p1.v': L1, 'p2.v': L2, 'p1.x': 8 },
    );
    // Spread out data, clustered data, and constant data (spread 0).
    const data = (L: number) =>
      fc.oneof(
        fixedVec(1e4, L),
        fc.tuple(fixedIn(1e4), fixedVec(1, L)).map(([c, d]) => d.map((e) => Math.max(-1e4, Math.min(1e4, real(c) + real(e))))),
        fixedIn(1e4).map((c) => Array.from({ length: L }, () => c)),
      );
    await forParties(2, seed, (n) =>
      fc.asyncProperty(
        data(L1),
        data(L2),
        fixedVec(1e4, 8),
        fixedVec(1e4, 8),
        fc.array(fc.integer({ min: -1e4, max: 1e4 }), { minLength: 8, maxLength: 8 }),
        async (v1, v2, x, y, k) => {
          const { out } = await run(plan, { p1: { v: v1, x }, p2: { v: v2, y, k } }, n, security);
          // Reductions of vectors reveal numbers, not one-element arrays.
          for (const name of ['mean', 'variance', 'stddev', 'cov', 'corr', 'meanInt', 'stddevInt']) expect(typeof out[name], `${name} is a scalar`).toBe('number');
          const v = [...v1, ...v2].map(real);
          const xs = x.map(real);
          const ys = y.map(real);
          const close = (got: unknown, want: number, what: string) => {
            note(`${what}, absolute`, Math.abs((got as number) - want));
            expect(Math.abs((got as number) - want), `${what}: got ${String(got)}, want ${want}`).toBeLessThanOrEqual(1e-3);
          };
          close(out.mean, mMean(v), 'mean');
          close(out.variance, mVariance(v, 'uncorrected') as unknown as number, 'variance');
          close(out.stddev, mStd(v, 'uncorrected') as unknown as number, 'stddev');
          const mx = mMean(xs);
          const my = mMean(ys);
          const cov = xs.reduce((t, e, i) => t + (e - mx) * (ys[i] - my), 0) / xs.length;
          close(out.cov, cov, 'covariance');
          close(out.corr, corr(xs, ys) as number, 'correlation');
          close(out.meanInt, mMean(k), 'mean of integers');
          close(out.stddevInt, mStd(k, 'uncorrected') as unknown as number, 'stddev of integers');
        },
      ),
    );
  });

  it('sqrt beyond 2^30 and stddev of values within ±2·10^7 in Z_2^64: normalised by a secret power of two, deviations rounded before squaring', async () => {
    const L = 12;
    const plan = compile(
      'large ranges',
      (c) => {
        const v = c.concat([c.fixed('p1', 'v', { min: -2e7, max: 2e7 }), c.fixed('p2', 'v', { min: -2e7, max: 2e7 })]);
        const big = c.fixed('p1', 'big', { length: 4, min: 0, max: 1e12 });
        c.reveal('mean', mean(v));
        c.reveal('stddev', stddev(v));
        c.reveal('root', big.sqrt());
      },
      { 'p1.v': L, 'p2.v': L },
      // Named, so that the compiler keeps Z_2^64 and rounds (without it, it picks Z_2^128: test/circuit/ring128.test.ts).
      64,
    );
    // A centre anywhere in the range and a spread from 1 to 10^7.
    const data = fc.tuple(fc.double({ min: -1.5e7, max: 1.5e7, noNaN: true }), fc.integer({ min: 0, max: 7 }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2 * L, maxLength: 2 * L }));
    const bigs = fc.array(fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.constantFrom(0, 1e12, 2 ** 30, 1.5)), { minLength: 4, maxLength: 4 });
    await forParties(2, seed, (n) =>
      fc.asyncProperty(data, bigs, async ([centre, e, unit], big) => {
        const vals = unit.map((u) => Math.max(-2e7, Math.min(2e7, centre + u * 10 ** e)));
        const { out } = await run(plan, { p1: { v: vals.slice(0, L), big }, p2: { v: vals.slice(L) } }, n, security);
        const v = vals.map(real);
        const m = mMean(v);
        const sd = mStd(v, 'uncorrected') as unknown as number;
        note('mean of ±2e7, relative', Math.abs((out.mean as number) - m) / Math.max(1, Math.abs(m)));
        note('stddev of ±2e7, absolute', Math.abs((out.stddev as number) - sd));
        expect(Math.abs((out.mean as number) - m), `mean: got ${String(out.mean)}, want ${m}`).toBeLessThanOrEqual(2 * UNIT);
        // Deviations of up to 2^25.3 are squared at 4 fractional bits (README: error ≤ 2^(b − 28) for |v| < 2^b).
        expect(Math.abs((out.stddev as number) - sd), `stddev: got ${String(out.stddev)}, want ${sd}`).toBeLessThanOrEqual(2 ** (Math.log2(2e7) - 28));
        (out.root as number[]).forEach((r, k) => {
          const want = Math.sqrt(real(big[k]));
          note('sqrt beyond 2^30, relative', Math.abs(r - want) / Math.max(1, want));
          expect(Math.abs(r - want), `sqrt(${big[k]}): got ${r}, want ${want}`).toBeLessThanOrEqual(want * 2 ** -29 + 2 * UNIT);
        });
      }),
    );
  });

  it('ols with one and two regressors: within 1e-2 (relative, or absolute below 1) of least squares on the normal equations', async () => {
    const L = 12;
    const plan = compile(
      'ols',
      (c) => {
        const x1 = c.fixed('p1', 'x1', { min: -100, max: 100 });
        const x2 = c.fixed('p1', 'x2', { length: x1.length, min: -100, max: 100 });
        const y1 = c.fixed('p2', 'y1', { length: x1.length, min: -100, max: 100 });
        const y2 = c.fixed('p2', 'y2', { length: x1.length, min: -100, max: 100 });
        c.reveal('one', ols(y1, [x1]));
        c.reveal('two', ols(y2, [x1, x2]));
      },
      { 'p1.x1': L },
    );
    const xs = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: L, maxLength: L });
    const noise = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: L, maxLength: L });
    const coef = (m: number) => fc.double({ min: -m, max: m, noNaN: true });
    const pearson = (a: number[], b: number[]) => corr(a, b) as number;
    await forParties(2, seed, (n) =>
      fc.asyncProperty(xs, xs, noise, noise, coef(5), coef(0.9), coef(0.45), coef(0.45), async (x1, x2, e1, e2, b0, b1, c1, c2) => {
        const X1 = x1.map(real);
        const X2 = x2.map(real);
        // Well conditioned: the regressors spread out and not nearly collinear.
        fc.pre(mStd(X1, 'uncorrected') as unknown as number > 20 && mStd(X2, 'uncorrected') as unknown as number > 20 && Math.abs(pearson(X1, X2)) < 0.8);
        const y1 = X1.map((x, i) => b0 + b1 * x + e1[i]);
        const y2 = X1.map((x, i) => b0 + c1 * x + c2 * X2[i] + e2[i]);
        const { out } = await run(plan, { p1: { x1, x2 }, p2: { y1, y2 } }, n, security);
        const lsq = (cols: number[][], y: number[]) => {
          const X = y.map((_, i) => [1, ...cols.map((col) => col[i])]);
          const XtX = X[0].map((_, a) => X[0].map((_, b) => X.reduce((t, row) => t + row[a] * row[b], 0)));
          const Xty = X[0].map((_, a) => X.reduce((t, row, i) => t + row[a] * y[i], 0));
          return (lusolve(XtX, Xty) as MathNumericType[][]).map((r) => r[0] as number);
        };
        const check = (got: unknown, want: number[], what: string) => {
          const g = got as number[];
          expect(g.length).toBe(want.length);
          want.forEach((w, j) => {
            note(`ols ${what}, relative`, Math.abs(g[j] - w) / Math.max(1, Math.abs(w)));
            expect(Math.abs(g[j] - w), `${what} β${j}: got ${g[j]}, want ${w}`).toBeLessThanOrEqual(1e-2 * Math.max(1, Math.abs(w)));
          });
        };
        check(out.one, lsq([X1], y1.map(real)), 'one regressor');
        check(out.two, lsq([X1, X2], y2.map(real)), 'two regressors');
      }),
    );
  });
});

// ---------- the edges of the documented fixed-point range ----------

describe('fixed-point values across the documented range ±2^46 (exclusive)', () => {
  // The largest values the encoder accepts: every difference fits 64 signed bits, so comparisons are exact.
  const top = 2 ** 46 - 1;
  const x = [top, -top, 2 ** 45 + 0.5, -top, 1e13];
  const y = [-top, top, 0, top, -1e13];
  it.each(SECURITY_LEVELS)('comparisons, max and toInt (%s, 2 parties)', async (security) => {
    const plan = compile(
      'range46',
      (c) => {
        const a = c.fixed('p1', 'x');
        const b = c.fixed('p2', 'y', { length: a.length });
        c.reveal('lt', a.lt(b));
        c.reveal('max', a.max(b));
        c.reveal('toInt', a.toInt());
      },
      { 'p1.x': x.length },
    );
    const { ints } = await run(plan, { p1: { x }, p2: { y } }, 2, security);
    const X = x.map(units);
    const Y = y.map(units);
    expect(ints.lt, `lt of ${x} and ${y}`).toEqual(X.map((a, i) => bit(a < Y[i])));
    expect(ints.max).toEqual(X.map((a, i) => (a > Y[i] ? a : Y[i])));
    X.forEach((a, k) => expectFloorOrNext(ints.toInt[k], a, 1n << 16n, `toInt(${x[k]})`));
  });

  it('values at or beyond ±2^46 are refused at input, naming the element', () => {
    const plan = compile('range46', (c) => c.reveal('s', c.fixed('p1', 'x').sum()), { 'p1.x': 2 });
    expect(() => encodePartyInputs(plan, 'p1', { x: [1, 2 ** 46] }, 'inputs.json')).toThrow(/input p1\.x\[1\]: 70368744177664 is outside the fixed-point range ±2\^46/);
    expect(() => encodePartyInputs(plan, 'p1', { x: [-(2 ** 46), 0] }, 'inputs.json')).toThrow(/input p1\.x\[0\]/);
  });
});

// ---------- mistakes: compile errors and input errors ----------

function compileError(body: CircuitBody, shapes: Record<string, number> = {}, ring?: 64 | 128): MpcError {
  try {
    compileLoaded({ definition: circuit({ name: 'bad', parties: ['p1', 'p2'], ring }, body), file: FILE }, new Map(Object.entries(shapes)));
  } catch (e) {
    expect(isMpcError(e), String(e)).toBe(true);
    return e as MpcError;
  }
  throw new Error('expected the compilation to fail');
}

describe('non-linear library: mistakes are reported', () => {
  it('adding an integer to a fixed-point value → CIRCUIT naming this file and line', () => {
    const e = compileError((c) => c.reveal('s', c.vector('p1', 'x').add(c.fixed('p2', 'f', { length: 2 }))), { 'p1.x': 2 });
    expect(e.code).toBe(ErrorCode.CIRCUIT);
    expect(e.message).toMatch(THIS_LINE);
    expect(e.message).toMatch(/add: cannot mix an integer and a fixed-point value/);
  });

  it('a secret integer times 1.5 → CIRCUIT naming this file and line', () => {
    const e = compileError((c) => c.reveal('s', c.scalar('p1', 'x').mul(1.5)));
    expect(e.code).toBe(ErrorCode.CIRCUIT);
    expect(e.message).toMatch(THIS_LINE);
    expect(e.message).toMatch(/mul: cannot multiply an integer by 1\.5: convert the integer with \.toFixed\(\) first/);
  });

  it('a fixed-point product whose declared ranges could overflow → CIRCUIT naming this file and line', () => {
    const body: CircuitBody = (c) => c.reveal('p', c.fixedScalar('p1', 'a', { min: -1e7, max: 1e7 }).mul(c.fixedScalar('p2', 'b', { min: 0, max: 1e7 })));
    const e = compileError(body, {}, 64);
    expect(e.code).toBe(ErrorCode.CIRCUIT);
    expect(e.message).toMatch(THIS_LINE);
    expect(e.message).toMatch(/mul: the fixed-point product may reach 2\^\d+ before truncation, beyond the 2\^62 limit of Z_2\^64/);
    // A circuit that does not name its ring gets Z_2^128 instead, and is told why.
    const wide = compileLoaded({ definition: circuit({ name: 'wide', parties: ['p1', 'p2'] }, body), file: FILE }, new Map());
    expect(wide.plan.ring).toBe(128);
    expect(wide.ring.reason).toMatch(/Z_2\^64 is too narrow: .*the fixed-point product may reach/);
    // Within the limit it compiles: |a·b| ≤ 10^4 · 10^4 < 2^30.
    compileLoaded(
      { definition: circuit({ name: 'ok', parties: ['p1', 'p2'] }, (c) => c.reveal('p', c.fixedScalar('p1', 'a', { min: -1e4, max: 1e4 }).mul(c.fixedScalar('p2', 'b', { max: 1e4, min: -1e4 })))), file: FILE },
      new Map(),
    );
  });

  it('sqrt of a value whose bound exceeds 2^45 → CIRCUIT naming this file and line', () => {
    const e = compileError((c) => c.reveal('r', c.fixedScalar('p1', 'a', { min: 0, max: 2 ** 45.5 }).sqrt()), {}, 64);
    expect(e.code).toBe(ErrorCode.CIRCUIT);
    expect(e.message).toMatch(/sqrt: the operand may reach 2\^45\.5 \(real, 16 fractional bits\), above the 2\^45 limit/);
    expect(e.message).toMatch(THIS_LINE);
  });

  it('an input outside its declared range → INPUT naming the element', () => {
    const plan = compile(
      'ranges',
      (c) => {
        const x = c.vector('p1', 'x', { min: -5, max: 5 });
        const f = c.fixed('p1', 'f', { min: 0, max: 1000 });
        const s = c.fixedScalar('p2', 's', { min: -1, max: 1 });
        c.reveal('t', x.sum().toFixed().add(f.sum()).add(s));
      },
      { 'p1.x': 3, 'p1.f': 2 },
    );
    const err = (party: string, values: Record<string, unknown>): MpcError => {
      try {
        encodePartyInputs(plan, party, values, 'inputs.json');
      } catch (e) {
        expect(isMpcError(e, ErrorCode.INPUT), String(e)).toBe(true);
        return e as MpcError;
      }
      throw new Error('expected an input error');
    };
    // In range, including both ends.
    encodePartyInputs(plan, 'p1', { x: [-5, 0, 5], f: [0, 1000] }, 'inputs.json');
    encodePartyInputs(plan, 'p2', { s: '-1' }, 'inputs.json');
    expect(err('p1', { x: [-5, 6, 5], f: [0, 1] }).message).toMatch(/^inputs\.json: input p1\.x\[1\]: 6 is outside the declared range \[-5, 5\]/);
    expect(err('p1', { x: [0, 0, '-6'], f: [0, 1] }).message).toMatch(/input p1\.x\[2\]: -6 is outside/);
    expect(err('p1', { x: [0, 0, 0], f: [0, 1000.001] }).message).toMatch(/input p1\.f\[1\]: 1000\.001 is outside the declared range \[0, 1000\]/);
    expect(err('p1', { x: [0, 0, 0], f: [-0.5, 1] }).message).toMatch(/input p1\.f\[0\]: -0\.5 is outside/);
    expect(err('p2', { s: 1.5 }).message).toMatch(/input p2\.s: 1\.5 is outside the declared range \[-1, 1\]/);
    // And a job with such an input does not start.
    return expect(runLocal(plan, { p1: { x: [9, 0, 0], f: [0, 0] }, p2: { s: 0 } })).rejects.toMatchObject({ code: ErrorCode.INPUT, message: expect.stringMatching(/input p1\.x\[0\]: 9 is outside/) });
  });
});

// ---------- a cheating party in a comparison ----------

describe('non-linear library under attack (malicious suite)', () => {
  const L = 4;
  const plan = compile(
    'cheat',
    (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y', { length: x.length });
      c.reveal('lt', x.lt(y));
    },
    { 'p1.x': L },
  );
  const raw = { p1: { x: [1, -5, 7, 0] }, p2: { y: [2, -6, 7, 3] } };
  const WANT = [1n, 0n, 0n, 1n];
  const FIRST_OPEN_ROUND = chunkRound(0, OPEN_CHUNK_BASE);
  const suite = suiteFor('malicious');

  it('the comparison opens its masked difference in rounds ≥ 2048·2^20, and runs honestly', async () => {
    expect(FIRST_OPEN_ROUND).toBe(2048 * 2 ** 20);
    const rounds = new Set<number>();
    const res = await runLocal(plan, raw, {
      suite,
      parties: ALL.slice(0, 3),
      wrapTransport: (t) => tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && rounds.add(round), p)),
    });
    expect(Array.from(res.analyst.lt)).toEqual(WANT);
    expect([...rounds].some((r) => r >= FIRST_OPEN_ROUND)).toBe(true);
  });

  describe.each(PARTY_COUNTS)('%i parties', (n) => {
    for (const cheater of [0, n - 1]) {
      it(`party ${cheater + 1} shifts its share of the comparison's opening → every honest party rejects with MAC_CHECK, no output`, async () => {
        const honest = Array.from({ length: n }, (_, i) => i).filter((i) => i !== cheater);
        let tampered = 0;
        // Shift the first element of the first comparison opening (low 64 bits), to every peer.
        const wrap = (t: Parameters<typeof tamperSends>[0], i: number) =>
          i !== cheater
            ? t
            : tamperSends(t, (_to, kind, round, p) => {
                if (kind !== MessageKind.Open || round < FIRST_OPEN_ROUND) return p;
                tampered++;
                return addAt(p, 0, 1n);
              });
        const res = await runParties(plan, raw, { parties: ALL.slice(0, n), wrapTransport: wrap });
        expect(tampered).toBeGreaterThan(0);
        for (const i of honest) {
          const o = res.outcomes[i];
          expect(o.ok, `party ${i + 1} must not finish`).toBe(false);
          const e = (o as { error: unknown }).error;
          expect(isMpcError(e, ErrorCode.MAC_CHECK), `party ${i + 1}: ${String(e)}`).toBe(true);
          expect((e as Error).message).toMatch(/MAC check failed/);
        }
        expect(res.analyst).toBeUndefined();
        // runLocal (which aborts everyone on the first failure) delivers nothing either.
        let tamperedLocal = 0;
        await expect(
          runLocal(plan, raw, {
            suite,
            parties: ALL.slice(0, n),
            wrapTransport: (t, i) =>
              i !== cheater
                ? t
                : tamperSends(t, (to, kind, round, p) => {
                    // This time to one peer only: inconsistent openings.
                    if (kind !== MessageKind.Open || round < FIRST_OPEN_ROUND || to !== honest[0]) return p;
                    tamperedLocal++;
                    return addAt(p, 8 * (L - 1), 1n << 40n);
                  }),
          }),
        ).rejects.toMatchObject({ code: ErrorCode.MAC_CHECK });
        expect(tamperedLocal).toBeGreaterThan(0);
      });
    }
  });
});

// NONLINEAR_REPORT=1 prints the worst errors observed by the bounded operations above.
describe.runIf(process.env.NONLINEAR_REPORT)('observed worst errors', () => {
  it('printed for the record', () => {
    console.log('worst observed errors:', JSON.stringify(worst, null, 1));
  });
});
