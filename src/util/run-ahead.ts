/**
 * A bounded run-ahead over a fixed sequence of items: produces item 0, 1, 2, … in order, one
 * at a time, ahead of the consumer, so that producing the next items (expanding a party's
 * preprocessing from its seed, fetching the dealer's extras) overlaps the consumer's network
 * waits instead of sitting on its critical path. Both protocol suites' preprocessing sources
 * use it (src/preprocessing/dealer.ts, src/protocol/spdz2k/prep.ts), and so does the dealer
 * daemon for each party's stream (src/preprocessing/dealer-server.ts).
 *
 * - Order: `take()` hands out item 0, 1, 2, … in call order, whatever has been produced;
 *   production follows the same order, so what a consumer gets never depends on timing.
 * - Bound: items produced (or being produced) but not yet taken cost at most `budget` in
 *   all, except that one item may always be ahead (an item costlier than the budget still
 *   goes ahead alone). An item the consumer has asked for is produced whatever the budget:
 *   the bound limits running ahead, never the consumer.
 * - Failure: when producing item i fails, taking item i and every later item rejects with
 *   that error (items before i are still delivered); production stops.
 * - Abort: `abort(reason)` drops every item not yet taken, rejects every pending and later
 *   `take()` with `reason`, and starts no further production (one already running finishes,
 *   and its result is dropped). No promise it made rejects unobserved.
 * @module
 */

/**
 * Default budget of a preprocessing source's run-ahead, in bytes of material held: room for
 * one of the largest items, a malicious triple piece (96 bytes per element × MUL_CHUNK =
 * 24 MiB), so the next piece is ready when a layer's chunk claims it; a semi-honest source
 * (24 bytes per triple) gets about five pieces ahead. More only holds memory: a piece's
 * expansion (~20 ms) is far shorter than its round, and a 10^7-wide malicious layer already
 * holds close to the 2 GiB per node it must stay under. On a machine whose cores the nodes
 * and the dealer already keep busy (2 cores here) there is little idle time to fill anyway.
 */
export const RUN_AHEAD_BYTES = 32 << 20;

/** How full a run-ahead is: its bound, what it holds now and the most it held (cost units, e.g. bytes). */
export interface StoreFill {
  budget: number;
  held: number;
  peak: number;
  /** Items handed to the consumer, of `count`. */
  taken: number;
  count: number;
}

/** A preprocessing source whose run-ahead can say how full it is (node logs, job stats). */
export interface HasStore {
  store(): StoreFill;
}

export interface RunAheadOptions<T> {
  /** Number of items in the sequence; Infinity when the items themselves tell where it ends. */
  count: number;
  /** What item `i` holds once produced (e.g. bytes), counted against `budget`. */
  cost(i: number): number;
  /** Produce item `i`: called for 0, 1, 2, … in order, each after the previous one settled. */
  produce(i: number): Promise<T>;
  /** Most cost ahead of the consumer (see the module comment). */
  budget: number;
  /**
   * Awaited before producing item `i`: lets the event loop serve sockets and timers between
   * items (e.g. the malicious suite's `pause`). Default: continue at once.
   */
  pace?(i: number): Promise<void>;
}

interface Slot<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: Error): void;
}

export class RunAhead<T> {
  readonly #o: RunAheadOptions<T>;
  /** Slots handed out to only one of producer and consumer so far; the second one removes it. */
  readonly #slots = new Map<number, Slot<T>>();
  /** Items whose production has started. */
  #started = 0;
  /** Items taken by the consumer. */
  #taken = 0;
  /** Cost of the items started and not yet taken. */
  #ahead = 0;
  /** The most `#ahead` has been. */
  #peak = 0;
  #running = false;
  #failedAt = Infinity;
  #failure: Error | undefined;
  #aborted: Error | undefined;

  constructor(options: RunAheadOptions<T>) {
    if (!(Number.isSafeInteger(options.count) && options.count >= 0) && options.count !== Infinity) {
      throw new RangeError(`RunAhead: count must be a non-negative integer or Infinity, got ${options.count}`);
    }
    if (!(options.budget >= 0)) throw new RangeError(`RunAhead: budget must be non-negative, got ${options.budget}`);
    this.#o = options;
  }

  /** Items not yet taken. */
  get remaining(): number {
    return this.#o.count - this.#taken;
  }

  /** Cost currently held ahead of the consumer (produced or being produced, not taken). */
  get ahead(): number {
    return this.#ahead;
  }

  /** Its bound and fill level. */
  fill(): StoreFill {
    return { budget: this.#o.budget, held: this.#ahead, peak: this.#peak, taken: this.#taken, count: this.#o.count };
  }

  /** The next item, in order. The first call starts production. */
  take(): Promise<T> {
    const i = this.#taken;
    if (this.#aborted) return Promise.reject(this.#aborted);
    if (i >= this.#o.count) return Promise.reject(new RangeError(`RunAhead: all ${this.#o.count} items were taken`));
    this.#taken++;
    if (i >= this.#failedAt) return Promise.reject(this.#failure!);
    if (i < this.#started) this.#ahead -= this.#o.cost(i);
    const { promise } = this.#claim(i, i < this.#started);
    this.#pump();
    return promise;
  }

  /** Stop: drop what was produced, reject pending and later takes with `reason`. Idempotent. */
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = reason;
    for (const s of this.#slots.values()) s.reject(reason);
    this.#slots.clear();
    this.#ahead = 0;
  }

  /** Item i's slot; `last` when the other side (producer or consumer) already has it. */
  #claim(i: number, last: boolean): Slot<T> {
    let s = this.#slots.get(i);
    if (!s) {
      let resolve!: (v: T) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<T>((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      // Rejections reach the consumer through its own await; one nobody takes is dropped.
      promise.catch(() => {});
      s = { promise, resolve, reject };
      if (!last) this.#slots.set(i, s);
    } else if (last) {
      this.#slots.delete(i);
    }
    return s;
  }

  #mayStart(): boolean {
    const i = this.#started;
    if (this.#aborted || i >= this.#o.count || i >= this.#failedAt) return false;
    return i < this.#taken || this.#ahead === 0 || this.#ahead + this.#o.cost(i) <= this.#o.budget;
  }

  #pump(): void {
    if (this.#running || !this.#mayStart()) return;
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
    });
  }

  async #run(): Promise<void> {
    while (this.#mayStart()) {
      const i = this.#started++;
      const slot = this.#claim(i, i < this.#taken);
      if (i >= this.#taken) {
        this.#ahead += this.#o.cost(i);
        this.#peak = Math.max(this.#peak, this.#ahead);
      }
      try {
        await this.#o.pace?.(i);
        if (this.#aborted) return slot.reject(this.#aborted);
        const v = await this.#o.produce(i);
        if (this.#aborted) return slot.reject(this.#aborted);
        slot.resolve(v);
      } catch (e) {
        if (this.#aborted) return slot.reject(this.#aborted);
        const err = e instanceof Error ? e : new Error(String(e));
        this.#failedAt = i;
        this.#failure = err;
        slot.reject(err);
        // Later items already asked for were never started: they fail with it too.
        for (const [j, s] of this.#slots) {
          if (j < i) continue;
          s.reject(err);
          this.#slots.delete(j);
        }
        return;
      }
    }
  }
}

/**
 * `source`, aborted with the signal's reason once `signal` aborts: a job that is over stops
 * its preprocessing sources' run-ahead, whether or not they wait on the dealer.
 */
export function abortedBy<T extends { abort(reason: Error): void }>(signal: AbortSignal | undefined, source: T): T {
  if (signal === undefined) return source;
  const stop = (): void => source.abort(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return source;
}
