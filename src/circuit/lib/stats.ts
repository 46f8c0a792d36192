/**
 * Statistics for circuits: every function takes secret values and returns secret values,
 * to be revealed (or computed on) by the circuit. Lengths are public, so `count` is too.
 * Integers are converted to fixed point where the result is fractional.
 *
 * @example
 * ```ts
 * import { circuit } from '../src/circuit/index.ts';
 * import { mean, stddev } from '../src/circuit/stats.ts';
 * export default circuit({ name: 'spread', parties: ['p1', 'p2'] }, (c) => {
 *   const v = c.concat([c.fixed('p1', 'v', { min: -1e4, max: 1e4 }), c.fixed('p2', 'v', { min: -1e4, max: 1e4 })]);
 *   c.reveal('mean', mean(v));
 *   c.reveal('stddev', stddev(v));
 * });
 * ```
 * Accuracy (README "Statistics"): mean within 2·2^-16; variance within a few 2^-16 plus the
 * sum of per-element stochastic roundings; stddev from the variance at 24 fractional bits,
 * so within 10^-3 even when the spread is near zero; median/percentiles/top-k exact
 * (comparisons are exact); covariance and regression through the same pieces.
 * @module
 */
import type { Value } from '../builder.ts';
import { bitLength } from '../builder.ts';
import { lessThanZero, truncate } from './bits.ts';
import { divPublic, divSecret, sqrtFixed } from './fixed.ts';
import { sortNetwork } from './order.ts';

/** Extra fractional bits the variance keeps for the square root (see stddev). */
const VAR_EXTRA_BITS = 8;

function fixedOf(v: Value): Value {
  return v.isFixed ? v : v.toFixed();
}

function nonEmpty(what: string, v: Value): void {
  if (v.length === 0) v.builder.failHere(what, 'the vector is empty');
}

/** Σ v. */
export function sum(v: Value): Value {
  return v.sum();
}

/** The number of elements (public), or of ones in a 0/1 vector `cond` when given. */
export function count(v: Value, cond?: Value): Value {
  return cond === undefined ? v.builder.constant(v.length) : cond.sum();
}

/** The arithmetic mean, fixed point. */
export function mean(v: Value): Value {
  nonEmpty('mean', v);
  return divPublic(fixedOf(v).sum(), v.length);
}

/** x − m (default: its mean), fixed point. */
export function deviations(x: Value, m: Value = mean(x)): Value {
  return fixedOf(x).sub(m);
}


/**
 * Σ dx_i·dy_i for deviations dx, dy, and the number of fractional bits it has. When the
 * declared ranges let a product reach 2^(R − 2), the deviations are first rounded to fewer
 * fractional bits (as few as needed, shared between the two); then the products are
 * rounded to as many fractional bits as keep their sum below 2^(R − 2) (at most 2f).
 */
export function centredProducts(dx: Value, dy: Value): { total: Value; frac: number } {
  const b = dx.builder;
  const n = dx.length;
  const R = b.ringBits;
  let x = dx;
  let y = dy;
  if (dx.bound !== undefined && dy.bound !== undefined) {
    // Products before truncation stay below 2^(R − 2) (lib/bits.ts `truncate`).
    const excess = bitLength(dx.bound) + bitLength(dy.bound) - (R - 2);
    if (excess > x.frac + y.frac) b.failRange('variance', `deviations of up to 2^${bitLength(dx.bound) - dx.frac} (real) have squares beyond ${R} bits: declare a smaller input range`);
    if (excess > 0) {
      b.lossy('variance', `deviations of up to 2^${bitLength(dx.bound) - dx.frac} (real) would be rounded to ${Math.max(0, dx.frac - Math.ceil(excess / 2))} fractional bits before squaring`);
      let sx = Math.min(x.frac, Math.ceil(excess / 2));
      let sy = excess - sx;
      if (sy > y.frac) [sy, sx] = [y.frac, excess - y.frac];
      // A square is rounded once, so both factors stay the same value.
      if (dx === dy && sx === sy) x = y = truncate(dx, sx);
      else {
        if (sx > 0) x = truncate(x, sx);
        if (sy > 0) y = truncate(y, sy);
      }
    }
  }
  const frac2 = x.frac + y.frac;
  const raw = b.raw('mul', x, y, frac2, x.bound === undefined || y.bound === undefined ? undefined : x.bound * y.bound);
  // Keep `keep` fractional bits of each product: the sum must stay below 2^(R − 2).
  const perBits = raw.bound === undefined ? R - 2 : bitLength(raw.bound);
  const keep = Math.max(0, Math.min(frac2, R - 3 - (perBits - frac2) - bitLength(BigInt(n))));
  const shift = frac2 - keep;
  const each = shift > 0 ? truncate(raw, shift) : raw;
  return { total: each.sum(), frac: keep };
}

/**
 * Population variance with up to `extra` fractional bits beyond the circuit's: fewer (even
 * fewer than the circuit's) when the declared range would push it past 2^(R − 4) in ring units.
 */
