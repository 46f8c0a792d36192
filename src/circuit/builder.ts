/**
 * The circuit DSL. A circuit file's default export is `circuit({ name, parties }, body)`;
 * the compiler calls `body(c)` once per job with the input shapes known, so vector lengths
 * are ordinary numbers inside the body (`x.length`) and every mistake is reported at the
 * operation that makes it, with the file and line.
 *
 * @example
 * ```ts
 * import { circuit } from '../src/circuit/index.ts';
 * export default circuit({ name: 'inner-product', parties: ['p1', 'p2'] }, (c) => {
 *   const x = c.vector('p1', 'x');
 *   const y = c.vector('p2', 'y', { length: x.length });
 *   c.reveal('dot', x.dot(y));
 * });
 * ```
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { encodeFixed, encodeInt } from '../ring/encoding.ts';
import type { CircuitGraph, GraphNode, Site } from './graph.ts';
import { equalsZero, lessThanZero, truncate } from './lib/bits.ts';
import { FRAC_BITS, FRAC_BITS_128, divPublic, divSecret, sqrtFixed } from './lib/fixed.ts';
import { reduceBest, select } from './lib/order.ts';

/** Recipient name meaning "whoever submitted the job". */
export const ANALYST = 'analyst';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARTY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export type PublicOperand = number | bigint | string | readonly (number | bigint | string)[];
export type Operand = Value | PublicOperand;

export interface CircuitOptions {
  name: string;
  /** The parties that may own inputs or receive outputs, e.g. ['p1', 'p2', 'p3']. */
  parties: readonly string[];
  description?: string;
  /** Fractional bits of fixed-point values (default 16 in Z_2^64, 32 in Z_2^128; 1 … 32, or … 48 in Z_2^128). */
  fracBits?: number;
  /**
   * The value domain: Z_2^64 (default) or Z_2^128, for values and intermediate results
   * beyond what 64 bits hold (README "Value domains"). Without it, the compiler picks 128
   * when the circuit does not fit 64 bits.
   */
  ring?: 64 | 128;
}

export type CircuitBody = (c: CircuitBuilder) => void;

export interface CircuitDefinition {
  readonly kind: 'tessera.circuit';
  readonly name: string;
  readonly parties: readonly string[];
  readonly description: string | undefined;
  /** Fractional bits asked for; undefined: the domain's default. */
  readonly fracBits: number | undefined;
  /** The domain asked for; undefined: chosen by the compiler. */
  readonly ring: 64 | 128 | undefined;
  readonly body: CircuitBody;
}

/** Declare a circuit; the default export of a `circuits/*.ts` module. */
export function circuit(options: CircuitOptions, body: CircuitBody): CircuitDefinition {
  if (typeof options !== 'object' || options === null) throw new TypeError('circuit(options, body): expected an options object');
  if (typeof options.name !== 'string' || !PARTY.test(options.name)) {
    throw new TypeError(`circuit(): expected options.name to be a simple name, got ${JSON.stringify(options.name)}`);
  }
  if (!Array.isArray(options.parties) || options.parties.length === 0) {
    throw new TypeError(`circuit ${options.name}: expected options.parties to be a non-empty array of party ids`);
  }
  for (const p of options.parties) {
    if (typeof p !== 'string' || !PARTY.test(p)) throw new TypeError(`circuit ${options.name}: invalid party id ${JSON.stringify(p)}`);
    if (p === ANALYST) throw new TypeError(`circuit ${options.name}: '${ANALYST}' is reserved for the job's analyst`);
  }
  if (new Set(options.parties).size !== options.parties.length) {
    throw new TypeError(`circuit ${options.name}: duplicate party ids in ${JSON.stringify(options.parties)}`);
  }
  if (typeof body !== 'function') throw new TypeError(`circuit ${options.name}: expected a body function`);
  const ring = options.ring;
  if (ring !== undefined && ring !== 64 && ring !== 128) throw new TypeError(`circuit ${options.name}: options.ring must be 64 or 128, got ${String(ring)}`);
  const fracBits = options.fracBits;
  const maxFrac = ring === 128 ? 48 : 32;
  if (fracBits !== undefined && (!Number.isInteger(fracBits) || fracBits < 1 || fracBits > maxFrac)) {
    throw new TypeError(`circuit ${options.name}: options.fracBits must be an integer in 1..${maxFrac}, got ${String(options.fracBits)}`);
  }
  return Object.freeze({
    kind: 'tessera.circuit' as const,
    name: options.name,
    parties: Object.freeze([...options.parties]),
    description: options.description,
    fracBits,
    ring,
    body,
  });
}

