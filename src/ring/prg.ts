/**
 * Seeded cryptographic pseudo-random generator, used wherever parties (or the dealer and a
 * party) must expand the same randomness from a short shared seed — e.g. the n − 1 random
 * shares of a dealer's triple, which are sent as 32-byte seeds instead of vectors.
 *
 * Construction: key = HKDF-SHA256(ikm = seed, salt = "tessera/prg/v1", info = label, 32 bytes)
 * [RFC 5869], stream = AES-256-CTR(key, IV = 0). The label separates domains, so one seed can
 * feed several independent streams; because every (seed, label) pair gets its own key, the
 * fixed zero IV never repeats a keystream. The stream is read in order and never rewound.
 *
 * Expansion is one `cipher.update` over a zero-filled buffer (AES-NI in OpenSSL), so there
 * is no per-element work in JavaScript. CTR mode is seekable: `Prg.reserve` hands out a
 * region of the stream (key, byte offset) without generating it, and `expandRegion`
 * produces exactly those bytes anywhere — in a worker thread, into a SharedArrayBuffer
 * (workers/kernels.ts) — while the stream goes on after the region.
 * @module
 */

import { createCipheriv, randomFillSync, type Cipher } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToU64 } from './encoding.ts';
import { wordsView, type Z128Vec } from './z128.ts';
import { describeKind } from '../util/describe.ts';

/** Seeds are exactly this many bytes (256 bits). */
export const SEED_BYTES = 32;

const PRG_SALT = new TextEncoder().encode('tessera/prg/v1');
// deriveSeed uses its own salt so a derived seed never equals the AES key of a Prg built
// with the same (seed, label).
const SEED_SALT = new TextEncoder().encode('tessera/seed/v1');
const ZERO_IV = new Uint8Array(16);

function checkSeed(fn: string, seed: unknown): asserts seed is Uint8Array {
  if (!(seed instanceof Uint8Array)) throw new TypeError(`${fn}: seed: expected Uint8Array, got ${describeKind(seed)}`);
  if (seed.length !== SEED_BYTES) {
    throw new RangeError(`${fn}: seed: expected Uint8Array of length ${SEED_BYTES}, got length=${seed.length}`);
  }
}

function checkLabel(fn: string, label: unknown): asserts label is string {
  if (typeof label !== 'string') throw new TypeError(`${fn}: label: expected a string, got ${describeKind(label)}`);
  if (label.length === 0) throw new RangeError(`${fn}: label: expected a non-empty string, got ""`);
}

function checkCount(fn: string, n: unknown): asserts n is number {
  if (typeof n !== 'number') throw new TypeError(`${fn}: n: expected a number, got ${describeKind(n)}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${fn}: n: expected a non-negative integer, got ${n}`);
}

/** 32 fresh bytes from the operating system's CSPRNG. */
export function randomSeed(): Uint8Array {
  return randomFillSync(new Uint8Array(SEED_BYTES));
}

/**
 * A 32-byte seed derived from `seed` for the purpose named by `label`
 * (HKDF-SHA256, salt "tessera/seed/v1"). Different labels give independent seeds.
 */
export function deriveSeed(seed: Uint8Array, label: string): Uint8Array {
  checkSeed('deriveSeed', seed);
  checkLabel('deriveSeed', label);
  return hkdf(sha256, seed, SEED_SALT, new TextEncoder().encode(label), SEED_BYTES);
}

/** The AES key a `Prg` uses for (seed, label). Exposed for known-answer tests. */
export function prgKey(seed: Uint8Array, label: string): Uint8Array {
  checkSeed('prgKey', seed);
  checkLabel('prgKey', label);
  return hkdf(sha256, seed, PRG_SALT, new TextEncoder().encode(label), 32);
}

/**
 * A part of a `Prg` stream, reserved with `Prg.reserve`: `length` bytes from byte `offset`
 * of AES-256-CTR under `key`. Expand it with `expandRegion`, on any thread.
 */
export interface PrgRegion {
  key: Uint8Array;
  offset: number;
  length: number;
}

/** The 16-byte CTR block of byte `offset`: the block index as a 128-bit big-endian counter. */
function counterBlock(offset: number): Uint8Array {
  const iv = new Uint8Array(16);
  const block = Math.floor(offset / 16);
  const dv = new DataView(iv.buffer);
  dv.setUint32(8, Math.floor(block / 2 ** 32));
  dv.setUint32(12, block >>> 0);
  return iv;
}

function cipherAt(key: Uint8Array, offset: number): Cipher {
  const cipher = createCipheriv('aes-256-ctr', key, counterBlock(offset));
  if (offset % 16 !== 0) cipher.update(ZEROS.subarray(0, offset % 16));
  return cipher;
}

