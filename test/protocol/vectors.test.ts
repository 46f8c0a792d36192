// Known answers for the clear-value vector helpers the executor, the plaintext evaluator and
// constant folding share (src/protocol/vectors.ts): bits64, pack64 (its inverse), gather64,
// concat64 and evalLocal for every local op; and the node's validation of the plan ops the
// non-linear library added (gather, bits, pack, rand, open): a mutated plan is refused with
// MpcError PROTOCOL "invalid plan: …" by decodePlan, never run.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePlan, encodePlan, type LocalOp, type Plan } from '../../src/compiler/plan.ts';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import { bits64, broadcast, concat64, elementwise, evalLocal, gather64, pack64 } from '../../src/protocol/vectors.ts';
import { compileInline } from '../helpers.ts';

const M64 = (1n << 64n) - 1n;
const u = (...xs: (bigint | number)[]): BigUint64Array => BigUint64Array.from(xs, (x) => BigInt.asUintN(64, BigInt(x)));
const list = (v: BigUint64Array): bigint[] => Array.from(v);
/** A gather index as the plan stores it: little-endian u32 bytes. */
const indexBytes = (...xs: number[]): Uint8Array => new Uint8Array(Uint32Array.from(xs).buffer);
const u64 = fc.bigInt({ min: 0n, max: M64 });

describe('bits64', () => {
  it('is bit-major: bit from+i of element j at i·L + j', () => {
    const v = u(5, (1n << 63n) + 1n, 0, M64);
    expect(list(bits64(v, 0, 3))).toEqual([1n, 1n, 0n, 1n, 0n, 0n, 0n, 1n, 1n, 0n, 0n, 1n]);
    expect(list(bits64(v, 63, 1))).toEqual([0n, 1n, 0n, 1n]);
    expect(list(bits64(v, 62, 2))).toEqual([0n, 0n, 0n, 1n, 0n, 1n, 0n, 1n]);
    expect(list(bits64(u(6), 1, 2))).toEqual([1n, 1n]);
    expect(bits64(u(), 0, 64).length).toBe(0);
    expect(bits64(u(1, 2, 3), 0, 64).length).toBe(192);
  });

  it('of a negative number (two’s complement) has every high bit set', () => {
    expect(list(bits64(u(-2), 0, 64))).toEqual([0n, ...new Array<bigint>(63).fill(1n)]);
  });
});

describe('pack64', () => {
  it('Σ 2^(shift+i)·digit_i over digits of L elements, mod 2^64', () => {
    expect(list(pack64(u(1, 1, 0, 0, 0, 0, 1, 0, 0), 3, 0))).toEqual([5n, 1n, 0n]);
    expect(list(pack64(u(1, 1, 0, 0, 0, 0, 1, 0, 0), 3, 2))).toEqual([20n, 4n, 0n]);
    // Digits need not be bits (the library packs comparison results and shares).
    expect(list(pack64(u(3, 5), 2, 0))).toEqual([13n]);
    expect(list(pack64(u(-1, 1), 2, 0))).toEqual([1n]);
    // Wrap-around at the top.
    expect(list(pack64(u(1), 1, 63))).toEqual([1n << 63n]);
    expect(list(pack64(u(2), 1, 63))).toEqual([0n]);
    expect(list(pack64(u(...new Array<number>(64).fill(1)), 64, 0))).toEqual([M64]);
    expect(list(pack64(u(), 5, 0))).toEqual([]);
  });

  it('is the inverse of bits64 (on the bits it packs)', () => {
    fc.assert(
      fc.property(fc.array(u64, { maxLength: 6 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 64 }), (xs, from, c) => {
        const count = Math.min(c, 64 - from);
        const v = u(...xs);
        expect(list(pack64(bits64(v, 0, 64), 64, 0))).toEqual(xs);
        const mask = ((1n << BigInt(count)) - 1n) << BigInt(from);
        expect(list(pack64(bits64(v, from, count), count, from))).toEqual(xs.map((x) => x & mask));
      }),
      { numRuns: 200, seed: 0xb175 },
    );
  });
});

