/**
 * Data-flow facts of a compiled plan, for the data owner's policy (ARCHITECTURE.md §7): how
 * many distinct input elements of one party each output element depends on, and the plain
 * figures (cost, inputs, recipients) that the other policy rules read.
 *
 * The analysis is structural: it follows wires, not values. An element depends on every
 * input element that reaches it through any op, secret or public — an opened value depends
 * on what was opened, `bits` of a public value on that value, `rand` and constants on
 * nothing. So a count never under-states what an element depends on, but it can over-state
 * it, and over-stating errs towards acceptance: in `x.add(x.sum().mul(2).sub(x.sum().add(x.sum())))`
 * every element counts as depending on all of x although the added term is always 0 and
 * the output is x itself. The compiler folds the trivial cancellations (`v.mul(0)`, `v.sub(v)`
 * of one node, `v.add(0)`, `v.mul(1)`; see compile.ts), and since a node reads the plan it
 * was sent, not the circuit, this pass folds the two that matter again (a product with an
 * all-zero constant, `v − v` of one wire depend on nothing), so the issue's
 * `x.add(y.sum().mul(0))` is x, and `x.add(x.sum().sub(x.sum()))` is x too. Openings reveal
 * their value to every computing party: {@link maskedOpenings} tells the masked ones (which
 * reveal nothing) from the rest, which the policy judges like outputs to every party. Nor does
 * a count say how much an element reveals: Σ x_i·2^(16i) over five small values depends on
 * five elements and discloses all of them. The aggregation rule stops honest mistakes and
 * plain leaks; a data owner facing analysts who might hide a leak runs in approved-only mode.
 *
 * Representation (nodes run this before every job, on plans of millions of elements): a
 * wire's dependencies are `none` (constants, randomness, other parties' data), `full` (every
 * element saturated), or one Int32Array entry per element — no per-element objects. An
 * entry is EMPTY, FULL (at least `cap` distinct ids), one input element id, or a row of
 * 2 … cap − 1 distinct ids in a table shared by the whole analysis, so the index ops (slice,
 * gather, concat, bits, broadcast) move entries and never copy a set, and a union that adds
 * nothing to an operand reuses the operand's row. Counts saturate at `cap`, so a row holds
 * fewer than cap ids; rows no live wire refers to are dropped when the table has doubled;
 * wires are dropped after their last use, and the pass ends as soon as every output is known.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { gatherIndex, localOperands, multiplicationBatches, type LocalOp, type Plan } from './plan.ts';

/** What one output element depends on, summarised for the policy. */
export interface OutputDependence {
  name: string;
  /** The output's recipients, as in the plan ("analyst" and/or party ids). */
  to: string[];
  length: number;
  /**
   * Per element, the number of distinct input elements of the party it depends on,
   * saturating at the cap (a count ≥ cap is reported as cap).
   */
  counts: Int32Array;
  /** The smallest nonzero count over the elements; 0 when no element depends on the party. */
  min: number;
  /** The index of an element whose count is `min`; undefined when `min` is 0. */
  at: number | undefined;
}

/**
 * One element's dependencies, as an Int32Array entry: EMPTY, FULL, a single input element
 * id `i` (stored as SINGLE − i), or the index (≥ 0) of a row of at least two ids.
 */
const EMPTY = -1;
/** Depends on at least `cap` distinct elements (saturated). */
const FULL = -2;
const SINGLE = -3;
const single = (id: number): number => SINGLE - id;
/** Marks "no entry seen yet" in an accumulator. */
const UNSET = -0x7fffffff;

type Deps = { kind: 'none'; length: number } | { kind: 'full'; length: number } | { kind: 'refs'; length: number; v: Int32Array };

/**
 * Most set ids the rows may hold once compacted (128 MiB). Beyond it the plan is refused
 * rather than analysed: a policy check must not exhaust the node. Only a large cap over wide
 * wires of partial aggregates gets near it.
 */
export const MAX_SET_IDS = 1 << 25;

/**
 * Most wire elements (the sum of every wire's length) a plan may define for the analysis to
 * run. A plan is small on the wire but names its lengths: without this bound a few bytes could
 * ask for gigabytes of entries and stall the node that serves other jobs. The largest shipped
 * circuits at their limits stay far below it (a median of 2000 defines 5.4·10^7).
 */
export const MAX_ANALYSED_ELEMENTS = 2 ** 28;

