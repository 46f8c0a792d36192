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
import * as z128 from '../ring/z128.ts';
import type { Z128Vec } from '../ring/z128.ts';
import { D128 } from '../protocol/domain.ts';
import { Prg, randomSeed } from '../ring/prg.ts';
import { bytesToU64, u64ToBytes } from '../ring/encoding.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Kernels } from '../protocol/kernels.ts';
import { RUN_AHEAD_BYTES } from '../util/run-ahead.ts';
import { SemiHonestPrep, type SemiHonestItem, type SemiHonestMaterial, type SemiHonestMaterialSource } from '../protocol/semi-honest-prep.ts';

/**
 * A dealer's material for one job: a 32-byte seed per party, and for each party the
 * sequence of extra items (corrections, mask values) it must receive, in the order the
 * party's material source consumes them.
 */
export interface Dealing {
  seeds: Uint8Array[];
  extras(party: number): Iterable<Uint8Array>;
}

/** The next extra item from the dealer (in memory in tests, from the dealer's connection on a node). */
export type NextExtra = () => Promise<Uint8Array>;

export const DEALER_TRUST =
  'dealer preprocessing: the dealer is trusted not to collude with any party (it could otherwise learn the inputs); it never sees inputs or outputs';

/** HKDF label of each party's triple stream; changing it changes every triple. */
export const TRIPLE_LABEL = 'tessera/dealer/triples/v1';

/** HKDF label of the dealer's own stream of random integers. */
export const RAND_VALUE_LABEL = 'tessera/dealer/rand-values/v1';

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
export function dealSemiHonest(items: readonly SemiHonestItem[], n: number, seeds?: Uint8Array[], ring: 64 | 128 = 64): Dealing {
  const s = dealerSeeds(n, seeds);
  const last = n - 1;
  const R = wordArith(ring);
  function* corrections(): Generator<Uint8Array> {
    const streams = s.map((seed) => new Prg(seed, TRIPLE_LABEL));
    const values = dealerStream(s, RAND_VALUE_LABEL);
    for (const item of items) {
      const w = item.length * R.words;
      if (item.kind === 'rand') {
        // r_{n−1} = r − Σ_{i<n−1} r_i
        const r = R.mask(values.u64(w), item.bits);
        for (let i = 0; i < last; i++) R.sub(r, streams[i].u64(w), r);
        yield u64ToBytes(r);
        continue;
      }
      const a = new BigUint64Array(w);
      const b = new BigUint64Array(w);
      const cSum = new BigUint64Array(w);
      for (let i = 0; i < n; i++) {
        // One draw for the party's a, b (and c): the same bytes as one per vector, in one cipher call.
        const abc = streams[i].u64((i === last ? 2 : 3) * w);
        R.add(a, abc.subarray(0, w), a);
        R.add(b, abc.subarray(w, 2 * w), b);
        if (i !== last) R.add(cSum, abc.subarray(2 * w), cSum);
      }
      // c_{n-1} = a·b − Σ_{i<n−1} c_i
      yield u64ToBytes(R.sub(R.mul(a, b, a), cSum, a));
    }
  }
  return { seeds: s, extras: (party) => (party === last ? corrections() : []) };
}

/**
 * Ring arithmetic on preprocessing material as it is stored and sent: 64-bit words, one per
 * element in Z_2^64, the low limbs then the high limbs in Z_2^128.
 */
function wordArith(ring: 64 | 128) {
  if (ring === 64) {
    return { words: 1, add: z64.add, sub: z64.sub, mul: z64.mul, mask: (v: BigUint64Array, bits: number) => z64.maskBits(v, bits) };
  }
  const view = (v: BigUint64Array): Z128Vec => z128.wordsView(v);
  const lift = (f: (a: Z128Vec, b: Z128Vec, o: Z128Vec) => Z128Vec) => (a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): BigUint64Array => {
    f(view(a), view(b), view(out));
    return out;
  };
  return { words: 2, add: lift(z128.add), sub: lift(z128.sub), mul: lift(z128.mul), mask: (v: BigUint64Array, bits: number) => (D128.maskBits(view(v), bits), v) };
}

export function seededMaterial(self: number, n: number, seed: Uint8Array, nextExtra?: NextExtra, ring: 64 | 128 = 64): SemiHonestMaterialSource {
  const words = ring / 64;
  const prg = new Prg(seed, TRIPLE_LABEL);
  const last = self === n - 1;
  if (last && !nextExtra) throw new RangeError('the last party needs the dealer corrections');
  async function correction(count: number): Promise<BigUint64Array> {
    const bytes = await nextExtra!();
    if (bytes.byteLength !== count * 8) {
      throw new MpcError(ErrorCode.PREPROCESSING, `dealer correction has ${bytes.byteLength} bytes, expected ${count * 8}`);
    }
    return bytesToU64(bytes);
  }
  async function produce(item: SemiHonestItem, kernels: Kernels | undefined): Promise<SemiHonestMaterial> {
    // 64-bit words of the item's vectors.
    const count = item.length * words;
    if (item.kind === 'rand') return { kind: 'rand', values: last ? await correction(count) : prg.u64(count) };
    // The last party's c is the dealer's correction; everyone else's comes from the seed.
    const fromSeed = last ? 2 : 3;
    let a: BigUint64Array;
    let b: BigUint64Array;
    let c: BigUint64Array | undefined;
    let expanded: Promise<void> | undefined;
    if (kernels?.shares(count)) {
      const abc = kernels.alloc64(fromSeed * count);
      expanded = kernels.run({ op: 'prgFill', region: prg.reserve(8 * fromSeed * count), out: u64ToBytes(abc) });
      expanded.catch(() => {});
      a = abc.subarray(0, count);
      b = abc.subarray(count, 2 * count);
      if (!last) c = abc.subarray(2 * count);
    } else {
      // One draw (one cipher call; a round's item is often a few words): the same bytes as one per vector.
      const abc = prg.u64(fromSeed * count);
      a = abc.subarray(0, count);
      b = abc.subarray(count, 2 * count);
      if (!last) c = abc.subarray(2 * count);
    }
    const corr = last ? correction(count) : undefined;
    // Whichever fails first is thrown; the other must not surface as an unhandled rejection.
    corr?.catch(() => {});
    await expanded;
    return { kind: 'triples', triples: { a, b, c: corr ? await corr : c! } };
  }
  return { produce };
}

/** A party's semi-honest preprocessing from its dealer seed (and, for the last party, the dealer's corrections). */
export class SeededSource extends SemiHonestPrep {
  constructor(self: number, n: number, seed: Uint8Array, items: readonly SemiHonestItem[], nextExtra?: NextExtra, runAheadBytes = RUN_AHEAD_BYTES) {
    super(items, seededMaterial(self, n, seed, nextExtra), runAheadBytes);
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
