/**
 * Order statistics on secret vectors, from the comparison of lib/bits.ts: selection,
 * tournament reductions (max, min, argmax) and sorting networks.
 *
 * - `select(c, a, b)` = b + c·(a − b): one multiplication, and since `c` is always a bit
 *   (comparisons never return anything else), always exactly a or b.
 * - `reduceBest`: a tournament, ⌈log2 n⌉ comparison rounds over halving vectors; the right
 *   element of a pair wins only when strictly better, so ties go to the first position.
 * - `sortNetwork`: Batcher's odd–even merge sort [Batcher 1968], data-independent by
 *   construction, so sorting secret values reveals nothing. Stages of comparators run as
 *   one vectorised comparison each. When only some positions of the sorted vector are
 *   needed (a median, a percentile, the top k), comparators that cannot influence them are
 *   dropped (a backward pass over the network).
 * @module
 */
import type { Value } from '../builder.ts';
import { lessThanZero, shaped } from './bits.ts';

/** `c ? a : b` elementwise for a 0/1 integer c (one multiplication). */
export function select(c: Value, a: Value, b: Value): Value {
  const k = a.builder;
  const bound = a.bound === undefined || b.bound === undefined ? undefined : a.bound > b.bound ? a.bound : b.bound;
  const diff = k.raw('sub', a, b, a.frac, undefined);
  return k.raw('add', b, k.raw('mul', c, diff, a.frac, undefined), a.frac, bound);
}

const evens = (n: number): number[] => Array.from({ length: n }, (_, i) => 2 * i);
const odds = (n: number): number[] => Array.from({ length: n }, (_, i) => 2 * i + 1);

/**
 * The best element of `v` (largest for 'max', smallest for 'min'; the first on ties), and
 * the matching element of `payload` when given.
 */
export function reduceBest(v: Value, best: 'max' | 'min', payload?: Value): { value: Value; payload?: Value } {
  const b = v.builder;
  let vals = v;
  let pay = payload;
  let n = v.length;
  while (n > 1) {
    const pairs = Math.floor(n / 2);
    const left = b.primGather(vals, evens(pairs));
    const right = b.primGather(vals, odds(pairs));
    // The right one wins only when strictly better.
    const better = best === 'max' ? lessThanZero(b.raw('sub', left, right, 0, undefined)) : lessThanZero(b.raw('sub', right, left, 0, undefined));
    let nextVals = select(better, right, left);
    let nextPay = pay && select(better, b.primGather(pay, odds(pairs)), b.primGather(pay, evens(pairs)));
    if (n % 2 === 1) {
      nextVals = b.concat([nextVals, b.primGather(vals, [n - 1])]);
      if (pay && nextPay) nextPay = b.concat([nextPay, b.primGather(pay, [n - 1])]);
    }
    vals = nextVals;
    pay = nextPay;
    n = pairs + (n % 2);
  }
  const scalar = (x: Value): Value => shaped(x, b.ringConst(0n));
  return { value: scalar(vals), payload: pay && scalar(pay) };
}

/** Comparator stages of Batcher's odd–even merge sort on n elements (any n). */
export function batcherStages(n: number): [number, number][][] {
  const stages: [number, number][][] = [];
  for (let p = 1; p < n; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      const stage: [number, number][] = [];
      for (let j = k % p; j <= n - 1 - k; j += 2 * k) {
        for (let i = 0; i <= Math.min(k - 1, n - j - k - 1); i++) {
          if (Math.floor((i + j) / (2 * p)) === Math.floor((i + j + k) / (2 * p))) stage.push([i + j, i + j + k]);
        }
      }
      if (stage.length > 0) stages.push(stage);
    }
  }
  return stages;
}

/** The stages restricted to comparators that can affect the positions in `wanted`. */
export function pruneStages(stages: [number, number][][], wanted: Iterable<number>): [number, number][][] {
  const need = new Set(wanted);
  const kept: [number, number][][] = [];
  for (let s = stages.length - 1; s >= 0; s--) {
    const stage = stages[s].filter(([i, j]) => need.has(i) || need.has(j));
    for (const [i, j] of stage) {
      need.add(i);
      need.add(j);
    }
    if (stage.length > 0) kept.unshift(stage);
  }
  return kept;
}

/**
 * `v` sorted ascending by a sorting network; positions not in `wanted` (all by default) may
 * hold anything afterwards.
 */
export function sortNetwork(v: Value, wanted?: Iterable<number>): Value {
  const b = v.builder;
  const n = v.length;
  const all = batcherStages(n);
  const stages = wanted === undefined ? all : pruneStages(all, wanted);
  let cur = v;
  for (const stage of stages) {
    const T = stage.length;
    const lo = b.primGather(cur, stage.map(([i]) => i));
    const hi = b.primGather(cur, stage.map(([, j]) => j));
    const swap = lessThanZero(b.raw('sub', hi, lo, 0, undefined));
    const small = select(swap, hi, lo);
    const large = b.raw('sub', b.raw('add', lo, hi, cur.frac, undefined), small, cur.frac, cur.bound);
    const index = Array.from({ length: n }, (_, p) => p);
    stage.forEach(([i, j], t) => {
      index[i] = n + t;
      index[j] = n + T + t;
    });
    cur = b.primGather(b.concat([cur, small, large]), index);
  }
  return cur;
}
