/**
 * A node's lanes: worker threads that each own their own mTLS WebSocket channel to the same
 * lane of every peer (issue 5, "parallel channels"). A wide layer is cut into chunks
 * (executor.ts); chunk c's messages travel on lane c mod L (those of LANE_MIN_BYTES or more), so the TLS encryption, the
 * WebSocket framing and the frame encoding of different chunks run on different threads, in
 * parallel with each other and with the main thread's protocol logic.
 *
 * What stays on the main thread: every decision. A lane only moves frames. Frames it
 * receives are checked there exactly as on the main channel (certificate identity, Hello,
 * sequence numbers, frame limits: it is the same `Channel` code), then handed to the main
 * thread, which routes them to the job's transport like any other frame (job membership,
 * replays, sizes). A lane carries job messages only: a control frame on a lane is a
 * violation and closes it.
 *
 * Connections: each lane listens on an ephemeral port of the node's listen address. Once the
 * main channel between two parties is up, the higher-indexed party offers its lane ports
 * (ControlKind.LaneOffer, on the authenticated main channel), and the lower-indexed party's
 * lane i dials the peer's lane i at the peer's configured host — the same "lower index
 * dials" rule as the mesh, so there is one connection per pair and lane. Lanes are an
 * optimisation, never a dependency: a frame whose lane is not up goes over the main
 * channel, and the receiver accepts a job's frames from either. A lane that is lost while
 * up aborts the jobs with that peer (frames may have been lost with it), like a lost main
 * channel; jobs started afterwards use the main channel until the lane is back.
 * @module
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { ErrorCode, MpcError } from '../errors.ts';
import type { MessageKind } from '../protocol/transport.ts';
import { tsxWorkerSource } from '../util/worker-loader.ts';
import type { HeartbeatOptions, OutFrame } from './channel.ts';
import { wssUrl } from './client.ts';
import { PROTOCOL_VERSION, isProtocolKind } from './frame.ts';
import type { Frame } from './frame.ts';
import type { LogLevel, NetLog } from './log.ts';
import { silentLog } from './log.ts';
import type { TlsMaterial } from './tls.ts';

const LANE_WORKER = tsxWorkerSource(new URL('../../workers/lane.ts', import.meta.url));

/** How long `startLanes` waits for every lane to listen. */
const START_TIMEOUT_MS = 30_000;

/** Most lanes a node may run (a typo guard, like the kernel pool's MAX_THREADS). */
export const MAX_LANES = 64;

/** What a lane worker is started with. */
export interface LaneWorkerData {
  lane: number;
  tls: TlsMaterial;
  /** The federation's party ids, in order. */
  parties: string[];
  /** Address the lane listens on (the node's listen host). */
  host: string;
  maxPayload?: number;
  highWaterMark?: number;
  heartbeat?: HeartbeatOptions | false;
}

/** Main thread → lane. */
export type LaneCommand =
  | { t: 'dial'; peer: string; url: string }
  | { t: 'drop'; peer: string }
  | { t: 'tls'; tls: TlsMaterial }
  | { t: 'send'; id: number; peer: string; job: string; kind: MessageKind; round: number; payload: Uint8Array; pad: boolean }
  | { t: 'close' };

