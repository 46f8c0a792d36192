// A 3-party mesh in one process, real TLS on 127.0.0.1. Read the first two tests first: the
// mesh comes up with one connection per pair, then two jobs with different party orders run
// at the same time over the same channels without their messages mixing.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { DEFAULT_HEARTBEAT } from '../../src/net/channel.ts';
import { ControlKind } from '../../src/net/frame.ts';
import type { Frame } from '../../src/net/frame.ts';
import { PeerMesh } from '../../src/net/mesh.ts';
import type { PartyEndpoint, PeerMeshOptions } from '../../src/net/mesh.ts';
import { NodeServer } from '../../src/net/server.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { collectLog, PARTIES, rejectionOf, netTestSetup } from './helpers.ts';
import type { Pki } from './helpers.ts';

const setup = netTestSetup();
const { cleanups } = setup;

interface Fed {
  mesh: Record<string, PeerMesh>;
  server: Record<string, NodeServer>;
  accepted: Record<string, string[]>;
  logs: Record<string, ReturnType<typeof collectLog>>;
  endpoints: PartyEndpoint[];
}

/** Servers for every party, then a mesh per party, then ready(). */
async function federation(opts: Partial<PeerMeshOptions> = {}, ids = PARTIES): Promise<Fed> {
  const fed: Fed = { mesh: {}, server: {}, accepted: {}, logs: {}, endpoints: [] };
  for (const id of ids) {
    fed.logs[id] = collectLog();
    const server = new NodeServer({ tls: setup.pki.m[id], parties: ids, log: fed.logs[id].log, heartbeat: opts.heartbeat });
    fed.accepted[id] = [];
    server.on('party', (ch) => void fed.accepted[id].push(ch.peer.id));
    const { port } = await server.listen(0, '127.0.0.1');
    fed.server[id] = server;
    fed.endpoints.push({ id, host: '127.0.0.1', port });
    cleanups.push(() => server.close());
  }
  for (const id of ids) {
    fed.mesh[id] = new PeerMesh({ tls: setup.pki.m[id], parties: fed.endpoints, server: fed.server[id], log: fed.logs[id].log, ...opts });
    cleanups.push(() => fed.mesh[id].close());
  }
  await Promise.all(ids.map((id) => fed.mesh[id].ready(5000)));
  return fed;
}

const bytes = (...xs: number[]) => new Uint8Array(xs);
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

