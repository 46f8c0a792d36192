/**
 * Ordinary least squares for circuits: y ≈ β0 + β1·x1 + … + βk·xk for 1 ≤ k ≤ 10 secret
 * regressors, by the normal equations on centred data, solved by Gaussian elimination with
 * secret pivots and one step of iterative refinement.
 *
 * @example
 * ```ts
 * import { circuit } from '../src/circuit/index.ts';
 * import { ols } from '../src/circuit/stats.ts';
 * export default circuit({ name: 'fit', parties: ['p1', 'p2'] }, (c) => {
 *   const x1 = c.fixed('p1', 'x1', { min: -100, max: 100 });
 *   const x2 = c.fixed('p1', 'x2', { min: -100, max: 100, length: x1.length });
 *   const y = c.fixed('p2', 'y', { min: -100, max: 100, length: x1.length });
 *   c.reveal('fit', ols(y, [x1, x2], { r2: true, residualStdError: true })); // [β0, β1, β2, R², s]
 * });
 * ```
 * @module
 */
import type { Value } from '../builder.ts';
import { bitLength } from '../builder.ts';
import { truncate } from './bits.ts';
import { divPublic, divSecret, normaliser, sqrtFixed } from './fixed.ts';
import { centredProducts, deviations, mean } from './stats.ts';

/** The most regressors `ols` takes. */
export const OLS_MAX_REGRESSORS = 10;

export interface OlsOptions {
  /** Append the coefficient of determination R² = 1 − SSR/SST. */
  r2?: boolean;
  /** Append the residual standard error √(SSR / (n − k − 1)) (needs n ≥ k + 2 rows). */
  residualStdError?: boolean;
}

/**
 * Ordinary least squares y ≈ β0 + Σ βj·xj for k = xs.length regressors (1 ≤ k ≤ 10), each as
 * long as y, with at least k + 1 rows (k + 2 for the residual standard error). Returns one
 * fixed-point vector with the circuit's fractional bits: `[β0, β1, …, βk]`, then R² when
 * `options.r2`, then the residual standard error s when `options.residualStdError` — so
 * `[β0, …, βk, R², s]` with both, `[β0, …, βk, s]` with s alone.
 *
 * Method (R = the ring's bits, f = the circuit's fractional bits; numbers for Z_2^64, f = 16):
 * 1. Centre every column by its mean (`mean`, `deviations`) and form the (k+1)(k+2)/2 cross
 *    sums S = [X'X X'y; y'X y'y] of the deviations (`centredProducts`), at one common number
 *    of fractional bits.
 * 2. Normalise them together by one secret power of two (`normaliser` of the largest
 *    diagonal entry, found by a tournament of comparisons): N = S·2^e has its largest
 *    diagonal entry in [2^P, 2^(P+1)), P = ⌊(R − 4)/2⌋ + 2 = 32, and every entry below
 *    2^(P+1) (|S_ij| ≤ √(S_ii·S_jj)). The solution does not depend on the scale, so data of
 *    any spread keeps the same bits.
 * 3. Gaussian elimination without pivoting (N is symmetric positive definite for
 *    non-degenerate data: no pivot vanishes, no entry grows). For each pivot p_j one secret
 *    division (`divSecret`) of the column below it, y's entry included, and of 2^X by p_j
 *    gives the multipliers l_ij = N_ij/p_j and the reciprocal 1/p_j to M = R − 4 − P = 28
 *    fractional bits; then the rest of the lower triangle (y's row included) is updated in
 *    one vector operation, N_il ← trunc(N_il·2^M − l_ij·N_lj, M): the products are exact in
 *    the ring and the truncated result, an entry of a Schur complement, is below 2^(P+1) again.
 * 4. Back substitution L'β = l_y (β_(k−1) = l_(y,k−1), β_j = l_yj − Σ_(l>j) l_lj·β_l, one
 *    truncation per step) with the multipliers rounded to G = M − 6 = 22 fractional bits and
 *    β to B = f + 6 = 22.
 * 5. One step of iterative refinement with the same factors (no new division): the exact
 *    residual r = X'y − X'X·β of the normalised system, z = L⁻¹r (forward substitution), and
 *    the correction δ = L'⁻¹(z/p) by back substitution, to B + 8 fractional bits. It removes
 *    the error of the divisions' Newton–Raphson (relative 3·10^-6 in Z_2^64) from β.
 * 6. β0 = ȳ − Σ βj·x̄j with x̄ = mean(x) + mean(x − mean(x)) to f + 8 fractional bits and
 *    β = β̂ + δ to B + 8 (an intercept far from the data's centre amplifies β's error by x̄).
 * 7. For R² and s: the residuals e = (y − ȳ) − Σ βj·(xj − x̄j) in the data's units (n·k
 *    multiplications, one truncation per row) and SSR = Σ e² (`centredProducts`), which is
 *    second-order accurate in β's error; R² = 1 − SSR/SST by one secret division (SST's half
 *    of it runs beside the elimination), s = √(SSR/(n − k − 1)) (`divPublic`, `sqrtFixed`).
 *
 * Cost: (k+1)(k+2)/2·n multiplications for the cross sums; the k divisions run one after the
 * other (pivots are positive: no sign test), about 26 rounds each with their update, and the
 * substitutions add about 6k rounds. At 100 rows in Z_2^64 (`compileLoaded(…).plan.stats`),
 * coefficients only: k = 1: 12 600 multiplications, 56 rounds; k = 2: 17 500, 97; k = 5:
 * 32 900, 202; k = 10: 60 900, 371. R² adds about 7 400 multiplications and 6 rounds; s a
 * square root, digit by digit (9 rounds per result bit: about 240 rounds for |y| ≤ 1000).
 *
 * Accuracy (test/circuit/regression.test.ts): within one unit of 2^-f (relative to
 * max(1, |β|)) of least squares on the data as encoded, for well-conditioned regressors of
 * comparable spreads, and below 10^-6 at f = 22 in Z_2^64. All of N's bits serve its largest
 * diagonal entry: a column whose sum of squares is 2^(2r) times smaller than the largest
 * (y's included: steep slopes) keeps P − 2r of them — slopes near 100 with regressors of
 * spread 1 (2r ≈ 13) are still within a unit; slopes near 1000 (2r ≈ 20) measured 1.5·10^-4,
 * and their intercept 2.4·10^-3.
 * Limits: |βj| < 2^(R − 3 − G − B) = 2^17, |β0| < 2^(R − 2 − f − B) = 2^24 and, for R² and
 * s, residuals below 2^24 (the first one bit less per fractional bit above 16, the others
 * two; 2^33, 2^56 and 2^56 in Z_2^128). R² and s square the residuals, bounded by √n·max|y − ȳ|: when that needs
 * rounding before squaring, the compiler takes Z_2^128 (unless the circuit names its ring),
 * as it does for `variance`. Degenerate data (a constant regressor, collinear regressors)
 * gives meaningless numbers, not an error: the circuit cannot see the data.
 */
