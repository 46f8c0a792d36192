/**
 * The federation's PKI: one self-signed CA per federation, and leaf certificates that carry a
 * principal's identity URI (`spiffe://<federation>/<role>/<id>`, see identity.ts) as a URI SAN.
 *
 * Keys are ECDSA P-256, made with node's WebCrypto and written as PKCS#8 PEM; certificates are
 * PEM. Both are exactly what `node:tls` takes for `ca`, `cert` and `key`, so the transport
 * needs no conversion. Chain and validity checks are left to OpenSSL inside node:tls
 * (`rejectUnauthorized: true` with the federation CA as the only trust anchor); this module
 * only issues certificates and reads the identity out of an already verified one.
 * @module
 */
import { createHash, randomBytes, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
// @peculiar/x509 registers its providers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ErrorCode, MpcError } from '../errors.ts';
import { formatIdentity, identityUri, isValidId, parseIdentityUri } from './identity.ts';
import type { Identity } from './identity.ts';

/** A certificate and its private key, both PEM (the key as PKCS#8 `PRIVATE KEY`). */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** Validity window of a certificate; unset bounds take the defaults of the issuing function. */
export interface ValidityOptions {
  notBefore?: Date;
  notAfter?: Date;
}

/** Options of {@link issueCertificate} and {@link selfSignedCertificate}. */
export interface LeafOptions extends ValidityOptions {
  /** Host names and IP addresses to add as DNS / IP SANs. Default `['localhost', '127.0.0.1']`. */
  hosts?: string[];
}

const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DEFAULT_HOSTS = ['localhost', '127.0.0.1'];
const DAY_MS = 24 * 3600 * 1000;
// Certificates are often made on one machine and used at once on another; back-dating the
// start by an hour keeps a peer whose clock is a little behind from rejecting a fresh cert.
const BACKDATE_MS = 3600 * 1000;
// Pass node's WebCrypto explicitly instead of relying on @peculiar/x509's global provider.
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];

/**
 * Create a federation's self-signed CA: basicConstraints CA (critical), keyCertSign + cRLSign,
 * subject `CN=Tessera CA <federation>`, URI SAN `spiffe://<federation>`. Default validity
 * 10 years.
 *
 * @example
 * const ca = await createCA('demo');
 * const p1 = await issueCertificate(ca, { federation: 'demo', role: 'party', id: 'p1' });
 */
export async function createCA(federation: string, opts: ValidityOptions = {}): Promise<KeyPairPem> {
  if (!isValidId(federation)) {
    throw new MpcError(ErrorCode.CONFIG, `invalid federation name ${JSON.stringify(federation)}`);
  }
  const { notBefore, notAfter } = validity(opts, 3652);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [`Tessera CA ${federation}`] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${federation}` }]),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/**
 * Issue a leaf certificate for `identity`, signed by `ca`: the identity URI as URI SAN, `hosts`
 * as DNS / IP SANs, extendedKeyUsage serverAuth + clientAuth (every process both accepts and
 * makes connections), a random 127-bit serial, default validity 1 year.
 */
export async function issueCertificate(ca: KeyPairPem, identity: Identity, opts: LeafOptions = {}): Promise<KeyPairPem> {
  const caCert = parseCertificate(ca.certPem, 'CA certificate');
  const basic = caCert.getExtension(x509.BasicConstraintsExtension);
  if (basic === null || !basic.ca) {
    throw new MpcError(ErrorCode.CONFIG, `cannot issue for ${formatIdentity(identity)}: the given CA certificate is not a CA`);
  }
  const caKey = await importKey(ca.keyPem);
  const keys = await generateKeys();
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  // The authority key id lets OpenSSL pick the right issuer; copy it from the CA's own SKI
  // so the two match byte for byte.
  const aki =
    ski !== null
      ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto);
  const cert = await x509.X509CertificateGenerator.create(
    {
      ...leafParams(identity, opts, keys),
      issuer: caCert.subjectName,
      signingKey: caKey,
      extensions: [...(await leafExtensions(identity, opts, keys)), aki],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/**
 * A self-signed leaf certificate with the same shape as {@link issueCertificate}'s (valid-looking
 * identity URI, serverAuth + clientAuth) but no CA behind it. For negative tests: a peer that
 * presents it must be refused.
 */
export async function selfSignedCertificate(identity: Identity, opts: LeafOptions = {}): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      ...leafParams(identity, opts, keys),
      name: leafName(identity),
      keys,
      extensions: await leafExtensions(identity, opts, keys),
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/**
 * The identity named by the single `spiffe://` URI SAN of a certificate. Accepts a PEM string,
 * node's `tls.PeerCertificate` (`subjectaltname`) or node's `crypto.X509Certificate`
 * (`subjectAltName`). Zero or several spiffe URIs, or a malformed one, throw MpcError PEER_AUTH.
 *
 * Call this only on a certificate node:tls has already verified against the federation CA
 * (`socket.authorized`); the SAN of an unverified certificate proves nothing.
 */
export function identityFromCertificate(
  cert: string | { subjectaltname?: string } | { subjectAltName?: string | undefined },
): Identity {
  let san: string | undefined;
  if (typeof cert === 'string') san = parseNodeCertificate(cert).subjectAltName;
  else if ('subjectaltname' in cert) san = cert.subjectaltname;
  else if ('subjectAltName' in cert) san = cert.subjectAltName;
  const uris = parseSubjectAltName(san ?? '')
    .filter(([kind, value]) => kind === 'URI' && /^"?spiffe:/i.test(value))
    .map(([, value]) => value);
  if (uris.length !== 1) {
    throw new MpcError(
      ErrorCode.PEER_AUTH,
      `certificate must carry exactly one spiffe:// URI SAN, found ${uris.length}` +
        (uris.length > 0 ? ` (${uris.join(', ')})` : ''),
    );
  }
  return parseIdentityUri(uris[0]);
}

/**
 * The DNS and IP SANs of a certificate, in certificate order (IPv6 as node prints them, which
 * `isIP` accepts): what a renewed certificate must carry again so peers keep reaching the
 * process under the same names. A quoted value (see {@link parseSubjectAltName}) is never
 * one we issued, so it is refused rather than carried over.
 */
export function certificateHosts(certPem: string): string[] {
  const hosts: string[] = [];
  for (const [kind, value] of parseSubjectAltName(parseNodeCertificate(certPem).subjectAltName ?? '')) {
    if (kind !== 'DNS' && kind !== 'IP Address') continue;
    if (value.startsWith('"')) throw new MpcError(ErrorCode.CONFIG, `certificate carries an unusual ${kind} SAN ${value}`);
    hosts.push(value);
  }
  return hosts;
}

/** SHA-256 of the certificate's DER, lowercase hex: a stable handle for logs and audits. */
export function fingerprint(certPem: string): string {
  return createHash('sha256').update(parseNodeCertificate(certPem).raw).digest('hex');
}

/**
 * Split node's SAN text (`URI:spiffe://fed/party/p1, DNS:localhost, IP Address:127.0.0.1`) into
 * `[kind, value]` pairs. Node JSON-quotes any value containing `,`, `"`, `\` or non-printable
 * characters (CVE-2021-44532), so a hostile certificate cannot smuggle a second entry into a
 * value: we skip over quoted values as a unit and keep them quoted, which a strict identity
 * parse then rejects.
 */
function parseSubjectAltName(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon).trim();
    let j = colon + 1;
    if (text[j] === '"') {
      j++;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      j++;
    } else {
      const comma = text.indexOf(', ', j);
      j = comma < 0 ? text.length : comma;
    }
    out.push([kind, text.slice(colon + 1, j)]);
    i = j;
    if (text.startsWith(', ', i)) i += 2;
  }
  return out;
}

