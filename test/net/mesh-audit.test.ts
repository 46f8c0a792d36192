// The channel audit over real meshes (TLS on 127.0.0.1, parties in one process): every
// party writes its own audit log, and `compareAuditLogs` over each pair of logs must match.
// Read the first test first. Then a relay sits between p1 and p2 — it holds p2's certificate
// towards p1 and p1's towards p2, like the impostor of test/faults/peer-faults.test.ts — and
// drops one frame, or injects one; the channels cannot see it (the relay numbers each side's
// frames itself), the audit logs can.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { MUL_CHUNK } from '../../src/compiler/plan.ts';
import { ControlKind, decodeFrame, encodeFrame, PROTOCOL_VERSION, type Frame } from '../../src/net/frame.ts';
import { makeHello } from '../../src/net/hello.ts';
import { startLanes, type Lanes } from '../../src/net/lanes.ts';
import { PeerMesh, type PartyEndpoint } from '../../src/net/mesh.ts';
import { NodeServer } from '../../src/net/server.ts';
import { clientTlsOptions, peerIdentity, serverTlsOptions, type TlsMaterial } from '../../src/net/tls.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { AuditLog, createFrameAudit } from '../../src/security/audit.ts';
import { compareAuditLogs, verifyAuditLog, type CompareReport } from '../../src/security/audit-check.ts';
import { product, productInputs, runOnMesh } from './federation.ts';
import { FED, netTestSetup } from './helpers.ts';

