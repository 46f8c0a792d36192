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
 *   dealer/cert.pem, key.pem        dealer identity spiffe://<fed>/dealer/dealer   (unless dealer: false)
 *   dealer.json                     the dealer's config               → mpc dealer --config
 *   analyst/<analyst>/cert.pem, key.pem   analyst identity spiffe://<fed>/analyst/<analyst>
 *   cluster.json                    the analyst's cluster file        → mpc run --cluster
 * ```
 *
 * To deploy on several hosts, each party needs only `ca.crt`, its own folder and its
 * `.node.json`; `ca.key` should stay with whoever administers the federation.
 * @module
 */
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, MpcError } from '../errors.ts';
import { ID_PATTERN, isValidId } from './identity.ts';
import type { Identity } from './identity.ts';
import { createCA, issueCertificate } from './pki.ts';
import type { KeyPairPem } from './pki.ts';
import { SECURITY_MODES } from './config.ts';
import type { Endpoint, SecurityMode } from './config.ts';

/** Options of {@link initFederation}. */
export interface InitOptions {
  /** Party ids, in party order; at least two. */
  parties: string[];
  /** The analyst's id. Default `'alice'`. */
  analyst?: string;
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
  /**
   * Example data: party → input name → value(s), the inputs-file format. Each party's part
   * is written to `<party>/data.json` (0600) and bound as its datasets, so a demo federation
   * runs without editing configs. Parties without an entry get no datasets.
   */
  data?: Record<string, Record<string, unknown>>;
}

/** The dealer's principal id; fixed, as there is at most one dealer per federation. */
export const DEALER_ID = 'dealer';

// Folder and file names of the layout that a party id must not collide with.
const RESERVED_IDS = new Set(['dealer', 'analyst']);
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
export async function initFederation(dir: string, opts: InitOptions): Promise<{ files: string[] }> {
  const o = checkOptions(opts);
  const root = resolve(dir);

  const hosts = [...new Set([o.host, 'localhost', '127.0.0.1'])];
  const partyEps: Endpoint[] = o.parties.map((id, i) => ({ id, host: o.host, port: o.basePort + 1 + i }));
  const dealerEp: Endpoint | null = o.dealer ? { id: DEALER_ID, host: o.host, port: o.basePort } : null;
  const tlsFor = (folder: string) => ({ ca: 'ca.crt', cert: `${folder}/cert.pem`, key: `${folder}/key.pem` });
  const analystFolder = `analyst/${o.analyst}`;

  // Everything is generated in memory first, so a failure leaves no half-written federation.
  const ca = await createCA(o.federation);
  const issue = (role: Identity['role'], id: string) => issueCertificate(ca, { federation: o.federation, role, id }, { hosts });
  const [partyKeys, analystKeys, dealerKeys] = await Promise.all([
    Promise.all(o.parties.map((id) => issue('party', id))),
    issue('analyst', o.analyst),
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
        datasets,
        security: o.security,
        preprocessing: o.dealer ? 'dealer' : 'ot',
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
  return { files };
}

interface CheckedOptions {
  parties: string[];
  analyst: string;
  federation: string;
  host: string;
  basePort: number;
  dealer: boolean;
  security: SecurityMode;
  force: boolean;
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
  return { parties, analyst, federation, host, basePort, dealer: opts.dealer ?? true, security, force: opts.force ?? false };
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
