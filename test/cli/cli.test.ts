// The `mpc` command as a user runs it: `node bin/mpc.js …` from the repository root, in a
// child process (bounded in time, stopped by PID). Successful runs print their result on
// stdout; failures exit 1 with `mpc: error [CODE]: …` on stderr and print nothing on stdout
// (no partial output).
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prg } from '../../src/ring/prg.ts';
import { initFederation } from '../../src/security/init.ts';
import { ROOT, runMpc } from '../faults/helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  // Circuit files outside this repository live in the user's own ESM project.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DSL = JSON.stringify(join(ROOT, 'src/circuit/index.ts'));
/** Write a circuit module into the temp folder; returns its path. */
function circuitFile(name: string, body: string): string {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `import { circuit } from ${DSL};\n${body}`);
  return file;
}
function jsonFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A failed run: exit code 1, the error code and every `mention` on stderr, nothing on stdout. */
function expectFailure(r: { code: number | null; stdout: string; stderr: string }, code: string, ...mentions: (string | RegExp)[]): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(`mpc: error [${code}]: `);
  for (const m of mentions) {
    if (typeof m === 'string') expect(r.stderr).toContain(m);
    else expect(r.stderr).toMatch(m);
  }
}

describe('mpc compile', () => {
  const args = ['compile', 'circuits/inner-product.ts', '--shape', 'p1.x=1000', '--shape', 'p2.y=1000'];

  it('prints multiplications and rounds for the given shapes', async () => {
    const r = await runMpc(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('multiplications 1000\n');
    expect(r.stdout).toContain('rounds       1 ');
    expect(r.stdout).toMatch(/^plan +\d+ bytes, sha256 [0-9a-f]{64}$/m);
  });

  it('--json prints the same summary as one JSON document', async () => {
    const r = await runMpc([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      circuit: 'inner-product',
      parties: ['p1', 'p2'],
      inputs: [
        { party: 'p1', name: 'x', length: 1000 },
        { party: 'p2', name: 'y', length: 1000 },
      ],
      outputs: [{ name: 'dot', to: ['analyst'] }],
      multiplications: 1000,
      rounds: 1,
      preprocessing: { triples: 1000 },
    });
    expect(s.planHash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('compiles a .ts circuit that lives outside any ESM package (no package.json)', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'tessera-bare-'));
    try {
      const file = join(bare, 'product.ts');
      writeFileSync(file, `import { circuit } from ${DSL};\nexport default circuit({ name: 'product', parties: ['p1', 'p2'] }, (c) => {\n  c.reveal('p', c.scalar('p1', 'a').mul(c.scalar('p2', 'b')));\n});\n`);
      const r = await runMpc(['compile', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('multiplications 1');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('mpc run', () => {
  it('--inputs --json prints { outputs, stats } (ARCHITECTURE.md §6) with the exact total (default security: malicious)', async () => {
    // Random signed 64-bit values, some small and written as JSON numbers, the rest (and one
    // just beyond 2^53) as decimal strings; p3 holds an empty vector.
    const prg = new Prg(new Uint8Array(32).fill(11), 'cli-sum');
    const draw = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const v = BigInt.asIntN(64, prg.nextBigint64());
        return i % 2 === 0 ? Number(v % 100_000n) : v.toString();
      });
    const inputs = { p1: { x: draw(5) }, p2: { x: [...draw(4), '9007199254740993'] }, p3: { x: [] as (number | string)[] } };
    const total = BigInt.asIntN(64, [...inputs.p1.x, ...inputs.p2.x].reduce<bigint>((t, v) => t + BigInt(v), 0n));
    const want = total >= -(2n ** 53n) && total <= 2n ** 53n ? Number(total) : total.toString();
    expect(typeof want).toBe('string'); // beyond ±2^53: the JSON carries a decimal string

    const r = await runMpc(['run', 'circuits/sum.ts', '--inputs', jsonFile('sum.inputs.json', JSON.stringify(inputs)), '--json'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { outputs: Record<string, unknown>; stats: Record<string, unknown> };
    expect(Object.keys(out)).toEqual(['outputs', 'stats']);
    expect(out.outputs).toEqual({ total: want });
    expect(out.stats).toMatchObject({ parties: 3, security: 'malicious', preprocessing: 'dealer', multiplications: 0, rounds: 0 });
    for (const k of ['bytesSent', 'seconds', 'gatesPerSecond']) expect(typeof out.stats[k], k).toBe('number');
    expect(out.stats.seconds as number).toBeGreaterThan(0);
    expect(out.stats.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.stats.trust).toMatch(/dealer/);
  }, 60_000);

  // The circuit body runs once the nodes have reported their input shapes, so most of these
  // start (and stop) an embedded federation first: run them side by side.
  describe.concurrent('a circuit that cannot be loaded or compiled: MPC_ERR_CIRCUIT naming the circuit file', () => {
    it('a syntax error (the module does not compile)', async () => {
      const file = circuitFile('syntax-error', `export default circuit({ name: 'bad', parties: ['p1', 'p2'] }, (c) => {\n  const x = c.vector('p1', 'x'\n  c.reveal('s', x.sum());\n});\n`);
      const r = await runMpc(['run', file, '--inputs', jsonFile('p1.json', '{ "p1": { "x": [1, 2, 3] } }')]);
      expectFailure(r, 'MPC_ERR_CIRCUIT', relative(ROOT, file), `${file}:4:2: ERROR: Expected ")"`);
    });

    it('a type error at run time (a method that does not exist)', async () => {
      const file = circuitFile(
        'type-error',
        `export default circuit({ name: 'bad', parties: ['p1', 'p2'] }, (c) => {\n  const x = c.vector('p1', 'x');\n  // @ts-expect-error: there is no such method\n  c.reveal('s', x.total());\n});\n`,
      );
      const r = await runMpc(['run', file, '--inputs', jsonFile('p1.json', '{ "p1": { "x": [1, 2, 3] } }')]);
      expectFailure(r, 'MPC_ERR_CIRCUIT', relative(ROOT, file), /the circuit body threw: .*total is not a function/);
    });

    it('an error thrown by the circuit body', async () => {
      const file = circuitFile(
        'throws',
        `export default circuit({ name: 'bad', parties: ['p1', 'p2'] }, (c) => {\n  const x = c.vector('p1', 'x');\n  if (x.length > 2) throw new Error('at most 2 elements, please');\n  c.reveal('s', x.sum());\n});\n`,
      );
      const r = await runMpc(['run', file, '--inputs', jsonFile('p1.json', '{ "p1": { "x": [1, 2, 3] } }')]);
      expectFailure(r, 'MPC_ERR_CIRCUIT', relative(ROOT, file), 'at most 2 elements, please');
    });

    it('a length mismatch, at the line and column of the operation', async () => {
      const file = circuitFile(
        'mismatch',
        `export default circuit({ name: 'bad', parties: ['p1', 'p2'] }, (c) => {\n  const x = c.vector('p1', 'x');\n  const y = c.vector('p2', 'y');\n  c.reveal('dot', x.dot(y));\n});\n`,
      );
      const r = await runMpc(['run', file, '--inputs', jsonFile('xy.json', '{ "p1": { "x": [1, 2, 3] }, "p2": { "y": [4, 5] } }')]);
      expectFailure(r, 'MPC_ERR_CIRCUIT', `${file}:5:21: dot: length mismatch: 3 elements vs 2 elements`);
    });
  });

  describe.concurrent('a malformed inputs file: MPC_ERR_INPUT naming file:line:column', () => {
    it('bad JSON', async () => {
      const file = jsonFile('bad-syntax.json', '{\n  "p1": { "x": [1, 2,, 3] }\n}\n');
      expectFailure(await runMpc(['run', 'circuits/sum.ts', '--inputs', file]), 'MPC_ERR_INPUT', `${file}:2:22: invalid JSON`);
    });

    it('a value that is not an integer (1.5)', async () => {
      const file = jsonFile('fraction.json', '{\n  "p1": { "x": [1, 2,\n                1.5] },\n  "p2": { "x": [] },\n  "p3": { "x": [] }\n}\n');
      expectFailure(await runMpc(['run', 'circuits/sum.ts', '--inputs', file]), 'MPC_ERR_INPUT', `${file}:3:17: input p1.x[2]`, /got 1\.5/);
    });
  });

  it('an unknown --preprocessing or --security is refused before anything starts', async () => {
    const [prep, bogus] = await Promise.all([
      runMpc(['run', 'circuits/sum.ts', '--preprocessing', 'trusted-friend']),
      runMpc(['run', 'circuits/sum.ts', '--security', 'paranoid']),
    ]);
    expectFailure(prep, 'MPC_ERR_CONFIG', '--preprocessing trusted-friend: expected dealer or ot');
    expectFailure(bogus, 'MPC_ERR_CONFIG', '--security paranoid: expected semi-honest or malicious');
  });

  it('a Z_2^128 circuit: mpc compile says which domain and why, and the range checks malicious jobs make', async () => {
    const compiled = await runMpc(['compile', 'circuits/wide-stats.ts']);
    expect(compiled.code, compiled.stderr).toBe(0);
    expect(compiled.stdout).toMatch(/^domain +Z_2\^128 \(Z_2\^64 is too narrow: circuits\/wide-stats\.ts:\d+:\d+: variance: /m);
    expect(compiled.stdout).toContain('range checks  malicious jobs check p1.readings in [-20000000, 20000000]');
  });

  // One real-node run of SPDZ2k at k = 128 (~25 s): in the in-thread project only, like the semi-honest one.
  (process.env.MPC_NO_WORKERS === '1' ? it : it.skip)('mpc run circuits/wide-stats.ts (default: malicious, SPDZ2k over Z_2^192): mean and stddev to 10^-6 relative', async () => {
    const r = await runMpc(['run', 'circuits/wide-stats.ts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { outputs, stats } = JSON.parse(r.stdout) as { outputs: { mean: number; stddev: number }; stats: { ring: number; parties: number; security: string; rangeChecks: number } };
    expect(stats).toMatchObject({ ring: 128, parties: 3, security: 'malicious' });
    expect(stats.rangeChecks).toBeGreaterThan(0);
    // The exact values of the inputs (three parties' readings 10^7 + 0.1, 0.2, 0.3).
    const mean = 10000000.2;
    const sd = 0.08164965854902563;
    expect(Math.abs(outputs.mean - mean) / mean).toBeLessThan(1e-6);
    expect(Math.abs(outputs.stddev - sd) / sd).toBeLessThan(1e-6);
  });

  // Z_2^128 kernels run in the calling thread whatever the pool: once, in the in-thread project.
  // With OT preprocessing: the nodes make their own Z_2^128 triples and bits (the dealer's serve the malicious run above).
  (process.env.MPC_NO_WORKERS === '1' ? it : it.skip)('mpc run circuits/wide-stats.ts --security semi-honest --preprocessing ot: three parties, readings 10^7 ± 0.1, mean and stddev to 10^-6 relative', async () => {
    const r = await runMpc(['run', 'circuits/wide-stats.ts', '--security', 'semi-honest', '--preprocessing', 'ot', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { outputs, stats } = JSON.parse(r.stdout) as { outputs: { mean: number; stddev: number }; stats: { ring: number; parties: number } };
    const raw = JSON.parse(readFileSync('circuits/wide-stats.inputs.json', 'utf8')) as Record<string, { readings: number[] }>;
    // The reference in exact integer arithmetic on tenths.
    const t = Object.values(raw).flatMap((p) => p.readings.map((v) => BigInt(Math.round(v * 10))));
    const N = BigInt(t.length);
    const S = t.reduce((a, b) => a + b, 0n);
    const sd = Math.sqrt(Number(t.reduce((a, b) => a + b * b, 0n) * N - S * S) / Number(N * N)) / 10;
    expect(stats).toMatchObject({ ring: 128, parties: 3, preprocessing: 'ot' });
    expect(Math.abs(outputs.mean - Number(S) / Number(N) / 10) / 1e7).toBeLessThan(1e-6);
    expect(Math.abs(outputs.stddev - sd) / sd).toBeLessThan(1e-6);
  });
});

describe('mpc node', () => {
  it('a malformed dataset stops the node at start, naming file, line and column', async () => {
    const fed = join(dir, 'fed');
    await initFederation(fed, { parties: ['p1', 'p2'], basePort: 7100, host: '127.0.0.1' });
    const csv = jsonFile('sales.csv', 'id,amount\n1,10\n2,12.5\n');
    const json = jsonFile('v.json', '{\n  "v": [1,\n        "x"]\n}\n');
    const config = join(fed, 'p1.node.json');
    const cfg = JSON.parse(readFileSync(config, 'utf8')) as { datasets: Record<string, unknown> };
    // The node checks its datasets before it listens, so nothing is bound and no port is used.
    cfg.datasets = { x: { file: csv, format: 'csv', column: 'amount' } };
    writeFileSync(config, JSON.stringify(cfg));
    const r1 = await runMpc(['node', '--config', config]);
    expectFailure(r1, 'MPC_ERR_INPUT', `${csv}:3:`, 'amount', '12.5');
    cfg.datasets = { v: { file: json, format: 'json' } };
    writeFileSync(config, JSON.stringify(cfg));
    const r2 = await runMpc(['node', '--config', config]);
    expectFailure(r2, 'MPC_ERR_INPUT', `${json}:3:9`, '"x"');
  });
});
