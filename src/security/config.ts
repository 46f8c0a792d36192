/**
 * On-disk configuration: the node config (one per party), the dealer config and the analyst's
 * cluster file. Every problem is reported as MpcError CONFIG naming the file and the JSON path
 * (`p1.node.json: parties[2].port: expected an integer in 1..65535, got 70000`), because the
 * person reading it is an operator with an editor open, not a developer with a debugger.
 *
 * Paths inside a config are relative to the config file's folder and are resolved to absolute
 * paths on load, so a federation folder written by `mpc init` can be moved as a whole.
 * Unknown keys are rejected (a misspelt key would otherwise be silently ignored); keys that
 * start with `$` (e.g. `"$comment"`) are allowed and ignored.
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ErrorCode, MpcError } from '../errors.ts';
import { ID_PATTERN, isValidId } from './identity.ts';
import { AUDIT_SYNC_MODES, type AuditSync } from './audit.ts';

/** How a node runs jobs: honest-but-curious peers, or detect any deviation (SPDZ2k). */
export type SecurityMode = 'semi-honest' | 'malicious';
/** Where correlated randomness comes from: a trusted dealer, or OT among the parties. */
export type PreprocessingMode = 'dealer' | 'ot';
/** File format of a local dataset. */
export type DatasetFormat = 'csv' | 'json';

export const SECURITY_MODES: readonly SecurityMode[] = ['semi-honest', 'malicious'];
export const PREPROCESSING_MODES: readonly PreprocessingMode[] = ['dealer', 'ot'];
export const DATASET_FORMATS: readonly DatasetFormat[] = ['csv', 'json'];

/** A process others connect to: its principal id and address. */
export interface Endpoint {
  id: string;
  host: string;
  port: number;
}

/** Where a process listens; port 0 means "any free port". */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Absolute paths of the PEM files a process presents and trusts. */
export interface TlsPaths {
  /** The federation CA certificate: the only trust anchor. */
  ca: string;
  /** This process's certificate (carries its identity URI). */
  cert: string;
  /** This process's PKCS#8 private key. */
  key: string;
}

/** The PEM contents of {@link TlsPaths}, as node:tls takes them. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** A party's local data source bound to a circuit input name. */
export interface DatasetConfig {
  /** Absolute path of the data file. */
  file: string;
  format: DatasetFormat;
  /** The column (CSV) or field (JSON records) to read; the whole file when absent. */
  column?: string;
  /** "int" (default): signed 64-bit integers; "fixed": real numbers for fixed-point inputs. */
  type?: DatasetType;
}

export type DatasetType = 'int' | 'fixed';
export const DATASET_TYPES: readonly DatasetType[] = ['int', 'fixed'];

/** A party node's configuration (`<party>.node.json`). */
export interface NodeConfig {
  federation: string;
  /** This node's party id; listed in `parties`. */
  party: string;
  listen: ListenAddress;
  tls: TlsPaths;
  /** All computing parties in party order, this node included. */
  parties: Endpoint[];
  dealer: Endpoint | null;
  /** Analyst ids allowed to submit jobs. */
  analysts: string[];
  /** Auditor ids allowed to read this node's audit log. */
  auditors: string[];
  /** Input name → local data source. */
  datasets: Record<string, DatasetConfig>;
  security: SecurityMode;
  preprocessing: PreprocessingMode;
  /**
   * Threads that run the node's batch kernels (src/node/pool.ts): 1 keeps them in the main
   * thread, more starts a worker pool of that size. Absent: `MPC_THREADS`, else 1 (the
   * fastest setting measured on a 2-core host running every party; README "Performance").
   */
  threads?: number;
  /**
   * The data owner's policy file (src/security/policy.ts), checked against every plan before
   * any share moves and reloaded when it changes. Absent: every plan is accepted (the node
   * says so at start-up); `mpc init` always writes one.
   */
  policy?: string;
  /** The node's append-only, hash-chained audit log (src/security/audit.ts). Absent: no audit. */
  audit?: string;
  /**
   * Whether each frame's audit entry is fsync'd before the frame is sent (`"every-frame"`, the
   * default) or only written, and synced within 100 ms (`"decisions"`: decisions, lifecycle and
   * outputs are still synced first). See `AuditSync` in src/security/audit.ts.
   */
  auditSync?: AuditSync;
}

/** Most kernel threads a node config may ask for. */
export const MAX_NODE_THREADS = 256;

/** The dealer's configuration (`dealer.json`). */
export interface DealerConfig {
  federation: string;
  id: string;
  listen: ListenAddress;
  tls: TlsPaths;
  parties: Endpoint[];
}

