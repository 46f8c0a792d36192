// Shared test helpers: compile an inline circuit, BigInt reference arithmetic.
import fc from 'fast-check';
import { circuit, type CircuitBody } from '../src/circuit/index.ts';
import { compileLoaded } from '../src/compiler/load.ts';
import type { Plan } from '../src/compiler/plan.ts';

export const M64 = (1n << 64n) - 1n;
/** Signed value of a ring element, as the reference computes it. */
export const signed = (u: bigint): bigint => BigInt.asIntN(64, u);

export function compileInline(
  parties: string[],
  body: CircuitBody,
  shapes: Record<string, number> = {},
  name = 'inline',
): { plan: Plan; hash: string } {
  const definition = circuit({ name, parties }, body);
  return compileLoaded({ definition, file: 'test/inline.ts' }, new Map(Object.entries(shapes)));
}

/** Check `prop(n)` for 2, 3 and 5 computing parties, `runs` random cases each (no shrinking: jobs are slow). */
export async function forParties(runs: number, seed: number, prop: (n: number) => fc.IAsyncProperty<any>): Promise<void> {
  for (const n of [2, 3, 5]) {
    try {
      await fc.assert(prop(n), { numRuns: runs, seed: seed + n, endOnFailure: true });
    } catch (e) {
      (e as Error).message = `with ${n} computing parties: ${(e as Error).message}`;
      throw e;
    }
  }
}
