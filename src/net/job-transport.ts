/**
 * {@link Transport} for one job over the peer mesh. Protocol frames of the job are routed
 * here by the mesh; the protocol asks for them by (from, kind, round), in any order relative
 * to their arrival.
 *
 * Guarantees to the protocol code:
 * - a message is delivered at most once; a second message with the same (from, kind, round)
 *   is a replay and aborts the job with PROTOCOL;
 * - messages that arrive before they are asked for are buffered, up to a byte cap per job
 *   (a peer running far ahead, or flooding, aborts the job with PROTOCOL);
 * - when a party of the job is lost, every pending and future `recv` rejects with PEER_LOST
 *   naming it; after `abort(reason)`, with `reason`;
 * - a padded job (`pad`) sends every message padded to its size bucket (frame.ts), and a
 *   message that arrives unpadded aborts the job with PROTOCOL naming the sender: a peer that
 *   ignores the padding the parties agreed on shows the network the sizes padding hides.
 * @module
 */
import { ErrorCode, MpcError } from '../errors.ts';
import type { MessageKind, Transport, TransportStats } from '../protocol/transport.ts';
import { emptyStats } from '../protocol/transport.ts';
import type { OutFrame } from './channel.ts';
import type { Frame } from './frame.ts';
import { isProtocolKind } from './frame.ts';

/** What a job transport needs from the mesh. */
export interface JobLink {
  /** Send a frame to a peer (by id); rejects with PEER_LOST when it is not connected. */
  send(peerId: string, frame: OutFrame): Promise<void>;
  /** The job is done: stop routing its frames here. */
  release(job: JobTransport): void;
}

/** Options of {@link JobTransport}. */
export interface JobTransportOptions {
  jobId: string;
  /** The job's party ids, in the job's order (index = party number in the protocol). */
  parties: readonly string[];
  /** Our id (must be in `parties`). */
  selfId: string;
  link: JobLink;
  /** Cap on payload bytes buffered ahead of `recv`. */
  maxBufferedBytes: number;
  /**
   * A `recv` still unanswered after this long aborts the job with PEER_LOST naming the
   * silent party: a peer that stays connected (so the heartbeat is happy) but stops taking
   * part must not stall the job forever. Default 120 s, far above any honest gap.
   */
  recvTimeoutMs?: number;
  /**
   * Pad every message of the job to its size bucket (frame.ts), and require the peers' to be
   * padded too (the job option `pad`, which a node policy's `requirePadding` insists on).
   * Default false: messages go unpadded, and padded ones are accepted all the same.
   */
  pad?: boolean;
}

interface Waiter {
  resolve: (payload: Uint8Array) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_RECV_TIMEOUT_MS = 120_000;

/**
 * One job's view of the network. Stats count payload bytes only (the protocol's own cost);
 * framing overhead is in the channels' stats.
 */
export class JobTransport implements Transport {
  readonly self: number;
  readonly n: number;
  readonly jobId: string;
  readonly parties: readonly string[];
  /** Messages are sent padded, and must arrive padded. */
  readonly pad: boolean;
  readonly #link: JobLink;
  readonly #maxBuffered: number;
  readonly #index: ReadonlyMap<string, number>;
  readonly #stats = emptyStats();
  /** Arrived, not yet asked for. */
  readonly #buffered = new Map<string, Uint8Array>();
  #bufferedBytes = 0;
  /** Asked for, not yet arrived. */
  readonly #waiting = new Map<string, Waiter>();
  /** Every key ever delivered or buffered: a second arrival is a replay. */
  readonly #seen = new Set<string>();
  /** Every key ever asked for: asking twice is a bug in the caller. */
  readonly #asked = new Set<string>();
  #aborted: Error | undefined;
  #disposed = false;
  readonly #recvTimeoutMs: number;

