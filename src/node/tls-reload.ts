/**
 * A running node's certificates over time: warnings days before its own certificate, the
 * CA's or a peer's expires ({@link watchExpiry}), and taking renewed TLS files into use
 * without a restart ({@link watchTlsFiles}).
 *
 * Reload: `mpc cert renew` replaces `cert.pem` and `key.pem` atomically, one after the other.
 * The watcher sees that through `fs.watch` on the files' folders (a rename replaces the
 * file's inode, so watching the file itself would go deaf after the first renewal), with a
 * periodic `stat` as a fallback for file systems where `fs.watch` says nothing (network
 * mounts, some containers). It waits for the writes to settle (debounce), then checks the new
 * set as a whole before anything uses it (certs.ts checkTlsMaterial: PEMs parse, key matches
 * certificate, same principal, issued by the CA, valid now). A set that fails is looked at
 * once more after another quiet time (the second of renew's two files may be on its way),
 * then reported, once; the old material stays in use, the node goes on with it, and
 * nothing half-renewed ever reaches a handshake. Applying is the caller's `onChange`: the
 * node hands the material to its server (new connections), mesh, lanes and dealer links (next
 * dials); channels already up keep their TLS session, so running jobs are not disturbed.
 * @module
 */
import { statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ErrorCode, isMpcError, MpcError } from '../errors.ts';
import type { NetLog } from '../net/log.ts';
import type { TlsMaterial } from '../net/tls.ts';
import { certificateExpiry, checkTlsMaterial, DEFAULT_WARN_DAYS, expiryNotice, expiryWarning } from '../security/certs.ts';
import type { ExpiryNotice } from '../security/certs.ts';
import { loadTlsMaterial } from '../security/config.ts';
import type { TlsPaths } from '../security/config.ts';
import { formatIdentity } from '../security/identity.ts';
import type { Identity } from '../security/identity.ts';
import { fingerprint, identityFromCertificate } from '../security/pki.ts';

/** What a check of the files found. */
export type TlsReloadResult = 'applied' | 'unchanged' | 'refused';

/** Options of {@link watchTlsFiles}. */
export interface TlsWatchOptions {
  /** The material in use now. Default: read from `paths` when the watch starts. */
  current?: TlsMaterial;
  /** Quiet time after the last change before the files are read. Default 200 ms. */
  debounceMs?: number;
  /** Interval of the `stat` fallback. Default 10 s. */
  pollMs?: number;
  /** Clock for the validity check (tests). Default: now. */
  now?: () => Date;
}

/** What {@link watchTlsFiles} tells `onChange` about the material it hands over. */
export interface TlsChange {
  /** SHA-256 of the new certificate (fingerprint), for the log. */
  fingerprint: string;
  notAfter: Date;
}

/** A running {@link watchTlsFiles}. */
export interface TlsWatch {
  /** The material last applied (or the initial one). */
  readonly current: TlsMaterial;
  /** Read and check the files now (SIGHUP), without waiting for a change to be noticed. */
  reload(): TlsReloadResult;
  /** Stop watching. */
  close(): void;
}

/**
 * Watch the files of `paths` and hand each new, valid set to `onChange`; report an invalid one
 * to `onError` (MpcError CONFIG saying why, once per distinct content) and keep the old one.
 * The principal is fixed by the certificate in use when the watch starts. `onChange` may throw
 * (the new set then counts as refused and the old one stays current).
 *
 * @example
 * const tlsWatch = watchTlsFiles(cfg.tls, (m, c) => { server.updateTls(m); mesh.updateTls(m); lanes?.updateTls(m);
 *   log.info({ event: 'tls-reloaded', fingerprint: c.fingerprint }, 'renewed certificate in use'); },
 *   (e) => log.error({ event: 'tls-reload-refused', code: e.code }, e.message), { current: tls });
 * process.on('SIGHUP', () => tlsWatch.reload());
 */
