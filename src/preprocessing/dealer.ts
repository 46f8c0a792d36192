/**
 * Dealer preprocessing for semi-honest Beaver triples, compressed with PRG seeds.
 *
 * A triple is ([a], [b], [c]) with c = a·b. Party i < n−1 gets only a 32-byte seed and
 * expands a_i, b_i, c_i from it; the last party expands a_{n−1}, b_{n−1} from its seed and
 * receives the correction c_{n−1} = a·b − Σ_{i<n−1} c_i. The dealer therefore sends one
 * vector instead of 3n, about 1/(3n) of the naive traffic (the "seed compression" of
 * SPDZ-style dealers, cf. MP-SPDZ's Fake-Offline and the TinyTable dealer of [DNNR17]).
 *
 * Trust: the dealer learns nothing about inputs, but knows every party's triple shares,
 * so a dealer colluding with a party breaks privacy. That is stated wherever dealer mode
 * runs. Triples are drawn in the plan's layer order and each batch is consumed once.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import * as z64 from '../ring/z64.ts';
import { Prg, randomSeed } from '../ring/prg.ts';

export const DEALER_TRUST =
  'dealer preprocessing: the dealer is trusted not to collude with any party (it could otherwise learn the inputs); it never sees inputs or outputs';

/** HKDF label of each party's triple stream; changing it changes every triple. */
export const TRIPLE_LABEL = 'tessera/dealer/triples/v1';

export interface Triples {
  a: BigUint64Array;
  b: BigUint64Array;
  c: BigUint64Array;
}

/** Where a party gets its triples: one call per multiplication layer, in layer order. */
export interface TripleSource {
  triples(count: number): Promise<Triples>;
}

/** The dealer's side for one job: fresh seeds and the last party's corrections. */
export class TripleDealer {
  readonly seeds: Uint8Array[];
  private readonly streams: Prg[];
  private next = 0;

  constructor(
    readonly n: number,
    readonly batches: readonly number[],
    seeds: Uint8Array[] = Array.from({ length: n }, () => randomSeed()),
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`dealer: expected n ≥ 1, got ${n}`);
    if (seeds.length !== n) throw new RangeError(`dealer: expected ${n} seeds, got ${seeds.length}`);
    this.seeds = seeds;
    this.streams = seeds.map((s) => new Prg(s, TRIPLE_LABEL));
  }

  /** True while corrections remain to be produced. */
  get pending(): boolean {
    return this.next < this.batches.length;
  }

  /** The last party's c shares for the next batch. */
  nextCorrection(): BigUint64Array {
    if (!this.pending) throw new MpcError(ErrorCode.PREPROCESSING, 'dealer: all triple batches were already dealt');
    const w = this.batches[this.next++];
    const last = this.n - 1;
    const a = new BigUint64Array(w);
    const b = new BigUint64Array(w);
    const cSum = new BigUint64Array(w);
    for (let i = 0; i < this.n; i++) {
      const ai = this.streams[i].u64(w);
      const bi = this.streams[i].u64(w);
      z64.add(a, ai, a);
      z64.add(b, bi, b);
      if (i !== last) z64.add(cSum, this.streams[i].u64(w), cSum);
    }
    // c_{n-1} = a·b − Σ_{i<n−1} c_i
    return z64.sub(z64.mul(a, b, a), cSum, a);
  }
}

/**
 * A party's triple source from its dealer seed. The last party also needs the dealer's
 * corrections, delivered in order by `correction()` (from memory in tests, from the
 * dealer's connection on a node).
 */
export class SeededTripleSource implements TripleSource {
  private readonly prg: Prg;
  private next = 0;

  constructor(
    private readonly self: number,
    private readonly n: number,
    seed: Uint8Array,
    private readonly batches: readonly number[],
    private readonly correction?: () => Promise<BigUint64Array>,
  ) {
    this.prg = new Prg(seed, TRIPLE_LABEL);
    if (self === n - 1 && !correction) throw new RangeError('the last party needs the dealer corrections');
  }

  async triples(count: number): Promise<Triples> {
    const expected = this.batches[this.next];
    if (expected === undefined) {
      throw new MpcError(ErrorCode.PREPROCESSING, `triples exhausted: the plan announced ${this.batches.length} batches`);
    }
    if (count !== expected) {
      throw new MpcError(ErrorCode.PREPROCESSING, `triple batch ${this.next}: expected ${expected} triples, asked for ${count}`);
    }
    this.next++;
    const a = this.prg.u64(count);
    const b = this.prg.u64(count);
    let c: BigUint64Array;
    if (this.self === this.n - 1) {
      c = await this.correction!();
      if (c.length !== count) {
        throw new MpcError(ErrorCode.PREPROCESSING, `dealer correction has ${c.length} elements, expected ${count}`);
      }
    } else {
      c = this.prg.u64(count);
    }
    return { a, b, c };
  }
}

/** The whole dealer in one process (tests, benchmarks of the online phase). */
export function localTripleSources(n: number, batches: readonly number[]): TripleSource[] {
  const dealer = new TripleDealer(n, batches);
  return dealer.seeds.map(
    (seed, i) => new SeededTripleSource(i, n, seed, batches, i === n - 1 ? async () => dealer.nextCorrection() : undefined),
  );
}
