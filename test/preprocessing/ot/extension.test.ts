// OT extension (IKNP + KOS): the correlation t_i = q_i ⊕ r_i·Δ, random-OT keys m_b = H(i, q_i ⊕ b·Δ),
// and the KOS check catching a receiver that uses inconsistent choice bits across columns.
import { ChiCombiner, CHI_CHUNK_ROWS } from '../../../src/preprocessing/ot/chi.ts';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import type { Transport } from '../../../src/protocol/transport.ts';
import { FixedKeyAes } from '../../../src/preprocessing/ot/aes.ts';
import { Prg } from '../../../src/ring/prg.ts';
import {
  ColumnStream,
  chiCombineColumns,
  gf128Mul,
  KOS_EXTRA_ROWS,
  OT_STEPS,
  OT_STREAMS,
  otRound,
  OtExtReceiver,
  OtExtSender,
  OtStep,
  rotReceiverKeys,
  rotReceiverKeys64,
  rotSenderKeys,
  rotSenderKeys64,
  type BaseOtProvider,
  type ReceiverBatch,
  type SenderBatch,
} from '../../../src/preprocessing/ot/extension.ts';
import { transposeReference } from '../../../src/preprocessing/ot/transpose.ts';
import { bitAt, hex, insecureBaseOtForTests, seeded, tampering } from './helpers.ts';

const sessionId = new Uint8Array(32).fill(3);
const aes = new FixedKeyAes();

interface Pair {
  S: OtExtSender;
  R: OtExtReceiver;
  t0: Transport;
  t1: Transport;
}

async function pair(malicious: boolean, name: string, opts: { baseOt?: BaseOtProvider; receiverTransport?: (t: Transport) => Transport; stream?: number } = {}): Promise<Pair> {
  const [t0, raw1] = memoryNetwork(2);
  const t1 = opts.receiverTransport ? opts.receiverTransport(raw1) : raw1;
  const baseOt = opts.baseOt ?? insecureBaseOtForTests;
  const [S, R] = await Promise.all([
    OtExtSender.setup({ transport: t0, peer: 1, sessionId, malicious, random: seeded(`${name}/S`), baseOt, stream: opts.stream }),
    OtExtReceiver.setup({ transport: t1, peer: 0, sessionId, malicious, random: seeded(`${name}/R`), baseOt, stream: opts.stream }),
  ]);
  return { S, R, t0, t1 };
}

/** Checks t_i = q_i ⊕ r_i·Δ for every row. */
function expectCorrelation(sb: SenderBatch, rb: ReceiverBatch, choices: Uint8Array): void {
  expect(sb.m).toBe(rb.m);
  expect(rb.choices).toEqual(choices);
  for (let i = 0; i < sb.m; i++) {
    const r = bitAt(choices, i);
    for (let k = 0; k < 16; k++) {
      const want = sb.q[16 * i + k] ^ (r ? sb.delta[k] : 0);
      if (rb.t[16 * i + k] !== want) throw new Error(`row ${i} byte ${k}: t_i ≠ q_i ⊕ r_i·Δ`);
    }
  }
}

