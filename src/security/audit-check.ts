/**
 * Offline checks of audit logs (the format is in src/security/audit.ts): pure functions over
 * the logs' text and entries, behind `mpc audit verify` and `mpc audit compare`.
 *
 * **verify** walks the chain from the first line and names the FIRST entry that breaks it:
 * - a line that is not a whole entry (garbled, or cut short by an interrupted write);
 * - an edited entry: its own `hash` no longer matches its text;
 * - a deleted entry: the next line's `i` is not the one expected (and its `prev` names
 *   the missing entry's hash); a moved or duplicated entry shows the same way;
 * - an entry replaced together with a recomputed hash: the next entry's `prev` fails.
 *
 * What a chain cannot show on its own: the **tail cut off** (a log ending after entry k
 * looks like a log that ended there), and a log **rewritten from some point on, or whole**,
 * by someone with write access who recomputes every hash. Both are caught by anchoring:
 * write down (or send elsewhere) the head hash that `verify` prints, and compare the logs of
 * the parties with each other — each frame a party sent is recorded by its receiver too.
 *
 * **compare** matches what log A recorded as sent to B (`frame-sent`, peer B) with what B
 * recorded as received from A (`frame-recv`, peer A), and the other way round, by (job, kind,
 * round). Findings:
 * - **dropped**: sent, never received;
 * - **injected**: received, never sent (or a second copy of a frame sent once: a replay);
 * - **altered**: received with other bytes (length or digest), or on another kind of path;
 * - **reordered**: on one sender path (the main channel, or one lane — each a FIFO stream),
 *   received in another order than sent;
 * - **undelivered**, not counted as tampering: a frame that was not received because the
 *   send failed (`frame-send-failed`), because the sender recorded losing that link before
 *   any later frame on the path got through (`link-lost`), or because nothing after it on
 *   its path was received and the receiver had recorded the job's end (JOB_END_EVENTS).
 * Compare logs that cover the same period, after the jobs in question have ended: frames
 * still in flight when a log was copied show up as dropped.
 * @module
 */
import { ErrorCode, MpcError } from '../errors.ts';
import { AuditEvent, entryHash, GENESIS, JOB_END_EVENTS, splitEntryLine } from './audit.ts';

/** One parsed audit entry: the log's own keys, then the event's fields. */
export interface AuditEntry {
  i: number;
  t: string;
  prev: string;
  event: string;
  hash: string;
  [field: string]: unknown;
}

/** What `verifyAuditLog` found. On failure, `entries` holds the intact entries before the bad one. */
export type VerifyResult =
  | { ok: true; file: string; entries: AuditEntry[]; head: string }
  | {
      ok: false;
      file: string;
      /** 1-based line of the first bad entry. */
      line: number;
      /** The index the entry at that line should have (line − 1). */
      index: number;
      /** The index the line claims, when it has a readable one. */
      found?: number;
      reason: string;
      entries: AuditEntry[];
    };

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Check a log's hash chain (see the module comment). `text` is the file's content, `file`
 * its name for messages. Never throws for a bad log: the result says what is wrong.
 */
export function verifyAuditLog(text: string, file: string): VerifyResult {
  const entries: AuditEntry[] = [];
  const lines = text.split('\n');
  // A complete log ends with a newline, so the last piece is empty.
  const complete = lines[lines.length - 1] === '';
  if (complete) lines.pop();
  let prev = GENESIS;
  const bad = (k: number, reason: string, found?: number): VerifyResult => ({ ok: false, file, line: k + 1, index: k, ...(found === undefined ? {} : { found }), reason, entries });
  if (lines.length === 0) return bad(0, 'the log is empty (not even its log-opened entry)');
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      return bad(k, line.trim() === '' ? 'a blank line' : 'not a JSON entry: the line is garbled or cut short');
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return bad(k, 'not an audit entry (a JSON object is expected)');
    const found = Number.isSafeInteger(e.i) ? e.i : undefined;
    const parts = splitEntryLine(line);
    if (parts === undefined) return bad(k, 'no "hash" member at the end of the entry', found);
    if (found === undefined || found < 0) return bad(k, 'no valid index "i"');
    if (typeof e.t !== 'string' || typeof e.event !== 'string' || typeof e.prev !== 'string' || !HEX64.test(e.prev)) {
      return bad(k, 'malformed entry: "t", "event" and "prev" must be strings ("prev" 64 hex digits)', found);
    }
    if (entryHash(parts.canonical) !== parts.hash) return bad(k, "the entry's hash does not match its content: the entry was edited", found);
    if (found > k) return bad(k, `expected entry i=${k} here, found i=${found}: entry ${k}${found > k + 1 ? `..${found - 1}` : ''} was deleted or moved`, found);
    if (found < k) return bad(k, `expected entry i=${k} here, found i=${found}: entry ${found} is out of place (moved or duplicated)`, found);
    if (e.prev !== prev) {
      return bad(k, k === 0 ? 'the first entry must chain from 64 zeros' : `"prev" is not the hash of the entry before it (line ${k}): that entry was replaced, or the log spliced`, found);
    }
    if (k === lines.length - 1 && !complete) return bad(k, 'the last line has no newline: an interrupted write, or the file was cut', found);
    entries.push(e);
    prev = parts.hash;
  }
  return { ok: true, file, entries, head: prev };
}

