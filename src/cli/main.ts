/**
 * The `mpc` command line: argument parsing only. Each command lives in its own module and
 * calls the library API, so everything the CLI does can also be done (and tested) from code.
 * @module
 */
import { Command, CommanderError } from 'commander';
import { MpcError } from '../errors.ts';
import { registerCompile } from './compile.ts';
import { registerDaemons } from './daemons.ts';
import { registerRun } from './run.ts';
import { registerInit } from './init.ts';
import { registerAudit } from './audit.ts';
import { registerCert } from './cert.ts';
import { registerPolicy } from './policy.ts';

/** Build the command tree; exported so tests can parse arguments without running anything. */
export function buildProgram(): Command {
  const program = new Command('mpc')
    .description('Tessera: secure multi-party computation over secret-shared Z_2^64')
    .showHelpAfterError()
    .exitOverride();
  registerCompile(program);
  registerRun(program);
  registerDaemons(program);
  registerInit(program);
  registerAudit(program);
  registerCert(program);
  registerPolicy(program);
  return program;
}

/** Print an error the way every command does: code, message, no stack unless MPC_DEBUG=1. */
export function reportError(e: unknown): void {
  if (e instanceof MpcError) {
    process.stderr.write(`mpc: error [${e.code}]: ${e.message}\n`);
  } else if (e instanceof Error) {
    process.stderr.write(`mpc: error: ${e.message}\n`);
  } else {
    process.stderr.write(`mpc: error: ${String(e)}\n`);
  }
  if (process.env.MPC_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    reportError(e);
    process.exitCode ??= 1;
    if (process.exitCode === 0) process.exitCode = 1;
  }
}
