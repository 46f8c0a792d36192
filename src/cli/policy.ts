/**
 * `mpc policy check` and `mpc policy approve`: a data owner's tools for its policy file.
 *
 * - `check <circuit.ts> --policy <file>` compiles the circuit exactly as `mpc compile` does
 *   and says what each party's node would decide under that policy — the same
 *   `evaluatePolicy` the node runs, on the same plan hash. Exit code 1 when any party refuses.
 * - `approve <circuit.ts> --policy <file>` adds the plan's hash to the policy's
 *   `approvedPlans` (the plan then passes whatever the rules say, and is the only kind that
 *   passes in approved-only mode). The file is rewritten through a temporary file and a
 *   rename, so a node watching it never reads it half-written.
 * @module
 */
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, MpcError } from '../errors.ts';
import { encodePlan } from '../compiler/plan.ts';
import type { Compiled } from '../compiler/load.ts';
import { readJsonFile } from '../util/json-file.ts';
import { SECURITY_MODES, show } from '../security/config.ts';
import { evaluatePolicy, loadPolicy, parsePolicy, type ApprovedPlan, type Decision } from '../security/policy.ts';
import { compileWithShapeFlags, type ShapeFlags } from './compile.ts';

interface CheckFlags extends ShapeFlags {
  policy: string;
  party?: string;
  analyst: string;
  security: string;
  pad?: boolean;
  json?: boolean;
}

interface ApproveFlags extends ShapeFlags {
  policy: string;
  note?: string;
}

const repeatable = (v: string, acc: string[]): string[] => [...acc, v];

/** One party's verdict, as `check --json` prints it. */
export type PartyDecision = { party: string } & Decision;

/** What each party (or `only`) would decide on `compiled` under the policy in `policyFile`. */
export function checkPolicy(compiled: Compiled, policyFile: string, flags: Omit<CheckFlags, 'policy' | keyof ShapeFlags | 'json'>): PartyDecision[] {
  const policy = loadPolicy(policyFile);
  const { plan, hash } = compiled;
  if (flags.party !== undefined && !plan.parties.includes(flags.party)) {
    throw new MpcError(ErrorCode.CONFIG, `--party ${flags.party}: ${compiled.file} has no party ${flags.party} (its parties: ${plan.parties.join(', ')})`);
  }
  if (!(SECURITY_MODES as readonly string[]).includes(flags.security)) {
    throw new MpcError(ErrorCode.CONFIG, `--security: expected one of ${SECURITY_MODES.join(', ')}, got ${show(flags.security)}`);
  }
  const planBytes = encodePlan(plan).byteLength;
  return (flags.party === undefined ? plan.parties : [flags.party]).map((party) => ({
    party,
    ...evaluatePolicy(policy, {
      party,
      plan,
      planHash: hash,
      planBytes,
      analyst: flags.analyst,
      security: flags.security,
      padded: flags.pad === true,
      jobsToday: 0,
    }),
  }));
}

/** One line per party: `p1: accepted (rules)` or `p1: refused — <message> (rule <rule>)`. */
export function renderDecisions(decisions: readonly PartyDecision[]): string {
  return decisions.map((d) => (d.accept ? `${d.party}: accepted (${d.rule})` : `${d.party}: refused — ${d.message} (rule ${d.rule})`)).join('\n') + '\n';
}

/**
 * Add `compiled`'s hash to the approved plans of the policy file at `path`, keeping every
 * other key (comments included) as it was. Returns false when it was already approved.
 */
export function approvePlan(path: string, compiled: Compiled, note: string | undefined, now: Date): boolean {
  loadPolicy(path); // an invalid policy is reported as it is, not rewritten
  const doc = readJsonFile(path, ErrorCode.CONFIG) as Record<string, unknown>;
  const list = (doc.approvedPlans ?? []) as ApprovedPlan[];
  if (list.some((p) => p.hash === compiled.hash)) return false;
  const shapes = Object.fromEntries(compiled.plan.inputs.filter((i) => !i.scalar).map((i) => [`${i.party}.${i.name}`, i.length]));
  const entry: ApprovedPlan = { hash: compiled.hash, circuit: compiled.plan.circuit, shapes };
  if (note !== undefined) entry.note = note;
  entry.approvedAt = now.toISOString();
  doc.approvedPlans = [...list, entry];
  parsePolicy(doc, path);
  // Same folder, so the rename is atomic; same mode, so a private policy stays private.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: statSync(path).mode & 0o777 });
  renameSync(tmp, path);
  return true;
}

/** Add `mpc policy check|approve` to the program. */
export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description("check circuits against a data owner's policy file, or approve a plan in it");
  const shapeOptions = (c: Command): Command =>
    c
      .option('--shape <party.input=LENGTH>', 'length of a vector input (repeatable)', repeatable, [] as string[])
      .option('--inputs <file>', 'take vector lengths from an inputs file (default: <circuit>.inputs.json when no --shape is given)');

  shapeOptions(
    policy
      .command('check')
      .description("compile a circuit and say whether each party's node would accept it under a policy (exit code 1 if any refuses)")
      .argument('<circuit>', 'circuit module, e.g. circuits/sum.ts')
      .requiredOption('--policy <file>', 'the policy file, e.g. p1/policy.json')
      .option('--party <id>', 'the party whose node decides (default: every party of the circuit)')
      .option('--analyst <id>', 'the analyst who would submit the job', 'alice')
      .option('--security <mode>', `the job's security mode (${SECURITY_MODES.join(' | ')})`, 'malicious')
      .option('--pad', 'the job pads its frames (mpc run --pad)'),
  )
    .option('--json', 'print the decisions as JSON')
    .action(async (file: string, opts: CheckFlags) => {
      const compiled = await compileWithShapeFlags(file, opts);
      const decisions = checkPolicy(compiled, opts.policy, opts);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ circuit: compiled.plan.circuit, planHash: compiled.hash, decisions }, null, 2) + '\n');
      } else {
        process.stdout.write(`plan ${compiled.hash} (circuit ${compiled.plan.circuit}, ${compiled.file})\n${renderDecisions(decisions)}`);
      }
      if (decisions.some((d) => !d.accept)) process.exitCode = 1;
    });

  shapeOptions(
    policy
      .command('approve')
      .description("compile a circuit and add its plan hash to a policy's approvedPlans")
      .argument('<circuit>', 'circuit module, e.g. circuits/power.ts')
      .requiredOption('--policy <file>', 'the policy file to update')
      .option('--note <text>', 'why it was approved (kept in the file)'),
  ).action(async (file: string, opts: ApproveFlags) => {
    const compiled = await compileWithShapeFlags(file, opts);
    const added = approvePlan(opts.policy, compiled, opts.note, new Date());
    process.stdout.write(`${compiled.hash}\n${added ? 'approved' : 'already approved'}: plan of ${compiled.file} in ${opts.policy}\n`);
  });
}