describe('gather64 and concat64', () => {
  it('gathers single elements and blocks, with repeats, in any order', () => {
    const v = u(10, 11, 12, 13, 14, 15);
    expect(list(gather64(v, Uint32Array.of(5, 0, 0, 3)))).toEqual([15n, 10n, 10n, 13n]);
    expect(list(gather64(v, Uint32Array.of()))).toEqual([]);
    expect(list(gather64(v, Uint32Array.of(1, 0, 1), 3))).toEqual([13n, 14n, 15n, 10n, 11n, 12n, 13n, 14n, 15n]);
    expect(list(gather64(v, Uint32Array.of(2, 0), 2))).toEqual([14n, 15n, 10n, 11n]);
    expect(list(gather64(v, Uint32Array.of(0), 6))).toEqual(list(v));
    // The result is a copy, not a view.
    const g = gather64(v, Uint32Array.of(0, 1), 2);
    g[0] = 99n;
    expect(v[0]).toBe(10n);
  });

  it('gather with blocks of b equals gathering every element of each block', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (block, blocks, picks) => {
        const v = u(...Array.from({ length: block * blocks }, (_, i) => 100 + i));
        const index = picks.map((p) => p % blocks);
        const flat = index.flatMap((b) => Array.from({ length: block }, (_, k) => b * block + k));
        expect(list(gather64(v, Uint32Array.from(index), block))).toEqual(list(gather64(v, Uint32Array.from(flat))));
      }),
      { numRuns: 100, seed: 0x6a7 },
    );
  });

  it('concatenates in order; one part is returned as is', () => {
    const a = u(1, 2);
    expect(concat64([a])).toBe(a);
    expect(list(concat64([a, u(), u(3), u(4, 5)]))).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(list(concat64([u(), u()]))).toEqual([]);
  });

  it('broadcast and elementwise: a length-1 operand against a vector, either side', () => {
    expect(list(broadcast(u(7), 3))).toEqual([7n, 7n, 7n]);
    const v = u(1, 2);
    expect(broadcast(v, 2)).toBe(v);
    expect(list(elementwise('sub', u(10), u(1, 2, 3)))).toEqual([9n, 8n, 7n]);
    expect(list(elementwise('sub', u(1, 2, 3), u(10)))).toEqual([M64 - 8n, M64 - 7n, M64 - 6n]);
    expect(list(elementwise('mul', u(1n << 63n, 3), u(2)))).toEqual([0n, 6n]);
    expect(list(elementwise('add', u(M64), u(1, 2)))).toEqual([0n, 1n]);
    expect(list(elementwise('add', u(5), u()))).toEqual([]);
    expect(() => elementwise('add', u(1, 2), u(1, 2, 3))).toThrow(RangeError);
  });
});

