/**
 * Vector kernels over the ring Z_2^192, where SPDZ2k with k = 128, s = 64 keeps its shares
 * and MACs [CDESX18 §3]. A vector is three 64-bit limb arrays (struct of arrays):
 * element i is `l2[i]·2^128 + l1[i]·2^64 + l0[i]`.
 *
 * Written under the same rules as z128.ts, which explains them (ARCHITECTURE.md §5): limb-wise
 * arithmetic with 64-bit intermediates only, every one wrapped in `BigInt.asUintN(64, …)`;
 * the high half of a 64×64 product from four 32×32 partial products; carries and borrows by
 * bit operations, never `<`; `~x` written `x ^ (2^64 − 1)`; the 64-bit building blocks spelt
 * out by hand (no helper calls), constants as literals, no BigInt Phi inside a loop, running
 * sums in typed-array slots. See the note above the kernels for what is specific to three limbs.
 *
 * Vector operations take an optional `out` (which may alias an input: each element is read in
 * full before it is written) and return it; without `out` they allocate. Argument checks
 * happen once per call, never per element.
 * @module
 */

import { assertU64 } from './z64.ts';
import { assertZ128, type Z128Vec } from './z128.ts';
import { bytesToU64, u64ToBytes } from './encoding.ts';
import { describeKind } from '../util/describe.ts';

/**
 * A vector over Z_2^192: element i is `l2[i]·2^128 + l1[i]·2^64 + l0[i]`; the three limb
 * arrays have equal length.
 */
export interface Z192Vec {
  l0: BigUint64Array;
  l1: BigUint64Array;
  l2: BigUint64Array;
}

/** 2^192 − 1. */
export const MASK192 = (1n << 192n) - 1n;

// Three limbs, on top of z128.ts's rules:
// - Carry chains. The majority formula of z128.ts, carry = bit 63 of (x & y) | ((x | y) & ~s),
//   is the carry out of the full addition s = x + y + cin mod 2^64 for a carry-in cin ∈ {0, 1}
//   as well (bit 63 is a full adder: when x₆₃ = y₆₃ the carry is x₆₃, otherwise it is the
//   carry into bit 63, which is ¬s₆₃). So a 192-bit addition is
//     s0 = x0 + y0, c0 = maj(x0, y0, s0);  s1 = x1 + y1 + c0, c1 = maj(x1, y1, s1);  s2 = x2 + y2 + c1
//   with one carry computation per limb boundary, and likewise the borrow of z128.sub,
//   bit 63 of (¬x & y) | ((¬x | y) & s), for s = x − y − bin.
// - Products mod 2^192. With x = x2·2^128 + x1·2^64 + x0 and y likewise,
//     x·y ≡ x0y0 + 2^64·(x0y1 + x1y0) + 2^128·(x0y2 + x1y1 + x2y0)   (mod 2^192),
//   so limb 0 is lo(x0y0), limb 1 is hi(x0y0) + lo(x0y1) + lo(x1y0) (two carries out), and
//   limb 2 is hi(x0y1) + hi(x1y0) + lo(x0y2 + x1y1 + x2y0) + those carries: three high
//   products (z128.mul needs one), whose 32-bit halves of x0 and y0 are shared.
// - Measured at 10^6 elements (Node 20.20, one core, loaded machine): add/sub ~1.7×, mul and
//   mulScalar ~2.7×, beaverCombine ~3.1× the time of their z128 counterparts, about the
//   ratio of 32×32 partial products (24 against 8 in beaverCombine). No deopts, no BigInt
//   allocation in the loops. Reordering beaverCombine (e·a first, or two passes over
//   1024-element chunks) did not help: the fused loop is register-bound. A scalar-i64
//   WebAssembly mul ran ~2× faster on operands already in its memory, but copying 9 limb
//   arrays in and out (chunked) left it within 0–30% of this one, so there is none here.

/** Throws unless `v` is a well-formed Z192Vec (TypeError, or RangeError for unequal limbs). `what` names the argument. */
export function assertZ192(v: unknown, what: string): asserts v is Z192Vec {
  if (typeof v !== 'object' || v === null) {
    throw new TypeError(`${what}: expected a Z192Vec { l0, l1, l2 }, got ${describeKind(v)}`);
  }
  const { l0, l1, l2 } = v as Partial<Z192Vec>;
  assertU64(l0, `${what}.l0`);
  assertU64(l1, `${what}.l1`);
  assertU64(l2, `${what}.l2`);
  if (l0.length !== l1.length || l0.length !== l2.length) {
    throw new RangeError(`${what}: expected l0, l1 and l2 of equal length, got ${l0.length}, ${l1.length} and ${l2.length}`);
  }
}

function checkSame(fn: string, n: number, v: unknown, name: string): asserts v is Z192Vec {
  assertZ192(v, `${fn}: ${name}`);
  if (v.l0.length !== n) {
    throw new RangeError(`${fn}: ${name}: expected length ${n} (same as the first vector), got ${v.l0.length}`);
  }
}

function checkSame128(fn: string, n: number, v: unknown, name: string): asserts v is Z128Vec {
  assertZ128(v, `${fn}: ${name}`);
  if (v.lo.length !== n) {
    throw new RangeError(`${fn}: ${name}: expected length ${n} (same as the first vector), got ${v.lo.length}`);
  }
}

function outFor(fn: string, n: number, out: Z192Vec | undefined): Z192Vec {
  if (out === undefined) return alloc(n);
  assertZ192(out, `${fn}: out`);
  if (out.l0.length !== n) throw new RangeError(`${fn}: out: expected length ${n}, got ${out.l0.length}`);
  return out;
}