const none = (length: number): Deps => ({ kind: 'none', length });
const full = (length: number): Deps => ({ kind: 'full', length });

/** An entry vector in its cheapest tier. */
function refs(v: Int32Array): Deps {
  let empty = true;
  let saturated = true;
  for (let i = 0; i < v.length && (empty || saturated); i++) {
    if (v[i] !== EMPTY) empty = false;
    if (v[i] !== FULL) saturated = false;
  }
  if (empty) return none(v.length);
  if (saturated) return full(v.length);
  return { kind: 'refs', length: v.length, v };
}

/** Rows of ≥ 2 distinct ids, shared by every wire of one analysis: moving elements never copies a row. */
class Rows {
  ids = new Int32Array(1024);
  start = new Int32Array(256);
  size = new Int32Array(256);
  count = 0;
  used = 0;

  add(src: Int32Array, n: number): number {
    if (this.used + n > this.ids.length) this.ids = grow(this.ids, this.used + n);
    if (this.count === this.start.length) {
      this.start = grow(this.start, this.count + 1);
      this.size = grow(this.size, this.count + 1);
    }
    this.ids.set(src.subarray(0, n), this.used);
    this.start[this.count] = this.used;
    this.size[this.count] = n;
    this.used += n;
    return this.count++;
  }
}

function grow(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(atLeast, a.length * 2));
  b.set(a);
  return b;
}

/** One analysis run: the cap, the shared rows, the dedup stamps, and the union of entries. */
class Analysis {
  rows = new Rows();
  /** Row ids held after the last compaction: the next one waits until the rows double. */
  private kept = 0;
  /** Stamp per input element id, for deduplication inside one union. */
  private readonly mark: Int32Array;
  private stamp = 0;
  private readonly scratch: Int32Array;
  /**
   * Constant wires that are all zeros. The analyst's compiler folds `v·0` and `v − v`, but a
   * node reads the plan it was sent, not the circuit: it folds them again here, so a plan
   * that skipped the folding cannot make `x + 0·Σx` look like an aggregate.
   */
  private readonly zeros: ReadonlySet<number>;
  // The union being accumulated (begin / add / end).
  private n = 0;
  private first = UNSET;
  private biggest = UNSET;
  private materialised = false;
  private saturated = false;

  constructor(
    readonly plan: Plan,
    readonly party: string,
    /** The effective cap: min(requested cap, the party's element count), at least 1. */
    readonly cap: number,
    elements: number,
    private readonly compactAfter: number,
  ) {
    this.mark = new Int32Array(elements);
    this.scratch = new Int32Array(cap);
    this.zeros = new Set(plan.constants.filter((c) => c.values.every((b) => b === 0)).map((c) => c.wire));
  }

  /** Distinct ids of an entry (FULL counts as the cap). */
  size(e: number): number {
    if (e === EMPTY) return 0;
    if (e === FULL) return this.cap;
    return e >= 0 ? this.rows.size[e] : 1;
  }

  private begin(): void {
    this.n = 0;
    this.first = this.biggest = UNSET;
    this.materialised = this.saturated = false;
  }

  /** Add an entry to the union. A repeat of the first entry costs nothing. */
  private add(e: number): void {
    if (this.saturated || e === EMPTY || e === this.first) return;
    if (e === FULL) {
      this.saturated = true;
      return;
    }
    if (this.first === UNSET) {
      this.first = this.biggest = e;
      return;
    }
    if (!this.materialised) {
      this.materialised = true;
      // Stamps are 32-bit: start over before they wrap, or old marks would pass as new.
      if (this.stamp === 0x7fffffff) {
        this.mark.fill(0);
        this.stamp = 0;
      }
      this.stamp++;
      this.addIds(this.first);
    }
    if (this.size(e) > this.size(this.biggest)) this.biggest = e;
    this.addIds(e);
  }

  private addIds(e: number): void {
    const { mark, stamp, scratch, cap } = this;
    const { ids, start, size } = this.rows;
    // A single id is a row of one, read from the entry itself.
    const from = e < 0 ? 0 : start[e];
    const end = e < 0 ? 1 : from + size[e];
    let n = this.n;
    for (let k = from; k < end; k++) {
      const id = e < 0 ? SINGLE - e : ids[k];
      if (mark[id] === stamp) continue;
      mark[id] = stamp;
      scratch[n++] = id;
      if (n >= cap) {
        this.saturated = true;
        break;
      }
    }
    this.n = n;
  }

