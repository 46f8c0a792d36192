/**
 * A node's worker pool for the batch kernels (workers/kernels.ts): piscina threads that run
 * the chunks of a multiplication layer while the main thread keeps the network going.
 * One pool per node process, shared by its jobs, closed on shutdown.
 *
 * Data never crosses threads by structured cloning: buffers of offloaded tasks are views
 * over SharedArrayBuffers (`alloc64`, `alloc128`; `reach*` copies a plain array in once),
 * and a task whose arrays are not all shared runs in the calling thread instead. Tasks
 * under `minBatch` elements also stay in the calling thread, where they cost less than a
 * round trip to a worker (~80 µs here).
 *
 * Workers run the TypeScript sources through tsx, like the main thread (src/util/worker-loader.ts).
 *
 * Switches (STYLE.md habit 7): `MPC_NO_WORKERS=1` runs every kernel in-thread, whatever the
 * configuration; `MPC_THREADS=<n>` is the thread count where a node config sets none;
 * `MPC_WORKER_MIN_BATCH=<n>` overrides `minBatch` (0 sends every task to the pool, which the
 * test run with workers uses so that small test circuits exercise the pool too).
 * @module
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { MpcError, ErrorCode } from '../errors.ts';
import type { Z128Vec } from '../ring/z128.ts';
import runTask, { type KernelTask } from '../../workers/kernels.ts';
import { inThreadKernels, wireVec, type Kernels, type KernelStats } from '../protocol/kernels.ts';
import { TSX_EXEC_ARGV } from '../util/worker-loader.ts';

const WORKER = fileURLToPath(new URL('../../workers/kernels.ts', import.meta.url));

/** Tasks on fewer elements than this stay in the calling thread (by default). */
export const DEFAULT_MIN_BATCH = 1 << 13;

/** How long `startKernels` waits for every worker to answer its first task. */
const PROBE_TIMEOUT_MS = 30_000;

/** Most threads a pool may have (a typo guard, not a tuning hint). */
export const MAX_THREADS = 256;

export interface KernelPoolOptions {
  /**
   * Worker threads. `createKernelPool`: default `os.availableParallelism()` (a pool of one
   * worker is allowed: it still frees the main thread). `createKernels`/`startKernels`:
   * default `defaultThreads()`, and 1 means no pool.
   */
  threads?: number;
  /** Tasks on fewer elements stay in the calling thread (default 2^13, or MPC_WORKER_MIN_BATCH). */
  minBatch?: number;
}

