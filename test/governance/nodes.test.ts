// Governance over whole nodes (issue 11): three real nodes (startNode) and the real dealer in
// this process, over real mTLS, each with its own policy file and audit log; the analyst is the
// real client (runJob). Every refusal is checked three ways: the submitter gets
// MPC_ERR_FORBIDDEN naming the node and the rule and no output; the refusing node raises an
// alert with its own event name; the other nodes abort the job. Then the audit logs of the
// whole run verify and match pairwise.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuit } from '../../src/circuit/index.ts';
import type { LoadedCircuit } from '../../src/compiler/load.ts';
import { compileLoaded } from '../../src/compiler/load.ts';
import { planHash } from '../../src/compiler/plan.ts';
import { runJob, type ClusterTarget, type RunJobOptions } from '../../src/coordinator/client.ts';
import { ErrorCode } from '../../src/errors.ts';
import { connect } from '../../src/net/client.ts';
import { ControlKind, type Frame } from '../../src/net/frame.ts';
import { startNode, type RunningNode } from '../../src/node/node.ts';
import { startDealer, type RunningDealer } from '../../src/preprocessing/dealer-server.ts';
import { shapesOf } from '../../src/protocol/inputs.ts';
import { loadAuditorConfig, loadClusterConfig, loadDealerConfig, loadNodeConfig, loadTlsMaterial, type TlsMaterial } from '../../src/security/config.ts';
import { initFederation, renewCertificates } from '../../src/security/init.ts';
import { signJobRequest, type SignedJobRequest } from '../../src/security/request.ts';
import { compareAuditLogs, verifyAuditLog, type AuditEntry } from '../../src/security/audit-check.ts';
import { freePortRange, memoryLogger, waitFor, type LogEntry } from '../faults/helpers.ts';
import { createHash } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { fetchAuditLog } from '../../src/coordinator/auditor.ts';
import { fingerprint } from '../../src/security/pki.ts';

const FED = 'gov';
const IDS = ['p1', 'p2', 'p3'];
// Distinctive values, so a test can tell that no refusal ever prints one.
const data = {
  p1: { x: [912341, 912342, 912343, 912344, 912345, 912346], salary: [51001, 52002, 53003, 54004, 55005] },
  p2: { x: [700001, 700002, 700003, 700004, 700005] },
  p3: { x: [300001, 300002, 300003, 300004, 300005] },
};
const SECRETS = [...data.p1.x, ...data.p1.salary, ...data.p2.x, ...data.p3.x].map(String);

const loaded = (name: string, body: Parameters<typeof circuit>[1]): LoadedCircuit => ({
  file: `test/governance/${name}.ts`,
  definition: circuit({ name, parties: IDS }, body),
});
const sum = loaded('sum', (c) => c.reveal('total', c.sum(c.parties.map((p) => c.vector(p, 'x').sum()))));
const sumPlusOne = loaded('sum', (c) => c.reveal('total', c.sum(c.parties.map((p) => c.vector(p, 'x').sum())).add(c.constant(1))));
const leak = loaded('leak', (c) => c.reveal('raw', c.vector('p1', 'x').add(c.vector('p2', 'x').sum().mul(0))));
const salaries = loaded('salaries', (c) => c.reveal('total', c.vector('p1', 'salary').sum().add(c.vector('p2', 'x').sum())));

let dir: string;
let target: ClusterTarget;
let dealer: RunningDealer;
const nodes: RunningNode[] = [];
const logs: Record<string, LogEntry[]> = {};
const policyFile = (p: string) => join(dir, `${p}.policy.json`);
const auditFile = (p: string) => join(dir, `${p}.audit.log`);
const opts: RunJobOptions = { security: 'semi-honest', preprocessing: 'dealer', connectRetry: { attempts: 40, baseMs: 50, maxMs: 500 } };

/** Replace a policy file the way editors do (write a temp file, rename it over the old one). */
function writePolicy(p: string, policy: unknown): void {
  const tmp = `${policyFile(p)}.tmp`;
  writeFileSync(tmp, JSON.stringify(policy, null, 2));
  renameSync(tmp, policyFile(p));
}

const open = { analysts: { '*': {} } };

/** runJob's rejection, checked: FORBIDDEN, and no secret value anywhere in the message. */
async function refused(c: LoadedCircuit, o: Partial<RunJobOptions> = {}): Promise<string> {
  const e = await runJob(target, c, { ...opts, ...o }).then(
    () => {
      throw new Error('the job ran');
    },
    (err: { code?: string; message: string }) => err,
  );
  expect(e.code).toBe(ErrorCode.FORBIDDEN);
  for (const s of SECRETS) expect(e.message).not.toContain(s);
  return e.message;
}