  /** The union as an entry: an operand's own entry whenever the union adds nothing to it. */
  private end(): number {
    if (this.saturated) return FULL;
    if (this.first === UNSET) return EMPTY;
    if (!this.materialised || this.n === this.size(this.biggest)) return this.materialised ? this.biggest : this.first;
    return this.rows.add(this.scratch, this.n);
  }

  /** The union of two entries. */
  private union2(x: number, y: number): number {
    if (x === y || y === EMPTY) return x;
    if (x === EMPTY) return y;
    if (x === FULL || y === FULL) return FULL;
    this.begin();
    this.add(x);
    this.add(y);
    return this.end();
  }

  /** `d` stretched to `length` elements (a length-1 operand broadcasts). */
  broadcast(d: Deps, length: number): Deps {
    if (d.length === length) return d;
    if (d.kind !== 'refs') return { kind: d.kind, length };
    return refs(new Int32Array(length).fill(d.v[0]));
  }

  /** Elementwise union with broadcast: add, sub, mul (public or Beaver). */
  union(a: Deps, b: Deps, length: number): Deps {
    if (a === b && a.length === length) return a;
    if (a.kind === 'full' || b.kind === 'full') return full(length);
    if (a.kind === 'none') return this.broadcast(b, length);
    if (b.kind === 'none') return this.broadcast(a, length);
    const av = a.v;
    const bv = b.v;
    const sa = a.length === 1 ? 0 : 1;
    const sb = b.length === 1 ? 0 : 1;
    const out = new Int32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.union2(av[i * sa], bv[i * sb]);
    return refs(out);
  }

  /** The union of all elements, as one element. */
  sum(a: Deps): Deps {
    if (a.kind === 'none' || a.length === 0) return none(1);
    if (a.kind === 'full') return full(1);
    this.begin();
    for (let i = 0; i < a.length && !this.saturated; i++) this.add(a.v[i]);
    return refs(Int32Array.of(this.end()));
  }

  /** Element i of the result is element map[i] of `a` (slice, gather, bits): rows are shared, not copied. */
  select(a: Deps, map: Int32Array): Deps {
    if (a.kind !== 'refs') return { kind: a.kind, length: map.length };
    const out = new Int32Array(map.length);
    for (let i = 0; i < map.length; i++) out[i] = a.v[map[i]];
    return refs(out);
  }

  /** Parts one after another. */
  concat(parts: Deps[]): Deps {
    const length = parts.reduce((t, p) => t + p.length, 0);
    if (parts.every((p) => p.kind === 'none' || p.length === 0)) return none(length);
    if (parts.every((p) => p.kind === 'full' || p.length === 0)) return full(length);
    const out = new Int32Array(length);
    let off = 0;
    for (const p of parts) {
      if (p.kind === 'refs') out.set(p.v, off);
      else out.fill(p.kind === 'full' ? FULL : EMPTY, off, off + p.length);
      off += p.length;
    }
    return refs(out);
  }

  /** Element j of the result is the union of elements j, L + j, …, (count − 1)·L + j. */
  pack(a: Deps, count: number): Deps {
    const length = a.length / count;
    if (a.kind !== 'refs') return { kind: a.kind, length };
    const out = new Int32Array(length);
    for (let j = 0; j < length; j++) {
      this.begin();
      for (let i = 0; i < count && !this.saturated; i++) this.add(a.v[i * length + j]);
      out[j] = this.end();
    }
    return refs(out);
  }

  /** The result wire of a local op. */
  local(op: LocalOp, get: (wire: number) => Deps, length: number): Deps {
    switch (op.op) {
      case 'rand':
        return none(length);
      case 'sub':
        if (op.a === op.b) return none(length);
        return this.union(get(op.a), get(op.b), length);
      case 'mul':
        if (this.zeros.has(op.a) || this.zeros.has(op.b)) return none(length);
        return this.union(get(op.a), get(op.b), length);
      case 'add':
        return this.union(get(op.a), get(op.b), length);
      case 'neg':
        return get(op.a);
      case 'sum':
        return this.sum(get(op.a));
      case 'slice': {
        const a = get(op.a);
        if (op.start === 0 && op.end === a.length) return a;
        const map = new Int32Array(op.end - op.start);
        for (let i = 0; i < map.length; i++) map[i] = op.start + i;
        return this.select(a, map);
      }
      case 'concat':
        return this.concat(op.parts.map(get));
      case 'gather': {
        const index = gatherIndex(op.index);
        const map = new Int32Array(index.length * op.block);
        for (let i = 0; i < index.length; i++) for (let j = 0; j < op.block; j++) map[i * op.block + j] = index[i] * op.block + j;
        return this.select(get(op.a), map);
      }
      case 'bits': {
        // Bit-major: bit from+i of element j sits at i·L + j.
        const a = get(op.a);
        const map = new Int32Array(op.count * a.length);
        for (let i = 0; i < op.count; i++) for (let j = 0; j < a.length; j++) map[i * a.length + j] = j;
        return this.select(a, map);
      }
      case 'pack':
        return this.pack(get(op.a), op.count);
    }
  }

