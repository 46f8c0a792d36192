// The data-flow pass the data owner's policy reads (src/compiler/facts.ts): per output
// element, the number of distinct input elements of one party it depends on. Checked on
// small circuits by hand, on the canonical circuits, and on random circuits against a
// brute-force reference (one Set per element, written here from the plan's semantics).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileInline } from '../helpers.ts';
import { compileFile } from '../../src/compiler/load.ts';
import { encodePlan, gatherIndex, type Plan } from '../../src/compiler/plan.ts';
import { inputDependence, maskedOpenings, planFacts, type OutputDependence } from '../../src/compiler/facts.ts';
import type { CircuitBuilder, Value } from '../../src/circuit/builder.ts';

const counts = (plan: Plan, party: string, cap: number): Record<string, number[]> =>
  Object.fromEntries(inputDependence(plan, party, cap).map((o) => [o.name, Array.from(o.counts)]));

describe('inputDependence', () => {
  it("the issue's leak x + 0·Σy: each element depends on one element of p1", () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      c.reveal('raw', c.vector('p1', 'x').add(c.vector('p2', 'x').sum().mul(0)));
    }, { 'p1.x': 3, 'p2.x': 2 });
    const [raw] = inputDependence(plan, 'p1', 5);
    expect(raw).toMatchObject({ name: 'raw', to: ['analyst'], length: 3, min: 1, at: 0 });
    expect(Array.from(raw.counts)).toEqual([1, 1, 1]);
    // p2's data reaches no element once ·0 is folded.
    expect(inputDependence(plan, 'p2', 5)[0]).toMatchObject({ min: 0, at: undefined });
  });

  it('the leak without folding (x + Σy·z, z secret): still one element of p1 each', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      c.reveal('raw', c.vector('p1', 'x').add(c.vector('p2', 'y').sum().mul(c.scalar('p2', 'z'))));
    }, { 'p1.x': 4, 'p2.y': 2 });
    expect(counts(plan, 'p1', 5)).toEqual({ raw: [1, 1, 1, 1] });
    expect(counts(plan, 'p2', 5)).toEqual({ raw: [3, 3, 3, 3] });
  });

  it('a sum depends on every element; an elementwise product on one of each owner', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y');
      c.reveal('sum', x.sum());
      c.reveal('prod', x.mul(y));
      c.reveal('dot', x.dot(y));
    }, { 'p1.x': 6, 'p2.y': 6 });
    expect(counts(plan, 'p1', 100)).toEqual({ sum: [6], prod: [1, 1, 1, 1, 1, 1], dot: [6] });
    expect(counts(plan, 'p2', 100)).toEqual({ sum: [0], prod: [1, 1, 1, 1, 1, 1], dot: [6] });
  });

  it('counts distinct elements over all of the party’s inputs, saturating at the cap', () => {
    const { plan } = compileInline(['p1'], (c) => {
      const a = c.vector('p1', 'a');
      const b = c.vector('p1', 'b');
      c.reveal('ab', a.mul(b).sum());
      c.reveal('aa', a.mul(a));
    }, { 'p1.a': 4, 'p1.b': 4 });
    expect(counts(plan, 'p1', 100)).toEqual({ ab: [8], aa: [1, 1, 1, 1] });
    expect(counts(plan, 'p1', 5)).toEqual({ ab: [5], aa: [1, 1, 1, 1] });
    expect(counts(plan, 'p1', 1)).toEqual({ ab: [1], aa: [1, 1, 1, 1] });
  });

  it('slices, concatenations and gathers select exactly the elements they move', () => {
    const { plan } = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x'); // 6 elements
      const pairs = x.slice(0, 4).add(x.slice(2, 6)); // element i: x[i], x[i+2]
      c.reveal('pairs', pairs);
      c.reveal('joined', c.concat([x.slice(4), x.slice(0, 2).sum(), c.constant(7)]));
      // Blocks of 2 of pairs (4 elements → 2 blocks), picked [1, 0, 1].
      c.reveal('picked', c.primGather(pairs, [1, 0, 1], 2));
      c.reveal('one', x.get(5));
    }, { 'p1.x': 6 });
    expect(counts(plan, 'p1', 100)).toEqual({
      pairs: [2, 2, 2, 2],
      joined: [1, 1, 2, 0],
      picked: [2, 2, 2, 2, 2, 2],
      one: [1],
    });
    const joined = inputDependence(plan, 'p1', 100).find((o) => o.name === 'joined')!;
    expect(joined).toMatchObject({ min: 1, at: 0 });
  });

  it('the canonical aggregates depend on every element of p1', async () => {
    // [circuit, shapes, p1's element count]
    const cases: [string, Record<string, number>, number][] = [
      ['circuits/histogram.ts', { 'p1.age': 6, 'p2.age': 5, 'p3.age': 5 }, 6],
      ['circuits/max.ts', { 'p1.bid': 5, 'p2.bid': 5, 'p3.bid': 5 }, 5],
      ['circuits/mean-fixed.ts', { 'p1.v': 5, 'p2.v': 5, 'p3.v': 5 }, 5],
      ['circuits/median.ts', { 'p1.v': 5, 'p2.v': 6 }, 5],
      ['circuits/moments.ts', { 'p1.v': 7, 'p2.v': 3, 'p3.v': 2 }, 7],
    ];
    for (const [file, shapes, n] of cases) {
      const { plan } = await compileFile(file, new Map(Object.entries(shapes)));
      for (const o of inputDependence(plan, 'p1', 1000)) {
        // moments' count is the public vector length: it depends on no element.
        const expected = file.endsWith('moments.ts') && o.name === 'count' ? 0 : n;
        expect(Array.from(o.counts), `${file} ${o.name}`).toEqual(new Array(o.length).fill(expected));
      }
    }
  });

  it('every opening the compiler writes is masked by fresh, full-width randomness', async () => {
    const files = ['circuits/histogram.ts', 'circuits/max.ts', 'circuits/mean-fixed.ts', 'circuits/median.ts', 'circuits/linreg.ts'];
    const shapes: Record<string, Record<string, number>> = {
      'circuits/histogram.ts': { 'p1.age': 6, 'p2.age': 5, 'p3.age': 5 },
      'circuits/max.ts': { 'p1.bid': 5, 'p2.bid': 5, 'p3.bid': 5 },
      'circuits/mean-fixed.ts': { 'p1.v': 5, 'p2.v': 5, 'p3.v': 5 },
      'circuits/median.ts': { 'p1.v': 5, 'p2.v': 6 },
      'circuits/linreg.ts': { 'p1.x1': 8, 'p1.x2': 8, 'p2.y': 8 },
    };
    for (const file of files) {
      const { plan } = await compileFile(file, new Map(Object.entries(shapes[file])));
      const opens = plan.layers.flatMap((l) => l.opens.map((g) => g.out));
      expect(opens.length, file).toBeGreaterThan(0);
      expect([...maskedOpenings(plan)].sort(), file).toEqual(opens.sort());
      const openings: OutputDependence[] = [];
      inputDependence(plan, 'p1', 5, { openings });
      expect(openings, file).toEqual([]);
    }
  });

  it('folds ·0 and v − v itself: a plan that skipped the folding does not pass x off as an aggregate', () => {
    const { plan } = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x');
      c.reveal('raw', x.add(x.sum().mul(7)));
    }, { 'p1.x': 5 });
    expect(counts(plan, 'p1', 5)).toEqual({ raw: [5, 5, 5, 5, 5] });
    // What a hand-made plan can say: the same ops with the 7 turned into a 0.
    for (const c of plan.constants) c.values.fill(0);
    expect(counts(plan, 'p1', 5)).toEqual({ raw: [1, 1, 1, 1, 1] });
  });

  it('an unmasked opening, or one whose mask is reused, is reported as revealed to every party', () => {
    const { plan } = compileInline(['p1', 'p2', 'p3'], (c) => {
      const x = c.vector('p1', 'x');
      const b = (x as unknown as { builder: CircuitBuilder }).builder;
      c.reveal('s', b.primOpen(x).sum().add(c.vector('p2', 'x').sum()));
    }, { 'p1.x': 5, 'p2.x': 5 });
    expect(maskedOpenings(plan).size).toBe(0);
    const openings: OutputDependence[] = [];
    const [s] = inputDependence(plan, 'p1', 5, { openings });
    expect(s.min).toBe(5); // the output alone would pass minAggregation 5
    expect(openings).toEqual([expect.objectContaining({ to: ['p1', 'p2', 'p3'], length: 5, min: 1 })]);

    // One mask for two openings: their difference is x − y in the clear.
    const twice = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y');
      const b = (x as unknown as { builder: CircuitBuilder }).builder;
      const r = b.primPack(b.primRand(1, 64 * 3), 64);
      c.reveal('s', b.primOpen(b.raw('add', x, r, 0, undefined)).sum().add(b.primOpen(b.raw('add', y, r, 0, undefined)).sum()));
    }, { 'p1.x': 3, 'p2.y': 3 });
    expect(maskedOpenings(twice.plan).size).toBe(0);
  });

  it('reports an output addressed only to the party itself like any other (the policy decides)', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      c.reveal('mine', c.vector('p1', 'x'), { to: 'p1' });
    }, { 'p1.x': 2 });
    expect(inputDependence(plan, 'p1', 5)).toMatchObject([{ name: 'mine', to: ['p1'], min: 1 }]);
  });

  it('documents what the compiler folds and what the structural count over-states', () => {
    const fold = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x');
      c.reveal('subSelf', x.add(x.sum().sub(x.sum()))); // a − a folds to 0, then x + 0 to x
      c.reveal('mulZero', x.add(x.sum().mul(0))); // ·0 folds
      c.reveal('opaque', x.add(x.sum().mul(2).sub(x.sum().add(x.sum())))); // 2Σ − (Σ + Σ): not folded
    }, { 'p1.x': 4 }).plan;
    expect(counts(fold, 'p1', 100)).toEqual({ subSelf: [1, 1, 1, 1], mulZero: [1, 1, 1, 1], opaque: [4, 4, 4, 4] });
  });

  it('an empty input and outputs of constants or randomness depend on nothing', () => {
    const { plan } = compileInline(['p1'], (c) => {
      const x = c.vector('p1', 'x');
      c.reveal('n', x.length);
      c.reveal('s', x.sum());
    }, { 'p1.x': 0 });
    expect(counts(plan, 'p1', 5)).toEqual({ n: [0], s: [0] });
    expect(() => inputDependence(plan, 'p1', 0)).toThrow(RangeError);
  });

  it('is fast on wide plans: 10^7 multiplications (power, 10^6 wide) and median of 2000', async () => {
    // No timing assertion (shared machine); the figures are in the report. This checks the
    // wide paths give the right answer: squarings keep one element each, a median all.
    const { plan: power } = await compileFile('circuits/power.ts', new Map([['p1.x', 1_000_000]]));
    expect(inputDependence(power, 'p1', 5)[0]).toMatchObject({ min: 1, length: 1_000_000 });
    const { plan: median } = await compileFile('circuits/median.ts', new Map([['p1.v', 1000], ['p2.v', 1000]]));
    expect(inputDependence(median, 'p1', 5)[0]).toMatchObject({ min: 5 });
    expect(inputDependence(median, 'p2', 5000)[0]).toMatchObject({ min: 1000 });
    expect(inputDependence(median, 'p2', 300, { compactAfter: 1 << 16 })[0]).toMatchObject({ min: 300 });
  });
});

