/**
 * The embedded local federation behind `mpc run circuit.ts` without `--cluster`: a
 * throw-away CA and certificates in a temp folder, one `mpc node` process per party and (for
 * dealer preprocessing) one `mpc dealer` process on 127.0.0.1, each node given only its own party's inputs as a
 * dataset. The job then runs through exactly the cluster code path; afterwards every process
 * is stopped and the folder removed. Nothing here is a mock.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpcError, ErrorCode } from '../errors.ts';
import { initFederation } from '../security/init.ts';
import { loadClusterConfig, loadTlsMaterial } from '../security/config.ts';
import type { RawInputs } from '../protocol/inputs.ts';
import type { ClusterTarget } from './client.ts';
import type { AuditSync } from '../security/audit.ts';
import { freePortRange } from '../util/ports.ts';

const MPC_BIN = fileURLToPath(new URL('../../bin/mpc.js', import.meta.url));

export interface EmbeddedOptions {
  /** Computing parties, in order. */
  parties: string[];
  /** Each party's inputs; a party without an entry holds no data. */
  inputs: RawInputs;
  /** Lines for the user (start-up, trust statement). */
  onNotice?: (line: string) => void;
  /** Keep the temp folder (with every process's log) for inspection. */
  keep?: boolean;
  /** Extra environment for the node and dealer processes (e.g. `MPC_THREADS`). */
  env?: Record<string, string>;
  /**
   * A policy file every node applies (absolute path; the nodes watch it, so an edit takes
   * effect in the running federation). Absent: an open policy that accepts every plan.
   */
  policyFile?: string;
  /**
   * Where the nodes keep their audit logs (`<party>.audit.log`); it outlives the federation.
   * Absent: in the federation's temp folder, removed with it. `false`: no audit log (the
   * bench's row that measures what the audit costs).
   */
  auditDir?: string | false;
  /** The nodes' `auditSync` (default: every frame's entry fsync'd before the frame leaves). */
  auditSync?: AuditSync;
  /**
   * Start a dealer (default true). Without one, the nodes trust no dealer ("preprocessing":
   * "ot" in their configs) and make their own preprocessing by OT.
   */
  dealer?: boolean;
}

/** A spawned daemon: its handle and a promise of its exit code. */
export interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  /** Stopped on purpose through `EmbeddedFederation.kill`. */
  killed?: boolean;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** What `fn` may do with the running federation besides running jobs (tests use it). */
export interface EmbeddedFederation {
  /** The temp folder: certificates, configs, and one `<name>.log` per process. */
  dir: string;
  /**
   * Send `signal` to the node (party id) or 'dealer' process. Its exit then no longer ends the
   * run by itself: `fn` decides what the loss means.
   */
  kill(name: string, signal?: NodeJS.Signals): void;
}

/**
 * Start the federation, run `fn` against it, tear it down. If a node or the dealer dies
 * while `fn` runs, `fn`'s job fails (its connections drop) and the error names the process.
 */
export async function withEmbeddedFederation<T>(opts: EmbeddedOptions, fn: (target: ClusterTarget, federation: EmbeddedFederation) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-'));
  const procs: Proc[] = [];
  try {
    let base: number;
    try {
      base = await freePortRange(opts.parties.length + 1);
    } catch (e) {
      throw new MpcError(ErrorCode.CONFIG, (e as Error).message);
    }
    const dealer = opts.dealer ?? true;
    await initFederation(dir, { parties: opts.parties, federation: 'embedded', analyst: 'local', basePort: base, host: '127.0.0.1', data: opts.inputs, dealer,
      // The analyst owns this federation and picks the security of each job, and, unless
      // told otherwise, what its nodes may compute: the data is the analyst's own.
      security: 'semi-honest',
      policy: opts.policyFile === undefined ? { open: true } : { file: opts.policyFile },
      ...(opts.auditDir === undefined ? {} : { auditDir: opts.auditDir }),
      ...(opts.auditSync === undefined ? {} : { auditSync: opts.auditSync }) });
    const start = (name: string, args: string[]): Proc => {
      const log = join(dir, `${name}.log`);
      const fd = openSync(log, 'a');
      // MPC_CPU_PROF_DIR=<dir> writes a V8 CPU profile of every daemon there on exit (node
      // refuses --cpu-prof in NODE_OPTIONS): how the bench's figures are explained.
      const prof = process.env.MPC_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.MPC_CPU_PROF_DIR, name)] : [];
      const child = spawn(process.execPath, [...prof, MPC_BIN, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, ...opts.env, MPC_PARENT_PID: String(process.pid) } });
      closeSync(fd);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { name, child, log, exited };
    };
    if (dealer) procs.push(start('dealer', ['dealer', '--config', join(dir, 'dealer.json')]));
    for (const p of opts.parties) procs.push(start(p, ['node', '--config', join(dir, `${p}.node.json`)]));
    opts.onNotice?.(
      dealer
        ? `embedded federation: ${opts.parties.length} nodes (${opts.parties.join(', ')}) and a dealer on 127.0.0.1:${base}-${base + opts.parties.length}`
        : `embedded federation: ${opts.parties.length} nodes (${opts.parties.join(', ')}) on 127.0.0.1:${base + 1}-${base + opts.parties.length}, no dealer`,
    );

    const cluster = loadClusterConfig(join(dir, 'cluster.json'));
    const target: ClusterTarget = { federation: cluster.federation, tls: loadTlsMaterial(cluster.tls), parties: cluster.parties };
    // A process that dies early (bad data, port taken) should fail the run with its own words.
    const died = new Promise<never>((_, reject) => {
      for (const pr of procs) {
        void pr.exited.then((code) => {
          // A process stopped through `federation.kill` is meant to be gone: `fn` sees the
          // consequences through its own connections (the killed-node tests check exactly
          // those), so its exit must not end the run and tear the federation down under `fn`.
          if (pr.killed) return;
          const msg = tail(pr.log).split('\n').map((l) => {
            try {
              const o = JSON.parse(l) as { msg?: string; err?: string };
              return o.msg ?? l;
            } catch {
              return l;
            }
          }).slice(-3).join(' | ');
          reject(new MpcError(ErrorCode.PEER_LOST, `${pr.name === 'dealer' ? 'the dealer' : `node ${pr.name}`} exited (code ${code})${msg ? `: ${msg}` : ''}`, { party: pr.name }));
        });
      }
    });
    died.catch(() => {});
    const federation: EmbeddedFederation = {
      dir,
      kill: (name, signal = 'SIGKILL') => {
        const pr = procs.find((x) => x.name === name);
        if (!pr) throw new RangeError(`no process ${name} in this federation`);
        pr.killed = true;
        pr.child.kill(signal);
      },
    };
    return await Promise.race([fn(target, federation), died]);
  } finally {
    await stopProcesses(procs);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else opts.onNotice?.(`kept the federation folder ${dir}`);
  }
}

/** SIGTERM every process still running, SIGKILL any that ignores it for 3 s, and wait for all. */
export async function stopProcesses(procs: readonly Pick<Proc, 'child' | 'exited'>[]): Promise<void> {
  for (const pr of procs) if (pr.child.exitCode === null && pr.child.signalCode === null) pr.child.kill('SIGTERM');
  await Promise.all(
    procs.map(async (pr) => {
      // The timer must not outlive the process.
      const timer = setTimeout(() => pr.child.kill('SIGKILL'), 3000);
      await pr.exited;
      clearTimeout(timer);
    }),
  );
}
