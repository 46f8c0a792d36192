/**
 * Gilboa's OT multiplication [Gilboa, CRYPTO 1999; in Z_2^k as in MASCOT, KOS16, and SPDZ2k,
 * CDESX18] over Z_2^192, for SPDZ2k with k = 128, s = 64 (src/preprocessing/ot/spdz2k.ts):
 * the OT sender holds x, the receiver y, and they end with s + r = x·y mod 2^192. The protocol
 * is gilboa.ts's (read its module comment first) with 192 OTs per product and 192-bit OT keys
 * (`extendRot192`: the 128-bit key widened by one fixed-key AES block, extension.ts says why
 * that is sound): τ_j = m0_j − m1_j + x, the sender keeps −Σ_j 2^j·m0_j, the receiver
 * Σ_j 2^j·(m_{y_j} + y_j·τ_j).
 *
 * Packing, light: τ_j is multiplied by 2^j, so only its low 192 − j bits matter, and whole
 * limbs are dropped — 3 words for j < 64, 2 (limbs 0, 1) for 64 ≤ j < 128, 1 (limb 0) for
 * j ≥ 128: 384 words, **3 072 bytes of corrections per product** (the bit-exact minimum is
 * Σ(192 − j) = 18 528 bits, 2 316 bytes; unpacked would be 4 608). The receiver treats the
 * dropped limbs as zero, which changes 2^j·τ_j only by multiples of 2^192. Plus 192 OTs ×
 * 16 bytes = 3 072 bytes of extension matrix: ~6.1 KB per product, against 3 080 at Z_2^128.
 *
 * The kernels are limb-wise with 64-bit intermediates under `BigInt.asUintN(64, …)` (ring/z192.ts
 * explains the carry and borrow formulas, which hold with a carry-in too); the sums Σ 2^j·v_j
 * go by Horner's rule from j = 191 down, whose doubling needs constant shifts only. Security
 * is the session's, as in gilboa.ts: with a malicious session a cheating *sender* can still
 * add y-bit-dependent errors, which spdz2k.ts's combine and sacrifice remove.
 * @module
 */
import { MessageKind } from '../../protocol/transport.ts';
import { alloc as z192alloc, assertZ192, type Z192Vec } from '../../ring/z192.ts';
import { FixedKeyAes } from './aes.ts';
import { OtStep, type OtExtReceiver, type OtExtSender } from './extension.ts';
import { recvCorrections } from './gilboa.ts';

/** OTs per product over Z_2^192. */
export const GILBOA_OTS_192 = 192;
/** Words of corrections per product (see the module comment). */
export const GILBOA_WORDS_192 = 384;

/** Bytes of corrections for `n` products over Z_2^192: 3 072 each. */
export function gilboaCorrectionBytes192(n: number): number {
  return 8 * GILBOA_WORDS_192 * n;
}

// Per j: where τ_j's limbs sit among a product's words. A dropped limb reads word 0 of the
// product and is masked to zero, so one loop body serves every j.
const OFF = Uint32Array.from({ length: 192 }, (_, j) => (j < 64 ? 3 * j : j < 128 ? 192 + 2 * (j - 64) : 320 + (j - 128)));
const OFF1 = Uint32Array.from({ length: 192 }, (_, j) => (j < 128 ? OFF[j] + 1 : 0));
const OFF2 = Uint32Array.from({ length: 192 }, (_, j) => (j < 64 ? OFF[j] + 2 : 0));
const KEEP1 = BigUint64Array.from({ length: 192 }, (_, j) => (j < 128 ? 0xffffffffffffffffn : 0n));
const KEEP2 = BigUint64Array.from({ length: 192 }, (_, j) => (j < 64 ? 0xffffffffffffffffn : 0n));
/** SELECT[b] = b ? 2^64 − 1 : 0. */
const SELECT = BigUint64Array.from([0n, 0xffffffffffffffffn]);

/**
 * Sender kernel: `m0`, `m1` hold 3 words per OT (limbs 0, 1, 2), 192 OTs per product; writes
 * the packed τ into `out` (384 words per product) and −Σ_j 2^j·m0_j into `share`.
 */
