// Signed job requests. Negative cases first: every way a request can be expired, replayed,
// altered, signed by the wrong key or malformed must fail loudly, with a stable reason word
// and without any data value in the message. Then the positive path, and a known-answer
// vector (fixed CA, certificate, request and signature) that pins the signed bytes.
import { sign, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { pack, unpack } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import type { Identity } from '../../src/security/identity.ts';
import { createCA, issueCertificate, selfSignedCertificate } from '../../src/security/pki.ts';
import type { KeyPairPem } from '../../src/security/pki.ts';
import {
  canonicalRequestBytes,
  CLOCK_SKEW_MS,
  JobRequestRefused,
  MAX_REQUEST_TTL_MS,
  parseSignedJobRequest,
  planRecipients,
  ReplayCache,
  signJobRequest,
  verifyJobRequest,
} from '../../src/security/request.ts';
import type { JobRequest, JobRequestFields, RequestExpectation, RequestRefusal, SignedJobRequest } from '../../src/security/request.ts';

const KAT_CA = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBjjCCATOgAwIBAgIQXZHJ46ufaAhuFxGvNV/dHjAKBggqhkjOPQQDAjAZMRcw',
  'FQYDVQQDEw5UZXNzZXJhIENBIGthdDAgFw0yNTAxMDEwMDAwMDBaGA8yMTI1MDEw',
  'MTAwMDAwMFowGTEXMBUGA1UEAxMOVGVzc2VyYSBDQSBrYXQwWTATBgcqhkjOPQIB',
  'BggqhkjOPQMBBwNCAAQcUMIR6ztprK0Ur29pezFr/5oiPRupkTqaTaJ1okYy9rqG',
  'JsNP0ia8IxzN36e8QAktclLbehcV22iqr6po6fB9o1swWTAPBgNVHRMBAf8EBTAD',
  'AQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUVzC9ozpSFct4c8rLxIY+XGBh',
  '0/QwFwYDVR0RBBAwDoYMc3BpZmZlOi8va2F0MAoGCCqGSM49BAMCA0kAMEYCIQDV',
  'KNM6DJMbQu75oH6OWcztdBoxps8rWFO3eWP+OnuA6wIhAKOir2PGGM/eWWYniY0a',
  'rUvqOD9Xj6uBPCz27e03iuUC',
  '-----END CERTIFICATE-----',
].join('\n');
const KAT_CERT = [
  '-----BEGIN CERTIFICATE-----',
  'MIICCTCCAbCgAwIBAgIQazyry0PZPFVS90oDUUd6ZTAKBggqhkjOPQQDAjAZMRcw',
  'FQYDVQQDEw5UZXNzZXJhIENBIGthdDAgFw0yNTAxMDEwMDAwMDBaGA8yMTI1MDEw',
  'MTAwMDAwMFowODEOMAwGA1UEAxMFYWxpY2UxEDAOBgNVBAsTB2FuYWx5c3QxFDAS',
  'BgNVBAoTC1Rlc3NlcmEga2F0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYi/z',
  'NSYKxbjRBxQoPOI9CZKig9q8GGVo7/Fi/Ef/+ylWc2VTm7cyHXd1SEEnFw8Y1C4P',
  'glaf0WMBXn03OAMoCKOBuDCBtTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIH',
  'gDAdBgNVHSUEFjAUBggrBgEFBQcDAQYIKwYBBQUHAwIwHQYDVR0OBBYEFCZ21iti',
  'ovVcwIEJ+0jlUTZ7fXLXMDYGA1UdEQQvMC2GGnNwaWZmZTovL2thdC9hbmFseXN0',
  'L2FsaWNlgglsb2NhbGhvc3SHBH8AAAEwHwYDVR0jBBgwFoAUVzC9ozpSFct4c8rL',
  'xIY+XGBh0/QwCgYIKoZIzj0EAwIDRwAwRAIgcfZaBmcsZndJmh5QOOxw9nitFfbH',
  'VLdxM1D1X6sUS34CIFSxTQG0TUg2UxauHZD/Xw3OL35kxJn6/x+URPb4k//0',
  '-----END CERTIFICATE-----',
].join('\n');
const KAT_SIG = 'MEQCIBn63IaissAlLJp4Mefsit1owmCFHhdTz2F2XYkZhZV9AiAqKyOP8fPsu8MqufozEyCx7JCqFhrXuOtBtsEKOZABPQ==';

