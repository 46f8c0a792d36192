/**
 * The batch kernels a party runs on every chunk of a multiplication layer, as a piscina
 * worker entry (src/node/pool.ts) and, unchanged, in the calling thread
 * (src/protocol/kernels.ts). Each kernel reads and writes only the typed arrays of its task:
 * in a worker these are views over SharedArrayBuffers the caller allocated, so nothing big
 * is ever copied between threads, and a kernel returns nothing.
 *
 * - `beaverOpen64`: this party's [d | e] = [x − a | y − b] of a Beaver multiplication
 *   [Bea91; DPSZ12 §2], over Z_2^64 (semi-honest suite);
 * - `beaverCombine64`: z = c + d·b + e·a (+ d·e for exactly one party);
 * - `spdz2kOpen`: the same openings over Z_2^128 (Z_2^192 with `ring: 192`, SPDZ2k at
 *   k = 128) with the MAC shares alongside
 *   [CDESX18 §4, Π_Online "Multiply"]: [x − a | y − b] in wire layout (low limbs of both
 *   halves, then high limbs) and [m_x − m_a | m_y − m_b];
 * - `spdz2kCombine`: z = c + d·b + e·a (+ d·e) and m_z = m_c + d·(m_b + α_i·e) + e·m_a;
 * - `prgFill`: a reserved region of a PRG stream (AES-256-CTR, ring/prg.ts) into a buffer:
 *   the expansion of dealer preprocessing.
 * @module
 */
import * as z64 from '../src/ring/z64.ts';
import * as z128 from '../src/ring/z128.ts';
import type { Z128Vec } from '../src/ring/z128.ts';
import * as z192 from '../src/ring/z192.ts';
import type { Z192Vec } from '../src/ring/z192.ts';
import { expandRegion, type PrgRegion } from '../src/ring/prg.ts';

/** An authenticated share: value shares and MAC shares (the layout of spdz2k/share.ts). */
export interface AuthVec<E = Z128Vec> {
  x: E;
  m: E;
}

export interface BeaverOpen64Task {
  op: 'beaverOpen64';
  x: BigUint64Array;
  y: BigUint64Array;
  a: BigUint64Array;
  b: BigUint64Array;
  /** 2w elements: [x − a | y − b]. */
  out: BigUint64Array;
}

export interface BeaverCombine64Task {
  op: 'beaverCombine64';
  c: BigUint64Array;
  a: BigUint64Array;
  b: BigUint64Array;
  d: BigUint64Array;
  e: BigUint64Array;
  addDE: boolean;
  /** May alias `c`. */
  out: BigUint64Array;
}

/** The MAC ring of a SPDZ2k task: Z_2^128 when `ring` is absent (k = 64), Z_2^192 for `ring: 192` (k = 128). */
type Ringed<T> = (T & { ring?: undefined }) | (Retyped<T> & { ring: 192 });
type Retyped<T> = { [K in keyof T]: T[K] extends Z128Vec ? Z192Vec : T[K] extends AuthVec ? AuthVec<Z192Vec> : T[K] };

interface Spdz2kOpenFields {
  op: 'spdz2kOpen';
  x: AuthVec;
  y: AuthVec;
  a: AuthVec;
  b: AuthVec;
  /** 2w elements: [x.x − a.x | y.x − b.x]. */
  out: Z128Vec;
  /** 2w elements: [x.m − a.m | y.m − b.m]. */
  macs: Z128Vec;
}

interface Spdz2kCombineFields {
  op: 'spdz2kCombine';
  c: AuthVec;
  a: AuthVec;
  b: AuthVec;
  d: Z128Vec;
  e: Z128Vec;
  /** This party's MAC key share α_i. */
  alpha: bigint;
  addDE: boolean;
  out: AuthVec;
}

export type Spdz2kOpenTask = Ringed<Spdz2kOpenFields>;
export type Spdz2kCombineTask = Ringed<Spdz2kCombineFields>;

