// Z_2^64 kernels against a plain BigInt reference ((a op b) mod 2^64), on fast-check vectors
// that favour the edge values 0, 1, 2^63 and 2^64 − 1; then ring laws, the Beaver identity,
// and the argument checks. A "hot" test runs each kernel long enough for TurboFan to compile
// it, since the optimised code (native 64-bit ops) is what production runs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z64 from '../../src/ring/z64.ts';

const R = 1n << 64n;
const mod = (x: bigint): bigint => ((x % R) + R) % R;
const SEED = 0x7e55e4a;
const opts = { seed: SEED, numRuns: 200 };

const EDGE = [0n, 1n, 2n, 1n << 32n, (1n << 32n) - 1n, (1n << 63n) - 1n, 1n << 63n, R - 2n, R - 1n];
const elem = fc.oneof(fc.constantFrom(...EDGE), fc.bigInt({ min: 0n, max: R - 1n }));
const scalarArb = fc.oneof(fc.constantFrom(...EDGE, -1n, -(1n << 63n), R, R * 3n + 5n), fc.bigInt({ min: -(R * R), max: R * R }));

/** k vectors of one common random length. */
function vecs(k: number, maxLength = 40): fc.Arbitrary<BigUint64Array[]> {
  return fc
    .array(fc.array(elem, { minLength: k, maxLength: k }), { maxLength })
    .map((rows) => Array.from({ length: k }, (_, j) => BigUint64Array.from(rows.map((r) => r[j]))));
}

const list = (v: BigUint64Array): bigint[] => Array.from(v);

describe('z64 elementwise ops match the BigInt reference', () => {
  const binary: Array<[string, (a: BigUint64Array, b: BigUint64Array, o?: BigUint64Array) => BigUint64Array, (x: bigint, y: bigint) => bigint]> = [
    ['add', z64.add, (x, y) => mod(x + y)],
    ['sub', z64.sub, (x, y) => mod(x - y)],
    ['mul', z64.mul, (x, y) => mod(x * y)],
  ];
  for (const [name, f, ref] of binary) {
    it(name, () => {
      fc.assert(
        fc.property(vecs(2), ([a, b]) => {
          const want = list(a).map((x, i) => ref(x, b[i]));
          expect(list(f(a, b))).toEqual(want);
          // out given, and out aliasing each input
          const o = new BigUint64Array(a.length);
          expect(f(a, b, o)).toBe(o);
          expect(list(o)).toEqual(want);
          const a2 = a.slice();
          f(a2, b, a2);
          expect(list(a2)).toEqual(want);
          const b2 = b.slice();
          f(a, b2, b2);
          expect(list(b2)).toEqual(want);
        }),
        opts,
      );
    });
  }

  it('neg', () => {
    fc.assert(
      fc.property(vecs(1), ([a]) => {
        const want = list(a).map((x) => mod(-x));
        expect(list(z64.neg(a))).toEqual(want);
        const a2 = a.slice();
        expect(z64.neg(a2, a2)).toBe(a2);
        expect(list(a2)).toEqual(want);
      }),
      opts,
    );
  });

  const withScalar: Array<[string, (a: BigUint64Array, k: bigint, o?: BigUint64Array) => BigUint64Array, (x: bigint, k: bigint) => bigint]> = [
    ['addScalar', z64.addScalar, (x, k) => mod(x + k)],
    ['mulScalar', z64.mulScalar, (x, k) => mod(x * k)],
    ['scalarSub', (a, k, o) => z64.scalarSub(k, a, o), (x, k) => mod(k - x)],
  ];
  for (const [name, f, ref] of withScalar) {
    it(name, () => {
      fc.assert(
        fc.property(vecs(1), scalarArb, ([a], k) => {
          const want = list(a).map((x) => ref(x, k));
          expect(list(f(a, k))).toEqual(want);
          const a2 = a.slice();
          expect(f(a2, k, a2)).toBe(a2);
          expect(list(a2)).toEqual(want);
        }),
        opts,
      );
    });
  }

  it('sum and dot', () => {
    fc.assert(
      fc.property(vecs(2), ([a, b]) => {
        expect(z64.sum(a)).toBe(mod(list(a).reduce((s, x) => s + x, 0n)));
        expect(z64.dot(a, b)).toBe(mod(list(a).reduce((s, x, i) => s + x * b[i], 0n)));
      }),
      opts,
    );
  });

  it('known answers at the edges', () => {
    const M = z64.MASK64;
    expect(M).toBe(R - 1n);
    expect(list(z64.add(z64.fromBigints([M, 1n << 63n]), z64.fromBigints([1n, 1n << 63n])))).toEqual([0n, 0n]);
    expect(list(z64.sub(z64.fromBigints([0n]), z64.fromBigints([1n])))).toEqual([M]);
    expect(list(z64.mul(z64.fromBigints([M, 1n << 32n]), z64.fromBigints([M, 1n << 32n])))).toEqual([1n, 0n]);
    expect(list(z64.neg(z64.fromBigints([0n, 1n, 1n << 63n])))).toEqual([0n, M, 1n << 63n]);
    expect(z64.sum(z64.fill(4, 1n << 62n))).toBe(0n);
    expect(z64.reduce64(-1n)).toBe(M);
    expect(z64.reduce64(R + 7n)).toBe(7n);
    expect(list(z64.fromBigints([-1n, R, -(R + 1n)]))).toEqual([M, 0n, M]);
    expect(list(z64.fill(3, -2n))).toEqual([M - 1n, M - 1n, M - 1n]);
    expect(z64.fill(0, 5n).length).toBe(0);
  });
});

