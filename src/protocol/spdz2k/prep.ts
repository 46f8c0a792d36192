/**
 * A party's SPDZ2k preprocessing source for one job (F_Prep's output to P_i [CDESX18 §4]):
 * its MAC key share α_i, and the schedule's items (schedule.ts) expanded from its dealer
 * seed, completed by the dealer's extras where the party has some (dealer.ts). Items are
 * consumed exactly once, in schedule order; asking for anything else (another kind, another
 * length, more items than dealt) is a PREPROCESSING error.
 *
 * Items are pieces of at most MUL_CHUNK elements (schedule.ts). `inputMask`, `outputMask`
 * and `random` take a whole vector's length and claim all of its pieces at once (in order,
 * before their first await) into one vector of the whole length; `triples` takes exactly one
 * piece (a layer's chunk, or one piece of the analyst's batch). Pieces are expanded ahead of
 * their claims, in schedule order, in a bounded run-ahead (src/util/run-ahead.ts,
 * RUN_AHEAD_BYTES), pausing before each (chunks.ts) so the expansion fills the online
 * phase's network waits: each piece's seed shares, then its extras from the dealer, fetched
 * one after another in schedule order, each after a pause (an in-process dealer, in tests,
 * computes an item when it is fetched, so its work is interleaved with the parties' too).
 * The material is what expanding each piece when claimed would give, only earlier.
 *
 * It also carries the job's per-party protocol state: the opened values awaiting the MAC
 * check (mac-check.ts), so the suite object itself stays stateless.
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { bytesToU64, u64ToBytes } from '../../ring/encoding.ts';
import { prgKey } from '../../ring/prg.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import type { Plan } from '../../compiler/plan.ts';
import type { NextExtra } from '../suite.ts';
import { wireVec, type Kernels } from '../kernels.ts';
import { correctionBytes, itemLabel, schedule, valueBytes, type Item, type ItemKind } from './schedule.ts';
import { expandSeedShares, macKeyShare } from './dealer.ts';
import { OpenedValues, DEFAULT_MAC_CHECK_EVERY } from './mac-check.ts';
import { concatShares, type AuthShare } from './share.ts';
import { pause, pieces } from './chunks.ts';
import { RunAhead, RUN_AHEAD_BYTES } from '../../util/run-ahead.ts';

export interface AuthTriple {
  a: AuthShare;
  b: AuthShare;
  c: AuthShare;
}

/** A mask with, for its holder only, the mask's value (input masks: 128 bits; output masks: the low 64). */
export interface Masked<V> {
  share: AuthShare;
  value?: V;
}

export interface Spdz2kPrepOptions {
  /** Run a MAC check once this many elements were opened since the last one (default 2^20). */
  macCheckEvery?: number;
  /** Bytes of material expanded ahead of the claims at most (default RUN_AHEAD_BYTES). */
  runAheadBytes?: number;
}

/**
 * One piece's material: the value shares (x, or [a, b] for triples) and the rest (m, or
 * [c, m_a, m_b, m_c]), the last party's from the dealer's corrections; and the holder's value.
 */
interface Material {
  x: Z128Vec[];
  rest: Z128Vec[];
  value?: Uint8Array;
}

/** Bytes one piece's material holds: 16 per element of each vector, plus the holder's value. */
function materialBytes(it: Item, self: number): number {
  return (it.kind === 'triples' ? 96 : 32) * it.length + (it.holder === self ? valueBytes(it) : 0);
}

export class Spdz2kPrep {
  /** This party's MAC key share α_i. */
  readonly alpha: bigint;
  /** Values opened and not yet MAC-checked, and the chain of checks. */
  readonly opened: OpenedValues;
  /** The circuit's parties: the job's party list must start with them. */
  readonly planParties: readonly string[];
  /** Rounds of the output phase's openings (after every layer's round). */
  readonly outputRound: number;
  readonly #items: Item[];
  #next = 0;
  readonly #ahead: RunAhead<Material>;
  /** The kernels of the latest `triples` call: where triple pieces expanded ahead of their call go. */
  #kernels: Kernels | undefined;

