import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs two projects in one invocation (STYLE.md habit 7: CI runs both ways):
 * - `in-thread`: every test, with MPC_NO_WORKERS=1, so every kernel runs in the calling
 *   thread — the reference path, the same on every machine;
 * - `workers`: the tests that run jobs (protocol, circuits, integration, CLI, faults) again,
 *   with every kernel task on a worker pool: sessions without kernels get a 2-thread pool
 *   (test/setup/workers.ts), node processes get MPC_THREADS=2, and MPC_WORKER_MIN_BATCH=0
 *   sends even the small test circuits' tasks to the workers.
 * `npm run test:inthread` and `npm run test:workers` run one project each.
 */
const JOB_TESTS = ['test/protocol/**/*.test.ts', 'test/circuits/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'in-thread', include: ['test/**/*.test.ts'], env: { MPC_NO_WORKERS: '1' } },
      },
      {
        extends: true,
        test: {
          name: 'workers',
          include: JOB_TESTS,
          // OT material is made in the calling thread whatever the kernels: nothing new to run on
          // workers. Governance decides before any kernel runs, and a killed node's peers see the
          // same abort whatever runs its kernels: those run in-thread only (npm test stays
          // within its budget).
          exclude: ['test/circuits/canonical-ot.test.ts', 'test/cli/ot.test.ts', 'test/cli/governance.test.ts', 'test/faults/killed-node.test.ts'],
          env: { MPC_NO_WORKERS: '', MPC_THREADS: '2', MPC_WORKER_MIN_BATCH: '0' },
          setupFiles: ['test/setup/workers.ts'],
        },
      },
    ],
  },
});