describe('planFacts', () => {
  it('counts multiplications from the layers, rounds, inputs per party and recipients', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y');
      c.reveal('d', x.mul(y).mul(y).sum(), { to: ['analyst', 'p2'] });
      c.reveal('n', c.scalar('p1', 'k'));
    }, { 'p1.x': 3, 'p2.y': 3 });
    const bytes = encodePlan(plan).byteLength;
    expect(planFacts(plan, bytes)).toEqual({
      multiplications: 6,
      rounds: 2,
      planBytes: bytes,
      inputs: { p1: ['x', 'k'], p2: ['y'] },
      recipients: [
        { output: 'd', to: ['analyst', 'p2'] },
        { output: 'n', to: ['analyst'] },
      ],
    });
  });
});

// ---- the brute-force reference ----

/** Per wire, per element, the set of the party's element ids it depends on. */
function referenceCounts(plan: Plan, party: string): Record<string, number[]> {
  const w: Set<number>[][] = [];
  let next = 0;
  for (const i of plan.inputs) {
    w[i.wire] = Array.from({ length: i.length }, () => (i.party === party ? new Set([next++]) : new Set<number>()));
  }
  for (const c of plan.constants) w[c.wire] = Array.from({ length: plan.wireLength[c.wire] }, () => new Set<number>());
  const at = (wire: number, i: number): Set<number> => w[wire][w[wire].length === 1 ? 0 : i];
  const union = (...sets: Set<number>[]): Set<number> => new Set(sets.flatMap((s) => [...s]));
  const binary = (out: number, a: number, b: number) =>
    (w[out] = Array.from({ length: plan.wireLength[out] }, (_, i) => union(at(a, i), at(b, i))));
  for (const layer of plan.layers) {
    for (const g of layer.muls) binary(g.out, g.a, g.b);
    for (const g of layer.opens) w[g.out] = w[g.a];
    for (const op of layer.local) {
      const L = plan.wireLength[op.out];
      switch (op.op) {
        case 'add':
        case 'sub':
        case 'mul':
          binary(op.out, op.a, op.b);
          break;
        case 'neg':
          w[op.out] = w[op.a];
          break;
        case 'sum':
          w[op.out] = [union(...w[op.a])];
          break;
        case 'slice':
          w[op.out] = w[op.a].slice(op.start, op.end);
          break;
        case 'concat':
          w[op.out] = op.parts.flatMap((p) => w[p]);
          break;
        case 'gather':
          w[op.out] = [...gatherIndex(op.index)].flatMap((b) => w[op.a].slice(b * op.block, (b + 1) * op.block));
          break;
        case 'bits':
          w[op.out] = Array.from({ length: op.count }, () => w[op.a]).flat();
          break;
        case 'pack':
          w[op.out] = Array.from({ length: L }, (_, j) => union(...Array.from({ length: op.count }, (_, i) => w[op.a][i * L + j])));
          break;
        case 'rand':
          w[op.out] = Array.from({ length: L }, () => new Set<number>());
          break;
      }
    }
  }
  return Object.fromEntries(plan.outputs.map((o) => [o.name, w[o.wire].map((s) => s.size)]));
}

