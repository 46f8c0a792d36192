/**
 * Signed, short-lived job requests (ARCHITECTURE.md §7 "Who holds the keys").
 *
 * The analyst signs every submission with its certificate's ECDSA P-256 key: which plan (its
 * hash), which job id, who receives the outputs, under which protocol options, a fresh nonce
 * and a lifetime of at most {@link MAX_REQUEST_TTL_MS}. Each node verifies the request against
 * the federation CA, the authenticated TLS peer and the plan it actually received, and refuses
 * an expired, replayed or altered one. The signed request (with the signer's certificate in it)
 * goes into the audit log as is, so the entry alone proves who asked for what; no shared secret
 * is involved anywhere.
 *
 * What is signed is {@link canonicalRequestBytes}: a domain-separation prefix and then JSON
 * with the keys in one fixed order, built field by field from validated values. It is never
 * the `JSON.stringify` of an object as received, whose key order and extra keys a sender
 * controls.
 *
 * Refusals are {@link JobRequestRefused} errors (code FORBIDDEN) whose message starts with a
 * stable reason word (see {@link RequestRefusal}), so a node can count them per reason. No
 * refusal message contains a data value: they name the field that differs, never its value.
 * @module
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, MpcError } from '../errors.ts';
import { formatIdentity, isValidId, sameIdentity } from './identity.ts';
import type { Identity } from './identity.ts';
import { identityFromCertificate } from './pki.ts';
import { splitPem } from './certs.ts';

/** The longest lifetime a job request may have (issue 11: five minutes at most). */
export const MAX_REQUEST_TTL_MS = 5 * 60_000;
/** Lifetime {@link signJobRequest} gives a request unless told otherwise. */
export const DEFAULT_REQUEST_TTL_MS = 2 * 60_000;
/**
 * How far an analyst's clock may run ahead of a node's: a request issued up to this much "in
 * the future" is still accepted. Also how long past its expiry a nonce is remembered.
 */
export const CLOCK_SKEW_MS = 30_000;
/**
 * Prefix of the signed bytes. It ties a signature to this one purpose and format version, so
 * a signature the analyst's key made for anything else (a TLS handshake, a later format) can
 * never be presented as a job request.
 */
export const REQUEST_DOMAIN = 'tessera job request v1\n';

/** What the analyst signs for one job. */
export interface JobRequest {
  v: 1;
  federation: string;
  /** The analyst's id (its certificate's SPIFFE id, role analyst). */
  analyst: string;
  jobId: string;
  /** Lowercase hex SHA-256 of the encoded plan (`planHash` in src/compiler/plan.ts). */
  planHash: string;
  /** Sorted, unique: every output's recipients, `'analyst'` for the analyst ({@link planRecipients}). */
  recipients: string[];
  security: 'malicious' | 'semi-honest';
  preprocessing: 'dealer' | 'ot';
  /** Whether the job's channels pad their frames. */
  pad: boolean;
  /** 32 lowercase hex characters (128 bits) from the CSPRNG. */
  nonce: string;
  /** ms since the epoch. */
  issuedAt: number;
  /** ms since the epoch; at most {@link MAX_REQUEST_TTL_MS} after `issuedAt`. */
  expiresAt: number;
}

/** A job request, the signer's certificate and its signature: what travels and is audited. */
export interface SignedJobRequest {
  request: JobRequest;
  /** The signer's certificate PEM, so that the audit entry alone proves who asked. */
  cert: string;
  /** Base64 of the DER ECDSA P-256 / SHA-256 signature over {@link canonicalRequestBytes}. */
  sig: string;
}

/** The fields of a request the caller chooses; {@link signJobRequest} adds the rest. */
export type JobRequestFields = Omit<JobRequest, 'v' | 'nonce' | 'issuedAt' | 'expiresAt'>;

/** What a node knows independently of the request and checks it against. */
export interface RequestExpectation {
  /** The job id of the frame that carried the request. */
  jobId: string;
  /** The hash of the plan bytes the node received (recomputed, not the one claimed). */
  planHash: string;
  /** The plan's recipients, in any order ({@link planRecipients}). */
  recipients: readonly string[];
  security: JobRequest['security'];
  preprocessing: JobRequest['preprocessing'];
  pad: boolean;
}

/** Everything {@link verifyJobRequest} checks a request against. */
export interface VerifyContext {
  /** The federation CA certificate PEM: the only trust anchor. */
  caPem: string;
  /** The authenticated TLS peer the request came from. */
  peer: Identity;
  expect: RequestExpectation;
  /** The node's clock, ms since the epoch. */
  now: number;
  replay: ReplayCache;
}

