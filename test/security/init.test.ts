// `mpc init`: the folder it writes, the file modes, and that every config it writes loads
// back through the same loaders the node, dealer and analyst use.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.ts';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import { loadClusterConfig, loadDealerConfig, loadNodeConfig, loadTlsMaterial } from '../../src/security/config.ts';
import { loadPolicy } from '../../src/security/policy.ts';
import { initFederation } from '../../src/security/init.ts';
import { identityFromCertificate } from '../../src/security/pki.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string) => statSync(p).mode & 0o777;
const DAY = 24 * 3600 * 1000;

describe('initFederation', () => {
  const dir = join(root, 'fed');
  let files: string[];
  beforeAll(async () => {
    ({ files } = await initFederation(dir, { parties: ['p1', 'p2', 'p3'], federation: 'demo' }));
  });

  it('writes the documented layout', () => {
    expect(files.map((f) => relative(dir, f)).sort()).toEqual(
      [
        'ca.crt', 'ca.key',
        'p1/cert.pem', 'p1/key.pem', 'p1.node.json', 'p1.policy.json',
        'p2/cert.pem', 'p2/key.pem', 'p2.node.json', 'p2.policy.json',
        'p3/cert.pem', 'p3/key.pem', 'p3.node.json', 'p3.policy.json',
        'dealer/cert.pem', 'dealer/key.pem', 'dealer.json',
        'analyst/alice/cert.pem', 'analyst/alice/key.pem',
        'cluster.json',
        'auditor/auditor/cert.pem', 'auditor/auditor/key.pem',
        'auditor.json',
      ].sort(),
    );
  });

  it('makes private keys 0600', () => {
    for (const f of files.filter((f) => f.endsWith('.key') || f.endsWith('key.pem'))) expect(mode(f)).toBe(0o600);
    expect(mode(join(dir, 'p1'))).toBe(0o700);
  });

  it('writes configs that load back, with the right ports and identities', () => {
    const n2 = loadNodeConfig(join(dir, 'p2.node.json'));
    expect(n2).toMatchObject({
      federation: 'demo',
      party: 'p2',
      listen: { host: '127.0.0.1', port: 7102 },
      dealer: { id: 'dealer', host: '127.0.0.1', port: 7100 },
      analysts: ['alice'],
      auditors: ['auditor'],
      datasets: {},
      security: 'malicious',
      preprocessing: 'dealer',
      policy: join(dir, 'p2.policy.json'),
      audit: join(dir, 'p2/audit.log'),
    });
    // The restrictive default: aggregates of 5 or more, the analyst on every dataset.
    expect(loadPolicy(n2.policy!)).toMatchObject({ minAggregation: 5, mode: 'rules', analysts: { alice: { inputs: ['*'], recipients: ['analyst'] } } });
    expect(n2.parties.map((p) => `${p.id}:${p.port}`)).toEqual(['p1:7101', 'p2:7102', 'p3:7103']);
    const tlsFiles = loadTlsMaterial(n2.tls);
    expect(identityFromCertificate(tlsFiles.cert)).toEqual({ federation: 'demo', role: 'party', id: 'p2' });
    expect(new X509Certificate(tlsFiles.cert).checkIssued(new X509Certificate(tlsFiles.ca))).toBe(true);

    const d = loadDealerConfig(join(dir, 'dealer.json'));
    expect(identityFromCertificate(loadTlsMaterial(d.tls).cert)).toEqual({ federation: 'demo', role: 'dealer', id: 'dealer' });

    const c = loadClusterConfig(join(dir, 'cluster.json'));
    expect(c.analyst).toBe('alice');
    expect(identityFromCertificate(loadTlsMaterial(c.tls).cert)).toEqual({ federation: 'demo', role: 'analyst', id: 'alice' });
  });

  it('writes an auditor certificate and auditor.json with the parties it may read', () => {
    const raw = JSON.parse(readFileSync(join(dir, 'auditor.json'), 'utf8'));
    expect(raw).toEqual({
      federation: 'demo',
      tls: { ca: 'ca.crt', cert: 'auditor/auditor/cert.pem', key: 'auditor/auditor/key.pem' },
      auditor: 'auditor',
      parties: [
        { id: 'p1', host: '127.0.0.1', port: 7101 },
        { id: 'p2', host: '127.0.0.1', port: 7102 },
        { id: 'p3', host: '127.0.0.1', port: 7103 },
      ],
    });
    const cert = readFileSync(join(dir, 'auditor/auditor/cert.pem'), 'utf8');
    expect(identityFromCertificate(cert)).toEqual({ federation: 'demo', role: 'auditor', id: 'auditor' });
    expect(mode(join(dir, 'auditor/auditor/key.pem'))).toBe(0o600);
  });

  it('issues the leaves for 365 days by default and the CA for ten years', () => {
    const leaf = new X509Certificate(readFileSync(join(dir, 'p1/cert.pem'), 'utf8'));
    const days = (Date.parse(leaf.validTo) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(364.9);
    expect(days).toBeLessThan(365.1);
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt'), 'utf8'));
    expect((Date.parse(ca.validTo) - Date.now()) / DAY).toBeGreaterThan(3651);
  });

  it('writes relative paths, so the folder can be moved', async () => {
    const raw = JSON.parse(readFileSync(join(dir, 'p1.node.json'), 'utf8'));
    expect(raw.tls).toEqual({ ca: 'ca.crt', cert: 'p1/cert.pem', key: 'p1/key.pem' });
    const moved = join(root, 'moved');
    await cp(dir, moved, { recursive: true });
    expect(loadNodeConfig(join(moved, 'p1.node.json')).tls.key).toBe(join(moved, 'p1/key.pem'));
  });

  it('refuses to overwrite a federation unless forced', async () => {
    const before = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const err = await initFederation(dir, { parties: ['p1', 'p2'] }).catch((e: unknown) => e);
    expect(isMpcError(err, ErrorCode.CONFIG)).toBe(true);
    expect((err as Error).message).toMatch(/already holds a federation \(ca\.crt exists\).*--force/);
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).toBe(before);

    const forced = join(root, 'forced');
    await initFederation(forced, { parties: ['p1', 'p2'] });
    await initFederation(forced, { parties: ['p1', 'p2'], force: true });
    expect(mode(join(forced, 'ca.key'))).toBe(0o600);
  });

  it('without a dealer, writes OT preprocessing and no dealer files', async () => {
    const d = join(root, 'nodealer');
    const { files } = await initFederation(d, { parties: ['a', 'b'], dealer: false, analyst: 'bob', basePort: 9000, host: 'localhost' });
    expect(files.some((f) => relative(d, f).includes('dealer'))).toBe(false);
    const n = loadNodeConfig(join(d, 'b.node.json'));
    expect(n).toMatchObject({ dealer: null, preprocessing: 'ot', analysts: ['bob'], listen: { host: 'localhost', port: 9002 } });
    expect(loadClusterConfig(join(d, 'cluster.json')).dealer).toBeNull();
  });

  it.each([
    [['p1'], /at least 2 party ids/],
    [['p1', 'p1'], /duplicate party id "p1"/],
    [['p1', 'p 2'], /invalid party id "p 2"/],
    [['p1', 'dealer'], /party id "dealer" is reserved/],
    [['p1', 'x.json'], /party id "x.json" is reserved/],
  ])('rejects parties %j', async (parties, message) => {
    const err = await initFederation(join(root, 'bad'), { parties }).catch((e: unknown) => e);
    expect(isMpcError(err, ErrorCode.CONFIG)).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });

  it('issues every leaf for the days asked, and a CA that outlives them', async () => {
    const d = join(root, 'days');
    const { files, notAfter } = await initFederation(d, { parties: ['a', 'b'], days: 5000, auditor: 'carol' });
    expect(Math.round((notAfter.getTime() - Date.now()) / DAY)).toBe(5000);
    for (const f of files.filter((f) => f.endsWith('cert.pem'))) {
      expect(new X509Certificate(readFileSync(f, 'utf8')).validTo).toBe(new X509Certificate(readFileSync(join(d, 'a/cert.pem'), 'utf8')).validTo);
    }
    expect(Date.parse(new X509Certificate(readFileSync(join(d, 'a/cert.pem'), 'utf8')).validTo)).toBeCloseTo(notAfter.getTime(), -4);
    const ca = new X509Certificate(readFileSync(join(d, 'ca.crt'), 'utf8'));
    expect(Date.parse(ca.validTo)).toBeGreaterThan(notAfter.getTime() + 300 * DAY);
    expect(identityFromCertificate(readFileSync(join(d, 'auditor/carol/cert.pem'), 'utf8')).id).toBe('carol');
  });

  it.each([[0], [1.5], [-3], [40_000]])('rejects days = %j', async (days) => {
    const err = await initFederation(join(root, 'bad'), { parties: ['a', 'b'], days }).catch((e: unknown) => e);
    expect(isMpcError(err, ErrorCode.CONFIG)).toBe(true);
    expect((err as Error).message).toMatch(/^mpc init: days: expected a whole number of days in 1\.\.36525/);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });

  it('rejects an invalid auditor id, and a party named auditor', async () => {
    await expect(initFederation(join(root, 'bad'), { parties: ['a', 'b'], auditor: 'a b' })).rejects.toThrow(/invalid auditor id "a b"/);
    await expect(initFederation(join(root, 'bad'), { parties: ['a', 'auditor'] })).rejects.toThrow(/party id "auditor" is reserved/);
  });

  it('rejects a base port that runs past 65535', async () => {
    await expect(initFederation(join(root, 'bad'), { parties: ['a', 'b'], basePort: 65534 })).rejects.toThrow(/base port/);
  });
});

