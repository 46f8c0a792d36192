// Setup of the `workers` test project (vitest.config.ts): every session that names no
// kernels — runLocal, the suites' harnesses — runs its kernels on one 2-thread worker pool
// per test file, with every task offloaded however small (MPC_WORKER_MIN_BATCH=0).
import { afterAll, beforeAll, expect } from 'vitest';
import { createKernelPool } from '../../src/node/pool.ts';
import { setDefaultKernels, type Kernels } from '../../src/protocol/kernels.ts';

let pool: Kernels | undefined;

beforeAll(() => {
  pool = createKernelPool({ threads: 2, minBatch: 0 });
  setDefaultKernels(pool);
});

afterAll(async () => {
  setDefaultKernels(undefined);
  const used = pool?.stats();
  await pool?.close();
  // A file that runs jobs in this process must really have used the workers.
  if (used && used.tasks > 0) expect(used.offloaded).toBeGreaterThan(0);
});