const events = (p: string, event: string) => logs[p].filter((l) => l.event === event);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-gov-'));
  const base = await freePortRange(IDS.length + 1);
  await initFederation(dir, { parties: IDS, federation: FED, analyst: 'alice', basePort: base, data, security: 'semi-honest' });
  for (const p of IDS) writePolicy(p, open);
  const d = memoryLogger({ role: 'dealer', id: 'dealer' });
  dealer = await startDealer(loadDealerConfig(join(dir, 'dealer.json')), d.log);
  for (const p of IDS) {
    const cfg = { ...loadNodeConfig(join(dir, `${p}.node.json`)), policy: policyFile(p), audit: auditFile(p) };
    const m = memoryLogger({ role: 'party', id: p });
    logs[p] = m.lines;
    nodes.push(await startNode(cfg, m.log));
  }
  const c = loadClusterConfig(join(dir, 'cluster.json'));
  target = { federation: c.federation, tls: loadTlsMaterial(c.tls), parties: c.parties };
}, 60_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await dealer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('roles', () => {
  it('a party certificate submitting a job is refused with the reason and raised as an alert', async () => {
    const p1: TlsMaterial = loadTlsMaterial({ ca: join(dir, 'ca.crt'), cert: join(dir, 'p1/cert.pem'), key: join(dir, 'p1/key.pem') });
    const p3 = target.parties[2];
    // p1 may dial p3 (the lower index dials), so the channel is accepted as a party channel,
    // and what p1 then asks for is judged by its role.
    const ch = await connect(`wss://${p3.host}:${p3.port}`, { ...p1, expected: { federation: FED, role: 'party', id: 'p3' }, parties: IDS });
    const frames: Frame[] = [];
    ch.on('frame', (f) => frames.push(f));
    ch.resume();
    const before = events('p3', 'alert-role').length;
    await ch.send({ job: 'cafe0000cafe0000', round: 0, kind: ControlKind.JobSubmit, body: { plan: new Uint8Array(1), planHash: '0'.repeat(64), security: 'semi-honest', preprocessing: 'dealer', pad: false, request: {} } });
    const reject = await waitFor(() => frames.find((f) => f.kind === ControlKind.JobReject), 10_000, 'a JobReject from p3');
    expect(reject.body).toMatchObject({ code: ErrorCode.FORBIDDEN, reason: expect.stringMatching(/party certificate may not submit jobs/), by: 'p3' });
    await waitFor(() => events('p3', 'alert-role').length > before, 5000, 'the alert');
    expect(events('p3', 'alert-role').at(-1)).toMatchObject({ request: 'submit-job', role: 'party' });
    ch.close();
    // The real p1 dials p3 again; the federation goes on serving jobs.
    await waitFor(() => logs.p3.some((l) => l.event === 'peer-up' || l.msg === 'party p1 is up'), 10_000, 'p1 back');
  });
});

describe('policies on the compiled plan', () => {
  it('the leak circuit is refused with minAggregation 2 on every node, naming p1, the rule and the output; sum is accepted', async () => {
    writePolicy('p1', { minAggregation: 2, analysts: { '*': {} } });
    await waitFor(() => events('p1', 'policy-reloaded').length > 0, 10_000, 'p1 reloading its policy');
    const msg = await refused(leak);
    expect(msg).toBe('p1: output "raw" depends on 1 input element of p1 (policy minAggregation 2)');
    expect(events('p1', 'alert-policy').at(-1)).toMatchObject({ rule: 'minAggregation', output: 'raw' });
    for (const p of ['p2', 'p3']) await waitFor(() => events(p, 'job-aborted').some((l) => l.code === ErrorCode.FORBIDDEN), 10_000, `${p} aborting the job`);
    const r = await runJob(target, sum, opts);
    expect(r.outputs.total).toBe([...data.p1.x, ...data.p2.x, ...data.p3.x].reduce((a, b) => a + b, 0));
  });

  it('an analyst using an input the policy does not allow it is refused', async () => {
    writePolicy('p1', { analysts: { alice: { inputs: ['x'] } } });
    await waitFor(() => events('p1', 'policy-reloaded').length > 1, 10_000, 'p1 reloading its policy');
    const msg = await refused(salaries);
    expect(msg).toMatch(/^p1: input p1\.salary is not allowed for analyst alice/);
    expect(events('p1', 'alert-policy').at(-1)).toMatchObject({ rule: expect.stringMatching(/inputs/) });
  });

  it('approved-only: the approved plan runs, a changed circuit does not; an invalid policy file keeps the old one', async () => {
    const shapes = shapesOf(data as never);
    const hash = planHash(compileLoaded(sum, shapes).plan);
    writePolicy('p2', { mode: 'approved-only', approvedPlans: [{ hash }], analysts: { '*': {} } });
    await waitFor(() => events('p2', 'policy-reloaded').length > 0, 10_000, 'p2 reloading its policy');
    expect((await runJob(target, sum, opts)).outputs.total).toBeTypeOf('number');
    expect(await refused(sumPlusOne)).toMatch(/^p2: .*approved/);
    writeFileSync(policyFile('p2'), '{ "minAggregation": "lots" ');
    await waitFor(() => events('p2', 'policy-invalid').length > 0, 10_000, 'p2 rejecting the broken policy');
    expect(await refused(sumPlusOne)).toMatch(/^p2: .*approved/);
    writePolicy('p2', open);
    await waitFor(() => events('p2', 'policy-reloaded').length > 1, 10_000, 'p2 reloading its policy');
  });
});

