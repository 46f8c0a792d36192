// Read the first describe block first: a CA, a leaf, and the identity read back out of it.
// The rest checks the certificates against OpenSSL as node:tls uses it, over a real TLS 1.3
// socket: a CA-issued client is let in, and self-signed, expired and foreign-CA clients are not.
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import type { Identity } from '../../src/security/identity.ts';
import {
  certificateHosts,
  createCA,
  fingerprint,
  identityFromCertificate,
  issueCertificate,
  selfSignedCertificate,
} from '../../src/security/pki.ts';
import type { KeyPairPem } from '../../src/security/pki.ts';

const FED = 'demo';
const P1: Identity = { federation: FED, role: 'party', id: 'p1' };
const P2: Identity = { federation: FED, role: 'party', id: 'p2' };
const ALICE: Identity = { federation: FED, role: 'analyst', id: 'alice' };
const DAY = 24 * 3600 * 1000;

let ca: KeyPairPem;
beforeAll(async () => {
  ca = await createCA(FED);
});

describe('CA and leaf issuance', () => {
  it('creates a self-signed CA with the federation URI', () => {
    const c = new X509Certificate(ca.certPem);
    expect(c.ca).toBe(true);
    expect(c.subject).toBe('CN=Tessera CA demo');
    expect(c.subjectAltName).toBe('URI:spiffe://demo');
    expect(c.checkIssued(c)).toBe(true);
    expect(c.verify(c.publicKey)).toBe(true);
    const years = (Date.parse(c.validTo) - Date.now()) / (365.25 * DAY);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('issues a leaf carrying the identity URI, host SANs and both TLS usages', async () => {
    const leaf = await issueCertificate(ca, P1, { hosts: ['localhost', '127.0.0.1', 'node1.example', '::1'] });
    const c = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(c.ca).toBe(false);
    expect(c.checkIssued(caCert)).toBe(true);
    expect(c.verify(caCert.publicKey)).toBe(true);
    expect(c.subjectAltName).toBe(
      'URI:spiffe://demo/party/p1, DNS:localhost, IP Address:127.0.0.1, DNS:node1.example, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(c.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(c.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const days = (Date.parse(c.validTo) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(367);
    expect(identityFromCertificate(leaf.certPem)).toEqual(P1);
  });

  it('uses default hosts, random serials and honours explicit validity', async () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2030-02-01T00:00:00Z');
    const a = await issueCertificate(ca, P1, { notBefore, notAfter });
    const b = await issueCertificate(ca, P1);
    const ca1 = new X509Certificate(a.certPem);
    expect(ca1.subjectAltName).toBe('URI:spiffe://demo/party/p1, DNS:localhost, IP Address:127.0.0.1');
    expect(new Date(ca1.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(ca1.validTo).toISOString()).toBe(notAfter.toISOString());
    expect(ca1.serialNumber).not.toBe(new X509Certificate(b.certPem).serialNumber);
  });

  it('refuses a non-CA certificate as issuer, and an empty validity window', async () => {
    const leaf = await issueCertificate(ca, P1);
    await expect(issueCertificate(leaf, P2)).rejects.toThrow(/not a CA/);
    const t = new Date();
    await expect(issueCertificate(ca, P2, { notBefore: t, notAfter: t })).rejects.toThrow(RangeError);
  });

  it('issues auditor certificates like any other principal', async () => {
    const auditor: Identity = { federation: FED, role: 'auditor', id: 'olga' };
    const leaf = await issueCertificate(ca, auditor);
    expect(identityFromCertificate(leaf.certPem)).toEqual(auditor);
    expect(new X509Certificate(leaf.certPem).subjectAltName).toMatch(/^URI:spiffe:\/\/demo\/auditor\/olga, /);
  });

  it('reads back the host SANs a renewal must keep', async () => {
    const leaf = await issueCertificate(ca, P1, { hosts: ['localhost', 'node1.example', '192.0.2.7', '::1'] });
    expect(certificateHosts(leaf.certPem)).toEqual(['localhost', 'node1.example', '192.0.2.7', '0:0:0:0:0:0:0:1']);
    // Those values are accepted again as hosts: a renewed certificate names the same hosts.
    const again = await issueCertificate(ca, P1, { hosts: certificateHosts(leaf.certPem) });
    expect(new X509Certificate(again.certPem).subjectAltName).toBe(new X509Certificate(leaf.certPem).subjectAltName);
    expect(certificateHosts(ca.certPem)).toEqual([]);
  });

  it('fingerprints the DER with SHA-256', () => {
    const expected = new X509Certificate(ca.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
    expect(fingerprint(ca.certPem)).toBe(expected);
    expect(fingerprint(ca.certPem)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('identityFromCertificate', () => {
  it('reads node X509Certificate, PeerCertificate-style objects and PEM', async () => {
    const leaf = await issueCertificate(ca, ALICE);
    const x = new X509Certificate(leaf.certPem);
    expect(identityFromCertificate(x)).toEqual(ALICE);
    expect(identityFromCertificate({ subjectaltname: x.subjectAltName })).toEqual(ALICE);
    expect(identityFromCertificate(leaf.certPem)).toEqual(ALICE);
    expect(
      identityFromCertificate({ subjectaltname: 'DNS:localhost, URI:spiffe://fed/dealer/dealer, IP Address:127.0.0.1' }),
    ).toEqual({ federation: 'fed', role: 'dealer', id: 'dealer' });
  });

  it.each([
    ['no SAN at all', {}],
    ['no spiffe URI', { subjectaltname: 'DNS:localhost, URI:https://example.org/' }],
    ['two spiffe URIs', { subjectaltname: 'URI:spiffe://fed/party/p1, URI:spiffe://fed/party/p2' }],
    ['a malformed spiffe URI', { subjectaltname: 'URI:spiffe://fed/root/p1' }],
    // Node quotes SAN values with commas; the quoted value must not split into a second entry.
    ['a quoted value hiding a second entry', { subjectaltname: 'URI:"spiffe://x, URI:spiffe://fed/party/p1"' }],
    ['the CA (federation URI only)', undefined],
  ])('rejects %s with PEER_AUTH', (_what, cert) => {
    let err: unknown;
    try {
      identityFromCertificate(cert ?? ca.certPem);
    } catch (e) {
      err = e;
    }
    expect(isMpcError(err, ErrorCode.PEER_AUTH)).toBe(true);
  });
});

describe('mutual TLS 1.3 with node:tls', () => {
  let server: tls.Server;
  let port: number;

  beforeAll(async () => {
    const serverKeys = await issueCertificate(ca, P1);
    server = tls.createServer({
      minVersion: 'TLSv1.3',
      requestCert: true,
      rejectUnauthorized: true,
      ca: ca.certPem,
      cert: serverKeys.certPem,
      key: serverKeys.keyPem,
    });
    server.on('secureConnection', (s) => {
      s.on('error', () => {});
      s.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  interface Verdict {
    accepted: boolean;
    peer?: Identity;
    serverError?: Error;
    /** OpenSSL's reason for rejecting the client certificate, e.g. CERT_HAS_EXPIRED. */
    reason?: string;
  }

  /**
   * Connect with `client` and report how the server judged it. In TLS 1.3 the client finishes
   * its side of the handshake before the server has checked the client certificate, so the
   * verdict is the server's: node destroys the socket (tlsClientError, with the OpenSSL reason
   * in `authorizationError`) instead of emitting secureConnection.
   */
  function connect(client: Partial<KeyPairPem>): Promise<Verdict & { clientGotData: boolean }> {
    return new Promise((resolve) => {
      let settled = false;
      let result: Verdict | undefined;
      let clientDone = false;
      let clientGotData = false;
      const finish = () => {
        if (!settled && result !== undefined && clientDone) {
          settled = true;
          server.off('secureConnection', onSecure);
          server.off('tlsClientError', onError);
          resolve({ ...result, clientGotData });
        }
      };
      const onSecure = (s: tls.TLSSocket) => {
        result = { accepted: s.authorized, peer: identityFromCertificate(s.getPeerCertificate()) };
        finish();
      };
      const onError = (e: Error, s: tls.TLSSocket) => {
        result = { accepted: false, serverError: e, reason: String(s.authorizationError) };
        finish();
      };
      server.on('secureConnection', onSecure);
      server.on('tlsClientError', onError);
      const sock = tls.connect({
        host: '127.0.0.1',
        port,
        minVersion: 'TLSv1.3',
        ca: ca.certPem,
        cert: client.certPem,
        key: client.keyPem,
      });
      sock.on('data', () => {
        clientGotData = true;
      });
      sock.on('error', () => {});
      sock.on('close', () => {
        clientDone = true;
        finish();
      });
    });
  }

  it('accepts a CA-issued client and sees its identity', async () => {
    const r = await connect(await issueCertificate(ca, ALICE));
    expect(r.serverError).toBeUndefined();
    expect(r.accepted).toBe(true);
    expect(r.peer).toEqual(ALICE);
    expect(r.clientGotData).toBe(true);
  });

  it('refuses a self-signed client certificate', async () => {
    const r = await connect(await selfSignedCertificate(ALICE));
    expect(r.accepted).toBe(false);
    expect(r.reason).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(r.clientGotData).toBe(false);
  });

  it('refuses an expired client certificate', async () => {
    const now = Date.now();
    const expired = await issueCertificate(ca, ALICE, { notBefore: new Date(now - 2 * DAY), notAfter: new Date(now - DAY) });
    const r = await connect(expired);
    expect(r.accepted).toBe(false);
    expect(r.reason).toBe('CERT_HAS_EXPIRED');
    expect(r.clientGotData).toBe(false);
  });

  it('refuses a client certificate from another CA, even with the same federation name', async () => {
    const otherCa = await createCA(FED);
    const r = await connect(await issueCertificate(otherCa, ALICE));
    expect(r.accepted).toBe(false);
    expect(r.reason).toMatch(/^UNABLE_TO_(GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE)$/);
    expect(r.clientGotData).toBe(false);
  });

  it('refuses a client without a certificate', async () => {
    const r = await connect({});
    expect(r.accepted).toBe(false);
    expect(r.serverError).toBeDefined();
    expect(r.clientGotData).toBe(false);
  });
});
