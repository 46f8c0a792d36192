/**
 * `mpc init <dir> --parties p1,p2,p3`: argument parsing for {@link initFederation}, then a
 * summary of what was written and how to start the federation.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, MpcError } from '../errors.ts';
import { DEFAULT_CERT_DAYS, initFederation } from '../security/init.ts';
import { fingerprint } from '../security/pki.ts';
import { SECURITY_MODES } from '../security/config.ts';
import type { SecurityMode } from '../security/config.ts';
import { loadInputsFile } from '../protocol/inputs-file.ts';
import { parseDaysFlag, validUntil } from './cert.ts';

interface InitFlags {
  parties: string;
  analyst: string;
  auditor: string;
  federation: string;
  host: string;
  basePort: string;
  security: string;
  dealer: boolean;
  force?: boolean;
  data?: string;
  days: string;
}

/** Add `mpc init` to the program. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a federation: a CA, certificates and configs for every party, the dealer and an analyst')
    .argument('<dir>', 'folder to write into (created if missing)')
    .requiredOption('--parties <ids>', 'comma-separated party ids in party order, e.g. p1,p2,p3')
    .option('--analyst <id>', 'id of the analyst allowed to submit jobs', 'alice')
    .option('--auditor <id>', "id of the auditor allowed to read the nodes' audit logs", 'auditor')
    .option('--federation <name>', 'federation name (part of every identity URI)', 'tessera')
    .option('--host <host>', 'host every process listens on and is reached at', '127.0.0.1')
    .option('--base-port <port>', 'dealer port; party i (from 0) listens on base-port + 1 + i', '7100')
    .option('--security <mode>', `weakest security mode the nodes accept (${SECURITY_MODES.join(' | ')})`, 'malicious')
    .option('--no-dealer', 'no dealer: the nodes make preprocessing by OT among themselves')
    .option('--days <n>', 'lifetime of the certificates in days (renew them with mpc cert renew)', String(DEFAULT_CERT_DAYS))
    .option('--force', 'replace an existing federation in <dir> (its certificates stop working)')
    .option('--data <inputs.json>', "example data: split an inputs file ({ party: { input: values } }) into each party's datasets")
    .action(async (dir: string, flags: InitFlags) => {
      const parties = flags.parties.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (!/^\d+$/.test(flags.basePort)) {
        throw new MpcError(ErrorCode.CONFIG, `--base-port: expected an integer in 1..65535, got ${JSON.stringify(flags.basePort)}`);
      }
      if (!(SECURITY_MODES as readonly string[]).includes(flags.security)) {
        throw new MpcError(ErrorCode.CONFIG, `--security: expected one of ${SECURITY_MODES.join(', ')}, got ${JSON.stringify(flags.security)}`);
      }
      const days = parseDaysFlag(flags.days);
      const { files, notAfter } = await initFederation(dir, {
        parties,
        analyst: flags.analyst,
        auditor: flags.auditor,
        days,
        federation: flags.federation,
        host: flags.host,
        basePort: Number(flags.basePort),
        dealer: flags.dealer,
        security: flags.security as SecurityMode,
        force: flags.force === true,
        ...(flags.data ? { data: loadInputsFile(flags.data).raw } : {}),
      });
      process.stdout.write(summary(dir, files, parties, flags, validUntil(notAfter, days)));
    });
}

function summary(dir: string, files: string[], parties: string[], flags: InitFlags, lifetime: string): string {
  const show = (p: string) => relative(process.cwd(), p) || '.';
  const ca = fingerprint(readFileSync(join(dir, 'ca.crt'), 'utf8'));
  const lines = [
    `Created federation "${flags.federation}" in ${dir} (CA sha256 ${ca}):`,
    ...files.map((f) => `  ${show(f)}`),
    `Certificates valid until ${lifetime}; renew them with mpc cert renew ${dir}.`,
    '',
    'Next steps:',
    `  1. start each party's node (one terminal, or one host, each):`,
    ...parties.map((p) => `       mpc node --config ${join(dir, `${p}.node.json`)}`),
  ];
  if (flags.dealer) lines.push(`  2. start the dealer:`, `       mpc dealer --config ${join(dir, 'dealer.json')}`);
  lines.push(
    `  ${flags.dealer ? 3 : 2}. run a circuit as analyst ${flags.analyst}:`,
    `       mpc run circuits/sum.ts --cluster ${join(dir, 'cluster.json')}`,
    '',
    `Bind each party's data under "datasets" in its .node.json, e.g. "x": { "file": "data/x.csv", "format": "csv", "column": "x" }.`,
    `Each party's <party>.policy.json says what may be computed on its data (default: aggregates of 5 or more elements, for ${flags.analyst} only);`,
    `check a circuit against it with mpc policy check <circuit.ts> --policy ${join(dir, `${parties[0]}.policy.json`)}, approve an exact plan with mpc policy approve.`,
    `Each node keeps a hash-chained audit log (<party>/audit.log): mpc audit verify <log>, mpc audit compare <logA> <logB>.`,
    `Keys are private (0600). Keep ca.key off the nodes: it is needed only to issue more certificates.`,
    '',
  );
  return lines.join('\n');
}
