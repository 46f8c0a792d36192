/**
 * From the DSL's graph to a plan: constant folding and algebraic simplification,
 * common-subexpression elimination (hash-consing), dead-code elimination, and layering by
 * round depth so that every secret × secret multiplication and every opening of a layer,
 * however wide, shares one communication round. Linear ops and products with public values stay
 * local. Vectors stay whole: a layer's batch is the concatenation of its gates' vectors.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { operandsOf, type BinaryNode, type CircuitGraph, type GraphNode, type Site } from '../circuit/graph.ts';
import { evalLocalIn } from '../protocol/vectors.ts';
import { domainOf, type Domain } from '../protocol/domain.ts';
import { checkDerived } from '../circuit/derived.ts';
import {
  PLAN_FORMAT,
  type LocalOp,
  type Plan,
  type PlanInput,
  type PlanLayer,
  type PlanStats,
  planNeeds,
} from './plan.ts';

interface Folded {
  node: GraphNode;
  secret: boolean;
}

function circuitError(graph: CircuitGraph, site: Site, message: string): MpcError {
  return new MpcError(ErrorCode.CIRCUIT, `${site ?? graph.file ?? `circuit ${graph.name}`}: ${message}`);
}

/** A graph node as the plan's local op of the same meaning (operands and output renumbered). */
function toLocalOp(n: Exclude<GraphNode, { op: 'input' | 'const' | 'open' }>, out: number, w: (node: number) => number): LocalOp {
  switch (n.op) {
    case 'add':
    case 'sub':
    case 'mul':
      return { op: n.op, out, a: w(n.a), b: w(n.b) };
    case 'neg':
    case 'sum':
      return { op: n.op, out, a: w(n.a) };
    case 'slice':
      return { op: 'slice', out, a: w(n.a), start: n.start, end: n.end };
    case 'concat':
      return { op: 'concat', out, parts: n.parts.map(w) };
    case 'gather':
      return { op: 'gather', out, a: w(n.a), index: new Uint8Array(n.index.buffer, n.index.byteOffset, n.index.byteLength).slice(), block: n.block };
    case 'bits':
      return { op: 'bits', out, a: w(n.a), from: n.from, count: n.count };
    case 'pack':
      return { op: 'pack', out, a: w(n.a), count: n.count, shift: n.shift };
    case 'rand':
      return { op: 'rand', out, bits: n.bits };
  }
}

/** Evaluate a node over public constants (one implementation with the executor: evalLocalIn). */
function foldConst<V>(D: Domain<V>, n: GraphNode, consts: (node: number) => bigint[]): bigint[] {
  const op = toLocalOp(n as Exclude<GraphNode, { op: 'input' | 'const' | 'open' }>, -1, (x) => x);
  return D.toBigints(evalLocalIn(D, op as Exclude<LocalOp, { op: 'rand' }>, (x) => D.fromBigints(consts(x))));
}

/** Key of a node's extra parameters, for hash-consing. */
function paramsKey(n: GraphNode): string {
  switch (n.op) {
    case 'slice':
      return `${n.start}:${n.end}`;
    case 'gather':
      return `${n.block}:${n.index.join(',')}`;
    case 'bits':
      return `${n.from}:${n.count}`;
    case 'pack':
      return `${n.count}:${n.shift}`;
    default:
      return '';
  }
}

const allEqual = (v: bigint[], k: bigint): boolean => v.every((x) => x === k);

/** Whether a node takes a communication round: a Beaver multiplication or an opening. */
const communicates = (n: GraphNode, secret: (node: number) => boolean): boolean =>
  n.op === 'open' || (n.op === 'mul' && secret(n.a) && secret(n.b));

/**
 * Compile a built circuit graph into a plan. Throws MpcError CIRCUIT naming the circuit
 * file (and line where known) for circuits that reveal nothing or are otherwise unusable.
 */
