/**
 * Semi-honest n-party Beaver triples over Z_2^64 or Z_2^128 from pairwise OT multiplication
 * [Beaver, CRYPTO 1991; the passive core of MASCOT, Keller–Orsini–Scholl CCS 2016]:
 *
 *   each party i samples a_i, b_i;   c_i = a_i·b_i + Σ_{j≠i} ( ⟨a_i·b_j⟩_i + ⟨a_j·b_i⟩_i )
 *
 * where ⟨a_i·b_j⟩ are the two additive shares of one Gilboa product (gilboa.ts) computed in the
 * OT session "i sends to j" (i's a_i as the sender's x, j's b_j as the receiver's choice bits).
 * Then Σ c_i = Σ_i a_i·b_i + Σ_{i≠j} a_i·b_j = (Σ a_i)(Σ b_i). Each party runs 2(n − 1)
 * sessions — sender to every peer, receiver from every peer — set up once (128 base OTs each)
 * and extended per batch; all of a batch's sessions run concurrently.
 *
 * Security: semi-honest, any number of corrupted parties (each cross term is private against
 * both of its parties, and a_i, b_i never leave party i). Malicious triples need MACs and a
 * sacrifice (SPDZ2k) on top — spdz2k.ts; the sessions here are therefore semi-honest ones
 * (no KOS check, CR hash).
 *
 * Cost per triple: 2(n − 1)·64 OTs per party; bytes sent in total over all parties
 * n(n − 1)·(1 024 + 260) = 2 568 for n = 2 (see README.md for the comparison). Over Z_2^128
 * (`ring: 128`): 2(n − 1)·128 OTs, n(n − 1)·(2 048 + 1 032) bytes = 6 160 for n = 2.
 * @module
 */

import { Prg } from '../../ring/prg.ts';
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import type { Transport } from '../../protocol/transport.ts';
import type { RingBits } from '../../protocol/domain.ts';
import { systemRandom, type RandomBytes } from './base-ot.ts';
import { FixedKeyAes } from './aes.ts';
import { OtExtReceiver, OtExtSender, MAX_BATCH_OTS, type BaseOtProvider } from './extension.ts';
import {
  bitMulReceive64,
  bitMulReceive128,
  bitMulSend64,
  bitMulSend128,
  gilboaReceive64,
  gilboaReceive128,
  gilboaSend64,
  gilboaSend128,
  GILBOA_OTS_64,
  GILBOA_OTS_128,
} from './gilboa.ts';
import { pipelined } from '../../util/queue.ts';

/**
 * One party's shares of a batch of triples: Σ_i c_i = (Σ_i a_i)·(Σ_i b_i) elementwise, mod
 * 2^ring. As 64-bit words: one per element in Z_2^64; in Z_2^128 the low limbs, then the high
 * limbs (the layout of preprocessing material, src/protocol/semi-honest-prep.ts).
 */
export interface TripleShares {
  a: BigUint64Array;
  b: BigUint64Array;
  c: BigUint64Array;
}

export interface OtTripleOptions {
  transport: Transport;
  /** Identifies the job; every party passes the same bytes (≥ 16). */
  sessionId: Uint8Array;
  /** OT stream (0..15) for the sessions; default 0. */
  stream?: number;
  /**
   * Products per extension batch (per session); default 2^19 OTs' worth: 8192 in Z_2^64,
   * 4096 in Z_2^128 (8 MB matrices; each PRG call then expands 64 KB, where AES-CTR runs at full speed).
   */
  batchSize?: number;
  /** The value domain of the triples and bits (default 64). */
  ring?: RingBits;
  random?: RandomBytes;
  baseOt?: BaseOtProvider;
}

/** Extension batches of one `generate` in flight at once (see there). */
const PIPELINE = 2;

/**
 * What the generator needs of a value domain: its vectors over word arrays, its arithmetic,
 * and its two OT multipliers. E is the domain's vector type.
 */
interface TripleRing<E> {
  readonly words: 1 | 2;
  readonly otsPerProduct: number;
  readonly defaultBatch: number;
  /** `n` elements over 64-bit words in the material layout (no copy). */
  view(w: BigUint64Array, n: number): E;
  slice(v: E, start: number, end: number): E;
  mul(a: E, b: E, out: E): void;
  add(a: E, b: E, out: E): void;
  sub(a: E, b: E, out: E): void;
  /** v[k] ← 1 − v[k] where bit k of `bits` is set (v + β − 2·v·β for a bit β). */
  flipWhere(v: E, bits: Uint8Array): void;
  /** v[k] ← bit k of `bits`. */
  setBits(v: E, bits: Uint8Array): void;
  send(ot: OtExtSender, x: E, aes: FixedKeyAes): Promise<E>;
  receive(ot: OtExtReceiver, y: E, aes: FixedKeyAes): Promise<E>;
  bitSend(ot: OtExtSender, x: E, aes: FixedKeyAes): Promise<E>;
  bitReceive(ot: OtExtReceiver, bits: Uint8Array, count: number, aes: FixedKeyAes): Promise<E>;
}