describe('signed job requests', () => {
  const signWith = (mutate: (s: SignedJobRequest) => SignedJobRequest, now = Date.now()): RunJobOptions['signRequest'] => (fields, tls) => mutate(signJobRequest(fields, tls, { now }));

  it('an expired request is refused', async () => {
    const msg = await refused(sum, { signRequest: signWith((s) => s, Date.now() - 10 * 60_000) });
    expect(msg).toMatch(/job request refused: expired/);
    expect(events('p1', 'alert-request').at(-1)).toMatchObject({ reason: 'expired' });
  });

  it('an altered request (signed for another plan) is refused', async () => {
    const msg = await refused(sum, { signRequest: (fields, tls) => signJobRequest({ ...fields, planHash: 'ab'.repeat(32) }, tls) });
    expect(msg).toMatch(/job request refused: altered/);
  });

  it('nodes shown different signed requests (each valid) refuse to run the job together', async () => {
    const msg = await refused(sum, { signRequest: (fields, tls) => signJobRequest(fields, tls) });
    expect(msg).toMatch(/accepted job [0-9a-f]+ under a different signed request than this node did/);
  });

  it('a tampered signature is refused', async () => {
    const msg = await refused(sum, { signRequest: signWith((s) => ({ ...s, sig: Buffer.from(Buffer.from(s.sig, 'base64').map((b, i) => (i === 10 ? b ^ 1 : b))).toString('base64') })) });
    expect(msg).toMatch(/job request refused: (signature|altered)/);
  });

  it('a replayed submission is refused', async () => {
    let captured: Record<string, unknown>;
    const p1 = target.parties[0];
    // The analyst's own submission, then the very same frame again.
    const ch = await connect(`wss://${p1.host}:${p1.port}`, { ...target.tls, expected: { federation: FED, role: 'party', id: 'p1' }, parties: IDS });
    const frames: Frame[] = [];
    ch.on('frame', (f) => frames.push(f));
    ch.resume();
    const shapes = shapesOf(data as never);
    const { plan } = compileLoaded(sum, shapes);
    const { encodePlan } = await import('../../src/compiler/plan.ts');
    const bytes = encodePlan(plan);
    const jobId = 'feed0000feed0000feed0000feed0000';
    const { planRecipients } = await import('../../src/security/request.ts');
    const request = signJobRequest({ federation: FED, analyst: 'alice', jobId, planHash: planHash(bytes), recipients: planRecipients(plan), security: 'semi-honest', preprocessing: 'dealer', pad: false }, target.tls);
    captured = { plan: bytes, planHash: planHash(bytes), security: 'semi-honest', preprocessing: 'dealer', pad: false, request };
    await ch.send({ job: jobId, round: 0, kind: ControlKind.JobSubmit, body: captured });
    await waitFor(() => frames.find((f) => f.kind === ControlKind.JobAccept), 10_000, 'the first submission accepted');
    await ch.send({ job: jobId, round: 0, kind: ControlKind.JobSubmit, body: captured });
    const reject = await waitFor(() => frames.find((f) => f.kind === ControlKind.JobReject), 10_000, 'the replay refused');
    expect(reject.body).toMatchObject({ code: ErrorCode.FORBIDDEN, reason: expect.stringMatching(/replayed/) });
    ch.close();
  });
});

