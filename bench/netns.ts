/**
 * LAN emulation for `npm run bench -- --net lan|lan10g`: every node of a federation (and the
 * dealer) runs in a Linux network namespace of its own, joined to the others by a veth pair
 * on one bridge, with each namespace's egress shaped by `tc` to the profile's rate and
 * one-way delay (`netem delay 100us rate 1gbit`: 0.2 ms round trip between two parties).
 * The analyst (the bench process) stays in the root namespace and reaches the nodes through
 * the bridge.
 *
 * Names: namespaces `tessera-<dealer|p1|…>`, veth pairs `tessera-h<i>` (bridge side) /
 * `tessera-n<i>` (namespace side), bridge `tessera-br0`, addresses 10.77.0.1 (bridge) and
 * 10.77.0.10 + i (0: dealer, i: party i). Everything created is removed by `close()`, on
 * failure, on SIGINT/SIGTERM and on exit; leftovers of an interrupted earlier run with these
 * exact names are removed before setting up.
 *
 * Needs root, `ip` and `tc`. Without them (or when `ip netns` fails) `lanPreflight` says
 * why, and the bench skips the profile. A kernel without `sch_netem` (CONFIG_NET_SCH_NETEM)
 * still gets the rate, from `tbf`, but no added delay: the profile is then labelled
 * "no delay" everywhere it is reported.
 *
 * Certificates from `mpc init` name 127.0.0.1 and localhost, not the namespace addresses;
 * that is fine: peers are authenticated by the SPIFFE URI in their certificate, not by host
 * name (src/net/tls.ts), so only the addresses in the configs change.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initFederation } from '../src/security/init.ts';
import { loadClusterConfig, loadTlsMaterial } from '../src/security/config.ts';
import type { RawInputs } from '../src/protocol/inputs.ts';
import type { ClusterTarget } from '../src/coordinator/client.ts';
import { stopProcesses, type Proc } from '../src/coordinator/embedded.ts';

const MPC_BIN = fileURLToPath(new URL('../bin/mpc.js', import.meta.url));

export type NetName = 'loopback' | 'lan' | 'lan10g';

export interface NetProfile {
  name: NetName;
  /** As reported in tables and JSON. */
  label: string;
  /** `tc` rate, e.g. `1gbit`; null for loopback. */
  rate: string | null;
  rateBitsPerSecond: number | null;
  /** Added one-way delay per link, seconds. */
  oneWayDelaySeconds: number;
}

export const NET_PROFILES: Record<NetName, NetProfile> = {
  loopback: { name: 'loopback', label: 'loopback', rate: null, rateBitsPerSecond: null, oneWayDelaySeconds: 0 },
  lan: { name: 'lan', label: 'lan 1G', rate: '1gbit', rateBitsPerSecond: 1e9, oneWayDelaySeconds: 100e-6 },
  lan10g: { name: 'lan10g', label: 'lan 10G', rate: '10gbit', rateBitsPerSecond: 1e10, oneWayDelaySeconds: 100e-6 },
};

export const isNetName = (s: string): s is NetName => Object.hasOwn(NET_PROFILES, s);

const SUBNET = '10.77.0';
const BRIDGE = 'tessera-br0';
const PROBE_NS = 'tessera-probe';
const PROBE_VETH = ['tessera-probe0', 'tessera-probe1'];

/** Run a command, returning stdout; an error carries the command and its stderr. */
function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = e as { stderr?: string; code?: string; message: string };
    const why = err.code === 'ENOENT' ? `${cmd} not found` : (err.stderr ?? '').trim() || err.message.split('\n')[0];
    throw new Error(`${cmd} ${args.join(' ')}: ${why}`);
  }
}

