// The Z_2^128 value domain (circuit({ ring: 128 }), or chosen by the compiler): what this build
// refuses first (the k = 64 malicious suite), then property tests of the semi-honest suite over Z_2^128 with dealer
// preprocessing against BigInt / double references for 2, 3 and 5 computing parties —
// integers beyond 64 bits, comparisons and truncation at 128 bits, fixed point at 32
// fractional bits, and statistics of data with large offsets and tiny spreads (the NIST
// StRD NumAcc4 layout: 10^7 + 0.2 ± 0.1).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { circuit, type CircuitBody } from '../../src/circuit/index.ts';
import { mean, stddev, variance } from '../../src/circuit/stats.ts';
import { compileLoaded } from '../../src/compiler/load.ts';
import { decodePlan, encodePlan, type Plan } from '../../src/compiler/plan.ts';
import { ErrorCode } from '../../src/errors.ts';
import { runLocal } from '../../src/coordinator/local.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { suiteFor } from '../../src/protocol/suites.ts';
import { spdz2k } from '../../src/protocol/spdz2k/suite.ts';
import { encodePartyInputs, type RawInputs } from '../../src/protocol/inputs.ts';
import type { Z128Vec } from '../../src/ring/z128.ts';
import { forParties } from '../helpers.ts';

const FILE = 'test/circuit/ring128.test.ts';
const ALL = ['p1', 'p2', 'p3', 'p4', 'p5'];

function compile(body: CircuitBody, shapes: Record<string, number> = {}, ring: 64 | 128 | undefined = 128): Plan {
  return compileLoaded({ definition: circuit({ name: 'wide', parties: ['p1', 'p2'], ring }, body), file: FILE }, new Map(Object.entries(shapes))).plan;
}

async function run(plan: Plan, raw: RawInputs, n: number) {
  const res = await runLocal<Z128Vec>(plan, raw, { parties: ALL.slice(0, n) });
  return formatOutputs(plan, res.analyst, 'analyst') as Record<string, any>;
}


const big = (x: unknown): bigint => BigInt(x as string | number);

describe('Z_2^128: what this build refuses', () => {
  const plan = compile((c) => c.reveal('s', c.vector('p1', 'x').sum()), { 'p1.x': 2 });

  it('malicious security over Z_2^128 is SPDZ2k with k = 128 (test/protocol/spdz2k/ring128.test.ts); the k = 64 suite refuses a Z_2^128 plan before anything runs, with either preprocessing', async () => {
    expect(suiteFor('malicious', 128).domain.ring).toBe(128);
    for (const preprocessing of ['dealer', 'ot'] as const) {
      await expect(runLocal(plan, { p1: { x: [1, 2] } }, { suite: spdz2k as never, preprocessing })).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED });
    }
  });

  // Malicious OT material at k = 128 end to end: test/preprocessing/ot/spdz2k.test.ts.
  it('semi-honest OT preprocessing over Z_2^128: a product beyond 64 bits', async () => {
    const wide = compile((c) => c.reveal('p', c.vector('p1', 'x').mul(c.vector('p2', 'y')).sum()), { 'p1.x': 2, 'p2.y': 2 });
    const res = await runLocal<Z128Vec>(wide, { p1: { x: [String(2n ** 62n), 3] }, p2: { y: [String(2n ** 40n), 5] } }, { preprocessing: 'ot' });
    expect(big((formatOutputs(wide, res.analyst, 'analyst') as Record<string, unknown>).p)).toBe(2n ** 102n + 15n);
  });

  it('a plan of another ring, or with bit operations beyond its ring, is refused as invalid', () => {
    const bytes = encodePlan({ ...plan, ring: 96 as never });
    expect(() => decodePlan(bytes)).toThrow(/invalid plan: unsupported ring 96/);
    const comparing = compile((c) => c.reveal('lt', c.vector('p1', 'x').lt(0)), { 'p1.x': 2 });
    expect(decodePlan(encodePlan(comparing)).ring).toBe(128);
    expect(() => decodePlan(encodePlan({ ...comparing, ring: undefined }))).toThrow(/invalid plan/);
  });

  it('a fixed-point input beyond ±2^94 (32 fractional bits) is refused, naming the element', () => {
    const p = compile((c) => c.reveal('s', c.fixed('p1', 'x').sum()), { 'p1.x': 2 });
    expect(() => encodePartyInputs(p, 'p1', { x: [1, 2 ** 95] }, 'inputs')).toThrow(expect.objectContaining({ code: ErrorCode.INPUT, message: expect.stringMatching(/p1\.x\[1\].*±2\^94/) }));
  });

  it('a circuit that does not name its ring and needs more than 64 bits compiles in Z_2^128; one that names 64 keeps it', () => {
    const body: CircuitBody = (c) => c.reveal('sd', stddev(c.fixed('p1', 'v', { min: -2e7, max: 2e7 })));
    const auto = compileLoaded({ definition: circuit({ name: 'auto', parties: ['p1', 'p2'] }, body), file: FILE }, new Map([['p1.v', 4]]));
    expect(auto.plan.ring).toBe(128);
    expect(auto.ring.reason).toMatch(/Z_2\^64 is too narrow: .*ring128\.test\.ts:\d+:\d+: variance: deviations/);
    const narrow = compileLoaded({ definition: circuit({ name: 'narrow', parties: ['p1', 'p2'], ring: 64 }, body), file: FILE }, new Map([['p1.v', 4]]));
    expect(narrow.plan.ring).toBeUndefined();
  });
});

