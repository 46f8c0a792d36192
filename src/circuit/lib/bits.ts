/**
 * The non-linear building blocks over Z_2^64, written in the circuit language itself (as
 * MP-SPDZ's compiler library writes them in Python): each is a small graph of the
 * primitives `rand` (dealt random integers), `open`, public bit extraction and Beaver
 * multiplications, so the compiler batches every comparison or truncation of a layer into
 * the same rounds, and both security suites run them unchanged.
 *
 * Every opening is of x + r with r uniform in [0, 2^64) and fresh, so the opened value is
 * uniform and independent of x (the malicious suite also hides the upper 64 bits of its
 * shares, src/protocol/spdz2k/open.ts). Random bits are "edaBits" in the sense of
 * [EGKRS20]: r = Σ 2^i·b_i with each b_i a shared bit, dealt by the dealer.
 *
 * - `lessThanZero(x)` = [x < 0] for x read as a signed 64-bit integer, exact for every x:
 *   the most significant bit of x = c − r is c₆₃ ⊕ r₆₃ ⊕ [c mod 2^63 < r mod 2^63]
 *   (a borrow out of the low 63 bits), and the comparison of a public with a secret 63-bit
 *   number is a tree of (less-than, equal) pairs [CdH10 §4, "BitLT"; Damgård et al. TCC'06
 *   bit-decomposition]: 6 rounds, about 2·63 multiplications per element. Result always a
 *   bit, whatever x is — so `select` on it never produces anything but one of its operands.
 * - `equalsZero(x)` = [x = 0]: x = 0 iff c = r bit by bit; an AND tree over 64 bits.
 * - `truncate(x, m)` ≈ x / 2^m for |x| < 2^62: one opening, no comparison. With
 *   r = r_lo + 2^m·r_hi + 2^63·r_63 and c = x + 2^62 + r (mod 2^64):
 *     ⌊(x + 2^62)/2^m⌋ = ⌊c/2^m⌋ − r_hi − 2^(63−m)·r_63 + 2^(64−m)·ov − b,
 *   where ov = r_63·(1 − c_63) is the wrap-around of x + 2^62 + r (x + 2^62 < 2^63 makes it
 *   exactly that; [EGKRS20 §5.1]) and b = [c mod 2^m < r_lo] is the borrow from the low
 *   bits. We drop b, so the result is ⌊x/2^m⌋ + b with b ∈ {0, 1}: never wrong by more
 *   than one unit, with no failure probability — and unbiased, since P(b = 1) is exactly
 *   the fraction x mod 2^m / 2^m (stochastic rounding), so errors of many truncations
 *   average out instead of adding up.
 *
 * References: [CdH10] Catrina, de Hoogh. Improved Primitives for Secure Multiparty Integer
 * Computation. SCN 2010. [EGKRS20] Escudero, Ghosh, Keller, Rachuri, Scholl. Improved
 * Primitives for MPC over Mixed Arithmetic-Binary Circuits. CRYPTO 2020.
 * @module
 */
import type { Value } from '../builder.ts';

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

/** `v` with the scalar shape of `like` when `like` is a scalar (a length-1 result otherwise broadcasts differently). */
export function shaped(v: Value, like: Value): Value {
  if (!like.isScalar || v.isScalar) return v;
  const b = v.builder;
  return b.push({ op: 'slice', a: v.node, start: 0, end: 1, length: 1, scalar: true, site: undefined }, v.isPublic, v.frac, v.bound);
}

/** L random 64-bit values with their bits: `bits` is bit-major (bit i of element j at i·L + j). */
function edaBits(x: Value): { bits: Value; r: Value } {
  const b = x.builder;
  const R = b.ringBits;
  const bits = b.primRand(1, R * x.length);
  return { bits, r: b.primPack(bits, R) };
}

/** x + r, opened: uniform, so it tells nothing about x. */
function openMasked(x: Value, r: Value): Value {
  const b = x.builder;
  return b.primOpen(b.raw('add', x, r, 0, undefined));
}

/** [c_i = r_i] for public bits c and secret bits r: (1 − c) − r·(1 − 2c), linear. */
function bitEquals(c: Value, r: Value): { eq: Value; notC: Value } {
  const b = c.builder;
  const notC = b.raw('sub', b.ringConst(1n), c, 0, 1n);
  const flip = b.raw('sub', b.ringConst(1n), b.raw('mul', c, b.ringConst(2n), 0, 2n), 0, 1n);
  return { eq: b.raw('sub', notC, b.raw('mul', r, flip, 0, 1n), 0, 1n), notC };
}

