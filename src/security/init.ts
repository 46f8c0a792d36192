/**
 * `mpc init`: create a federation in one folder — its CA, a certificate for every principal
 * and the config each process starts from. Layout (all config paths are relative, so the
 * folder can be moved or copied to other hosts as a whole):
 *
 * ```
 * <dir>/
 *   ca.crt                          federation CA certificate (public; the only trust anchor)
 *   ca.key                          CA private key, 0600: only needed to issue more certificates
 *   <party>/cert.pem, key.pem       party identity spiffe://<fed>/party/<party> (key 0600)
 *   <party>.node.json               that party's node config          → mpc node --config
 *   <party>.policy.json             that party's policy: what may be computed on its data
 *   <party>/audit.log               that party's audit log (written by its node)
 *   dealer/cert.pem, key.pem        dealer identity spiffe://<fed>/dealer/dealer   (unless dealer: false)
 *   dealer.json                     the dealer's config               → mpc dealer --config
 *   analyst/<analyst>/cert.pem, key.pem   analyst identity spiffe://<fed>/analyst/<analyst>
 *   cluster.json                    the analyst's cluster file        → mpc run --cluster
 *   auditor/<auditor>/cert.pem, key.pem   auditor identity spiffe://<fed>/auditor/<auditor>
 *   auditor.json                    the auditor's file: federation, TLS, the parties' endpoints
 * ```
 *
 * Leaf certificates are valid for `days` (default 365) from now; the CA for ten years, or
 * longer when the leaves would outlive that. `mpc cert renew` ({@link renewCertificates})
 * re-issues the leaves of this layout with the CA key, and running processes pick the new
 * files up without a restart (src/node/tls-reload.ts).
 *
 * To deploy on several hosts, each party needs only `ca.crt`, its own folder and its
 * `.node.json`; `ca.key` should stay with whoever administers the federation.
 * @module
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCode, MpcError } from '../errors.ts';
import { readTextFile } from '../util/json-file.ts';
import { formatIdentity, ID_PATTERN, isValidId } from './identity.ts';
import type { Identity } from './identity.ts';
import { keyBelongsTo } from './certs.ts';
import { certificateHosts, createCA, identityFromCertificate, issueCertificate } from './pki.ts';
import type { KeyPairPem } from './pki.ts';
import { defaultPolicy } from './policy.ts';
import type { AuditSync } from './audit.ts';
import { SECURITY_MODES } from './config.ts';
import type { Endpoint, SecurityMode } from './config.ts';

/** Options of {@link initFederation}. */
export interface InitOptions {
  /** Party ids, in party order; at least two. */
  parties: string[];
  /** The analyst's id. Default `'alice'`. */
  analyst?: string;
  /** The auditor's id (reads the nodes' audit logs, runs nothing). Default `'auditor'`. */
  auditor?: string;
  /** Federation name (the authority part of every identity URI). Default `'tessera'`. */
  federation?: string;
  /** Host every process listens on and is reached at; also a SAN of every cert. Default `127.0.0.1`. */
  host?: string;
  /** The dealer listens on basePort, party i (from 0) on basePort + 1 + i. Default 7100. */
  basePort?: number;
  /** Create a dealer (dealer preprocessing); without one, nodes use OT preprocessing. Default true. */
  dealer?: boolean;
  /** Weakest security mode the nodes accept. Default `'malicious'` (ARCHITECTURE.md §1). */
  security?: SecurityMode;
  /** Overwrite an existing federation in `dir`. Default false. */
  force?: boolean;
  /** Lifetime of the leaf certificates in days, from now. Default 365. */
  days?: number;
  /**
   * The policy each node applies. Default: a restrictive `<party>.policy.json` per party
   * (src/security/policy.ts `defaultPolicy`: minAggregation 5, the analyst on every dataset),
   * which the party's owner edits. `{ file }`: every node applies that one file (absolute
   * path). `{ open: true }`: no policy, every plan accepted (the embedded federation of an
   * analyst running on its own data).
   */
  policy?: { file: string } | { open: true };
  /**
   * Folder of the nodes' audit logs, `<party>.audit.log` each (absolute path). Default: each
   * party's `<party>/audit.log`. `false`: no audit log.
   */
  auditDir?: string | false;
  /** Written as each node config's `auditSync` when given (src/security/audit.ts `AuditSync`). */
  auditSync?: AuditSync;
  /**
   * Example data: party → input name → value(s), the inputs-file format. Each party's part
   * is written to `<party>/data.json` (0600) and bound as its datasets, so a demo federation
   * runs without editing configs. Parties without an entry get no datasets.
   */
  data?: Record<string, Record<string, unknown>>;
}

