/**
 * `mpc cert renew <federation-dir> [--days n] [--only p1,alice]`: argument parsing for
 * {@link renewCertificates}, then what was renewed and until when. Running nodes pick the
 * new files up by themselves (on change, or on SIGHUP), so renewal needs no restart.
 * @module
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, MpcError } from '../errors.ts';
import { formatIdentity } from '../security/identity.ts';
import { checkDays, DEFAULT_CERT_DAYS, MAX_CERT_DAYS, renewCertificates } from '../security/init.ts';

interface RenewFlags {
  days: string;
  only?: string;
}

/**
 * The value of a `--days` flag as a number of days (1..MAX_CERT_DAYS); anything else is
 * MpcError CONFIG naming the flag. Shared by `mpc init` and `mpc cert renew`.
 */
export function parseDaysFlag(text: string, flag = '--days'): number {
  if (!/^\d+$/.test(text)) {
    throw new MpcError(ErrorCode.CONFIG, `${flag}: expected a whole number of days in 1..${MAX_CERT_DAYS}, got ${JSON.stringify(text)}`);
  }
  return checkDays(Number(text), flag);
}

/** "2027-12-07 (365 days)": how init and renew state a certificate's lifetime. */
export function validUntil(notAfter: Date, days: number): string {
  return `${notAfter.toISOString().slice(0, 10)} (${days} day${days === 1 ? '' : 's'})`;
}

/** Add `mpc cert` (with its sub-command `renew`) to the program. */
export function registerCert(program: Command): void {
  const cert = program.command('cert').description("manage a federation's certificates");
  cert
    .command('renew')
    .description('re-issue certificates with the CA key (same identities and host names, new keys); running nodes pick them up without a restart')
    .argument('<federation-dir>', 'the folder mpc init wrote (with ca.key)')
    .option('--days <n>', 'lifetime of the new certificates, in days', String(DEFAULT_CERT_DAYS))
    .option('--only <ids>', 'comma-separated ids (or role/id) to renew, e.g. p1,analyst/alice; default: all')
    .action(async (dir: string, flags: RenewFlags) => {
      const days = parseDaysFlag(flags.days);
      const only = flags.only?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (only !== undefined && only.length === 0) throw new MpcError(ErrorCode.CONFIG, '--only: expected at least one id');
      const renewed = await renewCertificates(dir, { days, ...(only ? { only } : {}) });
      const show = (p: string) => relative(process.cwd(), p) || '.';
      const lines = [
        `Renewed ${renewed.length} certificate${renewed.length === 1 ? '' : 's'} in ${dir}, valid until ${validUntil(renewed[0].notAfter, days)}:`,
        ...renewed.map((r) => `  ${formatIdentity(r.identity).padEnd(28)} ${show(r.cert)}, ${show(r.key)}`),
        '',
        'Copy each to its host if the federation is spread over several; running processes reload',
        'the files when they change (or on SIGHUP), without dropping running jobs.',
        '',
      ];
      process.stdout.write(lines.join('\n'));
    });
}
