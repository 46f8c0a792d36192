// Z_2^128 kernels (two 64-bit limbs, products split into 32-bit halves) against a plain
// BigInt reference mod 2^128. The edge values are chosen to exercise every carry and borrow
// path between the limbs: all-ones words, 2^64 − 1 / 2^64 boundaries, top bits.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z128 from '../../src/ring/z128.ts';
import type { Z128Vec } from '../../src/ring/z128.ts';

const R = 1n << 128n;
const W = 1n << 64n;
const mod = (x: bigint): bigint => ((x % R) + R) % R;
const SEED = 0x128128;
const opts = { seed: SEED, numRuns: 200 };

const EDGE = [
  0n, 1n, 2n, W - 1n, W, W + 1n, (W - 1n) << 64n, R - 1n, R - 2n, 1n << 127n, (1n << 127n) - 1n,
  (1n << 63n) | ((1n << 63n) << 64n), 0xffffffffn, 0xffffffffn << 32n, 0xffffffff_ffffffff_ffffffffn,
];
const elem = fc.oneof(
  fc.constantFrom(...EDGE),
  fc.bigInt({ min: 0n, max: R - 1n }),
  // limbs drawn separately, so all-ones low limbs meet arbitrary high limbs
  fc.tuple(fc.constantFrom(0n, 1n, W - 1n, 1n << 63n), fc.bigInt({ min: 0n, max: W - 1n })).map(([l, h]) => (h << 64n) | l),
);
const scalarArb = fc.oneof(fc.constantFrom(...EDGE, -1n, R, R + 3n), fc.bigInt({ min: -(R * R), max: R * R }));

function vecs(k: number, maxLength = 30): fc.Arbitrary<bigint[][]> {
  return fc
    .array(fc.array(elem, { minLength: k, maxLength: k }), { maxLength })
    .map((rows) => Array.from({ length: k }, (_, j) => rows.map((r) => r[j])));
}

const V = z128.fromBigints;
const B = z128.toBigints;
const copy = (v: Z128Vec): Z128Vec => ({ lo: v.lo.slice(), hi: v.hi.slice() });

