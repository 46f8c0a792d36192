/**
 * OT extension: IKNP [Ishai, Kilian, Nissim, Petrank, CRYPTO 2003] with, in malicious mode,
 * the consistency check of KOS [Keller, Orsini, Scholl, "Actively secure OT extension with
 * optimal overhead", CRYPTO 2015]. 128 base OTs (base-ot.ts) set a session up once;
 * after that each `extend` call produces any number of correlated OTs
 *
 *   sender (holds Δ ∈ {0,1}^128):   q_i
 *   receiver (holds choice r_i):    t_i = q_i ⊕ r_i·Δ
 *
 * from which random OT keys m_b = H(i, q_i ⊕ b·Δ) (the receiver knows m_{r_i} = H(i, t_i)) and
 * correlated OTs over Z_2^64, Z_2^128 (gilboa.ts) or Z_2^192 (gilboa192.ts) are derived.
 * `extend` returns the rows; `extendRot64` / `extendRot128` / `extendRot192` the keys (192-bit
 * ones widened from the 128-bit hash by `widen192`); `extendLazy` runs the protocol and then
 * hands out the keys chunk by chunk, for a consumer that uses them while they are in cache.
 *
 * Roles [IKNP03]: the extension *receiver* is the base-OT *sender* of 128 seed pairs
 * (k0_j, k1_j); the extension *sender* is the base-OT receiver with choice bits Δ, so it learns
 * k_{Δ_j, j}. Per batch of m OTs, column j (m bits) of the receiver's matrix is
 * t_j = G(k0_j) and it sends u_j = G(k0_j) ⊕ G(k1_j) ⊕ r; the sender sets
 * q_j = G(k_{Δ_j, j}) ⊕ Δ_j·u_j = t_j ⊕ Δ_j·r. Read by rows, that is q_i = t_i ⊕ r_i·Δ. G is
 * the ring's seeded AES-CTR PRG (src/ring/prg.ts), one stream per seed that simply continues
 * from batch to batch, and the column → row step is transpose.ts.
 *
 * The KOS check (malicious mode), per batch: the receiver extends ℓ' = ℓ + 256 OTs (≥ κ + s =
 * 192 extra rows with random choice bits, which mask what the check reveals about r, and are
 * dropped afterwards). After u is fixed, both parties toss coins for χ_1..χ_ℓ' ∈ GF(2^128);
 * the receiver sends x = Σ χ_i·r_i and t = Σ χ_i·t_i, and the sender checks Σ χ_i·q_i = t ⊕ x·Δ.
 * A receiver that used different choice vectors in different columns fails except with
 * probability ≈ 2^-s for each deviation it cannot also guess Δ on (KOS15's main theorem): the
 * statistical security parameter is s = 64; the computational one is κ = 128 (the AES and
 * base-OT strength; ristretto255 gives ~2^126). The coins: the receiver commits to its seed
 * together with u, the sender answers with its seed, the receiver opens — so neither side
 * can steer χ (a sender-chosen χ could single out choice bits).
 *
 * Hashes (aes.ts, GKWY20): semi-honest sessions use the CR hash π(x) ⊕ x, malicious sessions
 * the tweakable TMMO hash with the OT's index in the session as tweak (a cheating receiver
 * chooses its rows, so tweaks are needed for the keys to be independent).
 *
 * Round numbering (all messages are of kind `MessageKind.Ot`): `otRound(batch, step, stream)`.
 * Batch 0 is the base-OT setup, extension batches count from 1 on each session. Each step
 * always travels in the same direction relative to the roles (see `OtStep`), so the two
 * sessions of a pair of parties — i as sender to j, and j as sender to i — never use the same
 * (from, round) slot, and distinct streams (0..15) let several sessions per ordered pair run
 * side by side.
 * @module
 */

import { concatBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind, type Transport } from '../../protocol/transport.ts';
import { Prg } from '../../ring/prg.ts';
import { baseOtReceive, baseOtSend, systemRandom, type BaseOtOptions, type RandomBytes } from './base-ot.ts';
import { crHash, crHash64, tcrHash, tcrHash64, type FixedKeyAes } from './aes.ts';
import { CHUNK_ROWS, Transposer, type Columns } from './transpose.ts';
import { ChiCombiner } from './chi.ts';

/** Computational security parameter κ: the number of base OTs and the width of Δ. */
export const KAPPA = 128;
/** Statistical security parameter s of the KOS consistency check. */
export const STAT_SECURITY = 64;
/** Extra rows of a malicious batch: κ + s = 192, rounded up to a multiple of 128. */
export const KOS_EXTRA_ROWS = 256;
/**
 * Most OTs in one `extend` call: 2^21, so that every message (the matrix u is 16 bytes per OT)
 * stays well under the network's 64 MiB frames (src/net/frame.ts).
 */
export const MAX_BATCH_OTS = 1 << 21;

/**
 * The sub-steps of a session, with the direction each always travels (S = extension sender,
 * R = extension receiver). A step's direction never changes, which is what keeps the two
 * sessions between a pair of parties apart.
 */
export const OtStep = {
  /** R → S: base-OT sender message A (batch 0). */
  BaseSender: 0,
  /** S → R: base-OT receiver message φ (batch 0). */
  BaseReceiver: 1,
  /** R → S: the correction matrix u, plus (malicious) a commitment to R's coin seed. */
  Extend: 2,
  /** S → R: S's coin seed for χ (malicious). */
  Coin: 3,
  /** R → S: R's coin seed, x and t of the KOS check (malicious). */
  Check: 4,
  /** S → R: a payload of the layer above, e.g. Gilboa corrections (gilboa.ts). */
  SenderPayload: 5,
  /** R → S: a payload of the layer above. */
  ReceiverPayload: 6,
} as const;
export type OtStep = (typeof OtStep)[keyof typeof OtStep];

