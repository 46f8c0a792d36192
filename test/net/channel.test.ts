// Channel rules against a misbehaving peer. The peer is a raw `ws` client holding a valid
// analyst certificate: it passes TLS and Hello, then breaks the framing rules, and the node's
// channel must catch it and name it.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { ErrorCode } from '../../src/errors.ts';
import type { MpcError } from '../../src/errors.ts';
import type { Channel, ChannelClose } from '../../src/net/channel.ts';
import { CloseCode } from '../../src/net/channel.ts';
import { connect } from '../../src/net/client.ts';
import { ControlKind, decodeFrame, encodeFrame, PROTOCOL_VERSION } from '../../src/net/frame.ts';
import type { Frame } from '../../src/net/frame.ts';
import { makeHello } from '../../src/net/hello.ts';
import { NodeServer } from '../../src/net/server.ts';
import type { NodeServerOptions } from '../../src/net/server.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { closed, ident, party, PARTIES, rawClient, rejectionOf, netTestSetup } from './helpers.ts';
import type { Pki } from './helpers.ts';

const setup = netTestSetup();
const { cleanups } = setup;

interface ServerSide {
  url: string;
  channel: Promise<Channel>;
  frames: Frame[];
  errors: MpcError[];
  closes: Promise<ChannelClose>;
}

/** p1's server; the first client channel is collected with its frames, errors and close. */
async function serve(extra: Partial<NodeServerOptions> = {}): Promise<ServerSide> {
  const server = new NodeServer({ tls: setup.pki.m.p1, parties: PARTIES, heartbeat: false, ...extra });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  const frames: Frame[] = [];
  const errors: MpcError[] = [];
  let resolveClose!: (c: ChannelClose) => void;
  const closes = new Promise<ChannelClose>((r) => (resolveClose = r));
  const channel = new Promise<Channel>((resolve) => {
    server.once('client', (ch) => {
      ch.on('frame', (f) => frames.push(f));
      ch.on('error', (e) => errors.push(e));
      ch.on('close', resolveClose);
      ch.resume();
      resolve(ch);
    });
  });
  return { url: `wss://127.0.0.1:${port}/`, channel, frames, errors, closes };
}

/** A raw analyst client that has done Hello correctly; returns it and its next seq (1). */
async function helloed(url: string): Promise<WebSocket> {
  const ws = await rawClient(url, setup.pki.m.a1, party('p1'));
  cleanups.push(() => ws.terminate());
  const hello = new Promise<Frame>((resolve) => ws.once('message', (d) => resolve(decodeFrame(d as Buffer))));
  ws.send(encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: 'a1', seq: 0, body: makeHello(ident('analyst', 'a1'), []) }));
  expect((await hello).kind).toBe(ControlKind.Hello);
  return ws;
}

const ctl = (seq: number, from = 'a1'): Frame => ({ v: PROTOCOL_VERSION, job: 'j1', round: 0, kind: ControlKind.JobSubmit, from, seq, body: { n: seq } });

