// A party that breaks the rules, seen by whole nodes. p1, p2 and p3 are the real node code
// (startNode) in this process, with the real dealer; the analyst is the real client
// (runJob). Between p1 and p3 sits an impostor: p1's config sends it to the impostor's
// port for p3, where it meets p3's own certificate, and the impostor relays everything to
// the real p3 (as p1, with p1's certificate) and back. For each fault the impostor is armed
// to tamper with p3's first opening (MessageKind.Open) to p1 of the next job: garbage
// bytes, an unknown kind, 8 bytes short, a frame that claims to come from p2, a frame over
// the 64 MiB limit, two kinds of replay, garbage instead of p3's JobAccept, and (malicious
// security) one flipped bit. Then, in both security modes:
//   - runJob rejects with an error that names the fault and p3, and returns no output;
//   - p1, which caught the fault, logs `job-aborted` and never `job-done` (so it sent no
//     output share: those go out just before JobDone); p2 and p3 log `job-aborted` too;
//   - a second, honest job over the same nodes gives the right answer (the nodes keep
//     serving, and p1 reconnects to "p3" by itself).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuit } from '../../src/circuit/index.ts';
import type { LoadedCircuit } from '../../src/compiler/load.ts';
import { runJob, type ClusterTarget } from '../../src/coordinator/client.ts';
import { ErrorCode, MpcError } from '../../src/errors.ts';
import { ControlKind, decodeFrame, DEFAULT_FRAME_LIMITS, encodeFrame, PROTOCOL_VERSION, type Frame } from '../../src/net/frame.ts';
import { makeHello } from '../../src/net/hello.ts';
import { clientTlsOptions, peerIdentity, serverTlsOptions, type TlsMaterial } from '../../src/net/tls.ts';
import { startNode, type RunningNode } from '../../src/node/node.ts';
import { startDealer, type RunningDealer } from '../../src/preprocessing/dealer-server.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { loadClusterConfig, loadDealerConfig, loadNodeConfig, loadTlsMaterial } from '../../src/security/config.ts';
import { initFederation } from '../../src/security/init.ts';
import { Prg } from '../../src/ring/prg.ts';
import { freePortRange, memoryLogger, waitFor, within, type LogEntry } from './helpers.ts';

const FED = 'faults';
const IDS = ['p1', 'p2', 'p3'];
const LEN = 500;
type Security = 'semi-honest' | 'malicious';
const optsFor = (security: Security) => ({ security, preprocessing: 'dealer' as const, connectRetry: { attempts: 40, baseMs: 50, maxMs: 500 } });
/** Bytes of one party's opening of a layer of LEN multiplications: [d | e], 8 or 16 bytes per element. */
const openingBytes = (security: Security) => (security === 'malicious' ? 32 : 16) * LEN;

// Two multiplication layers, so p1 cannot finish a job before the frame that follows p3's
// first opening (a replay, say) has arrived: it still needs p3's second-layer opening.
const threeWay: LoadedCircuit = {
  file: 'test/faults/peer-faults.test.ts',
  definition: circuit({ name: 'three-way', parties: IDS }, (c) => {
    const x = c.vector('p1', 'x');
    const y = c.vector('p2', 'y');
    const z = c.vector('p3', 'z');
    c.reveal('r', x.mul(y).mul(z).sum());
  }),
};

function randomVector(prg: Prg): string[] {
  return Array.from({ length: LEN }, () => (BigInt.asIntN(64, prg.nextBigint64()) % 1_000_000n).toString());
}
const prg = new Prg(new Uint8Array(32).fill(7), 'peer-faults');
const data = { p1: { x: randomVector(prg) }, p2: { y: randomVector(prg) }, p3: { z: randomVector(prg) } };
const want = (() => {
  let acc = 0n;
  for (let i = 0; i < LEN; i++) acc += BigInt(data.p1.x[i]) * BigInt(data.p2.y[i]) * BigInt(data.p3.z[i]);
  const r = BigInt.asIntN(64, acc);
  return r >= -(2n ** 53n) && r <= 2n ** 53n ? Number(r) : r.toString();
})();

