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
import type { Z128Vec } from '../../ring/z128.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import type { Plan } from '../../compiler/plan.ts';
import type { Kernels } from '../kernels.ts';
import { schedule, valueBytes, type Item, type ItemKind } from './schedule.ts';
import { OpenedValues, DEFAULT_MAC_CHECK_EVERY } from './mac-check.ts';
import { concatShares, type AuthShare } from './share.ts';
import { macRingOf, type MacRing } from './mac-ring.ts';
import { pause, pieces } from './chunks.ts';
import { RunAhead, RUN_AHEAD_BYTES, type HasStore, type StoreFill } from '../../util/run-ahead.ts';

export interface AuthTriple<E = Z128Vec> {
  a: AuthShare<E>;
  b: AuthShare<E>;
  c: AuthShare<E>;
}

/** A mask with, for its holder only, the mask's value (input masks: the whole share element; output masks: its value mod 2^k). */
export interface Masked<T, E = Z128Vec> {
  share: AuthShare<E>;
  value?: T;
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
 * input mask's r, B·L bytes in wire layout, B = 16 or 24 bytes per element; an output mask's
 * r mod 2^k, 8·L or 16·L bytes). Vectors are over the plan's MAC ring (mac-ring.ts).
 */
export interface Spdz2kMaterial<E = Z128Vec> {
  x: E[];
  rest: E[];
  value?: Uint8Array;
}

/**
 * Where a party's SPDZ2k material comes from. `produce` is called once per schedule item, in
 * schedule order, each call after the previous one settled; `kernels` is where the latest
 * `triples` claim asked its material to go (a worker pool), for sources that expand there.
 */
export interface Spdz2kMaterialSource<E = Z128Vec> {
  /** This party's MAC key share α_i; it never leaves the party. */
  readonly alpha: bigint;
  produce(item: Item, kernels: Kernels | undefined): Promise<Spdz2kMaterial<E>>;
}

/** Bytes one piece's material holds: B per element of each vector (6 vectors for triples, else 2), plus the holder's value. */
function materialBytes(it: Item, self: number, ring: MacRing<unknown, unknown>): number {
  return (it.kind === 'triples' ? 6 : 2) * ring.bytes * it.length + (it.holder === self ? valueBytes(it, ring) : 0);
}

/**
 * A party's source over the plan's MAC ring: V the value vectors, E the share vectors
 * (BigUint64Array and Z128Vec for k = 64, the defaults; Z128Vec and Z192Vec for k = 128).
 */
export class Spdz2kPrep<V = BigUint64Array, E = Z128Vec> implements HasStore {
  /** The MAC ring of the plan's domain. */
  readonly ring: MacRing<V, E>;
  /** This party's MAC key share α_i. */
  readonly alpha: bigint;
  /** Values opened and not yet MAC-checked, and the chain of checks. */
  readonly opened: OpenedValues<E>;
  /** The circuit's parties: the job's party list must start with them. */
  readonly planParties: readonly string[];
  /** Rounds of the output phase's openings (after every layer's round). */
  readonly outputRound: number;
  readonly #items: Item[];
  #next = 0;
  readonly #ahead: RunAhead<Spdz2kMaterial<E>>;
  /** The kernels of the latest `triples` call: where triple pieces expanded ahead of their call go. */
  #kernels: Kernels | undefined;

  constructor(
    plan: Plan,
    readonly n: number,
    readonly self: number,
    private readonly source: Spdz2kMaterialSource<E>,
    options: Spdz2kPrepOptions = {},
  ) {
    if (!Number.isInteger(self) || self < 0 || self >= n) throw new RangeError(`spdz2k prep: party ${self} is not among ${n}`);
    const items = schedule(plan, n);
    this.#items = items;
    this.ring = macRingOf(plan) as unknown as MacRing<V, E>;
    this.alpha = source.alpha;
    this.opened = new OpenedValues(options.macCheckEvery ?? DEFAULT_MAC_CHECK_EVERY, this.ring);
    this.planParties = plan.parties;
    this.outputRound = plan.layers.length;
    this.#ahead = new RunAhead({
      count: items.length,
      cost: (i) => materialBytes(items[i], self, this.ring),
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
  #take(kind: ItemKind, length: number, holder?: number): { item: Item; material: Promise<Spdz2kMaterial<E>> } {
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
  async #auth(kind: ItemKind, length: number, holder: number | undefined, value?: (piece: Uint8Array, offset: number) => void): Promise<AuthShare<E>> {
    const R = this.ring;
    const claims = pieces(length).map((w) => this.#take(kind, w, holder));
    let share: AuthShare<E> | undefined;
    let off = 0;
    for (const t of claims) {
      const own = await t.material;
      const m = own.rest[0];
      if (claims.length === 1) {
        share = { x: own.x[0], m };
      } else {
        share ??= { x: R.alloc(length), m: R.alloc(length) };
        R.place(share.x, off, own.x[0]);
        R.place(share.m, off, m);
      }
      if (own.value) value?.(own.value, off);
      off += t.item.length;
    }
    return share!;
  }

  /** The mask of the next input (plan order), owned by `owner`; the owner also gets r (the whole share element). */
  async inputMask(owner: number, length: number): Promise<Masked<E, E>> {
    const R = this.ring;
    let r: E | undefined;
    const share = await this.#auth('input-mask', length, owner, (b, off) => {
      const piece = R.fromBytes(b);
      if (R.length(piece) === length) {
        r = piece;
        return;
      }
      r ??= R.alloc(length);
      R.place(r, off, piece);
    });
    return { share, value: r };
  }

  /** The mask of the next (output, party recipient); the recipient also gets r mod 2^k. */
  async outputMask(recipient: number, length: number): Promise<Masked<V, E>> {
    const D = this.ring.D;
    const parts: V[] = [];
    const share = await this.#auth('output-mask', length, recipient, (b) => parts.push(D.fromBytes(b)));
    return { share, value: parts.length > 0 ? D.concat(parts) : undefined };
  }

  /**
   * `length` authenticated random integers below 2^bits (one item per piece). The last
   * party's value shares come from the dealer, with its MAC shares.
   */
  async rand(bits: number, length: number): Promise<AuthShare<E>> {
    const claims = pieces(length).map((w) => {
      const t = this.#take('rand', w);
      if (t.item.bits !== bits) {
        throw new MpcError(ErrorCode.PREPROCESSING, `preprocessing item ${t.item.what} has ${t.item.bits} bits, the protocol asked for ${bits}`);
      }
      return t;
    });
    const parts: AuthShare<E>[] = [];
    for (const t of claims) {
      const own = await t.material;
      parts.push({ x: own.x[0], m: own.rest[0] });
    }
    return concatShares(this.ring, parts);
  }

  /** A batch of authenticated uniformly random values. */
  async random(length: number): Promise<AuthShare<E>> {
    return this.#auth('random', length, undefined);
  }

  /**
   * The next batch of authenticated triples (c = a·b mod 2^{k+s}). `kernels` (a worker pool)
   * is where the pieces expanded from now on go (see #produce).
   */
  async triples(length: number, kernels?: Kernels): Promise<AuthTriple<E>> {
    this.#kernels = kernels;
    const own = await this.#take('triples', length).material;
    const [a, b] = own.x;
    const [c, ma, mb, mc] = own.rest;
    return { a: { x: a, m: ma }, b: { x: b, m: mb }, c: { x: c, m: mc } };
  }
}
