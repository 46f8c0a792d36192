// Config validation: a good node config first, then one broken field at a time. Every error
// must name the file and the JSON path, since that is what an operator needs to fix it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import {
  loadClusterConfig,
  loadNodeConfig,
  loadTlsMaterial,
  parseClusterConfig,
  parseDealerConfig,
  parseNodeConfig,
} from '../../src/security/config.ts';

const FILE = '/fed/p1.node.json';
const BASE = '/fed';

function goodNode(): Record<string, unknown> {
  return {
    federation: 'demo',
    party: 'p1',
    listen: { host: '127.0.0.1', port: 7101 },
    tls: { ca: 'ca.crt', cert: 'p1/cert.pem', key: 'p1/key.pem' },
    parties: [
      { id: 'p1', host: '127.0.0.1', port: 7101 },
      { id: 'p2', host: '127.0.0.1', port: 7102 },
    ],
    dealer: { id: 'dealer', host: '127.0.0.1', port: 7100 },
    analysts: ['alice'],
    datasets: { x: { file: 'data/x.csv', format: 'csv', column: 'x' }, y: { file: '/abs/y.json' } },
    security: 'semi-honest',
    preprocessing: 'dealer',
  };
}

/** Run `f`, expect MpcError CONFIG, return its message. */
function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isMpcError(e, ErrorCode.CONFIG)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a CONFIG error');
}

