/**
 * OT-based multiplication over Z_2^64 [Gilboa, "Two party RSA key generation", CRYPTO 1999;
 * in Z_2^k as in MASCOT, Keller–Orsini–Scholl CCS 2016, and SPDZ2k]: the OT sender holds
 * x, the receiver holds y, and they end with additive shares s + r = x·y mod 2^64. Vectorised:
 * one call multiplies N pairs (x_k, y_k) with 64·N OTs of one extension batch.
 *
 * For each bit j of y, one correlated OT with the receiver's choice bit y_j: from the random
 * OT keys (m0, m1) of extension.ts, the sender sends τ_j = m0 − m1 + x and keeps −2^j·m0;
 * the receiver, holding m_{y_j}, computes 2^j·(m_{y_j} + y_j·τ_j) = 2^j·(m0 + y_j·x). Summed
 * over j: s = −Σ 2^j·m0_j, r = Σ 2^j·(m0_j + y_j·x), s + r = x·y.
 *
 * Packing (what makes the byte count): τ_j is multiplied by 2^j, so only its low 64 − j bits
 * matter (the truncation MASCOT and SPDZ2k use), 2080 bits per product instead of
 * 4096. They are packed with no bit shuffling at all by pairing j with 64 − j, whose widths add
 * up to exactly 64: the word for j ∈ [1, 31] is
 *   w = (τ_j mod 2^{64−j}) + 2^{64−j}·τ_{64−j}   (mod 2^64)
 * and the receiver recovers both terms it needs with one multiplication or one mask each:
 *   2^j·w = 2^j·τ_j (the upper part overflows), and w with its low 64 − j bits cleared is
 *   2^{64−j}·τ_{64−j}.
 * τ_0 takes a word of its own; the 32-bit τ_32 of two consecutive products share a word the
 * same way. So N products cost 32·N + ⌈N/2⌉ words: 260 bytes each, the minimum, plus 1 024
 * bytes of OT-extension matrix (64 OTs × 128 bits). Only multiplications and masks by
 * precomputed constants run in the loops: measured on Node 20, packing with variable BigInt
 * shifts ran ~5× slower than this, multiplications stay native 64-bit code.
 *
 * The OTs' hash and check follow the session: semi-honest sessions (CR hash, no check) give
 * semi-honest multiplication; a malicious session protects the sender's Δ, but a malicious
 * *sender* of τ can still add errors that depend on y's bits (a selective failure), which
 * MASCOT removes with its combine-and-sacrifice steps, which spdz2k.ts runs on top.
 * @module
 */

import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../../protocol/transport.ts';
import { FixedKeyAes } from './aes.ts';
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { OtStep, type OtExtReceiver, type OtExtSender } from './extension.ts';
import { describeKind } from '../../util/describe.ts';
import { bytesToU64 } from '../../ring/encoding.ts';

/** OTs per 64-bit product. */
export const GILBOA_OTS_64 = 64;

/** Bytes of packed corrections for `n` 64-bit products: 8·(32·n + ⌈n/2⌉), i.e. 260 per product. */
export function gilboaCorrectionBytes64(n: number): number {
  return 8 * (32 * n + Math.ceil(n / 2));
}

// Constants as typed arrays, so the loops read them as raw 64-bit words.
/** POW[j] = 2^j. */
const POW = BigUint64Array.from({ length: 64 }, (_, j) => 1n << BigInt(j));
/** LOW[j] = 2^{64−j} − 1: the bits of τ_j that matter (j ≥ 1). */
const LOW = BigUint64Array.from({ length: 64 }, (_, j) => (j === 0 ? (1n << 64n) - 1n : (1n << BigInt(64 - j)) - 1n));
/** HIGH[j] = ¬LOW[j]: clears the low 64 − j bits. */
const HIGH = BigUint64Array.from({ length: 64 }, (_, j) => (j === 0 ? 0n : ((1n << 64n) - 1n) ^ ((1n << BigInt(64 - j)) - 1n)));
/** SELECT[b] = b ? 2^64 − 1 : 0, indexed by a bit. */
const SELECT = BigUint64Array.from([0n, (1n << 64n) - 1n]);