export function gilboaSenderKernel192(m0: BigUint64Array, m1: BigUint64Array, x: Z192Vec, out: BigUint64Array, share: Z192Vec): void {
  const n = x.l0.length;
  const acc = new BigUint64Array(3);
  for (let k = 0; k < n; k++) {
    const x0 = x.l0[k];
    const x1 = x.l1[k];
    const x2 = x.l2[k];
    const o = GILBOA_WORDS_192 * k;
    acc[0] = 0n;
    acc[1] = 0n;
    acc[2] = 0n;
    for (let j = 191; j >= 0; j--) {
      const b = 3 * (192 * k + j);
      const a0 = m0[b];
      const a1 = m0[b + 1];
      const a2 = m0[b + 2];
      const c0 = m1[b];
      const c1 = m1[b + 1];
      // d = m0 − m1, borrows bit 63 of (¬a & c) | ((¬a | c) & d)
      const d0 = BigInt.asUintN(64, a0 - c0);
      const na0 = BigInt.asUintN(64, a0 ^ 0xffffffffffffffffn);
      const w0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, na0 & c0) | BigInt.asUintN(64, BigInt.asUintN(64, na0 | c0) & d0)) >> 63n);
      const d1 = BigInt.asUintN(64, BigInt.asUintN(64, a1 - c1) - w0);
      const na1 = BigInt.asUintN(64, a1 ^ 0xffffffffffffffffn);
      const w1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, na1 & c1) | BigInt.asUintN(64, BigInt.asUintN(64, na1 | c1) & d1)) >> 63n);
      const d2 = BigInt.asUintN(64, BigInt.asUintN(64, a2 - m1[b + 2]) - w1);
      // τ = d + x, carries bit 63 of (d & x) | ((d | x) & ¬s)
      const s0 = BigInt.asUintN(64, d0 + x0);
      const y0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, d0 & x0) | BigInt.asUintN(64, BigInt.asUintN(64, d0 | x0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
      const s1 = BigInt.asUintN(64, BigInt.asUintN(64, d1 + x1) + y0);
      const y1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, d1 & x1) | BigInt.asUintN(64, BigInt.asUintN(64, d1 | x1) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
      const s2 = BigInt.asUintN(64, BigInt.asUintN(64, d2 + x2) + y1);
      out[o + OFF[j]] = s0;
      if (j < 128) out[o + OFF1[j]] = s1;
      if (j < 64) out[o + OFF2[j]] = s2;
      // acc ← 2·acc − m0_j (Horner, negated)
      const l0 = acc[0];
      const l1 = acc[1];
      const e0 = BigInt.asUintN(64, l0 << 1n);
      const e1 = BigInt.asUintN(64, BigInt.asUintN(64, l1 << 1n) | BigInt.asUintN(64, l0 >> 63n));
      const e2 = BigInt.asUintN(64, BigInt.asUintN(64, acc[2] << 1n) | BigInt.asUintN(64, l1 >> 63n));
      const r0 = BigInt.asUintN(64, e0 - a0);
      const ne0 = BigInt.asUintN(64, e0 ^ 0xffffffffffffffffn);
      const v0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, ne0 & a0) | BigInt.asUintN(64, BigInt.asUintN(64, ne0 | a0) & r0)) >> 63n);
      const r1 = BigInt.asUintN(64, BigInt.asUintN(64, e1 - a1) - v0);
      const ne1 = BigInt.asUintN(64, e1 ^ 0xffffffffffffffffn);
      const v1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, ne1 & a1) | BigInt.asUintN(64, BigInt.asUintN(64, ne1 | a1) & r1)) >> 63n);
      acc[0] = r0;
      acc[1] = r1;
      acc[2] = BigInt.asUintN(64, BigInt.asUintN(64, e2 - a2) - v1);
    }
    share.l0[k] = acc[0];
    share.l1[k] = acc[1];
    share.l2[k] = acc[2];
  }
}

/**
 * Receiver kernel: `h` holds 3 words per OT, `choices` 24 bytes per product (the bits of y,
 * limb 0 first), `packed` the corrections; writes Σ_j 2^j·(h_j + y_j·τ_j) into `share`.
 */