/** Steps per batch and streams per ordered pair in the round layout. */
export const OT_STEPS = 8;
export const OT_STREAMS = 16;

/** The round of `step` in batch `batch` of stream `stream`: ((batch·8 + step)·16 + stream). */
export function otRound(batch: number, step: number, stream: number): number {
  if (!Number.isSafeInteger(batch) || batch < 0) throw new RangeError(`otRound: batch: expected a non-negative integer, got ${batch}`);
  if (!Number.isInteger(step) || step < 0 || step >= OT_STEPS) throw new RangeError(`otRound: step: expected an integer in [0, ${OT_STEPS}), got ${step}`);
  if (!Number.isInteger(stream) || stream < 0 || stream >= OT_STREAMS) throw new RangeError(`otRound: stream: expected an integer in [0, ${OT_STREAMS}), got ${stream}`);
  const r = (batch * OT_STEPS + step) * OT_STREAMS + stream;
  if (!Number.isSafeInteger(r)) throw new RangeError(`otRound: batch ${batch} is too large`);
  return r;
}

/** How a session obtains its 128 base OTs. The default is `ristrettoBaseOt`; tests may inject a cheaper one. */
export interface BaseOtProvider {
  send(transport: Transport, peer: number, count: number, opts: BaseOtOptions): Promise<{ k0: Uint8Array; k1: Uint8Array }>;
  receive(transport: Transport, peer: number, choices: Uint8Array, count: number, opts: BaseOtOptions): Promise<Uint8Array>;
}

/** The MRR21 base OT over ristretto255 (base-ot.ts). */
export const ristrettoBaseOt: BaseOtProvider = { send: baseOtSend, receive: baseOtReceive };

export interface OtSessionOptions {
  transport: Transport;
  /** The other party of this session. */
  peer: number;
  /**
   * Identifies the job (or other context) the session belongs to, ≥ 16 bytes; hashed with the
   * ordered pair, the stream and the mode into the session id every key is bound to.
   */
  sessionId: Uint8Array;
  /** 0..15: lets several sessions per ordered pair coexist. Default 0. */
  stream?: number;
  /** Run the KOS check on every batch and use the tweakable hash. Both ends must agree. Default true. */
  malicious?: boolean;
  random?: RandomBytes;
  baseOt?: BaseOtProvider;
}

interface Resolved {
  transport: Transport;
  peer: number;
  stream: number;
  malicious: boolean;
  random: RandomBytes;
  baseOt: BaseOtProvider;
  sid: Uint8Array;
}

const enc = new TextEncoder();
const TAG_SID = enc.encode('tessera/ot/session/v1');
const TAG_COMMIT = enc.encode('tessera/ot/kos-commit/v1');
const TAG_CHI = enc.encode('tessera/ot/kos-chi/v1');
const PRG_LABEL = 'tessera/ot/iknp-column';

function u32le(x: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, x, true);
  return b;
}

function u64le(x: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(x), true);
  return b;
}


function resolve(fn: string, opts: OtSessionOptions, role: 'sender' | 'receiver'): Resolved {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${fn}: expected an options object`);
  const { transport, peer } = opts;
  if (typeof transport?.send !== 'function') throw new TypeError(`${fn}: transport: expected a Transport`);
  if (!Number.isInteger(peer) || peer < 0 || peer >= transport.n || peer === transport.self) {
    throw new RangeError(`${fn}: peer: expected another party's index in [0, ${transport.n}), got ${String(peer)}`);
  }
  if (!(opts.sessionId instanceof Uint8Array) || opts.sessionId.length < 16) {
    throw new RangeError(`${fn}: sessionId: expected a Uint8Array of at least 16 bytes`);
  }
  const stream = opts.stream ?? 0;
  if (!Number.isInteger(stream) || stream < 0 || stream >= OT_STREAMS) throw new RangeError(`${fn}: stream: expected an integer in [0, ${OT_STREAMS}), got ${String(stream)}`);
  const malicious = opts.malicious ?? true;
  if (typeof malicious !== 'boolean') throw new TypeError(`${fn}: malicious: expected a boolean, got ${typeof malicious}`);
  const sender = role === 'sender' ? transport.self : peer;
  const receiver = role === 'sender' ? peer : transport.self;
  const sid = sha256(concatBytes(TAG_SID, u64le(opts.sessionId.length), opts.sessionId, u32le(sender), u32le(receiver), u32le(stream), Uint8Array.of(malicious ? 1 : 0)));
  return { transport, peer, stream, malicious, random: opts.random ?? systemRandom, baseOt: opts.baseOt ?? ristrettoBaseOt, sid };
}

function checkCount(fn: string, m: unknown): asserts m is number {
  if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 1 || m > MAX_BATCH_OTS) {
    throw new RangeError(`${fn}: m: expected an integer in [1, ${MAX_BATCH_OTS}], got ${String(m)}`);
  }
}

/** A 64-bit view of `b`, copying only when `b` is not 8-byte aligned. */
function words(b: Uint8Array): BigUint64Array {
  if (b.byteOffset % 8 === 0 && b.length % 8 === 0) return new BigUint64Array(b.buffer, b.byteOffset, b.length >>> 3);
  const w = new BigUint64Array(Math.ceil(b.length / 8));
  new Uint8Array(w.buffer).set(b);
  return w;
}

function bitOf(bits: Uint8Array, i: number): number {
  return (bits[i >> 3] >> (i & 7)) & 1;
}

