/**
 * The MAC ring of SPDZ2k: the ring Z_2^{k+s} where shares and MACs live, tied to its value
 * domain Z_2^k [CDESX18 §3]. The suite (input, multiply, open, MAC check, outputs, prep) and
 * the dealer are written once against this interface; there are two instances, both with
 * s = 64:
 *
 * | ring     | k   | shares, MACs | value vectors     | element bytes | labels              |
 * |----------|-----|--------------|-------------------|---------------|---------------------|
 * | `MAC64`  | 64  | Z_2^128      | BigUint64Array    | 16            | `tessera/spdz2k/v1` |
 * | `MAC128` | 128 | Z_2^192      | Z128Vec           | 24            | `tessera/spdz2k128/v1` |
 *
 * The labels prefix every PRG stream and hash tag of the suite, so material or transcripts
 * of one ring can never be taken for the other's; MAC64's are those of the first version, so
 * plans in Z_2^64 keep their bytes.
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import * as z192 from '../../ring/z192.ts';
import * as z64 from '../../ring/z64.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import type { Z192Vec } from '../../ring/z192.ts';
import { bytesToU64 } from '../../ring/encoding.ts';
import type { Prg } from '../../ring/prg.ts';
import { D64, D128, type Domain, type RingBits } from '../domain.ts';
import type { Kernels } from '../kernels.ts';
import { gather64 } from '../vectors.ts';
import { broadcast128, concat128, slice128 } from './share.ts';
import { allocWire, fromWire, wireBytes } from './wire.ts';

/** Arithmetic of the MAC ring, elementwise; `out` may alias an input. */
export interface MacArith<E> {
  add(a: E, b: E, out?: E): E;
  sub(a: E, b: E, out?: E): E;
  neg(a: E, out?: E): E;
  mul(a: E, b: E, out?: E): E;
  mulScalar(a: E, k: bigint, out?: E): E;
  addScalar(a: E, k: bigint, out?: E): E;
  /** z = c + d·b + e·a (+ d·e when `addDE`). */
  beaverCombine(c: E, a: E, b: E, d: E, e: E, addDE: boolean, out?: E): E;
  /** Elements [start, end) as a view. */
  slice(v: E, start: number, end: number): E;
}

export interface MacRing<V, E> extends MacArith<E> {
  /** Bits of the value ring (k). */
  readonly k: RingBits;
  /** Bits of the share ring (k + s). */
  readonly bits: 128 | 192;
  /** 64-bit limbs of a share element. */
  readonly limbs: 2 | 3;
  /** Bytes of one share element on the wire (8·limbs). */
  readonly bytes: number;
  /** Prefix of every PRG label and hash tag of the suite over this ring. */
  readonly label: string;
  /** The value domain Z_2^k. */
  readonly D: Domain<V>;
  alloc(n: number): E;
  length(v: E): number;
  concat(parts: readonly E[]): E;
  /** `v` itself when it has `length` elements, else its single element repeated. */
  broadcast(v: E, length: number): E;
  gather(v: E, index: Uint32Array, block: number): E;
  /** Copy `part` into `into` at element `offset`. */
  place(into: E, offset: number, part: E): void;
  /** Σ v[i] mod 2^(k+s). */
  sum(v: E): bigint;
  /**
   * acc[0 … limbs) += Σ χ_i·v[from + i] and acc[limbs … 2·limbs) += Σ χ_i·w[from + i], χ_i < 2^s:
   * the random linear combination of the MAC check.
   */
  chiDot(chi: BigUint64Array, v: E, w: E, from: number, acc: BigUint64Array): void;
  /** Elementwise product with a public value vector of the same length. */
  mulValue(a: E, p: V, out?: E): E;
  /** Z_2^k into Z_2^{k+s} (zero upper limbs), a fresh copy. */
  lift(v: V): E;
  /** `v` with zero upper limbs as a read-only view (for sums into another vector); at most MUL_CHUNK elements. */
  liftView(v: V): E;
  /** Reduction mod 2^k, a fresh copy. */
  low(v: E): V;
  /** Elements of `v` mod 2^k into `out` from element `at`. */
  lowInto(v: E, out: V, at: number): void;
  /** a + b mod 2^k into `out` (value vectors of equal length). */
  addValues(a: V, b: V, out: V): V;
  /** 2^k·v mod 2^(k+s), fresh: the mask that hides the upper s bits of an opening. */
  shiftK(v: E): E;
  /** One-element vector of `x mod 2^(k+s)`. */
  scalar(x: bigint): E;
  /** The value of element 0. */
  scalarOf(v: E): bigint;
  /** A public value vector's element 0, as a bigint below 2^k. */
  valueScalar(v: V): bigint;
  /** The limb arrays, lowest first: the wire form is their words one array after another. */
  limbArrays(v: E): BigUint64Array[];
  /** Wire form: all limb-0 words, then all limb-1 words, … little-endian. */
  toBytes(v: E): Uint8Array;
  /** Inverse of `toBytes`, copying. */
  fromBytes(b: Uint8Array): E;
  /** `n` elements over `limbs·n` words in wire layout (a view). */
  words(w: BigUint64Array, n: number): E;
  /** A zeroed vector whose limb arrays lie in wire order in one buffer (`wireBytes` without a copy). */
  allocWire(n: number): E;
  /** The wire bytes of `v`: a view when its limbs lie in wire order in one buffer, else a copy. */
  wireBytes(v: E): Uint8Array;
  /** A received vector in wire form; a view when `b` is 8-byte aligned (only read). */
  fromWire(b: Uint8Array, n: number): E;
  /** `n` uniform elements from `prg`: limbs·8·n bytes in wire layout. */
  random(prg: Prg, n: number): E;
  /** A zeroed vector in wire layout from `kernels` (shared memory on a worker pool). */
  kernelAlloc(kernels: Kernels, n: number): E;
  /** `v` itself when the kernels' workers can read it, else a shared copy. */
  kernelReach(kernels: Kernels, v: E): E;
  /** Tag of the worker kernels' tasks over this ring (workers/kernels.ts). */
  readonly task: { ring?: 192 };
}

