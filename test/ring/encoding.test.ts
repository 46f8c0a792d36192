// Signed 64-bit integers ↔ Z_2^64: known answers at the ends of the range, every rejected
// kind of input with its error class and a message naming the input, the JSON boundary at
// ±2^53, and the byte views.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bytesToU64,
  decodeInt,
  encodeInt,
  encodeIntVector,
  toJsonInt,
  toJsonIntVector,
  u64ToBytes,
} from '../../src/ring/encoding.ts';

const R = 1n << 64n;
const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;
const P53 = 2 ** 53;

describe('encodeInt known answers', () => {
  it('two’s complement mod 2^64', () => {
    expect(encodeInt(0, 'x')).toBe(0n);
    expect(encodeInt(-0, 'x')).toBe(0n);
    expect(encodeInt(1, 'x')).toBe(1n);
    expect(encodeInt(-1, 'x')).toBe(R - 1n);
    expect(encodeInt(-1n, 'x')).toBe(R - 1n);
    expect(encodeInt('-1', 'x')).toBe(R - 1n);
    expect(encodeInt(MIN, 'x')).toBe(1n << 63n);
    expect(encodeInt(MAX, 'x')).toBe((1n << 63n) - 1n);
    expect(encodeInt('9223372036854775807', 'x')).toBe((1n << 63n) - 1n);
    expect(encodeInt('-9223372036854775808', 'x')).toBe(1n << 63n);
    expect(encodeInt(Number.MAX_SAFE_INTEGER, 'x')).toBe(2n ** 53n - 1n);
    expect(encodeInt(Number.MIN_SAFE_INTEGER, 'x')).toBe(R - (2n ** 53n - 1n));
    expect(encodeInt('0007', 'x')).toBe(7n);
    expect(encodeInt('-0', 'x')).toBe(0n);
    expect(encodeInt('-00000000000000000000000000009223372036854775808', 'x')).toBe(1n << 63n);
  });

  it('round-trips every signed 64-bit value through decodeInt', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MIN, max: MAX }), (v) => {
        expect(decodeInt(encodeInt(v, 'x'))).toBe(v);
        expect(decodeInt(encodeInt(v.toString(), 'x'))).toBe(v);
      }),
      { seed: 64, numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        expect(decodeInt(encodeInt(v, 'x'))).toBe(BigInt(v));
      }),
      { seed: 65, numRuns: 500 },
    );
  });

  it('decodeInt reads any bigint mod 2^64 as signed', () => {
    expect(decodeInt(R - 1n)).toBe(-1n);
    expect(decodeInt(1n << 63n)).toBe(MIN);
    expect(decodeInt((1n << 63n) - 1n)).toBe(MAX);
    expect(decodeInt(R + 5n)).toBe(5n);
  });
});

describe('encodeInt rejections', () => {
  const NAME = 'input p1.x[3]';
  const typeErrors: unknown[] = [1.5, NaN, Infinity, -Infinity, '1.5', 'abc', '', ' 1', '1 ', '+1', '1e3', '0x10', '--1', '-', true, false, null, undefined, {}, [1], Symbol('s'), () => 1];
  for (const v of typeErrors) {
    it(`TypeError for ${typeof v === 'symbol' ? 'a symbol' : JSON.stringify(v) ?? String(v)}`, () => {
      expect(() => encodeInt(v, NAME)).toThrow(TypeError);
      expect(() => encodeInt(v, NAME)).toThrow(/^input p1\.x\[3\]: expected a signed 64-bit integer \(number or decimal string\), got /);
    });
  }

  it('the documented message for 1.5', () => {
    expect(() => encodeInt(1.5, NAME)).toThrow('input p1.x[3]: expected a signed 64-bit integer (number or decimal string), got 1.5');
  });

  it('RangeError outside [−2^63, 2^63 − 1]', () => {
    for (const v of [MAX + 1n, MIN - 1n, R, '9223372036854775808', '-9223372036854775809', '1'.repeat(10_000)]) {
      expect(() => encodeInt(v, NAME)).toThrow(RangeError);
      expect(() => encodeInt(v, NAME)).toThrow(/^input p1\.x\[3\]: expected a signed 64-bit integer in \[-2\^63, 2\^63-1\], got /);
    }
  });

  it('RangeError for unsafe integer numbers, suggesting a decimal string', () => {
    for (const v of [2 ** 60, P53, -P53, -(2 ** 63)]) {
      expect(() => encodeInt(v, NAME)).toThrow(RangeError);
      expect(() => encodeInt(v, NAME)).toThrow(/^input p1\.x\[3\]: .*decimal string/);
    }
    expect(() => encodeInt(2 ** 60, NAME)).toThrow('"1152921504606846976"');
    // numbers outside the 64-bit range are simply out of range
    for (const v of [2 ** 63, 2 ** 64, -(2 ** 64), 1e300]) {
      expect(() => encodeInt(v, NAME)).toThrow(/^input p1\.x\[3\]: expected a signed 64-bit integer in \[-2\^63, 2\^63-1\], got /);
    }
  });
});

