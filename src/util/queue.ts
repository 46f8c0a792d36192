/**
 * A single-consumer async queue: producers push as data arrives from a connection, the
 * consumer awaits items in order; a failure rejects the consumer's current and later waits.
 * @module
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  #waiter: { resolve(v: T): void; reject(e: Error): void } | undefined;
  #error: Error | undefined;

  push(item: T): void {
    if (this.#error) return;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve(item);
    } else {
      this.#items.push(item);
    }
  }

  /** Fail the queue: pending and future `next()` reject with `error`. Idempotent. */
  fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#items.length = 0;
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }

  next(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#error) return Promise.reject(this.#error);
    if (this.#waiter) return Promise.reject(new Error('AsyncQueue: one consumer at a time'));
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }
}