  /**
   * Drop the rows no live wire refers to, once the rows have doubled since the last time
   * (amortised linear). Entries of live wires are renumbered in place.
   */
  compact(live: readonly (Deps | undefined)[]): void {
    const old = this.rows;
    if (old.used < Math.max(this.compactAfter, 2 * this.kept)) return;
    const renum = new Int32Array(old.count).fill(-1);
    const next = new Rows();
    const seen = new Set<Int32Array>();
    for (const d of live) {
      if (d?.kind !== 'refs' || seen.has(d.v)) continue;
      seen.add(d.v); // wires may share one vector (neg, open, whole slices)
      const v = d.v;
      for (let i = 0; i < v.length; i++) {
        const r = v[i];
        if (r < 0) continue;
        if (renum[r] < 0) renum[r] = next.add(old.ids.subarray(old.start[r]), old.size[r]);
        v[i] = renum[r];
      }
    }
    this.rows = next;
    this.kept = next.used;
    if (next.used > MAX_SET_IDS) {
      throw new MpcError(ErrorCode.FORBIDDEN, `plan ${this.plan.circuit}: the data-flow analysis of ${this.party}'s inputs needs more than ${MAX_SET_IDS} dependency entries`);
    }
  }

  /** The per-element counts of a wire, and the smallest nonzero one. */
  summarise(d: Deps): { counts: Int32Array; min: number; at: number | undefined } {
    const counts = new Int32Array(d.length);
    if (d.kind === 'full') counts.fill(this.cap);
    else if (d.kind === 'refs') for (let i = 0; i < d.length; i++) counts[i] = this.size(d.v[i]);
    let min = 0;
    let at: number | undefined;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && (min === 0 || counts[i] < min)) {
        min = counts[i];
        at = i;
        if (min === 1) break;
      }
    }
    return { counts, min, at };
  }
}

export interface DependenceOptions {
  /** Row ids held before the first compaction (default 2^20; tests set it low to exercise it). */
  compactAfter?: number;
  /**
   * Filled, when given, with one entry per opening that is not masked (see
   * {@link maskedOpenings}): an opening reveals its value to every computing party, so the
   * policy judges it like an output addressed to all of them. Named `opening <k>` (its wire).
   */
  openings?: OutputDependence[];
}

/** Each local op by the wire it defines. */
function definitions(plan: Plan): Map<number, LocalOp> {
  const def = new Map<number, LocalOp>();
  for (const layer of plan.layers) for (const op of layer.local) def.set(op.out, op);
  return def;
}

/**
 * The openings whose value is masked by fresh, uniform randomness, and so reveals nothing:
 * the operand is `a + M` (either order) where M has the operand's length and is built only
 * from `rand` draws that fill all 64 bits exactly once — `pack` of 64 one-bit draws (an
 * edaBit), or a sum of draws each shifted by a public power of two into its own bit field
 * (the truncation mask r_lo + 2^m·r_hi + 2^63·r_top) — and no draw feeds a second opening's
 * mask. That is every opening the compiler writes (src/circuit/lib/bits.ts); anything else,
 * `open(x)` in a hand-made plan say, is a plain disclosure to every party. What this cannot
 * see is a plan that also reveals the mask itself (its draws reach outputs through honest
 * comparisons too): an analyst colluding with a party could then unmask an opening. Against
 * that, approved plans.
 */
