// The preprocessing schedule every suite derives from a plan (plan.ts prepSteps) must match
// what the executor consumes, piece by piece — including `rand` draws longer than one piece.
import { describe, expect, it } from 'vitest';
import { circuit } from '../../src/circuit/index.ts';
import { compileLoaded } from '../../src/compiler/load.ts';
import { MUL_CHUNK, prepSteps } from '../../src/compiler/plan.ts';
import { runLocal } from '../../src/coordinator/local.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { SECURITY_LEVELS, suiteFor } from '../../src/protocol/suites.ts';

const def = circuit({ name: 'wide-compare', parties: ['p1', 'p2'] }, (c) => {
  const a = c.vector('p1', 'a');
  c.reveal('less', a.lt(c.vector('p2', 'b', { length: a.length })).sum());
});

describe('preprocessing steps', () => {
  // 5000 comparisons draw 5000·64 = 320 000 random bits: two pieces.
  const n = 5000;
  const { plan } = compileLoaded({ definition: def, file: 'wide-compare' }, new Map([['p1.a', n], ['p2.b', n]]));

  it('cuts every draw, opening and multiplication batch into pieces of at most MUL_CHUNK', () => {
    const steps = prepSteps(plan);
    expect(steps.every((s) => s.length <= MUL_CHUNK)).toBe(true);
    const bits = steps.filter((s) => s.kind === 'rand' && s.bits === 1);
    expect(bits.map((s) => s.length)).toEqual([MUL_CHUNK, 64 * n - MUL_CHUNK]);
    expect(steps.filter((s) => s.kind === 'open').reduce((t, s) => t + s.length, 0)).toBe(n);
  });

  it.each(SECURITY_LEVELS)('runs a draw of several pieces (%s)', async (security) => {
    const a = Array.from({ length: n }, (_, i) => i - 2000);
    const b = Array.from({ length: n }, (_, i) => 3000 - i);
    const res = await runLocal(plan, { p1: { a }, p2: { b } }, { suite: suiteFor(security) });
    expect(formatOutputs(plan, res.analyst, 'analyst')).toEqual({ less: a.filter((x, i) => x < b[i]).length });
  });
});
