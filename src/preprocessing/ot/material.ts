/**
 * The dealer-free preprocessing of one job, by security level: the material source a node
 * (or the in-process harness) hands to its suite's `prepWith`. Every party of the job creates
 * one over the job's transport, with the same session id.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { SecurityLevel } from '../../protocol/suites.ts';
import { createOtSemiHonestMaterial, type OtPrepOptions, type OtPrepStats } from './semi-honest.ts';
import { createOtSpdz2kMaterial } from './spdz2k.ts';

/** What a job with OT preprocessing trusts, for the node's log, the job's stats and `mpc run`. */
export const OT_TRUST =
  'OT preprocessing: no dealer or other third party; the parties make their own triples by oblivious transfer, and no MAC key share ever leaves its party';

/** A job's OT session id: binds every base OT and extension to the job and its plan (job ids are fresh). */
export function otSessionId(jobId: string, planHash: string): Uint8Array {
  return sha256(new TextEncoder().encode(`tessera/ot-preprocessing/v1\0${jobId}\0${planHash}`));
}

/** The material source of one party for one job. */
export function createOtMaterial(security: SecurityLevel, opts: OtPrepOptions): { material: unknown; stats(): OtPrepStats } {
  const m = security === 'semi-honest' ? createOtSemiHonestMaterial(opts) : createOtSpdz2kMaterial({ ...opts, ring: opts.ring ?? 64 });
  return { material: m, stats: () => m.stats() };
}