/** The dealer's principal id; fixed, as there is at most one dealer per federation. */
export const DEALER_ID = 'dealer';

/** Leaf lifetime when none is given: a year, renewed with `mpc cert renew`. */
export const DEFAULT_CERT_DAYS = 365;
/** Longest leaf lifetime `days` accepts (a typo guard: 100 years). */
export const MAX_CERT_DAYS = 36_525;
// The CA outlives its leaves: ten years, or the leaves' lifetime plus a year when longer.
const CA_MIN_DAYS = 3652;
const DAY_MS = 24 * 3600 * 1000;

// Folder and file names of the layout that a party id must not collide with.
const RESERVED_IDS = new Set(['dealer', 'analyst', 'auditor']);
const RESERVED_SUFFIX = /\.(json|crt|key|pem)$/i;

/**
 * Write a new federation into `dir` (created if missing). Refuses to overwrite any file of an
 * existing federation unless `force` is set, since a new CA silently invalidates every
 * certificate issued by the old one. Returns the absolute paths written.
 *
 * @example
 * await initFederation('fed', { parties: ['p1', 'p2', 'p3'] });
 * // then: mpc node --config fed/p1.node.json, …
 */
export async function initFederation(dir: string, opts: InitOptions): Promise<{ files: string[]; notAfter: Date }> {
  const o = checkOptions(opts);
  const root = resolve(dir);

  const hosts = [...new Set([o.host, 'localhost', '127.0.0.1'])];
  const partyEps: Endpoint[] = o.parties.map((id, i) => ({ id, host: o.host, port: o.basePort + 1 + i }));
  const dealerEp: Endpoint | null = o.dealer ? { id: DEALER_ID, host: o.host, port: o.basePort } : null;
  const tlsFor = (folder: string) => ({ ca: 'ca.crt', cert: `${folder}/cert.pem`, key: `${folder}/key.pem` });
  const analystFolder = `analyst/${o.analyst}`;
  const auditorFolder = `auditor/${o.auditor}`;

  // Everything is generated in memory first, so a failure leaves no half-written federation.
  const notAfter = leafNotAfter(o.days);
  const ca = await createCA(o.federation, { notAfter: leafNotAfter(Math.max(CA_MIN_DAYS, o.days + 365)) });
  const issue = (role: Identity['role'], id: string) => issueCertificate(ca, { federation: o.federation, role, id }, { hosts, notAfter });
  const [partyKeys, analystKeys, auditorKeys, dealerKeys] = await Promise.all([
    Promise.all(o.parties.map((id) => issue('party', id))),
    issue('analyst', o.analyst),
    issue('auditor', o.auditor),
    o.dealer ? issue('dealer', DEALER_ID) : Promise.resolve(null),
  ]);

  const out: Array<{ rel: string; data: string; secret?: boolean }> = [
    { rel: 'ca.crt', data: ca.certPem },
    { rel: 'ca.key', data: ca.keyPem, secret: true },
  ];
  const identityFiles = (folder: string, kp: KeyPairPem) => {
    out.push({ rel: `${folder}/cert.pem`, data: kp.certPem }, { rel: `${folder}/key.pem`, data: kp.keyPem, secret: true });
  };
  o.parties.forEach((id, i) => {
    identityFiles(id, partyKeys[i]);
    const mine = opts.data?.[id];
    if (mine) out.push({ rel: `${id}/data.json`, data: json(mine), secret: true });
    const datasets = Object.fromEntries(
      Object.entries(mine ?? {}).map(([name, v]) => [name, { file: `${id}/data.json`, format: 'json', column: name, ...(hasFraction(v) ? { type: 'fixed' } : {}) }]),
    );
    const policy = opts.policy === undefined ? `${id}.policy.json` : 'file' in opts.policy ? resolve(opts.policy.file) : undefined;
    if (opts.policy === undefined) out.push({ rel: `${id}.policy.json`, data: json(defaultPolicy(o.analyst)) });
    const audit = opts.auditDir === undefined ? `${id}/audit.log` : opts.auditDir === false ? undefined : join(resolve(opts.auditDir), `${id}.audit.log`);
    out.push({
      rel: `${id}.node.json`,
      data: json({
        federation: o.federation,
        party: id,
        listen: { host: o.host, port: partyEps[i].port },
        tls: tlsFor(id),
        parties: partyEps,
        dealer: dealerEp,
        analysts: [o.analyst],
        auditors: [o.auditor],
        datasets,
        security: o.security,
        preprocessing: o.dealer ? 'dealer' : 'ot',
        ...(policy === undefined ? {} : { policy }),
        ...(audit === undefined ? {} : { audit }),
        ...(audit !== undefined && opts.auditSync !== undefined ? { auditSync: opts.auditSync } : {}),
      }),
    });
  });
  if (dealerKeys !== null && dealerEp !== null) {
    identityFiles('dealer', dealerKeys);
    out.push({
      rel: 'dealer.json',
      data: json({ federation: o.federation, id: DEALER_ID, listen: { host: o.host, port: dealerEp.port }, tls: tlsFor('dealer'), parties: partyEps }),
    });
  }
  identityFiles(analystFolder, analystKeys);
  out.push({
    rel: 'cluster.json',
    data: json({ federation: o.federation, tls: tlsFor(analystFolder), analyst: o.analyst, parties: partyEps, dealer: dealerEp }),
  });
  identityFiles(auditorFolder, auditorKeys);
  out.push({
    rel: 'auditor.json',
    data: json({ federation: o.federation, tls: tlsFor(auditorFolder), auditor: o.auditor, parties: partyEps }),
  });

  if (!o.force) await refuseOverwrite(root, out.map((f) => f.rel));

  const files: string[] = [];
  for (const f of out) {
    const path = join(root, f.rel);
    // Sub-folders hold a private key each, so they are private too; the top folder is not.
    await mkdir(dirname(path), { recursive: true, mode: f.rel.includes('/') ? 0o700 : 0o755 });
    await writeFile(path, f.data, { mode: f.secret ? 0o600 : 0o644 });
    // writeFile's mode applies only when it creates the file; with force, fix the mode anyway.
    if (f.secret) await chmod(path, 0o600);
    files.push(path);
  }
  return { files, notAfter };
}

