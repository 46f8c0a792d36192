/**
 * The protocol suites by security level: the one place that maps a job's `security` to
 * the code that runs it (nodes, dealer, analyst and tests all go through here).
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { semiHonest } from './semi-honest.ts';
import { spdz2k } from './spdz2k/suite.ts';
import type { ProtocolSuite } from './suite.ts';

export type SecurityLevel = 'semi-honest' | 'malicious';
export const SECURITY_LEVELS: readonly SecurityLevel[] = ['semi-honest', 'malicious'];

// Suites are stateless objects; the per-job state lives in the Session and the prep source.
const suites: Partial<Record<SecurityLevel, ProtocolSuite<unknown, unknown>>> = {
  'semi-honest': semiHonest as ProtocolSuite<unknown, unknown>,
  malicious: spdz2k as ProtocolSuite<unknown, unknown>,
};

export function suiteFor(security: SecurityLevel): ProtocolSuite<unknown, unknown> {
  const s = suites[security];
  if (!s) throw new MpcError(ErrorCode.UNSUPPORTED, `security ${security} is not implemented in this build`);
  return s;
}
