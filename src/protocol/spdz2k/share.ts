/**
 * Authenticated shares of SPDZ2k with s = 64 and k = 64 or 128 [CDESX18 §3]: party i holds
 * x_i and m_i in Z_2^{k+s} (the MAC ring, mac-ring.ts) with Σx_i ≡ x and Σm_i ≡ α·Σx_i
 * (mod 2^{k+s}), where the MAC key α = Σα_i is uniform in Z_2^{k+s} and never opened. The
 * value is x mod 2^k; the upper s bits of Σx_i are noise that must never be revealed
 * (outputs mask them, see output.ts).
 *
 * Everything here is local (no communication): the scheme is linear, so add/sub/neg/sum
 * and products with public values act on both halves alike, and a public value v gets the
 * sharing (v, 0, …, 0) with MAC shares α_i·v [CDESX18 §3, "linear operations"; DPSZ12, online phase].
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import type { MacRing } from './mac-ring.ts';

/** One party's authenticated share of a vector: value shares `x` and MAC shares `m` (in Z_2^128 for k = 64, Z_2^192 for k = 128). */
export interface AuthShare<E = Z128Vec> {
  x: E;
  m: E;
}

/** `v` itself when it has `length` elements, else its single element repeated. */
export function broadcast128(v: Z128Vec, length: number): Z128Vec {
  if (v.lo.length === length) return v;
  if (v.lo.length !== 1) throw new RangeError(`broadcast: cannot stretch ${v.lo.length} elements to ${length}`);
  return { lo: new BigUint64Array(length).fill(v.lo[0]), hi: new BigUint64Array(length).fill(v.hi[0]) };
}

/** Concatenation of Z_2^128 vectors (the part itself when there is one). */
export function concat128(parts: readonly Z128Vec[]): Z128Vec {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((t, v) => t + v.lo.length, 0);
  const out = z128.alloc(n);
  let off = 0;
  for (const v of parts) {
    out.lo.set(v.lo, off);
    out.hi.set(v.hi, off);
    off += v.lo.length;
  }
  return out;
}

/** A view of elements [start, end). */
export function slice128(v: Z128Vec, start: number, end: number): Z128Vec {
  return { lo: v.lo.subarray(start, end), hi: v.hi.subarray(start, end) };
}

/**
 * a + b or a − b elementwise, a length-1 operand against a vector acting as a scalar (no
 * broadcast copy is made: the scalar kernels take it as it is).
 */
function addOrSub<E>(R: MacRing<unknown, E>, sub: boolean, a: AuthShare<E>, b: AuthShare<E>): AuthShare<E> {
  const la = R.length(a.x);
  const lb = R.length(b.x);
  if (la === lb) return sub ? { x: R.sub(a.x, b.x), m: R.sub(a.m, b.m) } : { x: R.add(a.x, b.x), m: R.add(a.m, b.m) };
  if (lb === 1) {
    const sign = sub ? -1n : 1n;
    return { x: R.addScalar(a.x, sign * R.scalarOf(b.x)), m: R.addScalar(a.m, sign * R.scalarOf(b.m)) };
  }
  if (la === 1) {
    // k + b, or k − b = (−b) + k computed in place.
    const bx = sub ? R.neg(b.x) : b.x;
    const bm = sub ? R.neg(b.m) : b.m;
    return { x: R.addScalar(bx, R.scalarOf(a.x), sub ? bx : undefined), m: R.addScalar(bm, R.scalarOf(a.m), sub ? bm : undefined) };
  }
  throw new RangeError(`authenticated shares of ${la} and ${lb} elements cannot be combined`);
}

/**
 * The local operations of the suite over MAC ring `R` (the suite's share methods): linear,
 * so value and MAC shares are treated alike.
 */
