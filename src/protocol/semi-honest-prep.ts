/**
 * A party's semi-honest preprocessing for one job: Beaver triples and random integers below
 * a power of two, item by item in plan order (plan.ts `prepSteps`), each item's material
 * from a `SemiHonestMaterialSource` — a dealer's (src/preprocessing/dealer.ts, from the
 * party's seed and the dealer's corrections) or the parties' own, made by oblivious transfer
 * (src/preprocessing/ot/semi-honest.ts). The suite (semi-honest.ts) sees only this class.
 *
 * Items are produced ahead of the online phase, in plan order, in a bounded run-ahead
 * (src/util/run-ahead.ts, RUN_AHEAD_BYTES), and each is consumed exactly once: asking for
 * another kind, another length or more items than the plan announced is a PREPROCESSING error.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import type { Kernels } from './kernels.ts';
import { layerChunks, prepSteps, type Plan } from '../compiler/plan.ts';
import { concat64 } from './vectors.ts';
import { pause } from './spdz2k/chunks.ts';
import { RunAhead, RUN_AHEAD_BYTES, type HasStore, type StoreFill } from '../util/run-ahead.ts';

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
  /** (In Z_2^128 each array holds the low limbs, then the high limbs.) */
  triples(count: number, kernels?: Kernels): Promise<Triples>;
  rand(bits: number, count: number): Promise<BigUint64Array>;
}

/** One item's material, this party's shares: a triple batch, or random integers below 2^bits. */
export type SemiHonestMaterial = { kind: 'triples'; triples: Triples } | { kind: 'rand'; values: BigUint64Array };

/**
 * Where the material comes from. `produce` is called once per item, in plan order, each call
 * after the previous one settled; `kernels` is where the latest `triples` claim asked its
 * material to go (a worker pool), for sources that expand there.
 */
export interface SemiHonestMaterialSource {
  produce(item: SemiHonestItem, kernels: Kernels | undefined): Promise<SemiHonestMaterial>;
}

/** Bytes one item's material holds: a, b, c per triple, one value per random integer (8 bytes per 64-bit word). */
const materialBytes = (item: SemiHonestItem, words: number): number => (item.kind === 'triples' ? 24 : 8) * words * item.length;

export class SemiHonestPrep implements SemiHonestSource, HasStore {
  private next = 0;
  readonly #ahead: RunAhead<SemiHonestMaterial>;
  /** The kernels of the latest `triples` call: where items produced ahead of their call go. */
  #kernels: Kernels | undefined;

  /** 64-bit words per element: 1 in Z_2^64, 2 in Z_2^128 (material holds low limbs, then high limbs). */
  readonly #words: number;

  constructor(
    private readonly items: readonly SemiHonestItem[],
    source: SemiHonestMaterialSource,
    runAheadBytes = RUN_AHEAD_BYTES,
    ring: 64 | 128 = 64,
  ) {
    this.#words = ring / 64;
    this.#ahead = new RunAhead({
      count: items.length,
      cost: (i) => materialBytes(items[i], this.#words),
      produce: (i) => source.produce(items[i], this.#kernels),
      budget: runAheadBytes,
      pace: (i) => pause(items[i].length),
    });
  }

  /** The run-ahead's bound and fill level (bytes of material). */
  store(): StoreFill {
    return this.#ahead.fill();
  }

  /** Stop producing ahead: every pending and later request rejects with `reason`. */
  abort(reason: Error): void {
    this.#ahead.abort(reason);
  }

  /** Claim the next item, which must be `kind` of `count` elements; its material, when produced. */
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

  /**
   * `count` random integers below 2^bits, claimed in pieces of at most MUL_CHUNK (the
   * items, plan.ts `prepSteps`). Claims are made before the first await, so concurrent
   * callers get items in call order.
   */
  async rand(bits: number, count: number): Promise<BigUint64Array> {
    const parts = layerChunks(count).map((w) => this.#take('rand', w, bits));
    const values = (await Promise.all(parts)).map((m) => (m.kind === 'rand' ? m.values : unreachable()));
    if (this.#words === 1 || values.length === 1) return concat64(values);
    // Each piece is its low limbs then its high limbs; so is the whole.
    const half = (v: BigUint64Array, k: number): BigUint64Array => v.subarray((k * v.length) / 2, ((k + 1) * v.length) / 2);
    return concat64([...values.map((v) => half(v, 0)), ...values.map((v) => half(v, 1))]);
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
