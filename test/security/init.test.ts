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
import { initFederation } from '../../src/security/init.ts';
import { identityFromCertificate } from '../../src/security/pki.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string) => statSync(p).mode & 0o777;

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
        'p1/cert.pem', 'p1/key.pem', 'p1.node.json',
        'p2/cert.pem', 'p2/key.pem', 'p2.node.json',
        'p3/cert.pem', 'p3/key.pem', 'p3.node.json',
        'dealer/cert.pem', 'dealer/key.pem', 'dealer.json',
        'analyst/alice/cert.pem', 'analyst/alice/key.pem',
        'cluster.json',
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
      datasets: {},
      security: 'malicious',
      preprocessing: 'dealer',
    });
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
    await expect(buildProgram().parseAsync(['node', 'mpc', 'init', dir, '--parties', 'a,b'])).rejects.toThrow(/already holds a federation/);
  });
});