function scalar(fn: string, k: unknown): bigint {
  if (typeof k !== 'bigint') throw new TypeError(`${fn}: k: expected a bigint, got ${typeof k}`);
  return BigInt.asUintN(192, k);
}

/** A zero vector of length `n`. */
export function alloc(n: number): Z192Vec {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`z192.alloc: n: expected a non-negative integer, got ${String(n)}`);
  }
  return { l0: new BigUint64Array(n), l1: new BigUint64Array(n), l2: new BigUint64Array(n) };
}

/** Number of elements of `v`. */
export function length(v: Z192Vec): number {
  assertZ192(v, 'z192.length: v');
  return v.l0.length;
}

/** out[i] = a[i] + b[i] mod 2^192. */
export function add(a: Z192Vec, b: Z192Vec, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.add: a');
  const n = a.l0.length;
  checkSame('z192.add', n, b, 'b');
  const o = outFor('z192.add', n, out);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, b0 = b.l0, b1 = b.l1, b2 = b.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const y0 = b0[i];
    const s0 = BigInt.asUintN(64, x0 + y0);
    const c0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 & y0) | BigInt.asUintN(64, BigInt.asUintN(64, x0 | y0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
    const x1 = a1[i];
    const y1 = b1[i];
    const s1 = BigInt.asUintN(64, BigInt.asUintN(64, x1 + y1) + c0);
    const c1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 & y1) | BigInt.asUintN(64, BigInt.asUintN(64, x1 | y1) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a2[i]) + BigInt.asUintN(64, b2[i])) + c1);
    o0[i] = s0;
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/** out[i] = a[i] − b[i] mod 2^192. */
export function sub(a: Z192Vec, b: Z192Vec, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.sub: a');
  const n = a.l0.length;
  checkSame('z192.sub', n, b, 'b');
  const o = outFor('z192.sub', n, out);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, b0 = b.l0, b1 = b.l1, b2 = b.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const y0 = b0[i];
    const s0 = BigInt.asUintN(64, x0 - y0);
    const nx0 = BigInt.asUintN(64, x0 ^ 0xffffffffffffffffn);
    const r0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, nx0 & y0) | BigInt.asUintN(64, BigInt.asUintN(64, nx0 | y0) & s0)) >> 63n);
    const x1 = a1[i];
    const y1 = b1[i];
    const s1 = BigInt.asUintN(64, BigInt.asUintN(64, x1 - y1) - r0);
    const nx1 = BigInt.asUintN(64, x1 ^ 0xffffffffffffffffn);
    const r1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, nx1 & y1) | BigInt.asUintN(64, BigInt.asUintN(64, nx1 | y1) & s1)) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, a2[i] - b2[i]) - r1);
    o0[i] = s0;
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/** out[i] = −a[i] mod 2^192. */
export function neg(a: Z192Vec, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.neg: a');
  const n = a.l0.length;
  const o = outFor('z192.neg', n, out);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const s0 = BigInt.asUintN(64, -x0);
    // 0 − x0 borrows exactly when x0 ≠ 0, i.e. when x0 or −x0 has bit 63 set (z128.neg);
    // 0 − x1 − r0 borrows when x1 ≠ 0 or r0 = 1, i.e. when x1 or s1 has bit 63 set (for
    // x1 = 0, r0 = 1, s1 is all ones; for x1 ≠ 0 and r0 = 1, s1 = ~x1).
    const r0 = BigInt.asUintN(64, BigInt.asUintN(64, x0 | s0) >> 63n);
    const x1 = a1[i];
    const s1 = BigInt.asUintN(64, BigInt.asUintN(64, -x1) - r0);
    const r1 = BigInt.asUintN(64, BigInt.asUintN(64, x1 | s1) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, -a2[i]) - r1);
    o0[i] = s0;
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/** out[i] = a[i] · b[i] mod 2^192 (elementwise; see the note above the kernels for the limbs). */
export function mul(a: Z192Vec, b: Z192Vec, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.mul: a');
  const n = a.l0.length;
  checkSame('z192.mul', n, b, 'b');
  const o = outFor('z192.mul', n, out);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, b0 = b.l0, b1 = b.l1, b2 = b.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const x1 = a1[i];
    const y0 = b0[i];
    const y1 = b1[i];
    const x0L = BigInt.asUintN(64, x0 & 0xffffffffn);
    const x0H = BigInt.asUintN(64, x0 >> 32n);
    const x1L = BigInt.asUintN(64, x1 & 0xffffffffn);
    const x1H = BigInt.asUintN(64, x1 >> 32n);
    const y0L = BigInt.asUintN(64, y0 & 0xffffffffn);
    const y0H = BigInt.asUintN(64, y0 >> 32n);
    const y1L = BigInt.asUintN(64, y1 & 0xffffffffn);
    const y1H = BigInt.asUintN(64, y1 >> 32n);
    const h00a = BigInt.asUintN(64, x0L * y0H);
    const h00b = BigInt.asUintN(64, x0H * y0L);
    const h00m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0L * y0L) >> 32n) + BigInt.asUintN(64, h00a & 0xffffffffn)) +
        BigInt.asUintN(64, h00b & 0xffffffffn),
    );
    const h00 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0H * y0H) + BigInt.asUintN(64, h00a >> 32n)) + BigInt.asUintN(64, h00b >> 32n)) +
        BigInt.asUintN(64, h00m >> 32n),
    );
    const h01a = BigInt.asUintN(64, x0L * y1H);
    const h01b = BigInt.asUintN(64, x0H * y1L);
    const h01m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0L * y1L) >> 32n) + BigInt.asUintN(64, h01a & 0xffffffffn)) +
        BigInt.asUintN(64, h01b & 0xffffffffn),
    );
    const h01 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0H * y1H) + BigInt.asUintN(64, h01a >> 32n)) + BigInt.asUintN(64, h01b >> 32n)) +
        BigInt.asUintN(64, h01m >> 32n),
    );
    const h10a = BigInt.asUintN(64, x1L * y0H);
    const h10b = BigInt.asUintN(64, x1H * y0L);
    const h10m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1L * y0L) >> 32n) + BigInt.asUintN(64, h10a & 0xffffffffn)) +
        BigInt.asUintN(64, h10b & 0xffffffffn),
    );
    const h10 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1H * y0H) + BigInt.asUintN(64, h10a >> 32n)) + BigInt.asUintN(64, h10b >> 32n)) +
        BigInt.asUintN(64, h10m >> 32n),
    );
    const l01 = BigInt.asUintN(64, x0 * y1);
    const l10 = BigInt.asUintN(64, x1 * y0);
    const t = BigInt.asUintN(64, h00 + l01);
    const ct = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, h00 & l01) | BigInt.asUintN(64, BigInt.asUintN(64, h00 | l01) & BigInt.asUintN(64, t ^ 0xffffffffffffffffn))) >> 63n);
    const s1 = BigInt.asUintN(64, t + l10);
    const cs = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, t & l10) | BigInt.asUintN(64, BigInt.asUintN(64, t | l10) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, h01 + h10) + BigInt.asUintN(64, x0 * b2[i])) + BigInt.asUintN(64, x1 * y1)) + BigInt.asUintN(64, a2[i] * y0)) + ct) + cs);
    o0[i] = BigInt.asUintN(64, x0 * y0);
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/**
 * out[i] = a[i] · b[i] mod 2^192 for b over Z_2^128 (z192.mul against a lifted b, without
 * lifting it): the product of a share mod 2^192 with a public value mod 2^k, k = 128.
 */