interface CheckedOptions {
  parties: string[];
  analyst: string;
  auditor: string;
  federation: string;
  host: string;
  basePort: number;
  dealer: boolean;
  security: SecurityMode;
  force: boolean;
  days: number;
}

function checkOptions(opts: InitOptions): CheckedOptions {
  const bad = (msg: string): never => {
    throw new MpcError(ErrorCode.CONFIG, `mpc init: ${msg}`);
  };
  const parties = opts.parties;
  if (!Array.isArray(parties) || parties.length < 2) {
    bad(`expected at least 2 party ids, got ${JSON.stringify(parties)}`);
  }
  parties.forEach((id, i) => {
    if (!isValidId(id)) bad(`invalid party id ${JSON.stringify(id)}: ids must match ${ID_PATTERN}`);
    if (RESERVED_IDS.has(id) || RESERVED_SUFFIX.test(id)) bad(`party id ${JSON.stringify(id)} is reserved (it would clash with a file of the layout)`);
    if (parties.indexOf(id) !== i) bad(`duplicate party id ${JSON.stringify(id)}`);
  });
  const analyst = opts.analyst ?? 'alice';
  if (!isValidId(analyst)) bad(`invalid analyst id ${JSON.stringify(analyst)}: ids must match ${ID_PATTERN}`);
  const auditor = opts.auditor ?? 'auditor';
  if (!isValidId(auditor)) bad(`invalid auditor id ${JSON.stringify(auditor)}: ids must match ${ID_PATTERN}`);
  const days = checkDays(opts.days ?? DEFAULT_CERT_DAYS, 'mpc init: days');
  const federation = opts.federation ?? 'tessera';
  if (!isValidId(federation)) bad(`invalid federation name ${JSON.stringify(federation)}: names must match ${ID_PATTERN}`);
  const host = opts.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0 || host.length > 255 || /[\s/\\,"]/.test(host)) {
    bad(`invalid host ${JSON.stringify(host)}`);
  }
  const basePort = opts.basePort ?? 7100;
  const lastPort = basePort + parties.length;
  if (!Number.isInteger(basePort) || basePort < 1 || lastPort > 65535) {
    bad(`base port must be an integer with 1 <= base port and base port + ${parties.length} <= 65535, got ${basePort}`);
  }
  for (const p of Object.keys(opts.data ?? {})) {
    if (!parties.includes(p)) bad(`the data names party ${JSON.stringify(p)}, which is not one of ${parties.join(', ')}`);
  }
  const security = opts.security ?? 'malicious';
  if (!SECURITY_MODES.includes(security)) bad(`security must be one of ${SECURITY_MODES.join(', ')}, got ${JSON.stringify(security)}`);
  return { parties, analyst, auditor, federation, host, basePort, dealer: opts.dealer ?? true, security, force: opts.force ?? false, days };
}

