/**
 * Where a party's batch kernels run (workers/kernels.ts): in the calling thread, or on a
 * pool of worker threads (src/node/pool.ts). The suites' multiplications are written once
 * against this interface and do not know which one they got:
 * 1. allocate the chunk's buffers with `alloc64`/`alloc128` and bring foreign arrays in
 *    with `reach64`/`reach128` (a pool hands out SharedArrayBuffer-backed views, the
 *    in-thread kernels plain ones, and neither copies what is already reachable);
 * 2. `run` a task over them: on a worker when every array of the task is shared, here
 *    otherwise. Nothing big is ever structured-cloned.
 * A session without `kernels` uses `defaultKernels()`: the in-thread kernels, unless a test
 * run installed another default (see `setDefaultKernels`).
 * @module
 */
import type { Z128Vec } from '../ring/z128.ts';
import runTask, { type KernelTask } from '../../workers/kernels.ts';
import type { Session } from './session.ts';

export interface KernelStats {
  /** Tasks run. */
  tasks: number;
  /** Of which on a worker thread. */
  offloaded: number;
  /** Worker threads alive now (0 for the in-thread kernels, and for a closed pool). */
  workers: number;
}

export interface Kernels {
  /** Threads that run kernels: 1 for the in-thread kernels, the pool's size otherwise. */
  readonly threads: number;
  /**
   * Whether buffers for a task over `n` elements are worth sharing with worker threads (the
   * pool keeps small tasks in the calling thread, where a round trip would cost more than
   * the work).
   */
  shares(n: number): boolean;
  /** A zeroed vector of `n` elements, shared when `shares(n)`. */
  alloc64(n: number): BigUint64Array;
  /** A zeroed Z_2^128 vector whose limbs are the two halves of one buffer (the wire layout). */
  alloc128(n: number): Z128Vec;
  /** `v` itself when a worker can read it (or it stays here anyway), else a shared copy. */
  reach64(v: BigUint64Array): BigUint64Array;
  reach128(v: Z128Vec): Z128Vec;
  /** Run one kernel task; its result is in the task's output arrays when this resolves. */
  run(task: KernelTask): Promise<void>;
  stats(): KernelStats;
  /** Stop the worker threads (nothing for the in-thread kernels). */
  close(): Promise<void>;
}

/** Z_2^128 vector of `n` elements over `buf` (16·n bytes from `offset`): low limbs, then high limbs. */
export function wireVec(buf: ArrayBufferLike, offset: number, n: number): Z128Vec {
  return { lo: new BigUint64Array(buf, offset, n), hi: new BigUint64Array(buf, offset + 8 * n, n) };
}

/** The kernels run in the calling thread: plain buffers, no copies, no threads. */
export function inThreadKernels(): Kernels {
  const stats: KernelStats = { tasks: 0, offloaded: 0, workers: 0 };
  return {
    threads: 1,
    shares: () => false,
    alloc64: (n) => new BigUint64Array(n),
    alloc128: (n) => wireVec(new ArrayBuffer(16 * n), 0, n),
    reach64: (v) => v,
    reach128: (v) => v,
    run: (task) => {
      stats.tasks++;
      try {
        runTask(task);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
    stats: () => ({ ...stats }),
    close: () => Promise.resolve(),
  };
}

const IN_THREAD = inThreadKernels();
let fallback: Kernels = IN_THREAD;

/** The kernels of sessions that name none: the in-thread kernels unless a test run installed others. */
export function defaultKernels(): Kernels {
  return fallback;
}

/**
 * Install the kernels used by sessions without `kernels` (undefined restores the in-thread
 * ones). Only for test runs and benchmarks that exercise the whole suite on a worker pool
 * (vitest.setup.workers.ts): a node always passes its own pool explicitly.
 */
export function setDefaultKernels(k: Kernels | undefined): void {
  fallback = k ?? IN_THREAD;
}

/** The kernels a session's protocol steps run on. */
export function kernelsOf(s: Pick<Session<unknown>, 'kernels'>): Kernels {
  return s.kernels ?? fallback;
}