/**
 * The stable first word(s) of every refusal's message, one per kind of failure, so a node
 * can count them (`alert-request` by reason) without parsing the rest.
 */
export type RequestRefusal =
  | 'expired'
  | 'not yet valid'
  | 'lifetime'
  | 'replayed'
  | 'replay cache full'
  | 'signature'
  | 'certificate'
  | 'identity'
  | 'altered';

/** A job request refused by {@link verifyJobRequest}: code FORBIDDEN, message `<reason>: …`. */
export class JobRequestRefused extends MpcError {
  readonly reason: RequestRefusal;

  constructor(reason: RequestRefusal, detail: string, party: string) {
    super(ErrorCode.FORBIDDEN, `${reason}: ${detail}`, { party });
    this.name = 'JobRequestRefused';
    this.reason = reason;
  }
}

// The signed fields, in the order they are signed. Also the only keys a request may have.
const REQUEST_FIELDS = [
  'v',
  'federation',
  'analyst',
  'jobId',
  'planHash',
  'recipients',
  'security',
  'preprocessing',
  'pad',
  'nonce',
  'issuedAt',
  'expiresAt',
] as const satisfies readonly (keyof JobRequest)[];
const SIGNED_FIELDS = ['request', 'cert', 'sig'] as const;
// The fields a node checks against what it received, in the order it checks them.
const EXPECTED_FIELDS = ['jobId', 'planHash', 'recipients', 'security', 'preprocessing', 'pad'] as const;

// The wire's job ids are hex from the CSPRNG (src/coordinator/client.ts); the narrow charset
// keeps them printable in logs and trivially canonical in JSON.
const JOB_ID = /^[A-Za-z0-9._-]{1,128}$/;
const HASH = /^[0-9a-f]{64}$/;
const NONCE = /^[0-9a-f]{32}$/;
// A DER ECDSA P-256 signature is at most 72 bytes, 96 base64 characters.
const BASE64 = /^[A-Za-z0-9+/]{4,128}={0,2}$/;
const MAX_RECIPIENTS = 1024;
const MAX_CERT_CHARS = 16_384;
const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';

type Check = (x: unknown) => boolean;
const oneOf = (...v: string[]): Check => (x) => typeof x === 'string' && v.includes(x);
const time: Check = (x) => Number.isSafeInteger(x) && (x as number) >= 0;
const REQUEST_CHECKS: Record<(typeof REQUEST_FIELDS)[number], Check> = {
  v: (x) => x === 1,
  federation: isValidId,
  analyst: isValidId,
  jobId: (x) => typeof x === 'string' && JOB_ID.test(x),
  planHash: (x) => typeof x === 'string' && HASH.test(x),
  // Strictly ascending: the signed list has exactly one form, and duplicates are impossible.
  recipients: (x) =>
    Array.isArray(x) &&
    x.length <= MAX_RECIPIENTS &&
    x.every((r, i) => isValidId(r) && (i === 0 || (x[i - 1] as string) < r)),
  security: oneOf('malicious', 'semi-honest'),
  preprocessing: oneOf('dealer', 'ot'),
  pad: (x) => typeof x === 'boolean',
  nonce: (x) => typeof x === 'string' && NONCE.test(x),
  issuedAt: time,
  expiresAt: time,
};

/**
 * Check that `o` is a plain object whose keys are exactly those of `checks`, each value
 * passing its check; the first failure calls `fail` with `<path>.<key>`.
 */
function checkObject(
  o: unknown,
  path: string,
  checks: Record<string, Check>,
  fail: (field: string, problem: string) => never,
): Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(path, 'is missing or not an object');
  const rec = o as Record<string, unknown>;
  for (const [k, c] of Object.entries(checks)) {
    if (!Object.hasOwn(rec, k) || !c(rec[k])) fail(`${path}.${k}`, 'is missing or malformed');
  }
  for (const k of Object.keys(rec)) if (!Object.hasOwn(checks, k)) fail(`${path}.${k}`, 'is not allowed');
  return rec;
}