/** Zero words, read only: the upper limbs of `liftView`s (one buffer per ring object). */
function zeroWords(): (n: number) => BigUint64Array {
  let zeros = new BigUint64Array(0);
  return (n) => {
    if (zeros.length < n) zeros = new BigUint64Array(n);
    return zeros.subarray(0, n);
  };
}

/** The vector kernels a MAC ring takes as they are from its module (ring/z128.ts, ring/z192.ts). */
type Kernelled<E> = Pick<MacRing<unknown, E>, 'alloc' | 'add' | 'sub' | 'neg' | 'mul' | 'mulScalar' | 'addScalar' | 'beaverCombine' | 'sum' | 'chiDot' | 'toBytes' | 'fromBytes'>;

function kernelsOf<E>(m: Kernelled<E>): Kernelled<E> {
  const { alloc, add, sub, neg, mul, mulScalar, addScalar, beaverCombine, sum, chiDot, toBytes, fromBytes } = m;
  return { alloc, add, sub, neg, mul, mulScalar, addScalar, beaverCombine, sum, chiDot, toBytes, fromBytes };
}

/** The sizes that follow from k with s = 64: k + s bits in 64-bit limbs. */
function sizes<K extends 64 | 128>(k: K) {
  const limbs = k === 64 ? 2 : 3;
  return { k, bits: (k + 64) as K extends 64 ? 128 : 192, limbs: limbs as 2 | 3, bytes: 8 * limbs };
}

const zero64 = zeroWords();

/** SPDZ2k with k = 64, s = 64: shares in Z_2^128, values in Z_2^64 (the first version's layout and labels). */
export const MAC64: MacRing<BigUint64Array, Z128Vec> = {
  ...sizes(64),
  label: 'tessera/spdz2k/v1',
  D: D64,
  task: {},
  ...kernelsOf(z128),
  length: (v) => v.lo.length,
  slice: slice128,
  concat: concat128,
  broadcast: broadcast128,
  gather: (v, index, block) => ({ lo: gather64(v.lo, index, block), hi: gather64(v.hi, index, block) }),
  place: (into, offset, part) => {
    into.lo.set(part.lo, offset);
    into.hi.set(part.hi, offset);
  },
  mulValue: (a, p, out) => z128.mulU64(a, p, out),
  lift: (v) => z128.lift(v),
  liftView: (v) => ({ lo: v, hi: zero64(v.length) }),
  low: (v) => z128.low64(v),
  lowInto: (v, out, at) => out.set(v.lo, at),
  addValues: (a, b, out) => z64.add(a, b, out),
  shiftK: (v) => ({ lo: new BigUint64Array(v.lo.length), hi: v.lo.slice() }),
  scalar: (x) => z128.fromBigints([x]),
  scalarOf: (v) => (v.hi[0] << 64n) | v.lo[0],
  valueScalar: (v) => v[0],
  limbArrays: (v) => [v.lo, v.hi],
  words: (w, n) => z128.wordsView(w, n),
  allocWire,
  wireBytes,
  fromWire,
  random: (prg, n) => prg.z128(n),
  kernelAlloc: (k, n) => k.alloc128(n),
  kernelReach: (k, v) => k.reach128(v),
};

