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
 * - then the item's holder, if any: an input mask's value r (16·L bytes), an output mask's
 *   value r mod 2^64 (8·L bytes, little-endian).
 * The generator recomputes each item from the seeds when it gets to it, so the dealer's
 * memory is bounded by one item whatever the job's size.
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { Prg } from '../../ring/prg.ts';
import { u64ToBytes } from '../../ring/encoding.ts';
import { dealerSeeds } from '../../preprocessing/dealer.ts';
import type { Plan } from '../../compiler/plan.ts';
import type { Dealing } from '../suite.ts';
import { itemLabel, schedule, SPDZ2K_LABEL, type Item } from './schedule.ts';

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

/** Party `party`'s seed-derived shares of `item` (see the module comment for the layout). */
export function expandSeedShares(seed: Uint8Array, item: Item, party: number, n: number): SeedShares {
  const prg = new Prg(seed, itemLabel(item));
  const L = item.length;
  const last = party === n - 1;
  if (item.kind === 'triples') {
    const x = [prg.z128(L), prg.z128(L)];
    return { x, rest: last ? [] : [prg.z128(L), prg.z128(L), prg.z128(L), prg.z128(L)] };
  }
  const x = [prg.z128(L)];
  return { x, rest: last ? [] : [prg.z128(L)] };
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
  function* extras(party: number): Generator<Uint8Array> {
    if (!Number.isInteger(party) || party < 0 || party >= n) throw new RangeError(`dealer: no party ${party} among ${n}`);
    // α is only needed for the corrections: other parties' streams never touch it.
    const alpha = party === last ? s.reduce((t, seed) => t + macKeyShare(seed), 0n) : 0n;
    for (const item of items) {
      if (party === last) yield corrections(item, alpha);
      if (item.holder === party) {
        const r = z128.alloc(item.length);
        for (const seed of s) z128.add(r, expandValueShare(seed, item), r);
        yield item.kind === 'input-mask' ? z128.toBytes(r) : u64ToBytes(r.lo).slice();
      }
    }
  }
  /** The last party's extra for one item: its MAC shares (and c share) that make the relations hold. */
  function corrections(item: Item, alpha: bigint): Uint8Array {
    const L = item.length;
    const shares = s.map((seed, i) => expandSeedShares(seed, item, i, n));
    const total = (pick: (sh: SeedShares) => Z128Vec): Z128Vec => {
      const acc = z128.alloc(L);
      for (const sh of shares) z128.add(acc, pick(sh), acc);
      return acc;
    };
    // Σ over parties 0..n−2 of a seed-derived share (the last party has none).
    const others = (k: number): Z128Vec => {
      const acc = z128.alloc(L);
      for (let i = 0; i < last; i++) z128.add(acc, shares[i].rest[k], acc);
      return acc;
    };
    // The last share of a MAC α·v is α·v minus everybody else's.
    const lastMac = (v: Z128Vec, k: number): Z128Vec => z128.sub(z128.mulScalar(v, alpha), others(k));
    if (item.kind !== 'triples') return z128.toBytes(lastMac(total((sh) => sh.x[0]), 0));
    const a = total((sh) => sh.x[0]);
    const b = total((sh) => sh.x[1]);
    const c = z128.mul(a, b);
    const parts = [z128.sub(c, others(0)), lastMac(a, 1), lastMac(b, 2), lastMac(c, 3)];
    const out = new Uint8Array(64 * L);
    parts.forEach((p, k) => out.set(z128.toBytes(p), k * 16 * L));
    return out;
  }
  return { seeds: s, extras };
}