/** One step of a random circuit: an op kind and three numbers that pick operands and parameters. */
type Step = [number, number, number, number];

function randomCircuit(steps: Step[], reveals: number[]) {
  return (c: CircuitBuilder): void => {
    const pool: Value[] = [c.vector('p1', 'x'), c.vector('p1', 'u'), c.vector('p2', 'y'), c.scalar('p1', 's'), c.scalar('p2', 't')];
    const pick = (k: number): Value => pool[k % pool.length];
    // A partner for `a` of a compatible length (a scalar always is).
    const partner = (a: Value, k: number): Value => {
      const ok = pool.filter((v) => v.isScalar || a.isScalar || v.length === a.length);
      return ok[k % ok.length];
    };
    for (const [kind, i, j, p] of steps) {
      const a = pick(i);
      switch (kind % 10) {
        case 0:
          pool.push(a.add(partner(a, j)));
          break;
        case 1:
          pool.push(a.sub(partner(a, j)));
          break;
        case 2:
          pool.push(a.mul(partner(a, j)));
          break;
        case 3:
          pool.push(a.mul(p % 3).neg());
          break;
        case 4:
          pool.push(a.sum());
          break;
        case 5: {
          const s = j % (a.length + 1);
          pool.push(a.slice(s, s + (p % (a.length - s + 1))));
          break;
        }
        case 6:
          pool.push(c.concat([a, pick(j)]));
          break;
        case 7:
          if (a.length > 0) pool.push(c.primGather(a, Array.from({ length: 1 + (p % 4) }, (_, t) => (j + t * p) % a.length)));
          break;
        case 8:
          if (a.length === 0) break;
          if (i % 3 === 0) pool.push(a.lt(partner(a, j))); // open, bits, pack, rand
          else pool.push(a.get(j % a.length).add(1));
          break;
        case 9:
          pool.push(c.constant(Array.from({ length: a.length }, (_, t) => t)).mul(a));
          break;
      }
    }
    const shown = new Set<number>();
    reveals.forEach((r) => shown.add(pool.length - 1 - (r % Math.min(pool.length, 6))));
    [...shown].forEach((k, n) => c.reveal(`o${n}`, pool[k], n % 2 === 0 ? {} : { to: ['analyst', 'p1'] }));
  };
}

