/**
 * The node's audit log: one writer per node, append-only JSON lines, each entry chained to
 * the one before it by SHA-256, and on disk (written and fdatasync'd) before the action it
 * records goes ahead.
 *
 * **Entry format.** One JSON object per line, keys in this order:
 *
 * ```
 * {"i":7,"t":"2026-12-01T10:00:00.000Z","prev":"<hash of entry 6>","event":"frame-sent",…fields,"hash":"<hex>"}
 * ```
 *
 * - `i`: the entry's index, 0, 1, 2, … over the whole file (a reopened log continues it);
 * - `t`: ISO-8601 time from the node's clock (informative only; nothing is ordered by it);
 * - `prev`: the `hash` of entry i−1, {@link GENESIS} (64 zeros) for entry 0;
 * - `event`: what happened ({@link AuditEvent}); then the event's own fields;
 * - `hash`: SHA-256 (hex) of the entry's **canonical text**: the line exactly as written,
 *   without its trailing `,"hash":"…"` member, closed by `}`. The writer serialises the entry
 *   once, hashes that text, and splices the hash in before the closing brace, so a verifier
 *   recomputes the hash from the line's own bytes ({@link splitEntryLine}) and never has to
 *   re-serialise a parsed object (whose key order and number formatting could differ).
 *
 * An entry's own hash lets `mpc audit verify` name an edited entry itself; `prev` makes a
 * deleted or moved entry break the chain at the next one (src/security/audit-check.ts).
 *
 * **What goes in.** Metadata only, never data: the channel layer records each inter-party
 * frame's peer, job, kind, round, byte count and a SHA-256 digest of its payload
 * ({@link createFrameAudit}); the node records job lifecycle, policy decisions, signed
 * requests, MAC-check results and output deliveries. Fields must be JSON data; bigints are
 * written as decimal strings, and byte arrays are refused outright, so payload bytes cannot
 * end up in the log by mistake.
 *
 * **Durability and cost: group commit.** `record` resolves once its entry is written and
 * fdatasync'd; `note` appends without waiting (the entry becomes durable with the next
 * commit). Entries appended in the same event-loop turn, or while an earlier write + sync is
 * in flight, go out together in ONE write and ONE fdatasync. So a layer that sends its chunks
 * to every peer pays one sync, not one per frame, and a slow disk makes batches bigger rather
 * than the job slower per frame. Notes alone do not start a commit at once: they wait for the
 * next `record`/`flush`, or at most {@link NOTE_DELAY_MS}. Otherwise the receipt of a round's
 * message would start a sync of its own, and the next round's send would wait for that one
 * and then for its own — two syncs per round instead of one. The file API is asynchronous, so
 * other jobs keep running while a sync is in flight.
 *
 * **Failures.** A write or sync that fails breaks the log for good (a partial line may be on
 * disk): every later `record` and `flush` rejects with that error, naming the file, so the
 * node fails the job rather than run unaudited.
 *
 * **Frame audit, and why "noted on arrival" is enough.** With `PeerMeshOptions.audit`, the
 * mesh (src/net/mesh.ts) awaits {@link FrameAudit.sending} for every job frame before the
 * frame leaves the node: its `frame-sent` entry is on disk first. A received frame is only
 * noted (`frame-recv`), because an entry can only become durable in log order: the commit
 * that makes any later entry durable — in particular the `frame-sent` of anything this node
 * sends next, or the `record` the node makes before it delivers an output — makes every
 * receipt noted before it durable too. Hence nothing derived from a received message leaves
 * the node before that message's receipt is on disk, and receiving costs no sync of its own.
 * @module
 */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, MpcError } from '../errors.ts';
import { ControlKind } from '../net/frame.ts';
import { CHUNK_ROUND_STRIDE, chunkOf, MessageKind } from '../protocol/transport.ts';

/** `prev` of entry 0. */
export const GENESIS = '0'.repeat(64);

