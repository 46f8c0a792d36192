/**
 * Fixed-point arithmetic: a real x is the ring element round(x · 2^FRAC_BITS), read as a
 * signed 64-bit integer; values stay below 2^62 in ring units (±2^46 real, the encoder
 * refuses more) so that any difference fits 64 bits, with a resolution of
 * 2^-16 ≈ 1.5·10^-5. Addition is exact; a product of two fixed-point values is truncated
 * back by FRAC_BITS (lib/bits.ts `truncate`: error below one unit, 2^-16, with no failure
 * probability), which needs the product before truncation below 2^62 in ring units, i.e.
 * |a·b| < 2^30 ≈ 10^9 — checked at compile time where the declared input ranges tell.
 *
 * Division and square root (accuracy as the README states, and the tests check):
 * - `divPublic(x, p)`: with |p| = num/den (exact for integers and decimals such as 0.3, else
 *   the closest fraction with den ≤ 2^16), to within 2 units: a coarse quotient of x by num
 *   by multiplication with round(2^s/num) and truncation, then the exact remainder
 *   x − q·num (linear: num is public) divided again until it is below 2·num — each step one
 *   round — and finally q·den + (remainder·den)/num.
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
import { lessThanZero, shaped, truncate } from './bits.ts';

/** Default fractional bits of fixed-point values (a circuit may choose others: `fracBits`). */
export const FRAC_BITS = 16;
/** Their default in Z_2^128: 32 fractional bits and a range of ±2^94. */
export const FRAC_BITS_128 = 32;

/** Newton–Raphson's working precision (fractional bits) in Z_2^64 and Z_2^128. */
const newtonBits = (ring: number): number => (ring === 128 ? 44 : 20);
/** Bits of |b| in ring units assumed for a secret divisor without a declared range (45 in Z_2^64). */
export const defaultDivisorBits = (ring: number): number => ring - 19;
/** Products before truncation must stay below this (as a double). */
const limitOf = (x: Value): number => 2 ** (x.builder.ringBits - 2);


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
 * error while trunc(x, t) · C cannot overflow 2^62. Dividing by ±2^k is one truncation.
 */