describe('IKNP correlation and random-OT keys', () => {
  // Sessions on the test double of the base OTs, and one malicious session on the real ones.
  const ready = Promise.all([pair(false, 'sh'), pair(true, 'mal')]);
  const realPair = (async () => {
    const [t0, t1] = memoryNetwork(2);
    const [S, R] = await Promise.all([
      OtExtSender.setup({ transport: t0, peer: 1, sessionId, random: seeded('real/S') }),
      OtExtReceiver.setup({ transport: t1, peer: 0, sessionId, random: seeded('real/R') }),
    ]);
    return { S, R, t0, t1 };
  })();

  for (const mode of ['semi-honest', 'malicious (real base OTs)'] as const) {
    it(`${mode}: t_i = q_i ⊕ r_i·Δ over three batches of odd sizes`, async () => {
      const { S, R } = mode === 'semi-honest' ? (await ready)[0] : await realPair;
      for (const m of [1000, 77, 4096]) {
        const choices = seeded(`choices/${mode}/${m}`)(Math.ceil(m / 8));
        if (m % 8) choices[choices.length - 1] &= (1 << (m % 8)) - 1;
        const [sb, rb] = await Promise.all([S.extend(m), R.extend(choices, m)]);
        expectCorrelation(sb, rb, choices);
        expect(sb.batch).toBe(rb.batch);
        expect(sb.tweak0).toBe(rb.tweak0);
        expect(sb.hash).toBe(mode === 'semi-honest' ? 'cr' : 'tcr');
      }
    });

    it(`${mode}: the receiver's key is m_{r_i} = H(i, t_i), and differs from m_{1−r_i}`, async () => {
      const { S, R } = mode === 'semi-honest' ? (await ready)[0] : await realPair;
      const m = 2000;
      const choices = seeded(`rot/${mode}`)(m / 8);
      const [sb, rb] = await Promise.all([S.extend(m), R.extend(choices, m)]);
      const { m0, m1 } = rotSenderKeys(sb, aes);
      const mc = rotReceiverKeys(rb, aes);
      const s64 = rotSenderKeys64(sb, aes);
      const r64 = rotReceiverKeys64(rb, aes);
      for (let i = 0; i < m; i++) {
        const c = bitAt(choices, i);
        const got = hex(mc.subarray(16 * i, 16 * i + 16));
        if (got !== hex((c ? m1 : m0).subarray(16 * i, 16 * i + 16))) throw new Error(`OT ${i}: wrong key`);
        if (got === hex((c ? m0 : m1).subarray(16 * i, 16 * i + 16))) throw new Error(`OT ${i}: both keys equal`);
        if (r64[i] !== (c ? s64.m1 : s64.m0)[i]) throw new Error(`OT ${i}: wrong 64-bit key`);
      }
    });
  }

  it('extendRot64 gives the same keys as extend + rotSenderKeys64 / rotReceiverKeys64', async () => {
    // Two identical twin sessions (same seeds): one takes the fused path, the other the plain one.
    for (const malicious of [false, true]) {
      const a = await pair(malicious, `twin/${malicious}`);
      const b = await pair(malicious, `twin/${malicious}`);
      const m = 70_000; // crosses the transposer's chunk of 65 536 rows
      const choices = seeded('twin/choices')(Math.ceil(m / 8));
      const [fs, fr] = await Promise.all([a.S.extendRot64(m, aes), a.R.extendRot64(choices, m, aes)]);
      const [sb, rb] = await Promise.all([b.S.extend(m), b.R.extend(choices, m)]);
      const s64 = rotSenderKeys64(sb, aes);
      expect(hex(new Uint8Array(fs.m0.buffer))).toBe(hex(new Uint8Array(s64.m0.buffer)));
      expect(hex(new Uint8Array(fs.m1.buffer))).toBe(hex(new Uint8Array(s64.m1.buffer)));
      expect(hex(new Uint8Array(fr.h.buffer))).toBe(hex(new Uint8Array(rotReceiverKeys64(rb, aes).buffer)));
    }
  });

  it('batches issued concurrently on one session, in the same order on both sides, line up', async () => {
    const { S, R } = await pair(false, 'concurrent');
    const sizes = [640, 128, 2048];
    const chs = sizes.map((m, k) => seeded(`concurrent/${k}`)(m / 8));
    const senders = sizes.map((m) => S.extend(m));
    const receivers = sizes.map((m, k) => R.extend(chs[k], m));
    const [sb, rb] = [await Promise.all(senders), await Promise.all(receivers)];
    sizes.forEach((_, k) => expectCorrelation(sb[k], rb[k], chs[k]));
    expect(sb.map((b) => b.batch)).toEqual([1, 2, 3]);
  });

  it('tweaks advance across batches, so equal rows in different batches get different keys', async () => {
    const { S, R } = (await ready)[1];
    const [a] = await Promise.all([S.extend(128), R.extend(new Uint8Array(16), 128)]);
    const [b] = await Promise.all([S.extend(128), R.extend(new Uint8Array(16), 128)]);
    expect(b.tweak0).toBeGreaterThanOrEqual(a.tweak0 + 128n);
  });

  it('traffic: a semi-honest batch is u only; a malicious one adds the 128 bytes of the check', async () => {
    const sh = await pair(false, 'bytes/sh');
    const mal = await pair(true, 'bytes/mal');
    const base = [sh.t1.stats().bytesSent, mal.t1.stats().bytesSent, mal.t0.stats().bytesSent];
    const m = 1024;
    await Promise.all([sh.S.extend(m), sh.R.extend(new Uint8Array(m / 8), m)]);
    await Promise.all([mal.S.extend(m), mal.R.extend(new Uint8Array(m / 8), m)]);
    expect(sh.t1.stats().bytesSent - base[0]).toBe(16 * m);
    expect(mal.t1.stats().bytesSent - base[1]).toBe(16 * (m + KOS_EXTRA_ROWS) + 32 + 64);
    expect(mal.t0.stats().bytesSent - base[2]).toBe(32);
  });
});

