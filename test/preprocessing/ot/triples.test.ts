// Semi-honest Beaver triples from pairwise Gilboa multiplication: opened triples satisfy
// a·b = c mod 2^64 for 2, 3 and 5 parties. The two-party run uses the real ristretto255 base
// OTs; the 3- and 5-party runs (6 and 20 sessions) use the test double to stay fast.
import { describe, expect, it } from 'vitest';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { OtTripleGenerator, type TripleShares } from '../../../src/preprocessing/ot/triples.ts';
import type { BaseOtProvider } from '../../../src/preprocessing/ot/extension.ts';
import { insecureBaseOtForTests, seeded } from './helpers.ts';

const sessionId = new Uint8Array(32).fill(6);

async function generators(n: number, opts: { baseOt?: BaseOtProvider; batchSize?: number } = {}) {
  const transports = memoryNetwork(n);
  const gens = await Promise.all(
    transports.map((transport, i) => OtTripleGenerator.setup({ transport, sessionId, random: seeded(`triples/${n}/${i}`), ...opts })),
  );
  return { transports, gens };
}

/** Opens the triples (sums the shares) and checks a·b = c for each. */
function expectTriples(shares: TripleShares[], count: number): void {
  let distinct = 0;
  for (let k = 0; k < count; k++) {
    let a = 0n;
    let b = 0n;
    let c = 0n;
    for (const s of shares) {
      a += s.a[k];
      b += s.b[k];
      c += s.c[k];
    }
    if (BigInt.asUintN(64, a * b) !== BigInt.asUintN(64, c)) throw new Error(`triple ${k}: a·b ≠ c`);
    if (BigInt.asUintN(64, a) !== BigInt.asUintN(64, b)) distinct += 1;
  }
  expect(distinct).toBe(count);
  for (const s of shares) {
    expect(s.a.length).toBe(count);
    expect(s.c.length).toBe(count);
  }
}

describe('Beaver triples over Z_2^64', () => {
  it('2 parties, real base OTs: a·b = c, and 2 568 bytes per triple', async () => {
    const { transports, gens } = await generators(2);
    const before = transports.reduce((acc, t) => acc + t.stats().bytesSent, 0);
    const count = 4096;
    const shares = await Promise.all(gens.map((g) => g.generate(count)));
    expectTriples(shares, count);
    const bytes = transports.reduce((acc, t) => acc + t.stats().bytesSent, 0) - before;
    expect(bytes / count).toBe(2 * (1024 + 260));
    expect(gens[0].generated).toBe(count);
  });

  for (const n of [3, 5]) {
    it(`${n} parties: a·b = c over several batches, including a partial one`, async () => {
      const { gens } = await generators(n, { baseOt: insecureBaseOtForTests, batchSize: 300 });
      for (const count of [700, 1]) {
        const shares = await Promise.all(gens.map((g) => g.generate(count)));
        expectTriples(shares, count);
      }
    });
  }

  it('the shares of a and b are fresh on every call', async () => {
    const { gens } = await generators(2, { baseOt: insecureBaseOtForTests });
    const [first, second] = [await Promise.all(gens.map((g) => g.generate(64))), await Promise.all(gens.map((g) => g.generate(64)))];
    expect(first[0].a).not.toEqual(second[0].a);
    expect(first[1].b).not.toEqual(second[1].b);
  });

  it('refuses bad counts and batch sizes', async () => {
    const { gens } = await generators(2, { baseOt: insecureBaseOtForTests });
    await expect(gens[0].generate(0)).rejects.toThrow(RangeError);
    const [t] = memoryNetwork(2);
    await expect(OtTripleGenerator.setup({ transport: t, sessionId, batchSize: 0 })).rejects.toThrow(/batchSize/);
  });
});
