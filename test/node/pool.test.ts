// The worker pool (src/node/pool.ts): its kernels, run on worker threads over shared memory,
// give exactly what the in-thread kernels give on the same random data (Z_2^64 and
// Z_2^128); whole jobs on the pool equal the plaintext result for 2 and 3 parties under
// both suites; the pool really offloads, keeps small or unshared tasks at home, and closes
// cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { createKernelPool, createKernels, defaultThreads, startKernels } from '../../src/node/pool.ts';
import { inThreadKernels, type Kernels } from '../../src/protocol/kernels.ts';
import { runLocal } from '../../src/coordinator/local.ts';
import { suiteFor, SECURITY_LEVELS } from '../../src/protocol/suites.ts';
import { expandRegion, Prg } from '../../src/ring/prg.ts';
import type { Z128Vec } from '../../src/ring/z128.ts';
import type { AuthVec, KernelTask } from '../../workers/kernels.ts';
import { compileInline, signed } from '../helpers.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initFederation } from '../../src/security/init.ts';
import { loadClusterConfig, loadTlsMaterial } from '../../src/security/config.ts';
import { runJob } from '../../src/coordinator/client.ts';
import { circuit } from '../../src/circuit/index.ts';
import { freePortRange, spawnMpc, waitFor, type Child } from '../faults/helpers.ts';

const W = 3000;
const rnd = new Prg(new Uint8Array(32).fill(7), 'pool-test');

/** Random data in a buffer the kernels can reach. */
const u64 = (k: Kernels, n = W): BigUint64Array => {
  const v = k.alloc64(n);
  v.set(rnd.u64(n));
  return v;
};
const z128v = (k: Kernels, n = W): Z128Vec => {
  const v = k.alloc128(n);
  v.lo.set(rnd.u64(n));
  v.hi.set(rnd.u64(n));
  return v;
};
const auth = (k: Kernels): AuthVec => ({ x: z128v(k), m: z128v(k) });

/** The same task over copies of its arrays, in another kernel set's buffers. */
function copyTask<T>(v: T, k: Kernels): T {
  if (v instanceof BigUint64Array) {
    const out = k.alloc64(v.length);
    out.set(v);
    return out as T;
  }
  if (v instanceof Uint8Array) {
    const out = new Uint8Array(k.alloc64(Math.ceil(v.length / 8)).buffer, 0, v.length);
    out.set(v);
    return out as T;
  }
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, key === 'key' ? x : copyTask(x, k)])) as T;
  return v;
}

const plain = (v: unknown): unknown =>
  ArrayBuffer.isView(v) ? Array.from(v as BigUint64Array) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;

