/**
 * Vector kernels over the ring Z_2^128, where SPDZ2k with k = s = 64 keeps its shares and
 * MACs [CDESX18 §3]. A vector is two 64-bit limb arrays (struct of arrays):
 * element i is `hi[i]·2^64 + lo[i]`.
 *
 * BigInt arithmetic wider than 64 bits runs at a few M ops/s in V8, while 64-bit arithmetic
 * under `BigInt.asUintN(64, …)` is lowered to machine instructions (ARCHITECTURE.md §5). So
 * every operation here is written limb-wise with 64-bit intermediates only:
 * - the high half of a 64×64 product is rebuilt from four 32×32 partial products;
 * - the carry out of a 64-bit addition is computed with bit operations, not `<`, because
 *   V8 (Node 20) does not lower BigInt comparisons and one `<` costs a factor of ten;
 * - `~x` is written `x ^ (2^64 − 1)` for the same reason.
 * Every intermediate is wrapped in `BigInt.asUintN(64, …)`; an unwrapped one silently
 * drops the loop back to heap BigInts. See the note above the kernels for the other rules.
 *
 * Vector operations take an optional `out` (which may alias an input) and return it.
 * @module
 */

import { assertU64 } from './z64.ts';
import { bytesToU64, u64ToBytes } from './encoding.ts';
import { describeKind } from '../util/describe.ts';

/** A vector over Z_2^128: element i is `hi[i]·2^64 + lo[i]`; `lo` and `hi` have equal length. */
export interface Z128Vec {
  lo: BigUint64Array;
  hi: BigUint64Array;
}

/** 2^128 − 1. */
export const MASK128 = (1n << 128n) - 1n;

// Rules the hot loops follow, each learnt from a measurement on Node 20:
// - Two 64-bit building blocks are spelt out by hand instead of calling helpers: TurboFan
//   refuses to inline a helper as large as the high-product one, and a BigInt crossing a call
//   boundary is boxed on the heap (15 M/s instead of ~150 M/s for mul).
// - Constants are literals, not module-level consts, which are not folded into the loop.
// - No BigInt is merged from two branches inside a loop (a Phi node) and then shifted:
//   Node 20's TurboFan aborts the whole process on it ("Phi of kRepTagged (UnsignedBigInt64)
//   cannot be changed to kRepWord64"). Loop-invariant choices are made with masks instead.
// - Running sums live in typed-array slots rather than `let` variables, which get boxed.
//
// High 64 bits of x·y (x, y < 2^64) from 32-bit halves x = x1·2^32 + x0, y = y1·2^32 + y0:
//   p01 = x0·y1, p10 = x1·y0
//   mid = (x0·y0 >> 32) + (p01 & M32) + (p10 & M32)          — < 3·2^32, no overflow
//   hi  = x1·y1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32)
// Carry out of s = x + y mod 2^64: bit 63 of (x & y) | ((x | y) & ~s), i.e. majority(x₆₃, y₆₃, ¬s₆₃);
// ~s is written s ^ (2^64 − 1), and the borrow of s = x − y is majority(¬x₆₃, y₆₃, s₆₃).

/** Throws unless `v` is a well-formed Z128Vec (TypeError, or RangeError for unequal limbs). `what` names the argument. */
export function assertZ128(v: unknown, what: string): asserts v is Z128Vec {
  if (typeof v !== 'object' || v === null) {
    throw new TypeError(`${what}: expected a Z128Vec { lo, hi }, got ${describeKind(v)}`);
  }
  const { lo, hi } = v as Partial<Z128Vec>;
  assertU64(lo, `${what}.lo`);
  assertU64(hi, `${what}.hi`);
  if (lo.length !== hi.length) {
    throw new RangeError(`${what}: expected lo and hi of equal length, got ${lo.length} and ${hi.length}`);
  }
}

function checkSame(fn: string, n: number, v: unknown, name: string): asserts v is Z128Vec {
  assertZ128(v, `${fn}: ${name}`);
  if (v.lo.length !== n) {
    throw new RangeError(`${fn}: ${name}: expected length ${n} (same as the first vector), got ${v.lo.length}`);
  }
}

function outFor(fn: string, n: number, out: Z128Vec | undefined): Z128Vec {
  if (out === undefined) return alloc(n);
  assertZ128(out, `${fn}: out`);
  if (out.lo.length !== n) throw new RangeError(`${fn}: out: expected length ${n}, got ${out.lo.length}`);
  return out;
}

