// `mpc policy check` and `mpc policy approve` as a data owner runs them (`node bin/mpc.js`
// in a child process): power.ts reveals p1's vector elementwise, so minAggregation 5
// refuses it until the owner approves that exact plan; sum.ts passes once every party
// contributes at least five elements.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMpc } from '../faults/helpers.ts';
import { defaultPolicy } from '../../src/security/policy.ts';
import { compileWithShapeFlags } from '../../src/cli/compile.ts';
import { approvePlan, checkPolicy } from '../../src/cli/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-policy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyFile(name: string, doc: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2) + '\n');
  return file;
}

const HASH_LINE = /^plan ([0-9a-f]{64}) \(circuit (\S+), (\S+)\)$/m;

describe('mpc policy', () => {
  it('power.ts: refused under minAggregation 5, approved, then accepted by hash', async () => {
    const file = policyFile('power.json', { ...defaultPolicy('alice'), $note: 'kept' });
    const refused = await runMpc(['policy', 'check', 'circuits/power.ts', '--policy', file]);
    expect(refused.code, refused.stderr).toBe(1);
    const hash = HASH_LINE.exec(refused.stdout)?.[1];
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(refused.stdout).toContain('p1: refused — output "y" depends on 1 input element of p1 (policy minAggregation 5) (rule minAggregation)\n');
    // No input value of power.inputs.json appears in the verdict.
    expect(refused.stdout).not.toMatch(/\b(-1|2|3)\b/);

    const approved = await runMpc(['policy', 'approve', 'circuits/power.ts', '--policy', file, '--note', 'elementwise powers, reviewed']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.split('\n')[0]).toBe(hash);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { approvedPlans: Record<string, unknown>[] };
    expect(doc.$note).toBe('kept');
    expect(doc.$comment).toBe(defaultPolicy('alice').$comment);
    expect(doc.approvedPlans).toEqual([
      { hash, circuit: 'power', shapes: { 'p1.x': 5 }, note: 'elementwise powers, reviewed', approvedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
    // The write went through a temporary file in the same folder, which is gone.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const accepted = await runMpc(['policy', 'check', 'circuits/power.ts', '--policy', file, '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout)).toEqual({ circuit: 'power', planHash: hash, decisions: [{ party: 'p1', accept: true, rule: 'approved-plan' }] });

    // Approving again changes nothing; another shape is another plan, still refused.
    const same = await compileWithShapeFlags('circuits/power.ts', { shape: [] });
    expect(same.hash).toBe(hash);
    expect(approvePlan(file, same, undefined, new Date())).toBe(false);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { approvedPlans: unknown[] }).approvedPlans).toHaveLength(1);
    const wider = await compileWithShapeFlags('circuits/power.ts', { shape: ['p1.x=6'] });
    expect(checkPolicy(wider, file, { analyst: 'alice', security: 'malicious' })).toMatchObject([{ party: 'p1', accept: false, rule: 'minAggregation' }]);
  });

  it('sum.ts with --shape: per party verdicts, a short vector refused only by its owner', async () => {
    const file = policyFile('sum.json', defaultPolicy('alice'));
    const shapes = ['--shape', 'p1.x=3', '--shape', 'p2.x=5', '--shape', 'p3.x=9'];
    const r = await runMpc(['policy', 'check', 'circuits/sum.ts', '--policy', file, ...shapes]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n').slice(1)).toEqual([
      'p1: refused — output "total" depends on 3 input elements of p1 (policy minAggregation 5) (rule minAggregation)',
      'p2: accepted (rules)',
      'p3: accepted (rules)',
      '',
    ]);
    const p2 = await runMpc(['policy', 'check', 'circuits/sum.ts', '--policy', file, ...shapes, '--party', 'p2']);
    expect(p2.code, p2.stderr).toBe(0);
    expect(p2.stdout.split('\n').slice(1)).toEqual(['p2: accepted (rules)', '']);
    const sum = await compileWithShapeFlags('circuits/sum.ts', { shape: shapes.filter((_, i) => i % 2 === 1) });
    expect(checkPolicy(sum, file, { party: 'p2', analyst: 'bob', security: 'malicious' })).toEqual([
      { party: 'p2', accept: false, rule: 'analysts', message: 'analyst bob has no entry in the policy (policy analysts)' },
    ]);
  });

  it('--analyst, --security and --pad reach the rules (checkPolicy, as the command calls it)', async () => {
    const file = policyFile('strict.json', { minAggregation: 1, requirePadding: true, analysts: { alice: { security: ['malicious'] } } });
    const sum = await compileWithShapeFlags('circuits/sum.ts', { shape: ['p1.x=5', 'p2.x=5', 'p3.x=5'] });
    const rule = (flags: { analyst?: string; security?: string; pad?: boolean }) =>
      checkPolicy(sum, file, { party: 'p1', analyst: 'alice', security: 'malicious', ...flags })[0].rule;
    expect(rule({})).toBe('requirePadding');
    expect(rule({ pad: true, security: 'semi-honest' })).toBe('security');
    expect(rule({ pad: true, analyst: 'bob' })).toBe('analysts');
    expect(rule({ pad: true })).toBe('rules');
    expect(() => rule({ security: 'none' })).toThrow('--security: expected one of semi-honest, malicious, got "none"');
    expect(() => checkPolicy(sum, file, { party: 'p9', analyst: 'alice', security: 'malicious' })).toThrow(
      '--party p9: circuits/sum.ts has no party p9 (its parties: p1, p2, p3)',
    );
  });

  it('refuses an invalid policy file with its error, and leaves it untouched', async () => {
    const text = '{ "minAggregation": 5, "analysts": { "alice": { "recipient": ["analyst"] } } }\n';
    const file = policyFile('invalid.json', text);
    chmodSync(file, 0o600);
    for (const cmd of ['check', 'approve']) {
      const r = await runMpc(['policy', cmd, 'circuits/power.ts', '--policy', file]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`mpc: error [MPC_ERR_CONFIG]: ${file}: analysts.alice.recipient: unknown key`);
    }
    expect(readFileSync(file, 'utf8')).toBe(text);
    const power = await compileWithShapeFlags('circuits/power.ts', { shape: [] });
    expect(() => checkPolicy(power, join(dir, 'none.json'), { analyst: 'alice', security: 'malicious' })).toThrow(/none\.json: cannot read: ENOENT/);
  });

  it('approve keeps a private policy file private', async () => {
    const file = policyFile('private.json', defaultPolicy('alice'));
    chmodSync(file, 0o600);
    const power = await compileWithShapeFlags('circuits/power.ts', { shape: [] });
    expect(approvePlan(file, power, 'n', new Date(0))).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ approvedPlans: [{ hash: power.hash, note: 'n', approvedAt: '1970-01-01T00:00:00.000Z' }] });
  });
});
