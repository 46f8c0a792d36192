/**
 * The wire envelope: every WebSocket message between Tessera processes is exactly one frame.
 * A frame has two forms, told apart by its first byte:
 *
 * - **Protocol frames** (kinds of {@link MessageKind}, the share traffic) use a fixed binary
 *   header followed by the payload bytes as they are. The header costs no msgpack work and no
 *   copy of the payload on either side, and its length is a multiple of 8, so a payload that
 *   starts a receive buffer's allocation stays 8-byte aligned and can be read as 64-bit words
 *   in place.
 * - **Control frames** (kinds of {@link ControlKind}) are one msgpack map, with a free-form
 *   msgpack `body` and an optional `payload` as a msgpack `bin`.
 *
 * Binary protocol frame (integers little-endian; a msgpack map never starts with 0x00):
 *
 * | offset | size | field                                                                  |
 * |--------|------|------------------------------------------------------------------------|
 * | 0      | 1    | 0x00: the binary form                                                  |
 * | 1      | 1    | {@link PROTOCOL_VERSION}                                               |
 * | 2      | 1    | `kind`: a {@link MessageKind}                                          |
 * | 3      | 1    | byte length F of `from` (UTF-8), 1..255                                |
 * | 4      | 2    | byte length J of `job` (UTF-8)                                         |
 * | 6      | 2    | flags: bit 0 {@link FrameFlag.Padded}; every other bit zero            |
 * | 8      | 4    | byte length P of `payload`                                             |
 * | 12     | 8    | `round`: a safe integer, as low then high 32-bit word                  |
 * | 20     | 8    | `seq`: likewise                                                        |
 * | 28     | J+F  | `job`, then `from`                                                     |
 * | 28+J+F | 0..7 | zeros up to H = the next multiple of 8                                 |
 * | H      | P    | `payload`; the frame is exactly H + P bytes, unless padded:            |
 * | H+P    | Q−P  | (padded only) zeros up to Q = {@link paddedLength}(P); H + Q bytes     |
 *
 * Padding (a job's `pad` option, a node policy's `requirePadding`): the payload is followed
 * by zeros up to the next power of two, at least {@link MIN_PADDED_PAYLOAD} bytes, so a
 * frame's size on the wire says only which bucket its payload falls into. What is bucketed is
 * the payload, not the whole frame: H depends on the job id and the sender only — public, and
 * the same for every frame of a job from that sender — while a wide layer's full chunks have
 * payloads of exactly a power of two (16 or 32 bytes × 2^18), which padding the whole frame
 * would double. The decoder accepts a padded frame only at exactly H + Q bytes with all-zero
 * padding (the padding must not become a channel of its own) and returns the payload without
 * it. How the channel puts a padded frame on the wire without the WebSocket framing telling
 * the payload length again is in channel.ts.
 *
 * Control frame (msgpack map, keys in this order, optional keys omitted when absent):
 *
 * | key       | msgpack type | meaning                                                        |
 * |-----------|--------------|----------------------------------------------------------------|
 * | `v`       | uint         | {@link PROTOCOL_VERSION}; any other value is refused           |
 * | `job`     | str          | job id the frame belongs to (`''` for connection-level frames) |
 * | `round`   | uint         | protocol round within the job (0 for control frames)           |
 * | `kind`    | uint         | {@link ControlKind} (>= 16)                                    |
 * | `from`    | str          | sender's principal id                                          |
 * | `seq`     | uint         | per-channel, per-direction counter                             |
 * | `payload` | bin          | raw bytes, optional                                            |
 * | `body`    | any          | plain msgpack (maps, arrays, str, bin, numbers, bool, nil)     |
 *
 * The fields mean the same in both forms: `job` is the job id (`''` for connection-level
 * frames), `round` the protocol round within the job, `from` the sender's principal id (it
 * must equal the channel's authenticated peer), `seq` a per-channel, per-direction counter
 * 0, 1, 2, … (gap and replay detection). Each kind has exactly one form: a protocol kind in a
 * msgpack map, or a control kind in the binary form, is refused.
 *
 * Decoding never trusts the peer: the bytes are bounded; a binary frame must match its
 * header exactly (lengths, known flags only, zero padding, valid UTF-8); a msgpack frame must
 * be a single map with exactly these keys and types, and `body` may only hold plain data (no
 * Error/RegExp/Set/Date extension objects, bounded depth).
 * @module
 */
