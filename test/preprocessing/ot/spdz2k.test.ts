// Dealer-free SPDZ2k material (src/preprocessing/ot/spdz2k.ts). Negative tests first: a
// party that cheats in a triple, in its random bits or in its COPE corrections is caught by
// every party and nothing is returned; no payload ever carries a MAC key share. Then the
// relations of every item of real schedules (2 and 3 parties) and runs of the malicious suite
// on that material against the plaintext reference. The same again at k = 128 (shares and
// MACs in Z_2^192) at the end of the file.
import { describe, expect, it } from 'vitest';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import type { Transport } from '../../../src/protocol/transport.ts';
import { createOtSpdz2kMaterial, type OtSpdz2kOptions } from '../../../src/preprocessing/ot/spdz2k.ts';
import { schedule, type Item } from '../../../src/protocol/spdz2k/schedule.ts';
import { Spdz2kPrep, type Spdz2kMaterial } from '../../../src/protocol/spdz2k/prep.ts';
import { spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import { execute } from '../../../src/protocol/executor.ts';
import { encodePartyInputs } from '../../../src/protocol/inputs.ts';
import { ANALYST } from '../../../src/circuit/builder.ts';
import type { Plan } from '../../../src/compiler/plan.ts';
import { Prg } from '../../../src/ring/prg.ts';
import * as z128 from '../../../src/ring/z128.ts';
import { bytesToU64, decodeFixed } from '../../../src/ring/encoding.ts';
import { ErrorCode, isMpcError, type MpcError } from '../../../src/errors.ts';
import { compileInline } from '../../helpers.ts';
import { insecureBaseOtForTests, seeded, tampering } from './helpers.ts';
import { COPE_BITS, COPE_STREAM } from '../../../src/preprocessing/ot/cope.ts';
import { OtStep } from '../../../src/preprocessing/ot/extension.ts';
import { circuit, type CircuitBody } from '../../../src/circuit/index.ts';
import { compileLoaded } from '../../../src/compiler/load.ts';
import { spdz2k128 } from '../../../src/protocol/spdz2k/suite.ts';
import { suiteFor } from '../../../src/protocol/suites.ts';
import { runLocal } from '../../../src/coordinator/local.ts';
import { formatOutputs } from '../../../src/protocol/outputs.ts';
import type { RawInputs } from '../../../src/protocol/inputs.ts';
import * as z192 from '../../../src/ring/z192.ts';
import type { Z128Vec } from '../../../src/ring/z128.ts';
import type { Z192Vec } from '../../../src/ring/z192.ts';

const M128 = (1n << 128n) - 1n;
const sessionId = new Uint8Array(32).fill(7);
const names = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}`);

type Source = ReturnType<typeof createOtSpdz2kMaterial>;

function sources(n: number, opts: { wrap?: (t: Transport, i: number) => Transport; tamper?: (i: number) => OtSpdz2kOptions['tamper'] } = {}) {
  const transports = memoryNetwork(n);
  const parties = names(n);
  const srcs = transports.map((t, i) =>
    createOtSpdz2kMaterial({
      transport: opts.wrap?.(t, i) ?? t,
      parties,
      sessionId,
      random: seeded(`spdz2k-ot/${n}/${i}`),
      baseOt: insecureBaseOtForTests,
      tamper: opts.tamper?.(i),
    }),
  );
  return { transports, srcs };
}

/** Every party produces `items` in order; every party's outcome per item. */
async function produceAll(srcs: Source[], items: Item[]): Promise<Spdz2kMaterial[][]> {
  const out: Spdz2kMaterial[][] = [];
  for (const it of items) out.push(await Promise.all(srcs.map((s) => s.produce(it, undefined))));
  return out;
}

/** Every party rejects `item` with `code`, within 20 s. */
async function expectAllReject(srcs: Source[], item: Item, code: string, pattern: RegExp): Promise<void> {
  const settled = await Promise.allSettled(
    srcs.map((s) => Promise.race([s.produce(item, undefined), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('hung')), 20_000))])),
  );
  settled.forEach((r, i) => {
    expect(r.status, `party ${i} must reject`).toBe('rejected');
    const e = (r as PromiseRejectedResult).reason;
    expect(isMpcError(e), `party ${i}: ${String(e)}`).toBe(true);
    expect((e as MpcError).code, `party ${i}: ${(e as Error).message}`).toBe(code);
    expect((e as Error).message).toMatch(pattern);
  });
}

const item = (kind: Item['kind'], length: number, extra: Partial<Item> = {}): Item => ({ kind, ordinal: 0, length, holder: -1, what: `${kind} test`, ...extra });

const total = (vs: z128.Z128Vec[], k: number): bigint => vs.reduce((t, v) => t + ((v.hi[k] << 64n) | v.lo[k]), 0n) & M128;

/** `t` with a copy of every payload it sends pushed onto `sent`. */
function recording(t: Transport, sent: Uint8Array[]): Transport {
  return {
    self: t.self,
    n: t.n,
    send: (to, kind, round, payload) => {
      sent.push(payload.slice());
      return t.send(to, kind, round, payload);
    },
    recv: (from, kind, round) => t.recv(from, kind, round),
    abort: (reason) => t.abort(reason),
    stats: () => t.stats(),
  };
}

/** No payload contains any of the MAC key shares α_i (< 2^64), little- or big-endian. */
function expectNoMacKey(alphas: readonly bigint[], sent: readonly Uint8Array[]): void {
  expect(sent.length).toBeGreaterThan(0);
  for (const alpha of alphas) {
    expect(alpha > 0n && alpha < 1n << 64n).toBe(true);
    const le = Buffer.from(new BigUint64Array([alpha]).buffer);
    const be = Buffer.from(le).reverse();
    for (const p of sent) {
      const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      expect(b.indexOf(le), 'α_i (little-endian) in a payload').toBe(-1);
      expect(b.indexOf(be), 'α_i (big-endian) in a payload').toBe(-1);
    }
  }
}

describe('OT SPDZ2k material: cheaters are caught', () => {
  it("an error in a party's c share: the sacrifice fails at every party (PREPROCESSING), nothing returned", async () => {
    const { srcs } = sources(3, { tamper: (i) => (i === 1 ? (what, v) => void (what === 'triple-c' && (v[0] += 1n)) : undefined) });
    await expectAllReject(srcs, item('triples', 4), ErrorCode.PREPROCESSING, /sacrifice .* failed/);
    // and the source stays failed
    await expect(srcs[0].produce(item('random', 2), undefined)).rejects.toThrow(/sacrifice/);
  });

  it('a non-bit (2) as a random bit input: the bit check fails at every party', async () => {
    const { srcs } = sources(2, { tamper: (i) => (i === 1 ? (what, v) => void (what === 'bit-input' && (v[0] = 2n)) : undefined) });
    await expectAllReject(srcs, item('rand', 2, { bits: 3 }), ErrorCode.PREPROCESSING, /bit check .* failed: some party input a value that is not a bit/);
  });

  it('a non-bit at the last of 3 parties is caught too', async () => {
    const { srcs } = sources(3, { tamper: (i) => (i === 2 ? (what, v) => void (what === 'bit-input' && (v[1] = M128 & ((1n << 64n) - 1n))) : undefined) });
    await expectAllReject(srcs, item('rand', 1, { bits: 2 }), ErrorCode.PREPROCESSING, /not a bit/);
  });

  it('inconsistent COPE input (every u_b shifted): the authentication check fails (MAC_CHECK) at every party', async () => {
    const { srcs } = sources(3, { tamper: (i) => (i === 2 ? (what, v) => void (what === 'cope-u' && (v[0] += 1n)) : undefined) });
    await expectAllReject(srcs, item('random', 3), ErrorCode.MAC_CHECK, /MAC check failed.*authentication/);
  });

  it('inconsistent COPE input in a triple batch is caught as well', async () => {
    const { srcs } = sources(2, { tamper: (i) => (i === 0 ? (what, v) => void (what === 'cope-u' && v.length > 2 && (v[2] ^= 1n << 40n)) : undefined) });
    await expectAllReject(srcs, item('triples', 3), ErrorCode.MAC_CHECK, /MAC check failed/);
  });
});

// A plan with comparisons (random bits), a fixed-point product (truncation), openings,
// outputs to a party (output masks) and to the analyst.
function planBody(n: number): CircuitBody {
  return (c) => {
    const x = c.vector('p1', 'x');
    const y = c.vector('p2', 'y');
    const lt = c.compare('lt', x, y);
    const f = c.mul(c.fixed('p1', 'f'), c.fixed('p2', 'g'));
    const w = c.mul(x, y);
    c.reveal('lt', lt, { to: 'p2' });
    c.reveal('w', w.sum(), { to: ANALYST });
    c.reveal('f', f, { to: ['p1', ANALYST] });
    if (n > 2) c.reveal('z', c.add(c.vector('p3', 'z'), x), { to: 'p3' });
  };
}

const planShapes = (n: number): Record<string, number> => ({ 'p1.x': 3, 'p2.y': 3, 'p1.f': 2, 'p2.g': 2, ...(n > 2 ? { 'p3.z': 3 } : {}) });

function planFor(n: number): Plan {
  return compileInline(names(n), planBody(n), planShapes(n)).plan;
}

describe('OT SPDZ2k material for a real schedule', () => {
  for (const n of [2, 3]) {
    it(`${n} parties: every item's relations hold; no payload contains a MAC key share`, async () => {
      const plan = planFor(n);
      const items = schedule(plan, n);
      const kinds = new Set(items.map((i) => i.kind));
      expect([...kinds].sort()).toEqual(['input-mask', 'output-mask', 'rand', 'random', 'triples']);
      const sent: Uint8Array[][] = Array.from({ length: n }, () => []);
      const { srcs } = sources(n, {
        wrap: (t, i) => ({ ...t, self: t.self, n: t.n, send: (to, k, r, p) => (sent[i].push(p), t.send(to, k, r, p)), recv: (f, k, r) => t.recv(f, k, r), abort: (e) => t.abort(e), stats: () => t.stats() }),
      });
      const alpha = srcs.reduce((t, s) => t + s.alpha, 0n) & M128;
      const all = await produceAll(srcs, items);
      items.forEach((it, idx) => {
        const mat = all[idx];
        const L = it.length;
        const xs = (v: number) => mat.map((m) => m.x[v]);
        const rs = (v: number) => mat.map((m) => m.rest[v]);
        for (let k = 0; k < L; k++) {
          if (it.kind === 'triples') {
            const a = total(xs(0), k), b = total(xs(1), k), c = total(rs(0), k);
            expect(c, `${it.what}[${k}]: c = ab`).toBe((a * b) & M128);
            expect(total(rs(1), k)).toBe((alpha * a) & M128);
            expect(total(rs(2), k)).toBe((alpha * b) & M128);
            expect(total(rs(3), k)).toBe((alpha * c) & M128);
          } else {
            const r = total(xs(0), k);
            expect(total(rs(0), k), `${it.what}[${k}]: MAC`).toBe((alpha * r) & M128);
            if (it.kind === 'rand') expect(r < 1n << BigInt(it.bits!), `${it.what}[${k}] = ${r} < 2^${it.bits}`).toBe(true);
            if (it.kind === 'input-mask') expect(z128.toBigints(z128.fromBytes(mat[it.holder].value!))[k]).toBe(r);
            if (it.kind === 'output-mask') expect(bytesToU64(mat[it.holder].value!)[k]).toBe(r & ((1n << 64n) - 1n));
          }
        }
        mat.forEach((m, i) => {
          if (i !== it.holder) expect(m.value).toBeUndefined();
        });
      });
      // Random integers use their whole range: some value has its top bit set.
      const rand = items.map((it, idx) => [it, idx] as const).filter(([it]) => it.kind === 'rand' && it.bits! >= 8);
      expect(rand.length).toBeGreaterThan(0);
      const high = rand.some(([it, idx]) => {
        for (let k = 0; k < it.length; k++) if (total(all[idx].map((m) => m.x[0]), k) >= 1n << BigInt(it.bits! - 1)) return true;
        return false;
      });
      expect(high).toBe(true);
      // MAC key shares never leave their party.
      srcs.forEach((s, i) => {
        const key = Buffer.alloc(8);
        key.writeBigUInt64LE(s.alpha);
        expect(s.alpha < 1n << 64n).toBe(true);
        for (const p of sent[i]) expect(Buffer.from(p.buffer, p.byteOffset, p.byteLength).indexOf(key)).toBe(-1);
        expect(sent[i].length).toBeGreaterThan(0);
      });
      const st = srcs[0].stats();
      expect(st.triples).toBeGreaterThan(0);
      expect(st.bits).toBeGreaterThan(0);
      expect(st.authenticated).toBeGreaterThan(0);
    }, 60_000);
  }
});

