/**
 * `mpc node --config <file>` and `mpc dealer --config <file>`: long-running daemons that log
 * one JSON object per line to stdout and stop cleanly on SIGINT/SIGTERM.
 * @module
 */
import type { Command } from 'commander';
import { loadDealerConfig, loadNodeConfig } from '../security/config.ts';
import { startNode } from '../node/node.ts';
import { startDealer } from '../preprocessing/dealer-server.ts';
import { createLogger, type Logger } from '../util/log.ts';

/** Keep the process alive until a signal, then close the service and exit. */
function serveUntilSignal(log: Logger, close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ event: 'shutdown', signal }, `received ${signal}, shutting down`);
      const force = setTimeout(() => process.exit(1), 5000);
      force.unref();
      close()
        .catch((e: Error) => log.error({ event: 'shutdown-error', err: e.message }, 'error during shutdown'))
        .finally(() => {
          log.flush?.();
          resolve();
          // A daemon that was asked to stop must not linger on a socket in its closing
          // handshake with a peer that is itself shutting down.
          setImmediate(() => process.exit(process.exitCode ?? 0));
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // A daemon an embedded federation started goes when its parent goes, however it ended
    // (a killed `mpc run` cannot stop its children itself).
    const parent = Number(process.env.MPC_PARENT_PID);
    if (Number.isSafeInteger(parent) && parent > 1) {
      const watch = setInterval(() => {
        try {
          process.kill(parent, 0);
        } catch {
          clearInterval(watch);
          stop('parent exited');
        }
      }, 1000);
      watch.unref();
    }
  });
}

export function registerDaemons(program: Command): void {
  program
    .command('node')
    .description("run a party's node: holds its datasets, talks to the other parties, runs jobs")
    .requiredOption('--config <file>', 'node config written by `mpc init` (e.g. fed/p1.node.json)')
    .action(async (opts: { config: string }) => {
      const cfg = loadNodeConfig(opts.config);
      const log = createLogger({ role: 'party', id: cfg.party });
      const node = await startNode(cfg, log);
      // SIGHUP, as for most daemons: read the policy and the (renewed) certificates again now,
      // without waiting for the file watchers and without a restart.
      process.on('SIGHUP', () => {
        log.info({ event: 'reload', signal: 'SIGHUP' }, 'received SIGHUP, reloading the policy and TLS files');
        node.reload();
      });
      await serveUntilSignal(log, node.close);
    });
  program
    .command('dealer')
    .description('run the trusted dealer that supplies Beaver triples (dealer preprocessing)')
    .requiredOption('--config <file>', 'dealer config written by `mpc init` (e.g. fed/dealer.json)')
    .action(async (opts: { config: string }) => {
      const cfg = loadDealerConfig(opts.config);
      const log = createLogger({ role: 'dealer', id: cfg.id });
      const dealer = await startDealer(cfg, log);
      await serveUntilSignal(log, dealer.close);
    });
}