/** Digit-level pairs of a tree level: digits 2i (low) and 2i+1 (high), blocks of L. */
function halves(v: Value, digits: number, L: number): { lo: Value; hi: Value; top?: Value } {
  const b = v.builder;
  const pairs = Math.floor(digits / 2);
  return {
    lo: b.primGather(v, range(pairs, (i) => 2 * i), L),
    hi: b.primGather(v, range(pairs, (i) => 2 * i + 1), L),
    top: digits % 2 === 1 ? b.primGather(v, [digits - 1], L) : undefined,
  };
}

/**
 * [c < r] for m-digit binary numbers, c public and r secret, both given as m·L bits
 * (digit i of element j at i·L + j, digit 0 least significant). ⌈log2 m⌉ rounds.
 */
export function bitLessThan(c: Value, r: Value, m: number, L: number): Value {
  const b = c.builder;
  const { eq: eq0, notC } = bitEquals(c, r);
  // Per digit: lt = [c_i < r_i] = (1 − c_i)·r_i, eq = [c_i = r_i].
  let lt = b.raw('mul', r, notC, 0, 1n);
  let eq = eq0;
  let digits = m;
  while (digits > 1) {
    const l = halves(lt, digits, L);
    const e = halves(eq, digits, L);
    // A higher digit decides unless it is equal: lt = lt_hi + eq_hi·lt_lo, eq = eq_hi·eq_lo.
    let nextLt = b.raw('add', l.hi, b.raw('mul', e.hi, l.lo, 0, 1n), 0, 1n);
    let nextEq = digits > 2 ? b.raw('mul', e.hi, e.lo, 0, 1n) : eq;
    if (l.top && e.top) {
      nextLt = b.concat([nextLt, l.top]);
      nextEq = b.concat([nextEq, e.top]);
    }
    lt = nextLt;
    eq = nextEq;
    digits = Math.floor(digits / 2) + (digits % 2);
  }
  return lt;
}

/** [x < 0] elementwise, x read as a signed 64-bit integer; 8 rounds. */
export function lessThanZero(x: Value, n: number = x.length): Value {
  const b = x.builder;
  b.tally('comparison', n);
  const top = b.ringBits - 1;
  if (x.isPublic) return shaped(b.retype(b.primBits(x, top, 1), 0, 1n), x);
  const L = x.length;
  const { bits, r } = edaBits(x);
  const c = openMasked(x, r);
  const borrow = bitLessThan(b.primBits(c, 0, top), b.slice(bits, 0, top * L), top, L);
  const c63 = b.primBits(c, top, 1);
  const r63 = b.slice(bits, top * L, (top + 1) * L);
  // t = c63 ⊕ r63 (linear, c63 public), then msb = t ⊕ borrow = t + borrow − 2·t·borrow.
  const t = b.raw('add', c63, b.raw('mul', r63, b.raw('sub', b.ringConst(1n), b.raw('mul', c63, b.ringConst(2n), 0, 2n), 0, 1n), 0, 1n), 0, 1n);
  const both = b.raw('mul', t, borrow, 0, 1n);
  const msb = b.raw('sub', b.raw('add', t, borrow, 0, 2n), b.raw('mul', both, b.ringConst(2n), 0, 2n), 0, 1n);
  return shaped(msb, x);
}

/** [x = 0] elementwise; 7 rounds. */
export function equalsZero(x: Value, n: number = x.length): Value {
  const b = x.builder;
  b.tally('equality', n);
  const R = b.ringBits;
  if (x.isPublic) {
    // [x = 0] = 1 − [x < 0] − [−x < 0], in the clear.
    const neg = b.primBits(x, R - 1, 1);
    const pos = b.primBits(b.raw('sub', b.ringConst(0n), x, 0, undefined), R - 1, 1);
    return shaped(b.raw('sub', b.raw('sub', b.ringConst(1n), neg, 0, 1n), pos, 0, 1n), x);
  }
  const L = x.length;
  const { bits, r } = edaBits(x);
  const c = openMasked(x, r);
  let eq = bitEquals(b.primBits(c, 0, R), bits).eq;
  let digits = R;
  while (digits > 1) {
    const e = halves(eq, digits, L);
    let next = b.raw('mul', e.hi, e.lo, 0, 1n);
    if (e.top) next = b.concat([next, e.top]);
    eq = next;
    digits = Math.floor(digits / 2) + (digits % 2);
  }
  return shaped(eq, x);
}

/**
 * x / 2^m rounded down or up (never further than one unit; see the module comment), for
 * |x| < 2^62; the result has x.frac − m fractional bits. Public values are shifted exactly.
 */