/**
 * Event names. The frame and link events are written by {@link createFrameAudit}; the node
 * uses the others (its lifecycle entries carry `job`). `mpc audit compare` reads
 * `log-opened` (whose log it is), the frame and link events, and {@link JOB_END_EVENTS}.
 */
export const AuditEvent = {
  /** First entry of every writer session: `{ party, continues }`. */
  LogOpened: 'log-opened',
  /** A job frame about to leave: `{ peer, job, kind, round, layer, chunk, bytes, digest?, path, n }`. */
  FrameSent: 'frame-sent',
  /** A job frame that arrived (same fields). */
  FrameRecv: 'frame-recv',
  /** Sending the frame of entry `of` failed after it was recorded: `{ peer, of, error }`. */
  FrameSendFailed: 'frame-send-failed',
  /** A channel to `peer` on `path` is up: `{ peer, path }`. */
  LinkUp: 'link-up',
  /** A channel to `peer` on `path` ended (frames in flight on it may be lost): `{ peer, path, reason }`. */
  LinkLost: 'link-lost',
  JobAccepted: 'job-accepted',
  JobRejected: 'job-rejected',
  JobDone: 'job-done',
  JobAborted: 'job-aborted',
} as const;
export type AuditEvent = (typeof AuditEvent)[keyof typeof AuditEvent];

/** Lifecycle events after which a node takes no more frames of the job (field `job`). */
export const JOB_END_EVENTS: ReadonlySet<string> = new Set([AuditEvent.JobDone, AuditEvent.JobAborted, AuditEvent.JobRejected]);

/** Names the log and the writer own: an event's fields cannot use them. */
const RESERVED = new Set(['i', 't', 'prev', 'event', 'hash']);
const EVENT_NAME = /^[a-z][a-z0-9-]{0,63}$/;
/** `,"hash":"` + 64 hex digits + `"}`: what the writer splices onto the canonical text. */
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
/** Bytes read at a time when looking for the last line of an existing log. */
const TAIL_BLOCK = 64 * 1024;
/** Longest a noted entry waits in memory for a commit that something awaits. */
export const NOTE_DELAY_MS = 50;
/** Longest entries stay written but not synced (frame entries under `auditSync: "decisions"`). */
export const SYNC_DELAY_MS = 100;

