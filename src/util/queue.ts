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
