/**
 * Opening a value to every party, for the non-linear operations (comparisons, truncation:
 * src/circuit/lib). The compiler only opens x + r for a fresh random r below 2^k (from a
 * `rand`), which hides x mod 2^k — but in SPDZ2k the upper s = 64 bits of a share sum are
 * noise that depends on earlier values (products leave their carries there [CDESX18 §4]).
 * So, as for outputs, the opening is of y = x + 2^k·ρ with ρ a fresh authenticated random
 * value: y is uniform in Z_2^{k+s} and y mod 2^k = x + r (k = 64: y = x + 2^64·ρ in Z_2^128;
 * k = 128: y = x + 2^128·ρ in Z_2^192, and the value kept is y mod 2^128). The opened y goes into the
 * MAC-check log like any opening, so a party that lies about its share is caught before any
 * output is released.
 * @module
 */
import { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import type { Spdz2kPrep } from './prep.ts';
import type { AuthShare } from './share.ts';
import { openShares } from './wire.ts';
import { layerOf } from './multiply.ts';

export async function open<V, E>(s: Session<Spdz2kPrep<V, E>>, round: number, x: AuthShare<E>): Promise<V> {
  const R = s.prep.ring;
  const w = R.length(x.x);
  // Claimed before the first await, in the executor's (deterministic) order.
  const mask = s.prep.random(w);
  const what = `the openings of layer ${layerOf(round)}`;
  const slot = s.prep.opened.claim(s, w, `layer ${layerOf(round)} (comparisons and truncations)`);
  let value: V;
  try {
    const rho = await mask;
    const y = { x: R.add(x.x, R.shiftK(rho.x)), m: R.add(x.m, R.shiftK(rho.m)) };
    const opened = await openShares(s, MessageKind.Open, round, y.x, what, undefined, R);
    slot.done(opened, y.m);
    value = R.low(opened);
  } catch (err) {
    slot.fail(err);
    throw err;
  }
  if (slot.check) await slot.check;
  return value;
}