describe('the malicious suite on OT material, end to end', () => {
  for (const n of [2, 3]) {
    it(`${n} parties: outputs equal the plaintext reference`, async () => {
      const plan = planFor(n);
      const parties = names(n);
      const inputs: Record<string, Record<string, unknown>> = { p1: { x: [5, -3, 100], f: [1.5, -2.25] }, p2: { y: [7, -4, 100], g: [2, 0.5] } };
      if (n > 2) inputs.p3 = { z: [1, 2, 3] };
      const transports = memoryNetwork(n);
      const runs = parties.map((p, i) => {
        const src = createOtSpdz2kMaterial({ transport: transports[i], parties, sessionId, random: seeded(`e2e/${n}/${i}`), baseOt: insecureBaseOtForTests });
        const prep = new Spdz2kPrep(plan, n, i, src);
        return execute(plan, { self: i, parties, transport: transports[i], prep, rng: new Prg(new Uint8Array(32).fill(i + 1), 'test') }, spdz2k, encodePartyInputs(plan, p, inputs[p] as never, 'inputs'));
      });
      const res = await Promise.all(runs);
      expect(Array.from(res[1].values.lt)).toEqual([1n, 0n, 0n]);
      // Fixed-point product (truncated): 1.5·2 = 3, −2.25·0.5 = −1.125, up to one unit in the last place.
      const frac = plan.outputs.find((o) => o.name === 'f')!.frac;
      const fx = Array.from(res[0].values.f).map((u) => decodeFixed(u, frac));
      expect(Math.abs(fx[0] - 3)).toBeLessThanOrEqual(2 ** -frac);
      expect(Math.abs(fx[1] + 1.125)).toBeLessThanOrEqual(2 ** -frac);
      const w = spdz2k.reconstructExternal(res.map((r) => r.external.w), 1, 'w');
      expect(BigInt.asIntN(64, w[0])).toBe(35n + 12n + 10000n);
      if (n > 2) expect(Array.from(res[2].values.z).map((u) => BigInt.asIntN(64, u))).toEqual([6n, -1n, 103n]);
    }, 60_000);
  }
});

