/**
 * The network layer never logs on its own: it calls a `NetLog` function injected by the node
 * (which forwards to pino and the audit log). Refused handshakes and dropped frames are
 * security-relevant, so they are always reported through it.
 * @module
 */

/** Severity of a network log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A log sink: a short message plus structured fields (peer, job, code, …). */
export type NetLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** A sink that drops everything (the default when none is given). */
export const silentLog: NetLog = () => {};
