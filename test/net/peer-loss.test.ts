// The requirement behind the heartbeat: when a node is killed mid-job, every other node
// aborts that job within 10 s. Party p3 runs in a child process; p1 and p2 run here, wait
// for p3's second round, and p3 is killed (SIGKILL: the kernel closes its sockets) or
// frozen (SIGSTOP: its sockets stay open and silent, only the heartbeat can tell).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { PeerMesh } from '../../src/net/mesh.ts';
import type { PartyEndpoint } from '../../src/net/mesh.ts';
import { NodeServer } from '../../src/net/server.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { PARTIES, rejectionOf, netTestSetup } from './helpers.ts';
import type { Pki } from './helpers.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/party.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HEARTBEAT = { intervalMs: 200, timeoutMs: 1000 };

const setup = netTestSetup();
const { cleanups } = setup;

/** Start p3 in a child process; resolves with it, its port, and a promise of its "ready". */
async function spawnP3(): Promise<{ child: ChildProcess; port: number; ready: Promise<void> }> {
  const endpoints: PartyEndpoint[] = PARTIES.map((id) => ({ id, host: '127.0.0.1', port: 1 })); // p3 dials nobody
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, TESSERA_TEST_PARTY: JSON.stringify({ tls: setup.pki.m.p3, parties: endpoints, heartbeat: HEARTBEAT }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { port } = JSON.parse(first.value as string) as { port: number };
  const ready = lines.next().then((l) => expect(l.value).toBe('ready'));
  return { child, port, ready };
}

async function twoLocalParties(p3Port: number) {
  const servers: Record<string, NodeServer> = {};
  const endpoints: PartyEndpoint[] = [];
  for (const id of ['p1', 'p2']) {
    servers[id] = new NodeServer({ tls: setup.pki.m[id], parties: PARTIES, heartbeat: HEARTBEAT });
    const { port } = await servers[id].listen(0, '127.0.0.1');
    endpoints.push({ id, host: '127.0.0.1', port });
    cleanups.push(() => servers[id].close());
  }
  endpoints.push({ id: 'p3', host: '127.0.0.1', port: p3Port });
  const meshes = ['p1', 'p2'].map((id) => new PeerMesh({ tls: setup.pki.m[id], parties: endpoints, server: servers[id], heartbeat: HEARTBEAT }));
  for (const m of meshes) cleanups.push(() => m.close());
  return meshes;
}

describe('losing a party process mid-job', () => {
  for (const [signal, bound] of [
    ['SIGKILL', 2000],
    ['SIGSTOP', HEARTBEAT.timeoutMs + HEARTBEAT.intervalMs + 1500],
  ] as const) {
    it(`${signal}: the others' pending recv rejects with PEER_LOST naming p3`, async () => {
      const p3 = await spawnP3();
      const meshes = await twoLocalParties(p3.port);
      await Promise.all(meshes.map((m) => m.ready(15_000)));
      // p3 may already have sent round 0: the mesh holds it until the job is registered.
      const jobs = meshes.map((m) => m.jobTransport('x', PARTIES));
      await p3.ready;
      // Round 0 arrives from p3 in both local parties: the connection works across processes.
      for (const t of jobs) expect([...(await t.recv(2, MessageKind.Open, 0))]).toEqual([2]);
      const pending = jobs.map((t) => rejectionOf(t.recv(2, MessageKind.Open, 1)));
      const t0 = Date.now();
      p3.child.kill(signal);
      for (const err of await Promise.all(pending)) {
        expect(err.code).toBe(ErrorCode.PEER_LOST);
        expect(err.party).toBe('p3');
        expect(err.message).toMatch(/party p3 lost during job x/);
      }
      expect(Date.now() - t0).toBeLessThan(bound);
      // p1 and p2 are still fine with each other.
      expect(meshes[0].isConnected('p2')).toBe(true);
    });
  }
});
