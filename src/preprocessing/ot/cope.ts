/**
 * Correlated oblivious product evaluation (COPE, a vector OLE with a fixed scalar) over
 * Z_2^128 or Z_2^192 (the MAC rings of SPDZ2k with k = 64 and k = 128): MASCOT's Π_COPEe
 * [KOS16, §4.1 "Correlated OPE"], as SPDZ2k uses it for its MACs [CDESX18, offline phase]. Written from the papers' descriptions; no code was taken from any
 * implementation.
 *
 * One ordered pair: the Δ-holder (the party whose MAC key share Δ = α_i is the correlation)
 * and the x-holder (the party whose vector x gets multiplied by Δ). Δ is taken below 2^64
 * (α ∈ Z_2^s with s = 64, as in SPDZ2k [CDESX18 §4]), so the setup is 64 base OTs, not 128.
 *
 * - Setup: 64 base OTs (`BaseOtProvider`, MRR21 by default) in which the Δ-holder is the
 *   *receiver* with choice bits Δ_0..Δ_63 and the x-holder the sender of seed pairs
 *   (k0_b, k1_b). Every seed drives a continued PRG stream G(·) (ring/prg.ts, AES-256-CTR).
 *   The base OTs' sid binds the session id, the ordered pair, the stream and the purpose.
 * - Extend(x ∈ R^L, R = Z_2^128 or Z_2^192): per bit b the x-holder sends u_b = G(k0_b) −
 *   G(k1_b) + x and keeps −Σ_b 2^b·G(k0_b); the Δ-holder computes q_b = G(k_{Δ_b}) + Δ_b·u_b
 *   = G(k0_b) + Δ_b·x and keeps Σ_b 2^b·q_b. The two shares add up to Δ·x in R.
 * - The ring (`CopeOptions.ring`, MAC64 by default, or MAC128 of mac-ring.ts) only sets the
 *   width of the G outputs and of u: Δ < 2^64 either way (s = 64), so the setup is the same
 *   64 base OTs, and an element costs 64 rows of 16 (Z_2^128) or 24 (Z_2^192) bytes.
 *
 * Security (what the layer above must add): the Δ-holder sees only u_b, which is masked by
 * G(k_{1−Δ_b}), a stream it does not know: x stays hidden (computational, PRG + base OT).
 * The x-holder learns nothing about Δ (it only sends). A malicious x-holder may use a
 * different x in different u_b; that adds 2^b·Δ_b·(x' − x) to the shares, a Δ-dependent
 * error — MASCOT's and SPDZ2k's authentication check (a random linear combination of the
 * authenticated values, opened and MAC-checked, src/preprocessing/ot/spdz2k.ts) catches it,
 * except with a probability that pays for every bit of Δ it guesses (selective failure, as in
 * [KOS16, §4.1] and [CDESX18]).
 *
 * Messages (kind Ot, rounds `otRound(batch, step, stream)`, stream 1 by default): the
 * base OTs in batch 0 (the x-holder sends step BaseSender, the Δ-holder step BaseReceiver);
 * u in step Extend of batches 1, 2, … (x-holder → Δ-holder), one batch per chunk of at most
 * COPE_CHUNK elements (64 · 16 or 64 · 24 bytes per element: 16 or 24 MiB at most, below the
 * 64 MiB frames).
 * Calls on one session run one after another, in call order (batches are numbered at call time).
 * Every bit of every u_b is sent (MASCOT's truncation to 128 − b or 192 − b bits is not done).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind, type Transport } from '../../protocol/transport.ts';
import { Prg } from '../../ring/prg.ts';
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { bytesToU64 } from '../../ring/encoding.ts';
import { MAC64, type MacRing } from '../../protocol/spdz2k/mac-ring.ts';
import { systemRandom, type RandomBytes } from './base-ot.ts';
import { otRound, OtStep, ristrettoBaseOt, type BaseOtProvider } from './extension.ts';

/** Bits of Δ (α_i < 2^64), and base OTs per COPE session. */
export const COPE_BITS = 64;
/** Default OT stream of COPE sessions (stream 0: the KOS extension sessions; 2: reserved). */
export const COPE_STREAM = 1;
/** Most elements per u message: 2^14 (64 · 16 · 2^14 bytes = 16 MiB; 24 MiB over Z_2^192). */
export const COPE_CHUNK = 1 << 14;