function scalar(fn: string, k: unknown): bigint {
  if (typeof k !== 'bigint') throw new TypeError(`${fn}: k: expected a bigint, got ${typeof k}`);
  return BigInt.asUintN(128, k);
}

/** A zero vector of length `n`. */
export function alloc(n: number): Z128Vec {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`z128.alloc: n: expected a non-negative integer, got ${String(n)}`);
  }
  return { lo: new BigUint64Array(n), hi: new BigUint64Array(n) };
}

/** Number of elements of `v`. */
export function length(v: Z128Vec): number {
  assertZ128(v, 'z128.length: v');
  return v.lo.length;
}

/** out[i] = a[i] + b[i] mod 2^128. */
export function add(a: Z128Vec, b: Z128Vec, out?: Z128Vec): Z128Vec {
  assertZ128(a, 'z128.add: a');
  const n = a.lo.length;
  checkSame('z128.add', n, b, 'b');
  const o = outFor('z128.add', n, out);
  const al = a.lo, ah = a.hi, bl = b.lo, bh = b.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const y = bl[i];
    const s = BigInt.asUintN(64, x + y);
    const c = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x & y) | BigInt.asUintN(64, BigInt.asUintN(64, x | y) & BigInt.asUintN(64, s ^ 0xffffffffffffffffn))) >> 63n);
    const h = BigInt.asUintN(64, BigInt.asUintN(64, ah[i] + bh[i]) + c);
    ol[i] = s;
    oh[i] = h;
  }
  return o;
}

/** out[i] = a[i] − b[i] mod 2^128. */
export function sub(a: Z128Vec, b: Z128Vec, out?: Z128Vec): Z128Vec {
  assertZ128(a, 'z128.sub: a');
  const n = a.lo.length;
  checkSame('z128.sub', n, b, 'b');
  const o = outFor('z128.sub', n, out);
  const al = a.lo, ah = a.hi, bl = b.lo, bh = b.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const y = bl[i];
    const s = BigInt.asUintN(64, x - y);
    const nx = BigInt.asUintN(64, x ^ 0xffffffffffffffffn);
    const br = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, nx & y) | BigInt.asUintN(64, BigInt.asUintN(64, nx | y) & s)) >> 63n);
    const h = BigInt.asUintN(64, BigInt.asUintN(64, ah[i] - bh[i]) - br);
    ol[i] = s;
    oh[i] = h;
  }
  return o;
}

/** out[i] = −a[i] mod 2^128. */
export function neg(a: Z128Vec, out?: Z128Vec): Z128Vec {
  assertZ128(a, 'z128.neg: a');
  const n = a.lo.length;
  const o = outFor('z128.neg', n, out);
  const al = a.lo, ah = a.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const s = BigInt.asUintN(64, -x);
    // 0 − x borrows from the high limb exactly when x ≠ 0, i.e. when x or −x has a bit set.
    const br = BigInt.asUintN(64, BigInt.asUintN(64, x | s) >> 63n);
    oh[i] = BigInt.asUintN(64, BigInt.asUintN(64, -ah[i]) - br);
    ol[i] = s;
  }
  return o;
}

/**
 * out[i] = a[i] · b[i] mod 2^128 (elementwise). With a = aₕ·2^64 + aₗ and b likewise,
 * a·b ≡ aₗbₗ + 2^64·(aₗbₕ + aₕbₗ) (mod 2^128): the aₕbₕ term vanishes.
 */
export function mul(a: Z128Vec, b: Z128Vec, out?: Z128Vec): Z128Vec {
  assertZ128(a, 'z128.mul: a');
  const n = a.lo.length;
  checkSame('z128.mul', n, b, 'b');
  const o = outFor('z128.mul', n, out);
  const al = a.lo, ah = a.hi, bl = b.lo, bh = b.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const y = bl[i];
    const x0 = BigInt.asUintN(64, x & 0xffffffffn);
    const x1 = BigInt.asUintN(64, x >> 32n);
    const y0 = BigInt.asUintN(64, y & 0xffffffffn);
    const y1 = BigInt.asUintN(64, y >> 32n);
    const p01 = BigInt.asUintN(64, x0 * y1);
    const p10 = BigInt.asUintN(64, x1 * y0);
    const mid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 * y0) >> 32n) + BigInt.asUintN(64, p01 & 0xffffffffn)) +
        BigInt.asUintN(64, p10 & 0xffffffffn),
    );
    const hi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 * y1) + BigInt.asUintN(64, p01 >> 32n)) + BigInt.asUintN(64, p10 >> 32n)) +
        BigInt.asUintN(64, mid >> 32n),
    );
    const cross = BigInt.asUintN(64, BigInt.asUintN(64, x * bh[i]) + BigInt.asUintN(64, ah[i] * y));
    oh[i] = BigInt.asUintN(64, hi + cross);
    ol[i] = BigInt.asUintN(64, x * y);
  }
  return o;
}

