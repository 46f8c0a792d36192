// Additive sharing: round trips for n = 1, 2, 3, 5 over both rings, a pinned split, and a
// statistical check of privacy — any n − 1 shares must look uniform whatever the secret.
// Every random choice is seeded, so the chi-square statistics are the same on every run.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { reconstruct, reconstruct128, share, share128 } from '../../src/protocol/sharing.ts';
import { Prg } from '../../src/ring/prg.ts';
import * as z64 from '../../src/ring/z64.ts';
import * as z128 from '../../src/ring/z128.ts';

const R = 1n << 64n;
const SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
const seedFrom = (k: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + k) & 0xff);
const PARTIES = [1, 2, 3, 5];

describe('share / reconstruct round trip', () => {
  it('Z_2^64, n = 1, 2, 3, 5, with and without a Prg', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: R - 1n }), { maxLength: 50 }),
        fc.constantFrom(...PARTIES),
        fc.integer({ min: 0, max: 255 }),
        (xs, n, k) => {
          const x = BigUint64Array.from(xs);
          for (const shares of [share(x, n), share(x, n, new Prg(seedFrom(k), 'roundtrip'))]) {
            expect(shares.length).toBe(n);
            for (const s of shares) expect(s.length).toBe(x.length);
            expect(Array.from(reconstruct(shares))).toEqual(xs);
          }
          // the secret is not modified, nor aliased by the last share
          expect(Array.from(x)).toEqual(xs);
        },
      ),
      { seed: 2, numRuns: 200 },
    );
  });

  it('Z_2^128, n = 1, 2, 3, 5', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), { maxLength: 30 }),
        fc.constantFrom(...PARTIES),
        (xs, n) => {
          const x = z128.fromBigints(xs);
          for (const shares of [share128(x, n), share128(x, n, new Prg(SEED, 'roundtrip128'))]) {
            expect(shares.length).toBe(n);
            expect(z128.toBigints(reconstruct128(shares))).toEqual(xs);
          }
          expect(z128.toBigints(x)).toEqual(xs);
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });

  it('n = 1 gives a copy of the secret', () => {
    const x = BigUint64Array.from([5n, 6n]);
    const [s] = share(x, 1);
    expect(Array.from(s)).toEqual([5n, 6n]);
    expect(s).not.toBe(x);
  });

  it('a pinned split: shares 0..n−2 are the Prg stream, the last is x minus their sum', () => {
    const shares = share(BigUint64Array.from([1n, 2n, 3n]), 3, new Prg(SEED, 'test/share'));
    expect(shares.map((s) => Array.from(s))).toEqual([
      [0x7c588ca52c345e39n, 0x3d4132f59d9f2f94n, 0x14ba989794e8b103n],
      [0xf9c905e63bb37833n, 0x21dd08cea22dff10n, 0x038f5d017cf45889n],
      [0x89de6d7498182995n, 0xa0e1c43bc032d15en, 0xe7b60a66ee22f677n],
    ]);
    // provenance of the vector above
    const p = new Prg(SEED, 'test/share');
    const r0 = p.u64(3);
    const r1 = p.u64(3);
    expect(Array.from(shares[0])).toEqual(Array.from(r0));
    expect(Array.from(shares[1])).toEqual(Array.from(r1));
    expect(Array.from(shares[2])).toEqual(Array.from(z64.sub(z64.sub(BigUint64Array.from([1n, 2n, 3n]), r0), r1)));

    const s128 = share128(z128.fromBigints([5n]), 2, new Prg(SEED, 'test/share128'));
    expect(s128.map((s) => z128.toBigints(s))).toEqual([[0x60ddb64f6655a36c2cd0f3f0d2e6e5ebn], [0x9f2249b099aa5c93d32f0c0f2d191a1an]]);
  });
});

describe('privacy: any n − 1 shares are independent of the secret', () => {
  // Each element of a vector is an independent sharing, so one share() call of length L
  // yields L samples. For every set of n − 1 parties we build a 256-cell histogram from the
  // low bits of their shares (8/(n−1) bits from each, concatenated) and run a chi-square test
  // of uniformity (255 degrees of freedom: mean 255, standard deviation 22.6). The threshold
  // 400 is more than 6 standard deviations out. (Given the secret, any n − 1 shares determine
  // the last one, so the histograms of different subsets are permutations of one another and
  // share one statistic.) With all n shares the statistic must be enormous, since they sum to
  // the secret: that control shows the test can fail.
  const L = 1 << 16;
  const THRESHOLD = 400;

  function chiSquare(shares: BigUint64Array[], parties: number[]): number {
    const bits = Math.floor(8 / parties.length);
    const mask = BigInt((1 << bits) - 1);
    const counts = new Float64Array(1 << (bits * parties.length));
    for (let i = 0; i < L; i++) {
      let cell = 0;
      for (const p of parties) cell = (cell << bits) | Number(shares[p][i] & mask);
      counts[cell]++;
    }
    const expected = L / counts.length;
    let chi = 0;
    for (const c of counts) chi += (c - expected) ** 2 / expected;
    return chi;
  }

  for (const n of [2, 3, 5]) {
    for (const secret of [0n, R - 1n]) {
      it(`n = ${n}, secret ${secret === 0n ? '0' : '2^64 − 1'}`, () => {
        const shares = share(z64.fill(L, secret), n, new Prg(seedFrom(n), `chi-square/${secret}`));
        for (let omit = 0; omit < n; omit++) {
          const subset = [...Array(n).keys()].filter((p) => p !== omit);
          expect(chiSquare(shares, subset), `parties ${subset.join(',')}`).toBeLessThan(THRESHOLD);
          // each share on its own, on its whole low byte
          expect(chiSquare(shares, [omit]), `party ${omit}`).toBeLessThan(THRESHOLD);
        }
        // control: all n shares together are far from uniform
        expect(chiSquare(shares, [...Array(n).keys()])).toBeGreaterThan(100 * THRESHOLD);
      });
    }
  }
});

describe('argument checks', () => {
  const x = new BigUint64Array(2);
  it('n must be an integer ≥ 1', () => {
    for (const n of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => share(x, n)).toThrow(RangeError);
      expect(() => share128(z128.alloc(2), n)).toThrow(RangeError);
    }
    expect(() => share(x, '2' as unknown as number)).toThrow(RangeError);
    expect(() => share(x, 0)).toThrow(/share: n: expected an integer number of parties ≥ 1, got 0/);
  });
  it('type checks', () => {
    expect(() => share([1n] as unknown as BigUint64Array, 2)).toThrow(TypeError);
    expect(() => share(x, 2, {} as Prg)).toThrow(TypeError);
    expect(() => share128(x as unknown as z128.Z128Vec, 2)).toThrow(TypeError);
  });
  it('reconstruct needs at least one share, all of one length', () => {
    expect(() => reconstruct([])).toThrow(RangeError);
    expect(() => reconstruct([x, new BigUint64Array(3)])).toThrow(/shares\[1\]: expected length 2/);
    expect(() => reconstruct128([])).toThrow(RangeError);
    expect(() => reconstruct128([z128.alloc(2), z128.alloc(1)])).toThrow(RangeError);
    expect(() => reconstruct([x, [0n, 0n] as unknown as BigUint64Array])).toThrow(TypeError);
  });
});
