// Z_2^192 kernels (three 64-bit limbs, products split into 32-bit halves) against a plain
// BigInt reference mod 2^192. The edge values are chosen to exercise every carry and borrow
// path between the limbs: all-ones words in each limb, the 2^64 and 2^128 boundaries, top
// bits; the known-answer tables run every kernel over all pairs of them.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z192 from '../../src/ring/z192.ts';
import * as z128 from '../../src/ring/z128.ts';
import type { Z192Vec } from '../../src/ring/z192.ts';
import type { Z128Vec } from '../../src/ring/z128.ts';

const R = 1n << 192n;
const T = 1n << 128n;
const W = 1n << 64n;
const mod = (x: bigint): bigint => ((x % R) + R) % R;
const SEED = 0x192192;
const opts = { seed: SEED, numRuns: 200 };

const EDGE = [
  0n, 1n, 2n, W - 1n, W, W + 1n, T - 1n, T, T + 1n, R - 1n, R - 2n, T - W, R - T, R - W,
  (W - 1n) << 64n, (W - 1n) << 128n, ((W - 1n) << 128n) | (W - 1n), 1n << 191n, (1n << 191n) - 1n, 1n << 127n, 1n << 63n,
  (1n << 63n) | (1n << 127n) | (1n << 191n), 0xffffffffn, 0xffffffffn << 32n, 0xffffffffn << 96n, 0xffffffffn << 160n,
  0x0123456789abcdef_fedcba9876543210_0f1e2d3c4b5a6978n,
];
const elem = fc.oneof(
  fc.constantFrom(...EDGE),
  fc.bigInt({ min: 0n, max: R - 1n }),
  // limbs drawn separately, so all-ones and top-bit limbs meet arbitrary neighbours
  fc
    .tuple(
      fc.constantFrom(0n, 1n, W - 1n, 1n << 63n),
      fc.constantFrom(0n, 1n, W - 1n, 1n << 63n),
      fc.bigInt({ min: 0n, max: W - 1n }),
      fc.nat(5),
    )
    .map(([p, q, r, k]) => [(r << 128n) | (q << 64n) | p, (q << 128n) | (r << 64n) | p, (q << 128n) | (p << 64n) | r, (p << 128n) | (q << 64n) | r, (r << 128n) | (p << 64n) | q, (p << 128n) | (r << 64n) | q][k]),
);
const scalarArb = fc.oneof(fc.constantFrom(...EDGE, -1n, R, R + 3n), fc.bigInt({ min: -(R * R), max: R * R }));

function vecs(k: number, maxLength = 30): fc.Arbitrary<bigint[][]> {
  return fc
    .array(fc.array(elem, { minLength: k, maxLength: k }), { maxLength })
    .map((rows) => Array.from({ length: k }, (_, j) => rows.map((r) => r[j])));
}

const V = z192.fromBigints;
const B = z192.toBigints;
const copy = (v: Z192Vec): Z192Vec => ({ l0: v.l0.slice(), l1: v.l1.slice(), l2: v.l2.slice() });
/** All ordered pairs of EDGE values, as two columns. */
const pairs = (): [bigint[], bigint[]] => [EDGE.flatMap((x) => EDGE.map(() => x)), EDGE.flatMap(() => EDGE)];

const binary: Array<[string, (a: Z192Vec, b: Z192Vec, o?: Z192Vec) => Z192Vec, (x: bigint, y: bigint) => bigint]> = [
  ['add', z192.add, (x, y) => mod(x + y)],
  ['sub', z192.sub, (x, y) => mod(x - y)],
  ['mul', z192.mul, (x, y) => mod(x * y)],
];

