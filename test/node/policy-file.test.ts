// A node's policy file, reloaded live (src/node/policy-file.ts): edits in place and
// replace-by-rename are picked up; invalid contents are reported and the previous policy
// stays in force; a missing file at start is a CONFIG error naming it.
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, MpcError } from '../../src/errors.ts';
import { PolicyFile } from '../../src/node/policy-file.ts';
import { defaultPolicy, type Policy } from '../../src/security/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-policy-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let open: PolicyFile[] = [];
afterEach(() => {
  for (const p of open) p.close();
  open = [];
});

const policyText = (k: number): string => JSON.stringify({ ...defaultPolicy('alice'), minAggregation: k }, null, 2);

/** A policy file with recorded callbacks; the poll is short so the test never waits long. */
function watched(name: string, k: number) {
  const file = join(dir, name);
  writeFileSync(file, policyText(k));
  const changes: { policy: Policy; sha256: string; previous: string }[] = [];
  const invalid: MpcError[] = [];
  const pf = PolicyFile.open(file, {
    debounceMs: 20,
    pollMs: 50,
    onChange: (policy, info) => changes.push({ policy, ...info }),
    onInvalid: (e) => invalid.push(e),
  });
  open.push(pf);
  return { file, pf, changes, invalid };
}

/** Resolve once `pred` holds (checked every 10 ms); fail after 5 s. */
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let t = 0; t < 500; t++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('PolicyFile', () => {
  it('refuses to start without its file, naming it', () => {
    const missing = join(dir, 'missing.json');
    let err: unknown;
    try {
      PolicyFile.open(missing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe(ErrorCode.CONFIG);
    expect((err as MpcError).message).toBe(`${missing}: cannot read: ENOENT`);
  });

  it('refuses to start with an invalid policy', () => {
    const file = join(dir, 'invalid-start.json');
    writeFileSync(file, '{ "minAggregation": 0 }');
    expect(() => PolicyFile.open(file)).toThrow(`${file}: minAggregation: expected an integer in 1..2147483647, got 0`);
  });

  it('keeps the previous policy when the file becomes invalid JSON, then takes the fixed file', async () => {
    const { file, pf, changes, invalid } = watched('syntax.json', 5);
    writeFileSync(file, '{ "minAggregation": 7, ');
    await until(() => invalid.length > 0, 'the invalid file to be reported');
    expect(invalid[0].code).toBe(ErrorCode.CONFIG);
    expect(invalid[0].message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:\\d+: invalid JSON`));
    expect(pf.current.minAggregation).toBe(5);
    expect(changes).toEqual([]);
    writeFileSync(file, policyText(7));
    await until(() => changes.length > 0, 'the fixed file to be taken');
    expect(pf.current.minAggregation).toBe(7);
  });

  it('keeps the previous policy when the file breaks the schema', async () => {
    const { file, pf, changes, invalid } = watched('schema.json', 5);
    writeFileSync(file, JSON.stringify({ ...defaultPolicy('alice'), minAgregation: 2 }));
    await until(() => invalid.length > 0, 'the invalid file to be reported');
    expect(invalid[0].message).toBe(`${file}: minAgregation: unknown key (expected one of: minAggregation, mode, approvedPlans, requirePadding, analysts)`);
    expect(pf.current.minAggregation).toBe(5);
    expect(changes).toEqual([]);
  });

  it('picks up an edit in place, with the digests of both versions', async () => {
    const { file, pf, changes } = watched('edit.json', 5);
    const before = pf.digest;
    writeFileSync(file, policyText(9));
    await until(() => changes.length > 0, 'the edit to be picked up');
    expect(pf.current.minAggregation).toBe(9);
    expect(changes[0].policy).toBe(pf.current);
    expect(changes[0].previous).toBe(before);
    expect(changes[0].sha256).toBe(pf.digest);
    expect(pf.digest).not.toBe(before);
  });

  it('picks up a replace-by-rename (how editors save)', async () => {
    const { file, pf, changes } = watched('rename.json', 5);
    const tmp = join(dir, '.rename.json.swp');
    writeFileSync(tmp, policyText(11));
    renameSync(tmp, file);
    await until(() => changes.length > 0, 'the renamed file to be picked up');
    expect(pf.current.minAggregation).toBe(11);
  });

  it('reload() reads now (SIGHUP); unchanged contents call nothing; a deleted file keeps the policy', () => {
    const { file, pf, changes, invalid } = watched('reload.json', 5);
    expect(pf.reload()).toBe('unchanged');
    writeFileSync(file, policyText(6));
    expect(pf.reload()).toBe('changed');
    expect(pf.current.minAggregation).toBe(6);
    unlinkSync(file);
    expect(pf.reload()).toBe('invalid');
    expect(invalid.at(-1)?.message).toBe(`${file}: cannot read: ENOENT`);
    expect(pf.current.minAggregation).toBe(6);
    expect(changes).toHaveLength(1);
  });

  it('stops after close()', async () => {
    const { file, pf, changes } = watched('closed.json', 5);
    pf.close();
    writeFileSync(file, policyText(8));
    await new Promise((r) => setTimeout(r, 200));
    expect(changes).toEqual([]);
    expect(pf.current.minAggregation).toBe(5);
    expect(pf.reload()).toBe('unchanged');
  });
});
