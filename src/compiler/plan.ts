/**
 * The compiled plan: the only thing the coordinator sends to the nodes, and the only thing
 * the protocol executor and the plaintext evaluator read. It is plain data, serialised with
 * msgpackr and identified by the SHA-256 of its canonical bytes (the plan hash).
 *
 * Wires are numbered in evaluation order. A wire is either secret (each party holds an
 * additive share) or public (each party holds the value: a constant, or a value computed
 * from openings at run time). Layer 0 holds local ops over inputs and constants; layer
 * k ≥ 1 first runs, in one communication round, all of its secret×secret multiplications
 * and all of its openings, then its local ops (among them `rand`, which draws preprocessed
 * random values).
 * @module
 */
import { Packr } from 'msgpackr';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { MpcError, ErrorCode } from '../errors.ts';

export const PLAN_FORMAT = 2;

export interface PlanInput {
  party: string;
  name: string;
  length: number;
  scalar: boolean;
  wire: number;
  /** Fractional bits of the encoding (0: integers). */
  frac: number;
  /** Declared range of the real values; the owner's node refuses values outside it. */
  min?: number;
  max?: number;
}

/** A secret × secret multiplication, evaluated with a Beaver triple. */
export interface MulGate {
  out: number;
  a: number;
  b: number;
}

/**
 * A local (communication-free) op. Binary ops broadcast a length-1 operand. `mul` here has
 * at most one secret operand (multiplication by a public value).
 */
export type LocalOp =
  | { op: 'add' | 'sub' | 'mul'; out: number; a: number; b: number }
  | { op: 'neg' | 'sum'; out: number; a: number }
  | { op: 'slice'; out: number; a: number; start: number; end: number }
  | { op: 'concat'; out: number; parts: number[] }
  | { op: 'gather'; out: number; a: number; index: Uint8Array; block: number }
  | { op: 'bits'; out: number; a: number; from: number; count: number }
  | { op: 'pack'; out: number; a: number; count: number; shift: number }
  | { op: 'rand'; out: number; bits: number };

/** Opening a secret wire to every computing party (its value becomes a public wire). */
export interface OpenGate {
  out: number;
  a: number;
}

export interface PlanLayer {
  muls: MulGate[];
  opens: OpenGate[];
  local: LocalOp[];
}

export interface PlanOutput {
  name: string;
  wire: number;
  to: string[];
  scalar: boolean;
  /** Fractional bits of the value (0: integer). */
  frac: number;
}

export interface PlanDerived {
  name: string;
  expr: string;
  uses: string[];
  to: string[];
}

export interface PlanStats {
  /** Elements processed per gate kind (a vector op of length L counts L). */
  gates: Record<string, number>;
  /** Vector operations per kind, as written after optimisation. */
  ops: Record<string, number>;
  /** Secret × secret multiplications (elements). */
  multiplications: number;
  /** Communication rounds after input: one per layer (multiplications and openings). */
  rounds: number;
  /** Elements of each non-linear operation the circuit asked for (comparisons, truncations, …). */
  nonlinear: Record<string, number>;
}

export interface PlanNeeds {
  /** Beaver triples in total. */
  triples: number;
  /** Triples per multiplication layer, in layer order (layers without multiplication omitted). */
  tripleBatches: number[];
  /** Input elements per owner, in plan party order. */
  inputElements: Record<string, number>;
  /** Preprocessed random bits (the bits of edaBits: random values with known bit decomposition). */
  randomBits: number;
  /** Other preprocessed random values, by bit width (truncation masks). */
  randomValues: number;
  /** Elements opened at run time (comparison and truncation masks). */
  openings: number;
}

export interface Plan {
  format: number;
  circuit: string;
  /** The value domain Z_2^ring; absent for Z_2^64 (so 64-bit plans keep their bytes and hash). */
  ring?: 128;
  /** The circuit's parties (input owners and possible recipients). */
  parties: string[];
  inputs: PlanInput[];
  /** Length of each wire. */
  wireLength: number[];
  /** Whether each wire is secret (shared) or public. */
  wireSecret: boolean[];
  /** Public constant wires, values as little-endian bytes (8 per element; 16 in Z_2^128: low limbs, then high limbs). */
  constants: { wire: number; values: Uint8Array }[];
  layers: PlanLayer[];
  outputs: PlanOutput[];
  derived: PlanDerived[];
  stats: PlanStats;
  needs: PlanNeeds;
  /**
   * Range checks inside the computation (compiler/range-checks.ts): public wires, opened in
   * the last layers, that are zero in every element iff the input's values are in range.
   * Never part of a submitted plan: every node (and the dealer) adds them itself to a
   * malicious job's plan, so nobody can leave them out.
   */
  checks?: PlanCheck[];
}

