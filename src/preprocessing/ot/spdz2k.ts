/**
 * Dealer-free SPDZ2k preprocessing by oblivious transfer: the `Spdz2kMaterialSource` of a job
 * made by the parties themselves over their transport, following the offline phase of SPDZ2k
 * [CDESX18, §5 (authentication with a VOLE/COPE, triples by OT, the sacrifice)] and MASCOT
 * [KOS16] (Π_COPEe, the combine step, the authentication check), with s = 64 and either
 * k = 64 (every share and MAC in Z_2^128) or k = 128 (in Z_2^192, for plans in Z_2^128;
 * `OtSpdz2kOptions.ring`). Written from the papers; no code or text was taken from MP-SPDZ,
 * MPyC or other implementations.
 *
 * **Rings.** One engine (`Engine<V, E>`) is written against the MAC ring of
 * src/protocol/spdz2k/mac-ring.ts: `MAC64` (Z_2^128) or `MAC128` (Z_2^192). What differs per
 * ring is in `OtRing`: the Gilboa products (gilboa.ts over Z_2^128, gilboa192.ts over
 * Z_2^192), the products per Gilboa call, and the label prefix of the coins and PRG streams
 * (`tessera/ot/spdz2k/v1` for k = 64, the first version's, so its material is unchanged;
 * `tessera/ot/spdz2k128/v1` for k = 128). Below, "all k + s bits" means 128 or 192. The
 * material has the dealer's shape (src/preprocessing/spdz2k-dealer.ts) over the same ring.
 *
 * **MAC key.** Each party draws α_i uniform in [0, 2^64) (α = Σα_i ∈ Z_2^s as in SPDZ2k,
 * which halves COPE: 64 base OTs and 64 correction rows per element instead of 128, at either
 * k). α_i is only ever used as base-OT choice bits and in local products; it is never sent.
 *
 * **Sessions** (set up at once by `createOtSpdz2kMaterial`, per ordered pair and both roles):
 * a COPE session (cope.ts, OT stream 1) where this party's α_i is the correlation, one where
 * the peer's is, and two KOS-checked OT-extension sessions (extension.ts, stream 0, malicious)
 * for the Gilboa products. Stream 2 is left to other code.
 *
 * **Authentication** [[x]] of a vector whose shares x_i the parties hold (`#authenticate`):
 * m_i = α_i·x_i + Σ_{j≠i} (COPE share of α_i·x_j) + Σ_{j≠i} (COPE share of α_j·x_i), so
 * Σm_i = α·Σx_i. Then the authentication check [KOS16 §4.2, CDESX18 §5]: one extra
 * authenticated element r' (uniform) is appended, a joint coin (commit, then open) gives
 * χ_e ∈ Z_2^64, z = Σ χ_e·x_e + r' is opened (all k + s bits; uniform thanks to r') and goes
 * through the batched MAC check (mac-check.ts, kind Prep). A party whose COPE corrections
 * were not made with its x_i (or with one x in every u_b) leaves an α-dependent error in the
 * MACs, which the check catches except with probability ≈ 2^-57.9 per check (CDESX18's bound
 * for χ ∈ Z_2^s, s = 64, at k = 64 and k = 128 alike), or by guessing the Δ bits it attacked
 * (selective failure: each bit guessed costs it a 1/2 chance of being caught, as in [KOS16]).
 * Values held by one party only
 * (masks, a party's random bits) are authenticated the same way with the other parties' x = 0,
 * and only the COPE sessions with that holder as x-holder run.
 *
 * **Triples** (`#triples`, MASCOT's Π_Triple in Z_2^{k+s}, τ = 3): party i draws b_i and
 * a_i^(1..3); the cross products a_j^(t)·b_i are Gilboa products (gilboa.ts, gilboa192.ts)
 * in KOS-checked sessions with i as sender of b_i and j as receiver with a_j^(t) as choice
 * bits, so that the selective-failure leakage a malicious sender can cause is on bits of the
 * a^(t), which the combine then hashes away: with public random coefficients r, r̂ ∈ Z_2^{k+s}
 * drawn by a joint coin *after* the raw triples exist, a = Σ r_t·a^(t), c = Σ r_t·c^(t),
 * â = Σ r̂_t·a^(t), ĉ = Σ r̂_t·c^(t) [KOS16 §5]. a, b, c, â, ĉ are authenticated, then the
 * sacrifice [CDESX18 §5]: public random t (joint coin), open ρ = t·a − â, open
 * σ = t·c − ĉ − ρ·b (all k + s bits each), MAC-check both openings, and require σ = 0 mod
 * 2^{k+s}. A triple with c = ab + e, e ≠ 0 mod 2^k, passes only if t·e ≡ ê (mod 2^{k+s}), i.e.
 * with probability at most 2^-s = 2^-64 over t [CDESX18, Lemma on the sacrifice in
 * Z_2^{k+s}]; a failed check throws `MpcError` PREPROCESSING at every party (σ is public), a
 * lie in an opening MAC_CHECK, and no triple of that item is returned.
 *
 * **Random bits** (`#bits`, for `rand` items): every party i draws bits β_i and authenticates
 * them as held by it alone. The bits are XORed together with Beaver products on sacrificed
 * triples: b ← [β_0]; b ← b + β_h − 2·[b·β_h] for h = 1..n−1 (openings d, e of all k + s
 * bits, MAC-checked); then [b·(1 − b)] (one more Beaver product) is opened, MAC-checked and
 * must be 0 mod 2^{k+s}. Why a non-bit is caught: x ↦ x + β − 2xβ with β ∈ {0, 1} maps
 * {0, 1} to itself and its complement to itself (x or 1 − x), and for a non-bit β the image
 * of a bit is β or 1 − β, a non-bit; so one non-bit input makes the final b a non-bit, and
 * x(1 − x) ≡ 0 mod 2^m only for x ≡ 0 or 1 mod 2^m (x and 1 − x have opposite parities, one
 * is a unit). The MAC
 * check guarantees the opened product mod 2^k ([CDESX18]): so a cheater is caught unless it
 * breaks the MAC check, and b ≡ 0 or 1 mod 2^k is what the check proves (the upper s = 64
 * bits of SPDZ2k values are noise anyway; with honest parties b is exactly a bit in
 * Z_2^{k+s}). Why honest bits stay hidden: d and e are masked by the triple's a, b, uniform in
 * Z_2^{k+s} and used once; the check opens 0 in every honest run, and whether it aborts depends
 * on the cheater's own inputs and errors, not on honest bits; b is uniform as soon as one
 * party's β is. r = Σ_j 2^j·b_j is then local.
 *
 * **Masks and randoms.** `random`: each party draws x_i uniform, authenticated. `input-mask`:
 * the holder draws r (uniform, k + s bits), authenticated as held by it alone; its value is r
 * (the whole share element). `output-mask`: r = r_h + 2^k·ρ with r_h < 2^k drawn by the holder
 * (held by it alone) and ρ a joint random value (every party's share uniform): the holder
 * learns r_h = r mod 2^k and nothing of ρ. `rand` of B bits: B ≤ k.
 *
 * **Security.** Against a static malicious adversary corrupting any number of parties but
 * one, with abort: computational κ = 128 (base OT MRR21, AES PRG, KOS with the TMMO hash) and
 * statistical s = 64 for each check: KOS 2^-64 per batch, the authentication and MAC checks
 * 2^-57.9 per check [CDESX18 §3], the sacrifice 2^-64 per triple; by a union bound over the
 * checks of a job (≤ 2^20 of them, say) a cheater passes with probability ≲ 2^-37.9 overall,
 * and a few bits of α_i can leak through selective failure, each at a 1/2 risk of abort
 * [KOS16]. Correctness is guaranteed mod 2^k (the value ring), as in SPDZ2k. The bounds are
 * the same at k = 128: each depends on s only [CDESX18 §3] (mac-check.ts says why).
 *
 * **Cost** per triple and party, 2 parties: 3 Gilboa products and 5 COPE elements, i.e.
 * 3 × 128 OTs and 14 393 bytes at k = 64, 3 × 192 OTs and ~26 170 bytes at k = 128 (README.md
 * of this folder has the breakdown and measured rates).
 *
 * **Messages.** OT traffic: kind Ot, streams 0 (Gilboa in KOS sessions) and 1 (COPE).
 * Openings, coins and MAC checks: kind Prep, rounds from a counter advanced by 4 per
 * operation (a MAC check takes the 4 rounds of its block: `macCheck` index = block / 4),
 * identical at every party because items are produced in schedule order.
 * @module
 */