/** The shape check shared by the analyst's and the node's side; returns a fresh object. */
function checkSigned(body: unknown, fail: (field: string, problem: string) => never): SignedJobRequest {
  const outer = checkObject(body, 'body', {
    request: (x) => typeof x === 'object' && x !== null,
    cert: (x) =>
      typeof x === 'string' &&
      x.length <= MAX_CERT_CHARS &&
      x.startsWith(PEM_BEGIN) &&
      // One certificate only: a bundle would let the audit entry show a different first cert.
      x.indexOf(PEM_BEGIN, 1) < 0,
    sig: (x) =>
      typeof x === 'string' && x.length % 4 === 0 && BASE64.test(x) && Buffer.from(x, 'base64').toString('base64') === x,
  }, fail);
  const r = checkObject(outer.request, 'body.request', REQUEST_CHECKS, fail);
  // Copy field by field: nothing of the received objects (prototype, extra keys) rides along.
  const request: JobRequest = {
    v: 1,
    federation: r.federation as string,
    analyst: r.analyst as string,
    jobId: r.jobId as string,
    planHash: r.planHash as string,
    recipients: [...(r.recipients as string[])],
    security: r.security as JobRequest['security'],
    preprocessing: r.preprocessing as JobRequest['preprocessing'],
    pad: r.pad as boolean,
    nonce: r.nonce as string,
    issuedAt: r.issuedAt as number,
    expiresAt: r.expiresAt as number,
  };
  return { request, cert: outer.cert as string, sig: outer.sig as string };
}

/**
 * Strict shape check of a signed job request received from `from` (untrusted input). Any
 * missing, extra or wrongly typed field throws MpcError PROTOCOL naming it, e.g.
 * `signed job request from alice: field body.request.nonce is missing or malformed`. Returns a
 * fresh copy; it proves nothing yet: {@link verifyJobRequest} does.
 */
export function parseSignedJobRequest(body: unknown, from: string): SignedJobRequest {
  return checkSigned(body, (field, problem) => {
    throw new MpcError(ErrorCode.PROTOCOL, `signed job request from ${from}: field ${field} ${problem}`, { party: from });
  });
}

/**
 * The bytes that are signed: {@link REQUEST_DOMAIN}, then `{"v":1,"federation":…,…}` with the
 * keys in the order of {@link JobRequest}, no spaces, values as `JSON.stringify` writes them.
 * Every value is a validated string of a narrow charset, a boolean, a safe integer or a list
 * of such strings, so this form is unique.
 */
export function canonicalRequestBytes(r: JobRequest): Buffer {
  const body = REQUEST_FIELDS.map((k) => `${JSON.stringify(k)}:${JSON.stringify(r[k])}`).join(',');
  return Buffer.from(`${REQUEST_DOMAIN}{${body}}`, 'utf8');
}

/** The recipients of a plan's outputs as a request names them: sorted, unique. */
export function planRecipients(plan: { outputs: readonly { to: readonly string[] }[] }): string[] {
  return normalRecipients(plan.outputs.flatMap((o) => o.to));
}

function normalRecipients(list: readonly string[]): string[] {
  // Code-unit order, the same `<` the shape check uses (not localeCompare, which varies).
  return [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Sign a job request with the analyst's certificate key (`tls.cert` / `tls.key`, PEM, as in
 * the analyst's TLS configuration). Adds a fresh 128-bit nonce, `issuedAt = now` and
 * `expiresAt = now + ttlMs`. `fields.recipients` may come in any order; they are sorted and
 * deduplicated.
 *
 * Throws RangeError when `ttlMs` is not an integer in 1..{@link MAX_REQUEST_TTL_MS}, and
 * MpcError CONFIG when a field is malformed, the key does not belong to the certificate, or
 * the certificate is not the analyst's that `fields` name: mistakes the analyst should see
 * before a node refuses the request.
 *
 * @example
 * const signed = signJobRequest(
 *   { federation: 'demo', analyst: 'alice', jobId, planHash: hash, recipients: planRecipients(plan),
 *     security: 'malicious', preprocessing: 'dealer', pad: true },
 *   tls,
 * );
 */
export function signJobRequest(
  fields: JobRequestFields,
  key: { cert: string; key: string },
  opts: { now?: number; ttlMs?: number } = {},
): SignedJobRequest {
  const ttlMs = opts.ttlMs ?? DEFAULT_REQUEST_TTL_MS;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_REQUEST_TTL_MS) {
    throw new RangeError(`expected ttlMs in 1..${MAX_REQUEST_TTL_MS}, got ${ttlMs}`);
  }
  const now = opts.now ?? Date.now();
  const configError = (what: string): never => {
    throw new MpcError(ErrorCode.CONFIG, `cannot sign the job request: ${what}`);
  };
  // The node's own shape check, run on what we are about to sign (the sig is a placeholder).
  const { request } = checkSigned(
    {
      request: {
        v: 1,
        ...pick(fields),
        recipients: Array.isArray(fields.recipients) ? normalRecipients(fields.recipients) : fields.recipients,
        nonce: randomBytes(16).toString('hex'),
        issuedAt: now,
        expiresAt: now + ttlMs,
      },
      cert: key.cert,
      sig: 'AAAA',
    },
    (field, problem) => configError(`field ${field.replace(/^body\./, '')} ${problem}`),
  );
  let cert: X509Certificate;
  let privateKey: KeyObject;
  try {
    cert = new X509Certificate(key.cert);
    privateKey = createPrivateKey(key.key);
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, 'cannot sign the job request: the certificate or key is not valid PEM', { cause: e });
  }
  const spki = (k: KeyObject): string => k.export({ type: 'spki', format: 'der' }).toString('base64');
  if (spki(createPublicKey(privateKey)) !== spki(cert.publicKey)) configError('the private key does not belong to the certificate');
  let id: Identity;
  try {
    id = identityFromCertificate(cert);
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, `cannot sign the job request: ${(e as Error).message}`, { cause: e });
  }
  if (id.role !== 'analyst' || id.federation !== request.federation || id.id !== request.analyst) {
    configError(`the certificate is ${formatIdentity(id)}, but the request is for analyst ${request.analyst}@${request.federation}`);
  }
  const sig = sign('sha256', canonicalRequestBytes(request), privateKey).toString('base64');
  return { request, cert: key.cert, sig };
}

