// Plaintext references for the statistics circuits of issue 6 (histogram, max, mean-fixed,
// median, linreg, regression), shared by test/circuits/canonical.test.ts (in memory) and
// test/integration/federation.test.ts (real nodes): plain JS for counting, maxima and order
// statistics, mathjs for the standard deviation and the regression.
import { lusolve, std, type MathNumericType } from 'mathjs';

/** histogram.ts's public bucket edges: [0,18) [18,30) [30,45) [45,65) [65,121). */
export const BUCKETS = [0, 18, 30, 45, 65, 121];
/** Ages on and next to every bucket edge, and the ends of 0..120. */
export const AGE_EDGES = [0, 17, 18, 29, 30, 44, 45, 64, 65, 120];

export const histogramRef = (ages: number[]): number[] => BUCKETS.slice(1).map((hi, i) => ages.filter((a) => a >= BUCKETS[i] && a < hi).length);

/** The largest bid and the (1-based) number of the first party holding it. */
export function maxRef(bids: bigint[][]): { max: bigint; winner: number } {
  let best: { max: bigint; winner: number } | undefined;
  bids.forEach((b, p) =>
    b.forEach((x) => {
      if (best === undefined || x > best.max) best = { max: x, winner: p + 1 };
    }),
  );
  if (best === undefined) throw new RangeError('maxRef: no bids');
  return best;
}

/** Population standard deviation. */
export const stdRef = (v: number[]): number => std(v, 'uncorrected') as unknown as number;

/** The lower median: the element of rank ⌊(n − 1)/2⌋. */
export const lowerMedian = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];

const avg = (v: number[]): number => v.reduce((s, a) => s + a, 0) / v.length;
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * Least squares in double precision on the centred normal equations (mathjs lusolve):
 * [β0, β1 … βk], R² and the residual standard error s = √(SSR / (n − k − 1)).
 */
export function leastSquares(xs: number[][], y: number[]): { beta: number[]; r2: number; s: number } {
  const n = y.length;
  const k = xs.length;
  const mx = xs.map(avg);
  const my = avg(y);
  const dx = xs.map((col, j) => col.map((v) => v - mx[j]));
  const dy = y.map((v) => v - my);
  const XtX = dx.map((a) => dx.map((b) => dot(a, b)));
  const Xty = dx.map((a) => dot(a, dy));
  const slopes = (lusolve(XtX, Xty) as MathNumericType[][]).map((r) => r[0] as number);
  const intercept = my - slopes.reduce((s, b, j) => s + b * mx[j], 0);
  const residuals = dy.map((v, i) => v - slopes.reduce((s, b, j) => s + b * dx[j][i], 0));
  const ssr = dot(residuals, residuals);
  return { beta: [intercept, ...slopes], r2: 1 - ssr / dot(dy, dy), s: Math.sqrt(ssr / (n - k - 1)) };
}

/** OLS [intercept, b1, b2] (linreg.ts). */
export const olsRef = (x1: number[], x2: number[], y: number[]): number[] => leastSquares([x1, x2], y).beta;

/** A seeded uniform generator on [lo, hi) (mulberry32). */
export type Uniform = (lo: number, hi: number) => number;
export function uniform(seed: number): Uniform {
  let a = seed >>> 0;
  return (lo, hi) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * (hi - lo);
  };
}

/** A random integer in lo..hi. */
export const randomInt = (u: Uniform, lo: number, hi: number): number => Math.min(hi, Math.floor(u(lo, hi + 1)));