import { Packr, Unpackr } from 'msgpackr';
import { ErrorCode, MpcError } from '../errors.ts';
import { MessageKind } from '../protocol/transport.ts';

/**
 * Version of the envelope and handshake. Bump on any incompatible change. 3: header bytes
 * 6–7 became flags (padding); a version-2 decoder would refuse a padded frame mid-job as
 * "nonzero reserved header bytes", so a version-2 peer is refused at Hello instead.
 */
export const PROTOCOL_VERSION = 3;

/** Bits of a binary frame's flags (header bytes 6–7). Values are part of the wire format. */
export const FrameFlag = {
  /** The payload is followed by zeros up to {@link paddedLength} of its length. */
  Padded: 0x0001,
} as const;
const KNOWN_FLAGS = FrameFlag.Padded;

/**
 * Smallest padded payload: 256 bytes. Every fixed-size or few-element message of a job (a
 * commitment, a MAC-check opening, the openings of a layer of up to 16 semi-honest or 8
 * malicious multiplications) lands in this one bucket, and such a frame (about 300 bytes)
 * still travels in one packet, so a deep circuit's many small rounds cost bytes, not latency.
 */
export const MIN_PADDED_PAYLOAD = 256;

/**
 * Control kinds: messages between processes that are not part of a protocol transcript.
 * Values are part of the wire format: never renumber; add new kinds at the end (< 256).
 * Layouts are of `body` unless `payload` is mentioned; `job` is the job id unless noted.
 */
export const ControlKind = {
  /**
   * First frame on every connection, both directions; `job` = ''. Body {@link Hello}:
   * `{ version, federation, from, role, n, parties }`. Checked by `hello.ts`.
   */
  Hello: 16,
  /** Analyst/coordinator → node: submit a job. Body: plan, plan hash, signed job token, … */
  JobSubmit: 17,
  /** Node → submitter (or node → node): the node accepted the job. Body: e.g. `{ planHash }`. */
  JobAccept: 18,
  /** Node → submitter: the node refused the job. Body: `{ code, reason }`. */
  JobReject: 19,
  /** Any → any: abort the job now, no output. Body: `{ code, reason }`. */
  JobAbort: 20,
  /** Node → output recipient: the sender's shares of an output. `payload`: share bytes; body: metadata. */
  OutputShare: 21,
  /** Dealer → node: PRG seeds for the job's correlated randomness. Body/payload: seeds. */
  DealerSeeds: 22,
  /** Dealer → node: correction shares that fix the seeded randomness. `payload`: bytes. */
  DealerCorrections: 23,
  /** Node → submitter: the job finished on this node. Body: `{ stats }`. */
  JobDone: 24,
  /**
   * Application-level round-trip probe; `job` = ''. Body: opaque, echoed in {@link ControlKind.Pong}.
   * Liveness itself is detected with WebSocket ping frames (see channel.ts), not with this.
   */
  Ping: 25,
  /** Answer to {@link ControlKind.Ping}, sent by the channel itself; body = the ping's body. */
  Pong: 26,
  /** Analyst → node: which inputs does this party hold, and their lengths? No body. */
  Describe: 27,
  /** Node → analyst: `{ party, inputs: { name: length | null } }` (null: a scalar). Shapes are public. */
  DescribeReply: 28,
  /** Node → analyst: `{ layer, layers, multiplications }` while a job runs (rate-limited). */
  JobProgress: 29,
  /** Node → dealer: `{ planHash, batches, parties }`: the job's triple needs. */
  DealerRequest: 30,
  /**
   * Party → party, on the main channel; `job` = ''. Body `{ ports }`: where this node's lane
   * threads listen (src/net/lanes.ts). The lower-indexed party dials each lane.
   */
  LaneOffer: 31,
  /**
   * Node → dealer: `{ granted }`, the bytes of DealerCorrections payload (an empty chunk
   * counting as one) the dealer may have sent on this job so far; never decreases.
   */
  DealerCredit: 32,
  /** Auditor → node: send me your audit log. No body; `job` is a request id. */
  AuditRead: 33,
  /**
   * Node → auditor: one piece of the audit log. Body `{ offset, total }` (bytes of the log
   * file as it was when the read began); `payload`: the bytes. The last piece ends at `total`.
   */
  AuditChunk: 34,
} as const;
export type ControlKind = (typeof ControlKind)[keyof typeof ControlKind];

