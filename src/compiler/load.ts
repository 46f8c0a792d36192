/**
 * Loading a circuit module and running its body for a given set of input shapes. Every
 * failure here is reported as MpcError CIRCUIT naming the circuit file.
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MpcError, ErrorCode, isMpcError } from '../errors.ts';
import { CircuitBuilder, isCircuitDefinition, RingTooNarrow, type CircuitDefinition } from '../circuit/builder.ts';
import type { CircuitGraph } from '../circuit/graph.ts';
import { compileGraph } from './compile.ts';
import { planHash, type Plan } from './plan.ts';

/** Input shapes: `party.input` → number of elements. */
export type Shapes = ReadonlyMap<string, number>;

export interface LoadedCircuit {
  definition: CircuitDefinition;
  /** The path as the user gave it, for messages. */
  file: string;
}

/** Import a circuit module (TypeScript is handled by tsx or vitest) and check its default export. */
export async function loadCircuit(file: string): Promise<LoadedCircuit> {
  const abs = resolve(file);
  const shown = relative(process.cwd(), abs) || file;
  if (!existsSync(abs)) throw new MpcError(ErrorCode.CIRCUIT, `${shown}: no such circuit file`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (e) {
    // A `.ts` file outside an ESM package is treated as CommonJS by Node and cannot import
    // our ESM sources that way; tsx's own loader imports it as ESM.
    if (!/require\(\) ES Module|ERR_REQUIRE/.test(String((e as Error).message) + String((e as { code?: string }).code))) {
      throw new MpcError(ErrorCode.CIRCUIT, `${shown}: cannot load circuit: ${(e as Error).message}`, { cause: e });
    }
    try {
      const { tsImport } = await import('tsx/esm/api');
      const ns = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as { default?: { default?: unknown } };
      mod = isCircuitDefinition(ns.default) ? ns : { default: ns.default?.default };
    } catch (e2) {
      throw new MpcError(ErrorCode.CIRCUIT, `${shown}: cannot load circuit: ${(e2 as Error).message}`, { cause: e2 });
    }
  }
  if (!isCircuitDefinition(mod.default)) {
    throw new MpcError(ErrorCode.CIRCUIT, `${shown}: the default export must be circuit({ name, parties }, body) from src/circuit`);
  }
  return { definition: mod.default, file: shown };
}

/** Run the circuit body with these shapes; errors name the file and line of the failing op. */
export function buildGraph(loaded: LoadedCircuit, shapes: Shapes, ring?: 64 | 128): CircuitGraph {
  const b = new CircuitBuilder(loaded.definition, shapes, loaded.file, ring);
  try {
    loaded.definition.body(b);
  } catch (e) {
    if (isMpcError(e)) throw e;
    throw new MpcError(ErrorCode.CIRCUIT, `${loaded.file}: the circuit body threw: ${(e as Error).message}`, { cause: e });
  }
  return b.graph;
}

/** Which value domain a compilation uses, and why. */
export interface RingChoice {
  bits: 64 | 128;
  /** 'declared' (circuit({ ring })), 'default' (Z_2^64 fits), or why Z_2^64 did not fit. */
  reason: string;
}

export interface Compiled {
  plan: Plan;
  hash: string;
  file: string;
  ring: RingChoice;
}

/** Load, build and compile a circuit file in one step. */
export async function compileFile(file: string, shapes: Shapes): Promise<Compiled> {
  const loaded = await loadCircuit(file);
  return compileLoaded(loaded, shapes);
}

/**
 * Compile for these shapes. A circuit that names no `ring` is compiled in Z_2^64, and in
 * Z_2^128 when it does not fit 64 bits (a declared range, a product, a divisor or a square
 * root beyond them): the choice and its reason are returned for `mpc compile` to print.
 */
export function compileLoaded(loaded: LoadedCircuit, shapes: Shapes): Compiled {
  const declared = loaded.definition.ring;
  let ring: RingChoice = { bits: declared ?? 64, reason: declared === undefined ? 'default: every declared range fits Z_2^64' : 'declared: circuit({ ring })' };
  let graph: CircuitGraph;
  try {
    graph = buildGraph(loaded, shapes, ring.bits);
  } catch (e) {
    if (!(e instanceof RingTooNarrow) || declared !== undefined) throw e;
    ring = { bits: 128, reason: `Z_2^64 is too narrow: ${e.message}` };
    graph = buildGraph(loaded, shapes, 128);
  }
  const plan = compileGraph(graph);
  return { plan, hash: planHash(plan), file: loaded.file, ring };
}