function coarse(x: Value, p: bigint, bound: number): { q: Value; error: number } {
  const b = x.builder;
  const ap = p < 0n ? -p : p;
  if ((ap & (ap - 1n)) === 0n) {
    const k = bitLength(ap) - 1;
    const shifted = k === 0 ? x : truncate(x, k);
    return { q: b.retype(p < 0n ? b.raw('sub', b.ringConst(0n), shifted, 0, undefined) : shifted, 0, undefined), error: k === 0 ? 0 : 1 };
  }
  const pn = Number(p);
  let best: { t: number; s: number; C: bigint; error: number } | undefined;
  const R = b.ringBits;
  const LIMIT = limitOf(x);
  for (let t = 0; t <= R - 3; t++) {
    const xb = Math.ceil(bound / 2 ** t) + (t > 0 ? 1 : 0);
    for (let s = 1; s <= R - 2; s++) {
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
  if (best === undefined) return b.failRange('div', `dividing a value of up to 2^${Math.log2(bound).toFixed(1)} by ${p} cannot be scaled to fit ${R} bits`);
  const xt = best.t > 0 ? truncate(x, best.t) : x;
  const q = truncate(b.raw('mul', xt, b.ringConst(best.C), 0, undefined), best.s);
  return { q: b.retype(q, 0, undefined), error: best.error };
}

/**
 * The closest fraction num/den to |p| with den ≤ maxDen (continued fractions): exact for
 * integers and for decimals like 0.3 = 3/10 or 123.456 = 15432/125.
 */
export function rationalApprox(p: number, maxDen: bigint): [bigint, bigint] {
  const [N, D] = exactRatio(Math.abs(p));
  // Convergents h/k of N/D.
  let [h0, h1, k0, k1] = [0n, 1n, 1n, 0n];
  let [n, d] = [N, D];
  while (d !== 0n) {
    const a = n / d;
    const k2 = a * k1 + k0;
    if (k2 > maxDen) break;
    [h0, h1] = [h1, a * h1 + h0];
    [k0, k1] = [k1, k2];
    [n, d] = [d, n - a * d];
  }
  return [h1, k1];
}

/**
 * x / p for a public p, with `outFrac` fractional bits (default: x's). With |p| = num/den
 * (exact, or the closest fraction with den ≤ 2^16): the integer quotient q of x by num,
 * refined until the exact remainder r = x − q·num is below 2·num, then
 * x·2^e/p = ±(q·den·2^e + r·den·2^e / num), the last term a division of a small number.
 */
export function divPublic(x: Value, p: number, outFrac: number = x.frac): Value {
  const b = x.builder;
  b.tally('division by a public value', x.length);
  if (!Number.isFinite(p) || p === 0) b.failHere('div', `cannot divide by ${p}`);
  const e = outFrac - x.frac;
  const LIMIT = limitOf(x);
  const bound = x.bound === undefined ? LIMIT : Number(x.bound);
  const resultBound = BigInt(Math.ceil((bound * 2 ** e) / Math.abs(p))) + 4n;
  // The remainder term r·den·2^e (|r| < 2·num) must fit: bound den accordingly.
  let maxDen = 1n << 16n;
  let num: bigint;
  let den: bigint;
  for (;;) {
    [num, den] = rationalApprox(p, maxDen);
    const M = Number(den) * 2 ** Math.max(0, e);
    if ((num > 0n && 4 * Number(num) * M < LIMIT) || maxDen === 1n) break;
    maxDen >>= 1n;
  }
  if (num === 0n) b.failRange('div', `dividing by ${p} gives results beyond the fixed-point range`);
  // Integer quotient in x's units, refined until the remainder is below 2·num.
  let q: Value | undefined;
  let r = x;
  let rBound = bound;
  for (let step = 0; step < 8; step++) {
    const c = coarse(r, num, rBound);
    q = q === undefined ? c.q : b.raw('add', q, c.q, 0, undefined);
    r = b.raw('sub', r, b.raw('mul', c.q, b.ringConst(num), 0, undefined), 0, undefined);
    rBound = (c.error + 1) * Number(num);
    if (c.error <= 1.5) break;
  }
  let out: Value;
  if (e >= 0) {
    const M = den << BigInt(e);
    const high = M === 1n ? q! : b.raw('mul', q!, b.ringConst(M), 0, undefined);
    const low = M === 1n ? undefined : coarse(b.raw('mul', r, b.ringConst(M), 0, undefined), num, rBound * Number(M)).q;
    out = low ? b.raw('add', high, low, 0, undefined) : high;
  } else {
    const scaled = den === 1n ? q! : b.raw('add', b.raw('mul', q!, b.ringConst(den), 0, undefined), coarse(b.raw('mul', r, b.ringConst(den), 0, undefined), num, rBound * Number(den)).q, 0, undefined);
    out = truncate(scaled, -e);
  }
  if (p < 0) out = b.raw('sub', b.ringConst(0n), out, 0, undefined);
  return b.retype(out, outFrac, resultBound);
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


/**
 * For 1 ≤ x < 2^K (elementwise, secret): v = 2^(K−1−i) where 2^i ≤ x < 2^(i+1), so that
 * x·v ∈ [2^(K−1), 2^K). K comparisons of x with the powers of two, in one batch; x = 0
 * gives v = 0.
 */
export function normaliser(x: Value, K: number): Value {
  const k = x.builder;
  const L = x.length;
  const one = k.ringConst(1n);
  // lt_i = [x < 2^i], i = 0 … K−1, as one comparison over K·L elements.
  const shifted = k.concat(Array.from({ length: K }, (_, i) => k.raw('sub', x, k.ringConst(1n << BigInt(i)), 0, undefined)));
  const lt = lessThanZero(shifted);
  // v = 1 − 2^(K−1)·lt_0 + Σ_{j≥1} 2^(K−1−j)·lt_j (the powers telescope to 2^(K−1−i)).
  const reversed = k.primGather(lt, Array.from({ length: K - 1 }, (_, t) => K - 1 - t), L);
  const top = k.raw('mul', k.primGather(lt, [0], L), k.ringConst(1n << BigInt(K - 1)), 0, undefined);
  return k.raw('sub', k.raw('add', k.primPack(reversed, K - 1), one, 0, undefined), top, 0, 1n << BigInt(K));
}

export interface DivOptions {
  /**
   * The caller knows b ≥ 0 for every input the circuit admits (a standard deviation, a pivot
   * of a positive definite matrix, a sum of squares): the sign test is skipped, which saves
   * one comparison per element and its 8 rounds on the division's critical path. A negative
   * b then gives a meaningless quotient, never more than the quotient reveals.
   */
  nonNegativeDivisor?: boolean;
}

/** a / b for secret fixed-point a and b (same length, or scalars). See the module comment. */
export function divSecret(a: Value, b: Value, options: DivOptions = {}): Value {
  const k = a.builder;
  const L = Math.max(a.length, b.length);
  k.tally('division', L);
  const R = k.ringBits;
  const F = newtonBits(R);
  const K = Math.max(F + 1, b.bound === undefined ? defaultDivisorBits(R) : bitLength(b.bound) + 1);
  if (K > R - 3) k.failRange('div', `the divisor's range (2^${K} in ring units) is too wide; declare smaller input ranges`);
  const one = k.ringConst(1n);
  const c = (v: bigint): Value => k.ringConst(v);
  // |b| and its sign.
  const sign = options.nonNegativeDivisor ? undefined : k.raw('sub', one, k.raw('mul', lessThanZero(b), c(2n), 0, 2n), 0, 1n);
  const absB = sign ? k.raw('mul', b, sign, 0, b.bound) : b;
  const v = normaliser(absB, K);
  const vB = k.raw('mul', absB, v, 0, 1n << BigInt(K));
  const vA = k.raw('mul', a, v, 0, undefined);
  // d ∈ [½, 1) with F fractional bits, then Newton for w ≈ 1/d.
  const d = truncate(vB, K - F);
  let w = k.raw('sub', c(BigInt(Math.round(2.9142 * 2 ** F))), k.raw('mul', d, c(2n), 0, undefined), 0, undefined);
  // The start is good to 3.5 bits and each iteration doubles them: 3 iterations for F = 20, 4 for 44.
  const iterations = Math.ceil(Math.log2(F / 3.5));
  for (let it = 0; it < iterations; it++) {
    const dw = truncate(k.raw('mul', d, w, 0, undefined), F);
    w = truncate(k.raw('mul', w, k.raw('sub', c(1n << BigInt(F + 1)), dw, 0, undefined), 0, undefined), F);
  }
  // a/b = (a·v / 2^K) · (1/d), with a·v/2^K kept to F fractional bits.
  const aF = truncate(vA, K - F);
  const q = truncate(k.raw('mul', aF, w, 0, undefined), 2 * F - a.frac);
  const quotient = sign ? k.raw('mul', q, sign, a.frac, undefined) : k.retype(q, a.frac, undefined);
  // The normalisation works on vectors; a ratio of two scalars is still a scalar.
  return a.isScalar && b.isScalar ? shaped(quotient, a) : quotient;
}

/**
 * ⌊√X⌋ for 0 ≤ X < 2^(2·top + 2) ≤ 2^62 in ring units, digit by digit from bit `top` down:
 * one comparison of X with (R + 2^j)² = R² + 2^(j+1)·R + 2^(2j) per result bit.
 */
function sqrtDigits(X: Value, top: number): Value {
  const b = X.builder;
  let R: Value = b.ringConst(0n);
  let R2: Value = b.ringConst(0n);
  for (let j = top; j >= 0; j--) {
    const step = b.raw('add', b.raw('mul', R, b.ringConst(1n << BigInt(j + 1)), 0, undefined), b.ringConst(1n << BigInt(2 * j)), 0, undefined);
    const candidate = b.raw('add', R2, step, 0, undefined);
    const fits = b.raw('sub', b.ringConst(1n), lessThanZero(b.raw('sub', X, candidate, 0, undefined), X.length), 0, 1n);
    R = b.raw('add', R, b.raw('mul', fits, b.ringConst(1n << BigInt(j)), 0, undefined), 0, undefined);
    R2 = b.raw('add', R2, b.raw('mul', fits, step, 0, undefined), 0, undefined);
  }
  return R;
}


/**
 * sqrt(x) for a fixed-point x ≥ 0 (any fractional bits p, |x| < 2^61 in ring units), as a
 * fixed-point value with the circuit's f fractional bits.
 * - When X = x·2^(2f − p) stays below 2^62 (x < 2^(62 − 2f) real at p = f): the exact
 *   floor of √X, digit by digit (error below one unit).
 * - Otherwise x is normalised by a secret power of two, as division normalises its divisor:
 *   find 2^i ≤ x < 2^(i+1) (one batch of comparisons, `normaliser`), scale by 2^e with
 *   e ≡ p (mod 2) so that y = x·2^e ∈ [2^59, 2^61), take ⌊√y⌋ (30–31 bits, relative error
 *   below 2^-29.5), and scale back by the secret 2^(f − (p + e)/2) with one multiplication and
 *   one truncation (error below one more unit). So the operand may reach 2^(61 − p) real
 *   whatever f is, and the result keeps 29 significant bits.
 */
export function sqrtFixed(x: Value): Value {
  const b = x.builder;
  b.tally('square root', x.length);
  const f = b.fracBits;
  const p = x.frac;
  const up = 2 * f - p;
  // Ring values up to 2^(R−2) are square-rooted exactly; larger ones are normalised into
  // [2^(N−2), 2^N) with N = R − 3 first.
  const SQRT_EXACT_LIMIT = b.productLimit;
  const SQRT_NORM = b.ringBits - 3;
  // Without a declared range, x is taken to be in the exact path's range (x < 2^(62 − 2f) real).
  const bx = x.bound ?? SQRT_EXACT_LIMIT >> BigInt(Math.max(0, up));
  if (up >= 0 && bx << BigInt(up) <= SQRT_EXACT_LIMIT) {
    // X = x · 2^(2f − p), so that √X = √x · 2^f.
    const boundX = bx << BigInt(up);
    const X = up === 0 ? x : b.raw('mul', x, b.ringConst(1n << BigInt(up)), 0, undefined);
    const R = sqrtDigits(X, Math.floor((bitLength(boundX) - 1) / 2));
    return b.retype(R, f, BigInt(Math.ceil(Math.sqrt(Number(boundX)))) + 1n);
  }
  if (bx >= 1n << BigInt(SQRT_NORM)) {
    b.failRange('sqrt', `the operand may reach 2^${(Math.log2(Number(bx)) - p).toFixed(1)} (real, ${p} fractional bits), above the 2^${SQRT_NORM - p} limit: declare a smaller input range`);
  }
  const I = Math.max(1, bitLength(bx));
  // lt_i = [x < 2^i] for i < I; x lies in [2^i, 2^(i+1)) iff onehot_i = lt_(i+1) − lt_i = 1
  // (lt_I = 1 by the bound); x = 0 has no position and gives 0.
  const lt = lessThanZero(b.concat(Array.from({ length: I }, (_, i) => b.raw('sub', x, b.ringConst(1n << BigInt(i)), 0, undefined))));
  const L = x.length;
  const at = (i: number): Value => (i === I ? b.ringConst(1n) : b.primGather(lt, [i], L));
  const onehot = Array.from({ length: I }, (_, i) => b.raw('sub', at(i + 1), at(i), 0, 1n));
  // e_i: the shift that lands x in [2^(N−2), 2^N) with the parity of p; h_i = (p + e_i)/2.
  // (the top positions land in [2^(N−1), 2^(N+1)), still below 2^(R−2), which ⌊√·⌋ of (N−1)/2 + 1 bits covers).
  const e = onehot.map((_, i) => {
    const least = Math.max(0, SQRT_NORM - 2 - i);
    return (least - p) % 2 === 0 ? least : least + 1;
  });
  const h = e.map((ei) => (p + ei) / 2);
  const select = (pow: (i: number) => number): Value =>
    onehot.reduce<Value>((acc, oh, i) => b.raw('add', acc, b.raw('mul', oh, b.ringConst(1n << BigInt(pow(i))), 0, undefined), 0, undefined), b.ringConst(0n));
  const y = b.raw('mul', x, select((i) => e[i]), 0, b.productLimit);
  const r = sqrtDigits(y, (SQRT_NORM - 1) / 2);
  // √x·2^f = r · 2^(f − h_i); with c = max(0, max h − f): trunc(r · 2^(f − h_i + c), c).
  const c = Math.max(0, Math.max(...h) - f);
  const scaled = b.raw('mul', r, select((i) => f - h[i] + c), 0, undefined);
  const out = c === 0 ? scaled : truncate(scaled, c);
  const bound = BigInt(Math.ceil(Math.sqrt(Number(bx)) * 2 ** (f - p / 2))) + 2n;
  if (bound >= b.productLimit) b.failRange('sqrt', `the square root may reach 2^${bitLength(bound) - f} (real), beyond the fixed-point range: declare a smaller input range`);
  return b.retype(out, f, bound);
}
