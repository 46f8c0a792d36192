// Certificates over time: expiry notices at a fixed clock, and the check a running process
// makes before it takes renewed TLS files into use. The refusals come first; the last test of
// each block is the accepted case.
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import type { Identity } from '../../src/security/identity.ts';
import {
  certificateExpiry,
  certificateSubject,
  checkTlsMaterial,
  expiryNotice,
  expiryWarning,
} from '../../src/security/certs.ts';
import { certificateHosts, createCA, issueCertificate, selfSignedCertificate } from '../../src/security/pki.ts';
import type { KeyPairPem } from '../../src/security/pki.ts';

const FED = 'demo';
const P1: Identity = { federation: FED, role: 'party', id: 'p1' };
const DAY = 24 * 3600 * 1000;
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const NOT_AFTER = new Date('2026-12-10T12:00:00Z');

let ca: KeyPairPem;
let leaf: KeyPairPem;
beforeAll(async () => {
  ca = await createCA(FED, { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2035-01-01T00:00:00Z') });
  leaf = await issueCertificate(ca, P1, { notBefore: NOT_BEFORE, notAfter: NOT_AFTER, hosts: ['node1.example', '10.0.0.1', '::1'] });
});

describe('expiry notices', () => {
  it('reads the end of validity and who the certificate is for', () => {
    expect(certificateExpiry(leaf.certPem).toISOString()).toBe(NOT_AFTER.toISOString());
    expect(certificateSubject(leaf.certPem)).toBe('party p1@demo');
    expect(certificateSubject(ca.certPem)).toBe('the federation CA (CN=Tessera CA demo)');
  });

  it('says an expired certificate at error level', () => {
    const n = expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() + 2.5 * DAY));
    expect(n).toMatchObject({ level: 'error', daysLeft: -2 });
    expect(n?.message).toBe('certificate of party p1@demo expired 2 days ago (2026-12-10T12:00:00.000Z); peers refuse it: renew it with mpc cert renew');
    expect(expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() + 1000))?.message).toMatch(/expired less than a day ago/);
  });

  it('warns within the window, with the days left', () => {
    const n = expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() - 3.2 * DAY));
    expect(n).toMatchObject({ level: 'warn', daysLeft: 3 });
    expect(n?.message).toBe('certificate of party p1@demo expires in 3 days (2026-12-10T12:00:00.000Z); renew it with mpc cert renew');
    expect(expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() - 1.5 * DAY))?.message).toMatch(/expires in 1 day \(/);
    expect(expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() - 3600_000))?.message).toMatch(/expires in less than a day/);
    expect(expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() - 20 * DAY), 30)?.level).toBe('warn');
  });

  it('says nothing outside the window, and refuses a negative window', () => {
    expect(expiryWarning(leaf.certPem, new Date(NOT_AFTER.getTime() - 14.01 * DAY))).toBeUndefined();
    expect(expiryWarning(leaf.certPem, NOT_BEFORE)).toBeUndefined();
    expect(() => expiryNotice('x', NOT_AFTER, NOT_BEFORE, -1)).toThrow(RangeError);
  });

  it('refuses text that is not a certificate', () => {
    expect(() => certificateExpiry('not a pem')).toThrow(/not a PEM certificate/);
  });
});

describe('certificateHosts', () => {
  it('returns the DNS and IP SANs a renewal must carry again', () => {
    expect(certificateHosts(leaf.certPem)).toEqual(['node1.example', '10.0.0.1', '0:0:0:0:0:0:0:1']);
  });
});

describe('checkTlsMaterial', () => {
  const during = new Date('2026-06-01T00:00:00Z');
  const files = { ca: '/fed/ca.crt', cert: '/fed/p1/cert.pem', key: '/fed/p1/key.pem' };
  const refusal = (m: { ca: string; cert: string; key: string }, opts: Parameters<typeof checkTlsMaterial>[1] = {}): Error => {
    try {
      checkTlsMaterial(m, { now: during, files, ...opts });
    } catch (e) {
      expect(isMpcError(e, ErrorCode.CONFIG)).toBe(true);
      // A refusal never quotes key material.
      expect((e as Error).message).not.toMatch(/PRIVATE KEY|BEGIN/);
      return e as Error;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a key that does not belong to the certificate', async () => {
    const other = await issueCertificate(ca, P1, { notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    expect(refusal({ ca: ca.certPem, cert: leaf.certPem, key: other.keyPem }).message).toBe(
      '/fed/p1/key.pem does not belong to the certificate in /fed/p1/cert.pem',
    );
  });

  it('refuses malformed PEMs, naming the file', () => {
    expect(refusal({ ca: ca.certPem, cert: leaf.certPem.slice(0, 100), key: leaf.keyPem }).message).toBe('/fed/p1/cert.pem is not a PEM certificate');
    expect(refusal({ ca: ca.certPem, cert: leaf.certPem, key: 'garbage' }).message).toBe('/fed/p1/key.pem is not a PEM private key');
    expect(refusal({ ca: 'nothing here', cert: leaf.certPem, key: leaf.keyPem }).message).toBe('/fed/ca.crt holds no certificate');
  });

  it('refuses a certificate for another principal than the running one', async () => {
    const p2 = await issueCertificate(ca, { ...P1, id: 'p2' }, { notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    expect(refusal({ ca: ca.certPem, cert: p2.certPem, key: p2.keyPem }, { expected: P1 }).message).toMatch(
      /^\/fed\/p1\/cert\.pem names party p2@demo, but this process runs as party p1@demo; a renewed certificate must name the same principal/,
    );
  });

  it('refuses a certificate of another CA, and a self-signed one', async () => {
    const other = await createCA(FED);
    const foreign = await issueCertificate(other, P1);
    expect(refusal({ ca: ca.certPem, cert: foreign.certPem, key: foreign.keyPem }, { now: new Date() }).message).toBe(
      '/fed/p1/cert.pem (party p1@demo) is not issued by the CA in /fed/ca.crt',
    );
    const self = await selfSignedCertificate(P1);
    expect(refusal({ ca: ca.certPem, cert: self.certPem, key: self.keyPem }, { now: new Date() }).message).toMatch(/is not issued by the CA/);
    // A leaf in the CA file is not a trust anchor, even when it "issued" itself.
    expect(refusal({ ca: self.certPem, cert: self.certPem, key: self.keyPem }, { now: new Date() }).message).toMatch(/is not issued by the CA/);
  });

  it('refuses an expired or not yet valid certificate', () => {
    const m = { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem };
    expect(refusal(m, { now: new Date(NOT_AFTER.getTime() + 1) }).message).toBe('/fed/p1/cert.pem (party p1@demo) expired at 2026-12-10T12:00:00.000Z');
    expect(refusal(m, { now: new Date(NOT_BEFORE.getTime() - 1) }).message).toMatch(/is not valid before 2026-01-01T00:00:00\.000Z/);
  });

  it('accepts a matching, CA-issued certificate of the same principal (also from a CA bundle)', async () => {
    const m = { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem };
    expect(checkTlsMaterial(m, { now: during, expected: P1 })).toEqual(P1);
    const other = await createCA(FED);
    expect(checkTlsMaterial({ ...m, ca: other.certPem + ca.certPem }, { now: during })).toEqual(P1);
    expect(checkTlsMaterial({ ...m, ca: [other.certPem, ca.certPem] }, { now: during })).toEqual(P1);
  });
});
