/**
 * Opening a value to every party, for the non-linear operations (comparisons, truncation:
 * src/circuit/lib). The compiler only opens x + r for a fresh random r below 2^64 (from a
 * `rand`), which hides x mod 2^64 — but in SPDZ2k the upper 64 bits of a share sum are
 * noise that depends on earlier values (products leave their carries there [CDESX18 §4]).
 * So, as for outputs, the opening is of y = x + 2^64·ρ with ρ a fresh authenticated random
 * value: y is uniform in Z_2^128 and its low 64 bits are x + r. The opened y goes into the
 * MAC-check log like any opening, so a party that lies about its share is caught before any
 * output is released.
 * @module
 */
import { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import type { Spdz2kPrep } from './prep.ts';
import { addShares, shareLength, shift64, type AuthShare } from './share.ts';
import { openShares } from './wire.ts';
import { layerOf } from './multiply.ts';

export async function open(s: Session<Spdz2kPrep>, round: number, x: AuthShare): Promise<BigUint64Array> {
  const w = shareLength(x);
  // Claimed before the first await, in the executor's (deterministic) order.
  const mask = s.prep.random(w);
  const what = `the openings of layer ${layerOf(round)}`;
  const slot = s.prep.opened.claim(s, w, `layer ${layerOf(round)} (comparisons and truncations)`);
  let value: BigUint64Array;
  try {
    const rho = await mask;
    const y = addShares(x, { x: shift64(rho.x), m: shift64(rho.m) });
    const opened = await openShares(s, MessageKind.Open, round, y.x, what);
    slot.done(opened, y.m);
    value = opened.lo.slice();
  } catch (err) {
    slot.fail(err);
    throw err;
  }
  if (slot.check) await slot.check;
  return value;
}