describe('Z_2^128, semi-honest, dealer preprocessing', () => {
  const seed = 0x128;

  it('integers: products beyond 64 bits exact, comparisons and equality exact at 128 bits, sums', async () => {
    const L = 4;
    const plan = compile(
      (c) => {
        const x = c.vector('p1', 'x');
        const y = c.vector('p2', 'y', { length: x.length });
        const p = x.mul(y);
        c.reveal('prod', p);
        c.reveal('cube', p.mul(x));
        c.reveal('lt', p.lt(c.constant(0)));
        c.reveal('eq', x.eq(y));
        c.reveal('sum', p.sum());
      },
      { 'p1.x': L },
    );
    const i63 = fc.oneof(fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), fc.constantFrom(0n, 1n, -1n, 2n ** 40n, -(2n ** 40n)));
    await forParties(3, seed, (n) =>
      fc.asyncProperty(fc.array(i63, { minLength: L, maxLength: L }), fc.array(i63, { minLength: L, maxLength: L }), async (x, y) => {
        const out = await run(plan, { p1: { x: x.map(String) }, p2: { y: y.map(String) } }, n);
        const p = x.map((v, i) => v * y[i]);
        expect((out.prod as unknown[]).map(big)).toEqual(p);
        expect((out.cube as unknown[]).map(big)).toEqual(p.map((v, i) => v * x[i]));
        expect(out.lt).toEqual(p.map((v) => (v < 0n ? 1 : 0)));
        expect(out.eq).toEqual(x.map((v, i) => (v === y[i] ? 1 : 0)));
        expect(big(out.sum)).toBe(p.reduce((a, b) => a + b, 0n));
      }),
    );
  });

  it('fixed point at 32 fractional bits: products within one unit, division within 10^-9 relative, sqrt, over ±10^9', async () => {
    const L = 3;
    const plan = compile(
      (c) => {
        const a = c.fixed('p1', 'a', { min: -1e9, max: 1e9 });
        const b = c.fixed('p2', 'b', { length: a.length, min: 1, max: 1e9 });
        c.reveal('prod', a.mul(b));
        c.reveal('ratio', a.div(b));
        c.reveal('root', b.sqrt());
      },
      { 'p1.a': L },
    );
    const unit = 2 ** -32;
    const q = (v: number): number => Math.round(v / unit) * unit;
    await forParties(2, seed + 10, (n) =>
      fc.asyncProperty(
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: L, maxLength: L }),
        fc.array(fc.double({ min: 1, max: 1e9, noNaN: true }), { minLength: L, maxLength: L }),
        async (a, b) => {
          const out = await run(plan, { p1: { a }, p2: { b } }, n);
          a.forEach((v, i) => {
            const [x, y] = [q(v), q(b[i])];
            const prod = (out.prod as number[])[i];
            // One unit of 2^-32, plus the double reference's own rounding of a value up to 10^18.
            expect(Math.abs(prod - x * y), `prod ${x}·${y}`).toBeLessThanOrEqual(unit + Math.abs(x * y) * 2 ** -52);
            expect(Math.abs((out.ratio as number[])[i] - x / y), `ratio ${x}/${y}`).toBeLessThanOrEqual(Math.abs(x / y) * 1e-9 + 2 * unit);
            expect(Math.abs((out.root as number[])[i] - Math.sqrt(y)), `sqrt ${y}`).toBeLessThanOrEqual(2 * unit + Math.sqrt(y) * 2 ** -52);
          });
        },
      ),
    );
  });

  it('mean, variance and stddev of data around ±10^7 with spreads down to 0.1: stddev within 10^-6 relative', async () => {
    const L = 12;
    const plan = compile(
      (c) => {
        const v = c.concat([c.fixed('p1', 'v', { min: -2e7, max: 2e7 }), c.fixed('p2', 'v', { min: -2e7, max: 2e7 })]);
        c.reveal('mean', mean(v));
        c.reveal('variance', variance(v));
        c.reveal('stddev', stddev(v));
      },
      { 'p1.v': L, 'p2.v': L },
      undefined,
    );
    expect(plan.ring).toBe(128);
    // The reference in exact integer arithmetic on hundredths: mean, population variance, stddev.
    const reference = (vals: number[]) => {
      const h = vals.map((v) => BigInt(Math.round(v * 100)));
      const N = BigInt(h.length);
      const S = h.reduce((a, b) => a + b, 0n);
      const varH = Number(h.reduce((a, b) => a + b * b, 0n) * N - S * S) / Number(N * N);
      return { m: Number(S) / Number(N) / 100, variance: varH / 1e4, sd: Math.sqrt(varH) / 100 };
    };
    // NumAcc4's layout: 10^7 + 0.2, then 10^7 + 0.1 and 10^7 + 0.3 alternating.
    const numAcc4 = Array.from({ length: 2 * L }, (_, i) => (i === 0 ? '10000000.2' : i % 2 ? '10000000.1' : '10000000.3'));
    const r4 = reference(numAcc4.map(Number));
    const out4 = await run(plan, { p1: { v: numAcc4.slice(0, L) }, p2: { v: numAcc4.slice(L) } }, 3);
    expect(Math.abs(out4.mean - r4.m) / r4.m).toBeLessThan(1e-12);
    expect(Math.abs(out4.stddev - r4.sd) / r4.sd, `stddev ${out4.stddev}, want ${r4.sd}`).toBeLessThan(1e-6);
    const data = fc.tuple(
      fc.double({ min: -1.9e7, max: 1.9e7, noNaN: true }),
      fc.integer({ min: -1, max: 6 }),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2 * L, maxLength: 2 * L }),
    );
    await forParties(2, seed + 20, (n) =>
      fc.asyncProperty(data, async ([centre, e, unit]) => {
        // Exact decimal inputs, so the reference is exact: centre to 0.1, spread 10^e.
        const c0 = Math.round(centre * 10) / 10;
        const vals = unit.map((u) => Number((c0 + Math.round(u * 10 ** e * 100) / 100).toFixed(2)));
        const out = await run(plan, { p1: { v: vals.slice(0, L) }, p2: { v: vals.slice(L) } }, n);
        const { m, variance: v2, sd } = reference(vals);
        expect(Math.abs(out.mean - m), 'mean').toBeLessThanOrEqual(Math.abs(m) * 1e-12 + 2 ** -30);
        expect(Math.abs(out.variance - v2), 'variance').toBeLessThanOrEqual(v2 * 1e-9 + 2 ** -28);
        expect(Math.abs(out.stddev - sd), `stddev of ${vals.join(', ')}`).toBeLessThanOrEqual(sd * 1e-6 + 2 ** -28);
      }),
    );
  });
});
