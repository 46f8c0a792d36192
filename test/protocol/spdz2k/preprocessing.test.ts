// SPDZ2k dealer preprocessing: for random plans, every item the parties expand from their
// seeds plus the dealer's extras satisfies the MAC relation Σm ≡ α·Σx (mod 2^128) with α
// rebuilt from the seeds, triples have c = a·b, holders get their mask's value; consuming
// more or other items than dealt is a PREPROCESSING error; the extras stream is lazy; and
// a known-answer vector pins the PRG layout.
import { dealerFor, dealerPrep } from '../../../src/preprocessing/dealers.ts';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z128 from '../../../src/ring/z128.ts';
import type { Z128Vec } from '../../../src/ring/z128.ts';
import { Prg } from '../../../src/ring/prg.ts';
import { memoryExtras } from '../../../src/preprocessing/dealer.ts';
import { isMpcError, ErrorCode } from '../../../src/errors.ts';
import type { Plan } from '../../../src/compiler/plan.ts';
import { spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import { schedule, itemLabel } from '../../../src/protocol/spdz2k/schedule.ts';
import { macKeyShare, MAC_KEY_LABEL } from '../../../src/preprocessing/spdz2k-dealer.ts';
import type { Spdz2kPrep } from '../../../src/protocol/spdz2k/prep.ts';
import type { AuthShare } from '../../../src/protocol/spdz2k/share.ts';
import { compileInline } from '../../helpers.ts';
import { build, programArb, smallOrBig } from '../programs.ts';

const sum = (vs: Z128Vec[]): Z128Vec => vs.reduce((t, v) => z128.add(t, v), z128.alloc(vs[0].lo.length));
const big = (v: Z128Vec): bigint[] => z128.toBigints(v);
const seedsFor = (n: number, base: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(base + i));

function preps(plan: Plan, n: number, seeds: Uint8Array[]): Spdz2kPrep[] {
  const d = dealerFor(spdz2k.name).deal(plan, n, seeds);
  return seeds.map((seed, i) => dealerPrep(spdz2k, plan, n, i, seed, memoryExtras(d, i)));
}

/** Σm ≡ α·Σx for one authenticated item; returns Σx. */
function expectAuthentic(shares: AuthShare[], alpha: bigint, what: string): Z128Vec {
  const x = sum(shares.map((s) => s.x));
  expect(big(sum(shares.map((s) => s.m))), what).toEqual(big(z128.mulScalar(x, alpha)));
  return x;
}

async function checkAll(plan: Plan, n: number, seeds: Uint8Array[]): Promise<number> {
  const ps = preps(plan, n, seeds);
  const alpha = BigInt.asUintN(128, seeds.reduce((t, s) => t + macKeyShare(s), 0n));
  expect(ps.map((p) => p.alpha)).toEqual(seeds.map(macKeyShare));
  const items = schedule(plan, n);
  for (const it of items) {
    const what = `${it.kind} ${it.ordinal} (${it.what})`;
    if (it.kind === 'triples') {
      const ts = await Promise.all(ps.map((p) => p.triples(it.length)));
      const a = expectAuthentic(ts.map((t) => t.a), alpha, `${what}: a`);
      const b = expectAuthentic(ts.map((t) => t.b), alpha, `${what}: b`);
      const c = expectAuthentic(ts.map((t) => t.c), alpha, `${what}: c`);
      expect(big(c), `${what}: c = a·b`).toEqual(big(z128.mul(a, b)));
    } else if (it.kind === 'random') {
      expectAuthentic(await Promise.all(ps.map((p) => p.random(it.length))), alpha, what);
    } else if (it.kind === 'input-mask') {
      const ms = await Promise.all(ps.map((p) => p.inputMask(it.holder, it.length)));
      const r = expectAuthentic(ms.map((m) => m.share), alpha, what);
      ms.forEach((m, i) => (i === it.holder ? expect(big(m.value!)).toEqual(big(r)) : expect(m.value).toBeUndefined()));
    } else {
      const ms = await Promise.all(ps.map((p) => p.outputMask(it.holder, it.length)));
      const r = expectAuthentic(ms.map((m) => m.share), alpha, what);
      ms.forEach((m, i) => (i === it.holder ? expect(Array.from(m.value!)).toEqual(Array.from(r.lo)) : expect(m.value).toBeUndefined()));
    }
  }
  for (const p of ps) expect(p.remaining).toBe(0);
  // One more item than dealt.
  await expect(ps[0].random(1)).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING) && /exhausted/.test((e as Error).message));
  return items.length;
}

