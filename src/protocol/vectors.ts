/**
 * Shape helpers shared by the executor and the plaintext evaluator: plan ops broadcast a
 * length-1 operand against a vector.
 * @module
 */
import * as z64 from '../ring/z64.ts';

/** `v` itself when it already has `length` elements, else its single element repeated. */
export function broadcast(v: BigUint64Array, length: number): BigUint64Array {
  return v.length === length ? v : z64.fill(length, v[0]);
}

/** Elementwise a ∘ b over Z_2^64 with scalar broadcast. */
export function elementwise(op: 'add' | 'sub' | 'mul', a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  if (a.length === b.length) return op === 'add' ? z64.add(a, b) : op === 'sub' ? z64.sub(a, b) : z64.mul(a, b);
  // A scalar against a vector (of any length, including 0).
  if (a.length === 1) {
    if (op === 'add') return z64.addScalar(b, a[0]);
    if (op === 'mul') return z64.mulScalar(b, a[0]);
    return z64.scalarSub(a[0], b);
  }
  if (b.length !== 1) throw new RangeError(`elementwise ${op}: lengths ${a.length} and ${b.length}`);
  if (op === 'add') return z64.addScalar(a, b[0]);
  if (op === 'mul') return z64.mulScalar(a, b[0]);
  return z64.addScalar(a, -b[0] & z64.MASK64);
}

/** Constant wires of a plan, decoded. */
export function constantValues(bytes: Uint8Array): BigUint64Array {
  const out = new BigUint64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
