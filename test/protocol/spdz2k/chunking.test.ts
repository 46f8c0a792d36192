// Size bounds of the malicious suite (src/protocol/spdz2k/chunks.ts): with vectors longer
// than MUL_CHUNK, every message stays ≤ 16 MiB (inputs, layer openings and output openings
// go in chunks of ≤ MUL_CHUNK elements, each its own round number), every dealer extra is
// ≤ 64·MUL_CHUNK bytes (one piece of ≤ MUL_CHUNK elements), results are right, the event
// loop keeps turning during an in-memory job, and a deviation in a later chunk is caught.
import { dealerFor, dealerPrep } from '../../../src/preprocessing/dealers.ts';
import { describe, expect, it } from 'vitest';
import { MUL_CHUNK } from '../../../src/compiler/plan.ts';
import { chunkRound } from '../../../src/protocol/executor.ts';
import { runLocal } from '../../../src/coordinator/local.ts';
import { MessageKind, type Transport } from '../../../src/protocol/transport.ts';
import type { ProtocolSuite } from '../../../src/protocol/suite.ts';
import type { Dealing } from '../../../src/preprocessing/dealer.ts';
import { spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import { correctionBytes, schedule, valueBytes } from '../../../src/protocol/spdz2k/schedule.ts';
import { chunkLayout, forPieces, pieces } from '../../../src/protocol/spdz2k/chunks.ts';
import { taggedHash, TaggedHasher } from '../../../src/protocol/spdz2k/wire.ts';
import { Prg } from '../../../src/ring/prg.ts';
import * as z64 from '../../../src/ring/z64.ts';
import { isMpcError, ErrorCode } from '../../../src/errors.ts';
import { compileInline } from '../../helpers.ts';
import { addAt, runParties, tamperSends } from './harness.ts';

const M = MUL_CHUNK;
const MIB16 = 16 * 2 ** 20;
/** Signed safe integers (the fast path of input encoding), from a pinned stream. */
const values = (label: string, n: number): number[] => Array.from(new Prg(new Uint8Array(32).fill(5), label).u64(n), (v) => Number(v >> 11n) - 2 ** 52);
const u64 = (xs: number[]): BigUint64Array => BigUint64Array.from(xs, (v) => BigInt.asUintN(64, BigInt(v)));
/** Index of the first difference of two vectors (-1 if equal): toEqual is slow on 2^18 elements. */
function firstDiff(a: BigUint64Array | undefined, b: BigUint64Array): number {
  if (!a || a.length !== b.length) return -2;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
const byRound = (xs: { round: number; bytes: number }[]) => [...xs].sort((a, b) => a.round - b.round);

describe('chunk and piece layout', () => {
  it('cuts vectors into pieces and streams into chunks of MUL_CHUNK elements', () => {
    expect(pieces(0)).toEqual([0]);
    expect(pieces(M + 5)).toEqual([M, 5]);
    const layout = chunkLayout([3, M, 0, M + 2]);
    expect(layout.map((c) => c.length)).toEqual([M, M, 5]);
    expect(layout[0].parts).toEqual([
      { k: 0, from: 0, to: 3, at: 0 },
      { k: 1, from: 0, to: M - 3, at: 3 },
    ]);
    expect(layout[1].parts).toEqual([
      { k: 1, from: M - 3, to: M, at: 0 },
      { k: 3, from: 0, to: M - 3, at: 3 },
    ]);
    expect(layout[2].parts).toEqual([{ k: 3, from: M - 3, to: M + 2, at: 0 }]);
    expect(chunkLayout([0, 0])).toEqual([{ length: 0, parts: [] }]);
    const seen: number[][] = [];
    forPieces(M - 2, 2 * M + 1, (p, s, e, at) => seen.push([p, s, e, at]));
    expect(seen).toEqual([
      [0, M - 2, M, 0],
      [1, 0, M, 2],
      [2, 0, 1, M + 2],
    ]);
  });

  it('hashes a part fed in pieces exactly as taggedHash hashes it whole', () => {
    const parts = [new Uint8Array([1, 2, 3]), new Prg(new Uint8Array(32), 'h').bytes(1000)];
    const h = new TaggedHasher('tag').whole(parts[0]).begin(1000);
    for (let i = 0; i < 1000; i += 300) h.update(parts[1].subarray(i, i + 300));
    expect(Array.from(h.digest())).toEqual(Array.from(taggedHash('tag', ...parts)));
    expect(() => new TaggedHasher('t').begin(4).update(new Uint8Array(5))).toThrow();
  });
});

describe('SPDZ2k with vectors longer than MUL_CHUNK', () => {
  it(`a ${M + 5}-element layer, 2 parties: right outputs, every message ≤ 16 MiB, every dealer extra ≤ 64·MUL_CHUNK bytes`, async () => {
    const W = M + 5;
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const z = c.vector('p1', 'x').mul(c.vector('p2', 'y'));
      c.reveal('z', z, { to: 'analyst' });
      c.reveal('s', z.sum(), { to: 'p2' });
    }, { 'p1.x': W, 'p2.y': W });
    const x = values('x', W);
    const y = values('y', W);
    const want = z64.mul(u64(x), u64(y));

    // Every payload a party sends, by (kind, round).
    const sent: { from: number; kind: number; round: number; bytes: number }[] = [];
    const record = (t: Transport, self: number): Transport => ({
      self: t.self,
      n: t.n,
      send: (to, kind, round, payload) => {
        if (to === (self + 1) % t.n) sent.push({ from: self, kind, round, bytes: payload.byteLength });
        return t.send(to, kind, round, payload);
      },
      recv: (from, kind, round) => t.recv(from, kind, round),
      abort: (reason) => t.abort(reason),
      stats: () => t.stats(),
    });
    // Every extra the dealer hands out during the run.
    const extras: { party: number; bytes: number }[] = [];
    const wrapDealing = (d: Dealing): Dealing => ({
      seeds: d.seeds,
      *extras(party) {
        for (const b of d.extras(party)) {
          extras.push({ party, bytes: b.byteLength });
          yield b;
        }
      },
    });
    // The event loop keeps turning during the job (before chunking, it did not turn once).
    let ticks = 0;
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      ticks++;
    }, 5);
    let res;
    try {
      res = await runLocal(plan, { p1: { x }, p2: { y } }, { suite: spdz2k as ProtocolSuite<unknown, unknown>, wrapTransport: record, wrapDealing });
    } finally {
      clearInterval(timer);
    }
    worst = Math.max(worst, performance.now() - last);

    // (i) the right results, for the analyst and for a party recipient.
    expect(firstDiff(res.analyst.z, want)).toBe(-1);
    expect(res.perParty[1].values.s[0]).toBe(z64.sum(want));

    // (ii) no payload over 16 MiB; long messages in chunks with distinct rounds.
    expect(Math.max(...sent.map((m) => m.bytes))).toBeLessThanOrEqual(MIB16);
    expect(Math.max(...sent.map((m) => m.bytes))).toBe(32 * M); // a layer chunk's [d | e]
    const of = (from: number, kind: number): { round: number; bytes: number }[] =>
      sent.filter((m) => m.from === from && m.kind === kind).map(({ round, bytes }) => ({ round, bytes }));
    expect(byRound(of(0, MessageKind.Input))).toEqual([
      { round: 0, bytes: 16 * M },
      { round: 1, bytes: 16 * 5 },
    ]);
    const L = plan.layers.length;
    // Chunks of a layer may go out in any order (several in flight, on worker threads).
    expect(byRound(of(0, MessageKind.Open))).toEqual(
      byRound([
        { round: chunkRound(1, 0), bytes: 32 * M },
        { round: chunkRound(1, 1), bytes: 32 * 5 },
        // outputs: [κ − a | y − b] for the analyst (2W), then z = s − r for p2 (1): 2W + 1 elements
        ...pieces(2 * W + 1).map((w, c) => ({ round: chunkRound(L, c), bytes: 16 * w })),
        { round: L + 1, bytes: 16 }, // κ
      ]),
    );
    for (const from of [0, 1]) {
      const keys = sent.filter((m) => m.from === from).map((m) => `${m.kind}/${m.round}`);
      expect(new Set(keys).size).toBe(keys.length);
    }

    // (iii) every dealer extra is one item of ≤ MUL_CHUNK elements: ≤ 64 bytes per element
    // (a triple piece's c ‖ m_a ‖ m_b ‖ m_c), so ≤ 64·MUL_CHUNK = 16 MiB; masks and values ≤ 16·MUL_CHUNK.
    const items = schedule(plan, 2);
    expect(Math.max(...items.map((i) => i.length))).toBe(M);
    expect(items.filter((i) => i.kind === 'input-mask').map((i) => i.length)).toEqual([M, 5, M, 5]);
    expect(extras.length).toBeGreaterThan(0);
    for (const e of extras) expect(e.bytes).toBeLessThanOrEqual(64 * M);
    const expected = [0, 1].map((party) =>
      items.flatMap((it) => [...(party === 1 ? [correctionBytes(it)] : []), ...(it.holder === party ? [valueBytes(it)] : [])]),
    );
    for (const party of [0, 1]) expect(extras.filter((e) => e.party === party).map((e) => e.bytes)).toEqual(expected[party]);
    expect(Math.max(...extras.map((e) => e.bytes))).toBe(64 * M);

    expect(ticks).toBeGreaterThan(5);
    expect(worst).toBeLessThan(3000); // the heartbeat declares a peer dead after 5 s of silence
  });

  // 3 parties, p1's input of M + 5 elements revealed to p3 (no long layer: cheap).
  const parties = ['p1', 'p2', 'p3'];
  const W = M + 5;
  const { plan } = compileInline(parties, (c) => {
    const x = c.vector('p1', 'x');
    c.reveal('x', x, { to: 'p3' });
    c.reveal('d', x.sum().mul(c.scalar('p2', 'y')), { to: 'p2' });
  }, { 'p1.x': W });
  const x = values('x3', W);
  const raw = { p1: { x }, p2: { y: 3 } };

  it('3 parties: a long input and a long output to a party recipient', async () => {
    const res = await runParties(plan, raw, { timeoutMs: 60_000 });
    expect(res.outcomes.every((o) => o.ok)).toBe(true);
    const out = res.outcomes.map((o) => (o as { result: { values: Record<string, BigUint64Array> } }).result.values);
    expect(firstDiff(out[2].x, u64(x))).toBe(-1);
    expect(out[1].d[0]).toBe(BigInt.asUintN(64, 3n * z64.sum(u64(x))));
  });

  it('an owner equivocating only in its second input chunk → PROTOCOL "inconsistent input broadcast" at every honest party', async () => {
    const res = await runParties(plan, raw, {
      timeoutMs: 60_000,
      wrapTransport: (t, i) => (i === 0 ? tamperSends(t, (to, kind, round, p) => (kind === MessageKind.Input && round === 1 && to === 2 ? addAt(p, 0, 1n) : p)) : t),
    });
    for (const i of [1, 2]) {
      const o = res.outcomes[i];
      expect(o.ok).toBe(false);
      const e = (o as { error: Error }).error;
      expect(isMpcError(e, ErrorCode.PROTOCOL), String(e)).toBe(true);
      expect(e.message).toMatch(/inconsistent input broadcast from p1/);
    }
  });

  it('a shifted share in the second chunk of the output opening → MAC_CHECK at every honest party, nothing released', async () => {
    const round = chunkRound(plan.layers.length, 1);
    const res = await runParties(plan, raw, {
      timeoutMs: 60_000,
      wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (to, kind, r, p) => (kind === MessageKind.Open && r === round && to === 2 ? addAt(p, 8, 1n) : p)) : t),
    });
    for (const i of [0, 2]) {
      const o = res.outcomes[i];
      expect(o.ok).toBe(false);
      const e = (o as { error: Error }).error;
      expect(isMpcError(e, ErrorCode.MAC_CHECK), String(e)).toBe(true);
      expect(e.message).toMatch(/values opened in .*outputs/);
    }
  });
});
