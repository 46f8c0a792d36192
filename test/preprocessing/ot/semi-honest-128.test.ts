// Dealer-free semi-honest material over Z_2^128: malformed corrections and bad options are
// refused first; then triples a·b = c mod 2^128, random bits and random integers below 2^bits
// for 2, 3 and 5 parties, in the material layout (low limbs, then high limbs).
import { describe, expect, it } from 'vitest';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { OtTripleGenerator, type TripleShares } from '../../../src/preprocessing/ot/triples.ts';
import { createOtSemiHonestMaterial, packBits } from '../../../src/preprocessing/ot/semi-honest.ts';
import { ErrorCode, MpcError } from '../../../src/errors.ts';
import { OtStep, OT_STEPS, OT_STREAMS } from '../../../src/preprocessing/ot/extension.ts';
import { insecureBaseOtForTests, seeded, tampering } from './helpers.ts';
import type { Transport } from '../../../src/protocol/transport.ts';

const sessionId = new Uint8Array(32).fill(12);
const M128 = (1n << 128n) - 1n;

/** Element k of a vector of `n` elements stored as n low limbs then n high limbs. */
const at = (w: BigUint64Array, n: number, k: number): bigint => (w[n + k] << 64n) | w[k];
/** The opened (summed) element k over every party's words. */
const opened = (ws: BigUint64Array[], n: number, k: number): bigint => ws.reduce((t, w) => t + at(w, n, k), 0n) & M128;

async function generators(n: number, transports: Transport[] = memoryNetwork(n), batchSize?: number) {
  return Promise.all(
    transports.map((transport, i) =>
      OtTripleGenerator.setup({ transport, sessionId, ring: 128, random: seeded(`sh128/${n}/${i}`), baseOt: insecureBaseOtForTests, ...(batchSize ? { batchSize } : {}) }),
    ),
  );
}

function expectTriples(shares: TripleShares[], count: number): void {
  for (const s of shares) for (const v of [s.a, s.b, s.c]) expect(v.length).toBe(2 * count);
  let wide = 0;
  for (let k = 0; k < count; k++) {
    const a = opened(shares.map((s) => s.a), count, k);
    const b = opened(shares.map((s) => s.b), count, k);
    if (((a * b) & M128) !== opened(shares.map((s) => s.c), count, k)) throw new Error(`triple ${k}: a·b ≠ c mod 2^128`);
    if (a >> 64n !== 0n) wide++;
  }
  // a is uniform in Z_2^128: its high limb is zero with probability 2^-64.
  expect(wide).toBe(count);
}

const payloadStep = (round: number) => Math.floor(round / OT_STREAMS) % OT_STEPS === OtStep.SenderPayload;

