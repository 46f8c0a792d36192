/**
 * `mpc compile <circuit.ts>`: compile a circuit for given input shapes and print what the
 * job will cost — gates, multiplications, rounds, preprocessing — and the plan hash.
 * @module
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { MpcError, ErrorCode } from '../errors.ts';
import { compileFile, type Compiled, type RingChoice } from '../compiler/load.ts';
import { encodePlan, type Plan } from '../compiler/plan.ts';
import { withRangeChecks } from '../compiler/range-checks.ts';
import { checkRawInputs, shapesOf } from '../protocol/inputs.ts';
import { readJsonFile } from '../util/json-file.ts';

/** `party.input=LENGTH` flags → shapes map. */
export function parseShapes(flags: readonly string[]): Map<string, number> {
  const shapes = new Map<string, number>();
  for (const f of flags) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\.([A-Za-z_][A-Za-z0-9_]*)=(\d+)$/.exec(f);
    if (!m) throw new MpcError(ErrorCode.INPUT, `--shape ${f}: expected party.input=LENGTH, e.g. p1.x=1000`);
    shapes.set(`${m[1]}.${m[2]}`, Number(m[3]));
  }
  return shapes;
}

/** The example inputs file that ships next to a circuit: `circuits/<name>.inputs.json`. */
export function exampleInputsPath(circuitFile: string): string {
  return circuitFile.replace(/\.[cm]?[tj]s$/, '') + '.inputs.json';
}

export interface CompileSummary {
  circuit: string;
  file: string;
  /** The value domain and why it was chosen. */
  ring: RingChoice;
  planHash: string;
  planBytes: number;
  parties: string[];
  inputs: { party: string; name: string; length: number | null }[];
  outputs: { name: string; to: string[] }[];
  gates: Record<string, number>;
  ops: Record<string, number>;
  multiplications: number;
  rounds: number;
  /** Elements of each non-linear operation (comparison, equality, truncation, division, …). */
  nonlinear: Record<string, number>;
  preprocessing: {
    triples: number;
    tripleBatches: number[];
    /** Random values with their 64 bits shared (one per comparison or equality test). */
    edaBits: number;
    /** Truncation masks (one per truncated element). */
    truncationPairs: number;
    /** Shared random bits in all (edaBits' bits and truncation masks' top bits). */
    randomBits: number;
    /** Other shared random values (truncation masks' low and high parts). */
    randomValues: number;
    /** Elements opened at run time (masked, so they reveal nothing). */
    openings: number;
  };
  /**
   * What malicious jobs add: every node checks each input that declares both bounds inside
   * the computation (compiler/range-checks.ts); null when no input declares both.
   */
  rangeChecks: { inputs: string[]; elements: number; multiplications: number; rounds: number; openings: number } | null;
}

export function summarise(plan: Plan, hash: string, file: string, ring: RingChoice = { bits: plan.ring ?? 64, reason: 'as compiled' }): CompileSummary {
  const checked = withRangeChecks(plan);
  return {
    circuit: plan.circuit,
    file,
    ring,
    planHash: hash,
    planBytes: encodePlan(plan).byteLength,
    parties: plan.parties,
    inputs: plan.inputs.map((i) => ({ party: i.party, name: i.name, length: i.scalar ? null : i.length })),
    outputs: [
      ...plan.outputs.map((o) => ({ name: o.name, to: o.to })),
      ...plan.derived.map((d) => ({ name: `${d.name} = ${d.expr}`, to: d.to })),
    ],
    gates: plan.stats.gates,
    ops: plan.stats.ops,
    multiplications: plan.stats.multiplications,
    rounds: plan.stats.rounds,
    nonlinear: plan.stats.nonlinear,
    preprocessing: {
      triples: plan.needs.triples,
      tripleBatches: plan.needs.tripleBatches,
      edaBits: (plan.stats.nonlinear.comparison ?? 0) + (plan.stats.nonlinear.equality ?? 0),
      truncationPairs: plan.stats.nonlinear.truncation ?? 0,
      randomBits: plan.needs.randomBits,
      randomValues: plan.needs.randomValues,
      openings: plan.needs.openings,
    },
    rangeChecks: checked.checks
      ? {
          inputs: checked.checks.map((c) => `${c.party}.${c.name} in [${c.min}, ${c.max}]`),
          elements: checked.stats.nonlinear['range check'],
          multiplications: checked.stats.multiplications - plan.stats.multiplications,
          rounds: checked.stats.rounds - plan.stats.rounds,
          openings: checked.needs.openings - plan.needs.openings,
        }
      : null,
  };
}

