/**
 * Dealer preprocessing for semi-honest Beaver triples, compressed with PRG seeds.
 *
 * A triple is ([a], [b], [c]) with c = a·b. Party i < n−1 gets only a 32-byte seed and
 * expands a_i, b_i, c_i from it; the last party expands a_{n−1}, b_{n−1} from its seed and
 * receives the correction c_{n−1} = a·b − Σ_{i<n−1} c_i. The dealer therefore sends one
 * vector instead of 3n, about 1/(3n) of the naive traffic (the seed compression of
 * SPDZ-style dealers, cf. MP-SPDZ's Fake-Offline).
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
import type { Dealing, NextExtra } from '../protocol/suite.ts';
import type { Kernels } from '../protocol/kernels.ts';

export const DEALER_TRUST =
  'dealer preprocessing: the dealer is trusted not to collude with any party (it could otherwise learn the inputs); it never sees inputs or outputs';

/** HKDF label of each party's triple stream; changing it changes every triple. */
export const TRIPLE_LABEL = 'tessera/dealer/triples/v1';

export interface Triples {
  a: BigUint64Array;
  b: BigUint64Array;
  c: BigUint64Array;
}

/**
 * Where a party gets its triples: one call per multiplication chunk, in order. With
 * `kernels` that share buffers for `count` elements (a worker pool), the triples may be
 * expanded on a worker straight into shared memory; without, in the calling thread.
 */
export interface TripleSource {
  triples(count: number, kernels?: Kernels): Promise<Triples>;
}

/** Fresh seeds for `n` parties unless given (tests pin them). */
export function dealerSeeds(n: number, seeds?: Uint8Array[]): Uint8Array[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`dealer: expected n ≥ 1, got ${n}`);
  const s = seeds ?? Array.from({ length: n }, () => randomSeed());
  if (s.length !== n) throw new RangeError(`dealer: expected ${n} seeds, got ${s.length}`);
  return s;
}

/** The dealer's side for one job: the last party's c corrections, batch by batch. */
export function dealTriples(batches: readonly number[], n: number, seeds?: Uint8Array[]): Dealing {
  const s = dealerSeeds(n, seeds);
  const last = n - 1;
  function* corrections(): Generator<Uint8Array> {
    const streams = s.map((seed) => new Prg(seed, TRIPLE_LABEL));
    for (const w of batches) {
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

/**
 * A party's triple source from its dealer seed. The last party also consumes the dealer's
 * corrections, one per batch, through `nextExtra`.
 */
export class SeededTripleSource implements TripleSource {
  private readonly prg: Prg;
  private next = 0;

  constructor(
    private readonly self: number,
    private readonly n: number,
    seed: Uint8Array,
    private readonly batches: readonly number[],
    private readonly nextExtra?: NextExtra,
  ) {
    this.prg = new Prg(seed, TRIPLE_LABEL);
    if (self === n - 1 && !nextExtra) throw new RangeError('the last party needs the dealer corrections');
  }

  /**
   * The next batch. Everything that fixes which triples these are (the batch number, the
   * PRG stream's position, the request for the dealer's correction) happens before the
   * first await, so concurrent callers get batches in call order.
   */
  async triples(count: number, kernels?: Kernels): Promise<Triples> {
    const expected = this.batches[this.next];
    if (expected === undefined) {
      throw new MpcError(ErrorCode.PREPROCESSING, `triples exhausted: the plan announced ${this.batches.length} batches`);
    }
    if (count !== expected) {
      throw new MpcError(ErrorCode.PREPROCESSING, `triple batch ${this.next}: expected ${expected} triples, asked for ${count}`);
    }
    this.next++;
    const last = this.self === this.n - 1;
    // The last party's c is the dealer's correction; everyone else's comes from the seed.
    const fromSeed = last ? 2 : 3;
    let a: BigUint64Array;
    let b: BigUint64Array;
    let c: BigUint64Array | undefined;
    let expanded: Promise<void> | undefined;
    if (kernels?.shares(count)) {
      // Expanded on a worker, straight into shared memory: one region of the stream.
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
    const correction = last ? this.nextExtra!() : undefined;
    // Whichever fails first is thrown; the other must not surface as an unhandled rejection.
    correction?.catch(() => {});
    await expanded;
    if (!correction) return { a, b, c: c! };
    const bytes = await correction;
    if (bytes.byteLength !== count * 8) {
      throw new MpcError(ErrorCode.PREPROCESSING, `dealer correction has ${bytes.byteLength} bytes, expected ${count * 8}`);
    }
    return { a, b, c: bytesToU64(bytes) };
  }
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
