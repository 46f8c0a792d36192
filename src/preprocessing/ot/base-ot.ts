/**
 * Base oblivious transfer over ristretto255: the OT of McQuoid, Rosulek and Roy [MRR21:
 * "Batching base oblivious transfers", ASIACRYPT 2021], i.e. Diffie–Hellman key
 * agreement whose receiver message is hidden in a programmable-once public function (POPF),
 * the framework of Masny–Rindal endemic OT [MR19, CCS 2019]. Random 1-out-of-2 OT: the
 * sender gets two 32-byte keys (k0, k1) per OT, the receiver gets k_c for its choice bit c.
 *
 * Why this one and not "the simplest OT" of Chou–Orlandi [CO15, LATINCRYPT 2015]: the UC
 * proof of CO15 against a malicious receiver does not hold (Genç, Iovino, Rial, "'The simplest
 * protocol for oblivious transfer' revisited", 2017), and the repairs cost an extra round or
 * a stronger assumption (Hauck, Loss, "Efficient and universally composable protocols for
 * oblivious transfer from the CDH assumption", 2017). MRR21 prove their protocol UC-secure
 * against a malicious sender *and* a malicious receiver (static corruption, random-oracle /
 * ideal-POPF model, a CDH-type assumption in the group) with one round of two parallel
 * messages. Ristretto255 is a prime-order group, so B = b·G is a uniform group element, which
 * is the key-agreement property the POPF construction needs (no twist trick as on Curve25519).
 * See README.md for exactly what is claimed.
 *
 * The protocol, for OT i with session id sid (every hash below is domain-separated and
 * includes sid and i):
 *   sender:   a ← Z_ℓ*, sends A = a·G                                     (32 bytes)
 *   receiver: b ← Z_ℓ*, B = b·G, φ = Program(c, B), sends φ               (64 bytes per OT)
 *   POPF, a two-round Feistel network over the group [MRR21, "Feistel POPF"]:
 *     Program(c, B): s ← {0,1}^256, T = B − H1(c, s), s' = s ⊕ H2(c, T), φ = (T, s')
 *     Eval(φ, c):    s = s' ⊕ H2(c, T), return T + H1(c, s)
 *   sender:   k_x = KDF(x, A, φ, a·Eval(φ, x)) for x ∈ {0, 1}
 *   receiver: k_c = KDF(c, A, φ, b·A)
 * Correctness: Eval(φ, c) = B, so a·B = b·A. The receiver's message does not depend on A,
 * so both messages are sent at once. H1 maps to the group with the RFC 9496 §4.3.4 one-way
 * map on 64 SHA-512 bytes; H2 and KDF are SHA-256 (@noble/hashes).
 *
 * What the sender sees (its whole view is A and φ): T = B − H1(c, s) is a uniform group
 * element whatever c is (B is uniform and independent of s), and s' = s ⊕ H2(c, T) is uniform
 * because s is; so φ is independent of the choice bits (tested statistically).
 *
 * Points from the peer are decoded with the canonical ristretto255 decoding, which refuses
 * every non-canonical or off-group encoding; a refused point, a wrong length, or an identity
 * A is a PROTOCOL error attributed to the peer, never a crash.
 * @module
 */

import { concatBytes } from '@noble/hashes/utils.js';
import { randomFillSync } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind, type Transport } from '../../protocol/transport.ts';
import { describeKind } from '../../util/describe.ts';

const Point = ristretto255.Point;
type Point = InstanceType<typeof Point>;
const ORDER = Point.Fn.ORDER;

/** Bytes of an encoded ristretto255 point. */
export const POINT_BYTES = 32;
/** Bytes of a base-OT key (each of the sender's k0, k1 and the receiver's k_c). */
export const BASE_OT_KEY_BYTES = 32;
/** Bytes the receiver sends per OT: the POPF program (T, s'). */
export const BASE_OT_RECEIVER_BYTES = 64;
/** Most OTs one base-OT run may carry (the index is hashed as 32 bits; OT extension needs 128). */
export const MAX_BASE_OTS = 1 << 16;
/** Bytes of a session id. */
export const SID_BYTES = 32;

