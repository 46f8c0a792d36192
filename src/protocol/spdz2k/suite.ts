/**
 * SPDZ2k, the malicious-security suite: authenticated additive sharing over Z_2^64 with
 * k = 64, s = 64 (shares and MACs in Z_2^128) [CDESX18 "SPDZ2k: Efficient MPC mod 2^k for
 * Dishonest Majority", CRYPTO 2018], with dealer preprocessing (dealer.ts). Any deviation by
 * up to n − 1 corrupt parties makes every honest party abort before releasing any output,
 * except with probability about 2^-57.9 per MAC check (s − log2(s + 1) bits, [CDESX18 §3]).
 *
 * Files, one role each (MP-SPDZ's Share / Input / Protocol / MC / Prep split):
 * share.ts (local ops), schedule.ts + dealer.ts + prep.ts (preprocessing), input.ts,
 * multiply.ts (Beaver), open.ts (openings for comparisons), mac-check.ts (batched MAC check), output.ts, wire.ts (messages),
 * chunks.ts (size bounds: pieces, chunks, pauses).
 *
 * Message slots (kind, round): Input c (chunk c of an owner's masked inputs),
 * BroadcastCheck 0 (input digests), Open k (layer k's Beaver openings; chunk c of it at
 * c·2^20 + k), Open L (output openings, L = plan.layers.length; chunk c at c·2^20 + L),
 * Output 0 (analyst-output commitments), Open L+1 (the analyst's key κ), MacCheck 4c…4c+3
 * (check c: coin commitment, coin, σ commitment, σ). No message carries more than
 * MUL_CHUNK = 2^18 elements (2^19 for a layer chunk's [d | e]), no preprocessing item is
 * longer, and long loops pause between pieces (chunks.ts, README.md).
 *
 * References (section numbers of the ePrint versions):
 * - [CDESX18] Cramer, Damgård, Escudero, Scholl, Xing. SPDZ2k: Efficient MPC mod 2^k for
 *   Dishonest Majority. CRYPTO 2018 (ePrint 2018/482): §3 MACs mod 2^{k+s} and the batch
 *   check, §4 the online protocol.
 * - [DPSZ12] Damgård, Pastro, Smart, Zakarias. Multiparty Computation from Somewhat
 *   Homomorphic Encryption. CRYPTO 2012: the SPDZ online phase (input, Beaver, MAC check).
 * - [DKLPSS13] Damgård, Keller, Larraia, Pastro, Scholl, Smart. Practical Covertly Secure MPC
 *   for Dishonest Majority – or: Breaking the SPDZ Limits. ESORICS 2013: protocol MACCheck
 *   (MAC check without opening the key, commit-then-open).
 * - [Bea91] Beaver. Efficient Multiparty Protocols Using Circuit Randomization. CRYPTO 1991.
 * @module
 */
import { D64 } from '../domain.ts';
import type { ProtocolSuite } from '../suite.ts';
import * as z128 from '../../ring/z128.ts';
import { Spdz2kPrep, type Spdz2kMaterialSource } from './prep.ts';
import { abortedBy } from '../../util/run-ahead.ts';
import { shareInputs } from './input.ts';
import { multiply } from './multiply.ts';
import { open } from './open.ts';
import { deliverOutputs, reconstructExternal } from './output.ts';
import { DEFAULT_MAC_CHECK_EVERY } from './mac-check.ts';
import {
  addShares,
  broadcastShare,
  concatShares,
  gatherShare,
  mulPublicShare,
  packShare,
  negShare,
  publicShare,
  shareLength,
  sliceShare,
  subShares,
  sumShare,
  type AuthShare,
} from './share.ts';

export interface Spdz2kOptions {
  /**
   * Run a MAC check as soon as this many elements were opened since the last check (each
   * multiplication opens two), besides the final check before outputs. Bounds the memory
   * of the opened-values log (32 bytes per element) and how long a deviation goes unnoticed.
   * Default 2^20.
   */
  macCheckEvery?: number;
}

/** A SPDZ2k suite; the registered one (`suiteFor('malicious')`) uses the defaults. */
export function createSpdz2k(options: Spdz2kOptions = {}): ProtocolSuite<AuthShare, Spdz2kPrep> {
  const macCheckEvery = options.macCheckEvery ?? DEFAULT_MAC_CHECK_EVERY;
  if (!Number.isSafeInteger(macCheckEvery) || macCheckEvery < 1) {
    throw new RangeError(`options.macCheckEvery must be a positive integer, got ${String(options.macCheckEvery)}`);
  }
  return {
    name: 'malicious',
    domain: D64,
    length: shareLength,
    fromPublic: (session, v) => publicShare(session.self, session.prep.alpha, v),
    add: addShares,
    sub: subShares,
    neg: negShare,
    sum: sumShare,
    mulPublic: mulPublicShare,
    broadcast: broadcastShare,
    concat: concatShares,
    slice: sliceShare,
    gather: gatherShare,
    allocate: (length) => ({ x: z128.alloc(length), m: z128.alloc(length) }),
    place: (into, offset, part) => {
      for (const [to, from] of [[into.x, part.x], [into.m, part.m]] as const) {
        to.lo.set(from.lo, offset);
        to.hi.set(from.hi, offset);
      }
    },
    pack: packShare,
    input: shareInputs,
    multiply,
    open,
    verify: (session) => session.prep.opened.flush(session),
    rand: (session, bits, length) => session.prep.rand(bits, length),
    output: deliverOutputs,
    reconstructExternal,
    prep: (plan, n, self, material, signal) => abortedBy(signal, new Spdz2kPrep(plan, n, self, material as Spdz2kMaterialSource, { macCheckEvery })),
  };
}

/** The malicious suite with default parameters. */
export const spdz2k = createSpdz2k();

export type { AuthShare, Spdz2kPrep };