const slice192 = (v: Z192Vec, start: number, end: number): Z192Vec => ({ l0: v.l0.subarray(start, end), l1: v.l1.subarray(start, end), l2: v.l2.subarray(start, end) });

function place192(into: Z192Vec, offset: number, part: Z192Vec): void {
  into.l0.set(part.l0, offset);
  into.l1.set(part.l1, offset);
  into.l2.set(part.l2, offset);
}

const zero128 = zeroWords();

/** SPDZ2k with k = 128, s = 64: shares in Z_2^192, values in Z_2^128. */
export const MAC128: MacRing<Z128Vec, Z192Vec> = {
  ...sizes(128),
  label: 'tessera/spdz2k128/v1',
  D: D128,
  task: { ring: 192 },
  ...kernelsOf(z192),
  length: (v) => v.l0.length,
  slice: slice192,
  concat: (parts) => {
    if (parts.length === 1) return parts[0];
    const out = z192.alloc(parts.reduce((t, v) => t + v.l0.length, 0));
    let off = 0;
    for (const v of parts) {
      place192(out, off, v);
      off += v.l0.length;
    }
    return out;
  },
  broadcast: (v, length) => {
    if (v.l0.length === length) return v;
    if (v.l0.length !== 1) throw new RangeError(`broadcast: cannot stretch ${v.l0.length} elements to ${length}`);
    return { l0: new BigUint64Array(length).fill(v.l0[0]), l1: new BigUint64Array(length).fill(v.l1[0]), l2: new BigUint64Array(length).fill(v.l2[0]) };
  },
  gather: (v, index, block) => ({ l0: gather64(v.l0, index, block), l1: gather64(v.l1, index, block), l2: gather64(v.l2, index, block) }),
  place: place192,
  mulValue: (a, p, out) => z192.mul128(a, p, out),
  lift: (v) => z192.lift(v),
  liftView: (v) => ({ l0: v.lo, l1: v.hi, l2: zero128(v.lo.length) }),
  low: (v) => z192.low128(v),
  lowInto: (v, out, at) => {
    out.lo.set(v.l0, at);
    out.hi.set(v.l1, at);
  },
  addValues: (a, b, out) => z128.add(a, b, out),
  shiftK: (v) => z192.shift128(v, z192.alloc(v.l0.length)),
  scalar: (x) => z192.fromBigints([x]),
  scalarOf: (v) => (v.l2[0] << 128n) | (v.l1[0] << 64n) | v.l0[0],
  valueScalar: (v) => (v.hi[0] << 64n) | v.lo[0],
  limbArrays: (v) => [v.l0, v.l1, v.l2],
  words: (w, n) => z192.wordsView(w, n),
  allocWire: (n) => z192.wordsView(new BigUint64Array(3 * n), n),
  wireBytes: (v) => {
    const n = v.l0.length;
    const contiguous = v.l0.buffer === v.l1.buffer && v.l1.buffer === v.l2.buffer && v.l1.byteOffset === v.l0.byteOffset + 8 * n && v.l2.byteOffset === v.l1.byteOffset + 8 * n;
    return contiguous ? new Uint8Array(v.l0.buffer, v.l0.byteOffset, 24 * n) : z192.toBytes(v);
  },
  fromWire: (b, n) => z192.wordsView(bytesToU64(b.subarray(0, 24 * n)), n),
  random: (prg, n) => z192.wordsView(bytesToU64(prg.bytes(24 * n)), n),
  // One buffer of 3n words: shared (and reachable by the workers) when the kernels share 3n words.
  kernelAlloc: (k, n) => z192.wordsView(k.alloc64(3 * n), n),
  kernelReach: (k, v) => ({ l0: k.reach64(v.l0), l1: k.reach64(v.l1), l2: k.reach64(v.l2) }),
};

/** Either MAC ring, where the plan decides at run time. */
export type AnyMacRing = MacRing<BigUint64Array, Z128Vec> | MacRing<Z128Vec, Z192Vec>;

/** The MAC ring of a plan's value domain (`ring` absent: Z_2^64). */
export function macRingOf(plan: { ring?: RingBits }): AnyMacRing {
  return plan.ring === 128 ? MAC128 : MAC64;
}