/** A source of uniformly random bytes; the default is the operating system's CSPRNG. Tests pass a seeded one. */
export type RandomBytes = (n: number) => Uint8Array;

/** The operating system's CSPRNG. */
export const systemRandom: RandomBytes = (n) => randomFillSync(new Uint8Array(n));

const enc = new TextEncoder();
const TAG_H1 = enc.encode('tessera/ot/base/popf-h1/v1');
const TAG_H2 = enc.encode('tessera/ot/base/popf-h2/v1');
const TAG_KDF = enc.encode('tessera/ot/base/key/v1');

function checkSid(fn: string, sid: unknown): asserts sid is Uint8Array {
  if (!(sid instanceof Uint8Array)) throw new TypeError(`${fn}: sid: expected Uint8Array, got ${describeKind(sid)}`);
  if (sid.length !== SID_BYTES) throw new RangeError(`${fn}: sid: expected Uint8Array of length ${SID_BYTES}, got length=${sid.length}`);
}

function checkCount(fn: string, count: unknown): asserts count is number {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > MAX_BASE_OTS) {
    throw new RangeError(`${fn}: count: expected an integer in [1, ${MAX_BASE_OTS}], got ${String(count)}`);
  }
}

function checkChoices(fn: string, choices: unknown, count: number): asserts choices is Uint8Array {
  if (!(choices instanceof Uint8Array)) throw new TypeError(`${fn}: choices: expected Uint8Array, got ${describeKind(choices)}`);
  const need = Math.ceil(count / 8);
  if (choices.length !== need) throw new RangeError(`${fn}: choices: expected ${need} bytes for ${count} bits, got length=${choices.length}`);
}

function bit(bits: Uint8Array, i: number): number {
  return (bits[i >> 3] >> (i & 7)) & 1;
}

/** OT index i and choice x as 5 fixed bytes: u32 little-endian, then one byte. */
function indexBytes(i: number, x: number): Uint8Array {
  const b = new Uint8Array(5);
  new DataView(b.buffer).setUint32(0, i, true);
  b[4] = x;
  return b;
}

/** H1(c, s): SHA-512 → RFC 9496 one-way map, a uniform group element in the random-oracle model. */
function h1(sid: Uint8Array, i: number, x: number, s: Uint8Array): Point {
  return ristretto255_hasher.deriveToCurve!(sha512(concatBytes(TAG_H1, sid, indexBytes(i, x), s)));
}

/** H2(c, T): 32 bytes that mask the Feistel's s. */
function h2(sid: Uint8Array, i: number, x: number, tBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(TAG_H2, sid, indexBytes(i, x), tBytes));
}

function kdf(sid: Uint8Array, i: number, x: number, aBytes: Uint8Array, phi: Uint8Array, z: Point): Uint8Array {
  return sha256(concatBytes(TAG_KDF, sid, indexBytes(i, x), aBytes, phi, z.toBytes()));
}

/** A uniform non-zero scalar: 64 random bytes reduced mod ℓ (bias < 2^-250). */
function randomScalar(random: RandomBytes): bigint {
  for (;;) {
    const b = random(64);
    let k = 0n;
    for (let i = b.length - 1; i >= 0; i--) k = (k << 8n) | BigInt(b[i]);
    k %= ORDER;
    if (k !== 0n) return k;
  }
}

function decodePoint(bytes: Uint8Array, peer: string, what: string): Point {
  try {
    return Point.fromBytes(bytes);
  } catch (e) {
    throw new MpcError(ErrorCode.PROTOCOL, `base OT: party ${peer} sent an invalid ristretto255 encoding for ${what}`, { party: peer, cause: e });
  }
}