export function compileGraph(graph: CircuitGraph): Plan {
  if (graph.reveals.length === 0) {
    throw circuitError(graph, graph.file, `circuit ${graph.name} reveals nothing: call c.reveal(name, value) at least once`);
  }
  checkDerived(graph);
  const D: Domain<unknown> = domainOf({ ring: graph.ring === 128 ? 128 : undefined }) as Domain<unknown>;

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
  const constOf = (i: number | undefined): bigint[] | undefined => {
    const f = i === undefined ? undefined : nodes[i].node;
    return f && f.op === 'const' ? f.values : undefined;
  };

  graph.nodes.forEach((n, i) => {
    if (n.op === 'input') {
      map[i] = intern(`i:${n.party}.${n.name}`, { node: n, secret: true });
      return;
    }
    if (n.op === 'const') {
      map[i] = constant(n.values, n.scalar, n.site);
      return;
    }
    if (n.op === 'rand') {
      // Every draw is fresh: never shared with another.
      map[i] = intern(`r:${i}`, { node: n, secret: true });
      return;
    }
    const remapped = remap(n, (x) => map[x]);
    const ops = operandsOf(remapped);
    const secret = ops.some((x) => nodes[x].secret);
    if (!secret && n.op !== 'open' && ops.every((x) => constOf(x))) {
      map[i] = constant(foldConst(D, remapped, (x) => constOf(x)!), n.scalar, n.site);
      return;
    }
    if (n.op === 'open' && !secret) return void (map[i] = ops[0]);
    if (n.op === 'add' || n.op === 'sub' || n.op === 'mul') {
      const [a, b] = ops;
      const ca = constOf(a);
      const cb = constOf(b);
      // Identities that remove work without changing the result's shape.
      if (n.op === 'add' || n.op === 'sub') {
        if (cb && allEqual(cb, 0n) && sameShape(a, n)) return void (map[i] = a);
        if (n.op === 'add' && ca && allEqual(ca, 0n) && sameShape(b, n)) return void (map[i] = b);
        if (n.op === 'sub' && a === b) return void (map[i] = constant(new Array(n.length).fill(0n), n.scalar, n.site));
      }
      if (n.op === 'mul') {
        if ((ca && allEqual(ca, 0n)) || (cb && allEqual(cb, 0n))) {
          return void (map[i] = constant(new Array(n.length).fill(0n), n.scalar, n.site));
        }
        if (cb && allEqual(cb, 1n) && sameShape(a, n)) return void (map[i] = a);
        if (ca && allEqual(ca, 1n) && sameShape(b, n)) return void (map[i] = b);
      }
    }
    if (n.op === 'neg') {
      const inner = nodes[ops[0]].node;
      if (inner.op === 'neg') return void (map[i] = inner.a);
    }
    if (n.op === 'slice' && n.start === 0 && n.end === nodes[ops[0]].node.length && sameShape(ops[0], n)) return void (map[i] = ops[0]);
    // Commutative ops are keyed with sorted operands so a·b and b·a share one gate.
    let node = remapped;
    if ((n.op === 'add' || n.op === 'mul') && ops[1] < ops[0]) node = { ...(remapped as typeof n), a: ops[1], b: ops[0] };
    const key = `${n.op}:${operandsOf(node).join(',')}:${paramsKey(node)}:${n.scalar ? 's' : 'v'}:${n.length}`;
    map[i] = intern(key, { node, secret: n.op === 'bits' || n.op === 'open' ? false : secret });
  });

  // Pass 2: dead-code elimination (inputs stay: their owners still bind and share them).
  const live = new Array<boolean>(nodes.length).fill(false);
  for (const r of graph.reveals) live[map[r.node]] = true;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i].node;
    if (n.op === 'input') live[i] = true;
    if (!live[i]) continue;
    for (const x of operandsOf(n)) live[x] = true;
  }

  // Pass 3: round depth. A multiplication or an opening is one round after its operands;
  // local ops run in the layer of their latest operand.
  const isSecret = (x: number): boolean => nodes[x].secret;
  const depth = new Array<number>(nodes.length).fill(0);
  const rooted = new Array<boolean>(nodes.length).fill(false);
  nodes.forEach((f, i) => {
    if (!live[i]) return;
    const n = f.node;
    const ops = operandsOf(n);
    rooted[i] = n.op === 'input' || ops.some((x) => rooted[x]);
    depth[i] = Math.max(0, ...ops.map((x) => depth[x])) + (communicates(n, isSecret) ? 1 : 0);
  });
  // Random draws (and what is computed from them alone) move to the latest layer that still
  // serves their first use, so preprocessing is drawn when it is needed, not all up front.
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((f, i) => {
    if (live[i]) for (const x of operandsOf(f.node)) users[x].push(i);
  });
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i].node;
    if (!live[i] || rooted[i] || n.op === 'const' || users[i].length === 0) continue;
    const latest = Math.min(...users[i].map((u) => depth[u] - (communicates(nodes[u].node, isSecret) ? 1 : 0)));
    depth[i] = Math.max(depth[i], latest);
  }

  // Wire numbering.
  const wire = new Array<number>(nodes.length).fill(-1);
  const wireLength: number[] = [];
  const wireSecret: boolean[] = [];
  const inputs: Plan['inputs'] = [];
  const constants: Plan['constants'] = [];
  const gates: Record<string, number> = {};
  const opsCount: Record<string, number> = {};
  const count = (kind: string, elements: number): void => {
    gates[kind] = (gates[kind] ?? 0) + elements;
    opsCount[kind] = (opsCount[kind] ?? 0) + 1;
  };
  const newWire = (i: number): number => {
    wire[i] = wireLength.length;
    wireLength.push(nodes[i].node.length);
    wireSecret.push(nodes[i].secret);
    return wire[i];
  };
  // Inputs and constants first, so every layer only reads wires defined before it.
  nodes.forEach((f, i) => {
    if (!live[i]) return;
    const n = f.node;
    if (n.op === 'input') {
      const entry: PlanInput = { party: n.party, name: n.name, length: n.length, scalar: n.scalar, wire: newWire(i), frac: n.frac };
      if (n.min !== undefined) entry.min = n.min;
      if (n.max !== undefined) entry.max = n.max;
      inputs.push(entry);
      count('input', n.length);
    } else if (n.op === 'const') {
      constants.push({ wire: newWire(i), values: D.toBytes(D.fromBigints(n.values)).slice() });
    }
  });
  // Layer contents in creation order (topological within a layer).
  const layerCount = 1 + Math.max(0, ...depth.filter((_, i) => live[i]));
  const byLayer: number[][] = Array.from({ length: layerCount }, () => []);
  nodes.forEach((f, i) => {
    if (live[i] && f.node.op !== 'input' && f.node.op !== 'const') byLayer[depth[i]].push(i);
  });
  const layers: PlanLayer[] = byLayer.map((list) => {
    const layer: PlanLayer = { muls: [], opens: [], local: [] };
    // Communication first (it is what the layer waits for), then local ops, matching execution order.
    for (const i of list) {
      const n = nodes[i].node;
      if (n.op === 'open') {
        layer.opens.push({ out: newWire(i), a: wire[n.a] });
        count('open', n.length);
      } else if (communicates(n, isSecret)) {
        const g = n as BinaryNode;
        layer.muls.push({ out: newWire(i), a: wire[g.a], b: wire[g.b] });
        count('mul', n.length);
      }
    }
    for (const i of list) {
      if (wire[i] >= 0) continue;
      const n = nodes[i].node as Exclude<GraphNode, { op: 'input' | 'const' | 'open' }>;
      const op = toLocalOp(n, newWire(i), (x) => wire[x]);
      layer.local.push(op);
      const kind = op.op === 'mul' ? 'mulPublic' : op.op;
      count(kind, op.op === 'neg' || op.op === 'sum' ? wireLength[op.a] : n.length);
    }
    return layer;
  });
  // Drop empty trailing layers (possible when only inputs and constants are live).
  while (layers.length > 1 && layers[layers.length - 1].muls.length + layers[layers.length - 1].opens.length + layers[layers.length - 1].local.length === 0) layers.pop();

  const outputs = graph.reveals.map((r) => {
    const f = nodes[map[r.node]];
    return { name: r.name, wire: wire[map[r.node]], to: r.to, scalar: f.node.scalar, frac: r.frac };
  });
  const stats: PlanStats = { gates, ops: opsCount, multiplications: 0, rounds: layers.length - 1, nonlinear: { ...graph.nonlinear } };
  const base = { inputs, wireLength, layers, parties: [...graph.parties], stats };
  const plan: Plan = {
    format: PLAN_FORMAT,
    circuit: graph.name,
    ...(graph.ring === 128 ? { ring: 128 as const } : {}),
    parties: base.parties,
    inputs,
    wireLength,
    wireSecret,
    constants,
    layers,
    outputs,
    derived: graph.derived.map((d) => ({ name: d.name, expr: d.expr, uses: d.uses, to: d.to })),
    stats,
    needs: planNeeds(base),
  };
  plan.stats.multiplications = plan.needs.triples;
  return plan;
}

/** `n` with its operands renamed through `f`. */
function remap(n: GraphNode, f: (x: number) => number): GraphNode {
  switch (n.op) {
    case 'input':
    case 'const':
    case 'rand':
      return n;
    case 'add':
    case 'sub':
    case 'mul':
      return { ...n, a: f(n.a), b: f(n.b) };
    case 'concat':
      return { ...n, parts: n.parts.map(f) };
    default:
      return { ...n, a: f(n.a) };
  }
}
