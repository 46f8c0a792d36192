/**
 * The computing parties' full mesh: one long-lived authenticated channel per pair of party
 * processes, shared by every job, with protocol frames multiplexed by job id.
 *
 * - Who dials: the party with the lower index in the federation's party list dials the
 *   higher one, the other accepts through its {@link NodeServer}; so there is exactly one
 *   connection per pair, and no tie-breaking is needed. A dropped connection is re-dialed
 *   (with backoff) by the same side; a new connection from a peer replaces the old one.
 * - Liveness: each channel pings every second and is declared dead after 5 s of silence
 *   (configurable); a closed or silent channel aborts every active job that includes that
 *   peer with PEER_LOST naming it, well within the 10 s the node layer is allowed.
 * - Jobs: `jobTransport(jobId, parties)` registers a {@link JobTransport}. Frames for a job
 *   not registered yet (a peer may start a job a little earlier) are held briefly, bounded in
 *   bytes and time; when they have to be dropped, the job is marked so that registering it
 *   later fails at once instead of waiting for frames that will never come.
 * - Control frames (kinds >= 16 except Hello, Ping, Pong, LaneOffer) are emitted as 'control'
 *   for the node layer, and sent with `sendControl`.
 * - Lanes (optional, src/net/lanes.ts): with a node's lanes, a job's big frames travel on the
 *   lane of their chunk when that lane to the peer is up, else on the main channel; frames
 *   received on lanes are routed exactly like those of the main channel.
 * - Audit (optional, `audit`, src/security/audit.ts): every job frame — protocol frames and
 *   control frames with a job id — is recorded with its metadata and payload digest. A frame
 *   goes out only once its `frame-sent` entry is on disk (the frames sent in one event-loop
 *   turn share one sync); a received frame is noted on arrival and is durable with the next
 *   commit, which comes before anything this node sends next (the argument is in audit.ts).
 *   Channels coming up or ending are noted too, so `mpc audit compare` can tell frames lost
 *   with a connection from frames someone removed. Without `audit` nothing is hashed or awaited.
 * @module
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, isMpcError, MpcError } from '../errors.ts';
import type { FrameAudit } from '../security/audit.ts';
import type { Identity } from '../security/identity.ts';
import { formatIdentity, isValidId, sameIdentity } from '../security/identity.ts';
import { identityFromCertificate } from '../security/pki.ts';
import type { Channel, ChannelClose, OutFrame } from './channel.ts';
import { CloseCode } from './channel.ts';
import { keepDialing, wssUrl } from './client.ts';
import { ControlKind, isControlKind, isProtocolKind } from './frame.ts';
import { chunkOf } from '../protocol/transport.ts';
import { LANE_MIN_BYTES, laneOf, MAX_LANES, type Lanes } from './lanes.ts';
import type { Frame } from './frame.ts';
import type { Hello } from './hello.ts';
import { JobTransport } from './job-transport.ts';
import type { JobLink } from './job-transport.ts';
import type { NetLog } from './log.ts';
import { silentLog } from './log.ts';
import type { ChannelSettings, NodeServer } from './server.ts';
import type { TlsMaterial } from './tls.ts';

/** Where a computing party listens. */
export interface PartyEndpoint {
  id: string;
  host: string;
  port: number;
}

/** Options of {@link PeerMesh}. */
export interface PeerMeshOptions extends ChannelSettings {
  /** Our TLS material; our party id is read from the certificate. */
  tls: TlsMaterial;
  /** The federation's computing parties, in order, with their endpoints (ours included). */
  parties: readonly PartyEndpoint[];
  /** Our running (or about to run) server; the mesh takes its 'party' channels. */
  server: NodeServer;
  /** Dial backoff: first delay and cap. Default 100 ms .. 2 s. */
  retry?: { baseMs: number; maxMs: number };
  /** Per-job cap on payload bytes buffered ahead of `recv`. Default 1 GiB (DEFAULT_JOB_BUFFER_BYTES). */
  maxJobBufferBytes?: number;
  /** See JobTransportOptions.recvTimeoutMs (default 120 s). */
  recvTimeoutMs?: number;
  /** Cap on payload bytes held for jobs not registered yet, all jobs together. Default 64 MiB. */
  maxEarlyBytes?: number;
  /** How long frames for an unregistered job are held. Default 5 s. */
  earlyTtlMs?: number;
  /** The node's lanes, if it runs any (started and closed by the node). */
  lanes?: Lanes;
  /** The node's frame audit (see the module comment); none: frames are not audited. */
  audit?: FrameAudit;
}

