// `mpc cert renew`: the refusals first (no CA key, unknown ids, a foreign certificate, a
// lifetime past the CA's), then what a renewal writes: the same principals and host names,
// new keys, the asked lifetime, private key files, no temporary files left behind.
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.ts';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import { checkTlsMaterial } from '../../src/security/certs.ts';
import { loadNodeConfig, loadTlsMaterial } from '../../src/security/config.ts';
import { initFederation, renewCertificates } from '../../src/security/init.ts';
import { fingerprint, identityFromCertificate } from '../../src/security/pki.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-cert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DAY = 24 * 3600 * 1000;
const LEAVES = ['p1', 'p2', 'dealer', 'analyst/alice', 'auditor/auditor'];

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const snapshot = (dir: string) => Object.fromEntries(LEAVES.map((l) => [l, read(dir, `${l}/cert.pem`) + read(dir, `${l}/key.pem`)]));

let template: string;
beforeAll(async () => {
  template = join(root, 'template');
  await initFederation(template, { parties: ['p1', 'p2'], federation: 'demo', host: 'node.example', days: 30 });
});

/** A fresh copy of the template federation. */
let copies = 0;
async function federation(): Promise<string> {
  const dir = join(root, `fed${copies++}`);
  await cp(template, dir, { recursive: true });
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isMpcError(e, ErrorCode.CONFIG)).toBe(true);
  return e as Error;
}