describe('auditors', () => {
  const auditor = (): ClusterTarget => {
    const c = loadAuditorConfig(join(dir, 'auditor.json'));
    return { federation: c.federation, tls: loadTlsMaterial(c.tls), parties: c.parties };
  };

  it('an analyst may not read the audit log', async () => {
    await expect(fetchAuditLog(target, 'p1')).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN, message: expect.stringMatching(/^p1: an analyst certificate may not read/) });
    expect(events('p1', 'alert-role').at(-1)).toMatchObject({ request: 'read-audit', role: 'analyst' });
  });

  it('an auditor may not describe datasets or submit jobs', async () => {
    await expect(runJob(auditor(), sum, opts)).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN, message: expect.stringMatching(/auditor certificate may not/) });
  });

  it("an auditor reads a node's audit log, which verifies and records the read", async () => {
    const text = Buffer.from(await fetchAuditLog(auditor(), 'p2')).toString('utf8');
    expect(verifyAuditLog(text, 'p2 (fetched)').ok).toBe(true);
    expect(text).toMatch(/"event":"audit-read","auditor":"auditor"/);
  });
});

describe('certificates', () => {
  /** SHA-256 of the certificate `party`'s node presents to a new connection now. */
  const presented = (party: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const ep = target.parties.find((p) => p.id === party)!;
      const s = tlsConnect({ host: ep.host, port: ep.port, ca: target.tls.ca, cert: target.tls.cert, key: target.tls.key, servername: 'localhost' }, () => {
        resolve(createHash('sha256').update(s.getPeerCertificate().raw).digest('hex'));
        s.destroy();
      });
      s.on('error', reject);
    });

  it('a renewed certificate takes effect without a restart, and a running job carries on', async () => {
    const before = await presented('p2');
    const long = loaded('long', (c) => {
      let y = c.vector('p1', 'x');
      for (let i = 0; i < 3000; i++) y = y.square();
      c.reveal('y0', y.sum());
    });
    const running = runJob(target, long, opts).then((r) => ({ r, at: Date.now() }));
    await waitFor(() => events('p2', 'job-accepted').some((l) => l.circuit === 'long'), 10_000, 'p2 running the long job');
    const [renewed] = await renewCertificates(dir, { only: ['p2'] });
    nodes[1].reload(); // what SIGHUP does; the file watcher would also see it within a second
    await waitFor(() => events('p2', 'tls-reloaded').length > 0, 10_000, 'p2 taking up the renewed certificate');
    const reloadedAt = Date.now();
    const after = await presented('p2');
    expect(after).not.toBe(before);
    expect(after).toBe(fingerprint(readFileSync(renewed.cert, 'utf8')));
    const { r, at } = await running;
    expect(typeof r.outputs.y0 === 'number' || typeof r.outputs.y0 === 'string').toBe(true);
    expect(at).toBeGreaterThan(reloadedAt);
    expect((await runJob(target, sum, opts)).outputs.total).toBeTypeOf('number');
  });
});

describe('the audit logs of the whole run', () => {
  it('verify on every node and match pairwise', async () => {
    for (const n of nodes) await n.close();
    nodes.length = 0;
    const text = (p: string) => readFileSync(auditFile(p), 'utf8');
    const verified: Record<string, { file: string; entries: AuditEntry[] }> = {};
    for (const p of IDS) {
      const v = verifyAuditLog(text(p), auditFile(p));
      expect(v.ok, JSON.stringify(v).slice(0, 500)).toBe(true);
      verified[p] = v;
    }
    for (const [a, b] of [['p1', 'p2'], ['p2', 'p3']]) {
      const r = compareAuditLogs(verified[a], verified[b]);
      expect(r.ok, JSON.stringify(r).slice(0, 2000)).toBe(true);
    }
    // The roles test's JobSubmit came with p1's certificate but not from p1's node: p3 logged
    // it, p1's node never sent it, and the comparison says so. It is the only finding.
    const r = compareAuditLogs(verified.p1, verified.p3);
    expect(r.findings.filter((f) => f.finding !== 'undelivered')).toEqual([
      expect.objectContaining({ finding: 'injected', from: 'p1', to: 'p3', job: 'cafe0000cafe0000', kind: 'JobSubmit' }),
    ]);
    const p1 = text('p1');
    expect(p1).toContain('"event":"policy-decision"');
    expect(p1).toContain('"event":"job-request"');
    expect(p1).toContain('"event":"output-delivered"');
    // Metadata only: with hashes, digests and the signed requests set aside (random hex can
    // hold any digits), no entry holds an input value.
    for (const line of p1.trim().split('\n')) {
      const { hash: _h, prev: _p, digest: _d, signed: _s, ...rest } = JSON.parse(line) as Record<string, unknown>;
      for (const s of SECRETS) expect(JSON.stringify(rest)).not.toContain(s);
    }
  });
});