/** Any frame kind: a protocol message kind or a control kind. */
export type FrameKind = MessageKind | ControlKind;

const PROTOCOL_KINDS: ReadonlySet<number> = new Set(Object.values(MessageKind));
const CONTROL_KINDS: ReadonlySet<number> = new Set(Object.values(ControlKind));

/** True for the protocol kinds of {@link MessageKind} (routed to a job's transport). */
export function isProtocolKind(kind: number): kind is MessageKind {
  return PROTOCOL_KINDS.has(kind);
}

/** True for the kinds of {@link ControlKind} (delivered to the node layer). */
export function isControlKind(kind: number): kind is ControlKind {
  return CONTROL_KINDS.has(kind);
}

/** A decoded frame. See the module comment for the layout. */
export interface Frame {
  v: typeof PROTOCOL_VERSION;
  job: string;
  round: number;
  kind: FrameKind;
  from: string;
  seq: number;
  payload?: Uint8Array;
  body?: unknown;
  /**
   * Protocol frames only: padded on the wire (see the module comment). Set by the decoder on
   * a padded frame only (absent otherwise); on encoding, asks for padding.
   */
  padded?: boolean;
}

/** Bounds applied when decoding a frame from a peer. */
export interface FrameLimits {
  /** Largest encoded frame accepted (ws `maxPayload` should be the same). */
  maxFrameBytes: number;
  /** Longest `job` / `from` string, in UTF-16 units (strings in `body` are bounded by the frame size). */
  maxStringLength: number;
  /** Deepest nesting of arrays/maps inside `body`. */
  maxBodyDepth: number;
}

/** 64 MiB frames, 256-character ids, body depth 16. */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxFrameBytes: 64 * 1024 * 1024,
  maxStringLength: 256,
  maxBodyDepth: 16,
});

// useRecords: false → plain msgpack maps (no msgpackr record extension); structuredClone and
// moreTypes off → no reference/typed-array extensions on the way out. int64AsType 'bigint'
// keeps 64-bit integers exact in `body`. The record-definition extension (0x72) is always
// honoured by msgpackr's decoder, so the validation below is what actually guards the input.
const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });
const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
});

const FRAME_KEYS: ReadonlySet<string> = new Set(['v', 'job', 'round', 'kind', 'from', 'seq', 'payload', 'body']);

/** First byte of a binary protocol frame; a msgpack map starts with 0x80–0x8f, 0xde or 0xdf. */
const BINARY_FORM = 0x00;
/** Bytes of the binary header before `job` and `from`. */
const FIXED_HEAD = 28;
/** Largest `high` word of a safe integer (2^53 − 1 = high·2^32 + low). */
const MAX_HIGH_WORD = 0x1fffff;
const MAX_FROM_BYTES = 0xff;
const MAX_JOB_BYTES = 0xffff;
const MAX_PAYLOAD_BYTES = 0xffffffff;

/**
 * A frame as it goes on the wire: `head`, then `payload` when present, then `padding` zero
 * bytes. The receiver must see their concatenation as one message. `payload` is the caller's
 * array itself, not a copy.
 */
export interface EncodedFrame {
  head: Uint8Array;
  payload: Uint8Array | undefined;
  /** A padded protocol frame (its layout on the wire must not depend on the payload length). */
  padded: boolean;
  /** Zero bytes after the payload: paddedLength(payload.length) − payload.length, 0 unless padded. */
  padding: number;
  /** head.length + payload.length + padding. */
  byteLength: number;
}

/**
 * The length a payload of `payloadBytes` bytes is padded to: the next power of two, at least
 * {@link MIN_PADDED_PAYLOAD}. On average a random length grows by 2·ln 2 ≈ 1.39×, at worst
 * by just under 2×; a power of two (a wide layer's full chunk) does not grow.
 */
export function paddedLength(payloadBytes: number): number {
  if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0) throw new RangeError(`expected a payload length >= 0, got ${String(payloadBytes)}`);
  let q = MIN_PADDED_PAYLOAD;
  while (q < payloadBytes) q *= 2;
  return q;
}

