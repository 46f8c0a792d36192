// `verifyAuditLog` and `compareAuditLogs`. First the broken chains (an edited, a deleted, a
// reordered entry, a garbled or cut line), each named at its line; then a clean log. Then
// compare over pairs of logs written by the real writer and frame audit, where the test plays
// the network: delivering a frame is p2 noting what p1 recorded sending.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { ControlKind } from '../../src/net/frame.ts';
import { chunkRound, MessageKind } from '../../src/protocol/transport.ts';
import { AuditLog, createFrameAudit, entryHash, type AuditedFrame, type FrameAudit } from '../../src/security/audit.ts';
import { compareAuditLogs, verifyAuditLog, type CompareReport, type VerifyResult } from '../../src/security/audit-check.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-audit-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const clock = () => new Date('2026-12-01T10:00:00.000Z');

/** A log of 6 entries: log-opened, then five job events. */
async function sampleLog(): Promise<string[]> {
  const file = join(root, `sample-${seq++}.log`);
  const log = await AuditLog.open(file, { party: 'p1', clock });
  for (let k = 1; k <= 5; k++) log.note('mac-check', { job: 'j1', k, ok: true });
  await log.close();
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}
const text = (ls: string[]) => ls.join('\n') + '\n';
/** A line with its field edited and its own hash recomputed, as a forger with write access would. */
function rehashed(line: string, edit: (s: string) => string): string {
  const canonical = edit(line.replace(/,"hash":"[0-9a-f]{64}"\}$/, '}'));
  return `${canonical.slice(0, -1)},"hash":"${entryHash(canonical)}"}`;
}
function expectBad(v: VerifyResult, line: number, found: number | undefined, reason: RegExp): void {
  expect(v.ok, JSON.stringify(v)).toBe(false);
  if (v.ok) return;
  expect({ line: v.line, index: v.index, found: v.found }).toEqual({ line, index: line - 1, found });
  expect(v.reason).toMatch(reason);
  expect(v.entries.length).toBe(line - 1);
}

