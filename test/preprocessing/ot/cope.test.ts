// COPE (MASCOT Π_COPEe) over Z_2^128 and Z_2^192: the two shares add up to Δ·x; the u messages
// have the announced size and layout; a wrong-length message is a PROTOCOL error naming the peer.
import { describe, expect, it } from 'vitest';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { MessageKind, type Transport } from '../../../src/protocol/transport.ts';
import { CopeDeltaHolder, CopeXHolder, COPE_BITS, COPE_CHUNK, COPE_STREAM, copeMessageBytes, fusedKernels, ringKernels } from '../../../src/preprocessing/ot/cope.ts';
import { MAC64, MAC128 } from '../../../src/protocol/spdz2k/mac-ring.ts';
import * as z192 from '../../../src/ring/z192.ts';
import { otRound, OtStep } from '../../../src/preprocessing/ot/extension.ts';
import * as z128 from '../../../src/ring/z128.ts';
import { Prg } from '../../../src/ring/prg.ts';
import { ErrorCode, MpcError } from '../../../src/errors.ts';
import { insecureBaseOtForTests, seeded } from './helpers.ts';

const sessionId = new Uint8Array(32).fill(3);
const M128 = (1n << 128n) - 1n;

async function pair(delta: bigint, wrap: (t: Transport) => Transport = (t) => t) {
  const [t0, t1] = memoryNetwork(2);
  const [d, x] = await Promise.all([
    CopeDeltaHolder.setup({ transport: t0, peer: 1, sessionId, delta, peerName: 'p2', random: seeded('cope/d'), baseOt: insecureBaseOtForTests }),
    CopeXHolder.setup({ transport: wrap(t1), peer: 0, sessionId, random: seeded('cope/x'), baseOt: insecureBaseOtForTests }),
  ]);
  return { d, x, t0, t1 };
}

describe('COPE', () => {
  it('shares add up to Δ·x for random x, over several calls (stream continuation)', async () => {
    const delta = new Prg(new Uint8Array(32).fill(1), 'delta').nextBigint64();
    const { d, x } = await pair(delta);
    const prg = new Prg(new Uint8Array(32).fill(2), 'x');
    for (const L of [1, 7, 300]) {
      const v = prg.z128(L);
      const [sd, sx] = await Promise.all([d.extend(L), x.extend(v)]);
      const vs = z128.toBigints(v);
      const a = z128.toBigints(sd);
      const b = z128.toBigints(sx);
      for (let k = 0; k < L; k++) expect((a[k] + b[k]) & M128).toBe((delta * vs[k]) & M128);
    }
  });

  it('Δ with the top bit set and Δ = 0', async () => {
    for (const delta of [(1n << 63n) | 5n, 0n]) {
      const { d, x } = await pair(delta);
      const v = z128.fromBigints([M128, 1n, 1n << 127n]);
      const [sd, sx] = await Promise.all([d.extend(3), x.extend(v)]);
      const a = z128.toBigints(sd);
      const b = z128.toBigints(sx);
      const vs = z128.toBigints(v);
      for (let k = 0; k < 3; k++) expect((a[k] + b[k]) & M128).toBe((delta * vs[k]) & M128);
    }
  });

  it('u messages are 64 rows of 16 bytes per element, in the Extend step of stream 1, chunked', async () => {
    const sent: Array<{ round: number; bytes: number }> = [];
    const spy = (t: Transport): Transport => ({
      ...t,
      self: t.self,
      n: t.n,
      send: (to, kind, round, p) => {
        if (kind === MessageKind.Ot) sent.push({ round, bytes: p.length });
        return t.send(to, kind, round, p);
      },
      recv: (f, k, r) => t.recv(f, k, r),
      abort: (e) => t.abort(e),
      stats: () => t.stats(),
    });
    const { d, x } = await pair(12345n, spy);
    sent.length = 0;
    const L = COPE_CHUNK + 5;
    const v = new Prg(new Uint8Array(32).fill(4), 'x').z128(L);
    const [sd, sx] = await Promise.all([d.extend(L), x.extend(v)]);
    expect(sent).toEqual([
      { round: otRound(1, OtStep.Extend, COPE_STREAM), bytes: copeMessageBytes(COPE_CHUNK) },
      { round: otRound(2, OtStep.Extend, COPE_STREAM), bytes: copeMessageBytes(5) },
    ]);
    expect(copeMessageBytes(1)).toBe(COPE_BITS * 16);
    const k = L - 1;
    const got = (z128.toBigints(slice1(sd, k))[0] + z128.toBigints(slice1(sx, k))[0]) & M128;
    expect(got).toBe((12345n * z128.toBigints(slice1(v, k))[0]) & M128);
  });

  it('a wrong-length u is a PROTOCOL error naming the peer', async () => {
    const { d, t1 } = await pair(99n);
    const pending = d.extend(4);
    await t1.send(0, MessageKind.Ot, otRound(1, OtStep.Extend, COPE_STREAM), new Uint8Array(copeMessageBytes(4) - 1));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe(ErrorCode.PROTOCOL);
    expect((err as MpcError).party).toBe('p2');
    expect((err as Error).message).toMatch(/party p2 sent 4095 bytes/);
  });
});

