// The audit log writer. Read the refusals first (a log it cannot continue, a place it cannot
// write, data it must not take), then the chain across a reopen, then group commit: many
// entries, one write and one fdatasync, and `record` resolving only after that sync.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { ControlKind } from '../../src/net/frame.ts';
import { chunkRound, MessageKind } from '../../src/protocol/transport.ts';
import { AuditLog, createFrameAudit, GENESIS, splitEntryLine, entryHash, SYNC_DELAY_MS } from '../../src/security/audit.ts';
import { verifyAuditLog } from '../../src/security/audit-check.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-audit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let seq = 0;
const fresh = () => join(root, `log-${seq++}`, 'audit.log');
const clock = () => new Date('2026-12-01T10:00:00.000Z');
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
const parsed = (file: string) => lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);

/** The prototype of fs/promises FileHandle, to spy on write and datasync. */
async function fileHandleProto(): Promise<{ write: (...a: unknown[]) => Promise<unknown>; datasync: () => Promise<void> }> {
  const fh = await open(join(root, 'proto'), 'a');
  await fh.close();
  return Object.getPrototypeOf(fh);
}

async function expectMpcError(p: Promise<unknown>, code: string, ...mentions: (string | RegExp)[]): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: Error) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(Error);
  expect((e as Error & { code?: string }).code).toBe(code);
  for (const m of mentions) expect((e as Error).message).toMatch(m);
  return e as Error;
}

