// Active attacks on SPDZ2k, each by one corrupt party (its transport or its preprocessing
// wrapped), against honest parties running the unmodified suite. Every attack must end with
// every honest party rejecting with the right error code, a message naming the failed
// check, and no output released; an altered output share must be caught by its recipient.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { MessageKind } from '../../../src/protocol/transport.ts';
import type { PartyResult } from '../../../src/protocol/executor.ts';
import { createSpdz2k, spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import { externalMessageBytes } from '../../../src/protocol/spdz2k/output.ts';
import { compileInline } from '../../helpers.ts';
import { addAt, expectAbort, expectRejected, runParties, tamperSends } from './harness.ts';

const parties = ['p1', 'p2', 'p3'];
// Two layers of equal width (so a layer-1 payload fits layer 2), outputs to the analyst and to p3.
const { plan } = compileInline(parties, (c) => {
  const x = c.vector('p1', 'x');
  const y = c.vector('p2', 'y');
  const w = x.mul(y).mul(x);
  c.reveal('a', w, { to: 'analyst' });
  c.reveal('b', w.sum(), { to: 'p3' });
}, { 'p1.x': 3, 'p2.y': 3 });
const raw = { p1: { x: [3, 5, 7] }, p2: { y: [2, 4, 6] } };
const W = [3n * 2n * 3n, 5n * 4n * 5n, 7n * 6n * 7n];

const honestRun = async (): Promise<PartyResult[]> => {
  const res = await runParties(plan, raw);
  expect(res.outcomes.every((o) => o.ok)).toBe(true);
  expect(Array.from(res.analyst!.a)).toEqual(W);
  return res.outcomes.map((o) => (o as { result: PartyResult }).result);
};

describe('SPDZ2k under attack', () => {
  it('runs honestly to the expected outputs', async () => {
    const r = await honestRun();
    expect(Array.from(r[2].values.b)).toEqual([W.reduce((t, v) => t + v, 0n)]);
    expect(r[0].values).toEqual({});
  });

  describe('(a) a shifted share in an opening', () => {
    it('to every peer → MAC_CHECK at every honest party, no outputs', async () => {
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && round === 1 ? addAt(p, 0, 1n) : p)) : t),
      });
      expectAbort(res, [0, 2], ErrorCode.MAC_CHECK, /MAC check failed: a party deviated \(values opened in layer 1, layer 2, outputs/);
    });

    it('to one peer only (inconsistent openings) → MAC_CHECK at every honest party', async () => {
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (to, kind, round, p) => (kind === MessageKind.Open && round === 2 && to === 2 ? addAt(p, 8, 5n) : p)) : t),
      });
      expectAbort(res, [0, 2], ErrorCode.MAC_CHECK, /MAC check failed/);
    });

    it('in the upper 64 bits only → still MAC_CHECK', async () => {
      // [d | e] of 6 elements: low limbs in bytes 0..47, high limbs from byte 48.
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) => (i === 0 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && round === 1 ? addAt(p, 48, 1n) : p)) : t),
      });
      expectAbort(res, [1, 2], ErrorCode.MAC_CHECK, /MAC check failed/);
    });

    it('caught by the periodic check before the next layer runs (macCheckEvery = 1)', async () => {
      const layer2: number[] = [];
      const res = await runParties(plan, raw, {
        suite: createSpdz2k({ macCheckEvery: 1 }),
        wrapTransport: (t, i) =>
          tamperSends(t, (_to, kind, round, p) => {
            if (kind === MessageKind.Open && round === 2) layer2.push(i);
            return i === 1 && kind === MessageKind.Open && round === 1 ? addAt(p, 0, 1n) : p;
          }),
      });
      expectAbort(res, [0, 2], ErrorCode.MAC_CHECK, /values opened in layer 1\)$/);
      expect(layer2).toEqual([]);
    });
  });

  describe('the MAC check itself', () => {
    it('a coin opening that does not match its commitment → MAC_CHECK "commitment mismatch from p2"', async () => {
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.MacCheck && round === 1 ? addAt(p, 0, 1n) : p)) : t),
      });
      expectAbort(res, [0, 2], ErrorCode.MAC_CHECK, /commitment mismatch from p2/);
    });

    it('a σ opening that does not match its commitment → MAC_CHECK "commitment mismatch from p3"', async () => {
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) => (i === 2 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.MacCheck && round === 3 ? addAt(p, 32, 1n) : p)) : t),
      });
      expectAbort(res, [0, 1], ErrorCode.MAC_CHECK, /commitment mismatch from p3/);
    });

    it('a party using another MAC key share → MAC_CHECK', async () => {
      const res = await runParties(plan, raw, {
        wrapPrep: (p, i) => {
          if (i === 0) (p as { alpha: bigint }).alpha += 1n;
          return p;
        },
      });
      expectAbort(res, [1, 2], ErrorCode.MAC_CHECK, /MAC check failed/);
    });
  });

  describe('(b) inconsistent input broadcast', () => {
    it('owner p1 sends p3 other masked inputs than p2 → PROTOCOL at every honest party', async () => {
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) => (i === 0 ? tamperSends(t, (to, kind, _round, p) => (kind === MessageKind.Input && to === 2 ? addAt(p, 16, 1n) : p)) : t),
      });
      expectAbort(res, [1, 2], ErrorCode.PROTOCOL, /inconsistent input broadcast from p1/);
    });

    it('with 5 parties, the last one owning the input, equivocating to two of them', async () => {
      const five = ['p1', 'p2', 'p3', 'p4', 'p5'];
      const p5 = compileInline(five, (c) => c.reveal('s', c.vector('p5', 'v').dot(c.vector('p1', 'u'))), { 'p5.v': 2, 'p1.u': 2 }).plan;
      const res = await runParties(p5, { p5: { v: [1, 2] }, p1: { u: [3, 4] } }, {
        wrapTransport: (t, i) => (i === 4 ? tamperSends(t, (to, kind, _r, p) => (kind === MessageKind.Input && to >= 2 ? addAt(p, 0, BigInt(to)) : p)) : t),
      });
      expectAbort(res, [0, 1, 2, 3], ErrorCode.PROTOCOL, /inconsistent input broadcast from p5/);
    });
  });

  describe('(c) a wrong MAC share from preprocessing', () => {
    for (const [what, field] of [['m_c off by one', 'm'], ['c off by one', 'x']] as const) {
      it(`${what} in the corrupt party's first triple → MAC_CHECK`, async () => {
        const res = await runParties(plan, raw, {
          wrapPrep: (p, i) => {
            if (i !== 1) return p;
            const triples = p.triples.bind(p);
            let first = true;
            p.triples = async (len) => {
              const t = await triples(len);
              if (first) t.c[field].lo[0] += 1n;
              first = false;
              return t;
            };
            return p;
          },
        });
        expectAbort(res, [0, 2], ErrorCode.MAC_CHECK, /MAC check failed: a party deviated/);
      });
    }
  });

  describe('(d) an altered output share', () => {
    const L = 3;
    const n = 3;
    const at = { kappa: 8, commits: 24, nonce: 24 + 32 * n, y: 24 + 32 * n + 32, yHi: 24 + 32 * n + 32 + 8 * L, u: 24 + 32 * n + 32 + 16 * L };
    const tampered = async (edit: (m: Uint8Array) => Uint8Array, who = 1) => {
      const r = await honestRun();
      const msgs = r.map((x) => x.external.a);
      expect(msgs[0].byteLength).toBe(externalMessageBytes(n, L));
      msgs[who] = edit(msgs[who]);
      return () => spdz2k.reconstructExternal(msgs, L, 'a');
    };
    const rejects = (f: () => unknown, why: RegExp) => expectRejected(f, ErrorCode.MAC_CHECK, 'a', why);

    it('sent to the analyst: y shifted → MAC_CHECK in reconstructExternal', async () => {
      rejects(await tampered((m) => addAt(m, at.y, 1n)), /commitment mismatch from party #1/);
    });
    it('sent to the analyst: y shifted in its upper 64 bits only → MAC_CHECK', async () => {
      rejects(await tampered((m) => addAt(m, at.yHi, 1n)), /commitment mismatch/);
    });
    it('sent to the analyst: y and its tag shifted consistently after κ is known → MAC_CHECK (the commitment binds)', async () => {
      rejects(
        await tampered((m) => {
          const dv = new DataView(m.buffer, m.byteOffset);
          const kappa = dv.getBigUint64(at.kappa, true) | (dv.getBigUint64(at.kappa + 8, true) << 64n);
          // u + κ·1 for element 0 (lo, hi carry folded in by BigInt arithmetic)
          const u0 = dv.getBigUint64(at.u, true) | (dv.getBigUint64(at.u + 8 * L, true) << 64n);
          const u1 = BigInt.asUintN(128, u0 + kappa);
          const out = addAt(m, at.y, 1n);
          const ov = new DataView(out.buffer, out.byteOffset);
          ov.setBigUint64(at.u, BigInt.asUintN(64, u1), true);
          ov.setBigUint64(at.u + 8 * L, u1 >> 64n, true);
          return out;
        }),
        /commitment mismatch from party #1/,
      );
    });
    it('sent to the analyst: another output key → MAC_CHECK, whatever the output', async () => {
      rejects(await tampered((m) => addAt(m, at.kappa + 8, 1n << 63n)), /different output keys/);
    });
    it('sent to the analyst: another commitment list → MAC_CHECK', async () => {
      rejects(await tampered((m) => addAt(m, at.commits, 1n)), /different commitments/);
    });
    it('sent to the analyst: a forged tag → MAC_CHECK', async () => {
      rejects(await tampered((m) => addAt(m, at.u, 1n), 2), /commitment mismatch from party #2/);
    });
    it('in any order of the parties’ messages, the honest messages reconstruct', async () => {
      const r = await honestRun();
      expect(Array.from(spdz2k.reconstructExternal(r.map((x) => x.external.a).reverse(), L, 'a'))).toEqual(W);
    });
    it('a message sent twice in place of another party’s → MAC_CHECK', async () => {
      const r = await honestRun();
      const msgs = r.map((x) => x.external.a);
      msgs[2] = msgs[1];
      expect(() => spdz2k.reconstructExternal(msgs, L, 'a')).toThrow(/output a failed verification: .*distinct parties/);
    });
    it('sent to the analyst: truncated → PROTOCOL', async () => {
      const f = await tampered((m) => m.subarray(1));
      expect(f).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL }));
    });

    it('sent to a party recipient (its opening of z = x − r) → that party and all others reject, nothing released', async () => {
      // Output openings: [d (3) | e (3) | z_b (1)]: z_b's low limb is element 6, at byte 48.
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) =>
          i === 0 ? tamperSends(t, (to, kind, round, p) => (kind === MessageKind.Open && round === plan.layers.length && to === 2 ? addAt(p, 48, 1n) : p)) : t,
      });
      expectAbort(res, [1, 2], ErrorCode.MAC_CHECK, /values opened in .*outputs/);
    });
  });

  describe('(e) replays', () => {
    it("layer 1's openings sent again as layer 2's → MAC_CHECK", async () => {
      let saved: Uint8Array | undefined;
      const res = await runParties(plan, raw, {
        wrapTransport: (t, i) =>
          i !== 1
            ? t
            : tamperSends(t, (_to, kind, round, p) => {
                if (kind !== MessageKind.Open) return p;
                if (round === 1) saved = p;
                return round === 2 ? saved! : p;
              }),
      });
      expectAbort(res, [0, 2], ErrorCode.MAC_CHECK, /MAC check failed/);
    });

    it('the same message twice → PROTOCOL (duplicate) at every honest party', async () => {
      const res = await runParties(plan, raw, {
        propagate: true,
        wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && round === 1 ? [p, p] : p)) : t),
      });
      expectAbort(res, [0, 2], ErrorCode.PROTOCOL, /duplicate message from party 1/);
    });
  });

  it('rejects a non-positive macCheckEvery', () => {
    expect(() => createSpdz2k({ macCheckEvery: 0 })).toThrow(RangeError);
  });

  it('refuses a job whose party order does not start with the circuit parties', async () => {
    const res = await runParties(plan, raw, { parties: ['p2', 'p1', 'p3'] });
    expectAbort(res, [0, 1, 2], ErrorCode.PROTOCOL, /must be the circuit's parties \(p1, p2, p3\) first/);
  });
});
