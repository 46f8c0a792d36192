// Dealer-free preprocessing through the command line and real node processes (real base OTs,
// mTLS): `mpc run --preprocessing ot` starts no dealer; a federation made without a dealer
// runs OT jobs by default, keeps working after a node is killed and restarted between jobs
// (each job makes fresh material under its own session id; nothing is persisted, so nothing
// can be used twice); a node whose config trusts no dealer refuses a dealer job.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initFederation } from '../../src/security/init.ts';
import { freePortRange, runMpc, spawnMpc, waitFor, type Child, type LogEntry } from '../faults/helpers.ts';
import { SECURITY_LEVELS } from '../../src/protocol/suites.ts';

const IDS = ['p1', 'p2'];
const data = JSON.parse(readFileSync('circuits/inner-product.inputs.json', 'utf8')) as Record<string, Record<string, number[]>>;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tessera-ot-${tag}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `mpc node` for each id of the federation in `dir`; returns a log reader per node. */
async function startNodes(dir: string, ids: string[]) {
  const daemons: Record<string, Child> = {};
  const logs: Record<string, string> = {};
  const start = async (id: string) => {
    if (daemons[id]) logs[id] = (logs[id] ?? '') + daemons[id].stdout();
    const d = spawnMpc(['node', '--config', join(dir, `${id}.node.json`)]);
    daemons[id] = d;
    cleanups.push(() => d.stop());
    await waitFor(() => logOf(id).some((l) => l.event === 'listening'), 20_000, `${id} to listen (stderr: ${d.stderr()})`);
  };
  const logOf = (id: string): LogEntry[] =>
    ((logs[id] ?? '') + daemons[id].stdout())
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogEntry);
  for (const id of ids) await start(id);
  return { daemons, logOf, restart: start };
}

describe('mpc run --preprocessing ot (embedded federation)', () => {
  it.each(SECURITY_LEVELS)('%s: inner-product.ts gives dot = 150, with no dealer process', async (security) => {
    const r = await runMpc(['run', 'circuits/inner-product.ts', '--preprocessing', 'ot', '--security', security], 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dot = 150');
    expect(r.stdout).toContain(`security ${security} · preprocessing ot`);
    expect(r.stderr).toMatch(/embedded federation: 2 nodes \(p1, p2\) on 127\.0\.0\.1:\d+-\d+, no dealer/);
    expect(r.stderr).toContain('trust: OT preprocessing: no dealer or other third party');
  }, 150_000);

  it('an unknown mode is a CONFIG error before anything starts', async () => {
    const r = await runMpc(['run', 'circuits/inner-product.ts', '--preprocessing', 'oblivious']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--preprocessing oblivious: expected dealer or ot');
  });
});

describe('a federation made without a dealer (mpc init --no-dealer)', () => {
  it('runs OT jobs by default, refuses --preprocessing dealer, and a node killed and restarted between jobs makes fresh material', async () => {
    const dir = tempDir('nodealer');
    const base = await freePortRange(IDS.length + 1);
    await initFederation(dir, { parties: IDS, federation: 'otfed', analyst: 'alice', basePort: base, host: '127.0.0.1', data, dealer: false, security: 'semi-honest' });
    expect(readdirSync(dir).filter((f) => f.startsWith('dealer'))).toEqual([]);
    const nodes = await startNodes(dir, IDS);
    const cluster = join(dir, 'cluster.json');

    const first = await runMpc(['run', 'circuits/inner-product.ts', '--cluster', cluster, '--security', 'semi-honest'], 90_000);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('dot = 150');
    expect(first.stdout).toContain('preprocessing ot');

    const dealerJob = await runMpc(['run', 'circuits/inner-product.ts', '--cluster', cluster, '--preprocessing', 'dealer']);
    expect(dealerJob.code).not.toBe(0);
    expect(dealerJob.stderr).toContain('names no dealer; use --preprocessing ot');

    process.kill(nodes.daemons.p1.pid, 'SIGKILL');
    await nodes.daemons.p1.exited;
    await nodes.restart('p1');
    const second = await runMpc(['run', 'circuits/inner-product.ts', '--cluster', cluster, '--security', 'semi-honest'], 90_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('dot = 150');

    // Each job's material was made for it: its own triples, set up and generated in the job.
    const done = nodes.logOf('p2').filter((l) => l.event === 'job-done');
    expect(done.length).toBe(2);
    for (const d of done) {
      expect(d.preprocessing).toBe('ot');
      const ot = d.ot as { triples: number; setupSeconds: number };
      expect(ot.triples).toBeGreaterThan(0);
      expect(ot.setupSeconds).toBeGreaterThan(0);
    }
    expect(new Set(done.map((d) => d.job)).size).toBe(2);
    // Nothing of the preprocessing is kept on disk.
    expect(readdirSync(dir).filter((f) => /triple|prep|ot-/.test(f))).toEqual([]);
  }, 180_000);

  it('a node whose config trusts no dealer refuses a dealer job (FORBIDDEN), naming itself', async () => {
    const dir = tempDir('distrust');
    const base = await freePortRange(IDS.length + 1);
    await initFederation(dir, { parties: IDS, federation: 'otfed2', analyst: 'alice', basePort: base, host: '127.0.0.1', data, security: 'semi-honest' });
    const cfgFile = join(dir, 'p2.node.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), preprocessing: 'ot' }, null, 2));
    await startNodes(dir, IDS);
    const r = await runMpc(['run', 'circuits/inner-product.ts', '--cluster', join(dir, 'cluster.json'), '--security', 'semi-honest'], 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/MPC_ERR_FORBIDDEN.*party p2 trusts no dealer/);
    expect(r.stdout).toBe('');
  }, 90_000);
});
