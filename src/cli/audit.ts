/**
 * `mpc audit verify <log>` and `mpc audit compare <logA> <logB>`: offline checks of nodes'
 * audit logs (src/security/audit-check.ts). Findings go to stdout, one per line (or as one
 * JSON document with `--json`); the exit code is 1 when the log is bad or the logs disagree,
 * like `cmp`, so scripts can act on it. A file that cannot be read is an error (stderr).
 * @module
 */
import type { Command } from 'commander';
import { ErrorCode } from '../errors.ts';
import { compareAuditLogs, verifyAuditLog, type CompareReport, type Finding, type VerifyResult } from '../security/audit-check.ts';
import { readTextFile } from '../util/json-file.ts';
import { writeFile } from 'node:fs/promises';
import { loadAuditorConfig, loadTlsMaterial } from '../security/config.ts';
import { fetchAuditLog } from '../coordinator/auditor.ts';

function verifyFile(file: string): VerifyResult {
  return verifyAuditLog(readTextFile(file, ErrorCode.INPUT), file);
}

/** One line for a verify result. */
export function renderVerify(v: VerifyResult): string {
  if (v.ok) return `ok: ${v.entries.length} entries, head ${v.head}`;
  return `${v.file}: bad entry at line ${v.line} (i=${v.found ?? '?'}): ${v.reason}`;
}

function verifyJson(v: VerifyResult): object {
  if (v.ok) return { ok: true, file: v.file, entries: v.entries.length, head: v.head };
  return { ok: false, file: v.file, line: v.line, index: v.index, ...(v.found === undefined ? {} : { found: v.found }), reason: v.reason };
}

function renderFinding(f: Finding): string {
  const where = [f.sent && `sent ${f.sent.file}:${f.sent.line}`, f.received && `received ${f.received.file}:${f.received.line}`].filter(Boolean).join(', ');
  return `  ${f.finding.padEnd(11)} ${f.from}→${f.to} job ${f.job} ${f.kind} round ${f.round} (layer ${f.layer}, chunk ${f.chunk}) [${where}]: ${f.reason}`;
}

/** The text report of `mpc audit compare`: a summary line, then one line per finding. */
export function renderCompare(r: CompareReport): string {
  const [a, b] = r.parties;
  const counts = `${r.matched[0]} messages ${a}→${b}, ${r.matched[1]} ${b}→${a}`;
  const n = (k: Finding['finding']) => r.findings.filter((f) => f.finding === k).length;
  const undelivered = n('undelivered');
  const head = r.ok
    ? `match: ${counts}` + (undelivered > 0 ? ` (${undelivered} undelivered: lost with a link, a failed send or an ended job)` : '')
    : `mismatch: ${n('dropped')} dropped, ${n('injected')} injected, ${n('altered')} altered, ${n('reordered')} reordered` +
      (undelivered > 0 ? `, ${undelivered} undelivered` : '') +
      ` (matched ${counts})`;
  return [head, ...r.findings.map(renderFinding)].join('\n');
}

/** Add `mpc audit` to the program. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("check nodes' audit logs offline: the hash chain, and what two parties recorded of each other");
  audit
    .command('fetch')
    .description("download a node's audit log with the auditor's certificate (the node records the read)")
    .requiredOption('--config <file>', 'auditor.json written by mpc init')
    .requiredOption('--party <id>', 'whose log')
    .option('--out <file>', 'write it here (default: <party>.audit.log)')
    .action(async (opts: { config: string; party: string; out?: string }) => {
      const c = loadAuditorConfig(opts.config);
      const bytes = await fetchAuditLog({ federation: c.federation, tls: loadTlsMaterial(c.tls), parties: c.parties }, opts.party);
      const out = opts.out ?? `${opts.party}.audit.log`;
      await writeFile(out, bytes, { mode: 0o600 });
      const v = verifyAuditLog(Buffer.from(bytes).toString('utf8'), out);
      process.stdout.write(`${out}: ${bytes.byteLength} bytes from ${opts.party}; ${renderVerify(v)}\n`);
      if (!v.ok) process.exitCode = 1;
    });
  audit
    .command('verify')
    .description('check the hash chain of an audit log; names the first bad entry (exit 1)')
    .argument('<log>', "a node's audit log")
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      const v = verifyFile(file);
      process.stdout.write((opts.json ? JSON.stringify(verifyJson(v)) : renderVerify(v)) + '\n');
      if (!v.ok) process.exitCode = 1;
    });
  audit
    .command('compare')
    .description('check that what one party recorded as sent to the other is what that one recorded as received (exit 1 if not)')
    .argument('<logA>', "one party's audit log")
    .argument('<logB>', "another party's audit log")
    .option('--json', 'print the report as JSON')
    .action((fileA: string, fileB: string, opts: { json?: boolean }) => {
      const checked = [verifyFile(fileA), verifyFile(fileB)];
      const broken = checked.filter((v) => !v.ok);
      if (broken.length > 0) {
        const out = opts.json ? JSON.stringify({ ok: false, verify: checked.map(verifyJson) }) : broken.map(renderVerify).join('\n');
        process.stdout.write(out + '\n');
        process.exitCode = 1;
        return;
      }
      const [a, b] = checked.map((v) => ({ file: v.file, entries: v.entries }));
      const report = compareAuditLogs(a, b);
      process.stdout.write((opts.json ? JSON.stringify(report) : renderCompare(report)) + '\n');
      if (!report.ok) process.exitCode = 1;
    });
}