function expect(payload: Uint8Array, bytes: number, peer: number, what: string): Uint8Array {
  if (!(payload instanceof Uint8Array) || payload.length !== bytes) {
    const got = payload instanceof Uint8Array ? `${payload.length} bytes` : 'a non-binary payload';
    throw new MpcError(ErrorCode.PROTOCOL, `OT extension: party ${peer} sent ${got} for ${what}, expected ${bytes}`, { party: String(peer) });
  }
  return payload;
}

/** Batch geometry: m requested rows, padded to `rows` (a multiple of 128, + KOS rows when malicious). */
function geometry(m: number, malicious: boolean): { rows: number; bytes: number; tweakStride: number } {
  const padded = Math.ceil(m / 128) * 128;
  const rows = padded + (malicious ? KOS_EXTRA_ROWS : 0);
  return { rows, bytes: rows >>> 3, tweakStride: padded };
}

// --- GF(2^128) for the KOS check --------------------------------------------------------
// Elements are 16 bytes, little-endian: bit b is the coefficient of X^b, the same order as the
// bits of a row. Reduction polynomial X^128 + X^7 + X^2 + X + 1 (irreducible; the one of GCM).

const GF_POLY_LOW = 0x87n;
const MASK128 = (1n << 128n) - 1n;

function toBig(b: Uint8Array, off = 0): bigint {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

function fromBig(v: bigint): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** a·b in GF(2^128). Bit-serial BigInt code: it runs once per batch, not per row. */
export function gf128Mul(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (!(a instanceof Uint8Array) || a.length !== 16 || !(b instanceof Uint8Array) || b.length !== 16) {
    throw new RangeError('gf128Mul: expected two Uint8Arrays of length 16');
  }
  const x = toBig(a);
  const y = toBig(b);
  let p = 0n;
  for (let i = 0; i < 128; i++) if ((y >> BigInt(i)) & 1n) p ^= x << BigInt(i);
  for (let k = 254; k >= 128; k--) {
    if ((p >> BigInt(k)) & 1n) p ^= ((1n << 128n) | GF_POLY_LOW) << BigInt(k - 128);
  }
  return fromBig(p & MASK128);
}

/**
 * Σ_i χ_i · row_i in GF(2^128), computed from the *column* form of the matrix, so the check
 * needs no transposition: with row_i = Σ_b col_b[i]·X^b,
 *   Σ_i χ_i·row_i = Σ_b X^b · y_b,   y_b = ⊕_{i : col_b[i] = 1} χ_i.
 * The y_b are a GF(2) matrix product, done by the "four Russians" method: for each group of 8
 * rows, a table of the 256 XOR-combinations of their χ's, then one lookup per column.
 * `cols` is 128 columns of `rows` bits; `chi` is `rows` × 16 bytes.
 */
export function chiCombineColumns(cols: Columns, chi: Uint8Array, rows: number, opts: { wasm?: boolean } = {}): Uint8Array {
  const bytes = rows >>> 3;
  const colArr = cols instanceof Uint8Array ? Array.from({ length: 128 }, (_, j) => cols.subarray(j * bytes, (j + 1) * bytes)) : cols;
  if (rows % 8 !== 0 || colArr.length !== 128 || colArr.some((c) => c.length !== bytes) || chi.length !== 16 * rows) throw new RangeError('chiCombineColumns: inconsistent sizes');
  const wasm = opts.wasm === false ? undefined : chiCombiner();
  const y = wasm ? wasm.columnSums((b) => colArr[b], chi, rows) : columnSumsJs(colArr, chi, rows);
  // Σ_b X^b·y_b by Horner's rule from b = 127 down: acc ← acc·X ⊕ y_b.
  let acc = 0n;
  for (let b = 127; b >= 0; b--) {
    acc <<= 1n;
    if (acc >> 128n) acc = (acc & MASK128) ^ GF_POLY_LOW;
    acc ^= toBig(y, 16 * b);
  }
  return fromBig(acc);
}

// One combiner per thread, made on first use (its instance holds only scratch memory).
let combiner: ChiCombiner | null | undefined;
function chiCombiner(): ChiCombiner | undefined {
  if (combiner === undefined) {
    const c = new ChiCombiner();
    combiner = c.available ? c : null;
  }
  return combiner ?? undefined;
}

/** The y_b of `chiCombineColumns` in JavaScript, on 32-bit words (the path without WebAssembly). */
function columnSumsJs(colArr: readonly Uint8Array[], chi: Uint8Array, rows: number): Uint8Array {
  const bytes = rows >>> 3;
  const c32 = chi.byteOffset % 4 === 0 ? new Int32Array(chi.buffer, chi.byteOffset, 4 * rows) : new Int32Array(new Uint8Array(chi).buffer);
  const y = new Int32Array(128 * 4);
  const tab = new Int32Array(256 * 4);
  for (let g = 0; g < bytes; g++) {
    // tab[v] = ⊕_{k : bit k of v} χ_{8g+k}, built incrementally: tab[v] = tab[v without its lowest bit] ⊕ χ_{lowest bit}.
    for (let v = 1; v < 256; v++) {
      const low = 31 - Math.clz32(v & -v);
      const prev = (v & (v - 1)) << 2;
      const cx = (8 * g + low) << 2;
      const d = v << 2;
      tab[d] = tab[prev] ^ c32[cx];
      tab[d + 1] = tab[prev + 1] ^ c32[cx + 1];
      tab[d + 2] = tab[prev + 2] ^ c32[cx + 2];
      tab[d + 3] = tab[prev + 3] ^ c32[cx + 3];
    }
    for (let b = 0; b < 128; b++) {
      const t = colArr[b][g] << 2;
      const o = b << 2;
      y[o] ^= tab[t];
      y[o + 1] ^= tab[t + 1];
      y[o + 2] ^= tab[t + 2];
      y[o + 3] ^= tab[t + 3];
    }
  }
  return new Uint8Array(y.buffer);
}

/** Σ_i χ_i · r_i: the XOR of the χ_i whose choice bit is set. */
function chiCombineBits(bits: Uint8Array, chi: Uint8Array, rows: number): Uint8Array {
  const c = words(chi);
  // The sum lives in typed-array slots; branches only guard stores (no BigInt Phi, see z128.ts).
  const acc = new BigUint64Array(2);
  for (let g = 0; g < rows >>> 3; g++) {
    const byte = bits[g];
    if (byte === 0) continue;
    for (let k = 0; k < 8; k++) {
      if ((byte >> k) & 1) {
        const i = 8 * g + k;
        acc[0] = BigInt.asUintN(64, acc[0] ^ c[2 * i]);
        acc[1] = BigInt.asUintN(64, acc[1] ^ c[2 * i + 1]);
      }
    }
  }
  return new Uint8Array(acc.buffer);
}

function chiFor(sid: Uint8Array, batch: number, seedS: Uint8Array, seedR: Uint8Array, rows: number): Uint8Array {
  const seed = sha256(concatBytes(TAG_CHI, sid, u64le(batch), seedS, seedR));
  return new Prg(seed, 'tessera/ot/kos-chi').bytes(16 * rows);
}

function commitment(sid: Uint8Array, batch: number, seedR: Uint8Array): Uint8Array {
  return sha256(concatBytes(TAG_COMMIT, sid, u64le(batch), seedR));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

// The word loops live in small functions of their own: TurboFan compiles them to native
// 64-bit code (several GB/s), which it does not do for the same loop inlined in a large
// async function (measured: ~10x slower).

/** dst[k] ^= src[off + k] for k < w. */
function xorInto(dst: BigUint64Array, src: BigUint64Array, off: number, w: number): void {
  for (let k = 0; k < w; k++) dst[k] = BigInt.asUintN(64, dst[k] ^ src[off + k]);
}

/** out[off + k] = a[k] ⊕ b[k] ⊕ r[k] for k < w. */
function xor3(out: BigUint64Array, off: number, a: BigUint64Array, b: BigUint64Array, r: BigUint64Array, w: number): void {
  for (let k = 0; k < w; k++) out[off + k] = BigInt.asUintN(64, BigInt.asUintN(64, a[k] ^ b[k]) ^ r[k]);
}

/**
 * One base-OT seed's stream of matrix columns: G(k) continued from batch to batch, read
 * ahead in pieces of READ_AHEAD bytes. A small batch (a few dozen products, as a job's early
 * items are) needs 128–256 columns of a few hundred bytes each, and one cipher call costs
 * ~5 µs whatever its size below a few KB: read one at a time, the calls were most of such a
 * batch's time. The bytes are the same stream either way. Columns are 8-aligned (they are
 * viewed as 64-bit words) and never share memory with another column.
 */
export class ColumnStream {
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;

  constructor(private readonly prg: Prg) {}

  column(bytes: number): Uint8Array {
    const left = this.#buf.length - this.#off;
    if (bytes <= left) {
      const c = this.#buf.subarray(this.#off, this.#off + bytes);
      this.#off += bytes;
      return c;
    }
    if (left === 0 && bytes >= READ_AHEAD) return aligned(this.prg.bytes(bytes));
    const out = new Uint8Array(bytes);
    out.set(this.#buf.subarray(this.#off));
    const rest = bytes - left;
    if (rest >= READ_AHEAD) {
      out.set(this.prg.bytes(rest), left);
      this.#buf = new Uint8Array(0);
      this.#off = 0;
    } else {
      // A fresh buffer each time: earlier columns may still be views of the old one.
      this.#buf = aligned(this.prg.bytes(READ_AHEAD));
      out.set(this.#buf.subarray(0, rest), left);
      this.#off = rest;
    }
    return out;
  }
}

/** Bytes each column stream reads ahead (a multiple of 16, so columns stay 8-aligned in it). */
const READ_AHEAD = 4096;

function aligned(c: Uint8Array): Uint8Array {
  return c.byteOffset % 8 === 0 ? c : c.slice();
}

// --- Batches -------------------------------------------------------------------------------

/**
 * A sender batch whose protocol messages are done but whose rows are not formed yet
 * (`OtExtSender.extendLazy`). `forEachRot64` may be called once; chunks are multiples of 64 rows
 * (CHUNK_ROWS, the last one shorter) and arrive in order.
 */
export interface LazySenderBatch {
  readonly batch: number;
  readonly m: number;
  forEachRot64(aes: FixedKeyAes, visit: (m0: BigUint64Array, m1: BigUint64Array, row0: number, count: number) => void): void;
}

/** The receiver's counterpart of `LazySenderBatch`: the chunks of m_{r_i} = H(i, t_i). */
export interface LazyReceiverBatch {
  readonly batch: number;
  readonly m: number;
  forEachRot64(aes: FixedKeyAes, visit: (h: BigUint64Array, row0: number, count: number) => void): void;
}

/** The sender's side of one extension batch: rows q_i (16 bytes each) and its Δ. */
export interface SenderBatch {
  readonly m: number;
  /** The session's batch number (≥ 1); the layer above uses it for its payload round. */
  readonly batch: number;
  /** The tweak of row 0; row i uses tweak0 + i. */
  readonly tweak0: bigint;
  readonly q: Uint8Array;
  readonly delta: Uint8Array;
  readonly hash: 'cr' | 'tcr';
}

/** The receiver's side of one extension batch: rows t_i = q_i ⊕ r_i·Δ and the choice bits r (bits beyond m zero). */
export interface ReceiverBatch {
  readonly m: number;
  readonly batch: number;
  readonly tweak0: bigint;
  readonly t: Uint8Array;
  readonly choices: Uint8Array;
  readonly hash: 'cr' | 'tcr';
}

abstract class OtSessionBase {
  readonly #r: Resolved;
  /** One transposer per session: its WebAssembly instance is reused by every batch. */
  protected readonly transposer = new Transposer();
  #batch = 0;
  #tweak = 0n;

  protected constructor(r: Resolved) {
    this.#r = r;
  }

  get transport(): Transport {
    return this.#r.transport;
  }
  get peer(): number {
    return this.#r.peer;
  }
  get stream(): number {
    return this.#r.stream;
  }
  get malicious(): boolean {
    return this.#r.malicious;
  }
  protected get resolved(): Resolved {
    return this.#r;
  }

  /** The round of `step` in batch `batch` of this session. */
  round(batch: number, step: OtStep): number {
    return otRound(batch, step, this.#r.stream);
  }

  /** Reserves the next batch number and `tweaks` tweaks. Synchronous, so concurrent calls stay in order. */
  protected next(tweaks: number): { batch: number; tweak0: bigint } {
    this.#batch += 1;
    const tweak0 = this.#tweak;
    this.#tweak += BigInt(tweaks);
    return { batch: this.#batch, tweak0 };
  }
}

/** What a finished batch leaves behind before its rows are read: the columns, and where it sits in the session. */
interface Finished {
  cols: Uint8Array[];
  rows: number;
  batch: number;
  tweak0: bigint;
}

/**
 * The extension sender of one ordered pair (this party → `peer`). Holds Δ and one PRG stream
 * per base OT.
 * @example
 * const [s, r] = await Promise.all([OtExtSender.setup({ transport: t0, peer: 1, sessionId }),
 *                                   OtExtReceiver.setup({ transport: t1, peer: 0, sessionId })]);
 * const [sb, rb] = await Promise.all([s.extend(1024), r.extend(choices, 1024)]);
 */
export class OtExtSender extends OtSessionBase {
  readonly #delta: Uint8Array;
  readonly #prgs: ColumnStream[];

  private constructor(r: Resolved, delta: Uint8Array, prgs: ColumnStream[]) {
    super(r);
    this.#delta = delta;
    this.#prgs = prgs;
  }

  /** Sets the session up: 128 base OTs in which this party receives with choice bits Δ. */
  static async setup(opts: OtSessionOptions): Promise<OtExtSender> {
    const r = resolve('OtExtSender.setup', opts, 'sender');
    const delta = r.random(16).slice();
    const keys = await r.baseOt.receive(r.transport, r.peer, delta, KAPPA, {
      sid: r.sid,
      rounds: { sender: otRound(0, OtStep.BaseSender, r.stream), receiver: otRound(0, OtStep.BaseReceiver, r.stream) },
      random: r.random,
    });
    const prgs = Array.from({ length: KAPPA }, (_, j) => new ColumnStream(new Prg(keys.subarray(32 * j, 32 * j + 32), PRG_LABEL)));
    keys.fill(0);
    return new OtExtSender(r, delta, prgs);
  }

  /** A copy of Δ (the sender's secret correlation). */
  delta(): Uint8Array {
    return this.#delta.slice();
  }

  /**
   * Extends `m` OTs: receives the receiver's u, (malicious) runs the KOS check, and returns
   * the rows q_i. The PRG streams are advanced before the first await, so batches issued in the
   * same order on both sides line up even when they run concurrently.
   * @throws MpcError MAC_CHECK when the KOS check fails; PROTOCOL for malformed messages.
   */
  async extend(m: number): Promise<SenderBatch> {
    const f = await this.#run('OtExtSender.extend', m);
    const q = new Uint8Array(16 * m);
    this.transposer.forEachRows(f.cols, f.rows, (rows, row0, count) => {
      if (row0 < m) q.set(rows.subarray(0, 16 * Math.min(count, m - row0)), 16 * row0);
    });
    return { m, batch: f.batch, tweak0: f.tweak0, q, delta: this.#delta, hash: this.resolved.malicious ? 'tcr' : 'cr' };
  }

  /**
   * Extends `m` random OTs over Z_2^64: `extend` followed by `rotSenderKeys64`, but hashing each
   * chunk of rows straight out of the transposer, so the rows are never materialised.
   */
  async extendRot64(m: number, aes: FixedKeyAes): Promise<{ batch: number; m0: BigUint64Array; m1: BigUint64Array }> {
    const lazy = await this.extendLazy(m);
    const m0 = new BigUint64Array(m);
    const m1 = new BigUint64Array(m);
    lazy.forEachRot64(aes, (a, b, row0) => {
      m0.set(a, row0);
      m1.set(b, row0);
    });
    return { batch: lazy.batch, m0, m1 };
  }

  /**
   * Runs the protocol part of a batch of `m` OTs (u, the KOS check) and returns before any row
   * is formed; `forEachRot64` then transposes and hashes chunk by chunk, handing each chunk's
   * keys to a visitor while they are in cache — the layer above (gilboa.ts) consumes them
   * there, so no batch-sized key arrays exist. The visitor's arrays are reused between chunks.
   */
  async extendLazy(m: number): Promise<LazySenderBatch> {
    const f = await this.#run('OtExtSender.extendLazy', m);
    const tcr = this.resolved.malicious;
    const delta = this.#delta;
    const transposer = this.transposer;
    return {
      batch: f.batch,
      m,
      forEachRot64(aes, visit) {
        const s0 = new BigUint64Array(Math.min(m, CHUNK_ROWS));
        const s1 = new BigUint64Array(Math.min(m, CHUNK_ROWS));
        transposer.forEachRows(f.cols, f.rows, (rows, row0, count) => {
          const k = Math.min(count, m - row0);
          if (k <= 0) return;
          const x = rows.subarray(0, 16 * k);
          const a = s0.subarray(0, k);
          const b = s1.subarray(0, k);
          if (tcr) {
            tcrHash64(aes, x, f.tweak0 + BigInt(row0), undefined, a);
            tcrHash64(aes, x, f.tweak0 + BigInt(row0), delta, b);
          } else {
            crHash64(aes, x, undefined, a);
            crHash64(aes, x, delta, b);
          }
          visit(a, b, row0, k);
        });
      },
    };
  }

  /**
   * Extends `m` random OTs with full 128-bit keys, for Z_2^128: word 2i is the low and word
   * 2i + 1 the high half of m_b,i (the 16 hash bytes, little-endian). Hashed chunk by chunk.
   */
  async extendRot128(m: number, aes: FixedKeyAes): Promise<{ batch: number; m0: BigUint64Array; m1: BigUint64Array }> {
    const f = await this.#run('OtExtSender.extendRot128', m);
    const m0 = new BigUint64Array(2 * m);
    const m1 = new BigUint64Array(2 * m);
    const tcr = this.resolved.malicious;
    const delta = this.#delta;
    this.transposer.forEachRows(f.cols, f.rows, (rows, row0, count) => {
      const k = Math.min(count, m - row0);
      if (k <= 0) return;
      const x = rows.subarray(0, 16 * k);
      const tw = f.tweak0 + BigInt(row0);
      m0.set(words(tcr ? tcrHash(aes, x, tw) : crHash(aes, x)), 2 * row0);
      m1.set(words(tcr ? tcrHash(aes, x, tw, delta) : crHash(aes, x, delta)), 2 * row0);
    });
    return { batch: f.batch, m0, m1 };
  }

  /**
   * Extends `m` random OTs with 192-bit keys, for Z_2^192 (gilboa192.ts): words 3i, 3i + 1 are
   * the 128-bit key of `extendRot128`, word 3i + 2 its `widen192` expansion.
   */
  async extendRot192(m: number, aes: FixedKeyAes): Promise<{ batch: number; m0: BigUint64Array; m1: BigUint64Array }> {
    const { batch, m0, m1 } = await this.extendRot128(m, aes);
    return { batch, m0: widen192(aes, m0), m1: widen192(aes, m1) };
  }

  async #run(fn: string, m: number): Promise<Finished> {
    checkCount(fn, m);
    const r = this.resolved;
    const { rows, bytes, tweakStride } = geometry(m, r.malicious);
    const { batch, tweak0 } = this.next(tweakStride);
    const w = bytes >>> 3; // words per column (rows is a multiple of 128, so bytes of 16)
    // G(k_{Δ_j}) for every column, before the first await (keeps concurrent batches in order).
    const cols = this.#prgs.map((prg) => prg.column(bytes));

    const msg = await r.transport.recv(r.peer, MessageKind.Ot, this.round(batch, OtStep.Extend));
    expect(msg, 128 * bytes + (r.malicious ? 32 : 0), r.peer, `the OT-extension matrix of batch ${batch}`);
    const u64 = words(msg.subarray(0, 128 * bytes));
    // q_j = G(k_{Δ_j}) ⊕ Δ_j·u_j  [IKNP03], in place in the column buffers.
    for (let j = 0; j < KAPPA; j++) if (bitOf(this.#delta, j)) xorInto(new BigUint64Array(cols[j].buffer, cols[j].byteOffset, w), u64, j * w, w);

    if (r.malicious) {
      const com = msg.slice(128 * bytes);
      const seedS = r.random(32).slice();
      await r.transport.send(r.peer, MessageKind.Ot, this.round(batch, OtStep.Coin), seedS);
      const open = expect(await r.transport.recv(r.peer, MessageKind.Ot, this.round(batch, OtStep.Check)), 64, r.peer, `the KOS check of batch ${batch}`);
      const seedR = open.subarray(0, 32);
      if (!equalBytes(commitment(r.sid, batch, seedR), com)) {
        throw new MpcError(ErrorCode.PROTOCOL, `OT extension: party ${r.peer} opened a coin seed that does not match its commitment (batch ${batch})`, { party: String(r.peer) });
      }
      const chi = chiFor(r.sid, batch, seedS, seedR, rows);
      const qSum = chiCombineColumns(cols, chi, rows);
      const x = open.subarray(32, 48);
      const t = open.subarray(48, 64);
      const expected = gf128Mul(x, this.#delta);
      for (let i = 0; i < 16; i++) expected[i] ^= t[i];
      if (!equalBytes(expected, qSum)) {
        throw new MpcError(
          ErrorCode.MAC_CHECK,
          `OT extension: the KOS consistency check failed for batch ${batch}: party ${r.peer} used inconsistent choice bits (or corrupted its matrix)`,
          { party: String(r.peer) },
        );
      }
    }
    return { cols, rows, batch, tweak0 };
  }
}

/** The extension receiver of one ordered pair (`peer` → this party). Holds both seeds of every base OT. */
export class OtExtReceiver extends OtSessionBase {
  readonly #prg0: ColumnStream[];
  readonly #prg1: ColumnStream[];

  private constructor(r: Resolved, prg0: ColumnStream[], prg1: ColumnStream[]) {
    super(r);
    this.#prg0 = prg0;
    this.#prg1 = prg1;
  }

  /** Sets the session up: 128 base OTs in which this party sends random seed pairs. */
  static async setup(opts: OtSessionOptions): Promise<OtExtReceiver> {
    const r = resolve('OtExtReceiver.setup', opts, 'receiver');
    const { k0, k1 } = await r.baseOt.send(r.transport, r.peer, KAPPA, {
      sid: r.sid,
      rounds: { sender: otRound(0, OtStep.BaseSender, r.stream), receiver: otRound(0, OtStep.BaseReceiver, r.stream) },
      random: r.random,
    });
    const prg0 = Array.from({ length: KAPPA }, (_, j) => new ColumnStream(new Prg(k0.subarray(32 * j, 32 * j + 32), PRG_LABEL)));
    const prg1 = Array.from({ length: KAPPA }, (_, j) => new ColumnStream(new Prg(k1.subarray(32 * j, 32 * j + 32), PRG_LABEL)));
    k0.fill(0);
    k1.fill(0);
    return new OtExtReceiver(r, prg0, prg1);
  }

  /**
   * Extends `m` OTs with choice bits `choices` (⌈m/8⌉ bytes, LSB-first). Sends u, (malicious)
   * takes part in the KOS check, and returns the rows t_i.
   */
  async extend(choices: Uint8Array, m: number): Promise<ReceiverBatch> {
    const f = await this.#run('OtExtReceiver.extend', choices, m);
    const t = new Uint8Array(16 * m);
    this.transposer.forEachRows(f.cols, f.rows, (rows, row0, count) => {
      if (row0 < m) t.set(rows.subarray(0, 16 * Math.min(count, m - row0)), 16 * row0);
    });
    const used = f.choices.slice(0, Math.ceil(m / 8));
    if (m % 8 !== 0) used[used.length - 1] &= (1 << (m % 8)) - 1; // bits beyond m were padding
    return { m, batch: f.batch, tweak0: f.tweak0, t, choices: used, hash: this.resolved.malicious ? 'tcr' : 'cr' };
  }

  /** Extends `m` random OTs over Z_2^64: `extend` followed by `rotReceiverKeys64`, hashing chunk by chunk. */
  async extendRot64(choices: Uint8Array, m: number, aes: FixedKeyAes): Promise<{ batch: number; h: BigUint64Array }> {
    const lazy = await this.extendLazy(choices, m);
    const h = new BigUint64Array(m);
    lazy.forEachRot64(aes, (c, row0) => h.set(c, row0));
    return { batch: lazy.batch, h };
  }

  /** The receiver's half of `OtExtSender.extendLazy`: the protocol now, the rows and keys chunk by chunk later. */
  async extendLazy(choices: Uint8Array, m: number): Promise<LazyReceiverBatch> {
    const f = await this.#run('OtExtReceiver.extendLazy', choices, m);
    const tcr = this.resolved.malicious;
    const transposer = this.transposer;
    return {
      batch: f.batch,
      m,
      forEachRot64(aes, visit) {
        const s = new BigUint64Array(Math.min(m, CHUNK_ROWS));
        transposer.forEachRows(f.cols, f.rows, (rows, row0, count) => {
          const k = Math.min(count, m - row0);
          if (k <= 0) return;
          const x = rows.subarray(0, 16 * k);
          const c = s.subarray(0, k);
          if (tcr) tcrHash64(aes, x, f.tweak0 + BigInt(row0), undefined, c);
          else crHash64(aes, x, undefined, c);
          visit(c, row0, k);
        });
      },
    };
  }

  /** Extends `m` random OTs with full 128-bit keys (layout as `OtExtSender.extendRot128`). */
  async extendRot128(choices: Uint8Array, m: number, aes: FixedKeyAes): Promise<{ batch: number; h: BigUint64Array }> {
    const f = await this.#run('OtExtReceiver.extendRot128', choices, m);
    const h = new BigUint64Array(2 * m);
    const tcr = this.resolved.malicious;
    this.transposer.forEachRows(f.cols, f.rows, (rows, row0, count) => {
      const k = Math.min(count, m - row0);
      if (k <= 0) return;
      const x = rows.subarray(0, 16 * k);
      h.set(words(tcr ? tcrHash(aes, x, f.tweak0 + BigInt(row0)) : crHash(aes, x)), 2 * row0);
    });
    return { batch: f.batch, h };
  }

  /** Extends `m` random OTs with 192-bit keys (layout as `OtExtSender.extendRot192`). */
  async extendRot192(choices: Uint8Array, m: number, aes: FixedKeyAes): Promise<{ batch: number; h: BigUint64Array }> {
    const { batch, h } = await this.extendRot128(choices, m, aes);
    return { batch, h: widen192(aes, h) };
  }

  async #run(fn: string, choices: Uint8Array, m: number): Promise<Finished & { choices: Uint8Array }> {
    checkCount(fn, m);
    if (!(choices instanceof Uint8Array) || choices.length !== Math.ceil(m / 8)) {
      throw new RangeError(`${fn}: choices: expected ${Math.ceil(m / 8)} bytes for ${m} bits, got ${choices instanceof Uint8Array ? choices.length : typeof choices}`);
    }
    const r = this.resolved;
    const { rows, bytes, tweakStride } = geometry(m, r.malicious);
    const { batch, tweak0 } = this.next(tweakStride);
    const w = bytes >>> 3;
    // Choice bits beyond m (padding and the KOS rows) are random [KOS15: ℓ' = ℓ + κ + s].
    const rExt = r.random(bytes).slice();
    rExt.set(choices.subarray(0, m >>> 3));
    if (m % 8 !== 0) {
      const keep = (1 << (m % 8)) - 1;
      rExt[m >>> 3] = (choices[m >>> 3] & keep) | (rExt[m >>> 3] & ~keep);
    }
    const r64 = words(rExt);
    const msg = new Uint8Array(128 * bytes + (r.malicious ? 32 : 0));
    const u64 = new BigUint64Array(msg.buffer, 0, 128 * w);
    const cols = new Array<Uint8Array>(KAPPA);
    for (let j = 0; j < KAPPA; j++) {
      // t_j = G(k0_j), u_j = G(k0_j) ⊕ G(k1_j) ⊕ r  [IKNP03]
      const a = this.#prg0[j].column(bytes);
      const b = this.#prg1[j].column(bytes);
      cols[j] = a;
      xor3(u64, j * w, words(a), words(b), r64, w);
    }
    let seedR: Uint8Array | undefined;
    if (r.malicious) {
      seedR = r.random(32).slice();
      msg.set(commitment(r.sid, batch, seedR), 128 * bytes);
    }
    await r.transport.send(r.peer, MessageKind.Ot, this.round(batch, OtStep.Extend), msg);

    if (r.malicious && seedR) {
      const seedS = expect(await r.transport.recv(r.peer, MessageKind.Ot, this.round(batch, OtStep.Coin)), 32, r.peer, `the coin seed of batch ${batch}`);
      const chi = chiFor(r.sid, batch, seedS, seedR, rows);
      const x = chiCombineBits(rExt, chi, rows);
      const t = chiCombineColumns(cols, chi, rows);
      await r.transport.send(r.peer, MessageKind.Ot, this.round(batch, OtStep.Check), concatBytes(seedR, x, t));
    }
    return { cols, rows, batch, tweak0, choices: rExt };
  }
}

// --- Random OT keys ------------------------------------------------------------------------

/** The mask C of `widen192`: the first 16 bytes of SHA-256("tessera/ot/widen192/v1"). */
const WIDEN_MASK = sha256(enc.encode('tessera/ot/widen192/v1')).slice(0, 16);

/**
 * 128-bit random-OT keys k (2 words each) to 192-bit ones (3 words each): (k, G(k)) with
 * G(k) = the low 64 bits of π(k ⊕ C) ⊕ k ⊕ C (`crHash64` with mask C), one fixed-key AES
 * block per key. Why that is sound: every key the other side must not know is pseudorandom
 * and independent of the others (a (T)CR hash of a distinct row, tweaked in malicious
 * sessions); in the ideal-permutation model π(k ⊕ C) is uniform and independent of
 * everything else unless π was queried at k ⊕ C, i.e. unless k was guessed (probability
 * q/2^128 after q queries), so (k, G(k)) is as good as a uniform 192-bit key. C only keeps
 * these π inputs apart from the hash's own (π(x) and π(x) ⊕ i); the side that knows k
 * computes the same G(k). Semi-honest and malicious sessions widen the same way.
 */
export function widen192(aes: FixedKeyAes, k: BigUint64Array): BigUint64Array {
  const m = k.length >>> 1;
  const g = crHash64(aes, new Uint8Array(k.buffer, k.byteOffset, 16 * m), WIDEN_MASK);
  const out = new BigUint64Array(3 * m);
  interleave192(k, g, out, m);
  return out;
}

function interleave192(k: BigUint64Array, g: BigUint64Array, out: BigUint64Array, m: number): void {
  for (let i = 0; i < m; i++) {
    out[3 * i] = k[2 * i];
    out[3 * i + 1] = k[2 * i + 1];
    out[3 * i + 2] = g[i];
  }
}

/** Random OT, sender: m_b,i = H(i, q_i ⊕ b·Δ), 16 bytes per OT. */
export function rotSenderKeys(b: SenderBatch, aes: FixedKeyAes): { m0: Uint8Array; m1: Uint8Array } {
  if (b.hash === 'tcr') return { m0: tcrHash(aes, b.q, b.tweak0), m1: tcrHash(aes, b.q, b.tweak0, b.delta) };
  return { m0: crHash(aes, b.q), m1: crHash(aes, b.q, b.delta) };
}

/** Random OT, receiver: m_{r_i},i = H(i, t_i), 16 bytes per OT. */
export function rotReceiverKeys(b: ReceiverBatch, aes: FixedKeyAes): Uint8Array {
  return b.hash === 'tcr' ? tcrHash(aes, b.t, b.tweak0) : crHash(aes, b.t);
}

/** Random OT over Z_2^64, sender: the low 64 bits of m_0,i and m_1,i. */
export function rotSenderKeys64(b: SenderBatch, aes: FixedKeyAes): { m0: BigUint64Array; m1: BigUint64Array } {
  if (b.hash === 'tcr') return { m0: tcrHash64(aes, b.q, b.tweak0), m1: tcrHash64(aes, b.q, b.tweak0, b.delta) };
  return { m0: crHash64(aes, b.q), m1: crHash64(aes, b.q, b.delta) };
}

/** Random OT over Z_2^64, receiver: the low 64 bits of m_{r_i},i. */
export function rotReceiverKeys64(b: ReceiverBatch, aes: FixedKeyAes): BigUint64Array {
  return b.hash === 'tcr' ? tcrHash64(aes, b.t, b.tweak0) : crHash64(aes, b.t);
}
