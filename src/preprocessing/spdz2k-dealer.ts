/**
 * Seed-compressed dealer for SPDZ2k preprocessing (k = s = 64): authenticated input masks,
 * output masks, random values and Beaver triples over Z_2^128, in the schedule's order
 * (schedule.ts). The dealer plays the role of F_Prep of [CDESX18 §4] (MACs under a key
 * α = Σα_i uniform in Z_2^128, triples with c = a·b); a dealer is trusted not to collude
 * with any party (DEALER_TRUST), and replaced by OT-based generation in a later milestone.
 *
 * Seed layout (per party seed, HKDF-labelled AES-CTR streams, see ring/prg.ts):
 * - `tessera/spdz2k/v1/mac-key`: 16 bytes, α_i.
 * - `tessera/spdz2k/v1/<kind>/<ordinal>`, one stream per schedule item, read in this order:
 *   - input-mask / output-mask / random of length L: x_i (L elements), then m_i (L) for
 *     parties 0..n−2;
 *   - triples of length L: a_i, b_i (L each), then c_i, m_{a,i}, m_{b,i}, m_{c,i} for
 *     parties 0..n−2.
 *   Elements are drawn with `Prg.z128` (L low limbs, then L high limbs).
 * So every value and MAC share is pseudorandom from the party's own seed, except the last
 * party's (n−1) MAC shares and c share, which the dealer computes so that all relations hold
 * and sends as extras. Extras, per party, in schedule order (one Uint8Array per line):
 * - party n−1, every item: the corrections — for masks and randoms m_{n−1} (16·L bytes,
 *   `z128.toBytes` layout); for triples c_{n−1} ‖ m_{a,n−1} ‖ m_{b,n−1} ‖ m_{c,n−1} (64·L);
 *   for random integers (`rand`, whose value r < 2^bits the dealer draws from a stream keyed
 *   by all the seeds) x_{n−1} ‖ m_{n−1} (32·L);
 * - then the item's holder, if any: an input mask's value r (16·L bytes), an output mask's
 *   value r mod 2^64 (8·L bytes, little-endian).
 * The generator recomputes each item from the seeds when it gets to it, so the dealer's
 * memory and the work of one generator step are bounded by one item, and items are pieces of
 * at most MUL_CHUNK = 2^18 elements (schedule.ts): an extra is at most 64·2^18 bytes = 16 MiB
 * (a triple piece's corrections), 4 MiB for any other item.
 * @module
 */
import * as z128 from '../ring/z128.ts';
import type { Z128Vec } from '../ring/z128.ts';
import { Prg } from '../ring/prg.ts';
import { maskBits } from '../ring/z64.ts';
import { bytesToU64, u64ToBytes } from '../ring/encoding.ts';
import { prgKey } from '../ring/prg.ts';
import { MpcError, ErrorCode } from '../errors.ts';
import { dealerSeeds, dealerStream, type Dealing, type NextExtra } from './dealer.ts';
import type { Plan } from '../compiler/plan.ts';
import { wireVec, type Kernels } from '../protocol/kernels.ts';
import { correctionBytes, itemLabel, schedule, valueBytes, SPDZ2K_LABEL, type Item } from '../protocol/spdz2k/schedule.ts';
import type { Spdz2kMaterial, Spdz2kMaterialSource } from '../protocol/spdz2k/prep.ts';
import { pause } from '../protocol/spdz2k/chunks.ts';

export const MAC_KEY_LABEL = `${SPDZ2K_LABEL}/mac-key`;

/** Party i's MAC key share α_i, from its dealer seed. */
export function macKeyShare(seed: Uint8Array): bigint {
  const v = new Prg(seed, MAC_KEY_LABEL).z128(1);
  return (v.hi[0] << 64n) | v.lo[0];
}

/** What a party expands from its own seed for one item (the last party: no MAC shares, no c). */
export interface SeedShares {
  /** The value share (masks, randoms) or [a, b] (triples) — always present. */
  x: Z128Vec[];
  /** Masks and randoms: [m]; triples: [c, m_a, m_b, m_c]. Empty for the last party. */
  rest: Z128Vec[];
}