export function watchTlsFiles(
  paths: TlsPaths,
  onChange: (material: TlsMaterial, change: TlsChange) => void,
  onError: (error: MpcError) => void,
  opts: TlsWatchOptions = {},
): TlsWatch {
  const debounceMs = opts.debounceMs ?? 200;
  const now = opts.now ?? (() => new Date());
  let current: TlsMaterial = opts.current ?? loadTlsMaterial(paths);
  const self: Identity = identityFromCertificate(current.cert);
  const files = [paths.ca, paths.cert, paths.key];
  /** The content last refused, so a bad set is reported once, not at every poll. */
  let refused: string | undefined;
  /**
   * A set that failed once and is looked at again before it is reported: renew replaces the
   * key and then the certificate, and a look between the two sees a mismatch that is gone a
   * moment later.
   */
  let suspect: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let stamps = files.map(stamp);

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(false), debounceMs);
    timer.unref();
  };

  const check = (explicit: boolean): TlsReloadResult => {
    stamps = files.map(stamp);
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(paths);
    } catch (e) {
      return refuse(e, `unreadable:${(e as Error).message}`, explicit);
    }
    if (next.ca === current.ca && next.cert === current.cert && next.key === current.key) {
      refused = suspect = undefined;
      return 'unchanged';
    }
    const key = `${next.ca}\0${next.cert}\0${next.key}`;
    try {
      checkTlsMaterial(next, { expected: self, now: now(), files: paths });
      onChange(next, { fingerprint: fingerprint(next.cert), notAfter: certificateExpiry(next.cert) });
    } catch (e) {
      return refuse(e, key, explicit);
    }
    current = next;
    refused = suspect = undefined;
    return 'applied';
  };

  const refuse = (e: unknown, key: string, explicit: boolean): 'refused' => {
    if (!explicit && suspect !== key && refused !== key) {
      suspect = key;
      schedule();
      return 'refused';
    }
    suspect = undefined;
    if (explicit || refused !== key) {
      refused = key;
      const why = e instanceof Error ? e.message : String(e);
      onError(
        new MpcError(isMpcError(e) ? e.code : ErrorCode.CONFIG, `new TLS files refused, still using the current certificate of ${formatIdentity(self)}: ${why}`, {
          cause: e,
        }),
      );
    }
    return 'refused';
  };

  // One watcher per folder: renew writes a temporary file and renames it over the target,
  // which the folder reports under the target's name.
  const watchers: FSWatcher[] = [];
  const byFolder = new Map<string, Set<string>>();
  for (const f of files) byFolder.set(dirname(f), (byFolder.get(dirname(f)) ?? new Set()).add(basename(f)));
  for (const [folder, names] of byFolder) {
    try {
      const w = watch(folder, { persistent: false }, (_event, name) => {
        if (name === null || names.has(String(name))) schedule();
      });
      // A folder that goes away, or a watcher the platform ends: the stat poll carries on.
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // fs.watch is not available here (some file systems); the stat poll covers it.
    }
  }
  const poll = setInterval(() => {
    const fresh = files.map(stamp);
    if (fresh.some((s, i) => s !== stamps[i])) {
      stamps = fresh;
      schedule();
    }
  }, opts.pollMs ?? 10_000);
  poll.unref();

  return {
    get current() {
      return current;
    },
    reload: () => {
      clearTimeout(timer);
      return check(true);
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}

/** inode, size and mtime: changes whenever a file is replaced or rewritten. */
function stamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** Options of {@link watchExpiry}. */
export interface ExpiryWatchOptions {
  /** This process's certificate. */
  ownCertPem: string;
  /** The federation CA's certificate (its expiry ends the whole federation). */
  caPem?: string;
  log: NetLog;
  /** Warn from this many days before expiry. Default 14. */
  warnDays?: number;
  /** How often to look again. Default 12 h. */
  intervalMs?: number;
  now?: () => Date;
}

/** A running {@link watchExpiry}. */
export interface ExpiryWatch {
  /** A peer connected with a certificate valid until `validTo` (the server's and dialers' `onPeerCertificate`). */
  peer(peer: Identity, validTo: Date): void;
  /** Our certificate (and CA) after a reload; checked at once. */
  setOwn(certPem: string, caPem?: string): void;
  /** Check everything now (done at start and every `intervalMs`). */
  check(): void;
  /** Stop the timer. */
  close(): void;
}

// Peers remembered for the periodic check; the oldest is forgotten beyond this many.
const MAX_PEERS = 4096;

/**
 * Warn in the log, at start and every 12 h, when this process's certificate, the CA's or the
 * certificate of a peer seen connecting expires within `warnDays` (level warn), or has expired
 * (level error). A peer's certificate is also checked the moment it is first seen. Lines carry
 * `event: 'cert-expiry'`, `subject`, `notAfter` and `daysLeft` (and `peer` for a peer).
 *
 * @example
 * const expiry = watchExpiry({ ownCertPem: tls.cert, caPem: tls.ca, log: nlog });
 * const server = new NodeServer({ tls, parties, log: nlog, onPeerCertificate: expiry.peer });
 */
export function watchExpiry(opts: ExpiryWatchOptions): ExpiryWatch {
  const warnDays = opts.warnDays ?? DEFAULT_WARN_DAYS;
  const now = opts.now ?? (() => new Date());
  let own = opts.ownCertPem;
  let ca = opts.caPem;
  const peers = new Map<string, { peer: Identity; validTo: Date }>();

  const say = (n: ExpiryNotice | undefined, subject: string, fields: Record<string, unknown> = {}): void => {
    if (n === undefined) return;
    opts.log(n.level, n.message, { event: 'cert-expiry', subject, notAfter: n.notAfter.toISOString(), daysLeft: n.daysLeft, ...fields });
  };
  const checkOwn = (): void => {
    const t = now();
    say(expiryWarning(own, t, warnDays), 'own');
    if (ca !== undefined) say(expiryWarning(ca, t, warnDays), 'ca');
  };
  const checkPeer = (p: { peer: Identity; validTo: Date }, t: Date): void =>
    say(expiryNotice(formatIdentity(p.peer), p.validTo, t, warnDays), 'peer', { peer: p.peer.id, role: p.peer.role });

  const check = (): void => {
    checkOwn();
    const t = now();
    for (const p of peers.values()) checkPeer(p, t);
  };
  check();
  const timer = setInterval(check, opts.intervalMs ?? 12 * 3600 * 1000);
  timer.unref();

  return {
    // An arrow function, so it can be passed on as a callback by itself.
    peer: (peer: Identity, validTo: Date): void => {
      const key = formatIdentity(peer);
      const seen = peers.get(key);
      // Reconnects (and every lane) show the same certificate again: said once, then at each check.
      if (seen !== undefined && seen.validTo.getTime() === validTo.getTime()) return;
      peers.delete(key);
      peers.set(key, { peer, validTo });
      if (peers.size > MAX_PEERS) peers.delete(peers.keys().next().value as string);
      checkPeer({ peer, validTo }, now());
    },
    setOwn: (certPem: string, caPem?: string): void => {
      own = certPem;
      if (caPem !== undefined) ca = caPem;
      checkOwn();
    },
    check,
    close: () => clearInterval(timer),
  };
}