import type { Z128Vec } from '../../ring/z128.ts';
import type { Z192Vec } from '../../ring/z192.ts';
import { Prg } from '../../ring/prg.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind, type Transport } from '../../protocol/transport.ts';
import type { Item } from '../../protocol/spdz2k/schedule.ts';
import type { Spdz2kMaterial, Spdz2kMaterialSource } from '../../protocol/spdz2k/prep.ts';
import type { Kernels } from '../../protocol/kernels.ts';
import type { RingBits } from '../../protocol/domain.ts';
import { MAC64, MAC128, type MacRing } from '../../protocol/spdz2k/mac-ring.ts';
import { pipelined } from '../../util/queue.ts';
import { macCheck, type CheckSession, type Opening } from '../../protocol/spdz2k/mac-check.ts';
import { equalBytes, exchange, openShares, taggedHash, u32 } from '../../protocol/spdz2k/wire.ts';
import { systemRandom, type RandomBytes } from './base-ot.ts';
import { OtExtReceiver, OtExtSender, type BaseOtProvider } from './extension.ts';
import { FixedKeyAes } from './aes.ts';
import { gilboaReceive128, gilboaSend128 } from './gilboa.ts';
import { gilboaReceive192, gilboaSend192 } from './gilboa192.ts';
import { CopeDeltaHolder, CopeXHolder, COPE_STREAM } from './cope.ts';