describe('AuditLog refuses', () => {
  it('to continue a log whose last line was cut short, naming the file and leaving it untouched', async () => {
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1', clock });
    await log.record('job-accepted', { job: 'j1' });
    await log.close();
    appendFileSync(file, '{"i":2,"t":"2026-12-01T10:00:00.000Z","prev":"');
    const before = readFileSync(file, 'utf8');
    await expectMpcError(AuditLog.open(file, { party: 'p1' }), ErrorCode.CONFIG, file, /last line is incomplete/, /never replaced automatically/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('to continue a log whose last entry was edited', async () => {
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1', clock });
    await log.record('job-accepted', { job: 'j1' });
    await log.close();
    writeFileSync(file, readFileSync(file, 'utf8').replace('"job":"j1"', '"job":"j2"'));
    await expectMpcError(AuditLog.open(file, { party: 'p1' }), ErrorCode.CONFIG, file, /hash does not match/);
  });

  it('to continue a file that is not an audit log', async () => {
    const file = fresh();
    await (await AuditLog.open(file, { party: 'p1' })).close();
    writeFileSync(file, 'hello\n');
    await expectMpcError(AuditLog.open(file, { party: 'p1' }), ErrorCode.CONFIG, file, /not an audit entry/);
  });

  it('to open where it cannot write, naming the file', async () => {
    const notADir = join(root, 'plain-file');
    writeFileSync(notADir, 'x');
    const file = join(notADir, 'audit.log');
    await expectMpcError(AuditLog.open(file, { party: 'p1' }), ErrorCode.CONFIG, file, /cannot open the audit log: (ENOTDIR|EEXIST)/);
  });

  it('to go on after a failed write: the record rejects, and so does every later flush', async () => {
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1' });
    const proto = await fileHandleProto();
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    await expectMpcError(log.record('job-accepted', { job: 'j1' }), ErrorCode.CONFIG, file, /ENOSPC/, /unaudited/);
    log.note('job-done', { job: 'j1' });
    await expectMpcError(log.flush(), ErrorCode.CONFIG, /ENOSPC/);
    await expectMpcError(log.record('job-done', { job: 'j1' }), ErrorCode.CONFIG, /ENOSPC/);
    await log.close().catch(() => {});
  });

  it('payload bytes, reserved field names and odd event names', async () => {
    const log = await AuditLog.open(fresh(), { party: 'p1' });
    expect(() => log.note('frame-sent', { payload: new Uint8Array([1, 2, 3]) })).toThrow(/holds bytes; the audit log takes metadata only/);
    expect(() => log.note('frame-sent', { nested: { data: Buffer.from('secret') } })).toThrow(TypeError);
    expect(() => log.note('frame-sent', { hash: 'x' })).toThrow(/reserved/);
    expect(() => log.note('frame-sent', { i: 3 })).toThrow(/reserved/);
    expect(() => log.note('Frame Sent', {})).toThrow(RangeError);
    await expect(log.record('x', { prev: GENESIS })).rejects.toThrow(RangeError); // rejects, does not throw
    await log.close();
    expect(() => log.note('job-done', {})).toThrow(/closed/);
  });
});

describe('AuditLog', () => {
  it('writes one hash-chained JSON line per entry; a hash covers the line without its hash member', async () => {
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1', clock });
    await log.record('job-accepted', { job: 'j1', multiplications: 10n ** 20n, rule: 'allow-sum' });
    await log.close();
    const [first, second] = lines(file);
    expect(first).toBe(
      `{"i":0,"t":"2026-12-01T10:00:00.000Z","prev":"${GENESIS}","event":"log-opened","party":"p1","continues":false,"hash":"${entryHash(first.replace(/,"hash":"[0-9a-f]{64}"\}$/, '}'))}"}`,
    );
    // The hash is SHA-256 of exactly these bytes: the line with `,"hash":"…"` cut out.
    const canonical = second.replace(/,"hash":"[0-9a-f]{64}"\}$/, '}');
    expect(splitEntryLine(second)).toEqual({ canonical, hash: createHash('sha256').update(canonical).digest('hex') });
    const e = JSON.parse(second);
    expect(e).toMatchObject({ i: 1, prev: JSON.parse(first).hash, event: 'job-accepted', multiplications: '100000000000000000000' });
    expect(Object.keys(e)).toEqual(['i', 't', 'prev', 'event', 'job', 'multiplications', 'rule', 'hash']);
  });

  it('creates the file 0600 and its folders 0700', async () => {
    const file = join(root, 'modes', 'deeper', 'audit.log');
    await (await AuditLog.open(file, { party: 'p1' })).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'modes', 'deeper')).mode & 0o777).toBe(0o700);
  });

  it('continues the chain across close and reopen', async () => {
    const file = fresh();
    const a = await AuditLog.open(file, { party: 'p1' });
    await a.record('job-accepted', { job: 'j1' });
    const head = a.head;
    await a.close();
    const b = await AuditLog.open(file, { party: 'p1' });
    expect(b.head.index).toBe(head.index + 1); // its log-opened entry
    await b.record('job-done', { job: 'j1' });
    await b.close();
    const es = parsed(file);
    expect(es.map((e) => e.i)).toEqual([0, 1, 2, 3]);
    expect(es[2]).toMatchObject({ event: 'log-opened', continues: true, prev: head.hash });
    const v = verifyAuditLog(readFileSync(file, 'utf8'), file);
    expect(v.ok).toBe(true);
  });

  it('group commit: entries appended in one turn go out in one write and one fdatasync', async () => {
    const proto = await fileHandleProto();
    const writes = vi.spyOn(proto, 'write');
    const syncs = vi.spyOn(proto, 'datasync');
    const log = await AuditLog.open(fresh(), { party: 'p1' });
    const before = { writes: writes.mock.calls.length, syncs: syncs.mock.calls.length, commits: log.stats().commits };
    await Promise.all(Array.from({ length: 20 }, (_, k) => log.record('mac-check', { job: 'j1', k, ok: true })));
    expect(writes.mock.calls.length - before.writes).toBe(1);
    expect(syncs.mock.calls.length - before.syncs).toBe(1);
    expect(log.stats().commits - before.commits).toBe(1);
    await log.close();
  });

  it('notes alone do not start a sync: a received frame rides on the next send\'s commit', async () => {
    const proto = await fileHandleProto();
    const syncs = vi.spyOn(proto, 'datasync');
    const log = await AuditLog.open(fresh(), { party: 'p1' });
    const before = syncs.mock.calls.length;
    log.note('frame-recv', { k: 1 });
    await new Promise((r) => setImmediate(r));
    expect(syncs.mock.calls.length - before).toBe(0);
    await log.record('frame-sent', { k: 2 });
    expect(syncs.mock.calls.length - before).toBe(1);
    await log.close();
  });

  it('"decisions" sync: a frame entry is written, not synced, before its frame leaves; a sync follows, and record still syncs first', async () => {
    const proto = await fileHandleProto();
    const syncs = vi.spyOn(proto, 'datasync');
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1' });
    const audit = createFrameAudit(log, { sync: 'decisions' });
    const before = { syncs: syncs.mock.calls.length };
    await audit.sending('p2', { job: 'j1', kind: 2, round: 1, payload: new Uint8Array(16) }, 'main');
    expect(syncs.mock.calls.length - before.syncs).toBe(0);
    expect(lines(file).at(-1)).toContain('"event":"frame-sent"');
    await log.record('job-done', { job: 'j1' });
    expect(syncs.mock.calls.length - before.syncs).toBe(1);
    await audit.sending('p2', { job: 'j2', kind: 2, round: 1, payload: new Uint8Array(16) }, 'main');
    await new Promise((r) => setTimeout(r, SYNC_DELAY_MS + 50));
    expect(syncs.mock.calls.length - before.syncs).toBe(2); // the deadline sync
    await log.close();
  });

  it('entries appended while a commit is in flight share the next commit', async () => {
    const proto = await fileHandleProto();
    const real = proto.datasync;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
      if (calls++ === 1) await gate; // hold the first commit after open
      return real.call(this);
    });
    const log = await AuditLog.open(fresh(), { party: 'p1' });
    const first = log.record('job-accepted', { job: 'j1' });
    await new Promise((r) => setImmediate(r)); // the commit has started and waits for the gate
    const more = Array.from({ length: 5 }, (_, k) => log.record('frame-recv', { k }));
    release();
    await Promise.all([first, ...more]);
    expect(log.stats().commits).toBe(3); // log-opened, the first record, the five
    await log.close();
  });

  it('record resolves only after its entry has been synced', async () => {
    const proto = await fileHandleProto();
    const real = proto.datasync;
    const events: string[] = [];
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
      events.push('sync-start');
      await new Promise((r) => setTimeout(r, 5));
      await real.call(this);
      events.push('sync-done');
    });
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1' });
    events.length = 0;
    await log.record('output-delivered', { job: 'j1', to: 'alice' }).then(() => events.push('resolved'));
    expect(events).toEqual(['sync-start', 'sync-done', 'resolved']);
    expect(lines(file).at(-1)).toContain('"event":"output-delivered"');
    await log.close();
  });

  it('note() appends without waiting; the entry is on disk after the next flush', async () => {
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1' });
    const i = log.note('mac-check', { job: 'j1', ok: true });
    expect(i).toBe(1);
    await log.flush();
    expect(parsed(file)[1]).toMatchObject({ i: 1, event: 'mac-check', ok: true });
    await log.close();
  });
});

