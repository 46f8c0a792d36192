/**
 * Signed 64-bit integers ↔ Z_2^64 (two's complement), JSON output, and byte views.
 *
 * Users give integers as JS numbers or decimal strings (ARCHITECTURE.md §6): a number is
 * only trusted while it is a safe integer, because `2**60 + 1` has already been rounded by
 * the time we see it — silently encoding a rounded value would compute on the wrong input.
 * Outputs go back the same way: a JS number while |v| ≤ 2^53, a decimal string beyond.
 *
 * The wire format is little-endian. The byte views below reinterpret typed-array memory,
 * which is only correct on a little-endian host, so loading this module on a big-endian
 * host throws rather than exchanging byte-swapped shares.
 * @module
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('tessera: big-endian hosts are not supported (the wire format is little-endian)');
}

const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;
const MAX_JSON = 1n << 53n;
const DECIMAL = /^-?[0-9]+$/;

const EXPECTED = 'expected a signed 64-bit integer (number or decimal string)';

/** A short, unambiguous rendering of an arbitrary value for an error message. */
function describe(value: unknown): string {
  switch (typeof value) {
    case 'string': {
      const s = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      return `${JSON.stringify(s)} (string)`;
    }
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return `${value} (boolean)`;
    case 'undefined':
    case 'symbol':
    case 'function':
      return typeof value;
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  }
}

function checkRange(v: bigint, name: string, shown: string): bigint {
  if (v < MIN_I64 || v > MAX_I64) {
    throw new RangeError(`${name}: expected a signed 64-bit integer in [-2^63, 2^63-1], got ${shown}`);
  }
  return BigInt.asUintN(64, v);
}

/**
 * Encodes one signed 64-bit integer as its two's-complement ring element in [0, 2^64).
 * Accepts a safe-integer number, a bigint, or a decimal string (optional leading '-',
 * ASCII digits only, no whitespace or '+').
 *
 * `name` says which value this is, as the user knows it (e.g. `input p1.x[3]`); every
 * error message starts with it.
 * @throws TypeError for a value that is not an integer at all (1.5, NaN, "abc", true, null, …).
 * @throws RangeError for an integer outside [−2^63, 2^63 − 1], or a number beyond ±(2^53 − 1).
 * @example encodeInt(-1, 'x') === 2n ** 64n - 1n
 */
export function encodeInt(value: unknown, name: string): bigint {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return BigInt.asUintN(64, BigInt(value));
    if (!Number.isInteger(value)) throw new TypeError(`${name}: ${EXPECTED}, got ${describe(value)}`);
    if (value < -(2 ** 63) || value >= 2 ** 63) {
      throw new RangeError(`${name}: expected a signed 64-bit integer in [-2^63, 2^63-1], got ${describe(value)}`);
    }
    // The number may already have been rounded when the user's JSON or code was parsed.
    throw new RangeError(
      `${name}: ${EXPECTED}, got the number ${describe(value)}, which is beyond ±(2^53 - 1) where JS numbers ` +
        `lose precision; pass the exact value as a decimal string (e.g. "${BigInt(value)}") instead`,
    );
  }
  if (typeof value === 'bigint') return checkRange(value, name, describe(value));
  if (typeof value === 'string') {
    if (!DECIMAL.test(value)) throw new TypeError(`${name}: ${EXPECTED}, got ${describe(value)}`);
    // Anything with more than 19 significant digits is out of range; deciding that before
    // BigInt() keeps a megabyte-long digit string from costing a quadratic-time parse.
    if (value.replace(/^-?0*/, '').length > 19) {
      throw new RangeError(`${name}: expected a signed 64-bit integer in [-2^63, 2^63-1], got ${describe(value)}`);
    }
    return checkRange(BigInt(value), name, describe(value));
  }
  throw new TypeError(`${name}: ${EXPECTED}, got ${describe(value)}`);
}

/**
 * Encodes an array of signed 64-bit integers (each as `encodeInt` accepts); elements are
 * named `name[i]` in errors.
 */
export function encodeIntVector(values: unknown, name: string): BigUint64Array {
  if (!Array.isArray(values)) {
    throw new TypeError(`${name}: expected an array of signed 64-bit integers (numbers or decimal strings), got ${describe(values)}`);
  }
  const n = values.length;
  const out = new BigUint64Array(n);
  // Safe-integer numbers (the common case) are written as two 32-bit words, with no BigInt
  // allocated: ToUint32 (`>>> 0`) is exact reduction mod 2^32 for any integral double, and
  // floor(v / 2^32) is exact for |v| < 2^53, so (lo, hi) is v's two's complement, stored
  // little-endian (checked at module load). That is ~10× faster than BigInt(v) per element.
  // Everything else, and every error, goes through encodeInt.
  const words = new Uint32Array(out.buffer, out.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const v: unknown = values[i];
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      words[2 * i] = v >>> 0;
      words[2 * i + 1] = Math.floor(v / 4294967296) >>> 0;
    } else {
      out[i] = encodeInt(v, `${name}[${i}]`);
    }
  }
  return out;
}

/** The signed value in [−2^63, 2^63) of a ring element (any bigint is first reduced mod 2^64). */
export function decodeInt(u: bigint, ring = 64): bigint {
  if (typeof u !== 'bigint') throw new TypeError(`decodeInt: u: expected a bigint, got ${describe(u)}`);
  return BigInt.asIntN(ring, u);
}