const PRG_LABEL = 'tessera/ot/cope-column';
const enc = new TextEncoder();
const TAG_SID = enc.encode('tessera/ot/cope/v1');

/** What COPE needs of its ring: a MAC ring's share arithmetic (mac-ring.ts), MAC64 or MAC128. */
export type CopeRing<E> = Pick<MacRing<unknown, E>, 'limbs' | 'bytes' | 'alloc' | 'add' | 'sub' | 'slice' | 'random' | 'words' | 'limbArrays'>;

export interface CopeOptions<E = Z128Vec> {
  transport: Transport;
  /** The ring of x and of the shares: MAC64 (Z_2^128, the default) or MAC128 (Z_2^192). */
  ring?: CopeRing<E>;
  peer: number;
  /** ≥ 16 bytes, the same at both ends (the job's session id). */
  sessionId: Uint8Array;
  /** The peer's name, for error messages (default its index). */
  peerName?: string;
  stream?: number;
  random?: RandomBytes;
  baseOt?: BaseOtProvider;
}

function sidFor(sessionId: Uint8Array, deltaHolder: number, xHolder: number, stream: number): Uint8Array {
  if (!(sessionId instanceof Uint8Array) || sessionId.length < 16) throw new RangeError('COPE: sessionId: expected a Uint8Array of at least 16 bytes');
  const buf = new Uint8Array(TAG_SID.length + 8 + sessionId.length + 12);
  const dv = new DataView(buf.buffer);
  buf.set(TAG_SID, 0);
  let off = TAG_SID.length;
  dv.setUint32(off, sessionId.length, true);
  buf.set(sessionId, off + 8);
  off += 8 + sessionId.length;
  dv.setUint32(off, deltaHolder, true);
  dv.setUint32(off + 4, xHolder, true);
  dv.setUint32(off + 8, stream, true);
  return sha256(buf);
}

function checkPeer(fn: string, t: Transport, peer: number): void {
  if (!Number.isInteger(peer) || peer < 0 || peer >= t.n || peer === t.self) throw new RangeError(`${fn}: peer: expected another party's index in [0, ${t.n}), got ${String(peer)}`);
}

function rounds(stream: number): { sender: number; receiver: number } {
  return { sender: otRound(0, OtStep.BaseSender, stream), receiver: otRound(0, OtStep.BaseReceiver, stream) };
}

/** Bytes of one u message for `L` elements over `ring` (Z_2^128 by default). */
export function copeMessageBytes(L: number, ring: Pick<CopeRing<unknown>, 'bytes'> = MAC64): number {
  return COPE_BITS * ring.bytes * L;
}

/**
 * The two halves of Extend over a ring, on one chunk of n elements: `delta` sets out =
 * Σ_b 2^b·(t_b + Δ_b·u_b), `x` writes u_b = t0_b − t1_b + x into `msg` and sets out =
 * −Σ_b 2^b·t0_b; `u`/`msg` hold per bit b its n elements in wire layout (limb after limb).
 * Both may overwrite the t vectors (this call's own PRG output).
 */
export interface CopeKernels<E> {
  delta(t: E[], u: BigUint64Array, delta: bigint, n: number, out: E): void;
  x(t0: E[], t1: E[], x: E, msg: BigUint64Array, n: number, out: E): void;
}

/**
 * The kernels from the ring's vector operations, by Horner's rule from b = 63 down (acc ←
 * 2·acc ± v). Over Z_2^128 the fused `deltaKernel` and `xKernel` below do the same in one
 * pass per bit; `fusedKernels` and this agree (cope.test.ts).
 */
export function ringKernels<E>(R: CopeRing<E>): CopeKernels<E> {
  const row = (w: BigUint64Array, b: number, n: number): E => R.words(w.subarray(R.limbs * b * n, R.limbs * (b + 1) * n), n);
  return {
    delta(t, u, delta, n, out) {
      for (const l of R.limbArrays(out)) l.fill(0n);
      for (let b = COPE_BITS - 1; b >= 0; b--) {
        if (((delta >> BigInt(b)) & 1n) === 1n) R.add(t[b], row(u, b, n), t[b]);
        R.add(out, out, out);
        R.add(out, t[b], out);
      }
    },
    x(t0, t1, x, msg, n, out) {
      for (const l of R.limbArrays(out)) l.fill(0n);
      for (let b = COPE_BITS - 1; b >= 0; b--) {
        const u = row(msg, b, n);
        R.add(R.sub(t0[b], t1[b], u), x, u);
        R.add(out, out, out);
        R.sub(out, t0[b], out);
      }
    },
  };
}