const setup = netTestSetup();
const { cleanups } = setup;
const root = mkdtempSync(join(tmpdir(), 'tessera-mesh-audit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;

interface AuditedFed {
  ids: string[];
  mesh: Record<string, PeerMesh>;
  lanes: Record<string, Lanes | undefined>;
  logs: Record<string, { log: AuditLog; file: string }>;
  /** Close the meshes, then the logs (that order: a mesh still running may write), and verify them. */
  finish(): Promise<Record<string, { file: string; entries: ReturnType<typeof entriesOf> }>>;
}

function entriesOf(file: string) {
  const v = verifyAuditLog(readFileSync(file, 'utf8'), file);
  if (!v.ok) throw new Error(`${file}: line ${v.line}: ${v.reason}`);
  return v.entries;
}

/**
 * Servers, audit logs and meshes for `ids`, with optional lanes. `dialVia`, given where the
 * parties listen, returns the ports p1 is to dial instead for some of them (a relay's).
 */
async function federation(ids: string[], opts: { lanes?: number; dialVia?: (endpoints: PartyEndpoint[]) => Promise<Record<string, number>> } = {}): Promise<AuditedFed> {
  const dir = join(root, `run-${runs++}`);
  const fed: AuditedFed = { ids, mesh: {}, lanes: {}, logs: {}, finish: async () => ({}) };
  const servers: Record<string, NodeServer> = {};
  const endpoints: PartyEndpoint[] = [];
  for (const id of ids) {
    const tls = setup.pki.m[id];
    servers[id] = new NodeServer({ tls, parties: ids });
    const { port } = await servers[id].listen(0, '127.0.0.1');
    endpoints.push({ id, host: '127.0.0.1', port });
    cleanups.push(() => servers[id].close());
    if (opts.lanes) {
      const lanes = await startLanes({ count: opts.lanes, tls, parties: ids, host: '127.0.0.1' });
      fed.lanes[id] = lanes;
      cleanups.push(() => lanes.close());
    }
    const file = join(dir, id, 'audit.log');
    fed.logs[id] = { log: await AuditLog.open(file, { party: id }), file };
    cleanups.push(() => fed.logs[id].log.close().catch(() => {}));
  }
  const via = (await opts.dialVia?.(endpoints)) ?? {};
  for (const id of ids) {
    const parties = endpoints.map((e) => (id === 'p1' && via[e.id] !== undefined ? { ...e, port: via[e.id] } : e));
    fed.mesh[id] = new PeerMesh({ tls: setup.pki.m[id], parties, server: servers[id], lanes: fed.lanes[id], audit: createFrameAudit(fed.logs[id].log) });
    cleanups.push(() => fed.mesh[id].close());
  }
  await Promise.all(ids.map((id) => fed.mesh[id].ready(5000)));
  if (opts.lanes) {
    const t0 = Date.now();
    while (!ids.every((a) => ids.every((b) => a === b || fed.lanes[a]!.upTo(b) === opts.lanes))) {
      if (Date.now() - t0 > 10_000) throw new Error('lanes did not come up within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  fed.finish = async () => {
    for (const id of ids) await fed.mesh[id].close();
    const out: Record<string, { file: string; entries: ReturnType<typeof entriesOf> }> = {};
    for (const id of ids) {
      await fed.logs[id].log.close();
      out[id] = { file: fed.logs[id].file, entries: entriesOf(fed.logs[id].file) };
    }
    return out;
  };
  return fed;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Every party sends one Open per round to every other party of `job`, and receives theirs. */
async function exchange(fed: AuditedFed, job: string, rounds: number): Promise<void> {
  await Promise.all(
    fed.ids.map(async (me) => {
      const t = fed.mesh[me].jobTransport(job, fed.ids);
      for (let round = 0; round < rounds; round++) {
        const sends: Promise<void>[] = [];
        for (let to = 0; to < t.n; to++) if (to !== t.self) sends.push(t.send(to, MessageKind.Open, round, text(`${me}->${fed.ids[to]}:${round}`)));
        for (let from = 0; from < t.n; from++) if (from !== t.self) await t.recv(from, MessageKind.Open, round);
        await Promise.all(sends);
      }
      t.dispose();
    }),
  );
}

const findings = (r: CompareReport) => r.findings.map((f) => `${f.finding} ${f.from}→${f.to} ${f.kind}@${f.round}`);

describe('channel audit', () => {
  it("records every job frame on both ends: three parties' logs match pairwise", async () => {
    const fed = await federation(['p1', 'p2', 'p3']);
    await exchange(fed, 'j1', 4);
    const accepted = new Promise((resolve) => fed.mesh.p1.once('control', resolve));
    await fed.mesh.p2.sendControl('p1', ControlKind.JobAccept, 'j1', { planHash: 'ab' });
    await accepted; // closing the meshes earlier would leave it undelivered (and audited so)
    const logs = await fed.finish();
    expect(compareAuditLogs(logs.p1, logs.p2)).toMatchObject({ ok: true, parties: ['p1', 'p2'], matched: [4, 5], findings: [] });
    expect(compareAuditLogs(logs.p2, logs.p3)).toMatchObject({ ok: true, matched: [4, 4], findings: [] });
    expect(compareAuditLogs(logs.p3, logs.p1)).toMatchObject({ ok: true, matched: [4, 4], findings: [] });
    const sent = logs.p1.entries.filter((e) => e.event === 'frame-sent' && e.peer === 'p3');
    expect(sent.map((e) => e.round)).toEqual([0, 1, 2, 3]);
    expect(sent[0]).toMatchObject({ job: 'j1', kind: 'Open', layer: 0, chunk: 0, bytes: 'p1->p3:0'.length, path: 'main', n: 0 });
    expect(logs.p1.entries.some((e) => e.event === 'link-up' && e.peer === 'p2')).toBe(true);
    // Metadata only: no payload text anywhere in the logs.
    for (const id of fed.ids) expect(readFileSync(logs[id].file, 'utf8')).not.toMatch(/p\d->p\d:/);
  });

  it('records frames on lanes with their lane, and the logs still match', async () => {
    const fed = await federation(['p1', 'p2'], { lanes: 2 });
    const width = 2 * MUL_CHUNK + 3; // chunks on lanes 0 and 1, and a small one on the main channel
    const { plan } = product(['p1', 'p2'], width);
    const { data, expected } = productInputs(['p1', 'p2'], width);
    const r = await runOnMesh(setup, { ids: fed.ids, mesh: fed.mesh, lanes: fed.lanes, logs: {} }, plan, data, 'semi-honest');
    expect(r.analyst.z.every((v, i) => v === expected[i])).toBe(true);
    const logs = await fed.finish();
    const report = compareAuditLogs(logs.p1, logs.p2);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    const paths = new Set(logs.p1.entries.filter((e) => e.event === 'frame-sent').map((e) => e.path));
    expect([...paths].sort()).toEqual(['lane0', 'lane1', 'main']);
  });
});

type Tamper = (dir: 'to-p2' | 'to-p1', f: Frame) => Frame[];

/**
 * Stands where p1 expects p2: accepts p1 with p2's certificate, dials the real p2 with p1's,
 * and relays every frame through `tamper` (which returns the frames to pass on: none drops,
 * two injects). Each side's frames get the relay's own sequence numbers, so neither channel
 * sees a gap.
 */
class Relay {
  readonly #https: Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #all = new Set<WebSocket>();

  constructor(
    readonly ids: string[],
    readonly asP2: TlsMaterial,
    readonly asP1: TlsMaterial,
    readonly p2Port: number,
    readonly tamper: Tamper,
  ) {
    this.#https = createServer(serverTlsOptions(asP2));
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      if (peerIdentity(socket as TLSSocket).id !== 'p1') return void socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onP1(ws));
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.#https.listen(0, '127.0.0.1', () => resolve((this.#https.address() as { port: number }).port)));
  }

  async close(): Promise<void> {
    for (const ws of this.#all) ws.terminate();
    this.#wss.close();
    this.#https.closeAllConnections();
    await new Promise<void>((resolve) => this.#https.close(() => resolve()));
  }

  #hello(id: string): Uint8Array {
    return encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: id, seq: 0, body: makeHello({ federation: FED, role: 'party', id }, this.ids) });
  }

  #onP1(down: WebSocket): void {
    const up = new WebSocket(`wss://127.0.0.1:${this.p2Port}/`, { ...clientTlsOptions(this.asP1, { federation: FED, role: 'party', id: 'p2' }), perMessageDeflate: false });
    for (const ws of [down, up]) {
      this.#all.add(ws);
      ws.on('error', () => {});
    }
    let downSeq = 1;
    let upSeq = 1;
    const pending: Frame[] = [];
    const toUp = (f: Frame) => {
      if (up.readyState !== up.OPEN) return void pending.push(f);
      for (const g of this.tamper('to-p2', f)) up.send(encodeFrame({ ...g, seq: upSeq++ }));
    };
    down.send(this.#hello('p2'));
    down.on('message', (d) => {
      const f = decodeFrame(d as Buffer);
      if (f.kind !== ControlKind.Hello) toUp(f);
    });
    up.on('open', () => {
      up.send(this.#hello('p1'));
      for (const f of pending.splice(0)) toUp(f);
    });
    up.on('message', (d) => {
      const f = decodeFrame(d as Buffer);
      if (f.kind === ControlKind.Hello || down.readyState !== down.OPEN) return;
      for (const g of this.tamper('to-p1', f)) down.send(encodeFrame({ ...g, seq: downSeq++ }));
    });
    down.on('close', () => up.close());
    up.on('close', () => down.close());
  }
}

/** A p1–p2 federation in which p1 reaches p2 through a {@link Relay} running `tamper`. */
function relayed(tamper: Tamper): Promise<AuditedFed> {
  return federation(['p1', 'p2'], {
    dialVia: async (endpoints) => {
      const relay = new Relay(['p1', 'p2'], setup.pki.m.p2, setup.pki.m.p1, endpoints.find((e) => e.id === 'p2')!.port, tamper);
      cleanups.push(() => relay.close());
      return { p2: await relay.listen() };
    },
  });
}

describe('a relaying peer', () => {
  it('that drops a frame: compare reports it dropped', async () => {
    let dropped = false;
    const fed = await relayed((dir, f) => {
      if (dir === 'to-p2' && f.job === 'j1' && f.kind === MessageKind.Open && f.round === 1 && !dropped) {
        dropped = true;
        return [];
      }
      return [f];
    });
    const t1 = fed.mesh.p1.jobTransport('j1', fed.ids);
    const t2 = fed.mesh.p2.jobTransport('j1', fed.ids);
    for (let round = 0; round < 4; round++) await t1.send(1, MessageKind.Open, round, text(`r${round}`));
    for (const round of [0, 2, 3]) await t2.recv(0, MessageKind.Open, round); // round 1 never comes
    expect(dropped).toBe(true);
    t1.dispose();
    t2.dispose();
    const logs = await fed.finish();
    const report = compareAuditLogs(logs.p1, logs.p2);
    expect(report.ok).toBe(false);
    expect(findings(report)).toEqual(['dropped p1→p2 Open@1']);
    expect(report.findings[0].reason).toMatch(/p2 never recorded it, though a later frame on main arrived/);
    expect(report.matched).toEqual([3, 0]);
  });

  it('that injects a frame: compare reports it injected', async () => {
    let injected = false;
    const fed = await relayed((dir, f) => {
      if (dir === 'to-p1' && f.job === 'j1' && f.kind === MessageKind.Open && f.round === 0 && !injected) {
        injected = true;
        // p2's real frame, then one p2 never sent: an opening for a round to come.
        return [f, { ...f, round: 1, payload: new Uint8Array([6, 6, 6]) }];
      }
      return [f];
    });
    const t1 = fed.mesh.p1.jobTransport('j1', fed.ids);
    const t2 = fed.mesh.p2.jobTransport('j1', fed.ids);
    await t2.send(0, MessageKind.Open, 0, text('real'));
    expect(new TextDecoder().decode(await t1.recv(1, MessageKind.Open, 0))).toBe('real');
    expect([...(await t1.recv(1, MessageKind.Open, 1))]).toEqual([6, 6, 6]); // the job itself cannot tell
    expect(injected).toBe(true);
    t1.dispose();
    t2.dispose();
    const logs = await fed.finish();
    const report = compareAuditLogs(logs.p1, logs.p2);
    expect(report.ok).toBe(false);
    expect(findings(report)).toEqual(['injected p2→p1 Open@1']);
    expect(report.findings[0].reason).toMatch(/p1 recorded it from p2 on main; p2 never recorded sending it/);
    expect(report.findings[0].received).toMatchObject({ file: logs.p1.file, bytes: 3 });
  });
});
