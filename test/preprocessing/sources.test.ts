// Both suites' preprocessing sources expand ahead of the online phase (src/util/run-ahead.ts):
// whatever the run-ahead budget, and however far ahead it got, every party gets the same
// material as expanding each item when asked (semi-honest: pinned against the seed's stream
// itself); a dealer failure mid-stream and an abort reject cleanly, and an aborted source
// asks the dealer for nothing more.
import { dealerFor, dealerPrep } from '../../src/preprocessing/dealers.ts';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/compiler/plan.ts';
import { dealSemiHonest, memoryExtras, SeededSource, TRIPLE_LABEL } from '../../src/preprocessing/dealer.ts';
import { SemiHonestPrep, semiHonestItems, type SemiHonestItem } from '../../src/protocol/semi-honest-prep.ts';
import type { ProtocolSuite } from '../../src/protocol/suite.ts';
import { Prg } from '../../src/ring/prg.ts';
import * as z64 from '../../src/ring/z64.ts';
import { spdz2k } from '../../src/protocol/spdz2k/suite.ts';
import { semiHonest } from '../../src/protocol/semi-honest.ts';
import { MUL_CHUNK } from '../../src/compiler/plan.ts';
import { schedule, type Item } from '../../src/protocol/spdz2k/schedule.ts';
import type { AuthShare } from '../../src/protocol/spdz2k/share.ts';
import { Spdz2kPrep } from '../../src/protocol/spdz2k/prep.ts';
import { dealerMaterial } from '../../src/preprocessing/spdz2k-dealer.ts';
import type { NextExtra } from '../../src/preprocessing/dealer.ts';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import { compileInline } from '../helpers.ts';

const seedsFor = (n: number, base: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(base + i));
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

// Several layers of multiplications (one wider than a chunk: two items), comparisons (random
// integers), inputs and outputs to parties and the analyst.
const plan: Plan = compileInline(['p1', 'p2'], (c) => {
  const x = c.vector('p1', 'x');
  const y = c.vector('p2', 'y');
  const u = c.vector('p1', 'u');
  const v = c.vector('p2', 'v');
  const z = x.mul(y);
  c.reveal('z', z.mul(x).sum(), { to: ['p1', 'analyst'] });
  c.reveal('lt', u.lt(v).sum(), { to: 'p2' });
}, { 'p1.x': 300_000, 'p2.y': 300_000, 'p1.u': 3, 'p2.v': 3 }).plan;