describe('mpc init (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes a federation and prints the next steps', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    const dir = join(root, 'cli');
    await buildProgram().parseAsync(['node', 'mpc', 'init', dir, '--parties', 'p1,p2', '--federation', 'clifed']);
    const text = out.join('');
    expect(text).toContain('Created federation "clifed"');
    expect(text).toMatch(/Certificates valid until \d{4}-\d\d-\d\d \(365 days\); renew them with mpc cert renew /);
    expect(text).toContain(`mpc node --config ${join(dir, 'p1.node.json')}`);
    expect(text).toContain(`mpc dealer --config ${join(dir, 'dealer.json')}`);
    expect(text).toContain(`mpc run circuits/sum.ts --cluster ${join(dir, 'cluster.json')}`);
    expect(loadNodeConfig(join(dir, 'p2.node.json')).federation).toBe('clifed');
  });

  it('passes flags through and validates them', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const dir = join(root, 'cli2');
    await buildProgram().parseAsync(['node', 'mpc', 'init', dir, '--parties', 'a, b ,c', '--no-dealer', '--base-port', '8000', '--security', 'semi-honest', '--analyst', 'eve']);
    const n = loadNodeConfig(join(dir, 'c.node.json'));
    expect(n).toMatchObject({ dealer: null, security: 'semi-honest', analysts: ['eve'], listen: { port: 8003 } });
    await expect(buildProgram().parseAsync(['node', 'mpc', 'init', join(root, 'cli3'), '--parties', 'a,b', '--base-port', 'x'])).rejects.toThrow(/--base-port/);
    await expect(buildProgram().parseAsync(['node', 'mpc', 'init', join(root, 'cli3'), '--parties', 'a,b', '--days', '1y'])).rejects.toThrow(/--days: expected a whole number of days in 1\.\.36525, got "1y"/);
    expect(existsSync(join(root, 'cli3'))).toBe(false);
    const d4 = join(root, 'cli4');
    await buildProgram().parseAsync(['node', 'mpc', 'init', d4, '--parties', 'a,b', '--days', '30', '--auditor', 'olga']);
    const leaf = new X509Certificate(readFileSync(join(d4, 'auditor/olga/cert.pem'), 'utf8'));
    expect(Math.round((Date.parse(leaf.validTo) - Date.now()) / DAY)).toBe(30);
    await expect(buildProgram().parseAsync(['node', 'mpc', 'init', dir, '--parties', 'a,b'])).rejects.toThrow(/already holds a federation/);
  });
});