  constructor(opts: JobTransportOptions) {
    this.jobId = opts.jobId;
    this.parties = [...opts.parties];
    this.n = this.parties.length;
    this.self = this.parties.indexOf(opts.selfId);
    if (this.self < 0) throw new RangeError(`expected ${opts.selfId} among the job's parties [${this.parties.join(',')}]`);
    this.#index = new Map(this.parties.map((id, i) => [id, i]));
    if (this.#index.size !== this.n) throw new RangeError(`job ${opts.jobId}: duplicate party in [${this.parties.join(',')}]`);
    this.#link = opts.link;
    this.#maxBuffered = opts.maxBufferedBytes;
    this.#recvTimeoutMs = opts.recvTimeoutMs ?? DEFAULT_RECV_TIMEOUT_MS;
    this.pad = opts.pad === true;
  }

  /** The abort reason, once aborted. */
  get aborted(): Error | undefined {
    return this.#aborted;
  }

  async send(to: number, kind: MessageKind, round: number, payload: Uint8Array): Promise<void> {
    this.#checkPeerIndex('to', to);
    if (this.#aborted !== undefined) throw this.#aborted;
    if (!isProtocolKind(kind)) throw new RangeError(`expected a protocol message kind, got ${kind}`);
    if (!(payload instanceof Uint8Array)) throw new TypeError('expected payload to be a Uint8Array');
    await this.#link.send(this.parties[to], { job: this.jobId, round, kind, payload, pad: this.pad });
    this.#stats.bytesSent += payload.length;
    this.#stats.messagesSent++;
  }

  recv(from: number, kind: MessageKind, round: number): Promise<Uint8Array> {
    try {
      this.#checkPeerIndex('from', from);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#aborted !== undefined) return Promise.reject(this.#aborted);
    const k = key(from, kind, round);
    if (this.#asked.has(k)) {
      return Promise.reject(new RangeError(`job ${this.jobId}: recv(${from}, ${kind}, ${round}) asked twice`));
    }
    this.#asked.add(k);
    const got = this.#buffered.get(k);
    if (got !== undefined) {
      this.#buffered.delete(k);
      this.#bufferedBytes -= got.length;
      return Promise.resolve(got);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const who = this.parties[from];
        this.abort(new MpcError(ErrorCode.PEER_LOST, `party ${who} sent nothing for job ${this.jobId} in ${this.#recvTimeoutMs / 1000} s (kind ${kind}, round ${round})`, { party: who }));
      }, this.#recvTimeoutMs);
      timer.unref();
      this.#waiting.set(k, { resolve, reject, timer });
    });
  }

  abort(reason: Error): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = reason;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(reason);
    }
    this.#waiting.clear();
    this.#buffered.clear();
    this.#bufferedBytes = 0;
  }

  stats(): TransportStats {
    return { ...this.#stats };
  }

  /**
   * The job is over (finished or failed): stop receiving its frames. Pending receives fail
   * with ABORTED. Later frames for this job id are dropped by the mesh.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.abort(new MpcError(ErrorCode.ABORTED, `job ${this.jobId} is finished`));
    this.#link.release(this);
  }

  /**
   * Called by the mesh with a protocol frame of this job from the authenticated peer
   * `peerId`. Violations abort the job (and are returned so the mesh can log them).
   * @internal
   */
  deliver(peerId: string, f: Frame): MpcError | undefined {
    if (this.#aborted !== undefined) return undefined;
    const from = this.#index.get(peerId);
    if (from === undefined || from === this.self) {
      return this.#violation(peerId, `${peerId} is not a party of job ${this.jobId}`);
    }
    if (this.pad && f.padded !== true) {
      return this.#violation(peerId, `party ${peerId} sent an unpadded message in job ${this.jobId}, whose messages must be padded (kind ${f.kind}, round ${f.round})`);
    }
    const payload = f.payload as Uint8Array; // decodeFrame guarantees it for protocol kinds
    const k = key(from, f.kind, f.round);
    if (this.#seen.has(k)) {
      return this.#violation(peerId, `replayed message from ${peerId} in job ${this.jobId} (kind ${f.kind}, round ${f.round})`);
    }
    this.#seen.add(k);
    this.#stats.bytesReceived += payload.length;
    this.#stats.messagesReceived++;
    const w = this.#waiting.get(k);
    if (w !== undefined) {
      this.#waiting.delete(k);
      clearTimeout(w.timer);
      w.resolve(payload);
      return undefined;
    }
    if (this.#asked.has(k)) {
      // Asked for and already answered: cannot happen without a replay, which #seen caught.
      return this.#violation(peerId, `unexpected message from ${peerId} in job ${this.jobId}`);
    }
    this.#bufferedBytes += payload.length;
    if (this.#bufferedBytes > this.#maxBuffered) {
      return this.#violation(
        peerId,
        `job ${this.jobId}: more than ${this.#maxBuffered} bytes buffered ahead of the protocol (last from ${peerId}, kind ${f.kind}, round ${f.round})`,
      );
    }
    this.#buffered.set(k, payload);
    return undefined;
  }

  /** Payload bytes buffered ahead of `recv` (for monitoring and tests). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  #violation(peerId: string, msg: string): MpcError {
    const e = new MpcError(ErrorCode.PROTOCOL, msg, { party: peerId });
    this.abort(e);
    return e;
  }

  #checkPeerIndex(name: string, i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`expected ${name} in 0..${this.n - 1}, got ${i}`);
    if (i === this.self) throw new RangeError(`job ${this.jobId}: messages to or from self (${i}) never go over the network`);
  }
}

function key(from: number, kind: number, round: number): string {
  return `${from}/${kind}/${round}`;
}