/** out[i] = k · a[i] mod 2^128; `k` may be any bigint and is reduced first. */
export function mulScalar(a: Z128Vec, k: bigint, out?: Z128Vec): Z128Vec {
  assertZ128(a, 'z128.mulScalar: a');
  const kk = scalar('z128.mulScalar', k);
  const n = a.lo.length;
  const o = outFor('z128.mulScalar', n, out);
  const kl = BigInt.asUintN(64, kk);
  const kh = BigInt.asUintN(64, kk >> 64n);
  const al = a.lo, ah = a.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const x0 = BigInt.asUintN(64, x & 0xffffffffn);
    const x1 = BigInt.asUintN(64, x >> 32n);
    const y0 = BigInt.asUintN(64, kl & 0xffffffffn);
    const y1 = BigInt.asUintN(64, kl >> 32n);
    const p01 = BigInt.asUintN(64, x0 * y1);
    const p10 = BigInt.asUintN(64, x1 * y0);
    const mid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 * y0) >> 32n) + BigInt.asUintN(64, p01 & 0xffffffffn)) +
        BigInt.asUintN(64, p10 & 0xffffffffn),
    );
    const hi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 * y1) + BigInt.asUintN(64, p01 >> 32n)) + BigInt.asUintN(64, p10 >> 32n)) +
        BigInt.asUintN(64, mid >> 32n),
    );
    const cross = BigInt.asUintN(64, BigInt.asUintN(64, x * kh) + BigInt.asUintN(64, ah[i] * kl));
    oh[i] = BigInt.asUintN(64, hi + cross);
    ol[i] = BigInt.asUintN(64, x * kl);
  }
  return o;
}

/** out[i] = a[i] + k mod 2^128; `k` may be any bigint and is reduced first. */
export function addScalar(a: Z128Vec, k: bigint, out?: Z128Vec): Z128Vec {
  assertZ128(a, 'z128.addScalar: a');
  const kk = scalar('z128.addScalar', k);
  const n = a.lo.length;
  const o = outFor('z128.addScalar', n, out);
  const kl = BigInt.asUintN(64, kk);
  const kh = BigInt.asUintN(64, kk >> 64n);
  const al = a.lo, ah = a.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const s = BigInt.asUintN(64, x + kl);
    const c = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x & kl) | BigInt.asUintN(64, BigInt.asUintN(64, x | kl) & BigInt.asUintN(64, s ^ 0xffffffffffffffffn))) >> 63n);
    oh[i] = BigInt.asUintN(64, BigInt.asUintN(64, ah[i] + kh) + c);
    ol[i] = s;
  }
  return o;
}

/**
 * Beaver recombination over Z_2^128, same contract as `z64.beaverCombine`:
 * z[i] = c[i] + d[i]·b[i] + e[i]·a[i] (+ d[i]·e[i] when `addDE`, for exactly one party).
 * `out` may alias `c`.
 */