function checkVector(fn: string, what: string, v: unknown): asserts v is BigUint64Array {
  if (!(v instanceof BigUint64Array)) throw new TypeError(`${fn}: ${what}: expected BigUint64Array, got ${describeKind(v)}`);
  if (v.length === 0) throw new RangeError(`${fn}: ${what}: expected at least one element`);
}

/**
 * Sender kernel: τ from (m0, m1, x), packed into `out`, and the sender's shares −Σ 2^j·m0_j.
 * Pure function over typed arrays; exported for tests and benchmarks.
 */
export function gilboaSenderKernel64(
  m0: BigUint64Array,
  m1: BigUint64Array,
  x: BigUint64Array,
  out: BigUint64Array,
  share: BigUint64Array,
  from = 0,
  to: number = x.length,
): void {
  // Products [from, to); m0 and m1 hold the keys of exactly these products (64 per product).
  const tau = new BigUint64Array(64);
  const acc = new BigUint64Array(1);
  for (let k = from; k < to; k++) {
    const xk = x[k];
    const base = 64 * (k - from);
    acc[0] = 0n;
    for (let j = 0; j < 64; j++) {
      const a = m0[base + j];
      tau[j] = BigInt.asUintN(64, BigInt.asUintN(64, a - m1[base + j]) + xk);
      acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, a * POW[j]));
    }
    share[k] = BigInt.asUintN(64, -acc[0]);
    const w = 32 * k + (k >>> 1);
    // Layout per product pair: product 2p at words [65p, 65p + 32), product 2p + 1 at
    // [65p + 33, 65p + 65), their shared τ_32 word at 65p + 32.
    const o = k & 1 ? w + 1 : w;
    out[o] = tau[0];
    for (let j = 1; j < 32; j++) {
      out[o + j] = BigInt.asUintN(64, BigInt.asUintN(64, tau[j] & LOW[j]) | BigInt.asUintN(64, tau[64 - j] * POW[64 - j]));
    }
    const shared = 65 * (k >>> 1) + 32;
    if (k & 1) out[shared] = BigInt.asUintN(64, out[shared] | BigInt.asUintN(64, tau[32] * POW[32]));
    else out[shared] = BigInt.asUintN(64, tau[32] & LOW[32]);
  }
}

/**
 * Receiver kernel: r_k = Σ_j 2^j·(h_j + y_j·τ_j) from the keys h, the choices y and the packed
 * corrections `packed` (see the module comment for the two extraction identities).
 */
export function gilboaReceiverKernel64(h: BigUint64Array, y: BigUint64Array, packed: BigUint64Array, share: BigUint64Array, from = 0, to: number = y.length): void {
  // Products [from, to); h holds the keys of exactly these products.
  const yb = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  const acc = new BigUint64Array(1);
  for (let k = from; k < to; k++) {
    const yk = y[k];
    const base = 64 * (k - from);
    acc[0] = 0n;
    for (let j = 0; j < 64; j++) acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, h[base + j] * POW[j]));
    const w = 32 * k + (k >>> 1);
    const o = k & 1 ? w + 1 : w;
    // j = 0: (y & 1)·τ_0.
    acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, BigInt.asUintN(64, yk & 1n) * packed[o]));
    const yByte = 8 * k;
    for (let j = 1; j < 32; j++) {
      const word = packed[o + j];
      // y_j·2^j·τ_j = (y & 2^j)·word, since 2^j·2^{64−j}·τ_{64−j} ≡ 0.
      acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, BigInt.asUintN(64, yk & POW[j]) * word));
      // y_{64−j}·2^{64−j}·τ_{64−j} = (word with its low 64 − j bits cleared) if y_{64−j}.
      const jj = 64 - j;
      const bit = (yb[yByte + (jj >> 3)] >> (jj & 7)) & 1;
      acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, BigInt.asUintN(64, word & HIGH[j]) & SELECT[bit]));
    }
    const sw = packed[65 * (k >>> 1) + 32];
    if (k & 1) {
      const bit = (yb[yByte + 4] >> 0) & 1; // bit 32 of y_k
      acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, BigInt.asUintN(64, sw & HIGH[32]) & SELECT[bit]));
    } else {
      acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, BigInt.asUintN(64, yk & POW[32]) * sw));
    }
    share[k] = acc[0];
  }
}