function leafName(identity: Identity): x509.JsonName {
  return [{ CN: [identity.id] }, { OU: [identity.role] }, { O: [`Tessera ${identity.federation}`] }];
}

function leafParams(identity: Identity, opts: LeafOptions, keys: webcrypto.CryptoKeyPair) {
  const { notBefore, notAfter } = validity(opts, 365);
  return {
    serialNumber: randomSerial(),
    subject: leafName(identity),
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingAlgorithm: SIGNING,
  };
}

async function leafExtensions(identity: Identity, opts: LeafOptions, keys: webcrypto.CryptoKeyPair): Promise<x509.Extension[]> {
  const names: x509.JsonGeneralNames = [{ type: 'url', value: identityUri(identity) }];
  for (const host of opts.hosts ?? DEFAULT_HOSTS) {
    if (typeof host !== 'string' || host.length === 0 || /[\s,"\\]/.test(host)) {
      throw new MpcError(ErrorCode.CONFIG, `invalid host ${JSON.stringify(host)} for ${formatIdentity(identity)}`);
    }
    names.push({ type: isIP(host) !== 0 ? 'ip' : 'dns', value: host });
  }
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // digitalSignature is what an ECDSA key does in a TLS 1.3 handshake, as client and server.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    new x509.SubjectAlternativeNameExtension(names),
  ];
}

function validity(opts: ValidityOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(Math.max(now, notBefore.getTime()) + defaultDays * DAY_MS);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime()) || notAfter <= notBefore) {
    throw new RangeError(`expected notBefore < notAfter, got ${String(notBefore)} .. ${String(notAfter)}`);
  }
  return { notBefore, notAfter };
}

/** A positive 127-bit serial: random per RFC 5280 §4.1.2.2 advice, never zero, never negative. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_PARAMS, true, ['sign', 'verify']);
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (m === null) throw new MpcError(ErrorCode.CONFIG, 'CA key is not a PKCS#8 PEM private key');
  try {
    return await webcrypto.subtle.importKey('pkcs8', Buffer.from(m[1].replace(/\s+/g, ''), 'base64'), EC_PARAMS, false, ['sign']);
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, 'CA key is not an ECDSA P-256 key', { cause: e });
  }
}

function parseCertificate(pem: string, what: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, `${what} is not a PEM certificate`, { cause: e });
  }
}

function parseNodeCertificate(pem: string): NodeX509Certificate {
  try {
    return new NodeX509Certificate(pem);
  } catch (e) {
    throw new MpcError(ErrorCode.PEER_AUTH, 'not a PEM certificate', { cause: e });
  }
}