describe('z64 ring laws', () => {
  const eq = (x: BigUint64Array, y: BigUint64Array) => expect(list(x)).toEqual(list(y));
  it('commutativity of + and ·', () => {
    fc.assert(
      fc.property(vecs(2), ([a, b]) => {
        eq(z64.add(a, b), z64.add(b, a));
        eq(z64.mul(a, b), z64.mul(b, a));
      }),
      opts,
    );
  });
  it('associativity of + and ·', () => {
    fc.assert(
      fc.property(vecs(3), ([a, b, c]) => {
        eq(z64.add(z64.add(a, b), c), z64.add(a, z64.add(b, c)));
        eq(z64.mul(z64.mul(a, b), c), z64.mul(a, z64.mul(b, c)));
      }),
      opts,
    );
  });
  it('distributivity, inverses, identities', () => {
    fc.assert(
      fc.property(vecs(3), scalarArb, ([a, b, c], k) => {
        eq(z64.mul(a, z64.add(b, c)), z64.add(z64.mul(a, b), z64.mul(a, c)));
        eq(z64.mulScalar(z64.add(a, b), k), z64.add(z64.mulScalar(a, k), z64.mulScalar(b, k)));
        eq(z64.add(a, z64.neg(a)), z64.fill(a.length, 0n));
        eq(z64.sub(a, b), z64.add(a, z64.neg(b)));
        eq(z64.scalarSub(k, a), z64.addScalar(z64.neg(a), k));
        eq(z64.mul(a, z64.fill(a.length, 1n)), a);
        expect(z64.dot(a, b)).toBe(z64.sum(z64.mul(a, b)));
      }),
      opts,
    );
  });
});

