/**
 * OT-based multiplication over Z_2^64 [Gilboa, "Two party RSA key generation", CRYPTO 1999;
 * in Z_2^k as in MASCOT, Keller–Orsini–Scholl CCS 2016, §3 and SPDZ2k]: the OT sender holds
 * x, the receiver holds y, and they end with additive shares s + r = x·y mod 2^64. Vectorised:
 * one call multiplies N pairs (x_k, y_k) with 64·N OTs of one extension batch.
 *
 * For each bit j of y, one correlated OT with the receiver's choice bit y_j: from the random
 * OT keys (m0, m1) of extension.ts, the sender sends τ_j = m0 − m1 + x and keeps −2^j·m0;
 * the receiver, holding m_{y_j}, computes 2^j·(m_{y_j} + y_j·τ_j) = 2^j·(m0 + y_j·x). Summed
 * over j: s = −Σ 2^j·m0_j, r = Σ 2^j·(m0_j + y_j·x), s + r = x·y.
 *
 * Packing (what makes the byte count): τ_j is multiplied by 2^j, so only its low 64 − j bits
 * matter [MASCOT §3: "the receiver only needs k − j bits"], 2080 bits per product instead of
 * 4096. They are packed with no bit shuffling at all by pairing j with 64 − j, whose widths add
 * up to exactly 64: the word for j ∈ [1, 31] is
 *   w = (τ_j mod 2^{64−j}) + 2^{64−j}·τ_{64−j}   (mod 2^64)
 * and the receiver recovers both terms it needs with one multiplication or one mask each:
 *   2^j·w = 2^j·τ_j (the upper part overflows), and w with its low 64 − j bits cleared is
 *   2^{64−j}·τ_{64−j}.
 * τ_0 takes a word of its own; the 32-bit τ_32 of two consecutive products share a word the
 * same way. So N products cost 32·N + ⌈N/2⌉ words: 260 bytes each, the minimum, plus 1 024
 * bytes of OT-extension matrix (64 OTs × 128 bits). Only multiplications and masks by
 * precomputed constants run in the loops (variable BigInt shifts are not compiled to native
 * code by Node 20's V8, multiplications are).
 *
 * The OTs' hash and check follow the session: semi-honest sessions (CR hash, no check) give
 * semi-honest multiplication; a malicious session protects the sender's Δ, but a malicious
 * *sender* of τ can still add errors that depend on y's bits (a selective failure), which
 * MASCOT removes with its combine-and-sacrifice steps — not implemented here (README.md).
 * @module
 */

import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../../protocol/transport.ts';
import { FixedKeyAes } from './aes.ts';
import { OtStep, type OtExtReceiver, type OtExtSender } from './extension.ts';

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

function describeKind(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

function checkVector(fn: string, what: string, v: unknown): asserts v is BigUint64Array {
  if (!(v instanceof BigUint64Array)) throw new TypeError(`${fn}: ${what}: expected BigUint64Array, got ${describeKind(v)}`);
  if (v.length === 0) throw new RangeError(`${fn}: ${what}: expected at least one element`);
}

/**
 * Sender kernel: τ from (m0, m1, x), packed into `out`, and the sender's shares −Σ 2^j·m0_j.
 * Pure function over typed arrays; exported for tests and benchmarks.
 */
export function gilboaSenderKernel64(m0: BigUint64Array, m1: BigUint64Array, x: BigUint64Array, out: BigUint64Array, share: BigUint64Array): void {
  const n = x.length;
  const tau = new BigUint64Array(64);
  const acc = new BigUint64Array(1);
  for (let k = 0; k < n; k++) {
    const xk = x[k];
    const base = 64 * k;
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
export function gilboaReceiverKernel64(h: BigUint64Array, y: BigUint64Array, packed: BigUint64Array, share: BigUint64Array): void {
  const n = y.length;
  const yb = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  const acc = new BigUint64Array(1);
  for (let k = 0; k < n; k++) {
    const yk = y[k];
    const base = 64 * k;
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
  const { batch, m0, m1 } = await ot.extendRot64(GILBOA_OTS_64 * n, opts.aes ?? new FixedKeyAes());
  const packed = new BigUint64Array(gilboaCorrectionBytes64(n) / 8);
  const share = new BigUint64Array(n);
  gilboaSenderKernel64(m0, m1, x, packed, share);
  await ot.transport.send(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload), new Uint8Array(packed.buffer));
  return share;
}

/** The receiver's side: multiplies its y_k by the peer's x_k. Returns the receiver's shares. */
export async function gilboaReceive64(ot: OtExtReceiver, y: BigUint64Array, opts: GilboaOptions = {}): Promise<BigUint64Array> {
  checkVector('gilboaReceive64', 'y', y);
  const n = y.length;
  // The choice bits are the bits of y, in order: bit j of y_k is OT 64k + j — the bytes of y as they are.
  const { batch, h } = await ot.extendRot64(new Uint8Array(y.buffer, y.byteOffset, y.byteLength), GILBOA_OTS_64 * n, opts.aes ?? new FixedKeyAes());
  const bytes = gilboaCorrectionBytes64(n);
  const msg = await ot.transport.recv(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload));
  if (!(msg instanceof Uint8Array) || msg.length !== bytes) {
    throw new MpcError(ErrorCode.PROTOCOL, `Gilboa multiplication: party ${ot.peer} sent ${msg instanceof Uint8Array ? msg.length : 0} bytes of corrections, expected ${bytes}`, {
      party: String(ot.peer),
    });
  }
  const packed = msg.byteOffset % 8 === 0 ? new BigUint64Array(msg.buffer, msg.byteOffset, bytes / 8) : new BigUint64Array(msg.slice().buffer);
  const share = new BigUint64Array(n);
  gilboaReceiverKernel64(h, y, packed, share);
  return share;
}
