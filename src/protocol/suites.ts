/**
 * The protocol suites by security level: the one place that maps a job's `security` to
 * the code that runs it (nodes, dealer, analyst and tests all go through here).
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { semiHonest, semiHonest128 } from './semi-honest.ts';
import type { RingBits } from './domain.ts';
import { spdz2k, spdz2k128 } from './spdz2k/suite.ts';
import type { ProtocolSuite } from './suite.ts';

export type SecurityLevel = 'semi-honest' | 'malicious';
export const SECURITY_LEVELS: readonly SecurityLevel[] = ['semi-honest', 'malicious'];

// Suites are stateless objects; the per-job state lives in the Session and the prep source.
const suites: Record<RingBits, Partial<Record<SecurityLevel, ProtocolSuite<unknown, unknown>>>> = {
  64: {
    'semi-honest': semiHonest as ProtocolSuite<unknown, unknown>,
    malicious: spdz2k as ProtocolSuite<unknown, unknown>,
  },
  128: {
    'semi-honest': semiHonest128 as unknown as ProtocolSuite<unknown, unknown>,
    // SPDZ2k with k = 128, s = 64: shares and MACs in Z_2^192.
    malicious: spdz2k128 as unknown as ProtocolSuite<unknown, unknown>,
  },
};

/**
 * The suite of a job of `security` over Z_2^ring. Its vectors are BigUint64Arrays in
 * Z_2^64 and Z128Vecs in Z_2^128 (`suite.domain` says which); the type names the former.
 */
export function suiteFor(security: SecurityLevel, ring: RingBits = 64): ProtocolSuite<unknown, unknown> {
  const s = suites[ring]?.[security];
  if (!s) {
    throw new MpcError(ErrorCode.UNSUPPORTED, `security ${security} is not implemented in this build`);
  }
  return s;
}

/**
 * Refuse, before anything runs, a job this build cannot run: a suite it does not have for the
 * plan's domain. (Both preprocessing modes, dealer and OT, serve every suite and domain.)
 */
export function assertSupported(security: SecurityLevel, ring: RingBits): void {
  suiteFor(security, ring);
}