export interface OtSpdz2kOptions {
  transport: Transport;
  /** Party names in job order, for messages. */
  parties: readonly string[];
  /** ≥ 16 bytes, the same at every party. */
  sessionId: Uint8Array;
  /** The plan's value ring Z_2^k (default 64): shares and MACs in Z_2^128 or, for 128, Z_2^192. */
  ring?: RingBits;
  /** Default systemRandom. */
  random?: RandomBytes;
  baseOt?: BaseOtProvider;
  /**
   * Test hook only: called with this party's raw values before use, to inject errors:
   * 'triple-c' the lowest limbs of the combined c share (before authentication), 'bit-input'
   * the lowest limbs of its random bits β_i, 'cope-u' the lowest limbs of each u_b it sends
   * as x-holder (one call per bit b).
   */
  tamper?: (what: 'triple-c' | 'bit-input' | 'cope-u', v: BigUint64Array) => void;
}

export interface OtSpdz2kStats {
  /** Sacrificed triples made (including those spent on random bits). */
  triples: number;
  /** Authenticated random bits made. */
  bits: number;
  /** Elements authenticated (MACs made by COPE). */
  authenticated: number;
  setupMs: number;
  generateMs: number;
}

/** Number of raw triples combined into one (MASCOT's τ). */
export const TAU = 3;
/**
 * Products per Gilboa call over Z_2^128: 2 048, i.e. 2^18 OTs and 32 KiB per matrix column.
 * Batches this size pipeline (GILBOA_WINDOW in flight: one computes while another waits for
 * the peer) and keep every buffer below AES_PIECE (src/ring/prg.ts). Measured over real nodes,
 * 2 parties, 20 000 triples: 16 384 products per batch, one at a time, left each party idle a
 * third of the time (32 MB matrices) and made 1 360 triples/s; 2 048 × 2 in flight make
 * 2 320/s (4 096 × 2: 2 200/s, 2 048 × 4 and 1 024 × 4: the same within the noise).
 */
const GILBOA_BATCH = 2048;
const GILBOA_WINDOW = 2;
/** Triples per internal generation step (bounds memory for long rand items). */
const TRIPLE_STEP = 1 << 16;
/** Random bits per internal step (each takes n such triples). */
const BITS_STEP = 1 << 14;

/**
 * What the engine needs besides the MAC ring's arithmetic: OT multiplication in that ring,
 * the label prefix of its coins and PRG streams (k = 64 keeps the first version's, so its
 * transcripts are unchanged; k = 128's differ, so one ring's coins are never the other's),
 * and the products per Gilboa call.
 */
interface OtRing<V, E> {
  readonly R: MacRing<V, E>;
  readonly label: string;
  readonly batch: number;
  send(ot: OtExtSender, x: E, aes: FixedKeyAes, peer: string): Promise<E>;
  receive(ot: OtExtReceiver, y: E, aes: FixedKeyAes, peer: string): Promise<E>;
}

const OT64: OtRing<BigUint64Array, Z128Vec> = {
  R: MAC64,
  label: 'tessera/ot/spdz2k/v1',
  batch: GILBOA_BATCH,
  send: (ot, x, aes) => gilboaSend128(ot, x, { aes }),
  receive: (ot, y, aes) => gilboaReceive128(ot, y, { aes }),
};

