// Test helpers for the OT layer: seeded randomness, a cheap stand-in for the base OTs, and a
// transport wrapper through which a test plays a deviating party.
import { MessageKind, type Transport } from '../../../src/protocol/transport.ts';
import { Prg } from '../../../src/ring/prg.ts';
import type { BaseOtOptions, RandomBytes } from '../../../src/preprocessing/ot/base-ot.ts';
import type { BaseOtProvider } from '../../../src/preprocessing/ot/extension.ts';

/** A deterministic RandomBytes for tests: the PRG stream of (seed label, name). */
export function seeded(name: string): RandomBytes {
  const seed = new Uint8Array(32);
  seed.set(new TextEncoder().encode(name).subarray(0, 32));
  const prg = new Prg(seed, `test/${name}`);
  return (n) => prg.bytes(n);
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * INSECURE, for tests only: "base OTs" in which the sender simply sends both keys to the
 * receiver. It has the interface and message flow of the real one, so multi-party tests can
 * set up many sessions without paying ~0.5 s of elliptic-curve work per session; the real base
 * OT is tested on its own and in the two-party tests.
 */
export const insecureBaseOtForTests: BaseOtProvider = {
  async send(t: Transport, peer: number, count: number, opts: BaseOtOptions) {
    const random = opts.random ?? ((n: number) => new Uint8Array(n).map(() => (Math.random() * 256) | 0));
    const k0 = random(32 * count).slice();
    const k1 = random(32 * count).slice();
    const both = new Uint8Array(64 * count);
    both.set(k0, 0);
    both.set(k1, 32 * count);
    await t.send(peer, MessageKind.Ot, opts.rounds.sender, both);
    return { k0, k1 };
  },
  async receive(t: Transport, peer: number, choices: Uint8Array, count: number, opts: BaseOtOptions) {
    const both = await t.recv(peer, MessageKind.Ot, opts.rounds.sender);
    const out = new Uint8Array(32 * count);
    for (let i = 0; i < count; i++) {
      const c = (choices[i >> 3] >> (i & 7)) & 1;
      out.set(both.subarray(32 * (c * count + i), 32 * (c * count + i + 1)), 32 * i);
    }
    return out;
  },
};

/**
 * Wraps a transport so that every payload this party sends with kind Ot and a round accepted
 * by `match` goes through `tamper` first: how a test makes a party deviate without any hook in
 * the protocol code.
 */
export function tampering(inner: Transport, match: (round: number) => boolean, tamper: (payload: Uint8Array) => Uint8Array): Transport {
  return {
    self: inner.self,
    n: inner.n,
    send: (to, kind, round, payload) => inner.send(to, kind, round, kind === MessageKind.Ot && match(round) ? tamper(payload.slice()) : payload),
    recv: (from, kind, round) => inner.recv(from, kind, round),
    abort: (reason) => inner.abort(reason),
    stats: () => inner.stats(),
  };
}

/** Bit i of a LSB-first bit string. */
export const bitAt = (bits: Uint8Array, i: number): number => (bits[i >> 3] >> (i & 7)) & 1;
