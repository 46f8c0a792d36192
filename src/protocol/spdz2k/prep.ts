/**
 * A party's SPDZ2k preprocessing source for one job (F_Prep's output to P_i [CDESX18 §4]):
 * its MAC key share α_i, and the schedule's items (schedule.ts), each item's material from a
 * `Spdz2kMaterialSource` — a dealer's (dealer.ts: expanded from the party's dealer seed,
 * completed by the dealer's extras) or the parties' own, made by oblivious transfer
 * (src/preprocessing/ot/spdz2k.ts). Items are consumed exactly once, in schedule order;
 * asking for anything else (another kind, another length, more items than made) is a
 * PREPROCESSING error.
 *
 * Items are pieces of at most MUL_CHUNK elements (schedule.ts). `inputMask`, `outputMask`
 * and `random` take a whole vector's length and claim all of its pieces at once (in order,
 * before their first await) into one vector of the whole length; `triples` takes exactly one
 * piece (a layer's chunk, or one piece of the analyst's batch). Pieces are expanded ahead of
 * their claims, in schedule order, in a bounded run-ahead (src/util/run-ahead.ts,
 * RUN_AHEAD_BYTES), pausing before each (chunks.ts) so the expansion fills the online
 * phase's network waits. The material is what producing each piece when claimed would give,
 * only earlier.
 *
 * It also carries the job's per-party protocol state: the opened values awaiting the MAC
 * check (mac-check.ts), so the suite object itself stays stateless.
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { bytesToU64 } from '../../ring/encoding.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import type { Plan } from '../../compiler/plan.ts';
import type { Kernels } from '../kernels.ts';
import { schedule, valueBytes, type Item, type ItemKind } from './schedule.ts';
import { OpenedValues, DEFAULT_MAC_CHECK_EVERY } from './mac-check.ts';
import { concatShares, type AuthShare } from './share.ts';
import { pause, pieces } from './chunks.ts';
import { RunAhead, RUN_AHEAD_BYTES, type HasStore, type StoreFill } from '../../util/run-ahead.ts';

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
 * One piece's material, this party's: the value shares (x, or [a, b] for triples) and the
 * rest (m, or [c, m_a, m_b, m_c]); and, for the item's holder only, the item's value (an
 * input mask's r, 16·L bytes in `z128.toBytes` layout; an output mask's r mod 2^64, 8·L bytes).
 */
export interface Spdz2kMaterial {
  x: Z128Vec[];
  rest: Z128Vec[];
  value?: Uint8Array;
}
type Material = Spdz2kMaterial;

/**
 * Where a party's SPDZ2k material comes from. `produce` is called once per schedule item, in
 * schedule order, each call after the previous one settled; `kernels` is where the latest
 * `triples` claim asked its material to go (a worker pool), for sources that expand there.
 */
export interface Spdz2kMaterialSource {
  /** This party's MAC key share α_i; it never leaves the party. */
  readonly alpha: bigint;
  produce(item: Item, kernels: Kernels | undefined): Promise<Spdz2kMaterial>;
}

/** Bytes one piece's material holds: 16 per element of each vector, plus the holder's value. */
function materialBytes(it: Item, self: number): number {
  return (it.kind === 'triples' ? 96 : 32) * it.length + (it.holder === self ? valueBytes(it) : 0);
}

export class Spdz2kPrep implements HasStore {
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
    private readonly source: Spdz2kMaterialSource,
    options: Spdz2kPrepOptions = {},
  ) {
    if (!Number.isInteger(self) || self < 0 || self >= n) throw new RangeError(`spdz2k prep: party ${self} is not among ${n}`);
    const items = schedule(plan, n);
    this.#items = items;
    this.alpha = source.alpha;
    this.opened = new OpenedValues(options.macCheckEvery ?? DEFAULT_MAC_CHECK_EVERY);
    this.planParties = plan.parties;
    this.outputRound = plan.layers.length;
    this.#ahead = new RunAhead({
      count: items.length,
      cost: (i) => materialBytes(items[i], self),
      produce: (i) => this.source.produce(items[i], this.#kernels),
      budget: options.runAheadBytes ?? RUN_AHEAD_BYTES,
      pace: (i) => pause(items[i].length),
    });
  }

  /** The run-ahead's bound and fill level (bytes of material). */
  store(): StoreFill {
    return this.#ahead.fill();
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
