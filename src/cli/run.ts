/**
 * `mpc run <circuit.ts>`: run a circuit on a federation — the nodes of `--cluster`, or an
 * embedded local federation started for this one job — and print the outputs and stats.
 * Progress and notices go to stderr; outputs (or the `--json` object) to stdout.
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPolicy } from '../security/policy.ts';
import type { Command } from 'commander';
import { MpcError, ErrorCode } from '../errors.ts';
import { compileLoaded, loadCircuit } from '../compiler/load.ts';
import { planForSecurity } from '../compiler/range-checks.ts';
import { loadClusterConfig, loadTlsMaterial } from '../security/config.ts';
import { checkInputsFile, loadInputsFile } from '../protocol/inputs-file.ts';
import { runJob, type JobResult, type RunJobOptions } from '../coordinator/client.ts';
import { withEmbeddedFederation } from '../coordinator/embedded.ts';
import { DEALER_TRUST } from '../preprocessing/dealer.ts';
import { OT_TRUST } from '../preprocessing/ot/material.ts';
import { PREPROCESSING_MODES, type PreprocessingMode } from '../security/config.ts';
import { shapesOf, type RawInputs } from '../protocol/inputs.ts';
import { assertSupported, SECURITY_LEVELS, type SecurityLevel } from '../protocol/suites.ts';
import { exampleInputsPath } from './compile.ts';

interface RunFlags {
  inputs?: string;
  cluster?: string;
  json?: boolean;
  parties?: string;
  security: string;
  preprocessing?: string;
  keep?: boolean;
  policy?: string;
  auditDir?: string;
  pad?: boolean;
}

/** Computing parties for the embedded federation: the circuit's, plus p<k> up to a count. */
export function embeddedParties(circuitParties: readonly string[], flag: string | undefined): string[] {
  // MPC needs at least two computing parties: a one-party circuit (power.ts) gets a helper.
  if (flag === undefined) flag = String(Math.max(2, circuitParties.length));
  if (/^\d+$/.test(flag)) {
    const n = Number(flag);
    if (n < Math.max(2, circuitParties.length)) {
      throw new MpcError(ErrorCode.CONFIG, `--parties ${n}: at least ${Math.max(2, circuitParties.length)} computing parties are needed (the circuit's: ${circuitParties.join(', ')})`);
    }
    const out = [...circuitParties];
    for (let k = 1; out.length < n; k++) if (!out.includes(`p${k}`)) out.push(`p${k}`);
    return out;
  }
  const list = flag.split(',').map((s) => s.trim()).filter(Boolean);
  const missing = circuitParties.filter((p) => !list.includes(p));
  if (missing.length > 0) throw new MpcError(ErrorCode.CONFIG, `--parties ${flag}: the circuit's parties ${missing.join(', ')} are missing`);
  if (list.length < 2) throw new MpcError(ErrorCode.CONFIG, '--parties: a federation needs at least 2 parties');
  return list;
}

function renderValue(v: unknown): string {
  return Array.isArray(v) ? `[${v.map((x) => (x === null ? 'null' : String(x))).join(', ')}]` : v === null ? 'null' : String(v);
}

