// Mutual TLS and Hello, end to end on 127.0.0.1 with real certificates. Read the first test
// first: an analyst connects to party p1's node and exchanges a control frame; every other
// test is a way of being refused.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import type { Channel } from '../../src/net/channel.ts';
import { CloseCode } from '../../src/net/channel.ts';
import { backoffDelay, connect, connectClient } from '../../src/net/client.ts';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ControlKind, encodeFrame, PROTOCOL_VERSION } from '../../src/net/frame.ts';
import type { Frame } from '../../src/net/frame.ts';
import { makeHello } from '../../src/net/hello.ts';
import { NodeServer } from '../../src/net/server.ts';
import type { NodeServerOptions } from '../../src/net/server.ts';
import { closed, collectLog, FED, ident, party, PARTIES, rawClient, rejectionOf, netTestSetup } from './helpers.ts';
import type { Pki } from './helpers.ts';

const setup = netTestSetup();
const { cleanups } = setup;

async function startServer(id = 'p1', extra: Partial<NodeServerOptions> = {}) {
  const { log, lines, waitFor } = collectLog();
  const server = new NodeServer({ tls: setup.pki.m[id], parties: PARTIES, log, heartbeat: false, ...extra });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, url: `wss://127.0.0.1:${port}/`, lines, waitFor };
}

function track(ch: Channel): Channel {
  cleanups.push(() => ch.close());
  return ch;
}

describe('mTLS connections', () => {
  it('an analyst with a CA-issued certificate connects and exchanges control frames', async () => {
    const { server, url } = await startServer('p1');
    const got = new Promise<[Channel, Frame]>((resolve) => {
      server.on('client', (ch) => {
        ch.on('frame', (f) => resolve([ch, f]));
        ch.resume();
      });
    });
    const ch = track(await connect(url, { ...setup.pki.m.a1, expected: party('p1'), heartbeat: false }));
    ch.resume();
    expect(ch.peer).toEqual(party('p1'));
    await ch.send({ job: 'j1', round: 0, kind: ControlKind.JobSubmit, body: { plan: 'x' } });
    const [serverSide, f] = await got;
    expect(serverSide.peer).toEqual(ident('analyst', 'a1'));
    expect(f).toMatchObject({ job: 'j1', kind: ControlKind.JobSubmit, from: 'a1', seq: 1, body: { plan: 'x' } });
    expect(await ch.ping()).toBeGreaterThanOrEqual(0);
    expect(ch.stats().messagesSent).toBe(3); // Hello, JobSubmit, Ping
  });

  it('hands parties and clients to different listeners', async () => {
    const { server, url } = await startServer('p2');
    const roles: string[] = [];
    server.on('party', (ch) => void roles.push(`party:${ch.peer.id}`));
    server.on('client', (ch) => void roles.push(`${ch.peer.role}:${ch.peer.id}`));
    track(await connect(url, { ...setup.pki.m.p1, expected: party('p2'), parties: PARTIES }));
    track(await connect(url, { ...setup.pki.m.d1, expected: party('p2') }));
    await new Promise((r) => setTimeout(r, 50));
    expect(roles.sort()).toEqual(['dealer:d1', 'party:p1']);
  });

  for (const [name, pick, reason] of [
    ['an expired certificate', (p: Pki) => p.expired, /CERT_HAS_EXPIRED/],
    ['a self-signed certificate', (p: Pki) => p.selfSigned, /SELF_SIGNED/],
    ["another CA's certificate", (p: Pki) => p.otherCa, /UNABLE_TO_(VERIFY|GET_ISSUER)/],
  ] as const) {
    it(`refuses ${name} in the TLS handshake and logs it`, async () => {
      const { url, waitFor } = await startServer('p1');
      const err = await rejectionOf(connect(url, { ...pick(setup.pki), expected: party('p1') }));
      expect([ErrorCode.PEER_AUTH, ErrorCode.PEER_LOST]).toContain(err.code);
      const line = await waitFor((l) => l.fields?.event === 'tls-refused');
      expect(line.level).toBe('warn');
      expect(line.msg).toMatch(/TLS handshake refused from 127\.0\.0\.1:\d+: client certificate rejected/);
      expect(line.msg).toMatch(reason);
    });
  }

  it('refuses a server whose certificate is from another CA', async () => {
    const { log } = collectLog();
    const rogue = new NodeServer({ tls: { ...setup.pki.otherCa, ca: setup.pki.ca.certPem }, parties: PARTIES, log });
    const { port } = await rogue.listen(0, '127.0.0.1');
    cleanups.push(() => rogue.close());
    const err = await rejectionOf(connect(`wss://127.0.0.1:${port}/`, { ...setup.pki.m.a1, expected: ident('analyst', 'a1') }));
    expect(err.code).toBe(ErrorCode.PEER_AUTH);
  });

  it('refuses a valid certificate of the wrong party (dialing p2, server is p3)', async () => {
    const { url } = await startServer('p3');
    const err = await rejectionOf(connect(url, { ...setup.pki.m.p1, expected: party('p2'), parties: PARTIES }));
    expect(err.code).toBe(ErrorCode.PEER_AUTH);
    expect(err.message).toMatch(/expected peer party p2@demo but its certificate names party p3@demo/);
  });

  it('answers 403 to another federation and to principals authorize() rejects', async () => {
    const { url, waitFor } = await startServer('p1', { authorize: (peer) => peer.role !== 'dealer' });
    const foreign = await rejectionOf(connect(url, { ...setup.pki.foreign, expected: party('p1') }));
    expect(foreign.code).toBe(ErrorCode.PEER_AUTH);
    expect(foreign.message).toMatch(/403/);
    await waitFor((l) => l.fields?.event === 'refused' && /federation elsewhere is not ours/.test(l.msg));
    const dealer = await rejectionOf(connect(url, { ...setup.pki.m.d1, expected: party('p1') }));
    expect(dealer.code).toBe(ErrorCode.PEER_AUTH);
    await waitFor((l) => l.fields?.event === 'refused' && /dealer d1@demo.*not authorized/.test(l.msg));
  });

  it('closes with 1013 when nobody accepts that kind of peer yet', async () => {
    const { url } = await startServer('p1');
    const ch = track(await connect(url, { ...setup.pki.m.a1, expected: party('p1') }));
    const info = await ch.whenClosed;
    expect(info.code).toBe(CloseCode.TryAgainLater);
    expect(info.error?.code).toBe(ErrorCode.PEER_LOST);
  });
});