/** Z_2^128 vector k of `count` consecutive wire-layout vectors of L elements in `w`. */
function nth(w: BigUint64Array, k: number, L: number): Z128Vec {
  return { lo: w.subarray(2 * k * L, (2 * k + 1) * L), hi: w.subarray((2 * k + 1) * L, (2 * k + 2) * L) };
}

/**
 * Party `party`'s seed-derived shares of `item` (see the module comment for the layout),
 * drawn from the stream in one call: the same bytes as one `Prg.z128(L)` per vector, in one
 * buffer of which the vectors are views.
 */
export function expandSeedShares(seed: Uint8Array, item: Item, party: number, n: number): SeedShares {
  const prg = new Prg(seed, itemLabel(item));
  const L = item.length;
  const last = party === n - 1;
  const xs = item.kind === 'triples' ? 2 : 1;
  // A random integer's last value share is the dealer's (it fixes the value below 2^bits).
  const count = last ? (item.kind === 'rand' ? 0 : xs) : 2 * xs + (item.kind === 'triples' ? 2 : 0);
  const w = bytesToU64(prg.bytes(16 * L * count));
  const v = Array.from({ length: count }, (_, k) => nth(w, k, L));
  return { x: v.slice(0, Math.min(xs, count)), rest: v.slice(xs) };
}

/** Only the value shares of `item` (a prefix of the stream): what a holder's value needs. */
function expandValueShare(seed: Uint8Array, item: Item): Z128Vec {
  return new Prg(seed, itemLabel(item)).z128(item.length);
}

/** The dealer's material for one SPDZ2k job. */
export function dealSpdz2k(plan: Plan, n: number, seeds?: Uint8Array[]): Dealing {
  const s = dealerSeeds(n, seeds);
  const items = schedule(plan, n);
  const last = n - 1;
  /** The dealer's value of a random-integer item: a stream no party can compute. */
  const randValues = (item: Item): BigUint64Array => {
    return maskBits(dealerStream(s, itemLabel(item)).u64(item.length), item.bits!);
  };
  function* extras(party: number): Generator<Uint8Array> {
    if (!Number.isInteger(party) || party < 0 || party >= n) throw new RangeError(`dealer: no party ${party} among ${n}`);
    // α is only needed for the corrections: other parties' streams never touch it.
    const alpha = party === last ? s.reduce((t, seed) => t + macKeyShare(seed), 0n) : 0n;
    for (const item of items) {
      if (party === last) yield corrections(item, alpha);
      if (item.holder === party) {
        const r = expandValueShare(s[0], item);
        for (let i = 1; i < n; i++) z128.add(r, expandValueShare(s[i], item), r);
        yield item.kind === 'input-mask' ? z128.toBytes(r) : u64ToBytes(r.lo).slice();
      }
    }
  }
  /**
   * The last party's extra for one item: its MAC shares (and c share) that make the
   * relations hold, computed straight into the extra's buffer (wire layout, vector after vector).
   */
  function corrections(item: Item, alpha: bigint): Uint8Array {
    const L = item.length;
    const shares = s.map((seed, i) => expandSeedShares(seed, item, i, n));
    const parts = item.kind === 'triples' ? 4 : item.kind === 'rand' ? 2 : 1;
    const out = new BigUint64Array(2 * parts * L);
    const slot = (k: number): Z128Vec => nth(out, k, L);
    // Σ over the parties of a value share (accumulated into the first party's, which is fresh).
    const total = (k: number): Z128Vec => {
      const acc = shares[0].x[k];
      for (let i = 1; i < n; i++) z128.add(acc, shares[i].x[k], acc);
      return acc;
    };
    // into ← into − Σ over parties 0..n−2 of a seed-derived share (the last party has none).
    const minusOthers = (into: Z128Vec, k: number): void => {
      for (let i = 0; i < last; i++) z128.sub(into, shares[i].rest[k], into);
    };
    // The last share of a MAC α·v is α·v minus everybody else's.
    const lastMac = (v: Z128Vec, k: number, into: Z128Vec): void => {
      z128.mulScalar(v, alpha, into);
      minusOthers(into, k);
    };
    if (item.kind === 'rand') {
      // x_{n−1} = r − Σ x_i and m_{n−1} = α·r − Σ m_i, for r < 2^bits from the dealer's own stream.
      const r = z128.lift(randValues(item));
      lastMac(r, 0, slot(1));
      const x = slot(0);
      x.lo.set(r.lo);
      x.hi.set(r.hi);
      for (let i = 0; i < last; i++) z128.sub(x, shares[i].x[0], x);
    } else if (item.kind !== 'triples') {
      lastMac(total(0), 0, slot(0));
    } else {
      const a = total(0);
      const b = total(1);
      const c = z128.mul(a, b, slot(0));
      lastMac(a, 1, slot(1));
      lastMac(b, 2, slot(2));
      lastMac(c, 3, slot(3));
      minusOthers(c, 0);
    }
    return u64ToBytes(out);
  }
  return { seeds: s, extras };
}

