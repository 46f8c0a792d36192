// Base OT (MRR21 over ristretto255): correctness, the sender's view is independent of the
// choice bits, and malformed peer messages are refused with a PROTOCOL error, never a crash.
import { ristretto255 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../../src/errors.ts';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { MessageKind } from '../../../src/protocol/transport.ts';
import {
  BASE_OT_RECEIVER_BYTES,
  baseOtReceive,
  baseOtReceiverKeys,
  baseOtReceiverMessage,
  baseOtSend,
  baseOtSenderKeys,
  baseOtSenderMessage,
} from '../../../src/preprocessing/ot/base-ot.ts';
import { bitAt, hex, seeded } from './helpers.ts';

const SID = new Uint8Array(32).fill(7);
const ROUNDS = { sender: 1, receiver: 2 };

function expectProtocolError(f: () => unknown, party: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isMpcError(caught, ErrorCode.PROTOCOL), String(caught)).toBe(true);
  expect((caught as { party?: string }).party).toBe(party);
  expect((caught as Error).message).toMatch(pattern);
}

describe('correctness', () => {
  it('128 OTs over a transport: the receiver gets k_c, and not k_{1−c}', async () => {
    const [t0, t1] = memoryNetwork(2);
    const choices = seeded('base/choices')(16);
    const [keys, got] = await Promise.all([
      baseOtSend(t0, 1, 128, { sid: SID, rounds: ROUNDS, random: seeded('base/sender') }),
      baseOtReceive(t1, 0, choices, 128, { sid: SID, rounds: ROUNDS, random: seeded('base/receiver') }),
    ]);
    const ones = [0, 0];
    for (let i = 0; i < 128; i++) {
      const c = bitAt(choices, i);
      ones[c] += 1;
      const mine = got.subarray(32 * i, 32 * i + 32);
      expect(hex(mine)).toBe(hex((c ? keys.k1 : keys.k0).subarray(32 * i, 32 * i + 32)));
      expect(hex(mine)).not.toBe(hex((c ? keys.k0 : keys.k1).subarray(32 * i, 32 * i + 32)));
    }
    expect(ones[0]).toBeGreaterThan(30); // both choice values were exercised
    expect(ones[1]).toBeGreaterThan(30);
    // one 32-byte A, and 64 bytes per OT back
    expect(t0.stats().bytesSent).toBe(32);
    expect(t1.stats().bytesSent).toBe(128 * BASE_OT_RECEIVER_BYTES);
  });

  it('keys are bound to the session id', () => {
    const sender = baseOtSenderMessage(seeded('sid/s'));
    const recv = baseOtReceiverMessage(SID, Uint8Array.of(0b10), 2, seeded('sid/r'));
    const a = baseOtSenderKeys(SID, 2, sender, recv.message);
    const other = new Uint8Array(32).fill(8);
    const b = baseOtSenderKeys(other, 2, sender, recv.message);
    expect(hex(a.k0)).not.toBe(hex(b.k0));
    // and the receiver, with the right sid, still agrees with the right sid's keys
    const k = baseOtReceiverKeys(SID, Uint8Array.of(0b10), 2, recv, sender.message);
    expect(hex(k.subarray(0, 32))).toBe(hex(a.k0.subarray(0, 32)));
    expect(hex(k.subarray(32, 64))).toBe(hex(a.k1.subarray(32, 64)));
  });
});

