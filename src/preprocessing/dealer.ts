/**
 * Dealer preprocessing for the semi-honest suite, compressed with PRG seeds: Beaver triples
 * and random integers below a power of two (the masks of comparisons and truncations).
 *
 * A triple is ([a], [b], [c]) with c = a·b. Party i < n−1 gets only a 32-byte seed and
 * expands a_i, b_i, c_i from it; the last party expands a_{n−1}, b_{n−1} from its seed and
 * receives the correction c_{n−1} = a·b − Σ_{i<n−1} c_i. The dealer therefore sends one
 * vector instead of 3n, about 1/(3n) of the naive traffic (the seed compression of
 * SPDZ-style dealers, cf. MP-SPDZ's Fake-Offline). A random integer [r], r < 2^bits, is the
 * same idea: r_i from the seed for i < n−1, and r_{n−1} = r − Σ r_i from the dealer, with r
 * drawn from a stream only the dealer can compute (keyed by all the parties' seeds).
 *
 * Trust: the dealer learns nothing about inputs, but knows every party's triple shares,
 * so a dealer colluding with a party breaks privacy. That is stated wherever dealer mode
 * runs. Triples are drawn in the plan's layer order and each batch is consumed once.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import * as z64 from '../ring/z64.ts';
import { Prg, randomSeed } from '../ring/prg.ts';
import { bytesToU64, u64ToBytes } from '../ring/encoding.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Dealing, NextExtra } from '../protocol/suite.ts';
import type { Kernels } from '../protocol/kernels.ts';
import { layerChunks, prepSteps, type Plan } from '../compiler/plan.ts';
import { concat64 } from '../protocol/vectors.ts';
import { pause } from '../protocol/spdz2k/chunks.ts';
import { RunAhead, RUN_AHEAD_BYTES } from '../util/run-ahead.ts';

export const DEALER_TRUST =
  'dealer preprocessing: the dealer is trusted not to collude with any party (it could otherwise learn the inputs); it never sees inputs or outputs';

/** HKDF label of each party's triple stream; changing it changes every triple. */
export const TRIPLE_LABEL = 'tessera/dealer/triples/v1';

/** HKDF label of the dealer's own stream of random integers. */
export const RAND_VALUE_LABEL = 'tessera/dealer/rand-values/v1';

export interface Triples {
  a: BigUint64Array;
  b: BigUint64Array;
  c: BigUint64Array;
}

/** One semi-honest preprocessing item, in consumption order (plan.ts `prepSteps`). */
export type SemiHonestItem = { kind: 'triples'; length: number } | { kind: 'rand'; length: number; bits: number };

export function semiHonestItems(plan: Plan): SemiHonestItem[] {
  return prepSteps(plan).flatMap((s): SemiHonestItem[] => (s.kind === 'triples' ? [{ kind: 'triples', length: s.length }] : s.kind === 'rand' ? [{ kind: 'rand', length: s.length, bits: s.bits }] : []));
}

/**
 * Where a party gets its preprocessing: triples one call per multiplication chunk, random
 * integers one call per `rand` op, in plan order. With `kernels` that share buffers for
 * `count` elements (a worker pool), triples may be expanded on a worker straight into
 * shared memory; without, in the calling thread.
 */
export interface SemiHonestSource {
  triples(count: number, kernels?: Kernels): Promise<Triples>;
  rand(bits: number, count: number): Promise<BigUint64Array>;
}

/** The dealer's private stream for one job: a function of every party's seed, so no party can compute it. */
export function dealerStream(seeds: readonly Uint8Array[], label: string): Prg {
  const all = new Uint8Array(seeds.length * 32);
  seeds.forEach((s, i) => all.set(s, i * 32));
  return new Prg(sha256(all), label);
}


/** Fresh seeds for `n` parties unless given (tests pin them). */
export function dealerSeeds(n: number, seeds?: Uint8Array[]): Uint8Array[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`dealer: expected n ≥ 1, got ${n}`);
  const s = seeds ?? Array.from({ length: n }, () => randomSeed());
  if (s.length !== n) throw new RangeError(`dealer: expected ${n} seeds, got ${s.length}`);
  return s;
}

