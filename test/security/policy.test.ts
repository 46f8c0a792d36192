// The data owner's policy engine (src/security/policy.ts): refusals first — the issue's
// leak, each per-analyst rule, approved-only, malformed policy files — then what passes.
// Every refusal names its rule and never a data value.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileInline } from '../helpers.ts';
import { compileFile } from '../../src/compiler/load.ts';
import { encodePlan, type Plan } from '../../src/compiler/plan.ts';
import { ErrorCode, MpcError } from '../../src/errors.ts';
import {
  OPEN_POLICY,
  POLICY_KEYS,
  defaultPolicy,
  evaluatePolicy,
  loadPolicy,
  parsePolicy,
  type Decision,
  type Policy,
  type PolicyContext,
} from '../../src/security/policy.ts';

const FILE = 'p1.policy.json';
const policy = (obj: unknown): Policy => parsePolicy(obj, FILE);

/** A context for `plan` as the node builds it; the rest can be overridden. */
function ctx(compiled: { plan: Plan; hash: string }, over: Partial<PolicyContext> = {}): PolicyContext {
  return {
    party: 'p1',
    plan: compiled.plan,
    planHash: compiled.hash,
    planBytes: encodePlan(compiled.plan).byteLength,
    analyst: 'alice',
    security: 'malicious',
    padded: false,
    jobsToday: 0,
    ...over,
  };
}