/** Run a command, ignoring failure (clean-up). Returns whether it succeeded. */
function tryRun(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const linkExists = (name: string): boolean => tryRun('ip', ['link', 'show', 'dev', name]);
const netnsList = (): string[] => {
  try {
    return run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
  } catch {
    return [];
  }
};

// --- clean-up on signals and exit ------------------------------------------------------

/** Synchronous clean-ups, run last-registered first on SIGINT, SIGTERM and exit. */
const cleanups: Array<() => void> = [];
let handlersInstalled = false;

function runCleanups(): void {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {
      // Best effort: the next clean-up must still run.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n[bench] ${signal}: removing the emulated LAN (namespaces, veth pairs, bridge)\n`);
  runCleanups();
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function register(fn: () => void): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', runCleanups);
  }
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

// --- preflight ---------------------------------------------------------------------------

export interface Preflight {
  /** Why LAN emulation cannot run at all (then nothing runs for the profile); null if it can. */
  skip: string | null;
  /** Whether `tc qdisc … netem` works; when not, why (the rate is then shaped by tbf, without delay). */
  netem: { ok: true } | { ok: false; why: string };
}

/** Can this process create namespaces and shape links? Creates and removes a probe namespace and veth pair. */
export function lanPreflight(): Preflight {
  const noNetem = { ok: false as const, why: 'not probed' };
  if (process.platform !== 'linux') return { skip: `network namespaces need Linux (this is ${process.platform})`, netem: noNetem };
  if (process.getuid?.() !== 0) return { skip: `network namespaces need root (uid ${process.getuid?.()}); run as root or use the loopback rows`, netem: noNetem };
  for (const tool of ['ip', 'tc']) {
    try {
      run(tool, ['-V']);
    } catch (e) {
      return { skip: `\`${tool}\` is not usable (${(e as Error).message}); install iproute2`, netem: noNetem };
    }
  }
  const cleanup = () => {
    tryRun('ip', ['link', 'del', PROBE_VETH[0]]);
    tryRun('ip', ['netns', 'del', PROBE_NS]);
  };
  cleanup();
  const unregister = register(cleanup);
  try {
    try {
      run('ip', ['netns', 'add', PROBE_NS]);
      run('ip', ['netns', 'exec', PROBE_NS, 'ip', 'link', 'set', 'lo', 'up']);
    } catch (e) {
      return { skip: `\`ip netns\` failed: ${(e as Error).message}`, netem: noNetem };
    }
    try {
      run('ip', ['link', 'add', PROBE_VETH[0], 'type', 'veth', 'peer', 'name', PROBE_VETH[1]]);
    } catch (e) {
      return { skip: `cannot create a veth pair: ${(e as Error).message}`, netem: noNetem };
    }
    try {
      run('tc', ['qdisc', 'add', 'dev', PROBE_VETH[0], 'root', 'netem', 'delay', '100us', 'rate', '1gbit']);
      return { skip: null, netem: { ok: true } };
    } catch (e) {
      const msg = (e as Error).message.replace(/^.*: (?:Error: )?/, '');
      let tbf = true;
      try {
        run('tc', ['qdisc', 'replace', 'dev', PROBE_VETH[0], 'root', 'tbf', 'rate', '1gbit', 'burst', '125000', 'latency', '10ms']);
      } catch {
        tbf = false;
      }
      if (!tbf) return { skip: `neither tc netem nor tc tbf works here (${msg})`, netem: { ok: false, why: msg } };
      return { skip: null, netem: { ok: false, why: `tc netem is not available in this kernel (tc: "${msg.replace(/\.$/, '')}"; it needs sch_netem, CONFIG_NET_SCH_NETEM)` } };
    }
  } finally {
    cleanup();
    unregister();
  }
}

// --- the emulated LAN ---------------------------------------------------------------------

export interface LanNetwork {
  profile: NetProfile;
  /** The profile's label, with ", no delay" when netem is missing. */
  label: string;
  delayEmulated: boolean;
  /** The qdisc on every namespace's egress, as given to tc. */
  qdisc: string;
  /** One line for the JSON's `transport`. */
  transport: string;
  /** Why the delay is missing, when it is. */
  note: string | null;
  /** Node name ('dealer', 'p1', …) → its address. */
  address(name: string): string;
  /** Node name → its namespace. */
  netns(name: string): string;
  /** Remove everything (idempotent, synchronous). */
  close(): void;
}

/**
 * Create the namespaces for `names` (index 0 is usually the dealer), the bridge and the
 * shaped veth pairs. Throws (after removing what it created) if any step fails.
 */
export function setUpLan(profile: NetProfile, names: string[], netem: Preflight['netem']): LanNetwork {
  if (profile.rate === null) throw new RangeError('setUpLan: the loopback profile has no LAN');
  const index = new Map(names.map((n, i) => [n, i]));
  const ns = (name: string) => `tessera-${name}`;
  const hostSide = (i: number) => `tessera-h${i}`;
  const nsSide = (i: number) => `tessera-n${i}`;
  const addr = (i: number) => `${SUBNET}.${10 + i}`;
  const rateBytes = profile.rateBitsPerSecond! / 8;
  const delayUs = Math.round(profile.oneWayDelaySeconds * 1e6);
  // netem: delay and rate in one qdisc; its queue limit in packets, generous so that a burst of
  // GSO segments is never dropped. tbf: the rate only, with a burst of 1 ms of traffic.
  const qdisc = netem.ok
    ? ['netem', 'delay', `${delayUs}us`, 'rate', profile.rate, 'limit', '100000']
    : ['tbf', 'rate', profile.rate, 'burst', String(Math.max(65536, Math.round(rateBytes / 1000))), 'latency', '10ms'];

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    // Deleting a namespace destroys its end of the veth pair, and with it the pair, once no
    // process is left in it; the bridge-side ends are deleted explicitly in case one is not.
    for (const name of names) tryRun('ip', ['netns', 'del', ns(name)]);
    names.forEach((_, i) => {
      if (linkExists(hostSide(i))) tryRun('ip', ['link', 'del', hostSide(i)]);
    });
    if (linkExists(BRIDGE)) tryRun('ip', ['link', 'del', BRIDGE]);
  };

  // Leftovers of an interrupted run with exactly these names.
  const existing = new Set(netnsList());
  for (const name of names) if (existing.has(ns(name))) tryRun('ip', ['netns', 'del', ns(name)]);
  names.forEach((_, i) => {
    if (linkExists(hostSide(i))) tryRun('ip', ['link', 'del', hostSide(i)]);
  });
  if (linkExists(BRIDGE)) tryRun('ip', ['link', 'del', BRIDGE]);

  const unregister = register(close);
  try {
    run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${SUBNET}.1/24`, 'dev', BRIDGE]);
    run('ip', ['link', 'set', BRIDGE, 'up']);
    names.forEach((name, i) => {
      const n = ns(name);
      run('ip', ['netns', 'add', n]);
      run('ip', ['link', 'add', hostSide(i), 'type', 'veth', 'peer', 'name', nsSide(i)]);
      run('ip', ['link', 'set', nsSide(i), 'netns', n]);
      run('ip', ['link', 'set', hostSide(i), 'master', BRIDGE]);
      run('ip', ['link', 'set', hostSide(i), 'up']);
      run('ip', ['netns', 'exec', n, 'ip', 'link', 'set', 'lo', 'up']);
      run('ip', ['netns', 'exec', n, 'ip', 'addr', 'add', `${addr(i)}/24`, 'dev', nsSide(i)]);
      run('ip', ['netns', 'exec', n, 'ip', 'link', 'set', nsSide(i), 'up']);
      run('ip', ['netns', 'exec', n, 'tc', 'qdisc', 'add', 'dev', nsSide(i), 'root', ...qdisc]);
    });
  } catch (e) {
    close();
    unregister();
    throw e;
  }

  const label = netem.ok ? profile.label : `${profile.label}, no delay`;
  const shaped = `egress of every namespace: tc qdisc ${qdisc.join(' ')}`;
  return {
    profile,
    label,
    delayEmulated: netem.ok,
    qdisc: qdisc.join(' '),
    transport: `wss (mTLS 1.3), one network namespace per node and dealer on a bridge (${SUBNET}.0/24, veth pairs), ${shaped}`,
    note: netem.ok ? null : `${netem.why}: links are rate-limited by tbf (${profile.rate}) but carry no added delay (profile: ${delayUs * 2} µs round trip)`,
    address: (name) => addr(index.get(name) ?? fail(name)),
    netns: (name) => (index.has(name) ? ns(name) : fail(name)),
    close: () => {
      close();
      unregister();
    },
  };
}

function fail(name: string): never {
  throw new RangeError(`no node ${name} on this emulated LAN`);
}

// --- a federation on the emulated LAN -----------------------------------------------------

export interface LanFederationSpec {
  parties: string[];
  inputs: RawInputs;
  /** Kernel threads of every node (node config `"threads"`). */
  threads: number;
}


function tail(file: string, lines = 3): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => {
      try {
        return (JSON.parse(l) as { msg?: string }).msg ?? l;
      } catch {
        return l;
      }
    }).join(' | ');
  } catch {
    return '';
  }
}

const editJson = (file: string, edit: (o: Record<string, unknown>) => void): void => {
  const o = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(o);
  writeFileSync(file, `${JSON.stringify(o, null, 2)}\n`);
};

/**
 * Like `withEmbeddedFederation` (src/coordinator/embedded.ts), but every node and the dealer
 * run in their namespace of `net` (`ip netns exec`), listening on its address. The federation
 * comes from `initFederation` as `mpc init` writes it; only addresses (and `"threads"`)
 * are changed in its configs.
 */
export async function withLanFederation<T>(net: LanNetwork, spec: LanFederationSpec, fn: (target: ClusterTarget, federation: { dir: string }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lan-'));
  const procs: Proc[] = [];
  const killAll = () => {
    for (const pr of procs) if (pr.child.exitCode === null && pr.child.signalCode === null) pr.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // On SIGINT the nodes must be gone before their namespaces are deleted (and the folder too).
  const unregister = register(killAll);
  try {
    const basePort = 7100;
    await initFederation(dir, { parties: spec.parties, federation: 'embedded', analyst: 'local', basePort, host: '127.0.0.1', data: spec.inputs, security: 'semi-honest', policy: { open: true } });
    type Ep = { id: string; host: string; port: number };
    const readdress = (ep: Ep | null) => (ep ? { ...ep, host: net.address(ep.id) } : ep);
    const readdressAll = (o: Record<string, unknown>) => {
      o.parties = (o.parties as Ep[]).map(readdress);
      if ('dealer' in o) o.dealer = readdress(o.dealer as Ep | null);
    };
    for (const p of spec.parties) {
      editJson(join(dir, `${p}.node.json`), (o) => {
        readdressAll(o);
        o.listen = { ...(o.listen as object), host: net.address(p) };
        o.threads = spec.threads;
      });
    }
    editJson(join(dir, 'dealer.json'), (o) => {
      readdressAll(o);
      o.listen = { ...(o.listen as object), host: net.address('dealer') };
    });
    editJson(join(dir, 'cluster.json'), readdressAll);

    // MPC_PARENT_PID: the daemons stop when the bench process is gone, however it ended
    // (`ip netns exec` replaces itself with node, so the bench is their parent).
    const start = (name: string, args: string[]): Proc => {
      const log = join(dir, `${name}.log`);
      const fd = openSync(log, 'a');
      const child = spawn('ip', ['netns', 'exec', net.netns(name), process.execPath, MPC_BIN, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, MPC_THREADS: String(spec.threads), MPC_PARENT_PID: String(process.pid) } });
      closeSync(fd);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { name, child, log, exited };
    };
    procs.push(start('dealer', ['dealer', '--config', join(dir, 'dealer.json')]));
    for (const p of spec.parties) procs.push(start(p, ['node', '--config', join(dir, `${p}.node.json`)]));

    const cluster = loadClusterConfig(join(dir, 'cluster.json'));
    const target: ClusterTarget = { federation: cluster.federation, tls: loadTlsMaterial(cluster.tls), parties: cluster.parties };
    const died = new Promise<never>((_, reject) => {
      for (const pr of procs) {
        void pr.exited.then((code) => {
          const msg = tail(pr.log);
          reject(new Error(`${pr.name === 'dealer' ? 'the dealer' : `node ${pr.name}`} exited (code ${code})${msg ? `: ${msg}` : ''}`));
        });
      }
    });
    died.catch(() => {});
    return await Promise.race([fn(target, { dir }), died]);
  } finally {
    await stopProcesses(procs);
    unregister();
    rmSync(dir, { recursive: true, force: true });
  }
}
