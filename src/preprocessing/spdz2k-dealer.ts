/**
 * Seed-compressed dealer for SPDZ2k preprocessing (s = 64, k = 64 or 128): authenticated
 * input masks, output masks, random values and Beaver triples over the plan's MAC ring
 * Z_2^{k+s} (Z_2^128 for plans in Z_2^64, Z_2^192 for plans in Z_2^128, `macRingOf`), in the
 * schedule's order (schedule.ts). The dealer plays the role of F_Prep of [CDESX18 §4] (MACs
 * under a key α = Σα_i uniform in Z_2^{k+s}, triples with c = a·b); a dealer is trusted not to collude
 * with any party (DEALER_TRUST), and replaced by OT-based generation in a later milestone.
 *
 * Seed layout (per party seed, HKDF-labelled AES-CTR streams, see ring/prg.ts), with P the
 * ring's label prefix (`tessera/spdz2k/v1` for k = 64, `tessera/spdz2k128/v1` for k = 128, so
 * one ring's streams are never another's) and B = 16 or 24 bytes per element:
 * - `P/mac-key`: B bytes, α_i.
 * - `P/<kind>/<ordinal>`, one stream per schedule item, read in this order:
 *   - input-mask / output-mask / random of length L: x_i (L elements), then m_i (L) for
 *     parties 0..n−2;
 *   - triples of length L: a_i, b_i (L each), then c_i, m_{a,i}, m_{b,i}, m_{c,i} for
 *     parties 0..n−2.
 *   Elements are drawn in wire layout (L lowest limbs, then the L next ones, …: `Prg.z128` for k = 64).
 * So every value and MAC share is pseudorandom from the party's own seed, except the last
 * party's (n−1) MAC shares and c share, which the dealer computes so that all relations hold
 * and sends as extras. Extras, per party, in schedule order (one Uint8Array per line):
 * - party n−1, every item: the corrections — for masks and randoms m_{n−1} (B·L bytes,
 *   wire layout); for triples c_{n−1} ‖ m_{a,n−1} ‖ m_{b,n−1} ‖ m_{c,n−1} (4B·L);
 *   for random integers (`rand`, whose value r < 2^bits the dealer draws from a stream keyed
 *   by all the seeds) x_{n−1} ‖ m_{n−1} (2B·L);
 * - then the item's holder, if any: an input mask's value r (B·L bytes), an output mask's
 *   value r mod 2^k (8·L or 16·L bytes, the value domain's wire form).
 * The generator recomputes each item from the seeds when it gets to it, so the dealer's
 * memory and the work of one generator step are bounded by one item, and items are pieces of
 * at most MUL_CHUNK = 2^18 elements (schedule.ts): an extra is at most 4B·2^18 bytes = 16 MiB
 * (k = 64) or 24 MiB (k = 128) for a triple piece's corrections, 2B·2^18 = 8 or 12 MiB for
 * any other item: within the network's 64 MiB frames.
 * @module
 */
import { Prg } from '../ring/prg.ts';
import { bytesToU64, u64ToBytes } from '../ring/encoding.ts';
import { prgKey } from '../ring/prg.ts';
import { MpcError, ErrorCode } from '../errors.ts';
import { dealerSeeds, dealerStream, type Dealing, type NextExtra } from './dealer.ts';
import type { Plan } from '../compiler/plan.ts';
import type { Kernels } from '../protocol/kernels.ts';
import { correctionBytes, itemLabel, schedule, valueBytes, SPDZ2K_LABEL, type Item } from '../protocol/spdz2k/schedule.ts';
import type { Spdz2kMaterial, Spdz2kMaterialSource } from '../protocol/spdz2k/prep.ts';
import { pause } from '../protocol/spdz2k/chunks.ts';
import { MAC64, macRingOf, type MacRing } from '../protocol/spdz2k/mac-ring.ts';
import type { Z128Vec } from '../ring/z128.ts';

/** Label of α_i's stream at k = 64 (`<ring label>/mac-key` in general). */
export const MAC_KEY_LABEL = `${SPDZ2K_LABEL}/mac-key`;

/** The default ring of the exports below, for k = 64 (their callers before k = 128 existed). */
const R64 = MAC64 as unknown as MacRing<unknown, Z128Vec>;