describe('SPDZ2k preprocessing', () => {
  it('satisfies the MAC relation, c = a·b and the holders’ values for random plans (n = 2, 3, 5, plus extra parties)', async () => {
    await fc.assert(
      fc.asyncProperty(programArb(), fc.infiniteStream(smallOrBig), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 200 }), async (p, values, extra, base) => {
        const it = values[Symbol.iterator]();
        const b = build(p, () => it.next().value as bigint);
        const n = b.parties.length + extra;
        await checkAll(b.plan, n, seedsFor(n, base));
      }),
      { numRuns: 60, seed: 0xdea1 },
    );
  });

  const plan = compileInline(['p1', 'p2'], (c) => {
    const x = c.vector('p1', 'x');
    const y = c.vector('p2', 'y');
    c.reveal('z', x.mul(y), { to: ['analyst', 'p2'] });
    c.reveal('s', x.dot(y).mul(x.sum()), { to: 'p1' });
  }, { 'p1.x': 4, 'p2.y': 4 }).plan;

  it('lays out the schedule in consumption order', () => {
    expect(schedule(plan, 3).map((i) => `${i.kind}/${i.ordinal}:${i.length}@${i.holder}`)).toEqual([
      'input-mask/0:4@0',
      'input-mask/1:4@1',
      'triples/0:4@-1', // layer 1: x·y (the dot product reuses it: CSE)
      'triples/1:1@-1',
      'output-mask/0:4@1',
      'output-mask/1:1@0',
      'random/0:4@-1',
      'random/1:1@-1',
      'triples/2:4@-1',
    ]);
  });

  it('rejects items asked for out of order, of the wrong size or for the wrong holder', async () => {
    const seeds = seedsFor(2, 7);
    const [p0] = preps(plan, 2, seeds);
    await expect(p0.triples(8)).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING) && /item 0 is input-mask of 4/.test((e as Error).message));
    const [q0] = preps(plan, 2, seeds);
    await expect(q0.inputMask(0, 5)).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING));
    const [r0] = preps(plan, 2, seeds);
    await expect(r0.inputMask(1, 4)).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING));
  });

  it('fails with PREPROCESSING when the dealer sends a wrong-sized or missing item', async () => {
    const seeds = seedsFor(2, 9);
    const short = dealerPrep(spdz2k, plan, 2, 1, seeds[1], async () => new Uint8Array(3));
    await expect(short.inputMask(0, 4)).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING) && /dealer sent 3 bytes/.test((e as Error).message));
    const d = dealerFor(spdz2k.name).deal(plan, 2, seeds);
    const it = d.extras(1)[Symbol.iterator]();
    const count = [...(function* () { for (let r = it.next(); !r.done; r = it.next()) yield r.value; })()].length;
    const none = dealerPrep(spdz2k, plan, 2, 1, seeds[1], memoryExtras({ seeds, extras: () => [] }, 1));
    expect(count).toBeGreaterThan(0);
    await expect(none.inputMask(0, 4)).rejects.toSatisfy((e) => isMpcError(e, ErrorCode.PREPROCESSING) && /more dealer material/.test((e as Error).message));
  });

  it('streams extras lazily, one item at a time', () => {
    const wide = compileInline(['p1', 'p2'], (c) => c.reveal('z', c.vector('p1', 'x').mul(c.vector('p2', 'y')).sum()), { 'p1.x': 50_000, 'p2.y': 50_000 }).plan;
    const d = dealerFor(spdz2k.name).deal(wide, 2, seedsFor(2, 1));
    const gen = d.extras(1)[Symbol.iterator]();
    // Nothing is computed before the first item is asked for, and items come one by one.
    const first = gen.next();
    expect(first.done).toBe(false);
    expect(first.value.byteLength).toBe(16 * 50_000); // party 1 = last: MAC corrections of input mask 0
    expect(gen.next().value.byteLength).toBe(16 * 50_000); // input mask 1: corrections …
    expect(gen.next().value.byteLength).toBe(16 * 50_000); // … and its value (party 1 owns y)
    expect(gen.next().value.byteLength).toBe(64 * 50_000); // the triple batch: c ‖ m_a ‖ m_b ‖ m_c
    expect([...d.extras(0)].map((b) => b.byteLength)).toEqual([16 * 50_000]); // party 0: only its mask's value
  });

  it('known-answer vector: α_0 and the first triple of party 0 for pinned seeds', async () => {
    const seeds = seedsFor(2, 1); // 0x01…01, 0x02…02
    expect(macKeyShare(seeds[0]).toString(16)).toBe(KAT.alpha0);
    const [p0] = preps(plan, 2, seeds);
    await p0.inputMask(0, 4);
    await p0.inputMask(1, 4);
    const t = await p0.triples(4);
    const hex = (v: Z128Vec, i: number) => z128.toBigints(v)[i].toString(16);
    expect({ ax: hex(t.a.x, 0), am: hex(t.a.m, 0), bx: hex(t.b.x, 0), cx: hex(t.c.x, 0), cm: hex(t.c.m, 3) }).toEqual(KAT.triple0);
    // The documented layout: a, b, c, m_a, m_b, m_c from the item's own labelled stream.
    const prg = new Prg(seeds[0], itemLabel({ kind: 'triples', ordinal: 0 }));
    const [a, b, c, ma] = [prg.z128(4), prg.z128(4), prg.z128(4), prg.z128(4)];
    expect([big(a), big(b), big(c), big(ma)]).toEqual([big(t.a.x), big(t.b.x), big(t.c.x), big(t.a.m)]);
    expect(MAC_KEY_LABEL).toBe('tessera/spdz2k/v1/mac-key');
  });
});

// Pinned from the first run of this layout (tessera/spdz2k/v1 labels, Prg = HKDF-SHA256 → AES-256-CTR).
// Changing a label, the draw order or the element layout changes these on purpose only.
const KAT = {
  alpha0: '7923985379c367e3bf52df0c5a655037',
  triple0: {
    ax: '394dddf7bcd1b625ee66aca7ca88d6ea', // a_0[0] (hi ‖ lo)
    am: 'b85d739580cab407081de8c249b02115', // m_{a,0}[0]
    bx: '500a3bfea53ee8846977d808a7b167f4', // b_0[0]
    cx: '6e45c79aebc24d0f30d2d2f713f14461', // c_0[0]
    cm: '463006e637a5e7f300251c8a7b207995', // m_{c,0}[3]
  },
};
