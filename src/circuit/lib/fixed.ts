/**
 * Fixed-point arithmetic: a real x is the ring element round(x · 2^FRAC_BITS), read as a
 * signed 64-bit integer, so values up to ±2^47 are representable with a resolution of
 * 2^-16 ≈ 1.5·10^-5. Addition is exact; a product of two fixed-point values is truncated
 * back by FRAC_BITS (lib/bits.ts `truncate`: error below one unit, 2^-16, with no failure
 * probability), which needs the product before truncation below 2^62 in ring units, i.e.
 * |a·b| < 2^30 ≈ 10^9 — checked at compile time where the declared input ranges tell.
 *
 * Division and square root (accuracy as the README states, and the tests check):
 * - `divPublic(x, p)`: by a public integer p, exact to within 2 units: a coarse quotient by
 *   multiplication with round(2^s/p) and truncation, then the exact remainder x − q·p
 *   (linear: p is public) divided again until the remainder is below 2p — each step one
 *   round. By a non-integer p: one multiplication by round(2^s/p) with the largest s that
 *   cannot overflow for the known bound of x (relative error about 2^-30).
 * - `divSecret(a, b)`: Newton–Raphson on a normalised divisor [CdH10 "AppRcr", Catrina &
 *   Saxena FC'10]: find 2^i ≤ |b| < 2^(i+1) with K comparisons (K = bits of |b|'s bound,
 *   default 45), scale a and b by v = 2^(K−1−i) (exact: a/b = a·v / b·v), start from
 *   2.9142 − 2d for d = b·v/2^K ∈ [½, 1), three iterations w ← w(2 − dw) at F = 20
 *   fractional bits (relative error < 10^-6). Needs |b| < 2^(K−16) and |a/b| < 2^(62−K)
 *   (defaults: |b| < 2^29, |a/b| < 2^17); b = 0 gives 0.
 * - `sqrtFixed(x)`: digit-by-digit (restoring) square root of X = x · 2^16 in ring units:
 *   for each result bit from the top, one comparison of X with (R + 2^j)² kept as
 *   R² + 2^(j+1)·R + 2^(2j); exact floor of sqrt(x)·2^16 (error below one unit), for
 *   0 ≤ x < 2^30; ⌈bits/2⌉ comparison rounds.
 * @module
 */
import type { Value } from '../builder.ts';
import { bitLength } from '../builder.ts';
import { lessThanZero, truncate } from './bits.ts';

/** Default fractional bits of fixed-point values (a circuit may choose others: `fracBits`). */
export const FRAC_BITS = 16;

/** Newton–Raphson's working precision (fractional bits). */
const NEWTON_BITS = 20;
/** Bits of |b| in ring units assumed for a secret divisor without a declared range. */
export const DEFAULT_DIVISOR_BITS = 45;
/** Products before truncation must stay below this. */
const LIMIT = 2 ** 62;

const log2 = (x: bigint | number): number => (typeof x === 'bigint' ? bitLength(x) : Math.log2(x));

/** round(2^s / p) for an integer p, exactly. */
function scaledInverse(s: number, p: bigint): bigint {
  const num = 1n << BigInt(s);
  const q = num / p;
  const r = num % p;
  const twice = 2n * (r < 0n ? -r : r);
  const away = twice >= (p < 0n ? -p : p);
  return away ? q + (p < 0n !== num < 0n ? -1n : 1n) : q;
}

/**
 * One coarse step: q ≈ x / p for |x| ≤ bound, with the error bound in units of q:
 * q = trunc(trunc(x, t) · C, s) with C = round(2^(s+t) / p), the (t, s) that minimise the
 * error while trunc(x, t) · C cannot overflow 2^62.
 */
