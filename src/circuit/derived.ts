/**
 * Derived outputs: public functions of revealed outputs (`c.derive('mean', 'sum / count')`),
 * evaluated by each recipient after reconstruction. mathjs parses the expression at compile
 * time (so a typo is reported against the circuit file) and evaluates it in 64-digit
 * decimal arithmetic, so quantities like sumOfSquares/count − mean² keep their precision
 * even when the moments exceed 2^53.
 * @module
 */
import { createRequire } from 'node:module';
import type { MathJsInstance, MathNode } from 'mathjs';
import { MpcError, ErrorCode } from '../errors.ts';
import type { CircuitGraph } from './graph.ts';

let math: MathJsInstance | undefined;
/**
 * One mathjs instance configured for BigNumber. mathjs takes seconds to load, and most
 * processes (every node, most circuits) never need it, so it is required on first use.
 */
function bigMath(): MathJsInstance {
  if (!math) {
    const { create, all } = createRequire(import.meta.url)('mathjs') as typeof import('mathjs');
    math = create(all, { number: 'BigNumber', precision: 64 });
  }
  return math;
}

/** Named constants an expression may use besides revealed outputs. */
const CONSTANTS = new Set(['pi', 'e', 'tau', 'phi', 'Infinity', 'NaN', 'true', 'false', 'null']);

/** Symbols read by an expression, excluding function names and constants mathjs knows. */
function symbolsOf(node: MathNode): string[] {
  const names = new Set<string>();
  node.traverse((n, _path, parent) => {
    if (n.type !== 'SymbolNode') return;
    const isCallee = parent?.type === 'FunctionNode' && (parent as unknown as { fn: MathNode }).fn === n;
    if (!isCallee) names.add((n as unknown as { name: string }).name);
  });
  return [...names];
}

/** Fill in `uses` of each derived output and check it only reads outputs its recipients get. */
export function checkDerived(graph: CircuitGraph): void {
  const known = new Map<string, string[]>(graph.reveals.map((r) => [r.name, r.to]));
  for (const d of graph.derived) {
    const where = d.site ?? graph.file ?? `circuit ${graph.name}`;
    const fail = (msg: string): never => {
      throw new MpcError(ErrorCode.CIRCUIT, `${where}: derive ${d.name}: ${msg}`);
    };
    let node: MathNode;
    try {
      node = bigMath().parse(d.expr);
    } catch (e) {
      return fail(`cannot parse ${JSON.stringify(d.expr)}: ${(e as Error).message}`);
    }
    const symbols = symbolsOf(node);
    for (const u of symbols) {
      if (!known.has(u) && !CONSTANTS.has(u)) {
        fail(`${JSON.stringify(u)} is not a revealed output (revealed: ${[...known.keys()].join(', ') || 'none'})`);
      }
    }
    // Revealed names shadow mathjs's own (an output may well be called `sum` or `count`).
    d.uses = symbols.filter((u) => known.has(u));
    for (const u of d.uses) {
      for (const r of d.to) {
        if (!known.get(u)!.includes(r)) fail(`recipient ${r} does not receive ${u}, which this expression reads`);
      }
    }
  }
}

/**
 * Evaluate derived outputs from reconstructed signed values (bigint scalars or arrays;
 * fixed-point values as exact decimal strings).
 * Non-finite results (e.g. the mean of zero elements) come back as null.
 */
export function evaluateDerived(
  derived: { name: string; expr: string; uses: string[] }[],
  values: Record<string, bigint | string | (bigint | string)[]>,
): Record<string, number | number[] | null> {
  const m = bigMath();
  const out: Record<string, number | number[] | null> = {};
  for (const d of derived) {
    const scope = new Map<string, unknown>();
    for (const u of d.uses) {
      const v = values[u];
      if (v === undefined) continue;
      scope.set(u, Array.isArray(v) ? m.matrix(v.map((x) => m.bignumber(x.toString()))) : m.bignumber(v.toString()));
    }
    let r: unknown;
    try {
      r = m.evaluate(d.expr, scope);
    } catch (e) {
      throw new MpcError(ErrorCode.CIRCUIT, `derived output ${d.name} = ${d.expr}: ${(e as Error).message}`);
    }
    const toNum = (x: unknown): number | null => {
      const n = Number(m.number(x as never));
      return Number.isFinite(n) ? n : null;
    };
    if (m.isMatrix(r) || Array.isArray(r)) {
      const arr = (m.isMatrix(r) ? (r.toArray() as unknown[]) : r).flat(Infinity as 1);
      out[d.name] = arr.map((x) => toNum(x) ?? NaN).some(Number.isNaN) ? null : arr.map((x) => toNum(x)!);
    } else {
      out[d.name] = toNum(r);
    }
  }
  return out;
}
