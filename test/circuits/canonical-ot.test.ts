// Every canonical circuit on its example inputs with dealer-free (OT) preprocessing, under
// both suites: the outputs equal the dealer run's, which test/circuits/canonical.test.ts
// checks against plaintext references. `npm test` runs every circuit semi-honest for 2 and 3
// parties, and in malicious mode those a few seconds long (malicious OT random bits cost n
// authenticated inputs and n sacrificed triples each, so comparison-heavy circuits take tens
// of seconds); `npm run test:slow` (MPC_SLOW=1) runs every circuit in both modes for 2, 3 and
// 5 parties. The `workers` project skips this file: OT material never touches the kernels.
// Fixed-point outputs may differ in their last bits (truncation rounds stochastically on
// the masks, which differ between the runs), so they are compared to within 2^-10 relative.
// The base OTs are the test double (test/preprocessing/ot/helpers.ts); the CLI test
// (test/cli/ot.test.ts) runs the real ones between node processes.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { compileFile } from '../../src/compiler/load.ts';
import { runLocal } from '../../src/coordinator/local.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { shapesOf, type RawInputs } from '../../src/protocol/inputs.ts';
import { suiteFor, SECURITY_LEVELS, type SecurityLevel } from '../../src/protocol/suites.ts';
import { insecureBaseOtForTests } from '../preprocessing/ot/helpers.ts';

// These compute in Z_2^128, where OT preprocessing is slow (README "Value domains": a
// malicious wide-stats.ts run takes minutes): a smaller share of them runs.
const WIDE = ['wide-stats.ts', 'regression.ts'];
const circuits = readdirSync('circuits').filter((f) => f.endsWith('.ts') && readdirSync('circuits').includes(f.replace(/\.ts$/, '.inputs.json')));

function close(a: unknown, b: unknown): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length).toBe(b.length);
    a.forEach((x, i) => close(x, b[i]));
  } else if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(b)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
  } else if (typeof a === 'number' && typeof b === 'number' && !(Number.isInteger(a) && Number.isInteger(b))) {
    expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.max(Math.abs(b), 1) * 2 ** -10);
  } else {
    expect(a).toEqual(b);
  }
}

async function outputs(file: string, security: SecurityLevel, n: number, ot: boolean) {
  const raw = JSON.parse(readFileSync(`circuits/${file.replace(/\.ts$/, '.inputs.json')}`, 'utf8')) as RawInputs;
  const { plan } = await compileFile(`circuits/${file}`, shapesOf(raw));
  const parties = [...plan.parties];
  for (let k = 1; parties.length < n; k++) if (!parties.includes(`p${k}`)) parties.push(`p${k}`);
  const res = await runLocal(plan, raw, {
    suite: suiteFor(security, plan.ring ?? 64),
    parties,
    ...(ot ? { preprocessing: 'ot' as const, baseOt: insecureBaseOtForTests } : {}),
  });
  return { out: formatOutputs(plan, res.analyst, 'analyst'), planParties: plan.parties.length };
}

const slow = process.env.MPC_SLOW === '1';

/** Party counts each circuit runs with in this mode (a circuit with more parties skips the smaller counts). */
function partyCounts(file: string, security: SecurityLevel): number[] {
  // wide-stats.ts has three parties of its own; with OT its malicious run takes minutes (README "Value domains").
  if (WIDE.includes(file) && security === 'malicious') return slow && file === 'wide-stats.ts' ? [3] : [];
  if (slow) return [2, 3, 5];
  // 196 357 triples in Z_2^128: about 15 s per run with OT, so only in the slow suite.
  if (file === 'regression.ts') return [];
  if (file === 'wide-stats.ts') return [3];
  if (security === 'semi-honest') return [2, 3];
  if (['histogram.ts', 'max.ts', 'mean-fixed.ts', 'linreg.ts'].includes(file)) return [];
  if (file === 'median.ts') return [2];
  return [2, 3];
}

describe.each(SECURITY_LEVELS)('canonical circuits with OT preprocessing (%s)', (security) => {
  for (const file of circuits) {
    const counts = partyCounts(file, security);
    it.runIf(counts.length > 0)(`${file}: ${counts.join(', ')} parties give the dealer run's outputs`, async () => {
      let compared = 0;
      for (const n of counts) {
        const ref = await outputs(file, security, n, false);
        if (ref.planParties > n) continue;
        const got = await outputs(file, security, n, true);
        close(got.out, ref.out);
        compared++;
      }
      // A count below the circuit's own parties is skipped above; at least one must have run.
      expect(compared).toBeGreaterThan(0);
    }, slow ? 900_000 : 120_000);
  }

  it('inner-product.ts with 5 parties', async () => {
    const ref = await outputs('inner-product.ts', security, 5, false);
    close((await outputs('inner-product.ts', security, 5, true)).out, ref.out);
  }, 120_000);
});
