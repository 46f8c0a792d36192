/**
 * Declared input ranges, enforced inside the computation. A node refuses its own values
 * outside an input's declared range, but in malicious mode a party may not run an honest
 * node: a value outside the range the compiler relied on could make fixed-point products,
 * divisions and square roots come out wrong without any MAC failing. So every node (and
 * the dealer) runs a malicious job's plan with a range check of each input that declares
 * both `min` and `max` (src/circuit/lib/bits.ts `rangeDefect`), and the job aborts before
 * any output, naming the input's owner, if one fails.
 *
 * The checks are added here, by each party to the plan it accepted, never by the
 * coordinator: the submitted plan (and its hash, and the policies evaluated on it) stays
 * what the analyst compiled, and nobody can submit a plan without them. The transform is
 * deterministic, so every party and the dealer derive the same plan and preprocessing.
 * The checks run beside the circuit's first layers (they only read inputs), so they add
 * rounds only where the circuit is shallower than they are; their last opening waits for a
 * MAC check of everything opened before it (see `Plan.checks`).
 * @module
 */
import { ANALYST, CircuitBuilder, type CircuitDefinition } from '../circuit/builder.ts';
import { rangeDefect } from '../circuit/lib/bits.ts';
import { compileGraph } from './compile.ts';
import { planNeeds, type LocalOp, type Plan, type PlanCheck, type PlanInput, type PlanLayer } from './plan.ts';

/** An input's declared range in ring units: exactly the values an honest node encodes. */
export function ringRange(i: PlanInput): { lo: bigint; hi: bigint } | undefined {
  if (i.min === undefined || i.max === undefined) return undefined;
  const scale = 2 ** i.frac;
  return { lo: BigInt(Math.ceil(i.min * scale)), hi: BigInt(Math.floor(i.max * scale)) };
}

/** The circuit that computes every check, over the plan's ranged inputs. */
function checkPlan(plan: Plan): { plan: Plan; checked: PlanInput[] } | undefined {
  const checked = plan.inputs.filter((i) => ringRange(i) !== undefined);
  if (checked.length === 0) return undefined;
  const ring = plan.ring ?? 64;
  const def: CircuitDefinition = { kind: 'tessera.circuit', name: plan.circuit, parties: plan.parties, description: undefined, fracBits: undefined, ring, body: () => {} };
  const b = new CircuitBuilder(def, new Map(), undefined);
  checked.forEach((i, k) => {
    const { lo, hi } = ringRange(i)!;
    const { party, name, length, scalar, frac, min, max } = i;
    const x = b.push({ op: 'input', party, name, length, scalar, site: undefined, frac, min, max }, false, frac);
    b.graph.reveals.push({ name: `check${k}`, node: b.primOpen(rangeDefect(x, lo, hi)).node, frac: 0, to: [ANALYST], site: undefined });
  });
  return { plan: compileGraph(b.graph), checked };
}

/** `op` with its wires renamed through `w`. */
function renameLocal(op: LocalOp, w: (x: number) => number): LocalOp {
  const out = w(op.out);
  if (op.op === 'rand') return { ...op, out };
  if (op.op === 'concat') return { ...op, out, parts: op.parts.map(w) };
  if ('b' in op) return { ...op, out, a: w(op.a), b: w(op.b) };
  return { ...op, out, a: w(op.a) };
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** `main` with `extra`'s layers run beside its own (extra's inputs are main's, by owner and name). */
function merge(main: Plan, extra: Plan): { plan: Plan; wire: (x: number) => number } {
  const rename = new Array<number>(extra.wireLength.length).fill(-1);
  for (const i of extra.inputs) rename[i.wire] = main.inputs.find((m) => m.party === i.party && m.name === i.name)!.wire;
  const wireLength = [...main.wireLength];
  const wireSecret = [...main.wireSecret];
  extra.wireLength.forEach((len, x) => {
    if (rename[x] >= 0) return;
    rename[x] = wireLength.length;
    wireLength.push(len);
    wireSecret.push(extra.wireSecret[x]);
  });
  const w = (x: number): number => rename[x];
  const layers: PlanLayer[] = Array.from({ length: Math.max(main.layers.length, extra.layers.length) }, (_, k) => {
    const m = main.layers[k] ?? { muls: [], opens: [], local: [] };
    const e = extra.layers[k] ?? { muls: [], opens: [], local: [] };
    return {
      muls: [...m.muls, ...e.muls.map((g) => ({ out: w(g.out), a: w(g.a), b: w(g.b) }))],
      opens: [...m.opens, ...e.opens.map((g) => ({ out: w(g.out), a: w(g.a) }))],
      local: [...m.local, ...e.local.map((op) => renameLocal(op, w))],
    };
  });
  const stats = {
    gates: addCounts(main.stats.gates, extra.stats.gates),
    ops: addCounts(main.stats.ops, extra.stats.ops),
    multiplications: 0,
    rounds: layers.length - 1,
    nonlinear: addCounts(main.stats.nonlinear, extra.stats.nonlinear),
  };
  const plan: Plan = {
    ...main,
    wireLength,
    wireSecret,
    constants: [...main.constants, ...extra.constants.map((c) => ({ wire: w(c.wire), values: c.values }))],
    layers,
    stats,
    needs: planNeeds({ ...main, layers, wireLength, stats }),
  };
  plan.stats.multiplications = plan.needs.triples;
  return { plan, wire: w };
}

const cache = new WeakMap<Plan, Plan>();

/**
 * `plan` with a range check of every input that declares both `min` and `max` (the same
 * object when none does). Memoised per plan object.
 */
export function withRangeChecks(plan: Plan): Plan {
  const hit = cache.get(plan);
  if (hit) return hit;
  const built = checkPlan(plan);
  let out = plan;
  if (built) {
    const { plan: merged, wire } = merge(plan, built.plan);
    merged.checks = built.plan.outputs.map((o, k): PlanCheck => {
      const i = built.checked[k];
      return { party: i.party, name: i.name, wire: wire(o.wire), min: i.min!, max: i.max! };
    });
    out = merged;
  }
  cache.set(plan, out);
  return out;
}

/** The plan a job of this security runs: malicious jobs check input ranges inside the computation. */
export function planForSecurity(plan: Plan, security: string): Plan {
  return security === 'malicious' ? withRangeChecks(plan) : plan;
}
