/**
 * An in-memory Transport: n parties in one process, for tests and for the plaintext-vs-MPC
 * property checks. It has the network transport's semantics: messages addressed by
 * (sender, kind, round), each consumed once, a duplicate is a protocol error, and
 * `abort` fails everything pending.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { emptyStats, type MessageKind, type Transport, type TransportStats } from './transport.ts';

interface Waiter {
  resolve(p: Uint8Array): void;
  reject(e: Error): void;
}

class Mailbox {
  readonly ready = new Map<string, Uint8Array>();
  readonly waiting = new Map<string, Waiter>();
  readonly seen = new Set<string>();
  aborted: Error | undefined;
}

class MemoryTransport implements Transport {
  readonly #stats: TransportStats = emptyStats();
  constructor(
    readonly self: number,
    readonly n: number,
    private readonly boxes: Mailbox[],
  ) {}

  async send(to: number, kind: MessageKind, round: number, payload: Uint8Array): Promise<void> {
    if (!Number.isInteger(to) || to < 0 || to >= this.n || to === this.self) {
      throw new RangeError(`party ${this.self}: cannot send to party ${to}`);
    }
    const box = this.boxes[to];
    this.#stats.bytesSent += payload.byteLength;
    this.#stats.messagesSent += 1;
    if (box.aborted) return;
    const key = `${this.self}:${kind}:${round}`;
    if (box.seen.has(key)) {
      // The receiver treats a second message for the same slot as a replay.
      box.aborted = new MpcError(ErrorCode.PROTOCOL, `duplicate message from party ${this.self} (kind ${kind}, round ${round})`, { party: String(this.self) });
      for (const w of box.waiting.values()) w.reject(box.aborted);
      box.waiting.clear();
      return;
    }
    box.seen.add(key);
    const w = box.waiting.get(key);
    if (w) {
      box.waiting.delete(key);
      w.resolve(payload);
    } else {
      box.ready.set(key, payload);
    }
  }

  recv(from: number, kind: MessageKind, round: number): Promise<Uint8Array> {
    const box = this.boxes[this.self];
    if (box.aborted) return Promise.reject(box.aborted);
    const key = `${from}:${kind}:${round}`;
    const p = box.ready.get(key);
    const account = (x: Uint8Array): Uint8Array => {
      this.#stats.bytesReceived += x.byteLength;
      this.#stats.messagesReceived += 1;
      return x;
    };
    if (p) {
      box.ready.delete(key);
      return Promise.resolve(account(p));
    }
    if (box.waiting.has(key)) return Promise.reject(new Error(`party ${this.self}: already waiting for ${key}`));
    return new Promise((resolve, reject) => box.waiting.set(key, { resolve: (x) => resolve(account(x)), reject }));
  }

  abort(reason: Error): void {
    const box = this.boxes[this.self];
    if (box.aborted) return;
    box.aborted = reason;
    for (const w of box.waiting.values()) w.reject(reason);
    box.waiting.clear();
    box.ready.clear();
  }

  stats(): TransportStats {
    return { ...this.#stats };
  }
}

/** n connected transports, one per party. */
export function memoryNetwork(n: number): Transport[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`expected a party count ≥ 1, got ${n}`);
  const boxes = Array.from({ length: n }, () => new Mailbox());
  return boxes.map((_, i) => new MemoryTransport(i, n, boxes));
}