describe('connecting while a node starts up', () => {
  it('backs off exponentially up to a cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((i) => backoffDelay({ baseMs: 100, maxMs: 1000 }, i))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('retries ECONNREFUSED until the node listens (connectClient, as a dealer)', async () => {
    const port = await freePort();
    const { log, lines } = collectLog();
    const connecting = connectClient({ host: '127.0.0.1', port }, { ...setup.pki.m.d1, expected: party('p1'), log, retry: { attempts: 20, baseMs: 20, maxMs: 50 } });
    await new Promise((r) => setTimeout(r, 150));
    const server = new NodeServer({ tls: setup.pki.m.p1, parties: PARTIES });
    server.on('client', (ch) => ch.resume());
    await server.listen(port, '127.0.0.1');
    cleanups.push(() => server.close());
    const ch = track(await connecting);
    expect(ch.peer).toEqual(party('p1'));
    expect(lines.filter((l) => /refused the connection; retrying/.test(l.msg)).length).toBeGreaterThan(0);
  });

  it('gives up after the last attempt with PEER_LOST', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await rejectionOf(connect(`wss://127.0.0.1:${port}/`, { ...setup.pki.m.a1, expected: party('p1'), retry: { attempts: 3, baseMs: 10, maxMs: 20 } }));
    expect(err.code).toBe(ErrorCode.PEER_LOST);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25); // 10 + 20 ms of backoff
  });
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Hello', () => {
  it('refuses parties with a different n, on both sides', async () => {
    const { server, url, waitFor } = await startServer('p2');
    server.on('party', (ch) => ch.resume());
    const failed = new Promise((resolve) => server.on('hello-failed', (peer, err) => resolve([peer.id, err.code])));
    const err = await rejectionOf(connect(url, { ...setup.pki.m.p1, expected: party('p2'), parties: ['p1', 'p2'] }));
    expect(err.code).toBe(ErrorCode.PROTOCOL);
    expect(err.message).toMatch(/n = 3 parties, we have n = 2/);
    expect(await failed).toEqual(['p1', ErrorCode.PROTOCOL]);
    await waitFor((l) => l.fields?.event === 'hello-failed' && /n = 2 parties, we have n = 3/.test(l.msg));
  });

  it('refuses parties with the same n but another party order', async () => {
    const { server, url } = await startServer('p2');
    server.on('party', (ch) => ch.resume());
    const err = await rejectionOf(connect(url, { ...setup.pki.m.p1, expected: party('p2'), parties: ['p2', 'p1', 'p3'] }));
    expect(err.code).toBe(ErrorCode.PROTOCOL);
    expect(err.message).toMatch(/party lists differ/);
  });

  it('refuses a Hello naming another federation or another principal than the certificate', async () => {
    const { server, url } = await startServer('p1');
    server.on('client', (ch) => ch.resume());
    for (const [hello, pattern] of [
      [{ ...makeHello(ident('analyst', 'a1'), []), federation: 'other' }, /federation other, we are in demo/],
      [makeHello(ident('analyst', 'a2'), []), /claims to be analyst a2 but its certificate names analyst a1/],
      [{ ...makeHello(ident('analyst', 'a1'), []), version: 2 }, /protocol version 2, we speak 3/],
    ] as const) {
      const ws = await rawClient(url, setup.pki.m.a1, party('p1'));
      const end = closed(ws);
      ws.send(encodeFrame({ v: PROTOCOL_VERSION, job: '', round: 0, kind: ControlKind.Hello, from: 'a1', seq: 0, body: hello }));
      const [code, reason] = await end;
      expect(code).toBe(CloseCode.HelloMismatch);
      expect(reason).toMatch(pattern);
    }
    expect(FED).toBe('demo');
  });
});