describe('evalLocal', () => {
  const wires: Record<number, BigUint64Array> = {
    0: u(1, 2, 3, 4),
    1: u(10),
    2: u(-1, 0, 1n << 63n, 7),
    3: u(5, 6),
    4: u(1, 0, 1, 1, 0, 1, 0, 0),
  };
  const get = (w: number): BigUint64Array => {
    if (!(w in wires)) throw new Error(`wire ${w} read`);
    return wires[w];
  };
  const ev = (op: Exclude<LocalOp, { op: 'rand' }>): bigint[] => list(evalLocal(op, get));

  it('every local op on known values', () => {
    expect(ev({ op: 'add', out: 9, a: 0, b: 2 })).toEqual([0n, 2n, (1n << 63n) + 3n, 11n]);
    expect(ev({ op: 'sub', out: 9, a: 1, b: 0 })).toEqual([9n, 8n, 7n, 6n]);
    expect(ev({ op: 'sub', out: 9, a: 0, b: 1 })).toEqual([M64 - 8n, M64 - 7n, M64 - 6n, M64 - 5n]);
    expect(ev({ op: 'mul', out: 9, a: 2, b: 0 })).toEqual([M64, 0n, 1n << 63n, 28n]);
    expect(ev({ op: 'mul', out: 9, a: 1, b: 2 })).toEqual([M64 - 9n, 0n, 0n, 70n]);
    expect(ev({ op: 'neg', out: 9, a: 2 })).toEqual([1n, 0n, 1n << 63n, M64 - 6n]);
    expect(ev({ op: 'sum', out: 9, a: 2 })).toEqual([(1n << 63n) + 6n]);
    expect(ev({ op: 'sum', out: 9, a: 0 })).toEqual([10n]);
    expect(ev({ op: 'slice', out: 9, a: 0, start: 1, end: 3 })).toEqual([2n, 3n]);
    expect(ev({ op: 'slice', out: 9, a: 0, start: 4, end: 4 })).toEqual([]);
    expect(ev({ op: 'concat', out: 9, parts: [3, 1, 3] })).toEqual([5n, 6n, 10n, 5n, 6n]);
    expect(ev({ op: 'gather', out: 9, a: 0, index: indexBytes(3, 3, 0), block: 1 })).toEqual([4n, 4n, 1n]);
    expect(ev({ op: 'gather', out: 9, a: 0, index: indexBytes(1, 0), block: 2 })).toEqual([3n, 4n, 1n, 2n]);
    expect(ev({ op: 'bits', out: 9, a: 3, from: 0, count: 3 })).toEqual([1n, 0n, 0n, 1n, 1n, 1n]);
    expect(ev({ op: 'bits', out: 9, a: 2, from: 63, count: 1 })).toEqual([1n, 0n, 1n, 0n]);
    expect(ev({ op: 'pack', out: 9, a: 4, count: 2, shift: 0 })).toEqual([1n, 2n, 1n, 1n]);
    expect(ev({ op: 'pack', out: 9, a: 4, count: 4, shift: 1 })).toEqual([6n, 12n]);
    expect(ev({ op: 'pack', out: 9, a: 4, count: 8, shift: 60 })).toEqual([(1n << 60n) + (1n << 62n) + (1n << 63n)]);
  });

  it('does not alias its inputs where the op makes a new vector', () => {
    const out = evalLocal({ op: 'add', out: 9, a: 0, b: 1 }, get);
    out[0] = 0n;
    expect(wires[0][0]).toBe(1n);
  });
});