describe('OT preprocessing over Z_2^128: refusals', () => {
  const cuts = [
    { what: 'bit-multiplication', cut: 16, run: (g: OtTripleGenerator): Promise<unknown> => g.bits(64), message: /OT bit multiplication: party 0 sent 1008 bytes of corrections, expected 1024/ },
    { what: 'triple', cut: 8, run: (g: OtTripleGenerator): Promise<unknown> => g.generate(10), message: /Gilboa multiplication: party 0 sent 10312 bytes of corrections, expected 10320/ },
  ];
  for (const c of cuts) {
    it(`a peer that cuts its ${c.what} corrections short is a PROTOCOL error naming it`, async () => {
      const transports = memoryNetwork(2);
      const bad = tampering(transports[0], payloadStep, (p) => p.subarray(0, p.length - c.cut));
      const gens = await generators(2, [bad, transports[1]]);
      const r = await Promise.allSettled(gens.map(c.run));
      const err = (r[1] as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(MpcError);
      expect((err as MpcError).code).toBe(ErrorCode.PROTOCOL);
      expect((err as MpcError).message).toMatch(c.message);
    });
  }

  it('refuses another ring, and a batch too large for one extension', async () => {
    const [t] = memoryNetwork(2);
    await expect(OtTripleGenerator.setup({ transport: t, sessionId, ring: 96 as 128 })).rejects.toThrow(/ring: expected 64 or 128, got 96/);
    await expect(OtTripleGenerator.setup({ transport: t, sessionId, ring: 128, batchSize: 16385 })).rejects.toThrow(/batchSize: expected an integer in \[1, 16384\]/);
  });
});

describe('OT preprocessing over Z_2^128: relations', () => {
  it('2 parties, real base OTs: a·b = c mod 2^128, and 6 160 bytes per triple', async () => {
    const transports = memoryNetwork(2);
    const gens = await Promise.all(transports.map((transport, i) => OtTripleGenerator.setup({ transport, sessionId, ring: 128, random: seeded(`real/${i}`) })));
    const before = transports.reduce((acc, t) => acc + t.stats().bytesSent, 0);
    const count = 1024;
    expectTriples(await Promise.all(gens.map((g) => g.generate(count))), count);
    const bytes = transports.reduce((acc, t) => acc + t.stats().bytesSent, 0) - before;
    expect(bytes / count).toBe(2 * (2048 + 1032));
  });

  for (const n of [3, 5]) {
    it(`${n} parties: triples over several batches, including a partial one; bits are bits`, async () => {
      const gens = await generators(n, memoryNetwork(n), 100);
      for (const count of [250, 1]) expectTriples(await Promise.all(gens.map((g) => g.generate(count))), count);
      const count = 1001;
      const bits = await Promise.all(gens.map((g) => g.bits(count)));
      let ones = 0;
      for (let k = 0; k < count; k++) {
        const b = opened(bits, count, k);
        expect(b === 0n || b === 1n).toBe(true);
        ones += Number(b);
      }
      // 1001 fair coins: ±5σ is ±80.
      expect(Math.abs(ones - count / 2)).toBeLessThan(80);
    }, 60_000);
  }

  it('packBits over Z_2^128 is Σ 2^j·b_j mod 2^128, carries across the limbs included', () => {
    // Two values, 128 bit rows: value 0 has every bit set (2^128 − 1), value 1 only bit 127 and bit 64.
    const L = 2;
    const bits = 128;
    const w = new BigUint64Array(2 * bits * L);
    for (let j = 0; j < bits; j++) {
      w[j * L] = 1n;
      if (j === 127 || j === 64) w[j * L + 1] = 1n;
    }
    const r = packBits(w, bits, L, 128);
    expect(at(r, L, 0)).toBe(M128);
    expect(at(r, L, 1)).toBe((1n << 127n) + (1n << 64n));
    // Shares that sum to bits only mod 2^128 (one party holds 2^128 − 1, the other 2): still packs to the sum.
    const s1 = new BigUint64Array(2);
    const s2 = new BigUint64Array(2);
    s1[0] = (1n << 64n) - 1n;
    s1[1] = (1n << 64n) - 1n;
    s2[0] = 2n;
    expect((at(packBits(s1, 1, 1, 128), 1, 0) + at(packBits(s2, 1, 1, 128), 1, 0)) & M128).toBe(1n);
  });

  for (const n of [2, 3]) {
    it(`${n} parties: the material source's random integers below 2^bits (up to 120 bits) and triples`, async () => {
      const transports = memoryNetwork(n);
      const parties = transports.map((_, j) => `p${j + 1}`);
      const sources = transports.map((transport, i) => createOtSemiHonestMaterial({ transport, parties, sessionId, ring: 128, random: seeded(`src128/${n}/${i}`), baseOt: insecureBaseOtForTests }));
      const L = 200;
      for (const bits of [1, 70, 120]) {
        const got = await Promise.all(sources.map((s) => s.produce({ kind: 'rand', length: L, bits }, undefined)));
        const vs = got.map((m) => (m.kind === 'rand' ? m.values : new BigUint64Array(0)));
        for (const v of vs) expect(v.length).toBe(2 * L);
        let top = 0;
        for (let k = 0; k < L; k++) {
          const r = opened(vs, L, k);
          expect(r < 1n << BigInt(bits)).toBe(true);
          if (r >> BigInt(bits - 1) === 1n) top++;
        }
        expect(top).toBeGreaterThan(60); // the top bit is set about half the time (±5σ ≈ ±35 of 100)
      }
      const t = await Promise.all(sources.map((s) => s.produce({ kind: 'triples', length: 50 }, undefined)));
      expectTriples(t.map((m) => (m.kind === 'triples' ? m.triples : undefined)!), 50);
      expect(sources[0].stats()).toMatchObject({ triples: 50, bits: L * (1 + 70 + 120) });
    }, 60_000);
  }
});