describe('z192 known answers on the edge values', () => {
  for (const [name, f, ref] of binary) {
    it(`${name} on every pair`, () => {
      const [xs, ys] = pairs();
      expect(B(f(V(xs), V(ys)))).toEqual(xs.map((x, i) => ref(x, ys[i])));
    });
  }
  it('neg, mul128, mulScalar and addScalar on every pair', () => {
    const [xs, ys] = pairs();
    expect(B(z192.neg(V(xs)))).toEqual(xs.map((x) => mod(-x)));
    const ys128 = ys.map((y) => y % T);
    expect(B(z192.mul128(V(xs), z128.fromBigints(ys128)))).toEqual(xs.map((x, i) => mod(x * ys128[i])));
    for (const k of [...EDGE, -1n, -(T + 5n)]) {
      expect(B(z192.mulScalar(V(EDGE), k))).toEqual(EDGE.map((x) => mod(x * k)));
      expect(B(z192.addScalar(V(EDGE), k))).toEqual(EDGE.map((x) => mod(x + k)));
    }
  });
  it('carries and borrows across each limb boundary', () => {
    expect(B(z192.add(V([W - 1n, T - 1n, R - 1n, T - W]), V([1n, 1n, 1n, W])))).toEqual([W, T, 0n, T]);
    expect(B(z192.sub(V([W, T, 0n, T]), V([1n, 1n, 1n, W])))).toEqual([W - 1n, T - 1n, R - 1n, T - W]);
    expect(B(z192.neg(V([1n, W, T, R - 1n])))).toEqual([R - 1n, R - W, R - T, 1n]);
    // (2^64 − 1)² = 2^128 − 2^65 + 1: the high product crosses into limb 1;
    // (2^128 − 1)² ≡ 1 − 2^129 mod 2^192: hi(x0y0) + lo(x0y1) + lo(x1y0) carries twice into limb 2
    expect(B(z192.mul(V([W - 1n, T - 1n, R - 1n, W]), V([W - 1n, T - 1n, R - 1n, T])))).toEqual([
      T - (1n << 65n) + 1n,
      mod(1n - (1n << 129n)),
      1n,
      0n,
    ]);
    expect(B(z192.shift128(V([1n, R - 1n, W, T])))).toEqual([T, R - T, 0n, 0n]);
  });
});

