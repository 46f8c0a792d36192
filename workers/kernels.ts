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
 * - `spdz2kOpen`: the same openings over Z_2^128 with the MAC shares alongside
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
import { expandRegion, type PrgRegion } from '../src/ring/prg.ts';

/** An authenticated share: value shares and MAC shares (the layout of spdz2k/share.ts). */
export interface AuthVec {
  x: Z128Vec;
  m: Z128Vec;
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

export interface Spdz2kOpenTask {
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

export interface Spdz2kCombineTask {
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

export interface PrgFillTask {
  op: 'prgFill';
  region: PrgRegion;
  /** Exactly `region.length` bytes. */
  out: Uint8Array;
}

export type KernelTask = BeaverOpen64Task | BeaverCombine64Task | Spdz2kOpenTask | Spdz2kCombineTask | PrgFillTask;

const view = (v: Z128Vec, start: number, end: number): Z128Vec => ({ lo: v.lo.subarray(start, end), hi: v.hi.subarray(start, end) });

export function beaverOpen64(t: BeaverOpen64Task): void {
  const w = t.x.length;
  z64.sub(t.x, t.a, t.out.subarray(0, w));
  z64.sub(t.y, t.b, t.out.subarray(w, 2 * w));
}

export function beaverCombine64(t: BeaverCombine64Task): void {
  z64.beaverCombine(t.c, t.a, t.b, t.d, t.e, t.addDE, t.out);
}

export function spdz2kOpen(t: Spdz2kOpenTask): void {
  const w = t.x.x.lo.length;
  z128.sub(t.x.x, t.a.x, view(t.out, 0, w));
  z128.sub(t.y.x, t.b.x, view(t.out, w, 2 * w));
  z128.sub(t.x.m, t.a.m, view(t.macs, 0, w));
  z128.sub(t.y.m, t.b.m, view(t.macs, w, 2 * w));
}

export function spdz2kCombine(t: Spdz2kCombineTask): void {
  z128.beaverCombine(t.c.x, t.a.x, t.b.x, t.d, t.e, t.addDE, t.out.x);
  // m_z = m_c + d·(m_b + α_i·e) + e·m_a: the public d·e enters every MAC share as α_i·d·e.
  const mb = z128.mulScalar(t.e, t.alpha);
  z128.add(t.b.m, mb, mb);
  z128.beaverCombine(t.c.m, t.a.m, mb, t.d, t.e, false, t.out.m);
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