/**
 * OpenSSL is called on pieces of at most this many bytes. Measured here (node:crypto, Node 20):
 * AES runs at 3–4 GB/s on 64 KiB pieces, but at 1.9 GB/s on 1 MiB and 0.85 GB/s on 4 MiB in one
 * call: each large call allocates a fresh output (and a large input) above malloc's mmap
 * threshold, so its pages are faulted in and unmapped again on every call.
 */
export const AES_PIECE = 1 << 16;

/** Read-only zeros: CTR mode turns them into the keystream. */
const ZEROS = Buffer.alloc(AES_PIECE);

/** The next `out.length` keystream bytes of a CTR `cipher` into `out`, piece by piece. */
function keystreamInto(cipher: Cipher, out: Uint8Array): Uint8Array {
  for (let off = 0; off < out.length; off += AES_PIECE) {
    const n = Math.min(AES_PIECE, out.length - off);
    out.set(cipher.update(n === AES_PIECE ? ZEROS : ZEROS.subarray(0, n)), off);
  }
  return out;
}

/**
 * Write the bytes of `region` into `out` (which must have `region.length` bytes, and may be a
 * view over a SharedArrayBuffer): the same bytes the `Prg` would have returned at that point.
 */
export function expandRegion(region: PrgRegion, out: Uint8Array): Uint8Array {
  if (!(region?.key instanceof Uint8Array) || region.key.length !== 32) throw new TypeError('expandRegion: region.key: expected Uint8Array of length 32');
  checkCount('expandRegion', region.offset);
  if (!(out instanceof Uint8Array)) throw new TypeError(`expandRegion: out: expected Uint8Array, got ${describeKind(out)}`);
  if (out.length !== region.length) throw new RangeError(`expandRegion: out: expected length ${region.length}, got ${out.length}`);
  return keystreamInto(cipherAt(region.key, region.offset), out);
}

/**
 * A deterministic stream of pseudo-random bytes for (seed, label). Two instances with the same
 * seed and label produce the same stream; each call continues where the previous one stopped,
 * whatever the unit (bytes, u64, z128, or a region reserved for expansion elsewhere) — so all
 * parties must make the same calls in the same order to stay in sync.
 * @example
 * const r = new Prg(seed, 'triples/job-17').u64(1024);
 */
export class Prg {
  readonly #key: Uint8Array;
  /** The cipher positioned at #pos; dropped when a region is reserved (skipped). */
  #cipher: Cipher | undefined;
  #pos = 0;

  constructor(seed: Uint8Array, label: string) {
    checkSeed('Prg', seed);
    checkLabel('Prg', label);
    // Kept (not zeroed) so the stream can be re-positioned after a reserved region.
    this.#key = prgKey(seed, label);
    this.#cipher = createCipheriv('aes-256-ctr', this.#key, ZERO_IV);
  }

  /** The next `n` bytes of the stream. */
  bytes(n: number): Uint8Array {
    checkCount('Prg.bytes', n);
    return this.#next(n);
  }

  /** The next 8·n bytes of the stream as n uniform elements of Z_2^64 (little-endian). */
  u64(n: number): BigUint64Array {
    checkCount('Prg.u64', n);
    return bytesToU64(this.#next(8 * n));
  }

  /**
   * The next 16·n bytes as n uniform elements of Z_2^128, laid out as `z128.toBytes` does:
   * the first 8·n bytes are the low limbs, the next 8·n the high limbs.
   */
  z128(n: number): Z128Vec {
    checkCount('Prg.z128', n);
    return wordsView(bytesToU64(this.#next(16 * n)), n);
  }

  /** The next 8 bytes as one uniform element of Z_2^64, in [0, 2^64). */
  nextBigint64(): bigint {
    return bytesToU64(this.#next(8))[0];
  }

  /**
   * Skip the next `n` bytes of the stream and return them as a region to expand elsewhere
   * (`expandRegion`), e.g. by a worker thread straight into shared memory.
   */
  reserve(n: number): PrgRegion {
    checkCount('Prg.reserve', n);
    const region = { key: this.#key.slice(), offset: this.#pos, length: n };
    this.#pos += n;
    this.#cipher = undefined;
    return region;
  }

  #next(n: number): Uint8Array {
    this.#cipher ??= cipherAt(this.#key, this.#pos);
    this.#pos += n;
    // A short stream is OpenSSL's fresh output buffer itself (normally 8-aligned, so the u64
    // view needs no copy; bytesToU64 copies in the rare case it is not).
    if (n <= AES_PIECE) {
      const ks = this.#cipher.update(ZEROS.subarray(0, n));
      return new Uint8Array(ks.buffer, ks.byteOffset, ks.byteLength);
    }
    return keystreamInto(this.#cipher, new Uint8Array(n));
  }
}
