// Property: for random circuits, random inputs and random input owners, the n-party
// protocol (n = 2, 3, 5) over the in-memory transport outputs exactly what a BigInt
// reference computes directly from the same program — and so does the plaintext evaluator.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CircuitBuilder, Value } from '../../src/circuit/index.ts';
import { evaluateClear } from '../../src/circuit/clear.ts';
import { encodePartyInputs } from '../../src/protocol/inputs.ts';
import { runLocal } from '../../src/protocol/local.ts';
import { compileInline, M64 } from '../helpers.ts';

type Ref = { v: bigint[]; scalar: boolean };
type Step = { op: number; i: number; j: number; k: bigint };

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const smallOrBig = fc.oneof(fc.bigInt({ min: -20n, max: 20n }), int64);

/** Elementwise reference with scalar broadcast, mod 2^64. */
function ew(a: Ref, b: Ref, f: (x: bigint, y: bigint) => bigint): Ref {
  const n = a.scalar ? b.v.length : a.v.length;
  const v = Array.from({ length: n }, (_, t) => f(a.scalar ? a.v[0] : a.v[t], b.scalar ? b.v[0] : b.v[t]) & M64);
  return { v, scalar: a.scalar && b.scalar };
}

const program = fc.record({
  n: fc.constantFrom(2, 3, 5),
  len: fc.integer({ min: 0, max: 6 }),
  owners: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  scalarOwner: fc.nat(),
  steps: fc.array(fc.record({ op: fc.nat({ max: 8 }), i: fc.nat(), j: fc.nat(), k: smallOrBig }), { minLength: 1, maxLength: 14 }),
  reveals: fc.array(fc.record({ i: fc.nat(), to: fc.nat() }), { minLength: 1, maxLength: 3 }),
  seed: fc.integer(),
});

describe('random circuits: MPC = plaintext reference', () => {
  it('for n = 2, 3, 5 parties', async () => {
    await fc.assert(
      fc.asyncProperty(program, fc.infiniteStream(smallOrBig), async (p, values) => {
        const parties = Array.from({ length: p.n }, (_, i) => `p${i + 1}`);
        const raw: Record<string, Record<string, unknown>> = Object.fromEntries(parties.map((q) => [q, {}]));
        const shapes: Record<string, number> = {};
        p.owners.forEach((o, t) => (shapes[`${parties[o % p.n]}.v${t}`] = p.len));
        const it = values[Symbol.iterator]();
        const next = (): bigint => it.next().value as bigint;
        const refOut: Record<string, Ref> = {};
        const recipients: Record<string, string> = {};
        const body = (c: CircuitBuilder): void => {
          const pool: [Value, Ref][] = [];
          p.owners.forEach((o, t) => {
            const owner = parties[o % p.n];
            const xs = Array.from({ length: p.len }, next);
            raw[owner][`v${t}`] = xs.map(String);
            pool.push([c.vector(owner, `v${t}`), { v: xs.map((x) => x & M64), scalar: false }]);
          });
          const sOwner = parties[p.scalarOwner % p.n];
          const s = next();
          raw[sOwner].s = s.toString();
          pool.push([c.scalar(sOwner, 's'), { v: [s & M64], scalar: true }]);
          for (const st of p.steps as Step[]) {
            const [a, ra] = pool[st.i % pool.length];
            const [b, rb] = pool[st.j % pool.length];
            // Combine only shapes the DSL accepts; otherwise use a scalar partner.
            const compatible = ra.scalar || rb.scalar || ra.v.length === rb.v.length;
            const [bb, rbb] = compatible ? [b, rb] : pool[p.owners.length] /* the scalar input */;
            const kk = st.k & M64;
            switch (st.op) {
              case 0: pool.push([a.add(bb), ew(ra, rbb, (x, y) => x + y)]); break;
              case 1: pool.push([a.sub(bb), ew(ra, rbb, (x, y) => x - y)]); break;
              case 2: case 3: pool.push([a.mul(bb), ew(ra, rbb, (x, y) => x * y)]); break;
              case 4: pool.push([a.neg(), { v: ra.v.map((x) => -x & M64), scalar: ra.scalar }]); break;
              case 5: pool.push([a.sum(), { v: [ra.v.reduce((t, x) => (t + x) & M64, 0n)], scalar: true }]); break;
              case 6: pool.push([a.mul(st.k), ew(ra, { v: [kk], scalar: true }, (x, y) => x * y)]); break;
              case 7: pool.push([a.add(st.k), ew(ra, { v: [kk], scalar: true }, (x, y) => x + y)]); break;
              case 8: {
                const r = ew(ra, rbb, (x, y) => x * y);
                pool.push([a.dot(bb), { v: [r.v.reduce((t, x) => (t + x) & M64, 0n)], scalar: true }]);
                break;
              }
            }
          }
          p.reveals.forEach((r, t) => {
            const [v, ref] = pool[pool.length - 1 - (r.i % pool.length)];
            const to = r.to % (p.n + 1) === p.n ? 'analyst' : parties[r.to % (p.n + 1)];
            c.reveal(`out${t}`, v, { to });
            refOut[`out${t}`] = ref;
            recipients[`out${t}`] = to;
          });
        };
        const { plan } = compileInline(parties, body, shapes);

        const clearInputs = new Map<number, BigUint64Array>();
        for (const q of parties) for (const [w, v] of encodePartyInputs(plan, q, raw[q], 'raw')) clearInputs.set(w, v);
        const clear = evaluateClear(plan, clearInputs);
        const mpc = await runLocal(plan, raw);
        for (const [name, ref] of Object.entries(refOut)) {
          expect(Array.from(clear[name])).toEqual(ref.v);
          const to = recipients[name];
          const got = to === 'analyst' ? mpc.analyst[name] : mpc.perParty[parties.indexOf(to)].values[name];
          expect(Array.from(got)).toEqual(ref.v);
          // Nobody else learns it through the protocol.
          mpc.perParty.forEach((r, i) => { if (parties[i] !== to) expect(r.values[name]).toBeUndefined(); });
        }
      }),
      { numRuns: 150, seed: 0x7e55e7a },
    );
  });
});