  constructor(
    plan: Plan,
    readonly n: number,
    readonly self: number,
    private readonly seed: Uint8Array,
    private readonly nextExtra: NextExtra,
    options: Spdz2kPrepOptions = {},
  ) {
    if (!Number.isInteger(self) || self < 0 || self >= n) throw new RangeError(`spdz2k prep: party ${self} is not among ${n}`);
    const items = schedule(plan, n);
    this.#items = items;
    this.alpha = macKeyShare(seed);
    this.opened = new OpenedValues(options.macCheckEvery ?? DEFAULT_MAC_CHECK_EVERY);
    this.planParties = plan.parties;
    this.outputRound = plan.layers.length;
    this.#ahead = new RunAhead({
      count: items.length,
      cost: (i) => materialBytes(items[i], self),
      produce: (i) => this.#produce(items[i]),
      budget: options.runAheadBytes ?? RUN_AHEAD_BYTES,
      pace: (i) => pause(items[i].length),
    });
  }

  /** Stop expanding ahead: every pending and later request rejects with `reason`. */
  abort(reason: Error): void {
    this.#ahead.abort(reason);
  }

  /** Items left to consume. */
  get remaining(): number {
    return this.#items.length - this.#next;
  }

  /**
   * The job's party order must start with the circuit's parties, in circuit order: that is
   * how the dealer's schedule (plan indices) maps onto session indices.
   */
  checkParties(parties: readonly string[]): void {
    const ok = parties.length === this.n && this.planParties.every((p, i) => parties[i] === p);
    if (!ok) {
      throw new MpcError(
        ErrorCode.PROTOCOL,
        `malicious suite: the job's parties must be the circuit's parties (${this.planParties.join(', ')}) first, in that order, then any others, ${this.n} in all; got ${parties.join(', ')}`,
      );
    }
  }

  /**
   * Claim the next item, which must be `kind` of `length` (held by `holder` where it
   * matters); its material, when expanded. Synchronous up to the returned promise, so that
   * concurrent callers consume items in call order.
   */
  #take(kind: ItemKind, length: number, holder?: number): { item: Item; material: Promise<Material> } {
    const item = this.#items[this.#next];
    const asked = `${kind} of ${length}${holder === undefined ? '' : ` for party ${holder}`}`;
    if (item === undefined) {
      throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing exhausted: all ${this.#items.length} items were used, the protocol asked for ${asked}`);
    }
    if (item.kind !== kind || item.length !== length || (holder !== undefined && item.holder !== holder)) {
      throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing item ${this.#next} is ${item.kind} of ${item.length} (${item.what}), the protocol asked for ${asked}`);
    }
    this.#next++;
    return { item, material: this.#ahead.take() };
  }

  async #extra(bytes: number, length: number, what: string): Promise<Uint8Array> {
    await pause(length);
    const b = await this.nextExtra();
    if (!(b instanceof Uint8Array) || b.byteLength !== bytes) {
      throw new MpcError(ErrorCode.PREPROCESSING, `dealer sent ${b?.byteLength ?? 'no'} bytes for ${what}, expected ${bytes}`);
    }
    return b;
  }

  /**
   * One piece's material, run ahead in schedule order: its seed shares, then its extras
   * (the last party's corrections, then the holder's value). With kernels that share
   * buffers for its length (a worker pool), a triple piece's seed part is expanded on a
   * worker straight into one shared buffer — a, b, c, m_a, m_b, m_c in the order of the
   * stream (dealer.ts), each L low limbs then L high limbs — and the last party's
   * corrections are copied in after a and b, where its stream stops.
   */
  async #produce(item: Item): Promise<Material> {
    const L = item.length;
    const last = this.self === this.n - 1;
    const kernels = this.#kernels;
    let x: Z128Vec[];
    let rest: Z128Vec[];
    if (item.kind === 'triples' && kernels?.shares(L)) {
      const all = kernels.alloc64(12 * L);
      const bytes = u64ToBytes(all);
      const fromSeed = (last ? 2 : 6) * 16 * L;
      const expanded = kernels.run({ op: 'prgFill', region: { key: prgKey(this.seed, itemLabel(item)), offset: 0, length: fromSeed }, out: bytes.subarray(0, fromSeed) });
      expanded.catch(() => {});
      if (last) bytes.set(await this.#extra(correctionBytes(item), L, `corrections for ${item.what}`), fromSeed);
      await expanded;
      const v = [0, 1, 2, 3, 4, 5].map((k) => wireVec(all.buffer, all.byteOffset + 16 * L * k, L));
      x = v.slice(0, 2);
      rest = v.slice(2);
    } else {
      const own = expandSeedShares(this.seed, item, this.self, this.n);
      x = own.x;
      rest = own.rest;
      if (last) {
        const b = await this.#extra(correctionBytes(item), L, `corrections for ${item.what}`);
        // Wire layout, vector after vector: [c, m_a, m_b, m_c], [x, m] (random integers) or [m].
        const vs = Array.from({ length: item.kind === 'triples' ? 4 : item.kind === 'rand' ? 2 : 1 }, (_, k) => z128.fromBytes(b.subarray(16 * L * k, 16 * L * (k + 1))));
        if (item.kind === 'rand') [x, rest] = [vs.slice(0, 1), vs.slice(1)];
        else rest = vs;
      }
    }
    const value = item.holder === this.self ? await this.#extra(valueBytes(item), L, `the value of ${item.what}`) : undefined;
    return { x, rest, value };
  }

  /**
   * An authenticated random vector of `length` (masks and randoms share the layout): claims
   * its pieces now, then joins them into one vector (a single piece as it is). `value` gets
   * the holder's value of each piece, at its offset.
   */
  async #auth(kind: ItemKind, length: number, holder: number | undefined, value?: (piece: Uint8Array, offset: number, length: number) => void): Promise<AuthShare> {
    const claims = pieces(length).map((w) => this.#take(kind, w, holder));
    let share: AuthShare | undefined;
    let off = 0;
    for (const t of claims) {
      const L = t.item.length;
      const own = await t.material;
      const m = own.rest[0];
      if (claims.length === 1) {
        share = { x: own.x[0], m };
      } else {
        share ??= { x: z128.alloc(length), m: z128.alloc(length) };
        for (const [to, from] of [[share.x, own.x[0]], [share.m, m]]) {
          to.lo.set(from.lo, off);
          to.hi.set(from.hi, off);
        }
      }
      if (own.value) value?.(own.value, off, L);
      off += L;
    }
    return share!;
  }

  /** The mask of the next input (plan order), owned by `owner`; the owner also gets r. */
  async inputMask(owner: number, length: number): Promise<Masked<Z128Vec>> {
    let r: Z128Vec | undefined;
    const share = await this.#auth('input-mask', length, owner, (b, off, L) => {
      if (L === length) {
        r = z128.fromBytes(b);
        return;
      }
      r ??= z128.alloc(length);
      r.lo.set(bytesToU64(b.subarray(0, 8 * L)), off);
      r.hi.set(bytesToU64(b.subarray(8 * L)), off);
    });
    return { share, value: r };
  }

  /** The mask of the next (output, party recipient); the recipient also gets r mod 2^64. */
  async outputMask(recipient: number, length: number): Promise<Masked<BigUint64Array>> {
    let r: BigUint64Array | undefined;
    const share = await this.#auth('output-mask', length, recipient, (b, off) => {
      r ??= new BigUint64Array(length);
      r.set(bytesToU64(b), off);
    });
    return { share, value: r };
  }

  /**
   * `length` authenticated random integers below 2^bits (one item per piece). The last
   * party's value shares come from the dealer, with its MAC shares.
   */
  async rand(bits: number, length: number): Promise<AuthShare> {
    const claims = pieces(length).map((w) => {
      const t = this.#take('rand', w);
      if (t.item.bits !== bits) {
        throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing item ${t.item.what} has ${t.item.bits} bits, the protocol asked for ${bits}`);
      }
      return t;
    });
    const parts: AuthShare[] = [];
    for (const t of claims) {
      const own = await t.material;
      parts.push({ x: own.x[0], m: own.rest[0] });
    }
    return concatShares(parts);
  }

  /** A batch of authenticated uniformly random values. */
  async random(length: number): Promise<AuthShare> {
    return this.#auth('random', length, undefined);
  }

  /**
   * The next batch of authenticated triples (c = a·b mod 2^128). `kernels` (a worker pool)
   * is where the pieces expanded from now on go (see #produce).
   */
  async triples(length: number, kernels?: Kernels): Promise<AuthTriple> {
    this.#kernels = kernels;
    const own = await this.#take('triples', length).material;
    const [a, b] = own.x;
    const [c, ma, mb, mc] = own.rest;
    return { a: { x: a, m: ma }, b: { x: b, m: mb }, c: { x: c, m: mc } };
  }
}