export function beaverCombine(
  c: Z128Vec,
  a: Z128Vec,
  b: Z128Vec,
  d: Z128Vec,
  e: Z128Vec,
  addDE: boolean,
  out?: Z128Vec,
): Z128Vec {
  const fn = 'z128.beaverCombine';
  assertZ128(c, `${fn}: c`);
  const n = c.lo.length;
  checkSame(fn, n, a, 'a');
  checkSame(fn, n, b, 'b');
  checkSame(fn, n, d, 'd');
  checkSame(fn, n, e, 'e');
  if (typeof addDE !== 'boolean') throw new TypeError(`${fn}: addDE: expected a boolean, got ${typeof addDE}`);
  const o = outFor(fn, n, out);
  const cl = c.lo, ch = c.hi, al = a.lo, ah = a.hi, bl = b.lo, bh = b.hi;
  const dl = d.lo, dh = d.hi, el = e.lo, eh = e.hi, ol = o.lo, oh = o.hi;
  // d·b + d·e is computed as d·(b + e): one 128-bit product fewer. Rather than branching on
  // addDE inside the loop, e is masked by a loop-invariant all-ones/zero word: with a branch,
  // y would be a Phi feeding the shifts of the high product, which crashes Node 20's TurboFan
  // (see the rules above the kernels).
  const m = BigInt.asUintN(64, BigInt(addDE ? -1 : 0));
  for (let i = 0; i < n; i++) {
    const dL = dl[i], dH = dh[i];
    const eL = el[i], eH = eh[i];
    const bL = bl[i];
    const meL = BigInt.asUintN(64, eL & m);
    const yL = BigInt.asUintN(64, bL + meL);
    const c0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, bL & meL) | BigInt.asUintN(64, BigInt.asUintN(64, bL | meL) & BigInt.asUintN(64, yL ^ 0xffffffffffffffffn))) >> 63n);
    const yH = BigInt.asUintN(64, BigInt.asUintN(64, bh[i] + BigInt.asUintN(64, eH & m)) + c0);
    // p = d·y
    const pL = BigInt.asUintN(64, dL * yL);
    const px0 = BigInt.asUintN(64, dL & 0xffffffffn);
    const px1 = BigInt.asUintN(64, dL >> 32n);
    const py0 = BigInt.asUintN(64, yL & 0xffffffffn);
    const py1 = BigInt.asUintN(64, yL >> 32n);
    const pp01 = BigInt.asUintN(64, px0 * py1);
    const pp10 = BigInt.asUintN(64, px1 * py0);
    const pmid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, px0 * py0) >> 32n) + BigInt.asUintN(64, pp01 & 0xffffffffn)) +
        BigInt.asUintN(64, pp10 & 0xffffffffn),
    );
    const pHi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, px1 * py1) + BigInt.asUintN(64, pp01 >> 32n)) + BigInt.asUintN(64, pp10 >> 32n)) +
        BigInt.asUintN(64, pmid >> 32n),
    );
    const pH = BigInt.asUintN(64, pHi + BigInt.asUintN(64, BigInt.asUintN(64, dL * yH) + BigInt.asUintN(64, dH * yL)));
    // q = e·a
    const aL = al[i];
    const qL = BigInt.asUintN(64, eL * aL);
    const qx0 = BigInt.asUintN(64, eL & 0xffffffffn);
    const qx1 = BigInt.asUintN(64, eL >> 32n);
    const qy0 = BigInt.asUintN(64, aL & 0xffffffffn);
    const qy1 = BigInt.asUintN(64, aL >> 32n);
    const qp01 = BigInt.asUintN(64, qx0 * qy1);
    const qp10 = BigInt.asUintN(64, qx1 * qy0);
    const qmid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, qx0 * qy0) >> 32n) + BigInt.asUintN(64, qp01 & 0xffffffffn)) +
        BigInt.asUintN(64, qp10 & 0xffffffffn),
    );
    const qHi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, qx1 * qy1) + BigInt.asUintN(64, qp01 >> 32n)) + BigInt.asUintN(64, qp10 >> 32n)) +
        BigInt.asUintN(64, qmid >> 32n),
    );
    const qH = BigInt.asUintN(64, qHi + BigInt.asUintN(64, BigInt.asUintN(64, eL * ah[i]) + BigInt.asUintN(64, eH * aL)));
    // z = c + p + q
    const cL = cl[i];
    const s1 = BigInt.asUintN(64, cL + pL);
    const c1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, cL & pL) | BigInt.asUintN(64, BigInt.asUintN(64, cL | pL) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    const h1 = BigInt.asUintN(64, BigInt.asUintN(64, ch[i] + pH) + c1);
    const s2 = BigInt.asUintN(64, s1 + qL);
    const c2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, s1 & qL) | BigInt.asUintN(64, BigInt.asUintN(64, s1 | qL) & BigInt.asUintN(64, s2 ^ 0xffffffffffffffffn))) >> 63n);
    oh[i] = BigInt.asUintN(64, BigInt.asUintN(64, h1 + qH) + c2);
    ol[i] = s2;
  }
  return o;
}