export function renderResult(r: JobResult): string {
  const lines = Object.entries(r.outputs).map(([k, v]) => `${k} = ${renderValue(v)}`);
  const s = r.stats;
  lines.push(
    '',
    `parties ${s.parties} · security ${s.security} · preprocessing ${s.preprocessing}`,
    `multiplications ${s.multiplications} · rounds ${s.rounds} · bytes sent ${s.bytesSent} · ${s.seconds.toFixed(3)} s · ${Math.round(s.gatesPerSecond)} gates/s`,
  );
  for (const n of s.nodes) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const made = n.ot ? `made ${n.ot.triples} triples and ${n.ot.bits} random bits by OT in ${n.ot.generateSeconds.toFixed(2)} s (base OTs ${n.ot.setupSeconds.toFixed(2)} s)` : '';
    const store = n.store ? `store peak ${mib(n.store.peak)} of ${mib(n.store.budget)}, ${n.store.taken}/${n.store.count} items used once` : '';
    if (made || (store && s.preprocessing === 'ot')) lines.push(`  ${n.party}: ${[made, store].filter(Boolean).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}

/** Progress on stderr: an updating line on a terminal, plain lines otherwise. */
function progressPrinter(): RunJobOptions['onProgress'] {
  const tty = process.stderr.isTTY;
  let lastPlain = -1;
  return (p) => {
    const rate = p.seconds > 0 ? Math.round(p.multiplications / p.seconds) : 0;
    const line = `layer ${p.layer}/${p.layers} · ${p.multiplications} multiplications · ${rate} gates/s`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${p.layer === p.layers ? '\n' : ''}`);
    else if (Math.floor(p.seconds) !== lastPlain || p.layer === p.layers) {
      lastPlain = Math.floor(p.seconds);
      process.stderr.write(`progress: ${line}\n`);
    }
  };
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a circuit on a federation: an embedded local one by default, or --cluster')
    .argument('<circuit>', 'circuit module, e.g. circuits/sum.ts')
    .option('--inputs <file>', 'inputs for the embedded federation: { "<party>": { "<input>": value | [values] } } (default: <circuit>.inputs.json)')
    .option('--cluster <file>', 'run on running nodes described by cluster.json (from `mpc init`); each node reads its own datasets')
    .option('--json', 'print { outputs, stats } as one JSON object')
    .option('--parties <n|list>', 'computing parties of the embedded federation: a count (adds p4, p5, …) or a list; default: the circuit\'s parties')
    .option('--security <mode>', 'malicious (SPDZ2k MACs: any deviation aborts the job) or semi-honest (faster; trusts every party to follow the protocol)', 'malicious')
    .option('--preprocessing <mode>', 'dealer (a trusted dealer process deals the triples; fast) or ot (no third party: the nodes make their own by oblivious transfer). Default: dealer for the embedded federation; for --cluster, dealer if cluster.json names one, else ot')
    .option('--keep', 'keep the embedded federation folder and its logs')
    .option('--policy <file>', "the embedded federation's nodes all apply this policy file (default: an open policy that accepts every plan)")
    .option('--audit-dir <dir>', "keep the embedded nodes' audit logs in <dir> (<party>.audit.log); check them with mpc audit verify / compare")
    .option('--pad', 'pad every protocol frame to a power-of-two size, so frame sizes do not reveal input lengths')
    .action(async (file: string, flags: RunFlags) => {
      if (!(SECURITY_LEVELS as readonly string[]).includes(flags.security)) {
        throw new MpcError(ErrorCode.CONFIG, `--security ${flags.security}: expected ${SECURITY_LEVELS.join(' or ')}`);
      }
      if (flags.preprocessing !== undefined && !(PREPROCESSING_MODES as readonly string[]).includes(flags.preprocessing)) {
        throw new MpcError(ErrorCode.CONFIG, `--preprocessing ${flags.preprocessing}: expected ${PREPROCESSING_MODES.join(' or ')}`);
      }
      const cluster = flags.cluster ? loadClusterConfig(flags.cluster) : undefined;
      const preprocessing = (flags.preprocessing ?? (cluster && cluster.dealer === null ? 'ot' : 'dealer')) as PreprocessingMode;
      if (cluster && preprocessing === 'dealer' && cluster.dealer === null) {
        throw new MpcError(ErrorCode.CONFIG, `--preprocessing dealer: ${flags.cluster} names no dealer; use --preprocessing ot`);
      }
      const circuit = await loadCircuit(file);
      const notice = (line: string) => process.stderr.write(`${line}\n`);
      const opts: RunJobOptions = {
        security: flags.security as SecurityLevel,
        preprocessing,
        pad: flags.pad ?? false,
        onProgress: progressPrinter(),
        onPlan: (plan, hash) => {
          const ran = planForSecurity(plan, flags.security);
          const checks = ran.checks ? ` (${ran.stats.multiplications - plan.stats.multiplications} of them range-check ${ran.checks.length} inputs inside the computation)` : '';
          notice(`job: ${plan.circuit}, ${ran.stats.multiplications} multiplications in ${ran.stats.rounds} rounds${checks}, in Z_2^${plan.ring ?? 64}, plan ${hash.slice(0, 16)}…`);
        },
      };
      let result: JobResult;
      if (flags.cluster) {
        if (flags.inputs) throw new MpcError(ErrorCode.CONFIG, '--inputs applies to the embedded federation; with --cluster each node reads its own datasets');
        if (flags.parties) throw new MpcError(ErrorCode.CONFIG, '--parties applies to the embedded federation; a cluster has the parties of its cluster.json');
        if (flags.policy) throw new MpcError(ErrorCode.CONFIG, "--policy applies to the embedded federation; a cluster's nodes each apply their own policy file");
        if (flags.auditDir) throw new MpcError(ErrorCode.CONFIG, "--audit-dir applies to the embedded federation; a cluster's nodes each keep their own audit log");
        const c = cluster!;
        result = await runJob({ federation: c.federation, tls: loadTlsMaterial(c.tls), parties: c.parties }, circuit, opts);
      } else {
        const inputsFile = flags.inputs ?? (existsSync(exampleInputsPath(file)) ? exampleInputsPath(file) : undefined);
        const located = inputsFile ? loadInputsFile(inputsFile) : undefined;
        const inputs: RawInputs = located?.raw ?? {};
        const parties = embeddedParties(circuit.definition.parties, flags.parties);
        for (const p of Object.keys(inputs)) {
          if (!parties.includes(p)) throw new MpcError(ErrorCode.INPUT, `${inputsFile}: party ${p} is not a party of this federation (${parties.join(', ')})`);
        }
        // Compile once before starting any process: a broken circuit fails in milliseconds.
        const { plan } = compileLoaded(circuit, shapesOf(inputs));
        // A mode this build cannot run in the plan's domain is refused before any process starts.
        assertSupported(opts.security, plan.ring ?? 64);
        if (located) checkInputsFile(located, plan);
        // Read the policy before starting anything: a bad policy file fails at once, naming it.
        if (flags.policy !== undefined) loadPolicy(flags.policy);
        notice(`trust: ${preprocessing === 'ot' ? OT_TRUST : DEALER_TRUST}`);
        notice(flags.policy === undefined ? 'policy: open (every plan is accepted); give the nodes a policy with --policy <file>' : `policy: ${flags.policy} on every node`);
        result = await withEmbeddedFederation({ parties, inputs, onNotice: notice, keep: flags.keep, dealer: preprocessing === 'dealer', ...(flags.policy ? { policyFile: resolve(flags.policy) } : {}), ...(flags.auditDir ? { auditDir: resolve(flags.auditDir) } : {}) }, (target) =>
          runJob(target, circuit, { ...opts, connectRetry: { attempts: 40, baseMs: 50, maxMs: 500 } }),
        );
      }
      process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : renderResult(result));
    });
}