/** `days` from now, to the second (what a certificate can state), so the value reported is the one issued. */
function leafNotAfter(days: number): Date {
  return new Date(Math.floor((Date.now() + days * DAY_MS) / 1000) * 1000);
}

/** A certificate lifetime in days: an integer in 1..MAX_CERT_DAYS; `what` names the option. */
export function checkDays(days: unknown, what: string): number {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_CERT_DAYS) {
    throw new MpcError(ErrorCode.CONFIG, `${what}: expected a whole number of days in 1..${MAX_CERT_DAYS}, got ${JSON.stringify(days)}`);
  }
  return days;
}

/** Options of {@link renewCertificates}. */
export interface RenewOptions {
  /** Lifetime of the new certificates in days, from now. Default 365. */
  days?: number;
  /** Renew only these principals: ids (`p1`) or role/id (`analyst/alice`). Default: all. */
  only?: string[];
}

/** One certificate {@link renewCertificates} re-issued. */
export interface RenewedCertificate {
  identity: Identity;
  /** Absolute paths of the files replaced. */
  cert: string;
  key: string;
  notAfter: Date;
}

/**
 * `mpc cert renew`: re-issue the leaf certificates of the federation in `dir` (the layout of
 * {@link initFederation}: `<id>/`, `analyst/<id>/`, `auditor/<id>/`, each with `cert.pem`)
 * with its CA key. Each new certificate names the same principal and carries the same host
 * SANs as the one it replaces, with a fresh key pair and `days` of validity.
 *
 * Every check happens and every certificate is made before the first file is replaced, and
 * each file is replaced atomically (written next to it, then renamed over it), so a process
 * watching the files never reads half of one; see src/node/tls-reload.ts.
 *
 * Errors (MpcError CONFIG): no `ca.key` (renewal happens where the CA key is kept), a
 * certificate of the layout not issued by `ca.crt`, an id in `only` that names no
 * certificate, or a lifetime that would outlive the CA.
 */
export async function renewCertificates(dir: string, opts: RenewOptions = {}): Promise<RenewedCertificate[]> {
  const root = resolve(dir);
  const days = checkDays(opts.days ?? DEFAULT_CERT_DAYS, 'mpc cert renew: days');
  const caKeyPath = join(root, 'ca.key');
  if (!(await exists(caKeyPath))) {
    throw new MpcError(ErrorCode.CONFIG, `renew needs the CA key; run it where ca.key is kept (${caKeyPath} not found)`);
  }
  const caCertPath = join(root, 'ca.crt');
  const ca: KeyPairPem = { certPem: readTextFile(caCertPath, ErrorCode.CONFIG), keyPem: readTextFile(caKeyPath, ErrorCode.CONFIG) };
  const caCert = parseCaCertificate(ca.certPem, caCertPath);
  // Certificates signed with another key would verify nowhere: check before issuing any.
  if (!keyBelongsTo(ca.keyPem, ca.certPem)) throw new MpcError(ErrorCode.CONFIG, `${caKeyPath} does not belong to ${caCertPath}`);

  const leaves = await findLeaves(root, caCert);
  const chosen = selectLeaves(leaves, opts.only, root);
  const notAfter = leafNotAfter(days);
  const caEnd = new Date(caCert.validTo);
  if (notAfter > caEnd) {
    throw new MpcError(
      ErrorCode.CONFIG,
      `mpc cert renew: ${days} days would outlive the CA (${caCertPath} is valid until ${caEnd.toISOString()}); choose fewer days`,
    );
  }
  const issued = await Promise.all(chosen.map((l) => issueCertificate(ca, l.identity, { hosts: l.hosts, notAfter })));

  const renewed: RenewedCertificate[] = [];
  for (const [i, leaf] of chosen.entries()) {
    const key = join(leaf.folder, 'key.pem');
    const cert = join(leaf.folder, 'cert.pem');
    // The key first: a watcher that looks between the two renames sees a key that does not
    // match the old certificate, refuses it and keeps the old pair until the certificate
    // follows a moment later.
    await replaceFiles([
      { path: key, data: issued[i].keyPem, mode: 0o600 },
      { path: cert, data: issued[i].certPem, mode: 0o644 },
    ]);
    renewed.push({ identity: leaf.identity, cert, key, notAfter });
  }
  return renewed;
}

interface Leaf {
  identity: Identity;
  hosts: string[];
  /** Absolute path of the folder holding cert.pem and key.pem. */
  folder: string;
}