function expectLength(payload: Uint8Array, bytes: number, peer: string, what: string): void {
  if (!(payload instanceof Uint8Array) || payload.length !== bytes) {
    const got = payload instanceof Uint8Array ? `${payload.length} bytes` : describeKind(payload);
    throw new MpcError(ErrorCode.PROTOCOL, `base OT: party ${peer} sent ${got} for ${what}, expected ${bytes}`, { party: peer });
  }
}

/** The sender's secret and its message A = a·G. */
export interface BaseOtSenderState {
  readonly secret: bigint;
  readonly message: Uint8Array;
}

/** The receiver's secrets b_i and its message (φ_i for every OT, 64 bytes each). */
export interface BaseOtReceiverState {
  readonly secrets: readonly bigint[];
  readonly message: Uint8Array;
}

/** Sender, step 1 [MRR21]: a ← Z_ℓ*, A = a·G. */
export function baseOtSenderMessage(random: RandomBytes = systemRandom): BaseOtSenderState {
  const a = randomScalar(random);
  return { secret: a, message: Point.BASE.multiply(a).toBytes() };
}

/**
 * Receiver, step 1 [MRR21]: for each OT i, b_i ← Z_ℓ*, B_i = b_i·G, φ_i = Program(c_i, B_i).
 * `choices` holds `count` bits, LSB-first. This message is the receiver's whole contribution to
 * the sender's view.
 */
export function baseOtReceiverMessage(sid: Uint8Array, choices: Uint8Array, count: number, random: RandomBytes = systemRandom): BaseOtReceiverState {
  checkSid('baseOtReceiverMessage', sid);
  checkCount('baseOtReceiverMessage', count);
  checkChoices('baseOtReceiverMessage', choices, count);
  const secrets = new Array<bigint>(count);
  const message = new Uint8Array(BASE_OT_RECEIVER_BYTES * count);
  for (let i = 0; i < count; i++) {
    const c = bit(choices, i);
    const b = randomScalar(random);
    secrets[i] = b;
    const B = Point.BASE.multiply(b);
    const s = random(32);
    const T = B.subtract(h1(sid, i, c, s)).toBytes();
    const mask = h2(sid, i, c, T);
    const phi = message.subarray(BASE_OT_RECEIVER_BYTES * i, BASE_OT_RECEIVER_BYTES * (i + 1));
    phi.set(T, 0);
    for (let k = 0; k < 32; k++) phi[32 + k] = s[k] ^ mask[k];
  }
  return { secrets, message };
}

/**
 * Sender, step 2: k_x = KDF(x, A, φ_i, a·Eval(φ_i, x)) for x ∈ {0, 1}. Returns the keys as
 * two arrays of `count` × 32 bytes.
 * @throws MpcError PROTOCOL when the receiver's message has the wrong length or a T that is not
 * a canonical ristretto255 encoding.
 */
export function baseOtSenderKeys(
  sid: Uint8Array,
  count: number,
  state: BaseOtSenderState,
  receiverMessage: Uint8Array,
  peer = 'peer',
): { k0: Uint8Array; k1: Uint8Array } {
  checkSid('baseOtSenderKeys', sid);
  checkCount('baseOtSenderKeys', count);
  expectLength(receiverMessage, BASE_OT_RECEIVER_BYTES * count, peer, `the receiver message of ${count} base OTs`);
  const keys = [new Uint8Array(BASE_OT_KEY_BYTES * count), new Uint8Array(BASE_OT_KEY_BYTES * count)];
  for (let i = 0; i < count; i++) {
    const phi = receiverMessage.subarray(BASE_OT_RECEIVER_BYTES * i, BASE_OT_RECEIVER_BYTES * (i + 1));
    const tBytes = phi.subarray(0, 32);
    const T = decodePoint(tBytes, peer, `T of base OT ${i}`);
    for (let x = 0; x < 2; x++) {
      const mask = h2(sid, i, x, tBytes);
      const s = new Uint8Array(32);
      for (let k = 0; k < 32; k++) s[k] = phi[32 + k] ^ mask[k];
      const Y = T.add(h1(sid, i, x, s));
      keys[x].set(kdf(sid, i, x, state.message, phi, Y.multiply(state.secret)), BASE_OT_KEY_BYTES * i);
    }
  }
  return { k0: keys[0], k1: keys[1] };
}

