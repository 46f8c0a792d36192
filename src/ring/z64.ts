/**
 * Vector kernels over the ring Z_2^64, with vectors stored as `BigUint64Array`.
 *
 * Every BigInt expression in a loop is wrapped in `BigInt.asUintN(64, …)`, intermediate
 * results included: that is what lets V8's optimising compiler lower the loop to native
 * 64-bit integer instructions (ARCHITECTURE.md §5 — a Beaver combine runs at hundreds of
 * M elements/s this way and at ~28 M/s without the wrapper). Keep it that way when editing:
 * a single unwrapped `a[i] * b[i]` drops the whole loop back to heap-allocated BigInts.
 * Two more rules, both measured on Node 20: never merge BigInt values from two branches
 * inside a loop and then shift them (TurboFan aborts the process — see z128.ts), and keep
 * running sums in typed-array slots, since a BigInt carried in a `let` is boxed.
 *
 * Vector operations take an optional `out` of the same length, which may alias an input
 * (each element is read before it is written), and return it; without `out` they allocate.
 * Argument checks happen once per call, never per element.
 * @module
 */
import { describeKind } from '../util/describe.ts';

/** 2^64 − 1: the largest element of Z_2^64. */
export const MASK64 = (1n << 64n) - 1n;

/** The representative of `k` mod 2^64 in [0, 2^64); accepts any bigint, negative included. */
export function reduce64(k: bigint): bigint {
  if (typeof k !== 'bigint') throw new TypeError(`reduce64: k: expected a bigint, got ${typeof k}`);
  return BigInt.asUintN(64, k);
}

/** Throws a TypeError unless `v` is a `BigUint64Array`. `what` names the argument in the message. */
export function assertU64(v: unknown, what: string): asserts v is BigUint64Array {
  if (!(v instanceof BigUint64Array)) {
    throw new TypeError(`${what}: expected BigUint64Array, got ${describeKind(v)}`);
  }
}

function checkSame(fn: string, a: BigUint64Array, other: unknown, name: string): asserts other is BigUint64Array {
  assertU64(other, `${fn}: ${name}`);
  if (other.length !== a.length) {
    throw new RangeError(`${fn}: ${name}: expected length ${a.length} (same as the first vector), got ${other.length}`);
  }
}

function outFor(fn: string, n: number, out: BigUint64Array | undefined): BigUint64Array {
  if (out === undefined) return new BigUint64Array(n);
  assertU64(out, `${fn}: out`);
  if (out.length !== n) throw new RangeError(`${fn}: out: expected length ${n}, got ${out.length}`);
  return out;
}

function scalar(fn: string, k: unknown): bigint {
  if (typeof k !== 'bigint') throw new TypeError(`${fn}: k: expected a bigint, got ${typeof k}`);
  return BigInt.asUintN(64, k);
}

/** out[i] = a[i] + b[i] mod 2^64. */
export function add(a: BigUint64Array, b: BigUint64Array, out?: BigUint64Array): BigUint64Array {
  assertU64(a, 'z64.add: a');
  checkSame('z64.add', a, b, 'b');
  const o = outFor('z64.add', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, a[i] + b[i]);
  return o;
}

/** out[i] = a[i] − b[i] mod 2^64. */
export function sub(a: BigUint64Array, b: BigUint64Array, out?: BigUint64Array): BigUint64Array {
  assertU64(a, 'z64.sub: a');
  checkSame('z64.sub', a, b, 'b');
  const o = outFor('z64.sub', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, a[i] - b[i]);
  return o;
}

/** out[i] = −a[i] mod 2^64. */
export function neg(a: BigUint64Array, out?: BigUint64Array): BigUint64Array {
  assertU64(a, 'z64.neg: a');
  const o = outFor('z64.neg', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, -a[i]);
  return o;
}

/** out[i] = a[i] · b[i] mod 2^64 (elementwise). */
export function mul(a: BigUint64Array, b: BigUint64Array, out?: BigUint64Array): BigUint64Array {
  assertU64(a, 'z64.mul: a');
  checkSame('z64.mul', a, b, 'b');
  const o = outFor('z64.mul', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, a[i] * b[i]);
  return o;
}

/** out[i] = a[i] + k mod 2^64; `k` may be any bigint and is reduced first. */
export function addScalar(a: BigUint64Array, k: bigint, out?: BigUint64Array): BigUint64Array {
  assertU64(a, 'z64.addScalar: a');
  const kk = scalar('z64.addScalar', k);
  const o = outFor('z64.addScalar', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, a[i] + kk);
  return o;
}

/** out[i] = k · a[i] mod 2^64; `k` may be any bigint and is reduced first. */
export function mulScalar(a: BigUint64Array, k: bigint, out?: BigUint64Array): BigUint64Array {
  assertU64(a, 'z64.mulScalar: a');
  const kk = scalar('z64.mulScalar', k);
  const o = outFor('z64.mulScalar', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, a[i] * kk);
  return o;
}

/** out[i] = k − a[i] mod 2^64 (a public constant minus a share, for instance). */
export function scalarSub(k: bigint, a: BigUint64Array, out?: BigUint64Array): BigUint64Array {
  const kk = scalar('z64.scalarSub', k);
  assertU64(a, 'z64.scalarSub: a');
  const o = outFor('z64.scalarSub', a.length, out);
  const n = a.length;
  for (let i = 0; i < n; i++) o[i] = BigInt.asUintN(64, kk - a[i]);
  return o;
}