export function mul128(a: Z192Vec, b: Z128Vec, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.mul128: a');
  const n = a.l0.length;
  checkSame128('z192.mul128', n, b, 'b');
  const o = outFor('z192.mul128', n, out);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, b0 = b.lo, b1 = b.hi, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const x1 = a1[i];
    const y0 = b0[i];
    const y1 = b1[i];
    const x0L = BigInt.asUintN(64, x0 & 0xffffffffn);
    const x0H = BigInt.asUintN(64, x0 >> 32n);
    const x1L = BigInt.asUintN(64, x1 & 0xffffffffn);
    const x1H = BigInt.asUintN(64, x1 >> 32n);
    const y0L = BigInt.asUintN(64, y0 & 0xffffffffn);
    const y0H = BigInt.asUintN(64, y0 >> 32n);
    const y1L = BigInt.asUintN(64, y1 & 0xffffffffn);
    const y1H = BigInt.asUintN(64, y1 >> 32n);
    const h00a = BigInt.asUintN(64, x0L * y0H);
    const h00b = BigInt.asUintN(64, x0H * y0L);
    const h00m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0L * y0L) >> 32n) + BigInt.asUintN(64, h00a & 0xffffffffn)) +
        BigInt.asUintN(64, h00b & 0xffffffffn),
    );
    const h00 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0H * y0H) + BigInt.asUintN(64, h00a >> 32n)) + BigInt.asUintN(64, h00b >> 32n)) +
        BigInt.asUintN(64, h00m >> 32n),
    );
    const h01a = BigInt.asUintN(64, x0L * y1H);
    const h01b = BigInt.asUintN(64, x0H * y1L);
    const h01m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0L * y1L) >> 32n) + BigInt.asUintN(64, h01a & 0xffffffffn)) +
        BigInt.asUintN(64, h01b & 0xffffffffn),
    );
    const h01 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0H * y1H) + BigInt.asUintN(64, h01a >> 32n)) + BigInt.asUintN(64, h01b >> 32n)) +
        BigInt.asUintN(64, h01m >> 32n),
    );
    const h10a = BigInt.asUintN(64, x1L * y0H);
    const h10b = BigInt.asUintN(64, x1H * y0L);
    const h10m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1L * y0L) >> 32n) + BigInt.asUintN(64, h10a & 0xffffffffn)) +
        BigInt.asUintN(64, h10b & 0xffffffffn),
    );
    const h10 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1H * y0H) + BigInt.asUintN(64, h10a >> 32n)) + BigInt.asUintN(64, h10b >> 32n)) +
        BigInt.asUintN(64, h10m >> 32n),
    );
    const l01 = BigInt.asUintN(64, x0 * y1);
    const l10 = BigInt.asUintN(64, x1 * y0);
    const t = BigInt.asUintN(64, h00 + l01);
    const ct = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, h00 & l01) | BigInt.asUintN(64, BigInt.asUintN(64, h00 | l01) & BigInt.asUintN(64, t ^ 0xffffffffffffffffn))) >> 63n);
    const s1 = BigInt.asUintN(64, t + l10);
    const cs = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, t & l10) | BigInt.asUintN(64, BigInt.asUintN(64, t | l10) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, h01 + h10) + BigInt.asUintN(64, x1 * y1)) + BigInt.asUintN(64, a2[i] * y0)) + ct) + cs);
    o0[i] = BigInt.asUintN(64, x0 * y0);
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/** out[i] = k · a[i] mod 2^192; `k` may be any bigint and is reduced first. */
export function mulScalar(a: Z192Vec, k: bigint, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.mulScalar: a');
  const kk = scalar('z192.mulScalar', k);
  const n = a.l0.length;
  const o = outFor('z192.mulScalar', n, out);
  const k0 = BigInt.asUintN(64, kk);
  const k1 = BigInt.asUintN(64, kk >> 64n);
  const k2 = BigInt.asUintN(64, kk >> 128n);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const x1 = a1[i];
    const y0 = BigInt.asUintN(64, k0);
    const y1 = BigInt.asUintN(64, k1);
    const x0L = BigInt.asUintN(64, x0 & 0xffffffffn);
    const x0H = BigInt.asUintN(64, x0 >> 32n);
    const x1L = BigInt.asUintN(64, x1 & 0xffffffffn);
    const x1H = BigInt.asUintN(64, x1 >> 32n);
    const y0L = BigInt.asUintN(64, y0 & 0xffffffffn);
    const y0H = BigInt.asUintN(64, y0 >> 32n);
    const y1L = BigInt.asUintN(64, y1 & 0xffffffffn);
    const y1H = BigInt.asUintN(64, y1 >> 32n);
    const h00a = BigInt.asUintN(64, x0L * y0H);
    const h00b = BigInt.asUintN(64, x0H * y0L);
    const h00m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0L * y0L) >> 32n) + BigInt.asUintN(64, h00a & 0xffffffffn)) +
        BigInt.asUintN(64, h00b & 0xffffffffn),
    );
    const h00 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0H * y0H) + BigInt.asUintN(64, h00a >> 32n)) + BigInt.asUintN(64, h00b >> 32n)) +
        BigInt.asUintN(64, h00m >> 32n),
    );
    const h01a = BigInt.asUintN(64, x0L * y1H);
    const h01b = BigInt.asUintN(64, x0H * y1L);
    const h01m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0L * y1L) >> 32n) + BigInt.asUintN(64, h01a & 0xffffffffn)) +
        BigInt.asUintN(64, h01b & 0xffffffffn),
    );
    const h01 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0H * y1H) + BigInt.asUintN(64, h01a >> 32n)) + BigInt.asUintN(64, h01b >> 32n)) +
        BigInt.asUintN(64, h01m >> 32n),
    );
    const h10a = BigInt.asUintN(64, x1L * y0H);
    const h10b = BigInt.asUintN(64, x1H * y0L);
    const h10m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1L * y0L) >> 32n) + BigInt.asUintN(64, h10a & 0xffffffffn)) +
        BigInt.asUintN(64, h10b & 0xffffffffn),
    );
    const h10 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1H * y0H) + BigInt.asUintN(64, h10a >> 32n)) + BigInt.asUintN(64, h10b >> 32n)) +
        BigInt.asUintN(64, h10m >> 32n),
    );
    const l01 = BigInt.asUintN(64, x0 * y1);
    const l10 = BigInt.asUintN(64, x1 * y0);
    const t = BigInt.asUintN(64, h00 + l01);
    const ct = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, h00 & l01) | BigInt.asUintN(64, BigInt.asUintN(64, h00 | l01) & BigInt.asUintN(64, t ^ 0xffffffffffffffffn))) >> 63n);
    const s1 = BigInt.asUintN(64, t + l10);
    const cs = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, t & l10) | BigInt.asUintN(64, BigInt.asUintN(64, t | l10) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, h01 + h10) + BigInt.asUintN(64, x0 * k2)) + BigInt.asUintN(64, x1 * y1)) + BigInt.asUintN(64, a2[i] * y0)) + ct) + cs);
    o0[i] = BigInt.asUintN(64, x0 * y0);
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/** out[i] = a[i] + k mod 2^192; `k` may be any bigint and is reduced first. */
export function addScalar(a: Z192Vec, k: bigint, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.addScalar: a');
  const kk = scalar('z192.addScalar', k);
  const n = a.l0.length;
  const o = outFor('z192.addScalar', n, out);
  const k0 = BigInt.asUintN(64, kk);
  const k1 = BigInt.asUintN(64, kk >> 64n);
  const k2 = BigInt.asUintN(64, kk >> 128n);
  const a0 = a.l0, a1 = a.l1, a2 = a.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  for (let i = 0; i < n; i++) {
    const x0 = a0[i];
    const s0 = BigInt.asUintN(64, x0 + k0);
    const c0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x0 & k0) | BigInt.asUintN(64, BigInt.asUintN(64, x0 | k0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
    const x1 = a1[i];
    const s1 = BigInt.asUintN(64, BigInt.asUintN(64, x1 + k1) + c0);
    const c1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, x1 & k1) | BigInt.asUintN(64, BigInt.asUintN(64, x1 | k1) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    const s2 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a2[i]) + k2) + c1);
    o0[i] = s0;
    o1[i] = s1;
    o2[i] = s2;
  }
  return o;
}