describe('z128 elementwise ops match the BigInt reference mod 2^128', () => {
  const binary: Array<[string, (a: Z128Vec, b: Z128Vec, o?: Z128Vec) => Z128Vec, (x: bigint, y: bigint) => bigint]> = [
    ['add', z128.add, (x, y) => mod(x + y)],
    ['sub', z128.sub, (x, y) => mod(x - y)],
    ['mul', z128.mul, (x, y) => mod(x * y)],
  ];
  for (const [name, f, ref] of binary) {
    it(name, () => {
      fc.assert(
        fc.property(vecs(2), ([xs, ys]) => {
          const want = xs.map((x, i) => ref(x, ys[i]));
          const a = V(xs);
          const b = V(ys);
          expect(B(f(a, b))).toEqual(want);
          const o = z128.alloc(xs.length);
          expect(f(a, b, o)).toBe(o);
          expect(B(o)).toEqual(want);
          const a2 = copy(a);
          f(a2, b, a2);
          expect(B(a2)).toEqual(want);
          const b2 = copy(b);
          f(a, b2, b2);
          expect(B(b2)).toEqual(want);
        }),
        opts,
      );
    });
  }

  it('neg', () => {
    fc.assert(
      fc.property(vecs(1), ([xs]) => {
        const want = xs.map((x) => mod(-x));
        expect(B(z128.neg(V(xs)))).toEqual(want);
        const a = V(xs);
        z128.neg(a, a);
        expect(B(a)).toEqual(want);
      }),
      opts,
    );
  });

  it('addScalar and mulScalar', () => {
    fc.assert(
      fc.property(vecs(1), scalarArb, ([xs], k) => {
        expect(B(z128.addScalar(V(xs), k))).toEqual(xs.map((x) => mod(x + k)));
        expect(B(z128.mulScalar(V(xs), k))).toEqual(xs.map((x) => mod(x * k)));
        const a = V(xs);
        z128.mulScalar(a, k, a);
        expect(B(a)).toEqual(xs.map((x) => mod(x * k)));
      }),
      opts,
    );
  });

  it('sum', () => {
    fc.assert(
      fc.property(vecs(1, 60), ([xs]) => {
        expect(z128.sum(V(xs))).toBe(mod(xs.reduce((s, x) => s + x, 0n)));
      }),
      opts,
    );
    // many all-ones words: the low-limb carries must accumulate into the high limb
    expect(z128.sum(V(Array(1000).fill(W - 1n)))).toBe(1000n * (W - 1n));
    expect(z128.sum(V(Array(3).fill(R - 1n)))).toBe(R - 3n);
  });

  it('beaverCombine matches its formula and reproduces x·y from a triple', () => {
    fc.assert(
      fc.property(vecs(5), fc.boolean(), ([c, a, b, d, e], addDE) => {
        const want = c.map((ci, i) => mod(ci + d[i] * b[i] + e[i] * a[i] + (addDE ? d[i] * e[i] : 0n)));
        expect(B(z128.beaverCombine(V(c), V(a), V(b), V(d), V(e), addDE))).toEqual(want);
        const c2 = V(c);
        z128.beaverCombine(c2, V(a), V(b), V(d), V(e), addDE, c2);
        expect(B(c2)).toEqual(want);
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
        const zs = [0, 1, 2].map((p) => z128.beaverCombine(V(cs[p]), V(as[p]), V(bs[p]), d, e, p === 0));
        expect(B(zs.reduce((s, z) => z128.add(s, z)))).toEqual(x.map((xi, i) => mod(xi * y[i])));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe('z128 ring laws', () => {
  it('commutativity, associativity, distributivity', () => {
    fc.assert(
      fc.property(vecs(3), ([xs, ys, zs]) => {
        const [a, b, c] = [V(xs), V(ys), V(zs)];
        expect(B(z128.mul(a, b))).toEqual(B(z128.mul(b, a)));
        expect(B(z128.add(z128.add(a, b), c))).toEqual(B(z128.add(a, z128.add(b, c))));
        expect(B(z128.mul(z128.mul(a, b), c))).toEqual(B(z128.mul(a, z128.mul(b, c))));
        expect(B(z128.mul(a, z128.add(b, c)))).toEqual(B(z128.add(z128.mul(a, b), z128.mul(a, c))));
        expect(B(z128.add(a, z128.neg(a)))).toEqual(xs.map(() => 0n));
      }),
      opts,
    );
  });
});

describe('z128 conversions', () => {
  it('lift and low64 move between Z_2^64 and Z_2^128', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: W - 1n }), { maxLength: 30 }), (xs) => {
        const a = BigUint64Array.from(xs);
        const l = z128.lift(a);
        expect(B(l)).toEqual(xs);
        expect(Array.from(z128.low64(l))).toEqual(xs);
        l.lo.fill(1n);
        expect(Array.from(a)).toEqual(xs); // lift copied
      }),
      opts,
    );
    // low64 is reduction mod 2^64: it commutes with the ring operations
    const v = V([R - 1n, W + 5n]);
    expect(Array.from(z128.low64(z128.mul(v, v)))).toEqual([1n, 25n]);
  });

  it('fromBigints reduces mod 2^128; toBigints is its inverse on [0, 2^128)', () => {
    expect(B(V([-1n, R, R + 1n, W]))).toEqual([R - 1n, 0n, 1n, W]);
    const v = V([W + 2n]);
    expect(v.lo[0]).toBe(2n);
    expect(v.hi[0]).toBe(1n);
  });

  it('bytes round trip: low limbs then high limbs, little-endian', () => {
    fc.assert(
      fc.property(vecs(1), ([xs]) => {
        const bytes = z128.toBytes(V(xs));
        expect(bytes.length).toBe(16 * xs.length);
        expect(B(z128.fromBytes(bytes))).toEqual(xs);
        // also from an unaligned view
        const shifted = new Uint8Array(bytes.length + 3);
        shifted.set(bytes, 3);
        expect(B(z128.fromBytes(shifted.subarray(3)))).toEqual(xs);
      }),
      opts,
    );
    const b = z128.toBytes(V([(2n << 64n) | 1n, (4n << 64n) | 3n]));
    expect(Array.from(b.filter((_, i) => i % 8 === 0))).toEqual([1, 3, 2, 4]);
    expect(b.reduce((s, x) => s + x, 0)).toBe(10);
  });

  it('alloc and length', () => {
    const v = z128.alloc(5);
    expect(z128.length(v)).toBe(5);
    expect(B(v)).toEqual([0n, 0n, 0n, 0n, 0n]);
  });
});

describe('z128 optimised code paths', () => {
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
      const xs = Array.from({ length: n }, () => (next() << 64n) | next());
      xs[0] = R - 1n;
      xs[1] = W - 1n;
      xs[2] = 0n;
      return xs;
    };
    const [xc, xa, xb, xd, xe] = [mk(), mk(), mk(), mk(), mk()];
    const [c, a, b, d, e] = [xc, xa, xb, xd, xe].map(V);
    const o = z128.alloc(n);
    const k = 0x0123456789abcdef_fedcba9876543210n;
    for (let round = 0; round < 200; round++) {
      z128.add(a, b, o);
      z128.sub(a, b, o);
      z128.neg(a, o);
      z128.mul(a, b, o);
      z128.mulScalar(a, k, o);
      z128.addScalar(a, k, o);
      z128.sum(a);
      z128.beaverCombine(c, a, b, d, e, round % 2 === 0, o);
    }
    expect(B(z128.add(a, b, o))).toEqual(xa.map((x, i) => mod(x + xb[i])));
    expect(B(z128.sub(a, b, o))).toEqual(xa.map((x, i) => mod(x - xb[i])));
    expect(B(z128.neg(a, o))).toEqual(xa.map((x) => mod(-x)));
    expect(B(z128.mul(a, b, o))).toEqual(xa.map((x, i) => mod(x * xb[i])));
    expect(B(z128.mulScalar(a, k, o))).toEqual(xa.map((x) => mod(x * k)));
    expect(B(z128.addScalar(a, k, o))).toEqual(xa.map((x) => mod(x + k)));
    expect(z128.sum(a)).toBe(mod(xa.reduce((t, x) => t + x, 0n)));
    for (const addDE of [true, false]) {
      expect(B(z128.beaverCombine(c, a, b, d, e, addDE, o))).toEqual(
        xc.map((ci, i) => mod(ci + xd[i] * xb[i] + xe[i] * xa[i] + (addDE ? xd[i] * xe[i] : 0n))),
      );
    }
  });
});