export interface GilboaOptions {
  /** A fixed-key AES instance to reuse (one is made otherwise). */
  aes?: FixedKeyAes;
}

/**
 * The sender's side: multiplies its x_k by the peer's y_k for every k. Returns the sender's
 * shares (x_k·y_k = returned_k + the receiver's share_k, mod 2^64).
 * @example
 * const [s, r] = await Promise.all([gilboaSend64(sender, x), gilboaReceive64(receiver, y)]);
 * // s[k] + r[k] ≡ x[k]·y[k] (mod 2^64)
 */
export async function gilboaSend64(ot: OtExtSender, x: BigUint64Array, opts: GilboaOptions = {}): Promise<BigUint64Array> {
  checkVector('gilboaSend64', 'x', x);
  const n = x.length;
  const lazy = await ot.extendLazy(GILBOA_OTS_64 * n);
  const packed = new BigUint64Array(gilboaCorrectionBytes64(n) / 8);
  const share = new BigUint64Array(n);
  // Each chunk of keys (whole products: chunks are multiples of 64 rows) goes through the kernel
  // while it is in cache.
  lazy.forEachRot64(opts.aes ?? new FixedKeyAes(), (m0, m1, row0, count) => gilboaSenderKernel64(m0, m1, x, packed, share, row0 / 64, (row0 + count) / 64));
  await ot.transport.send(ot.peer, MessageKind.Ot, ot.round(lazy.batch, OtStep.SenderPayload), new Uint8Array(packed.buffer));
  return share;
}

/** The receiver's side: multiplies its y_k by the peer's x_k. Returns the receiver's shares. */
export async function gilboaReceive64(ot: OtExtReceiver, y: BigUint64Array, opts: GilboaOptions = {}): Promise<BigUint64Array> {
  checkVector('gilboaReceive64', 'y', y);
  const n = y.length;
  // The choice bits are the bits of y, in order: bit j of y_k is OT 64k + j — the bytes of y as they are.
  const lazy = await ot.extendLazy(new Uint8Array(y.buffer, y.byteOffset, y.byteLength), GILBOA_OTS_64 * n);
  const bytes = gilboaCorrectionBytes64(n);
  const packed = await recvCorrections(ot, lazy.batch, bytes, 'Gilboa multiplication');
  const share = new BigUint64Array(n);
  lazy.forEachRot64(opts.aes ?? new FixedKeyAes(), (h, row0, count) => gilboaReceiverKernel64(h, y, packed, share, row0 / 64, (row0 + count) / 64));
  return share;
}

/**
 * The sender's corrections of `batch`, which must be exactly `bytes` long: `what` names the
 * protocol and `peerName` the sender (its index by default) in the PROTOCOL error otherwise.
 */
export async function recvCorrections(ot: OtExtReceiver, batch: number, bytes: number, what: string, peerName: string = String(ot.peer)): Promise<BigUint64Array> {
  const msg = await ot.transport.recv(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload));
  if (!(msg instanceof Uint8Array) || msg.length !== bytes) {
    throw new MpcError(ErrorCode.PROTOCOL, `${what}: party ${peerName} sent ${msg instanceof Uint8Array ? msg.length : 0} bytes of corrections, expected ${bytes}`, {
      party: peerName,
    });
  }
  return bytesToU64(msg);
}

// --- one-bit multipliers ------------------------------------------------------------------
//
// When y is a single bit (random bits, src/preprocessing/ot/triples.ts), the product x·y is one
// correlated OT: the sender sends τ = m0 − m1 + x and keeps −m0; the receiver, holding m_y, gets
// m_y + y·τ = m0 + y·x. 16 bytes of extension matrix + 8 bytes of τ per product.

