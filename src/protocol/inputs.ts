/**
 * Binding a party's raw input values (from an inputs file or a dataset) to a plan's input
 * wires, and reading input shapes back from raw values. Errors name the source, the party
 * and the input.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { decodeFixed, encodeFixed, encodeInt, encodeIntVector } from '../ring/encoding.ts';
import type { Plan, PlanInput } from '../compiler/plan.ts';
import type { Z128Vec } from '../ring/z128.ts';
import { D128 } from './domain.ts';

/** Raw inputs: party → input name → integer or integer array (numbers or decimal strings). */
export type RawInputs = Record<string, Record<string, unknown>>;

function inputError(source: string, message: string, cause?: unknown): MpcError {
  return new MpcError(ErrorCode.INPUT, `${source}: ${message}`, cause === undefined ? {} : { cause });
}

/** Check the overall shape of an inputs object: party → name → value. */
export function checkRawInputs(raw: unknown, source: string): RawInputs {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw inputError(source, 'expected an object { "<party>": { "<input>": value | [values] } }');
  }
  for (const [party, m] of Object.entries(raw)) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw inputError(source, `${party}: expected an object of named inputs, got ${Array.isArray(m) ? 'an array' : JSON.stringify(m)}`);
    }
  }
  return raw as RawInputs;
}

/** Vector lengths as the compiler wants them: `party.name` → length. */
export function shapesOf(raw: RawInputs): Map<string, number> {
  const shapes = new Map<string, number>();
  for (const [party, m] of Object.entries(raw)) {
    for (const [name, v] of Object.entries(m)) if (Array.isArray(v)) shapes.set(`${party}.${name}`, v.length);
  }
  return shapes;
}

/**
 * One element of an input: an integer, or a fixed-point number (`frac` > 0), inside the
 * range the circuit declared for it. The range is the circuit's promise to the comparison,
 * division and square-root operations; an honest node refuses to break it.
 */
export function encodeElement(i: PlanInput, v: unknown, name: string, ring: 64 | 128 = 64): bigint {
  // Integers are signed 64-bit values in either domain, embedded with their sign.
  const u = i.frac > 0 ? encodeFixed(v, i.frac, name, ring) : BigInt.asUintN(ring, BigInt.asIntN(64, encodeInt(v, name)));
  const real = i.frac > 0 ? decodeFixed(u, i.frac, ring) : Number(BigInt.asIntN(ring, u));
  if ((i.min !== undefined && real < i.min) || (i.max !== undefined && real > i.max)) {
    throw new RangeError(`${name}: ${String(v)} is outside the declared range [${i.min ?? '-∞'}, ${i.max ?? '∞'}]`);
  }
  return u;
}

/**
 * Encode `party`'s values for every input the plan expects from it. Missing inputs, extra
 * inputs, wrong lengths and non-integers are errors naming `source` and `party.input[i]`.
 */
export function encodePartyInputs<V = BigUint64Array>(plan: Plan, party: string, values: Record<string, unknown> | undefined, source: string): Map<number, V> {
  const wanted = plan.inputs.filter((i) => i.party === party);
  const ring = plan.ring ?? 64;
  const out = new Map<number, BigUint64Array | Z128Vec>();
  const given = values ?? {};
  for (const name of Object.keys(given)) {
    if (!wanted.some((i) => i.name === name)) {
      throw inputError(source, `${party}.${name} is not an input of circuit ${plan.circuit} (${party}'s inputs: ${wanted.map((i) => i.name).join(', ') || 'none'})`);
    }
  }
  for (const i of wanted) {
    const key = `${party}.${i.name}`;
    const v = given[i.name];
    if (v === undefined) throw inputError(source, `missing input ${key}`);
    try {
      if (i.scalar) {
        if (Array.isArray(v)) throw inputError(source, `${key} is a scalar, got an array of ${v.length}`);
        out.set(i.wire, ring === 128 ? D128.fromBigints([encodeElement(i, v, `input ${key}`, ring)]) : BigUint64Array.of(encodeElement(i, v, `input ${key}`)));
      } else {
        if (!Array.isArray(v)) throw inputError(source, `${key} is a vector: expected an array, got ${JSON.stringify(v)}`);
        if (v.length !== i.length) throw inputError(source, `${key}: expected ${i.length} elements (the job's shape), got ${v.length}`);
        if (ring === 128) out.set(i.wire, D128.fromBigints(v.map((x, k) => encodeElement(i, x, `input ${key}[${k}]`, ring))));
        else out.set(i.wire, i.frac === 0 && i.min === undefined && i.max === undefined ? encodeIntVector(v, `input ${key}`) : BigUint64Array.from(v, (x, k) => encodeElement(i, x, `input ${key}[${k}]`)));
      }
    } catch (e) {
      if (e instanceof MpcError) throw e;
      throw inputError(source, (e as Error).message, e);
    }
  }
  // The vector type follows the plan's ring; the caller names it.
  return out as Map<number, V>;
}