/** SHA-256 (hex) of an entry's canonical text. */
export function entryHash(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * A line (without its newline) cut into its canonical text and the hash it claims, or
 * undefined when it does not end in a `"hash"` member as the writer writes it.
 */
export function splitEntryLine(line: string): { canonical: string; hash: string } | undefined {
  const m = HASH_SUFFIX.exec(line);
  if (m === null) return undefined;
  return { canonical: line.slice(0, m.index) + '}', hash: m[1] };
}

/** Fields of an entry: JSON data (bigints allowed, written as decimal strings; no bytes). */
export type AuditFields = Record<string, unknown>;

/** JSON.stringify replacer: bigint → decimal string; byte arrays refused (see the module comment). */
function jsonSafe(this: unknown, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON: a Buffer has already become { type, data } in `value`.
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array || raw instanceof ArrayBuffer || raw instanceof SharedArrayBuffer) {
    throw new TypeError(`audit field ${JSON.stringify(key)} holds bytes; the audit log takes metadata only (record a digest instead)`);
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** The party whose node writes this log (written into `log-opened`, read by `audit compare`). */
  party: string;
  /** Time source for `t` (tests pin it). Default: the system clock. */
  clock?: () => Date;
}

/** What a log has written since it was opened. */
export interface AuditStats {
  /** Entries appended (written or pending). */
  entries: number;
  /** Write + fdatasync rounds completed. */
  commits: number;
  /** Bytes written. */
  bytes: number;
}

interface Batch {
  /** Whether the commit of this batch ends with an fdatasync. */
  sync: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Entries that were only noted have nobody awaiting their batch; its failure is reported
  // to the next record/flush instead of as an unhandled rejection.
  promise.catch(() => {});
  return { sync: false, promise, resolve, reject };
}

/**
 * One node's audit log (see the module comment).
 *
 * @example
 * const log = await AuditLog.open('/var/lib/tessera/p1/audit.log', { party: 'p1' });
 * await log.record('job-accepted', { job, planHash, rule }); // on disk before the job starts
 * log.note('mac-check', { job, ok: true });                  // durable with the next commit
 * await log.close();
 */
export class AuditLog {
  readonly file: string;
  readonly party: string;
  readonly #fh: FileHandle;
  readonly #clock: () => Date;
  #next: number;
  #prev: string;
  /** Lines appended, not yet handed to a write. */
  #queue: string[] = [];
  /** Settles when the lines in #queue are durable. */
  #batch: Batch | undefined;
  /** The batch being written and synced right now. */
  #inflight: Batch | undefined;
  #scheduled: NodeJS.Immediate | undefined;
  /** The deadline commit of entries that were only noted. */
  #lazy: NodeJS.Timeout | undefined;
  /** Someone awaits the pending batch: commit it as soon as the disk is free. */
  #urgent = false;
  /** Bytes written since the last fdatasync. */
  #unsynced = false;
  /** The deadline sync of entries that were written but not synced. */
  #syncTimer: NodeJS.Timeout | undefined;
  #failed: MpcError | undefined;
  #closed = false;
  readonly #stats: AuditStats = { entries: 0, commits: 0, bytes: 0 };

  private constructor(file: string, fh: FileHandle, party: string, clock: () => Date, next: number, prev: string) {
    this.file = file;
    this.#fh = fh;
    this.party = party;
    this.#clock = clock;
    this.#next = next;
    this.#prev = prev;
  }

  /**
   * Open the log at `file`, creating it (mode 0600, missing folders 0700) or continuing an
   * existing one: its last entry is read and checked, and the chain goes on from it. An
   * existing log whose tail is not an intact entry (a torn write, an edit) is refused with
   * CONFIG naming the file; it is never silently replaced by a new chain. Writes a
   * `log-opened` entry and resolves when that is durable.
   */
  static async open(file: string, opts: AuditLogOptions): Promise<AuditLog> {
    if (typeof opts.party !== 'string' || opts.party.length === 0) throw new TypeError('expected opts.party to be a non-empty string');
    let fh: FileHandle;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      fh = await open(file, 'a+', 0o600);
    } catch (e) {
      throw new MpcError(ErrorCode.CONFIG, `${file}: cannot open the audit log: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    let tail: { next: number; prev: string };
    try {
      tail = await readTail(fh, file);
    } catch (e) {
      await fh.close();
      throw e;
    }
    const log = new AuditLog(file, fh, opts.party, opts.clock ?? (() => new Date()), tail.next, tail.prev);
    try {
      await log.record(AuditEvent.LogOpened, { party: opts.party, continues: tail.next > 0 });
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    return log;
  }

  /** Index and hash of the last entry appended (durable or not). */
  get head(): { index: number; hash: string } {
    return { index: this.#next - 1, hash: this.#prev };
  }

  stats(): AuditStats {
    return { ...this.#stats };
  }

  /**
   * Append an entry without waiting for it to be durable; returns its index. It is written
   * with the next commit, at the latest after {@link NOTE_DELAY_MS}. Throws TypeError for
   * fields that are not JSON data, RangeError for a bad event name or a reserved field name,
   * MpcError once the log is closed. After a write failure it still appends, and the next
   * `record`/`flush` reports the failure.
   */
  note(event: string, fields: AuditFields = {}): number {
    if (this.#closed) throw new MpcError(ErrorCode.CONFIG, `${this.file}: the audit log is closed (event ${event})`);
    if (!EVENT_NAME.test(event)) throw new RangeError(`expected an audit event name like "job-accepted", got ${JSON.stringify(event)}`);
    for (const k of Object.keys(fields)) {
      if (RESERVED.has(k)) throw new RangeError(`audit event ${event}: field ${JSON.stringify(k)} is reserved for the log itself`);
    }
    const i = this.#next;
    const canonical = JSON.stringify({ i, t: this.#clock().toISOString(), prev: this.#prev, event, ...fields }, jsonSafe);
    const hash = entryHash(canonical);
    this.#queue.push(`${canonical.slice(0, -1)},"hash":"${hash}"}\n`);
    this.#batch ??= newBatch();
    this.#next = i + 1;
    this.#prev = hash;
    this.#stats.entries++;
    if (this.#urgent) this.#schedule();
    else this.#scheduleLazy();
    return i;
  }

  /** Append an entry; resolves once it (and every entry before it) is written and synced. */
  record(event: string, fields: AuditFields = {}): Promise<void> {
    try {
      this.note(event, fields);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.flush();
  }

  /** Resolves once every entry appended so far is durable; rejects if the log has failed. */
  flush(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    // Entries written without a sync (or being written so) need a commit that syncs.
    if (this.#batch === undefined && (this.#unsynced || (this.#inflight !== undefined && !this.#inflight.sync))) this.#batch = newBatch();
    if (this.#batch !== undefined) this.#batch.sync = true;
    return this.written();
  }

  /**
   * Resolves once every entry appended so far is written to the file, synced or not (a crash
   * of the node keeps it; a crash of the host may lose the last {@link SYNC_DELAY_MS}): what
   * the frame audit waits for under `auditSync: "decisions"`. A sync follows within that delay.
   */
  written(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#batch !== undefined) {
      this.#urgent = true;
      this.#schedule();
    }
    return (this.#batch ?? this.#inflight)?.promise ?? Promise.resolve();
  }

  /** Flush, then close the file. Later appends throw. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#scheduled !== undefined || this.#lazy !== undefined) {
        this.#clearTimers();
        this.#startWrite();
      }
      await this.flush();
    } finally {
      if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
      await this.#fh.close();
    }
  }

  #schedule(): void {
    // While a commit is in flight, new entries wait for it and then go out as one batch.
    if (this.#scheduled !== undefined || this.#inflight !== undefined) return;
    if (this.#lazy !== undefined) {
      clearTimeout(this.#lazy);
      this.#lazy = undefined;
    }
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#startWrite();
    });
  }

  #scheduleLazy(): void {
    if (this.#scheduled !== undefined || this.#inflight !== undefined || this.#lazy !== undefined) return;
    this.#lazy = setTimeout(() => {
      this.#lazy = undefined;
      this.#startWrite();
    }, NOTE_DELAY_MS);
  }

  #clearTimers(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    if (this.#lazy !== undefined) clearTimeout(this.#lazy);
    this.#scheduled = undefined;
    this.#lazy = undefined;
  }

  #startWrite(): void {
    if (this.#inflight !== undefined || this.#batch === undefined || (this.#queue.length === 0 && !this.#batch.sync)) return;
    this.#clearTimers();
    this.#urgent = false;
    const batch = this.#batch;
    const bytes = Buffer.from(this.#queue.join(''), 'utf8');
    this.#queue = [];
    this.#batch = undefined;
    this.#inflight = batch;
    if (this.#failed !== undefined) return this.#settle(batch, this.#failed);
    if (batch.sync && this.#syncTimer !== undefined) {
      clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
    }
    writeAndSync(this.#fh, bytes, batch.sync).then(
      () => {
        this.#stats.commits++;
        this.#stats.bytes += bytes.length;
        if (batch.sync) this.#unsynced = false;
        else if (bytes.length > 0) {
          this.#unsynced = true;
          this.#syncTimer ??= setTimeout(() => {
            this.#syncTimer = undefined;
            this.flush().catch(() => {});
          }, SYNC_DELAY_MS);
        }
        this.#settle(batch, undefined);
      },
      (e: NodeJS.ErrnoException) => {
        this.#failed = new MpcError(ErrorCode.CONFIG, `${this.file}: cannot write the audit log: ${e.code ?? e.message}; the node refuses to go on unaudited`, { cause: e });
        this.#settle(batch, this.#failed);
      },
    );
  }

  #settle(batch: Batch, error: MpcError | undefined): void {
    this.#inflight = undefined;
    if (error === undefined) batch.resolve();
    else batch.reject(error);
    // What was appended during the commit goes out now, as one batch, if someone awaits it;
    // entries that were only noted wait for the next record (or the deadline).
    if (this.#urgent) this.#startWrite();
    else if (this.#queue.length > 0) this.#scheduleLazy();
  }
}

async function writeAndSync(fh: FileHandle, bytes: Buffer, sync: boolean): Promise<void> {
  if (!sync) {
    // A write without a sync costs microseconds: done in place, it spares a round of the
    // frames it precedes two thread-pool hops (a deep circuit pays them every round).
    for (let off = 0; off < bytes.length; ) off += writeSync(fh.fd, bytes, off, bytes.length - off);
    return;
  }
  for (let off = 0; off < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
    off += bytesWritten;
  }
  await fh.datasync();
}

/**
 * Where an existing log's chain goes on: the index after its last entry and that entry's
 * hash, after checking the entry (only the tail: the whole file may be large; `mpc audit
 * verify` checks all of it). An empty file starts a new chain.
 */
async function readTail(fh: FileHandle, file: string): Promise<{ next: number; prev: string }> {
  const { size } = await fh.stat();
  if (size === 0) return { next: 0, prev: GENESIS };
  const refuse = (why: string): never => {
    throw new MpcError(
      ErrorCode.CONFIG,
      `${file}: cannot continue this audit log: ${why}. Run \`mpc audit verify ${file}\`; to start a new log, move this one aside (it is never replaced automatically)`,
    );
  };
  // Read backwards until the newline before the last line (or the start of the file).
  let end = size;
  let text = '';
  let chunks: Buffer[] = [];
  for (;;) {
    const start = Math.max(0, end - TAIL_BLOCK);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    chunks = [buf, ...chunks];
    const all = Buffer.concat(chunks);
    const cut = all.lastIndexOf(0x0a, all.length - 2);
    if (cut >= 0 || start === 0) {
      if (all[all.length - 1] !== 0x0a) refuse('its last line is incomplete (an interrupted write?)');
      text = all.subarray(cut + 1, all.length - 1).toString('utf8');
      break;
    }
    end = start;
  }
  const parts = splitEntryLine(text);
  if (parts === undefined) return refuse('its last line is not an audit entry');
  if (entryHash(parts.canonical) !== parts.hash) refuse("its last entry's hash does not match its content (edited?)");
  let i: unknown;
  try {
    i = (JSON.parse(parts.canonical) as { i?: unknown }).i;
  } catch {
    return refuse('its last line is not valid JSON');
  }
  if (!Number.isSafeInteger(i) || (i as number) < 0) refuse('its last entry has no valid index');
  return { next: (i as number) + 1, prev: parts.hash };
}

