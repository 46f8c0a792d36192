/**
 * Additive secret sharing over Z_2^64 and Z_2^128 among n parties [DPSZ12 §2]:
 * x = s_0 + … + s_{n−1}, where s_0 … s_{n−2} are uniform and s_{n−1} = x − Σ others.
 * Any n − 1 shares are then jointly uniform and independent of x, which is the whole
 * privacy argument of the protocols built on top.
 *
 * The random shares come from a `Prg` when one is given (so a dealer can send each of those
 * parties a 32-byte seed instead of a vector), else from a freshly seeded one.
 * @module
 */

import { Prg, randomSeed } from '../ring/prg.ts';
import { assertU64, add as add64, sub as sub64 } from '../ring/z64.ts';
import { add as add128, assertZ128, sub as sub128, type Z128Vec } from '../ring/z128.ts';

function checkParties(fn: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`${fn}: n: expected an integer number of parties ≥ 1, got ${String(n)}`);
  }
}

function prgOrFresh(fn: string, prg: Prg | undefined): Prg {
  if (prg === undefined) return new Prg(randomSeed(), 'tessera/sharing');
  if (!(prg instanceof Prg)) throw new TypeError(`${fn}: prg: expected a Prg, got ${typeof prg}`);
  return prg;
}

/**
 * Splits `x` into `n` additive shares over Z_2^64. Shares 0 … n−2 are the next outputs of
 * `prg` (in that order); the last share is x minus their sum. With n = 1 the single share is
 * a copy of x.
 */
export function share(x: BigUint64Array, n: number, prg?: Prg): BigUint64Array[] {
  assertU64(x, 'share: x');
  checkParties('share', n);
  const rng = prgOrFresh('share', prg);
  const shares: BigUint64Array[] = [];
  const last = x.slice();
  for (let i = 0; i < n - 1; i++) {
    const s = rng.u64(x.length);
    sub64(last, s, last);
    shares.push(s);
  }
  shares.push(last);
  return shares;
}

/** Σ shares mod 2^64: the secret. All shares must have the same length; at least one share. */
export function reconstruct(shares: BigUint64Array[]): BigUint64Array {
  if (!Array.isArray(shares)) throw new TypeError(`reconstruct: shares: expected an array of BigUint64Array, got ${typeof shares}`);
  if (shares.length === 0) throw new RangeError('reconstruct: shares: expected at least one share, got 0');
  assertU64(shares[0], 'reconstruct: shares[0]');
  const out = shares[0].slice();
  for (let i = 1; i < shares.length; i++) {
    const s = shares[i];
    assertU64(s, `reconstruct: shares[${i}]`);
    if (s.length !== out.length) {
      throw new RangeError(`reconstruct: shares[${i}]: expected length ${out.length} (same as shares[0]), got ${s.length}`);
    }
    add64(out, s, out);
  }
  return out;
}

/** `share` over Z_2^128: shares 0 … n−2 are `prg.z128(len)`, the last is x minus their sum. */
export function share128(x: Z128Vec, n: number, prg?: Prg): Z128Vec[] {
  assertZ128(x, 'share128: x');
  checkParties('share128', n);
  const rng = prgOrFresh('share128', prg);
  const len = x.lo.length;
  const shares: Z128Vec[] = [];
  const last: Z128Vec = { lo: x.lo.slice(), hi: x.hi.slice() };
  for (let i = 0; i < n - 1; i++) {
    const s = rng.z128(len);
    sub128(last, s, last);
    shares.push(s);
  }
  shares.push(last);
  return shares;
}

/** Σ shares mod 2^128: the secret. */
export function reconstruct128(shares: Z128Vec[]): Z128Vec {
  if (!Array.isArray(shares)) throw new TypeError(`reconstruct128: shares: expected an array of Z128Vec, got ${typeof shares}`);
  if (shares.length === 0) throw new RangeError('reconstruct128: shares: expected at least one share, got 0');
  assertZ128(shares[0], 'reconstruct128: shares[0]');
  const out: Z128Vec = { lo: shares[0].lo.slice(), hi: shares[0].hi.slice() };
  for (let i = 1; i < shares.length; i++) {
    const s = shares[i];
    assertZ128(s, `reconstruct128: shares[${i}]`);
    if (s.lo.length !== out.lo.length) {
      throw new RangeError(`reconstruct128: shares[${i}]: expected length ${out.lo.length} (same as shares[0]), got ${s.lo.length}`);
    }
    add128(out, s, out);
  }
  return out;
}
