/**
 * Turning output values into what users see: signed integers (JSON numbers within ±2^53,
 * decimal strings beyond, per ARCHITECTURE.md §6), fixed-point values as JSON numbers
 * (exact: v / 2^frac), vectors as arrays, and derived outputs.
 * @module
 */
import { decodeFixed, decodeInt, fixedToDecimal, toJsonInt } from '../ring/encoding.ts';
import type { Plan } from '../compiler/plan.ts';
import { evaluateDerived } from '../circuit/derived.ts';
import { domainOf, type Domain, type RingVector } from './domain.ts';

export type OutputValue = number | string | null | (number | string | null)[];

/**
 * The outputs `recipient` may see, formatted, plus the derived outputs it can compute.
 * `values` may hold more outputs than the recipient is owed; only its own are returned.
 */
export function formatOutputs(plan: Plan, values: Record<string, RingVector>, recipient: string): Record<string, OutputValue> {
  const out: Record<string, OutputValue> = {};
  const signed: Record<string, bigint | string | (bigint | string)[]> = {};
  const ring = plan.ring ?? 64;
  const D = domainOf(plan) as Domain<RingVector>;
  for (const o of plan.outputs) {
    const v = values[o.name];
    if (!o.to.includes(recipient) || !v) continue;
    const xs = D.toBigints(v);
    if (o.frac > 0) {
      out[o.name] = o.scalar ? decodeFixed(xs[0], o.frac, ring) : xs.map((x) => decodeFixed(x, o.frac, ring));
      signed[o.name] = o.scalar ? fixedToDecimal(xs[0], o.frac, ring) : xs.map((x) => fixedToDecimal(x, o.frac, ring));
    } else {
      out[o.name] = o.scalar ? toJsonInt(xs[0], ring) : xs.map((x) => toJsonInt(x, ring));
      signed[o.name] = o.scalar ? decodeInt(xs[0], ring) : xs.map((x) => decodeInt(x, ring));
    }
  }
  const derived = plan.derived.filter((d) => d.to.includes(recipient) && d.uses.every((u) => u in signed));
  Object.assign(out, evaluateDerived(derived, signed));
  return out;
}