export function maskedOpenings(plan: Plan): Set<number> {
  const def = definitions(plan);
  const constant = new Map<number, bigint>();
  for (const c of plan.constants) {
    if (c.values.length === 8) constant.set(c.wire, new DataView(c.values.buffer, c.values.byteOffset, 8).getBigUint64(0, true));
  }
  /** The 64-bit field a mask term fills (bit offset and width) and its draws, or undefined. */
  const field = (w: number, length: number): { lo: number; bits: number; draws: number[] } | undefined => {
    const op = def.get(w);
    if (op === undefined || plan.wireLength[w] !== length) return undefined;
    if (op.op === 'rand') return op.bits >= 1 && op.bits <= 64 ? { lo: 0, bits: op.bits, draws: [w] } : undefined;
    if (op.op === 'pack') {
      const r = def.get(op.a);
      return op.count === 64 && op.shift === 0 && r?.op === 'rand' && r.bits === 1 && plan.wireLength[op.a] === 64 * length ? { lo: 0, bits: 64, draws: [op.a] } : undefined;
    }
    if (op.op === 'mul') {
      const [t, c] = constant.has(op.b) ? [op.a, op.b] : [op.b, op.a];
      const k = constant.get(c);
      if (k === undefined || plan.wireLength[c] !== 1 || k === 0n || (k & (k - 1n)) !== 0n) return undefined;
      const shift = k.toString(2).length - 1;
      const f = field(t, length);
      return f !== undefined && f.lo === 0 && shift + f.bits <= 64 ? { lo: shift, bits: f.bits, draws: f.draws } : undefined;
    }
    return undefined;
  };
  /** The bit fields a mask sum covers, if they are disjoint. */
  const fields = (w: number, length: number): { lo: number; bits: number; draws: number[] }[] | undefined => {
    const op = def.get(w);
    if (op?.op === 'add' && plan.wireLength[w] === length) {
      const a = fields(op.a, length);
      const b = a && fields(op.b, length);
      return a && b ? [...a, ...b] : undefined;
    }
    const f = field(w, length);
    return f && [f];
  };
  const isMask = (w: number, length: number): number[] | undefined => {
    const fs = fields(w, length);
    if (fs === undefined) return undefined;
    const covered = new Array<boolean>(64).fill(false);
    for (const f of fs) {
      for (let b = f.lo; b < f.lo + f.bits; b++) {
        if (covered[b]) return undefined;
        covered[b] = true;
      }
    }
    return covered.every(Boolean) ? fs.flatMap((f) => f.draws) : undefined;
  };
  const candidates: { open: number; draws: number[] }[] = [];
  for (const layer of plan.layers) {
    for (const g of layer.opens) {
      const sum = def.get(g.a);
      if (sum?.op !== 'add') continue;
      const length = plan.wireLength[g.a];
      const draws = isMask(sum.b, length) ?? isMask(sum.a, length);
      if (draws !== undefined) candidates.push({ open: g.out, draws });
    }
  }
  // Fresh: a draw that masks two openings would let their difference through.
  const uses = new Map<number, number>();
  for (const c of candidates) for (const d of c.draws) uses.set(d, (uses.get(d) ?? 0) + 1);
  return new Set(candidates.filter((c) => c.draws.every((d) => uses.get(d) === 1)).map((c) => c.open));
}

/**
 * For every output of `plan`, how many distinct input elements of `party` (over all of its
 * inputs) each element depends on, saturating at `cap` (≥ 1; counts ≥ cap read as cap; a
 * cap above the party's element count saturates at that count). Throws MpcError FORBIDDEN
 * when the analysis would exceed its memory budget (MAX_SET_IDS); the policy refuses then.
 * @example
 * // x owned by p1, 3 elements: reveal('raw', x) → counts [1, 1, 1]; reveal('s', x.sum()) → [3]
 * inputDependence(plan, 'p1', 5).map((o) => [o.name, o.min]); // [['raw', 1], ['s', 3]]
 */
