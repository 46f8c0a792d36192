// Dealer-free semi-honest material: random bits, random integers below 2^bits and triples, as
// a job's SemiHonestPrep consumes them, for 2, 3 and 5 parties; payloads that arrive at
// unaligned offsets (as Node's pooled Buffers do over the network); malformed corrections.
import { describe, expect, it } from 'vitest';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import type { Transport } from '../../../src/protocol/transport.ts';
import { OtTripleGenerator } from '../../../src/preprocessing/ot/triples.ts';
import { createOtSemiHonestMaterial, packBits } from '../../../src/preprocessing/ot/semi-honest.ts';
import { ErrorCode, MpcError } from '../../../src/errors.ts';
import { OtStep, OT_STEPS, OT_STREAMS } from '../../../src/preprocessing/ot/extension.ts';
import { insecureBaseOtForTests, seeded, tampering } from './helpers.ts';

const sessionId = new Uint8Array(32).fill(9);
const sum = (vs: BigUint64Array[], k: number): bigint => BigInt.asUintN(64, vs.reduce((t, v) => t + v[k], 0n));

/** Delivers every received payload as a copy at an odd offset of a larger Node Buffer. */
function unaligned(t: Transport): Transport {
  return {
    self: t.self,
    n: t.n,
    send: (to, kind, round, payload) => t.send(to, kind, round, payload),
    recv: async (from, kind, round) => {
      const p = await t.recv(from, kind, round);
      const pool = Buffer.alloc(p.length + 3);
      pool.set(p, 3);
      return pool.subarray(3);
    },
    abort: (e) => t.abort(e),
    stats: () => t.stats(),
  };
}

async function generators(n: number, wrap: (t: Transport) => Transport = (t) => t) {
  const transports = memoryNetwork(n).map(wrap);
  return Promise.all(transports.map((transport, i) => OtTripleGenerator.setup({ transport, sessionId, random: seeded(`sh/${n}/${i}`), baseOt: insecureBaseOtForTests })));
}

describe('OT random bits', () => {
  for (const n of [2, 3, 5]) {
    it(`${n} parties: every opened value is a bit, and both occur about equally often`, async () => {
      const gens = await generators(n);
      const count = 4001; // not a multiple of 8
      const shares = await Promise.all(gens.map((g) => g.bits(count)));
      let ones = 0;
      for (let k = 0; k < count; k++) {
        const b = sum(shares, k);
        expect(b === 0n || b === 1n).toBe(true);
        ones += Number(b);
      }
      // 4001 fair coins: ±5σ is ±158.
      expect(Math.abs(ones - count / 2)).toBeLessThan(160);
      expect(gens[0].bitsGenerated).toBe(count);
    });
  }

  it('payloads at unaligned offsets (pooled Buffers) give the same relations', async () => {
    const gens = await generators(2, unaligned);
    const [b, t] = await Promise.all([Promise.all(gens.map((g) => g.bits(77))), Promise.all(gens.map((g) => g.generate(33)))]);
    for (let k = 0; k < 77; k++) expect(sum(b, k) <= 1n).toBe(true);
    const as = t.map((x) => x.a);
    const bs = t.map((x) => x.b);
    const cs = t.map((x) => x.c);
    for (let k = 0; k < 33; k++) expect(BigInt.asUintN(64, sum(as, k) * sum(bs, k))).toBe(sum(cs, k));
  });

  it('a peer that sends corrections of the wrong length is a PROTOCOL error naming it', async () => {
    const transports = memoryNetwork(2);
    const payloadStep = (round: number) => Math.floor(round / OT_STREAMS) % OT_STEPS === OtStep.SenderPayload;
    const bad = tampering(transports[0], payloadStep, (p) => p.subarray(0, p.length - 8));
    const gens = await Promise.all([bad, transports[1]].map((transport, i) => OtTripleGenerator.setup({ transport, sessionId, random: seeded(`bad/${i}`), baseOt: insecureBaseOtForTests })));
    // Party 1 folds its bit into party 0's: party 0 sends τ, cut short.
    const r = await Promise.allSettled(gens.map((g) => g.bits(64)));
    const err = (r[1] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe(ErrorCode.PROTOCOL);
    expect((err as MpcError).message).toMatch(/party 0 sent 504 bytes of corrections, expected 512/);
  });
});

describe('OT semi-honest material source', () => {
  it('packBits is Σ 2^j·b_j over bit-major rows', () => {
    const b = BigUint64Array.from([1n, 0n, 1n, 1n, 0n, 1n]); // 3 bits of 2 values: bit j of value k at j·2 + k
    expect([...packBits(b, 3, 2)]).toEqual([1n + 2n + 0n, 0n + 2n + 4n]);
  });

  for (const n of [2, 3]) {
    it(`${n} parties: random integers below 2^bits and triples, item by item`, async () => {
      const transports = memoryNetwork(n);
      const sources = transports.map((transport, i) => createOtSemiHonestMaterial({ transport, parties: transports.map((_, j) => `p${j + 1}`), sessionId, random: seeded(`src/${n}/${i}`), baseOt: insecureBaseOtForTests }));
      for (const bits of [1, 13, 63]) {
        const got = await Promise.all(sources.map((s) => s.produce({ kind: 'rand', length: 300, bits }, undefined)));
        const vs = got.map((m) => (m.kind === 'rand' ? m.values : new BigUint64Array(0)));
        let top = 0;
        for (let k = 0; k < 300; k++) {
          const r = sum(vs, k);
          expect(r < 1n << BigInt(bits)).toBe(true);
          if (r >> BigInt(bits - 1) === 1n) top++;
        }
        expect(top).toBeGreaterThan(90); // the top bit is set about half the time
      }
      const t = await Promise.all(sources.map((s) => s.produce({ kind: 'triples', length: 200 }, undefined)));
      const tr = t.map((m) => (m.kind === 'triples' ? m.triples : undefined)!);
      for (let k = 0; k < 200; k++) {
        expect(BigInt.asUintN(64, sum(tr.map((x) => x.a), k) * sum(tr.map((x) => x.b), k))).toBe(sum(tr.map((x) => x.c), k));
      }
      const st = sources[0].stats();
      expect(st.triples).toBe(200);
      expect(st.bits).toBe(300 * (1 + 13 + 63));
    });
  }
});
