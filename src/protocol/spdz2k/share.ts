/**
 * Authenticated shares of SPDZ2k with k = 64, s = 64 [CDESX18 §3]: party i holds x_i and
 * m_i in Z_2^128 with Σx_i ≡ x and Σm_i ≡ α·Σx_i (mod 2^128), where the MAC key
 * α = Σα_i is uniform in Z_2^128 and never opened. The value is x mod 2^64; the upper 64
 * bits of Σx_i are noise that must never be revealed (outputs mask them, see output.ts).
 *
 * Everything here is local (no communication): the scheme is linear, so add/sub/neg/sum
 * and products with public values act on both halves alike, and a public value v gets the
 * sharing (v, 0, …, 0) with MAC shares α_i·v [CDESX18 §3, "linear operations"; DPSZ12, online phase].
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { gather64 } from '../vectors.ts';

/** One party's authenticated share of a vector: value shares `x` and MAC shares `m`. */
export interface AuthShare {
  x: Z128Vec;
  m: Z128Vec;
}

/** Number of elements of `a`. */
export function shareLength(a: AuthShare): number {
  return a.x.lo.length;
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

/** 2^64·v mod 2^128: the low limb moves up, the high limb falls off. */
export function shift64(v: Z128Vec): Z128Vec {
  return { lo: new BigUint64Array(v.lo.length), hi: v.lo.slice() };
}

/** A one-element vector holding `k mod 2^128`. */
export function scalar128(k: bigint): Z128Vec {
  return z128.fromBigints([k]);
}

/** The value of a one-element vector. */
function scalarOf(v: Z128Vec): bigint {
  return (v.hi[0] << 64n) | v.lo[0];
}

/**
 * a + b or a − b elementwise, a length-1 operand against a vector acting as a scalar (no
 * broadcast copy is made: the scalar kernels take it as it is).
 */
function addOrSub(sub: boolean, a: AuthShare, b: AuthShare): AuthShare {
  const la = shareLength(a);
  const lb = shareLength(b);
  if (la === lb) return sub ? { x: z128.sub(a.x, b.x), m: z128.sub(a.m, b.m) } : { x: z128.add(a.x, b.x), m: z128.add(a.m, b.m) };
  if (lb === 1) {
    const sign = sub ? -1n : 1n;
    return { x: z128.addScalar(a.x, sign * scalarOf(b.x)), m: z128.addScalar(a.m, sign * scalarOf(b.m)) };
  }
  if (la === 1) {
    // k + b, or k − b = (−b) + k computed in place.
    const bx = sub ? z128.neg(b.x) : b.x;
    const bm = sub ? z128.neg(b.m) : b.m;
    return { x: z128.addScalar(bx, scalarOf(a.x), sub ? bx : undefined), m: z128.addScalar(bm, scalarOf(a.m), sub ? bm : undefined) };
  }
  throw new RangeError(`authenticated shares of ${la} and ${lb} elements cannot be combined`);
}

export function addShares(a: AuthShare, b: AuthShare): AuthShare {
  return addOrSub(false, a, b);
}

export function subShares(a: AuthShare, b: AuthShare): AuthShare {
  return addOrSub(true, a, b);
}

export function negShare(a: AuthShare): AuthShare {
  return { x: z128.neg(a.x), m: z128.neg(a.m) };
}

export function sumShare(a: AuthShare): AuthShare {
  return { x: scalar128(z128.sum(a.x)), m: scalar128(z128.sum(a.m)) };
}

/**
 * A sharing of the public vector `v` as party `self`: party 0 holds v, the others 0, and
 * every party's MAC share is α_i·v, so that Σm_i = α·v.
 */
export function publicShare(self: number, alpha: bigint, v: BigUint64Array): AuthShare {
  const lifted = z128.lift(v);
  // Only party 0 keeps `lifted`; the others compute their MAC share over it in place.
  return { x: self === 0 ? lifted : z128.alloc(v.length), m: z128.mulScalar(lifted, alpha, self === 0 ? undefined : lifted) };
}

/** Element-wise product with a public vector of the same length, or with a public scalar (either side of length 1). */
export function mulPublicShare(a: AuthShare, p: BigUint64Array): AuthShare {
  const la = shareLength(a);
  if (p.length === 1) return { x: z128.mulScalar(a.x, p[0]), m: z128.mulScalar(a.m, p[0]) };
  if (la === p.length) return { x: z128.mulU64(a.x, p), m: z128.mulU64(a.m, p) };
  if (la === 1) {
    const q = z128.lift(p);
    return { x: z128.mulScalar(q, scalarOf(a.x)), m: z128.mulScalar(q, scalarOf(a.m)) };
  }
  throw new RangeError(`mulPublic: a share of ${la} elements and a public vector of ${p.length}`);
}

export function broadcastShare(a: AuthShare, length: number): AuthShare {
  return shareLength(a) === length ? a : { x: broadcast128(a.x, length), m: broadcast128(a.m, length) };
}

export function concatShares(parts: readonly AuthShare[]): AuthShare {
  if (parts.length === 1) return parts[0];
  return { x: concat128(parts.map((p) => p.x)), m: concat128(parts.map((p) => p.m)) };
}

export function sliceShare(a: AuthShare, start: number, end: number): AuthShare {
  return { x: slice128(a.x, start, end), m: slice128(a.m, start, end) };
}

/** Little-endian 16 bytes of `k mod 2^128`. */
export function bigintTo16(k: bigint): Uint8Array {
  return z128.toBytes(scalar128(k));
}

/** Inverse of `bigintTo16`. */
export function bigintFrom16(b: Uint8Array): bigint {
  const v = z128.fromBytes(b);
  return (v.hi[0] << 64n) | v.lo[0];
}

/** Block i of the result is block index[i] of `a` (plan op `gather`), on value and MAC shares alike. */
export function gatherShare(a: AuthShare, index: Uint32Array, block = 1): AuthShare {
  const g = (v: Z128Vec): Z128Vec => ({ lo: gather64(v.lo, index, block), hi: gather64(v.hi, index, block) });
  return { x: g(a.x), m: g(a.m) };
}

/** Σ_i 2^(shift+i)·a[i·L … (i+1)·L) mod 2^128 (plan op `pack`): linear, so MACs follow. */
export function packShare(a: AuthShare, count: number, shift: number): AuthShare {
  const L = shareLength(a) / count;
  const p = (v: Z128Vec): Z128Vec => {
    const out = z128.alloc(L);
    for (let i = 0; i < count; i++) z128.add(out, z128.mulScalar(slice128(v, i * L, (i + 1) * L), 1n << BigInt(shift + i)), out);
    return out;
  };
  return { x: p(a.x), m: p(a.m) };
}