const rulesFor = (alice: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Policy =>
  policy({ minAggregation: 2, ...top, analysts: { alice: { recipients: ['analyst'], ...alice } } });

/** The leak: p1's raw vector disguised as an aggregate of p2's. */
const LEAK_VALUES = [912345, 777001, 31337];
const leak = compileInline(['p1', 'p2'], (c) => {
  c.reveal('raw', c.vector('p1', 'x').add(c.vector('p2', 'x').sum().mul(0)));
}, { 'p1.x': LEAK_VALUES.length, 'p2.x': 2 });

const total = compileInline(['p1', 'p2'], (c) => {
  c.reveal('total', c.vector('p1', 'x').sum().add(c.vector('p2', 'x').sum()));
}, { 'p1.x': 5, 'p2.x': 5 });

function refused(d: Decision): Extract<Decision, { accept: false }> {
  expect(d.accept, JSON.stringify(d)).toBe(false);
  return d as Extract<Decision, { accept: false }>;
}

describe('evaluatePolicy refuses', () => {
  it('an unmasked opening goes to every computing party: refused as a recipient, then as an aggregate', () => {
    const opened = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const b = (x as unknown as { builder: { primOpen(v: unknown): typeof x } }).builder;
      c.reveal('s', b.primOpen(x).sum().add(c.vector('p2', 'x').sum()));
    }, { 'p1.x': 5, 'p2.x': 5 });
    // The output aggregates all five elements; the opening shows each of them to p2.
    const r = refused(evaluatePolicy(policy({ minAggregation: 5, analysts: { alice: {} } }), ctx(opened)));
    expect(r).toMatchObject({ rule: 'recipients' });
    expect(r.message).toMatch(/^an unmasked opening \d+ shows every computing party a value that depends on 1 input element of p1 \(policy analysts\.alice\.recipients\)$/);
    const everyone = refused(evaluatePolicy(policy({ minAggregation: 5, analysts: { alice: { recipients: ['*'] } } }), ctx(opened)));
    expect(everyone.message).toMatch(/^an unmasked opening \d+ depends on 1 input element of p1 \(policy minAggregation 5\)$/);
    // Without a rule about either, it runs (an open policy).
    expect(evaluatePolicy(policy({ analysts: { alice: { recipients: ['*'] } } }), ctx(opened)).accept).toBe(true);
  });

  it("the issue's leak under minAggregation 2, naming the output and the count", () => {
    const d = refused(evaluatePolicy(rulesFor(), ctx(leak)));
    expect(d).toEqual({
      accept: false,
      rule: 'minAggregation',
      output: 'raw',
      message: 'output "raw" depends on 1 input element of p1 (policy minAggregation 2)',
    });
    for (const v of LEAK_VALUES) expect(d.message).not.toContain(String(v));
  });

  it('pluralises the count, and names a stricter per-analyst threshold as the source', () => {
    const pairs = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x');
      c.reveal('pairs', x.slice(0, 4).add(x.slice(4, 8)));
    }, { 'p1.x': 8 });
    expect(refused(evaluatePolicy(rulesFor({}, { minAggregation: 3 }), ctx(pairs))).message).toBe(
      'output "pairs" depends on 2 input elements of p1 (policy minAggregation 3)',
    );
    // Top level 2 lets pairs through; alice's own 10 does not, and neither does a sum of 5.
    expect(evaluatePolicy(rulesFor(), ctx(pairs)).accept).toBe(true);
    const strict = rulesFor({ minAggregation: 10 });
    expect(refused(evaluatePolicy(strict, ctx(pairs))).message).toBe(
      'output "pairs" depends on 2 input elements of p1 (policy analysts.alice.minAggregation 10)',
    );
    expect(refused(evaluatePolicy(strict, ctx(total))).message).toBe(
      'output "total" depends on 5 input elements of p1 (policy analysts.alice.minAggregation 10)',
    );
  });

  it('an analyst with no entry and no "*"', () => {
    expect(refused(evaluatePolicy(rulesFor(), ctx(total, { analyst: 'mallory' })))).toEqual({
      accept: false,
      rule: 'analysts',
      message: 'analyst mallory has no entry in the policy (policy analysts)',
    });
    expect(refused(evaluatePolicy(policy({ analysts: {} }), ctx(total))).rule).toBe('analysts');
  });

  it('a policy without an "analysts" section holds every analyst to its top-level rules only', () => {
    expect(evaluatePolicy(policy({}), ctx(total, { analyst: 'mallory' }))).toEqual({ accept: true, rule: 'rules' });
  });

  it('approved-only: any plan whose hash is not listed, however harmless', () => {
    const p = policy({ mode: 'approved-only', approvedPlans: [{ hash: leak.hash }], analysts: { alice: {} } });
    expect(refused(evaluatePolicy(p, ctx(total)))).toEqual({
      accept: false,
      rule: 'approved-only',
      message: `plan ${total.hash} is not an approved plan (policy mode approved-only)`,
    });
  });

  it('unpadded jobs when padding is required', () => {
    const p = rulesFor({}, { requirePadding: true });
    expect(refused(evaluatePolicy(p, ctx(total))).rule).toBe('requirePadding');
    expect(evaluatePolicy(p, ctx(total, { padded: true })).accept).toBe(true);
  });

  it('a security mode the analyst may not use', () => {
    const d = refused(evaluatePolicy(rulesFor({ security: ['malicious'] }), ctx(total, { security: 'semi-honest' })));
    expect(d).toMatchObject({ rule: 'security', message: 'security mode semi-honest is not allowed for analyst alice (policy analysts.alice.security)' });
  });

  it('an input of this party the analyst may not use (by name, no values)', () => {
    const salary = compileInline(['p1', 'p2'], (c) => {
      c.reveal('s', c.vector('p1', 'age').sum().add(c.vector('p1', 'salary').sum()).add(c.vector('p2', 'salary').sum()));
    }, { 'p1.age': 5, 'p1.salary': 5, 'p2.salary': 5 });
    const d = refused(evaluatePolicy(rulesFor({ inputs: ['age'] }), ctx(salary)));
    expect(d).toMatchObject({ rule: 'inputs', message: 'input p1.salary is not allowed for analyst alice (policy analysts.alice.inputs)' });
    // p2's inputs are p2's business.
    expect(evaluatePolicy(rulesFor({ inputs: ['age', 'salary'] }), ctx(salary)).accept).toBe(true);
  });

  it('a recipient the analyst may not send to; this party itself always may receive', () => {
    const toP2 = compileInline(['p1', 'p2'], (c) => {
      c.reveal('total', c.vector('p1', 'x').sum(), { to: ['analyst', 'p2'] });
    }, { 'p1.x': 5 });
    expect(refused(evaluatePolicy(rulesFor(), ctx(toP2)))).toMatchObject({
      rule: 'recipients',
      output: 'total',
      message: 'output "total" goes to p2, which is not allowed for analyst alice (policy analysts.alice.recipients)',
    });
    expect(evaluatePolicy(rulesFor({ recipients: ['analyst', 'p2'] }), ctx(toP2)).accept).toBe(true);
    const toSelf = compileInline(['p1', 'p2'], (c) => c.reveal('t', c.vector('p1', 'x').sum(), { to: 'p1' }), { 'p1.x': 5 });
    const noAnalyst = rulesFor({ recipients: [] });
    expect(evaluatePolicy(noAnalyst, ctx(toSelf)).accept).toBe(true);
    expect(refused(evaluatePolicy(noAnalyst, ctx(total))).message).toBe(
      'output "total" goes to the analyst alice, which is not allowed for analyst alice (policy analysts.alice.recipients)',
    );
  });

  it('plans above a limit, with the figure and the limit', async () => {
    const { plan, hash } = await compileFile('circuits/inner-product.ts', new Map([['p1.x', 1000], ['p2.y', 1000]]));
    const c = ctx({ plan, hash });
    expect(refused(evaluatePolicy(rulesFor({ limits: { multiplications: 999 } }), c))).toMatchObject({
      rule: 'limits.multiplications',
      message: 'the plan has 1000 multiplications, above the limit of 999 (policy analysts.alice.limits.multiplications)',
    });
    expect(refused(evaluatePolicy(rulesFor({ limits: { rounds: 0 } }), c))).toMatchObject({
      rule: 'limits.rounds',
      message: 'the plan has 1 rounds, above the limit of 0 (policy analysts.alice.limits.rounds)',
    });
    expect(refused(evaluatePolicy(rulesFor({ limits: { planBytes: 100 } }), c))).toMatchObject({
      rule: 'limits.planBytes',
      message: `the plan is ${c.planBytes} bytes, above the limit of 100 (policy analysts.alice.limits.planBytes)`,
    });
    expect(evaluatePolicy(rulesFor({ limits: { multiplications: 1000, rounds: 1, planBytes: c.planBytes } }), c).accept).toBe(true);
  });

  it('jobs beyond the day’s allowance', () => {
    const p = rulesFor({ maxJobsPerDay: 3 });
    expect(evaluatePolicy(p, ctx(total, { jobsToday: 2 })).accept).toBe(true);
    expect(refused(evaluatePolicy(p, ctx(total, { jobsToday: 3 })))).toMatchObject({
      rule: 'maxJobsPerDay',
      message: 'analyst alice has reached 3 accepted jobs today (UTC) (policy analysts.alice.maxJobsPerDay 3)',
    });
  });

  it('checks the rules in order: the first failing one is reported', () => {
    const p = rulesFor({ security: ['malicious'], inputs: [], limits: { rounds: 0 } }, { requirePadding: true });
    expect(refused(evaluatePolicy(p, ctx(leak, { security: 'semi-honest' }))).rule).toBe('requirePadding');
    expect(refused(evaluatePolicy(p, ctx(leak, { security: 'semi-honest', padded: true }))).rule).toBe('security');
    expect(refused(evaluatePolicy(p, ctx(leak, { padded: true }))).rule).toBe('inputs');
  });
});