function slice1(v: z128.Z128Vec, k: number): z128.Z128Vec {
  return { lo: v.lo.subarray(k, k + 1), hi: v.hi.subarray(k, k + 1) };
}

// Over Z_2^192 (MAC128, SPDZ2k with k = 128): the same 64 base OTs, 64 rows of 24 bytes per element.
describe('COPE over Z_2^192', () => {
  const M192 = (1n << 192n) - 1n;

  async function pair192(delta: bigint) {
    const [t0, t1] = memoryNetwork(2);
    const [d, x] = await Promise.all([
      CopeDeltaHolder.setup({ transport: t0, peer: 1, sessionId, delta, peerName: 'p2', random: seeded('cope192/d'), baseOt: insecureBaseOtForTests, ring: MAC128 }),
      CopeXHolder.setup({ transport: t1, peer: 0, sessionId, random: seeded('cope192/x'), baseOt: insecureBaseOtForTests, ring: MAC128 }),
    ]);
    return { d, x, t0, t1 };
  }

  it('a wrong-length u (a Z_2^128-sized one) is a PROTOCOL error naming the peer', async () => {
    const { d, t1 } = await pair192(99n);
    const pending = d.extend(4);
    await t1.send(0, MessageKind.Ot, otRound(1, OtStep.Extend, COPE_STREAM), new Uint8Array(copeMessageBytes(4)));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.PROTOCOL, party: 'p2' });
    expect((err as Error).message).toMatch(/party p2 sent 4096 bytes for the correction u, expected 6144/);
  });

  it('Σ shares = Δ·x mod 2^192, for random x, edge values and Δ at its edges, over several calls', async () => {
    const delta = new Prg(new Uint8Array(32).fill(1), 'delta192').nextBigint64();
    for (const D of [delta, (1n << 64n) - 1n, 0n]) {
      const { d, x, t1 } = await pair192(D);
      const prg = new Prg(new Uint8Array(32).fill(2), 'x192');
      const edges = [0n, 1n, M192, 1n << 64n, 1n << 128n, 1n << 191n, (1n << 128n) - 1n];
      const b0 = t1.stats().bytesSent;
      for (const v of [z192.fromBigints(edges), MAC128.random(prg, 1), MAC128.random(prg, 300)]) {
        const L = v.l0.length;
        const [sd, sx] = await Promise.all([d.extend(L), x.extend(v)]);
        const [a, b, vs] = [sd, sx, v].map(z192.toBigints);
        for (let k = 0; k < L; k++) expect((a[k] + b[k]) & M192, `Δ = ${D}, x = ${vs[k]}`).toBe((D * vs[k]) & M192);
      }
      expect(t1.stats().bytesSent - b0).toBe(copeMessageBytes(308, MAC128));
    }
    expect(copeMessageBytes(1, MAC128)).toBe(COPE_BITS * 24);
  });

  it('the ring kernels agree with the fused Z_2^128 ones', () => {
    const n = 33;
    const prg = new Prg(new Uint8Array(32).fill(6), 'kernels');
    const draw = () => Array.from({ length: COPE_BITS }, () => prg.z128(n));
    const t0 = draw();
    const t1 = draw();
    const xv = prg.z128(n);
    const delta = prg.nextBigint64();
    const generic = ringKernels(MAC64);
    const copy = (vs: z128.Z128Vec[]) => vs.map((v) => ({ lo: v.lo.slice(), hi: v.hi.slice() }));
    const [m1, m2] = [new BigUint64Array(2 * COPE_BITS * n), new BigUint64Array(2 * COPE_BITS * n)];
    const [o1, o2] = [z128.alloc(n), z128.alloc(n)];
    fusedKernels.x(copy(t0), copy(t1), xv, m1, n, o1);
    generic.x(copy(t0), copy(t1), xv, m2, n, o2);
    expect(Array.from(m2)).toEqual(Array.from(m1));
    expect(z128.toBigints(o2)).toEqual(z128.toBigints(o1));
    fusedKernels.delta(copy(t0), m1, delta, n, o1);
    generic.delta(copy(t0), m1, delta, n, o2);
    expect(z128.toBigints(o2)).toEqual(z128.toBigints(o1));
  });
});