/** The caller's fields only: a wider object passed as `fields` brings no extra keys along. */
function pick(f: JobRequestFields): JobRequestFields {
  const { federation, analyst, jobId, planHash, recipients, security, preprocessing, pad } = f;
  return { federation, analyst, jobId, planHash, recipients, security, preprocessing, pad };
}

/**
 * Verify a signed job request on a node. In order, each failure a {@link JobRequestRefused}:
 * - `certificate`: the certificate is not a P-256 leaf issued by the federation CA, or not
 *   within its validity period at `now`;
 * - `identity`: its SPIFFE identity is not an analyst, is not `ctx.peer` (another analyst's key
 *   or a party's cannot sign for this channel), or is not the analyst the request names;
 * - `signature`: the signature does not verify over {@link canonicalRequestBytes};
 * - `lifetime`: `expiresAt - issuedAt` is not in 1..{@link MAX_REQUEST_TTL_MS};
 * - `expired` (`now > expiresAt`) or `not yet valid` (`issuedAt > now + CLOCK_SKEW_MS`);
 * - `altered`: a field differs from what the node received (`ctx.expect`), naming the field;
 * - `replayed` / `replay cache full`: the nonce was seen, or cannot be remembered.
 * Only a request that passes every other check consumes its nonce. A malformed `signed`
 * throws PROTOCOL as {@link parseSignedJobRequest} does. Returns the request.
 */