export function truncate(x: Value, m: number): Value {
  const b = x.builder;
  const R = b.ringBits;
  if (!Number.isInteger(m) || m < 1 || m > R - 2) throw new RangeError(`truncate: shift ${m} outside 1..${R - 2}`);
  const frac = Math.max(0, x.frac - m);
  const bound = x.bound === undefined ? undefined : (x.bound >> BigInt(m)) + 1n;
  const offset = b.ringConst(1n << BigInt(R - 2));
  const back = b.ringConst(1n << BigInt(R - 2 - m));
  if (x.isPublic) {
    const shifted = b.primPack(b.primBits(b.raw('add', x, offset, 0, undefined), m, R - m), R - m);
    return shaped(b.raw('sub', shifted, back, frac, bound), x);
  }
  b.tally('truncation', x.length);
  const L = x.length;
  const lo = b.primRand(m, L);
  const hi = b.primRand(R - 1 - m, L);
  const top = b.primRand(1, L);
  const pow = (e: number): Value => b.ringConst(1n << BigInt(e));
  const r = b.raw('add', b.raw('add', lo, b.raw('mul', hi, pow(m), 0, undefined), 0, undefined), b.raw('mul', top, pow(R - 1), 0, undefined), 0, undefined);
  const c = b.primOpen(b.raw('add', b.raw('add', x, offset, 0, undefined), r, 0, undefined));
  const cHigh = b.primPack(b.primBits(c, m, R - m), R - m);
  const c63 = b.primBits(c, R - 1, 1);
  const wrapped = b.raw('mul', top, b.raw('sub', b.ringConst(1n), c63, 0, 1n), 0, 1n);
  // ⌊c/2^m⌋ − r_hi − 2^(R−1−m)·r_top + 2^(R−m)·ov − 2^(R−2−m)
  let res = b.raw('sub', cHigh, hi, 0, undefined);
  res = b.raw('sub', res, b.raw('mul', top, pow(R - 1 - m), 0, undefined), 0, undefined);
  res = b.raw('add', res, b.raw('mul', wrapped, b.ringConst(1n << BigInt(R - m)), 0, undefined), 0, undefined);
  return shaped(b.raw('sub', res, back, frac, bound), x);
}

/**
 * A secret that is zero in every element exactly when lo ≤ x ≤ hi (x read as a signed
 * 64-bit integer in ring units, |lo|, |hi| < 2^62): the range check of an input inside the
 * computation, for a party that may not have followed its own node's check.
 *
 * With W = hi − lo < 2^k, x lies in [lo, hi] iff d = x − lo and, unless W = 2^k − 1,
 * also hi − x lie in [0, 2^k) as unsigned 64-bit numbers (a value outside [lo, hi] makes one
 * of them wrap to ≥ 2^k, however large). Each d is tested by bit decomposition of its low
 * part [EGKRS20]: open c = d + r for r = r_lo + 2^k·r_hi with r_lo's k bits shared; then
 * d = 2^k·d_hi + (c_lo − r_lo mod 2^k) with 2^k·d_hi ≡ 2^k·(c_hi − r_hi − [c_lo < r_lo])
 * (mod 2^64) — the wrap-around of d + r vanishes in the product — and d < 2^k iff that is
 * zero. Cost per tested element: one k-bit comparison of a public with a secret number
 * (about 2k multiplications, ⌈log2 k⌉ rounds).
 *
 * The result is zero for honest data and otherwise a function of x alone, but a cheating
 * party could bend the comparison so that it depends on other secrets: it may be opened
 * only once every earlier opening has passed its MAC check (the executor does this for
 * the plan's `checks`).
 */
export function rangeDefect(x: Value, lo: bigint, hi: bigint): Value {
  const b = x.builder;
  if (hi < lo) throw new RangeError(`rangeDefect: empty range [${lo}, ${hi}]`);
  const W = hi - lo;
  const k = Math.max(1, W.toString(2).length);
  const R = b.ringBits;
  if (k > R - 1) throw new RangeError(`rangeDefect: the range [${lo}, ${hi}] is wider than 2^${R - 1}`);
  const below = b.raw('sub', x, b.ringConst(lo), 0, undefined);
  const d = W === (1n << BigInt(k)) - 1n ? below : b.concat([below, b.raw('sub', b.ringConst(hi), x, 0, undefined)]);
  const M = d.length;
  b.tally('range check', M);
  const bits = b.primRand(1, k * M);
  const rHigh = b.raw('mul', b.primRand(R - k, M), b.ringConst(1n << BigInt(k)), 0, undefined);
  const c = openMasked(d, b.raw('add', b.primPack(bits, k), rHigh, 0, undefined));
  const cLow = b.primBits(c, 0, k);
  const borrow = bitLessThan(cLow, bits, k, M);
  // 2^k·(c_hi − r_hi − borrow) = (c − c_lo) − 2^k·r_hi − 2^k·borrow.
  const cHigh = b.raw('sub', c, b.primPack(cLow, k), 0, undefined);
  const defect = b.raw('sub', cHigh, rHigh, 0, undefined);
  return b.raw('sub', defect, b.raw('mul', borrow, b.ringConst(1n << BigInt(k)), 0, undefined), 0, undefined);
}