/** The range check of one input: `wire` must be all zeros, or `party` fed values outside [min, max]. */
export interface PlanCheck {
  party: string;
  name: string;
  wire: number;
  min: number;
  max: number;
}

/** Whether `layer` opens a range check, so that everything opened before must be verified first. */
export function opensCheck(plan: Plan, layer: PlanLayer): boolean {
  return plan.checks !== undefined && layer.opens.some((g) => plan.checks!.some((c) => c.wire === g.out));
}

/** What a plan's layers consume, derived from the layers (a received `needs` is informational). */
export function planNeeds(plan: Pick<Plan, 'layers' | 'wireLength' | 'inputs' | 'parties' | 'stats'>): PlanNeeds {
  const inputElements: Record<string, number> = {};
  for (const p of plan.parties) inputElements[p] = 0;
  for (const i of plan.inputs) inputElements[i.party] += i.length;
  const tripleBatches = multiplicationBatches(plan);
  const needs: PlanNeeds = { triples: tripleBatches.reduce((s, x) => s + x, 0), tripleBatches, inputElements, randomBits: 0, randomValues: 0, openings: plan.stats.gates.open ?? 0 };
  for (const layer of plan.layers) {
    for (const op of layer.local) {
      if (op.op !== 'rand') continue;
      if (op.bits === 1) needs.randomBits += plan.wireLength[op.out];
      else needs.randomValues += plan.wireLength[op.out];
    }
  }
  return needs;
}

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });

/** The canonical bytes of a plan: msgpack with keys in the order the compiler wrote them. */
export function encodePlan(plan: Plan): Uint8Array {
  return packr.pack(plan);
}

export function planHash(planOrBytes: Plan | Uint8Array): string {
  const bytes = planOrBytes instanceof Uint8Array ? planOrBytes : encodePlan(planOrBytes);
  return bytesToHex(sha256(bytes));
}

function bad(message: string): never {
  throw new MpcError(ErrorCode.PROTOCOL, `invalid plan: ${message}`);
}

const isNat = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isStr = (x: unknown): x is string => typeof x === 'string';
const isStrArr = (x: unknown): x is string[] => Array.isArray(x) && x.every(isStr);

/**
 * Decode and check a plan received from elsewhere. A node runs this on every submitted plan:
 * a plan that references undefined wires or mismatched lengths must be refused, not run.
 */
export function decodePlan(bytes: Uint8Array): Plan {
  let plan: Plan;
  try {
    plan = packr.unpack(bytes) as Plan;
  } catch (e) {
    bad(`not msgpack (${(e as Error).message})`);
  }
  validatePlan(plan);
  // msgpackr hands back Buffers; plain copies keep the plan identical to what was encoded.
  for (const c of plan.constants) c.values = new Uint8Array(c.values);
  for (const layer of plan.layers) for (const op of layer.local) if (op.op === 'gather') op.index = new Uint8Array(op.index);
  return plan;
}