/**
 * One all-zero buffer per thread, grown (by doubling) to the largest padding asked for so
 * far, bounded by the frame limit. Never written to: the WebSocket layer only reads what it
 * sends (a client's masking writes into a copy, as ws does for every caller-owned buffer).
 */
let zeros = new Uint8Array(0);

/** `n` zero bytes, as a view of a shared all-zero buffer: read it, never write into it. */
export function zeroBytes(n: number): Uint8Array {
  if (n > zeros.length) zeros = new Uint8Array(Math.max(n, 2 * zeros.length, 4096));
  return zeros.subarray(0, n);
}

/**
 * Encode a frame without copying its payload: a protocol frame as its binary header plus the
 * caller's payload, a control frame as one msgpack buffer (`payload` undefined). A msgpack
 * buffer may share its ArrayBuffer with other encoded frames (msgpackr's allocation), so treat
 * `head` as read-only. Throws TypeError/RangeError on a malformed frame (a bug on our side,
 * not a peer's).
 */
export function encodeFrameParts(f: Frame): EncodedFrame {
  if (f.v !== PROTOCOL_VERSION) throw new RangeError(`expected frame.v ${PROTOCOL_VERSION}, got ${String(f.v)}`);
  if (typeof f.job !== 'string') throw new TypeError('expected frame.job to be a string');
  if (typeof f.from !== 'string') throw new TypeError('expected frame.from to be a string');
  assertUint('frame.round', f.round);
  assertUint('frame.seq', f.seq);
  if (f.payload !== undefined && !(f.payload instanceof Uint8Array)) throw new TypeError('expected frame.payload to be a Uint8Array');
  if (isProtocolKind(f.kind)) {
    if (f.payload === undefined) throw new TypeError(`protocol frame (kind ${f.kind}) needs a payload`);
    if (f.body !== undefined) throw new TypeError(`protocol frame (kind ${f.kind}) must not carry a body`);
    const padded = f.padded === true;
    const head = encodeBinaryHead(f.kind, f.job, f.from, f.round, f.seq, f.payload.length, padded);
    const padding = padded ? paddedLength(f.payload.length) - f.payload.length : 0;
    return { head, payload: f.payload, padded, padding, byteLength: head.length + f.payload.length + padding };
  }
  if (!isControlKind(f.kind)) throw new RangeError(`unknown frame kind ${f.kind}`);
  // Control frames are msgpack maps, which have no room for padding.
  if (f.padded === true) throw new TypeError(`control frame (kind ${f.kind}) cannot be padded; only protocol frames are`);
  // Build the map explicitly so the key order (and thus the bytes) is fixed.
  const m: Record<string, unknown> = { v: f.v, job: f.job, round: f.round, kind: f.kind, from: f.from, seq: f.seq };
  if (f.payload !== undefined) m.payload = f.payload;
  if (f.body !== undefined) m.body = f.body;
  const head = packr.pack(m);
  return { head, payload: undefined, padded: false, padding: 0, byteLength: head.length };
}

/**
 * Encode a frame as one buffer (a protocol frame's payload is copied behind its header; the
 * channel sends the two parts of {@link encodeFrameParts} instead). Same checks and errors.
 */
export function encodeFrame(f: Frame): Uint8Array {
  return joinFrame(encodeFrameParts(f));
}

/** The bytes of an encoded frame as one buffer (`head` itself when there is no payload). */
export function joinFrame({ head, payload, byteLength }: EncodedFrame): Uint8Array {
  if (payload === undefined) return head;
  const bytes = new Uint8Array(byteLength); // zero-filled: the padding, if any
  bytes.set(head);
  bytes.set(payload, head.length);
  return bytes;
}

