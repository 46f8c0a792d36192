// Property: for random circuits, random inputs and random input owners, the n-party
// protocol (n = 2, 3, 5) over the in-memory transport outputs exactly what a BigInt
// reference computes directly from the same program — under both suites — and so does
// the plaintext evaluator. Nobody but a recipient learns an output.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluateClear } from '../../src/circuit/clear.ts';
import { encodePartyInputs } from '../../src/protocol/inputs.ts';
import { runLocal } from '../../src/coordinator/local.ts';
import { suiteFor, SECURITY_LEVELS } from '../../src/protocol/suites.ts';
import { build, programArb, smallOrBig } from './programs.ts';

describe.each(SECURITY_LEVELS)('random circuits: MPC = plaintext reference (%s)', (security) => {
  it('for n = 2, 3, 5 parties, analyst and party recipients', async () => {
    await fc.assert(
      fc.asyncProperty(programArb(), fc.infiniteStream(smallOrBig), async (p, values) => {
        const it = values[Symbol.iterator]();
        const b = build(p, () => it.next().value as bigint);
        const clearInputs = new Map<number, BigUint64Array>();
        for (const q of b.parties) for (const [w, v] of encodePartyInputs(b.plan, q, b.raw[q], 'raw')) clearInputs.set(w, v);
        const clear = evaluateClear(b.plan, clearInputs);
        const mpc = await runLocal(b.plan, b.raw, { suite: suiteFor(security) });
        for (const [name, want] of Object.entries(b.ref)) {
          expect(Array.from(clear[name]), `${name} (clear)`).toEqual(want);
          for (const to of b.recipients[name]) {
            const got = to === 'analyst' ? mpc.analyst[name] : mpc.perParty[b.parties.indexOf(to)].values[name];
            expect(Array.from(got), `${name} → ${to}`).toEqual(want);
          }
          mpc.perParty.forEach((r, i) => {
            if (!b.recipients[name].includes(b.parties[i])) expect(r.values[name]).toBeUndefined();
          });
        }
      }),
      { numRuns: security === 'malicious' ? 100 : 150, seed: 0x7e55e7a },
    );
  });
});