describe('renewCertificates refuses', () => {
  it('without the CA key', async () => {
    const dir = await federation();
    rmSync(join(dir, 'ca.key'));
    expect((await refusal(renewCertificates(dir))).message).toBe(`renew needs the CA key; run it where ca.key is kept (${join(dir, 'ca.key')} not found)`);
  });

  it('an id that names no certificate, before touching any file', async () => {
    const dir = await federation();
    const before = snapshot(dir);
    const e = await refusal(renewCertificates(dir, { only: ['p1', 'p9', 'party/alice'] }));
    expect(e.message).toBe(
      `--only: no certificate for "p9", "party/alice" in ${dir} (found analyst/alice, auditor/auditor, dealer/dealer, party/p1, party/p2)`,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('a certificate the CA did not issue, and a CA key that does not belong to the CA', async () => {
    const dir = await federation();
    const other = join(root, 'other');
    await initFederation(other, { parties: ['p1', 'p2'], federation: 'demo' });
    copyFileSync(join(other, 'p2/cert.pem'), join(dir, 'p2/cert.pem'));
    expect((await refusal(renewCertificates(dir))).message).toBe(
      `${join(dir, 'p2/cert.pem')} (party p2@demo) is not issued by ${join(dir, 'ca.crt')}; refusing to renew with a CA that did not issue it`,
    );
    const dir2 = await federation();
    const before = snapshot(dir2);
    copyFileSync(join(other, 'ca.key'), join(dir2, 'ca.key'));
    expect((await refusal(renewCertificates(dir2))).message).toBe(`${join(dir2, 'ca.key')} does not belong to ${join(dir2, 'ca.crt')}`);
    expect(snapshot(dir2)).toEqual(before);
  });

  it('a lifetime past the CA, or not a whole number of days', async () => {
    const dir = await federation();
    expect((await refusal(renewCertificates(dir, { days: 5000 }))).message).toMatch(/^mpc cert renew: 5000 days would outlive the CA \(.*ca\.crt is valid until \d{4}-/);
    expect((await refusal(renewCertificates(dir, { days: 0 }))).message).toMatch(/^mpc cert renew: days: expected a whole number of days in 1\.\.36525, got 0/);
  });

  it('a folder that is not a federation', async () => {
    const dir = join(root, 'empty');
    await cp(join(template, 'ca.crt'), join(dir, 'ca.crt'));
    await cp(join(template, 'ca.key'), join(dir, 'ca.key'));
    expect((await refusal(renewCertificates(dir))).message).toMatch(/holds no certificates to renew/);
  });
});

describe('renewCertificates', () => {
  it('re-issues every leaf: same principal and hosts, new key, the days asked', async () => {
    const dir = await federation();
    const before = Object.fromEntries(LEAVES.map((l) => [l, new X509Certificate(read(dir, `${l}/cert.pem`))]));
    const renewed = await renewCertificates(dir, { days: 90 });
    expect(renewed.map((r) => `${r.identity.role}/${r.identity.id}`)).toEqual(['analyst/alice', 'auditor/auditor', 'dealer/dealer', 'party/p1', 'party/p2']);
    for (const l of LEAVES) {
      const pem = read(dir, `${l}/cert.pem`);
      const now = new X509Certificate(pem);
      expect(identityFromCertificate(pem)).toEqual(identityFromCertificate(before[l]));
      expect(now.subjectAltName).toBe(before[l].subjectAltName);
      expect(now.subjectAltName).toContain('DNS:node.example');
      expect(now.fingerprint256).not.toBe(before[l].fingerprint256);
      expect(now.publicKey.export({ format: 'der', type: 'spki' })).not.toEqual(before[l].publicKey.export({ format: 'der', type: 'spki' }));
      expect(Math.round((Date.parse(now.validTo) - Date.now()) / DAY)).toBe(90);
      expect(statSync(join(dir, `${l}/key.pem`)).mode & 0o777).toBe(0o600);
      expect(readdirSync(join(dir, l)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
    // The files a node starts from are a valid set again.
    const cfg = loadNodeConfig(join(dir, 'p1.node.json'));
    expect(checkTlsMaterial(loadTlsMaterial(cfg.tls), { expected: { federation: 'demo', role: 'party', id: 'p1' } }).id).toBe('p1');
    expect(renewed[0].notAfter.getTime()).toBeCloseTo(Date.now() + 90 * DAY, -5);
  });

  it('with only, renews just those (ids or role/id)', async () => {
    const dir = await federation();
    const before = snapshot(dir);
    const renewed = await renewCertificates(dir, { only: ['p2', 'analyst/alice'] });
    expect(renewed.map((r) => r.identity.id)).toEqual(['alice', 'p2']);
    const after = snapshot(dir);
    for (const l of LEAVES) expect(after[l] === before[l]).toBe(!['p2', 'analyst/alice'].includes(l));
    expect(Math.round((Date.parse(new X509Certificate(read(dir, 'p2/cert.pem')).validTo) - Date.now()) / DAY)).toBe(365);
  });
});

describe('mpc cert renew (CLI)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('renews and says what, and until when', async () => {
    const dir = await federation();
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    const ca = fingerprint(read(dir, 'ca.crt'));
    await buildProgram().parseAsync(['node', 'mpc', 'cert', 'renew', dir, '--days', '10', '--only', 'p1, dealer']);
    const text = out.join('');
    expect(text).toMatch(new RegExp(`^Renewed 2 certificates in ${dir}, valid until \\d{4}-\\d\\d-\\d\\d \\(10 days\\):\\n`));
    expect(text).toMatch(/ {2}dealer dealer@demo +\S*dealer\/cert\.pem, \S*dealer\/key\.pem\n/);
    expect(text).toMatch(/ {2}party p1@demo +\S*p1\/cert\.pem, \S*p1\/key\.pem\n/);
    expect(text).toContain('without dropping running jobs');
    expect(fingerprint(read(dir, 'ca.crt'))).toBe(ca); // the CA stays
  });

  it('validates its flags', async () => {
    const dir = await federation();
    const before = snapshot(dir);
    await expect(buildProgram().parseAsync(['node', 'mpc', 'cert', 'renew', dir, '--days', 'ten'])).rejects.toThrow(/--days: expected a whole number of days in 1\.\.36525, got "ten"/);
    await expect(buildProgram().parseAsync(['node', 'mpc', 'cert', 'renew', dir, '--only', ' , '])).rejects.toThrow(/--only: expected at least one id/);
    await expect(buildProgram().parseAsync(['node', 'mpc', 'cert', 'renew', dir, '--only', 'nobody'])).rejects.toThrow(/--only: no certificate for "nobody"/);
    expect(snapshot(dir)).toEqual(before);
  });
});