const FED = 'demo';
const ALICE: Identity = { federation: FED, role: 'analyst', id: 'alice' };
const BOB: Identity = { federation: FED, role: 'analyst', id: 'bob' };
const P1: Identity = { federation: FED, role: 'party', id: 'p1' };
const HASH = 'c0ffee'.padEnd(64, '0');
const OTHER_HASH = 'beef'.padEnd(64, '1');
const JOB = '0123456789abcdef0123456789abcdef';
const NOW = Date.now();

const FIELDS: JobRequestFields = {
  federation: FED,
  analyst: 'alice',
  jobId: JOB,
  planHash: HASH,
  recipients: ['p2', 'analyst', 'p1', 'analyst'],
  security: 'malicious',
  preprocessing: 'dealer',
  pad: true,
};
const EXPECT: RequestExpectation = {
  jobId: JOB,
  planHash: HASH,
  recipients: ['p1', 'analyst', 'p2'],
  security: 'malicious',
  preprocessing: 'dealer',
  pad: true,
};

let ca: KeyPairPem;
let alice: { cert: string; key: string };
let bob: { cert: string; key: string };
let p1: { cert: string; key: string };
const tlsOf = (k: KeyPairPem) => ({ cert: k.certPem, key: k.keyPem });

beforeAll(async () => {
  ca = await createCA(FED);
  alice = tlsOf(await issueCertificate(ca, ALICE));
  bob = tlsOf(await issueCertificate(ca, BOB));
  p1 = tlsOf(await issueCertificate(ca, P1));
});

/** A fresh request signed by alice at `now`. */
const signed = (over: Partial<JobRequestFields> = {}, opts: { now?: number; ttlMs?: number } = {}): SignedJobRequest =>
  signJobRequest({ ...FIELDS, ...over }, alice, { now: NOW, ...opts });

/** Sign `request` as is with `key`: how an attacker holding some key would make one. */
function forge(request: JobRequest, key: { cert: string; key: string }): SignedJobRequest {
  return { request, cert: key.cert, sig: sign('sha256', canonicalRequestBytes(request), key.key).toString('base64') };
}

function check(
  s: SignedJobRequest,
  over: { peer?: Identity; expect?: Partial<RequestExpectation>; now?: number; replay?: ReplayCache; caPem?: string } = {},
): JobRequest {
  return verifyJobRequest(s, {
    caPem: over.caPem ?? ca.certPem,
    peer: over.peer ?? ALICE,
    expect: { ...EXPECT, ...over.expect },
    now: over.now ?? NOW,
    replay: over.replay ?? new ReplayCache(),
  });
}