/**
 * Beaver recombination over Z_2^192, same contract as `z64.beaverCombine` and
 * `z128.beaverCombine`: z[i] = c[i] + d[i]·b[i] + e[i]·a[i] (+ d[i]·e[i] when `addDE`, for
 * exactly one party). `out` may alias any input.
 */
export function beaverCombine(
  c: Z192Vec,
  a: Z192Vec,
  b: Z192Vec,
  d: Z192Vec,
  e: Z192Vec,
  addDE: boolean,
  out?: Z192Vec,
): Z192Vec {
  const fn = 'z192.beaverCombine';
  assertZ192(c, `${fn}: c`);
  const n = c.l0.length;
  checkSame(fn, n, a, 'a');
  checkSame(fn, n, b, 'b');
  checkSame(fn, n, d, 'd');
  checkSame(fn, n, e, 'e');
  if (typeof addDE !== 'boolean') throw new TypeError(`${fn}: addDE: expected a boolean, got ${typeof addDE}`);
  const o = outFor(fn, n, out);
  const c0 = c.l0, c1 = c.l1, c2 = c.l2, a0 = a.l0, a1 = a.l1, a2 = a.l2, b0 = b.l0, b1 = b.l1, b2 = b.l2;
  const d0 = d.l0, d1 = d.l1, d2 = d.l2, e0 = e.l0, e1 = e.l1, e2 = e.l2, o0 = o.l0, o1 = o.l1, o2 = o.l2;
  // As in z128.beaverCombine: d·b + d·e is computed as d·(b + e), with e masked by a
  // loop-invariant all-ones/zero word rather than chosen by a branch (no Phi in the loop).
  const m = BigInt.asUintN(64, BigInt(addDE ? -1 : 0));
  for (let i = 0; i < n; i++) {
    const dA = d0[i], dB = d1[i];
    const eA = e0[i], eB = e1[i], eC = e2[i];
    // y = b + (e & m)
    const bA = b0[i], bB = b1[i];
    const meA = BigInt.asUintN(64, eA & m);
    const meB = BigInt.asUintN(64, eB & m);
    const yA = BigInt.asUintN(64, bA + meA);
    const kA = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, bA & meA) | BigInt.asUintN(64, BigInt.asUintN(64, bA | meA) & BigInt.asUintN(64, yA ^ 0xffffffffffffffffn))) >> 63n);
    const yB = BigInt.asUintN(64, BigInt.asUintN(64, bB + meB) + kA);
    const kB = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, bB & meB) | BigInt.asUintN(64, BigInt.asUintN(64, bB | meB) & BigInt.asUintN(64, yB ^ 0xffffffffffffffffn))) >> 63n);
    const yC = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, b2[i]) + BigInt.asUintN(64, eC & m)) + kB);
    // p = d·y
    const dAL = BigInt.asUintN(64, dA & 0xffffffffn);
    const dAH = BigInt.asUintN(64, dA >> 32n);
    const dBL = BigInt.asUintN(64, dB & 0xffffffffn);
    const dBH = BigInt.asUintN(64, dB >> 32n);
    const yAL = BigInt.asUintN(64, yA & 0xffffffffn);
    const yAH = BigInt.asUintN(64, yA >> 32n);
    const yBL = BigInt.asUintN(64, yB & 0xffffffffn);
    const yBH = BigInt.asUintN(64, yB >> 32n);
    const ph00a = BigInt.asUintN(64, dAL * yAH);
    const ph00b = BigInt.asUintN(64, dAH * yAL);
    const ph00m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dAL * yAL) >> 32n) + BigInt.asUintN(64, ph00a & 0xffffffffn)) +
        BigInt.asUintN(64, ph00b & 0xffffffffn),
    );
    const ph00 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dAH * yAH) + BigInt.asUintN(64, ph00a >> 32n)) + BigInt.asUintN(64, ph00b >> 32n)) +
        BigInt.asUintN(64, ph00m >> 32n),
    );
    const ph01a = BigInt.asUintN(64, dAL * yBH);
    const ph01b = BigInt.asUintN(64, dAH * yBL);
    const ph01m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dAL * yBL) >> 32n) + BigInt.asUintN(64, ph01a & 0xffffffffn)) +
        BigInt.asUintN(64, ph01b & 0xffffffffn),
    );
    const ph01 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dAH * yBH) + BigInt.asUintN(64, ph01a >> 32n)) + BigInt.asUintN(64, ph01b >> 32n)) +
        BigInt.asUintN(64, ph01m >> 32n),
    );
    const ph10a = BigInt.asUintN(64, dBL * yAH);
    const ph10b = BigInt.asUintN(64, dBH * yAL);
    const ph10m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dBL * yAL) >> 32n) + BigInt.asUintN(64, ph10a & 0xffffffffn)) +
        BigInt.asUintN(64, ph10b & 0xffffffffn),
    );
    const ph10 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, dBH * yAH) + BigInt.asUintN(64, ph10a >> 32n)) + BigInt.asUintN(64, ph10b >> 32n)) +
        BigInt.asUintN(64, ph10m >> 32n),
    );
    const pl01 = BigInt.asUintN(64, dA * yB);
    const pl10 = BigInt.asUintN(64, dB * yA);
    const pt = BigInt.asUintN(64, ph00 + pl01);
    const pct = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, ph00 & pl01) | BigInt.asUintN(64, BigInt.asUintN(64, ph00 | pl01) & BigInt.asUintN(64, pt ^ 0xffffffffffffffffn))) >> 63n);
    const pB = BigInt.asUintN(64, pt + pl10);
    const pcs = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, pt & pl10) | BigInt.asUintN(64, BigInt.asUintN(64, pt | pl10) & BigInt.asUintN(64, pB ^ 0xffffffffffffffffn))) >> 63n);
    const pC = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, ph01 + ph10) + BigInt.asUintN(64, dA * yC)) + BigInt.asUintN(64, dB * yB)) + BigInt.asUintN(64, d2[i] * yA)) + pct) + pcs);
    const pA = BigInt.asUintN(64, dA * yA);
    // q = e·a
    const aA = a0[i], aB = a1[i];
    const eAL = BigInt.asUintN(64, eA & 0xffffffffn);
    const eAH = BigInt.asUintN(64, eA >> 32n);
    const eBL = BigInt.asUintN(64, eB & 0xffffffffn);
    const eBH = BigInt.asUintN(64, eB >> 32n);
    const aAL = BigInt.asUintN(64, aA & 0xffffffffn);
    const aAH = BigInt.asUintN(64, aA >> 32n);
    const aBL = BigInt.asUintN(64, aB & 0xffffffffn);
    const aBH = BigInt.asUintN(64, aB >> 32n);
    const qh00a = BigInt.asUintN(64, eAL * aAH);
    const qh00b = BigInt.asUintN(64, eAH * aAL);
    const qh00m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, eAL * aAL) >> 32n) + BigInt.asUintN(64, qh00a & 0xffffffffn)) +
        BigInt.asUintN(64, qh00b & 0xffffffffn),
    );
    const qh00 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, eAH * aAH) + BigInt.asUintN(64, qh00a >> 32n)) + BigInt.asUintN(64, qh00b >> 32n)) +
        BigInt.asUintN(64, qh00m >> 32n),
    );
    const qh01a = BigInt.asUintN(64, eAL * aBH);
    const qh01b = BigInt.asUintN(64, eAH * aBL);
    const qh01m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, eAL * aBL) >> 32n) + BigInt.asUintN(64, qh01a & 0xffffffffn)) +
        BigInt.asUintN(64, qh01b & 0xffffffffn),
    );
    const qh01 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, eAH * aBH) + BigInt.asUintN(64, qh01a >> 32n)) + BigInt.asUintN(64, qh01b >> 32n)) +
        BigInt.asUintN(64, qh01m >> 32n),
    );
    const qh10a = BigInt.asUintN(64, eBL * aAH);
    const qh10b = BigInt.asUintN(64, eBH * aAL);
    const qh10m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, eBL * aAL) >> 32n) + BigInt.asUintN(64, qh10a & 0xffffffffn)) +
        BigInt.asUintN(64, qh10b & 0xffffffffn),
    );
    const qh10 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, eBH * aAH) + BigInt.asUintN(64, qh10a >> 32n)) + BigInt.asUintN(64, qh10b >> 32n)) +
        BigInt.asUintN(64, qh10m >> 32n),
    );
    const ql01 = BigInt.asUintN(64, eA * aB);
    const ql10 = BigInt.asUintN(64, eB * aA);
    const qt = BigInt.asUintN(64, qh00 + ql01);
    const qct = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, qh00 & ql01) | BigInt.asUintN(64, BigInt.asUintN(64, qh00 | ql01) & BigInt.asUintN(64, qt ^ 0xffffffffffffffffn))) >> 63n);
    const qB = BigInt.asUintN(64, qt + ql10);
    const qcs = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, qt & ql10) | BigInt.asUintN(64, BigInt.asUintN(64, qt | ql10) & BigInt.asUintN(64, qB ^ 0xffffffffffffffffn))) >> 63n);
    const qC = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, qh01 + qh10) + BigInt.asUintN(64, eA * a2[i])) + BigInt.asUintN(64, eB * aB)) + BigInt.asUintN(64, eC * aA)) + qct) + qcs);
    const qA = BigInt.asUintN(64, eA * aA);
    // z = c + p + q
    const cA = c0[i], cB = c1[i];
    const sA = BigInt.asUintN(64, cA + pA);
    const gA = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, cA & pA) | BigInt.asUintN(64, BigInt.asUintN(64, cA | pA) & BigInt.asUintN(64, sA ^ 0xffffffffffffffffn))) >> 63n);
    const sB = BigInt.asUintN(64, BigInt.asUintN(64, cB + pB) + gA);
    const gB = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, cB & pB) | BigInt.asUintN(64, BigInt.asUintN(64, cB | pB) & BigInt.asUintN(64, sB ^ 0xffffffffffffffffn))) >> 63n);
    const sC = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, c2[i]) + pC) + gB);
    const zA = BigInt.asUintN(64, sA + qA);
    const hA = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, sA & qA) | BigInt.asUintN(64, BigInt.asUintN(64, sA | qA) & BigInt.asUintN(64, zA ^ 0xffffffffffffffffn))) >> 63n);
    const zB = BigInt.asUintN(64, BigInt.asUintN(64, sB + qB) + hA);
    const hB = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, sB & qB) | BigInt.asUintN(64, BigInt.asUintN(64, sB | qB) & BigInt.asUintN(64, zB ^ 0xffffffffffffffffn))) >> 63n);
    const zC = BigInt.asUintN(64, BigInt.asUintN(64, sC + qC) + hB);
    o0[i] = zA;
    o1[i] = zB;
    o2[i] = zC;
  }
  return o;
}