/** Structural validation: every wire defined once before use, lengths consistent. */
export function validatePlan(plan: Plan): void {
  if (typeof plan !== 'object' || plan === null) bad('expected an object');
  if (plan.format !== PLAN_FORMAT) bad(`unsupported format ${String(plan.format)}, expected ${PLAN_FORMAT}`);
  if (!isStr(plan.circuit) || !isStrArr(plan.parties)) bad('circuit or parties malformed');
  if (plan.ring !== undefined && plan.ring !== 128) bad(`unsupported ring ${String(plan.ring)} (Z_2^64 has no ring field; Z_2^128 has 128)`);
  const ring = plan.ring ?? 64;
  const { wireLength: len, wireSecret: sec } = plan;
  if (!Array.isArray(len) || !Array.isArray(sec) || len.length !== sec.length) bad('wire tables malformed');
  if (!len.every(isNat) || !sec.every((s) => typeof s === 'boolean')) bad('wire tables malformed');
  const defined = new Array<boolean>(len.length).fill(false);
  const define = (w: unknown, what: string): number => {
    if (!isNat(w) || w >= len.length) bad(`${what}: wire ${String(w)} out of range`);
    if (defined[w]) bad(`${what}: wire ${w} defined twice`);
    defined[w] = true;
    return w;
  };
  const use = (w: unknown, what: string): number => {
    if (!isNat(w) || w >= len.length || !defined[w]) bad(`${what}: wire ${String(w)} used before it is defined`);
    return w;
  };
  if (!Array.isArray(plan.inputs)) bad('inputs malformed');
  for (const i of plan.inputs) {
    if (!isStr(i.party) || !plan.parties.includes(i.party) || !isStr(i.name)) bad('input owner malformed');
    if (!isNat(i.frac) || i.frac > (ring === 128 ? 48 : 32)) bad(`input ${i.party}.${i.name}: fractional bits malformed`);
    const w = define(i.wire, `input ${i.party}.${i.name}`);
    if (len[w] !== i.length || !sec[w]) bad(`input ${i.party}.${i.name}: wire shape mismatch`);
  }
  if (!Array.isArray(plan.constants)) bad('constants malformed');
  for (const c of plan.constants) {
    const w = define(c.wire, 'constant');
    if (!(c.values instanceof Uint8Array) || c.values.length !== (len[w] * ring) / 8 || sec[w]) bad(`constant wire ${w} malformed`);
  }
  const binLen = (a: number, b: number, what: string): number => {
    if (len[a] !== len[b] && len[a] !== 1 && len[b] !== 1) bad(`${what}: operand lengths ${len[a]} and ${len[b]}`);
    return Math.max(len[a], len[b]);
  };
  if (!Array.isArray(plan.layers)) bad('layers malformed');
  plan.layers.forEach((layer, k) => {
    if (!Array.isArray(layer.muls) || !Array.isArray(layer.opens) || !Array.isArray(layer.local)) bad(`layer ${k} malformed`);
    if (k === 0 && (layer.muls.length > 0 || layer.opens.length > 0)) bad('layer 0 cannot communicate');
    for (const g of layer.muls) {
      const a = use(g.a, `layer ${k} mul`);
      const b = use(g.b, `layer ${k} mul`);
      if (!sec[a] || !sec[b]) bad(`layer ${k} mul: operands must be secret`);
      const w = define(g.out, `layer ${k} mul`);
      if (len[w] !== binLen(a, b, `layer ${k} mul`) || !sec[w]) bad(`layer ${k} mul: output shape mismatch`);
    }
    for (const g of layer.opens) {
      const a = use(g.a, `layer ${k} open`);
      const w = define(g.out, `layer ${k} open`);
      if (!sec[a] || sec[w] || len[w] !== len[a]) bad(`layer ${k} open: shape mismatch`);
    }
    for (const op of layer.local) {
      const what = `layer ${k} ${String(op.op)}`;
      const [want, secret] = localShape(op, len, sec, use, what, ring);
      const w = define(op.out, what);
      if (len[w] !== want || sec[w] !== secret) bad(`${what}: output shape mismatch`);
    }
  });
  if (!Array.isArray(plan.outputs) || plan.outputs.length === 0) bad('no outputs');
  for (const o of plan.outputs) {
    if (!isStr(o.name) || !isStrArr(o.to) || o.to.length === 0) bad('output malformed');
    use(o.wire, `output ${o.name}`);
  }
  if (!Array.isArray(plan.derived)) bad('derived malformed');
  for (const d of plan.derived) {
    if (!isStr(d.name) || !isStr(d.expr) || !isStrArr(d.uses) || !isStrArr(d.to)) bad('derived output malformed');
  }
}