/** Lane → main thread. */
export type LaneEvent =
  | { t: 'listening'; port: number }
  | { t: 'up'; peer: string }
  | { t: 'lost'; peer: string; code: ErrorCode; message: string; local: boolean }
  | { t: 'frame'; peer: string; job: string; kind: MessageKind; round: number; seq: number; payload: Uint8Array; padded: boolean }
  | { t: 'sent'; id: number; error?: { code: ErrorCode; message: string } }
  | { t: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  | { t: 'closed' };

/** Events of {@link Lanes}. */
export interface LanesEvents {
  /** A protocol frame from `peer`, received and checked on a lane. */
  frame: [peer: string, frame: Frame];
  /**
   * A lane to `peer` that was up is gone. `local`: this side closed it over a violation
   * (the error's code says which); otherwise the peer or the network ended it.
   */
  lost: [peer: string, lane: number, error: MpcError, local: boolean];
}

export interface LanesOptions {
  /** Lanes (worker threads), ≥ 1. */
  count: number;
  tls: TlsMaterial;
  parties: readonly string[];
  host: string;
  maxPayload?: number;
  highWaterMark?: number;
  heartbeat?: HeartbeatOptions | false;
  log?: NetLog;
}

/** Job messages one lane carried (payload bytes, as the job transports count them). */
export interface LaneStats {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
}

interface Lane {
  worker: Worker;
  stats: LaneStats;
  port: number;
  /** Peers with a channel up on this lane. */
  up: Set<string>;
  dead: boolean;
}

interface PendingSend {
  resolve(): void;
  reject(e: Error): void;
  lane: number;
  peer: string;
}

/**
 * Smallest payload sent on a lane. A lane saves the main thread the TLS and framing work of
 * a big message at the price of two thread hops; for a small one the hops cost more than
 * they save and only add latency (a deep circuit's rounds, a comparison's openings), so
 * small messages keep to the main channel. 64 KiB: 4096 semi-honest multiplications.
 */
export const LANE_MIN_BYTES = 64 * 1024;

/** The lane a protocol message travels on: its chunk's, round-robin. */
export function laneOf(chunk: number, lanes: number): number {
  return chunk % lanes;
}

/** A node's lanes. Create with {@link startLanes}. */
export class Lanes extends EventEmitter<LanesEvents> {
  readonly count: number;
  /** Each lane's listening port, by lane. */
  readonly ports: readonly number[];
  readonly #lanes: Lane[];
  readonly #log: NetLog;
  readonly #pending = new Map<number, PendingSend>();
  #nextId = 0;
  #closed = false;

  /** @internal use {@link startLanes} */
  constructor(lanes: Lane[], log: NetLog) {
    super();
    this.#lanes = lanes;
    this.#log = log;
    this.count = lanes.length;
    this.ports = lanes.map((l) => l.port);
    lanes.forEach((l, i) => {
      l.worker.on('message', (m: LaneEvent) => this.#onEvent(i, m));
      l.worker.on('error', (e) => this.#laneDied(i, `lane ${i} failed: ${e.message}`));
      l.worker.on('exit', (code) => this.#laneDied(i, `lane ${i} exited (code ${code})`));
    });
  }

  /** Whether lane `lane` has a channel to `peer` up now. */
  isUp(lane: number, peer: string): boolean {
    const l = this.#lanes[lane];
    return !this.#closed && l !== undefined && !l.dead && l.up.has(peer);
  }

  /** What each lane carried since it started, by lane. */
  stats(): LaneStats[] {
    return this.#lanes.map((l) => ({ ...l.stats }));
  }

  /** Lanes up to `peer` right now. */
  upTo(peer: string): number {
    return this.#closed ? 0 : this.#lanes.filter((l) => !l.dead && l.up.has(peer)).length;
  }

  /**
   * Send a protocol frame to `peer` on `lane`. Resolves when the lane's channel accepted it
   * (its backpressure, as `Channel.send`); rejects with PEER_LOST when the lane is not up.
   */
  send(lane: number, peer: string, frame: OutFrame): Promise<void> {
    const l = this.#lanes[lane];
    if (this.#closed || l === undefined || l.dead || !l.up.has(peer)) {
      return Promise.reject(new MpcError(ErrorCode.PEER_LOST, `lane ${lane} to party ${peer} is not up`, { party: peer }));
    }
    if (!isProtocolKind(frame.kind) || frame.payload === undefined) {
      return Promise.reject(new RangeError(`lanes carry protocol frames with a payload only, got kind ${frame.kind}`));
    }
    const id = this.#nextId++;
    // Shared memory crosses threads as is; anything else is copied once into a buffer the
    // lane takes over (transferred, not cloned), so the caller's array stays usable.
    const shared = frame.payload.buffer instanceof SharedArrayBuffer;
    const payload = shared ? frame.payload : new Uint8Array(frame.payload);
    const cmd: LaneCommand = { t: 'send', id, peer, job: frame.job, kind: frame.kind, round: frame.round, payload, pad: frame.pad === true };
    l.stats.framesSent++;
    l.stats.bytesSent += payload.byteLength;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, lane, peer });
      l.worker.postMessage(cmd, shared ? [] : [payload.buffer as ArrayBuffer]);
    });
  }

  /** Connect every lane to `peer`'s lane of the same index (`ports` as it offered them) at `host`. */
  dial(peer: string, host: string, ports: readonly number[]): void {
    const n = Math.min(this.count, ports.length);
    for (let i = 0; i < n; i++) this.#command(i, { t: 'dial', peer, url: wssUrl(host, ports[i]) });
  }

  /** Close every lane's channel to `peer` and stop dialing it (its main channel is gone). */
  drop(peer: string): void {
    for (let i = 0; i < this.count; i++) {
      this.#lanes[i].up.delete(peer);
      this.#command(i, { t: 'drop', peer });
    }
  }

  /**
   * Use `tls` (a renewed certificate, checked by the caller) in every lane from now on: for
   * the lanes' servers' new connections and for their next dials. Lane channels already up
   * are untouched, so running jobs go on.
   */
  updateTls(tls: TlsMaterial): void {
    for (let i = 0; i < this.count; i++) this.#command(i, { t: 'tls', tls });
  }

  /** Close every channel and stop the lane threads. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#lanes.map(async (l) => {
        if (l.dead) return;
        const closed = new Promise<void>((resolve) => {
          const done = (m: LaneEvent) => m.t === 'closed' && resolve();
          l.worker.on('message', done);
          l.worker.once('exit', () => resolve());
        });
        l.worker.postMessage({ t: 'close' } satisfies LaneCommand);
        const timer = setTimeout(() => void l.worker.terminate(), 5000);
        await closed;
        clearTimeout(timer);
        await l.worker.terminate();
      }),
    );
    for (const p of this.#pending.values()) p.reject(new MpcError(ErrorCode.ABORTED, 'lanes closed'));
    this.#pending.clear();
  }

  #command(lane: number, cmd: LaneCommand): void {
    const l = this.#lanes[lane];
    if (!this.#closed && !l.dead) l.worker.postMessage(cmd);
  }

  #onEvent(lane: number, m: LaneEvent): void {
    const l = this.#lanes[lane];
    switch (m.t) {
      case 'up':
        l.up.add(m.peer);
        this.#log('info', `lane ${lane} to party ${m.peer} is up`, { event: 'lane-up', peer: m.peer, lane });
        return;
      case 'lost': {
        const wasUp = l.up.delete(m.peer);
        const e = new MpcError(m.code, m.message, { party: m.peer });
        if (wasUp && !this.#closed) this.emit('lost', m.peer, lane, e, m.local);
        return;
      }
      case 'frame':
        l.stats.framesReceived++;
        l.stats.bytesReceived += m.payload.byteLength;
        // `padded` crosses the thread boundary with the frame: a padded job checks it (job-transport.ts).
        this.emit('frame', m.peer, { v: PROTOCOL_VERSION, job: m.job, round: m.round, kind: m.kind, from: m.peer, seq: m.seq, payload: m.payload, ...(m.padded ? { padded: true } : {}) });
        return;
      case 'sent': {
        const p = this.#pending.get(m.id);
        if (p === undefined) return;
        this.#pending.delete(m.id);
        if (m.error === undefined) p.resolve();
        else p.reject(new MpcError(m.error.code, m.error.message, { party: p.peer }));
        return;
      }
      case 'log':
        this.#log(m.level, m.msg, m.fields);
        return;
      default:
        return;
    }
  }

  #laneDied(lane: number, why: string): void {
    const l = this.#lanes[lane];
    if (l.dead) return;
    l.dead = true;
    const peers = [...l.up];
    l.up.clear();
    for (const [id, p] of this.#pending) {
      if (p.lane !== lane) continue;
      this.#pending.delete(id);
      p.reject(new MpcError(ErrorCode.PEER_LOST, why, { party: p.peer }));
    }
    if (this.#closed) return;
    this.#log('error', why, { event: 'lane-died', lane });
    for (const peer of peers) this.emit('lost', peer, lane, new MpcError(ErrorCode.PEER_LOST, `${why}; its channel to party ${peer} is gone`, { party: peer }), false);
  }
}

/**
 * Start `count` lanes listening on `host` (ephemeral ports). Rejects (after stopping any that
 * started) when a lane cannot start or listen within 30 s.
 */
export async function startLanes(opts: LanesOptions): Promise<Lanes> {
  if (!Number.isSafeInteger(opts.count) || opts.count < 1 || opts.count > MAX_LANES) {
    throw new RangeError(`expected 1..${MAX_LANES} lanes, got ${String(opts.count)}`);
  }
  const workers: Worker[] = [];
  try {
    const lanes = await Promise.all(
      Array.from({ length: opts.count }, (_, lane) => {
        const data: LaneWorkerData = {
          lane,
          tls: opts.tls,
          parties: [...opts.parties],
          host: opts.host,
          maxPayload: opts.maxPayload,
          highWaterMark: opts.highWaterMark,
          heartbeat: opts.heartbeat,
        };
        const worker = new Worker(LANE_WORKER, { eval: true, workerData: data });
        workers.push(worker);
        return new Promise<Lane>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`lane ${lane} did not listen within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
          const fail = (e: Error | number): void => {
            clearTimeout(timer);
            reject(typeof e === 'number' ? new Error(`lane ${lane} exited (code ${e}) before listening`) : e);
          };
          worker.once('error', fail);
          worker.once('exit', fail);
          const onMessage = (m: LaneEvent): void => {
            if (m.t === 'log') return (opts.log ?? silentLog)(m.level, m.msg, m.fields);
            if (m.t !== 'listening') return;
            clearTimeout(timer);
            worker.off('error', fail);
            worker.off('exit', fail);
            worker.off('message', onMessage);
            resolve({ worker, port: m.port, up: new Set(), dead: false, stats: { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0 } });
          };
          worker.on('message', onMessage);
        });
      }),
    );
    return new Lanes(lanes, opts.log ?? silentLog);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
}
