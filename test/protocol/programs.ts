// Random circuits with their BigInt reference results, computed directly from the program
// (not from the compiled plan): random input owners, elementwise ops with scalar broadcast,
// public constants, sums and dot products, outputs to the analyst and/or one or two parties.
import fc from 'fast-check';
import type { CircuitBuilder, Value } from '../../src/circuit/index.ts';
import type { Plan } from '../../src/compiler/plan.ts';
import type { RawInputs } from '../../src/protocol/inputs.ts';
import { compileInline, M64 } from '../helpers.ts';

type Ref = { v: bigint[]; scalar: boolean };

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
export const smallOrBig = fc.oneof(fc.bigInt({ min: -20n, max: 20n }), int64);

function ew(a: Ref, b: Ref, f: (x: bigint, y: bigint) => bigint): Ref {
  const n = a.scalar ? b.v.length : a.v.length;
  const v = Array.from({ length: n }, (_, t) => f(a.scalar ? a.v[0] : a.v[t], b.scalar ? b.v[0] : b.v[t]) & M64);
  return { v, scalar: a.scalar && b.scalar };
}

export const programArb = (ns: readonly number[] = [2, 3, 5]) =>
  fc.record({
    n: fc.constantFrom(...ns),
    len: fc.integer({ min: 0, max: 6 }),
    owners: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    scalarOwner: fc.nat(),
    steps: fc.array(fc.record({ op: fc.nat({ max: 8 }), i: fc.nat(), j: fc.nat(), k: smallOrBig }), { minLength: 1, maxLength: 14 }),
    reveals: fc.array(fc.record({ i: fc.nat(), to: fc.nat(), also: fc.nat() }), { minLength: 1, maxLength: 3 }),
  });

export interface Built {
  plan: Plan;
  raw: RawInputs;
  parties: string[];
  ref: Record<string, bigint[]>;
  recipients: Record<string, string[]>;
}

/** Compile a random program; `next` supplies input values. */
export function build(
  p: { n: number; len: number; owners: number[]; scalarOwner: number; steps: { op: number; i: number; j: number; k: bigint }[]; reveals: { i: number; to: number; also: number }[] },
  next: () => bigint,
): Built {
  const parties = Array.from({ length: p.n }, (_, i) => `p${i + 1}`);
  const raw: Record<string, Record<string, unknown>> = Object.fromEntries(parties.map((q) => [q, {}]));
  const shapes: Record<string, number> = {};
  p.owners.forEach((o, t) => (shapes[`${parties[o % p.n]}.v${t}`] = p.len));
  const ref: Record<string, bigint[]> = {};
  const recipients: Record<string, string[]> = {};
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
    for (const st of p.steps) {
      const [a, ra] = pool[st.i % pool.length];
      const [b, rb] = pool[st.j % pool.length];
      const compatible = ra.scalar || rb.scalar || ra.v.length === rb.v.length;
      const [bb, rbb] = compatible ? [b, rb] : pool[p.owners.length];
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
      const [v, rf] = pool[pool.length - 1 - (r.i % pool.length)];
      const who = (k: number): string => (k % (p.n + 1) === p.n ? 'analyst' : parties[k % (p.n + 1)]);
      const to = [...new Set([who(r.to), ...(r.also % 3 === 0 ? [who(r.also)] : [])])];
      c.reveal(`out${t}`, v, { to });
      ref[`out${t}`] = rf.v;
      recipients[`out${t}`] = to;
    });
  };
  const { plan } = compileInline(parties, body, shapes);
  return { plan, raw, parties, ref, recipients };
}
