// Gilboa multiplication over Z_2^64: shares reconstruct to x·y mod 2^64 — through the kernels on
// simulated random OTs (fast, many cases) and through real OT-extension sessions.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { Prg } from '../../../src/ring/prg.ts';
import { OtExtReceiver, OtExtSender, OtStep } from '../../../src/preprocessing/ot/extension.ts';
import {
  gilboaCorrectionBytes128,
  gilboaCorrectionBytes64,
  gilboaReceive128,
  gilboaReceive64,
  gilboaReceiverKernel128,
  gilboaReceiverKernel64,
  gilboaSend128,
  gilboaSend64,
  gilboaSenderKernel128,
  gilboaSenderKernel64,
} from '../../../src/preprocessing/ot/gilboa.ts';
import type { Z128Vec } from '../../../src/ring/z128.ts';
import { insecureBaseOtForTests, seeded, tampering } from './helpers.ts';

const M64 = (1n << 64n) - 1n;
const EDGES = [0n, 1n, 2n, 3n, 1n << 32n, (1n << 32n) - 1n, 1n << 63n, M64, M64 - 1n, 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan];

function vector(name: string, n: number): BigUint64Array {
  const v = new Prg(new Uint8Array(32).fill(1), `gilboa/${name}`).u64(n);
  v.set(EDGES.slice(0, Math.min(n, EDGES.length)).map((e, i) => (i % 2 ? e : M64 - e)));
  return v;
}

function expectProducts(x: BigUint64Array, y: BigUint64Array, s: BigUint64Array, r: BigUint64Array): void {
  for (let k = 0; k < x.length; k++) {
    if (BigInt.asUintN(64, s[k] + r[k]) !== BigInt.asUintN(64, x[k] * y[k])) throw new Error(`product ${k}: ${x[k]}·${y[k]} not reconstructed`);
  }
}

describe('kernels on simulated random OTs', () => {
  // A perfect random OT: the sender holds (m0, m1), the receiver m_{y_j} for every bit y_j.
  function simulate(x: BigUint64Array, y: BigUint64Array): { s: BigUint64Array; r: BigUint64Array; packed: BigUint64Array } {
    const n = x.length;
    const prg = new Prg(new Uint8Array(32).fill(2), `sim/${n}`);
    const m0 = prg.u64(64 * n);
    const m1 = prg.u64(64 * n);
    const h = new BigUint64Array(64 * n);
    for (let k = 0; k < n; k++) for (let j = 0; j < 64; j++) h[64 * k + j] = (y[k] >> BigInt(j)) & 1n ? m1[64 * k + j] : m0[64 * k + j];
    const packed = new BigUint64Array(gilboaCorrectionBytes64(n) / 8);
    const s = new BigUint64Array(n);
    const r = new BigUint64Array(n);
    gilboaSenderKernel64(m0, m1, x, packed, s);
    gilboaReceiverKernel64(h, y, packed, r);
    return { s, r, packed };
  }

  for (const n of [1, 2, 3, 64, 1001]) {
    it(`${n} products, including edge values, reconstruct to x·y mod 2^64`, () => {
      const x = vector(`x${n}`, n);
      const y = vector(`y${n}`, n).reverse();
      const { s, r } = simulate(x, y);
      expectProducts(x, y, s, r);
    });
  }

  it('every pair of x and y edge values', () => {
    const x = BigUint64Array.from(EDGES.flatMap((a) => EDGES.map(() => a)));
    const y = BigUint64Array.from(EDGES.flatMap(() => EDGES));
    const { s, r } = simulate(x, y);
    expectProducts(x, y, s, r);
  });

  it('corrections are 260 bytes per product (2080 bits: Σ_j (64 − j)), rounded up to a word for an odd count', () => {
    expect(gilboaCorrectionBytes64(2)).toBe(520);
    expect(gilboaCorrectionBytes64(1000)).toBe(260_000);
    expect(gilboaCorrectionBytes64(1)).toBe(264);
  });

  it('the packing is dense: every bit of the corrections influences the receiver result', () => {
    // Only the low 64 − j bits of τ_j are sent, and none is wasted: with every choice bit 1 (every
    // τ_j in use), flipping any single bit of the message changes the receiver's shares.
    const x = vector('dense/x', 2);
    const y = BigUint64Array.of(M64, M64); // all choice bits 1: every τ_j is used
    const { s, packed } = simulate(x, y);
    const h = new BigUint64Array(128);
    const prg = new Prg(new Uint8Array(32).fill(2), 'sim/2');
    prg.u64(128);
    h.set(prg.u64(128)); // m1 = h since every y_j = 1
    const base = new BigUint64Array(2);
    gilboaReceiverKernel64(h, y, packed, base);
    expectProducts(x, y, s, base);
    let influential = 0;
    for (let w = 0; w < packed.length; w++) {
      for (let b = 0; b < 64; b++) {
        const p = packed.slice();
        p[w] ^= 1n << BigInt(b);
        const r = new BigUint64Array(2);
        gilboaReceiverKernel64(h, y, p, r);
        if (r[0] !== base[0] || r[1] !== base[1]) influential += 1;
      }
    }
    expect(influential).toBe(64 * packed.length); // 4160 bits, all of them needed
  });
});