/** Σ v[i] mod 2^128. */
export function sum(v: Z128Vec): bigint {
  assertZ128(v, 'z128.sum: v');
  const n = v.lo.length;
  const vl = v.lo, vh = v.hi;
  // The running sum lives in typed-array slots, not `let` variables: a BigInt carried around
  // a loop is boxed by TurboFan (see z64.sum). acc = [low limb, high limb].
  const acc = new BigUint64Array(2);
  for (let i = 0; i < n; i++) {
    const x = vl[i];
    const sl = acc[0];
    const s = BigInt.asUintN(64, sl + x);
    const c = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, sl & x) | BigInt.asUintN(64, BigInt.asUintN(64, sl | x) & BigInt.asUintN(64, s ^ 0xffffffffffffffffn))) >> 63n);
    acc[1] = BigInt.asUintN(64, BigInt.asUintN(64, acc[1] + vh[i]) + c);
    acc[0] = s;
  }
  return (acc[1] << 64n) | acc[0];
}

/** Embeds Z_2^64 in Z_2^128 (hi = 0). Copies `a`, so later in-place ops do not touch it. */
export function lift(a: BigUint64Array): Z128Vec {
  assertU64(a, 'z128.lift: a');
  return { lo: a.slice(), hi: new BigUint64Array(a.length) };
}

/** Reduction mod 2^64: a copy of the low limbs. */
export function low64(v: Z128Vec): BigUint64Array {
  assertZ128(v, 'z128.low64: v');
  return v.lo.slice();
}

/** Packs bigints into a vector, reducing each mod 2^128 (so −1n becomes 2^128 − 1). */
export function fromBigints(xs: readonly bigint[]): Z128Vec {
  if (!Array.isArray(xs)) throw new TypeError(`z128.fromBigints: xs: expected an array of bigints, got ${describeKind(xs)}`);
  const n = xs.length;
  const o = alloc(n);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (typeof x !== 'bigint') throw new TypeError(`z128.fromBigints: xs[${i}]: expected a bigint, got ${typeof x}`);
    o.lo[i] = BigInt.asUintN(64, x);
    o.hi[i] = BigInt.asUintN(64, x >> 64n);
  }
  return o;
}

/** The elements as bigints in [0, 2^128). */
export function toBigints(v: Z128Vec): bigint[] {
  assertZ128(v, 'z128.toBigints: v');
  const n = v.lo.length;
  const xs = new Array<bigint>(n);
  for (let i = 0; i < n; i++) xs[i] = (v.hi[i] << 64n) | v.lo[i];
  return xs;
}

/** A view of 2·n words laid out as the wire form (the n low limbs, then the n high limbs) as n elements. */
export function wordsView(w: BigUint64Array, n: number = w.length / 2): Z128Vec {
  return { lo: w.subarray(0, n), hi: w.subarray(n, 2 * n) };
}

/** Wire form: the n low limbs then the n high limbs, each little-endian (16·n bytes). */
export function toBytes(v: Z128Vec): Uint8Array {
  assertZ128(v, 'z128.toBytes: v');
  const n = v.lo.length;
  const out = new Uint8Array(16 * n);
  out.set(u64ToBytes(v.lo), 0);
  out.set(u64ToBytes(v.hi), 8 * n);
  return out;
}

/** Inverse of `toBytes`. Copies, so the result never aliases a (reused) network buffer. */
export function fromBytes(b: Uint8Array): Z128Vec {
  if (!(b instanceof Uint8Array)) throw new TypeError(`z128.fromBytes: b: expected Uint8Array, got ${describeKind(b)}`);
  if (b.byteLength % 16 !== 0) {
    throw new RangeError(`z128.fromBytes: b: expected a length that is a multiple of 16, got ${b.byteLength}`);
  }
  const n = b.byteLength / 16;
  // slice() gives fresh, 8-aligned buffers, so bytesToU64 wraps them without a second copy.
  return { lo: bytesToU64(b.slice(0, 8 * n)), hi: bytesToU64(b.slice(8 * n)) };
}

/**
 * a[i]·p[i] mod 2^128 for p[i] < 2^64 (z128.mul against a lifted p, without lifting it):
 * low limb a_lo·p, high limb mulhi(a_lo, p) + a_hi·p. Under the rules of this module.
 */