/** Events of a {@link PeerMesh}. */
export interface PeerMeshEvents {
  /** A control frame (kind >= 16) from a party. */
  control: [peerId: string, frame: Frame];
  /** A channel to a party is up (first time or after a reconnect). */
  'peer-up': [peerId: string];
  /** A channel to a party ended; active jobs with that party have been aborted. */
  'peer-lost': [peerId: string, error: MpcError];
}

interface Early {
  frames: Array<[peerId: string, frame: Frame]>;
  bytes: number;
  timer: NodeJS.Timeout;
}

/**
 * Per-job cap on bytes that arrived before the protocol asked for them. A malicious job's
 * input broadcast is 16 bytes per element from every owner, and all of it may arrive while
 * a slower node is still busy: 10^7 elements from two owners is 320 MB. 1 GiB keeps that
 * working on a node with the memory for it while still bounding a flooding peer.
 */
const DEFAULT_JOB_BUFFER_BYTES = 1024 * 1024 * 1024;

const FINISHED = 'finished';
const MAX_RETIRED = 4096;
const MAX_EARLY_JOBS = 1024;

/**
 * See the module comment.
 *
 * @example
 * const server = new NodeServer({ tls, parties: ids, log });
 * const mesh = new PeerMesh({ tls, parties: endpoints, server, log });
 * await server.listen(myPort, '0.0.0.0');
 * await mesh.ready(30_000);
 * const t = mesh.jobTransport(jobId, plan.parties); // a Transport for the protocol code
 * try { await runJob(t); } finally { t.dispose(); }
 */
export class PeerMesh extends EventEmitter<PeerMeshEvents> {
  /** Our identity (role party). */
  readonly self: Identity;
  /** Our index in {@link parties}. */
  readonly index: number;
  /** The federation's party ids, in order. */
  readonly parties: readonly string[];

  readonly #opts: PeerMeshOptions;
  /** The TLS material of the next dial (see {@link updateTls}). */
  #tls: TlsMaterial;
  readonly #log: NetLog;
  readonly #endpoints: ReadonlyMap<string, PartyEndpoint>;
  readonly #channels = new Map<string, Channel>();
  readonly #jobs = new Map<string, JobTransport>();
  readonly #early = new Map<string, Early>();
  #earlyBytes = 0;
  /** Jobs that must not be (re-)registered normally: finished, or whose early frames were dropped. */
  readonly #retired = new Map<string, typeof FINISHED | MpcError>();
  /** Last non-transient failure per peer, so `ready()` can fail fast with the real cause. */
  readonly #peerErrors = new Map<string, MpcError>();
  readonly #readyChecks = new Set<() => void>();
  readonly #stop = new AbortController();
  #started = false;
  #closed = false;

  readonly #link: JobLink = {
    send: (peerId, frame) => this.#send(peerId, frame),
    release: (job) => {
      if (this.#jobs.get(job.jobId) !== job) return;
      this.#jobs.delete(job.jobId);
      this.#retire(job.jobId, FINISHED);
    },
  };

