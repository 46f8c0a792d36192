// SPDZ2k with k = 128, s = 64 (shares and MACs in Z_2^192) for plans in Z_2^128: the attacks
// first — a shifted share in a multiplication opening or in a comparison's opening, an
// altered analyst-output share, an out-of-range input — then the dealer's material (its
// relations over Z_2^192, and labels that keep it apart from the k = 64 material), then
// property tests against the plaintext evaluator for 2, 3 and 5 parties. Sizes are small:
// the whole file runs in seconds.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { circuit, type CircuitBody } from '../../../src/circuit/index.ts';
import { evaluateClear } from '../../../src/circuit/clear.ts';
import { compileLoaded } from '../../../src/compiler/load.ts';
import { OPEN_CHUNK_BASE, type Plan } from '../../../src/compiler/plan.ts';
import { withRangeChecks } from '../../../src/compiler/range-checks.ts';
import { runLocal } from '../../../src/coordinator/local.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { memoryExtras } from '../../../src/preprocessing/dealer.ts';
import { dealerFor } from '../../../src/preprocessing/dealers.ts';
import { dealerMaterial, expandSeedShares, macKeyShare, macKeyShareOver } from '../../../src/preprocessing/spdz2k-dealer.ts';
import { encodePartyInputs, type RawInputs } from '../../../src/protocol/inputs.ts';
import { MAC128, MAC64 } from '../../../src/protocol/spdz2k/mac-ring.ts';
import { externalMessageBytes } from '../../../src/protocol/spdz2k/output.ts';
import { itemLabel, schedule } from '../../../src/protocol/spdz2k/schedule.ts';
import { spdz2k128 } from '../../../src/protocol/spdz2k/suite.ts';
import { CHUNK_ROUND_STRIDE, MessageKind } from '../../../src/protocol/transport.ts';
import { suiteFor } from '../../../src/protocol/suites.ts';
import * as z128 from '../../../src/ring/z128.ts';
import * as z192 from '../../../src/ring/z192.ts';
import type { Z128Vec } from '../../../src/ring/z128.ts';
import type { Z192Vec } from '../../../src/ring/z192.ts';
import { forParties } from '../../helpers.ts';
import { addAt, expectAbort, expectRejected, runParties, tamperSends } from './harness.ts';