export function shareOps<V, E>(R: MacRing<V, E>) {
  return {
    length: (a: AuthShare<E>): number => R.length(a.x),
    add: (a: AuthShare<E>, b: AuthShare<E>): AuthShare<E> => addOrSub(R, false, a, b),
    sub: (a: AuthShare<E>, b: AuthShare<E>): AuthShare<E> => addOrSub(R, true, a, b),
    neg: (a: AuthShare<E>): AuthShare<E> => ({ x: R.neg(a.x), m: R.neg(a.m) }),
    sum: (a: AuthShare<E>): AuthShare<E> => ({ x: R.scalar(R.sum(a.x)), m: R.scalar(R.sum(a.m)) }),
    /**
     * A sharing of the public vector `v` as party `self`: party 0 holds v, the others 0, and
     * every party's MAC share is α_i·v, so that Σm_i = α·v.
     */
    fromPublic: (self: number, alpha: bigint, v: V): AuthShare<E> => {
      const lifted = R.lift(v);
      // Only party 0 keeps `lifted`; the others compute their MAC share over it in place.
      return { x: self === 0 ? lifted : R.alloc(R.D.length(v)), m: R.mulScalar(lifted, alpha, self === 0 ? undefined : lifted) };
    },
    /** Element-wise product with a public vector of the same length, or with a public scalar (either side of length 1). */
    mulPublic: (a: AuthShare<E>, p: V): AuthShare<E> => {
      const la = R.length(a.x);
      const lp = R.D.length(p);
      if (lp === 1) return { x: R.mulScalar(a.x, R.valueScalar(p)), m: R.mulScalar(a.m, R.valueScalar(p)) };
      if (la === lp) return { x: R.mulValue(a.x, p), m: R.mulValue(a.m, p) };
      if (la === 1) {
        const q = R.lift(p);
        return { x: R.mulScalar(q, R.scalarOf(a.x)), m: R.mulScalar(q, R.scalarOf(a.m)) };
      }
      throw new RangeError(`mulPublic: a share of ${la} elements and a public vector of ${lp}`);
    },
    broadcast: (a: AuthShare<E>, length: number): AuthShare<E> => (R.length(a.x) === length ? a : { x: R.broadcast(a.x, length), m: R.broadcast(a.m, length) }),
    concat: (parts: readonly AuthShare<E>[]): AuthShare<E> => concatShares(R, parts),
    slice: (a: AuthShare<E>, start: number, end: number): AuthShare<E> => ({ x: R.slice(a.x, start, end), m: R.slice(a.m, start, end) }),
    /** Block i of the result is block index[i] of `a` (plan op `gather`), on value and MAC shares alike. */
    gather: (a: AuthShare<E>, index: Uint32Array, block = 1): AuthShare<E> => ({ x: R.gather(a.x, index, block), m: R.gather(a.m, index, block) }),
    /** Σ_i 2^(shift+i)·a[i·L … (i+1)·L) mod 2^(k+s) (plan op `pack`): linear, so MACs follow. */
    pack: (a: AuthShare<E>, count: number, shift: number): AuthShare<E> => {
      const L = R.length(a.x) / count;
      const p = (v: E): E => {
        const out = R.alloc(L);
        for (let i = 0; i < count; i++) R.add(out, R.mulScalar(R.slice(v, i * L, (i + 1) * L), 1n << BigInt(shift + i)), out);
        return out;
      };
      return { x: p(a.x), m: p(a.m) };
    },
    allocate: (length: number): AuthShare<E> => ({ x: R.alloc(length), m: R.alloc(length) }),
    place: (into: AuthShare<E>, offset: number, part: AuthShare<E>): void => {
      R.place(into.x, offset, part.x);
      R.place(into.m, offset, part.m);
    },
  };
}

export function concatShares<E>(R: MacRing<unknown, E>, parts: readonly AuthShare<E>[]): AuthShare<E> {
  if (parts.length === 1) return parts[0];
  return { x: R.concat(parts.map((p) => p.x)), m: R.concat(parts.map((p) => p.m)) };
}

/** Elements [start, end) of a share, as views. */
export function sliceShare<E>(R: MacRing<unknown, E>, a: AuthShare<E>, start: number, end: number): AuthShare<E> {
  return { x: R.slice(a.x, start, end), m: R.slice(a.m, start, end) };
}