describe('a whole malicious job on OT material: cheaters and MAC keys', () => {
  const inputs: Record<string, Record<string, unknown>> = { p1: { x: [5, -3, 100], f: [1.5, -2.25] }, p2: { y: [7, -4, 100], g: [2, 0.5] } };

  /** Runs the job of planFor(2) with every payload recorded; `tamper` makes party 1 deviate. */
  async function job(tamper?: OtSpdz2kOptions['tamper']) {
    const plan = planFor(2);
    const parties = names(2);
    const sent: Uint8Array[] = [];
    const transports = memoryNetwork(2).map((t) => recording(t, sent));
    const srcs = transports.map((transport, i) =>
      createOtSpdz2kMaterial({ transport, parties, sessionId, random: seeded(`job/${i}`), baseOt: insecureBaseOtForTests, ...(i === 1 && tamper ? { tamper } : {}) }),
    );
    const runs = parties.map((p, i) =>
      execute(plan, { self: i, parties, transport: transports[i], prep: new Spdz2kPrep(plan, 2, i, srcs[i]), rng: new Prg(new Uint8Array(32).fill(i + 9), 'test') }, spdz2k, encodePartyInputs(plan, p, inputs[p] as never, 'inputs')),
    );
    // A failing party aborts the others, as a node's JobAbort would.
    runs.forEach((r) => r.catch((err: Error) => transports.forEach((t) => t.abort(err))));
    const settled = await Promise.allSettled(runs);
    return { settled, sent, alphas: srcs.map((s) => s.alpha) };
  }

  it('a party that adds an error to its triple c shares: every party fails, no output is delivered to anyone', async () => {
    const { settled } = await job((what, v) => {
      if (what === 'triple-c') v[0] ^= 1n;
    });
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect(isMpcError((s as PromiseRejectedResult).reason, ErrorCode.PREPROCESSING) || isMpcError((s as PromiseRejectedResult).reason, ErrorCode.ABORTED)).toBe(true);
    }
    expect(settled.some((s) => s.status === 'rejected' && /sacrifice/.test(String((s as PromiseRejectedResult).reason?.message)))).toBe(true);
  }, 60_000);

  it('no message of the whole job (preprocessing, online phase, outputs) contains a MAC key share', async () => {
    const { settled, sent, alphas } = await job();
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(sent.length).toBeGreaterThan(50);
    expectNoMacKey(alphas, sent);
  }, 60_000);
});