/** Σ v[i] mod 2^192. */
export function sum(v: Z192Vec): bigint {
  assertZ192(v, 'z192.sum: v');
  const n = v.l0.length;
  const v0 = v.l0, v1 = v.l1, v2 = v.l2;
  // The running sum lives in typed-array slots, not `let` variables (see z64.sum): acc = [l0, l1, l2].
  const acc = new BigUint64Array(3);
  for (let i = 0; i < n; i++) {
    const x0 = v0[i];
    const t0 = acc[0];
    const s0 = BigInt.asUintN(64, t0 + x0);
    const c0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, t0 & x0) | BigInt.asUintN(64, BigInt.asUintN(64, t0 | x0) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
    const x1 = v1[i];
    const t1 = acc[1];
    const s1 = BigInt.asUintN(64, BigInt.asUintN(64, t1 + x1) + c0);
    const c1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, t1 & x1) | BigInt.asUintN(64, BigInt.asUintN(64, t1 | x1) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    acc[2] = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, acc[2]) + BigInt.asUintN(64, v2[i])) + c1);
    acc[1] = s1;
    acc[0] = s0;
  }
  return (acc[2] << 128n) | (acc[1] << 64n) | acc[0];
}

/**
 * acc[0..2] += Σ_i χ_i·v[from + i] and acc[3..5] += Σ_i χ_i·w[from + i] (mod 2^192, lowest
 * limb first), χ_i < 2^64: z192.mul and z192.sum fused, without temporaries — the random
 * linear combination of the SPDZ2k MAC and authentication checks, whose coefficients are
 * drawn from Z_2^s, s = 64 (z128.chiDot at k = 128). Per product:
 * χ·v = lo(χv0) + 2^64·(hi(χv0) + lo(χv1)) + 2^128·(hi(χv1) + lo(χv2)).
 */