describe('z64.beaverCombine', () => {
  it('matches its formula, with and without d·e', () => {
    fc.assert(
      fc.property(vecs(5), fc.boolean(), ([c, a, b, d, e], addDE) => {
        const want = list(c).map((ci, i) => mod(ci + d[i] * b[i] + e[i] * a[i] + (addDE ? d[i] * e[i] : 0n)));
        expect(list(z64.beaverCombine(c, a, b, d, e, addDE))).toEqual(want);
        const c2 = c.slice();
        expect(z64.beaverCombine(c2, a, b, d, e, addDE, c2)).toBe(c2);
        expect(list(c2)).toEqual(want);
      }),
      opts,
    );
  });

  it('turns shares of a random triple into shares of x·y', () => {
    // n parties hold additive shares of x, y and of a triple (a, b, c = a·b). They open
    // d = x − a and e = y − b; each combines locally, party 0 adding d·e. The shares of z
    // must sum to x·y.
    fc.assert(
      fc.property(vecs(2 + 2 + 5 * 4), fc.integer({ min: 1, max: 5 }), (vs, n) => {
        const [x, y, ...rest] = vs;
        const [a, b] = rest;
        const c = z64.mul(a, b);
        const split = (v: BigUint64Array, r: BigUint64Array[]): BigUint64Array[] => {
          const shares: BigUint64Array[] = r.slice(0, n - 1).map((s) => s.slice());
          shares.push(shares.reduce<BigUint64Array>((acc, s) => z64.sub(acc, s), v.slice()));
          return shares;
        };
        const xs = split(x, rest.slice(2, 6));
        const ys = split(y, rest.slice(6, 10));
        const as = split(a, rest.slice(10, 14));
        const bs = split(b, rest.slice(14, 18));
        const cs = split(c, rest.slice(18, 22));
        const d = xs.map((s, p) => z64.sub(s, as[p])).reduce((acc, s) => z64.add(acc, s));
        const e = ys.map((s, p) => z64.sub(s, bs[p])).reduce((acc, s) => z64.add(acc, s));
        const zs = cs.map((_, p) => z64.beaverCombine(cs[p], as[p], bs[p], d, e, p === 0));
        const zsum = zs.reduce((acc, s) => z64.add(acc, s));
        expect(list(zsum)).toEqual(list(x).map((xi, i) => mod(xi * y[i])));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe('z64 optimised code paths', () => {
  it('agree with the reference once TurboFan has compiled them', () => {
    // Deterministic pseudo-random words (xorshift) so the hot loop's inputs are not trivial.
    const n = 4096;
    let s = 0x9e3779b97f4a7c15n;
    const next = () => {
      s = BigInt.asUintN(64, s ^ (s << 13n));
      s ^= s >> 7n;
      s = BigInt.asUintN(64, s ^ (s << 17n));
      return s;
    };
    const mk = () => {
      const v = new BigUint64Array(n);
      for (let i = 0; i < n; i++) v[i] = next();
      v[0] = 0n;
      v[1] = R - 1n;
      v[2] = 1n << 63n;
      return v;
    };
    const [a, b, c, d, e] = [mk(), mk(), mk(), mk(), mk()];
    const o = new BigUint64Array(n);
    for (let round = 0; round < 300; round++) {
      z64.add(a, b, o);
      z64.sub(a, b, o);
      z64.mul(a, b, o);
      z64.neg(a, o);
      z64.mulScalar(a, 0x1234567890abcdefn, o);
      z64.addScalar(a, R - 3n, o);
      z64.scalarSub(5n, a, o);
      z64.sum(a);
      z64.dot(a, b);
      z64.beaverCombine(c, a, b, d, e, round % 2 === 0, o);
    }
    const check = (got: BigUint64Array, ref: (i: number) => bigint) => {
      for (let i = 0; i < n; i++) if (got[i] !== ref(i)) expect([i, got[i]]).toEqual([i, ref(i)]);
    };
    check(z64.add(a, b, o), (i) => mod(a[i] + b[i]));
    check(z64.sub(a, b, o), (i) => mod(a[i] - b[i]));
    check(z64.mul(a, b, o), (i) => mod(a[i] * b[i]));
    check(z64.neg(a, o), (i) => mod(-a[i]));
    check(z64.mulScalar(a, 0x1234567890abcdefn, o), (i) => mod(a[i] * 0x1234567890abcdefn));
    check(z64.addScalar(a, R - 3n, o), (i) => mod(a[i] - 3n));
    check(z64.scalarSub(5n, a, o), (i) => mod(5n - a[i]));
    check(z64.beaverCombine(c, a, b, d, e, true, o), (i) => mod(c[i] + d[i] * b[i] + e[i] * a[i] + d[i] * e[i]));
    check(z64.beaverCombine(c, a, b, d, e, false, o), (i) => mod(c[i] + d[i] * b[i] + e[i] * a[i]));
    expect(z64.sum(a)).toBe(mod(Array.from(a).reduce((x, y) => x + y, 0n)));
    expect(z64.dot(a, b)).toBe(mod(Array.from(a).reduce((x, y, i) => x + y * b[i], 0n)));
  });
});

describe('z64 argument checks', () => {
  const a = new BigUint64Array(3);
  const short = new BigUint64Array(2);
  it('length mismatch is a RangeError naming the argument', () => {
    expect(() => z64.add(a, short)).toThrow(RangeError);
    expect(() => z64.add(a, short)).toThrow(/z64\.add: b: expected length 3.*got 2/);
    expect(() => z64.sub(a, short)).toThrow(RangeError);
    expect(() => z64.mul(a, short)).toThrow(RangeError);
    expect(() => z64.dot(a, short)).toThrow(RangeError);
    expect(() => z64.add(a, a, short)).toThrow(/out: expected length 3, got 2/);
    expect(() => z64.neg(a, short)).toThrow(RangeError);
    expect(() => z64.mulScalar(a, 1n, short)).toThrow(RangeError);
    expect(() => z64.beaverCombine(a, a, a, short, a, true)).toThrow(/beaverCombine: d: expected length 3/);
    expect(() => z64.beaverCombine(a, a, a, a, a, false, short)).toThrow(RangeError);
    expect(() => z64.fill(-1, 0n)).toThrow(RangeError);
    expect(() => z64.fill(1.5, 0n)).toThrow(RangeError);
  });
  it('wrong types are TypeErrors', () => {
    const bad = [new BigInt64Array(3), new Uint8Array(24), [0n, 0n, 0n], null, undefined];
    for (const v of bad) {
      expect(() => z64.add(v as unknown as BigUint64Array, a)).toThrow(TypeError);
      expect(() => z64.add(a, v as unknown as BigUint64Array)).toThrow(TypeError);
      expect(() => z64.sum(v as unknown as BigUint64Array)).toThrow(TypeError);
    }
    expect(() => z64.add(a, new BigInt64Array(3) as unknown as BigUint64Array)).toThrow(/b: expected BigUint64Array, got BigInt64Array/);
    expect(() => z64.mulScalar(a, 3 as unknown as bigint)).toThrow(/k: expected a bigint, got number/);
    expect(() => z64.scalarSub(3 as unknown as bigint, a)).toThrow(TypeError);
    expect(() => z64.beaverCombine(a, a, a, a, a, 1 as unknown as boolean)).toThrow(TypeError);
    expect(() => z64.fromBigints([1n, 2 as unknown as bigint])).toThrow(/xs\[1\]: expected a bigint, got number/);
    expect(() => z64.reduce64(1 as unknown as bigint)).toThrow(TypeError);
  });
});
