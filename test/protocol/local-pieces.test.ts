// Local ops over vectors longer than a piece (LOCAL_PIECE = 2^20 elements in a job) run piece by
// piece, so heartbeats get turns during a 10^6-wide malicious comparison's 63·10^6-element
// ops: the pieced result must be exactly the reference, broadcasts of length-1 operands
// included, under both suites. Pieces of 64 elements here, so vectors of 1 000 have many,
// and a last one that is shorter.
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../src/coordinator/local.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { suiteFor, SECURITY_LEVELS } from '../../src/protocol/suites.ts';
import { compileInline, M64, signed } from '../helpers.ts';

const L = 1000;
const localPiece = 64;
const xs = Array.from({ length: L }, (_, i) => ((i * 7919) % 20011) - 10005);
const ys = Array.from({ length: L }, (_, i) => ((i * 104729) % 30011) - 15005);
const ks = Array.from({ length: L }, (_, i) => (i % 7) - 3);

describe.each(SECURITY_LEVELS)('local ops over more than one piece (%s)', (security) => {
  it(`add, sub, neg, multiplication by a public vector and by a scalar, ${L} elements in pieces of ${localPiece}`, async () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y', { length: x.length });
      const k = c.constant(ks);
      const z = x.add(y).sub(x.mul(k)).neg().add(5).mul(3).add(k.add(k));
      c.reveal('s', z.sum());
      c.reveal('last', z.slice(L - 1, L).sum());
    }, { 'p1.x': L, 'p2.y': L });
    const res = await runLocal(plan, { p1: { x: xs }, p2: { y: ys } }, { suite: suiteFor(security), localPiece });
    const z = (i: number): bigint => BigInt(3 * (-(xs[i] + ys[i] - xs[i] * ks[i]) + 5) + 2 * ks[i]);
    let s = 0n;
    for (let i = 0; i < L; i++) s += z(i);
    const out = formatOutputs(plan, res.analyst, 'analyst') as Record<string, unknown>;
    expect(BigInt(String(out.s))).toBe(signed(s & M64));
    expect(BigInt(String(out.last))).toBe(z(L - 1));
  }, 120_000);

  it('concat and gather (blocks of one element and of a whole vector), secret and public', async () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => {
      const x = c.vector('p1', 'x');
      const y = c.vector('p2', 'y', { length: x.length });
      const k = c.constant(ks);
      const both = c.concat([y, x, k]); // secret, 3L elements
      const swapped = c.primGather(both, [1, 2, 0], L); // x, k, y
      const picked = c.primGather(x, [L - 1, 0, L - 1]); // single elements
      const pub = c.primGather(c.concat([k, k.neg()]), [1, 0], L); // public: −k, k
      c.reveal('s', swapped.sub(both).mul(c.concat([swapped.slice(0, 2 * L), swapped.slice(0, L)]).add(c.concat([pub, k]))).sum());
      c.reveal('picked', picked.sum());
      // pack over two digits, secret and public: 2^3·(x + 2·y) and 2^3·(k + 2·k).
      c.reveal('packed', c.primPack(c.concat([x, y]), 2, 3).add(c.primPack(c.concat([k, k]), 2, 3)).sum());
      // bits of a public vector: bits 1 and 2 of k + 3 (in [0, 6]), bit-major.
      c.reveal('bits', c.primBits(k.add(3), 1, 2).sum());
    }, { 'p1.x': L, 'p2.y': L });
    const res = await runLocal(plan, { p1: { x: xs }, p2: { y: ys } }, { suite: suiteFor(security), localPiece });
    const both = [...ys, ...xs, ...ks];
    const swapped = [...xs, ...ks, ...ys];
    const other = [...xs, ...ks, ...xs];
    const pub = [...ks.map((v) => -v), ...ks, ...ks];
    let s = 0n;
    for (let i = 0; i < 3 * L; i++) s += BigInt(swapped[i] - both[i]) * BigInt(other[i] + pub[i]);
    const out = formatOutputs(plan, res.analyst, 'analyst') as Record<string, unknown>;
    expect(BigInt(String(out.s))).toBe(signed(s & M64));
    expect(BigInt(String(out.picked))).toBe(BigInt(2 * xs[L - 1] + xs[0]));
    let packed = 0n;
    let bits = 0n;
    for (let i = 0; i < L; i++) {
      packed += 8n * BigInt(xs[i] + 2 * ys[i] + 3 * ks[i]);
      bits += BigInt(((ks[i] + 3) >> 1) & 1) + BigInt(((ks[i] + 3) >> 2) & 1);
    }
    expect(BigInt(String(out.packed))).toBe(packed);
    expect(BigInt(String(out.bits))).toBe(bits);
  }, 120_000);
});