// ---------------------------------------------------------------------------------------
// Frame audit: what the peer mesh records per frame.

/**
 * How a node's frame entries reach the disk before their frames leave: `"every-frame"` (the
 * default) fsyncs them first, one sync per layer; `"decisions"` only writes them first and
 * syncs within {@link SYNC_DELAY_MS}, which spares deep circuits a sync per round. Decisions,
 * job lifecycle and output deliveries are synced first either way.
 */
export type AuditSync = 'every-frame' | 'decisions';
export const AUDIT_SYNC_MODES: readonly AuditSync[] = ['every-frame', 'decisions'];

/** The parts of a frame the audit reads (a mesh `OutFrame` or a decoded `Frame`). */
export interface AuditedFrame {
  job: string;
  kind: number;
  round: number;
  payload?: Uint8Array;
}

/**
 * What the peer mesh reports to the audit log (src/net/mesh.ts, `PeerMeshOptions.audit`).
 * `path` is `main` (the main channel) or `lane<k>` (lane k; `lane` when the lane's index is
 * not known on the receiving side).
 */
export interface FrameAudit {
  /** Record a job frame about to be sent; resolves with its entry's index once durable. */
  sending(peer: string, frame: AuditedFrame, path: string): Promise<number>;
  /** Sending the frame recorded as entry `entry` failed. */
  sendFailed(peer: string, entry: number, error: Error): void;
  /** Note a job frame on arrival (durable with the next commit). */
  received(peer: string, frame: AuditedFrame, path: string): void;
  /** A channel to `peer` came up, or ended (`reason` given). */
  link(peer: string, path: string, reason?: string): void;
}