/** The length and secrecy of a local op's result, checking its operands. */
function localShape(
  op: LocalOp,
  len: number[],
  sec: boolean[],
  use: (w: unknown, what: string) => number,
  what: string,
  ring: number,
): [number, boolean] {
  const binLen = (a: number, b: number): number => {
    if (len[a] !== len[b] && len[a] !== 1 && len[b] !== 1) bad(`${what}: operand lengths ${len[a]} and ${len[b]}`);
    return Math.max(len[a], len[b]);
  };
  const nat = (...xs: unknown[]): void => {
    if (!xs.every(isNat)) bad(`${what}: malformed parameters`);
  };
  switch (op.op) {
    case 'add':
    case 'sub':
    case 'mul': {
      const a = use(op.a, what);
      const b = use(op.b, what);
      if (op.op === 'mul' && sec[a] && sec[b]) bad(`${what}: secret × secret must be a layer multiplication`);
      return [binLen(a, b), sec[a] || sec[b]];
    }
    case 'neg': {
      const a = use(op.a, what);
      return [len[a], sec[a]];
    }
    case 'sum':
      return [1, sec[use(op.a, what)]];
    case 'slice': {
      const a = use(op.a, what);
      nat(op.start, op.end);
      if (op.start > op.end || op.end > len[a]) bad(`${what}: range ${op.start}..${op.end} outside ${len[a]} elements`);
      return [op.end - op.start, sec[a]];
    }
    case 'concat': {
      if (!Array.isArray(op.parts) || op.parts.length === 0) bad(`${what}: no parts`);
      const parts = op.parts.map((p) => use(p, what));
      return [parts.reduce((t, p) => t + len[p], 0), parts.some((p) => sec[p])];
    }
    case 'gather': {
      const a = use(op.a, what);
      if (!(op.index instanceof Uint8Array) || op.index.byteLength % 4 !== 0) bad(`${what}: malformed index`);
      nat(op.block);
      const index = gatherIndex(op.index);
      if (op.block < 1 || len[a] % op.block !== 0) bad(`${what}: blocks of ${op.block} do not divide ${len[a]} elements`);
      for (const i of index) if (i >= len[a] / op.block) bad(`${what}: block ${i} outside ${len[a] / op.block} blocks`);
      return [index.length * op.block, sec[a]];
    }
    case 'bits': {
      const a = use(op.a, what);
      nat(op.from, op.count);
      if (sec[a]) bad(`${what}: bits of a secret`);
      if (op.count < 1 || op.from + op.count > ring) bad(`${what}: bits ${op.from}..${op.from + op.count} outside 0..${ring}`);
      return [op.count * len[a], false];
    }
    case 'pack': {
      const a = use(op.a, what);
      nat(op.count, op.shift);
      if (op.count < 1 || len[a] % op.count !== 0 || op.shift >= ring) bad(`${what}: cannot pack ${len[a]} elements in ${op.count} digits`);
      return [len[a] / op.count, sec[a]];
    }
    case 'rand':
      nat(op.bits);
      if (op.bits < 1 || op.bits > ring) bad(`${what}: ${op.bits} random bits`);
      return [isNat(op.out) && op.out < len.length ? len[op.out] : -1, true];
    default:
      return bad(`${what}: unknown op`);
  }
}

/** The wires a local op reads. */
export function localOperands(op: LocalOp): number[] {
  if (op.op === 'rand') return [];
  if (op.op === 'concat') return op.parts;
  return 'b' in op ? [op.a, op.b] : [op.a];
}

/** A gather op's index as numbers (little-endian u32 in the plan). */
export function gatherIndex(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * Multiplication layers are cut into chunks of at most this many elements: each chunk is
 * one message per peer and one preprocessing batch, so a layer of 10^7 multiplications
 * never needs one 160 MB frame, and chunks pipeline (a chunk's openings are in flight
 * while the next is computed). All chunks of a layer still form one round.
 */
export const MUL_CHUNK = 1 << 18;

/** Widths of the chunks of one multiplication layer of `width` elements (at least one). */
export function layerChunks(width: number): number[] {
  if (width === 0) return [0];
  const out: number[] = [];
  for (let off = 0; off < width; off += MUL_CHUNK) out.push(Math.min(MUL_CHUNK, width - off));
  return out;
}

/**
 * The preprocessing batches of a plan's multiplications, in consumption order: every chunk
 * of every layer. Derived from the layers themselves (a received plan's `needs` field is
 * informational; preprocessing never trusts it).
 */
export function multiplicationBatches(plan: Pick<Plan, 'layers' | 'wireLength'>): number[] {
  return prepSteps(plan).flatMap((s) => (s.kind === 'triples' ? [s.length] : []));
}

/** Chunk index offset of a layer's openings: their rounds never meet its multiplications'. */
const OPEN_CHUNK_BASE = 2048;

/**
 * One preprocessing step, in the order the executor consumes them: per layer, the chunks of
 * its openings (the malicious suite masks each with a random value), then the chunks of its
 * multiplications (Beaver triples), then its `rand` ops in op order (random integers), each
 * cut into pieces of at most MUL_CHUNK elements.
 */
export type PrepStep =
  | { kind: 'open'; length: number; layer: number }
  | { kind: 'triples'; length: number; layer: number }
  | { kind: 'rand'; length: number; bits: number; layer: number };

export function prepSteps(plan: Pick<Plan, 'layers' | 'wireLength'>): PrepStep[] {
  const out: PrepStep[] = [];
  plan.layers.forEach((layer, k) => {
    const opened = layer.opens.reduce((s, g) => s + plan.wireLength[g.out], 0);
    if (layer.opens.length > 0) for (const w of layerChunks(opened)) out.push({ kind: 'open', length: w, layer: k });
    const width = layer.muls.reduce((s, g) => s + plan.wireLength[g.out], 0);
    if (layer.muls.length > 0) for (const w of layerChunks(width)) out.push({ kind: 'triples', length: w, layer: k });
    for (const op of layer.local) {
      if (op.op === 'rand') for (const w of layerChunks(plan.wireLength[op.out])) out.push({ kind: 'rand', length: w, bits: op.bits, layer: k });
    }
  });
  return out;
}

export { OPEN_CHUNK_BASE };