export function isCircuitDefinition(x: unknown): x is CircuitDefinition {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'tessera.circuit';
}

/** The first stack frame outside the DSL: the line of the circuit file that called us. */
export function callSite(): Site {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const line of stack) {
    if (line.includes('/src/circuit/') || line.includes('node:internal')) continue;
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    let file = m[1].replace(/^file:\/\//, '');
    const cwd = process.cwd() + '/';
    if (file.startsWith(cwd)) file = file.slice(cwd.length);
    return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/**
 * A value in a circuit: secret unless every input to it is public. An integer (`frac` 0)
 * or a fixed-point number with `frac` fractional bits (src/circuit/lib/fixed.ts); `bound`,
 * when known, is a compile-time bound on |value| in ring units (value · 2^frac), derived
 * from the declared input ranges, which division and square root use to pick parameters
 * and fixed-point multiplication uses to refuse products that could overflow.
 */
export class Value {
  /** @internal */ readonly builder: CircuitBuilder;
  /** @internal index of the node in the graph */ readonly node: number;
  readonly length: number;
  readonly isScalar: boolean;
  readonly isPublic: boolean;
  /** Fractional bits: 0 for integers, the circuit's `fracBits` for fixed-point values. */
  readonly frac: number;
  /** @internal bound on |value · 2^frac|, when known */ readonly bound: bigint | undefined;

  /** @internal */
  constructor(builder: CircuitBuilder, node: number, isPublic: boolean, frac = 0, bound?: bigint) {
    this.builder = builder;
    this.node = node;
    const n = builder.graph.nodes[node];
    this.length = n.length;
    this.isScalar = n.scalar;
    this.isPublic = isPublic;
    this.frac = frac;
    this.bound = bound;
  }
  get isFixed(): boolean { return this.frac > 0; }
  add(o: Operand): Value { return this.builder.add(this, o); }
  sub(o: Operand): Value { return this.builder.sub(this, o); }
  mul(o: Operand): Value { return this.builder.mul(this, o); }
  neg(): Value { return this.builder.neg(this); }
  square(): Value { return this.builder.mul(this, this); }
  sum(): Value { return this.builder.sum(this); }
  dot(o: Operand): Value { return this.builder.dot(this, o); }
  /** Comparisons give 1 or 0 (an integer), elementwise; exact whenever a − b fits in 64 signed bits. */
  lt(o: Operand): Value { return this.builder.compare('lt', this, o); }
  le(o: Operand): Value { return this.builder.compare('le', this, o); }
  gt(o: Operand): Value { return this.builder.compare('gt', this, o); }
  ge(o: Operand): Value { return this.builder.compare('ge', this, o); }
  eq(o: Operand): Value { return this.builder.compare('eq', this, o); }
  ne(o: Operand): Value { return this.builder.compare('ne', this, o); }
  abs(): Value { return this.builder.abs(this); }
  /** Elementwise minimum with `o`, or (no argument) the smallest element. */
  min(o?: Operand): Value { return o === undefined ? this.builder.minOf(this) : this.builder.min(this, o); }
  /** Elementwise maximum with `o`, or (no argument) the largest element. */
  max(o?: Operand): Value { return o === undefined ? this.builder.maxOf(this) : this.builder.max(this, o); }
  clamp(lo: Operand, hi: Operand): Value { return this.builder.clamp(this, lo, hi); }
  /** Division; the result is fixed-point (see the README for ranges and accuracy). */
  div(o: Operand): Value { return this.builder.div(this, o); }
  reciprocal(): Value { return this.builder.div(1, this); }
  sqrt(): Value { return this.builder.sqrt(this); }
  /** This integer as a fixed-point number (exact). */
  toFixed(): Value { return this.builder.toFixed(this); }
  /** This fixed-point number as an integer, rounded down or up (never further than 1). */
  toInt(): Value { return this.builder.toInt(this); }
  /** Elements [start, end). */
  slice(start: number, end: number = this.length): Value { return this.builder.slice(this, start, end); }
  /** Element i, as a scalar. */
  get(i: number): Value { return this.builder.element(this, i); }
}

export type CompareOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

export interface InputOptions {
  /** The vector's length, when the circuit fixes it (e.g. the length of another input). */
  length?: number;
  /** Declared range of the values: the owner's node refuses values outside it, and
   * division, square root and fixed-point products use it to pick safe parameters. */
  min?: number;
  max?: number;
}

/** A CIRCUIT error because the circuit does not fit its value domain (Z_2^ring). */
export class RingTooNarrow extends MpcError {
  constructor(message: string, readonly ring: number) {
    super(ErrorCode.CIRCUIT, message);
  }
}

/** Builds the graph of one circuit for one set of input shapes. Made by the compiler. */
export class CircuitBuilder {
  readonly parties: readonly string[];
  /** Fractional bits of this circuit's fixed-point values. */
  readonly fracBits: number;
  /** Bits of the value domain Z_2^ringBits; the library's limits (2^(ringBits − 2) for products before truncation, …) derive from it. */
  readonly ringBits: 64 | 128;
  /** Products before truncation (and fixed-point values) stay below this in ring units: 2^(ringBits − 2). */
  readonly productLimit: bigint;
  /** Whether the circuit named its domain (circuit({ ring })); if not, the compiler may widen it. */
  readonly ringDeclared: boolean;
  /** @internal */ readonly graph: CircuitGraph;
  private readonly shapes: ReadonlyMap<string, number>;
  private readonly inputs = new Map<string, number>();

  /** @internal */
  constructor(def: CircuitDefinition, shapes: ReadonlyMap<string, number>, file: string | undefined, ring: 64 | 128 = def.ring ?? 64) {
    this.parties = def.parties;
    this.ringBits = ring;
    this.ringDeclared = def.ring !== undefined;
    this.productLimit = 1n << BigInt(ring - 2);
    this.fracBits = def.fracBits ?? (ring === 128 ? FRAC_BITS_128 : FRAC_BITS);
    this.shapes = shapes;
    this.graph = { name: def.name, file, parties: [...def.parties], ring, nodes: [], reveals: [], derived: [], nonlinear: {} };
  }

  /** An error at the current call site of the circuit file. */
  private fail(op: string, message: string, site: Site = callSite(), narrow = false): never {
    const where = site ?? this.graph.file ?? `circuit ${this.graph.name}`;
    const text = `${where}: ${op}: ${message}`;
    throw narrow ? new RingTooNarrow(text, this.ringBits) : new MpcError(ErrorCode.CIRCUIT, text);
  }

  /** @internal A compile error at the circuit line that called the library (src/circuit/lib). */
  failHere(op: string, message: string): never {
    return this.fail(op, message);
  }

  /**
   * @internal The circuit does not fit this value domain (a range, a product or a bound
   * beyond it): the compiler may choose a wider one (`compileCircuit`).
   */
  failRange(op: string, message: string, site: Site = callSite()): never {
    return this.fail(op, message, site, true);
  }

  /**
   * @internal The library would lose precision to fit this domain: fine when the circuit
   * chose its ring, otherwise a reason for the compiler to pick the wider one.
   */
  lossy(op: string, message: string): void {
    if (!this.ringDeclared && this.ringBits === 64) this.failRange(op, message);
  }

  /** @internal Add a node; its value is public iff `isPublic`. */
  push(node: GraphNode, isPublic: boolean, frac = 0, bound?: bigint): Value {
    this.graph.nodes.push(node);
    return new Value(this, this.graph.nodes.length - 1, isPublic, frac, bound);
  }

  /** @internal The same node seen with another type or bound (no new node). */
  retype(v: Value, frac: number, bound: bigint | undefined): Value {
    return new Value(this, v.node, v.isPublic, frac, bound);
  }

  /** @internal Count `elements` of a non-linear operation, for `mpc compile`'s report. */
  tally(kind: string, elements: number): void {
    this.graph.nonlinear[kind] = (this.graph.nonlinear[kind] ?? 0) + elements;
  }

  // ---- primitives for the non-linear library (src/circuit/lib); see graph.ts ----

  /** @internal Reveal to every computing party: only ever of a value masked by `rand`. */
  primOpen(v: Value): Value {
    return this.push({ op: 'open', a: v.node, length: v.length, scalar: v.isScalar, site: callSite() }, true);
  }
  /** @internal `length` shared random integers in [0, 2^bits). */
  primRand(bits: number, length: number): Value {
    return this.push({ op: 'rand', bits, length, scalar: false, site: callSite() }, false);
  }
  /** @internal Bits from … from+count−1 of a public vector, bit-major. */
  primBits(v: Value, from: number, count: number): Value {
    return this.push({ op: 'bits', a: v.node, from, count, length: count * v.length, scalar: false, site: callSite() }, true);
  }
  /** @internal Σ_i 2^(shift+i)·digit_i of `count` digits. */
  primPack(v: Value, count: number, shift = 0): Value {
    return this.push({ op: 'pack', a: v.node, count, shift, length: v.length / count, scalar: false, site: callSite() }, v.isPublic);
  }
  /** @internal Blocks of `block` elements, picked by `index` (block numbers). */
  primGather(v: Value, index: readonly number[] | Uint32Array, block = 1): Value {
    const idx = index instanceof Uint32Array ? index : Uint32Array.from(index);
    return this.push({ op: 'gather', a: v.node, index: idx, block, length: idx.length * block, scalar: false, site: callSite() }, v.isPublic, v.frac, v.bound);
  }
  /** @internal A scalar constant as a ring element. */
  ringConst(k: bigint, frac = 0): Value {
    const u = BigInt.asUintN(this.ringBits, k);
    const signed = BigInt.asIntN(this.ringBits, u);
    return this.push({ op: 'const', values: [u], length: 1, scalar: true, site: callSite() }, true, frac, signed < 0n ? -signed : signed);
  }

  private checkParty(op: string, party: unknown): string {
    if (typeof party !== 'string' || !this.parties.includes(party)) {
      this.fail(op, `unknown party ${JSON.stringify(party)}; this circuit's parties are ${this.parties.join(', ')}`);
    }
    return party;
  }

  private declareInput(op: string, party: string, name: string): string {
    this.checkParty(op, party);
    if (typeof name !== 'string' || !NAME.test(name)) this.fail(op, `invalid input name ${JSON.stringify(name)}`);
    const key = `${party}.${name}`;
    if (this.inputs.has(key)) this.fail(op, `input ${key} is declared twice`);
    return key;
  }

  /** The range part of input options, checked; and the bound it gives in ring units. */
  private range(op: string, key: string, options: InputOptions, frac: number, site: Site): { min?: number; max?: number; bound?: bigint } {
    const { min, max } = options;
    for (const [k, v] of [['min', min], ['max', max]] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) this.fail(op, `${key}: options.${k} must be a finite number, got ${String(v)}`, site);
    }
    if (min !== undefined && max !== undefined && min > max) this.fail(op, `${key}: options.min ${min} is above options.max ${max}`, site);
    const out: { min?: number; max?: number; bound?: bigint } = {};
    if (min !== undefined) out.min = min;
    if (max !== undefined) out.max = max;
    if (min !== undefined && max !== undefined) {
      const m = Math.max(Math.abs(min), Math.abs(max));
      if (m * 2 ** frac >= 2 ** (this.ringBits - 2)) this.failRange(op, `${key}: the range ±${m} does not fit the ${frac > 0 ? 'fixed-point' : 'integer'} range ±2^${this.ringBits - 2 - frac} of Z_2^${this.ringBits}`, site);
      out.bound = BigInt(Math.ceil(m * 2 ** frac));
    }
    return out;
  }

  private input(op: string, party: string, name: string, options: InputOptions, scalar: boolean, frac: number): Value {
    const site = callSite();
    const key = this.declareInput(op, party, name);
    let length: number | undefined = 1;
    if (!scalar) {
      const given = this.shapes.get(key);
      length = options.length;
      if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
        this.fail(op, `${key}: expected options.length to be a non-negative integer, got ${length}`, site);
      }
      if (length !== undefined && given !== undefined && given !== length) {
        this.fail(op, `${key} has ${given} elements but the circuit requires ${length}`, site);
      }
      length ??= given;
      if (length === undefined) {
        this.fail(op, `the length of ${key} is not known: ${party} supplies it with its data (a dataset or the inputs file named ${name}); for mpc compile pass --shape ${key}=LENGTH`, site);
      }
    }
    const { bound, ...declared } = this.range(op, key, options, frac, site);
    const v = this.push({ op: 'input', party, name, length, scalar, site, frac, ...declared }, false, frac, bound);
    this.inputs.set(key, v.node);
    return v;
  }

  /** A secret integer owned by `party`. */
  scalar(party: string, name: string, options: Omit<InputOptions, 'length'> = {}): Value {
    return this.input('scalar', party, name, options, true, 0);
  }

  /**
   * A secret integer vector owned by `party`. Its length is public: supplied by the owner
   * when the job starts, or fixed here with `{ length }` (e.g. the length of another input).
   */
  vector(party: string, name: string, options: InputOptions = {}): Value {
    return this.input('vector', party, name, options, false, 0);
  }

  /** A secret fixed-point vector (this.fracBits fractional bits) owned by `party`. */
  fixed(party: string, name: string, options: InputOptions = {}): Value {
    return this.input('fixed', party, name, options, false, this.fracBits);
  }

  /** A secret fixed-point scalar owned by `party`. */
  fixedScalar(party: string, name: string, options: Omit<InputOptions, 'length'> = {}): Value {
    return this.input('fixedScalar', party, name, options, true, this.fracBits);
  }

  /** A public constant: an integer, or a vector of integers (numbers, bigints or decimal strings). */
  constant(value: PublicOperand): Value {
    return this.operand('constant', value, callSite());
  }

  /** A public fixed-point constant (or vector of them). */
  fixedConstant(value: PublicOperand): Value {
    return this.operand('fixedConstant', value, callSite(), this.fracBits);
  }

  /** @internal Coerce an operand; public operands are encoded with `frac` fractional bits. */
  operand(op: string, x: Operand, site: Site, frac = 0): Value {
    if (x instanceof Value) {
      if (x.builder !== this) this.fail(op, 'this value belongs to another circuit (or another compilation of this one)', site);
      return x;
    }
    const enc = (e: unknown, name: string): bigint => (frac > 0 ? encodeFixed(e, frac, name) : encodeInt(e, name));
    try {
      const list = Array.isArray(x) ? x : [x];
      // Encoded as signed 64-bit values, then embedded in the ring with their sign.
      const signedValues = list.map((e, i) => BigInt.asIntN(64, enc(e, Array.isArray(x) ? `constant[${i}]` : 'constant')));
      const values = signedValues.map((v) => BigInt.asUintN(this.ringBits, v));
      const bound = signedValues.reduce((m, a) => ((a < 0n ? -a : a) > m ? (a < 0n ? -a : a) : m), 0n);
      const scalar = !Array.isArray(x);
      return this.push({ op: 'const', values, length: values.length, scalar, site }, true, frac, bound);
    } catch (e) {
      if (frac === 0 && /expected a signed 64-bit integer/.test((e as Error).message)) {
        return this.fail(op, `${(e as Error).message}; for fractions use fixed-point values (c.fixed, c.fixedConstant, or .toFixed())`, site);
      }
      return this.fail(op, (e as Error).message, site);
    }
  }

  /** Fractional bits a public operand gets by itself: fixed if it has a fractional part. */
  private naturalFrac(x: Operand): number {
    if (x instanceof Value) return x.frac;
    const list = Array.isArray(x) ? x : [x];
    return list.some((e) => (typeof e === 'number' && !Number.isInteger(e)) || (typeof e === 'string' && e.includes('.'))) ? this.fracBits : 0;
  }

  /** Both operands coerced; public ones take the other's type. Same type required. */
  private pair(op: string, a: Operand, b: Operand, site: Site): [Value, Value] {
    const fa = a instanceof Value ? a.frac : b instanceof Value ? b.frac : this.naturalFrac(a);
    const fb = b instanceof Value ? b.frac : fa;
    const x = this.operand(op, a, site, a instanceof Value ? 0 : fb);
    const y = this.operand(op, b, site, fb);
    if (x.frac !== y.frac) {
      this.fail(op, `cannot mix an integer and a fixed-point value: convert the integer with .toFixed() (or the fixed-point value with .toInt())`, site);
    }
    this.checkLengths(op, x, y, site);
    return [x, y];
  }

  private checkLengths(op: string, x: Value, y: Value, site: Site): void {
    if (!x.isScalar && !y.isScalar && x.length !== y.length) {
      this.fail(op, `length mismatch: ${x.length} elements vs ${y.length} elements`, site);
    }
  }

  /** @internal The raw elementwise node (no type rules): the library's building block. */
  raw(op: 'add' | 'sub' | 'mul', x: Value, y: Value, frac: number, bound: bigint | undefined, site: Site = callSite()): Value {
    const scalar = x.isScalar && y.isScalar;
    const length = x.isScalar ? y.length : x.length;
    return this.push({ op, a: x.node, b: y.node, length, scalar, site }, x.isPublic && y.isPublic, frac, bound);
  }

  add(a: Operand, b: Operand): Value {
    const site = callSite();
    const [x, y] = this.pair('add', a, b, site);
    return this.raw('add', x, y, x.frac, addBounds(x.bound, y.bound), site);
  }
  sub(a: Operand, b: Operand): Value {
    const site = callSite();
    const [x, y] = this.pair('sub', a, b, site);
    return this.raw('sub', x, y, x.frac, addBounds(x.bound, y.bound), site);
  }

  /**
   * Elementwise product; between two secrets this is a Beaver multiplication. A product of
   * two fixed-point values is truncated back to this.fracBits (lib/bits.ts `truncate`).
   */
  mul(a: Operand, b: Operand): Value {
    const site = callSite();
    const x = this.operand('mul', a, site, a instanceof Value ? 0 : this.naturalFrac(a));
    const y = this.operand('mul', b, site, b instanceof Value ? 0 : this.naturalFrac(b));
    this.checkLengths('mul', x, y, site);
    // Scaling by a public integer is fine either way; otherwise types must match.
    const intSide = x.isFixed ? y : x;
    if (x.frac !== y.frac && !intSide.isPublic) {
      const shown = (v: Operand): string => (v instanceof Value ? (v.isFixed ? 'a fixed-point value' : 'an integer') : JSON.stringify(v));
      this.fail('mul', `cannot multiply ${shown(a)} by ${shown(b)}: convert the integer with .toFixed() first`, site);
    }
    const bound = mulBounds(x.bound, y.bound);
    if (x.isFixed && y.isFixed) {
      this.checkProduct('mul', bound, site);
      return truncate(this.raw('mul', x, y, 2 * this.fracBits, bound, site), this.fracBits);
    }
    return this.raw('mul', x, y, x.frac + y.frac, bound, site);
  }

  /** A fixed-point product must stay below 2^(ringBits − 2) before truncation (when bounds are known). */
  private checkProduct(op: string, bound: bigint | undefined, site: Site): void {
    if (bound !== undefined && bound >= this.productLimit) {
      this.failRange(op, `the fixed-point product may reach 2^${bitLength(bound)} before truncation, beyond the 2^${this.ringBits - 2} limit of Z_2^${this.ringBits}: declare smaller input ranges ({ min, max }), scale the operands down, or use circuit({ ring: 128 })`, site);
    }
  }

  neg(a: Operand): Value {
    const site = callSite();
    const x = this.operand('neg', a, site, this.naturalFrac(a));
    return this.push({ op: 'neg', a: x.node, length: x.length, scalar: x.isScalar, site }, x.isPublic, x.frac, x.bound);
  }

  /** Sum of a vector's elements, or of several values (`c.sum([a, b, c])`). */
  sum(a: Operand | readonly Value[]): Value {
    const site = callSite();
    if (Array.isArray(a) && a.length > 0 && a.every((v) => v instanceof Value)) {
      const vs = a as readonly Value[];
      let acc = this.operand('sum', vs[0], site);
      for (const v of vs.slice(1)) acc = this.add(acc, v);
      return acc;
    }
    const x = this.operand('sum', a as Operand, site, this.naturalFrac(a as Operand));
    const bound = x.bound === undefined ? undefined : x.bound * BigInt(Math.max(1, x.length));
    return this.push({ op: 'sum', a: x.node, length: 1, scalar: true, site }, x.isPublic, x.frac, bound);
  }

  /**
   * Σ a[i]·b[i]. For two fixed-point vectors the products are summed before one
   * truncation when the bounds show the sum fits, else each product is truncated first.
   */
  dot(a: Operand, b: Operand): Value {
    const site = callSite();
    const x = this.operand('dot', a, site, this.naturalFrac(a));
    const y = this.operand('dot', b, site, this.naturalFrac(b));
    this.checkLengths('dot', x, y, site);
    const length = x.isScalar ? y.length : x.length;
    const bound = mulBounds(x.bound, y.bound);
    if (x.isFixed && y.isFixed) {
      const total = bound === undefined ? undefined : bound * BigInt(Math.max(1, length));
      if (total !== undefined && total < this.productLimit) {
        const p = this.raw('mul', x, y, 2 * this.fracBits, bound, site);
        return truncate(this.push({ op: 'sum', a: p.node, length: 1, scalar: true, site }, p.isPublic, p.frac, total), this.fracBits);
      }
      return this.sum(this.mul(x, y));
    }
    const p = this.raw('mul', x, y, x.frac + y.frac, bound, site);
    const total = bound === undefined ? undefined : bound * BigInt(Math.max(1, length));
    return this.push({ op: 'sum', a: p.node, length: 1, scalar: true, site }, p.isPublic, p.frac, total);
  }

  // ---- comparisons and what is built on them (lib/bits.ts, lib/order.ts) ----

  /** Elementwise comparison, 1 or 0 as an integer. */
  compare(op: CompareOp, a: Operand, b: Operand): Value {
    const site = callSite();
    const [x, y] = this.pair(op, a, b, site);
    const n = Math.max(x.length, y.length);
    const diff = (p: Value, q: Value): Value => this.raw('sub', p, q, p.frac, undefined, site);
    switch (op) {
      case 'lt':
        return lessThanZero(diff(x, y), n);
      case 'gt':
        return lessThanZero(diff(y, x), n);
      case 'le':
        return this.raw('sub', this.ringConst(1n), lessThanZero(diff(y, x), n), 0, 1n, site);
      case 'ge':
        return this.raw('sub', this.ringConst(1n), lessThanZero(diff(x, y), n), 0, 1n, site);
      case 'eq':
        return equalsZero(diff(x, y), n);
      case 'ne':
        return this.raw('sub', this.ringConst(1n), equalsZero(diff(x, y), n), 0, 1n, site);
    }
  }

  /** `cond ? a : b` elementwise, for a 0/1 integer `cond` (one multiplication). */
  select(cond: Operand, a: Operand, b: Operand): Value {
    const site = callSite();
    const c = this.operand('select', cond, site);
    if (c.isFixed) this.fail('select', 'the condition must be a 0/1 integer (a comparison result), not a fixed-point value', site);
    const [x, y] = this.pair('select', a, b, site);
    return select(c, x, y);
  }

  min(a: Operand, b: Operand): Value {
    const [x, y] = this.pair('min', a, b, callSite());
    return select(lessThanZero(this.raw('sub', x, y, x.frac, undefined), Math.max(x.length, y.length)), x, y);
  }
  max(a: Operand, b: Operand): Value {
    const [x, y] = this.pair('max', a, b, callSite());
    return select(lessThanZero(this.raw('sub', x, y, x.frac, undefined), Math.max(x.length, y.length)), y, x);
  }
  clamp(x: Operand, lo: Operand, hi: Operand): Value {
    return this.min(this.max(x, lo), hi);
  }
  abs(a: Operand): Value {
    const site = callSite();
    const x = this.operand('abs', a, site, this.naturalFrac(a));
    const negative = lessThanZero(x, x.length);
    // x·(1 − 2·[x < 0])
    const sign = this.raw('sub', this.ringConst(1n), this.raw('mul', negative, this.ringConst(2n), 0, 2n), 0, 1n);
    return this.raw('mul', x, sign, x.frac, x.bound, site);
  }
  /** The smallest element of a vector (a scalar). */
  minOf(a: Operand): Value {
    return reduceBest(this.vectorOperand('min', a), 'min').value;
  }
  /** The largest element of a vector (a scalar). */
  maxOf(a: Operand): Value {
    return reduceBest(this.vectorOperand('max', a), 'max').value;
  }
  /**
   * The largest element and its position (the first one on ties). With `payload`, a public
   * or secret vector of the same length, `arg` is payload[position] instead of the position.
   */
  argmax(a: Operand, payload?: Operand): { max: Value; arg: Value } {
    const r = this.best('argmax', 'max', a, payload);
    return { max: r.value, arg: r.arg };
  }
  /** The smallest element and its position (the first one on ties), like `argmax`. */
  argmin(a: Operand, payload?: Operand): { min: Value; arg: Value } {
    const r = this.best('argmin', 'min', a, payload);
    return { min: r.value, arg: r.arg };
  }

  private best(op: string, kind: 'max' | 'min', a: Operand, payload: Operand | undefined): { value: Value; arg: Value } {
    const site = callSite();
    const v = this.vectorOperand(op, a);
    const p = payload === undefined ? this.operand(op, Array.from({ length: v.length }, (_, i) => i), site) : this.operand(op, payload, site, this.naturalFrac(payload));
    if (p.length !== v.length) this.fail(op, `payload has ${p.length} elements, the vector ${v.length}`, site);
    const r = reduceBest(v, kind, p);
    return { value: r.value, arg: r.payload! };
  }

  private vectorOperand(op: string, a: Operand): Value {
    const site = callSite();
    const v = this.operand(op, a, site, this.naturalFrac(a));
    if (v.length === 0) this.fail(op, 'the vector is empty', site);
    return v;
  }

  // ---- fixed point, division, square root (lib/fixed.ts) ----

  toFixed(a: Operand): Value {
    const site = callSite();
    const x = this.operand('toFixed', a, site);
    if (x.isFixed) return x;
    const scale = BigInt(2 ** this.fracBits);
    return this.raw('mul', x, this.ringConst(scale), this.fracBits, x.bound === undefined ? undefined : x.bound * scale, site);
  }
  toInt(a: Operand): Value {
    const site = callSite();
    const x = this.operand('toInt', a, site, this.fracBits);
    if (!x.isFixed) return x;
    return this.retype(truncate(x, x.frac), 0, x.bound === undefined ? undefined : (x.bound >> BigInt(x.frac)) + 1n);
  }
  div(a: Operand, b: Operand): Value {
    const site = callSite();
    if (!(b instanceof Value) && !Array.isArray(b)) {
      const p = Number(b);
      if (!Number.isFinite(p) || p === 0) this.fail('div', `cannot divide by ${String(b)}`, site);
      return divPublic(this.toFixed(this.operand('div', a, site, this.naturalFrac(a))), p);
    }
    const x = this.toFixed(this.operand('div', a, site, this.naturalFrac(a)));
    const y = this.toFixed(this.operand('div', b, site, this.naturalFrac(b)));
    this.checkLengths('div', x, y, site);
    return divSecret(x, y);
  }
  sqrt(a: Operand): Value {
    const site = callSite();
    return sqrtFixed(this.toFixed(this.operand('sqrt', a, site, this.naturalFrac(a))));
  }

  // ---- index operations ----

  slice(a: Operand, start: number, end: number): Value {
    const site = callSite();
    const x = this.operand('slice', a, site, this.naturalFrac(a));
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > x.length || start > end) {
      this.fail('slice', `range ${start}..${end} is outside 0..${x.length}`, site);
    }
    return this.push({ op: 'slice', a: x.node, start, end, length: end - start, scalar: false, site }, x.isPublic, x.frac, x.bound);
  }
  /** @internal */
  element(a: Value, i: number): Value {
    const site = callSite();
    if (!Number.isSafeInteger(i) || i < 0 || i >= a.length) this.fail('get', `index ${i} is outside 0..${a.length - 1}`, site);
    return this.push({ op: 'slice', a: a.node, start: i, end: i + 1, length: 1, scalar: true, site }, a.isPublic, a.frac, a.bound);
  }
  /** Elements of several values (vectors or scalars) one after another. */
  concat(values: readonly Operand[]): Value {
    const site = callSite();
    if (!Array.isArray(values) || values.length === 0) this.fail('concat', 'expected a non-empty array of values', site);
    const first = values.find((v): v is Value => v instanceof Value);
    const frac = first?.frac ?? 0;
    const vs = values.map((v) => this.operand('concat', v, site, frac));
    if (vs.some((v) => v.frac !== frac)) this.fail('concat', 'cannot mix integer and fixed-point values', site);
    const bound = vs.reduce<bigint | undefined>((m, v) => (m === undefined || v.bound === undefined ? undefined : v.bound > m ? v.bound : m), 0n);
    const length = vs.reduce((t, v) => t + v.length, 0);
    return this.push({ op: 'concat', parts: vs.map((v) => v.node), length, scalar: false, site }, vs.every((v) => v.isPublic), frac, bound);
  }

  private recipients(op: string, to: string | readonly string[] | undefined, site: Site): string[] {
    const list = to === undefined ? [ANALYST] : typeof to === 'string' ? [to] : [...to];
    if (list.length === 0) this.fail(op, 'expected at least one recipient in options.to', site);
    for (const r of list) {
      if (r !== ANALYST && !this.parties.includes(r)) {
        this.fail(op, `unknown recipient ${JSON.stringify(r)}; expected '${ANALYST}' or one of ${this.parties.join(', ')}`, site);
      }
    }
    return [...new Set(list)];
  }

  private checkOutputName(op: string, name: string, site: Site): void {
    if (typeof name !== 'string' || !NAME.test(name)) this.fail(op, `invalid output name ${JSON.stringify(name)}`, site);
    if (this.graph.reveals.some((r) => r.name === name) || this.graph.derived.some((d) => d.name === name)) {
      this.fail(op, `output ${name} is defined twice`, site);
    }
  }

  /** Open `value` to its recipients (default: the analyst who submitted the job). */
  reveal(name: string, value: Operand, options: { to?: string | readonly string[] } = {}): void {
    const site = callSite();
    this.checkOutputName('reveal', name, site);
    const v = this.operand('reveal', value, site, this.naturalFrac(value));
    this.graph.reveals.push({ name, node: v.node, frac: v.frac, to: this.recipients('reveal', options.to, site), site });
  }

  /**
   * A public function of revealed outputs, evaluated by each recipient after reconstruction
   * in exact decimal arithmetic (mathjs BigNumber), e.g. `c.derive('mean', 'sum / count')`.
   * It discloses nothing beyond the outputs it reads, so its recipients must receive those.
   */
  derive(name: string, expr: string, options: { to?: string | readonly string[] } = {}): void {
    const site = callSite();
    this.checkOutputName('derive', name, site);
    if (typeof expr !== 'string' || expr.trim() === '') this.fail('derive', 'expected a non-empty expression', site);
    const to = this.recipients('derive', options.to, site);
    this.graph.derived.push({ name, expr, uses: [], to, site });
  }
}


function addBounds(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}
function mulBounds(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  return a === undefined || b === undefined ? undefined : a * b;
}
/** Number of bits of a non-negative bigint. */
export function bitLength(x: bigint): number {
  return x <= 0n ? 0 : x.toString(2).length;
}