/**
 * Products per Gilboa call over Z_2^192: 1 024, i.e. 196 608 OTs (24 KiB matrix columns), so
 * a call's OTs and key buffers stay near those of a Z_2^128 call. Measured in one thread,
 * 2 parties, 4 096 triples, load 3–4: 512, 1 024 and 2 048 made 1.5–2.3 k triples/s, the same
 * within the noise.
 */
const GILBOA_BATCH_192 = 1024;

const OT128: OtRing<Z128Vec, Z192Vec> = {
  R: MAC128,
  label: 'tessera/ot/spdz2k128/v1',
  batch: GILBOA_BATCH_192,
  send: (ot, x, aes, peerName) => gilboaSend192(ot, x, { aes, peerName }),
  receive: (ot, y, aes, peerName) => gilboaReceive192(ot, y, { aes, peerName }),
};

interface Sessions<E> {
  copeD: Map<number, CopeDeltaHolder<E>>;
  copeX: Map<number, CopeXHolder<E>>;
  otS: Map<number, OtExtSender>;
  otR: Map<number, OtExtReceiver>;
}

interface Auth<E> {
  x: E;
  m: E;
}

interface Triples<E> {
  a: Auth<E>;
  b: Auth<E>;
  c: Auth<E>;
}

/** The SPDZ2k offline phase over one MAC ring (see the module comment); one per party and job. */
class Engine<V, E> {
  readonly R: MacRing<V, E>;
  readonly self: number;
  readonly n: number;
  readonly alpha: bigint;
  readonly check: CheckSession;
  readonly local: Prg;
  readonly aes = new FixedKeyAes();
  readonly stats: OtSpdz2kStats = { triples: 0, bits: 0, authenticated: 0, setupMs: 0, generateMs: 0 };
  readonly #tags: { coin: string; coinSeed: string; coinPrg: string };
  #round = 0;
  #sessions: Sessions<E> | undefined;
  readonly ready: Promise<void>;

