/**
 * The plaintext evaluator: runs a plan on values in the clear. It is the oracle every
 * protocol test compares against, and what `mpc run --security none` would be if we had it
 * (we do not: it would defeat the point). Same plan, same wire semantics, no secrecy.
 * @module
 */
import * as z64 from '../ring/z64.ts';
import type { Plan } from '../compiler/plan.ts';
import { constantValues, elementwise } from '../protocol/vectors.ts';

/**
 * Evaluate `plan` on clear inputs (wire → values, as produced by `encodeInputs`) and
 * return each output's values by name.
 */
export function evaluateClear(plan: Plan, inputs: ReadonlyMap<number, BigUint64Array>): Record<string, BigUint64Array> {
  const w = new Array<BigUint64Array>(plan.wireLength.length);
  for (const i of plan.inputs) {
    const v = inputs.get(i.wire);
    if (!v || v.length !== i.length) throw new RangeError(`input ${i.party}.${i.name}: expected ${i.length} elements, got ${v?.length}`);
    w[i.wire] = v;
  }
  for (const c of plan.constants) w[c.wire] = constantValues(c.values);
  for (const layer of plan.layers) {
    for (const g of layer.muls) w[g.out] = elementwise('mul', w[g.a], w[g.b]);
    for (const op of layer.local) {
      if (!('b' in op)) {
        w[op.out] = op.op === 'neg' ? z64.neg(w[op.a]) : BigUint64Array.of(z64.sum(w[op.a]));
      } else {
        w[op.out] = elementwise(op.op, w[op.a], w[op.b]);
      }
    }
  }
  const out: Record<string, BigUint64Array> = {};
  for (const o of plan.outputs) out[o.name] = w[o.wire];
  return out;
}