/** The dealer's side for one job: the last party's corrections, item by item. */
export function dealSemiHonest(items: readonly SemiHonestItem[], n: number, seeds?: Uint8Array[]): Dealing {
  const s = dealerSeeds(n, seeds);
  const last = n - 1;
  function* corrections(): Generator<Uint8Array> {
    const streams = s.map((seed) => new Prg(seed, TRIPLE_LABEL));
    const values = dealerStream(s, RAND_VALUE_LABEL);
    for (const item of items) {
      const w = item.length;
      if (item.kind === 'rand') {
        // r_{n−1} = r − Σ_{i<n−1} r_i
        const r = z64.maskBits(values.u64(w), item.bits);
        for (let i = 0; i < last; i++) z64.sub(r, streams[i].u64(w), r);
        yield u64ToBytes(r);
        continue;
      }
      const a = new BigUint64Array(w);
      const b = new BigUint64Array(w);
      const cSum = new BigUint64Array(w);
      for (let i = 0; i < n; i++) {
        z64.add(a, streams[i].u64(w), a);
        z64.add(b, streams[i].u64(w), b);
        if (i !== last) z64.add(cSum, streams[i].u64(w), cSum);
      }
      // c_{n-1} = a·b − Σ_{i<n−1} c_i
      yield u64ToBytes(z64.sub(z64.mul(a, b, a), cSum, a));
    }
  }
  return { seeds: s, extras: (party) => (party === last ? corrections() : []) };
}

/** One item's material as the run-ahead holds it. */
type SemiHonestMaterial = { kind: 'triples'; triples: Triples } | { kind: 'rand'; values: BigUint64Array };

/** Bytes one item's material holds: a, b, c (8 bytes each) per triple, one value per random integer. */
const materialBytes = (item: SemiHonestItem): number => (item.kind === 'triples' ? 24 : 8) * item.length;

/**
 * A party's preprocessing source from its dealer seed. The last party also consumes the
 * dealer's corrections, one per item, through `nextExtra`.
 *
 * Items are expanded ahead of the online phase, in plan order, in a bounded run-ahead
 * (src/util/run-ahead.ts, RUN_AHEAD_BYTES): the seed's stream is read and the dealer's
 * corrections are fetched in exactly the order the protocol claims the items, so the
 * material is the same as expanding each item when it is asked for, only earlier.
 */
export class SeededSource implements SemiHonestSource {
  private readonly prg: Prg;
  private next = 0;
  readonly #ahead: RunAhead<SemiHonestMaterial>;
  /** The kernels of the latest `triples` call: where items expanded ahead of their call go. */
  #kernels: Kernels | undefined;