describe('parsePolicy refuses malformed policies, naming the file and JSON path', () => {
  const cases: [string, unknown, string][] = [
    ['unknown top-level key', { minAgregation: 5 }, `${FILE}: minAgregation: unknown key (expected one of: ${POLICY_KEYS.policy.join(', ')})`],
    ['not an object', [1], `${FILE}: (top level): expected an object, got [1]`],
    ['minAggregation 0', { minAggregation: 0 }, `${FILE}: minAggregation: expected an integer in 1..2147483647, got 0`],
    ['minAggregation 2.5', { minAggregation: 2.5 }, `${FILE}: minAggregation: expected an integer`],
    ['unknown mode', { mode: 'approve' }, `${FILE}: mode: expected one of "rules", "approved-only", got "approve"`],
    ['uppercase hash', { approvedPlans: [{ hash: 'AB'.repeat(32) }] }, `${FILE}: approvedPlans[0].hash: expected the plan's SHA-256 as 64 lowercase hex digits`],
    ['short hash', { approvedPlans: [{ hash: 'ab' }] }, `${FILE}: approvedPlans[0].hash:`],
    ['duplicate hash', { approvedPlans: [{ hash: 'a'.repeat(64) }, { hash: 'a'.repeat(64) }] }, `${FILE}: approvedPlans[1].hash: duplicate of approvedPlans[0].hash`],
    ['unknown approved key', { approvedPlans: [{ hash: 'a'.repeat(64), hsah: 1 }] }, `${FILE}: approvedPlans[0].hsah: unknown key`],
    ['bad shape', { approvedPlans: [{ hash: 'a'.repeat(64), shapes: { 'p1.x': -1 } }] }, `${FILE}: approvedPlans[0].shapes["p1.x"]: expected an integer`],
    ['requirePadding "yes"', { requirePadding: 'yes' }, `${FILE}: requirePadding: expected true or false, got "yes"`],
    ['analyst id', { analysts: { 'bad id': {} } }, `${FILE}: analysts["bad id"]: expected an analyst id or "*"`],
    ['unknown analyst key', { analysts: { alice: { input: ['*'] } } }, `${FILE}: analysts.alice.input: unknown key (expected one of: ${POLICY_KEYS.analyst.join(', ')})`],
    ['inputs not an array', { analysts: { alice: { inputs: '*' } } }, `${FILE}: analysts.alice.inputs: expected an array of dataset names, got "*"`],
    ['bad input name', { analysts: { '*': { inputs: ['a-b'] } } }, `${FILE}: analysts["*"].inputs[0]: expected dataset names or "*", got "a-b"`],
    ['bad recipient', { analysts: { alice: { recipients: ['analyst', ''] } } }, `${FILE}: analysts.alice.recipients[1]:`],
    ['duplicate recipient', { analysts: { alice: { recipients: ['p2', 'p2'] } } }, `${FILE}: analysts.alice.recipients[1]: duplicate "p2"`],
    ['bad security', { analysts: { alice: { security: ['honest'] } } }, `${FILE}: analysts.alice.security[0]: expected one of "semi-honest", "malicious", got "honest"`],
    ['no security', { analysts: { alice: { security: [] } } }, `${FILE}: analysts.alice.security: expected at least one of`],
    ['negative jobs', { analysts: { alice: { maxJobsPerDay: -1 } } }, `${FILE}: analysts.alice.maxJobsPerDay: expected an integer`],
    ['unknown limit', { analysts: { alice: { limits: { triples: 5 } } } }, `${FILE}: analysts.alice.limits.triples: unknown key (expected one of: multiplications, rounds, planBytes)`],
    ['limit "1e6"', { analysts: { alice: { limits: { rounds: '1e6' } } } }, `${FILE}: analysts.alice.limits.rounds: expected an integer`],
    ['weaker per-analyst k', { minAggregation: 5, analysts: { alice: { minAggregation: 3 } } }, `${FILE}: analysts.alice.minAggregation: expected at least the top-level minAggregation 5, got 3`],
  ];
  it.each(cases)('%s', (_what, obj, message) => {
    let err: unknown;
    try {
      parsePolicy(obj, FILE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe(ErrorCode.CONFIG);
    expect((err as MpcError).message.startsWith(message), (err as MpcError).message).toBe(true);
  });
});

describe('policy files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loadPolicy reads a file; syntax errors carry line and column, a missing file its name', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(defaultPolicy('alice'), null, 2));
    expect(loadPolicy(good).minAggregation).toBe(5);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "minAggregation": 5,\n}\n');
    expect(() => loadPolicy(bad)).toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:1: invalid JSON`));
    expect(() => loadPolicy(join(dir, 'none.json'))).toThrow(/none\.json: cannot read: ENOENT/);
  });

  it('the schema lists exactly the keys parsePolicy accepts', () => {
    const schema = JSON.parse(readFileSync(new URL('../../src/security/policy.schema.json', import.meta.url), 'utf8')) as {
      $schema: string;
      properties: Record<string, unknown>;
      $defs: Record<string, { properties: Record<string, { properties?: Record<string, unknown> }> }>;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties)).toEqual(POLICY_KEYS.policy);
    expect(Object.keys(schema.$defs.approvedPlan.properties)).toEqual(POLICY_KEYS.approvedPlan);
    expect(Object.keys(schema.$defs.analyst.properties)).toEqual(POLICY_KEYS.analyst);
    expect(Object.keys(schema.$defs.analyst.properties.limits.properties!)).toEqual(POLICY_KEYS.limits);
  });
});

describe('evaluatePolicy accepts', () => {
  it('sum, moments, histogram, mean-fixed and median over ≥ 5 elements under minAggregation 5', async () => {
    const p = policy({ minAggregation: 5, analysts: { alice: {} } });
    const five = (party: string, name: string, n = 5) => [`${party}.${name}`, n] as const;
    const cases: [string, (readonly [string, number])[]][] = [
      ['circuits/sum.ts', [five('p1', 'x'), five('p2', 'x'), five('p3', 'x')]],
      ['circuits/moments.ts', [five('p1', 'v'), five('p2', 'v'), five('p3', 'v')]],
      ['circuits/histogram.ts', [five('p1', 'age', 6), five('p2', 'age'), five('p3', 'age')]],
      ['circuits/mean-fixed.ts', [five('p1', 'v'), five('p2', 'v'), five('p3', 'v')]],
      ['circuits/median.ts', [five('p1', 'v'), five('p2', 'v')]],
    ];
    for (const [file, shapes] of cases) {
      const compiled = await compileFile(file, new Map(shapes));
      for (const party of compiled.plan.parties) {
        expect(evaluatePolicy(p, ctx(compiled, { party })), `${file} ${party}`).toEqual({ accept: true, rule: 'rules' });
      }
    }
  });

  it('an approved plan whatever the rules; under approved-only, a changed circuit is refused', () => {
    const p = policy({ minAggregation: 5, mode: 'approved-only', approvedPlans: [{ hash: leak.hash, circuit: 'inline', note: 'reviewed' }], analysts: { alice: {} } });
    expect(evaluatePolicy(p, ctx(leak))).toEqual({ accept: true, rule: 'approved-plan' });
    const changed = compileInline(['p1', 'p2'], (c) => {
      c.reveal('raw', c.vector('p1', 'x').add(c.vector('p2', 'x').sum().mul(1)));
    }, { 'p1.x': LEAK_VALUES.length, 'p2.x': 2 });
    expect(refused(evaluatePolicy(p, ctx(changed))).rule).toBe('approved-only');
    // In rules mode the approval still lets the leak through (the owner chose it), and the
    // analyst entry is still required.
    const rules = policy({ minAggregation: 5, approvedPlans: [{ hash: leak.hash }], analysts: { alice: {} } });
    expect(evaluatePolicy(rules, ctx(leak))).toEqual({ accept: true, rule: 'approved-plan' });
    expect(refused(evaluatePolicy(rules, ctx(leak, { analyst: 'bob' }))).rule).toBe('analysts');
    // An approval is about what is computed, not how the job runs: padding and security still apply.
    const strict = policy({ requirePadding: true, approvedPlans: [{ hash: leak.hash }], analysts: { alice: { security: ['malicious'] } } });
    expect(refused(evaluatePolicy(strict, ctx(leak, { padded: false, security: 'malicious' }))).rule).toBe('requirePadding');
    expect(refused(evaluatePolicy(strict, ctx(leak, { padded: true, security: 'semi-honest' }))).rule).toBe('security');
    expect(evaluatePolicy(strict, ctx(leak, { padded: true, security: 'malicious' }))).toEqual({ accept: true, rule: 'approved-plan' });
  });

  it('any analyst through "*", with its own rules; a named entry takes precedence', () => {
    const p = policy({ minAggregation: 2, analysts: { '*': { security: ['malicious'] }, alice: {} } });
    expect(evaluatePolicy(p, ctx(total, { analyst: 'bob' })).accept).toBe(true);
    expect(refused(evaluatePolicy(p, ctx(total, { analyst: 'bob', security: 'semi-honest' })))).toMatchObject({
      rule: 'security',
      message: 'security mode semi-honest is not allowed for analyst bob (policy analysts["*"].security)',
    });
    expect(evaluatePolicy(p, ctx(total, { security: 'semi-honest' })).accept).toBe(true);
  });

  it('outputs addressed only to this party are exempt from minAggregation', () => {
    const own = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      c.reveal('mine', x, { to: 'p1' });
      c.reveal('total', x.sum().add(c.vector('p2', 'y').sum()));
    }, { 'p1.x': 5, 'p2.y': 5 });
    expect(evaluatePolicy(rulesFor({}, { minAggregation: 5 }), ctx(own))).toEqual({ accept: true, rule: 'rules' });
    // p2's recipients rule covers every output, even one that carries none of p2's data.
    expect(refused(evaluatePolicy(rulesFor({}, { minAggregation: 5 }), ctx(own, { party: 'p2' }))).rule).toBe('recipients');
    expect(evaluatePolicy(rulesFor({ recipients: ['analyst', 'p1'] }, { minAggregation: 5 }), ctx(own, { party: 'p2' })).accept).toBe(true);
    // Shared with the analyst it is no longer exempt.
    const shared = compileInline(['p1'], (c) => c.reveal('mine', c.vector('p1', 'x'), { to: ['p1', 'analyst'] }), { 'p1.x': 5 });
    expect(refused(evaluatePolicy(rulesFor({}, { minAggregation: 5 }), ctx(shared))).output).toBe('mine');
  });

  it('minAggregation 1 runs no analysis; OPEN_POLICY accepts anything; defaultPolicy parses as documented', () => {
    expect(evaluatePolicy(rulesFor({}, { minAggregation: 1 }), ctx(leak)).accept).toBe(true);
    expect(evaluatePolicy(OPEN_POLICY, ctx(leak, { analyst: 'anyone', security: 'semi-honest' })).accept).toBe(true);
    expect(Object.isFrozen(OPEN_POLICY.analysts['*'])).toBe(true);
    const d = defaultPolicy('alice');
    expect(typeof d.$comment).toBe('string');
    expect(policy(d)).toEqual({
      minAggregation: 5,
      mode: 'rules',
      approvedPlans: [],
      requirePadding: false,
      analysts: { alice: { inputs: ['*'], recipients: ['analyst'], security: ['malicious', 'semi-honest'], limits: {} } },
    });
    expect(refused(evaluatePolicy(policy(d), ctx(leak))).rule).toBe('minAggregation');
    expect(refused(evaluatePolicy(policy(d), ctx(total, { analyst: 'bob' }))).rule).toBe('analysts');
    expect(() => defaultPolicy('not an id')).toThrow(MpcError);
  });

  it('ignores $-comments anywhere', () => {
    const p = policy({ $comment: 'x', analysts: { $note: 'y', alice: { $why: 'z', limits: { $c: 1 } } } });
    expect(Object.keys(p.analysts)).toEqual(['alice']);
  });
});