function envInt(name: string, min: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min) throw new MpcError(ErrorCode.CONFIG, `${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

/** Whether `MPC_NO_WORKERS=1` forces every kernel into the calling thread. */
export function workersDisabled(): boolean {
  return process.env.MPC_NO_WORKERS === '1';
}

/**
 * Kernel threads when the configuration names none: `MPC_THREADS` if set, else 1 — every
 * kernel in the node's main thread. Issue 5 asked for the available cores by default, but
 * on the reference machine (2 cores shared by every party's node and the dealer) a pool was
 * no faster for malicious jobs and slower for semi-honest ones (README "Performance"): the
 * cores are already busy, and a pool only adds hand-offs and copies. Set `"threads"` in a
 * node config (say, to the host's core count) where a node has cores to itself.
 */
export function defaultThreads(): number {
  return envInt('MPC_THREADS', 1) ?? 1;
}

/** The cores this process may use (`os.availableParallelism()`): the natural pool size on a host of its own. */
export function availableCores(): number {
  return availableParallelism();
}

function checkThreads(threads: unknown, what: string): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`${what} must be an integer in 1..${MAX_THREADS}, got ${String(threads)}`);
  }
  return threads;
}

const isShared = (v: ArrayBufferView): boolean => v.buffer instanceof SharedArrayBuffer;

/**
 * Whether every typed array in a task (in its Z128Vec, AuthVec and region fields) is shared,
 * except the small PRG key, which may be cloned. Anything nested deeper than a task's
 * shapes counts as unshared, so the task stays in the calling thread.
 */
function allShared(value: unknown, depth = 0): boolean {
  if (ArrayBuffer.isView(value)) return isShared(value);
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= 4) return false;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'key') continue;
    if (!allShared(v, depth + 1)) return false;
  }
  return true;
}

/**
 * A piscina pool of `threads` workers running workers/kernels.ts, behind the `Kernels`
 * interface. Its workers start at once and stay up until `close()`.
 */
export function createKernelPool(options: KernelPoolOptions = {}): Kernels {
  const threads = checkThreads(options.threads ?? availableCores(), 'options.threads');
  const minBatch = options.minBatch ?? envInt('MPC_WORKER_MIN_BATCH', 0) ?? DEFAULT_MIN_BATCH;
  if (!Number.isSafeInteger(minBatch) || minBatch < 0) throw new RangeError(`options.minBatch must be a non-negative integer, got ${String(minBatch)}`);
  const pool = new Piscina<KernelTask, void>({
    filename: WORKER,
    execArgv: [...TSX_EXEC_ARGV],
    minThreads: threads,
    maxThreads: threads,
    // Idle workers stay: a job's first layer should not pay for starting threads.
    idleTimeout: Number.MAX_SAFE_INTEGER,
  });
  // A worker that dies fails its task (run() rejects); the pool itself must not throw.
  pool.on('error', () => {});
  const stats: KernelStats = { tasks: 0, offloaded: 0, workers: 0 };
  let closed: Promise<void> | undefined;
  const shares = (n: number): boolean => n >= minBatch;
  return {
    threads,
    shares,
    alloc64: (n) => (shares(n) ? new BigUint64Array(new SharedArrayBuffer(8 * n)) : new BigUint64Array(n)),
    alloc128: (n) => wireVec(shares(n) ? new SharedArrayBuffer(16 * n) : new ArrayBuffer(16 * n), 0, n),
    reach64: (v) => {
      if (isShared(v) || !shares(v.length)) return v;
      const out = new BigUint64Array(new SharedArrayBuffer(v.byteLength));
      out.set(v);
      return out;
    },
    reach128: (v: Z128Vec): Z128Vec => {
      const n = v.lo.length;
      if ((isShared(v.lo) && isShared(v.hi)) || !shares(n)) return v;
      const out = wireVec(new SharedArrayBuffer(16 * n), 0, n);
      out.lo.set(v.lo);
      out.hi.set(v.hi);
      return out;
    },
    run: async (task) => {
      stats.tasks++;
      if (closed || !allShared(task)) {
        runTask(task);
        return;
      }
      stats.offloaded++;
      await pool.run(task);
    },
    stats: () => ({ ...stats, workers: pool.threads.length }),
    close: () => (closed ??= pool.close()),
  };
}

/**
 * A node's kernels: `threads` (default `defaultThreads()`) of 1, or `MPC_NO_WORKERS=1`,
 * gives the in-thread kernels; more gives a pool of that many workers.
 */
export function createKernels(options: KernelPoolOptions = {}): Kernels {
  const threads = checkThreads(options.threads ?? defaultThreads(), 'threads');
  if (threads === 1 || workersDisabled()) return inThreadKernels();
  return createKernelPool({ ...options, threads });
}

/**
 * Start a node's kernels and check that the workers really run (one small task on each
 * thread's way in). A pool that cannot start (say, tsx cannot be loaded in a worker) is
 * closed and replaced by the in-thread kernels, and `onFallback` is told why: the node
 * still computes correctly, only without threads.
 */
export async function startKernels(options: KernelPoolOptions, onFallback: (reason: string) => void): Promise<Kernels> {
  const k = createKernels(options);
  if (k.threads === 1) return k;
  try {
    const probe = (): Promise<void> => {
      const v = new BigUint64Array(new SharedArrayBuffer(16));
      return k.run({ op: 'beaverOpen64', x: v.subarray(0, 1), y: v.subarray(0, 1), a: v.subarray(0, 1), b: v.subarray(0, 1), out: v });
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the workers did not answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(Array.from({ length: k.threads }, probe)), late]);
    } finally {
      clearTimeout(timer);
    }
    return k;
  } catch (e) {
    await k.close().catch(() => {});
    onFallback(e instanceof Error ? e.message : String(e));
    return inThreadKernels();
  }
}