/** Every `cert.pem` of the layout, with the principal and hosts it names; each must be issued by the CA. */
async function findLeaves(root: string, caCert: X509Certificate): Promise<Leaf[]> {
  const folders: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (e.name === 'analyst' || e.name === 'auditor') {
      for (const sub of await readdir(join(root, e.name), { withFileTypes: true })) {
        if (sub.isDirectory()) folders.push(join(root, e.name, sub.name));
      }
    } else {
      folders.push(join(root, e.name));
    }
  }
  const leaves: Leaf[] = [];
  for (const folder of folders.sort()) {
    const path = join(folder, 'cert.pem');
    if (!(await exists(path))) continue;
    const pem = readTextFile(path, ErrorCode.CONFIG);
    let cert: X509Certificate;
    let identity: Identity;
    try {
      cert = new X509Certificate(pem);
      identity = identityFromCertificate(cert);
    } catch (e) {
      throw new MpcError(ErrorCode.CONFIG, `${path}: not a certificate of this layout: ${(e as Error).message}`, { cause: e });
    }
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
      throw new MpcError(
        ErrorCode.CONFIG,
        `${path} (${formatIdentity(identity)}) is not issued by ${join(root, 'ca.crt')}; refusing to renew with a CA that did not issue it`,
      );
    }
    leaves.push({ identity, hosts: certificateHosts(pem), folder });
  }
  if (leaves.length === 0) throw new MpcError(ErrorCode.CONFIG, `${root} holds no certificates to renew (expected the layout of mpc init)`);
  return leaves;
}

/** The leaves `only` names (ids or role/id), all of them without `only`. */
function selectLeaves(leaves: Leaf[], only: string[] | undefined, root: string): Leaf[] {
  if (only === undefined) return leaves;
  const names = (l: Leaf) => [l.identity.id, `${l.identity.role}/${l.identity.id}`];
  const unknown = only.filter((want) => !leaves.some((l) => names(l).includes(want)));
  if (unknown.length > 0) {
    throw new MpcError(
      ErrorCode.CONFIG,
      `--only: no certificate for ${unknown.map((u) => JSON.stringify(u)).join(', ')} in ${root} (found ${leaves.map((l) => `${l.identity.role}/${l.identity.id}`).join(', ')})`,
    );
  }
  return leaves.filter((l) => names(l).some((n) => only.includes(n)));
}

function parseCaCertificate(pem: string, path: string): X509Certificate {
  let c: X509Certificate;
  try {
    c = new X509Certificate(pem);
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, `${path} is not a PEM certificate`, { cause: e });
  }
  if (!c.ca) throw new MpcError(ErrorCode.CONFIG, `${path} is not a CA certificate`);
  return c;
}

/**
 * Replace files so that a reader sees either the old or the new content of each, never a
 * part: every new content is first written and fsync'd to a temporary file beside its target
 * (same file system, created with its final mode), then each is renamed over its target.
 */
export async function replaceFiles(files: Array<{ path: string; data: string; mode: number }>): Promise<void> {
  const staged: Array<{ tmp: string; path: string }> = [];
  try {
    for (const f of files) {
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
      staged.push({ tmp, path: f.path });
      const h = await open(tmp, 'wx', f.mode);
      try {
        await h.writeFile(f.data);
        await h.chmod(f.mode); // open's mode is filtered by the umask
        await h.sync();
      } finally {
        await h.close();
      }
    }
    for (const s of staged) await rename(s.tmp, s.path);
  } catch (e) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw new MpcError(ErrorCode.CONFIG, `cannot replace ${files.map((f) => f.path).join(', ')}: ${(e as Error).message}`, { cause: e });
  }
}

async function refuseOverwrite(root: string, rels: string[]): Promise<void> {
  const existing: string[] = [];
  for (const rel of rels) {
    if (await exists(join(root, rel))) existing.push(rel);
  }
  if (existing.length === 0) return;
  const what = existing.includes('ca.crt')
    ? `${root} already holds a federation (ca.crt exists)`
    : `${root} already holds ${existing.join(', ')}`;
  throw new MpcError(
    ErrorCode.CONFIG,
    `${what}; refusing to overwrite it. Use --force (force: true) to replace it: certificates issued by the old CA will stop working.`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/** Whether example data holds a non-integer (then its dataset is typed "fixed"). */
function hasFraction(v: unknown): boolean {
  const list = Array.isArray(v) ? v : [v];
  return list.some((x) => (typeof x === 'number' && !Number.isInteger(x)) || (typeof x === 'string' && x.includes('.')));
}