/**
 * The signed value of a ring element for JSON: a number when |v| ≤ 2^53, else a decimal string
 * (ARCHITECTURE.md §6). Every number emitted is exact. Note that ±2^53 itself is emitted as a
 * number but `encodeInt` refuses it as one, since on input it may be a rounded 2^53 + 1.
 */
export function toJsonInt(u: bigint, ring = 64): number | string {
  const v = decodeInt(u, ring);
  return v >= -MAX_JSON && v <= MAX_JSON ? Number(v) : v.toString();
}

/** `toJsonInt` over a vector. */
export function toJsonIntVector(v: BigUint64Array): Array<number | string> {
  if (!(v instanceof BigUint64Array)) throw new TypeError(`toJsonIntVector: v: expected BigUint64Array, got ${describe(v)}`);
  const n = v.length;
  const out = new Array<number | string>(n);
  for (let i = 0; i < n; i++) out[i] = toJsonInt(v[i]);
  return out;
}

/** The bytes of `v` (little-endian), as a view over the same memory: no copy. */
export function u64ToBytes(v: BigUint64Array): Uint8Array {
  if (!(v instanceof BigUint64Array)) throw new TypeError(`u64ToBytes: v: expected BigUint64Array, got ${describe(v)}`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Little-endian bytes → 64-bit words. Zero-copy (a view over `b`'s memory) when `b` starts
 * at an 8-byte-aligned offset; otherwise copies, as a `BigUint64Array` cannot be unaligned.
 * Node's pooled Buffers are frequently unaligned, so callers must not rely on either.
 * @throws RangeError when the length is not a multiple of 8.
 */
export function bytesToU64(b: Uint8Array): BigUint64Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`bytesToU64: b: expected Uint8Array, got ${describe(b)}`);
  if (b.byteLength % 8 !== 0) {
    throw new RangeError(`bytesToU64: b: expected a length that is a multiple of 8, got ${b.byteLength}`);
  }
  if (b.byteOffset % 8 === 0) return new BigUint64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  const out = new BigUint64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

const DECIMAL_REAL = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * Encodes a real number as a fixed-point ring element: round(value · 2^frac) in two's
 * complement (ties away from zero). Accepts a finite number, a bigint, or a decimal string
 * ("-12.375"; the string is rounded exactly, without going through a double).
 * @throws TypeError for anything that is not a finite number; RangeError when
 * |value · 2^frac| ≥ 2^62.
 * @example encodeFixed(1.5, 16, 'x') === 98304n
 */
export function encodeFixed(value: unknown, frac: number, name: string, ring = 64): bigint {
  const limit = ring === 64 ? FIXED_LIMIT : 1n << BigInt(ring - 2);
  let scaled: bigint;
  if (typeof value === 'bigint') {
    scaled = value << BigInt(frac);
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${name}: expected a finite number, got ${describe(value)}`);
    // value·2^frac is exact in a double; only the rounding to an integer loses anything.
    const x = value * 2 ** frac;
    if (Math.abs(x) >= Number(limit)) throw new RangeError(`${name}: ${value} is outside the fixed-point range ±2^${ring - 2 - frac} (exclusive)`);
    scaled = BigInt(Math.sign(x) * Math.round(Math.abs(x)));
  } else if (typeof value === 'string' && DECIMAL_REAL.test(value)) {
    const m = DECIMAL_REAL.exec(value)!;
    const digits = m[2] ?? '';
    const num = BigInt(m[1] + digits) << BigInt(frac);
    const den = 10n ** BigInt(digits.length);
    scaled = (num + den / 2n) / den;
    if (value.startsWith('-')) scaled = -scaled;
  } else {
    throw new TypeError(`${name}: expected a number or a decimal string, got ${describe(value)}`);
  }
  if (scaled >= limit || scaled <= -limit) {
    throw new RangeError(`${name}: ${String(value)} is outside the fixed-point range ±2^${ring - 2 - frac} (exclusive)`);
  }
  return BigInt.asUintN(ring, scaled);
}

/**
 * Fixed-point values stay below 2^62 in ring units (2^46 with 16 fractional bits), so that
 * the difference of any two fits in 64 signed bits (comparisons are exact) and truncation's
 * precondition holds for every value.
 */
const FIXED_LIMIT = 1n << 62n;

/** The real value of a fixed-point ring element, as a double (exact while |u| < 2^53). */
export function decodeFixed(u: bigint, frac: number, ring = 64): number {
  const v = BigInt.asIntN(ring, u);
  // Integer and fractional parts apart, so a value beyond 2^53 ring units keeps its fraction's digits.
  const int = v >> BigInt(frac);
  return Number(int) + Number(v - (int << BigInt(frac))) / 2 ** frac;
}

/** The exact decimal expansion of a fixed-point ring element (2^-frac has a finite one). */
export function fixedToDecimal(u: bigint, frac: number, ring = 64): string {
  const v = BigInt.asIntN(ring, u);
  const neg = v < 0n;
  const scaled = (neg ? -v : v) * 5n ** BigInt(frac);
  const s = scaled.toString().padStart(frac + 1, '0');
  const int = s.slice(0, s.length - frac);
  const fr = s.slice(s.length - frac).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${fr ? `.${fr}` : ''}`;
}

/**
 * Checks that a value is a number an input may hold before its type is known: an integer
 * as `encodeInt` accepts it, or a finite real (number or decimal string) for fixed point.
 */
export function checkNumber(value: unknown, name: string): void {
  try {
    encodeInt(value, name);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    encodeFixed(value, 0, name);
  }
}