// ---------------------------------------------------------------------------------------
// compare

/** A verified log: its file name (for messages) and entries. */
export interface AuditLogEntries {
  file: string;
  entries: readonly AuditEntry[];
}

export type FindingKind = 'dropped' | 'injected' | 'altered' | 'reordered' | 'undelivered';

/** Where one log recorded a frame. */
export interface FrameAt {
  file: string;
  line: number;
  path: string;
  bytes: number;
  digest?: string;
}

/** One thing `compareAuditLogs` found about one frame. */
export interface Finding {
  finding: FindingKind;
  /** Sender and receiver party. */
  from: string;
  to: string;
  job: string;
  kind: string;
  round: number;
  layer: number;
  chunk: number;
  /** Where the sender recorded it (absent for an injected frame). */
  sent?: FrameAt;
  /** Where the receiver recorded it (absent for a dropped or undelivered frame). */
  received?: FrameAt;
  reason: string;
}

export interface CompareReport {
  /** True when nothing was dropped, injected, altered or reordered (undelivered frames are allowed). */
  ok: boolean;
  /** The parties of log A and log B. */
  parties: [string, string];
  files: [string, string];
  /** Frames matched A→B and B→A. */
  matched: [number, number];
  findings: Finding[];
}

/** A frame entry, checked. */
interface FrameEntry {
  i: number;
  peer: string;
  job: string;
  kind: string;
  round: number;
  layer: number;
  chunk: number;
  bytes: number;
  digest?: string;
  path: string;
}

interface Side {
  file: string;
  party: string;
  entries: readonly AuditEntry[];
}

/**
 * Compare two parties' verified logs (see the module comment). Throws INPUT when a log does
 * not say whose it is (no `log-opened`), names two parties, or both logs are the same party's,
 * or when a frame entry lacks its fields.
 */
export function compareAuditLogs(a: AuditLogEntries, b: AuditLogEntries): CompareReport {
  const A: Side = { ...a, party: partyOf(a) };
  const B: Side = { ...b, party: partyOf(b) };
  if (A.party === B.party) throw new MpcError(ErrorCode.INPUT, `${a.file} and ${b.file} are both logs of party ${A.party}; compare the logs of two parties`);
  const ab = direction(A, B);
  const ba = direction(B, A);
  const findings = [...ab.findings, ...ba.findings];
  return {
    ok: findings.every((f) => f.finding === 'undelivered'),
    parties: [A.party, B.party],
    files: [a.file, b.file],
    matched: [ab.matched, ba.matched],
    findings,
  };
}

function partyOf(log: AuditLogEntries): string {
  const named = new Set<string>();
  for (const e of log.entries) if (e.event === AuditEvent.LogOpened && typeof e.party === 'string') named.add(e.party);
  if (named.size === 0) throw new MpcError(ErrorCode.INPUT, `${log.file}: no log-opened entry says whose log this is`);
  if (named.size > 1) throw new MpcError(ErrorCode.INPUT, `${log.file}: its log-opened entries name several parties (${[...named].join(', ')}); one log belongs to one node`);
  return [...named][0];
}

function frameEntry(log: Side, e: AuditEntry): FrameEntry {
  const { peer, job, kind, round, layer, chunk, bytes, digest, path } = e;
  const uint = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (typeof peer !== 'string' || typeof job !== 'string' || typeof kind !== 'string' || typeof path !== 'string' || !uint(round) || !uint(layer) || !uint(chunk) || !uint(bytes) || !(digest === undefined || typeof digest === 'string')) {
    throw new MpcError(ErrorCode.INPUT, `${log.file}:${e.i + 1}: ${e.event} entry without peer, job, kind, round, layer, chunk, bytes and path`);
  }
  return { i: e.i, peer, job, kind, round: round as number, layer: layer as number, chunk: chunk as number, bytes: bytes as number, digest, path };
}

function at(log: Side, f: FrameEntry): FrameAt {
  return { file: log.file, line: f.i + 1, path: f.path, bytes: f.bytes, ...(f.digest === undefined ? {} : { digest: f.digest }) };
}

function describeFrame(f: FrameEntry): string {
  return `${f.kind} round ${f.round} of job ${f.job}`;
}

