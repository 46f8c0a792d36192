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
import { encodeInt } from '../ring/encoding.ts';
import type { CircuitGraph, GraphNode, Site } from './graph.ts';

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
}

export type CircuitBody = (c: CircuitBuilder) => void;

export interface CircuitDefinition {
  readonly kind: 'tessera.circuit';
  readonly name: string;
  readonly parties: readonly string[];
  readonly description: string | undefined;
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
  return Object.freeze({
    kind: 'tessera.circuit' as const,
    name: options.name,
    parties: Object.freeze([...options.parties]),
    description: options.description,
    body,
  });
}

export function isCircuitDefinition(x: unknown): x is CircuitDefinition {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'tessera.circuit';
}

/** The first stack frame outside the DSL: the line of the circuit file that called us. */
function callSite(): Site {
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

/** A value in a circuit: secret unless every input to it is public. */
export class Value {
  /** @internal */ readonly builder: CircuitBuilder;
  /** @internal index of the node in the graph */ readonly node: number;
  readonly length: number;
  readonly isScalar: boolean;
  readonly isPublic: boolean;

  /** @internal */
  constructor(builder: CircuitBuilder, node: number, isPublic: boolean) {
    this.builder = builder;
    this.node = node;
    const n = builder.graph.nodes[node];
    this.length = n.length;
    this.isScalar = n.scalar;
    this.isPublic = isPublic;
  }
  add(o: Operand): Value { return this.builder.add(this, o); }
  sub(o: Operand): Value { return this.builder.sub(this, o); }
  mul(o: Operand): Value { return this.builder.mul(this, o); }
  neg(): Value { return this.builder.neg(this); }
  square(): Value { return this.builder.mul(this, this); }
  sum(): Value { return this.builder.sum(this); }
  dot(o: Operand): Value { return this.builder.dot(this, o); }
}

/** Builds the graph of one circuit for one set of input shapes. Made by the compiler. */
export class CircuitBuilder {
  readonly parties: readonly string[];
  /** @internal */ readonly graph: CircuitGraph;
  private readonly shapes: ReadonlyMap<string, number>;
  private readonly inputs = new Map<string, number>();

  /** @internal */
  constructor(def: CircuitDefinition, shapes: ReadonlyMap<string, number>, file: string | undefined) {
    this.parties = def.parties;
    this.shapes = shapes;
    this.graph = { name: def.name, file, parties: [...def.parties], nodes: [], reveals: [], derived: [] };
  }

  /** An error at the current call site of the circuit file. */
  private fail(op: string, message: string, site: Site = callSite()): never {
    const where = site ?? this.graph.file ?? `circuit ${this.graph.name}`;
    throw new MpcError(ErrorCode.CIRCUIT, `${where}: ${op}: ${message}`);
  }

  private push(node: GraphNode, isPublic: boolean): Value {
    this.graph.nodes.push(node);
    return new Value(this, this.graph.nodes.length - 1, isPublic);
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

  /** A secret integer owned by `party`. */
  scalar(party: string, name: string): Value {
    const site = callSite();
    const key = this.declareInput('scalar', party, name);
    const v = this.push({ op: 'input', party, name, length: 1, scalar: true, site }, false);
    this.inputs.set(key, v.node);
    return v;
  }

  /**
   * A secret integer vector owned by `party`. Its length is public: supplied by the owner
   * when the job starts, or fixed here with `{ length }` (e.g. the length of another input).
   */
  vector(party: string, name: string, options: { length?: number } = {}): Value {
    const site = callSite();
    const key = this.declareInput('vector', party, name);
    const given = this.shapes.get(key);
    let length = options.length;
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      this.fail('vector', `${key}: expected options.length to be a non-negative integer, got ${length}`, site);
    }
    if (length !== undefined && given !== undefined && given !== length) {
      this.fail('vector', `${key} has ${given} elements but the circuit requires ${length}`, site);
    }
    length ??= given;
    if (length === undefined) {
      this.fail('vector', `the length of ${key} is not known: ${party} supplies it with its data (a dataset or the inputs file named ${name}); for mpc compile pass --shape ${key}=LENGTH`, site);
    }
    const v = this.push({ op: 'input', party, name, length, scalar: false, site }, false);
    this.inputs.set(key, v.node);
    return v;
  }

  /** A public constant: an integer, or a vector of integers (numbers, bigints or decimal strings). */
  constant(value: PublicOperand): Value {
    return this.operand('constant', value, callSite());
  }

  private operand(op: string, x: Operand, site: Site): Value {
    if (x instanceof Value) {
      if (x.builder !== this) this.fail(op, 'this value belongs to another circuit (or another compilation of this one)', site);
      return x;
    }
    try {
      if (Array.isArray(x)) {
        const values = x.map((e, i) => encodeInt(e, `constant[${i}]`));
        return this.push({ op: 'const', values, length: values.length, scalar: false, site }, true);
      }
      return this.push({ op: 'const', values: [encodeInt(x, 'constant')], length: 1, scalar: true, site }, true);
    } catch (e) {
      return this.fail(op, (e as Error).message, site);
    }
  }

  /** Result shape of an elementwise op, broadcasting scalars. */
  private elementwise(op: 'add' | 'sub' | 'mul', a: Operand, b: Operand): Value {
    const site = callSite();
    const x = this.operand(op, a, site);
    const y = this.operand(op, b, site);
    if (!x.isScalar && !y.isScalar && x.length !== y.length) {
      this.fail(op, `length mismatch: ${x.length} elements vs ${y.length} elements`, site);
    }
    const scalar = x.isScalar && y.isScalar;
    const length = x.isScalar ? y.length : x.length;
    return this.push({ op, a: x.node, b: y.node, length, scalar, site }, x.isPublic && y.isPublic);
  }

  add(a: Operand, b: Operand): Value { return this.elementwise('add', a, b); }
  sub(a: Operand, b: Operand): Value { return this.elementwise('sub', a, b); }
  /** Elementwise product; between two secrets this is a Beaver multiplication. */
  mul(a: Operand, b: Operand): Value { return this.elementwise('mul', a, b); }

  neg(a: Operand): Value {
    const site = callSite();
    const x = this.operand('neg', a, site);
    return this.push({ op: 'neg', a: x.node, length: x.length, scalar: x.isScalar, site }, x.isPublic);
  }

  /** Sum of a vector's elements, or of several values (`c.sum([a, b, c])`). */
  sum(a: Operand | readonly Value[]): Value {
    const site = callSite();
    if (Array.isArray(a) && a.length > 0 && a.every((v) => v instanceof Value)) {
      const vs = a as readonly Value[];
      let acc = this.operand('sum', vs[0], site);
      for (const v of vs.slice(1)) acc = this.elementwise('add', acc, v);
      return acc;
    }
    const x = this.operand('sum', a as Operand, site);
    return this.push({ op: 'sum', a: x.node, length: 1, scalar: true, site }, x.isPublic);
  }

  /** Σ a[i]·b[i]. */
  dot(a: Operand, b: Operand): Value {
    const site = callSite();
    const x = this.operand('dot', a, site);
    const y = this.operand('dot', b, site);
    if (x.length !== y.length && !x.isScalar && !y.isScalar) {
      this.fail('dot', `length mismatch: ${x.length} elements vs ${y.length} elements`, site);
    }
    const length = x.isScalar ? y.length : x.length;
    const p = this.push({ op: 'mul', a: x.node, b: y.node, length, scalar: x.isScalar && y.isScalar, site }, x.isPublic && y.isPublic);
    return this.push({ op: 'sum', a: p.node, length: 1, scalar: true, site }, p.isPublic);
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
    const v = this.operand('reveal', value, site);
    this.graph.reveals.push({ name, node: v.node, to: this.recipients('reveal', options.to, site), site });
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