// ---- k = 128: shares and MACs in Z_2^192 (MAC128), values in Z_2^128 ----------------------

const M192 = (1n << 192n) - 1n;

function sources128(n: number, opts: { wrap?: (t: Transport, i: number) => Transport; tamper?: (i: number) => OtSpdz2kOptions['tamper'] } = {}) {
  const transports = memoryNetwork(n);
  const parties = names(n);
  const srcs = transports.map((t, i) =>
    createOtSpdz2kMaterial({ transport: opts.wrap?.(t, i) ?? t, parties, sessionId, ring: 128, random: seeded(`spdz2k128-ot/${n}/${i}`), baseOt: insecureBaseOtForTests, tamper: opts.tamper?.(i) }),
  );
  return { transports, srcs };
}

const total192 = (vs: Z192Vec[], k: number): bigint => vs.reduce((t, v) => t + ((v.l2[k] << 128n) | (v.l1[k] << 64n) | v.l0[k]), 0n) & M192;

describe('OT SPDZ2k material at k = 128: cheaters are caught', () => {
  it("an error in a party's c share: the sacrifice fails at every party (PREPROCESSING), nothing returned", async () => {
    const { srcs } = sources128(3, { tamper: (i) => (i === 1 ? (what, v) => void (what === 'triple-c' && (v[0] += 1n)) : undefined) });
    await expectAllReject(srcs as unknown as Source[], item('triples', 4), ErrorCode.PREPROCESSING, /sacrifice .* failed/);
    await expect(srcs[0].produce(item('random', 2), undefined)).rejects.toThrow(/sacrifice/);
  });

  it('a non-bit (2) as a random bit input: the bit check fails at every party', async () => {
    const { srcs } = sources128(2, { tamper: (i) => (i === 1 ? (what, v) => void (what === 'bit-input' && (v[0] = 2n)) : undefined) });
    await expectAllReject(srcs as unknown as Source[], item('rand', 2, { bits: 3 }), ErrorCode.PREPROCESSING, /bit check .* failed: some party input a value that is not a bit/);
  });

  it('inconsistent COPE input (every u_b shifted): the authentication check fails (MAC_CHECK) at every party', async () => {
    const { srcs } = sources128(3, { tamper: (i) => (i === 2 ? (what, v) => void (what === 'cope-u' && (v[0] += 1n)) : undefined) });
    await expectAllReject(srcs as unknown as Source[], item('random', 3), ErrorCode.MAC_CHECK, /MAC check failed.*authentication/);
  });

  it('inconsistent COPE input in a triple batch is caught as well', async () => {
    const { srcs } = sources128(2, { tamper: (i) => (i === 0 ? (what, v) => void (what === 'cope-u' && v.length > 2 && (v[2] ^= 1n << 40n)) : undefined) });
    await expectAllReject(srcs as unknown as Source[], item('triples', 3), ErrorCode.MAC_CHECK, /MAC check failed/);
  });

  it('COPE u altered in its top limb only (bits 128…191 of every row): MAC_CHECK at every party', async () => {
    // u of one chunk: per bit b, the n elements' limb 0, then limb 1, then limb 2 (24n bytes).
    const cope = (round: number) => round % 16 === COPE_STREAM && Math.floor(round / 16) % 8 === OtStep.Extend && round >= 128;
    const top = (p: Uint8Array) => {
      const n = p.length / (COPE_BITS * 24);
      for (let b = 0; b < COPE_BITS; b++) p[8 * (3 * b + 2) * n] ^= 1;
      return p;
    };
    const { srcs } = sources128(3, { wrap: (t, i) => (i === 2 ? tampering(t, cope, top) : t) });
    await expectAllReject(srcs as unknown as Source[], item('random', 3), ErrorCode.MAC_CHECK, /MAC check failed.*authentication/);
  });

  it('random integers of more bits than the value ring are refused', async () => {
    const { srcs } = sources128(2);
    await expectAllReject(srcs as unknown as Source[], item('rand', 1, { bits: 129 }), ErrorCode.PREPROCESSING, /129 bits is not in 1\.\.128/);
  });
});

