// Renewed certificates taking effect without a restart, over real TLS on 127.0.0.1. Read the
// first test first: a client stays connected while the server's files are renewed; a new
// connection then sees the new certificate, the old one keeps exchanging frames, and a broken
// replacement is refused while the renewed certificate keeps being served. Then: dials pick
// up new material, lanes do too, and the expiry warnings at a fixed clock.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import type { MpcError } from '../../src/errors.ts';
import type { Channel } from '../../src/net/channel.ts';
import { CloseCode } from '../../src/net/channel.ts';
import { connect, keepDialing } from '../../src/net/client.ts';
import { ControlKind } from '../../src/net/frame.ts';
import type { Frame } from '../../src/net/frame.ts';
import { startLanes } from '../../src/net/lanes.ts';
import { PeerMesh } from '../../src/net/mesh.ts';
import { NodeServer } from '../../src/net/server.ts';
import { clientTlsOptions } from '../../src/net/tls.ts';
import type { TlsMaterial } from '../../src/net/tls.ts';
import { watchExpiry, watchTlsFiles } from '../../src/node/tls-reload.ts';
import { certificateExpiry } from '../../src/security/certs.ts';
import type { TlsChange } from '../../src/node/tls-reload.ts';
import { loadNodeConfig, loadTlsMaterial } from '../../src/security/config.ts';
import type { TlsPaths } from '../../src/security/config.ts';
import type { Identity } from '../../src/security/identity.ts';
import { initFederation, renewCertificates, replaceFiles } from '../../src/security/init.ts';
import { createCA, fingerprint, issueCertificate } from '../../src/security/pki.ts';
import { collectLog } from './helpers.ts';

const FED = 'demo';
const P1: Identity = { federation: FED, role: 'party', id: 'p1' };
const P2: Identity = { federation: FED, role: 'party', id: 'p2' };
const DAY = 24 * 3600 * 1000;

const root = mkdtempSync(join(tmpdir(), 'tessera-reload-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

let dir: string;
let p1Paths: TlsPaths;
let p2Paths: TlsPaths;
let alice: TlsMaterial;
beforeAll(async () => {
  dir = join(root, 'fed');
  await initFederation(dir, { parties: ['p1', 'p2'], federation: FED, days: 30 });
  p1Paths = loadNodeConfig(join(dir, 'p1.node.json')).tls;
  p2Paths = loadNodeConfig(join(dir, 'p2.node.json')).tls;
  alice = loadTlsMaterial({ ca: join(dir, 'ca.crt'), cert: join(dir, 'analyst/alice/cert.pem'), key: join(dir, 'analyst/alice/key.pem') });
});

/** The fingerprint of the certificate a fresh TLS connection to `port` is shown (as analyst alice). */
function servedFingerprint(port: number, expected: Identity = P1): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ ...clientTlsOptions(alice, expected), host: '127.0.0.1', port });
    s.once('secureConnect', () => {
      resolve(fingerprint(`-----BEGIN CERTIFICATE-----\n${s.getPeerCertificate().raw.toString('base64')}\n-----END CERTIFICATE-----\n`));
      s.destroy();
    });
    s.once('error', reject);
  });
}

