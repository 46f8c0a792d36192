/**
 * The batched MAC check of SPDZ [DPSZ12; as streamlined in DKLPSS13, protocol MACCheck (with a
 * random linear combination and commit-then-open)], over Z_2^{k+s} with coefficients in
 * Z_2^s as SPDZ2k requires [CDESX18 §3, batch MAC check], over either MAC ring (mac-ring.ts):
 * Z_2^128 for k = 64, Z_2^192 for k = 128, both with s = 64.
 *
 * For opened values ỹ_1 … ỹ_t (as this party received them) with MAC shares m_{j,i}:
 * 1. joint coin: every party commits to 32 random bytes, then opens; the seed is the hash
 *    of all openings in party order, so no party can bias it after seeing the others';
 * 2. χ_j ∈ Z_2^64 from a PRG on that seed; y = Σ χ_j·ỹ_j and σ_i = Σ χ_j·m_{j,i} − α_i·y,
 *    all mod 2^{k+s};
 * 3. every party commits to σ_i (with a 32-byte nonce), then opens; Σσ_i ≡ 0 (mod 2^{k+s})
 *    or the check fails.
 * If some opened value was wrong in its low k bits (in any honest party's view), the check
 * passes with probability at most 2^{-s+log2(s+1)} ≈ 2^{-57.9} for s = 64 [CDESX18 §3],
 * for k = 64 and k = 128 alike: the bound depends on s only (the error term 2^v·δ, v < k,
 * survives the χ-combination mod 2^{k+s} unless χ's low s − v bits cancel it), so Z_2^192
 * with k = 128 gives the same ~58 bits as Z_2^128 with k = 64. α is never revealed, and
 * honest σ_i are uniform subject to Σσ_i = 0.
 *
 * Opened values are logged in slots claimed in call order (so chunked layers that run
 * concurrently still log deterministically); a check covers a fixed range of slots, is
 * numbered when its range is closed, and checks run one after another. Message rounds are
 * 4·(check index) + step, kind MacCheck, so checks never share a slot.
 *
 * A check covers up to `every` (2^20 by default) elements plus the opening that closed it,
 * so step 2 runs piece by piece (at most MUL_CHUNK elements at a time, pausing in between,
 * chunks.ts), with a fused kernel that draws no temporary vectors; χ is drawn piece by piece
 * from the same stream, so the coefficients do not depend on the pieces.
 * @module
 */
import type { Z128Vec } from '../../ring/z128.ts';
import { Prg } from '../../ring/prg.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import { MAC64, type MacRing } from './mac-ring.ts';
import { equalBytes, exchange, taggedHash, u32 } from './wire.ts';
import { MUL_CHUNK, pause } from './chunks.ts';

/** Default number of opened elements after which a check runs before going on (2^20). */
export const DEFAULT_MAC_CHECK_EVERY = 2 ** 20;

/** Tags and labels of the check over a ring: `tessera/spdz2k/v1/mac-check/…` for k = 64. */
const tags = (R: MacRing<unknown, unknown>) => ({
  coin: `${R.label}/mac-check/coin-commitment`,
  chiSeed: `${R.label}/mac-check/chi-seed`,
  chi: `${R.label}/mac-check/chi`,
  sigma: `${R.label}/mac-check/sigma-commitment`,
});

/** What one party keeps of one opening until it is checked: the opened values and its MAC shares of them. */
export interface Opening<E = Z128Vec> {
  opened: E;
  mac: E;
  /** Where the values were opened, for the failure message ("layer 3", "outputs"). */
  label: string;
}

/** What the check needs from the party: its index, peers, transport, local randomness and α_i. */
export type CheckSession = Session<{ readonly alpha: bigint }>;

interface Slot<E> {
  count: number;
  label: string;
  opening: Promise<Opening<E>>;
  resolve(o: Opening<E>): void;
  reject(e: unknown): void;
}

/** A claimed slot: fill it with `done` (or `fail`), then await `check` if there is one. */
export interface SlotHandle<E = Z128Vec> {
  done(opened: E, mac: E): void;
  fail(e: unknown): void;
  /** The check this slot closed, if it closed one (it has already been scheduled). */
  check?: Promise<void>;
}

/** Swallow a rejection for promises that may legitimately be left unawaited. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/**
 * The values opened since the last MAC check, one party's view, and the chain of checks.
 * Lives in the party's preprocessing source (one per job).
 */
export class OpenedValues<E = Z128Vec> {
  readonly #slots = new Map<number, Slot<E>>();
  #next = 0;
  #from = 0;
  #pending = 0;
  #checks = 0;
  #chain: Promise<void> = Promise.resolve();