describe("the sender's view is independent of the choice bits", () => {
  // The sender's whole view is A (its own) and the receiver's φ_i = (T_i, s'_i). The argument
  // (base-ot.ts): T = B − H1(c, s) is uniform in the group for either c because B = b·G is,
  // and s' = s ⊕ H2(c, T) is uniform because s is. The test: generate φ for 384 OTs with every
  // choice 0 and 384 with every choice 1 and compare the two samples with a chi-square
  // homogeneity test on 16 bins, for a nibble of T's encoding and a nibble of s'.
  const N = 384;
  const zeros = baseOtReceiverMessage(SID, new Uint8Array(N / 8), N, seeded('stat/0')).message;
  const ones = baseOtReceiverMessage(SID, new Uint8Array(N / 8).fill(0xff), N, seeded('stat/1')).message;

  function histogram(msg: Uint8Array, pick: (phi: Uint8Array) => number): number[] {
    const h = new Array<number>(16).fill(0);
    for (let i = 0; i < N; i++) h[pick(msg.subarray(64 * i, 64 * i + 64))] += 1;
    return h;
  }

  /** Two equal-size samples: Σ (a − b)² / (a + b), chi-square with 15 degrees of freedom. */
  function homogeneity(a: number[], b: number[]): number {
    let x = 0;
    for (let k = 0; k < a.length; k++) if (a[k] + b[k] > 0) x += (a[k] - b[k]) ** 2 / (a[k] + b[k]);
    return x;
  }

  // P[χ²(15) > 60] ≈ 2.5·10^-7: a statistic above this would mean the distributions differ.
  const CRITICAL = 60;
  const features: Array<[string, (phi: Uint8Array) => number]> = [
    ['high nibble of T byte 1', (phi) => phi[1] >> 4],
    ['low nibble of T byte 17', (phi) => phi[17] & 15],
    ['low nibble of s\' byte 0', (phi) => phi[32] & 15],
    ['high nibble of s\' byte 31', (phi) => phi[63] >> 4],
  ];

  for (const [name, pick] of features) {
    it(`${name}: same distribution for c = 0 and c = 1`, () => {
      expect(homogeneity(histogram(zeros, pick), histogram(ones, pick))).toBeLessThan(CRITICAL);
    });
  }

  it('the statistic does detect a difference when there is one (the test has power)', () => {
    // The same sample against a version in which bit 0 of that byte is always set.
    const pick = features[2][1];
    const biased = ones.slice();
    for (let i = 0; i < N; i++) biased[64 * i + 32] |= 1;
    expect(homogeneity(histogram(zeros, pick), histogram(biased, pick))).toBeGreaterThan(CRITICAL);
  });

  it('every T is a valid, distinct group element, for both choices', () => {
    const seen = new Set<string>();
    for (const msg of [zeros, ones]) {
      for (let i = 0; i < N; i++) {
        const t = msg.subarray(64 * i, 64 * i + 32);
        expect(() => ristretto255.Point.fromBytes(t)).not.toThrow();
        seen.add(hex(t));
      }
    }
    expect(seen.size).toBe(2 * N);
  });
});

describe('malformed messages from the peer are refused', () => {
  const sender = baseOtSenderMessage(seeded('bad/s'));
  const recv = baseOtReceiverMessage(SID, Uint8Array.of(0b01), 2, seeded('bad/r'));

  it('a T that is not a canonical ristretto255 encoding', () => {
    const msg = recv.message.slice();
    msg.fill(0xff, BASE_OT_RECEIVER_BYTES, BASE_OT_RECEIVER_BYTES + 32); // OT 1's T
    expectProtocolError(() => baseOtSenderKeys(SID, 2, sender, msg, '3'), '3', /invalid ristretto255 encoding for T of base OT 1/);
  });

  it('a non-canonical T (s ≥ p)', () => {
    const msg = recv.message.slice();
    // p = 2^255 − 19 itself, little-endian: reduces to 0, but only the canonical form is accepted.
    const p = new Uint8Array(32).fill(0xff);
    p[0] = 0xed;
    p[31] = 0x7f;
    msg.set(p, 0);
    expectProtocolError(() => baseOtSenderKeys(SID, 2, sender, msg, '1'), '1', /invalid ristretto255 encoding/);
  });

  it('a receiver message of the wrong length', () => {
    expectProtocolError(() => baseOtSenderKeys(SID, 2, sender, recv.message.subarray(0, 100), '1'), '1', /sent 100 bytes .* expected 128/);
  });

  it('an invalid, short or identity A', () => {
    expectProtocolError(() => baseOtReceiverKeys(SID, Uint8Array.of(1), 2, recv, new Uint8Array(32).fill(0xff), '0'), '0', /invalid ristretto255 encoding for the base-OT sender message A/);
    expectProtocolError(() => baseOtReceiverKeys(SID, Uint8Array.of(1), 2, recv, new Uint8Array(31), '0'), '0', /sent 31 bytes/);
    expectProtocolError(() => baseOtReceiverKeys(SID, Uint8Array.of(1), 2, recv, new Uint8Array(32), '0'), '0', /identity/);
  });

  it('over a transport, a garbage message rejects the protocol promise with PROTOCOL', async () => {
    const [t0, t1] = memoryNetwork(2);
    const run = baseOtSend(t0, 1, 4, { sid: SID, rounds: ROUNDS, random: seeded('bad/t') });
    await t1.send(0, MessageKind.Ot, ROUNDS.receiver, new Uint8Array(4 * BASE_OT_RECEIVER_BYTES).fill(0xee));
    await expect(run).rejects.toMatchObject({ code: ErrorCode.PROTOCOL, party: '1' });
  });

  it('argument errors are TypeError / RangeError', () => {
    expect(() => baseOtReceiverMessage(new Uint8Array(31), new Uint8Array(1), 8)).toThrow(RangeError);
    expect(() => baseOtReceiverMessage(SID, new Uint8Array(2), 8)).toThrow(/expected 1 bytes for 8 bits/);
    expect(() => baseOtReceiverMessage(SID, new Uint8Array(1), 0)).toThrow(RangeError);
    expect(() => baseOtReceiverMessage(SID, [0] as unknown as Uint8Array, 8)).toThrow(TypeError);
  });
});
