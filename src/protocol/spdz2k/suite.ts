/**
 * SPDZ2k, the malicious-security suite: authenticated additive sharing over Z_2^k with
 * s = 64, for k = 64 (shares and MACs in Z_2^128, `spdz2k`) and k = 128 (shares and MACs in
 * Z_2^192, `spdz2k128`) [CDESX18 "SPDZ2k: Efficient MPC mod 2^k for Dishonest Majority",
 * CRYPTO 2018], with dealer preprocessing (src/preprocessing/spdz2k-dealer.ts). One
 * implementation over a MAC ring (mac-ring.ts) serves both. Any deviation by
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
 * MUL_CHUNK = 2^18 elements (2^19 for a layer chunk's [d | e]: 8 MiB at k = 64, 12 MiB at
 * k = 128, far below the 64 MiB frame limit), no preprocessing item is
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
import type { ProtocolSuite } from '../suite.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import type { Z192Vec } from '../../ring/z192.ts';
import { Spdz2kPrep, type Spdz2kMaterialSource } from './prep.ts';
import { abortedBy } from '../../util/run-ahead.ts';
import { shareInputs } from './input.ts';
import { multiply } from './multiply.ts';
import { open } from './open.ts';
import { deliverOutputs, reconstructExternalOver } from './output.ts';
import { DEFAULT_MAC_CHECK_EVERY } from './mac-check.ts';
import { MAC64, MAC128, type MacRing } from './mac-ring.ts';
import { shareOps, type AuthShare } from './share.ts';

export interface Spdz2kOptions {
  /**
   * Run a MAC check as soon as this many elements were opened since the last check (each
   * multiplication opens two), besides the final check before outputs. Bounds the memory
   * of the opened-values log (2·B bytes per element, B = 16 or 24) and how long a deviation
   * goes unnoticed. Default 2^20.
   */
  macCheckEvery?: number;
}

/**
 * A SPDZ2k suite over MAC ring `ring` (mac-ring.ts: MAC64, the default, for plans in Z_2^64;
 * MAC128 for plans in Z_2^128). The registered ones (`suiteFor('malicious', 64 | 128)`) use
 * the default options.
 */
export function createSpdz2k(options?: Spdz2kOptions): ProtocolSuite<AuthShare, Spdz2kPrep>;
export function createSpdz2k<V, E>(options: Spdz2kOptions, ring: MacRing<V, E>): ProtocolSuite<AuthShare<E>, Spdz2kPrep<V, E>, V>;
export function createSpdz2k<V, E>(options: Spdz2kOptions = {}, ring?: MacRing<V, E>): ProtocolSuite<AuthShare<E>, Spdz2kPrep<V, E>, V> {
  const R = ring ?? (MAC64 as unknown as MacRing<V, E>);
  const macCheckEvery = options.macCheckEvery ?? DEFAULT_MAC_CHECK_EVERY;
  if (!Number.isSafeInteger(macCheckEvery) || macCheckEvery < 1) {
    throw new RangeError(`options.macCheckEvery must be a positive integer, got ${String(options.macCheckEvery)}`);
  }
  const ops = shareOps(R);
  return {
    name: 'malicious',
    domain: R.D,
    length: ops.length,
    fromPublic: (session, v) => ops.fromPublic(session.self, session.prep.alpha, v),
    add: ops.add,
    sub: ops.sub,
    neg: ops.neg,
    sum: ops.sum,
    mulPublic: ops.mulPublic,
    broadcast: ops.broadcast,
    concat: ops.concat,
    slice: ops.slice,
    gather: ops.gather,
    allocate: ops.allocate,
    place: ops.place,
    pack: ops.pack,
    input: shareInputs,
    multiply,
    open,
    verify: (session) => session.prep.opened.flush(session),
    rand: (session, bits, length) => session.prep.rand(bits, length),
    output: deliverOutputs,
    reconstructExternal: (messages, length, name) => reconstructExternalOver(R, messages, length, name),
    prep: (plan, n, self, material, signal) => {
      const prep = new Spdz2kPrep<V, E>(plan, n, self, material as Spdz2kMaterialSource<E>, { macCheckEvery });
      // A plan of the other domain would be expanded over the other ring: refuse it here.
      if (prep.ring !== R) throw new MpcError(ErrorCode.UNSUPPORTED, `circuit ${plan.circuit} computes in Z_2^${plan.ring ?? 64}, but the malicious suite runs in Z_2^${R.k}`);
      return abortedBy(signal, prep);
    },
  };
}

/** The malicious suite for plans in Z_2^64 (k = 64: shares and MACs in Z_2^128), default parameters. */
export const spdz2k = createSpdz2k();

/** The malicious suite for plans in Z_2^128 (k = 128: shares and MACs in Z_2^192), default parameters. */
export const spdz2k128 = createSpdz2k({}, MAC128);

export type Spdz2k128Prep = Spdz2kPrep<Z128Vec, Z192Vec>;
export type { AuthShare, Spdz2kPrep };