export function ols(y: Value, xs: readonly Value[], options: OlsOptions = {}): Value {
  const b = y.builder;
  const k = xs.length;
  const n = y.length;
  if (k < 1 || k > OLS_MAX_REGRESSORS) b.failHere('ols', `supports 1 to ${OLS_MAX_REGRESSORS} regressors, got ${k}`);
  xs.forEach((x, j) => {
    if (x.length !== n) b.failHere('ols', `regressor xs[${j}] has ${x.length} rows, y has ${n}`);
  });
  if (n < k + 1) b.failHere('ols', `${k} regressor${k > 1 ? 's need' : ' needs'} at least ${k + 1} rows, y has ${n}`);
  if (options.residualStdError && n < k + 2) {
    b.failHere('ols', `the residual standard error needs at least k + 2 = ${k + 2} rows (n − k − 1 ≥ 1 degrees of freedom), y has ${n}`);
  }
  const R = b.ringBits;
  const f = b.fracBits;
  // Bits (see the method above): the normalised sums P, the multipliers in the elimination M
  // and in the substitutions G, β's B and its correction's D, the reciprocal's numerator 2^X
  // (no larger than a multiplier's numerator can be), the refinement's residuals H, the
  // means' extra bits E.
  const P = Math.floor((R - 4) / 2) + 2;
  const M = R - 4 - P;
  const G = M - 6;
  const B = f + 6;
  const D = B + 8;
  const X = Math.floor((P + 1) / 2);
  const H = 2;
  const E = 8;
  const pow = (e: number): Value => b.ringConst(1n << BigInt(e));
  const mul = (p: Value, q: Value, frac: number): Value => b.raw('mul', p, q, frac, undefined);
  const sub = (p: Value, q: Value, frac: number): Value => b.raw('sub', p, q, frac, undefined);
  const add = (p: Value, q: Value, frac: number): Value => b.raw('add', p, q, frac, undefined);
  const Y = k; // y's index among the columns

  // 1. Each column's mean and deviations once, shared by every cross sum and the intercept.
  const cols = [...xs, y].map((c) => {
    const m = mean(c);
    return { mean: m, dev: deviations(c, m) };
  });
  // The lower triangle of S (i ≥ j, y last), at the fewest fractional bits any sum kept.
  const at = (i: number, j: number): number => (i >= j ? (i * (i + 1)) / 2 + j : at(j, i));
  const pairs: [number, number][] = [];
  for (let i = 0; i <= k; i++) for (let j = 0; j <= i; j++) pairs.push([i, j]);
  const raw = pairs.map(([i, j]) => centredProducts(cols[i].dev, cols[j].dev));
  const frac = Math.min(...raw.map((r) => r.frac));
  const sums = b.concat(raw.map((r) => b.retype(r.frac > frac ? truncate(r.total, r.frac - frac) : r.total, 0, undefined)));

  // 2. One secret power of two for all: (largest diagonal entry)·v ∈ [2^(R−3), 2^(R−2)).
  const largest = b.primGather(sums, Array.from({ length: k + 1 }, (_, i) => at(i, i))).max();
  const v = normaliser(add(largest, b.ringConst(1n), 0), R - 2);
  const top = 1n << BigInt(P + 1);
  const N0 = b.retype(truncate(mul(sums, v, 0), R - 3 - P), 0, top);

  // 3. Elimination; `index` maps (i, j) of the remaining lower triangle to N's elements.
  let N = N0;
  let index = new Map<string, number>(pairs.map(([i, j]) => [`${i},${j}`, at(i, j)]));
  const pos = (i: number, j: number): number => index.get(i >= j ? `${i},${j}` : `${j},${i}`)!;
  /** Per pivot j: l_ij for i = j+1 … k (y last) with G fractional bits, and 2^(X+M)/p_j. */
  const multipliers: Value[] = [];
  const reciprocals: Value[] = [];
  for (let j = 0; j < k; j++) {
    // A Schur complement's diagonal is at most the original one (the slack covers rounding).
    const pivot = b.retype(N.get(pos(j, j)), 0, top << 1n);
    const below = Array.from({ length: k - j }, (_, t) => j + 1 + t);
    const column = b.concat([b.primGather(N, below.map((i) => pos(i, j))), pow(X)]);
    // divSecret(a, p) is a·2^(a.frac)/p in ring units: read with M fractional bits, a/p.
    const q = b.retype(divSecret(b.retype(column, M, undefined), pivot, { nonNegativeDivisor: true }), M, undefined);
    const l = b.slice(q, 0, k - j);
    multipliers.push(b.retype(truncate(l, M - G), G, undefined));
    reciprocals.push(q.get(k - j));
    if (j === k - 1) break;
    const rest: [number, number][] = [];
    for (let c = j + 1; c < k; c++) for (let r = c; r <= k; r++) rest.push([r, c]);
    const current = b.primGather(N, rest.map(([r, c]) => pos(r, c)));
    const products = mul(b.primGather(l, rest.map(([r]) => r - j - 1)), b.primGather(N, rest.map(([, c]) => pos(c, j))), M);
    N = b.retype(truncate(sub(mul(current, pow(M), M), products, M), M), 0, top);
    index = new Map(rest.map(([r, c], t) => [`${r},${c}`, t]));
  }

  // 4. Back substitution L'w = u (w_j = u_j − Σ_{l>j} l_lj·w_l), w with `bits` fractional bits.
  const lower = (j: number): Value => b.slice(multipliers[j], 0, k - 1 - j);
  const backSubstitute = (u: readonly Value[], bits: number): Value => {
    const w: Value[] = new Array(k);
    const lift = bits + G - u[0].frac;
    for (let j = k - 1; j >= 0; j--) {
      const t = lift === 0 ? u[j] : mul(u[j], pow(lift), G + bits);
      w[j] = truncate(j === k - 1 ? t : sub(t, mul(lower(j), b.concat(w.slice(j + 1)), G + bits).sum(), G + bits), G);
    }
    return b.retype(b.concat(w), bits, undefined);
  };
  const first = backSubstitute(multipliers.map((l, j) => l.get(k - 1 - j)), B);

  // 5. Refinement: r = X'y − X'X·β̂ exactly (products in the ring) to H fractional bits,
  // z = L⁻¹r, and the correction δ = L'⁻¹(z/p), small, to D fractional bits.
  const square = Array.from({ length: k * k }, (_, t) => at(Math.floor(t / k), t % k));
  const rowTerms = mul(b.primGather(N0, square), b.primGather(first, square.map((_, t) => t % k)), B);
  const fitted = b.concat(Array.from({ length: k }, (_, i) => b.slice(rowTerms, i * k, (i + 1) * k).sum()));
  const xy = b.primGather(N0, Array.from({ length: k }, (_, i) => at(Y, i)));
  let residual = truncate(sub(mul(xy, pow(B), B), fitted, B), B - H);
  const z: Value[] = [];
  for (let j = 0; j < k; j++) {
    z.push(residual.get(0));
    if (j === k - 1) break;
    residual = truncate(sub(mul(b.slice(residual, 1, k - j), pow(G), G + H), mul(lower(j), z[j], G + H), G + H), G);
  }
  const scaled = b.retype(truncate(mul(b.concat(z), b.concat(reciprocals), H + X + M), H + X + M - G - (D - B)), G + D - B, undefined);
  const delta = backSubstitute(Array.from({ length: k }, (_, j) => scaled.get(j)), D);
  // β = β̂ + δ to B fractional bits, for the residuals (the output slopes round β̂·2^(D−B) + δ).
  const beta = add(first, truncate(delta, D - B), B);

  // 6. β0 = ȳ − Σ βj·x̄j = (m_y − Σ βj·m_j) + (c_y − Σ βj·c_j) for the means m = mean(x) and
  // c = mean(x − m) with f + E fractional bits (|c| is a few units of 2^-f); β = β̂ + δ in the
  // first sum (|x̄| may be large), β̂ in the second.
  const m = b.concat(cols.map((col) => col.mean));
  const c = b.concat(cols.map((col) => divPublic(col.dev.sum(), n, f + E)));
  const mx = b.slice(m, 0, k);
  const bm = add(mul(first, mx, f + B).sum(), truncate(mul(delta, mx, f + D).sum(), D - B), f + B);
  const bc = mul(first, b.slice(c, 0, k), f + E + B).sum();
  const big = sub(mul(m.get(Y), pow(B), f + B), bm, f + B);
  const small = truncate(sub(mul(c.get(Y), pow(B), f + E + B), bc, f + E + B), E);
  const intercept = truncate(add(big, small, f + B), B);
  const slopes = truncate(add(mul(first, pow(D - B), D), delta, D), D - f);
  const out: Value[] = [b.retype(intercept, f, undefined), b.retype(slopes, f, undefined)];

  // 7. The residuals in the data's units, and what is asked of them.
  if (options.r2 || options.residualStdError) {
    const dy = cols[Y].dev;
    const explained = xs.map((_, j) => mul(cols[j].dev, beta.get(j), f + B)).reduce((s, t) => add(s, t, f + B));
    // |e_i| ≤ ‖e‖ ≤ ‖y − ȳ‖ ≤ √n·max|y − ȳ| (the slack covers β's error).
    const eBound = dy.bound === undefined ? undefined : dy.bound * (BigInt(Math.ceil(Math.sqrt(n))) + 1n);
    const e = b.retype(truncate(sub(mul(dy, pow(B), f + B), explained, f + B), B), f, eBound);
    const sst = raw[at(Y, Y)];
    const ssr = centredProducts(e, e);
    // SSR < 2^(R−3) (centredProducts keeps every sum below it), and SSR ≤ SST up to β's
    // error: a tighter bound than the residuals' own, for the square root's digits.
    let ssrBound = (1n << BigInt(R - 3)) - 1n;
    if (ssr.total.bound !== undefined && ssr.total.bound < ssrBound) ssrBound = ssr.total.bound;
    if (sst.total.bound !== undefined) {
      const t = sst.total.bound + (sst.total.bound >> 8n) + 2n;
      const atSsr = ssr.frac >= sst.frac ? t << BigInt(ssr.frac - sst.frac) : (t >> BigInt(sst.frac - ssr.frac)) + 1n;
      if (atSsr < ssrBound) ssrBound = atSsr;
    }
    if (options.r2) {
      // SSR and SST at one number of fractional bits, SST below 2^(R−4) (divSecret's divisor range).
      const common = Math.min(ssr.frac, sst.frac);
      const sstBound = sst.total.bound ?? 1n << BigInt(R - 3);
      let extra = 0;
      while (bitLength((sstBound >> BigInt(sst.frac - common + extra)) + 1n) > R - 4) extra++;
      const shift = (x: Value, by: number): Value => (by > 0 ? truncate(x, by) : x);
      const num = shift(ssr.total, ssr.frac - common + extra);
      const den = shift(sst.total, sst.frac - common + extra);
      const ratio = divSecret(b.retype(num, f, undefined), b.retype(den, f, (sstBound >> BigInt(sst.frac - common + extra)) + 1n), { nonNegativeDivisor: true });
      out.push(b.raw('sub', pow(f), ratio, f, 1n << BigInt(f)));
    }
    if (options.residualStdError) {
      const total = b.retype(ssr.total, ssr.frac, ssrBound);
      out.push(sqrtFixed(n - k - 1 === 1 ? total : divPublic(total, n - k - 1)));
    }
  }
  return b.concat(out);
}
