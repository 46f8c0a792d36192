/**
 * The graph a circuit builds: nodes in creation order, each referring to earlier nodes by
 * index. This is the contract between the DSL (builder.ts) and the compiler; it holds no
 * protocol detail. Every node remembers where in the circuit file it was made, so the
 * compiler can point at the offending line.
 * @module
 */

/** Where in the circuit's source a node was created, e.g. `circuits/sum.ts:7:21`. */
export type Site = string | undefined;

export type NodeOp = 'input' | 'const' | 'add' | 'sub' | 'mul' | 'neg' | 'sum';

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
export type GraphNode = InputNode | ConstNode | BinaryNode | UnaryNode;

export interface Reveal {
  name: string;
  node: number;
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
  nodes: GraphNode[];
  reveals: Reveal[];
  derived: Derived[];
}
