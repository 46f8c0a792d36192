/**
 * An async FIFO queue: producers push as data arrives from a connection, consumers await
 * items in the order they asked; a failure rejects every current and later wait.
 * @module
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: { resolve(v: T): void; reject(e: Error): void }[] = [];
  #error: Error | undefined;

  push(item: T): void {
    if (this.#error) return;
    const w = this.#waiters.shift();
    if (w) w.resolve(item);
    else this.#items.push(item);
  }

  /** Fail the queue: pending and future `next()` reject with `error`. Idempotent. */
  fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#items.length = 0;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  next(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

/**
 * `run(start, end)` for the steps [start, min(start + step, count)) of [0, count), at most
 * `window` of them in flight: each is started (synchronously, in order) once the oldest of the
 * window has finished, so work that keeps its order by being *started* in order (OT sessions
 * claim batch numbers at call time) stays in step between parties, while one step waits for
 * the network the next one computes. Rejects with the first failure, after which no further
 * step is started.
 */
export async function pipelined(count: number, step: number, window: number, run: (start: number, end: number) => Promise<void>): Promise<void> {
  const inFlight: Promise<void>[] = [];
  for (let s = 0; s < count; s += step) {
    if (inFlight.length === window) await inFlight.shift();
    const p = run(s, Math.min(s + step, count));
    p.catch(() => {}); // awaited below or above; a rejection must not count as unhandled meanwhile
    inFlight.push(p);
  }
  await Promise.all(inFlight);
}