export function renderSummary(s: CompileSummary): string {
  const lines = [
    `circuit      ${s.circuit} (${s.file})`,
    `parties      ${s.parties.join(', ')}`,
    `domain       Z_2^${s.ring.bits} (${s.ring.reason})`,
    'inputs',
    ...s.inputs.map((i) => `  ${i.party}.${i.name}`.padEnd(24) + (i.length === null ? 'scalar' : `vector[${i.length}]`)),
    'outputs',
    ...s.outputs.map((o) => `  ${o.name}`.padEnd(24) + ` → ${o.to.join(', ')}`),
    'gates (elements by kind, vector ops in parentheses)',
    ...Object.keys(s.gates)
      .sort()
      .map((k) => `  ${k}`.padEnd(24) + `${s.gates[k]}`.padStart(12) + `  (${s.ops[k]})`),
    ...(Object.keys(s.nonlinear).length === 0
      ? []
      : ['non-linear operations (elements)', ...Object.keys(s.nonlinear).sort().map((k) => `  ${k}`.padEnd(32) + `${s.nonlinear[k]}`.padStart(12))]),
    `multiplications ${s.multiplications}`,
    `rounds       ${s.rounds} (multiplications and openings; plus one input and one output exchange)`,
    `preprocessing ${s.preprocessing.triples} Beaver triples in ${s.preprocessing.tripleBatches.length} batches`,
    ...(s.preprocessing.randomBits + s.preprocessing.randomValues === 0
      ? []
      : [
          `              ${s.preprocessing.edaBits} edaBits (64-bit), ${s.preprocessing.truncationPairs} truncation pairs`,
          `              ${s.preprocessing.randomBits} random bits, ${s.preprocessing.randomValues} other random values, ${s.preprocessing.openings} masked openings`,
        ]),
    ...(s.rangeChecks === null
      ? []
      : [
          `range checks  malicious jobs check ${s.rangeChecks.inputs.join(', ')} inside the computation:`,
          `              ${s.rangeChecks.elements} elements tested, +${s.rangeChecks.multiplications} multiplications, +${s.rangeChecks.rounds} rounds, +${s.rangeChecks.openings} openings`,
        ]),
    `plan         ${s.planBytes} bytes, sha256 ${s.planHash}`,
  ];
  return lines.join('\n') + '\n';
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a circuit and print its cost: gates, multiplications, rounds, preprocessing, plan hash')
    .argument('<circuit>', 'circuit module, e.g. circuits/inner-product.ts')
    .option('--shape <party.input=LENGTH>', 'length of a vector input (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--inputs <file>', 'take vector lengths from an inputs file (default: <circuit>.inputs.json when no --shape is given)')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: ShapeFlags & { json?: boolean }) => {
      const { plan, hash, file: shown, ring } = await compileWithShapeFlags(file, opts);
      const summary = summarise(plan, hash, shown, ring);
      process.stdout.write(opts.json ? JSON.stringify(summary, null, 2) + '\n' : renderSummary(summary));
    });
}

/** The shape flags of `mpc compile` (and of `mpc policy`, which compiles the same way). */
export interface ShapeFlags {
  shape: string[];
  inputs?: string;
}

/**
 * Compile `file` for the shapes the flags give: the inputs file (default: the example next
 * to the circuit when no --shape is given), then each --shape, which must name a declared input.
 */
export async function compileWithShapeFlags(file: string, opts: ShapeFlags): Promise<Compiled> {
  const shapes = new Map<string, number>();
  const inputsFile = opts.inputs ?? (opts.shape.length === 0 && existsSync(exampleInputsPath(file)) ? exampleInputsPath(file) : undefined);
  if (inputsFile) {
    for (const [k, v] of shapesOf(checkRawInputs(readJsonFile(inputsFile, ErrorCode.INPUT), inputsFile))) shapes.set(k, v);
  }
  const flagged = parseShapes(opts.shape);
  for (const [k, v] of flagged) shapes.set(k, v);
  const compiled = await compileFile(file, shapes);
  const declared = new Set(compiled.plan.inputs.map((i) => `${i.party}.${i.name}`));
  for (const k of flagged.keys()) {
    if (!declared.has(k)) throw new MpcError(ErrorCode.INPUT, `--shape ${k}: ${compiled.file} has no input ${k} (its inputs: ${[...declared].join(', ')})`);
  }
  return compiled;
}