function coarse(x: Value, p: bigint, bound: number): { q: Value; error: number } {
  const b = x.builder;
  const pn = Number(p);
  let best: { t: number; s: number; C: bigint; error: number } | undefined;
  for (let t = 0; t <= 61; t++) {
    const xb = Math.ceil(bound / 2 ** t) + (t > 0 ? 1 : 0);
    for (let s = 1; s <= 62; s++) {
      const C = scaledInverse(s + t, p);
      const c = Math.abs(Number(C));
      if (c === 0) continue;
      if (xb * c >= LIMIT) break;
      const exact = 2 ** (s + t) / pn;
      // Rounding of C, the pre-truncation (one unit of trunc(x, t), times C / 2^s), the final truncation.
      const error = (xb * Math.abs(Number(C) - exact)) / 2 ** s + (t > 0 ? c / 2 ** s : 0) + 1;
      if (best === undefined || error < best.error) best = { t, s, C, error };
    }
  }
  if (best === undefined) throw new RangeError(`division by ${p}: no scaling fits the operand's range 2^${Math.log2(bound).toFixed(1)}`);
  const xt = best.t > 0 ? truncate(x, best.t) : x;
  const q = truncate(b.raw('mul', xt, b.ringConst(best.C), 0, undefined), best.s);
  return { q: b.retype(q, 0, undefined), error: best.error };
}

/**
 * x / p for a public p, with `outFrac` fractional bits (default: x's). See the module comment.
 */
export function divPublic(x: Value, p: number, outFrac: number = x.frac): Value {
  const b = x.builder;
  b.tally('division by a public value', x.length);
  const e = outFrac - x.frac;
  const bound = x.bound === undefined ? 2 ** 62 : Number(x.bound);
  const resultBound = BigInt(Math.ceil((bound * 2 ** e) / Math.abs(p))) + 4n;
  if (!Number.isInteger(p) || Math.abs(p) > 2 ** 40) {
    // x · round(2^s / p) / 2^s, after scaling x by 2^e when it fits.
    let s = Math.floor(Math.log2(LIMIT / (bound * 2 ** Math.max(0, e) + 1)) + Math.log2(Math.abs(p))) - 1;
    s = Math.max(1, Math.min(62, s));
    const [num, den] = exactRatio(p);
    const k = s + e;
    const C = k >= 0 ? roundDiv((1n << BigInt(k)) * den, num) : roundDiv(den, num << BigInt(-k));
    return b.retype(truncate(b.raw('mul', x, b.ringConst(C), 0, undefined), s), outFrac, resultBound);
  }
  const P = BigInt(p);
  // Integer quotient in x's units, refined until the remainder is below 2|p|.
  let q: Value | undefined;
  let r = x;
  let rBound = bound;
  for (let step = 0; step < 6; step++) {
    const c = coarse(r, P, rBound);
    q = q === undefined ? c.q : b.raw('add', q, c.q, 0, undefined);
    r = b.raw('sub', r, b.raw('mul', c.q, b.ringConst(P), 0, undefined), 0, undefined);
    rBound = (c.error + 1) * Math.abs(p);
    if (c.error <= 1.5) break;
  }
  // x·2^e / p = q·2^e + r·2^e / p, the last with a small r.
  if (e >= 0) {
    const high = b.raw('mul', q!, b.ringConst(1n << BigInt(e)), 0, undefined);
    const low = e === 0 ? undefined : coarse(b.raw('mul', r, b.ringConst(1n << BigInt(e)), 0, undefined), P, rBound * 2 ** e).q;
    return b.retype(low ? b.raw('add', high, low, 0, undefined) : high, outFrac, resultBound);
  }
  return b.retype(truncate(q!, -e), outFrac, resultBound);
}

function roundDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n - q * d;
  const abs = (v: bigint): bigint => (v < 0n ? -v : v);
  return 2n * abs(r) >= abs(d) ? q + ((n < 0n) !== (d < 0n) ? -1n : 1n) : q;
}

/** p = num / den exactly (den a power of two): every finite double is one. */
function exactRatio(p: number): [bigint, bigint] {
  let x = p;
  let den = 1n;
  while (!Number.isInteger(x)) {
    x *= 2;
    den *= 2n;
  }
  return [BigInt(x), den];
}