describe('over OT-extension sessions', () => {
  async function sessions(malicious: boolean, name: string) {
    const [t0, t1] = memoryNetwork(2);
    const common = { sessionId: new Uint8Array(16).fill(4), malicious, baseOt: insecureBaseOtForTests };
    const [S, R] = await Promise.all([
      OtExtSender.setup({ ...common, transport: t0, peer: 1, random: seeded(`${name}/S`) }),
      OtExtReceiver.setup({ ...common, transport: t1, peer: 0, random: seeded(`${name}/R`) }),
    ]);
    return { S, R, t0, t1 };
  }

  for (const malicious of [false, true]) {
    it(`${malicious ? 'malicious' : 'semi-honest'} sessions: random products and edge values, three calls in a row`, async () => {
      const { S, R } = await sessions(malicious, `g/${malicious}`);
      for (const n of [3, 500, 2048]) {
        const x = vector(`sx${n}`, n);
        const y = vector(`sy${n}`, n).reverse();
        const [s, r] = await Promise.all([gilboaSend64(S, x), gilboaReceive64(R, y)]);
        expectProducts(x, y, s, r);
      }
    });
  }

  it('sends 1 024 + 260 bytes per product in a semi-honest session', async () => {
    const { S, R, t0, t1 } = await sessions(false, 'g/bytes');
    const b0 = t0.stats().bytesSent + t1.stats().bytesSent;
    const n = 4096;
    await Promise.all([gilboaSend64(S, vector('bx', n)), gilboaReceive64(R, vector('by', n))]);
    expect(t0.stats().bytesSent + t1.stats().bytesSent - b0).toBe(n * (1024 + 260));
  });

  it('corrections of the wrong length are a PROTOCOL error', async () => {
    const [t0raw, t1] = memoryNetwork(2);
    const t0 = tampering(t0raw, (round) => round % 128 === OtStep.SenderPayload * 16, (p) => p.subarray(8));
    const common = { sessionId: new Uint8Array(16).fill(5), malicious: false, baseOt: insecureBaseOtForTests };
    const [S, R] = await Promise.all([OtExtSender.setup({ ...common, transport: t0, peer: 1 }), OtExtReceiver.setup({ ...common, transport: t1, peer: 0 })]);
    const [, r] = await Promise.allSettled([gilboaSend64(S, vector('ex', 4)), gilboaReceive64(R, vector('ey', 4))]);
    expect((r as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.PROTOCOL, party: '0' });
  });

  it('refuses empty or mistyped vectors', async () => {
    const { S } = await sessions(false, 'g/args');
    await expect(gilboaSend64(S, new BigUint64Array(0))).rejects.toThrow(RangeError);
    await expect(gilboaSend64(S, [1n] as unknown as BigUint64Array)).rejects.toThrow(TypeError);
  });
});