describe('verifyAuditLog names the first bad entry', () => {
  it('an edited entry, by its own hash', async () => {
    const ls = await sampleLog();
    ls[3] = ls[3].replace('"ok":true', '"ok":false');
    expectBad(verifyAuditLog(text(ls), 'a.log'), 4, 3, /hash does not match its content: the entry was edited/);
  });

  it('an edited entry whose hash was recomputed, at the next entry (its prev)', async () => {
    const ls = await sampleLog();
    ls[3] = rehashed(ls[3], (s) => s.replace('"ok":true', '"ok":false'));
    expectBad(verifyAuditLog(text(ls), 'a.log'), 5, 4, /"prev" is not the hash of the entry before it \(line 4\)/);
  });

  it('a deleted entry', async () => {
    const ls = await sampleLog();
    ls.splice(2, 1);
    expectBad(verifyAuditLog(text(ls), 'a.log'), 3, 3, /expected entry i=2 here, found i=3: entry 2 was deleted or moved/);
  });

  it('two deleted entries at the end of a block', async () => {
    const ls = await sampleLog();
    ls.splice(2, 2);
    expectBad(verifyAuditLog(text(ls), 'a.log'), 3, 4, /entry 2\.\.3 was deleted or moved/);
  });

  it('a reordered pair', async () => {
    const ls = await sampleLog();
    [ls[2], ls[3]] = [ls[3], ls[2]];
    expectBad(verifyAuditLog(text(ls), 'a.log'), 3, 3, /expected entry i=2 here, found i=3/);
  });

  it('a duplicated entry', async () => {
    const ls = await sampleLog();
    ls.splice(3, 0, ls[1]);
    expectBad(verifyAuditLog(text(ls), 'a.log'), 4, 1, /entry 1 is out of place \(moved or duplicated\)/);
  });

  it('a renumbered splice: entries deleted and every later i and hash recomputed', async () => {
    const ls = await sampleLog();
    ls.splice(2, 1);
    for (let k = 2; k < ls.length; k++) ls[k] = rehashed(ls[k], (s) => s.replace(/^\{"i":\d+/, `{"i":${k}`));
    expectBad(verifyAuditLog(text(ls), 'a.log'), 3, 2, /"prev" is not the hash of the entry before it/);
  });

  it('a garbled line, a line cut short, a blank line, a last line without its newline', async () => {
    const ls = await sampleLog();
    expectBad(verifyAuditLog(text([...ls.slice(0, 2), ls[2].slice(0, 40), ...ls.slice(3)]), 'a.log'), 3, undefined, /not a JSON entry: the line is garbled or cut short/);
    expectBad(verifyAuditLog(text([...ls.slice(0, 2), '', ...ls.slice(2)]), 'a.log'), 3, undefined, /blank line/);
    expectBad(verifyAuditLog(text([...ls.slice(0, 2), '[1,2]', ...ls.slice(2)]), 'a.log'), 3, undefined, /not an audit entry/);
    expectBad(verifyAuditLog(text([...ls.slice(0, 2), ls[2].replace(/,"hash":"[0-9a-f]+"\}$/, '}')]), 'a.log'), 3, 2, /no "hash" member/);
    expectBad(verifyAuditLog(ls.join('\n'), 'a.log'), 6, 5, /last line has no newline/);
    expectBad(verifyAuditLog('', 'a.log'), 1, undefined, /empty/);
  });

  it('a first entry that does not chain from zeros', async () => {
    const ls = await sampleLog();
    ls[0] = rehashed(ls[0], (s) => s.replace(/"prev":"0{64}"/, `"prev":"${'1'.repeat(64)}"`));
    expectBad(verifyAuditLog(text(ls), 'a.log'), 1, 0, /must chain from 64 zeros/);
  });

  it('passes a clean log and reports its head', async () => {
    const ls = await sampleLog();
    const v = verifyAuditLog(text(ls), 'a.log');
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.entries.map((e) => e.i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(v.head).toBe(JSON.parse(ls[5]).hash);
  });
});

/** Two parties' logs; the test moves frames between them. */
class Pair {
  readonly logs: Record<string, { log: AuditLog; audit: FrameAudit; file: string }> = {};
  async open(): Promise<this> {
    for (const p of ['p1', 'p2']) {
      const file = join(root, `cmp-${seq++}-${p}.log`);
      const log = await AuditLog.open(file, { party: p, clock });
      this.logs[p] = { log, audit: createFrameAudit(log), file };
    }
    return this;
  }
  /** `from` records sending; the frame is returned so the test decides whether it arrives. */
  async send(from: string, to: string, f: AuditedFrame, path = 'main'): Promise<{ f: AuditedFrame; entry: number; path: string; to: string; from: string }> {
    const entry = await this.logs[from].audit.sending(to, f, path);
    return { f, entry, path, to, from };
  }
  deliver(m: { f: AuditedFrame; path: string; to: string; from: string }, change: Partial<AuditedFrame> = {}, path = m.path): void {
    this.logs[m.to].audit.received(m.from, { ...m.f, ...change }, path);
  }
  async compare(): Promise<CompareReport> {
    const sides = [];
    for (const p of ['p1', 'p2']) {
      await this.logs[p].log.close();
      const v = verifyAuditLog(readFileSync(this.logs[p].file, 'utf8'), this.logs[p].file);
      if (!v.ok) throw new Error(v.reason);
      sides.push({ file: v.file, entries: v.entries });
    }
    return compareAuditLogs(sides[0], sides[1]);
  }
}

const bytes = (...xs: number[]) => new Uint8Array(xs);
const open = (round: number, ...xs: number[]): AuditedFrame => ({ job: 'j1', kind: MessageKind.Open, round, payload: bytes(...xs) });
const summary = (r: CompareReport) => r.findings.map((f) => `${f.finding} ${f.from}→${f.to} ${f.kind}@${f.round}`);

describe('compareAuditLogs', () => {
  it('finds a dropped frame (later frames on its path arrived)', async () => {
    const t = await new Pair().open();
    const ms = [await t.send('p1', 'p2', open(0, 1)), await t.send('p1', 'p2', open(1, 2)), await t.send('p1', 'p2', open(2, 3))];
    t.deliver(ms[0]);
    t.deliver(ms[2]);
    const r = await t.compare();
    expect(r.ok).toBe(false);
    expect(summary(r)).toEqual(['dropped p1→p2 Open@1']);
    expect(r.findings[0].reason).toMatch(/p2 never recorded it, though a later frame on main arrived/);
    expect(r.findings[0].sent).toMatchObject({ file: t.logs.p1.file, line: 3, path: 'main' });
  });

  it('finds an injected frame, and a replayed one', async () => {
    const t = await new Pair().open();
    const m = await t.send('p2', 'p1', open(0, 1));
    t.deliver(m);
    t.deliver(m); // the same (job, kind, round) again
    t.logs.p1.audit.received('p2', open(7, 9), 'main'); // p2 never sent it
    const r = await t.compare();
    expect(summary(r)).toEqual(['injected p2→p1 Open@0', 'injected p2→p1 Open@7']);
    expect(r.findings[0].reason).toMatch(/a second copy of a frame p2 sent once \(a replay\)/);
    expect(r.findings[1].reason).toMatch(/p2 never recorded sending it/);
    expect(r.matched).toEqual([0, 1]);
  });

  it('finds altered frames: other bytes, another length, another kind of path', async () => {
    const t = await new Pair().open();
    const ms = [await t.send('p1', 'p2', open(0, 1, 2)), await t.send('p1', 'p2', open(1, 1, 2)), await t.send('p1', 'p2', open(2, 5))];
    t.deliver(ms[0], { payload: bytes(1, 3) });
    t.deliver(ms[1], { payload: bytes(1, 2, 0) });
    t.deliver(ms[2], {}, 'lane0');
    const r = await t.compare();
    expect(summary(r)).toEqual(['altered p1→p2 Open@0', 'altered p1→p2 Open@1', 'altered p1→p2 Open@2']);
    expect(r.findings.map((f) => f.reason)).toEqual(['same length, different payload digest', '2 bytes sent, 3 received', 'sent on main, received on lane0']);
  });

  it('finds frames reordered on one path, but not across paths', async () => {
    const t = await new Pair().open();
    const a = await t.send('p1', 'p2', open(0, 1));
    const b = await t.send('p1', 'p2', open(1, 2));
    const c = await t.send('p1', 'p2', open(chunkRound(1, 1), 3), 'lane1');
    const d = await t.send('p1', 'p2', open(chunkRound(1, 2), 4), 'lane2');
    t.deliver(b);
    t.deliver(a);
    t.deliver(d, {}, 'lane'); // lanes are separate streams: d before c is fine
    t.deliver(c, {}, 'lane');
    const r = await t.compare();
    expect(summary(r)).toEqual(['reordered p1→p2 Open@1']);
    expect(r.findings[0].reason).toMatch(/sent on main after Open round 0 of job j1 .*, received before it/);
  });

  it('tells undelivered frames (failed send, lost link, ended job) from dropped ones', async () => {
    const t = await new Pair().open();
    const failed = await t.send('p1', 'p2', open(0, 1));
    t.logs.p1.audit.sendFailed('p2', failed.entry, new Error('party p2 is not connected'));
    const inFlight = await t.send('p1', 'p2', open(1, 1));
    t.logs.p1.audit.link('p2', 'main', 'code 1006');
    t.logs.p1.audit.link('p2', 'main');
    const after = await t.send('p1', 'p2', { job: 'j1', kind: ControlKind.JobAbort, round: 0 });
    t.deliver(after);
    // Job j2: p2 ended it; p1's last frames of it never arrived, and nothing after them did.
    const late = await t.send('p1', 'p2', { ...open(0, 1), job: 'j2' });
    t.logs.p2.log.note('job-aborted', { job: 'j2', reason: 'party p1 sent nothing' });
    const r = await t.compare();
    expect(r.ok).toBe(true);
    expect(summary(r)).toEqual(['undelivered p1→p2 Open@0', 'undelivered p1→p2 Open@1', 'undelivered p1→p2 Open@0']);
    expect(r.findings.map((f) => f.reason)).toEqual([
      expect.stringMatching(/sending it failed: party p2 is not connected/),
      expect.stringMatching(/link to p2 \(main\) was lost before it arrived .*code 1006/),
      expect.stringMatching(/p2 had ended job j2, and nothing after it on main arrived/),
    ]);
    expect(late.f.job).toBe('j2');
    void inFlight;
  });

  it('a frame missing at the end of a job that its receiver did not end is dropped', async () => {
    const t = await new Pair().open();
    await t.send('p1', 'p2', open(0, 1));
    const r = await t.compare();
    expect(summary(r)).toEqual(['dropped p1→p2 Open@0']);
  });

  it('matches a clean exchange both ways', async () => {
    const t = await new Pair().open();
    for (let round = 0; round < 3; round++) {
      t.deliver(await t.send('p1', 'p2', open(round, round)));
      t.deliver(await t.send('p2', 'p1', open(round, round + 1)));
    }
    t.deliver(await t.send('p2', 'p1', { job: 'j1', kind: ControlKind.JobAccept, round: 0 }));
    const r = await t.compare();
    expect(r).toMatchObject({ ok: true, parties: ['p1', 'p2'], matched: [3, 4], findings: [] });
  });

  it('refuses logs that do not say whose they are, or are the same party', async () => {
    const t = await new Pair().open();
    await t.compare();
    const v = verifyAuditLog(readFileSync(t.logs.p1.file, 'utf8'), 'x.log');
    if (!v.ok) throw new Error(v.reason);
    const same = () => compareAuditLogs({ file: 'x.log', entries: v.entries }, { file: 'y.log', entries: v.entries });
    expect(same).toThrow(expect.objectContaining({ code: ErrorCode.INPUT, message: expect.stringMatching(/x\.log and y\.log are both logs of party p1/) }));
    const anonymous = () => compareAuditLogs({ file: 'x.log', entries: v.entries.filter((e) => e.event !== 'log-opened') }, { file: 'y.log', entries: v.entries });
    expect(anonymous).toThrow(/x\.log: no log-opened entry says whose log this is/);
  });
});