const FILE = 'test/protocol/spdz2k/ring128.test.ts';
const R192 = 1n << 192n;
const T = 1n << 128n;
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${i + 1}`);

function compile(parties: string[], body: CircuitBody, shapes: Record<string, number>): Plan {
  const plan = compileLoaded({ definition: circuit({ name: 'wide', parties, ring: 128 }, body), file: FILE }, new Map(Object.entries(shapes))).plan;
  expect(plan.ring).toBe(128);
  return plan;
}

const signed128 = (v: bigint): bigint => BigInt.asIntN(128, v);
const values = (v: Z128Vec): bigint[] => z128.toBigints(v).map(signed128);

// Three parties; two multiplication layers (products beyond 2^64), a comparison, outputs to the analyst and to p3.
const P3 = names(3);
const L = 3;
const attacked = compile(P3, (c) => {
  const x = c.vector('p1', 'x');
  const y = c.vector('p2', 'y', { length: x.length });
  const w = x.mul(y).mul(x);
  c.reveal('a', w, { to: 'analyst' });
  c.reveal('neg', w.lt(c.constant(0)), { to: 'analyst' });
  c.reveal('b', w.sum(), { to: 'p3' });
}, { 'p1.x': L });
const X = [3n, -(2n ** 40n), 7n];
const Y = [2n ** 41n, 4n, -6n];
const raw: RawInputs = { p1: { x: X.map(String) }, p2: { y: Y.map(String) } };
const W = X.map((x, i) => x * Y[i] * x);

describe('SPDZ2k at k = 128 under attack (3 parties)', () => {
  it('a shifted share in a multiplication opening → MAC_CHECK at every honest party, no output delivered', async () => {
    const res = await runParties<Z128Vec, Z192Vec>(attacked, raw, {
      wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && round === 1 ? addAt(p, 0, 1n) : p)) : t),
    });
    // The cheater's own check fails too (the honest σ shares do not cancel): every party aborts.
    expectAbort(res, undefined, ErrorCode.MAC_CHECK, /MAC check failed: a party deviated \(values opened in layer 1/);
  });

  it('owner p1 sends p3 other masked inputs (24 bytes per element) than p2 → PROTOCOL "inconsistent input broadcast"', async () => {
    const res = await runParties<Z128Vec, Z192Vec>(attacked, raw, {
      wrapTransport: (t, i) => (i === 0 ? tamperSends(t, (to, kind, _round, p) => (kind === MessageKind.Input && to === 2 ? addAt(p, 16 * L, 1n) : p)) : t),
    });
    expectAbort(res, [1, 2], ErrorCode.PROTOCOL, /inconsistent input broadcast from p1/);
  });

  it('a share shifted in its top limb only (bits 128…191 of Z_2^192) → still MAC_CHECK', async () => {
    // [d | e] of 2L elements, 24 bytes each: limb 0 in bytes [0, 16L), limb 1 in [16L, 32L), limb 2 from 32L.
    const res = await runParties<Z128Vec, Z192Vec>(attacked, raw, {
      wrapTransport: (t, i) => (i === 0 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && round === 1 ? addAt(p, 8 * 2 * L * 2, 1n) : p)) : t),
    });
    expectAbort(res, [1, 2], ErrorCode.MAC_CHECK, /MAC check failed/);
  });

  it('a shifted share in a comparison opening (y = x + 2^128·ρ) → MAC_CHECK at every honest party', async () => {
    let bent = 0;
    const res = await runParties<Z128Vec, Z192Vec>(attacked, raw, {
      wrapTransport: (t, i) =>
        i === 2
          ? tamperSends(t, (_to, kind, round, p) => {
              if (kind !== MessageKind.Open || Math.floor(round / CHUNK_ROUND_STRIDE) < OPEN_CHUNK_BASE) return p;
              bent++;
              return addAt(p, 8, 1n << 40n);
            })
          : t,
    });
    expect(bent).toBeGreaterThan(0);
    expectAbort(res, [0, 1], ErrorCode.MAC_CHECK, /MAC check failed: a party deviated .*comparisons and truncations/);
  });

  it("a party's opening of z = x − r to a party recipient shifted → every honest party rejects", async () => {
    const res = await runParties<Z128Vec, Z192Vec>(attacked, raw, {
      wrapTransport: (t, i) => (i === 0 ? tamperSends(t, (to, kind, round, p) => (kind === MessageKind.Open && round === attacked.layers.length && to === 2 ? addAt(p, 0, 1n) : p)) : t),
    });
    expectAbort(res, [1, 2], ErrorCode.MAC_CHECK, /values opened in .*outputs/);
  });

  describe('an altered analyst-output share → the analyst rejects', () => {
    const n = 3;
    const B = 24;
    const at = { kappa: 8, commits: 8 + B, y: 8 + B + 32 * n + 32, yTop: 8 + B + 32 * n + 32 + 16 * L, u: 8 + B + 32 * n + 32 + B * L };
    const honest = async () => {
      const res = await runParties<Z128Vec, Z192Vec>(attacked, raw);
      expect(res.outcomes.every((o) => o.ok), String(res.outcomes.map((o) => (o.ok ? 'ok' : String((o as { error: unknown }).error))))).toBe(true);
      expect(values(res.analyst!.a)).toEqual(W);
      return res.outcomes.map((o) => (o as { ok: true; result: { external: Record<string, Uint8Array> } }).result.external.a);
    };
    const rejects = (msgs: Uint8Array[], why: RegExp) => expectRejected(() => spdz2k128.reconstructExternal(msgs, L, 'a'), ErrorCode.MAC_CHECK, 'a', why);

    it('y shifted (low limb, and top limb only) → MAC_CHECK; the message has 24 bytes per share element', async () => {
      const msgs = await honest();
      expect(msgs[0].byteLength).toBe(externalMessageBytes(n, L, 24));
      for (const off of [at.y, at.yTop]) rejects(msgs.map((m, i) => (i === 1 ? addAt(m, off, 1n) : m)), /commitment mismatch from party #1/);
    });

    it('y and its tag shifted consistently once κ is known → MAC_CHECK (the commitment binds)', async () => {
      const msgs = await honest();
      const m = msgs[2];
      const kappa = z192.toBigints(z192.fromBytes(m.slice(at.kappa, at.kappa + B)))[0];
      const u = z192.fromBytes(m.slice(at.u, at.u + B * L));
      const bent = addAt(m, at.y, 1n);
      bent.set(z192.toBytes(z192.addScalar(u, kappa)).subarray(0, B * L), at.u);
      rejects(msgs.map((x, i) => (i === 2 ? bent : x)), /commitment mismatch from party #2/);
    });

    it('another output key or commitment list → MAC_CHECK', async () => {
      const msgs = await honest();
      rejects(msgs.map((m, i) => (i === 0 ? addAt(m, at.kappa + 16, 1n) : m)), /different output keys/);
      rejects(msgs.map((m, i) => (i === 1 ? addAt(m, at.commits, 1n) : m)), /different commitments/);
    });

    it('a message cut to the k = 64 size → PROTOCOL', async () => {
      const msgs = await honest();
      expect(() => spdz2k128.reconstructExternal(msgs.map((m) => m.subarray(0, externalMessageBytes(n, L))), L, 'a')).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL }));
    });
  });

  describe('an out-of-range input by a cheating party → PROTOCOL abort naming it, no output sent', () => {
    for (const n of [2, 3]) {
      const parties = names(n);
      const last = parties[n - 1];
      const ranged = withRangeChecks(
        compile(parties, (c) => {
          const x = c.fixed('p1', 'x', { min: -1e9, max: 1e9 });
          const age = c.scalar(last, 'age', { min: 0, max: 120 });
          c.reveal('total', x.sum().add(age.toFixed()));
        }, { 'p1.x': 2 }),
      );
      const cheat = (party: string, name: string, bad: bigint) => (plan: Plan, p: string, v: RawInputs[string] | undefined) => {
        const out = encodePartyInputs<Z128Vec>(plan, p, v, 'inputs');
        if (p === party) {
          const vec = out.get(plan.inputs.find((i) => i.party === party && i.name === name)!.wire)!;
          vec.lo[0] = BigInt.asUintN(64, bad);
          vec.hi[0] = BigInt.asUintN(64, bad >> 64n);
        }
        return out;
      };
      const input: RawInputs = { p1: { x: [1.5, -2] }, [last]: { ...(n === 1 ? {} : {}), age: 30 } };
      it.each([
        ['an age of 121', last, 'age', 121n],
        ['a negative age', last, 'age', -1n],
        ['x beyond 2^100 (fits Z_2^128, far outside [−10^9, 10^9])', 'p1', 'x', 1n << 100n],
      ])(`${n} parties: %s`, async (_what, party, name, bad) => {
        const kinds = new Set<number>();
        const res = await runParties<Z128Vec, Z192Vec>(ranged, input, {
          encode: cheat(party, name, bad),
          wrapTransport: (t) => tamperSends(t, (_to, kind, _round, p) => (kinds.add(kind), p)),
        });
        expectAbort(res, undefined, ErrorCode.PROTOCOL, new RegExp(`party ${party} fed values outside the declared range .* into input ${party}\\.${name}`), party);
        expect(kinds.has(MessageKind.Output)).toBe(false);
      });
      it(`${n} parties: honest values at the edges pass`, async () => {
        const res = await runParties<Z128Vec, Z192Vec>(ranged, { p1: { x: [1e9, -1e9] }, [last]: { age: 120 } });
        expect(res.outcomes.every((o) => o.ok)).toBe(true);
        expect(values(res.analyst!.total)).toEqual([120n << 32n]);
      });
    }
  });
});

describe('SPDZ2k at k = 128: the dealer', () => {
  const seeds = [1, 2, 3].map((k) => new Uint8Array(32).fill(k));

  it('k = 128 streams have their own labels: the same seed gives another α_i and other shares than at k = 64', () => {
    expect(MAC64.label).toBe('tessera/spdz2k/v1');
    expect(MAC128.label).toBe('tessera/spdz2k128/v1');
    const it0 = { kind: 'triples' as const, ordinal: 0 };
    expect(itemLabel(it0)).toBe('tessera/spdz2k/v1/triples/0');
    expect(itemLabel(it0, MAC128.label)).toBe('tessera/spdz2k128/v1/triples/0');
    // α_i at k = 128 is not α_i at k = 64 extended (another stream, not a longer prefix of it).
    const a64 = macKeyShare(seeds[0]);
    const a128 = macKeyShareOver(MAC128, seeds[0]);
    expect(a128 % T).not.toBe(a64);
    expect(a128 < R192).toBe(true);
    // Known answers, pinned so that a change of label or layout shows.
    expect(a128.toString(16)).toBe(KAT128.alpha0);
    const item = schedule(attacked, 3).find((x) => x.kind === 'triples')!;
    const s64 = expandSeedShares(seeds[0], item, 0, 3);
    const s128 = expandSeedShares(seeds[0], item, 0, 3, MAC128);
    expect(z192.toBigints(s128.x[0])[0] % T).not.toBe(z128.toBigints(s64.x[0])[0]);
    expect(z192.toBigints(s128.x[0])[0].toString(16)).toBe(KAT128.a0);
  });

  it('material dealt for one ring cannot be consumed as the other: a PREPROCESSING error, never silent', async () => {
    const as64: Plan = { ...attacked, ring: undefined };
    await expect(
      runLocal<Z128Vec>(attacked, raw, {
        suite: suiteFor('malicious', 128) as never,
        wrapDealing: () => dealerFor('malicious').deal(withRangeChecks(as64), 3),
      }),
    ).rejects.toMatchObject({ code: ErrorCode.PREPROCESSING });
  });

  it('every item satisfies its relations over Z_2^192: Σm = α·Σx, c = a·b, rand values below 2^bits, holders get r', async () => {
    const plan = withRangeChecks(attacked);
    const n = 3;
    const dealing = dealerFor('malicious').deal(plan, n, seeds);
    const srcs = dealing.seeds.map((s, i) => dealerMaterial(s, i, n, memoryExtras(dealing, i), MAC128));
    const alpha = BigInt.asUintN(192, srcs.reduce((t, s) => t + s.alpha, 0n));
    expect(alpha).toBe(BigInt.asUintN(192, seeds.reduce((t, s) => t + macKeyShareOver(MAC128, s), 0n)));
    const total = (vs: Z192Vec[]): bigint[] => vs.map((v) => z192.toBigints(v)).reduce((a, b) => a.map((x, i) => (x + b[i]) % R192));
    const kinds = new Set<string>();
    for (const item of schedule(plan, n)) {
      kinds.add(item.kind);
      const mats = await Promise.all(srcs.map((s) => s.produce(item, undefined)));
      const x = total(mats.map((m) => m.x[0]));
      const macOf = (k: number) => total(mats.map((m) => m.rest[k]));
      const mac = (v: bigint[], k: number) => expect(macOf(k)).toEqual(v.map((e) => (alpha * e) % R192));
      if (item.kind === 'triples') {
        const b = total(mats.map((m) => m.x[1]));
        const c = macOf(0);
        expect(c).toEqual(x.map((a, i) => (a * b[i]) % R192));
        mac(x, 1);
        mac(b, 2);
        mac(c, 3);
      } else {
        mac(x, 0);
        if (item.kind === 'rand') x.forEach((v) => expect(v < 1n << BigInt(item.bits!)).toBe(true));
      }
      if (item.holder >= 0) {
        const value = mats[item.holder].value!;
        if (item.kind === 'input-mask') expect(z192.toBigints(z192.fromBytes(value))).toEqual(x);
        else expect(z128.toBigints(z128.fromBytes(value))).toEqual(x.map((v) => v % T));
      }
    }
    expect([...kinds].sort()).toEqual(['input-mask', 'output-mask', 'rand', 'random', 'triples']);
  });
});

/** Known answers of the k = 128 dealer for seeds filled with 1 (party 0). */
const KAT128 = {
  alpha0: '976198162c1facaabb828dc6600ccfa766668bb39c3b3643',
  a0: '7f1bd78fabff880693f35bf20fd560af6e9e8c16426ef6da',
};

describe('SPDZ2k at k = 128 = the plaintext evaluator, 2, 3 and 5 parties', () => {
  const ALL = names(5);
  const clearOf = (plan: Plan, rawIn: RawInputs) => {
    const inputs = new Map<number, Z128Vec>();
    for (const p of plan.parties) for (const [w, v] of encodePartyInputs<Z128Vec>(plan, p, rawIn[p], 'inputs')) inputs.set(w, v);
    return evaluateClear<Z128Vec>(plan, inputs);
  };
  const malicious = suiteFor('malicious', 128) as never;

  it('integers: add, mul beyond 2^64, comparisons; outputs to the analyst and to a party', async () => {
    const M = 3;
    const plan = compile(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y', { length: x.length });
      const p = x.mul(y);
      c.reveal('sum', x.add(y));
      c.reveal('prod', p);
      c.reveal('cube', p.mul(x), { to: 'p2' });
      c.reveal('lt', p.lt(c.constant(0)));
      c.reveal('eq', x.eq(y), { to: ['p1', 'analyst'] });
    }, { 'p1.x': M });
    const i61 = fc.oneof(fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), fc.constantFrom(0n, 1n, -1n, 2n ** 40n, -(2n ** 40n)));
    await forParties(2, 0x128a, (n) =>
      fc.asyncProperty(fc.array(i61, { minLength: M, maxLength: M }), fc.array(i61, { minLength: M, maxLength: M }), async (x, y) => {
        const rawIn: RawInputs = { p1: { x: x.map(String) }, p2: { y: y.map(String) } };
        const clear = clearOf(plan, rawIn);
        const res = await runLocal<Z128Vec>(plan, rawIn, { suite: malicious, parties: ALL.slice(0, n) });
        const p = x.map((v, i) => v * y[i]);
        expect(values(clear.prod)).toEqual(p);
        for (const name of ['sum', 'prod', 'lt']) expect(values(res.analyst[name]), name).toEqual(values(clear[name]));
        expect(values(res.analyst.lt)).toEqual(p.map((v) => (v < 0n ? 1n : 0n)));
        expect(values(res.perParty[1].values.cube)).toEqual(p.map((v, i) => v * x[i]));
        expect(values(res.perParty[0].values.eq)).toEqual(values(clear.eq));
        expect(values(res.analyst.eq)).toEqual(x.map((v, i) => (v === y[i] ? 1n : 0n)));
        expect(res.perParty[0].values.cube).toBeUndefined();
      }),
    );
  });

  it('fixed point (32 fractional bits): products and comparisons after truncation, within one unit of the evaluator', async () => {
    const M = 2;
    const plan = compile(['p1', 'p2'], (c) => {
      const a = c.fixed('p1', 'a', { min: -1e9, max: 1e9 });
      const b = c.fixed('p2', 'b', { length: a.length, min: -1e9, max: 1e9 });
      const prod = a.mul(b);
      c.reveal('prod', prod);
      c.reveal('big', prod.gt(c.constant(1e6).toFixed()));
      c.reveal('mean', a.add(b).sum(), { to: 'p1' });
    }, { 'p1.a': M });
    const unit = 1n;
    await forParties(2, 0x128f, (n) =>
      fc.asyncProperty(
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: M, maxLength: M }),
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: M, maxLength: M }),
        async (a, b) => {
          const rawIn: RawInputs = { p1: { a }, p2: { b } };
          const clear = clearOf(plan, rawIn);
          const res = await runLocal<Z128Vec>(plan, rawIn, { suite: malicious, parties: ALL.slice(0, n) });
          const got = values(res.analyst.prod);
          values(clear.prod).forEach((want, i) => {
            const d = got[i] - want;
            expect(d <= unit && d >= -unit, `prod ${a[i]}·${b[i]}: ${got[i]} vs ${want}`).toBe(true);
          });
          // The comparison reads the truncated product: it may differ only where the product is within a unit of 10^6.
          const bound = 1_000_000n << 32n;
          values(res.analyst.big).forEach((v, i) => {
            if (got[i] - bound > unit || bound - got[i] > unit) expect(v).toBe(got[i] > bound ? 1n : 0n);
          });
          expect(values(res.perParty[0].values.mean)).toEqual(values(clear.mean));
        },
      ),
    );
  });
});
