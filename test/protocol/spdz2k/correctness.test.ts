// Correctness of the malicious suite beyond the shared suite-parametrised tests
// (test/protocol/random-circuits.test.ts, test/circuits/canonical.test.ts): it is the
// registered suite, and stays correct with a MAC check after every opening.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { suiteFor } from '../../../src/protocol/suites.ts';
import { createSpdz2k, spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import type { ProtocolSuite } from '../../../src/protocol/suite.ts';
import { build, programArb, smallOrBig } from '../programs.ts';
import { runParties } from './harness.ts';

const malicious = spdz2k as ProtocolSuite<unknown, unknown>;

describe('SPDZ2k', () => {
  it('is the registered malicious suite', () => {
    expect(suiteFor('malicious')).toBe(malicious);
    expect(suiteFor('malicious').name).toBe('malicious');
  });

  it('with a MAC check after every opening (macCheckEvery = 1) and extra parties', async () => {
    const every1 = createSpdz2k({ macCheckEvery: 1 });
    await fc.assert(
      fc.asyncProperty(programArb([2, 3]), fc.infiniteStream(smallOrBig), fc.integer({ min: 0, max: 2 }), async (p, values, extra) => {
        const it = values[Symbol.iterator]();
        const b = build(p, () => it.next().value as bigint);
        const parties = [...b.parties, ...Array.from({ length: extra }, (_, i) => `x${i + 1}`)];
        const res = await runParties(b.plan, b.raw, { suite: every1, parties });
        expect(res.outcomes.every((o) => o.ok)).toBe(true);
        for (const [name, want] of Object.entries(b.ref)) {
          if (b.recipients[name].includes('analyst')) expect(Array.from(res.analyst![name])).toEqual(want);
        }
      }),
      { numRuns: 40, seed: 0x5bd3 },
    );
  });
});