export function chiDot(chi: BigUint64Array, v: Z192Vec, w: Z192Vec, from: number, acc: BigUint64Array): void {
  const fn = 'z192.chiDot';
  assertU64(chi, `${fn}: chi`);
  assertZ192(v, `${fn}: v`);
  assertZ192(w, `${fn}: w`);
  assertU64(acc, `${fn}: acc`);
  const n = chi.length;
  if (!Number.isSafeInteger(from) || from < 0) throw new RangeError(`${fn}: from: expected a non-negative integer, got ${String(from)}`);
  if (from + n > v.l0.length || from + n > w.l0.length) {
    throw new RangeError(`${fn}: v, w: expected at least ${from + n} elements, got ${v.l0.length} and ${w.l0.length}`);
  }
  if (acc.length < 6) throw new RangeError(`${fn}: acc: expected at least 6 words, got ${acc.length}`);
  const v0 = v.l0, v1 = v.l1, v2 = v.l2, w0 = w.l0, w1 = w.l1, w2 = w.l2;
  for (let i = 0; i < n; i++) {
    const x = chi[i];
    const xL = BigInt.asUintN(64, x & 0xffffffffn);
    const xH = BigInt.asUintN(64, x >> 32n);
    // χ·v
    const vA = v0[from + i], vB = v1[from + i];
    const vAL = BigInt.asUintN(64, vA & 0xffffffffn);
    const vAH = BigInt.asUintN(64, vA >> 32n);
    const vBL = BigInt.asUintN(64, vB & 0xffffffffn);
    const vBH = BigInt.asUintN(64, vB >> 32n);
    const vh0a = BigInt.asUintN(64, xL * vAH);
    const vh0b = BigInt.asUintN(64, xH * vAL);
    const vh0m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xL * vAL) >> 32n) + BigInt.asUintN(64, vh0a & 0xffffffffn)) +
        BigInt.asUintN(64, vh0b & 0xffffffffn),
    );
    const vh0 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xH * vAH) + BigInt.asUintN(64, vh0a >> 32n)) + BigInt.asUintN(64, vh0b >> 32n)) +
        BigInt.asUintN(64, vh0m >> 32n),
    );
    const vh1a = BigInt.asUintN(64, xL * vBH);
    const vh1b = BigInt.asUintN(64, xH * vBL);
    const vh1m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xL * vBL) >> 32n) + BigInt.asUintN(64, vh1a & 0xffffffffn)) +
        BigInt.asUintN(64, vh1b & 0xffffffffn),
    );
    const vh1 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xH * vBH) + BigInt.asUintN(64, vh1a >> 32n)) + BigInt.asUintN(64, vh1b >> 32n)) +
        BigInt.asUintN(64, vh1m >> 32n),
    );
    const pA = BigInt.asUintN(64, x * vA);
    const pl = BigInt.asUintN(64, x * vB);
    const pB = BigInt.asUintN(64, vh0 + pl);
    const pc = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, vh0 & pl) | BigInt.asUintN(64, BigInt.asUintN(64, vh0 | pl) & BigInt.asUintN(64, pB ^ 0xffffffffffffffffn))) >> 63n);
    const pC = BigInt.asUintN(64, BigInt.asUintN(64, vh1 + BigInt.asUintN(64, x * v2[from + i])) + pc);
    const a0 = acc[0];
    const s0 = BigInt.asUintN(64, a0 + pA);
    const c0 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a0 & pA) | BigInt.asUintN(64, BigInt.asUintN(64, a0 | pA) & BigInt.asUintN(64, s0 ^ 0xffffffffffffffffn))) >> 63n);
    const a1 = acc[1];
    const s1 = BigInt.asUintN(64, BigInt.asUintN(64, a1 + pB) + c0);
    const c1 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a1 & pB) | BigInt.asUintN(64, BigInt.asUintN(64, a1 | pB) & BigInt.asUintN(64, s1 ^ 0xffffffffffffffffn))) >> 63n);
    acc[2] = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, acc[2]) + pC) + c1);
    acc[1] = s1;
    acc[0] = s0;
    // χ·w, likewise.
    const wA = w0[from + i], wB = w1[from + i];
    const wAL = BigInt.asUintN(64, wA & 0xffffffffn);
    const wAH = BigInt.asUintN(64, wA >> 32n);
    const wBL = BigInt.asUintN(64, wB & 0xffffffffn);
    const wBH = BigInt.asUintN(64, wB >> 32n);
    const wh0a = BigInt.asUintN(64, xL * wAH);
    const wh0b = BigInt.asUintN(64, xH * wAL);
    const wh0m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xL * wAL) >> 32n) + BigInt.asUintN(64, wh0a & 0xffffffffn)) +
        BigInt.asUintN(64, wh0b & 0xffffffffn),
    );
    const wh0 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xH * wAH) + BigInt.asUintN(64, wh0a >> 32n)) + BigInt.asUintN(64, wh0b >> 32n)) +
        BigInt.asUintN(64, wh0m >> 32n),
    );
    const wh1a = BigInt.asUintN(64, xL * wBH);
    const wh1b = BigInt.asUintN(64, xH * wBL);
    const wh1m = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xL * wBL) >> 32n) + BigInt.asUintN(64, wh1a & 0xffffffffn)) +
        BigInt.asUintN(64, wh1b & 0xffffffffn),
    );
    const wh1 = BigInt.asUintN(
      64,
      BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, xH * wBH) + BigInt.asUintN(64, wh1a >> 32n)) + BigInt.asUintN(64, wh1b >> 32n)) +
        BigInt.asUintN(64, wh1m >> 32n),
    );
    const qA = BigInt.asUintN(64, x * wA);
    const ql = BigInt.asUintN(64, x * wB);
    const qB = BigInt.asUintN(64, wh0 + ql);
    const qc = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, wh0 & ql) | BigInt.asUintN(64, BigInt.asUintN(64, wh0 | ql) & BigInt.asUintN(64, qB ^ 0xffffffffffffffffn))) >> 63n);
    const qC = BigInt.asUintN(64, BigInt.asUintN(64, wh1 + BigInt.asUintN(64, x * w2[from + i])) + qc);
    const a3 = acc[3];
    const s3 = BigInt.asUintN(64, a3 + qA);
    const c3 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a3 & qA) | BigInt.asUintN(64, BigInt.asUintN(64, a3 | qA) & BigInt.asUintN(64, s3 ^ 0xffffffffffffffffn))) >> 63n);
    const a4 = acc[4];
    const s4 = BigInt.asUintN(64, BigInt.asUintN(64, a4 + qB) + c3);
    const c4 = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, a4 & qB) | BigInt.asUintN(64, BigInt.asUintN(64, a4 | qB) & BigInt.asUintN(64, s4 ^ 0xffffffffffffffffn))) >> 63n);
    acc[5] = BigInt.asUintN(64, BigInt.asUintN(64, BigInt.asUintN(64, acc[5]) + qC) + c4);
    acc[4] = s4;
    acc[3] = s3;
  }
}