const bitAt = (bits: Uint8Array, k: number): number => (bits[k >> 3] >> (k & 7)) & 1;

const RING64: TripleRing<BigUint64Array> = {
  words: 1,
  otsPerProduct: GILBOA_OTS_64,
  defaultBatch: 8192,
  view: (w, n) => w.subarray(0, n),
  slice: (v, s, e) => v.subarray(s, e),
  mul: (a, b, out) => {
    for (let k = 0; k < a.length; k++) out[k] = BigInt.asUintN(64, a[k] * b[k]);
  },
  add: (a, b, out) => {
    for (let k = 0; k < a.length; k++) out[k] = BigInt.asUintN(64, a[k] + b[k]);
  },
  sub: (a, b, out) => {
    for (let k = 0; k < a.length; k++) out[k] = BigInt.asUintN(64, a[k] - b[k]);
  },
  flipWhere: (v, bits) => {
    for (let k = 0; k < v.length; k++) if (bitAt(bits, k)) v[k] = BigInt.asUintN(64, 1n - v[k]);
  },
  setBits: (v, bits) => {
    for (let k = 0; k < v.length; k++) v[k] = BigInt(bitAt(bits, k));
  },
  send: (ot, x, aes) => gilboaSend64(ot, x, { aes }),
  receive: (ot, y, aes) => gilboaReceive64(ot, y, { aes }),
  bitSend: (ot, x, aes) => bitMulSend64(ot, x, { aes }),
  bitReceive: (ot, bits, count, aes) => bitMulReceive64(ot, bits, count, { aes }),
};

const RING128: TripleRing<Z128Vec> = {
  words: 2,
  otsPerProduct: GILBOA_OTS_128,
  defaultBatch: 4096,
  view: (w, n) => z128.wordsView(w, n),
  slice: (v, s, e) => ({ lo: v.lo.subarray(s, e), hi: v.hi.subarray(s, e) }),
  mul: (a, b, out) => void z128.mul(a, b, out),
  add: (a, b, out) => void z128.add(a, b, out),
  sub: (a, b, out) => void z128.sub(a, b, out),
  flipWhere: (v, bits) => {
    const flipped = z128.addScalar(z128.neg(v), 1n);
    for (let k = 0; k < v.lo.length; k++) {
      if (bitAt(bits, k)) {
        v.lo[k] = flipped.lo[k];
        v.hi[k] = flipped.hi[k];
      }
    }
  },
  setBits: (v, bits) => {
    for (let k = 0; k < v.lo.length; k++) {
      v.lo[k] = BigInt(bitAt(bits, k));
      v.hi[k] = 0n;
    }
  },
  send: (ot, x, aes) => gilboaSend128(ot, x, { aes }),
  receive: (ot, y, aes) => gilboaReceive128(ot, y, { aes }),
  bitSend: (ot, x, aes) => bitMulSend128(ot, x, { aes }),
  bitReceive: (ot, bits, count, aes) => bitMulReceive128(ot, bits, count, { aes }),
};

/**
 * A party's semi-honest triple generator: its OT sessions with every other party.
 * @example
 * const gens = await Promise.all(transports.map((transport) => OtTripleGenerator.setup({ transport, sessionId })));
 * const shares = await Promise.all(gens.map((g) => g.generate(100_000)));
 */
export class OtTripleGenerator {
  readonly #senders: Map<number, OtExtSender>;
  readonly #receivers: Map<number, OtExtReceiver>;
  readonly #batch: number;
  readonly #random: RandomBytes;
  readonly #aes = new FixedKeyAes();
  readonly #self: number;
  readonly #n: number;
  readonly #ring: TripleRing<unknown>;
  #generated = 0;
  #bits = 0;

  private constructor(transport: Transport, senders: Map<number, OtExtSender>, receivers: Map<number, OtExtReceiver>, batch: number, random: RandomBytes, ring: TripleRing<unknown>) {
    this.#self = transport.self;
    this.#n = transport.n;
    this.#senders = senders;
    this.#receivers = receivers;
    this.#batch = batch;
    this.#random = random;
    this.#ring = ring;
  }