/** The analyst's view of a federation (`cluster.json`, for `mpc run --cluster`). */
export interface ClusterConfig {
  federation: string;
  /** The analyst's own certificate and key, and the federation CA. */
  tls: TlsPaths;
  analyst: string;
  parties: Endpoint[];
  dealer: Endpoint | null;
}

/** The auditor's view of a federation (`auditor.json`, for `mpc audit fetch`). */
export interface AuditorConfig {
  federation: string;
  /** The auditor's own certificate and key, and the federation CA. */
  tls: TlsPaths;
  auditor: string;
  parties: Endpoint[];
}

/** Read, parse, validate and resolve an auditor file; also checks that its TLS files exist. */
export function loadAuditorConfig(path: string): AuditorConfig {
  const { obj, file } = readJson(path);
  const v = new Validator(file, dirname(file));
  const o = v.object(obj, '', ['federation', 'tls', 'auditor', 'parties']);
  const cfg: AuditorConfig = { federation: v.id(o.federation, 'federation'), tls: v.tls(o.tls, 'tls'), auditor: v.id(o.auditor, 'auditor'), parties: v.parties(o.parties, 'parties') };
  checkTlsFiles(cfg.tls, file);
  return cfg;
}

/** Read, parse, validate and resolve a node config; also checks that its TLS files exist. */
export function loadNodeConfig(path: string): NodeConfig {
  const { obj, file } = readJson(path);
  const cfg = parseNodeConfig(obj, file, dirname(file));
  checkTlsFiles(cfg.tls, file);
  return cfg;
}

/** Read, parse, validate and resolve a dealer config; also checks that its TLS files exist. */
export function loadDealerConfig(path: string): DealerConfig {
  const { obj, file } = readJson(path);
  const cfg = parseDealerConfig(obj, file, dirname(file));
  checkTlsFiles(cfg.tls, file);
  return cfg;
}

/** Read, parse, validate and resolve a cluster file; also checks that its TLS files exist. */
export function loadClusterConfig(path: string): ClusterConfig {
  const { obj, file } = readJson(path);
  const cfg = parseClusterConfig(obj, file, dirname(file));
  checkTlsFiles(cfg.tls, file);
  return cfg;
}

/**
 * Validate a parsed node config. `file` is used only in messages; relative paths are resolved
 * against `baseDir`. Does not touch the file system.
 */
export function parseNodeConfig(obj: unknown, file: string, baseDir: string): NodeConfig {
  const v = new Validator(file, baseDir);
  const o = v.object(obj, '', [
    'federation', 'party', 'listen', 'tls', 'parties', 'dealer', 'analysts', 'auditors', 'datasets', 'security', 'preprocessing', 'threads', 'policy', 'audit', 'auditSync',
  ]);
  const federation = v.id(o.federation, 'federation');
  const party = v.id(o.party, 'party');
  const parties = v.parties(o.parties, 'parties');
  if (!parties.some((p) => p.id === party)) {
    v.fail('party', `${JSON.stringify(party)} is not listed in parties (${parties.map((p) => p.id).join(', ')})`);
  }
  const dealer = v.dealer(o.dealer, 'dealer', parties);
  const preprocessing =
    o.preprocessing === undefined ? (dealer ? 'dealer' : 'ot') : v.oneOf(o.preprocessing, 'preprocessing', PREPROCESSING_MODES);
  if (preprocessing === 'dealer' && dealer === null) {
    v.fail('dealer', 'preprocessing is "dealer" but no dealer is configured');
  }
  const cfg: NodeConfig = {
    federation,
    party,
    listen: v.listen(o.listen, 'listen'),
    tls: v.tls(o.tls, 'tls'),
    parties,
    dealer,
    analysts: o.analysts === undefined ? [] : v.uniqueIds(o.analysts, 'analysts'),
    auditors: o.auditors === undefined ? [] : v.uniqueIds(o.auditors, 'auditors'),
    datasets: o.datasets === undefined ? {} : v.datasets(o.datasets, 'datasets'),
    // The weakest security mode this node accepts; malicious unless weaker jobs are allowed
    // explicitly (ARCHITECTURE.md §1).
    security: o.security === undefined ? 'malicious' : v.oneOf(o.security, 'security', SECURITY_MODES),
    preprocessing,
  };
  if (o.threads !== undefined) cfg.threads = v.integer(o.threads, 'threads', 1, MAX_NODE_THREADS);
  if (o.policy !== undefined) cfg.policy = v.path(o.policy, 'policy');
  if (o.audit !== undefined) cfg.audit = v.path(o.audit, 'audit');
  if (o.auditSync !== undefined) cfg.auditSync = v.oneOf(o.auditSync, 'auditSync', AUDIT_SYNC_MODES);
  return cfg;
}

