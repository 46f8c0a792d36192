/**
 * Vector helpers shared by the executor, the plaintext evaluator and the compiler's
 * constant folding: plan ops broadcast a length-1 operand against a vector, and every local
 * op has one clear-value implementation here (`evalLocal`).
 * @module
 */
import * as z64 from '../ring/z64.ts';
import { gatherIndex, type LocalOp } from '../compiler/plan.ts';
import { D64, type Domain } from './domain.ts';

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

/** Concatenation (the part itself when there is one). */
export function concat64(parts: readonly BigUint64Array[]): BigUint64Array {
  if (parts.length === 1) return parts[0];
  const out = new BigUint64Array(parts.reduce((t, v) => t + v.length, 0));
  let off = 0;
  for (const v of parts) {
    out.set(v, off);
    off += v.length;
  }
  return out;
}

/** Block i of the result is block index[i] of v (blocks of `block` elements). */
export function gather64(v: BigUint64Array, index: Uint32Array, block = 1): BigUint64Array {
  if (block === 1) {
    const out = new BigUint64Array(index.length);
    for (let i = 0; i < index.length; i++) out[i] = v[index[i]];
    return out;
  }
  const out = new BigUint64Array(index.length * block);
  for (let i = 0; i < index.length; i++) out.set(v.subarray(index[i] * block, (index[i] + 1) * block), i * block);
  return out;
}

/** Bits from … from+count−1 of each element, bit-major: bit from+i of element j at i·L + j. */
export function bits64(v: BigUint64Array, from: number, count: number): BigUint64Array {
  const L = v.length;
  const out = new BigUint64Array(count * L);
  for (let i = 0; i < count; i++) {
    const sh = BigInt(from + i);
    for (let j = 0; j < L; j++) out[i * L + j] = (v[j] >> sh) & 1n;
  }
  return out;
}

/** Σ_i 2^(shift+i)·v[i·L … (i+1)·L) mod 2^64 for `count` digits of L elements (the inverse of bits64). */
export function pack64(v: BigUint64Array, count: number, shift: number): BigUint64Array {
  const L = v.length / count;
  const out = new BigUint64Array(L);
  for (let i = 0; i < count; i++) {
    const sh = BigInt(shift + i);
    for (let j = 0; j < L; j++) out[j] = (out[j] + (v[i * L + j] << sh)) & z64.MASK64;
  }
  return out;
}

/**
 * Evaluate a local op on values held in the clear: public wires at run time, every wire in
 * the plaintext evaluator, constants at compile time; over any value domain. `rand` is not
 * a function of its operands and is handled by the caller.
 */
export function evalLocalIn<V>(D: Domain<V>, op: Exclude<LocalOp, { op: 'rand' }>, get: (wire: number) => V): V {
  switch (op.op) {
    case 'add':
    case 'sub':
    case 'mul':
      return D.elementwise(op.op, get(op.a), get(op.b));
    case 'neg':
      return D.neg(get(op.a));
    case 'sum':
      return D.sum(get(op.a));
    case 'slice':
      return D.slice(get(op.a), op.start, op.end);
    case 'concat':
      return D.concat(op.parts.map(get));
    case 'gather':
      return D.gather(get(op.a), gatherIndex(op.index), op.block);
    case 'bits':
      return D.bits(get(op.a), op.from, op.count);
    case 'pack':
      return D.pack(get(op.a), op.count, op.shift);
  }
}

/** `evalLocalIn` over Z_2^64. */
export function evalLocal(op: Exclude<LocalOp, { op: 'rand' }>, get: (wire: number) => BigUint64Array): BigUint64Array {
  return evalLocalIn(D64, op, get);
}
