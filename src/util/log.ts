/**
 * Structured logs: one JSON object per line (pino), so operators can grep and ship them.
 * The network layer's `NetLog` sink forwards here.
 * @module
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { NetLog } from '../net/log.ts';

export type { Logger };

/** A logger for one process, tagged with its role and id. */
export function createLogger(bindings: { role: string; id: string }, destination?: DestinationStream): Logger {
  const level = process.env.MPC_LOG_LEVEL ?? 'info';
  return destination ? pino({ level, base: bindings }, destination) : pino({ level, base: bindings });
}

/** Adapt a pino logger to the network layer's sink. */
export function netLog(log: Logger): NetLog {
  return (level, msg, fields) => log[level](fields ?? {}, msg);
}