/** Validate a parsed dealer config (see {@link parseNodeConfig}). */
export function parseDealerConfig(obj: unknown, file: string, baseDir: string): DealerConfig {
  const v = new Validator(file, baseDir);
  const o = v.object(obj, '', ['federation', 'id', 'listen', 'tls', 'parties']);
  const federation = v.id(o.federation, 'federation');
  const id = v.id(o.id, 'id');
  const parties = v.parties(o.parties, 'parties');
  if (parties.some((p) => p.id === id)) v.fail('id', `${JSON.stringify(id)} is also a party id`);
  return { federation, id, listen: v.listen(o.listen, 'listen'), tls: v.tls(o.tls, 'tls'), parties };
}

/** Validate a parsed cluster file (see {@link parseNodeConfig}). */
export function parseClusterConfig(obj: unknown, file: string, baseDir: string): ClusterConfig {
  const v = new Validator(file, baseDir);
  const o = v.object(obj, '', ['federation', 'tls', 'analyst', 'parties', 'dealer']);
  const federation = v.id(o.federation, 'federation');
  const tls = v.tls(o.tls, 'tls');
  const analyst = v.id(o.analyst, 'analyst');
  const parties = v.parties(o.parties, 'parties');
  return { federation, tls, analyst, parties, dealer: v.dealer(o.dealer, 'dealer', parties) };
}