  /** Sets up the 2(n − 1) OT sessions of this party, concurrently. Every party must call it. */
  static async setup(opts: OtTripleOptions): Promise<OtTripleGenerator> {
    const { transport } = opts;
    const ringBits = opts.ring ?? 64;
    if (ringBits !== 64 && ringBits !== 128) throw new RangeError(`OtTripleGenerator.setup: ring: expected 64 or 128, got ${String(ringBits)}`);
    const ring = (ringBits === 64 ? RING64 : RING128) as TripleRing<unknown>;
    const batch = opts.batchSize ?? ring.defaultBatch;
    if (!Number.isSafeInteger(batch) || batch < 1 || batch * ring.otsPerProduct > MAX_BATCH_OTS) {
      throw new RangeError(`OtTripleGenerator.setup: batchSize: expected an integer in [1, ${MAX_BATCH_OTS / ring.otsPerProduct}], got ${String(batch)}`);
    }
    const senders = new Map<number, OtExtSender>();
    const receivers = new Map<number, OtExtReceiver>();
    const tasks: Promise<void>[] = [];
    for (let j = 0; j < transport.n; j++) {
      if (j === transport.self) continue;
      const common = { transport, peer: j, sessionId: opts.sessionId, stream: opts.stream, malicious: false, random: opts.random, baseOt: opts.baseOt };
      tasks.push(OtExtSender.setup(common).then((s) => void senders.set(j, s)));
      tasks.push(OtExtReceiver.setup(common).then((r) => void receivers.set(j, r)));
    }
    await Promise.all(tasks);
    return new OtTripleGenerator(transport, senders, receivers, batch, opts.random ?? systemRandom, ring);
  }

  /** Triples generated so far by this generator. */
  get generated(): number {
    return this.#generated;
  }

  /** Random bits generated so far. */
  get bitsGenerated(): number {
    return this.#bits;
  }

  /**
   * Shares in Z_2^ring of `count` uniformly random bits b = β_0 ⊕ … ⊕ β_{n−1}, β_i drawn by
   * party i (64-bit words, as `TripleShares`). The XOR is folded in one party at a time,
   * b ← b + β_i − 2·b·β_i, where b·β_i = Σ_j b_j·β_i: party i computes b_i·β_i itself and
   * every other party j one OT product b_j·β_i with i (`bitMulSend*`/`bitMulReceive*`, i's β_i
   * as choice bits), so n − 1 rounds of (n − 1) products each. Semi-honest, any number of
   * corruptions: β_i never leaves party i, and b is uniform as long as one β_i is. Every party
   * must call it with the same counts in the same order (and in the same order relative to
   * `generate`).
   */
  async bits(count: number): Promise<BigUint64Array> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`OtTripleGenerator.bits: count: expected a positive integer, got ${String(count)}`);
    const R = this.#ring;
    const self = this.#self;
    const words = new BigUint64Array(R.words * count);
    const b = R.view(words, count);
    for (let off = 0; off < count; off += MAX_BATCH_OTS) {
      const m = Math.min(MAX_BATCH_OTS, count - off);
      const share = R.slice(b, off, off + m);
      const mine = this.#random(Math.ceil(m / 8)).slice();
      if (m % 8 !== 0) mine[mine.length - 1] &= (1 << (m % 8)) - 1;
      if (self === 0) R.setBits(share, mine);
      for (let i = 1; i < this.#n; i++) {
        let cross: unknown[];
        if (i === self) {
          cross = await Promise.all([...this.#receivers.values()].map((r) => R.bitReceive(r, mine, m, this.#aes)));
        } else {
          cross = [await R.bitSend(this.#senders.get(i)!, share, this.#aes)];
        }
        // b_self ← b_self + [self = i]·(β_i − 2·b_i·β_i) − 2·Σ cross shares
        if (i === self) R.flipWhere(share, mine);
        for (const c of cross) {
          R.sub(share, c, share);
          R.sub(share, c, share);
        }
      }
    }
    this.#bits += count;
    return words;
  }

  /**
   * `count` fresh triples (this party's shares). Every party must call `generate` with the
   * same counts in the same order.
   */
  async generate(count: number): Promise<TripleShares> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`OtTripleGenerator.generate: count: expected a positive integer, got ${String(count)}`);
    const R = this.#ring;
    // a_i, b_i from a fresh seed: uniform, and never sent anywhere.
    const prg = new Prg(this.#random(32).slice(), 'tessera/ot/triples/ab');
    const words = { a: prg.u64(R.words * count), b: prg.u64(R.words * count), c: new BigUint64Array(R.words * count) };
    const a = R.view(words.a, count);
    const b = R.view(words.b, count);
    const c = R.view(words.c, count);
    // PIPELINE batches in flight: while one waits for its peer's matrix or corrections, the
    // next one's is computed, so neither the network nor the peer's turn idles this party.
    await pipelined(count, this.#batch, PIPELINE, async (off, end) => {
      const ai = R.slice(a, off, end);
      const bi = R.slice(b, off, end);
      const ci = R.slice(c, off, end);
      R.mul(ai, bi, ci);
      // Started synchronously, so each session's batch numbers follow the batch order.
      const parts: Promise<unknown>[] = [];
      for (const s of this.#senders.values()) parts.push(R.send(s, ai, this.#aes)); // ⟨a_i · b_j⟩_i
      for (const r of this.#receivers.values()) parts.push(R.receive(r, bi, this.#aes)); // ⟨a_j · b_i⟩_i
      for (const share of await Promise.all(parts)) R.add(ci, share, ci);
    });
    this.#generated += count;
    return words;
  }
}
