/**
 * The plaintext evaluator: runs a plan on values in the clear. It is the oracle every
 * protocol test compares against, and what `mpc run --security none` would be if we had it
 * (we do not: it would defeat the point). Same plan, same wire semantics, no secrecy.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Plan } from '../compiler/plan.ts';
import { evalLocalIn } from '../protocol/vectors.ts';
import { domainOf, type Domain } from '../protocol/domain.ts';

/**
 * Evaluate `plan` on clear inputs (wire → values, as produced by `encodePartyInputs`: vectors
 * of the plan's domain) and return each output's values by name.
 */
export function evaluateClear<V = BigUint64Array>(plan: Plan, inputs: ReadonlyMap<number, V>): Record<string, V> {
  const D = domainOf(plan) as unknown as Domain<V>;
  const w = new Array<V>(plan.wireLength.length);
  for (const i of plan.inputs) {
    const v = inputs.get(i.wire);
    if (!v || D.length(v) !== i.length) throw new RangeError(`input ${i.party}.${i.name}: expected ${i.length} elements, got ${v === undefined ? undefined : D.length(v)}`);
    w[i.wire] = v;
  }
  for (const c of plan.constants) w[c.wire] = D.fromBytes(c.values);
  for (const layer of plan.layers) {
    for (const g of layer.muls) w[g.out] = D.elementwise('mul', w[g.a], w[g.b]);
    for (const g of layer.opens) w[g.out] = w[g.a];
    for (const op of layer.local) {
      // Any value in range will do for a random draw: the circuit's result must not depend on it.
      w[op.out] = op.op === 'rand' ? randomBelow(D, op.bits, plan.wireLength[op.out]) : evalLocalIn(D, op, (x) => w[x]);
    }
  }
  const out: Record<string, V> = {};
  for (const o of plan.outputs) out[o.name] = w[o.wire];
  return out;
}

/** Uniform integers in [0, 2^bits). */
function randomBelow<V>(D: Domain<V>, bits: number, length: number): V {
  return D.maskBits(D.fromBytes(randomBytes(D.bytes * length)), bits);
}
