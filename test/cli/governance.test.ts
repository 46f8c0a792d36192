// Issue 11's acceptance commands, exactly as a user types them: `mpc run` of the leak circuit
// under a policy of minAggregation 2 is refused with MPC_ERR_FORBIDDEN and prints no input
// value; `mpc run circuits/sum.ts --audit-dir` leaves logs that `mpc audit verify` accepts
// and `mpc audit compare` matches pairwise.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMpc } from '../faults/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-gov-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mpc run under a data owner policy', () => {
  it('the leak circuit is refused with MPC_ERR_FORBIDDEN, and no input value is printed', async () => {
    const policy = join(dir, 'min2.policy.json');
    writeFileSync(policy, '{ "minAggregation": 2 }\n');
    const r = await runMpc(['run', 'test/fixtures/leak.ts', '--inputs', 'circuits/sum.inputs.json', '--policy', policy], 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('mpc: error [MPC_ERR_FORBIDDEN]: p1: output "raw" depends on 1 input element of p1 (policy minAggregation 2)');
    // Nothing of p1's vector: no output line, none of its values in sequence, nor p2's large one.
    const inputs = JSON.parse(readFileSync('circuits/sum.inputs.json', 'utf8')) as Record<string, { x: (number | string)[] }>;
    const all = `${r.stdout}\n${r.stderr}`;
    expect(r.stdout).toBe('');
    expect(all).not.toContain('raw =');
    expect(all).not.toContain(inputs.p1.x.slice(0, 3).join(', '));
    expect(all).not.toContain(String(inputs.p2.x[1]));
  });

  it('a policy file that does not validate stops the run before anything starts, naming the file and the key', async () => {
    const policy = join(dir, 'bad.policy.json');
    writeFileSync(policy, '{ "minAggregation": 0 }\n');
    const r = await runMpc(['run', 'circuits/sum.ts', '--policy', policy]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/MPC_ERR_CONFIG.*bad\.policy\.json: minAggregation/);
  });
});

describe('mpc run --audit-dir, then mpc audit', () => {
  it('leaves logs that verify and match pairwise', async () => {
    const audit = join(dir, 'audit');
    const r = await runMpc(['run', 'circuits/sum.ts', '--audit-dir', audit], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('total = 9007199254741149');
    for (const p of ['p1', 'p2', 'p3']) {
      const v = await runMpc(['audit', 'verify', join(audit, `${p}.audit.log`)]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      expect(v.stdout).toMatch(/^ok: \d+ entries, head [0-9a-f]{64}$/m);
    }
    for (const [a, b] of [['p1', 'p2'], ['p1', 'p3'], ['p2', 'p3']]) {
      const c = await runMpc(['audit', 'compare', join(audit, `${a}.audit.log`), join(audit, `${b}.audit.log`)]);
      expect(c.code, c.stdout + c.stderr).toBe(0);
      expect(c.stdout).toMatch(new RegExp(`^match: [1-9]\\d* messages ${a}→${b}, [1-9]\\d* ${b}→${a}`));
    }
  });
});
