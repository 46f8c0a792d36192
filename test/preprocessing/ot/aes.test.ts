// Fixed-key AES and the GKWY20 hashes built on it. Known answers: FIPS-197 Appendix C.1 for
// AES-128 itself; the hash definitions are checked against a direct node:crypto computation.
import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crHash, crHash64, fixedKey, FixedKeyAes, tcrHash, tcrHash64 } from '../../../src/preprocessing/ot/aes.ts';
import { hex, seeded } from './helpers.ts';

const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** One AES-128 block under `key`, straight from node:crypto. */
function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Uint8Array.from(c.update(block));
}

const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((v, i) => v ^ b[i]);

function tweakBlock(i: bigint): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setBigUint64(0, i, true);
  return b;
}

describe('fixed-key AES', () => {
  it('FIPS-197 Appendix C.1 (AES-128)', () => {
    const aes = new FixedKeyAes(fromHex('000102030405060708090a0b0c0d0e0f'));
    expect(hex(aes.encrypt(fromHex('00112233445566778899aabbccddeeff')))).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
  });

  it('the fixed key is SHA-256("tessera/ot/fixed-key-aes/v1")[0..16)', () => {
    expect(hex(fixedKey())).toBe(createHash('sha256').update('tessera/ot/fixed-key-aes/v1').digest('hex').slice(0, 32));
    expect(hex(fixedKey())).toBe('a54088165de37084e648244037f347d3');
  });

  it('encrypts many blocks as it does one (ECB, across the 256 KB pieces)', () => {
    const aes = new FixedKeyAes();
    const x = seeded('aes/many')(16 * 20000); // 320 000 bytes: two pieces
    const all = aes.encrypt(x);
    for (const k of [0, 1, 16383, 16384, 19999]) {
      expect(hex(all.subarray(16 * k, 16 * k + 16))).toBe(hex(aesBlock(fixedKey(), x.subarray(16 * k, 16 * k + 16))));
    }
  });

  it('refuses a key of the wrong length and input that is not whole blocks', () => {
    expect(() => new FixedKeyAes(new Uint8Array(15))).toThrow(RangeError);
    expect(() => new FixedKeyAes().encrypt(new Uint8Array(17))).toThrow(/multiple of 16/);
  });
});

describe('hashes [GKWY20]', () => {
  const aes = new FixedKeyAes();
  const key = fixedKey();
  const x = seeded('aes/hash')(16 * 20000);
  const mask = seeded('aes/mask')(16);
  const tweak0 = 1234567n;

  it('crHash(x) = π(x) ⊕ x, and with a mask it hashes x ⊕ mask', () => {
    const h = crHash(aes, x);
    const hm = crHash(aes, x, mask);
    for (const k of [0, 7, 19999]) {
      const b = x.subarray(16 * k, 16 * k + 16);
      expect(hex(h.subarray(16 * k, 16 * k + 16))).toBe(hex(xor(aesBlock(key, b), b)));
      const bm = xor(b, mask);
      expect(hex(hm.subarray(16 * k, 16 * k + 16))).toBe(hex(xor(aesBlock(key, bm), bm)));
    }
  });

  it('tcrHash(i, x) = π(π(x) ⊕ i) ⊕ π(x), tweak i = tweak0 + block index', () => {
    const h = tcrHash(aes, x, tweak0);
    for (const k of [0, 1, 16384, 19999]) {
      const p = aesBlock(key, x.subarray(16 * k, 16 * k + 16));
      const want = xor(aesBlock(key, xor(p, tweakBlock(tweak0 + BigInt(k)))), p);
      expect(hex(h.subarray(16 * k, 16 * k + 16))).toBe(hex(want));
    }
  });

  it('the 64-bit variants are the low halves, also across pieces and with a mask', () => {
    const words = (b: Uint8Array) => new BigUint64Array(b.slice().buffer);
    const full = words(crHash(aes, x, mask));
    const low = crHash64(aes, x, mask);
    const fullT = words(tcrHash(aes, x, tweak0, mask));
    const lowT = tcrHash64(aes, x, tweak0, mask);
    for (let k = 0; k < 20000; k++) {
      if (low[k] !== full[2 * k] || lowT[k] !== fullT[2 * k]) throw new Error(`block ${k} differs`);
    }
    // and into a caller's output window
    const out = new BigUint64Array(30000);
    crHash64(aes, x, undefined, out.subarray(5000, 25000));
    expect(out[5000]).toBe(words(crHash(aes, x))[0]);
    expect(out[4999]).toBe(0n);
  });

  it('the tweak separates equal inputs: the same x under two tweaks hashes differently', () => {
    const same = new Uint8Array(32).fill(9); // two equal blocks
    const h = tcrHash(aes, same, 0n);
    expect(hex(h.subarray(0, 16))).not.toBe(hex(h.subarray(16, 32)));
    const c = crHash(aes, same); // the non-tweakable hash does not (why malicious sessions use TCR)
    expect(hex(c.subarray(0, 16))).toBe(hex(c.subarray(16, 32)));
  });

  it('refuses tweaks outside [0, 2^64)', () => {
    expect(() => tcrHash(aes, new Uint8Array(32), (1n << 64n) - 1n)).toThrow(RangeError);
    expect(() => tcrHash64(aes, new Uint8Array(16), -1n)).toThrow(RangeError);
  });
});
