// Every canonical circuit against a plaintext reference on random inputs, over the
// in-memory transport, under both suites, for every party count the circuit allows
// (extra computing parties without inputs join the federation).
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileFile } from '../../src/compiler/load.ts';
import { runLocal } from '../../src/protocol/local.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { shapesOf, type RawInputs } from '../../src/protocol/inputs.ts';
import { M64, signed } from '../helpers.ts';
import { suiteFor, SECURITY_LEVELS } from '../../src/protocol/suites.ts';

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const vec = (max = 12) => fc.array(fc.oneof(fc.bigInt({ min: -1000n, max: 1000n }), int64), { maxLength: max });
const asRaw = (xs: bigint[]) => xs.map((x) => (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x.toString()));
const wrap = (x: bigint) => signed(x & M64);
const json = (x: bigint) => (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x.toString());

let suite = suiteFor('semi-honest');
async function run(file: string, raw: RawInputs, parties?: string[]) {
  const { plan } = await compileFile(file, shapesOf(raw));
  const res = await runLocal(plan, raw, { suite, ...(parties ? { parties } : {}) });
  return formatOutputs(plan, res.analyst, 'analyst');
}

const extra = (base: string[], n: number) => [...base, ...Array.from({ length: n - base.length }, (_, i) => `p${base.length + i + 1}`)];

describe.each(SECURITY_LEVELS)('canonical circuits (%s)', (security) => {
  beforeAll(() => {
    suite = suiteFor(security);
  });

  it('sum.ts: total of all elements, 3 and 5 parties', async () => {
    await fc.assert(
      fc.asyncProperty(vec(), vec(), vec(), fc.constantFrom(3, 5), async (a, b, c, n) => {
        const raw = { p1: { x: asRaw(a) }, p2: { x: asRaw(b) }, p3: { x: asRaw(c) } };
        const out = await run('circuits/sum.ts', raw, extra(['p1', 'p2', 'p3'], n));
        expect(out).toEqual({ total: json(wrap([...a, ...b, ...c].reduce((s, x) => s + x, 0n))) });
      }),
      { numRuns: 25, seed: 1 },
    );
  });

  it('inner-product.ts: Σ x·y, 2, 3 and 5 parties', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20 }), fc.infiniteStream(int64), fc.constantFrom(2, 3, 5), async (len, s, n) => {
        const it = s[Symbol.iterator]();
        const x = Array.from({ length: len }, () => it.next().value as bigint);
        const y = Array.from({ length: len }, () => it.next().value as bigint);
        const out = await run('circuits/inner-product.ts', { p1: { x: asRaw(x) }, p2: { y: asRaw(y) } }, extra(['p1', 'p2'], n));
        expect(out).toEqual({ dot: json(wrap(x.reduce((t, xi, i) => t + xi * y[i], 0n))) });
      }),
      { numRuns: 25, seed: 2 },
    );
  });

  it('moments.ts: count, sum, sum of squares, mean and variance', async () => {
    const small = fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 15 });
    await fc.assert(
      fc.asyncProperty(small, small, small, fc.constantFrom(3, 5), async (a, b, c, n) => {
        const all = [...a, ...b, ...c];
        const out = await run('circuits/moments.ts', { p1: { v: a }, p2: { v: b }, p3: { v: c } }, extra(['p1', 'p2', 'p3'], n));
        const sum = all.reduce((t, x) => t + BigInt(x), 0n);
        const sq = all.reduce((t, x) => t + BigInt(x) ** 2n, 0n);
        expect(out.count).toBe(all.length);
        expect(out.sum).toBe(Number(sum));
        expect(out.sumOfSquares).toBe(json(sq));
        if (all.length === 0) {
          expect(out.mean).toBeNull();
          expect(out.variance).toBeNull();
        } else {
          const mean = Number(sum) / all.length;
          const variance = all.reduce((t, x) => t + (x - mean) ** 2, 0) / all.length;
          expect(out.mean).toBeCloseTo(mean, 9);
          expect(Math.abs((out.variance as number) - variance)).toBeLessThanOrEqual(1e-9 * Math.max(1, variance));
        }
      }),
      { numRuns: 25, seed: 3 },
    );
  });

  it('moments.ts wraps like the ring when the sum of squares exceeds 2^63', async () => {
    const big = '3037000500'; // big² > 2^63
    const out = await run('circuits/moments.ts', { p1: { v: [big, big] }, p2: { v: [] }, p3: { v: [] } });
    expect(out.sumOfSquares).toBe(json(wrap(2n * 3037000500n ** 2n)));
  });

  it('power.ts: x^(2^10) elementwise in ten rounds, 2, 3 and 5 parties', async () => {
    await fc.assert(
      fc.asyncProperty(vec(8), fc.constantFrom(2, 3, 5), async (x, n) => {
        const out = await run('circuits/power.ts', { p1: { x: asRaw(x) } }, extra(['p1'], n));
        const ref = x.map((v) => {
          let y = v & M64;
          for (let i = 0; i < 10; i++) y = (y * y) & M64;
          return json(signed(y));
        });
        expect(out).toEqual({ y: ref });
      }),
      { numRuns: 25, seed: 4 },
    );
  });

  it('the shipped example inputs give the documented answers', async () => {
    const { readFileSync } = await import('node:fs');
    const ex = (name: string) => JSON.parse(readFileSync(`circuits/${name}.inputs.json`, 'utf8')) as RawInputs;
    expect(await run('circuits/sum.ts', ex('sum'))).toEqual({ total: '9007199254741109' });
    expect(await run('circuits/inner-product.ts', ex('inner-product'))).toEqual({ dot: 150 });
    const m = await run('circuits/moments.ts', ex('moments'));
    expect(m).toMatchObject({ count: 9, sum: 402, sumOfSquares: 18826 });
    expect(await run('circuits/power.ts', ex('power'))).toEqual({ y: [0, 1, 1, 0, json(signed(3n ** 1024n & M64))] });
  });
});