describe('inputDependence against a brute-force reference', () => {
  it('random circuits over every op kind, every cap', () => {
    const step = fc.tuple(fc.nat(9), fc.nat(50), fc.nat(50), fc.nat(50));
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }),
        fc.nat(4),
        fc.nat(3),
        (steps, reveals, nx, ny) => {
          // p1.x and p2.y share a length so that they combine; p1.u is another.
          const { plan } = compileInline(['p1', 'p2'], randomCircuit(steps, reveals), { 'p1.x': nx, 'p1.u': ny + 1, 'p2.y': nx });
          for (const party of ['p1', 'p2']) {
            const ref = referenceCounts(plan, party);
            for (const cap of [1, 2, 3, 4, 1000]) {
              // Compaction of the shared rows after every op, or never (the default here).
              const compactAfter = cap === 3 ? 0 : undefined;
              for (const o of inputDependence(plan, party, cap, { compactAfter })) {
                const want = ref[o.name].map((n) => Math.min(n, cap));
                expect(Array.from(o.counts), `${party} cap ${cap} ${o.name}`).toEqual(want);
                const nonzero = want.filter((n) => n > 0);
                expect(o.min).toBe(nonzero.length === 0 ? 0 : Math.min(...nonzero));
                if (o.min > 0) expect(want[o.at!]).toBe(o.min);
              }
            }
          }
        },
      ),
      { numRuns: 150, seed: 20240611 },
    );
  });
});