  constructor(
    readonly ring: OtRing<V, E>,
    readonly opts: OtSpdz2kOptions,
  ) {
    this.R = ring.R;
    const t = opts.transport;
    this.self = t.self;
    this.n = t.n;
    if (opts.parties.length !== t.n) throw new RangeError(`createOtSpdz2kMaterial: ${opts.parties.length} party names for a transport of ${t.n} parties`);
    if (!(opts.sessionId instanceof Uint8Array) || opts.sessionId.length < 16) throw new RangeError('createOtSpdz2kMaterial: sessionId: expected a Uint8Array of at least 16 bytes');
    const random = opts.random ?? systemRandom;
    const a = new Uint8Array(8);
    a.set(random(8));
    this.alpha = new DataView(a.buffer).getBigUint64(0, true);
    a.fill(0);
    const L = ring.label;
    this.#tags = { coin: `${L}/coin-commitment`, coinSeed: `${L}/coin-seed`, coinPrg: `${L}/coin` };
    this.local = new Prg(random(32).slice(), `${L}/local`);
    this.check = { self: t.self, parties: opts.parties, transport: t, prep: { alpha: this.alpha }, rng: new Prg(random(32).slice(), `${L}/check`) };
    const started = performance.now();
    this.ready = this.#setup(random).then((s) => {
      this.#sessions = s;
      this.stats.setupMs = performance.now() - started;
    });
    this.ready.catch(() => {});
  }

  async #setup(random: RandomBytes): Promise<Sessions<E>> {
    const { transport, sessionId, baseOt, parties } = this.opts;
    const s: Sessions<E> = { copeD: new Map(), copeX: new Map(), otS: new Map(), otR: new Map() };
    const tasks: Promise<void>[] = [];
    for (let j = 0; j < this.n; j++) {
      if (j === this.self) continue;
      const cope = { transport, peer: j, sessionId, peerName: parties[j], stream: COPE_STREAM, random, baseOt, ring: this.R };
      tasks.push(CopeDeltaHolder.setup({ ...cope, delta: this.alpha }).then((c) => void s.copeD.set(j, c)));
      tasks.push(CopeXHolder.setup(cope).then((c) => void s.copeX.set(j, c)));
      const ot = { transport, peer: j, sessionId, stream: 0, malicious: true, random, baseOt };
      tasks.push(OtExtSender.setup(ot).then((o) => void s.otS.set(j, o)));
      tasks.push(OtExtReceiver.setup(ot).then((o) => void s.otR.set(j, o)));
    }
    await Promise.all(tasks);
    return s;
  }

  get sessions(): Sessions<E> {
    return this.#sessions!;
  }

  /** The next block of 4 Prep rounds. */
  #block(): number {
    const b = this.#round;
    this.#round += 4;
    return b;
  }

  /** A joint coin: commit to 32 random bytes, then open; the PRG of the hash of all openings. */
  async coin(label: string): Promise<Prg> {
    const base = this.#block();
    const ctx = u32(base);
    const mine = this.check.rng.bytes(32);
    const what = `preprocessing coin ${base / 4} (${label})`;
    const T = this.#tags;
    const commits = await exchange(this.check, MessageKind.Prep, base, taggedHash(T.coin, ctx, u32(this.self), mine), 32, `${what}: commitment`);
    const coins = await exchange(this.check, MessageKind.Prep, base + 1, mine, 32, what);
    for (let j = 0; j < this.n; j++) {
      if (!equalBytes(taggedHash(T.coin, ctx, u32(j), coins[j]), commits[j])) {
        const name = this.opts.parties[j];
        throw new MpcError(ErrorCode.PROTOCOL, `${what}: party ${name} opened a coin that does not match its commitment`, { party: name });
      }
    }
    return new Prg(taggedHash(T.coinSeed, ctx, ...coins), `${T.coinPrg}/${label}`);
  }

  /** Open `v` (every bit of the MAC ring). */
  open(v: E, what: string): Promise<E> {
    return openShares(this.check, MessageKind.Prep, this.#block(), v, `the preprocessing opening of ${what}`, undefined, this.R);
  }

  /** MAC-check `openings` (kind Prep). */
  macCheck(openings: Opening<E>[]): Promise<void> {
    const base = this.#block();
    return macCheck(this.check, base / 4, openings, MessageKind.Prep, this.R);
  }

  isZero(v: E): boolean {
    for (const limb of this.R.limbArrays(v)) for (let k = 0; k < limb.length; k++) if (limb[k] !== 0n) return false;
    return true;
  }

  /**
   * MAC shares of the shared vector x (this party's share x_i), with the authentication check.
   * `holder`: the vector is held by that party alone (the others pass zeros).
   */
  async authenticate(x: E, what: string, holder?: number): Promise<E> {
    const R = this.R;
    const N = R.length(x);
    const { copeD, copeX } = this.sessions;
    // x ‖ r' : the extra element masks the check's opening.
    const xx = R.alloc(N + 1);
    R.place(xx, 0, x);
    if (holder === undefined || holder === this.self) R.place(xx, N, R.random(this.local, 1));
    const m = R.mulScalar(xx, this.alpha);
    const parts: Promise<E>[] = [];
    const tamper = this.opts.tamper;
    for (let j = 0; j < this.n; j++) {
      if (j === this.self) continue;
      if (holder === undefined || holder === j) parts.push(copeD.get(j)!.extend(N + 1));
      if (holder === undefined || holder === this.self) parts.push(copeX.get(j)!.extend(xx, tamper && ((v) => tamper('cope-u', v))));
    }
    for (const p of await Promise.all(parts)) R.add(m, p, m);
    this.stats.authenticated += N;

    // The authentication check: z = Σ χ_e·x_e + r', opened and MAC-checked.
    const chi = (await this.coin(`auth/${what}`)).u64(N);
    const acc = new BigUint64Array(2 * R.limbs);
    R.chiDot(chi, R.slice(xx, 0, N), R.slice(m, 0, N), 0, acc);
    const zx = R.add(R.words(acc.subarray(0, R.limbs), 1), R.slice(xx, N, N + 1));
    const zm = R.add(R.words(acc.subarray(R.limbs), 1), R.slice(m, N, N + 1));
    const z = await this.open(zx, `the authentication check of ${what}`);
    await this.macCheck([{ opened: z, mac: zm, label: `the authentication of ${what}` }]);
    return R.slice(m, 0, N);
  }

  /** `L` sacrificed authenticated triples, in steps of at most TRIPLE_STEP. */
  async triples(L: number, what: string): Promise<Triples<E>> {
    if (L <= TRIPLE_STEP) return this.#triples(L, what);
    const parts: Triples<E>[] = [];
    for (let s = 0; s < L; s += TRIPLE_STEP) parts.push(await this.#triples(Math.min(TRIPLE_STEP, L - s), what));
    const cat = (f: (t: Triples<E>) => Auth<E>): Auth<E> => ({ x: this.R.concat(parts.map((t) => f(t).x)), m: this.R.concat(parts.map((t) => f(t).m)) });
    return { a: cat((t) => t.a), b: cat((t) => t.b), c: cat((t) => t.c) };
  }

  async #triples(L: number, what: string): Promise<Triples<E>> {
    const R = this.R;
    const { otS, otR } = this.sessions;
    const { parties } = this.opts;
    const b = R.random(this.local, L);
    const as = Array.from({ length: TAU }, () => R.random(this.local, L));
    const cs = as.map((a) => R.mul(a, b));
    // Cross products: this party sends b (x of Gilboa) to every peer's a^(t) (choice bits),
    // and receives with its a^(t) against every peer's b, one batch of products at a time.
    await pipelined(L, this.ring.batch, GILBOA_WINDOW, async (s, e) => {
      const tasks: Promise<void>[] = [];
      for (let j = 0; j < this.n; j++) {
        if (j === this.self) continue;
        for (let t = 0; t < TAU; t++) {
          const into = R.slice(cs[t], s, e);
          tasks.push(this.ring.send(otS.get(j)!, R.slice(b, s, e), this.aes, parties[j]).then((v) => void R.add(into, v, into)));
          tasks.push(this.ring.receive(otR.get(j)!, R.slice(as[t], s, e), this.aes, parties[j]).then((v) => void R.add(into, v, into)));
        }
      }
      await Promise.all(tasks);
    });
    // Combine with public coefficients drawn now that the raw triples exist [KOS16 §5].
    const coef = await this.coin(`combine/${what}`);
    const a = R.alloc(L);
    const c = R.alloc(L);
    const ah = R.alloc(L);
    const ch = R.alloc(L);
    for (let t = 0; t < TAU; t++) {
      const r = R.random(coef, L);
      const rh = R.random(coef, L);
      R.add(a, R.mul(r, as[t]), a);
      R.add(c, R.mul(r, cs[t]), c);
      R.add(ah, R.mul(rh, as[t]), ah);
      R.add(ch, R.mul(rh, cs[t]), ch);
    }
    this.opts.tamper?.('triple-c', R.limbArrays(c)[0]);
    const all = R.concat([a, b, c, ah, ch]);
    const m = await this.authenticate(all, `triples (${what})`);
    const [ma, mb, mc, mah, mch] = [0, 1, 2, 3, 4].map((k) => R.slice(m, k * L, (k + 1) * L));

    // Sacrifice [CDESX18 §5]: ρ = t·a − â, σ = t·c − ĉ − ρ·b; σ must be 0.
    const tc = R.random(await this.coin(`sacrifice/${what}`), L);
    const rhoX = R.sub(R.mul(tc, a), ah);
    const rhoM = R.sub(R.mul(tc, ma), mah);
    const rho = await this.open(rhoX, `the sacrifice of ${what}`);
    const sigX = R.sub(R.sub(R.mul(tc, c), ch), R.mul(rho, b));
    const sigM = R.sub(R.sub(R.mul(tc, mc), mch), R.mul(rho, mb));
    const sigma = await this.open(sigX, `the sacrifice of ${what}`);
    await this.macCheck([
      { opened: rho, mac: rhoM, label: `the sacrifice of ${what} (ρ)` },
      { opened: sigma, mac: sigM, label: `the sacrifice of ${what} (σ)` },
    ]);
    if (!this.isZero(sigma)) throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing: the sacrifice of ${what} failed: some party's triple shares are wrong (c ≠ a·b)`);
    this.stats.triples += L;
    return { a: { x: a, m: ma }, b: { x: b, m: mb }, c: { x: c, m: mc } };
  }

  /** Beaver products x·y with triples `t` (openings logged into `log`). */
  async #beaver(x: Auth<E>, y: Auth<E>, t: Triples<E>, log: Opening<E>[], what: string): Promise<Auth<E>> {
    const R = this.R;
    const N = R.length(x.x);
    const dx = R.concat([R.sub(x.x, t.a.x), R.sub(y.x, t.b.x)]);
    const dm = R.concat([R.sub(x.m, t.a.m), R.sub(y.m, t.b.m)]);
    const de = await this.open(dx, what);
    log.push({ opened: de, mac: dm, label: what });
    const d = R.slice(de, 0, N);
    const e = R.slice(de, N, 2 * N);
    // z = c + d·b + e·a + d·e
    const zx = R.add(R.add(t.c.x, R.mul(d, t.b.x)), R.mul(e, t.a.x));
    const zm = R.add(R.add(t.c.m, R.mul(d, t.b.m)), R.mul(e, t.a.m));
    const de2 = R.mul(d, e);
    if (this.self === 0) R.add(zx, de2, zx);
    R.add(zm, R.mulScalar(de2, this.alpha), zm);
    return { x: zx, m: zm };
  }

  /** `count` authenticated random bits, in steps of at most BITS_STEP (see the module comment). */
  async bits(count: number, what: string): Promise<Auth<E>> {
    if (count <= BITS_STEP) return this.#bits(count, what);
    const parts: Auth<E>[] = [];
    for (let s = 0; s < count; s += BITS_STEP) parts.push(await this.#bits(Math.min(BITS_STEP, count - s), what));
    return { x: this.R.concat(parts.map((p) => p.x)), m: this.R.concat(parts.map((p) => p.m)) };
  }

  async #bits(count: number, what: string): Promise<Auth<E>> {
    const R = this.R;
    const n = this.n;
    const raw = this.local.bytes(Math.ceil(count / 8));
    const beta = R.alloc(count);
    const low = R.limbArrays(beta)[0];
    for (let k = 0; k < count; k++) low[k] = BigInt((raw[k >> 3] >> (k & 7)) & 1);
    this.opts.tamper?.('bit-input', low);
    const shares: Auth<E>[] = [];
    for (let h = 0; h < n; h++) {
      const x = h === this.self ? beta : R.alloc(count);
      shares.push({ x, m: await this.authenticate(x, `random bits of party ${this.opts.parties[h]} (${what})`, h) });
    }
    const t = await this.triples(n * count, `bits (${what})`);
    const part = (s: number, e: number): Triples<E> => {
      const sl = (v: Auth<E>): Auth<E> => ({ x: R.slice(v.x, s, e), m: R.slice(v.m, s, e) });
      return { a: sl(t.a), b: sl(t.b), c: sl(t.c) };
    };
    const log: Opening<E>[] = [];
    let b = shares[0];
    for (let h = 1; h < n; h++) {
      const p = await this.#beaver(b, shares[h], part((h - 1) * count, h * count), log, `the XOR of random bits (${what})`);
      // b ← b + β − 2·b·β
      const two = (v: E): E => R.add(v, v);
      b = { x: R.sub(R.add(b.x, shares[h].x), two(p.x)), m: R.sub(R.add(b.m, shares[h].m), two(p.m)) };
    }
    // 1 − b
    const one: Auth<E> = { x: R.neg(b.x), m: R.neg(b.m) };
    if (this.self === 0) R.addScalar(one.x, 1n, one.x);
    R.addScalar(one.m, this.alpha, one.m);
    const q = await this.#beaver(b, one, part((n - 1) * count, n * count), log, `the bit check (${what})`);
    const opened = await this.open(q.x, `the bit check (${what})`);
    log.push({ opened, mac: q.m, label: `the bit check (${what})` });
    await this.macCheck(log);
    if (!this.isZero(opened)) throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing: the bit check of ${what} failed: some party input a value that is not a bit`);
    this.stats.bits += count;
    return b;
  }

  async produce(item: Item): Promise<Spdz2kMaterial<E>> {
    const R = this.R;
    const L = item.length;
    const what = item.what;
    if (L === 0) return item.kind === 'triples' ? { x: [R.alloc(0), R.alloc(0)], rest: [0, 1, 2, 3].map(() => R.alloc(0)) } : this.#empty(item);
    switch (item.kind) {
      case 'triples': {
        const t = await this.triples(L, what);
        return { x: [t.a.x, t.b.x], rest: [t.c.x, t.a.m, t.b.m, t.c.m] };
      }
      case 'random': {
        const x = R.random(this.local, L);
        return { x: [x], rest: [await this.authenticate(x, what)] };
      }
      case 'input-mask': {
        const mine = item.holder === this.self;
        const x = mine ? R.random(this.local, L) : R.alloc(L);
        const m = await this.authenticate(x, what, item.holder);
        return { x: [x], rest: [m], ...(mine ? { value: R.toBytes(x) } : {}) };
      }
      case 'output-mask': {
        // r = r_h + 2^k·ρ: the holder's r_h < 2^k, and ρ of every party.
        const D = R.D;
        const mine = item.holder === this.self;
        const rh = mine ? D.fromBytes(this.local.bytes(D.bytes * L)) : D.alloc(L);
        const rho = R.random(this.local, L);
        const both = R.concat([R.lift(rh), rho]);
        const m = await this.authenticate(both, what);
        const x = R.add(R.slice(both, 0, L), R.shiftK(R.slice(both, L, 2 * L)));
        const mm = R.add(R.slice(m, 0, L), R.shiftK(R.slice(m, L, 2 * L)));
        return { x: [x], rest: [mm], ...(mine ? { value: D.toBytes(rh).slice() } : {}) };
      }
      case 'rand': {
        const B = item.bits!;
        if (!Number.isInteger(B) || B < 1 || B > R.k) throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing item ${what}: ${String(B)} bits is not in 1..${R.k}`);
        const bits = await this.bits(B * L, what);
        const x = R.alloc(L);
        const m = R.alloc(L);
        for (let j = B - 1; j >= 0; j--) {
          R.add(x, x, x);
          R.add(m, m, m);
          R.add(x, R.slice(bits.x, j * L, (j + 1) * L), x);
          R.add(m, R.slice(bits.m, j * L, (j + 1) * L), m);
        }
        return { x: [x], rest: [m] };
      }
      default:
        throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing: unknown item kind ${String((item as Item).kind)}`);
    }
  }

  #empty(item: Item): Spdz2kMaterial<E> {
    const value = item.holder === this.self ? new Uint8Array(0) : undefined;
    return { x: [this.R.alloc(0)], rest: [this.R.alloc(0)], ...(value ? { value } : {}) };
  }
}

/** A party's OT material source with its statistics. */
export type OtSpdz2kSource<E> = Spdz2kMaterialSource<E> & { stats(): OtSpdz2kStats };

/**
 * The SPDZ2k material source of one party, made by OT with the other parties (see the module
 * comment), over the MAC ring of `opts.ring`: Z_2^128 (k = 64, the default) or Z_2^192
 * (k = 128). Starts the sessions' setup at once; every party of the job must create one, with
 * the same session id and ring, and call `produce` for the same items in the same order.
 */
// (The k = 64 signature last: it is what `ReturnType` of this function names.)
export function createOtSpdz2kMaterial(opts: OtSpdz2kOptions & { ring: 128 }): OtSpdz2kSource<Z192Vec>;
export function createOtSpdz2kMaterial(opts: OtSpdz2kOptions & { ring: RingBits }): OtSpdz2kSource<Z128Vec> | OtSpdz2kSource<Z192Vec>;
export function createOtSpdz2kMaterial(opts: OtSpdz2kOptions & { ring?: 64 }): OtSpdz2kSource<Z128Vec>;
export function createOtSpdz2kMaterial(opts: OtSpdz2kOptions): OtSpdz2kSource<Z128Vec> | OtSpdz2kSource<Z192Vec> {
  const ring = opts.ring ?? 64;
  if (ring !== 64 && ring !== 128) throw new RangeError(`createOtSpdz2kMaterial: ring: expected 64 or 128, got ${String(ring)}`);
  return ring === 128 ? sourceOf(new Engine(OT128, opts)) : sourceOf(new Engine(OT64, opts));
}

function sourceOf<V, E>(engine: Engine<V, E>): OtSpdz2kSource<E> {
  let failed: unknown;
  let chain: Promise<unknown> = engine.ready;
  async function produce(item: Item, _kernels: Kernels | undefined): Promise<Spdz2kMaterial<E>> {
    const run = async (): Promise<Spdz2kMaterial<E>> => {
      if (failed !== undefined) throw failed;
      await engine.ready;
      const t0 = performance.now();
      try {
        return await engine.produce(item);
      } catch (e) {
        failed = e;
        throw e;
      } finally {
        engine.stats.generateMs += performance.now() - t0;
      }
    };
    // Calls come one after another; chaining keeps the round counter in step even if not.
    const p = chain.then(run, run);
    chain = p.catch(() => {});
    return p;
  }
  return { alpha: engine.alpha, produce, stats: () => ({ ...engine.stats }) };
}