/** The sender's side of x_k·y_k for bits y_k held by the peer: returns the sender's shares. */
export async function bitMulSend64(ot: OtExtSender, x: BigUint64Array, opts: GilboaOptions = {}): Promise<BigUint64Array> {
  checkVector('bitMulSend64', 'x', x);
  const { batch, m0, m1 } = await ot.extendRot64(x.length, opts.aes ?? new FixedKeyAes());
  const tau = new BigUint64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    tau[k] = BigInt.asUintN(64, BigInt.asUintN(64, m0[k] - m1[k]) + x[k]);
    m0[k] = BigInt.asUintN(64, -m0[k]);
  }
  await ot.transport.send(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload), new Uint8Array(tau.buffer));
  return m0;
}

/** The receiver's side: `bits` packed little-endian (bit k of product k), `count` products. Returns the receiver's shares. */
export async function bitMulReceive64(ot: OtExtReceiver, bits: Uint8Array, count: number, opts: GilboaOptions = {}): Promise<BigUint64Array> {
  const { batch, h } = await ot.extendRot64(bits, count, opts.aes ?? new FixedKeyAes());
  const tau = await recvCorrections(ot, batch, 8 * count, 'OT bit multiplication');
  for (let k = 0; k < count; k++) {
    if ((bits[k >> 3] >> (k & 7)) & 1) h[k] = BigInt.asUintN(64, h[k] + tau[k]);
  }
  return h;
}

/**
 * The one-bit multiplier over Z_2^128 (the semi-honest suite's random bits in that domain):
 * the same correlated OT with 128-bit keys (extendRot128, interleaved lo, hi per OT), τ sent
 * as its low limbs then its high limbs (16 bytes per product).
 */
export async function bitMulSend128(ot: OtExtSender, x: Z128Vec, opts: GilboaOptions = {}): Promise<Z128Vec> {
  checkZ128('bitMulSend128', 'x', x);
  const n = x.lo.length;
  const { batch, m0, m1 } = await ot.extendRot128(n, opts.aes ?? new FixedKeyAes());
  const k0 = deinterleave(m0);
  const tau = z128.add(z128.sub(k0, deinterleave(m1)), x);
  await ot.transport.send(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload), z128.toBytes(tau));
  return z128.neg(k0, k0);
}

/** The receiver's side over Z_2^128: `bits` packed little-endian, `count` products. */
export async function bitMulReceive128(ot: OtExtReceiver, bits: Uint8Array, count: number, opts: GilboaOptions = {}): Promise<Z128Vec> {
  const { batch, h } = await ot.extendRot128(bits, count, opts.aes ?? new FixedKeyAes());
  const tau = z128.wordsView(await recvCorrections(ot, batch, 16 * count, 'OT bit multiplication'), count);
  // h + y·τ: the corrections of the products whose choice bit is 1 (the received words are not written to).
  const chosen = z128.alloc(count);
  for (let k = 0; k < count; k++) {
    if ((bits[k >> 3] >> (k & 7)) & 1) {
      chosen.lo[k] = tau.lo[k];
      chosen.hi[k] = tau.hi[k];
    }
  }
  const keys = deinterleave(h);
  return z128.add(keys, chosen, keys);
}

/** 128-bit OT keys as extendRot128 gives them (lo, hi per OT) as a Z128Vec. */
function deinterleave(w: BigUint64Array): Z128Vec {
  const n = w.length >>> 1;
  const v = z128.alloc(n);
  for (let k = 0; k < n; k++) {
    v.lo[k] = w[2 * k];
    v.hi[k] = w[2 * k + 1];
  }
  return v;
}

