/**
 * Tessera's error type and its stable codes. Every error a user or a peer can cause carries
 * one of these codes, so logs, tests and tools can match on the code rather than on wording.
 * The list is documented in README.md ("Error codes").
 * @module
 */

export const ErrorCode = {
  /** A circuit file could not be loaded or compiled. */
  CIRCUIT: 'MPC_ERR_CIRCUIT',
  /** Input data (inputs file, dataset, shape) is malformed or does not fit the plan. */
  INPUT: 'MPC_ERR_INPUT',
  /** A peer sent something the protocol does not allow: wrong length, kind, sender, order. */
  PROTOCOL: 'MPC_ERR_PROTOCOL',
  /** A frame could not be decoded, or exceeds the limits. */
  FRAME: 'MPC_ERR_FRAME',
  /** A peer could not be authenticated, or presented the wrong identity. */
  PEER_AUTH: 'MPC_ERR_PEER_AUTH',
  /** A peer disconnected or stopped answering during a job. */
  PEER_LOST: 'MPC_ERR_PEER_LOST',
  /** A job was aborted (by this node or by a peer). */
  ABORTED: 'MPC_ERR_ABORTED',
  /** A MAC check failed: some party deviated from the protocol. */
  MAC_CHECK: 'MPC_ERR_MAC_CHECK',
  /** Preprocessing material is missing, exhausted or inconsistent. */
  PREPROCESSING: 'MPC_ERR_PREPROCESSING',
  /** Configuration (node config, cluster file, CLI flag) is invalid. */
  CONFIG: 'MPC_ERR_CONFIG',
  /** A requested feature does not exist yet in this build. */
  UNSUPPORTED: 'MPC_ERR_UNSUPPORTED',
  /** The request was refused by policy or role checks. */
  FORBIDDEN: 'MPC_ERR_FORBIDDEN',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class MpcError extends Error {
  readonly code: ErrorCode;
  /** The party (id or index) the error is attributed to, when there is one. */
  readonly party?: string;

  constructor(code: ErrorCode, message: string, options: { party?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MpcError';
    this.code = code;
    if (options.party !== undefined) this.party = options.party;
  }
}

/** True when `e` is an MpcError with the given code. */
export function isMpcError(e: unknown, code?: ErrorCode): e is MpcError {
  return e instanceof MpcError && (code === undefined || e.code === code);
}
