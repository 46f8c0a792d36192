/**
 * From the DSL's graph to a plan: constant folding and algebraic simplification,
 * common-subexpression elimination (hash-consing), dead-code elimination, and layering by
 * multiplicative depth so that every secret × secret multiplication of a layer, however
 * wide, shares one communication round. Linear ops and products with public values stay
 * local. Vectors stay whole: a layer's batch is the concatenation of its gates' vectors.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { MASK64 } from '../ring/z64.ts';
import type { CircuitGraph, GraphNode, Site } from '../circuit/graph.ts';
import { checkDerived } from '../circuit/derived.ts';
import {
  PLAN_FORMAT,
  type LocalOp,
  type MulGate,
  type Plan,
  type PlanLayer,
  type PlanStats,
  multiplicationBatches,
} from './plan.ts';

interface Folded {
  node: GraphNode;
  secret: boolean;
}

function circuitError(graph: CircuitGraph, site: Site, message: string): MpcError {
  return new MpcError(ErrorCode.CIRCUIT, `${site ?? graph.file ?? `circuit ${graph.name}`}: ${message}`);
}

function at(values: bigint[], i: number): bigint {
  return values.length === 1 ? values[0] : values[i];
}

/** Evaluate an op over public constants, mod 2^64, broadcasting length-1 operands. */
function foldConst(op: GraphNode['op'], a: bigint[], b: bigint[] | undefined, length: number): bigint[] {
  if (op === 'sum') return [a.reduce((s, x) => (s + x) & MASK64, 0n)];
  if (op === 'neg') return a.map((x) => (-x) & MASK64);
  const out = new Array<bigint>(length);
  for (let i = 0; i < length; i++) {
    const x = at(a, i);
    const y = at(b!, i);
    out[i] = (op === 'add' ? x + y : op === 'sub' ? x - y : x * y) & MASK64;
  }
  return out;
}

const allEqual = (v: bigint[], k: bigint): boolean => v.every((x) => x === k);

/**
 * Compile a built circuit graph into a plan. Throws MpcError CIRCUIT naming the circuit
 * file (and line where known) for circuits that reveal nothing or are otherwise unusable.
 */