describe('Channel', () => {
  it('delivers frames in order and counts bytes', async () => {
    const s = await serve();
    const ws = await helloed(s.url);
    for (let seq = 1; seq <= 3; seq++) ws.send(encodeFrame(ctl(seq)));
    const ch = await s.channel;
    await expect.poll(() => s.frames.length).toBe(3);
    expect(s.frames.map((f) => f.body)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(ch.stats().messagesReceived).toBe(4); // Hello + 3
    expect(ch.stats().bytesReceived).toBeGreaterThan(0);
    expect(s.errors).toEqual([]);
  });

  it('refuses a frame claiming a wrong sender (PROTOCOL) and closes', async () => {
    const s = await serve();
    const ws = await helloed(s.url);
    const end = closed(ws);
    ws.send(encodeFrame(ctl(1, 'p2')));
    const [code, reason] = await end;
    expect(code).toBe(CloseCode.Violation);
    expect(reason).toMatch(/frame claims sender p2 but channel is authenticated as a1/);
    expect(s.errors.map((e) => [e.code, e.party])).toEqual([[ErrorCode.PROTOCOL, 'a1']]);
    expect((await s.closes).error?.message).toMatch(/claims sender p2/);
    expect(s.frames).toEqual([]);
  });

  it('refuses a replayed sequence number (FRAME)', async () => {
    const s = await serve();
    const ws = await helloed(s.url);
    const end = closed(ws);
    ws.send(encodeFrame(ctl(1)));
    ws.send(encodeFrame(ctl(1))); // the same frame again
    const [code, reason] = await end;
    expect(code).toBe(CloseCode.Violation);
    expect(reason).toMatch(/out of sequence: expected seq 2, got 1 \(replay\)/);
    expect(s.errors[0].code).toBe(ErrorCode.FRAME);
    expect(s.frames.length).toBe(1);
  });

  it('refuses a sequence gap and undecodable bytes (FRAME)', async () => {
    const s1 = await serve();
    const ws1 = await helloed(s1.url);
    ws1.send(encodeFrame(ctl(5)));
    expect((await closed(ws1))[1]).toMatch(/expected seq 1, got 5 \(gap\)/);
    const s2 = await serve();
    const ws2 = await helloed(s2.url);
    ws2.send(Buffer.from('not msgpack at all'));
    expect((await closed(ws2))[0]).toBe(CloseCode.Violation);
    expect(s2.errors[0].code).toBe(ErrorCode.FRAME);
  });

  it('closes the connection on an oversize frame (1009) and reports it on both sides, naming the peer', async () => {
    const s = await serve({ maxPayload: 64 * 1024 });
    const ch = await connect(s.url, { ...setup.pki.m.a1, expected: party('p1'), maxPayload: 1 << 20, heartbeat: false });
    cleanups.push(() => ch.close());
    const clientErrors: MpcError[] = [];
    ch.on('error', (e) => clientErrors.push(e));
    ch.resume();
    await ch.send({ job: 'j1', round: 0, kind: ControlKind.JobSubmit, body: { small: true } });
    await ch.send({ job: 'j1', round: 0, kind: ControlKind.OutputShare, payload: new Uint8Array(100 * 1024) }).catch(() => {});
    const info = await ch.whenClosed;
    expect(info.code).toBe(CloseCode.TooBig);
    expect(clientErrors.map((e) => [e.code, e.party])).toEqual([[ErrorCode.FRAME, 'p1']]);
    expect(clientErrors[0].message).toMatch(/p1 closed the channel with 1009/);
    const serverClose = await s.closes;
    expect(serverClose.code).toBe(CloseCode.TooBig);
    expect(s.errors.map((e) => [e.code, e.party])).toEqual([[ErrorCode.FRAME, 'a1']]);
    expect(s.errors[0].message).toMatch(/frame from a1 exceeds maxPayload/);
    expect(s.frames.length).toBe(1);
    // After the close, sends fail with PEER_LOST.
    expect((await rejectionOf(ch.send({ job: 'j1', round: 0, kind: ControlKind.JobDone }))).code).toBe(ErrorCode.PEER_LOST);
  });

  it('refuses to send a frame over its own limit without touching the connection', async () => {
    const s = await serve();
    const ch = await connect(s.url, { ...setup.pki.m.a1, expected: party('p1'), maxPayload: 1024, heartbeat: false });
    cleanups.push(() => ch.close());
    const err = await rejectionOf(ch.send({ job: 'j', round: 0, kind: MessageKind.Open, payload: new Uint8Array(2048) }));
    expect(err.code).toBe(ErrorCode.FRAME);
    await ch.send({ job: 'j', round: 0, kind: ControlKind.JobDone, body: {} });
    await expect.poll(() => s.frames.length).toBe(1);
    expect(s.frames[0].seq).toBe(1); // the refused frame did not use up a sequence number
  });

  it('applies backpressure and still delivers every frame in order', async () => {
    const s = await serve();
    const ch = await connect(s.url, { ...setup.pki.m.a1, expected: party('p1'), highWaterMark: 256 * 1024, heartbeat: false });
    cleanups.push(() => ch.close());
    const payload = new Uint8Array(1 << 20);
    let waited = 0;
    for (let i = 0; i < 24; i++) {
      payload[0] = i;
      let done = false;
      const p = ch.send({ job: 'bulk', round: i, kind: MessageKind.Open, payload }).then(() => (done = true));
      // Below the high-water mark, send resolves at once; above it, only after a drain.
      await Promise.resolve();
      await Promise.resolve();
      if (!done) waited++;
      await p;
    }
    await expect.poll(() => s.frames.length, { timeout: 5000 }).toBe(24);
    expect(s.frames.map((f) => f.round)).toEqual([...Array(24).keys()]);
    expect(s.frames.map((f) => f.payload![0])).toEqual([...Array(24).keys()]);
    expect(ch.stats().bytesSent).toBeGreaterThan(24 << 20);
    expect(waited).toBeGreaterThan(0);
  });

  it('detects a silent peer with the heartbeat', async () => {
    const s = await serve({ heartbeat: { intervalMs: 100, timeoutMs: 400 } });
    // A raw client that does Hello and then never answers pings (autoPong off) nor sends.
    const ws = await rawClient(s.url, setup.pki.m.a1, party('p1'), { autoPong: false });
    cleanups.push(() => ws.terminate());
    ws.send(encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: 'a1', seq: 0, body: makeHello(ident('analyst', 'a1'), []) }));
    const t0 = Date.now();
    const info = await s.closes;
    expect(info.code).toBe(CloseCode.Silent);
    expect(info.error?.code).toBe(ErrorCode.PEER_LOST);
    expect(info.error?.message).toMatch(/no traffic from a1/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("holds an analyst to the server's analyst heartbeat (a busy analyst is not dropped after the parties' timeout)", async () => {
    const s = await serve({ heartbeat: { intervalMs: 100, timeoutMs: 400 }, analystHeartbeat: { intervalMs: 100, timeoutMs: 1500 } });
    const ws = await rawClient(s.url, setup.pki.m.a1, party('p1'), { autoPong: false });
    cleanups.push(() => ws.terminate());
    ws.send(encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: 'a1', seq: 0, body: makeHello(ident('analyst', 'a1'), []) }));
    const ch = await s.channel;
    const t0 = Date.now();
    await sleep(800); // twice the parties' timeout
    expect(ch.closed).toBe(false);
    const info = await s.closes;
    expect(info.code).toBe(CloseCode.Silent);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  });

  it('does not mistake a stall of its own event loop for a silent peer', async () => {
    const s = await serve({ heartbeat: { intervalMs: 100, timeoutMs: 400 } });
    // The peer lives in another process, so it keeps pinging while this one is stuck.
    const hello = Buffer.from(encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: 'a1', seq: 0, body: makeHello(ident('analyst', 'a1'), []) }));
    const { ca, cert, key } = setup.pki.m.a1;
    const peer = `const { WebSocket } = require('ws'); const e = JSON.parse(process.env.PEER);
      const ws = new WebSocket(e.url, { ca: e.ca, cert: e.cert, key: e.key, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined, perMessageDeflate: false });
      ws.on('open', () => { ws.send(Buffer.from(e.hello, 'hex')); setInterval(() => ws.ping(), 50); });
      ws.on('error', () => process.exit(1)); ws.on('close', () => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', peer], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'ignore', env: { ...process.env, PEER: JSON.stringify({ url: s.url, ca, cert, key, hello: hello.toString('hex') }) } });
    cleanups.push(() => void child.kill());
    const ch = await s.channel;
    await sleep(300);
    // A synchronous task 2.5 times the heartbeat timeout long: the peer's pings pile up unread.
    for (const until = Date.now() + 1000; Date.now() < until; );
    await sleep(300);
    expect(ch.closed).toBe(false);
  });

  it('measures an application-level round trip', async () => {
    const s = await serve();
    const ch = await connect(s.url, { ...setup.pki.m.a1, expected: party('p1'), heartbeat: false });
    cleanups.push(() => ch.close());
    ch.resume();
    const rtt = await ch.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(1000);
    expect(s.frames).toEqual([]); // Ping/Pong are handled by the channel, not passed on
  });
});