/** Party i's MAC key share α_i in the MAC ring `R`, from its dealer seed. */
export function macKeyShareOver(R: MacRing<unknown, unknown>, seed: Uint8Array): bigint {
  return R.scalarOf(R.random(new Prg(seed, `${R.label}/mac-key`), 1));
}

/** Party i's MAC key share α_i in Z_2^128 (k = 64), from its dealer seed. */
export function macKeyShare(seed: Uint8Array): bigint {
  return macKeyShareOver(MAC64, seed);
}

/** What a party expands from its own seed for one item (the last party: no MAC shares, no c). */
export interface SeedShares<E = Z128Vec> {
  /** The value share (masks, randoms) or [a, b] (triples) — always present. */
  x: E[];
  /** Masks and randoms: [m]; triples: [c, m_a, m_b, m_c]. Empty for the last party. */
  rest: E[];
}

/** Vector k of consecutive wire-layout vectors of L elements in `w`. */
function nth<E>(R: MacRing<unknown, E>, w: BigUint64Array, k: number, L: number): E {
  const size = R.limbs * L;
  return R.words(w.subarray(k * size, (k + 1) * size), L);
}

/**
 * Party `party`'s seed-derived shares of `item` (see the module comment for the layout),
 * drawn from the stream in one call: the same bytes as one draw per vector, in one buffer of
 * which the vectors are views.
 */
export function expandSeedShares<E = Z128Vec>(seed: Uint8Array, item: Item, party: number, n: number, R: MacRing<unknown, E> = R64 as unknown as MacRing<unknown, E>): SeedShares<E> {
  const prg = new Prg(seed, itemLabel(item, R.label));
  const L = item.length;
  const last = party === n - 1;
  const xs = item.kind === 'triples' ? 2 : 1;
  // A random integer's last value share is the dealer's (it fixes the value below 2^bits).
  const count = last ? (item.kind === 'rand' ? 0 : xs) : 2 * xs + (item.kind === 'triples' ? 2 : 0);
  const w = bytesToU64(prg.bytes(R.bytes * L * count));
  const v = Array.from({ length: count }, (_, k) => nth(R, w, k, L));
  return { x: v.slice(0, Math.min(xs, count)), rest: v.slice(xs) };
}

/** Only the value shares of `item` (a prefix of the stream): what a holder's value needs. */
function expandValueShare<E>(R: MacRing<unknown, E>, seed: Uint8Array, item: Item): E {
  return R.random(new Prg(seed, itemLabel(item, R.label)), item.length);
}

/** The dealer's material for one SPDZ2k job, over the MAC ring of the plan's domain. */
export function dealSpdz2k(plan: Plan, n: number, seeds?: Uint8Array[]): Dealing {
  return dealOver(macRingOf(plan) as MacRing<unknown, unknown>, plan, n, seeds);
}