describe('Z_2^128', () => {
  const M128 = (1n << 128n) - 1n;
  const EDGES128 = [0n, 1n, M64, 1n << 63n, 1n << 64n, M128, 1n << 127n, M128 - 1n, (1n << 64n) + 1n, 0x0123456789abcdef0fedcba987654321n];
  const big = (v: Z128Vec, k: number) => v.lo[k] + (v.hi[k] << 64n);

  function vector128(name: string, n: number, rotate = 0): Z128Vec {
    const v = new Prg(new Uint8Array(32).fill(1), `gilboa128/${name}`).z128(n);
    for (let i = 0; i < Math.min(n, EDGES128.length); i++) {
      const e = EDGES128[(i + rotate) % EDGES128.length];
      v.lo[i] = e & M64;
      v.hi[i] = e >> 64n;
    }
    return v;
  }

  function expectProducts128(x: Z128Vec, y: Z128Vec, s: Z128Vec, r: Z128Vec): void {
    for (let k = 0; k < x.lo.length; k++) {
      if (BigInt.asUintN(128, big(s, k) + big(r, k)) !== BigInt.asUintN(128, big(x, k) * big(y, k))) throw new Error(`product ${k} not reconstructed`);
    }
  }

  it('kernels on simulated random OTs: edge values and random ones reconstruct to x·y mod 2^128', () => {
    const n = 257;
    const x = vector128('x', n);
    const y = vector128('y', n, 3);
    const prg = new Prg(new Uint8Array(32).fill(2), 'sim128');
    const m0 = prg.u64(256 * n);
    const m1 = prg.u64(256 * n);
    const choices = new Uint8Array(16 * n);
    const cw = new BigUint64Array(choices.buffer);
    for (let k = 0; k < n; k++) {
      cw[2 * k] = y.lo[k];
      cw[2 * k + 1] = y.hi[k];
    }
    const h = new BigUint64Array(256 * n);
    for (let k = 0; k < n; k++) {
      const yy = big(y, k);
      for (let j = 0; j < 128; j++) {
        const src = (yy >> BigInt(j)) & 1n ? m1 : m0;
        const i = 128 * k + j;
        h[2 * i] = src[2 * i];
        h[2 * i + 1] = src[2 * i + 1];
      }
    }
    const packed = new BigUint64Array(gilboaCorrectionBytes128(n) / 8);
    const s = { lo: new BigUint64Array(n), hi: new BigUint64Array(n) };
    const r = { lo: new BigUint64Array(n), hi: new BigUint64Array(n) };
    gilboaSenderKernel128(m0, m1, x.lo, x.hi, packed, s.lo, s.hi);
    gilboaReceiverKernel128(h, choices, packed, r.lo, r.hi);
    expectProducts128(x, y, s, r);
    expect(gilboaCorrectionBytes128(1)).toBe(1032); // Σ_{j<128} (128 − j) = 8 256 bits
  });

  for (const malicious of [false, true]) {
    it(`over ${malicious ? 'malicious' : 'semi-honest'} sessions: 2 048 + 1 032 bytes per product`, async () => {
      const [t0, t1] = memoryNetwork(2);
      const common = { sessionId: new Uint8Array(16).fill(9), malicious, baseOt: insecureBaseOtForTests };
      const [S, R] = await Promise.all([
        OtExtSender.setup({ ...common, transport: t0, peer: 1, random: seeded(`g128/${malicious}/S`) }),
        OtExtReceiver.setup({ ...common, transport: t1, peer: 0, random: seeded(`g128/${malicious}/R`) }),
      ]);
      const b0 = t0.stats().bytesSent + t1.stats().bytesSent;
      for (const n of [1, 64]) {
        const x = vector128(`sx${n}`, n);
        const y = vector128(`sy${n}`, n, 5);
        const [s, r] = await Promise.all([gilboaSend128(S, x), gilboaReceive128(R, y)]);
        expectProducts128(x, y, s, r);
      }
      if (!malicious) expect(t0.stats().bytesSent + t1.stats().bytesSent - b0).toBe(65 * (2048 + 1032));
    });
  }
});