// --- Z_2^128 -----------------------------------------------------------------------------
//
// The same protocol with 128 OTs per product and 128-bit OT keys (extendRot128), for the
// Z_2^{k+s} = Z_2^128 arithmetic of SPDZ2k with k = s = 64. Values are two 64-bit limbs; every
// operation is limb-wise with 64-bit intermediates (ring/z128.ts explains why), carries by bit
// operations. τ_j needs 128 − j bits (Σ = 8 256 bits = 129 words per product, the minimum):
//   word j:         lo(τ_j) for j ∈ [0, 64]
//   word 65:        hi(τ_0)
//   word 65 + j:    (hi(τ_j) mod 2^{64−j}) + 2^{64−j}·lo(τ_{128−j})  for j ∈ [1, 63]
// — the 64-bit pairing trick again, on the limbs: hi(τ_j) has 64 − j useful bits and lo(τ_{128−j})
// has j. The receiver needs Σ_j 2^j·y_j·τ_j mod 2^128; in its high limb, 2^j·hi(τ_j) is
// 2^j·word (mod 2^64) and 2^{128−j}·lo(τ_{128−j}) is the word with its low 64 − j bits cleared,
// as in the 64-bit case; the terms 2^j·lo(τ_j) (j < 64) span both limbs and are summed by
// Horner's rule (acc ← 2·acc + v), whose doubling needs only constant shifts.

/** OTs per 128-bit product. */
export const GILBOA_OTS_128 = 128;

/** Bytes of packed corrections for `n` 128-bit products: 129 words, 1 032 bytes, each. */
export function gilboaCorrectionBytes128(n: number): number {
  return 8 * 129 * n;
}

/**
 * Sender kernel over Z_2^128: `m0`, `m1` hold 2 words per OT (lo, hi), x is (xLo, xHi); writes
 * the packed corrections and the sender's shares (shareLo, shareHi) = −Σ_j 2^j·m0_j.
 */
export function gilboaSenderKernel128(
  m0: BigUint64Array,
  m1: BigUint64Array,
  xLo: BigUint64Array,
  xHi: BigUint64Array,
  out: BigUint64Array,
  shareLo: BigUint64Array,
  shareHi: BigUint64Array,
): void {
  const n = xLo.length;
  const tau = new BigUint64Array(256);
  const acc = new BigUint64Array(2);
  for (let k = 0; k < n; k++) {
    const xl = xLo[k];
    const xh = xHi[k];
    const b = 256 * k;
    for (let j = 0; j < 128; j++) {
      const a0 = m0[b + 2 * j];
      const a1 = m0[b + 2 * j + 1];
      const c0 = m1[b + 2 * j];
      const c1 = m1[b + 2 * j + 1];
      // d = m0 − m1: the borrow out of the low limb is majority(¬a0₆₃, c0₆₃, d0₆₃).
      const d0 = BigInt.asUintN(64, a0 - c0);
      const na0 = BigInt.asUintN(64, a0 ^ 0xffffffffffffffffn);
      const bw = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, na0 & c0) | BigInt.asUintN(64, BigInt.asUintN(64, na0 | c0) & d0)) >> 63n);
      const d1 = BigInt.asUintN(64, BigInt.asUintN(64, a1 - c1) - bw);
      // τ = d + x: the carry out of the low limb is majority(d0₆₃, xl₆₃, ¬s0₆₃).
      const s0 = BigInt.asUintN(64, d0 + xl);
      const cy = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, d0 & xl) | BigInt.asUintN(64, BigInt.asUintN(64, d0 | xl) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
      tau[2 * j] = s0;
      tau[2 * j + 1] = BigInt.asUintN(64, BigInt.asUintN(64, d1 + xh) + cy);
    }
    // Σ_j 2^j·m0_j by Horner's rule from j = 127 down: acc ← 2·acc + m0_j.
    acc[0] = 0n;
    acc[1] = 0n;
    for (let j = 127; j >= 0; j--) {
      const lo = acc[0];
      const dl = BigInt.asUintN(64, lo << 1n);
      const dh = BigInt.asUintN(64, BigInt.asUintN(64, acc[1] << 1n) | BigInt.asUintN(64, lo >> 63n));
      const a0 = m0[b + 2 * j];
      const s0 = BigInt.asUintN(64, dl + a0);
      const cy = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dl & a0) | BigInt.asUintN(64, BigInt.asUintN(64, dl | a0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
      acc[0] = s0;
      acc[1] = BigInt.asUintN(64, BigInt.asUintN(64, dh + m0[b + 2 * j + 1]) + cy);
    }
    // share = −acc: the low limb negates, the high limb is ¬hi plus 1 exactly when lo = 0.
    const lo = acc[0];
    const nlo = BigInt.asUintN(64, -lo);
    const isZero = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, lo | nlo) >> 63n) ^ 1n);
    shareLo[k] = nlo;
    shareHi[k] = BigInt.asUintN(64, BigInt.asUintN(64, acc[1] ^ 0xffffffffffffffffn) + isZero);
    const o = 129 * k;
    for (let j = 0; j <= 64; j++) out[o + j] = tau[2 * j];
    out[o + 65] = tau[1];
    for (let j = 1; j < 64; j++) {
      out[o + 65 + j] = BigInt.asUintN(64, BigInt.asUintN(64, tau[2 * j + 1] & LOW[j]) | BigInt.asUintN(64, tau[2 * (128 - j)] * POW[64 - j]));
    }
  }
}