/** x[i]·2^128 mod 2^192: the low limb moves to the top, the others are cleared. */
export function shift128(a: Z192Vec, out?: Z192Vec): Z192Vec {
  assertZ192(a, 'z192.shift128: a');
  const n = a.l0.length;
  const o = outFor('z192.shift128', n, out);
  // set() before fill(): with out === a, l0 is copied before it is cleared.
  o.l2.set(a.l0);
  o.l1.fill(0n);
  o.l0.fill(0n);
  return o;
}

/** Embeds Z_2^128 in Z_2^192 (zero extension, l2 = 0). Copies `a`, so later in-place ops do not touch it. */
export function lift(a: Z128Vec): Z192Vec {
  assertZ128(a, 'z192.lift: a');
  return { l0: a.lo.slice(), l1: a.hi.slice(), l2: new BigUint64Array(a.lo.length) };
}

/** Reduction mod 2^128: a copy of the two low limbs as a Z128Vec. */
export function low128(v: Z192Vec): Z128Vec {
  assertZ192(v, 'z192.low128: v');
  return { lo: v.l0.slice(), hi: v.l1.slice() };
}

/** Packs bigints into a vector, reducing each mod 2^192 (so −1n becomes 2^192 − 1). */
export function fromBigints(xs: readonly bigint[]): Z192Vec {
  if (!Array.isArray(xs)) throw new TypeError(`z192.fromBigints: xs: expected an array of bigints, got ${describeKind(xs)}`);
  const n = xs.length;
  const o = alloc(n);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (typeof x !== 'bigint') throw new TypeError(`z192.fromBigints: xs[${i}]: expected a bigint, got ${typeof x}`);
    o.l0[i] = BigInt.asUintN(64, x);
    o.l1[i] = BigInt.asUintN(64, x >> 64n);
    o.l2[i] = BigInt.asUintN(64, x >> 128n);
  }
  return o;
}

