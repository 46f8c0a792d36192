// Gilboa multiplication over Z_2^192 (gilboa192.ts). Negative tests first: corrections of the
// wrong length are a PROTOCOL error naming the peer; bad vectors are refused. Then shares
// reconstruct to x·y mod 2^192 — through the kernels on simulated random OTs, with edge values
// at every limb boundary, and through real OT-extension sessions (192-bit keys, extendRot192).
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { Prg } from '../../../src/ring/prg.ts';
import * as z192 from '../../../src/ring/z192.ts';
import type { Z192Vec } from '../../../src/ring/z192.ts';
import { OtExtReceiver, OtExtSender, OtStep, widen192 } from '../../../src/preprocessing/ot/extension.ts';
import { FixedKeyAes } from '../../../src/preprocessing/ot/aes.ts';
import {
  choiceBytes192,
  gilboaCorrectionBytes192,
  gilboaReceive192,
  gilboaReceiverKernel192,
  gilboaSend192,
  gilboaSenderKernel192,
  GILBOA_OTS_192,
} from '../../../src/preprocessing/ot/gilboa192.ts';
import { insecureBaseOtForTests, seeded, tampering } from './helpers.ts';

const M192 = (1n << 192n) - 1n;
const M64 = (1n << 64n) - 1n;
const EDGES = [0n, 1n, 2n, M192, M192 - 1n, 1n << 64n, 1n << 128n, (1n << 64n) - 1n, (1n << 128n) - 1n, 1n << 191n, 1n << 127n, 1n << 63n, (1n << 128n) + 1n, 0x0123456789abcdef0fedcba987654321deadbeefcafef00dn];

function vector(name: string, n: number, rotate = 0): Z192Vec {
  const v = z192.wordsView(new Prg(new Uint8Array(32).fill(1), `gilboa192/${name}`).u64(3 * n), n);
  const xs = z192.toBigints(v);
  for (let i = 0; i < Math.min(n, EDGES.length); i++) xs[i] = EDGES[(i + rotate) % EDGES.length];
  return z192.fromBigints(xs);
}

function expectProducts(x: Z192Vec, y: Z192Vec, s: Z192Vec, r: Z192Vec): void {
  const [xs, ys, ss, rs] = [x, y, s, r].map(z192.toBigints);
  for (let k = 0; k < xs.length; k++) {
    if (((ss[k] + rs[k]) & M192) !== ((xs[k] * ys[k]) & M192)) throw new Error(`product ${k}: ${xs[k]}·${ys[k]} not reconstructed`);
  }
}

async function sessions(malicious: boolean, name: string, wrap = (t: ReturnType<typeof memoryNetwork>[number]) => t) {
  const [t0, t1] = memoryNetwork(2);
  const common = { sessionId: new Uint8Array(16).fill(11), malicious, baseOt: insecureBaseOtForTests };
  const [S, R] = await Promise.all([
    OtExtSender.setup({ ...common, transport: wrap(t0), peer: 1, random: seeded(`${name}/S`) }),
    OtExtReceiver.setup({ ...common, transport: t1, peer: 0, random: seeded(`${name}/R`) }),
  ]);
  return { S, R, t0, t1 };
}

describe('Gilboa over Z_2^192: malformed input is refused', () => {
  it('corrections of the wrong length are a PROTOCOL error naming the peer', async () => {
    const longer = (p: Uint8Array) => {
      const q = new Uint8Array(p.length + 8);
      q.set(p);
      return q;
    };
    for (const change of [(p: Uint8Array) => p.subarray(8), longer]) {
      const { S, R } = await sessions(true, 'g192/length', (t) => tampering(t, (round) => Math.floor(round / 16) % 8 === OtStep.SenderPayload, change));
      const [, r] = await Promise.allSettled([gilboaSend192(S, vector('ex', 4)), gilboaReceive192(R, vector('ey', 4), { peerName: 'p1' })]);
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason;
      expect(e).toMatchObject({ code: ErrorCode.PROTOCOL, party: 'p1' });
      expect((e as Error).message).toMatch(/party p1 sent (12280|12296) bytes of corrections, expected 12288/);
    }
  });

  it('refuses empty or malformed vectors', async () => {
    const { S, R } = await sessions(false, 'g192/args');
    await expect(gilboaSend192(S, z192.alloc(0))).rejects.toThrow(RangeError);
    await expect(gilboaReceive192(R, { l0: new BigUint64Array(2), l1: new BigUint64Array(2), l2: new BigUint64Array(1) })).rejects.toThrow(RangeError);
    await expect(gilboaSend192(S, { lo: new BigUint64Array(1) } as unknown as Z192Vec)).rejects.toThrow(TypeError);
  });
});