/**
 * Receiver kernel over Z_2^128: `h` holds 2 words per OT, `choices` 16 bytes per product (the
 * bits of y, low limb first), `packed` the corrections; writes r = Σ_j 2^j·(h_j + y_j·τ_j).
 */
export function gilboaReceiverKernel128(h: BigUint64Array, choices: Uint8Array, packed: BigUint64Array, shareLo: BigUint64Array, shareHi: BigUint64Array): void {
  const n = shareLo.length;
  // acc: [0, 1] the Horner sum of h, [2] the high-limb-only terms; t: the Horner sum of y_j·lo(τ_j).
  const acc = new BigUint64Array(3);
  const t = new BigUint64Array(2);
  for (let k = 0; k < n; k++) {
    const b = 256 * k;
    const o = 129 * k;
    const cb = 16 * k;
    acc[0] = 0n;
    acc[1] = 0n;
    acc[2] = 0n;
    // Σ_j 2^j·h_j by Horner's rule over j = 127..0.
    for (let j = 127; j >= 0; j--) {
      const lo = acc[0];
      const dl = BigInt.asUintN(64, lo << 1n);
      const dh = BigInt.asUintN(64, BigInt.asUintN(64, acc[1] << 1n) | BigInt.asUintN(64, lo >> 63n));
      const h0 = h[b + 2 * j];
      const s0 = BigInt.asUintN(64, dl + h0);
      const cy = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dl & h0) | BigInt.asUintN(64, BigInt.asUintN(64, dl | h0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
      acc[0] = s0;
      acc[1] = BigInt.asUintN(64, BigInt.asUintN(64, dh + h[b + 2 * j + 1]) + cy);
    }
    // Σ_{j<64} 2^j·y_j·lo(τ_j), by Horner into (t0, t1), then added to the sum.
    t[0] = 0n;
    t[1] = 0n;
    for (let j = 63; j >= 0; j--) {
      const lo = t[0];
      const dl = BigInt.asUintN(64, lo << 1n);
      const dh = BigInt.asUintN(64, BigInt.asUintN(64, t[1] << 1n) | BigInt.asUintN(64, lo >> 63n));
      const bit = (choices[cb + (j >> 3)] >> (j & 7)) & 1;
      const v = BigInt.asUintN(64, packed[o + j] & SELECT[bit]);
      const s0 = BigInt.asUintN(64, dl + v);
      const cy = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dl & v) | BigInt.asUintN(64, BigInt.asUintN(64, dl | v) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
      t[0] = s0;
      t[1] = BigInt.asUintN(64, dh + cy);
    }
    // High-limb-only terms: y_0·hi(τ_0); y_j·2^j·hi(τ_j) = y_j·(2^j·word); y_{128−j}·lo(τ_{128−j})·2^{64−j}
    // = the word with its low 64 − j bits cleared; y_64·lo(τ_64).
    acc[2] = BigInt.asUintN(64, packed[o + 65] & SELECT[choices[cb] & 1]);
    for (let j = 1; j < 64; j++) {
      const word = packed[o + 65 + j];
      const yj = (choices[cb + (j >> 3)] >> (j & 7)) & 1;
      const jj = 128 - j;
      const yjj = (choices[cb + (jj >> 3)] >> (jj & 7)) & 1;
      acc[2] = BigInt.asUintN(64, acc[2] + BigInt.asUintN(64, BigInt.asUintN(64, word * POW[j]) & SELECT[yj]));
      acc[2] = BigInt.asUintN(64, acc[2] + BigInt.asUintN(64, BigInt.asUintN(64, word & HIGH[j]) & SELECT[yjj]));
    }
    acc[2] = BigInt.asUintN(64, acc[2] + BigInt.asUintN(64, packed[o + 64] & SELECT[choices[cb + 8] & 1]));
    // r = (acc0, acc1) + (t0, t1) + (0, acc2)
    const a0 = acc[0];
    const t0 = t[0];
    const s0 = BigInt.asUintN(64, a0 + t0);
    const cy = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a0 & t0) | BigInt.asUintN(64, BigInt.asUintN(64, a0 | t0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
    shareLo[k] = s0;
    shareHi[k] = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, acc[1] + t[1]) + acc[2]) + cy);
  }
}