/** A digest of each vector's bytes, in order: whole streams compared cheaply. */
const bytesOf = (vs: BigUint64Array[]): string[] => vs.map((v) => createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex'));

describe('semi-honest source (SeededSource) run ahead', () => {
  const n = 2;
  const seeds = seedsFor(n, 3);
  const items = semiHonestItems(plan);

  /** The request that claims item `it`, and its material. */
  const ask = async (source: SeededSource, it: SemiHonestItem): Promise<BigUint64Array[]> => {
    if (it.kind === 'rand') return [await source.rand(it.bits, it.length)];
    const t = await source.triples(it.length);
    return [t.a, t.b, t.c];
  };

  /** Consume every item in plan order, letting the run-ahead run between calls. */
  async function consume(source: SeededSource): Promise<BigUint64Array[]> {
    const out: BigUint64Array[] = [];
    for (const it of items) {
      await settle();
      out.push(...(await ask(source, it)));
    }
    return out;
  }

  it('gives every party the same material with no run-ahead budget, the default and an unbounded one, c = a·b', async () => {
    expect(items.filter((i) => i.kind === 'rand').length).toBeGreaterThan(0);
    expect(items.length).toBeGreaterThan(4);
    const d = dealSemiHonest(items, n, seeds);
    const runs = await Promise.all(
      [0, undefined, Infinity].map((budget) => Promise.all(seeds.map((s, i) => consume(new SeededSource(i, n, s, items, i === n - 1 ? memoryExtras(dealSemiHonest(items, n, seeds), i) : undefined, budget))))),
    );
    expect(bytesOf(runs[1][0])).toEqual(bytesOf(runs[0][0]));
    expect(bytesOf(runs[2][0])).toEqual(bytesOf(runs[0][0]));
    expect(bytesOf(runs[1][1])).toEqual(bytesOf(runs[0][1]));
    expect(bytesOf(runs[2][1])).toEqual(bytesOf(runs[0][1]));
    // Party 0's material is its seed's stream, read in plan order, as when expanded lazily.
    const prg = new Prg(seeds[0], TRIPLE_LABEL);
    const lazy = items.flatMap((it) => (it.kind === 'triples' ? [prg.u64(it.length), prg.u64(it.length), prg.u64(it.length)] : [prg.u64(it.length)]));
    expect(bytesOf(runs[2][0])).toEqual(bytesOf(lazy));
    // And the triples are triples.
    let k = 0;
    for (const it of items) {
      if (it.kind === 'rand') {
        k++;
        continue;
      }
      const [a, b, c] = [0, 1, 2].map((j) => z64.add(runs[2][0][k + j], runs[2][1][k + j]));
      expect(Array.from(c.subarray(0, 64))).toEqual(Array.from(z64.mul(a, b).subarray(0, 64)));
      k += 3;
    }
    expect(d.seeds).toEqual(seeds);
  });

  it('a dealer failure mid-stream rejects that item and every later one; earlier ones arrive', async () => {
    const real = memoryExtras(dealSemiHonest(items, n, seeds), 1);
    let calls = 0;
    const failing: NextExtra = () => (++calls === 3 ? Promise.reject(new Error('dealer d1 went away')) : real());
    const source = new SeededSource(1, n, seeds[1], items, failing);
    await expect(ask(source, items[0])).resolves.toBeDefined();
    await expect(ask(source, items[1])).resolves.toBeDefined();
    await expect(ask(source, items[2])).rejects.toThrow('dealer d1 went away');
    await expect(ask(source, items[3])).rejects.toThrow('dealer d1 went away');
  });
});

describe('malicious source (Spdz2kPrep) run ahead', () => {
  const n = 2;
  const seeds = seedsFor(n, 11);
  const items = schedule(plan, n);

  /** The request that claims item `it` (one piece), and its material's vectors. */
  const ask = async (p: Spdz2kPrep, it: Item): Promise<BigUint64Array[]> => {
    const auth = (s: AuthShare): BigUint64Array[] => [s.x.lo, s.x.hi, s.m.lo, s.m.hi];
    if (it.kind === 'triples') {
      const t = await p.triples(it.length);
      return [t.a, t.b, t.c].flatMap(auth);
    }
    if (it.kind === 'random') return auth(await p.random(it.length));
    if (it.kind === 'rand') return auth(await p.rand(it.bits!, it.length));
    const m = it.kind === 'input-mask' ? await p.inputMask(it.holder, it.length) : await p.outputMask(it.holder, it.length);
    const value = m.value === undefined ? [] : 'lo' in m.value ? [m.value.lo, m.value.hi] : [m.value];
    return [...auth(m.share), ...value];
  };

  /** Consume every item of the schedule, one call per item, in order; every vector's digest. */
  async function consume(p: Spdz2kPrep, pace = true): Promise<string[]> {
    const out: BigUint64Array[] = [];
    for (const it of items) {
      if (pace) await settle();
      out.push(...(await ask(p, it)));
    }
    expect(p.remaining).toBe(0);
    return bytesOf(out);
  }

  const preps = (budget: number): Spdz2kPrep[] => {
    const d = dealerFor(spdz2k.name).deal(plan, n, seeds);
    return seeds.map((s, i) => new Spdz2kPrep(plan, n, i, dealerMaterial(s, i, n, memoryExtras(d, i)), { runAheadBytes: budget }));
  };

  it('gives every party the same material with no run-ahead budget, the default and an unbounded one', async () => {
    expect(items.some((i) => i.kind === 'rand') && items.some((i) => i.holder >= 0)).toBe(true);
    const d = dealerFor(spdz2k.name).deal(plan, n, seeds);
    const lazy = await Promise.all(preps(0).map((p) => consume(p, false)));
    const byDefault = await Promise.all(seeds.map((s, i) => consume(dealerPrep(spdz2k, plan, n, i, s, memoryExtras(d, i)))));
    const unbounded = await Promise.all(preps(Infinity).map((p) => consume(p)));
    for (let i = 0; i < n; i++) {
      expect(byDefault[i]).toEqual(lazy[i]);
      expect(unbounded[i]).toEqual(lazy[i]);
    }
  });

  it('abort rejects pending and later requests, and asks the dealer for nothing more', async () => {
    const d = dealerFor(spdz2k.name).deal(plan, n, seeds);
    const real = memoryExtras(d, 1);
    let calls = 0;
    const counting: NextExtra = () => {
      calls++;
      return real();
    };
    const p = dealerPrep(spdz2k, plan, n, 1, seeds[1], counting);
    await ask(p, items[0]);
    const pending = ask(p, items[1]);
    p.abort(new Error('job j1 aborted'));
    await expect(pending).rejects.toThrow('job j1 aborted');
    const after = calls;
    await expect(ask(p, items[2])).rejects.toThrow('job j1 aborted');
    await settle();
    expect(calls).toBe(after);
  });

  it('a dealer failure mid-stream rejects with the dealer’s error, and every request after it', async () => {
    const d = dealerFor(spdz2k.name).deal(plan, n, seeds);
    const real = memoryExtras(d, 1);
    let calls = 0;
    const failing: NextExtra = async () => {
      if (++calls === 2) throw new Error('dealer d1 closed the connection');
      return real();
    };
    const p = dealerPrep(spdz2k, plan, n, 1, seeds[1], failing);
    await expect(ask(p, items[0])).resolves.toBeDefined();
    await expect(ask(p, items[1])).rejects.toThrow('dealer d1 closed the connection');
    await expect(ask(p, items[2])).rejects.toThrow('dealer d1 closed the connection');
  });

  it('a wrong-sized extra is still a PREPROCESSING error at the item that needs it', async () => {
    const p = dealerPrep(spdz2k, plan, n, 1, seeds[1], async () => new Uint8Array(5));
    await expect(ask(p, items[0])).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING) && /dealer sent 5 bytes/.test((e as Error).message));
  });
});

describe("a job's end stops its sources (suite.prep's signal)", () => {
  it('semi-honest and malicious: once the signal aborts, a source hands out nothing more and names the reason', async () => {
    for (const suite of [semiHonest, spdz2k] as const) {
      const dealing = dealerFor(suite.name).deal(plan, 2, seedsFor(2, 7));
      const over = new AbortController();
      const source = dealerPrep(suite as ProtocolSuite<unknown, unknown>, plan, 2, 0, dealing.seeds[0], memoryExtras(dealing, 0), over.signal) as SemiHonestPrep | Spdz2kPrep;
      await settle();
      over.abort(new Error('job j1 is over'));
      // Each suite's first item: a random integer (the comparison) or p1's input mask.
      const it = source instanceof SemiHonestPrep ? semiHonestItems(plan)[0] : schedule(plan, 2)[0];
      const first = source instanceof SemiHonestPrep ? source.rand((it as { bits: number }).bits, it.length) : source.inputMask((it as Item).holder!, it.length);
      await expect(first, suite.name).rejects.toThrow(/job j1 is over/);
    }
  });
});