  /** `every`: run a check as soon as this many elements were opened since the last one; `ring`: the MAC ring of the openings. */
  constructor(
    readonly every: number = DEFAULT_MAC_CHECK_EVERY,
    readonly ring: MacRing<unknown, E> = MAC64 as unknown as MacRing<unknown, E>,
  ) {
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`macCheckEvery: expected a positive integer, got ${String(every)}`);
  }

  /** Number of checks scheduled so far. */
  get checks(): number {
    return this.#checks;
  }

  /**
   * Claim the next slot for an opening of `count` elements. Must be called synchronously in
   * the protocol's (deterministic) order, before the opening's first await.
   */
  claim(s: CheckSession, count: number, label: string): SlotHandle<E> {
    let resolve!: (o: Opening<E>) => void;
    let reject!: (e: unknown) => void;
    const opening = quiet(
      new Promise<Opening<E>>((res, rej) => {
        resolve = res;
        reject = rej;
      }),
    );
    const seq = this.#next++;
    this.#slots.set(seq, { count, label, opening, resolve, reject });
    this.#pending += count;
    const handle: SlotHandle<E> = {
      done: (opened, mac) => resolve({ opened, mac, label }),
      fail: (e) => reject(e),
    };
    if (this.#pending >= this.every) handle.check = this.#close(s);
    return handle;
  }

  /** Check everything still unchecked, after every earlier check: the final check before outputs. */
  flush(s: CheckSession): Promise<void> {
    return this.#next > this.#from ? this.#close(s) : this.#chain;
  }

  /** Close the range of slots claimed since the last check and chain its check. */
  #close(s: CheckSession): Promise<void> {
    const from = this.#from;
    const to = this.#next;
    const count = this.#pending;
    this.#from = to;
    this.#pending = 0;
    // Every party closes the same ranges (counts are plan-derived), so skipping an empty
    // range keeps the check numbering in step.
    const index = count > 0 ? this.#checks++ : -1;
    const run = async (): Promise<void> => {
      const openings: Opening<E>[] = [];
      for (let seq = from; seq < to; seq++) {
        const slot = this.#slots.get(seq)!;
        openings.push(await slot.opening);
        this.#slots.delete(seq);
      }
      if (index >= 0) await macCheck(s, index, openings, MessageKind.MacCheck, this.ring);
    };
    this.#chain = quiet(this.#chain.then(run));
    return this.#chain;
  }
}

/**
 * The batched MAC check number `index` over `openings`, as party `s.self`. `kind` is the
 * message kind of its rounds: MacCheck for the online phase (the default), Prep for the
 * checks of the dealer-free preprocessing (src/preprocessing/ot/spdz2k.ts), so the two
 * numberings never share a slot. `R` is the MAC ring of the openings (Z_2^128 by default).
 */
export async function macCheck<E = Z128Vec>(
  s: CheckSession,
  index: number,
  openings: readonly Opening<E>[],
  kind: MessageKind = MessageKind.MacCheck,
  R: MacRing<unknown, E> = MAC64 as unknown as MacRing<unknown, E>,
): Promise<void> {
  const T = tags(R);
  const base = 4 * index;
  const ctx = u32(index);
  const what = `MAC check ${index}`;

  // 1. Joint coin for χ: commit, then open [DKLPSS13, MACCheck].
  const coin = s.rng.bytes(32);
  const coinCommits = await exchange(s, kind, base, taggedHash(T.coin, ctx, u32(s.self), coin), 32, `${what}: coin commitment`);
  const coins = await exchange(s, kind, base + 1, coin, 32, `${what}: coin`);
  verifyOpenings(s, T.coin, ctx, coinCommits, coins);
  const chi = new Prg(taggedHash(T.chiSeed, ctx, ...coins), T.chi);

  // 2. σ_i = Σ χ_j·m_{j,i} − α_i·Σ χ_j·ỹ_j (mod 2^{k+s}), χ_j ∈ Z_2^64 [CDESX18 §3].
  // acc = [y limbs, m limbs], lowest limb first
  const L = R.limbs;
  const acc = new BigUint64Array(2 * L);
  for (const o of openings) {
    const t = R.length(o.opened);
    for (let i = 0; i < t; i += MUL_CHUNK) {
      const e = Math.min(t, i + MUL_CHUNK);
      await pause(e - i);
      R.chiDot(chi.u64(e - i), o.opened, o.mac, i, acc);
    }
  }
  const y = R.scalarOf(R.words(acc.subarray(0, L), 1));
  const m = R.scalarOf(R.words(acc.subarray(L), 1));
  const sigma = BigInt.asUintN(R.bits, m - s.prep.alpha * y);

  // 3. Commit to σ_i with a nonce, then open; the σ_i must sum to zero.
  const opening = new Uint8Array(32 + R.bytes);
  opening.set(s.rng.bytes(32), 0);
  opening.set(R.toBytes(R.scalar(sigma)), 32);
  const sigmaCommits = await exchange(s, kind, base + 2, taggedHash(T.sigma, ctx, u32(s.self), opening), 32, `${what}: σ commitment`);
  const sigmas = await exchange(s, kind, base + 3, opening, opening.length, `${what}: σ`);
  verifyOpenings(s, T.sigma, ctx, sigmaCommits, sigmas);
  let total = 0n;
  for (const o of sigmas) total += R.scalarOf(R.fromBytes(o.subarray(32)));
  if (BigInt.asUintN(R.bits, total) !== 0n) {
    const where = [...new Set(openings.map((o) => o.label))].join(', ');
    throw new MpcError(ErrorCode.MAC_CHECK, `MAC check failed: a party deviated (values opened in ${where})`);
  }
}

function verifyOpenings(s: CheckSession, tag: string, ctx: Uint8Array, commits: Uint8Array[], openings: Uint8Array[]): void {
  for (let j = 0; j < s.parties.length; j++) {
    if (!equalBytes(taggedHash(tag, ctx, u32(j), openings[j]), commits[j])) {
      throw new MpcError(ErrorCode.MAC_CHECK, `MAC check: commitment mismatch from ${s.parties[j]}`, { party: s.parties[j] });
    }
  }
}