describe('z192 elementwise ops match the BigInt reference mod 2^192', () => {
  for (const [name, f, ref] of binary) {
    it(name, () => {
      fc.assert(
        fc.property(vecs(2), ([xs, ys]) => {
          const want = xs.map((x, i) => ref(x, ys[i]));
          const a = V(xs);
          const b = V(ys);
          expect(B(f(a, b))).toEqual(want);
          const o = z192.alloc(xs.length);
          expect(f(a, b, o)).toBe(o);
          expect(B(o)).toEqual(want);
          const a2 = copy(a);
          f(a2, b, a2);
          expect(B(a2)).toEqual(want);
          const b2 = copy(b);
          f(a, b2, b2);
          expect(B(b2)).toEqual(want);
          const a3 = copy(a);
          f(a3, a3, a3);
          expect(B(a3)).toEqual(xs.map((x) => ref(x, x)));
        }),
        opts,
      );
    });
  }

  it('mul128 (a Z_2^192 vector times a Z_2^128 vector)', () => {
    fc.assert(
      fc.property(vecs(2), ([xs, ys]) => {
        const ys128 = ys.map((y) => y % T);
        const want = xs.map((x, i) => mod(x * ys128[i]));
        const b = z128.fromBigints(ys128);
        expect(B(z192.mul128(V(xs), b))).toEqual(want);
        expect(B(z192.mul128(V(xs), b))).toEqual(B(z192.mul(V(xs), z192.lift(b))));
        const a = V(xs);
        expect(z192.mul128(a, b, a)).toBe(a);
        expect(B(a)).toEqual(want);
      }),
      opts,
    );
  });

  it('neg and shift128', () => {
    fc.assert(
      fc.property(vecs(1), ([xs]) => {
        const want = xs.map((x) => mod(-x));
        expect(B(z192.neg(V(xs)))).toEqual(want);
        const a = V(xs);
        z192.neg(a, a);
        expect(B(a)).toEqual(want);
        const shifted = xs.map((x) => mod(x * T));
        expect(B(z192.shift128(V(xs)))).toEqual(shifted);
        const c = V(xs);
        expect(z192.shift128(c, c)).toBe(c);
        expect(B(c)).toEqual(shifted);
      }),
      opts,
    );
  });

  it('addScalar and mulScalar', () => {
    fc.assert(
      fc.property(vecs(1), scalarArb, ([xs], k) => {
        expect(B(z192.addScalar(V(xs), k))).toEqual(xs.map((x) => mod(x + k)));
        expect(B(z192.mulScalar(V(xs), k))).toEqual(xs.map((x) => mod(x * k)));
        const a = V(xs);
        z192.mulScalar(a, k, a);
        expect(B(a)).toEqual(xs.map((x) => mod(x * k)));
        const b = V(xs);
        z192.addScalar(b, k, b);
        expect(B(b)).toEqual(xs.map((x) => mod(x + k)));
      }),
      opts,
    );
  });

  it('sum', () => {
    fc.assert(
      fc.property(vecs(1, 60), ([xs]) => {
        expect(z192.sum(V(xs))).toBe(mod(xs.reduce((s, x) => s + x, 0n)));
      }),
      opts,
    );
    // many all-ones words: the carries must ripple through limb 1 into limb 2
    expect(z192.sum(V(Array(1000).fill(W - 1n)))).toBe(1000n * (W - 1n));
    expect(z192.sum(V(Array(1000).fill(T - 1n)))).toBe(1000n * (T - 1n));
    expect(z192.sum(V([T - 1n, 1n]))).toBe(T);
    expect(z192.sum(V(Array(3).fill(R - 1n)))).toBe(R - 3n);
  });

  it('chiDot matches Σχ·v and Σχ·w, accumulating onto acc', () => {
    fc.assert(
      fc.property(
        vecs(2, 40),
        fc.array(fc.oneof(fc.constantFrom(0n, 1n, W - 1n, 1n << 63n), fc.bigInt({ min: 0n, max: W - 1n })), { maxLength: 40 }),
        fc.nat(40),
        fc.bigInt({ min: 0n, max: R - 1n }),
        ([vs, ws], chis, from0, start) => {
          const from = Math.min(from0, vs.length);
          const chi = BigUint64Array.from(chis.slice(0, vs.length - from));
          const acc = new BigUint64Array(6);
          const limbs = [BigInt.asUintN(64, start), BigInt.asUintN(64, start >> 64n), start >> 128n];
          acc.set(limbs, 0);
          acc.set(limbs, 3);
          z192.chiDot(chi, V(vs), V(ws), from, acc);
          const dot = (xs: bigint[]) => mod(start + Array.from(chi).reduce((s, c, i) => s + c * xs[from + i], 0n));
          const word = (j: number) => (acc[j + 2] << 128n) | (acc[j + 1] << 64n) | acc[j];
          expect(word(0)).toBe(dot(vs));
          expect(word(3)).toBe(dot(ws));
        },
      ),
      opts,
    );
  });

  it('beaverCombine matches its formula and reproduces x·y from a triple', () => {
    fc.assert(
      fc.property(vecs(5), fc.boolean(), ([c, a, b, d, e], addDE) => {
        const want = c.map((ci, i) => mod(ci + d[i] * b[i] + e[i] * a[i] + (addDE ? d[i] * e[i] : 0n)));
        expect(B(z192.beaverCombine(V(c), V(a), V(b), V(d), V(e), addDE))).toEqual(want);
        const c2 = V(c);
        z192.beaverCombine(c2, V(a), V(b), V(d), V(e), addDE, c2);
        expect(B(c2)).toEqual(want);
        const e2 = V(e);
        z192.beaverCombine(V(c), V(a), V(b), V(d), e2, addDE, e2);
        expect(B(e2)).toEqual(want);
      }),
      opts,
    );
    fc.assert(
      fc.property(vecs(4 + 2 * 3), (vs) => {
        // three parties hold shares of a triple (a, b, c = a·b) made from the random vectors;
        // d = x − a and e = y − b are the opened values
        const [x, y, a, b, ...r] = vs;
        const c = a.map((ai, i) => mod(ai * b[i]));
        const split = (v: bigint[], r0: bigint[], r1: bigint[]) => [r0, r1, v.map((vi, i) => mod(vi - r0[i] - r1[i]))];
        const [as, bs, cs] = [a, b, c].map((v, j) => split(v, r[2 * j], r[2 * j + 1]));
        const d = V(x.map((xi, i) => mod(xi - a[i])));
        const e = V(y.map((yi, i) => mod(yi - b[i])));
        const zs = [0, 1, 2].map((p) => z192.beaverCombine(V(cs[p]), V(as[p]), V(bs[p]), d, e, p === 0));
        expect(B(zs.reduce((s, z) => z192.add(s, z)))).toEqual(x.map((xi, i) => mod(xi * y[i])));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe('z192 ring laws', () => {
  it('commutativity, associativity, distributivity', () => {
    fc.assert(
      fc.property(vecs(3), ([xs, ys, zs]) => {
        const [a, b, c] = [V(xs), V(ys), V(zs)];
        expect(B(z192.mul(a, b))).toEqual(B(z192.mul(b, a)));
        expect(B(z192.add(z192.add(a, b), c))).toEqual(B(z192.add(a, z192.add(b, c))));
        expect(B(z192.mul(z192.mul(a, b), c))).toEqual(B(z192.mul(a, z192.mul(b, c))));
        expect(B(z192.mul(a, z192.add(b, c)))).toEqual(B(z192.add(z192.mul(a, b), z192.mul(a, c))));
        expect(B(z192.add(a, z192.neg(a)))).toEqual(xs.map(() => 0n));
        expect(B(z192.sub(a, b))).toEqual(B(z192.add(a, z192.neg(b))));
      }),
      opts,
    );
  });
});

describe('z192 conversions', () => {
  it('lift and low128 move between Z_2^128 and Z_2^192', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: T - 1n }), { maxLength: 30 }), (xs) => {
        const a = z128.fromBigints(xs);
        const l = z192.lift(a);
        expect(B(l)).toEqual(xs);
        expect(z128.toBigints(z192.low128(l))).toEqual(xs);
        l.l0.fill(1n);
        l.l1.fill(1n);
        expect(z128.toBigints(a)).toEqual(xs); // lift copied
      }),
      opts,
    );
    // low128 is reduction mod 2^128: it commutes with the ring operations
    const v = V([R - 1n, T + 5n, T - 1n]);
    expect(z128.toBigints(z192.low128(z192.mul(v, v)))).toEqual([1n, 25n, 1n]);
    const low = z192.low128(v);
    low.lo.fill(0n);
    expect(B(v)).toEqual([R - 1n, T + 5n, T - 1n]); // low128 copied
  });

  it('fromBigints reduces mod 2^192; toBigints is its inverse on [0, 2^192)', () => {
    expect(B(V([-1n, R, R + 1n, W, T, -T]))).toEqual([R - 1n, 0n, 1n, W, T, R - T]);
    const v = V([(3n << 128n) | (2n << 64n) | 1n]);
    expect([v.l0[0], v.l1[0], v.l2[0]]).toEqual([1n, 2n, 3n]);
  });

  it('bytes round trip: all l0 limbs, then all l1, then all l2, little-endian', () => {
    fc.assert(
      fc.property(vecs(1), ([xs]) => {
        const bytes = z192.toBytes(V(xs));
        expect(bytes.length).toBe(24 * xs.length);
        expect(B(z192.fromBytes(bytes))).toEqual(xs);
        // also from an unaligned view
        const shifted = new Uint8Array(bytes.length + 3);
        shifted.set(bytes, 3);
        expect(B(z192.fromBytes(shifted.subarray(3)))).toEqual(xs);
        // the first 16·n bytes are the z128 wire form of the low 128 bits
        expect(bytes.subarray(0, 16 * xs.length)).toEqual(z128.toBytes(z192.low128(V(xs))));
      }),
      opts,
    );
    const b = z192.toBytes(V([(3n << 128n) | (2n << 64n) | 1n, (6n << 128n) | (5n << 64n) | 4n]));
    expect(Array.from(b.filter((_, i) => i % 8 === 0))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(b.reduce((s, x) => s + x, 0)).toBe(21);
    // wordsView reads the same layout as words
    const w = new BigUint64Array(b.buffer, b.byteOffset, 6);
    expect(B(z192.wordsView(w))).toEqual(B(z192.fromBytes(b)));
  });

  it('alloc and length', () => {
    const v = z192.alloc(5);
    expect(z192.length(v)).toBe(5);
    expect(B(v)).toEqual([0n, 0n, 0n, 0n, 0n]);
    expect(z192.MASK192).toBe(R - 1n);
  });
});

describe('z192 optimised code paths', () => {
  it('agree with the reference once TurboFan has compiled them', () => {
    const n = 2048;
    let s = 0x243f6a8885a308d3n;
    const next = () => {
      s = BigInt.asUintN(64, s ^ (s << 13n));
      s ^= s >> 7n;
      s = BigInt.asUintN(64, s ^ (s << 17n));
      return s;
    };
    const mk = () => {
      const xs = Array.from({ length: n }, () => (next() << 128n) | (next() << 64n) | next());
      xs[0] = R - 1n;
      xs[1] = W - 1n;
      xs[2] = 0n;
      xs[3] = T - 1n;
      return xs;
    };
    const [xc, xa, xb, xd, xe] = [mk(), mk(), mk(), mk(), mk()];
    const [c, a, b, d, e] = [xc, xa, xb, xd, xe].map(V);
    const b128: Z128Vec = { lo: b.l0, hi: b.l1 };
    const chi = b.l0;
    const acc = new BigUint64Array(6);
    const o = z192.alloc(n);
    const k = 0x0123456789abcdef_fedcba9876543210_0f1e2d3c4b5a6978n;
    for (let round = 0; round < 200; round++) {
      z192.add(a, b, o);
      z192.sub(a, b, o);
      z192.neg(a, o);
      z192.mul(a, b, o);
      z192.mul128(a, b128, o);
      z192.mulScalar(a, k, o);
      z192.addScalar(a, k, o);
      z192.sum(a);
      z192.chiDot(chi, a, b, 0, acc);
      z192.beaverCombine(c, a, b, d, e, round % 2 === 0, o);
    }
    expect(B(z192.add(a, b, o))).toEqual(xa.map((x, i) => mod(x + xb[i])));
    expect(B(z192.sub(a, b, o))).toEqual(xa.map((x, i) => mod(x - xb[i])));
    expect(B(z192.neg(a, o))).toEqual(xa.map((x) => mod(-x)));
    expect(B(z192.mul(a, b, o))).toEqual(xa.map((x, i) => mod(x * xb[i])));
    expect(B(z192.mul128(a, b128, o))).toEqual(xa.map((x, i) => mod(x * (xb[i] % T))));
    expect(B(z192.mulScalar(a, k, o))).toEqual(xa.map((x) => mod(x * k)));
    expect(B(z192.addScalar(a, k, o))).toEqual(xa.map((x) => mod(x + k)));
    expect(z192.sum(a)).toBe(mod(xa.reduce((t, x) => t + x, 0n)));
    acc.fill(0n);
    z192.chiDot(chi, a, b, 0, acc);
    const chis = Array.from(chi);
    expect((acc[2] << 128n) | (acc[1] << 64n) | acc[0]).toBe(mod(chis.reduce((t, x, i) => t + x * xa[i], 0n)));
    expect((acc[5] << 128n) | (acc[4] << 64n) | acc[3]).toBe(mod(chis.reduce((t, x, i) => t + x * xb[i], 0n)));
    for (const addDE of [true, false]) {
      expect(B(z192.beaverCombine(c, a, b, d, e, addDE, o))).toEqual(
        xc.map((ci, i) => mod(ci + xd[i] * xb[i] + xe[i] * xa[i] + (addDE ? xd[i] * xe[i] : 0n))),
      );
    }
  });
});

describe('z192 argument checks', () => {
  const a = z192.alloc(3);
  const short = z192.alloc(2);
  it('RangeError on length mismatch, naming the argument', () => {
    expect(() => z192.add(a, short)).toThrow(RangeError);
    expect(() => z192.add(a, short)).toThrow(/z192\.add: b: expected length 3.*got 2/);
    expect(() => z192.sub(short, a)).toThrow(/z192\.sub: b: expected length 2.*got 3/);
    expect(() => z192.mul(a, a, short)).toThrow(/out: expected length 3, got 2/);
    expect(() => z192.mul128(a, z128.alloc(2))).toThrow(/z192\.mul128: b: expected length 3.*got 2/);
    expect(() => z192.beaverCombine(a, a, a, a, short, true)).toThrow(/e: expected length 3/);
    const bad = { l0: new BigUint64Array(3), l1: new BigUint64Array(3), l2: new BigUint64Array(2) };
    expect(() => z192.add(bad, a)).toThrow(/a: expected l0, l1 and l2 of equal length, got 3, 3 and 2/);
    expect(() => z192.neg(a, { ...bad, l1: new BigUint64Array(4) })).toThrow(/out: expected l0, l1 and l2 of equal length/);
    expect(() => z192.chiDot(new BigUint64Array(3), a, short, 0, new BigUint64Array(6))).toThrow(RangeError);
    expect(() => z192.chiDot(new BigUint64Array(2), a, a, 2, new BigUint64Array(6))).toThrow(/expected at least 4 elements/);
    expect(() => z192.chiDot(new BigUint64Array(2), a, a, 0, new BigUint64Array(4))).toThrow(/acc: expected at least 6 words/);
    expect(() => z192.fromBytes(new Uint8Array(16))).toThrow(RangeError);
    expect(() => z192.alloc(-1)).toThrow(RangeError);
  });
  it('TypeError on wrong types', () => {
    expect(() => z192.add(new BigUint64Array(3) as unknown as Z192Vec, a)).toThrow(TypeError);
    expect(() => z192.add(null as unknown as Z192Vec, a)).toThrow(/a: expected a Z192Vec \{ l0, l1, l2 \}, got null/);
    expect(() => z192.add(a, { l0: new BigUint64Array(3), l1: new BigUint64Array(3) } as unknown as Z192Vec)).toThrow(
      /b\.l2: expected BigUint64Array, got undefined/,
    );
    expect(() => z192.mul(a, { l0: [0n, 0n, 0n], l1: a.l1, l2: a.l2 } as unknown as Z192Vec)).toThrow(/b\.l0: expected BigUint64Array, got Array/);
    expect(() => z192.mul128(a, a as unknown as Z128Vec)).toThrow(/b\.lo: expected BigUint64Array, got undefined/);
    expect(() => z192.mulScalar(a, 2 as unknown as bigint)).toThrow(TypeError);
    expect(() => z192.addScalar(a, 2 as unknown as bigint)).toThrow(/k: expected a bigint, got number/);
    expect(() => z192.beaverCombine(a, a, a, a, a, 1 as unknown as boolean)).toThrow(/addDE: expected a boolean/);
    expect(() => z192.lift(a as unknown as Z128Vec)).toThrow(TypeError);
    expect(() => z192.low128({ lo: a.l0, hi: a.l1 } as unknown as Z192Vec)).toThrow(TypeError);
    expect(() => z192.fromBytes([0] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => z192.fromBigints([1] as unknown as bigint[])).toThrow(TypeError);
    expect(() => z192.chiDot([1n] as unknown as BigUint64Array, a, a, 0, new BigUint64Array(6))).toThrow(/chi: expected BigUint64Array/);
  });
});