/** The fused kernels over Z_2^128 (`deltaKernel`, `xKernel`). */
export const fusedKernels: CopeKernels<Z128Vec> = {
  delta: (t, u, delta, n, out) => deltaKernel(t, u, delta, n, out.lo, out.hi),
  x: (t0, t1, x, msg, n, out) => xKernel(t0, t1, x.lo, x.hi, msg, n, out.lo, out.hi),
};

function kernelsFor<E>(R: CopeRing<E>): CopeKernels<E> {
  return R.limbs === 2 ? (fusedKernels as unknown as CopeKernels<E>) : ringKernels(R);
}

/** Chunks [start, end) of at most COPE_CHUNK elements covering [0, L). */
function chunks(L: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < L; s += COPE_CHUNK) out.push([s, Math.min(L, s + COPE_CHUNK)]);
  return out;
}

const M64 = 0xffffffffffffffffn;

/**
 * What both ends of a session share: an `extend` claims its batch numbers at call time, and
 * calls run one after another, one chunk at a time, since the PRG streams are drawn chunk by
 * chunk in call order (so at most one chunk's streams, 1 or 1.5 KiB per element, exist at a time).
 */
abstract class CopeSession<E> {
  #batch = 1;
  #chain: Promise<void> = Promise.resolve();
  protected readonly kernels: CopeKernels<E>;

  protected constructor(readonly ring: CopeRing<E>) {
    this.kernels = kernelsFor(ring);
  }

  /** `chunk(batch, start, end, out)` for each chunk of [0, L), in order (`out` the chunk's part); resolves to the whole. */
  protected inOrder(L: number, chunk: (batch: number, s: number, e: number, out: E) => Promise<void>): Promise<E> {
    const parts = chunks(L);
    const first = this.#batch;
    this.#batch += parts.length;
    const run = async (): Promise<E> => {
      const out = this.ring.alloc(L);
      for (const [c, [s, e]] of parts.entries()) await chunk(first + c, s, e, this.ring.slice(out, s, e));
      return out;
    };
    const p = this.#chain.then(run);
    this.#chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }
}

/** The Δ-holder's end of one COPE session (this party's Δ times the peer's vectors). */
export class CopeDeltaHolder<E = Z128Vec> extends CopeSession<E> {
  private constructor(
    ring: CopeRing<E>,
    readonly transport: Transport,
    readonly peer: number,
    readonly peerName: string,
    readonly stream: number,
    readonly delta: bigint,
    readonly prgs: Prg[],
  ) {
    super(ring);
  }

  /** 64 base OTs as receiver with the bits of `delta` (< 2^64) as choices. */
  static async setup<E = Z128Vec>(opts: CopeOptions<E> & { delta: bigint }): Promise<CopeDeltaHolder<E>> {
    const { transport, peer } = opts;
    checkPeer('CopeDeltaHolder.setup', transport, peer);
    if (typeof opts.delta !== 'bigint' || opts.delta < 0n || opts.delta >= 1n << BigInt(COPE_BITS)) throw new RangeError('CopeDeltaHolder.setup: delta: expected a bigint in [0, 2^64)');
    const stream = opts.stream ?? COPE_STREAM;
    const sid = sidFor(opts.sessionId, transport.self, peer, stream);
    const choices = new Uint8Array(8);
    new DataView(choices.buffer).setBigUint64(0, opts.delta, true);
    const keys = await (opts.baseOt ?? ristrettoBaseOt).receive(transport, peer, choices, COPE_BITS, { sid, rounds: rounds(stream), random: opts.random ?? systemRandom });
    const prgs = Array.from({ length: COPE_BITS }, (_, b) => new Prg(keys.subarray(32 * b, 32 * b + 32), PRG_LABEL));
    keys.fill(0);
    choices.fill(0);
    const ring = opts.ring ?? (MAC64 as unknown as CopeRing<E>);
    return new CopeDeltaHolder(ring, transport, peer, opts.peerName ?? String(peer), stream, opts.delta, prgs);
  }

