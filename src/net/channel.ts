/**
 * One authenticated WebSocket between two Tessera processes, carrying {@link Frame}s.
 *
 * The channel, not the frame, is the source of truth for identity: the peer was authenticated
 * by its certificate when the connection was made, and every frame it sends must say so in
 * `from`. Frames are numbered per direction (`seq` 0, 1, 2, …) so a gap or a replay on the
 * channel is caught even before job-level checks.
 *
 * Life cycle: a new channel is *paused* — received frames are queued until `resume()`, so the
 * Hello exchange ({@link read}) and the hand-over to the consumer lose nothing. It ends exactly
 * once, with a 'close' event carrying the reason; after that `send` rejects with PEER_LOST.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { ErrorCode, MpcError } from '../errors.ts';
import type { TransportStats } from '../protocol/transport.ts';
import { emptyStats } from '../protocol/transport.ts';
import type { Identity } from '../security/identity.ts';
import { formatIdentity } from '../security/identity.ts';
import { ControlKind, decodeFrame, DEFAULT_FRAME_LIMITS, encodeFrameParts, joinFrame, PROTOCOL_VERSION, zeroBytes } from './frame.ts';
import type { EncodedFrame, Frame, FrameKind, FrameLimits } from './frame.ts';
import type { NetLog } from './log.ts';
import { silentLog } from './log.ts';

/**
 * WebSocket close codes used by Tessera (RFC 6455 §7.4; 4000–4999 are application codes).
 * The peer sees the code and the reason text, so both ends can report the same cause.
 */
export const CloseCode = {
  /** Orderly close. */
  Normal: 1000,
  /** The process is shutting down. */
  GoingAway: 1001,
  /** The connection dropped without a close frame (never sent, only observed). */
  Abnormal: 1006,
  /** A frame exceeded the receiver's maxPayload (sent by ws itself). */
  TooBig: 1009,
  /** The receiving process is not ready for this kind of peer yet; retry later. */
  TryAgainLater: 1013,
  /** Hello mismatch: version, federation, claimed identity, n or party list. */
  HelloMismatch: 4001,
  /** The peer broke the framing or protocol rules (bad frame, sequence, sender, replay). */
  Violation: 4002,
  /** The peer is authenticated but not welcome on this channel (wrong role/direction/party). */
  Refused: 4003,
  /** A newer connection from the same peer replaced this one. */
  Replaced: 4004,
  /** No traffic (not even pongs) within the heartbeat timeout. */
  Silent: 4005,
} as const;

/** A frame to send; the channel fills in `v`, `from` and `seq`. */
export interface OutFrame {
  job: string;
  round: number;
  kind: FrameKind;
  payload?: Uint8Array;
  body?: unknown;
  /** Pad the payload to its power-of-two bucket (frame.ts). Protocol frames only. */
  pad?: boolean;
}

/** Why a channel ended. `error` is set unless this side closed it on purpose. */
export interface ChannelClose {
  code: number;
  reason: string;
  /** True when the peer (or the network) ended the channel, false when this side did. */
  remote: boolean;
  error?: MpcError;
}

/** Liveness probing: a WebSocket ping every `intervalMs`; no traffic for `timeoutMs` → dead. */
export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

/** Options of {@link Channel}. */
export interface ChannelOptions {
  /** Our own identity; outgoing frames carry `self.id` as `from`. */
  self: Identity;
  /** The peer's identity, as authenticated by its certificate. */
  peer: Identity;
  /**
   * The socket under the WebSocket. A frame's header and payload (and a padded frame's tail)
   * are sent as fragments of one WebSocket message; corking the socket around them makes them
   * one write, which TLS encrypts as one.
   */
  socket: CorkableSocket;
  limits?: FrameLimits;
  /** `send` waits while more than this many bytes are queued in the socket. Default 8 MiB. */
  highWaterMark?: number;
  /** Default `{ intervalMs: 1000, timeoutMs: 5000 }`; `false` disables it. */
  heartbeat?: HeartbeatOptions | false;
  log?: NetLog;
}

