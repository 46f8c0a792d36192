// Honest runs never trip a check: 2000 small jobs (2 and 3 parties, several circuit shapes,
// periodic and final MAC checks, outputs to the analyst and to parties) with pinned seeds,
// and a layer wider than one chunk whose chunks open concurrently while periodic checks run.
import { describe, expect, it } from 'vitest';
import { Prg } from '../../../src/ring/prg.ts';
import { MUL_CHUNK } from '../../../src/compiler/plan.ts';
import { createSpdz2k, spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import { compileInline, M64 } from '../../helpers.ts';
import { runParties } from './harness.ts';

const s64 = (v: bigint): string => BigInt.asIntN(64, v).toString();
const seed = (k: number, i: number): Uint8Array => new Prg(new Uint8Array(32).fill(k % 251), `no-false-alarm/${k}/${i}`).bytes(32);

describe('SPDZ2k: no false alarms', () => {
  it('2000 honest runs finish with correct outputs and no MAC_CHECK', async () => {
    const shapes = [
      { parties: ['p1', 'p2'], len: 2 },
      { parties: ['p1', 'p2', 'p3'], len: 3 },
    ].map(({ parties, len }) => ({
      parties,
      len,
      plan: compileInline(parties, (c) => {
        const x = c.vector('p1', 'x');
        const y = c.vector('p2', 'y');
        const z = x.mul(y);
        c.reveal('a', z.mul(z).add(x), { to: 'analyst' });
        c.reveal('b', z.sum().mul(3), { to: ['p2', 'analyst'] });
        c.reveal('c', x.dot(x), { to: parties[parties.length - 1] });
      }, { 'p1.x': len, 'p2.y': len }).plan,
    }));
    const suites = [spdz2k, createSpdz2k({ macCheckEvery: 3 })];
    const vals = new Prg(new Uint8Array(32).fill(42), 'no-false-alarm/values');
    let runs = 0;
    for (let k = 0; k < 2000; k++) {
      const { parties, len, plan } = shapes[k % 2];
      const x = Array.from(vals.u64(len));
      const y = Array.from(vals.u64(len));
      const res = await runParties(plan, { p1: { x: x.map(s64) }, p2: { y: y.map(s64) } }, {
        suite: suites[(k >> 1) % 2],
        dealerSeeds: parties.map((_, i) => seed(k, i)),
        rngSeed: (i) => seed(k, 100 + i),
      });
      const failed = res.outcomes.find((o) => !o.ok) as { error: Error } | undefined;
      if (failed || res.analystError) throw new Error(`run ${k}: ${String(failed?.error ?? res.analystError)}`);
      const z = x.map((xi, i) => (xi * y[i]) & M64);
      expect(Array.from(res.analyst!.a)).toEqual(z.map((zi, i) => (zi * zi + x[i]) & M64));
      expect(res.analyst!.b[0]).toBe((z.reduce((t, v) => t + v, 0n) * 3n) & M64);
      runs++;
    }
    expect(runs).toBe(2000);
  });

  it('a layer of more than one chunk, chunks in flight together, a MAC check closed by each chunk', async () => {
    const W = MUL_CHUNK + 1000;
    const { plan } = compileInline(['p1', 'p2'], (c) => c.reveal('d', c.vector('p1', 'x').dot(c.vector('p2', 'y'))), { 'p1.x': W, 'p2.y': W });
    const vals = new Prg(new Uint8Array(32).fill(7), 'chunks');
    const x = Array.from(vals.u64(W));
    const y = Array.from(vals.u64(W));
    const res = await runParties(plan, { p1: { x: x.map(s64) }, p2: { y: y.map(s64) } }, {
      suite: createSpdz2k({ macCheckEvery: 2000 }),
      timeoutMs: 30_000,
    });
    expect(res.outcomes.every((o) => o.ok)).toBe(true);
    expect(res.analyst!.d[0]).toBe(x.reduce((t, xi, i) => (t + xi * y[i]) & M64, 0n));
  });
});