export function mulU64(a: Z128Vec, p: BigUint64Array, out?: Z128Vec): Z128Vec {
  const n = a.lo.length;
  if (p.length !== n) throw new RangeError(`mulU64: ${n} and ${p.length} elements`);
  const o = out ?? alloc(n);
  const al = a.lo, ah = a.hi, ol = o.lo, oh = o.hi;
  for (let i = 0; i < n; i++) {
    const x = al[i];
    const y = p[i];
    const x0 = BigInt.asUintN(64, x & 0xffffffffn);
    const x1 = BigInt.asUintN(64, x >> 32n);
    const y0 = BigInt.asUintN(64, y & 0xffffffffn);
    const y1 = BigInt.asUintN(64, y >> 32n);
    const p01 = BigInt.asUintN(64, x0 * y1);
    const p10 = BigInt.asUintN(64, x1 * y0);
    const mid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 * y0) >> 32n) + BigInt.asUintN(64, p01 & 0xffffffffn)) +
        BigInt.asUintN(64, p10 & 0xffffffffn),
    );
    const hi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 * y1) + BigInt.asUintN(64, p01 >> 32n)) + BigInt.asUintN(64, p10 >> 32n)) +
        BigInt.asUintN(64, mid >> 32n),
    );
    oh[i] = BigInt.asUintN(64, hi + BigInt.asUintN(64, ah[i] * y));
    ol[i] = BigInt.asUintN(64, x * y);
  }
  return o;
}

/**
 * acc[0..1] += Σ_i χ_i·v[from + i] and acc[2..3] += Σ_i χ_i·w[from + i] (mod 2^128, low limb
 * first), χ_i < 2^64: z128.mul and z128.sum fused, without temporaries. Written under the
 * rules of this module (64-bit intermediates only, the high product spelt out, carries by
 * bit operations, running sums in typed-array slots). Used by the SPDZ2k MAC check.
 */
export function chiDot(chi: BigUint64Array, v: Z128Vec, w: Z128Vec, from: number, acc: BigUint64Array): void {
  const n = chi.length;
  const vl = v.lo, vh = v.hi, wl = w.lo, wh = w.hi;
  for (let i = 0; i < n; i++) {
    const x = chi[i];
    const x0 = BigInt.asUintN(64, x & 0xffffffffn);
    const x1 = BigInt.asUintN(64, x >> 32n);
    // χ·v: low limb χ·v_lo, high limb mulhi(χ, v_lo) + χ·v_hi.
    const y = vl[from + i];
    const y0 = BigInt.asUintN(64, y & 0xffffffffn);
    const y1 = BigInt.asUintN(64, y >> 32n);
    const p01 = BigInt.asUintN(64, x0 * y1);
    const p10 = BigInt.asUintN(64, x1 * y0);
    const mid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 * y0) >> 32n) + BigInt.asUintN(64, p01 & 0xffffffffn)) +
        BigInt.asUintN(64, p10 & 0xffffffffn),
    );
    const hi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 * y1) + BigInt.asUintN(64, p01 >> 32n)) + BigInt.asUintN(64, p10 >> 32n)) +
        BigInt.asUintN(64, mid >> 32n),
    );
    const pl = BigInt.asUintN(64, x * y);
    const ph = BigInt.asUintN(64, hi + BigInt.asUintN(64, x * vh[from + i]));
    const a0 = acc[0];
    const s0 = BigInt.asUintN(64, a0 + pl);
    const c0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a0 & pl) | BigInt.asUintN(64, BigInt.asUintN(64, a0 | pl) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
    acc[1] = BigInt.asUintN(64, BigInt.asUintN(64, acc[1] + ph) + c0);
    acc[0] = s0;
    // χ·w, likewise.
    const z = wl[from + i];
    const z0 = BigInt.asUintN(64, z & 0xffffffffn);
    const z1 = BigInt.asUintN(64, z >> 32n);
    const q01 = BigInt.asUintN(64, x0 * z1);
    const q10 = BigInt.asUintN(64, x1 * z0);
    const qmid = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 * z0) >> 32n) + BigInt.asUintN(64, q01 & 0xffffffffn)) +
        BigInt.asUintN(64, q10 & 0xffffffffn),
    );
    const qhi = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 * z1) + BigInt.asUintN(64, q01 >> 32n)) + BigInt.asUintN(64, q10 >> 32n)) +
        BigInt.asUintN(64, qmid >> 32n),
    );
    const ql = BigInt.asUintN(64, x * z);
    const qh = BigInt.asUintN(64, qhi + BigInt.asUintN(64, x * wh[from + i]));
    const a2 = acc[2];
    const s2 = BigInt.asUintN(64, a2 + ql);
    const c2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a2 & ql) | BigInt.asUintN(64, BigInt.asUintN(64, a2 | ql) & BigInt.asUintN(64, s2 ^ 0xffffffffffffffffn))) >> 63n);
    acc[3] = BigInt.asUintN(64, BigInt.asUintN(64, acc[3] + qh) + c2);
    acc[2] = s2;
  }
}
