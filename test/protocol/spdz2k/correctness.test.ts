// Correctness of the malicious suite (SPDZ2k): random circuits under it equal the BigInt
// reference for 2, 3 and 5 parties (outputs to the analyst, to parties, or both), and every
// canonical circuit equals a plaintext reference for its party counts, with extra parties.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileFile } from '../../../src/compiler/load.ts';
import { runLocal } from '../../../src/protocol/local.ts';
import { formatOutputs } from '../../../src/protocol/outputs.ts';
import { shapesOf, type RawInputs } from '../../../src/protocol/inputs.ts';
import { suiteFor } from '../../../src/protocol/suites.ts';
import { createSpdz2k, spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import type { ProtocolSuite } from '../../../src/protocol/suite.ts';
import { M64, signed } from '../../helpers.ts';
import { build, programArb, smallOrBig } from './programs.ts';
import { runParties } from './harness.ts';

const malicious = spdz2k as ProtocolSuite<unknown, unknown>;

describe('SPDZ2k: random circuits = BigInt reference', () => {
  it('is the registered malicious suite', () => {
    expect(suiteFor('malicious')).toBe(malicious);
    expect(suiteFor('malicious').name).toBe('malicious');
  });

  it('for n = 2, 3, 5 parties, analyst and party recipients', async () => {
    await fc.assert(
      fc.asyncProperty(programArb(), fc.infiniteStream(smallOrBig), async (p, values) => {
        const it = values[Symbol.iterator]();
        const b = build(p, () => it.next().value as bigint);
        const res = await runParties(b.plan, b.raw);
        expect(res.outcomes.map((o) => (o.ok ? 'ok' : String(o.error)))).toEqual(b.parties.map(() => 'ok'));
        for (const [name, want] of Object.entries(b.ref)) {
          for (const to of b.recipients[name]) {
            const got = to === 'analyst' ? res.analyst![name] : (res.outcomes[b.parties.indexOf(to)] as { result: { values: Record<string, BigUint64Array> } }).result.values[name];
            expect(Array.from(got), `${name} → ${to}`).toEqual(want);
          }
          // Nobody else learns it through the protocol.
          res.outcomes.forEach((o, i) => {
            if (o.ok && !b.recipients[name].includes(b.parties[i])) expect(o.result.values[name]).toBeUndefined();
          });
        }
      }),
      { numRuns: 120, seed: 0x5bd2 },
    );
  });

  it('with a MAC check after every opening (macCheckEvery = 1) and extra parties', async () => {
    const every1 = createSpdz2k({ macCheckEvery: 1 });
    await fc.assert(
      fc.asyncProperty(programArb([2, 3]), fc.infiniteStream(smallOrBig), fc.integer({ min: 0, max: 2 }), async (p, values, extra) => {
        const it = values[Symbol.iterator]();
        const b = build(p, () => it.next().value as bigint);
        const parties = [...b.parties, ...Array.from({ length: extra }, (_, i) => `x${i + 1}`)];
        const res = await runParties(b.plan, b.raw, { suite: every1, parties });
        expect(res.outcomes.every((o) => o.ok)).toBe(true);
        for (const [name, want] of Object.entries(b.ref)) {
          if (b.recipients[name].includes('analyst')) expect(Array.from(res.analyst![name])).toEqual(want);
        }
      }),
      { numRuns: 40, seed: 0x5bd3 },
    );
  });
});

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const vec = (max = 12) => fc.array(fc.oneof(fc.bigInt({ min: -1000n, max: 1000n }), int64), { maxLength: max });
const asRaw = (xs: bigint[]) => xs.map((x) => (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x.toString()));
const wrap = (x: bigint) => signed(x & M64);
const json = (x: bigint) => (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x.toString());
const extra = (base: string[], n: number) => [...base, ...Array.from({ length: n - base.length }, (_, i) => `p${base.length + i + 1}`)];

async function run(file: string, raw: RawInputs, parties?: string[]) {
  const { plan } = await compileFile(file, shapesOf(raw));
  const res = await runLocal(plan, raw, { suite: malicious, ...(parties ? { parties } : {}) });
  return formatOutputs(plan, res.analyst, 'analyst');
}

describe('SPDZ2k: canonical circuits', () => {
  it('sum.ts, 3 and 5 parties', async () => {
    await fc.assert(
      fc.asyncProperty(vec(), vec(), vec(), fc.constantFrom(3, 5), async (a, b, c, n) => {
        const raw = { p1: { x: asRaw(a) }, p2: { x: asRaw(b) }, p3: { x: asRaw(c) } };
        expect(await run('circuits/sum.ts', raw, extra(['p1', 'p2', 'p3'], n))).toEqual({ total: json(wrap([...a, ...b, ...c].reduce((s, x) => s + x, 0n))) });
      }),
      { numRuns: 10, seed: 11 },
    );
  });

  it('inner-product.ts, 2, 3 and 5 parties', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20 }), fc.infiniteStream(int64), fc.constantFrom(2, 3, 5), async (len, s, n) => {
        const it = s[Symbol.iterator]();
        const x = Array.from({ length: len }, () => it.next().value as bigint);
        const y = Array.from({ length: len }, () => it.next().value as bigint);
        const out = await run('circuits/inner-product.ts', { p1: { x: asRaw(x) }, p2: { y: asRaw(y) } }, extra(['p1', 'p2'], n));
        expect(out).toEqual({ dot: json(wrap(x.reduce((t, xi, i) => t + xi * y[i], 0n))) });
      }),
      { numRuns: 10, seed: 12 },
    );
  });

  it('moments.ts, 3 and 5 parties', async () => {
    const small = fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 15 });
    await fc.assert(
      fc.asyncProperty(small, small, small, fc.constantFrom(3, 5), async (a, b, c, n) => {
        const all = [...a, ...b, ...c];
        const out = await run('circuits/moments.ts', { p1: { v: a }, p2: { v: b }, p3: { v: c } }, extra(['p1', 'p2', 'p3'], n));
        const sum = all.reduce((t, x) => t + BigInt(x), 0n);
        expect(out.count).toBe(all.length);
        expect(out.sum).toBe(Number(sum));
        expect(out.sumOfSquares).toBe(json(all.reduce((t, x) => t + BigInt(x) ** 2n, 0n)));
        if (all.length > 0) expect(out.mean).toBeCloseTo(Number(sum) / all.length, 9);
      }),
      { numRuns: 10, seed: 13 },
    );
  });

  it('power.ts: ten rounds, 2, 3 and 5 parties', async () => {
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
      { numRuns: 10, seed: 14 },
    );
  });

  it('the shipped example inputs give the documented answers', async () => {
    const { readFileSync } = await import('node:fs');
    const ex = (name: string) => JSON.parse(readFileSync(`circuits/${name}.inputs.json`, 'utf8')) as RawInputs;
    expect(await run('circuits/sum.ts', ex('sum'))).toEqual({ total: '9007199254741109' });
    expect(await run('circuits/inner-product.ts', ex('inner-product'))).toEqual({ dot: 150 });
    expect(await run('circuits/moments.ts', ex('moments'))).toMatchObject({ count: 9, sum: 402, sumOfSquares: 18826 });
    expect(await run('circuits/power.ts', ex('power'))).toEqual({ y: [0, 1, 1, 0, json(signed(3n ** 1024n & M64))] });
  });
});