  /**
   * This party's share of Δ·x for the peer's vector x of `L` elements (the peer calls
   * `CopeXHolder.extend` with x, in the same order). Batches are claimed at call time.
   */
  async extend(L: number): Promise<E> {
    if (!Number.isSafeInteger(L) || L < 1) throw new RangeError(`CopeDeltaHolder.extend: L: expected a positive integer, got ${String(L)}`);
    return this.inOrder(L, async (batch, s, e, out) => {
      const n = e - s;
      const bytes = copeMessageBytes(n, this.ring);
      const msg = await this.transport.recv(this.peer, MessageKind.Ot, otRound(batch, OtStep.Extend, this.stream));
      if (!(msg instanceof Uint8Array) || msg.length !== bytes) {
        const got = msg instanceof Uint8Array ? `${msg.length} bytes` : 'a non-binary payload';
        throw new MpcError(ErrorCode.PROTOCOL, `COPE: party ${this.peerName} sent ${got} for the correction u, expected ${bytes}`, { party: this.peerName });
      }
      this.kernels.delta(this.prgs.map((p) => this.ring.random(p, n)), bytesToU64(msg), this.delta, n, out);
    });
  }
}

/**
 * acc = Σ_b 2^b·q_b with q_b = t_b + Δ_b·u_b (Horner from b = 63 down), written into (ol, oh).
 * `u` holds, per bit b, n low limbs then n high limbs. Overwrites each t_b with q_b.
 */
export function deltaKernel(t: Z128Vec[], u: BigUint64Array, delta: bigint, n: number, ol: BigUint64Array, oh: BigUint64Array): void {
  ol.fill(0n);
  oh.fill(0n);
  for (let b = COPE_BITS - 1; b >= 0; b--) {
    const tl = t[b].lo;
    const th = t[b].hi;
    // q_b = t_b + Δ_b·u_b, in place (t_b is this call's own PRG output).
    if (((delta >> BigInt(b)) & 1n) === 1n) z128.add(t[b], { lo: u.subarray(2 * b * n, (2 * b + 1) * n), hi: u.subarray((2 * b + 1) * n, (2 * b + 2) * n) }, t[b]);
    for (let k = 0; k < n; k++) {
      // acc = 2·acc + q
      const q = tl[k];
      const al = ol[k];
      const dl = BigInt.asUintN(64, al << 1n);
      const dh = BigInt.asUintN(64, BigInt.asUintN(64, oh[k] << 1n) | BigInt.asUintN(64, al >> 63n));
      const r = BigInt.asUintN(64, dl + q);
      const c = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dl & q) | BigInt.asUintN(64, BigInt.asUintN(64, dl | q) & BigInt.asUintN(64, r ^ M64))) >> 63n);
      ol[k] = r;
      oh[k] = BigInt.asUintN(64, BigInt.asUintN(64, dh + th[k]) + c);
    }
  }
}

/** The x-holder's end of one COPE session (the peer's Δ times this party's vectors). */
export class CopeXHolder<E = Z128Vec> extends CopeSession<E> {
  private constructor(
    ring: CopeRing<E>,
    readonly transport: Transport,
    readonly peer: number,
    readonly stream: number,
    readonly prg0: Prg[],
    readonly prg1: Prg[],
  ) {
    super(ring);
  }

  /** 64 base OTs as sender of random seed pairs. */
  static async setup<E = Z128Vec>(opts: CopeOptions<E>): Promise<CopeXHolder<E>> {
    const { transport, peer } = opts;
    checkPeer('CopeXHolder.setup', transport, peer);
    const stream = opts.stream ?? COPE_STREAM;
    const sid = sidFor(opts.sessionId, peer, transport.self, stream);
    const { k0, k1 } = await (opts.baseOt ?? ristrettoBaseOt).send(transport, peer, COPE_BITS, { sid, rounds: rounds(stream), random: opts.random ?? systemRandom });
    const prg0 = Array.from({ length: COPE_BITS }, (_, b) => new Prg(k0.subarray(32 * b, 32 * b + 32), PRG_LABEL));
    const prg1 = Array.from({ length: COPE_BITS }, (_, b) => new Prg(k1.subarray(32 * b, 32 * b + 32), PRG_LABEL));
    k0.fill(0);
    k1.fill(0);
    return new CopeXHolder(opts.ring ?? (MAC64 as unknown as CopeRing<E>), transport, peer, stream, prg0, prg1);
  }