/**
 * A party's material from its dealer seed and the dealer's extras (`nextExtra`, fetched one
 * after another in schedule order, each after a pause; an in-process dealer, in tests,
 * computes an item when it is fetched, so its work is interleaved with the parties' too).
 */
export function dealerMaterial(seed: Uint8Array, self: number, n: number, nextExtra: NextExtra): Spdz2kMaterialSource {
  async function extra(bytes: number, length: number, what: string): Promise<Uint8Array> {
    await pause(length);
    const b = await nextExtra();
    if (!(b instanceof Uint8Array) || b.byteLength !== bytes) {
      throw new MpcError(ErrorCode.PREPROCESSING, `dealer sent ${b?.byteLength ?? 'no'} bytes for ${what}, expected ${bytes}`);
    }
    return b;
  }
  /**
   * One piece's material: its seed shares, then its extras (the last party's corrections,
   * then the holder's value). With kernels that share buffers for its length (a worker
   * pool), a triple piece's seed part is expanded on a worker straight into one shared
   * buffer — a, b, c, m_a, m_b, m_c in the order of the stream, each L low limbs then L high
   * limbs — and the last party's corrections are copied in after a and b, where its stream stops.
   */
  async function produce(item: Item, kernels: Kernels | undefined): Promise<Spdz2kMaterial> {
    const L = item.length;
    const last = self === n - 1;
    let x: Z128Vec[];
    let rest: Z128Vec[];
    if (item.kind === 'triples' && kernels?.shares(L)) {
      const all = kernels.alloc64(12 * L);
      const bytes = u64ToBytes(all);
      const fromSeed = (last ? 2 : 6) * 16 * L;
      const expanded = kernels.run({ op: 'prgFill', region: { key: prgKey(seed, itemLabel(item)), offset: 0, length: fromSeed }, out: bytes.subarray(0, fromSeed) });
      expanded.catch(() => {});
      if (last) bytes.set(await extra(correctionBytes(item), L, `corrections for ${item.what}`), fromSeed);
      await expanded;
      const v = [0, 1, 2, 3, 4, 5].map((k) => wireVec(all.buffer, all.byteOffset + 16 * L * k, L));
      x = v.slice(0, 2);
      rest = v.slice(2);
    } else {
      const own = expandSeedShares(seed, item, self, n);
      x = own.x;
      rest = own.rest;
      if (last) {
        const b = await extra(correctionBytes(item), L, `corrections for ${item.what}`);
        // Wire layout, vector after vector: [c, m_a, m_b, m_c], [x, m] (random integers) or [m].
        const vs = Array.from({ length: item.kind === 'triples' ? 4 : item.kind === 'rand' ? 2 : 1 }, (_, k) => z128.fromBytes(b.subarray(16 * L * k, 16 * L * (k + 1))));
        if (item.kind === 'rand') [x, rest] = [vs.slice(0, 1), vs.slice(1)];
        else rest = vs;
      }
    }
    const value = item.holder === self ? await extra(valueBytes(item), L, `the value of ${item.what}`) : undefined;
    return { x, rest, value };
  }
  return { alpha: macKeyShare(seed), produce };
}