function encodeBinaryHead(kind: number, job: string, from: string, round: number, seq: number, payloadBytes: number, padded: boolean): Uint8Array {
  const jobBytes = Buffer.byteLength(job, 'utf8');
  const fromBytes = Buffer.byteLength(from, 'utf8');
  if (fromBytes === 0 || fromBytes > MAX_FROM_BYTES) throw new RangeError(`expected frame.from to have 1..${MAX_FROM_BYTES} UTF-8 bytes, got ${fromBytes}`);
  if (jobBytes > MAX_JOB_BYTES) throw new RangeError(`expected frame.job to have at most ${MAX_JOB_BYTES} UTF-8 bytes, got ${jobBytes}`);
  if (payloadBytes > MAX_PAYLOAD_BYTES) throw new RangeError(`a protocol frame's payload is at most ${MAX_PAYLOAD_BYTES} bytes, got ${payloadBytes}`);
  const strings = FIXED_HEAD + jobBytes + fromBytes;
  const length = align8(strings);
  // allocUnsafe: small heads come from Node's buffer pool; every byte is written below.
  const h = Buffer.allocUnsafe(length);
  h[0] = BINARY_FORM;
  h[1] = PROTOCOL_VERSION;
  h[2] = kind;
  h[3] = fromBytes;
  h.writeUInt16LE(jobBytes, 4);
  h.writeUInt16LE(padded ? FrameFlag.Padded : 0, 6);
  h.writeUInt32LE(payloadBytes, 8);
  writeSafeUint(h, 12, round);
  writeSafeUint(h, 20, seq);
  h.write(job, FIXED_HEAD, 'utf8');
  h.write(from, FIXED_HEAD + jobBytes, 'utf8');
  h.fill(0, strings);
  return h;
}

/**
 * Decode and validate a frame received from a peer. Any problem — not a frame of either form,
 * trailing or missing bytes, unknown or missing keys, wrong types, unknown version or kind, a
 * kind in the wrong form, unknown flags, padding of the wrong length or not zero, too large,
 * body with non-plain values — throws MpcError FRAME. A protocol frame's payload is a view
 * into `bytes` (without the padding of a padded frame), not a copy.
 */