  constructor(opts: PeerMeshOptions) {
    super();
    this.#opts = opts;
    this.#tls = opts.tls;
    this.#log = opts.log ?? silentLog;
    this.self = identityFromCertificate(opts.tls.cert);
    this.parties = opts.parties.map((p) => p.id);
    this.#endpoints = new Map(opts.parties.map((p) => [p.id, p]));
    const bad = this.parties.find((id) => !isValidId(id));
    if (bad !== undefined) throw new MpcError(ErrorCode.CONFIG, `invalid party id ${JSON.stringify(bad)}`);
    if (this.#endpoints.size !== this.parties.length) throw new MpcError(ErrorCode.CONFIG, `duplicate party id in [${this.parties.join(',')}]`);
    this.index = this.parties.indexOf(this.self.id);
    if (this.self.role !== 'party' || this.index < 0) {
      throw new MpcError(ErrorCode.CONFIG, `our certificate names ${this.self.role} ${this.self.id}, which is not a party of [${this.parties.join(',')}]`);
    }
    const s = opts.server.self;
    if (s.federation !== this.self.federation || s.role !== this.self.role || s.id !== this.self.id) {
      throw new MpcError(ErrorCode.CONFIG, `the server runs as ${s.role} ${s.id}@${s.federation}, the mesh as party ${this.self.id}@${this.self.federation}`);
    }
    opts.server.on('party', this.#onAccept);
    opts.server.on('hello-failed', this.#onHelloFailed);
    opts.lanes?.on('frame', this.#onLaneFrame);
    opts.lanes?.on('lost', this.#onLaneLost);
  }

  /** Start dialing the parties after us in the list. Idempotent; `ready()` calls it. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const id of this.parties.slice(this.index + 1)) void this.#dialLoop(id);
  }

  /**
   * Resolves when a channel to every other party is up. Rejects with the first
   * non-transient failure (PEER_AUTH, Hello mismatch) of a missing peer, or after `timeoutMs`
   * with PEER_LOST naming the parties still missing.
   */
  ready(timeoutMs = 30_000): Promise<void> {
    this.start();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#readyChecks.delete(check);
      };
      const check = () => {
        if (this.#closed) {
          done();
          return reject(new MpcError(ErrorCode.ABORTED, 'mesh closed'));
        }
        const missing = this.#missing();
        if (missing.length === 0) {
          done();
          return resolve();
        }
        const fatal = missing.map((id) => this.#peerErrors.get(id)).find((e) => e !== undefined && e.code !== ErrorCode.PEER_LOST);
        if (fatal !== undefined) {
          done();
          reject(fatal);
        }
      };
      const timer = setTimeout(() => {
        done();
        const missing = this.#missing();
        const causes = missing.map((id) => this.#peerErrors.get(id)?.message).filter((m) => m !== undefined);
        reject(
          new MpcError(
            ErrorCode.PEER_LOST,
            `not connected to ${missing.join(', ')} after ${timeoutMs} ms` + (causes.length > 0 ? ` (${causes.join('; ')})` : ''),
            { party: missing[0] },
          ),
        );
      }, timeoutMs);
      this.#readyChecks.add(check);
      check();
    });
  }

  /**
   * Dial with `tls` (a renewed certificate, checked by the caller) from the next dial on;
   * channels already up are untouched, so running jobs go on. Our identity must not change.
   */
  updateTls(tls: TlsMaterial): void {
    const id = identityFromCertificate(tls.cert);
    if (!sameIdentity(id, this.self)) {
      throw new MpcError(ErrorCode.CONFIG, `the new certificate names ${formatIdentity(id)}, but the mesh runs as ${formatIdentity(this.self)}`);
    }
    this.#tls = tls;
  }

  /** True when a channel to party `id` is up. */
  isConnected(id: string): boolean {
    return this.#channels.has(id);
  }

  /** The channel to party `id`, if up (e.g. for its stats). */
  channel(id: string): Channel | undefined {
    return this.#channels.get(id);
  }

  /**
   * Register job `jobId` and return its transport. `parties` is the job's party order (the
   * protocol's indices); each must be a party of the federation, ours included. A party that
   * is not connected right now makes the transport start aborted with PEER_LOST. Throws
   * PROTOCOL when the job id is running or was used before, CONFIG on a bad party list.
   * Call `dispose()` on the transport when the job is over. `pad`: see JobTransportOptions.pad.
   */
  jobTransport(jobId: string, parties: readonly string[], options: { pad?: boolean } = {}): JobTransport {
    if (this.#closed) throw new MpcError(ErrorCode.ABORTED, 'mesh closed');
    if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 256) throw new RangeError(`expected a job id of 1..256 characters, got ${JSON.stringify(jobId)}`);
    if (this.#jobs.has(jobId)) throw new MpcError(ErrorCode.PROTOCOL, `job ${jobId} is already running`);
    const retired = this.#retired.get(jobId);
    if (retired === FINISHED) throw new MpcError(ErrorCode.PROTOCOL, `job id ${jobId} was used before; job ids must be fresh`);
    for (const p of parties) {
      if (!this.#endpoints.has(p)) throw new MpcError(ErrorCode.CONFIG, `job ${jobId} names ${JSON.stringify(p)}, which is not a party of this federation`);
    }
    let t: JobTransport;
    try {
      t = new JobTransport({ jobId, parties, selfId: this.self.id, link: this.#link, maxBufferedBytes: this.#opts.maxJobBufferBytes ?? DEFAULT_JOB_BUFFER_BYTES, recvTimeoutMs: this.#opts.recvTimeoutMs, pad: options.pad });
    } catch (e) {
      throw new MpcError(ErrorCode.CONFIG, (e as Error).message, { cause: e });
    }
    this.#jobs.set(jobId, t);
    if (retired !== undefined) {
      this.#retired.delete(jobId);
      t.abort(retired);
    }
    for (const p of parties) {
      if (p !== this.self.id && !this.#channels.has(p)) {
        t.abort(new MpcError(ErrorCode.PEER_LOST, `party ${p} is not connected (job ${jobId})`, { party: p }));
      }
    }
    const early = this.#early.get(jobId);
    if (early !== undefined) {
      this.#dropEarly(jobId, early);
      for (const [peerId, f] of early.frames) this.#deliver(t, peerId, f);
    }
    return t;
  }

  /**
   * Send a control frame to party `peerId`. Rejects with PEER_LOST when not connected; throws
   * RangeError for a kind that is not a node-level control kind.
   */
  sendControl(peerId: string, kind: ControlKind, jobId: string, body?: unknown, payload?: Uint8Array): Promise<void> {
    if (!isControlKind(kind) || kind === ControlKind.Hello || kind === ControlKind.Ping || kind === ControlKind.Pong) {
      return Promise.reject(new RangeError(`expected a node-level control kind, got ${kind}`));
    }
    return this.#send(peerId, { job: jobId, round: 0, kind, body, payload });
  }

  /** Close every channel (1001), abort every job with ABORTED, stop dialing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#opts.server.off('party', this.#onAccept);
    this.#opts.server.off('hello-failed', this.#onHelloFailed);
    this.#opts.lanes?.off('frame', this.#onLaneFrame);
    this.#opts.lanes?.off('lost', this.#onLaneLost);
    for (const id of this.#channels.keys()) {
      this.#opts.lanes?.drop(id);
      // Frames in flight now are lost with the links; the audit says so (close the mesh
      // before the audit log).
      this.#opts.audit?.link(id, 'main', 'node shutting down');
    }
    for (const job of this.#jobs.values()) job.abort(new MpcError(ErrorCode.ABORTED, `job ${job.jobId} aborted: this node is shutting down`));
    this.#jobs.clear();
    for (const [job, e] of this.#early) this.#dropEarly(job, e);
    const closing = [...this.#channels.values()];
    this.#channels.clear();
    for (const ch of closing) ch.close(CloseCode.GoingAway, 'node shutting down');
    for (const check of [...this.#readyChecks]) check();
  }

  #missing(): string[] {
    return this.parties.filter((id) => id !== this.self.id && !this.#channels.has(id));
  }

  #notifyReady(): void {
    for (const check of [...this.#readyChecks]) check();
  }

  #send(peerId: string, frame: OutFrame): Promise<void> {
    const ch = this.#channels.get(peerId);
    if (ch === undefined) return Promise.reject(new MpcError(ErrorCode.PEER_LOST, `party ${peerId} is not connected`, { party: peerId }));
    const lane = this.#laneFor(peerId, frame);
    const audit = this.#opts.audit;
    if (audit !== undefined && frame.job !== '') return this.#sendAudited(audit, peerId, frame, lane);
    return lane === undefined ? ch.send(frame) : (this.#opts.lanes as Lanes).send(lane, peerId, frame);
  }

  /** The lane a frame to `peerId` travels on now, or undefined for the main channel. */
  #laneFor(peerId: string, frame: OutFrame): number | undefined {
    const lanes = this.#opts.lanes;
    if (lanes === undefined || !isProtocolKind(frame.kind) || (frame.payload?.byteLength ?? 0) < LANE_MIN_BYTES) return undefined;
    const lane = laneOf(chunkOf(frame.round), lanes.count);
    return lanes.isUp(lane, peerId) ? lane : undefined;
  }

  /**
   * Send once the frame's entry is durable. The path is chosen before the entry is written
   * (the entry names it); frames recorded in order are sent in order, since commits complete
   * in order. A lane lost meanwhile fails the send (and the jobs with that peer, as always).
   */
  async #sendAudited(audit: FrameAudit, peerId: string, frame: OutFrame, lane: number | undefined): Promise<void> {
    const entry = await audit.sending(peerId, frame, lane === undefined ? 'main' : `lane${lane}`);
    try {
      if (lane !== undefined) return await (this.#opts.lanes as Lanes).send(lane, peerId, frame);
      const ch = this.#channels.get(peerId);
      if (ch === undefined) throw new MpcError(ErrorCode.PEER_LOST, `party ${peerId} is not connected`, { party: peerId });
      return await ch.send(frame);
    } catch (e) {
      audit.sendFailed(peerId, entry, e as Error);
      throw e;
    }
  }

  #dialLoop(id: string): Promise<void> {
    const ep = this.#endpoints.get(id) as PartyEndpoint;
    const url = wssUrl(ep.host, ep.port);
    const o = this.#opts;
    const settings = { maxPayload: o.maxPayload, highWaterMark: o.highWaterMark, heartbeat: o.heartbeat, helloTimeoutMs: o.helloTimeoutMs, onPeerCertificate: o.onPeerCertificate };
    const expected = { federation: this.self.federation, role: 'party', id } as const;
    return keepDialing(url, { ...o.tls, currentTls: () => this.#tls, ...settings, expected, parties: this.parties, log: this.#log, signal: this.#stop.signal }, o.retry ?? { baseMs: 100, maxMs: 2000 }, {
      up: (channel) => this.#attach(id, channel),
      closed: (info) => {
        // The violation that ended the old channel was that channel's; the peer may well
        // reconnect cleanly, so it is remembered as a cause, not as a fatal error for ready().
        if (info.error !== undefined) this.#peerErrors.set(id, new MpcError(ErrorCode.PEER_LOST, info.error.message, { party: id, cause: info.error }));
      },
      failed: (e) => {
        const err = isMpcError(e) ? e : new MpcError(ErrorCode.PEER_LOST, String(e), { party: id, cause: e });
        this.#peerErrors.set(id, err);
        this.#log(err.code === ErrorCode.PEER_LOST ? 'debug' : 'warn', `dialing ${id} at ${url} failed: ${err.message}`, { peer: id, code: err.code });
        this.#notifyReady();
      },
    }, 'node shutting down');
  }

  #onAccept = (ch: Channel, _hello: Hello): void => {
    const id = ch.peer.id;
    const j = this.parties.indexOf(id);
    if (this.#closed) return ch.close(CloseCode.GoingAway, 'node shutting down');
    if (j < 0 || j === this.index) {
      return ch.fail(new MpcError(ErrorCode.PEER_AUTH, `${id} is not another party of this federation`, { party: id }), CloseCode.Refused);
    }
    if (j > this.index) {
      // The rule that makes one connection per pair: the lower index dials.
      return ch.fail(new MpcError(ErrorCode.PROTOCOL, `${id} must not dial ${this.self.id}: the lower index (${this.self.id}) dials`, { party: id }), CloseCode.Refused);
    }
    this.#attach(id, ch);
  };

  #onHelloFailed = (peer: Identity, err: MpcError): void => {
    if (peer.role !== 'party' || !this.#endpoints.has(peer.id) || this.#channels.has(peer.id)) return;
    this.#peerErrors.set(peer.id, err);
    this.#notifyReady();
  };

  #attach(id: string, ch: Channel): void {
    if (ch.closed) return;
    const old = this.#channels.get(id);
    // Close the old channel first, so its jobs are aborted before the new one is visible
    // ('close' is emitted synchronously: its link-lost is audited before the new link-up).
    if (old !== undefined) old.close(CloseCode.Replaced, 'replaced by a new connection');
    this.#channels.set(id, ch);
    if (!this.#closed) this.#opts.audit?.link(id, 'main');
    this.#peerErrors.delete(id);
    ch.on('frame', (f) => this.#onFrame(id, ch, f));
    ch.on('close', (info) => this.#onChannelClose(id, ch, info));
    ch.on('error', (e) => this.#log('warn', e.message, { peer: id, code: e.code }));
    this.#log('info', `party ${id} is up`, { event: 'peer-up', peer: id });
    this.emit('peer-up', id);
    ch.resume();
    // The lower index dials, lanes included: tell a lower-indexed peer where our lanes are.
    const lanes = this.#opts.lanes;
    if (lanes !== undefined && this.parties.indexOf(id) < this.index) {
      ch.send({ job: '', round: 0, kind: ControlKind.LaneOffer, body: { ports: [...lanes.ports] } }).catch(() => {});
    }
    this.#notifyReady();
  }

  #onChannelClose(id: string, ch: Channel, info: ChannelClose): void {
    const current = this.#channels.get(id) === ch;
    if (current) this.#channels.delete(id);
    if (this.#closed) return;
    // The peer's lanes go with its main channel: a restarted peer offers new ports.
    if (current) this.#opts.lanes?.drop(id);
    const why = info.error?.message ?? (info.reason || `code ${info.code}`);
    // The main channel's loss ends the lanes to that peer too.
    if (current) this.#opts.audit?.link(id, 'main', why);
    const lost = new MpcError(ErrorCode.PEER_LOST, `party ${id} lost: ${why}`, { party: id, cause: info.error });
    // A channel this side closed over a violation keeps the violation's code (FRAME,
    // PROTOCOL, …) for the jobs it ends; otherwise the peer is simply lost.
    this.#abortJobsWith(id, !info.remote && info.error !== undefined ? info.error.code : ErrorCode.PEER_LOST, why, info.error);
    // Early frames from this peer belong to a connection that no longer exists: those jobs
    // cannot complete.
    for (const [job, e] of this.#early) {
      if (e.frames.some(([p]) => p === id)) {
        this.#dropEarly(job, e);
        this.#retire(job, lost);
      }
    }
    this.#log('warn', lost.message, { event: 'peer-lost', peer: id, code: info.code });
    this.emit('peer-lost', id, lost);
  }

  /** Abort every active job with party `id` (it, or one of its channels, is gone). */
  #abortJobsWith(id: string, code: ErrorCode, why: string, cause?: Error): void {
    for (const job of this.#jobs.values()) {
      if (job.parties.includes(id) && job.aborted === undefined) {
        job.abort(new MpcError(code, `party ${id} lost during job ${job.jobId}: ${why}`, { party: id, cause }));
      }
    }
  }

  /** `lane`: the lane's index, when the lanes report it (the receiving side's path in the audit). */
  #onLaneFrame = (id: string, f: Frame, lane?: number): void => {
    // Frames of a peer whose main channel is down belong to jobs already aborted.
    if (this.#channels.has(id)) this.#onProtocolFrame(id, f, lane ?? -1);
  };

  #onLaneLost = (id: string, lane: number, e: MpcError, local: boolean): void => {
    if (this.#closed) return;
    this.#opts.audit?.link(id, `lane${lane}`, e.message);
    this.#log('warn', e.message, { event: 'lane-lost', peer: id, lane, code: e.code });
    this.#abortJobsWith(id, local ? e.code : ErrorCode.PEER_LOST, e.message, e);
  };

  /** `lane`: undefined for the main channel, the lane's index, or -1 for a lane not named. */
  #onProtocolFrame(id: string, f: Frame, lane?: number): void {
    // Audited on arrival, whatever becomes of the frame (routed, held early, or dropped for a
    // finished job): the log says what the peer delivered, not what the job used.
    const audit = this.#opts.audit;
    if (audit !== undefined) audit.received(id, f, lane === undefined ? 'main' : lane < 0 ? 'lane' : `lane${lane}`);
    const job = this.#jobs.get(f.job);
    if (job !== undefined) return this.#deliver(job, id, f);
    if (this.#retired.has(f.job)) {
      this.#log('debug', `dropped a frame from ${id} for retired job ${f.job}`, { peer: id, job: f.job });
      return;
    }
    this.#stashEarly(id, f);
  }

  /** A peer's lane ports: only a higher-indexed party offers them, and we dial its configured host. */
  #onLaneOffer(id: string, ch: Channel, body: unknown): void {
    const ports = (body as { ports?: unknown } | null)?.ports;
    if (!Array.isArray(ports) || ports.length > MAX_LANES || !ports.every((p) => Number.isSafeInteger(p) && p > 0 && p < 65536)) {
      return ch.fail(new MpcError(ErrorCode.PROTOCOL, `${id} sent a malformed lane offer`, { party: id }));
    }
    if (this.parties.indexOf(id) < this.index) {
      return ch.fail(new MpcError(ErrorCode.PROTOCOL, `${id} offered lanes, but the lower index (${id}) dials`, { party: id }));
    }
    const lanes = this.#opts.lanes;
    if (lanes === undefined) return;
    lanes.dial(id, this.#endpoints.get(id)!.host, ports as number[]);
  }

  #onFrame(id: string, ch: Channel, f: Frame): void {
    if (isProtocolKind(f.kind)) return this.#onProtocolFrame(id, f);
    if (f.kind === ControlKind.Hello) {
      return ch.fail(new MpcError(ErrorCode.PROTOCOL, `${id} sent a second Hello`, { party: id }));
    }
    if (f.kind === ControlKind.LaneOffer) return this.#onLaneOffer(id, ch, f.body);
    if (f.job !== '') this.#opts.audit?.received(id, f, 'main');
    if (this.listenerCount('control') === 0) {
      this.#log('debug', `no handler for control frame kind ${f.kind} from ${id}`, { peer: id, job: f.job });
      return;
    }
    this.emit('control', id, f);
  }

  #deliver(job: JobTransport, peerId: string, f: Frame): void {
    const violation = job.deliver(peerId, f);
    if (violation !== undefined) this.#log('warn', violation.message, { peer: peerId, job: job.jobId, code: violation.code });
  }

  #stashEarly(peerId: string, f: Frame): void {
    const size = f.payload?.length ?? 0;
    let e = this.#early.get(f.job);
    const cap = this.#opts.maxEarlyBytes ?? 64 * 1024 * 1024;
    const perJob = this.#opts.maxJobBufferBytes ?? DEFAULT_JOB_BUFFER_BYTES;
    if (e === undefined) {
      if (this.#early.size >= MAX_EARLY_JOBS) return this.#refuseEarly(f.job, peerId, `more than ${MAX_EARLY_JOBS} unregistered jobs`);
      const ttl = this.#opts.earlyTtlMs ?? 5000;
      const job = f.job;
      const timer = setTimeout(() => {
        const cur = this.#early.get(job);
        if (cur === undefined) return;
        this.#dropEarly(job, cur);
        this.#refuseEarly(job, peerId, `job not registered within ${ttl} ms`);
      }, ttl);
      timer.unref();
      e = { frames: [], bytes: 0, timer };
      this.#early.set(f.job, e);
    }
    if (this.#earlyBytes + size > cap || e.bytes + size > perJob) {
      this.#dropEarly(f.job, e);
      return this.#refuseEarly(f.job, peerId, `more than ${Math.min(cap, perJob)} bytes held for unregistered jobs`);
    }
    e.frames.push([peerId, f]);
    e.bytes += size;
    this.#earlyBytes += size;
  }

  #dropEarly(job: string, e: Early): void {
    clearTimeout(e.timer);
    if (this.#early.get(job) === e) this.#early.delete(job);
    this.#earlyBytes -= e.bytes;
  }

  #refuseEarly(job: string, peerId: string, why: string): void {
    const err = new MpcError(ErrorCode.PROTOCOL, `frames for job ${job} dropped before it was registered: ${why}`, { party: peerId });
    this.#log('warn', err.message, { event: 'early-dropped', job, peer: peerId });
    this.#retire(job, err);
  }

  #retire(job: string, why: typeof FINISHED | MpcError): void {
    this.#retired.delete(job);
    this.#retired.set(job, why);
    if (this.#retired.size > MAX_RETIRED) this.#retired.delete(this.#retired.keys().next().value as string);
  }
}
