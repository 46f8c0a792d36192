/**
 * The plaintext evaluator: runs a plan on values in the clear. It is the oracle every
 * protocol test compares against, and what `mpc run --security none` would be if we had it
 * (we do not: it would defeat the point). Same plan, same wire semantics, no secrecy.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { maskBits } from '../ring/z64.ts';
import type { Plan } from '../compiler/plan.ts';
import { constantValues, elementwise, evalLocal } from '../protocol/vectors.ts';

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
    for (const g of layer.opens) w[g.out] = w[g.a];
    for (const op of layer.local) {
      // Any value in range will do for a random draw: the circuit's result must not depend on it.
      w[op.out] = op.op === 'rand' ? randomBelow(op.bits, plan.wireLength[op.out]) : evalLocal(op, (x) => w[x]);
    }
  }
  const out: Record<string, BigUint64Array> = {};
  for (const o of plan.outputs) out[o.name] = w[o.wire];
  return out;
}

/** Uniform integers in [0, 2^bits). */
function randomBelow(bits: number, length: number): BigUint64Array {
  const out = new BigUint64Array(length);
  new Uint8Array(out.buffer).set(randomBytes(8 * length));
  return maskBits(out, bits);
}