describe('Gilboa over Z_2^192: products', () => {
  it('kernels on simulated random OTs: edge values (0, 1, 2^64, 2^128, 2^192 − 1, …) and random ones', () => {
    const n = 40;
    const x = vector('x', n);
    const y = vector('y', n, 5);
    // every edge against every edge, too
    const ex = z192.fromBigints(EDGES.flatMap((a) => EDGES.map(() => a)));
    const ey = z192.fromBigints(EDGES.flatMap(() => EDGES));
    for (const [a, b] of [
      [x, y],
      [ex, ey],
    ]) {
      const N = a.l0.length;
      const prg = new Prg(new Uint8Array(32).fill(2), `sim192/${N}`);
      const m0 = prg.u64(3 * GILBOA_OTS_192 * N);
      const m1 = prg.u64(3 * GILBOA_OTS_192 * N);
      const choices = choiceBytes192(b);
      const h = new BigUint64Array(m0.length);
      for (let i = 0; i < GILBOA_OTS_192 * N; i++) {
        const src = (choices[i >> 3] >> (i & 7)) & 1 ? m1 : m0;
        h.set(src.subarray(3 * i, 3 * i + 3), 3 * i);
      }
      const packed = new BigUint64Array(gilboaCorrectionBytes192(N) / 8);
      const s = z192.alloc(N);
      const r = z192.alloc(N);
      gilboaSenderKernel192(m0, m1, a, packed, s);
      gilboaReceiverKernel192(h, choices, packed, r);
      expectProducts(a, b, s, r);
    }
    expect(gilboaCorrectionBytes192(1)).toBe(3072); // 64·3 + 64·2 + 64·1 words
  });

  it('widen192 keeps the 128-bit key and adds a word both sides compute alike', () => {
    const aes = new FixedKeyAes();
    const k = new Prg(new Uint8Array(32).fill(3), 'widen').u64(2 * 5);
    const w = widen192(aes, k);
    expect(w.length).toBe(15);
    for (let i = 0; i < 5; i++) {
      expect([w[3 * i], w[3 * i + 1]]).toEqual([k[2 * i], k[2 * i + 1]]);
      expect(w[3 * i + 2]).not.toBe(k[2 * i]);
    }
    expect(Array.from(widen192(aes, k.slice()))).toEqual(Array.from(w));
    expect(w[2] & M64).toBe(w[2]);
  });

  for (const malicious of [false, true]) {
    it(`over ${malicious ? 'malicious' : 'semi-honest'} sessions: three calls in a row, 3 072 + 3 072 bytes per product`, async () => {
      const { S, R, t0, t1 } = await sessions(malicious, `g192/${malicious}`);
      const b0 = t0.stats().bytesSent + t1.stats().bytesSent;
      for (const n of [2, 14, 64]) {
        const x = vector(`sx${n}`, n);
        const y = vector(`sy${n}`, n, 7);
        const [s, r] = await Promise.all([gilboaSend192(S, x), gilboaReceive192(R, y)]);
        expectProducts(x, y, s, r);
      }
      // semi-honest: 192 OTs × 16 bytes of matrix + 3 072 bytes of corrections per product
      if (!malicious) expect(t0.stats().bytesSent + t1.stats().bytesSent - b0).toBe(80 * (3072 + 3072));
    });
  }
});