/** A watcher on `paths` whose applied and refused sets can be awaited one by one. */
function watcher(paths: TlsPaths, apply: (m: TlsMaterial) => void) {
  const changes: Array<[TlsMaterial, TlsChange]> = [];
  const errors: MpcError[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const watch = watchTlsFiles(
    paths,
    (m, c) => {
      apply(m);
      changes.push([m, c]);
      wake();
    },
    (e) => {
      errors.push(e);
      wake();
    },
    { pollMs: 200 },
  );
  cleanups.push(() => watch.close());
  const until = async (pred: () => boolean, what: string) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > 10_000) throw new Error(`no ${what} within 10 s`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { watch, changes, errors, until };
}

/** Echo server side: every JobSubmit comes back as JobAccept with the same body. */
function echo(server: NodeServer): void {
  server.on('client', (ch) => {
    ch.on('frame', (f) => void ch.send({ job: f.job, round: 0, kind: ControlKind.JobAccept, body: f.body }));
    ch.resume();
  });
}

async function roundTrip(ch: Channel, body: string): Promise<Frame> {
  const got = new Promise<Frame>((resolve) => ch.once('frame', resolve));
  await ch.send({ job: 'j1', round: 0, kind: ControlKind.JobSubmit, body });
  return got;
}

describe('a renewed certificate takes effect without a restart', () => {
  it('new connections get it, an open one keeps working, and a broken replacement is refused', async () => {
    const server = new NodeServer({ tls: loadTlsMaterial(p1Paths), parties: ['p1', 'p2'], heartbeat: false });
    echo(server);
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const oldFp = fingerprint(readFileSync(p1Paths.cert, 'utf8'));
    expect(await servedFingerprint(port)).toBe(oldFp);

    const ch = await connect(`wss://127.0.0.1:${port}/`, { ...alice, expected: P1, heartbeat: false });
    cleanups.push(() => ch.close());
    ch.resume();
    expect((await roundTrip(ch, 'before')).body).toBe('before');

    const w = watcher(p1Paths, (m) => server.updateTls(m));
    const [renewed] = await renewCertificates(dir, { only: ['p1'], days: 90 });
    await w.until(() => w.changes.length === 1, 'reload');
    const newFp = fingerprint(readFileSync(p1Paths.cert, 'utf8'));
    expect(newFp).not.toBe(oldFp);
    expect(w.changes[0][1]).toEqual({ fingerprint: newFp, notAfter: renewed.notAfter });
    expect(w.errors).toEqual([]);
    expect(await servedFingerprint(port)).toBe(newFp);
    // The connection made before the renewal is the same channel, still carrying frames.
    expect(ch.closed).toBe(false);
    expect((await roundTrip(ch, 'after')).body).toBe('after');

    // A key that does not belong to the certificate: refused, the renewed pair stays in use.
    const stray = await issueCertificate({ certPem: readFileSync(p1Paths.ca, 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') }, P1);
    await replaceFiles([{ path: p1Paths.key, data: stray.keyPem, mode: 0o600 }]);
    await w.until(() => w.errors.length === 1, 'refusal');
    expect(isMpcError(w.errors[0], ErrorCode.CONFIG)).toBe(true);
    expect(w.errors[0].message).toBe(
      `new TLS files refused, still using the current certificate of party p1@demo: ${p1Paths.key} does not belong to the certificate in ${p1Paths.cert}`,
    );
    expect(w.errors[0].message).not.toMatch(/PRIVATE KEY/);
    expect(w.watch.current.cert).toBe(readFileSync(p1Paths.cert, 'utf8'));
    expect(await servedFingerprint(port)).toBe(newFp);
    expect((await roundTrip(ch, 'still')).body).toBe('still');
    // SIGHUP re-reads at once and says so again; polling does not repeat the report.
    expect(w.watch.reload()).toBe('refused');
    expect(w.errors).toHaveLength(2);

    // Putting a good pair back is picked up like any renewal.
    await renewCertificates(dir, { only: ['p1'] });
    await w.until(() => w.changes.length === 2, 'second reload');
    expect(await servedFingerprint(port)).toBe(fingerprint(readFileSync(p1Paths.cert, 'utf8')));
    expect(w.watch.reload()).toBe('unchanged');
    expect(w.errors).toHaveLength(2);
    w.watch.close();
  });

  it("refuses a replacement that names another principal, and the server and mesh refuse it too", async () => {
    const paths = { ...p2Paths };
    const w = watcher(paths, () => {
      throw new Error('must not apply');
    });
    const p1Files = loadTlsMaterial(p1Paths);
    const p2Files = loadTlsMaterial(p2Paths);
    await replaceFiles([
      { path: paths.key, data: p1Files.key, mode: 0o600 },
      { path: paths.cert, data: p1Files.cert, mode: 0o644 },
    ]);
    await w.until(() => w.errors.length > 0, 'refusal');
    w.watch.close();
    expect(w.errors).toHaveLength(1);
    expect(w.errors[0].message).toMatch(new RegExp(`${paths.cert} names party p1@demo, but this process runs as party p2@demo; a renewed certificate must name the same principal`));
    expect(w.changes).toEqual([]);
    // Put p2 back for the other tests.
    await replaceFiles([
      { path: paths.key, data: p2Files.key, mode: 0o600 },
      { path: paths.cert, data: p2Files.cert, mode: 0o644 },
    ]);

    const server = new NodeServer({ tls: loadTlsMaterial(p2Paths), parties: ['p1', 'p2'] });
    expect(() => server.updateTls(p1Files)).toThrow(/the new certificate names party p1@demo, but this server runs as party p2@demo/);
    const mesh = new PeerMesh({ tls: loadTlsMaterial(p2Paths), parties: [{ id: 'p1', host: '127.0.0.1', port: 1 }, { id: 'p2', host: '127.0.0.1', port: 2 }], server });
    expect(() => mesh.updateTls(p1Files)).toThrow(/the new certificate names party p1@demo, but the mesh runs as party p2@demo/);
    await mesh.close();
  });
});

describe('dials take the material of the moment', () => {
  it('keepDialing uses currentTls at every dial; servers and dialers report the peer certificate', async () => {
    const seen: Array<[string, Date]> = [];
    const server = new NodeServer({
      tls: loadTlsMaterial(p2Paths),
      parties: ['p1', 'p2'],
      heartbeat: false,
      onPeerCertificate: (peer, validTo) => void seen.push([peer.id, validTo]),
    });
    const accepted: Channel[] = [];
    server.on('party', (ch) => {
      accepted.push(ch);
      ch.resume();
    });
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());

    const ca = await createCA(FED);
    const short = await issueCertificate(ca, P1, { notAfter: new Date(Date.now() + 5 * DAY) });
    const long = await issueCertificate(ca, P1, { notAfter: new Date(Date.now() + 50 * DAY) });
    // Our server trusts the federation CA of `dir`; re-key it to trust the test CA.
    server.updateTls({ ...loadTlsMaterial(p2Paths), ca: [readFileSync(p2Paths.ca, 'utf8'), ca.certPem] });
    let current: TlsMaterial = { ca: readFileSync(p2Paths.ca, 'utf8'), cert: short.certPem, key: short.keyPem };
    const stop = new AbortController();
    cleanups.push(() => stop.abort());
    const serverSeen: Array<[string, Date]> = [];
    const ups: Channel[] = [];
    void keepDialing(
      `wss://127.0.0.1:${port}/`,
      { ...current, currentTls: () => current, expected: P2, parties: ['p1', 'p2'], heartbeat: false, signal: stop.signal, onPeerCertificate: (peer, validTo) => void serverSeen.push([peer.id, validTo]) },
      { baseMs: 10, maxMs: 50 },
      { up: (ch) => void ups.push(ch), failed: () => {} },
      'test over',
    );
    const until = async (pred: () => boolean) => {
      const t0 = Date.now();
      while (!pred()) {
        if (Date.now() - t0 > 10_000) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(() => ups.length === 1 && accepted.length === 1);
    expect(seen).toEqual([['p1', certificateExpiry(short.certPem)]]);
    expect(serverSeen).toEqual([['p2', certificateExpiry(readFileSync(p2Paths.cert, 'utf8'))]]);

    current = { ...current, cert: long.certPem, key: long.keyPem };
    accepted[0].close(CloseCode.GoingAway, 'bye');
    await until(() => ups.length === 2 && seen.length === 2);
    expect(seen[1]).toEqual(['p1', certificateExpiry(long.certPem)]);
  });

  it('lanes serve the new certificate after updateTls', async () => {
    const before = loadTlsMaterial(p2Paths);
    const lanes = await startLanes({ count: 1, tls: before, parties: ['p1', 'p2'], host: '127.0.0.1' });
    cleanups.push(() => lanes.close());
    expect(await servedFingerprint(lanes.ports[0], P2)).toBe(fingerprint(before.cert));
    await renewCertificates(dir, { only: ['p2'] });
    const after = loadTlsMaterial(p2Paths);
    lanes.updateTls(after);
    const t0 = Date.now();
    // The lane thread applies it when it gets the message: look until it does.
    while ((await servedFingerprint(lanes.ports[0], P2)) !== fingerprint(after.cert)) {
      if (Date.now() - t0 > 10_000) throw new Error('the lane still serves the old certificate');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

describe('watchExpiry', () => {
  let cert: string;
  const notAfter = new Date('2026-12-10T12:00:00Z');
  beforeAll(async () => {
    const ca = await createCA(FED, { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2035-01-01T00:00:00Z') });
    cert = (await issueCertificate(ca, P1, { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter })).certPem;
  });

  it('warns about its own certificate at start, and says nothing when far from expiry', () => {
    const { log, lines } = collectLog();
    const far = watchExpiry({ ownCertPem: cert, log, now: () => new Date('2026-06-01T00:00:00Z') });
    far.close();
    expect(lines).toEqual([]);
    const near = watchExpiry({ ownCertPem: cert, log, now: () => new Date(notAfter.getTime() - 3.5 * DAY) });
    near.close();
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'certificate of party p1@demo expires in 3 days (2026-12-10T12:00:00.000Z); renew it with mpc cert renew',
        fields: { event: 'cert-expiry', subject: 'own', notAfter: '2026-12-10T12:00:00.000Z', daysLeft: 3 },
      },
    ]);
  });

  it("warns about a peer's certificate once when seen, again at each check, and at error level once expired", () => {
    const { log, lines } = collectLog();
    let now = new Date('2026-06-01T00:00:00Z');
    const w = watchExpiry({ ownCertPem: cert, log, now: () => now });
    cleanups.push(() => w.close());
    const peerEnd = new Date(now.getTime() + 2 * DAY);
    w.peer(P2, peerEnd);
    w.peer(P2, peerEnd); // a reconnect, or a lane: the same certificate again
    expect(lines.map((l) => [l.level, l.msg, l.fields?.peer])).toEqual([
      ['warn', `certificate of party p2@demo expires in 2 days (${peerEnd.toISOString()}); renew it with mpc cert renew`, 'p2'],
    ]);
    w.peer(P2, new Date(now.getTime() + 400 * DAY)); // the peer renewed: nothing to say
    expect(lines).toHaveLength(1);
    w.peer({ ...P2, role: 'analyst', id: 'alice' }, new Date(now.getTime() - DAY));
    expect(lines[1]).toMatchObject({ level: 'error', msg: expect.stringMatching(/^certificate of analyst alice@demo expired 1 day ago/), fields: { subject: 'peer', peer: 'alice', role: 'analyst' } });
    now = new Date(notAfter.getTime() - DAY / 2);
    w.check();
    expect(lines.slice(2).map((l) => l.msg)).toEqual([
      'certificate of party p1@demo expires in less than a day (2026-12-10T12:00:00.000Z); renew it with mpc cert renew',
      expect.stringMatching(/^certificate of analyst alice@demo expired/),
    ]);
  });

  it('checks a renewed own certificate at once, and the CA too', async () => {
    const { log, lines } = collectLog();
    const ca = await createCA(FED, { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-12-01T00:00:00Z') });
    const w = watchExpiry({ ownCertPem: cert, log, now: () => new Date('2026-11-25T00:00:00Z') });
    cleanups.push(() => w.close());
    expect(lines).toEqual([]);
    const renewed = (await issueCertificate(ca, P1, { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-11-30T00:00:00Z') })).certPem;
    w.setOwn(renewed, ca.certPem);
    expect(lines.map((l) => [l.fields?.subject, l.msg])).toEqual([
      ['own', 'certificate of party p1@demo expires in 5 days (2026-11-30T00:00:00.000Z); renew it with mpc cert renew'],
      ['ca', 'certificate of the federation CA (CN=Tessera CA demo) expires in 6 days (2026-12-01T00:00:00.000Z); renew it with mpc cert renew'],
    ]);
  });
});