describe('z128 argument checks', () => {
  const a = z128.alloc(3);
  const short = z128.alloc(2);
  it('RangeError on length mismatch, naming the argument', () => {
    expect(() => z128.add(a, short)).toThrow(RangeError);
    expect(() => z128.add(a, short)).toThrow(/z128\.add: b: expected length 3.*got 2/);
    expect(() => z128.mul(a, a, short)).toThrow(/out: expected length 3, got 2/);
    expect(() => z128.beaverCombine(a, a, a, a, short, true)).toThrow(/e: expected length 3/);
    expect(() => z128.add({ lo: new BigUint64Array(3), hi: new BigUint64Array(2) }, a)).toThrow(/lo and hi of equal length/);
    expect(() => z128.fromBytes(new Uint8Array(24))).toThrow(RangeError);
    expect(() => z128.alloc(-1)).toThrow(RangeError);
  });
  it('TypeError on wrong types', () => {
    expect(() => z128.add(new BigUint64Array(3) as unknown as Z128Vec, a)).toThrow(TypeError);
    expect(() => z128.add(a, { lo: new BigUint64Array(3) } as unknown as Z128Vec)).toThrow(/b\.hi: expected BigUint64Array, got undefined/);
    expect(() => z128.mulScalar(a, 2 as unknown as bigint)).toThrow(TypeError);
    expect(() => z128.lift([1n] as unknown as BigUint64Array)).toThrow(TypeError);
    expect(() => z128.fromBytes([0] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => z128.fromBigints([1] as unknown as bigint[])).toThrow(TypeError);
  });
});