describe('node config', () => {
  it('parses a good config and resolves paths against the config folder', () => {
    const c = parseNodeConfig(goodNode(), FILE, BASE);
    expect(c.tls).toEqual({ ca: '/fed/ca.crt', cert: '/fed/p1/cert.pem', key: '/fed/p1/key.pem' });
    expect(c.datasets).toEqual({
      x: { file: '/fed/data/x.csv', format: 'csv', column: 'x' },
      y: { file: '/abs/y.json', format: 'json' },
    });
    expect(c.parties.map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(c.dealer?.port).toBe(7100);
    expect(c.security).toBe('semi-honest');
  });

  it('fills defaults: no dealer, OT preprocessing, malicious security, no datasets', () => {
    const o = goodNode();
    delete o.dealer;
    delete o.preprocessing;
    delete o.security;
    delete o.datasets;
    delete o.analysts;
    const c = parseNodeConfig(o, FILE, BASE);
    expect(c).toMatchObject({ dealer: null, preprocessing: 'ot', security: 'malicious', datasets: {}, analysts: [] });
  });

  it('takes an optional thread count for the kernels, absent by default', () => {
    expect(parseNodeConfig(goodNode(), FILE, BASE).threads).toBeUndefined();
    expect(parseNodeConfig({ ...goodNode(), threads: 4 }, FILE, BASE).threads).toBe(4);
  });

  it('allows listen port 0 and $comment keys', () => {
    const o = { ...goodNode(), listen: { host: '0.0.0.0', port: 0 }, $comment: 'hello' };
    expect(parseNodeConfig(o, FILE, BASE).listen.port).toBe(0);
  });

  it.each<[string, (o: Record<string, any>) => void, RegExp]>([
    ['root not an object', () => {}, /\(top level\): expected an object/],
    ['bad federation', (o) => (o.federation = 'a b'), /: federation: expected an id/],
    ['self not in parties', (o) => (o.party = 'p9'), /: party: "p9" is not listed in parties \(p1, p2\)/],
    ['port out of range', (o) => (o.parties[1].port = 70000), /: parties\[1\]\.port: expected an integer in 1\.\.65535, got 70000/],
    ['port 0 for a peer', (o) => (o.parties[0].port = 0), /: parties\[0\]\.port: expected an integer in 1\.\.65535/],
    ['fractional listen port', (o) => (o.listen.port = 1.5), /: listen\.port: expected an integer in 0\.\.65535/],
    ['duplicate party', (o) => (o.parties[1].id = 'p1'), /: parties\[1\]\.id: duplicate party id "p1"/],
    ['one party only', (o) => o.parties.pop(), /: parties: expected at least 2 parties, got 1/],
    ['dealer is a party', (o) => (o.dealer.id = 'p2'), /: dealer\.id: "p2" is also a party id/],
    ['dealer preprocessing without dealer', (o) => (o.dealer = null), /: dealer: preprocessing is "dealer" but no dealer/],
    ['unknown security', (o) => (o.security = 'paranoid'), /: security: expected one of "semi-honest", "malicious", got "paranoid"/],
    ['unknown preprocessing', (o) => (o.preprocessing = 'magic'), /: preprocessing: expected one of "dealer", "ot"/],
    ['unknown key', (o) => (o.analyst = ['alice']), /: analyst: unknown key \(expected one of: federation, party/],
    ['missing tls key', (o) => delete o.tls.key, /: tls\.key: expected a non-empty string, got nothing/],
    ['bad dataset format', (o) => (o.datasets.x.format = 'xlsx'), /: datasets\.x\.format: expected one of "csv", "json"/],
    ['unguessable dataset format', (o) => (o.datasets['my input'] = { file: 'a.txt' }), /: datasets\["my input"\]\.format: missing/],
    ['duplicate analyst', (o) => (o.analysts = ['alice', 'alice']), /: analysts\[1\]: duplicate id "alice"/],
    ['bad host', (o) => (o.parties[0].host = 'a b'), /: parties\[0\]\.host: expected a host name/],
    ['zero threads', (o) => (o.threads = 0), /: threads: expected an integer in 1\.\.256, got 0/],
    ['fractional threads', (o) => (o.threads = 1.5), /: threads: expected an integer in 1\.\.256, got 1\.5/],
    ['threads as a string', (o) => (o.threads = '2'), /: threads: expected an integer in 1\.\.256, got "2"/],
  ])('rejects %s, naming file and path', (_what, mutate, message) => {
    const o = goodNode();
    mutate(o);
    const msg = configError(() => parseNodeConfig(_what === 'root not an object' ? [] : o, FILE, BASE));
    expect(msg.startsWith(`${FILE}: `)).toBe(true);
    expect(msg).toMatch(message);
  });

  it('keeps an input named __proto__ as data', () => {
    const o = goodNode();
    o.datasets = JSON.parse('{"__proto__": {"file": "p.csv"}}');
    const c = parseNodeConfig(o, FILE, BASE);
    expect(Object.getPrototypeOf(c.datasets)).toBe(Object.prototype);
    expect(Object.keys(c.datasets)).toEqual(['__proto__']);
  });
});

describe('dealer and cluster configs', () => {
  const parties = goodNode().parties;
  const tls = { ca: 'ca.crt', cert: 'alice/cert.pem', key: 'alice/key.pem' };

  it('parse good ones', () => {
    const d = parseDealerConfig({ federation: 'demo', id: 'dealer', listen: { host: '127.0.0.1', port: 7100 }, tls, parties }, '/fed/dealer.json', '/fed');
    expect(d.tls.cert).toBe('/fed/alice/cert.pem');
    const c = parseClusterConfig({ federation: 'demo', tls, analyst: 'alice', parties, dealer: null }, '/fed/cluster.json', '/fed');
    expect(c).toMatchObject({ analyst: 'alice', dealer: null });
  });

  it('reject bad ones with file and path', () => {
    expect(
      configError(() => parseDealerConfig({ federation: 'demo', id: 'p1', listen: { host: 'h', port: 1 }, tls, parties }, 'dealer.json', '/')),
    ).toBe('dealer.json: id: "p1" is also a party id');
    expect(configError(() => parseClusterConfig({ federation: 'demo', tls, analyst: '', parties }, 'cluster.json', '/'))).toMatch(
      /^cluster\.json: analyst: expected an id/,
    );
  });
});

describe('loading from disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports JSON syntax errors with line and column', () => {
    const f = join(dir, 'broken.node.json');
    writeFileSync(f, '{\n  "federation": "demo",\n  "party": "p1" oops\n}\n');
    expect(configError(() => loadNodeConfig(f))).toMatch(new RegExp(`^${f}:3:\\d+: invalid JSON`));
  });

  it('reports a missing config file and missing TLS files', () => {
    expect(configError(() => loadNodeConfig(join(dir, 'nope.json')))).toMatch(/cannot read config file .*nope\.json/);
    const f = join(dir, 'p1.node.json');
    writeFileSync(f, JSON.stringify(goodNode()));
    expect(configError(() => loadNodeConfig(f))).toBe(`${f}: tls.ca: file not found: ${join(dir, 'ca.crt')}`);
    expect(configError(() => loadTlsMaterial({ ca: join(dir, 'x.crt'), cert: '', key: '' }))).toMatch(/cannot read TLS ca file/);
  });

  it('reads a cluster file whose TLS files exist', () => {
    for (const name of ['ca.crt', 'c.pem', 'k.pem']) writeFileSync(join(dir, name), name);
    const f = join(dir, 'cluster.json');
    writeFileSync(
      f,
      JSON.stringify({ federation: 'demo', tls: { ca: 'ca.crt', cert: 'c.pem', key: 'k.pem' }, analyst: 'alice', parties: goodNode().parties, dealer: null }),
    );
    const c = loadClusterConfig(f);
    expect(loadTlsMaterial(c.tls)).toEqual({ ca: 'ca.crt', cert: 'c.pem', key: 'k.pem' });
  });
});
