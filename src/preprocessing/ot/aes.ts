/**
 * Fixed-key AES as a random permutation π, and the hash functions OT extension builds on it
 * [GKWY20: Guo, Katz, Wang, Yu, "Efficient and secure multiparty computation from fixed-key
 * block ciphers", S&P 2020].
 *
 * OT extension turns each row q_i of its correlated matrix into a one-time key H(q_i) or
 * H(q_i ⊕ Δ), so it needs a hash that stays pseudorandom under the correlation Δ
 * [IKNP03]. A keyed AES per row would need a key schedule per row; fixed-key AES with the
 * key known to everyone costs one pipelined AES-NI block per row instead, and GKWY20 show
 * which constructions on top of a fixed π are sound (ideal-permutation model):
 *
 * - `crHash`: H(x) = π(x) ⊕ x (Matyas–Meyer–Oseas). Correlation robust (CR, GKWY20),
 *   which is what *semi-honest* IKNP needs: the rows t_i are then honestly random and distinct.
 * - `tcrHash`: H(i, x) = π(π(x) ⊕ i) ⊕ π(x) (the tweakable "TMMO" construction). Tweakable
 *   correlation robust (TCR, GKWY20), which *malicious* OT extension needs: a cheating
 *   receiver chooses its rows, e.g. two equal rows with different choice bits, and only a
 *   distinct tweak per OT keeps H(i, q_i ⊕ Δ) and H(j, q_j ⊕ Δ) independent. Two AES calls.
 *
 * A bare π(x), or π(x) ⊕ x with a malicious receiver, is *not* used: GKWY20 and Masny–Rindal
 * (CCS 2019) explain why OT extension against a malicious receiver needs the tweak.
 *
 * Batches go through OpenSSL's AES-128-ECB (`node:crypto`, AES-NI, pipelined) in
 * pieces of 64 KiB, so there is no per-block call from JavaScript; the XORs around π are
 * done over 64-bit words.
 * @module
 */

import { createCipheriv, type Cipher } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { describeKind } from '../../util/describe.ts';
// ECB runs in pieces of AES_PIECE bytes (src/ring/prg.ts says why).
import { AES_PIECE } from '../../ring/prg.ts';

/** One AES block: 16 bytes. */
export const BLOCK_BYTES = 16;

/**
 * The public fixed key: the first 16 bytes of SHA-256("tessera/ot/fixed-key-aes/v1"). Any
 * public key works in the ideal-permutation model; deriving it from a label makes it a
 * nothing-up-my-sleeve constant.
 */
export function fixedKey(): Uint8Array {
  return sha256(new TextEncoder().encode('tessera/ot/fixed-key-aes/v1')).slice(0, 16);
}

function checkBlocks(fn: string, x: unknown): asserts x is Uint8Array {
  if (!(x instanceof Uint8Array)) throw new TypeError(`${fn}: expected Uint8Array, got ${describeKind(x)}`);
  if (x.length % BLOCK_BYTES !== 0) throw new RangeError(`${fn}: expected a length that is a multiple of 16, got ${x.length}`);
}

/** A 64-bit view of `b`, copying only when `b` is not 8-byte aligned. */
function words(b: Uint8Array): BigUint64Array {
  if (b.byteOffset % 8 === 0) return new BigUint64Array(b.buffer, b.byteOffset, b.length >>> 3);
  const w = new BigUint64Array(b.length >>> 3);
  new Uint8Array(w.buffer).set(b);
  return w;
}

/**
 * AES-128 under one fixed key, applied blockwise (ECB: no chaining, so one cipher object
 * serves every call and never needs `final`).
 * @example
 * const aes = new FixedKeyAes();
 * const h = crHash(aes, rows); // one 16-byte hash per 16-byte row
 */
export class FixedKeyAes {
  readonly #cipher: Cipher;

  constructor(key: Uint8Array = fixedKey()) {
    if (!(key instanceof Uint8Array) || key.length !== 16) {
      throw new RangeError(`FixedKeyAes: key: expected Uint8Array of length 16, got ${key instanceof Uint8Array ? `length=${key.length}` : describeKind(key)}`);
    }
    const c = createCipheriv('aes-128-ecb', key, null);
    c.setAutoPadding(false);
    this.#cipher = c;
  }