function dealOver<V, E>(R: MacRing<V, E>, plan: Plan, n: number, seeds?: Uint8Array[]): Dealing {
  const s = dealerSeeds(n, seeds);
  const items = schedule(plan, n);
  const last = n - 1;
  const D = R.D;
  /** The dealer's value of a random-integer item: a stream no party can compute. */
  const randValues = (item: Item): V => {
    const v = D.fromBytes(dealerStream(s, itemLabel(item, R.label)).bytes(D.bytes * item.length));
    return D.maskBits(v, item.bits!);
  };
  function* extras(party: number): Generator<Uint8Array> {
    if (!Number.isInteger(party) || party < 0 || party >= n) throw new RangeError(`dealer: no party ${party} among ${n}`);
    // α is only needed for the corrections: other parties' streams never touch it.
    const alpha = party === last ? s.reduce((t, seed) => t + macKeyShareOver(R, seed), 0n) : 0n;
    for (const item of items) {
      if (party === last) yield corrections(item, alpha);
      if (item.holder === party) {
        const r = expandValueShare(R, s[0], item);
        for (let i = 1; i < n; i++) R.add(r, expandValueShare(R, s[i], item), r);
        yield item.kind === 'input-mask' ? R.toBytes(r) : D.toBytes(R.low(r));
      }
    }
  }
  /**
   * The last party's extra for one item: its MAC shares (and c share) that make the
   * relations hold, computed straight into the extra's buffer (wire layout, vector after vector).
   */
  function corrections(item: Item, alpha: bigint): Uint8Array {
    const L = item.length;
    const shares = s.map((seed, i) => expandSeedShares(seed, item, i, n, R));
    const parts = item.kind === 'triples' ? 4 : item.kind === 'rand' ? 2 : 1;
    const out = new BigUint64Array(R.limbs * parts * L);
    const slot = (k: number): E => nth(R, out, k, L);
    // Σ over the parties of a value share (accumulated into the first party's, which is fresh).
    const total = (k: number): E => {
      const acc = shares[0].x[k];
      for (let i = 1; i < n; i++) R.add(acc, shares[i].x[k], acc);
      return acc;
    };
    // into ← into − Σ over parties 0..n−2 of a seed-derived share (the last party has none).
    const minusOthers = (into: E, k: number): void => {
      for (let i = 0; i < last; i++) R.sub(into, shares[i].rest[k], into);
    };
    // The last share of a MAC α·v is α·v minus everybody else's.
    const lastMac = (v: E, k: number, into: E): void => {
      R.mulScalar(v, alpha, into);
      minusOthers(into, k);
    };
    if (item.kind === 'rand') {
      // x_{n−1} = r − Σ x_i and m_{n−1} = α·r − Σ m_i, for r < 2^bits from the dealer's own stream.
      const r = R.lift(randValues(item));
      lastMac(r, 0, slot(1));
      const x = slot(0);
      R.place(x, 0, r);
      for (let i = 0; i < last; i++) R.sub(x, shares[i].x[0], x);
    } else if (item.kind !== 'triples') {
      lastMac(total(0), 0, slot(0));
    } else {
      const a = total(0);
      const b = total(1);
      const c = R.mul(a, b, slot(0));
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
 * computes an item when it is fetched, so its work is interleaved with the parties' too),
 * over MAC ring `R` (the plan's: `macRingOf(plan)`; Z_2^128 by default).
 */
export function dealerMaterial<E = Z128Vec>(
  seed: Uint8Array,
  self: number,
  n: number,
  nextExtra: NextExtra,
  R: MacRing<unknown, E> = R64 as unknown as MacRing<unknown, E>,
): Spdz2kMaterialSource<E> {
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
   * buffer — a, b, c, m_a, m_b, m_c in the order of the stream, each in wire layout — and the
   * last party's corrections are copied in after a and b, where its stream stops.
   */
  async function produce(item: Item, kernels: Kernels | undefined): Promise<Spdz2kMaterial<E>> {
    const L = item.length;
    const last = self === n - 1;
    let x: E[];
    let rest: E[];
    if (item.kind === 'triples' && kernels?.shares(L)) {
      const all = kernels.alloc64(6 * R.limbs * L);
      const bytes = u64ToBytes(all);
      const fromSeed = (last ? 2 : 6) * R.bytes * L;
      const expanded = kernels.run({ op: 'prgFill', region: { key: prgKey(seed, itemLabel(item, R.label)), offset: 0, length: fromSeed }, out: bytes.subarray(0, fromSeed) });
      expanded.catch(() => {});
      if (last) bytes.set(await extra(correctionBytes(item, R), L, `corrections for ${item.what}`), fromSeed);
      await expanded;
      const v = [0, 1, 2, 3, 4, 5].map((k) => nth(R, all, k, L));
      x = v.slice(0, 2);
      rest = v.slice(2);
    } else {
      const own = expandSeedShares(seed, item, self, n, R);
      x = own.x;
      rest = own.rest;
      if (last) {
        const b = await extra(correctionBytes(item, R), L, `corrections for ${item.what}`);
        // Wire layout, vector after vector: [c, m_a, m_b, m_c], [x, m] (random integers) or [m].
        const size = R.bytes * L;
        const vs = Array.from({ length: item.kind === 'triples' ? 4 : item.kind === 'rand' ? 2 : 1 }, (_, k) => R.fromBytes(b.subarray(size * k, size * (k + 1))));
        if (item.kind === 'rand') [x, rest] = [vs.slice(0, 1), vs.slice(1)];
        else rest = vs;
      }
    }
    const value = item.holder === self ? await extra(valueBytes(item, R), L, `the value of ${item.what}`) : undefined;
    return { x, rest, value };
  }
  return { alpha: macKeyShareOver(R, seed), produce };
}
