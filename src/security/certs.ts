/**
 * Certificates over time: when one expires, how loudly to say so, and whether a replacement
 * set of TLS files (after `mpc cert renew`) may be taken into use by a running process.
 *
 * Everything here is pure: PEM text and a clock go in, a verdict comes out. The node's
 * watchers (src/node/tls-reload.ts) do the reading, the timers and the logging.
 * @module
 */
import { createPrivateKey, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, MpcError } from '../errors.ts';
import type { TlsMaterial } from '../net/tls.ts';
import { formatIdentity, sameIdentity } from './identity.ts';
import type { Identity } from './identity.ts';
import { identityFromCertificate } from './pki.ts';

const DAY_MS = 24 * 3600 * 1000;

/** Days before expiry from which a node warns, by default: two weeks leaves time to renew. */
export const DEFAULT_WARN_DAYS = 14;

/** What {@link expiryNotice} has to say about a certificate that expires soon or has expired. */
export interface ExpiryNotice {
  /** 'warn' while the certificate is still valid, 'error' once it has expired. */
  level: 'warn' | 'error';
  message: string;
  notAfter: Date;
  /** Whole days left (negative once expired). */
  daysLeft: number;
}

/** The end of a certificate's validity (its notAfter). Throws MpcError CONFIG on a non-certificate. */
export function certificateExpiry(certPem: string): Date {
  return new Date(parseCertificate(certPem, 'certificate').validTo);
}

/**
 * Who a certificate belongs to, for messages: the principal of a leaf (`party p1@demo`), or
 * `the federation CA (CN=…)` for a CA.
 */
export function certificateSubject(certPem: string): string {
  const c = parseCertificate(certPem, 'certificate');
  if (c.ca) return `the federation CA (${c.subject})`;
  return formatIdentity(identityFromCertificate(c));
}

/**
 * The notice for a certificate of `subject` valid until `notAfter`, as seen at `now`: nothing
 * while more than `warnDays` are left, a warning within them, an error once expired (every
 * peer refuses an expired certificate in the TLS handshake).
 */
export function expiryNotice(subject: string, notAfter: Date, now: Date, warnDays = DEFAULT_WARN_DAYS): ExpiryNotice | undefined {
  if (!(warnDays >= 0)) throw new RangeError(`expected warnDays >= 0, got ${warnDays}`);
  const left = notAfter.getTime() - now.getTime();
  if (left > warnDays * DAY_MS) return undefined;
  const when = notAfter.toISOString();
  if (left <= 0) {
    const ago = Math.floor(-left / DAY_MS);
    return {
      level: 'error',
      message: `certificate of ${subject} expired ${ago === 0 ? 'less than a day' : plural(ago, 'day')} ago (${when}); peers refuse it: renew it with mpc cert renew`,
      notAfter,
      daysLeft: -ago,
    };
  }
  const days = Math.floor(left / DAY_MS);
  return {
    level: 'warn',
    message: `certificate of ${subject} expires in ${days === 0 ? 'less than a day' : plural(days, 'day')} (${when}); renew it with mpc cert renew`,
    notAfter,
    daysLeft: days,
  };
}

/** {@link expiryNotice} for a PEM certificate (a leaf or the CA). */
export function expiryWarning(certPem: string, now: Date, warnDays = DEFAULT_WARN_DAYS): ExpiryNotice | undefined {
  return expiryNotice(certificateSubject(certPem), certificateExpiry(certPem), now, warnDays);
}

/** Names of the three files, for messages (default: `tls.ca`, `tls.cert`, `tls.key`). */
export type TlsFileNames = Partial<Record<'ca' | 'cert' | 'key', string>>;

/**
 * Check that `m` is a usable set of TLS files for a process that runs as `expected` (when
 * given), before a running process swaps it in: every PEM parses, the private key belongs to
 * the certificate (a challenge signed with it verifies under the certificate's key), the
 * certificate names `expected` (a renewal must not change who a process is), it is issued by
 * one of the CA certificates in `m.ca`, and it is valid at `now`. Returns the certificate's
 * identity; throws MpcError CONFIG naming the file and what is wrong. Never includes key
 * material in a message.
 */
export function checkTlsMaterial(
  m: TlsMaterial,
  opts: { expected?: Identity; now?: Date; files?: TlsFileNames } = {},
): Identity {
  const name = (what: 'ca' | 'cert' | 'key') => opts.files?.[what] ?? `tls.${what}`;
  const bad = (msg: string, cause?: unknown): never => {
    throw new MpcError(ErrorCode.CONFIG, msg, cause === undefined ? {} : { cause });
  };
  const cert = parseCertificate(m.cert, name('cert'));
  const cas = splitPem(m.ca).map((pem) => parseCertificate(pem, name('ca')));
  if (cas.length === 0) bad(`${name('ca')} holds no certificate`);
  let key: KeyObject;
  try {
    key = createPrivateKey(m.key);
  } catch (e) {
    return bad(`${name('key')} is not a PEM private key`, e);
  }
  if (!keyMatches(key, cert)) bad(`${name('key')} does not belong to the certificate in ${name('cert')}`);
  let identity: Identity;
  try {
    identity = identityFromCertificate(cert);
  } catch (e) {
    return bad(`${name('cert')}: ${(e as Error).message}`, e);
  }
  if (opts.expected !== undefined && !sameIdentity(identity, opts.expected)) {
    bad(`${name('cert')} names ${formatIdentity(identity)}, but this process runs as ${formatIdentity(opts.expected)}; a renewed certificate must name the same principal (restart to change identity)`);
  }
  if (!cas.some((ca) => ca.ca && cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    bad(`${name('cert')} (${formatIdentity(identity)}) is not issued by the CA in ${name('ca')}`);
  }
  const now = opts.now ?? new Date();
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (to <= now) bad(`${name('cert')} (${formatIdentity(identity)}) expired at ${to.toISOString()}`);
  if (from > now) bad(`${name('cert')} (${formatIdentity(identity)}) is not valid before ${from.toISOString()} (is this host's clock behind?)`);
  return identity;
}

/**
 * Whether the PEM private key `keyPem` belongs to the certificate `certPem` (see
 * {@link checkTlsMaterial}); false for anything unparsable.
 */
export function keyBelongsTo(keyPem: string, certPem: string): boolean {
  try {
    return keyMatches(createPrivateKey(keyPem), new X509Certificate(certPem));
  } catch {
    return false;
  }
}

/**
 * Whether `key` is the private half of `cert`'s public key: sign a fresh challenge and verify
 * it, which works for every key type node supports without comparing encodings.
 */
function keyMatches(key: KeyObject, cert: X509Certificate): boolean {
  const challenge = randomBytes(32);
  const alg = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : 'sha256';
  try {
    return verify(alg, challenge, cert.publicKey, sign(alg, challenge, key));
  } catch {
    return false; // a key of another type than the certificate's
  }
}

/** The certificates of a PEM bundle (or of several), in order. */
export function splitPem(ca: string | string[]): string[] {
  const texts = Array.isArray(ca) ? ca : [ca];
  return texts.flatMap((t) => t.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []);
}

function parseCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, `${what} is not a PEM certificate`, { cause: e });
  }
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