  /**
   * π(x) for the blocks of `piece` (at most a few hundred KB), as the fresh buffer OpenSSL returns — no
   * copy. For the hash loops below, which work piece by piece anyway.
   */
  encryptPiece(piece: Uint8Array): Uint8Array {
    const b = this.#cipher.update(piece);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  /** π(x) for every 16-byte block of `blocks`, into `out` (which may be `blocks` itself). */
  encrypt(blocks: Uint8Array, out: Uint8Array = new Uint8Array(blocks.length)): Uint8Array {
    checkBlocks('FixedKeyAes.encrypt: blocks', blocks);
    if (!(out instanceof Uint8Array) || out.length !== blocks.length) throw new RangeError(`FixedKeyAes.encrypt: out: expected length ${blocks.length}`);
    for (let off = 0; off < blocks.length; off += AES_PIECE) {
      const end = Math.min(off + AES_PIECE, blocks.length);
      out.set(this.#cipher.update(blocks.subarray(off, end)), off);
    }
    return out;
  }
}

/**
 * `x` itself, or — when `mask` is given — a fresh copy of x with `mask` XORed into every
 * block. OT extension hashes q_i and q_i ⊕ Δ: the mask is Δ.
 */
function masked(x: Uint8Array, mask: Uint8Array | undefined): Uint8Array {
  if (mask === undefined) return x;
  if (!(mask instanceof Uint8Array) || mask.length !== BLOCK_BYTES) throw new RangeError('mask: expected Uint8Array of length 16');
  const out = new Uint8Array(x.length);
  xorMaskInto(new BigUint64Array(out.buffer), words(x), words(mask));
  return out;
}

function xorMaskInto(out: BigUint64Array, x: BigUint64Array, m: BigUint64Array): void {
  const m0 = m[0];
  const m1 = m[1];
  for (let i = 0; i < out.length; i += 2) {
    out[i] = BigInt.asUintN(64, x[i] ^ m0);
    out[i + 1] = BigInt.asUintN(64, x[i + 1] ^ m1);
  }
}

/**
 * H(x) = π(x) ⊕ x for every 16-byte block of `x` (of x ⊕ `mask` when given)
 * [GKWY20, correlation robust]. Returns 16 bytes per block.
 */
export function crHash(aes: FixedKeyAes, x: Uint8Array, mask?: Uint8Array): Uint8Array {
  checkBlocks('crHash: x', x);
  const y = masked(x, mask);
  const out = aes.encrypt(y); // a fresh, aligned buffer
  const o = new BigUint64Array(out.buffer, out.byteOffset, out.length >>> 3);
  xorWords(o, words(y));
  return out;
}

function xorWords(o: BigUint64Array, w: BigUint64Array): void {
  for (let i = 0; i < o.length; i++) o[i] = BigInt.asUintN(64, o[i] ^ w[i]);
}

/**
 * H(i, x) = π(π(x) ⊕ i) ⊕ π(x) for block k of `x` (of x ⊕ `mask` when given), with tweak
 * i = `tweak0` + k written as a little-endian 64-bit number into the low half of a block
 * [GKWY20, TMMO, tweakable correlation robust]. Tweaks must never repeat under one
 * OT-extension Δ: the OT layer uses a per-session counter of OTs. Returns 16 bytes per block.
 */
export function tcrHash(aes: FixedKeyAes, x: Uint8Array, tweak0: bigint, mask?: Uint8Array): Uint8Array {
  checkBlocks('tcrHash: x', x);
  const m = x.length >>> 4;
  checkTweak('tcrHash', tweak0, m);
  const p = aes.encrypt(masked(x, mask)); // π(x)
  const pw = new BigUint64Array(p.buffer, p.byteOffset, 2 * m);
  const z = pw.slice();
  xorTweaks(z, 0, m, tweak0);
  const zb = new Uint8Array(z.buffer);
  aes.encrypt(zb, zb); // π(π(x) ⊕ i)
  xorWords(z, pw);
  return zb;
}

/**
 * The low 64 bits of crHash(x, mask) for every block, as ring elements of Z_2^64: what Gilboa
 * multiplication over Z_2^64 needs. Works piece by piece, so the masked input and π's output
 * never exist in full. Writes into `out` (one word per block) when given.
 */
export function crHash64(aes: FixedKeyAes, x: Uint8Array, mask?: Uint8Array, out: BigUint64Array = new BigUint64Array(x.length >>> 4)): BigUint64Array {
  checkBlocks('crHash64: x', x);
  checkOut('crHash64', out, x.length >>> 4);
  forEachMaskedPiece(x, mask, (k0, n, inW) => {
    const ew = words(aes.encryptPiece(new Uint8Array(inW.buffer, inW.byteOffset, inW.byteLength)));
    lowXor(out, k0, ew, inW, n);
  });
  return out;
}

/**
 * x ⊕ mask piece by piece: `fn(k0, n, words)` for the n blocks from block k0, as 64-bit
 * words (a view of x when there is no mask, else a scratch buffer reused between pieces).
 */
function forEachMaskedPiece(x: Uint8Array, mask: Uint8Array | undefined, fn: (k0: number, n: number, inW: BigUint64Array) => void): void {
  const xw = words(x);
  const mw = mask === undefined ? undefined : words(masked(new Uint8Array(16), mask));
  const scratch = mw === undefined ? undefined : new BigUint64Array(Math.min(x.length, AES_PIECE) >>> 3);
  for (let off = 0; off < x.length; off += AES_PIECE) {
    const end = Math.min(off + AES_PIECE, x.length);
    const k0 = off >>> 4;
    const n = (end - off) >>> 4;
    let inW = xw.subarray(2 * k0, 2 * (k0 + n));
    if (scratch !== undefined && mw !== undefined) {
      inW = scratch.subarray(0, 2 * n);
      xorMaskInto(inW, xw.subarray(2 * k0, 2 * (k0 + n)), mw);
    }
    fn(k0, n, inW);
  }
}

/** out[k0 + k] = e[2k] ^ x[2k]: the low half of each block's π(x) ⊕ x. */
function lowXor(out: BigUint64Array, k0: number, e: BigUint64Array, x: BigUint64Array, n: number): void {
  for (let k = 0; k < n; k++) out[k0 + k] = BigInt.asUintN(64, e[2 * k] ^ x[2 * k]);
}

/** The low 64 bits of tcrHash(x, tweak0, mask) for every block (see `crHash64`). */
export function tcrHash64(aes: FixedKeyAes, x: Uint8Array, tweak0: bigint, mask?: Uint8Array, out: BigUint64Array = new BigUint64Array(x.length >>> 4)): BigUint64Array {
  checkBlocks('tcrHash64: x', x);
  const m = x.length >>> 4;
  checkTweak('tcrHash64', tweak0, m);
  checkOut('tcrHash64', out, m);
  forEachMaskedPiece(x, mask, (k0, n, inW) => {
    const pw = words(aes.encryptPiece(new Uint8Array(inW.buffer, inW.byteOffset, inW.byteLength)));
    const z = pw.slice();
    xorTweaks(z, 0, n, tweak0 + BigInt(k0));
    const zw = words(aes.encryptPiece(new Uint8Array(z.buffer)));
    lowXor(out, k0, zw, pw, n);
  });
  return out;
}

/** z[2k] ^= t0 + k for k in [from, from + n): the tweak goes into the low half of each block. */
function xorTweaks(z: BigUint64Array, from: number, n: number, t0: bigint): void {
  // The counter lives in a typed-array slot: a BigInt carried in a `let` is boxed (z64.ts).
  const ctr = new BigUint64Array(1);
  ctr[0] = t0;
  for (let k = from; k < from + n; k++) {
    z[2 * k] = BigInt.asUintN(64, z[2 * k] ^ ctr[0]);
    ctr[0] = BigInt.asUintN(64, ctr[0] + 1n);
  }
}

function checkOut(fn: string, out: unknown, m: number): void {
  if (!(out instanceof BigUint64Array) || out.length !== m) throw new RangeError(`${fn}: out: expected a BigUint64Array of length ${m}`);
}

function checkTweak(fn: string, tweak0: unknown, count: number): void {
  if (typeof tweak0 !== 'bigint') throw new TypeError(`${fn}: tweak0: expected a bigint, got ${typeof tweak0}`);
  if (tweak0 < 0n || tweak0 + BigInt(count) > 1n << 64n) throw new RangeError(`${fn}: tweak0: expected tweaks in [0, 2^64), got ${tweak0} + ${count}`);
}
