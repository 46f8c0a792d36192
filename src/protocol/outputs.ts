/**
 * Turning output values into what users see: signed integers (JSON numbers within ±2^53,
 * decimal strings beyond, per ARCHITECTURE.md §6), fixed-point values as JSON numbers
 * (exact: v / 2^frac), vectors as arrays, and derived outputs.
 * @module
 */
import { decodeFixed, decodeInt, fixedToDecimal, toJsonInt } from '../ring/encoding.ts';
import type { Plan } from '../compiler/plan.ts';
import { evaluateDerived } from '../circuit/derived.ts';

export type OutputValue = number | string | null | (number | string | null)[];

/**
 * The outputs `recipient` may see, formatted, plus the derived outputs it can compute.
 * `values` may hold more outputs than the recipient is owed; only its own are returned.
 */
export function formatOutputs(plan: Plan, values: Record<string, BigUint64Array>, recipient: string): Record<string, OutputValue> {
  const out: Record<string, OutputValue> = {};
  const signed: Record<string, bigint | string | (bigint | string)[]> = {};
  for (const o of plan.outputs) {
    const v = values[o.name];
    if (!o.to.includes(recipient) || !v) continue;
    if (o.frac > 0) {
      out[o.name] = o.scalar ? decodeFixed(v[0], o.frac) : Array.from(v, (x) => decodeFixed(x, o.frac));
      signed[o.name] = o.scalar ? fixedToDecimal(v[0], o.frac) : Array.from(v, (x) => fixedToDecimal(x, o.frac));
    } else {
      out[o.name] = o.scalar ? toJsonInt(v[0]) : Array.from(v, (x) => toJsonInt(x));
      signed[o.name] = o.scalar ? decodeInt(v[0]) : Array.from(v, (x) => decodeInt(x));
    }
  }
  const derived = plan.derived.filter((d) => d.to.includes(recipient) && d.uses.every((u) => u in signed));
  Object.assign(out, evaluateDerived(derived, signed));
  return out;
}
