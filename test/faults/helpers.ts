/**
 * Shared fixtures of the fault tests: free ports on 127.0.0.1, an in-memory pino logger
 * whose JSON lines can be searched, polling, and child processes that are always stopped
 * by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../src/util/log.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MPC_BIN = fileURLToPath(new URL('../../bin/mpc.js', import.meta.url));

export { freePortRange } from '../../src/util/ports.ts';

/** One parsed log line (pino JSON). */
export type LogEntry = Record<string, unknown> & { event?: string; job?: string; msg?: string; time?: number };

/** A pino logger for one in-process service that keeps every line in `lines`. */
export function memoryLogger(bindings: { role: string; id: string }): { log: Logger; lines: LogEntry[] } {
  const lines: LogEntry[] = [];
  const log = createLogger(bindings, { write: (s: string) => void lines.push(JSON.parse(s) as LogEntry) });
  return { log, lines };
}

/** The JSON lines of a log file written by a daemon (non-JSON lines are skipped). */
export function readLogFile(file: string): LogEntry[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as LogEntry;
      } catch {
        return {};
      }
    });
}

/** Poll `fn` until it returns something truthy, or fail after `ms` with `what`. */
export async function waitFor<T>(fn: () => T | undefined | null | false, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `p`, or a rejection naming `what` if it does not settle within `ms` (the timer is cleared either way). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A child process with its output collected; `stop()` kills it by PID and waits for its exit. */
export interface Child {
  child: ChildProcess;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Signal the process group the child leads (the child and whatever it spawned). */
  killGroup(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function spawnMpc(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Child {
  const child = spawn(process.execPath, [MPC_BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MPC_DEBUG: '', ...opts.env },
    // Its own process group, so that a run that must be cut short can be stopped together
    // with the node processes it started (`killGroup`).
    detached: true,
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn mpc ${args.join(' ')}`);
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    pid,
    killGroup,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, 3000);
      timer.unref();
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Run `mpc …` to completion (bounded by `timeoutMs`, then SIGKILL by PID). */
export async function runMpc(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawnMpc(args);
  // A run that hangs is a failure; stop it and whatever it started.
  const timer = setTimeout(() => c.killGroup('SIGKILL'), timeoutMs);
  const { code } = await c.exited;
  clearTimeout(timer);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}