const KIND_NAMES: ReadonlyMap<number, string> = new Map([...Object.entries(MessageKind), ...Object.entries(ControlKind)].map(([name, k]) => [k as number, name]));

/** A frame kind's name as the audit log writes it (`Open`, `JobAbort`, or `kind-<n>`). */
export function kindName(kind: number): string {
  return KIND_NAMES.get(kind) ?? `kind-${kind}`;
}

/** SHA-256 of a payload, base64url (43 characters): native, and short enough for a log line. */
export function payloadDigest(payload: Uint8Array): string {
  return createHash('sha256').update(payload).digest('base64url');
}

/**
 * The {@link FrameAudit} over a node's log. Each entry carries `n`, the frame's position in
 * its (peer, direction, path) stream: that stream is FIFO (one connection, or one lane
 * thread and its connection), so `n` is the order a receiver must see. The counters are per
 * stream, not per job, so they need no state that must be forgotten when a job ends; a
 * job's frames are ordered by them all the same.
 *
 * `received`, `sendFailed` and `link` run inside socket handlers and never throw: a note
 * that fails (the log closed under a running mesh) is kept, and every later `sending`
 * rejects with it, so the jobs fail at their next send instead of the process crashing.
 */
export function createFrameAudit(log: AuditLog, opts: { sync?: AuditSync } = {}): FrameAudit {
  // Under "decisions", a frame's entry is written (not synced) before the frame is sent.
  const durable = opts.sync === 'decisions' ? () => log.written() : () => log.flush();
  const counters = new Map<string, number>();
  let broken: Error | undefined;
  const noteSafely = (event: string, fields: () => AuditFields): void => {
    try {
      log.note(event, fields());
    } catch (e) {
      broken ??= e as Error;
    }
  };
  // An opening goes to every peer as the same bytes: hash it once. Keyed by the array itself,
  // which the protocol must not modify after sending (Transport.send), so the digest holds.
  const digests = new WeakMap<Uint8Array, string>();
  const sentDigest = (payload: Uint8Array): string => {
    let d = digests.get(payload);
    if (d === undefined) digests.set(payload, (d = payloadDigest(payload)));
    return d;
  };
  const entry = (dir: 'out' | 'in', peer: string, f: AuditedFrame, path: string): AuditFields => {
    const key = `${dir} ${peer} ${path}`;
    const n = counters.get(key) ?? 0;
    counters.set(key, n + 1);
    const fields: AuditFields = {
      peer,
      job: f.job,
      kind: kindName(f.kind),
      round: f.round,
      layer: f.round % CHUNK_ROUND_STRIDE,
      chunk: chunkOf(f.round),
      bytes: f.payload?.length ?? 0,
    };
    if (f.payload !== undefined) fields.digest = dir === 'out' ? sentDigest(f.payload) : payloadDigest(f.payload);
    fields.path = path;
    fields.n = n;
    return fields;
  };
  return {
    sending(peer, f, path) {
      if (broken !== undefined) return Promise.reject(broken);
      let i: number;
      try {
        i = log.note(AuditEvent.FrameSent, entry('out', peer, f, path));
      } catch (e) {
        return Promise.reject(e);
      }
      return durable().then(() => i);
    },
    sendFailed(peer, of, error) {
      noteSafely(AuditEvent.FrameSendFailed, () => ({ peer, of, error: error.message }));
    },
    received(peer, f, path) {
      noteSafely(AuditEvent.FrameRecv, () => entry('in', peer, f, path));
    },
    link(peer, path, reason) {
      noteSafely(reason === undefined ? AuditEvent.LinkUp : AuditEvent.LinkLost, () => (reason === undefined ? { peer, path } : { peer, path, reason }));
    },
  };
}
