// Shared test helpers: compile an inline circuit, BigInt reference arithmetic.
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
