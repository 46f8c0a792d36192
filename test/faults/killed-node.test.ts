// A node killed mid-job (real processes): every other node aborts that job within 10 s,
// the analyst gets PEER_LOST naming the dead party and no output — through the library
// (runJob on an embedded federation, semi-honest) and through the command line (`mpc run
// --cluster`, default malicious security, against daemons this test starts, so it can kill
// one by PID when the CLI reports progress). SIGKILL closes the node's sockets at once;
// SIGSTOP freezes it with its sockets open, so only the heartbeats (5 s) can tell. The job
// is test/fixtures/long-power.ts: 300 rounds over 20 000 elements, several seconds here,
// so the kill lands in the middle of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCircuit } from '../../src/compiler/load.ts';
import { runJob } from '../../src/coordinator/client.ts';
import { withEmbeddedFederation } from '../../src/coordinator/embedded.ts';
import { ErrorCode, MpcError } from '../../src/errors.ts';
import { initFederation } from '../../src/security/init.ts';
import { freePortRange, readLogFile, spawnMpc, waitFor, within, type Child, type LogEntry } from './helpers.ts';

const CIRCUIT = 'test/fixtures/long-power.ts';
const IDS = ['p1', 'p2', 'p3'];
const inputs = { p1: { x: Array.from({ length: 20_000 }, (_, i) => (i % 2001) - 1000) } };
const BOUND_MS = 10_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The `job-aborted` line of `lines` for the only job, once it is there. */
const abortedIn = (lines: () => LogEntry[]) => () => lines().find((l) => l.event === 'job-aborted');

describe('a node killed mid-job', () => {
  it.each(['SIGKILL', 'SIGSTOP'] as const)('%s p2, runJob on an embedded federation: PEER_LOST naming p2 within 10 s, no output; p1 and p3 log job-aborted within 10 s', async (signal) => {
    const circuit = await loadCircuit(CIRCUIT);
    await withEmbeddedFederation({ parties: IDS, inputs }, async (target, federation) => {
      let killedAt = 0;
      let progressAtKill: number | undefined;
      const job = runJob(target, circuit, {
        security: 'semi-honest',
        preprocessing: 'dealer',
        connectRetry: { attempts: 60, baseMs: 50, maxMs: 500 },
        onProgress: (p) => {
          if (killedAt) return;
          killedAt = Date.now();
          progressAtKill = p.layer;
          federation.kill('p2', signal);
        },
      });
      let err: unknown;
      const outputs = await job.then((r) => r.outputs, (e: unknown) => void (err = e));
      const detected = Date.now();
      expect(outputs).toBeUndefined();
      expect(killedAt, 'p2 was killed after the first progress report').toBeGreaterThan(0);
      expect(progressAtKill).toBeLessThan(300); // the job was still running
      expect(err).toBeInstanceOf(MpcError);
      expect({ code: (err as MpcError).code, party: (err as MpcError).party }).toEqual({ code: ErrorCode.PEER_LOST, party: 'p2' });
      expect((err as MpcError).message).toMatch(/p2/);
      expect(detected - killedAt).toBeLessThan(BOUND_MS);
      for (const id of ['p1', 'p3']) {
        const file = join(federation.dir, `${id}.log`);
        const aborted = await waitFor(abortedIn(() => readLogFile(file)), BOUND_MS, `${id} to log job-aborted`);
        expect({ code: aborted.code, party: aborted.party }, `${id}: ${String(aborted.msg)}`).toEqual({ code: ErrorCode.PEER_LOST, party: 'p2' });
        expect(Number(aborted.time) - killedAt, `${id} aborted within 10 s of the kill`).toBeLessThan(BOUND_MS);
        expect(readLogFile(file).filter((l) => l.event === 'job-done')).toEqual([]);
      }
      // A frozen process would hold up the teardown (it cannot act on SIGTERM): end it.
      if (signal === 'SIGSTOP') federation.kill('p2', 'SIGKILL');
    });
  }, 60_000);

  it('mpc run --cluster: exits 1 within 10 s naming p2 (MPC_ERR_PEER_LOST), prints nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-killed-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const base = await freePortRange(IDS.length + 1);
    await initFederation(dir, { parties: IDS, federation: 'killed', analyst: 'alice', basePort: base, host: '127.0.0.1', data: inputs });
    const daemons: Record<string, Child> = {};
    const start = (name: string, args: string[]) => {
      daemons[name] = spawnMpc(args);
      cleanups.push(() => daemons[name].stop());
    };
    start('dealer', ['dealer', '--config', join(dir, 'dealer.json')]);
    for (const id of IDS) start(id, ['node', '--config', join(dir, `${id}.node.json`)]);
    const logOf = (name: string): LogEntry[] =>
      daemons[name]
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogEntry);
    for (const name of Object.keys(daemons)) {
      await waitFor(() => logOf(name).some((l) => l.event === 'listening'), 20_000, `${name} to listen (stderr: ${daemons[name].stderr()})`);
    }

    const cli = spawnMpc(['run', CIRCUIT, '--cluster', join(dir, 'cluster.json')]);
    cleanups.push(() => cli.stop());
    await waitFor(() => /^progress: layer \d+\/300/m.test(cli.stderr()) || cli.child.exitCode !== null, 30_000, `the first progress line (stderr: ${cli.stderr()})`);
    expect(cli.child.exitCode, cli.stderr()).toBeNull();
    const killedAt = Date.now();
    process.kill(daemons.p2.pid, 'SIGKILL');
    const exit = await within(cli.exited, BOUND_MS, 'mpc run to exit after the kill');
    expect(exit.code).toBe(1);
    expect(exit.at - killedAt).toBeLessThan(BOUND_MS);
    expect(cli.stderr()).toMatch(/mpc: error \[MPC_ERR_PEER_LOST\]: .*\bp2\b/);
    expect(cli.stdout()).toBe(''); // no partial output
    for (const id of ['p1', 'p3']) {
      const aborted = await waitFor(abortedIn(() => logOf(id)), BOUND_MS, `${id} to log job-aborted`);
      expect({ code: aborted.code, party: aborted.party }, `${id}: ${String(aborted.msg)}`).toEqual({ code: ErrorCode.PEER_LOST, party: 'p2' });
      expect(Number(aborted.time) - killedAt).toBeLessThan(BOUND_MS);
      expect(logOf(id).filter((l) => l.event === 'job-done')).toEqual([]);
    }
  }, 60_000);
});
