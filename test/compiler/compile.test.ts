// Compiler passes: folding, CSE, DCE, layering (depth = rounds), batching, plan encoding.
import { describe, expect, it } from 'vitest';
import { compileInline } from '../helpers.ts';
import { decodePlan, encodePlan, planHash } from '../../src/compiler/plan.ts';
import { compileFile } from '../../src/compiler/load.ts';

describe('compiler', () => {
  it('folds constants and removes identities', () => {
    const { plan } = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x');
      const k = c.constant(3).mul(4).sub(11); // = 1
      c.reveal('y', x.mul(k).add(c.constant(0)).mul(c.constant(2).add(5)));
    }, { 'p1.x': 4 });
    expect(plan.stats.multiplications).toBe(0);
    // x·1 and +0 disappear; the ·7 is one public multiplication.
    expect(plan.stats.ops).toEqual({ input: 1, mulPublic: 1 });
    expect(plan.constants).toHaveLength(1);
  });

  it('shares common subexpressions, commutative ones included', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y');
      c.reveal('a', x.mul(y).sum());
      c.reveal('b', y.mul(x).sum());
      c.reveal('c', x.dot(y));
    }, { 'p1.x': 5, 'p2.y': 5 });
    expect(plan.stats.multiplications).toBe(5);
    expect(plan.stats.ops.sum).toBe(1);
    expect(new Set(plan.outputs.map((o) => o.wire)).size).toBe(1);
  });

  it('removes dead code', () => {
    const { plan } = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x');
      x.mul(x).mul(x); // never revealed
      c.reveal('s', x.sum());
    }, { 'p1.x': 8 });
    expect(plan.stats.multiplications).toBe(0);
    expect(plan.stats.rounds).toBe(0);
  });

  it('rounds equal multiplicative depth, and a wide layer is one round', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y');
      // depth 1: three independent products of different shapes share one round
      const a = x.mul(y);
      const b = x.mul(x);
      const s = x.sum().mul(y.sum());
      // depth 2
      const d = a.mul(b).add(s);
      // depth 3 only through d
      c.reveal('r', d.mul(y).sum());
      c.reveal('a', a);
    }, { 'p1.x': 100, 'p2.y': 100 });
    expect(plan.stats.rounds).toBe(3);
    expect(plan.layers[1].muls).toHaveLength(3);
    expect(plan.needs.tripleBatches).toEqual([201, 100, 100]);
    expect(plan.stats.multiplications).toBe(401);
  });

  it('inner-product: 1000 multiplications in 1 round', async () => {
    const { plan } = await compileFile('circuits/inner-product.ts', new Map([['p1.x', 1000], ['p2.y', 1000]]));
    expect(plan.stats.multiplications).toBe(1000);
    expect(plan.stats.rounds).toBe(1);
  });

  it('power: ten rounds whatever the length', async () => {
    for (const n of [0, 1, 1000]) {
      const { plan } = await compileFile('circuits/power.ts', new Map([['p1.x', n]]));
      expect(plan.stats.rounds).toBe(10);
      expect(plan.stats.multiplications).toBe(10 * n);
    }
  });

  it('plans round-trip through msgpack with a stable hash', () => {
    const mk = (k: number) => compileInline(['p1', 'p2'], (c) => c.reveal('d', c.vector('p1', 'x').dot(c.vector('p2', 'y')).add(k)), { 'p1.x': 3, 'p2.y': 3 });
    const a = mk(1);
    const bytes = encodePlan(a.plan);
    expect(decodePlan(bytes)).toEqual(a.plan);
    expect(planHash(bytes)).toBe(a.hash);
    expect(mk(1).hash).toBe(a.hash);
    expect(mk(2).hash).not.toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('decodePlan refuses malformed plans', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => c.reveal('d', c.vector('p1', 'x').dot(c.vector('p2', 'y'))), { 'p1.x': 3, 'p2.y': 3 });
    expect(() => decodePlan(new Uint8Array([0xc1, 0xff]))).toThrow(/invalid plan/);
    const bad1 = structuredClone(plan);
    bad1.layers[1].muls[0].a = 99;
    expect(() => decodePlan(encodePlan(bad1))).toThrow(/used before it is defined/);
    const bad2 = structuredClone(plan);
    bad2.wireLength[bad2.layers[1].muls[0].out] = 4;
    expect(() => decodePlan(encodePlan(bad2))).toThrow(/shape mismatch/);
    const bad3 = structuredClone(plan);
    bad3.format = 99;
    expect(() => decodePlan(encodePlan(bad3))).toThrow(/unsupported format/);
  });
});