/** What the channel needs of the socket under its WebSocket. */
export type CorkableSocket = Pick<Writable, 'cork' | 'uncork'>;

/** Events of a {@link Channel}. */
export interface ChannelEvents {
  frame: [Frame];
  close: [ChannelClose];
  error: [MpcError];
}

/** 8 MiB: large enough to keep a loopback link busy, small enough to bound memory per peer. */
export const DEFAULT_HIGH_WATER_MARK = 8 * 1024 * 1024;
/** Heartbeat defaults: a silent peer is declared dead 5–6 s after its last sign of life. */
export const DEFAULT_HEARTBEAT: Readonly<HeartbeatOptions> = Object.freeze({ intervalMs: 1000, timeoutMs: 5000 });
/**
 * Payloads up to this size are copied behind their header into one WebSocket frame: cheaper
 * than a second fragment, which the receiver has to reassemble (a copy of its own).
 */
const COPY_PAYLOAD_MAX = 4096;
/**
 * 64 KiB: the shortest WebSocket frame whose length takes ws's 8-byte form (RFC 6455 §5.2).
 * Padded payloads up to this bucket are copied into one WebSocket frame; above it, the tail
 * fragment of a padded frame is at least this long (see #writePadded).
 */
const PAD_SPLIT = 65536;
const WHOLE = { binary: true } as const;
const FIRST_FRAGMENT = { binary: true, fin: false } as const;
const MORE_FRAGMENT = { binary: true, fin: false } as const;
const LAST_FRAGMENT = { binary: true, fin: true } as const;
// If the peer does not complete the closing handshake, drop the socket after this long
// (ws itself would wait 30 s).
const CLOSE_GRACE_MS = 1000;

/**
 * A framed, authenticated, sequenced connection to one peer.
 *
 * 'error' is emitted for problems attributable to a party (bad frames, oversize frames, a
 * silent peer, the peer reporting a violation by us); it is only emitted when someone
 * listens, otherwise it is logged. 'close' is always emitted exactly once.
 */
export class Channel extends EventEmitter<ChannelEvents> {
  /** The authenticated peer. */
  readonly peer: Identity;
  /** Our own identity. */
  readonly self: Identity;
  /** Resolves with the close info when the channel has ended. */
  readonly whenClosed: Promise<ChannelClose>;

  readonly #ws: WebSocket;
  readonly #socket: CorkableSocket;
  readonly #limits: FrameLimits;
  readonly #hwm: number;
  readonly #log: NetLog;
  readonly #stats: TransportStats = emptyStats();
  #sendSeq = 0;
  #recvSeq = 0;
  #closeInfo: ChannelClose | undefined;
  #resolveClosed!: (c: ChannelClose) => void;
  #drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  #flowing = false;
  #queue: Frame[] = [];
  #queuedBytes = 0;
  #readers: Array<{ resolve: (f: Frame) => void; reject: (e: Error) => void }> = [];
  #lastSeen = Date.now();
  #heartbeat: NodeJS.Timeout | undefined;
  #pings = new Map<number, () => void>();
  #pingNonce = 0;