/** A CA with the subject and subject key id of `real`, but its own key. */
async function lookalikeCA(real: KeyPairPem): Promise<KeyPairPem> {
  const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1];
  const realCert = new x509.X509Certificate(real.certPem);
  const ski = realCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: realCert.subjectName.toString(),
      notBefore: new Date(NOW - 3_600_000),
      notAfter: new Date(NOW + 3_600_000),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.SubjectKeyIdentifierExtension(ski!.keyId)],
    },
    crypto,
  );
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: cert.toString('pem'), keyPem: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n` };
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

/** `fn` is refused with `reason`, FORBIDDEN, and the message leaks no value of the request. */
function refused(fn: () => unknown, reason: RequestRefusal, detail?: RegExp): JobRequestRefused {
  const e = caught(fn);
  expect(e).toBeInstanceOf(JobRequestRefused);
  expect(isMpcError(e, ErrorCode.FORBIDDEN)).toBe(true);
  const r = e as JobRequestRefused;
  expect(r.reason).toBe(reason);
  expect(r.message.startsWith(`${reason}: `)).toBe(true);
  if (detail) expect(r.message).toMatch(detail);
  for (const value of [HASH, OTHER_HASH, JOB, 'c0ffee', 'beef']) expect(r.message).not.toContain(value);
  return r;
}

function malformed(fn: () => unknown, field: string): void {
  const e = caught(fn);
  expect(isMpcError(e, ErrorCode.PROTOCOL)).toBe(true);
  expect(e.message).toContain(`field ${field} `);
}

describe('refused: time', () => {
  it('an expired request (one ms past expiresAt)', () => {
    const s = signed({}, { ttlMs: 60_000 });
    refused(() => check(s, { now: NOW + 60_001 }), 'expired', /expired at/);
  });

  it('a lifetime over five minutes, or of zero, even when correctly signed', () => {
    const long = forge({ ...signed().request, expiresAt: NOW + MAX_REQUEST_TTL_MS + 1 }, alice);
    refused(() => check(long), 'lifetime', /300000/);
    refused(() => check(forge({ ...signed().request, expiresAt: NOW }, alice)), 'lifetime');
    refused(() => check(forge({ ...signed().request, expiresAt: NOW - 1 }, alice)), 'lifetime');
  });

  it('a request issued further in the future than the clock skew', () => {
    const s = signed({}, { now: NOW + CLOCK_SKEW_MS + 1 });
    refused(() => check(s), 'not yet valid');
  });

  it('signing refuses a ttl outside 1..5 min', () => {
    expect(() => signed({}, { ttlMs: MAX_REQUEST_TTL_MS + 1 })).toThrow(RangeError);
    expect(() => signed({}, { ttlMs: 0 })).toThrow(RangeError);
    expect(() => signed({}, { ttlMs: 1.5 })).toThrow(/expected ttlMs in 1\.\.300000, got 1\.5/);
  });
});

describe('refused: replay', () => {
  it('the same request twice', () => {
    const replay = new ReplayCache();
    const s = signed();
    check(s, { replay });
    refused(() => check(s, { replay }), 'replayed');
    refused(() => check(s, { replay, now: NOW + 1000 }), 'replayed');
  });

  it('a new job signed with a used nonce', () => {
    const replay = new ReplayCache();
    const s = signed();
    check(s, { replay });
    const again = forge({ ...s.request, jobId: 'another-job-id' }, alice);
    refused(() => check(again, { replay, expect: { jobId: 'another-job-id' } }), 'replayed');
  });

  it('a refused request does not consume its nonce', () => {
    const replay = new ReplayCache();
    const s = signed();
    refused(() => check(s, { replay, expect: { pad: false } }), 'altered');
    refused(() => check(s, { replay, peer: BOB }), 'identity');
    expect(replay.size).toBe(0);
    check(s, { replay });
    expect(replay.size).toBe(1);
  });

  it('a full replay cache refuses new requests rather than forget live nonces', () => {
    const replay = new ReplayCache({ capacity: 2 });
    check(signed(), { replay });
    check(signed(), { replay });
    const third = signed();
    refused(() => check(third, { replay }), 'replay cache full', /remembers 2 live requests/);
    // Once the first two have expired (plus the skew), there is room again.
    const later = NOW + 120_000 + CLOCK_SKEW_MS + 1;
    check(signed({}, { now: later }), { replay, now: later });
  });
});

describe('refused: altered', () => {
  const changes: Array<[keyof RequestExpectation, Partial<RequestExpectation>]> = [
    ['jobId', { jobId: 'ffffffffffffffffffffffffffffffff' }],
    ['planHash', { planHash: OTHER_HASH }],
    ['recipients', { recipients: ['analyst', 'p1'] }],
    ['recipients', { recipients: ['analyst', 'p1', 'p2', 'p3'] }],
    ['security', { security: 'semi-honest' }],
    ['preprocessing', { preprocessing: 'ot' }],
    ['pad', { pad: false }],
  ];
  it.each(changes)('a request whose %s differs from what the node received', (field, expectOver) => {
    const r = refused(() => check(signed(), { expect: expectOver }), 'altered');
    expect(r.message).toBe(`altered: request field ${field} does not match the submitted plan`);
  });

  it('the node compares recipients as a set, in any order', () => {
    expect(check(signed(), { expect: { recipients: ['p2', 'p1', 'analyst', 'p1'] } }).recipients).toEqual(['analyst', 'p1', 'p2']);
  });

  it('a flipped signature byte', () => {
    const s = signed();
    const sig = Buffer.from(s.sig, 'base64');
    for (const at of [0, 10, sig.length - 1]) {
      const bad = Buffer.from(sig);
      bad[at] ^= 0x01;
      refused(() => check({ ...s, sig: bad.toString('base64') }), 'signature');
    }
  });

  it('a field changed after signing', () => {
    const s = signed();
    const edits: Partial<JobRequest>[] = [
      { planHash: OTHER_HASH },
      { jobId: 'x'.repeat(32) },
      { recipients: ['analyst'] },
      { pad: false },
      { security: 'semi-honest' },
      { expiresAt: s.request.expiresAt + 60_000 },
      { nonce: '0'.repeat(32) },
    ];
    for (const edit of edits) refused(() => check({ ...s, request: { ...s.request, ...edit } }), 'signature');
  });

  it("another analyst's valid signature over the same request", () => {
    const s = signed();
    refused(() => check({ ...s, sig: forge(s.request, bob).sig }), 'signature');
  });
});

describe('refused: certificate and identity', () => {
  it('a certificate from another CA (same federation name), or self-signed', async () => {
    const rogue = await createCA(FED);
    const fake = tlsOf(await issueCertificate(rogue, ALICE));
    refused(() => check(forge(signed().request, fake)), 'certificate', /did not issue/);
    const self = tlsOf(await selfSignedCertificate(ALICE));
    refused(() => check(forge(signed().request, self)), 'certificate', /did not issue/);
    // The CA's own certificate is not a leaf that can sign requests.
    refused(() => check(forge(signed().request, { cert: ca.certPem, key: ca.keyPem })), 'certificate');
  });

  it('a CA bundle (a federation moving to a new CA) trusts each of its CAs, and no other', async () => {
    const next = await createCA(FED);
    const bundle = `${next.certPem}\n${ca.certPem}`;
    const s = signed();
    expect(check(s, { caPem: bundle }).jobId).toBe(FIELDS.jobId);
    const moved = tlsOf(await issueCertificate(next, ALICE));
    expect(check(forge(s.request, moved), { caPem: bundle }).jobId).toBe(FIELDS.jobId);
    const rogue = tlsOf(await issueCertificate(await createCA(FED), ALICE));
    refused(() => check(forge(s.request, rogue), { caPem: bundle }), 'certificate', /did not issue/);
  });

  it("a CA impersonating the federation CA's name and key id (only the signature tells them apart)", async () => {
    const fake = tlsOf(await issueCertificate(await lookalikeCA(ca), ALICE));
    refused(() => check(forge(signed().request, fake)), 'certificate', /did not issue/);
  });

  it('an expired, or not yet valid, certificate', async () => {
    const old = tlsOf(await issueCertificate(ca, ALICE, { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-02-01T00:00:00Z') }));
    refused(() => check(forge(signed().request, old)), 'certificate', /valid 2020-01-01T00:00:00\.000Z to 2020-02-01/);
    const future = tlsOf(await issueCertificate(ca, ALICE, { notBefore: new Date(NOW + 3_600_000), notAfter: new Date(NOW + 7_200_000) }));
    refused(() => check(forge(signed().request, future)), 'certificate');
  });

  it('an unreadable certificate', () => {
    const s = signed();
    refused(() => check({ ...s, cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), 'certificate', /no readable/);
  });

  it("a party's certificate signing a job request", () => {
    const asParty = forge({ ...signed().request, analyst: 'p1' }, p1);
    refused(() => check(asParty, { peer: P1 }), 'identity', /signed by party p1@demo; only an analyst/);
    refused(() => check(asParty), 'identity', /only an analyst/);
    // And the analyst's own tool will not sign with a party's key.
    const e = caught(() => signJobRequest({ ...FIELDS, analyst: 'p1' }, p1, { now: NOW }));
    expect(isMpcError(e, ErrorCode.CONFIG)).toBe(true);
    expect(e.message).toMatch(/certificate is party p1@demo/);
  });

  it("an analyst signing for another analyst's channel", () => {
    const byBob = signJobRequest({ ...FIELDS, analyst: 'bob' }, bob, { now: NOW });
    refused(() => check(byBob), 'identity', /signed by analyst bob@demo but came from analyst alice@demo/);
  });

  it('a request naming another analyst than its signer', () => {
    const named = forge({ ...signed().request, analyst: 'bob' }, alice);
    refused(() => check(named), 'identity', /names analyst bob@demo but is signed by analyst alice@demo/);
    const otherFed = forge({ ...signed().request, federation: 'elsewhere' }, alice);
    refused(() => check(otherFed), 'identity');
  });

  it('signing refuses a key that is not the certificate’s, or fields naming someone else', () => {
    const wrongKey = caught(() => signJobRequest(FIELDS, { cert: alice.cert, key: bob.key }, { now: NOW }));
    expect(isMpcError(wrongKey, ErrorCode.CONFIG)).toBe(true);
    expect(wrongKey.message).toMatch(/private key does not belong to the certificate/);
    expect(() => signJobRequest({ ...FIELDS, analyst: 'bob' }, alice, { now: NOW })).toThrow(/certificate is analyst alice@demo, but the request is for analyst bob@demo/);
    expect(() => signJobRequest(FIELDS, { cert: alice.cert, key: 'not a key' }, { now: NOW })).toThrow(/not valid PEM/);
  });

  it('signing refuses a malformed field, naming it', () => {
    const e = caught(() => signJobRequest({ ...FIELDS, planHash: 'XYZ' }, alice, { now: NOW }));
    expect(isMpcError(e, ErrorCode.CONFIG)).toBe(true);
    expect(e.message).toBe('cannot sign the job request: field request.planHash is missing or malformed');
    expect(() => signJobRequest({ ...FIELDS, recipients: ['analyst', 'p 1'] }, alice, { now: NOW })).toThrow(/field request\.recipients/);
  });
});

describe('refused: malformed bodies', () => {
  const good = (): Record<string, unknown> => JSON.parse(JSON.stringify(signed()));
  const req = (b: Record<string, unknown>) => b.request as Record<string, unknown>;

  it.each([null, 42, 'x', [], [1]])('a body that is not an object: %j', (b) => {
    malformed(() => parseSignedJobRequest(b, 'alice'), 'body');
  });

  it.each(['request', 'cert', 'sig'])('a missing %s', (k) => {
    const b = good();
    delete b[k];
    malformed(() => parseSignedJobRequest(b, 'alice'), `body.${k}`);
  });

  it('an extra field, outside or inside the request', () => {
    malformed(() => parseSignedJobRequest({ ...good(), chain: [] }, 'alice'), 'body.chain');
    const b = good();
    req(b).admin = true;
    malformed(() => parseSignedJobRequest(b, 'alice'), 'body.request.admin');
  });

  const wrong: Array<[string, unknown]> = [
    ['v', 2],
    ['v', '1'],
    ['federation', 'bad fed'],
    ['analyst', ''],
    ['analyst', 7],
    ['jobId', 'a/b'],
    ['jobId', 'x'.repeat(129)],
    ['planHash', HASH.toUpperCase()],
    ['planHash', HASH.slice(1)],
    ['recipients', 'analyst'],
    ['recipients', ['p1', 'analyst']],
    ['recipients', ['analyst', 'analyst']],
    ['recipients', ['analyst', 3]],
    ['security', 'none'],
    ['preprocessing', 'fake'],
    ['pad', 1],
    ['nonce', 'ABCDEF'.padEnd(32, '0')],
    ['nonce', '00'],
    ['issuedAt', -1],
    ['issuedAt', 1.5],
    ['expiresAt', '1767225720000'],
    ['expiresAt', Number.MAX_SAFE_INTEGER + 2],
  ];
  it.each(wrong)('request.%s = %j', (k, v) => {
    const b = good();
    req(b)[k] = v;
    malformed(() => parseSignedJobRequest(b, 'alice'), `body.request.${k}`);
  });

  it.each([
    ['cert', 42],
    ['cert', 'not a pem'],
    ['cert', 'x'.repeat(20_000)],
    ['sig', ''],
    ['sig', 'MEQC!!=='],
    ['sig', 'AAA'],
    ['sig', 'AAB='],
  ])('%s = %j', (k, v) => {
    malformed(() => parseSignedJobRequest({ ...good(), [k]: v }, 'alice'), `body.${k}`);
  });

  it('a certificate bundle in place of one certificate', () => {
    const b = good();
    malformed(() => parseSignedJobRequest({ ...b, cert: `${b.cert as string}\n${ca.certPem}` }, 'alice'), 'body.cert');
  });

  it('names the sender, and verify re-checks the shape too', () => {
    const e = caught(() => parseSignedJobRequest({}, 'mallory')) as Error & { party?: string };
    expect(e.message).toBe('signed job request from mallory: field body.request is missing or malformed');
    expect(e.party).toBe('mallory');
    const s = signed();
    malformed(() => check({ ...s, request: { ...s.request, extra: 1 } as unknown as JobRequest }), 'body.request.extra');
  });
});

describe('accepted', () => {
  it('a fresh request, sent through msgpack as a frame body is, and back from JSON as an audit entry is', () => {
    const s = signed();
    expect(s.request.recipients).toEqual(['analyst', 'p1', 'p2']);
    expect(s.request.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(s.request.expiresAt - s.request.issuedAt).toBe(120_000);
    const wire = parseSignedJobRequest(unpack(pack(s)), 'alice');
    expect(check(wire)).toEqual(s.request);
    expect(check(parseSignedJobRequest(JSON.parse(JSON.stringify(s)), 'alice'))).toEqual(s.request);
  });

  it('at the edges: at expiresAt, issued exactly the skew ahead, five minutes of lifetime', () => {
    check(signed({}, { ttlMs: 60_000 }), { now: NOW + 60_000 });
    check(signed({}, { now: NOW + CLOCK_SKEW_MS }));
    check(signed({}, { ttlMs: MAX_REQUEST_TTL_MS }), { now: NOW + MAX_REQUEST_TTL_MS });
  });

  it('fresh nonces for each signature', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => signed().request.nonce));
    expect(nonces.size).toBe(50);
  });

  it('planRecipients: every output recipient, sorted and unique', () => {
    expect(planRecipients({ outputs: [{ to: ['p2', 'analyst'] }, { to: ['analyst'] }, { to: ['p1'] }] })).toEqual(['analyst', 'p1', 'p2']);
  });
});

describe('known answer', () => {
  const request: JobRequest = {
    v: 1,
    federation: 'kat',
    analyst: 'alice',
    jobId: '00112233445566778899aabbccddeeff',
    planHash: '0123456789abcdef'.repeat(4),
    recipients: ['analyst', 'p1'],
    security: 'malicious',
    preprocessing: 'dealer',
    pad: true,
    nonce: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
    issuedAt: 1767225600000, // 2026-01-01T00:00:00Z
    expiresAt: 1767225720000,
  };

  it('pins the canonical bytes', () => {
    expect(canonicalRequestBytes(request).toString('utf8')).toBe(
      'tessera job request v1\n' +
        '{"v":1,"federation":"kat","analyst":"alice","jobId":"00112233445566778899aabbccddeeff",' +
        '"planHash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",' +
        '"recipients":["analyst","p1"],"security":"malicious","preprocessing":"dealer","pad":true,' +
        '"nonce":"f0e1d2c3b4a5968778695a4b3c2d1e0f","issuedAt":1767225600000,"expiresAt":1767225720000}',
    );
    // Key order as received does not matter: the bytes are built field by field.
    const shuffled = Object.fromEntries(Object.entries(request).reverse()) as unknown as JobRequest;
    expect(canonicalRequestBytes(shuffled).equals(canonicalRequestBytes(request))).toBe(true);
  });

  it('verifies a signature made once with a fixed key (CA and certificate valid 2025..2125)', () => {
    const s = parseSignedJobRequest({ request, cert: KAT_CERT, sig: KAT_SIG }, 'alice');
    const ctx = {
      caPem: KAT_CA,
      peer: { federation: 'kat', role: 'analyst', id: 'alice' } as Identity,
      expect: { jobId: request.jobId, planHash: request.planHash, recipients: ['p1', 'analyst'], security: 'malicious', preprocessing: 'dealer', pad: true } as RequestExpectation,
      now: request.issuedAt + 1000,
      replay: new ReplayCache(),
    };
    expect(verifyJobRequest(s, ctx)).toEqual(request);
    refused(() => verifyJobRequest(s, ctx), 'replayed');
    refused(() => verifyJobRequest(s, { ...ctx, replay: new ReplayCache(), caPem: ca.certPem }), 'certificate');
  });
});

describe('ReplayCache', () => {
  it('remembers a nonce until its expiry plus the skew, then forgets it', () => {
    const c = new ReplayCache();
    expect(c.claim('n1', 1000, 0)).toBe('ok');
    expect(c.claim('n1', 1000, 1000 + CLOCK_SKEW_MS)).toBe('replayed');
    expect(c.claim('n2', 5000, 1000 + CLOCK_SKEW_MS + 1)).toBe('ok');
    expect(c.size).toBe(1); // n1 swept
    expect(c.claim('n1', 90_000, 1000 + CLOCK_SKEW_MS + 1)).toBe('ok');
  });

  it('is bounded, and refuses rather than evicts live nonces', () => {
    const c = new ReplayCache({ capacity: 3 });
    for (const n of ['a', 'b', 'c']) expect(c.claim(n, 10_000, 0)).toBe('ok');
    expect(c.claim('d', 10_000, 1)).toBe('full');
    expect(c.claim('a', 10_000, 1)).toBe('replayed');
    expect(c.size).toBe(3);
    expect(c.claim('d', 50_000, 10_000 + CLOCK_SKEW_MS + 1)).toBe('ok');
    expect(c.size).toBe(1);
  });

  it('validates its capacity', () => {
    expect(() => new ReplayCache({ capacity: 0 })).toThrow(RangeError);
  });
});