describe('plan validation of the non-linear ops', () => {
  // A comparison and a truncation: gather, bits, pack, rand and open all appear.
  const { plan } = compileInline(
    ['p1', 'p2'],
    (c) => {
      const x = c.vector('p1', 'x');
      const f = c.fixed('p2', 'f', { length: x.length });
      c.reveal('lt', x.lt(c.vector('p2', 'y', { length: x.length })));
      c.reveal('m', f.mul(f));
    },
    { 'p1.x': 3 },
  );
  const copy = (): Plan => decodePlan(encodePlan(plan));
  type Found<K extends LocalOp['op']> = { layer: number; op: Extract<LocalOp, { op: K }> };
  function find<K extends LocalOp['op']>(p: Plan, kind: K, pred: (op: Extract<LocalOp, { op: K }>) => boolean = () => true): Found<K> {
    for (const [layer, l] of p.layers.entries()) {
      for (const op of l.local) if (op.op === kind && pred(op as Extract<LocalOp, { op: K }>)) return { layer, op: op as Extract<LocalOp, { op: K }> };
    }
    throw new Error(`no ${kind} op in the plan`);
  }
  /** decodePlan refuses the mutated plan with PROTOCOL "invalid plan: …" matching `why`. */
  function refused(mutate: (p: Plan) => void, why: RegExp): void {
    const p = copy();
    mutate(p);
    let err: unknown;
    try {
      decodePlan(encodePlan(p));
    } catch (e) {
      err = e;
    }
    expect(isMpcError(err, ErrorCode.PROTOCOL), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/^invalid plan: /);
    expect((err as Error).message).toMatch(why);
  }

  it('the compiled plan has every new op and survives encoding', () => {
    const kinds = new Set(plan.layers.flatMap((l) => l.local.map((op) => op.op)));
    for (const k of ['gather', 'bits', 'pack', 'rand'] as const) expect(kinds.has(k), k).toBe(true);
    expect(plan.layers.some((l) => l.opens.length > 0)).toBe(true);
    expect(copy()).toEqual(plan);
  });

  it('a gather index out of range', () => {
    refused((p) => {
      const { op } = find(p, 'gather');
      const idx = new Uint32Array(op.index.slice().buffer);
      idx[idx.length - 1] = p.wireLength[op.a] / op.block;
      op.index = new Uint8Array(idx.buffer);
    }, /layer \d+ gather: block \d+ outside \d+ blocks/);
    refused((p) => {
      const { op } = find(p, 'gather');
      op.index = new Uint8Array(Uint32Array.of(0xffffffff).buffer);
    }, /gather: block 4294967295 outside/);
  });

  it('a gather index that is not u32s, or blocks that do not divide the operand', () => {
    refused((p) => {
      const { op } = find(p, 'gather');
      op.index = op.index.subarray(0, op.index.length - 1);
    }, /gather: malformed index/);
    refused((p) => {
      const { op } = find(p, 'gather', (g) => p.wireLength[g.a] > 1);
      op.block = p.wireLength[op.a] + 1;
    }, /gather: blocks of \d+ do not divide \d+ elements/);
    refused((p) => {
      find(p, 'gather').op.block = 0;
    }, /gather: blocks of 0/);
  });

  it('bits of a secret wire', () => {
    refused((p) => {
      find(p, 'bits').op.a = p.inputs[0].wire;
    }, /layer \d+ bits: bits of a secret/);
  });

  it('bits outside 0..64', () => {
    refused((p) => {
      const { op } = find(p, 'bits');
      op.from = 64 - op.count + 1;
    }, /bits: bits \d+\.\.65 outside 0\.\.64/);
    refused((p) => {
      find(p, 'bits').op.count = 0;
    }, /bits: bits \d+\.\.\d+ outside 0\.\.64/);
  });

  it('a pack count that does not divide the length, and a shift of 64', () => {
    refused((p) => {
      const { op } = find(p, 'pack');
      const n = p.wireLength[op.a];
      let c = 2;
      while (n % c === 0) c++;
      op.count = c;
    }, /layer \d+ pack: cannot pack \d+ elements in \d+ digits/);
    refused((p) => {
      find(p, 'pack').op.count = 0;
    }, /pack: cannot pack/);
    refused((p) => {
      find(p, 'pack').op.shift = 64;
    }, /pack: cannot pack/);
  });

  it('rand with 0 or 65 bits', () => {
    refused((p) => {
      find(p, 'rand').op.bits = 0;
    }, /layer \d+ rand: 0 random bits/);
    refused((p) => {
      find(p, 'rand').op.bits = 65;
    }, /layer \d+ rand: 65 random bits/);
    refused((p) => {
      (find(p, 'rand').op as { bits: unknown }).bits = 1.5;
    }, /rand: malformed parameters/);
  });

  it('an open in layer 0', () => {
    refused((p) => {
      const k = p.layers.findIndex((l) => l.opens.length > 0);
      p.layers[0].opens.push(p.layers[k].opens.shift()!);
    }, /invalid plan: layer 0 cannot communicate/);
  });

  it('an open of a public wire, or into a secret wire', () => {
    refused((p) => {
      const l = p.layers.find((x) => x.opens.length > 0)!;
      p.wireSecret[l.opens[0].out] = true;
    }, /open: shape mismatch/);
  });
});