  constructor(ws: WebSocket, opts: ChannelOptions) {
    super();
    this.#ws = ws;
    this.#socket = opts.socket;
    this.peer = opts.peer;
    this.self = opts.self;
    this.#limits = opts.limits ?? DEFAULT_FRAME_LIMITS;
    this.#hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#log = opts.log ?? silentLog;
    this.whenClosed = new Promise((resolve) => (this.#resolveClosed = resolve));
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('pong', () => (this.#lastSeen = Date.now()));
    ws.on('ping', () => (this.#lastSeen = Date.now()));
    ws.on('error', (e) => this.#onWsError(e));
    ws.on('close', (code, reason) => this.#onWsClose(code, reason.toString('utf8')));
    const hb = opts.heartbeat ?? DEFAULT_HEARTBEAT;
    if (hb !== false) {
      this.#heartbeat = setInterval(() => this.#beat(hb), hb.intervalMs);
      this.#heartbeat.unref();
    }
    if (ws.readyState !== ws.OPEN) {
      this.#finish({ code: CloseCode.Abnormal, reason: 'socket not open', remote: true, error: this.#lost('socket not open') });
    }
  }

  /** Bytes and frames sent and received on the wire (whole encoded frames). */
  stats(): TransportStats {
    return { ...this.#stats };
  }

  /** True once the channel has ended. */
  get closed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** Why the channel ended, once it has. */
  get closeInfo(): ChannelClose | undefined {
    return this.#closeInfo;
  }

  /**
   * Send a frame. Resolves at once unless more than the high-water mark is buffered in the
   * socket, in which case it resolves when the buffer has drained to half of it — so a
   * sender that awaits `send` cannot run ahead of the network. Frames go out in call order.
   * A protocol frame's payload is not copied: the socket may read it after `send` returned,
   * so it must not be modified afterwards (the Transport contract says the same).
   * Rejects with PEER_LOST when the channel is closed, FRAME when the frame exceeds our limit.
   */
  send(out: OutFrame): Promise<void> {
    if (this.#closeInfo !== undefined) return Promise.reject(this.#lostAfterClose());
    let frame: EncodedFrame;
    try {
      frame = encodeFrameParts({
        v: PROTOCOL_VERSION,
        job: out.job,
        round: out.round,
        kind: out.kind,
        from: this.self.id,
        seq: this.#sendSeq,
        payload: out.payload,
        body: out.body,
        padded: out.pad === true,
      });
    } catch (e) {
      return Promise.reject(e);
    }
    if (frame.byteLength > this.#limits.maxFrameBytes) {
      return Promise.reject(
        new MpcError(ErrorCode.FRAME, `frame of ${frame.byteLength} bytes to ${this.peer.id} exceeds the limit of ${this.#limits.maxFrameBytes}`, {
          party: this.peer.id,
        }),
      );
    }
    this.#sendSeq++;
    this.#stats.bytesSent += frame.byteLength;
    this.#stats.messagesSent++;
    this.#write(frame);
    if (this.#ws.bufferedAmount <= this.#hwm) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** Round-trip time in ms of an application-level Ping/Pong (see {@link ControlKind.Ping}). */
  async ping(timeoutMs = 5000): Promise<number> {
    const nonce = ++this.#pingNonce;
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const pong = new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => {
        this.#pings.delete(nonce);
        reject(new MpcError(ErrorCode.PEER_LOST, `no pong from ${this.peer.id} within ${timeoutMs} ms`, { party: this.peer.id }));
      }, timeoutMs);
      this.#pings.set(nonce, () => resolve(performance.now() - t0));
      void this.whenClosed.then(() => reject(this.#lostAfterClose()));
    });
    pong.catch(() => {}); // if the send below fails, its error is the one reported
    try {
      await this.send({ job: '', round: 0, kind: ControlKind.Ping, body: { nonce } });
      return await pong;
    } finally {
      clearTimeout(timer);
      this.#pings.delete(nonce);
    }
  }

  /**
   * The next received frame, for handshakes on a paused channel. Rejects when the channel
   * closes or nothing arrives within `timeoutMs`.
   */
  read(timeoutMs: number): Promise<Frame> {
    if (this.#flowing) return Promise.reject(new Error('read() on a flowing channel'));
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      this.#queuedBytes -= queued.payload?.length ?? 0;
      return Promise.resolve(queued);
    }
    if (this.#closeInfo !== undefined) return Promise.reject(this.#lostAfterClose());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readers = this.#readers.filter((r) => r.resolve !== ok);
        reject(new MpcError(ErrorCode.PEER_LOST, `nothing received from ${this.peer.id} within ${timeoutMs} ms`, { party: this.peer.id }));
      }, timeoutMs);
      const ok = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.#readers.push({
        resolve: ok,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Start emitting 'frame' events, first for the frames queued while paused. Attach listeners first. */
  resume(): void {
    if (this.#flowing) return;
    this.#flowing = true;
    const queued = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const f of queued) {
      if (this.#closeInfo !== undefined) return;
      this.emit('frame', f);
    }
  }

  /** Close with `code` and `reason` (sent to the peer). Idempotent. */
  close(code: number = CloseCode.Normal, reason = ''): void {
    this.#closeLocally({ code, reason, remote: false });
  }

  /**
   * Close because the peer misbehaved or went silent: report `error` ('error' event and the
   * close info), then close with `code`.
   */
  fail(error: MpcError, code: number = CloseCode.Violation): void {
    if (this.#closeInfo !== undefined) return;
    this.#report(error);
    this.#closeLocally({ code, reason: error.message, remote: false, error });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closeInfo !== undefined) return;
    this.#lastSeen = Date.now();
    const buf = data as Buffer; // binaryType 'nodebuffer': always one Buffer
    this.#stats.bytesReceived += buf.length;
    this.#stats.messagesReceived++;
    if (!isBinary) return this.fail(this.#err(ErrorCode.FRAME, `text message from ${this.peer.id}; frames are binary`));
    let f: Frame;
    try {
      f = decodeFrame(buf, this.#limits);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return this.fail(this.#err(ErrorCode.FRAME, `from ${this.peer.id}: ${msg}`, e));
    }
    if (f.from !== this.peer.id) {
      return this.fail(
        this.#err(ErrorCode.PROTOCOL, `frame claims sender ${f.from} but channel is authenticated as ${this.peer.id}`),
      );
    }
    if (f.seq !== this.#recvSeq) {
      return this.fail(
        this.#err(
          ErrorCode.FRAME,
          `frame from ${this.peer.id} out of sequence: expected seq ${this.#recvSeq}, got ${f.seq} (${f.seq < this.#recvSeq ? 'replay' : 'gap'})`,
        ),
      );
    }
    this.#recvSeq++;
    // Application-level ping is answered here, so every consumer gets it for free.
    if (f.kind === ControlKind.Ping) {
      void this.send({ job: '', round: 0, kind: ControlKind.Pong, body: f.body }).catch(() => {});
      return;
    }
    if (f.kind === ControlKind.Pong) {
      const nonce = (f.body as { nonce?: unknown } | undefined)?.nonce;
      const done = typeof nonce === 'number' ? this.#pings.get(nonce) : undefined;
      if (done !== undefined) {
        this.#pings.delete(nonce as number);
        done();
      }
      return;
    }
    if (this.#flowing) {
      this.emit('frame', f);
      return;
    }
    const reader = this.#readers.shift();
    if (reader !== undefined) return reader.resolve(f);
    this.#queue.push(f);
    this.#queuedBytes += f.payload?.length ?? 0;
    // Paused only for the handshake and hand-over; a peer that floods us meanwhile is cut off.
    if (this.#queuedBytes > Math.max(this.#limits.maxFrameBytes, 16 * 1024 * 1024) || this.#queue.length > 1024) {
      this.fail(this.#err(ErrorCode.PROTOCOL, `${this.peer.id} sent too much before the channel was set up`));
    }
  }

  /** One WebSocket message whose bytes are `head` then `payload`; the payload is not copied when large. */
  #write(frame: EncodedFrame): void {
    const { head, payload } = frame;
    if (frame.padded) return this.#writePadded(frame);
    if (payload === undefined || payload.length <= COPY_PAYLOAD_MAX) return this.#ws.send(joinFrame(frame), WHOLE, this.#onWritten);
    this.#socket.cork();
    try {
      this.#ws.send(head, FIRST_FRAGMENT);
      this.#ws.send(payload, LAST_FRAGMENT, this.#onWritten);
    } finally {
      this.#socket.uncork();
    }
  }

  /**
   * A padded frame, sent so that what an observer of the TLS stream can count — the total of
   * WebSocket frame headers and data, which Node's TLS cuts into records by length only (a
   * corked write is encrypted as one) — depends on the bucket Q and the header only, never on
   * the payload length P within the bucket. A WebSocket header is 2, 4 or 10 bytes (+4 mask)
   * depending on its fragment's length, so fragments are cut by Q:
   * - Q ≤ 64 KiB: one WebSocket frame, the payload copied behind the header (≤ 64 KiB copied);
   * - Q ≥ 128 KiB: three fragments — the header; the payload but for a tail; and at least
   *   64 KiB of tail: the padding alone when it is that long (a slice of the shared zeros),
   *   else the payload's last 64 KiB − padding bytes, copied, followed by the padding. Both
   *   the middle fragment (Q − 64 KiB, or P > Q/2) and the last are then at least 64 KiB
   *   long: 10-byte headers for every P in the bucket. At most 64 KiB is copied.
   */
  #writePadded(frame: EncodedFrame): void {
    const { head, padding } = frame;
    const payload = frame.payload as Uint8Array; // protocol frames only
    if (payload.length + padding <= PAD_SPLIT) return this.#ws.send(joinFrame(frame), WHOLE, this.#onWritten);
    const copied = padding >= PAD_SPLIT ? 0 : PAD_SPLIT - padding;
    const cut = payload.length - copied;
    let tail: Uint8Array;
    if (copied === 0) {
      tail = zeroBytes(padding);
    } else {
      tail = new Uint8Array(PAD_SPLIT); // zero-filled: the padding follows the copied bytes
      tail.set(payload.subarray(cut));
    }
    this.#socket.cork();
    try {
      this.#ws.send(head, FIRST_FRAGMENT);
      this.#ws.send(payload.subarray(0, cut), MORE_FRAGMENT);
      this.#ws.send(tail, LAST_FRAGMENT, this.#onWritten);
    } finally {
      this.#socket.uncork();
    }
  }

  #onWritten = (): void => {
    if (this.#drainWaiters.length === 0) return;
    if (this.#ws.bufferedAmount > this.#hwm / 2) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  };

  #onWsError(e: Error & { code?: string }): void {
    if (this.#closeInfo !== undefined) return;
    // ws reports receive-side violations (maxPayload, bad opcodes, …) here and then closes
    // the socket itself with the matching code (1009 for maxPayload).
    const code = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? CloseCode.TooBig : CloseCode.Violation;
    const what = code === CloseCode.TooBig ? `frame from ${this.peer.id} exceeds maxPayload (${e.message})` : `WebSocket error from ${this.peer.id}: ${e.message}`;
    const err = this.#err(code === CloseCode.TooBig || e.code?.startsWith('WS_ERR_') ? ErrorCode.FRAME : ErrorCode.PEER_LOST, what, e);
    this.#report(err);
    // ws has already started the closing handshake; do not send a second close frame.
    this.#finish({ code, reason: err.message, remote: false, error: err });
    this.#terminateLater();
  }

  #onWsClose(code: number, reason: string): void {
    if (this.#closeInfo !== undefined) return;
    const error = this.#remoteCloseError(code, reason);
    if (!isLoss(code)) this.#report(error);
    this.#finish({ code, reason, remote: true, error });
  }

  #beat(hb: HeartbeatOptions, afterIo = false): void {
    if (this.#closeInfo !== undefined) return;
    const quiet = Date.now() - this.#lastSeen;
    if (quiet > hb.timeoutMs) {
      // Timers run before the event loop reads sockets. After a stall of our own (a long
      // synchronous task, a starved process) the peer's pings may be waiting unread: judge
      // only after one pass of I/O (setImmediate runs right after it).
      if (!afterIo) return void setImmediate(() => this.#beat(hb, true));
      const err = this.#err(ErrorCode.PEER_LOST, `no traffic from ${this.peer.id} for ${quiet} ms (heartbeat timeout ${hb.timeoutMs} ms)`);
      this.#report(err);
      this.#finish({ code: CloseCode.Silent, reason: err.message, remote: false, error: err });
      this.#ws.terminate(); // a silent peer will not answer a closing handshake
      return;
    }
    if (afterIo) return;
    try {
      this.#ws.ping();
    } catch {
      // the socket is closing; the 'close' event will follow
    }
  }

  #closeLocally(info: ChannelClose): void {
    if (this.#closeInfo !== undefined) return;
    this.#finish(info);
    try {
      this.#ws.close(info.code, truncateReason(info.reason));
    } catch {
      this.#ws.terminate();
    }
    this.#terminateLater();
  }

  #terminateLater(): void {
    setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** The single exit: record the reason, fail waiters, emit 'close'. */
  #finish(info: ChannelClose): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    const lost = this.#lostAfterClose();
    for (const w of this.#drainWaiters) w.reject(lost);
    this.#drainWaiters = [];
    for (const r of this.#readers) r.reject(lost);
    this.#readers = [];
    this.#queue = [];
    this.#log(info.error ? 'warn' : 'debug', `channel to ${formatIdentity(this.peer)} closed`, {
      peer: this.peer.id,
      code: info.code,
      reason: info.reason,
      remote: info.remote,
      error: info.error?.message,
    });
    this.#resolveClosed(info);
    this.emit('close', info);
  }

  #report(err: MpcError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.#log('warn', err.message, { peer: this.peer.id, code: err.code });
  }

  #remoteCloseError(code: number, reason: string): MpcError {
    const who = this.peer.id;
    const why = reason ? `: ${reason}` : '';
    switch (code) {
      case CloseCode.TooBig:
        return this.#err(ErrorCode.FRAME, `${who} closed the channel with 1009: a frame we sent exceeded its maxPayload${why}`);
      case CloseCode.HelloMismatch:
        return this.#err(ErrorCode.PROTOCOL, `${who} refused our Hello${why}`);
      case CloseCode.Violation:
        return this.#err(ErrorCode.PROTOCOL, `${who} reports a protocol violation by us${why}`);
      case CloseCode.Refused:
        return this.#err(ErrorCode.PEER_AUTH, `${who} refused the channel${why}`);
      case CloseCode.Abnormal:
        return this.#err(ErrorCode.PEER_LOST, `connection to ${who} lost (no close frame)`);
      default:
        if (!isLoss(code)) return this.#err(ErrorCode.PROTOCOL, `${who} closed the channel with code ${code}${why}`);
        return this.#err(ErrorCode.PEER_LOST, `${who} closed the channel (${code}${why})`);
    }
  }

  #lost(detail: string): MpcError {
    return this.#err(ErrorCode.PEER_LOST, `channel to ${this.peer.id}: ${detail}`);
  }

  #lostAfterClose(): MpcError {
    const info = this.#closeInfo;
    if (info?.error !== undefined && info.error.code === ErrorCode.PEER_LOST) return info.error;
    const why = info?.error?.message ?? (info?.reason || `code ${info?.code}`);
    return this.#err(ErrorCode.PEER_LOST, `channel to ${this.peer.id} is closed (${why})`, info?.error);
  }

  #err(code: ErrorCode, message: string, cause?: unknown): MpcError {
    return new MpcError(code, message, { party: this.peer.id, cause });
  }
}

/** Close codes that mean "the peer went away" rather than "something was wrong". */
function isLoss(code: number): boolean {
  return (
    code === CloseCode.Normal ||
    code === CloseCode.GoingAway ||
    code === CloseCode.Abnormal ||
    code === CloseCode.TryAgainLater ||
    code === CloseCode.Replaced ||
    code === CloseCode.Silent ||
    code === 1005 // no status code
  );
}

/** Close reasons are limited to 123 bytes of UTF-8 (RFC 6455 §5.5). */
export function truncateReason(reason: string): string {
  const b = Buffer.from(reason, 'utf8');
  if (b.length <= 123) return reason;
  let s = b.subarray(0, 120).toString('utf8');
  while (Buffer.byteLength(s) > 120) s = s.slice(0, -1);
  return s + '...';
}
