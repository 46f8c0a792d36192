/**
 * Semi-honest n-party Beaver triples over Z_2^64 from pairwise OT multiplication
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
 * n(n − 1)·(1 024 + 260) = 2 568 for n = 2 (see README.md for the comparison).
 * @module
 */

import { Prg } from '../../ring/prg.ts';
import type { Transport } from '../../protocol/transport.ts';
import { systemRandom, type RandomBytes } from './base-ot.ts';
import { FixedKeyAes } from './aes.ts';
import { OtExtReceiver, OtExtSender, MAX_BATCH_OTS, type BaseOtProvider } from './extension.ts';
import { bitMulReceive64, bitMulSend64, gilboaReceive64, gilboaSend64, GILBOA_OTS_64 } from './gilboa.ts';
import { pipelined } from '../../util/queue.ts';

/** One party's shares of a batch of triples: Σ_i c_i = (Σ_i a_i)·(Σ_i b_i) elementwise, mod 2^64. */
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
  /** Products per extension batch (per session); default 8192, i.e. 2^19 OTs (8 MB matrices; each PRG call then expands 64 KB, where AES-CTR runs at full speed). */
  batchSize?: number;
  random?: RandomBytes;
  baseOt?: BaseOtProvider;
}

const DEFAULT_BATCH = 8192;

/** Extension batches of one `generate` in flight at once (see there). */
const PIPELINE = 2;

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
  #generated = 0;
  #bits = 0;

  private constructor(transport: Transport, senders: Map<number, OtExtSender>, receivers: Map<number, OtExtReceiver>, batch: number, random: RandomBytes) {
    this.#self = transport.self;
    this.#n = transport.n;
    this.#senders = senders;
    this.#receivers = receivers;
    this.#batch = batch;
    this.#random = random;
  }

  /** Sets up the 2(n − 1) OT sessions of this party, concurrently. Every party must call it. */
  static async setup(opts: OtTripleOptions): Promise<OtTripleGenerator> {
    const { transport } = opts;
    const batch = opts.batchSize ?? DEFAULT_BATCH;
    if (!Number.isSafeInteger(batch) || batch < 1 || batch * GILBOA_OTS_64 > MAX_BATCH_OTS) {
      throw new RangeError(`OtTripleGenerator.setup: batchSize: expected an integer in [1, ${MAX_BATCH_OTS / GILBOA_OTS_64}], got ${String(batch)}`);
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
    return new OtTripleGenerator(transport, senders, receivers, batch, opts.random ?? systemRandom);
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
   * Shares in Z_2^64 of `count` uniformly random bits b = β_0 ⊕ … ⊕ β_{n−1}, β_i drawn by
   * party i. The XOR is folded in one party at a time, b ← b + β_i − 2·b·β_i, where
   * b·β_i = Σ_j b_j·β_i: party i computes b_i·β_i itself and every other party j one OT
   * product b_j·β_i with i (`bitMulSend64`/`bitMulReceive64`, i's β_i as choice bits), so
   * n − 1 rounds of (n − 1) products each. Semi-honest, any number of corruptions: β_i never
   * leaves party i, and b is uniform as long as one β_i is. Every party must call it with the
   * same counts in the same order (and in the same order relative to `generate`).
   */
  async bits(count: number): Promise<BigUint64Array> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`OtTripleGenerator.bits: count: expected a positive integer, got ${String(count)}`);
    const self = this.#self;
    const b = new BigUint64Array(count);
    for (let off = 0; off < count; off += MAX_BATCH_OTS) {
      const m = Math.min(MAX_BATCH_OTS, count - off);
      const share = b.subarray(off, off + m);
      const mine = this.#random(Math.ceil(m / 8)).slice();
      if (m % 8 !== 0) mine[mine.length - 1] &= (1 << (m % 8)) - 1;
      const bit = (k: number): bigint => BigInt((mine[k >> 3] >> (k & 7)) & 1);
      if (self === 0) for (let k = 0; k < m; k++) share[k] = bit(k);
      for (let i = 1; i < this.#n; i++) {
        let cross: BigUint64Array[];
        if (i === self) {
          cross = await Promise.all([...this.#receivers.values()].map((r) => bitMulReceive64(r, mine, m, { aes: this.#aes })));
        } else {
          cross = [await bitMulSend64(this.#senders.get(i)!, share, { aes: this.#aes })];
        }
        // b_self ← b_self + [self = i]·(β_i − 2·b_i·β_i) − 2·Σ cross shares
        for (let k = 0; k < m; k++) {
          let v = share[k];
          if (i === self) {
            const beta = bit(k);
            v = BigInt.asUintN(64, v + beta - 2n * v * beta);
          }
          for (const c of cross) v = BigInt.asUintN(64, v - 2n * c[k]);
          share[k] = v;
        }
      }
    }
    this.#bits += count;
    return b;
  }

  /**
   * `count` fresh triples (this party's shares). Every party must call `generate` with the
   * same counts in the same order.
   */
  async generate(count: number): Promise<TripleShares> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`OtTripleGenerator.generate: count: expected a positive integer, got ${String(count)}`);
    // a_i, b_i from a fresh seed: uniform, and never sent anywhere.
    const prg = new Prg(this.#random(32).slice(), 'tessera/ot/triples/ab');
    const a = prg.u64(count);
    const b = prg.u64(count);
    const c = new BigUint64Array(count);
    // PIPELINE batches in flight: while one waits for its peer's matrix or corrections, the
    // next one's is computed, so neither the network nor the peer's turn idles this party.
    await pipelined(count, this.#batch, PIPELINE, async (off, end) => {
      const ai = a.subarray(off, end);
      const bi = b.subarray(off, end);
      const ci = c.subarray(off, end);
      localProduct(ai, bi, ci);
      // Started synchronously, so each session's batch numbers follow the batch order.
      const parts: Promise<BigUint64Array>[] = [];
      for (const s of this.#senders.values()) parts.push(gilboaSend64(s, ai, { aes: this.#aes })); // ⟨a_i · b_j⟩_i
      for (const r of this.#receivers.values()) parts.push(gilboaReceive64(r, bi, { aes: this.#aes })); // ⟨a_j · b_i⟩_i
      for (const share of await Promise.all(parts)) addInto(ci, share);
    });
    this.#generated += count;
    return { a, b, c };
  }
}

function localProduct(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void {
  for (let k = 0; k < a.length; k++) out[k] = BigInt.asUintN(64, a[k] * b[k]);
}

function addInto(acc: BigUint64Array, v: BigUint64Array): void {
  for (let k = 0; k < acc.length; k++) acc[k] = BigInt.asUintN(64, acc[k] + v[k]);
}