/** Read the three PEM files named by `tls`; a missing or unreadable one is MpcError CONFIG. */
export function loadTlsMaterial(tls: TlsPaths): TlsMaterial {
  const read = (what: keyof TlsPaths): string => {
    try {
      return readFileSync(tls[what], 'utf8');
    } catch (e) {
      throw new MpcError(ErrorCode.CONFIG, `cannot read TLS ${what} file ${tls[what]}: ${errText(e)}`, { cause: e });
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
}

// ---------------------------------------------------------------------------------------------

/** Read and parse a JSON file an operator edits; errors are CONFIG with the file and line:column. */
export function readJson(path: string): { obj: unknown; file: string } {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, `cannot read config file ${file}: ${errText(e)}`, { cause: e });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // editors on Windows add a BOM
  try {
    return { obj: JSON.parse(text), file };
  } catch (e) {
    throw new MpcError(ErrorCode.CONFIG, `${file}${jsonErrorLocation(text, e)}: invalid JSON: ${errText(e)}`, { cause: e });
  }
}

/** `:line:column` of a JSON.parse error, from the `position N` V8 puts in its message. */
function jsonErrorLocation(text: string, e: unknown): string {
  const msg = errText(e);
  const lc = /line (\d+) column (\d+)/.exec(msg);
  if (lc) return `:${lc[1]}:${lc[2]}`;
  const pos = /position (\d+)/.exec(msg);
  if (!pos) return '';
  const before = text.slice(0, Number(pos[1]));
  const line = before.split('\n').length;
  const column = Number(pos[1]) - before.lastIndexOf('\n');
  return `:${line}:${column}`;
}

function checkTlsFiles(tls: TlsPaths, file: string): void {
  for (const what of ['ca', 'cert', 'key'] as const) {
    let ok = false;
    try {
      ok = statSync(tls[what]).isFile();
    } catch {
      ok = false;
    }
    if (!ok) throw new MpcError(ErrorCode.CONFIG, `${file}: tls.${what}: file not found: ${tls[what]}`);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Typed readers that know the file and report the JSON path of whatever they reject. Exported
 * so every JSON file an operator edits (configs, policies) reports its errors the same way.
 */
export class Validator {
  constructor(
    readonly file: string,
    readonly baseDir: string,
  ) {}

  fail(path: string, msg: string): never {
    throw new MpcError(ErrorCode.CONFIG, `${this.file}: ${path === '' ? '(top level)' : path}: ${msg}`);
  }

  /** An object whose keys are all in `allowed` (any keys when `allowed` is null) or start with `$`. */
  object(v: unknown, path: string, allowed: readonly string[] | null): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${show(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (allowed !== null && !k.startsWith('$') && !allowed.includes(k)) {
        this.fail(join(path, k), `unknown key (expected one of: ${allowed.join(', ')})`);
      }
    }
    return o;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(path, `expected a non-empty string, got ${show(v)}`);
    return v;
  }

  id(v: unknown, path: string): string {
    if (!isValidId(v)) this.fail(path, `expected an id matching ${ID_PATTERN}, got ${show(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(path, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}`);
    }
    return v as T;
  }

  integer(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `expected an integer in ${min}..${max}, got ${show(v)}`);
    return v;
  }

  host(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (s.length > 255 || /[\s/\\,"]/.test(s)) this.fail(path, `expected a host name or IP address, got ${show(v)}`);
    return s;
  }

  port(v: unknown, path: string, allowZero: boolean): number {
    const min = allowZero ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) {
      this.fail(path, `expected an integer in ${min}..65535, got ${show(v)}`);
    }
    return v;
  }

  /** A path relative to the config file's folder, returned absolute. */
  path(v: unknown, path: string): string {
    const s = this.string(v, path);
    return isAbsolute(s) ? s : resolve(this.baseDir, s);
  }

  listen(v: unknown, path: string): ListenAddress {
    const o = this.object(v, path, ['host', 'port']);
    return { host: this.host(o.host, join(path, 'host')), port: this.port(o.port, join(path, 'port'), true) };
  }

  endpoint(v: unknown, path: string): Endpoint {
    const o = this.object(v, path, ['id', 'host', 'port']);
    return {
      id: this.id(o.id, join(path, 'id')),
      host: this.host(o.host, join(path, 'host')),
      port: this.port(o.port, join(path, 'port'), false),
    };
  }

  tls(v: unknown, path: string): TlsPaths {
    const o = this.object(v, path, ['ca', 'cert', 'key']);
    return { ca: this.path(o.ca, join(path, 'ca')), cert: this.path(o.cert, join(path, 'cert')), key: this.path(o.key, join(path, 'key')) };
  }

  /** The computing parties: at least two (one party alone is not MPC), ids unique. */
  parties(v: unknown, path: string): Endpoint[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array of {id, host, port}, got ${show(v)}`);
    const out = v.map((e, i) => this.endpoint(e, `${path}[${i}]`));
    if (out.length < 2) this.fail(path, `expected at least 2 parties, got ${out.length}`);
    out.forEach((p, i) => {
      if (out.findIndex((q) => q.id === p.id) !== i) this.fail(`${path}[${i}].id`, `duplicate party id ${JSON.stringify(p.id)}`);
    });
    return out;
  }

  /** An optional dealer endpoint (absent or null: none), whose id must not be a party's. */
  dealer(v: unknown, path: string, parties: Endpoint[]): Endpoint | null {
    if (v === undefined || v === null) return null;
    const d = this.endpoint(v, path);
    if (parties.some((p) => p.id === d.id)) this.fail(join(path, 'id'), `${JSON.stringify(d.id)} is also a party id`);
    return d;
  }

  uniqueIds(v: unknown, path: string): string[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array of ids, got ${show(v)}`);
    const out = v.map((x, i) => this.id(x, `${path}[${i}]`));
    out.forEach((x, i) => {
      if (out.indexOf(x) !== i) this.fail(`${path}[${i}]`, `duplicate id ${JSON.stringify(x)}`);
    });
    return out;
  }

  datasets(v: unknown, path: string): Record<string, DatasetConfig> {
    const o = this.object(v, path, null);
    // fromEntries defines own properties, so an input named "__proto__" cannot touch a prototype.
    return Object.fromEntries(
      Object.keys(o)
        .filter((name) => !name.startsWith('$'))
        .map((name) => [name, this.dataset(o[name], join(path, name))]),
    );
  }

  dataset(v: unknown, path: string): DatasetConfig {
    const o = this.object(v, path, ['file', 'format', 'column', 'type']);
    const file = this.path(o.file, join(path, 'file'));
    let format: DatasetFormat;
    if (o.format !== undefined) format = this.oneOf(o.format, join(path, 'format'), DATASET_FORMATS);
    else if (/\.csv$/i.test(file)) format = 'csv';
    else if (/\.json$/i.test(file)) format = 'json';
    else this.fail(join(path, 'format'), `missing, and cannot be guessed from the file name (expected "csv" or "json")`);
    const out: DatasetConfig = { file, format };
    if (o.column !== undefined) out.column = this.string(o.column, join(path, 'column'));
    if (o.type !== undefined) out.type = this.oneOf(o.type, join(path, 'type'), DATASET_TYPES);
    return out;
  }
}

/** JSON path segment: `a.b`, or `a["odd key"]` when the key is not a plain identifier. */
export function join(path: string, key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A short rendering of an offending value for an error message. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