function varianceBits(v: Value, extra: number): Value {
  nonEmpty('variance', v);
  const d = deviations(v);
  const { total, frac } = centredProducts(d, d);
  const f = v.builder.fracBits;
  const perElement = total.bound === undefined ? undefined : total.bound / BigInt(v.length) + 1n;
  const room = perElement === undefined ? extra : v.builder.ringBits - 4 - bitLength(perElement) + frac - f;
  return divPublic(v.builder.retype(total, frac, total.bound), v.length, f + Math.min(extra, room));
}

/** Population variance, fixed point. */
export function variance(v: Value): Value {
  const b = v.builder;
  const fine = varianceBits(v, VAR_EXTRA_BITS);
  const extra = fine.frac - b.fracBits;
  if (extra < 0) {
    b.failRange('variance', `the variance of values up to 2^${bitLength(v.bound ?? 0n) - (v.isFixed ? b.fracBits : 0)} (real) may exceed the fixed-point range at ${b.fracBits} fractional bits; stddev(v) still works (it takes the square root at reduced precision), or declare a smaller input range`);
  }
  return extra === 0 ? fine : b.retype(truncate(fine, extra), b.fracBits, fine.bound === undefined ? undefined : (fine.bound >> BigInt(extra)) + 1n);
}

/** Population standard deviation, fixed point: the square root of the variance at 24 fractional bits. */
export function stddev(v: Value): Value {
  return sqrtFixed(varianceBits(v, VAR_EXTRA_BITS));
}

/** A bound on |cov(x, y)| in ring units: |cov| ≤ sx·sy ≤ max|x|·max|y|. */
function covBound(x: Value, y: Value): bigint | undefined {
  const fx = fixedOf(x);
  const fy = fixedOf(y);
  return fx.bound === undefined || fy.bound === undefined ? undefined : (fx.bound * fy.bound) >> BigInt(x.builder.fracBits);
}

/** Population covariance, fixed point. */
export function covariance(x: Value, y: Value): Value {
  if (x.length !== y.length) x.builder.failHere('covariance', `${x.length} and ${y.length} elements`);
  nonEmpty('covariance', x);
  const { total, frac } = centredProducts(deviations(x), deviations(y));
  const cov = divPublic(x.builder.retype(total, frac, total.bound), x.length, x.builder.fracBits);
  return x.builder.retype(cov, x.builder.fracBits, covBound(x, y));
}

/** Pearson correlation, fixed point (in [−1, 1]). */
export function correlation(x: Value, y: Value): Value {
  const spread = stddev(x).mul(stddev(y));
  return divSecret(covariance(x, y), spread);
}

/**
 * Counts per bucket [edges[i], edges[i+1]) (lower bound inclusive), for public ascending
 * edges: one comparison per element and edge, all in one batch.
 */
export function histogram(v: Value, edges: readonly number[]): Value {
  const b = v.builder;
  if (edges.length < 2) b.failHere('histogram', 'expected at least two bucket edges');
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i] > edges[i - 1])) b.failHere('histogram', `edges must increase, got ${edges[i - 1]} then ${edges[i]}`);
  }
  const n = v.length;
  // below_i = Σ [v < e_i]; bucket i holds below_{i+1} − below_i.
  const diffs = b.concat(edges.map((e) => v.sub(e)));
  const lt = lessThanZero(diffs);
  const below = edges.map((_, i) => b.slice(lt, i * n, (i + 1) * n).sum());
  return b.concat(edges.slice(1).map((_, i) => below[i + 1].sub(below[i])));
}

/** `v` sorted ascending (a sorting network). */
export function sort(v: Value): Value {
  return sortNetwork(v);
}

/** The element of rank k (0-based) of `v`, as a scalar. */
export function kth(v: Value, k: number): Value {
  if (!Number.isInteger(k) || k < 0 || k >= v.length) v.builder.failHere('kth', `rank ${k} outside 0..${v.length - 1}`);
  return sortNetwork(v, [k]).get(k);
}

/** The lower median: the element of rank ⌊(n − 1)/2⌋. */
export function median(v: Value): Value {
  nonEmpty('median', v);
  return kth(v, Math.floor((v.length - 1) / 2));
}

/** The p-th percentile (0 ≤ p ≤ 100), lower nearest rank: the element of rank ⌊p·(n − 1)/100⌋. */
export function percentile(v: Value, p: number): Value {
  nonEmpty('percentile', v);
  if (!(p >= 0 && p <= 100)) v.builder.failHere('percentile', `p must be in [0, 100], got ${p}`);
  return kth(v, Math.floor((p * (v.length - 1)) / 100));
}

/** The k largest elements, largest first. */
export function topK(v: Value, k: number): Value {
  const n = v.length;
  if (!Number.isInteger(k) || k < 1 || k > n) v.builder.failHere('topK', `k must be in 1..${n}, got ${k}`);
  const wanted = Array.from({ length: k }, (_, i) => n - 1 - i);
  return v.builder.primGather(sortNetwork(v, wanted), wanted);
}

/** Ordinary least squares, for up to 10 regressors: see lib/regression.ts. */
export { ols } from './regression.ts';