// Reductions keep their accumulators in a BigUint64Array rather than in `let s` variables:
// TurboFan boxes a BigInt that is carried around a loop (a heap allocation per iteration),
// whereas typed-array slots stay raw 64-bit words. Four independent accumulators also break
// the dependency chain. Measured: ~100 M/s with a `let`, ~300 M/s like this.

/** Σ a[i] mod 2^64. */
export function sum(a: BigUint64Array): bigint {
  assertU64(a, 'z64.sum: a');
  const acc = new BigUint64Array(4);
  const n = a.length;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    acc[0] = BigInt.asUintN(64, acc[0] + a[i]);
    acc[1] = BigInt.asUintN(64, acc[1] + a[i + 1]);
    acc[2] = BigInt.asUintN(64, acc[2] + a[i + 2]);
    acc[3] = BigInt.asUintN(64, acc[3] + a[i + 3]);
  }
  for (; i < n; i++) acc[0] = BigInt.asUintN(64, acc[0] + a[i]);
  return BigInt.asUintN(64, acc[0] + acc[1] + acc[2] + acc[3]);
}

/** Σ a[i] · b[i] mod 2^64. */
export function dot(a: BigUint64Array, b: BigUint64Array): bigint {
  assertU64(a, 'z64.dot: a');
  checkSame('z64.dot', a, b, 'b');
  const acc = new BigUint64Array(4);
  const n = a.length;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, a[i] * b[i]));
    acc[1] = BigInt.asUintN(64, acc[1] + BigInt.asUintN(64, a[i + 1] * b[i + 1]));
    acc[2] = BigInt.asUintN(64, acc[2] + BigInt.asUintN(64, a[i + 2] * b[i + 2]));
    acc[3] = BigInt.asUintN(64, acc[3] + BigInt.asUintN(64, a[i + 3] * b[i + 3]));
  }
  for (; i < n; i++) acc[0] = BigInt.asUintN(64, acc[0] + BigInt.asUintN(64, a[i] * b[i]));
  return BigInt.asUintN(64, acc[0] + acc[1] + acc[2] + acc[3]);
}

/**
 * Beaver recombination [Beaver91; DPSZ12 §2]: given a party's shares a, b, c of a triple
 * (c = a·b) and the opened d = x − a, e = y − b, returns that party's share of x·y:
 *
 *   z[i] = c[i] + d[i]·b[i] + e[i]·a[i]  (+ d[i]·e[i] when `addDE`)
 *
 * because x·y = (d + a)(e + b) = c + d·b + e·a + d·e. The public term d·e must be added by
 * exactly one party, so the caller sets `addDE` on one party only (party 0, by convention).
 * `out` may alias `c`.
 */
export function beaverCombine(
  c: BigUint64Array,
  a: BigUint64Array,
  b: BigUint64Array,
  d: BigUint64Array,
  e: BigUint64Array,
  addDE: boolean,
  out?: BigUint64Array,
): BigUint64Array {
  const fn = 'z64.beaverCombine';
  assertU64(c, `${fn}: c`);
  checkSame(fn, c, a, 'a');
  checkSame(fn, c, b, 'b');
  checkSame(fn, c, d, 'd');
  checkSame(fn, c, e, 'e');
  if (typeof addDE !== 'boolean') throw new TypeError(`${fn}: addDE: expected a boolean, got ${typeof addDE}`);
  const o = outFor(fn, c.length, out);
  const n = c.length;
  // Two loops rather than a branch inside one, so each stays a straight-line native loop.
  if (addDE) {
    for (let i = 0; i < n; i++) {
      const di = d[i];
      const ei = e[i];
      // d·b + e·a + d·e = d·(b + e) + e·a: one multiplication fewer.
      const t = BigInt.asUintN(64, c[i] + BigInt.asUintN(64, di * BigInt.asUintN(64, b[i] + ei)));
      o[i] = BigInt.asUintN(64, t + BigInt.asUintN(64, ei * a[i]));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const t = BigInt.asUintN(64, c[i] + BigInt.asUintN(64, d[i] * b[i]));
      o[i] = BigInt.asUintN(64, t + BigInt.asUintN(64, e[i] * a[i]));
    }
  }
  return o;
}

/** A vector of `n` copies of `k mod 2^64`. */
export function fill(n: number, k: bigint): BigUint64Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`z64.fill: n: expected a non-negative integer, got ${String(n)}`);
  }
  return new BigUint64Array(n).fill(scalar('z64.fill', k));
}

/** Packs bigints into a vector, reducing each mod 2^64 (so −1n becomes 2^64 − 1). */
export function fromBigints(xs: readonly bigint[]): BigUint64Array {
  if (!Array.isArray(xs)) throw new TypeError(`z64.fromBigints: xs: expected an array of bigints, got ${describeKind(xs)}`);
  const n = xs.length;
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (typeof x !== 'bigint') throw new TypeError(`z64.fromBigints: xs[${i}]: expected a bigint, got ${typeof x}`);
    o[i] = BigInt.asUintN(64, x);
  }
  return o;
}

/** Each element reduced below 2^bits (its low `bits` bits), in place. */
export function maskBits(v: BigUint64Array, bits: number): BigUint64Array {
  if (bits < 64) {
    const mask = (1n << BigInt(bits)) - 1n;
    for (let i = 0; i < v.length; i++) v[i] &= mask;
  }
  return v;
}