export function compileGraph(graph: CircuitGraph): Plan {
  if (graph.reveals.length === 0) {
    throw circuitError(graph, graph.file, `circuit ${graph.name} reveals nothing: call c.reveal(name, value) at least once`);
  }
  checkDerived(graph);

  // Pass 1: fold constants, simplify, hash-cons. `map[i]` is the new index of old node i.
  const nodes: Folded[] = [];
  const map = new Array<number>(graph.nodes.length);
  const seen = new Map<string, number>();
  const intern = (key: string, f: Folded): number => {
    const hit = seen.get(key);
    if (hit !== undefined) return hit;
    nodes.push(f);
    seen.set(key, nodes.length - 1);
    return nodes.length - 1;
  };
  const constant = (values: bigint[], scalar: boolean, site: Site): number =>
    intern(`c:${scalar ? 's' : 'v'}:${values.join(',')}`, {
      node: { op: 'const', values, length: values.length, scalar, site },
      secret: false,
    });
  const sameShape = (i: number, n: GraphNode): boolean =>
    nodes[i].node.length === n.length && nodes[i].node.scalar === n.scalar;

  graph.nodes.forEach((n, i) => {
    if (n.op === 'input') {
      map[i] = intern(`i:${n.party}.${n.name}`, { node: n, secret: true });
      return;
    }
    if (n.op === 'const') {
      map[i] = constant(n.values, n.scalar, n.site);
      return;
    }
    const a = map[n.a];
    const b = n.op === 'neg' || n.op === 'sum' ? undefined : map[(n as { b: number }).b];
    const A = nodes[a];
    const B = b === undefined ? undefined : nodes[b];
    const constOf = (f: Folded | undefined): bigint[] | undefined =>
      f && f.node.op === 'const' ? f.node.values : undefined;
    const ca = constOf(A);
    const cb = constOf(B);
    if (ca && (B === undefined || cb)) {
      map[i] = constant(foldConst(n.op, ca, cb, n.length), n.scalar, n.site);
      return;
    }
    // Identities that remove work without changing the result's shape.
    if (n.op === 'add' || n.op === 'sub') {
      if (cb && allEqual(cb, 0n) && sameShape(a, n)) return void (map[i] = a);
      if (n.op === 'add' && ca && allEqual(ca, 0n) && sameShape(b!, n)) return void (map[i] = b!);
      if (n.op === 'sub' && a === b) return void (map[i] = constant(new Array(n.length).fill(0n), n.scalar, n.site));
    }
    if (n.op === 'mul') {
      if ((ca && allEqual(ca, 0n)) || (cb && allEqual(cb, 0n))) {
        return void (map[i] = constant(new Array(n.length).fill(0n), n.scalar, n.site));
      }
      if (cb && allEqual(cb, 1n) && sameShape(a, n)) return void (map[i] = a);
      if (ca && allEqual(ca, 1n) && sameShape(b!, n)) return void (map[i] = b!);
    }
    if (n.op === 'neg' && A.node.op === 'neg') return void (map[i] = A.node.a);
    // Commutative ops are keyed with sorted operands so a·b and b·a share one gate.
    const [x, y] = (n.op === 'add' || n.op === 'mul') && b !== undefined && b < a ? [b, a] : [a, b];
    const key = `${n.op}:${x}:${y ?? ''}:${n.scalar ? 's' : 'v'}`;
    const node = (y === undefined ? { ...n, a: x } : { ...n, a: x, b: y }) as GraphNode;
    map[i] = intern(key, { node, secret: A.secret || (B?.secret ?? false) });
  });

  // Pass 2: dead-code elimination (inputs stay: their owners still bind and share them).
  const live = new Array<boolean>(nodes.length).fill(false);
  for (const r of graph.reveals) live[map[r.node]] = true;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i].node;
    if (n.op === 'input') live[i] = true;
    if (!live[i]) continue;
    if (n.op !== 'input' && n.op !== 'const') {
      live[n.a] = true;
      if ('b' in n) live[n.b] = true;
    }
  }

  // Pass 3: multiplicative depth and wire numbering.
  const depth = new Array<number>(nodes.length).fill(0);
  const wire = new Array<number>(nodes.length).fill(-1);
  const wireLength: number[] = [];
  const wireSecret: boolean[] = [];
  const inputs: Plan['inputs'] = [];
  const constants: Plan['constants'] = [];
  const layers: PlanLayer[] = [{ muls: [], local: [] }];
  const gates: Record<string, number> = {};
  const ops: Record<string, number> = {};
  const count = (kind: string, elements: number): void => {
    gates[kind] = (gates[kind] ?? 0) + elements;
    ops[kind] = (ops[kind] ?? 0) + 1;
  };
  // Inputs and constants first, so every layer only reads wires defined before it.
  nodes.forEach((f, i) => {
    if (!live[i]) return;
    const n = f.node;
    if (n.op !== 'input' && n.op !== 'const') return;
    wire[i] = wireLength.length;
    wireLength.push(n.length);
    wireSecret.push(f.secret);
    if (n.op === 'input') {
      inputs.push({ party: n.party, name: n.name, length: n.length, scalar: n.scalar, wire: wire[i] });
      count('input', n.length);
    } else {
      const bytes = new Uint8Array(n.length * 8);
      const view = new DataView(bytes.buffer);
      n.values.forEach((v, k) => view.setBigUint64(k * 8, v, true));
      constants.push({ wire: wire[i], values: bytes });
    }
  });
  // Layer contents in creation order (which is topological), then wire numbers per layer.
  const byLayer: number[][] = [[]];
  nodes.forEach((f, i) => {
    if (!live[i]) return;
    const n = f.node;
    if (n.op === 'input' || n.op === 'const') return;
    const da = depth[n.a];
    const db = 'b' in n ? depth[n.b] : 0;
    const beaver = n.op === 'mul' && nodes[n.a].secret && nodes[n.b].secret;
    depth[i] = Math.max(da, db) + (beaver ? 1 : 0);
    (byLayer[depth[i]] ??= []).push(i);
  });
  for (let k = 1; k < byLayer.length; k++) {
    byLayer[k] ??= [];
    layers.push({ muls: [], local: [] });
  }
  const muls: MulGate[][] = layers.map(() => []);
  // Multiplications of a layer get their wires before its local ops, matching execution order.
  byLayer.forEach((list, k) => {
    for (const i of list) {
      const n = nodes[i].node as Exclude<GraphNode, { op: 'input' | 'const' }>;
      if (n.op !== 'mul' || !nodes[n.a].secret || !nodes[n.b].secret) continue;
      wire[i] = wireLength.length;
      wireLength.push(n.length);
      wireSecret.push(true);
      muls[k].push({ out: wire[i], a: wire[n.a], b: wire[n.b] });
      count('mul', n.length);
    }
    for (const i of list) {
      if (wire[i] >= 0) continue;
      const n = nodes[i].node as Exclude<GraphNode, { op: 'input' | 'const' }>;
      wire[i] = wireLength.length;
      wireLength.push(n.length);
      wireSecret.push(true);
      let op: LocalOp;
      if (!('b' in n)) {
        op = { op: n.op, out: wire[i], a: wire[n.a] };
        count(n.op, nodes[n.a].node.length);
      } else {
        op = { op: n.op, out: wire[i], a: wire[n.a], b: wire[n.b] };
        count(n.op === 'mul' ? 'mulPublic' : n.op, n.length);
      }
      layers[k].local.push(op);
    }
    layers[k].muls = muls[k];
  });

  const outputs = graph.reveals.map((r) => {
    const f = nodes[map[r.node]];
    return { name: r.name, wire: wire[map[r.node]], to: r.to, scalar: f.node.scalar };
  });
  const inputElements: Record<string, number> = {};
  for (const p of graph.parties) inputElements[p] = 0;
  for (const i of inputs) inputElements[i.party] += i.length;
  const stats: PlanStats = { gates, ops, multiplications: 0, rounds: layers.length - 1 };
  const plan: Plan = {
    format: PLAN_FORMAT,
    circuit: graph.name,
    parties: [...graph.parties],
    inputs,
    wireLength,
    wireSecret,
    constants,
    layers,
    outputs,
    derived: graph.derived.map((d) => ({ name: d.name, expr: d.expr, uses: d.uses, to: d.to })),
    stats,
    needs: { triples: 0, tripleBatches: [], inputElements },
  };
  plan.needs.tripleBatches = multiplicationBatches(plan);
  plan.needs.triples = plan.needs.tripleBatches.reduce((s, x) => s + x, 0);
  plan.stats.multiplications = plan.needs.triples;
  return plan;
}
