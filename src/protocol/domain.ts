/**
 * The value domain of a plan: Z_2^64 (the default) or Z_2^128 (`circuit({ ring: 128 })`).
 * What the executor, the plaintext evaluator and the compiler's constant folding do with
 * public vectors — arithmetic with scalar broadcast, slicing, gathering, bit extraction and
 * packing, wire bytes — is written once against this interface (ARCHITECTURE.md §3: keep the
 * domain behind an interface), with one implementation per ring: a Z_2^64 vector is a
 * BigUint64Array, a Z_2^128 vector two limb arrays (src/ring/z128.ts).
 * @module
 */
import * as z64 from '../ring/z64.ts';
import * as z128 from '../ring/z128.ts';
import type { Z128Vec } from '../ring/z128.ts';
import { u64ToBytes } from '../ring/encoding.ts';
import { bits64, broadcast, concat64, constantValues, elementwise, gather64, pack64 } from './vectors.ts';
import { broadcast128, concat128, slice128 } from './spdz2k/share.ts';

export type RingBits = 64 | 128;

/** A vector of either domain, where the plan's ring decides which at run time. */
export type RingVector = BigUint64Array | Z128Vec;

export interface Domain<V> {
  readonly ring: RingBits;
  /** Bytes of one element on the wire and in a plan's constants. */
  readonly bytes: number;
  alloc(n: number): V;
  length(v: V): number;
  /** Elementwise a ∘ b, a length-1 operand broadcast against the other. */
  elementwise(op: 'add' | 'sub' | 'mul', a: V, b: V): V;
  neg(a: V): V;
  sum(a: V): V;
  /** `v` with `length` elements: itself, or its single element repeated. */
  broadcast(v: V, length: number): V;
  slice(v: V, start: number, end: number): V;
  /** Copy `part` into `into` from element `offset` on. */
  place(into: V, offset: number, part: V): void;
  concat(parts: readonly V[]): V;
  /** Block i of the result is block index[i] of v (blocks of `block` elements). */
  gather(v: V, index: Uint32Array, block: number): V;
  /** Bits from … from+count−1 of each element, bit-major. */
  bits(v: V, from: number, count: number): V;
  /** Σ_i 2^(shift+i)·v[i·L … (i+1)·L) for `count` digits. */
  pack(v: V, count: number, shift: number): V;
  /** Keep the low `bits` bits of each element, in place. */
  maskBits(v: V, bits: number): V;
  fromBigints(xs: readonly bigint[]): V;
  /** The elements in [0, 2^bits). */
  toBigints(v: V): bigint[];
  /** Little-endian wire bytes (Z_2^128: the low limbs, then the high limbs). */
  toBytes(v: V): Uint8Array;
  /** Inverse of `toBytes`, copying. */
  fromBytes(b: Uint8Array): V;
}

export const D64: Domain<BigUint64Array> = {
  ring: 64,
  bytes: 8,
  alloc: (n) => new BigUint64Array(n),
  length: (v) => v.length,
  elementwise,
  neg: (a) => z64.neg(a),
  sum: (a) => BigUint64Array.of(z64.sum(a)),
  broadcast,
  slice: (v, s, e) => v.subarray(s, e),
  place: (into, offset, part) => into.set(part, offset),
  concat: concat64,
  gather: gather64,
  bits: bits64,
  pack: pack64,
  maskBits: (v, bits) => z64.maskBits(v, bits),
  fromBigints: (xs) => z64.fromBigints(xs),
  toBigints: (v) => Array.from(v),
  toBytes: (v) => u64ToBytes(v),
  fromBytes: (b) => constantValues(b),
};

export const D128: Domain<Z128Vec> = {
  ring: 128,
  bytes: 16,
  alloc: (n) => z128.alloc(n),
  length: (v) => v.lo.length,
  elementwise: (op, a, b) => {
    const n = Math.max(a.lo.length, b.lo.length);
    if (a.lo.length !== b.lo.length && a.lo.length !== 1 && b.lo.length !== 1) throw new RangeError(`elementwise ${op}: lengths ${a.lo.length} and ${b.lo.length}`);
    const x = broadcast128(a, n);
    const y = broadcast128(b, n);
    return op === 'add' ? z128.add(x, y) : op === 'sub' ? z128.sub(x, y) : z128.mul(x, y);
  },
  neg: (a) => z128.neg(a),
  sum: (a) => z128.fromBigints([z128.sum(a)]),
  broadcast: broadcast128,
  slice: slice128,
  place: (into, offset, part) => {
    into.lo.set(part.lo, offset);
    into.hi.set(part.hi, offset);
  },
  concat: concat128,
  gather: (v, index, block) => ({ lo: gather64(v.lo, index, block), hi: gather64(v.hi, index, block) }),
  bits: (v, from, count) => {
    // Bits below 64 come from the low limb, the others from the high limb.
    const L = v.lo.length;
    const out = new BigUint64Array(count * L);
    for (let i = 0; i < count; i++) {
      const b = from + i;
      out.set(b < 64 ? bits64(v.lo, b, 1) : bits64(v.hi, b - 64, 1), i * L);
    }
    return z128.lift(out);
  },
  pack: (v, count, shift) => {
    const L = v.lo.length / count;
    const out = z128.alloc(L);
    for (let i = 0; i < count; i++) z128.add(out, z128.mulScalar(slice128(v, i * L, (i + 1) * L), 1n << BigInt(shift + i)), out);
    return out;
  },
  maskBits: (v, bits) => {
    if (bits < 64) {
      z64.maskBits(v.lo, bits);
      v.hi.fill(0n);
    } else if (bits < 128) z64.maskBits(v.hi, bits - 64);
    return v;
  },
  fromBigints: (xs) => z128.fromBigints(xs),
  toBigints: (v) => z128.toBigints(v),
  toBytes: (v) => z128.toBytes(v),
  fromBytes: (b) => z128.fromBytes(b),
};

/** The domain of a plan (`ring` absent: Z_2^64, so plans of 64-bit circuits keep their bytes and hashes). */
export function domainOf(plan: { ring?: RingBits }): Domain<BigUint64Array> | Domain<Z128Vec> {
  return plan.ring === 128 ? D128 : D64;
}