export interface PrgFillTask {
  op: 'prgFill';
  region: PrgRegion;
  /** Exactly `region.length` bytes. */
  out: Uint8Array;
}

export type KernelTask = BeaverOpen64Task | BeaverCombine64Task | Spdz2kOpenTask | Spdz2kCombineTask | PrgFillTask;

/** What the SPDZ2k kernels need of a MAC ring's vectors. */
interface Arith<E> {
  add(a: E, b: E, out?: E): E;
  sub(a: E, b: E, out?: E): E;
  mulScalar(a: E, k: bigint, out?: E): E;
  beaverCombine(c: E, a: E, b: E, d: E, e: E, addDE: boolean, out?: E): E;
  view(v: E, start: number, end: number): E;
}

const A128: Arith<Z128Vec> = { ...z128, view: (v, start, end) => ({ lo: v.lo.subarray(start, end), hi: v.hi.subarray(start, end) }) };
const A192: Arith<Z192Vec> = { ...z192, view: (v, start, end) => ({ l0: v.l0.subarray(start, end), l1: v.l1.subarray(start, end), l2: v.l2.subarray(start, end) }) };

export function beaverOpen64(t: BeaverOpen64Task): void {
  const w = t.x.length;
  z64.sub(t.x, t.a, t.out.subarray(0, w));
  z64.sub(t.y, t.b, t.out.subarray(w, 2 * w));
}

export function beaverCombine64(t: BeaverCombine64Task): void {
  z64.beaverCombine(t.c, t.a, t.b, t.d, t.e, t.addDE, t.out);
}

function open<E>(K: Arith<E>, t: { x: AuthVec<E>; y: AuthVec<E>; a: AuthVec<E>; b: AuthVec<E>; out: E; macs: E }, w: number): void {
  K.sub(t.x.x, t.a.x, K.view(t.out, 0, w));
  K.sub(t.y.x, t.b.x, K.view(t.out, w, 2 * w));
  K.sub(t.x.m, t.a.m, K.view(t.macs, 0, w));
  K.sub(t.y.m, t.b.m, K.view(t.macs, w, 2 * w));
}

function combine<E>(K: Arith<E>, t: { c: AuthVec<E>; a: AuthVec<E>; b: AuthVec<E>; d: E; e: E; alpha: bigint; addDE: boolean; out: AuthVec<E> }): void {
  K.beaverCombine(t.c.x, t.a.x, t.b.x, t.d, t.e, t.addDE, t.out.x);
  // m_z = m_c + d·(m_b + α_i·e) + e·m_a: the public d·e enters every MAC share as α_i·d·e.
  const mb = K.mulScalar(t.e, t.alpha);
  K.add(t.b.m, mb, mb);
  K.beaverCombine(t.c.m, t.a.m, mb, t.d, t.e, false, t.out.m);
}

export function spdz2kOpen(t: Spdz2kOpenTask): void {
  if (t.ring === 192) open(A192, t, t.x.x.l0.length);
  else open(A128, t, t.x.x.lo.length);
}

export function spdz2kCombine(t: Spdz2kCombineTask): void {
  if (t.ring === 192) combine(A192, t);
  else combine(A128, t);
}

export function prgFill(t: PrgFillTask): void {
  expandRegion(t.region, t.out);
}

/** Run one task (piscina calls the default export with the task it was given). */
export default function runTask(t: KernelTask): void {
  switch (t.op) {
    case 'beaverOpen64':
      return beaverOpen64(t);
    case 'beaverCombine64':
      return beaverCombine64(t);
    case 'spdz2kOpen':
      return spdz2kOpen(t);
    case 'spdz2kCombine':
      return spdz2kCombine(t);
    case 'prgFill':
      return prgFill(t);
    default:
      throw new TypeError(`kernels: unknown op ${JSON.stringify((t as { op?: unknown }).op)}`);
  }
}