/** a / b for secret fixed-point a and b (same length, or scalars). See the module comment. */
export function divSecret(a: Value, b: Value): Value {
  const k = a.builder;
  const L = Math.max(a.length, b.length);
  k.tally('division', L);
  const F = NEWTON_BITS;
  const K = Math.max(F + 1, b.bound === undefined ? DEFAULT_DIVISOR_BITS : bitLength(b.bound) + 1);
  if (K > 61) throw new RangeError(`division: the divisor's range (2^${K} in ring units) is too wide; declare smaller input ranges`);
  const one = k.ringConst(1n);
  const c = (v: bigint): Value => k.ringConst(v);
  // |b| and its sign.
  const negative = lessThanZero(b);
  const sign = k.raw('sub', one, k.raw('mul', negative, c(2n), 0, 2n), 0, 1n);
  const absB = k.raw('mul', b, sign, 0, b.bound);
  // lt_i = [|b| < 2^i], i = 0 … K−1, as one comparison over K·L elements.
  const shifted = k.concat(Array.from({ length: K }, (_, i) => k.raw('sub', absB, c(1n << BigInt(i)), 0, undefined)));
  const lt = lessThanZero(shifted);
  // v = 2^(K−1−i) for 2^i ≤ |b| < 2^(i+1): v = 1 − 2^(K−1)·lt_0 + Σ_{j≥1} 2^(K−1−j)·lt_j.
  const reversed = k.primGather(lt, Array.from({ length: K - 1 }, (_, t) => K - 1 - t), L);
  const v = k.raw('sub', k.raw('add', k.primPack(reversed, K - 1), one, 0, undefined), k.raw('mul', k.primGather(lt, [0], L), c(1n << BigInt(K - 1)), 0, undefined), 0, undefined);
  const vB = k.raw('mul', absB, v, 0, 1n << BigInt(K));
  const vA = k.raw('mul', a, v, 0, undefined);
  // d ∈ [½, 1) with F fractional bits, then Newton for w ≈ 1/d.
  const d = truncate(vB, K - F);
  let w = k.raw('sub', c(BigInt(Math.round(2.9142 * 2 ** F))), k.raw('mul', d, c(2n), 0, undefined), 0, undefined);
  for (let it = 0; it < 3; it++) {
    const dw = truncate(k.raw('mul', d, w, 0, undefined), F);
    w = truncate(k.raw('mul', w, k.raw('sub', c(1n << BigInt(F + 1)), dw, 0, undefined), 0, undefined), F);
  }
  // a/b = (a·v / 2^K) · (1/d), with a·v/2^K kept to F fractional bits.
  const aF = truncate(vA, K - F);
  const q = truncate(k.raw('mul', aF, w, 0, undefined), 2 * F - a.frac);
  return k.raw('mul', q, sign, a.frac, undefined);
}

/**
 * sqrt(x) for a fixed-point x ≥ 0 with x · 2^f < 2^62 (f the circuit's fractional bits;
 * x < 2^30 for f = 16), any fractional bits ≤ 2f, as a fixed-point value with f fractional
 * bits. See the module comment.
 */
export function sqrtFixed(x: Value): Value {
  const b = x.builder;
  b.tally('square root', x.length);
  const f = b.fracBits;
  const up = 2 * f - x.frac;
  if (up < 0) throw new RangeError(`sqrt: ${x.frac} fractional bits are more than ${2 * f}`);
  const boundX = x.bound === undefined ? 1n << 62n : x.bound << BigInt(up);
  if (boundX > 1n << 62n) {
    throw new RangeError(`sqrt: the operand may reach 2^${log2(boundX) - 2 * f} (real), above the 2^${62 - 2 * f} limit`);
  }
  // X = x · 2^(2f − frac), so that sqrt(X) = sqrt(x) · 2^f.
  const X = up === 0 ? x : b.raw('mul', x, b.ringConst(1n << BigInt(up)), 0, undefined);
  const top = Math.floor((bitLength(boundX) - 1) / 2);
  let R: Value = b.ringConst(0n);
  let R2: Value = b.ringConst(0n);
  for (let j = top; j >= 0; j--) {
    // (R + 2^j)² = R² + 2^(j+1)·R + 2^(2j)
    const step = b.raw('add', b.raw('mul', R, b.ringConst(1n << BigInt(j + 1)), 0, undefined), b.ringConst(1n << BigInt(2 * j)), 0, undefined);
    const candidate = b.raw('add', R2, step, 0, undefined);
    const fits = b.raw('sub', b.ringConst(1n), lessThanZero(b.raw('sub', X, candidate, 0, undefined), X.length), 0, 1n);
    R = b.raw('add', R, b.raw('mul', fits, b.ringConst(1n << BigInt(j)), 0, undefined), 0, undefined);
    R2 = b.raw('add', R2, b.raw('mul', fits, step, 0, undefined), 0, undefined);
  }
  const bound = BigInt(Math.ceil(Math.sqrt(Number(boundX)))) + 1n;
  return b.retype(R, f, bound);
}
