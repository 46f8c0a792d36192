/**
 * The two communication patterns of the malicious suite, over the job's Transport:
 * - `exchange`: every party sends one payload to every other party and collects theirs
 *   (commitments, openings, broadcast-check digests);
 * - `openShares`: a partial opening [DPSZ12, online phase]: every party sends its value shares of a
 *   vector to every other party and adds up what it receives. Openings are full values of
 *   the MAC ring (SPDZ2k opens in Z_2^{k+s} [CDESX18 §4]: 16 bytes per element for k = 64,
 *   24 for k = 128) and are checked later by the MAC check.
 * Sizes are checked on receipt: a wrong length is a PROTOCOL error naming the sender.
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { bytesToU64 } from '../../ring/encoding.ts';
import type { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import { expectBytes } from '../semi-honest.ts';
import { MAC64, type MacRing } from './mac-ring.ts';

export { expectBytes };

/**
 * Send `payload` to every other party under (kind, round) and receive theirs. Returns the
 * payloads by party index, this party's own at its index. `bytes` is the expected size of
 * each received payload.
 */
export async function exchange(
  s: Session<unknown>,
  kind: MessageKind,
  round: number,
  payload: Uint8Array,
  bytes: number,
  what: string,
): Promise<Uint8Array[]> {
  const n = s.parties.length;
  const out = new Array<Uint8Array>(n);
  out[s.self] = payload;
  const tasks: Promise<void>[] = [];
  for (let j = 0; j < n; j++) {
    if (j === s.self) continue;
    tasks.push(s.transport.send(j, kind, round, payload));
    tasks.push(
      s.transport.recv(j, kind, round).then((p) => {
        out[j] = expectBytes(p, bytes, s.parties[j], what);
      }),
    );
  }
  await Promise.all(tasks);
  return out;
}

/**
 * A zeroed vector of `n` elements whose two limb arrays are the two halves of one buffer,
 * so that its wire form (`z128.toBytes`: low limbs, then high limbs) is `wireBytes(v)`
 * without a copy.
 */
export function allocWire(n: number): Z128Vec {
  const buf = new ArrayBuffer(16 * n);
  return { lo: new BigUint64Array(buf, 0, n), hi: new BigUint64Array(buf, 8 * n, n) };
}

/** The wire bytes of `v`: a view when `v` came from `allocWire`, else `z128.toBytes(v)`. */
export function wireBytes(v: Z128Vec): Uint8Array {
  const n = v.lo.length;
  const contiguous = v.lo.buffer === v.hi.buffer && v.hi.byteOffset === v.lo.byteOffset + 8 * n;
  return contiguous ? new Uint8Array(v.lo.buffer, v.lo.byteOffset, 16 * n) : z128.toBytes(v);
}

/** A received vector in wire form; a view over `b` when it is 8-byte aligned (never modified). */
export function fromWire(b: Uint8Array, n: number): Z128Vec {
  return { lo: bytesToU64(b.subarray(0, 8 * n)), hi: bytesToU64(b.subarray(8 * n, 16 * n)) };
}

/**
 * Open `mine` (this party's value shares): Σ over all parties, as this party sees it.
 * `mine` is sent as is and must not be modified afterwards. The sum goes into a fresh vector
 * from `alloc` (e.g. shared memory for a worker pool's kernels) when given.
 */
export async function openShares<E = Z128Vec>(
  s: Session<unknown>,
  kind: MessageKind,
  round: number,
  mine: E,
  what: string,
  alloc?: (n: number) => E,
  R: MacRing<unknown, E> = MAC64 as unknown as MacRing<unknown, E>,
): Promise<E> {
  const n = s.parties.length;
  const w = R.length(mine);
  const opened = alloc ? alloc(w) : R.allocWire(w);
  // Σ of the shares: the first peer's is added to ours straight into `opened`.
  let sum = mine;
  const bytes = R.wireBytes(mine);
  const tasks: Promise<void>[] = [];
  for (let j = 0; j < n; j++) {
    if (j === s.self) continue;
    tasks.push(s.transport.send(j, kind, round, bytes));
    tasks.push(
      s.transport.recv(j, kind, round).then((p) => {
        sum = R.add(sum, R.fromWire(expectBytes(p, R.bytes * w, s.parties[j], what), w), opened);
      }),
    );
  }
  await Promise.all(tasks);
  // no peers
  if (sum === mine) R.place(opened, 0, mine);
  return opened;
}

/** Little-endian u32. */
export function u32(k: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, k >>> 0, true);
  return b;
}

const utf8 = new TextEncoder();

/** SHA-256 over a domain-separation tag and the given parts (each length-prefixed, so no two part lists collide). */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const t = utf8.encode(tag);
  // One buffer, one hash call: noble's per-update overhead dominates for these small inputs.
  const buf = new Uint8Array(4 + t.length + parts.reduce((n, p) => n + 4 + p.length, 0));
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, t.length, true);
  buf.set(t, 4);
  let off = 4 + t.length;
  for (const p of parts) {
    dv.setUint32(off, p.length, true);
    buf.set(p, off + 4);
    off += 4 + p.length;
  }
  return sha256(buf);
}

/**
 * `taggedHash` computed over parts that arrive piece by piece (a long input broadcast, an
 * analyst output's shares): the same digest as `taggedHash(tag, ...parts)`, with each part
 * announced by its total length (`begin`) and then fed in any number of `update`s. Runs on
 * node:crypto's SHA-256, several times faster than the JavaScript one on long inputs.
 */
export class TaggedHasher {
  readonly #h: Hash = createHash('sha256');
  #left = 0;

  constructor(tag: string) {
    this.whole(utf8.encode(tag));
  }

  /** Start a part of `bytes` bytes (the previous part must be complete). */
  begin(bytes: number): this {
    if (this.#left !== 0) throw new Error(`TaggedHasher: the previous part still lacks ${this.#left} bytes`);
    this.#h.update(u32(bytes));
    this.#left = bytes;
    return this;
  }

  /** More bytes of the current part. */
  update(b: Uint8Array): this {
    if (b.byteLength > this.#left) throw new Error(`TaggedHasher: ${b.byteLength} bytes given, the part has ${this.#left} left`);
    this.#left -= b.byteLength;
    this.#h.update(b);
    return this;
  }

  /** A whole part at once. */
  whole(b: Uint8Array): this {
    return this.begin(b.byteLength).update(b);
  }

  digest(): Uint8Array {
    if (this.#left !== 0) throw new Error(`TaggedHasher: the last part still lacks ${this.#left} bytes`);
    return new Uint8Array(this.#h.digest());
  }
}

/** UTF-8 bytes of a string (output names in commitments). */
export function text(s: string): Uint8Array {
  return utf8.encode(s);
}

/** Constant-length byte comparison. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