describe('createFrameAudit', () => {
  it('never throws in a socket handler: a note that fails makes every later send fail', async () => {
    const log = await AuditLog.open(fresh(), { party: 'p1' });
    const audit = createFrameAudit(log);
    await log.close();
    expect(() => audit.received('p2', { job: 'j1', kind: MessageKind.Open, round: 0, payload: new Uint8Array(1) }, 'main')).not.toThrow();
    expect(() => audit.link('p2', 'main', 'gone')).not.toThrow();
    await expectMpcError(audit.sending('p2', { job: 'j1', kind: MessageKind.Open, round: 1, payload: new Uint8Array(1) }, 'main'), ErrorCode.CONFIG, /audit log is closed \(event frame-recv\)/);
  });

  it('records metadata and a digest, never the payload; counts each (peer, direction, path) stream', async () => {
    const file = fresh();
    const log = await AuditLog.open(file, { party: 'p1' });
    const audit = createFrameAudit(log);
    const payload = new TextEncoder().encode('secret share bytes');
    const round = chunkRound(3, 2);
    expect(await audit.sending('p2', { job: 'j1', kind: MessageKind.Open, round, payload }, 'lane2')).toBe(1);
    await audit.sending('p2', { job: 'j1', kind: MessageKind.Open, round: 4, payload }, 'main');
    await audit.sending('p2', { job: 'j1', kind: ControlKind.JobAbort, round: 0 }, 'main');
    audit.received('p2', { job: 'j1', kind: MessageKind.Open, round, payload }, 'lane');
    audit.sendFailed('p2', 3, new Error('party p2 is not connected'));
    audit.link('p2', 'main', 'code 1006');
    await log.close();
    const es = parsed(file).slice(1);
    const digest = createHash('sha256').update(payload).digest('base64url');
    expect(es[0]).toMatchObject({ event: 'frame-sent', peer: 'p2', job: 'j1', kind: 'Open', round, layer: 3, chunk: 2, bytes: payload.length, digest, path: 'lane2', n: 0 });
    expect(es[1]).toMatchObject({ path: 'main', n: 0, layer: 4, chunk: 0 });
    expect(es[2]).toMatchObject({ kind: 'JobAbort', bytes: 0, path: 'main', n: 1 });
    expect(es[2].digest).toBeUndefined();
    expect(es[3]).toMatchObject({ event: 'frame-recv', path: 'lane', n: 0, digest });
    expect(es[4]).toMatchObject({ event: 'frame-send-failed', peer: 'p2', of: 3 });
    expect(es[5]).toMatchObject({ event: 'link-lost', peer: 'p2', path: 'main', reason: 'code 1006' });
    expect(readFileSync(file, 'utf8')).not.toContain('secret');
    expect(readFileSync(file, 'utf8')).not.toContain(Buffer.from(payload).toString('base64'));
  });
});