  constructor(
    private readonly self: number,
    private readonly n: number,
    seed: Uint8Array,
    private readonly items: readonly SemiHonestItem[],
    private readonly nextExtra?: NextExtra,
    runAheadBytes = RUN_AHEAD_BYTES,
  ) {
    this.prg = new Prg(seed, TRIPLE_LABEL);
    if (self === n - 1 && !nextExtra) throw new RangeError('the last party needs the dealer corrections');
    this.#ahead = new RunAhead({
      count: items.length,
      cost: (i) => materialBytes(items[i]),
      produce: (i) => this.#produce(items[i]),
      budget: runAheadBytes,
      pace: (i) => pause(items[i].length),
    });
  }

  /** Stop expanding ahead: every pending and later request rejects with `reason`. */
  abort(reason: Error): void {
    this.#ahead.abort(reason);
  }

  /** Claim the next item, which must be `kind` of `count` elements; its material, when expanded. */
  #take(kind: SemiHonestItem['kind'], count: number, bits?: number): Promise<SemiHonestMaterial> {
    const item = this.items[this.next];
    const asked = `${kind}${bits === undefined ? '' : ` (${bits} bits)`} of ${count}`;
    if (item === undefined) {
      throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing exhausted: the plan announced ${this.items.length} items, the protocol asked for ${asked}`);
    }
    if (item.kind !== kind || item.length !== count || (item.kind === 'rand' && item.bits !== bits)) {
      throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing item ${this.next} is ${item.kind} of ${item.length}, the protocol asked for ${asked}`);
    }
    this.next++;
    return this.#ahead.take();
  }

  async #correction(count: number): Promise<BigUint64Array> {
    const bytes = await this.nextExtra!();
    if (bytes.byteLength !== count * 8) {
      throw new MpcError(ErrorCode.PREPROCESSING, `dealer correction has ${bytes.byteLength} bytes, expected ${count * 8}`);
    }
    return bytesToU64(bytes);
  }

  /**
   * One item's material, run ahead in item order: the seed's stream and the dealer's
   * corrections are read in that order and no other. With kernels that share buffers for
   * its length (a worker pool), a triple batch is expanded on a worker straight into shared
   * memory (one region of the stream); without, in this thread.
   */
  async #produce(item: SemiHonestItem): Promise<SemiHonestMaterial> {
    const count = item.length;
    const last = this.self === this.n - 1;
    if (item.kind === 'rand') return { kind: 'rand', values: last ? await this.#correction(count) : this.prg.u64(count) };
    // The last party's c is the dealer's correction; everyone else's comes from the seed.
    const fromSeed = last ? 2 : 3;
    const kernels = this.#kernels;
    let a: BigUint64Array;
    let b: BigUint64Array;
    let c: BigUint64Array | undefined;
    let expanded: Promise<void> | undefined;
    if (kernels?.shares(count)) {
      const abc = kernels.alloc64(fromSeed * count);
      expanded = kernels.run({ op: 'prgFill', region: this.prg.reserve(8 * fromSeed * count), out: u64ToBytes(abc) });
      expanded.catch(() => {});
      a = abc.subarray(0, count);
      b = abc.subarray(count, 2 * count);
      if (!last) c = abc.subarray(2 * count);
    } else {
      a = this.prg.u64(count);
      b = this.prg.u64(count);
      if (!last) c = this.prg.u64(count);
    }
    const correction = last ? this.#correction(count) : undefined;
    // Whichever fails first is thrown; the other must not surface as an unhandled rejection.
    correction?.catch(() => {});
    await expanded;
    return { kind: 'triples', triples: { a, b, c: correction ? await correction : c! } };
  }

  /**
   * `count` random integers below 2^bits, claimed in pieces of at most MUL_CHUNK (the
   * dealer's items, plan.ts `prepSteps`). Claims are made before the first await, so
   * concurrent callers get items in call order.
   */
  async rand(bits: number, count: number): Promise<BigUint64Array> {
    const parts = layerChunks(count).map((w) => this.#take('rand', w, bits));
    const values = await Promise.all(parts);
    return concat64(values.map((m) => (m.kind === 'rand' ? m.values : unreachable())));
  }

  /**
   * The next batch. It is claimed before the first await, so concurrent callers get batches
   * in call order.
   */
  async triples(count: number, kernels?: Kernels): Promise<Triples> {
    this.#kernels = kernels;
    const m = await this.#take('triples', count);
    return m.kind === 'triples' ? m.triples : unreachable();
  }
}

function unreachable(): never {
  throw new Error('preprocessing: an item changed kind after it was checked');
}

/**
 * The party side of an in-memory dealing: `nextExtra` functions over each party's extras
 * (tests, benchmarks, and `runLocal`).
 */
export function memoryExtras(dealing: Dealing, party: number): NextExtra {
  const it = dealing.extras(party)[Symbol.iterator]();
  return async () => {
    const r = it.next();
    if (r.done) throw new MpcError(ErrorCode.PREPROCESSING, `party ${party} asked for more dealer material than was dealt`);
    return r.value;
  };
}