  /**
   * This party's share of Δ·x (Δ the peer's). `tamper` (tests only) sees the low limbs of
   * each u_b before it is sent, one call per bit b, and may change them.
   */
  async extend(x: E, tamper?: (v: BigUint64Array) => void): Promise<E> {
    const R = this.ring;
    const limbs = R.limbArrays(x);
    const L = limbs[0].length;
    if (L < 1 || limbs.length !== R.limbs || limbs.some((l) => l.length !== L)) throw new RangeError(`CopeXHolder.extend: x: expected a non-empty vector of ${R.limbs} limbs of equal length`);
    return this.inOrder(L, async (batch, s, e, out) => {
      const n = e - s;
      const t0 = this.prg0.map((p) => R.random(p, n));
      const t1 = this.prg1.map((p) => R.random(p, n));
      const msg = new BigUint64Array(R.limbs * COPE_BITS * n);
      this.kernels.x(t0, t1, R.slice(x, s, e), msg, n, out);
      if (tamper) for (let b = 0; b < COPE_BITS; b++) tamper(msg.subarray(R.limbs * b * n, (R.limbs * b + 1) * n));
      await this.transport.send(this.peer, MessageKind.Ot, otRound(batch, OtStep.Extend, this.stream), new Uint8Array(msg.buffer));
    });
  }
}

/** u_b = t0_b − t1_b + x into `msg` (per bit: n low limbs, n high limbs); out = −Σ_b 2^b·t0_b. */
export function xKernel(
  t0: Z128Vec[],
  t1: Z128Vec[],
  xl: BigUint64Array,
  xh: BigUint64Array,
  msg: BigUint64Array,
  n: number,
  ol: BigUint64Array,
  oh: BigUint64Array,
): void {
  ol.fill(0n);
  oh.fill(0n);
  for (let b = COPE_BITS - 1; b >= 0; b--) {
    const al0 = t0[b].lo, ah0 = t0[b].hi, al1 = t1[b].lo, ah1 = t1[b].hi;
    const ul = msg.subarray(2 * b * n, (2 * b + 1) * n);
    const uh = msg.subarray((2 * b + 1) * n, (2 * b + 2) * n);
    for (let k = 0; k < n; k++) {
      const p = al0[k];
      const q = al1[k];
      // d = t0 − t1
      const d = BigInt.asUintN(64, p - q);
      const np = BigInt.asUintN(64, p ^ M64);
      const br = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, np & q) | BigInt.asUintN(64, BigInt.asUintN(64, np | q) & d)) >> 63n);
      const dh = BigInt.asUintN(64, BigInt.asUintN(64, ah0[k] - ah1[k]) - br);
      // u = d + x
      const y = xl[k];
      const s = BigInt.asUintN(64, d + y);
      const c = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, d & y) | BigInt.asUintN(64, BigInt.asUintN(64, d | y) & BigInt.asUintN(64, s ^ M64))) >> 63n);
      ul[k] = s;
      uh[k] = BigInt.asUintN(64, BigInt.asUintN(64, dh + xh[k]) + c);
      // acc = 2·acc − t0
      const al = ol[k];
      const wl = BigInt.asUintN(64, al << 1n);
      const wh = BigInt.asUintN(64, BigInt.asUintN(64, oh[k] << 1n) | BigInt.asUintN(64, al >> 63n));
      const r = BigInt.asUintN(64, wl - p);
      const nw = BigInt.asUintN(64, wl ^ M64);
      const br2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, nw & p) | BigInt.asUintN(64, BigInt.asUintN(64, nw | p) & r)) >> 63n);
      ol[k] = r;
      oh[k] = BigInt.asUintN(64, BigInt.asUintN(64, wh - ah0[k]) - br2);
    }
  }
}