function checkZ128(fn: string, what: string, v: Z128Vec): void {
  checkVector(fn, `${what}.lo`, v?.lo);
  checkVector(fn, `${what}.hi`, v?.hi);
  if (v.lo.length !== v.hi.length) throw new RangeError(`${fn}: ${what}: expected lo and hi of equal length, got ${v.lo.length} and ${v.hi.length}`);
}

/** The bits of y as OT choices: for product k, 16 bytes — the low limb's 8, then the high limb's. */
function choiceBytes128(y: Z128Vec): Uint8Array {
  const n = y.lo.length;
  const out = new BigUint64Array(2 * n);
  for (let k = 0; k < n; k++) {
    out[2 * k] = y.lo[k];
    out[2 * k + 1] = y.hi[k];
  }
  return new Uint8Array(out.buffer);
}

/** The sender's side over Z_2^128 (see `gilboaSend64`). */
export async function gilboaSend128(ot: OtExtSender, x: Z128Vec, opts: GilboaOptions = {}): Promise<Z128Vec> {
  checkZ128('gilboaSend128', 'x', x);
  const n = x.lo.length;
  const { batch, m0, m1 } = await ot.extendRot128(GILBOA_OTS_128 * n, opts.aes ?? new FixedKeyAes());
  const packed = new BigUint64Array(gilboaCorrectionBytes128(n) / 8);
  const share = { lo: new BigUint64Array(n), hi: new BigUint64Array(n) };
  gilboaSenderKernel128(m0, m1, x.lo, x.hi, packed, share.lo, share.hi);
  await ot.transport.send(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload), new Uint8Array(packed.buffer));
  return share;
}

/** The receiver's side over Z_2^128 (see `gilboaReceive64`). */
export async function gilboaReceive128(ot: OtExtReceiver, y: Z128Vec, opts: GilboaOptions = {}): Promise<Z128Vec> {
  checkZ128('gilboaReceive128', 'y', y);
  const n = y.lo.length;
  const choices = choiceBytes128(y);
  const { batch, h } = await ot.extendRot128(choices, GILBOA_OTS_128 * n, opts.aes ?? new FixedKeyAes());
  const bytes = gilboaCorrectionBytes128(n);
  const packed = await recvCorrections(ot, batch, bytes, 'Gilboa multiplication');
  const share = { lo: new BigUint64Array(n), hi: new BigUint64Array(n) };
  gilboaReceiverKernel128(h, choices, packed, share.lo, share.hi);
  return share;
}
