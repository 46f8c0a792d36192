// PRG known answers and behaviour. The vectors were produced by this implementation for
// seed = 00 01 … 1f and label "test", and are checked here, once, against an independent
// computation with node:crypto alone (hkdfSync + AES-256-CTR with a zero IV), which shows
// where they come from. If a vector changes, every stored seed-expanded share changes with it.
import { createCipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AES_PIECE, deriveSeed, expandRegion, Prg, prgKey, randomSeed, SEED_BYTES } from '../../src/ring/prg.ts';

const SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// HKDF-SHA256(ikm = 00..1f, salt = "tessera/prg/v1", info = "test", L = 32)
const KEY_TEST = 'f1c6007aefe18b977883b252665c40cc1e024960a21255cf89d014e24655674d';
// first 32 bytes of AES-256-CTR(KEY_TEST, IV = 0) over zeros
const STREAM_TEST = 'fd46eb5b5ed00fd549f6145eb4989b2e59e8c99ef144e0eeae1c0faa169befd4';
// HKDF-SHA256(ikm = 00..1f, salt = "tessera/seed/v1", info = "test", L = 32)
const DERIVED_TEST = '6e89ff28811f88ca77647454b1388f2e86dc636da246d838b9d17dd12381244d';

describe('known answers', () => {
  it('key and first 32 bytes for seed 00..1f, label "test"', () => {
    expect(hex(prgKey(SEED, 'test'))).toBe(KEY_TEST);
    expect(hex(new Prg(SEED, 'test').bytes(32))).toBe(STREAM_TEST);
    expect(hex(deriveSeed(SEED, 'test'))).toBe(DERIVED_TEST);
  });

  it('the vectors agree with a direct node:crypto computation', () => {
    const key = Buffer.from(hkdfSync('sha256', SEED, 'tessera/prg/v1', 'test', 32));
    expect(key.toString('hex')).toBe(KEY_TEST);
    const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(32));
    expect(stream.toString('hex')).toBe(STREAM_TEST);
    expect(Buffer.from(hkdfSync('sha256', SEED, 'tessera/seed/v1', 'test', 32)).toString('hex')).toBe(DERIVED_TEST);
  });

  it('u64 and nextBigint64 read the stream as little-endian words', () => {
    expect(Array.from(new Prg(SEED, 'test').u64(2))).toEqual([0xd50fd05e5beb46fdn, 0x2e9b98b45e14f649n]);
    const p = new Prg(SEED, 'test');
    expect(p.nextBigint64()).toBe(0xd50fd05e5beb46fdn);
    expect(p.nextBigint64()).toBe(0x2e9b98b45e14f649n);
  });
});

describe('stream behaviour', () => {
  it('is deterministic and continues across calls of any unit', () => {
    const whole = new Prg(SEED, 'test').bytes(1000);
    const p = new Prg(SEED, 'test');
    const parts = [p.bytes(3), p.bytes(0), p.bytes(13), (() => { const v = p.u64(5); return new Uint8Array(v.buffer, v.byteOffset, 40); })()];
    const z = p.z128(4);
    parts.push(new Uint8Array(z.lo.buffer, z.lo.byteOffset, 32), new Uint8Array(z.hi.buffer, z.hi.byteOffset, 32));
    parts.push(new Uint8Array(new BigUint64Array([p.nextBigint64()]).buffer));
    parts.push(p.bytes(1000 - 3 - 13 - 40 - 64 - 8));
    expect(hex(Buffer.concat(parts))).toBe(hex(whole));
  });

  it('streams longer than one OpenSSL piece (AES_PIECE) equal node:crypto in one call, from any offset', () => {
    const n = 3 * AES_PIECE + 37;
    const key = prgKey(SEED, 'test');
    const direct = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(5 + n + 2 * AES_PIECE));
    const p = new Prg(SEED, 'test');
    expect(hex(p.bytes(5))).toBe(hex(direct.subarray(0, 5)));
    expect(hex(p.bytes(n))).toBe(hex(direct.subarray(5, 5 + n)));
    const region = p.reserve(2 * AES_PIECE);
    expect(hex(expandRegion(region, new Uint8Array(region.length)))).toBe(hex(direct.subarray(5 + n)));
  });

  it('different labels and seeds give different streams', () => {
    const a = hex(new Prg(SEED, 'test').bytes(64));
    const b = hex(new Prg(SEED, 'test2').bytes(64));
    const other = SEED.slice();
    other[31] ^= 1;
    const c = hex(new Prg(other, 'test').bytes(64));
    expect(new Set([a, b, c]).size).toBe(3);
    expect(hex(deriveSeed(SEED, 'a'))).not.toBe(hex(deriveSeed(SEED, 'b')));
    // a derived seed is never the Prg key of the same (seed, label)
    expect(hex(deriveSeed(SEED, 'test'))).not.toBe(hex(prgKey(SEED, 'test')));
  });

  it('u64 and z128 are always 8-aligned typed arrays of the right length', () => {
    const p = new Prg(SEED, 'align');
    for (const n of [0, 1, 2, 3, 7, 100, 4097]) {
      p.bytes(n % 5); // misalign the stream position; the output must not care
      const v = p.u64(n);
      expect(v).toBeInstanceOf(BigUint64Array);
      expect(v.length).toBe(n);
      expect(v.byteOffset % 8).toBe(0);
      const z = p.z128(n);
      expect(z.lo.length).toBe(n);
      expect(z.hi.length).toBe(n);
      expect(z.hi.byteOffset % 8).toBe(0);
    }
  });

  it('looks uniform: bit balance over 1 MiB', () => {
    const b = new Prg(SEED, 'balance').bytes(1 << 20);
    let ones = 0;
    for (const x of b) {
      let y = x;
      while (y) {
        ones += y & 1;
        y >>= 1;
      }
    }
    // 2^23 fair bits: standard deviation 1448; allow 6σ
    expect(Math.abs(ones - (1 << 22))).toBeLessThan(6 * 1449);
  });

  it('randomSeed gives 32 fresh bytes', () => {
    const a = randomSeed();
    const b = randomSeed();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(SEED_BYTES);
    expect(hex(a)).not.toBe(hex(b));
  });
});

describe('argument checks', () => {
  it('seed must be a 32-byte Uint8Array', () => {
    expect(() => new Prg(new Uint8Array(31), 'x')).toThrow(RangeError);
    expect(() => new Prg(new Uint8Array(31), 'x')).toThrow('Prg: seed: expected Uint8Array of length 32, got length=31');
    expect(() => new Prg(new Uint8Array(33), 'x')).toThrow(RangeError);
    expect(() => new Prg(Array(32).fill(0) as unknown as Uint8Array, 'x')).toThrow(TypeError);
    expect(() => new Prg('0'.repeat(32) as unknown as Uint8Array, 'x')).toThrow(TypeError);
    expect(() => deriveSeed(new Uint8Array(16), 'x')).toThrow(RangeError);
  });
  it('label must be a non-empty string', () => {
    expect(() => new Prg(SEED, '')).toThrow(RangeError);
    expect(() => new Prg(SEED, 7 as unknown as string)).toThrow(TypeError);
    expect(() => deriveSeed(SEED, '')).toThrow(/label: expected a non-empty string/);
  });
  it('counts must be non-negative integers', () => {
    const p = new Prg(SEED, 'x');
    expect(() => p.bytes(-1)).toThrow(RangeError);
    expect(() => p.u64(1.5)).toThrow(RangeError);
    expect(() => p.z128(NaN)).toThrow(RangeError);
    expect(() => p.bytes('3' as unknown as number)).toThrow(TypeError);
  });
});
