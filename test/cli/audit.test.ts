// `mpc audit verify` and `mpc audit compare`: what they print and their exit codes. Most runs
// go through `main` in this process (stdout captured, process.exitCode read back); the last
// tests run `node bin/mpc.js` as a user does, for the real exit codes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { AuditLog, createFrameAudit } from '../../src/security/audit.ts';
import { runMpc } from '../faults/helpers.ts';

let dir: string;
/** p1's and p2's logs of a clean exchange, and p2's log of the same exchange with frame 1 missing. */
const files = { p1: '', p2: '', p2dropped: '', edited: '' };

async function writeLogs(): Promise<void> {
  const open = async (name: string, party: string) => {
    const log = await AuditLog.open(join(dir, `${name}.log`), { party });
    return { log, audit: createFrameAudit(log), file: join(dir, `${name}.log`) };
  };
  const p1 = await open('p1', 'p1');
  const p2 = await open('p2', 'p2');
  const p2d = await open('p2-dropped', 'p2');
  for (let round = 0; round < 3; round++) {
    const f = { job: 'j1', kind: MessageKind.Open, round, payload: new Uint8Array([round]) };
    await p1.audit.sending('p2', f, 'main');
    p2.audit.received('p1', f, 'main');
    if (round !== 1) p2d.audit.received('p1', f, 'main');
  }
  for (const l of [p1, p2, p2d]) await l.log.close();
  files.p1 = p1.file;
  files.p2 = p2.file;
  files.p2dropped = p2d.file;
  files.edited = join(dir, 'edited.log');
  writeFileSync(files.edited, readFileSync(p1.file, 'utf8').replace('"round":2', '"round":5'));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-cli-audit-'));
  await writeLogs();
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run `mpc …args` in this process; returns what it printed and the exit code it set. */
async function mpc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', 'mpc', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = before;
    out.mockRestore();
    err.mockRestore();
  }
}

describe('mpc audit verify', () => {
  it('names the first bad entry and exits 1', async () => {
    const r = await mpc('audit', 'verify', files.edited);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${files.edited}: bad entry at line 4 \\(i=3\\): the entry's hash does not match its content: the entry was edited\\n$`));
  });

  it('--json gives the same finding as data', async () => {
    const r = await mpc('audit', 'verify', files.edited, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, file: files.edited, line: 4, index: 3, found: 3, reason: expect.stringMatching(/edited/) });
  });

  it('a file it cannot read is an error naming it', async () => {
    const r = await mpc('audit', 'verify', join(dir, 'missing.log'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`mpc: error [MPC_ERR_INPUT]: ${join(dir, 'missing.log')}: cannot read: ENOENT`);
  });

  it('prints the entry count and head hash of a good log', async () => {
    const r = await mpc('audit', 'verify', files.p1);
    expect(r.code).toBe(0);
    const head = JSON.parse(readFileSync(files.p1, 'utf8').trim().split('\n').at(-1)!).hash;
    expect(r.stdout).toBe(`ok: 4 entries, head ${head}\n`);
  });
});

describe('mpc audit compare', () => {
  it('reports a dropped frame and exits 1', async () => {
    const r = await mpc('audit', 'compare', files.p1, files.p2dropped);
    expect(r.code).toBe(1);
    const [head, ...rest] = r.stdout.trimEnd().split('\n');
    expect(head).toBe('mismatch: 1 dropped, 0 injected, 0 altered, 0 reordered (matched 2 messages p1→p2, 0 p2→p1)');
    expect(rest).toEqual([expect.stringMatching(/^ {2}dropped +p1→p2 job j1 Open round 1 \(layer 1, chunk 0\) \[sent .*p1\.log:3\]: p1 sent it on main; p2 never recorded it, though a later frame/)]);
  });

  it('verifies both chains first', async () => {
    const r = await mpc('audit', 'compare', files.edited, files.p2);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${files.edited}: bad entry at line 4`);
  });

  it('--json prints the report', async () => {
    const r = await mpc('audit', 'compare', files.p1, files.p2dropped, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, parties: ['p1', 'p2'], matched: [2, 0], findings: [{ finding: 'dropped', from: 'p1', to: 'p2', round: 1 }] });
  });

  it('prints one line and exits 0 when the logs match', async () => {
    const r = await mpc('audit', 'compare', files.p1, files.p2);
    expect(r).toEqual({ code: 0, stdout: 'match: 3 messages p1→p2, 0 p2→p1\n', stderr: '' });
  });
});

describe('mpc audit, as a process', () => {
  it('exits 1 on a bad log and a mismatch, 0 on a match', async () => {
    const bad = await runMpc(['audit', 'verify', files.edited]);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toContain('bad entry at line 4 (i=3)');
    const mismatch = await runMpc(['audit', 'compare', files.p2dropped, files.p1]);
    expect(mismatch.code, mismatch.stderr).toBe(1);
    expect(mismatch.stdout).toMatch(/^mismatch: 1 dropped/);
    const ok = await runMpc(['audit', 'compare', files.p2, files.p1]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('match: 0 messages p2→p1, 3 p1→p2\n');
  });
});