export function inputDependence(plan: Plan, party: string, cap: number, options: DependenceOptions = {}): OutputDependence[] {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`inputDependence: expected cap to be a positive integer, got ${cap}`);
  const mine = plan.inputs.filter((i) => i.party === party);
  const elements = mine.reduce((t, i) => t + i.length, 0);
  const results = new Array<OutputDependence | undefined>(plan.outputs.length);
  const record = (k: number, s: { counts: Int32Array; min: number; at: number | undefined }): void => {
    const o = plan.outputs[k];
    results[k] = { name: o.name, to: [...o.to], length: plan.wireLength[o.wire], ...s };
  };
  if (elements === 0) {
    plan.outputs.forEach((o, k) => record(k, { counts: new Int32Array(plan.wireLength[o.wire]), min: 0, at: undefined }));
    return results as OutputDependence[];
  }
  const defined = plan.wireLength.reduce((t, n) => t + n, 0);
  if (defined > MAX_ANALYSED_ELEMENTS) {
    throw new MpcError(ErrorCode.FORBIDDEN, `the plan defines ${defined} wire elements, more than the ${MAX_ANALYSED_ELEMENTS} the data-flow analysis takes on`);
  }
  const an = new Analysis(plan, party, Math.min(cap, elements), elements, options.compactAfter ?? 1 << 20);
  const masked = options.openings === undefined ? undefined : maskedOpenings(plan);
  const deps = new Array<Deps | undefined>(plan.wireLength.length);
  const get = (w: number): Deps => deps[w]!;

  // Which outputs each wire is (an output's facts are taken when its wire is made).
  const outputsOf = new Map<number, number[]>();
  plan.outputs.forEach((o, k) => outputsOf.set(o.wire, [...(outputsOf.get(o.wire) ?? []), k]));
  let pending = plan.outputs.length;
  const define = (w: number, d: Deps): void => {
    deps[w] = d;
    an.compact(deps);
    const ks = outputsOf.get(w);
    if (!ks) return;
    const s = an.summarise(d);
    for (const k of ks) record(k, s);
    pending -= ks.length;
  };

  let offset = 0;
  for (const i of plan.inputs) {
    if (i.party !== party) {
      define(i.wire, none(i.length));
      continue;
    }
    const v = new Int32Array(i.length);
    for (let k = 0; k < i.length; k++) v[k] = an.cap <= 1 ? FULL : single(offset + k);
    define(i.wire, refs(v));
    offset += i.length;
  }
  for (const c of plan.constants) define(c.wire, none(plan.wireLength[c.wire]));

  const last = lastReads(plan);
  // With openings to judge, every layer is read: an opening may follow the last output.
  for (let k = 0; k < plan.layers.length && (pending > 0 || masked !== undefined); k++) {
    const layer = plan.layers[k];
    for (const g of layer.opens) {
      define(g.out, get(g.a));
      if (masked !== undefined && !masked.has(g.out)) {
        const s = an.summarise(get(g.out));
        if (s.min > 0) options.openings!.push({ name: `opening ${g.out}`, to: [...plan.parties], length: plan.wireLength[g.out], ...s });
      }
    }
    for (const g of layer.muls) define(g.out, an.union(get(g.a), get(g.b), plan.wireLength[g.out]));
    for (const op of layer.local) define(op.out, an.local(op, get, plan.wireLength[op.out]));
    for (const w of last[k]) deps[w] = undefined;
  }
  return results as OutputDependence[];
}

/** For each layer, the wires read for the last time in it (they are freed after it). */
function lastReads(plan: Plan): number[][] {
  const last = new Int32Array(plan.wireLength.length).fill(-1);
  plan.layers.forEach((layer, k) => {
    for (const g of layer.muls) last[g.a] = last[g.b] = k;
    for (const g of layer.opens) last[g.a] = k;
    for (const op of layer.local) for (const x of localOperands(op)) last[x] = k;
  });
  const out: number[][] = plan.layers.map(() => []);
  last.forEach((k, w) => {
    if (k >= 0) out[k].push(w);
  });
  return out;
}

/** The figures of a plan that policy limits and checks read, besides data flow. */
export interface PlanFacts {
  /** Secret × secret multiplications, counted from the layers (a received plan's stats are not trusted). */
  multiplications: number;
  /** Communication rounds after input: one per layer after layer 0. */
  rounds: number;
  /** Size of the plan's canonical encoding. */
  planBytes: number;
  /** Input names per owning party, in plan order. */
  inputs: Record<string, string[]>;
  /** Every output and its recipients. */
  recipients: { output: string; to: string[] }[];
}

/** Cost, inputs and recipients of `plan`; `planBytes` is the length of its canonical encoding. */
export function planFacts(plan: Plan, planBytes: number): PlanFacts {
  const inputs: Record<string, string[]> = {};
  for (const p of plan.parties) inputs[p] = [];
  for (const i of plan.inputs) (inputs[i.party] ??= []).push(i.name);
  return {
    multiplications: multiplicationBatches(plan).reduce((s, x) => s + x, 0),
    rounds: Math.max(0, plan.layers.length - 1),
    planBytes,
    inputs,
    recipients: plan.outputs.map((o) => ({ output: o.name, to: [...o.to] })),
  };
}