/**
 * Receiver, step 2: k_{c_i} = KDF(c_i, A, φ_i, b_i·A). Returns `count` × 32 bytes.
 * @throws MpcError PROTOCOL when A has the wrong length, is not a canonical encoding, or is the identity.
 */
export function baseOtReceiverKeys(
  sid: Uint8Array,
  choices: Uint8Array,
  count: number,
  state: BaseOtReceiverState,
  senderMessage: Uint8Array,
  peer = 'peer',
): Uint8Array {
  checkSid('baseOtReceiverKeys', sid);
  checkCount('baseOtReceiverKeys', count);
  checkChoices('baseOtReceiverKeys', choices, count);
  expectLength(senderMessage, POINT_BYTES, peer, 'the base-OT sender message A');
  const A = decodePoint(senderMessage, peer, 'the base-OT sender message A');
  // An identity A would make every key a public constant [CO15's receiver checks the same].
  if (A.is0()) throw new MpcError(ErrorCode.PROTOCOL, `base OT: party ${peer} sent the identity as its sender message A`, { party: peer });
  // A is multiplied by every b_i: a window table for it (a few ms) makes each of those
  // constant-time multiplications ~4x faster than an unprepared one.
  if (count >= 8) A.precompute(4, false);
  const out = new Uint8Array(BASE_OT_KEY_BYTES * count);
  for (let i = 0; i < count; i++) {
    const phi = state.message.subarray(BASE_OT_RECEIVER_BYTES * i, BASE_OT_RECEIVER_BYTES * (i + 1));
    out.set(kdf(sid, i, bit(choices, i), senderMessage, phi, A.multiply(state.secrets[i])), BASE_OT_KEY_BYTES * i);
  }
  return out;
}

/** Where a base-OT run's two messages travel: their (kind = Ot) rounds, one per direction. */
export interface BaseOtRounds {
  /** Round of the sender's message A. */
  sender: number;
  /** Round of the receiver's message φ. */
  receiver: number;
}

export interface BaseOtOptions {
  /** 32 bytes that identify this run uniquely (job, ordered pair, stream); bound into every key. */
  sid: Uint8Array;
  rounds: BaseOtRounds;
  random?: RandomBytes;
}

/** Runs the sender's side of `count` base OTs with party `peer`. */
export async function baseOtSend(transport: Transport, peer: number, count: number, opts: BaseOtOptions): Promise<{ k0: Uint8Array; k1: Uint8Array }> {
  checkSid('baseOtSend', opts.sid);
  checkCount('baseOtSend', count);
  const state = baseOtSenderMessage(opts.random);
  const [, msg] = await Promise.all([
    transport.send(peer, MessageKind.Ot, opts.rounds.sender, state.message),
    transport.recv(peer, MessageKind.Ot, opts.rounds.receiver),
  ]);
  return baseOtSenderKeys(opts.sid, count, state, msg, String(peer));
}

/** Runs the receiver's side of `count` base OTs with party `peer`; `choices` holds `count` bits. */
export async function baseOtReceive(transport: Transport, peer: number, choices: Uint8Array, count: number, opts: BaseOtOptions): Promise<Uint8Array> {
  checkSid('baseOtReceive', opts.sid);
  const state = baseOtReceiverMessage(opts.sid, choices, count, opts.random);
  const [, msg] = await Promise.all([
    transport.send(peer, MessageKind.Ot, opts.rounds.receiver, state.message),
    transport.recv(peer, MessageKind.Ot, opts.rounds.sender),
  ]);
  return baseOtReceiverKeys(opts.sid, choices, count, state, msg, String(peer));
}