export function verifyJobRequest(signed: SignedJobRequest, ctx: VerifyContext): JobRequest {
  const who = formatIdentity(ctx.peer);
  // Re-checked even when the caller parsed already: the canonical bytes rely on it.
  const { request: r, cert: certPem, sig } = parseSignedJobRequest(signed, who);
  const refuse = (reason: RequestRefusal, detail: string): never => {
    throw new JobRequestRefused(reason, detail, ctx.peer.id);
  };
  const { cert, identity } = checkCertificate(certPem, ctx.caPem, ctx.now, refuse);

  if (identity.role !== 'analyst') refuse('identity', `the request is signed by ${formatIdentity(identity)}; only an analyst may sign job requests`);
  if (!sameIdentity(identity, ctx.peer)) refuse('identity', `the request is signed by ${formatIdentity(identity)} but came from ${who}`);
  let good = false;
  try {
    good = verify('sha256', canonicalRequestBytes(r), cert.publicKey, Buffer.from(sig, 'base64'));
  } catch {
    good = false; // a signature OpenSSL cannot even decode is just a bad signature
  }
  if (!good) refuse('signature', `the signature of the request from ${who} does not verify`);
  if (r.federation !== identity.federation || r.analyst !== identity.id) {
    refuse('identity', `the request names analyst ${r.analyst}@${r.federation} but is signed by ${formatIdentity(identity)}`);
  }

  const life = r.expiresAt - r.issuedAt;
  if (life < 1 || life > MAX_REQUEST_TTL_MS) refuse('lifetime', `the request is valid for ${life} ms; it must be 1..${MAX_REQUEST_TTL_MS} ms`);
  if (ctx.now > r.expiresAt) refuse('expired', `the request expired at ${iso(r.expiresAt)}; it is ${iso(ctx.now)}`);
  if (r.issuedAt > ctx.now + CLOCK_SKEW_MS) {
    refuse('not yet valid', `the request is issued at ${iso(r.issuedAt)}, more than ${CLOCK_SKEW_MS} ms after this node's ${iso(ctx.now)}`);
  }

  const expected = { ...ctx.expect, recipients: normalRecipients(ctx.expect.recipients) };
  for (const k of EXPECTED_FIELDS) {
    if (JSON.stringify(r[k]) !== JSON.stringify(expected[k])) refuse('altered', `request field ${k} does not match the submitted plan`);
  }

  const claim = ctx.replay.claim(r.nonce, r.expiresAt, ctx.now);
  if (claim === 'replayed') refuse('replayed', `the request's nonce was used before, by an accepted request`);
  if (claim === 'full') refuse('replay cache full', `this node remembers ${ctx.replay.capacity} live requests and takes no more until some expire`);
  return r;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The request's certificate, checked against the CA at `now`, and its identity. */
function checkCertificate(
  certPem: string,
  caPem: string,
  now: number,
  refuse: (reason: RequestRefusal, detail: string) => never,
): { cert: X509Certificate; identity: Identity } {
  // A bundle (the old and the new CA while a federation moves to a new one) trusts each of its CAs.
  let cas: X509Certificate[];
  try {
    cas = splitPem(caPem).map((pem) => new X509Certificate(pem));
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, 'the federation CA certificate is not a PEM certificate', { cause: e });
  }
  if (cas.length === 0) throw new MpcError(ErrorCode.CONFIG, 'the federation CA certificate is not a PEM certificate');
  let cert: X509Certificate | undefined;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    cert = undefined;
  }
  if (cert === undefined) return refuse('certificate', 'the request carries no readable certificate');
  // checkIssued matches names / key ids only; verify checks the CA's signature on it.
  if (cert.ca || !cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    refuse('certificate', 'the request is signed with a certificate the federation CA did not issue');
  }
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(from <= now && now <= to)) {
    refuse('certificate', `the signer's certificate is valid ${iso(from)} to ${iso(to)}, not at ${iso(now)}`);
  }
  const details = cert.publicKey.asymmetricKeyDetails;
  if (cert.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    refuse('certificate', "the signer's certificate does not hold an ECDSA P-256 key");
  }
  let identity: Identity | undefined;
  try {
    identity = identityFromCertificate(cert);
  } catch {
    identity = undefined;
  }
  if (identity === undefined) return refuse('certificate', "the signer's certificate carries no valid SPIFFE identity");
  return { cert, identity };
}

/**
 * The nonces of the requests a node accepted, each remembered until its `expiresAt` plus
 * {@link CLOCK_SKEW_MS} (after that, the request is refused as expired anyway; the margin
 * covers a node clock stepped back by that much). Pure: the time is always passed in.
 *
 * Bounded: at `capacity` live nonces it refuses new requests (`'full'`) instead of forgetting
 * a live nonce, which would reopen a replay window. With a 5-minute lifetime, the default
 * 100 000 is far above what an authorised analyst submits; reaching it means a flood, and
 * refusing is the safe answer until the entries expire.
 */
export class ReplayCache {
  readonly capacity: number;
  readonly #expiry = new Map<string, number>();
  #nextSweep = -Infinity;

  constructor(opts: { capacity?: number } = {}) {
    const capacity = opts.capacity ?? 100_000;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`expected capacity a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Live nonces remembered (after the last sweep). */
  get size(): number {
    return this.#expiry.size;
  }

  /**
   * Record `nonce` of a request that expires at `expiresAt`: `'ok'` when it was new,
   * `'replayed'` when it is still remembered, `'full'` when the cache is at capacity with live
   * nonces (nothing recorded).
   */
  claim(nonce: string, expiresAt: number, now: number): 'ok' | 'replayed' | 'full' {
    const seen = this.#expiry.get(nonce);
    if (seen !== undefined && seen >= now) return 'replayed';
    // Sweep at most once per skew interval, or at once when full: amortised O(1) per claim.
    if (now >= this.#nextSweep || this.#expiry.size >= this.capacity) this.#sweep(now);
    if (this.#expiry.size >= this.capacity) return 'full';
    this.#expiry.set(nonce, expiresAt + CLOCK_SKEW_MS);
    return 'ok';
  }

  #sweep(now: number): void {
    for (const [n, until] of this.#expiry) if (until < now) this.#expiry.delete(n);
    this.#nextSweep = now + CLOCK_SKEW_MS;
  }
}