type Fault = 'not-msgpack' | 'unknown-kind' | 'short-open' | 'wrong-sender' | 'oversize' | 'replay' | 'seq-replay' | 'bit-flip';

/** msgpack exactly as frame.ts packs it, but without encodeFrame's checks (to forge an unknown kind). */
const rawPackr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });

/**
 * Stands where p1 expects p3: accepts p1 with p3's certificate, and relays frames both ways
 * to the real p3, which it dials with p1's certificate. Sequence numbers are its own on each
 * side. It keeps the upstream connection when p1 drops, so the real p3 never notices p1
 * reconnecting; that keeps every abort in these tests attributable to the fault alone.
 */
class Impostor {
  readonly #https: Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  #down: WebSocket | undefined;
  #downSeq = 0;
  #up: WebSocket | undefined;
  #upSeq = 0;
  #upOpen = false;
  #pending: Frame[] = [];
  #armed: { fault: Fault; kind: number; before: Set<string>; resolve: (job: string) => void } | undefined;
  /** Every job id relayed so far, either way. */
  readonly #jobs = new Set<string>();
  /** Close codes of p1's connections to us, in order. */
  readonly downCloses: number[] = [];
  readonly #all = new Set<WebSocket>();

  constructor(
    readonly asP3: TlsMaterial,
    readonly asP1: TlsMaterial,
    readonly realP3Port: number,
  ) {
    this.#https = createServer(serverTlsOptions(asP3));
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      const peer = peerIdentity(socket as TLSSocket);
      if (peer.role !== 'party' || peer.id !== 'p1') return void socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onDown(ws));
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#https.once('error', reject);
      this.#https.listen(port, '127.0.0.1', () => resolve());
    });
  }

  /**
   * Tamper with p3's next frame of `kind` (an opening by default) to p1 in a job that starts
   * after this call (never a straggler of an earlier job); resolves with its job id once done.
   */
  arm(fault: Fault, kind: number = MessageKind.Open): Promise<string> {
    return new Promise((resolve) => (this.#armed = { fault, kind, before: new Set(this.#jobs), resolve }));
  }

  async close(): Promise<void> {
    for (const ws of this.#all) ws.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#https.close(() => resolve());
      this.#https.closeAllConnections();
    });
  }

  #hello(id: string, seq: number): Uint8Array {
    return encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: id, seq, body: makeHello({ federation: FED, role: 'party', id }, IDS) });
  }

  #onDown(ws: WebSocket): void {
    this.#all.add(ws);
    this.#down = ws;
    this.#downSeq = 0;
    ws.send(this.#hello('p3', this.#downSeq++));
    ws.on('message', (d) => {
      const f = decodeFrame(d as Buffer);
      if (f.kind === ControlKind.Hello) return; // ours upstream was sent once, as p1
      this.#toUp(f);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      this.downCloses.push(code);
      if (this.#down === ws) this.#down = undefined;
    });
    this.#ensureUp();
  }

  #ensureUp(): void {
    if (this.#up) return;
    const up = new WebSocket(`wss://127.0.0.1:${this.realP3Port}/`, {
      ...clientTlsOptions(this.asP1, { federation: FED, role: 'party', id: 'p3' }),
      perMessageDeflate: false,
      maxPayload: 256 * 1024 * 1024,
    });
    this.#all.add(up);
    this.#up = up;
    up.on('open', () => {
      up.send(this.#hello('p1', this.#upSeq++));
      this.#upOpen = true;
      for (const f of this.#pending.splice(0)) this.#toUp(f);
    });
    up.on('message', (d) => {
      const f = decodeFrame(d as Buffer, { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: 256 * 1024 * 1024 });
      if (f.kind !== ControlKind.Hello) this.#toDown(f);
    });
    up.on('error', () => {});
    up.on('close', () => {
      // The real p3 went away (only at the end of the file): let p1 see it too.
      if (this.#up === up) {
        this.#up = undefined;
        this.#upOpen = false;
      }
      this.#down?.close(1001, 'upstream closed');
    });
  }

  #toUp(f: Frame): void {
    if (f.job) this.#jobs.add(f.job);
    if (!this.#upOpen) return void this.#pending.push(f);
    this.#up!.send(encodeFrame({ ...f, seq: this.#upSeq++ }));
  }

  #toDown(f: Frame): void {
    const ws = this.#down;
    if (!ws || ws.readyState !== ws.OPEN) return; // lost with p1's connection, as on a real network
    // With lanes (nodes with kernel threads), p3's offer would send p1 to p3's lanes directly,
    // around the impostor. Withheld, p1 and p3 keep every job message on the relayed channel
    // (lanes are optional: the main channel carries whatever has no lane).
    if (f.kind === ControlKind.LaneOffer) return;
    if (f.job) this.#jobs.add(f.job);
    const armed = this.#armed;
    if (!armed || f.kind !== armed.kind || armed.before.has(f.job)) return void ws.send(encodeFrame({ ...f, seq: this.#downSeq++ }));
    this.#armed = undefined;
    const next = (g: Partial<Frame> = {}) => encodeFrame({ ...f, ...g, seq: this.#downSeq++ });
    switch (armed.fault) {
      case 'not-msgpack':
        ws.send(Buffer.from([0xc1, 0xc1, 0xc1, 0xc1])); // 0xc1: the one byte msgpack never uses
        break;
      case 'unknown-kind':
        ws.send(rawPackr.pack({ v: PROTOCOL_VERSION, job: f.job, round: f.round, kind: 99, from: 'p3', seq: this.#downSeq++, payload: f.payload }));
        break;
      case 'short-open':
        ws.send(next({ payload: f.payload!.subarray(0, f.payload!.length - 8) }));
        break;
      case 'wrong-sender':
        ws.send(next({ from: 'p2' }));
        break;
      case 'oversize':
        ws.send(next({ payload: new Uint8Array(DEFAULT_FRAME_LIMITS.maxFrameBytes + 1) }));
        break;
      case 'replay': // the same (kind, round) twice, each with a fresh channel sequence number
        ws.send(next());
        ws.send(next());
        break;
      case 'seq-replay': {
        // the very same bytes twice: a replay at the channel level
        const bytes = next();
        ws.send(bytes);
        ws.send(bytes);
        break;
      }
      case 'bit-flip': {
        // well-formed, right length, one bit of p3's share of d changed: only MACs can tell
        const payload = new Uint8Array(f.payload!);
        payload[0] ^= 1;
        ws.send(next({ payload }));
        break;
      }
    }
    armed.resolve(f.job);
  }
}

let dir: string;
let target: ClusterTarget;
const logs: Record<string, LogEntry[]> = {};
const nodes: RunningNode[] = [];
let dealer: RunningDealer | undefined;
let impostor: Impostor | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  const base = await freePortRange(IDS.length + 2); // dealer, p1..p3, impostor
  const impostorPort = base + IDS.length + 1;
  // Nodes that accept semi-honest jobs accept malicious ones too: one federation for both modes.
  await initFederation(dir, { parties: IDS, federation: FED, analyst: 'alice', basePort: base, host: '127.0.0.1', data, security: 'semi-honest' });
  // p1 reaches "p3" through the impostor; p2 and the analyst reach the real p3.
  const p1File = join(dir, 'p1.node.json');
  const p1Cfg = JSON.parse(readFileSync(p1File, 'utf8')) as { parties: { id: string; port: number }[] };
  p1Cfg.parties.find((p) => p.id === 'p3')!.port = impostorPort;
  writeFileSync(p1File, JSON.stringify(p1Cfg));

  const d = memoryLogger({ role: 'dealer', id: 'dealer' });
  logs.dealer = d.lines;
  dealer = await startDealer(loadDealerConfig(join(dir, 'dealer.json')), d.log);
  for (const id of IDS) {
    const l = memoryLogger({ role: 'party', id });
    logs[id] = l.lines;
    nodes.push(await startNode(loadNodeConfig(join(dir, `${id}.node.json`)), l.log));
  }
  const tlsOf = (id: string) => loadTlsMaterial(loadNodeConfig(join(dir, `${id}.node.json`)).tls);
  impostor = new Impostor(tlsOf('p3'), tlsOf('p1'), base + 3);
  await impostor.listen(impostorPort);
  const cluster = loadClusterConfig(join(dir, 'cluster.json'));
  target = { federation: cluster.federation, tls: loadTlsMaterial(cluster.tls), parties: cluster.parties };
}, 30_000);

afterAll(async () => {
  for (const n of nodes) await n.close();
  await dealer?.close();
  await impostor?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const eventsOf = (id: string, job: string, event: string) => logs[id].filter((l) => l.job === job && l.event === event);

async function expectRejection(p: Promise<unknown>): Promise<MpcError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    return e as MpcError;
  }
  throw new Error('expected the job to fail, it delivered outputs');
}

describe.each(['malicious', 'semi-honest'] as const)('%s: a party that breaks the rules mid-job (real nodes and dealer, an impostor between p1 and p3)', (security) => {
  it('an honest job runs through the impostor', async () => {
    const r = await runJob(target, threeWay, optsFor(security));
    expect(r.outputs).toEqual({ r: want });
  });

  // `code` is the error code of the violation. Where p1's channel layer catches it
  // (`channel`), p1 closes the connection, and today the mesh reports the loss of that
  // channel to the job as PEER_LOST, with the violation as its message and cause; so those
  // cases accept either code, and pin the message. Protocol-level cases pin the code.
  const cases: Case[] = [
    { fault: 'not-msgpack', code: ErrorCode.FRAME, channel: true, message: /from p3: not a msgpack frame/ },
    { fault: 'unknown-kind', code: ErrorCode.FRAME, channel: true, message: /from p3: bad frame: unknown frame kind number 99/ },
    {
      fault: 'short-open',
      code: ErrorCode.PROTOCOL,
      message: new RegExp(`party p3 sent ${openingBytes(security) - 8} bytes for the openings of layer \\d+, expected ${openingBytes(security)}`),
    },
    { fault: 'wrong-sender', code: ErrorCode.PROTOCOL, channel: true, message: /frame claims sender p2 but channel is authenticated as p3/ },
    { fault: 'oversize', code: ErrorCode.FRAME, channel: true, message: /frame from p3 exceeds maxPayload/, closes: 1009 },
    { fault: 'replay', code: ErrorCode.PROTOCOL, message: /replayed message from p3 in job \w+ \(kind 2, round \d+\)/ },
    { fault: 'seq-replay', code: ErrorCode.FRAME, channel: true, message: /frame from p3 out of sequence: expected seq \d+, got \d+ \(replay\)/ },
    // Before any computation: p3's JobAccept to p1 arrives as garbage. p1 loses its channel
    // to p3 while waiting for every peer's JobAccept, and must not wait out the accept
    // timeout (30 s) for an accept that will never come.
    { fault: 'not-msgpack', kind: ControlKind.JobAccept, code: ErrorCode.FRAME, channel: true, message: /from p3: not a msgpack frame/ },
  ];
  for (const c of cases) {
    const name = `${c.fault}${c.kind === ControlKind.JobAccept ? " instead of p3's JobAccept" : " in p3's opening"}`;
    it(`${name}: the job aborts on every node within 10 s, naming p3; the nodes keep serving`, () => runCase(c, security));
  }

  // What malicious security is for: a well-formed opening with a wrong value. The MAC check
  // catches it before any output is opened, on every node; it cannot tell who cheated.
  // (Semi-honest security would compute a wrong result here without noticing: see README.)
  if (security === 'malicious') {
    it('one flipped bit in p3\'s opening: MAC check fails on every node, no output anywhere; the nodes keep serving', () =>
      runCase({ fault: 'bit-flip', code: ErrorCode.MAC_CHECK, message: /MAC check failed: a party deviated/, blame: null }, security));
  }
});

/** Run one case; on failure, print the node logs of the case to show where it went wrong. */
async function runCase(c: Case, security: Security): Promise<void> {
  const mark = Object.fromEntries(IDS.map((id) => [id, logs[id].length]));
  try {
    await within(faultCase(c, security), 20_000, 'the case');
  } catch (e) {
    for (const id of IDS) console.log(`${id}:\n  ${logs[id].slice(mark[id]).map((l) => `${String(l.event)}: ${String(l.msg)}`).join('\n  ')}`);
    throw e;
  }
}

interface Case {
  fault: Fault;
  /** The frame kind of p3's to tamper with; default MessageKind.Open. */
  kind?: number;
  code: string;
  channel?: boolean;
  message: RegExp;
  /** A close code p1 must have closed the impostor's connection with. */
  closes?: number;
  /** The party blamed: p3 by default; null where no party can be named (a failed MAC check). */
  blame?: null;
}

const p3Ups = () => logs.p1.filter((l) => l.event === 'peer-up' && l.peer === 'p3').length;
/** Whether p1's channel to p3 is up, from its log. */
const p1SeesP3 = () => logs.p1.filter((l) => (l.event === 'peer-up' || l.event === 'peer-lost') && l.peer === 'p3').at(-1)?.event === 'peer-up';

async function faultCase(c: Case, security: Security): Promise<void> {
  const RUN = optsFor(security);
  const blamed = c.blame === null ? undefined : 'p3';
  const closesBefore = impostor!.downCloses.length;
  const upsBefore = p3Ups();
  await waitFor(p1SeesP3, 5000, 'p1 to be connected to p3 before the job');
  const tampered = impostor!.arm(c.fault, c.kind);
  const t0 = Date.now();
  const err = await expectRejection(runJob(target, threeWay, RUN));
  const job = await within(tampered, 3000, `the impostor to tamper with the job (it failed with: ${err.message})`);
  expect(Date.now() - t0).toBeLessThan(10_000);
  // The analyst's error names the party and the fault.
  expect(err.party).toBe(blamed);
  expect(err.message).toMatch(c.message);
  expect(err.code).toBe(c.code);
  // p1, which caught the fault, aborted the job with the same words and never finished it:
  // it sent no output share (output shares go out just before JobDone and `job-done`), so
  // no recipient can reconstruct any output of this job.
  const [atP1] = await waitFor(() => eventsOf('p1', job, 'job-aborted').length > 0 && eventsOf('p1', job, 'job-aborted'), 5000, `p1 to abort ${job}`);
  expect({ party: atP1.party, late: atP1.late }).toEqual({ party: blamed, late: undefined });
  expect(String(atP1.reason)).toMatch(c.message);
  expect(eventsOf('p1', job, 'job-done')).toEqual([]);
  // Every other node logs the abort too, blaming p3 — also one that had already done its
  // part (e.g. after a replay of p3's last opening to p1, p2 may have all it needs).
  for (const id of ['p2', 'p3']) {
    const [aborted] = await waitFor(() => eventsOf(id, job, 'job-aborted').length > 0 && eventsOf(id, job, 'job-aborted'), 5000, `${id} to abort ${job}`);
    expect(aborted.party, `${id}: ${String(aborted.msg)}`).toBe(blamed);
    expect(String(aborted.reason)).toMatch(c.message);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // Under malicious security nothing is opened before the MAC check and the output
    // protocol need every party, so no node can finish an aborted job. Semi-honest nodes
    // may finish their part first; then they log the abort when they hear of it.
    if (security === 'malicious') expect(eventsOf(id, job, 'job-done'), id).toEqual([]);
    else if (eventsOf(id, job, 'job-done').length > 0) expect(aborted.late, `${id} finished ${job}, then heard of the abort`).toBe(true);
  }
  if (c.closes) await waitFor(() => impostor!.downCloses.slice(closesBefore).includes(c.closes!), 5000, `p1 to close the connection with ${c.closes}`);
  // Where p1 closed its channel to p3, it dials again by itself (the lower index dials).
  // Wait for that: until then p1's mesh refuses new jobs at once with the violation that
  // ended the old channel (mesh.ready treats it as a peer failure, not as a transient loss).
  if (c.channel) await waitFor(() => p3Ups() > upsBefore, 5000, 'p1 to reconnect to p3');
  // The nodes keep serving: the next job, with p3 behaving, gives the right answer.
  const r = await runJob(target, threeWay, RUN);
  expect(r.outputs).toEqual({ r: want });
}
