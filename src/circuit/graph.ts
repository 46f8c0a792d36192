/**
 * The graph a circuit builds: nodes in creation order, each referring to earlier nodes by
 * index. This is the contract between the DSL (builder.ts) and the compiler; it holds no
 * protocol detail. Every node remembers where in the circuit file it was made, so the
 * compiler can point at the offending line.
 * @module
 */

/** Where in the circuit's source a node was created, e.g. `circuits/sum.ts:7:21`. */
export type Site = string | undefined;

export type NodeOp = GraphNode['op'];

interface NodeBase {
  /** Number of elements; a scalar has length 1. */
  length: number;
  /** Scalars broadcast against vectors; a length-1 vector does not. */
  scalar: boolean;
  site: Site;
}

export interface InputNode extends NodeBase {
  op: 'input';
  party: string;
  name: string;
  /** Fractional bits: 0 for integers, FRAC_BITS for fixed-point inputs. */
  frac: number;
  /** Declared range of the real values, checked by the owner's node. */
  min?: number;
  max?: number;
}
export interface ConstNode extends NodeBase {
  op: 'const';
  /** Values reduced mod 2^64. */
  values: bigint[];
}
export interface BinaryNode extends NodeBase {
  op: 'add' | 'sub' | 'mul';
  a: number;
  b: number;
}
export interface UnaryNode extends NodeBase {
  op: 'neg' | 'sum';
  a: number;
}
/**
 * The building blocks of the non-linear library (src/circuit/lib): never written by circuit
 * authors directly, except the index ops (slice, concat, gather), which are harmless.
 * - `open`: reveal a secret to every computing party. The library only opens values masked
 *   by a uniformly random `rand`, so an opening discloses nothing (see lib/bits.ts).
 * - `rand`: a shared uniformly random integer in [0, 2^bits) per element, from preprocessing.
 * - `bits`: of a public vector, bits `from` … `from + count − 1` of every element, bit-major
 *   (bit from+i of element j at i·L + j).
 * - `pack`: Σ_i 2^(shift+i) · a[i·L … (i+1)·L) for a vector of count·L elements: the
 *   inverse layout of `bits` (linear, so it works on shares).
 */
export interface OpenNode extends NodeBase {
  op: 'open';
  a: number;
}
export interface RandNode extends NodeBase {
  op: 'rand';
  bits: number;
}
export interface BitsNode extends NodeBase {
  op: 'bits';
  a: number;
  from: number;
  count: number;
}
export interface PackNode extends NodeBase {
  op: 'pack';
  a: number;
  count: number;
  shift: number;
}
export interface SliceNode extends NodeBase {
  op: 'slice';
  a: number;
  start: number;
  end: number;
}
export interface GatherNode extends NodeBase {
  op: 'gather';
  a: number;
  /** Block i of the result is block index[i] of `a`, blocks of `block` elements. */
  index: Uint32Array;
  block: number;
}
export interface ConcatNode extends NodeBase {
  op: 'concat';
  parts: number[];
}
export type GraphNode =
  | InputNode
  | ConstNode
  | BinaryNode
  | UnaryNode
  | OpenNode
  | RandNode
  | BitsNode
  | PackNode
  | SliceNode
  | GatherNode
  | ConcatNode;

/** The nodes a node reads, in operand order. */
export function operandsOf(n: GraphNode): number[] {
  switch (n.op) {
    case 'input':
    case 'const':
    case 'rand':
      return [];
    case 'add':
    case 'sub':
    case 'mul':
      return [n.a, n.b];
    case 'concat':
      return n.parts;
    default:
      return [n.a];
  }
}

export interface Reveal {
  name: string;
  node: number;
  /** Fractional bits of the value (0: integer). */
  frac: number;
  to: string[];
  site: Site;
}

/** A public function of revealed outputs, evaluated by the recipients (mathjs syntax). */
export interface Derived {
  name: string;
  expr: string;
  /** The revealed outputs the expression reads. */
  uses: string[];
  to: string[];
  site: Site;
}

export interface CircuitGraph {
  name: string;
  /** Source file, for error messages; set by the loader. */
  file: string | undefined;
  parties: string[];
  /** The value domain's bits (Z_2^64 or Z_2^128). */
  ring: 64 | 128;
  nodes: GraphNode[];
  reveals: Reveal[];
  derived: Derived[];
  /** Elements of each non-linear operation asked for (comparison, truncation, …), for reports. */
  nonlinear: Record<string, number>;
}