export function decodeFrame(bytes: Uint8Array, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Frame {
  if (!(bytes instanceof Uint8Array)) throw frameError('expected bytes');
  if (bytes.length > limits.maxFrameBytes) {
    throw frameError(`frame of ${bytes.length} bytes exceeds the limit of ${limits.maxFrameBytes}`);
  }
  if (bytes.length > 0 && bytes[0] === BINARY_FORM) return decodeBinary(bytes, limits);
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch (e) {
    throw new MpcError(ErrorCode.FRAME, `not a msgpack frame: ${(e as Error).message?.slice(0, 120)}`, { cause: e });
  }
  if (!isPlainObject(raw)) throw frameError(`expected a msgpack map, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!FRAME_KEYS.has(key)) throw frameError(`unknown key ${JSON.stringify(key.slice(0, 32))}`);
  }
  const { v, job, round, kind, from, seq, payload, body } = raw;
  if (v !== PROTOCOL_VERSION) throw frameError(`unsupported protocol version ${describe(v)}, expected ${PROTOCOL_VERSION}`);
  if (typeof job !== 'string' || job.length > limits.maxStringLength) throw frameError(`expected job to be a string, got ${describe(job)}`);
  if (typeof from !== 'string' || from.length === 0 || from.length > limits.maxStringLength) {
    throw frameError(`expected from to be a non-empty string, got ${describe(from)}`);
  }
  if (!isUint(round)) throw frameError(`expected round to be a non-negative integer, got ${describe(round)}`);
  if (!isUint(seq)) throw frameError(`expected seq to be a non-negative integer, got ${describe(seq)}`);
  if (typeof kind !== 'number' || !(isProtocolKind(kind) || isControlKind(kind))) throw frameError(`unknown frame kind ${describe(kind)}`);
  if (isProtocolKind(kind)) throw frameError(`protocol frame (kind ${kind}) as a msgpack map; protocol frames use the binary form`);
  if (payload !== undefined && !(payload instanceof Uint8Array)) throw frameError(`expected payload to be bytes, got ${describe(payload)}`);
  if (body !== undefined) checkBody(body, limits, 0);
  const f: Frame = { v: PROTOCOL_VERSION, job, round, kind, from, seq };
  if (payload !== undefined) f.payload = payload;
  if (body !== undefined) f.body = body;
  return f;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeBinary(b: Uint8Array, limits: FrameLimits): Frame {
  if (b.length < FIXED_HEAD) throw frameError(`binary frame of ${b.length} bytes is shorter than its ${FIXED_HEAD}-byte header`);
  if (b[1] !== PROTOCOL_VERSION) throw frameError(`unsupported protocol version ${b[1]}, expected ${PROTOCOL_VERSION}`);
  const kind = b[2];
  if (!isProtocolKind(kind)) {
    throw frameError(isControlKind(kind) ? `control frame (kind ${kind}) in the binary form; control frames are msgpack maps` : `unknown frame kind number ${kind}`);
  }
  const fromBytes = b[3];
  const jobBytes = b[4] | (b[5] << 8);
  const flags = b[6] | (b[7] << 8);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw frameError(`unknown header flags 0x${flags.toString(16).padStart(4, '0')}`);
  const padded = (flags & FrameFlag.Padded) !== 0;
  const payloadBytes = readUint32(b, 8);
  const round = readSafeUint(b, 12, 'round');
  const seq = readSafeUint(b, 20, 'seq');
  const strings = FIXED_HEAD + jobBytes + fromBytes;
  const headBytes = align8(strings);
  const end = headBytes + payloadBytes;
  if (!padded && b.length !== end) {
    throw frameError(`binary frame of ${b.length} bytes, its header announces ${headBytes} + ${payloadBytes}`);
  }
  if (padded) {
    const wire = headBytes + paddedLength(payloadBytes);
    if (b.length !== wire) {
      throw frameError(`padded binary frame of ${b.length} bytes, its header announces ${headBytes} + ${payloadBytes} padded to ${wire - headBytes}`);
    }
    if (Buffer.compare(b.subarray(end), zeroBytes(b.length - end)) !== 0) throw frameError('nonzero payload padding');
  }
  for (let i = strings; i < headBytes; i++) if (b[i] !== 0) throw frameError('nonzero header padding');
  const job = utf8Field(b, FIXED_HEAD, jobBytes, 'job');
  const from = utf8Field(b, FIXED_HEAD + jobBytes, fromBytes, 'from');
  if (job.length > limits.maxStringLength) throw frameError(`expected job to be a string, got ${describe(job)}`);
  if (from.length === 0 || from.length > limits.maxStringLength) throw frameError(`expected from to be a non-empty string, got ${describe(from)}`);
  const f: Frame = { v: PROTOCOL_VERSION, job, round, kind, from, seq, payload: b.subarray(headBytes, end) };
  if (padded) f.padded = true;
  return f;
}

function utf8Field(b: Uint8Array, at: number, length: number, name: string): string {
  try {
    return strictUtf8.decode(b.subarray(at, at + length));
  } catch {
    throw frameError(`${name} is not valid UTF-8`);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function readUint32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}

function readSafeUint(b: Uint8Array, at: number, name: string): number {
  const high = readUint32(b, at + 4);
  if (high > MAX_HIGH_WORD) throw frameError(`expected ${name} to be a safe integer, its high word is ${high}`);
  return high * 0x100000000 + readUint32(b, at);
}

function writeSafeUint(h: Buffer, at: number, x: number): void {
  h.writeUInt32LE(x >>> 0, at);
  h.writeUInt32LE(Math.floor(x / 0x100000000), at + 4);
}

/** Plain data only: what `body` may contain after decoding. */
function checkBody(x: unknown, limits: FrameLimits, depth: number): void {
  switch (typeof x) {
    case 'undefined': // msgpackr's ext 0 (an `undefined` property on the sender's side)
    case 'boolean':
    case 'number':
    case 'bigint':
      return;
    case 'string':
      // Bodies may legitimately carry long strings (a plan), bounded by the frame size only.
      return;
    case 'object':
      if (x === null || x instanceof Uint8Array) return;
      if (depth >= limits.maxBodyDepth) throw frameError(`body nested deeper than ${limits.maxBodyDepth}`);
      if (Array.isArray(x)) {
        for (const e of x) checkBody(e, limits, depth + 1);
        return;
      }
      if (isPlainObject(x)) {
        for (const k of Object.keys(x)) checkBody(x[k], limits, depth + 1);
        return;
      }
      throw frameError(`body contains a non-plain value (${describe(x)})`);
    default:
      throw frameError(`body contains a value of type ${typeof x}`);
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function assertUint(name: string, x: unknown): void {
  if (!isUint(x)) throw new RangeError(`expected ${name} to be a non-negative safe integer, got ${String(x)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (x instanceof Uint8Array) return `bytes(${x.length})`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  if (typeof x === 'string') return JSON.stringify(x.slice(0, 32));
  return `${typeof x} ${String(x)}`;
}

function frameError(message: string): MpcError {
  return new MpcError(ErrorCode.FRAME, `bad frame: ${message}`);
}