export function gilboaReceiverKernel192(h: BigUint64Array, choices: Uint8Array, packed: BigUint64Array, share: Z192Vec): void {
  const n = share.l0.length;
  const acc = new BigUint64Array(3);
  for (let k = 0; k < n; k++) {
    const o = GILBOA_WORDS_192 * k;
    const cb = 24 * k;
    acc[0] = 0n;
    acc[1] = 0n;
    acc[2] = 0n;
    for (let j = 191; j >= 0; j--) {
      const b = 3 * (192 * k + j);
      const sel = SELECT[(choices[cb + (j >> 3)] >> (j & 7)) & 1];
      const t0 = BigInt.asUintN(64, packed[o + OFF[j]] & sel);
      const t1 = BigInt.asUintN(64, BigInt.asUintN(64, packed[o + OFF1[j]] & KEEP1[j]) & sel);
      const t2 = BigInt.asUintN(64, BigInt.asUintN(64, packed[o + OFF2[j]] & KEEP2[j]) & sel);
      // v = h_j + y_j·τ_j
      const g0 = h[b];
      const g1 = h[b + 1];
      const p0 = BigInt.asUintN(64, g0 + t0);
      const q0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, g0 & t0) | BigInt.asUintN(64, BigInt.asUintN(64, g0 | t0) & BigInt.asUintN(64, p0 ^ 0xffffffffffffffffn))) >> 63n);
      const p1 = BigInt.asUintN(64, BigInt.asUintN(64, g1 + t1) + q0);
      const q1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, g1 & t1) | BigInt.asUintN(64, BigInt.asUintN(64, g1 | t1) & BigInt.asUintN(64, p1 ^ 0xffffffffffffffffn))) >> 63n);
      const p2 = BigInt.asUintN(64, BigInt.asUintN(64, h[b + 2] + t2) + q1);
      // acc ← 2·acc + v
      const l0 = acc[0];
      const l1 = acc[1];
      const e0 = BigInt.asUintN(64, l0 << 1n);
      const e1 = BigInt.asUintN(64, BigInt.asUintN(64, l1 << 1n) | BigInt.asUintN(64, l0 >> 63n));
      const e2 = BigInt.asUintN(64, BigInt.asUintN(64, acc[2] << 1n) | BigInt.asUintN(64, l1 >> 63n));
      const r0 = BigInt.asUintN(64, e0 + p0);
      const u0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, e0 & p0) | BigInt.asUintN(64, BigInt.asUintN(64, e0 | p0) & BigInt.asUintN(64, r0 ^ 0xffffffffffffffffn))) >> 63n);
      const r1 = BigInt.asUintN(64, BigInt.asUintN(64, e1 + p1) + u0);
      const u1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, e1 & p1) | BigInt.asUintN(64, BigInt.asUintN(64, e1 | p1) & BigInt.asUintN(64, r1 ^ 0xffffffffffffffffn))) >> 63n);
      acc[0] = r0;
      acc[1] = r1;
      acc[2] = BigInt.asUintN(64, BigInt.asUintN(64, e2 + p2) + u1);
    }
    share.l0[k] = acc[0];
    share.l1[k] = acc[1];
    share.l2[k] = acc[2];
  }
}

export interface Gilboa192Options {
  /** A fixed-key AES instance to reuse (one is made otherwise). */
  aes?: FixedKeyAes;
  /** The peer's name, for error messages (default its index). */
  peerName?: string;
}

function checkVector(fn: string, what: string, v: Z192Vec): void {
  assertZ192(v, `${fn}: ${what}`);
  if (v.l0.length === 0) throw new RangeError(`${fn}: ${what}: expected at least one element`);
}

/** The bits of y as OT choices: 24 bytes per product, limb 0's 8 bytes first (OT 192k + j is bit j of y_k). */
export function choiceBytes192(y: Z192Vec): Uint8Array {
  const n = y.l0.length;
  const out = new BigUint64Array(3 * n);
  for (let k = 0; k < n; k++) {
    out[3 * k] = y.l0[k];
    out[3 * k + 1] = y.l1[k];
    out[3 * k + 2] = y.l2[k];
  }
  return new Uint8Array(out.buffer);
}


/**
 * The sender's side: multiplies its x_k by the peer's y_k. Returns the sender's shares
 * (x_k·y_k = returned_k + the receiver's share_k, mod 2^192).
 * @example
 * const [s, r] = await Promise.all([gilboaSend192(sender, x), gilboaReceive192(receiver, y)]);
 */
export async function gilboaSend192(ot: OtExtSender, x: Z192Vec, opts: Gilboa192Options = {}): Promise<Z192Vec> {
  checkVector('gilboaSend192', 'x', x);
  const n = x.l0.length;
  const { batch, m0, m1 } = await ot.extendRot192(GILBOA_OTS_192 * n, opts.aes ?? new FixedKeyAes());
  const packed = new BigUint64Array(GILBOA_WORDS_192 * n);
  const share = z192alloc(n);
  gilboaSenderKernel192(m0, m1, x, packed, share);
  await ot.transport.send(ot.peer, MessageKind.Ot, ot.round(batch, OtStep.SenderPayload), new Uint8Array(packed.buffer));
  return share;
}

/** The receiver's side: multiplies its y_k by the peer's x_k. Returns the receiver's shares. */
export async function gilboaReceive192(ot: OtExtReceiver, y: Z192Vec, opts: Gilboa192Options = {}): Promise<Z192Vec> {
  checkVector('gilboaReceive192', 'y', y);
  const n = y.l0.length;
  const choices = choiceBytes192(y);
  const { batch, h } = await ot.extendRot192(choices, GILBOA_OTS_192 * n, opts.aes ?? new FixedKeyAes());
  const bytes = gilboaCorrectionBytes192(n);
  const packed = await recvCorrections(ot, batch, bytes, 'Gilboa multiplication over Z_2^192', opts.peerName);
  const share = z192alloc(n);
  gilboaReceiverKernel192(h, choices, packed, share);
  choices.fill(0);
  return share;
}