/** What S recorded as sent to R against what R recorded as received from S. */
function direction(S: Side, R: Side): { matched: number; findings: Finding[] } {
  const sent = S.entries.filter((e) => e.event === AuditEvent.FrameSent && e.peer === R.party).map((e) => frameEntry(S, e));
  const recv = R.entries.filter((e) => e.event === AuditEvent.FrameRecv && e.peer === S.party).map((e) => frameEntry(R, e));
  const sendFailed = new Map<number, string>();
  for (const e of S.entries) if (e.event === AuditEvent.FrameSendFailed && e.peer === R.party && Number.isSafeInteger(e.of)) sendFailed.set(e.of as number, String(e.error));
  const losses = S.entries.filter((e) => e.event === AuditEvent.LinkLost && e.peer === R.party).map((e) => ({ i: e.i, path: String(e.path), reason: String(e.reason) }));
  const ended = new Set(R.entries.filter((e) => JOB_END_EVENTS.has(e.event) && typeof e.job === 'string').map((e) => e.job as string));

  const key = (f: FrameEntry) => JSON.stringify([f.job, f.kind, f.round]);
  // Receipts by key, in the receiver's order; the k-th send of a key matches its k-th receipt.
  const waiting = new Map<string, FrameEntry[]>();
  for (const r of recv) {
    const q = waiting.get(key(r));
    if (q === undefined) waiting.set(key(r), [r]);
    else q.push(r);
  }
  const pairs = sent.map((s) => ({ s, r: waiting.get(key(s))?.shift() }));
  const findings: Finding[] = [];
  const finding = (kind: FindingKind, f: FrameEntry, reason: string, s?: FrameEntry, r?: FrameEntry): void => {
    findings.push({
      finding: kind,
      from: S.party,
      to: R.party,
      job: f.job,
      kind: f.kind,
      round: f.round,
      layer: f.layer,
      chunk: f.chunk,
      ...(s === undefined ? {} : { sent: at(S, s) }),
      ...(r === undefined ? {} : { received: at(R, r) }),
      reason,
    });
  };

  // Each sender path is a FIFO stream: judge order and losses within it.
  const streams = new Map<string, typeof pairs>();
  for (const p of pairs) {
    const st = streams.get(p.s.path);
    if (st === undefined) streams.set(p.s.path, [p]);
    else st.push(p);
  }
  for (const [path, stream] of streams) {
    let last: { s: FrameEntry; r: FrameEntry } | undefined;
    let nextOk = Infinity;
    // Backwards, so each unreceived frame knows the next frame on its path that got through.
    const nextReceived: number[] = new Array(stream.length);
    for (let k = stream.length - 1; k >= 0; k--) {
      nextReceived[k] = nextOk;
      if (stream[k].r !== undefined) nextOk = stream[k].s.i;
    }
    stream.forEach(({ s, r }, k) => {
      if (r === undefined) {
        const failed = sendFailed.get(s.i);
        if (failed !== undefined) return finding('undelivered', s, `${S.party} recorded that sending it failed: ${failed}`, s);
        const loss = losses.find((l) => l.i > s.i && l.i < nextReceived[k] && (l.path === 'main' || l.path === path));
        if (loss !== undefined) return finding('undelivered', s, `${S.party}'s link to ${R.party} (${loss.path}) was lost before it arrived (${S.file}:${loss.i + 1}: ${loss.reason})`, s);
        if (nextReceived[k] === Infinity && ended.has(s.job)) return finding('undelivered', s, `${R.party} had ended job ${s.job}, and nothing after it on ${path} arrived`, s);
        const later = nextReceived[k] === Infinity ? '' : `, though a later frame on ${path} arrived (${S.file}:${nextReceived[k] + 1})`;
        return finding('dropped', s, `${S.party} sent it on ${path}; ${R.party} never recorded it${later}`, s);
      }
      const diffs: string[] = [];
      if (s.bytes !== r.bytes) diffs.push(`${s.bytes} bytes sent, ${r.bytes} received`);
      else if (s.digest !== r.digest) diffs.push('same length, different payload digest');
      if ((s.path === 'main') !== (r.path === 'main')) diffs.push(`sent on ${s.path}, received on ${r.path}`);
      if (diffs.length > 0) finding('altered', s, diffs.join('; '), s, r);
      if (last !== undefined && r.i < last.r.i) {
        finding('reordered', s, `sent on ${path} after ${describeFrame(last.s)} (${S.file}:${last.s.i + 1}), received before it (${R.file}:${last.r.i + 1})`, s, r);
      }
      last = { s, r };
    });
  }
  const sentKeys = new Set(sent.map(key));
  for (const q of waiting.values()) {
    for (const r of q) {
      const why = sentKeys.has(key(r)) ? `a second copy of a frame ${S.party} sent once (a replay)` : `${S.party} never recorded sending it`;
      finding('injected', r, `${R.party} recorded it from ${S.party} on ${r.path}; ${why}`, undefined, r);
    }
  }
  return { matched: pairs.filter((p) => p.r !== undefined).length, findings };
}