describe('the KOS check catches a receiver that deviates', () => {
  /**
   * A receiver that uses choice bits r' ≠ r in column j for the rows in `flip` — exactly what
   * flipping those bits of u_j = G(k0_j) ⊕ G(k1_j) ⊕ r does — and otherwise follows the protocol,
   * including the check values x, t computed from its real r.
   */
  async function deviating(column: (delta: Uint8Array) => number, flip: number[], m = 1024) {
    let j = -1;
    let rows = 0;
    const p = await pair(true, 'kos', {
      receiverTransport: (t) =>
        tampering(
          t,
          (round) => round === otRound(1, OtStep.Extend, 0),
          (u) => {
            for (const i of flip) u[j * (rows / 8) + (i >> 3)] ^= 1 << (i & 7);
            return u;
          },
        ),
    });
    j = column(p.S.delta());
    rows = m + KOS_EXTRA_ROWS;
    const choices = seeded('kos/choices')(m / 8);
    const [s, r] = await Promise.allSettled([p.S.extend(m), p.R.extend(choices, m)]);
    return { s, r, j };
  }

  const firstWith = (bit: number) => (delta: Uint8Array) => {
    for (let j = 0; j < 128; j++) if (bitAt(delta, j) === bit) return j;
    throw new Error(`no Δ bit equal to ${bit}`);
  };

  it('inconsistent choice bits in a column where Δ_j = 1: the sender aborts with MAC_CHECK', async () => {
    const { s } = await deviating(firstWith(1), [3, 500, 1023]);
    expect(s.status).toBe('rejected');
    expect((s as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.MAC_CHECK, party: '1' });
    expect(String((s as PromiseRejectedResult).reason.message)).toMatch(/KOS consistency check failed for batch 1/);
  });

  it('a single flipped bit, even in the KOS padding rows, is caught', async () => {
    const { s } = await deviating(firstWith(1), [1024 + 17]);
    expect((s as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.MAC_CHECK });
  });

  it('in a column where Δ_j = 0 the deviation changes nothing the sender uses, and passes', async () => {
    // q_j = G(k0_j) does not depend on u_j when Δ_j = 0, so the outputs stay correct. This is
    // KOS's known selective-failure channel: a cheater learns Δ_j by whether it is caught, at the
    // price of a 1/2 chance of abort per bit, which KOS15's analysis accounts for (κ = 128 leaves margin).
    const { s, r } = await deviating(firstWith(0), [3, 500]);
    expect(s.status).toBe('fulfilled');
    expect(r.status).toBe('fulfilled');
  });

  it('an opened coin that does not match its commitment is a PROTOCOL error', async () => {
    const p = await pair(true, 'coin', {
      receiverTransport: (t) =>
        tampering(
          t,
          (round) => round === otRound(1, OtStep.Check, 0),
          (msg) => {
            msg[0] ^= 1; // R's seed
            return msg;
          },
        ),
    });
    const [s] = await Promise.allSettled([p.S.extend(256), p.R.extend(new Uint8Array(32), 256)]);
    expect((s as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.PROTOCOL, party: '1' });
    expect(String((s as PromiseRejectedResult).reason.message)).toMatch(/does not match its commitment/);
  });

  it('a correction matrix of the wrong size is a PROTOCOL error', async () => {
    const p = await pair(false, 'size', { receiverTransport: (t) => tampering(t, () => true, (u) => u.subarray(0, u.length - 8)) });
    const [s] = await Promise.allSettled([p.S.extend(256), p.R.extend(new Uint8Array(32), 256)]);
    expect((s as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.PROTOCOL, party: '1' });
  });
});

describe('round numbering', () => {
  it('otRound is injective over batch, step and stream', () => {
    const seen = new Set<number>();
    for (let batch = 0; batch < 5; batch++) for (let step = 0; step < OT_STEPS; step++) for (let stream = 0; stream < OT_STREAMS; stream++) seen.add(otRound(batch, step, stream));
    expect(seen.size).toBe(5 * OT_STEPS * OT_STREAMS);
    expect(() => otRound(0, OT_STEPS, 0)).toThrow(RangeError);
    expect(() => otRound(0, 0, OT_STREAMS)).toThrow(RangeError);
    expect(() => otRound(-1, 0, 0)).toThrow(RangeError);
  });

  it('both directions between two parties, and two streams, run at once on one transport pair', async () => {
    const [t0, t1] = memoryNetwork(2);
    const common = { sessionId, baseOt: insecureBaseOtForTests };
    const [s01, r01, s10, r10, s01b, r01b] = await Promise.all([
      OtExtSender.setup({ ...common, transport: t0, peer: 1 }),
      OtExtReceiver.setup({ ...common, transport: t1, peer: 0 }),
      OtExtSender.setup({ ...common, transport: t1, peer: 0 }),
      OtExtReceiver.setup({ ...common, transport: t0, peer: 1 }),
      OtExtSender.setup({ ...common, transport: t0, peer: 1, stream: 1 }),
      OtExtReceiver.setup({ ...common, transport: t1, peer: 0, stream: 1 }),
    ]);
    const ch = seeded('dirs')(64);
    const res = await Promise.all([s01.extend(512), r01.extend(ch, 512), s10.extend(512), r10.extend(ch, 512), s01b.extend(512), r01b.extend(ch, 512)]);
    expectCorrelation(res[0], res[1], ch);
    expectCorrelation(res[2], res[3], ch);
    expectCorrelation(res[4], res[5], ch);
  });
});

