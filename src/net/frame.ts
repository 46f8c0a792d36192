/**
 * The wire envelope: every WebSocket message between Tessera processes is exactly one frame,
 * one msgpack map. Share traffic rides in `payload` as a msgpack `bin` (raw bytes, one copy,
 * no per-element encoding); control messages carry a free-form msgpack `body`.
 *
 * Frame layout (msgpack map, keys in this order, optional keys omitted when absent):
 *
 * | key       | msgpack type | meaning                                                        |
 * |-----------|--------------|----------------------------------------------------------------|
 * | `v`       | uint         | {@link PROTOCOL_VERSION}; any other value is refused           |
 * | `job`     | str          | job id the frame belongs to (`''` for connection-level frames) |
 * | `round`   | uint         | protocol round within the job (0 for control frames)           |
 * | `kind`    | uint         | {@link MessageKind} (1..15) or {@link ControlKind} (>= 16)     |
 * | `from`    | str          | sender's principal id; must equal the channel's authenticated peer |
 * | `seq`     | uint         | per-channel, per-direction counter: 0, 1, 2, … (gap/replay detection) |
 * | `payload` | bin          | raw bytes: required for protocol kinds, optional for control   |
 * | `body`    | any          | control kinds only: plain msgpack (maps, arrays, str, bin, numbers, bool, nil) |
 *
 * Decoding never trusts the peer: the bytes are bounded, must be a single msgpack map with
 * exactly these keys and types, and `body` may only hold plain data (no Error/RegExp/Set/Date
 * extension objects, bounded depth).
 * @module
 */
import { Packr, Unpackr } from 'msgpackr';
import { ErrorCode, MpcError } from '../errors.ts';
import { MessageKind } from '../protocol/transport.ts';

/** Version of the envelope and handshake. Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1;

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

/**
 * Encode a frame. The payload is copied once into the msgpack `bin`; the result may share its
 * ArrayBuffer with other encoded frames (msgpackr's allocation), so treat it as read-only.
 * Throws TypeError/RangeError on a malformed frame (a bug on our side, not a peer's).
 */
export function encodeFrame(f: Frame): Uint8Array {
  if (f.v !== PROTOCOL_VERSION) throw new RangeError(`expected frame.v ${PROTOCOL_VERSION}, got ${String(f.v)}`);
  if (typeof f.job !== 'string') throw new TypeError('expected frame.job to be a string');
  if (typeof f.from !== 'string') throw new TypeError('expected frame.from to be a string');
  assertUint('frame.round', f.round);
  assertUint('frame.seq', f.seq);
  if (!isProtocolKind(f.kind) && !isControlKind(f.kind)) throw new RangeError(`unknown frame kind ${f.kind}`);
  if (f.payload !== undefined && !(f.payload instanceof Uint8Array)) throw new TypeError('expected frame.payload to be a Uint8Array');
  if (isProtocolKind(f.kind)) {
    if (f.payload === undefined) throw new TypeError(`protocol frame (kind ${f.kind}) needs a payload`);
    if (f.body !== undefined) throw new TypeError(`protocol frame (kind ${f.kind}) must not carry a body`);
  }
  // Build the map explicitly so the key order (and thus the bytes) is fixed.
  const m: Record<string, unknown> = { v: f.v, job: f.job, round: f.round, kind: f.kind, from: f.from, seq: f.seq };
  if (f.payload !== undefined) m.payload = f.payload;
  if (f.body !== undefined) m.body = f.body;
  return packr.pack(m);
}

/**
 * Decode and validate a frame received from a peer. Any problem — not msgpack, trailing bytes,
 * not a map, unknown or missing keys, wrong types, unknown version or kind, too large, body
 * with non-plain values — throws MpcError FRAME.
 */
export function decodeFrame(bytes: Uint8Array, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Frame {
  if (!(bytes instanceof Uint8Array)) throw frameError('expected bytes');
  if (bytes.length > limits.maxFrameBytes) {
    throw frameError(`frame of ${bytes.length} bytes exceeds the limit of ${limits.maxFrameBytes}`);
  }
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
  if (payload !== undefined && !(payload instanceof Uint8Array)) throw frameError(`expected payload to be bytes, got ${describe(payload)}`);
  if (isProtocolKind(kind)) {
    if (payload === undefined) throw frameError(`protocol frame (kind ${kind}) without payload`);
    if (body !== undefined) throw frameError(`protocol frame (kind ${kind}) with a body`);
  } else if (body !== undefined) {
    checkBody(body, limits, 0);
  }
  const f: Frame = { v: PROTOCOL_VERSION, job, round, kind, from, seq };
  if (payload !== undefined) f.payload = payload;
  if (body !== undefined) f.body = body;
  return f;
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