describe('encodeIntVector', () => {
  it('encodes mixed numbers, strings and bigints', () => {
    expect(Array.from(encodeIntVector([0, -1, '-9223372036854775808', 5n], 'v'))).toEqual([0n, R - 1n, 1n << 63n, 5n]);
    expect(encodeIntVector([], 'v').length).toBe(0);
  });
  it('its fast path for numbers agrees with encodeInt', () => {
    const edges = [0, -0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 32) + 1, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    expect(Array.from(encodeIntVector(edges, 'v'))).toEqual(edges.map((v) => encodeInt(v, 'v')));
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.constantFrom(...edges))), (xs) => {
        expect(Array.from(encodeIntVector(xs, 'v'))).toEqual(xs.map((v) => BigInt.asUintN(64, BigInt(v))));
      }),
      { seed: 32, numRuns: 300 },
    );
  });
  it('names the element in errors', () => {
    expect(() => encodeIntVector([1, 2, 3, 1.5], 'input p1.x')).toThrow(
      'input p1.x[3]: expected a signed 64-bit integer (number or decimal string), got 1.5',
    );
    expect(() => encodeIntVector([1, 2 ** 60], 'input p1.x')).toThrow(RangeError);
    expect(() => encodeIntVector([1, 2 ** 60], 'input p1.x')).toThrow(/^input p1\.x\[1\]: /);
    expect(() => encodeIntVector(['1', 'x'], 'input p1.x')).toThrow(/^input p1\.x\[1\]: .*got "x" \(string\)/);
  });
  it('requires an array', () => {
    for (const v of [5, '5', null, new BigInt64Array(2), { length: 1, 0: 1 }]) {
      expect(() => encodeIntVector(v, 'input p1.x')).toThrow(TypeError);
      expect(() => encodeIntVector(v, 'input p1.x')).toThrow(/^input p1\.x: expected an array/);
    }
  });
});

describe('JSON output', () => {
  it('numbers within ±2^53, decimal strings beyond', () => {
    expect(toJsonInt(2n ** 53n)).toBe(P53);
    expect(toJsonInt(R - 2n ** 53n)).toBe(-P53);
    expect(toJsonInt(2n ** 53n + 1n)).toBe('9007199254740993');
    expect(toJsonInt(R - 2n ** 53n - 1n)).toBe('-9007199254740993');
    expect(toJsonInt(R - 1n)).toBe(-1);
    expect(toJsonInt(0n)).toBe(0);
    expect(toJsonInt(1n << 63n)).toBe('-9223372036854775808');
    expect(toJsonInt((1n << 63n) - 1n)).toBe('9223372036854775807');
  });
  it('toJsonInt ∘ encodeInt is the identity on JSON-safe values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MIN, max: MAX }), (v) => {
        const j = toJsonInt(encodeInt(v, 'x'));
        if (v >= -(2n ** 53n) && v <= 2n ** 53n) expect(j).toBe(Number(v));
        else expect(j).toBe(v.toString());
        if (j !== P53 && j !== -P53) expect(decodeInt(encodeInt(j, 'x'))).toBe(v);
      }),
      { seed: 53, numRuns: 500 },
    );
  });
  it('±2^53 is output as an (exact) number but not accepted as one: it may be a rounded input', () => {
    expect(toJsonInt(2n ** 53n)).toBe(P53);
    expect(() => encodeInt(P53, 'x')).toThrow(RangeError);
    expect(encodeInt(String(P53), 'x')).toBe(2n ** 53n);
  });
  it('toJsonIntVector', () => {
    expect(toJsonIntVector(BigUint64Array.from([0n, R - 1n, 1n << 63n]))).toEqual([0, -1, '-9223372036854775808']);
    expect(() => toJsonIntVector([1n] as unknown as BigUint64Array)).toThrow(TypeError);
  });
  it('decodeInt rejects non-bigints', () => {
    expect(() => decodeInt(1 as unknown as bigint)).toThrow(TypeError);
  });
});

describe('byte views', () => {
  it('u64ToBytes is a little-endian view, not a copy', () => {
    const v = BigUint64Array.from([0x0807060504030201n, R - 1n]);
    const b = u64ToBytes(v);
    expect(Array.from(b.subarray(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(b.buffer).toBe(v.buffer);
    b[0] = 0xff;
    expect(v[0]).toBe(0x08070605040302ffn);
    // a view of a subarray covers only that subarray
    expect(u64ToBytes(v.subarray(1)).length).toBe(8);
  });
  it('bytesToU64 is zero-copy when aligned, copies otherwise', () => {
    const buf = new Uint8Array(25);
    buf.set([1, 0, 0, 0, 0, 0, 0, 0, 2], 0);
    const aligned = bytesToU64(buf.subarray(0, 16));
    expect(Array.from(aligned)).toEqual([1n, 2n]);
    expect(aligned.buffer).toBe(buf.buffer);
    buf.set([9, 0, 0, 0, 0, 0, 0, 0], 1);
    const unaligned = bytesToU64(buf.subarray(1, 9));
    expect(Array.from(unaligned)).toEqual([9n]);
    expect(unaligned.buffer).not.toBe(buf.buffer);
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: R - 1n }), { maxLength: 20 }), fc.integer({ min: 0, max: 7 }), (xs, off) => {
        const src = u64ToBytes(BigUint64Array.from(xs));
        const host = new Uint8Array(src.length + off);
        host.set(src, off);
        expect(Array.from(bytesToU64(host.subarray(off)))).toEqual(xs);
      }),
      { seed: 8, numRuns: 100 },
    );
  });
  it('bytesToU64 rejects lengths that are not a multiple of 8', () => {
    expect(() => bytesToU64(new Uint8Array(7))).toThrow(RangeError);
    expect(() => bytesToU64(new Uint8Array(7))).toThrow(/multiple of 8, got 7/);
    expect(() => bytesToU64([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => u64ToBytes(new Uint8Array(8) as unknown as BigUint64Array)).toThrow(TypeError);
  });
});