describe('kernel pool', () => {
  let pool: Kernels;
  const here = inThreadKernels();
  beforeAll(() => {
    pool = createKernelPool({ threads: 2, minBatch: 1000 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('hands out shared buffers for big tasks and plain ones for small tasks', () => {
    expect(pool.threads).toBe(2);
    expect(pool.alloc64(W).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(pool.alloc64(10).buffer).toBeInstanceOf(ArrayBuffer);
    const v = pool.alloc128(W);
    expect(v.lo.buffer).toBe(v.hi.buffer);
    expect(v.hi.byteOffset).toBe(8 * W);
    const plainVec = new BigUint64Array(W).fill(5n);
    const reached = pool.reach64(plainVec);
    expect(reached.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(reached)).toEqual(Array.from(plainVec));
    const shared = pool.alloc64(W);
    expect(pool.reach64(shared)).toBe(shared);
  });

  const tasks: Record<string, (k: Kernels) => KernelTask> = {
    'beaverOpen64 (Z_2^64)': (k) => ({ op: 'beaverOpen64', x: u64(k), y: u64(k), a: u64(k), b: u64(k), out: k.alloc64(2 * W) }),
    'beaverCombine64 (Z_2^64), adding d·e': (k) => ({ op: 'beaverCombine64', c: u64(k), a: u64(k), b: u64(k), d: u64(k), e: u64(k), addDE: true, out: k.alloc64(W) }),
    'beaverCombine64 (Z_2^64), without d·e': (k) => ({ op: 'beaverCombine64', c: u64(k), a: u64(k), b: u64(k), d: u64(k), e: u64(k), addDE: false, out: k.alloc64(W) }),
    'spdz2kOpen (Z_2^128 values and MACs)': (k) => ({ op: 'spdz2kOpen', x: auth(k), y: auth(k), a: auth(k), b: auth(k), out: k.alloc128(2 * W), macs: k.alloc128(2 * W) }),
    'spdz2kCombine (Z_2^128), party 0': (k) => ({ op: 'spdz2kCombine', c: auth(k), a: auth(k), b: auth(k), d: z128v(k), e: z128v(k), alpha: (1n << 127n) + 12345n, addDE: true, out: { x: k.alloc128(W), m: k.alloc128(W) } }),
    'spdz2kCombine (Z_2^128), another party': (k) => ({ op: 'spdz2kCombine', c: auth(k), a: auth(k), b: auth(k), d: z128v(k), e: z128v(k), alpha: 987654321987654321n, addDE: false, out: { x: k.alloc128(W), m: k.alloc128(W) } }),
    'prgFill at an unaligned offset': (k) => ({ op: 'prgFill', region: { key: new Uint8Array(32).fill(9), offset: 1000003, length: 8 * W + 5 }, out: new Uint8Array(k.alloc64(W + 1).buffer, 0, 8 * W + 5) }),
  };
  for (const [name, make] of Object.entries(tasks)) {
    it(`${name}: on a worker = in-thread, on random data`, async () => {
      const task = make(pool);
      const ref = copyTask(task, here);
      const before = pool.stats().offloaded;
      await pool.run(task);
      expect(pool.stats().offloaded).toBe(before + 1);
      await here.run(ref);
      expect(plain(task)).toEqual(plain(ref));
    });
  }

  it('prgFill gives the bytes the Prg stream has at that point, whatever was reserved around it', async () => {
    const seed = new Uint8Array(32).fill(3);
    const whole = new Prg(seed, 'region').bytes(50_000);
    const p = new Prg(seed, 'region');
    const head = p.bytes(17);
    const r1 = p.reserve(20_001);
    const mid = p.u64(3);
    const r2 = p.reserve(9_000);
    const tail = p.bytes(50_000 - 17 - 20_001 - 24 - 9_000);
    const out1 = new Uint8Array(new SharedArrayBuffer(r1.length));
    await pool.run({ op: 'prgFill', region: r1, out: out1 });
    const out2 = expandRegion(r2, new Uint8Array(r2.length));
    const got = Buffer.concat([head, out1, new Uint8Array(mid.buffer, mid.byteOffset, 24), out2, tail]);
    expect(got.equals(Buffer.from(whole))).toBe(true);
  });

  it('keeps a task with an unshared array in the calling thread (nothing is cloned)', async () => {
    const before = pool.stats();
    const task: KernelTask = { op: 'beaverOpen64', x: u64(pool), y: u64(pool), a: u64(pool), b: u64(pool), out: new BigUint64Array(2 * W) };
    await pool.run(task);
    expect(pool.stats().tasks).toBe(before.tasks + 1);
    expect(pool.stats().offloaded).toBe(before.offloaded);
    expect(task.out[0]).toBe(BigInt.asUintN(64, task.x[0] - task.a[0]));
  });

  it('reports a kernel error as a rejection', async () => {
    const bad = { op: 'beaverOpen64', x: u64(pool), y: u64(pool, 5), a: u64(pool), b: u64(pool), out: pool.alloc64(2 * W) } as KernelTask;
    await expect(pool.run(bad)).rejects.toThrow(/expected length/);
  });

  // A layer wide enough to be cut into several chunks, with several tasks in flight.
  const WIDE = (1 << 18) + 1000;
  for (const n of [2, 3]) {
    for (const security of SECURITY_LEVELS) {
      it(`${n} parties, ${security}: a job on the pool equals the plaintext result`, async () => {
        const parties = ['p1', 'p2', 'p3'].slice(0, n);
        const { plan } = compileInline(
          parties,
          (c) => {
            const x = c.vector('p1', 'x');
            const y = c.vector(parties[n - 1], 'y');
            const z = x.mul(y);
            c.reveal('dot', z.sum());
            c.reveal('head', z.mul(x).sum());
          },
          { 'p1.x': WIDE, [`${parties[n - 1]}.y`]: WIDE },
        );
        const x = Array.from({ length: WIDE }, (_, i) => (i % 7) - 3);
        const y = Array.from({ length: WIDE }, (_, i) => (i % 11) * 1000 - 4000);
        const inputs: Record<string, Record<string, number[]>> = { p1: { x } };
        inputs[parties[n - 1]] = { ...inputs[parties[n - 1]], y };
        const before = pool.stats().offloaded;
        const r = await runLocal(plan, inputs, { suite: suiteFor(security), kernels: pool });
        expect(pool.stats().offloaded).toBeGreaterThan(before);
        let dot = 0n;
        let head = 0n;
        for (let i = 0; i < WIDE; i++) {
          dot += BigInt(x[i] * y[i]);
          head += BigInt(x[i] * y[i] * x[i]);
        }
        expect(signed(r.analyst.dot[0])).toBe(dot);
        expect(signed(r.analyst.head[0])).toBe(head);
      });
    }
  }
});

describe('pool life cycle', () => {
  it('closes cleanly: workers stop, close is idempotent, later tasks run in-thread', async () => {
    const pool = createKernelPool({ threads: 2, minBatch: 0 });
    const v = pool.alloc64(4);
    await pool.run({ op: 'beaverOpen64', x: v.subarray(0, 2), y: v.subarray(0, 2), a: v.subarray(2), b: v.subarray(2), out: pool.alloc64(4) });
    expect(pool.stats().offloaded).toBe(1);
    expect(pool.stats().workers).toBe(2);
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    await closing;
    expect(pool.stats().workers).toBe(0);
    const out = pool.alloc64(4);
    await pool.run({ op: 'beaverOpen64', x: v.subarray(0, 2), y: v.subarray(0, 2), a: v.subarray(2), b: v.subarray(2), out });
    expect(pool.stats()).toEqual({ tasks: 2, offloaded: 1, workers: 0 });
  });

  it('createKernels: one thread, or MPC_NO_WORKERS=1, means in-thread kernels', async () => {
    expect(createKernels({ threads: 1 }).threads).toBe(1);
    const saved = process.env.MPC_NO_WORKERS;
    process.env.MPC_NO_WORKERS = '1';
    try {
      const k = createKernels({ threads: 4 });
      expect(k.threads).toBe(1);
      expect(k.shares(1 << 20)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.MPC_NO_WORKERS;
      else process.env.MPC_NO_WORKERS = saved;
    }
    expect(() => createKernels({ threads: 0 })).toThrow(/threads must be an integer in 1\.\.256, got 0/);
  });

  it('defaults: a node keeps its kernels in-thread unless configured (or MPC_THREADS); a pool has one thread per core', async () => {
    const saved = { t: process.env.MPC_THREADS, w: process.env.MPC_NO_WORKERS };
    delete process.env.MPC_THREADS;
    delete process.env.MPC_NO_WORKERS;
    try {
      expect(defaultThreads()).toBe(1);
      expect(createKernels().threads).toBe(1);
      process.env.MPC_THREADS = '3';
      expect(defaultThreads()).toBe(3);
      process.env.MPC_THREADS = 'many';
      expect(() => defaultThreads()).toThrow(/MPC_THREADS: expected an integer ≥ 1, got "many"/);
      delete process.env.MPC_THREADS;
      const pool = createKernelPool();
      expect(pool.threads).toBe(availableParallelism());
      await pool.close();
    } finally {
      for (const [k, v] of [['MPC_THREADS', saved.t], ['MPC_NO_WORKERS', saved.w]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('startKernels probes every worker and returns a working pool', async () => {
    const reasons: string[] = [];
    const saved = process.env.MPC_NO_WORKERS;
    delete process.env.MPC_NO_WORKERS;
    try {
      const k = await startKernels({ threads: 2 }, (r) => reasons.push(r));
      expect(reasons).toEqual([]);
      expect(k.threads).toBe(2);
      expect(k.stats().offloaded).toBe(2);
      await k.close();
    } finally {
      if (saved !== undefined) process.env.MPC_NO_WORKERS = saved;
    }
  });
});

describe('mpc node with "threads": 2', () => {
  it('starts one pool, runs jobs on it (both suites), and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-pool-'));
    const procs: Child[] = [];
    try {
      const W = 20_000;
      const x = Array.from({ length: W }, (_, i) => (i % 13) - 6);
      const y = Array.from({ length: W }, (_, i) => (i % 7) * 3);
      await initFederation(dir, { parties: ['p1', 'p2'], basePort: await freePortRange(3), host: '127.0.0.1', security: 'semi-honest', data: { p1: { x }, p2: { y } } });
      for (const p of ['p1', 'p2']) {
        const file = join(dir, `${p}.node.json`);
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), threads: 2 }));
      }
      // This project may run with MPC_NO_WORKERS=1: the nodes must not inherit it.
      const env = { MPC_NO_WORKERS: '', MPC_THREADS: '', MPC_WORKER_MIN_BATCH: '' };
      procs.push(spawnMpc(['dealer', '--config', join(dir, 'dealer.json')], { env }));
      for (const p of ['p1', 'p2']) procs.push(spawnMpc(['node', '--config', join(dir, `${p}.node.json`)], { env }));
      const nodes = procs.slice(1);
      // The node's own `listening` line (after its server's) says how many kernel threads it runs.
      const ready = (c: Child) => /"event":"listening".*"threads":\d+/.exec(c.stdout())?.[0];
      await waitFor(() => nodes.every(ready), 30_000, 'the nodes to listen');
      for (const c of nodes) expect(ready(c)).toMatch(/"threads":2$/);
      const cluster = loadClusterConfig(join(dir, 'cluster.json'));
      const target = { federation: cluster.federation, tls: loadTlsMaterial(cluster.tls), parties: cluster.parties };
      const definition = circuit({ name: 'pooled', parties: ['p1', 'p2'] }, (c) => c.reveal('dot', c.vector('p1', 'x').dot(c.vector('p2', 'y'))));
      const want = x.reduce((t, v, i) => t + v * y[i], 0);
      for (const security of ['semi-honest', 'malicious'] as const) {
        const r = await runJob(target, { definition, file: 'pooled' }, { security, preprocessing: 'dealer', connectRetry: { attempts: 40, baseMs: 50, maxMs: 500 } });
        expect(r.outputs.dot, security).toBe(want);
      }
      for (const c of nodes) {
        // Cumulative kernel counts of the node's pool, logged with each job (just after the
        // analyst hears that the job is done, so wait for the lines).
        const lines = () => c.stdout().split('\n').filter((l) => l.includes('"event":"job-done"'));
        await waitFor(() => lines().length === 2, 10_000, 'both job-done lines');
        const done = lines().map((l) => JSON.parse(l) as { kernels: { tasks: number; offloaded: number; workers: number } });
        expect(done[1].kernels.offloaded).toBeGreaterThan(0);
        expect(done[1].kernels.workers).toBe(2);
      }
      for (const c of nodes) {
        process.kill(c.pid, 'SIGTERM');
        const { code, at } = await c.exited;
        expect(code, c.stderr()).toBe(0);
        expect(at).toBeGreaterThan(0);
        expect(c.stdout()).toContain('"event":"shutdown"');
      }
    } finally {
      await Promise.all(procs.map((c) => c.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