describe('PeerMesh', () => {
  it('connects every pair exactly once, the lower index dialing', async () => {
    const fed = await federation();
    expect(fed.accepted).toEqual({ p1: [], p2: ['p1'], p3: ['p1', 'p2'] });
    for (const a of PARTIES) for (const b of PARTIES) if (a !== b) expect(fed.mesh[a].isConnected(b)).toBe(true);
    expect(fed.mesh.p2.index).toBe(1);
  });

  it('runs two concurrent jobs with different party orders without mixing messages', async () => {
    const fed = await federation();
    const jobs = { A: ['p1', 'p2', 'p3'], B: ['p3', 'p1', 'p2'] };
    const run = async (job: 'A' | 'B', me: string) => {
      const t = fed.mesh[me].jobTransport(`job-${job}`, jobs[job]);
      expect(t.self).toBe(jobs[job].indexOf(me));
      const out: string[] = [];
      for (let round = 0; round < 5; round++) {
        const sends: Promise<void>[] = [];
        for (let to = 0; to < t.n; to++) if (to !== t.self) sends.push(t.send(to, MessageKind.Open, round, text(`${job}:${me}->${jobs[job][to]}:${round}`)));
        for (let from = 0; from < t.n; from++) if (from !== t.self) out.push(str(await t.recv(from, MessageKind.Open, round)));
        await Promise.all(sends);
      }
      // A different kind in the same round is a different message.
      for (let to = 0; to < t.n; to++) if (to !== t.self) await t.send(to, MessageKind.MacCheck, 0, text(`mac ${me}`));
      for (let from = 0; from < t.n; from++) if (from !== t.self) out.push(str(await t.recv(from, MessageKind.MacCheck, 0)));
      const stats = t.stats();
      t.dispose();
      return { out, stats };
    };
    const results = await Promise.all(PARTIES.flatMap((me) => [run('A', me), run('B', me)]));
    const byKey = Object.fromEntries(PARTIES.flatMap((me, i) => [[`A ${me}`, results[2 * i]], [`B ${me}`, results[2 * i + 1]]]));
    expect(byKey['A p1'].out.slice(0, 2)).toEqual(['A:p2->p1:0', 'A:p3->p1:0']);
    expect(byKey['B p1'].out.slice(0, 2)).toEqual(['B:p3->p1:0', 'B:p2->p1:0']); // job B's order: p3, p1, p2
    for (const [key, { out, stats }] of Object.entries(byKey)) {
      const [job, me] = key.split(' ');
      expect(out.length).toBe(12);
      for (const m of out.slice(0, 10)) expect(m).toMatch(new RegExp(`^${job}:p\\d->${me}:\\d$`));
      expect(stats.messagesSent).toBe(12);
      expect(stats.messagesReceived).toBe(12);
    }
  });

  it('buffers frames of a job registered a little later on one node', async () => {
    const fed = await federation();
    const t1 = fed.mesh.p1.jobTransport('late', PARTIES);
    await t1.send(1, MessageKind.Input, 0, bytes(42));
    await new Promise((r) => setTimeout(r, 50));
    const t2 = fed.mesh.p2.jobTransport('late', PARTIES);
    expect(await t2.recv(0, MessageKind.Input, 0)).toEqual(Buffer.from([42]));
  });

  it('drops frames of a job not registered in time, and then fails that job at once', async () => {
    const fed = await federation({ earlyTtlMs: 100 });
    const t1 = fed.mesh.p1.jobTransport('never', PARTIES);
    await t1.send(1, MessageKind.Input, 0, bytes(1));
    await fed.logs.p2.waitFor((l) => l.fields?.event === 'early-dropped' && /job never/.test(l.msg));
    const t2 = fed.mesh.p2.jobTransport('never', PARTIES);
    const err = await rejectionOf(t2.recv(0, MessageKind.Input, 0));
    expect(err.code).toBe(ErrorCode.PROTOCOL);
    expect(err.message).toMatch(/dropped before it was registered/);
  });

  it('aborts a job on a replayed (from, kind, round)', async () => {
    const fed = await federation();
    const t1 = fed.mesh.p1.jobTransport('r', PARTIES);
    const t2 = fed.mesh.p2.jobTransport('r', PARTIES);
    const pending = t2.recv(0, MessageKind.Open, 1);
    await t1.send(1, MessageKind.Open, 0, bytes(1));
    await t1.send(1, MessageKind.Open, 0, bytes(2)); // same (from, kind, round) again
    const err = await rejectionOf(pending);
    expect(err.code).toBe(ErrorCode.PROTOCOL);
    expect(err.party).toBe('p1');
    expect(err.message).toMatch(/replayed message from p1 in job r \(kind 2, round 0\)/);
    expect((await rejectionOf(t2.recv(0, MessageKind.Open, 0))).code).toBe(ErrorCode.PROTOCOL);
  });

  it('aborts a job when a connected peer stops taking part (recv timeout)', async () => {
    const fed = await federation({ recvTimeoutMs: 300 });
    fed.mesh.p1.jobTransport('quiet', PARTIES);
    const t2 = fed.mesh.p2.jobTransport('quiet', PARTIES);
    const t0 = Date.now();
    const err = await rejectionOf(t2.recv(0, MessageKind.Open, 1));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(err.code).toBe(ErrorCode.PEER_LOST);
    expect(err.party).toBe('p1');
    expect(err.message).toMatch(/party p1 sent nothing for job quiet in 0\.3 s/);
    // The channel itself is fine: the heartbeat keeps it up.
    expect(fed.mesh.p2.isConnected('p1')).toBe(true);
  });

  it('aborts a job whose peers run too far ahead (buffer cap)', async () => {
    const fed = await federation({ maxJobBufferBytes: 1000 });
    const t1 = fed.mesh.p1.jobTransport('flood', PARTIES);
    const t2 = fed.mesh.p2.jobTransport('flood', PARTIES);
    for (let round = 0; round < 3; round++) await t1.send(1, MessageKind.Open, round, new Uint8Array(400));
    await expect.poll(() => t2.aborted?.message).toMatch(/more than 1000 bytes buffered/);
    expect((await rejectionOf(t2.recv(0, MessageKind.Open, 0))).code).toBe(ErrorCode.PROTOCOL);
  });

  it('refuses messages to or from self, and reused job ids', async () => {
    const fed = await federation();
    const t = fed.mesh.p1.jobTransport('self', PARTIES);
    expect(await rejectionOf(t.send(0, MessageKind.Open, 0, bytes(1)))).toBeInstanceOf(RangeError);
    expect(await rejectionOf(t.recv(0, MessageKind.Open, 0))).toBeInstanceOf(RangeError);
    expect(() => fed.mesh.p1.jobTransport('self', PARTIES)).toThrow(/already running/);
    t.dispose();
    expect(() => fed.mesh.p1.jobTransport('self', PARTIES)).toThrow(/used before/);
    expect(() => fed.mesh.p1.jobTransport('x', ['p1', 'p9'])).toThrow(/not a party/);
    expect(() => fed.mesh.p1.jobTransport('y', ['p2', 'p3'])).toThrow(/expected p1 among/);
  });

  it('carries control frames to the node layer', async () => {
    const fed = await federation();
    const got = new Promise<[string, Frame]>((resolve) => fed.mesh.p3.once('control', (peer, f) => resolve([peer, f])));
    await fed.mesh.p1.sendControl('p3', ControlKind.JobAbort, 'j9', { code: 'MPC_ERR_ABORTED', reason: 'test' });
    const [peer, f] = await got;
    expect(peer).toBe('p1');
    expect(f).toMatchObject({ job: 'j9', kind: ControlKind.JobAbort, from: 'p1', body: { reason: 'test' } });
    expect(await rejectionOf(fed.mesh.p1.sendControl('p3', ControlKind.Hello, '', {}))).toBeInstanceOf(RangeError);
  });

  it('rejects pending recvs of every job with PEER_LOST naming the party that went away', async () => {
    const fed = await federation();
    const a1 = fed.mesh.p1.jobTransport('a', PARTIES);
    const b2 = fed.mesh.p2.jobTransport('b', ['p2', 'p3']);
    const c1 = fed.mesh.p1.jobTransport('c', ['p1', 'p2']); // p3 is not in this job
    const lost = [rejectionOf(a1.recv(2, MessageKind.Open, 0)), rejectionOf(b2.recv(1, MessageKind.Open, 0))];
    const t0 = Date.now();
    await fed.mesh.p3.close();
    for (const err of await Promise.all(lost)) {
      expect(err.code).toBe(ErrorCode.PEER_LOST);
      expect(err.party).toBe('p3');
      expect(err.message).toMatch(/party p3 lost during job/);
    }
    expect(Date.now() - t0).toBeLessThan(2000);
    // Future recvs fail too; the job without p3 goes on.
    expect((await rejectionOf(a1.recv(1, MessageKind.Open, 0))).code).toBe(ErrorCode.PEER_LOST);
    expect(c1.aborted).toBeUndefined();
    const c2 = fed.mesh.p2.jobTransport('c', ['p1', 'p2']);
    await c2.send(0, MessageKind.Open, 0, bytes(7));
    expect(await c1.recv(1, MessageKind.Open, 0)).toEqual(Buffer.from([7]));
    // A new job that includes p3 starts out failed.
    expect((await rejectionOf(fed.mesh.p1.jobTransport('d', PARTIES).recv(2, MessageKind.Open, 0))).code).toBe(ErrorCode.PEER_LOST);
  });

  it('reconnects when a party comes back', async () => {
    const fed = await federation({ retry: { baseMs: 20, maxMs: 100 } });
    fed.server.p3.removeAllListeners('party'); // the test's own bookkeeping listener
    const lost = new Promise((resolve) => fed.mesh.p1.once('peer-lost', resolve));
    await fed.mesh.p3.close();
    expect(await lost).toBe('p3');
    const again = new PeerMesh({ tls: setup.pki.m.p3, parties: fed.endpoints, server: fed.server.p3 });
    cleanups.push(() => again.close());
    await Promise.all([again.ready(3000), fed.mesh.p1.ready(3000), fed.mesh.p2.ready(3000)]);
    const t1 = fed.mesh.p1.jobTransport('after', PARTIES);
    const t3 = again.jobTransport('after', PARTIES);
    await t3.send(0, MessageKind.Output, 0, bytes(3));
    expect(await t1.recv(2, MessageKind.Output, 0)).toEqual(Buffer.from([3]));
  });

  it('times out ready() naming the parties that are missing', async () => {
    const { log } = collectLog();
    const server = new NodeServer({ tls: setup.pki.m.p1, parties: PARTIES, log });
    await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    // Nothing listens on these ports (port 1 is privileged and unused).
    const endpoints = PARTIES.map((id) => ({ id, host: '127.0.0.1', port: 1 }));
    const mesh = new PeerMesh({ tls: setup.pki.m.p1, parties: endpoints, server, log, retry: { baseMs: 20, maxMs: 50 } });
    cleanups.push(() => mesh.close());
    const err = await rejectionOf(mesh.ready(300));
    expect(err.code).toBe(ErrorCode.PEER_LOST);
    expect(err.message).toMatch(/not connected to p2, p3 after 300 ms/);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('fails ready() at once when a peer has another party list', async () => {
    const ids = ['p1', 'p2'];
    const s2 = new NodeServer({ tls: setup.pki.m.p2, parties: PARTIES, log: collectLog().log }); // p2 thinks n = 3
    const { port } = await s2.listen(0, '127.0.0.1');
    cleanups.push(() => s2.close());
    const s1 = new NodeServer({ tls: setup.pki.m.p1, parties: ids });
    await s1.listen(0, '127.0.0.1');
    cleanups.push(() => s1.close());
    const m1 = new PeerMesh({ tls: setup.pki.m.p1, parties: [{ id: 'p1', host: '127.0.0.1', port: 1 }, { id: 'p2', host: '127.0.0.1', port }], server: s1 });
    cleanups.push(() => m1.close());
    const err = await rejectionOf(m1.ready(3000));
    expect(err.code).toBe(ErrorCode.PROTOCOL);
    expect(err.message).toMatch(/Hello mismatch with party p2@demo/);
  });

  it('notices a killed peer well within 10 s with the default heartbeat', () => {
    expect(DEFAULT_HEARTBEAT.timeoutMs + DEFAULT_HEARTBEAT.intervalMs).toBeLessThan(10_000);
  });
});