// planFor's circuit in Z_2^128, with products beyond 2^64.
function planFor128(n: number): Plan {
  const definition = circuit({ name: 'ot128', parties: names(n), ring: 128 }, planBody(n));
  const { plan } = compileLoaded({ definition, file: 'test/preprocessing/ot/spdz2k.test.ts' }, new Map(Object.entries(planShapes(n))));
  expect(plan.ring).toBe(128);
  return plan;
}

describe('OT SPDZ2k material at k = 128 for a real schedule', () => {
  for (const n of [2, 3]) {
    it(`${n} parties: c = ab and Σm = α·Σx in Z_2^192, bits, masks; no payload contains a MAC key share`, async () => {
      const plan = planFor128(n);
      const items = schedule(plan, n);
      expect([...new Set(items.map((i) => i.kind))].sort()).toEqual(['input-mask', 'output-mask', 'rand', 'random', 'triples']);
      const sent: Uint8Array[][] = Array.from({ length: n }, () => []);
      const { srcs } = sources128(n, { wrap: (t, i) => recording(t, sent[i]) });
      const alpha = srcs.reduce((t, s) => t + s.alpha, 0n);
      const all: Spdz2kMaterial<Z192Vec>[][] = [];
      for (const it of items) all.push(await Promise.all(srcs.map((s) => s.produce(it, undefined))));
      let wide = false;
      items.forEach((it, idx) => {
        const mat = all[idx];
        const xs = (v: number) => mat.map((m) => m.x[v]);
        const rs = (v: number) => mat.map((m) => m.rest[v]);
        for (let k = 0; k < it.length; k++) {
          if (it.kind === 'triples') {
            const a = total192(xs(0), k), b = total192(xs(1), k), c = total192(rs(0), k);
            expect(c, `${it.what}[${k}]: c = ab mod 2^192`).toBe((a * b) & M192);
            expect(c & M128).toBe((a * b) & M128);
            expect(total192(rs(1), k)).toBe((alpha * a) & M192);
            expect(total192(rs(2), k)).toBe((alpha * b) & M192);
            expect(total192(rs(3), k)).toBe((alpha * c) & M192);
            if (a >> 128n !== 0n) wide = true;
          } else {
            const r = total192(xs(0), k);
            expect(total192(rs(0), k), `${it.what}[${k}]: MAC`).toBe((alpha * r) & M192);
            if (it.kind === 'rand') expect(r < 1n << BigInt(it.bits!), `${it.what}[${k}] = ${r} < 2^${it.bits}`).toBe(true);
            if (it.kind === 'input-mask') expect(z192.toBigints(z192.fromBytes(mat[it.holder].value!))[k]).toBe(r);
            if (it.kind === 'output-mask') expect(z128.toBigints(z128.fromBytes(mat[it.holder].value!))[k]).toBe(r & M128);
          }
        }
        mat.forEach((m, i) => {
          if (i !== it.holder) expect(m.value).toBeUndefined();
        });
        if (it.kind === 'input-mask') expect(mat[it.holder].value!.length).toBe(24 * it.length);
        if (it.kind === 'output-mask') expect(mat[it.holder].value!.length).toBe(16 * it.length);
      });
      // Shares use all 192 bits.
      expect(wide).toBe(true);
      // Random integers use their whole range: some value has its top bit set.
      const rand = items.map((it, idx) => [it, idx] as const).filter(([it]) => it.kind === 'rand' && it.bits! >= 8);
      expect(rand.length).toBeGreaterThan(0);
      expect(rand.some(([it, idx]) => Array.from({ length: it.length }, (_, k) => total192(all[idx].map((m) => m.x[0]), k)).some((v) => v >= 1n << BigInt(it.bits! - 1)))).toBe(true);
      // MAC key shares never leave their party.
      srcs.forEach((s, i) => expectNoMacKey([s.alpha], sent[i]));
      const st = srcs[0].stats();
      expect(st.triples).toBeGreaterThan(0);
      expect(st.bits).toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('the malicious suite at k = 128 on OT material, end to end', () => {
  const big = 2n ** 40n;
  const inputs = (n: number): Record<string, Record<string, unknown>> => ({
    p1: { x: [String(big), '-3', '100'], f: [1.5, -2.25] },
    p2: { y: [String(big + 1n), '-4', '100'], g: [2, 0.5] },
    ...(n > 2 ? { p3: { z: ['1', '2', '3'] } } : {}),
  });

  function check(res: Array<{ values: Record<string, unknown>; external: Record<string, Uint8Array> }>, plan: Plan, n: number): void {
    expect(z128.toBigints(res[1].values.lt as Z128Vec)).toEqual([1n, 0n, 0n]);
    const frac = plan.outputs.find((o) => o.name === 'f')!.frac;
    const fx = z128.toBigints(res[0].values.f as Z128Vec).map((u) => Number(BigInt.asIntN(128, u)) / 2 ** frac);
    expect(Math.abs(fx[0] - 3)).toBeLessThanOrEqual(2 ** -20);
    expect(Math.abs(fx[1] + 1.125)).toBeLessThanOrEqual(2 ** -20);
    const w = spdz2k128.reconstructExternal(res.map((r) => r.external.w), 1, 'w');
    expect(BigInt.asIntN(128, z128.toBigints(w)[0])).toBe(big * (big + 1n) + 12n + 10000n);
    if (n > 2) expect(z128.toBigints(res[2].values.z as Z128Vec).map((u) => BigInt.asIntN(128, u))).toEqual([big + 1n, -1n, 103n]);
  }

  for (const n of [2, 3]) {
    it(`${n} parties (execute): outputs equal the plaintext reference, products beyond 2^64; no message of the job contains a MAC key share`, async () => {
      const plan = planFor128(n);
      const parties = names(n);
      const sent: Uint8Array[] = [];
      const transports = memoryNetwork(n).map((t) => recording(t, sent));
      const srcs = transports.map((transport, i) => createOtSpdz2kMaterial({ transport, parties, sessionId, ring: 128, random: seeded(`e2e128/${n}/${i}`), baseOt: insecureBaseOtForTests }));
      const runs = parties.map((p, i) => {
        const prep = new Spdz2kPrep<Z128Vec, Z192Vec>(plan, n, i, srcs[i]);
        const own = encodePartyInputs<Z128Vec>(plan, p, (inputs(n)[p] ?? {}) as never, 'inputs');
        return execute(plan, { self: i, parties, transport: transports[i], prep, rng: new Prg(new Uint8Array(32).fill(i + 1), 'test') }, spdz2k128, own);
      });
      check((await Promise.all(runs)) as never, plan, n);
      expect(sent.length).toBeGreaterThan(50);
      expectNoMacKey(srcs.map((x) => x.alpha), sent);
    }, 120_000);
  }

  it('runLocal, security malicious, preprocessing ot: the same outputs as the dealer run (3 parties)', async () => {
    const plan = planFor128(3);
    const raw = inputs(3) as RawInputs;
    const suite = suiteFor('malicious', 128);
    const got = await runLocal(plan, raw, { suite, preprocessing: 'ot', baseOt: insecureBaseOtForTests });
    const ref = await runLocal(plan, raw, { suite });
    expect(formatOutputs(plan, got.analyst, 'analyst')).toEqual(formatOutputs(plan, ref.analyst, 'analyst'));
    expect(BigInt(String((formatOutputs(plan, got.analyst, 'analyst') as Record<string, unknown>).w))).toBe(big * (big + 1n) + 12n + 10000n);
  }, 120_000);
});