/** The elements as bigints in [0, 2^192). */
export function toBigints(v: Z192Vec): bigint[] {
  assertZ192(v, 'z192.toBigints: v');
  const n = v.l0.length;
  const xs = new Array<bigint>(n);
  for (let i = 0; i < n; i++) xs[i] = (v.l2[i] << 128n) | (v.l1[i] << 64n) | v.l0[i];
  return xs;
}

/** A view of 3·n words laid out as the wire form (the n l0 limbs, then the n l1, then the n l2) as n elements. */
export function wordsView(w: BigUint64Array, n: number = w.length / 3): Z192Vec {
  return { l0: w.subarray(0, n), l1: w.subarray(n, 2 * n), l2: w.subarray(2 * n, 3 * n) };
}

/**
 * Wire form (24·n bytes): the n l0 limbs, then the n l1 limbs, then the n l2 limbs, each
 * little-endian — z128's layout with a third limb array, so the first 16·n bytes are
 * `z128.toBytes(low128(v))`.
 */
export function toBytes(v: Z192Vec): Uint8Array {
  assertZ192(v, 'z192.toBytes: v');
  const n = v.l0.length;
  const out = new Uint8Array(24 * n);
  out.set(u64ToBytes(v.l0), 0);
  out.set(u64ToBytes(v.l1), 8 * n);
  out.set(u64ToBytes(v.l2), 16 * n);
  return out;
}

/** Inverse of `toBytes`. Copies, so the result never aliases a (reused) network buffer. */
export function fromBytes(b: Uint8Array): Z192Vec {
  if (!(b instanceof Uint8Array)) throw new TypeError(`z192.fromBytes: b: expected Uint8Array, got ${describeKind(b)}`);
  if (b.byteLength % 24 !== 0) {
    throw new RangeError(`z192.fromBytes: b: expected a length that is a multiple of 24, got ${b.byteLength}`);
  }
  const n = b.byteLength / 24;
  // slice() gives fresh, 8-aligned buffers, so bytesToU64 wraps them without a second copy.
  return { l0: bytesToU64(b.slice(0, 8 * n)), l1: bytesToU64(b.slice(8 * n, 16 * n)), l2: bytesToU64(b.slice(16 * n)) };
}