describe('GF(2^128) for the check', () => {
  const random = seeded('gf');
  const one = new Uint8Array(16);
  one[0] = 1;

  it('field laws on random elements, and X^127 · X = X^7 + X^2 + X + 1', () => {
    for (let k = 0; k < 20; k++) {
      const [a, b, c] = [random(16), random(16), random(16)];
      expect(hex(gf128Mul(a, b))).toBe(hex(gf128Mul(b, a)));
      expect(hex(gf128Mul(a, one))).toBe(hex(a));
      expect(hex(gf128Mul(a, b.map((v, i) => v ^ c[i])))).toBe(hex(gf128Mul(a, b).map((v, i) => v ^ gf128Mul(a, c)[i])));
      expect(hex(gf128Mul(gf128Mul(a, b), c))).toBe(hex(gf128Mul(a, gf128Mul(b, c))));
    }
    const x127 = new Uint8Array(16);
    x127[15] = 0x80;
    const x = new Uint8Array(16);
    x[0] = 2;
    expect(hex(gf128Mul(x127, x))).toBe('87000000000000000000000000000000');
  });

  it('chiCombineColumns(cols, χ) = Σ_i χ_i · row_i computed row by row', () => {
    const rows = 256;
    const cols = random(16 * rows);
    const chi = random(16 * rows);
    const rowForm = transposeReference(cols, 128, rows);
    const acc = new Uint8Array(16);
    for (let i = 0; i < rows; i++) {
      const p = gf128Mul(chi.subarray(16 * i, 16 * i + 16), rowForm.subarray(16 * i, 16 * i + 16));
      for (let k = 0; k < 16; k++) acc[k] ^= p[k];
    }
    expect(hex(chiCombineColumns(cols, chi, rows))).toBe(hex(acc));
    expect(hex(chiCombineColumns(cols, chi, rows, { wasm: false }))).toBe(hex(acc));
  });

  it('the WebAssembly kernel and the JavaScript path agree across chunk boundaries and on all-ones columns', () => {
    expect(new ChiCombiner().available).toBe(process.env.MPC_NO_WASM !== '1');
    for (const rows of [8, CHI_CHUNK_ROWS, CHI_CHUNK_ROWS + 24, 3 * CHI_CHUNK_ROWS - 8]) {
      const cols = random(16 * rows);
      const chi = random(16 * rows);
      expect(hex(chiCombineColumns(cols, chi, rows)), `${rows} rows`).toBe(hex(chiCombineColumns(cols, chi, rows, { wasm: false })));
    }
    const ones = new Uint8Array(16 * 64).fill(0xff);
    const chi = random(16 * 64);
    expect(hex(chiCombineColumns(ones, chi, 64))).toBe(hex(chiCombineColumns(ones, chi, 64, { wasm: false })));
  });
});

describe('ColumnStream (matrix columns read ahead)', () => {
  it('gives exactly the seed\'s stream, whatever the column sizes, and columns never share bytes', () => {
    const seed = new Uint8Array(32).fill(7);
    const sizes = [16, 4096, 48, 4080, 16, 8192, 32, 4112, 1024, 16, 12288, 16];
    const stream = new ColumnStream(new Prg(seed, 'tessera/test/columns'));
    const cols = sizes.map((n) => stream.column(n));
    const total = sizes.reduce((a, b) => a + b, 0);
    const reference = new Prg(seed, 'tessera/test/columns').bytes(total);
    let off = 0;
    cols.forEach((c, i) => {
      expect(c.length).toBe(sizes[i]);
      expect(c.byteOffset % 8).toBe(0);
      expect(hex(c)).toBe(hex(reference.subarray(off, off + c.length)));
      off += c.length;
    });
    // Columns are modified in place (q_j = G(k) ⊕ Δ_j·u_j): writing one must leave the others intact.
    cols.forEach((c, i) => c.fill(i + 1));
    cols.forEach((c, i) => expect(c.every((b) => b === i + 1)).toBe(true));
    const next = stream.column(64);
    expect(hex(next)).toBe(hex(new Prg(seed, 'tessera/test/columns').bytes(total + 64).subarray(total)));
  });
});
