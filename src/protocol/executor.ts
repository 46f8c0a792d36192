/**
 * The engine: evaluates a plan for one party, layer by layer, against any protocol suite.
 * One input round, then for each layer one round covering every secret × secret gate of
 * the layer (concatenated into one batch) and every opening, then local ops (public wires
 * computed from openings are evaluated here in the clear), and finally one output round
 * for outputs addressed to parties. It touches no sockets, files
 * or clocks: only the session's transport and preprocessing.
 * @module
 */
import { gatherIndex, layerChunks, localOperands, MUL_CHUNK, OPEN_CHUNK_BASE, opensCheck, type Plan } from '../compiler/plan.ts';
import { ANALYST } from '../circuit/builder.ts';
import { partyIndex, type Session } from './session.ts';
import type { OutputResult, OutputSpec, ProtocolSuite } from './suite.ts';
import { evalLocalIn } from './vectors.ts';
import { pause } from './spdz2k/chunks.ts';
import { chunkRound } from './transport.ts';
import { MpcError, ErrorCode } from '../errors.ts';

export { chunkRound };

export interface Progress {
  /** Layers finished, out of `layers` (multiplication layers only). */
  layer: number;
  layers: number;
  /** Multiplications finished so far. */
  multiplications: number;
}

export interface ExecuteOptions {
  onProgress?: (p: Progress) => void;
  /**
   * Phase boundaries, for timing by the caller (the executor has no clock): 'online' when
   * inputs are shared and the layers start, 'output' when the last layer is done.
   */
  onPhase?: (phase: 'online' | 'output') => void;
  /** Elements per piece of a long local op (default LOCAL_PIECE; tests use small pieces). */
  localPiece?: number;
}

/** What a party ends a job with: its own outputs, and its messages for the analyst. */
export type PartyResult<V = BigUint64Array> = OutputResult<V>;

/** Chunks of one layer in flight at once: enough to overlap compute and network, bounded memory. */
const CHUNK_WINDOW = 4;

/**
 * Elements an elementwise local op works on per turn. A 10^6-wide malicious comparison has
 * local ops over 63·10^6 Z_2^128 elements, several seconds each in one piece: long enough to
 * starve the heartbeats (a peer then aborts the job as lost).
 */
export const LOCAL_PIECE = 1 << 20;

/**
 * `piece(s, e)` for consecutive ranges of about `pieceSize` elements (whole blocks of `block`
 * elements, at least one) of a `length`-element result, placed into one allocated result,
 * with the event loop given turns in between; a short result is one piece, returned as it is.
 */
async function inPieces<T>(pieceSize: number, length: number, block: number, alloc: (n: number) => T, place: (into: T, offset: number, part: T) => void, piece: (s: number, e: number) => T): Promise<T> {
  if (length <= pieceSize) return piece(0, length);
  const step = block * Math.max(1, Math.floor(pieceSize / block));
  const out = alloc(length);
  for (let s = 0; s < length; s += step) {
    const e = Math.min(length, s + step);
    if (s > 0) await pause(e - s);
    place(out, s, piece(s, e));
  }
  return out;
}

/**
 * A layer's operands as one virtual vector: the gates' wires side by side, a length-1
 * operand repeated to its gate's length. `cut(start, end)` builds only that range — a view
 * where it lies inside one wire — so a wide layer is never copied into one batch (six 10^6
 * gates of a malicious range check would otherwise be 2 × 192 MB allocated and copied in a
 * single synchronous step, long enough to starve the heartbeats on a loaded machine).
 */
class Operands<S> {
  readonly length: number;
  readonly #ends: number[] = [];

  constructor(
    private readonly suite: Pick<ProtocolSuite<S, unknown, unknown>, 'length' | 'slice' | 'broadcast' | 'concat'>,
    private readonly parts: readonly { share: S; length: number }[],
  ) {
    let end = 0;
    for (const p of parts) this.#ends.push((end += p.length));
    this.length = end;
  }

  cut(start: number, end: number): S {
    const S = this.suite;
    const pieces: S[] = [];
    let i = this.#first(start);
    for (let off = start; off < end; i++) {
      const partStart = this.#ends[i] - this.parts[i].length;
      const to = Math.min(end, this.#ends[i]);
      const { share } = this.parts[i];
      pieces.push(S.length(share) === 1 && this.parts[i].length !== 1 ? S.broadcast(share, to - off) : S.slice(share, off - partStart, to - partStart));
      off = to;
    }
    return pieces.length === 1 ? pieces[0] : S.concat(pieces);
  }

  /** The part holding element `at`. */
  #first(at: number): number {
    let lo = 0;
    let hi = this.#ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#ends[mid] > at) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * Multiply one layer's batch chunk by chunk (see MUL_CHUNK), at most CHUNK_WINDOW chunks in
 * flight; chunks are started in order, so preprocessing is consumed in order. Each chunk's
 * product is handed to `done` with its offset and then dropped.
 */
async function multiplyLayer<S, P, V>(suite: ProtocolSuite<S, P, V>, session: Session<P>, layer: number, x: Operands<S>, y: Operands<S>, done: (off: number, z: S) => void): Promise<void> {
  const widths = layerChunks(x.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < widths.length) {
      const c = next++;
      const off = c * MUL_CHUNK;
      done(off, await suite.multiply(session, chunkRound(layer, c), x.cut(off, off + widths[c]), y.cut(off, off + widths[c])));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_WINDOW, widths.length) }, worker));
}

/**
 * Open one layer's openings, cut into chunks like a multiplication layer. Every chunk is
 * started (and so claims its preprocessing) before this returns its promise.
 */
function openLayer<S, P, V>(suite: ProtocolSuite<S, P, V>, session: Session<P>, layer: number, x: Operands<S>): Promise<V> {
  const widths = layerChunks(x.length);
  const parts = widths.map((w, c) => suite.open(session, chunkRound(layer, OPEN_CHUNK_BASE + c), x.cut(c * MUL_CHUNK, c * MUL_CHUNK + w)));
  return Promise.all(parts).then((v) => suite.domain.concat(v));
}

/** For each wire, the last layer that reads it (outputs: past the last layer). */
function lastUses(plan: Plan): number[] {
  const last = new Array<number>(plan.wireLength.length).fill(-1);
  plan.layers.forEach((layer, k) => {
    for (const g of layer.muls) last[g.a] = last[g.b] = k;
    for (const g of layer.opens) last[g.a] = k;
    for (const op of layer.local) for (const x of localOperands(op)) last[x] = k;
  });
  for (const o of plan.outputs) last[o.wire] = plan.layers.length;
  for (const c of plan.checks ?? []) last[c.wire] = plan.layers.length;
  return last;
}

/**
 * Run `plan` as party `session.self`. `mine` holds this party's own input values by wire
 * (see `encodePartyInputs`). Every party of the session must call this with the same plan.
 */
export async function execute<S, P, V>(
  plan: Plan,
  session: Session<P>,
  suite: ProtocolSuite<S, P, V>,
  mine: ReadonlyMap<number, V>,
  options: ExecuteOptions = {},
): Promise<PartyResult<V>> {
  const D = suite.domain;
  if (D.ring !== (plan.ring ?? 64)) {
    throw new MpcError(ErrorCode.UNSUPPORTED, `circuit ${plan.circuit} computes in Z_2^${plan.ring ?? 64}, but the ${suite.name} suite runs in Z_2^${D.ring}`);
  }
  const w = new Array<S | undefined>(plan.wireLength.length);
  const pub = new Array<V | undefined>(plan.wireLength.length);
  for (const c of plan.constants) pub[c.wire] = D.fromBytes(c.values);
  // Public operands of local ops become sharings on first use only.
  const share = (wire: number): S => (w[wire] ??= suite.fromPublic(session, pub[wire]!));
  const pieceSize = options.localPiece ?? LOCAL_PIECE;
  if (!Number.isSafeInteger(pieceSize) || pieceSize < 1) throw new RangeError(`execute: localPiece: expected a positive integer, got ${String(options.localPiece)}`);
  // Elementwise ops over longer vectors go piece by piece (inPieces); a length-1 operand is
  // broadcast, so every piece takes it whole.
  const allocPub = (n: number): V => D.alloc(n);
  const placePub = (into: V, off: number, part: V): void => D.place(into, off, part);
  const allocShare = (n: number): S => suite.allocate(n);
  const placeShare = (into: S, off: number, part: S): void => suite.place(into, off, part);
  const pubPiece = (v: V, s: number, e: number): V => (D.length(v) === 1 ? v : D.slice(v, s, e));
  const secretPiece = (x: S, s: number, e: number): S => (suite.length(x) === 1 ? x : suite.slice(x, s, e));
  // `share` for a local op's operand: a long public vector becomes a sharing piece by piece.
  const shareInPieces = async (wire: number): Promise<S> => {
    if (w[wire] === undefined) {
      const v = pub[wire]!;
      w[wire] = await inPieces(pieceSize, plan.wireLength[wire], 1, allocShare, placeShare, (s, e) => suite.fromPublic(session, D.slice(v, s, e)));
    }
    return w[wire];
  };
  const secret = (wire: number): boolean => plan.wireSecret[wire];

  const specs = plan.inputs.map((i) => ({ owner: partyIndex(session, i.party), length: i.length, wire: i.wire }));
  for (const [wire, s] of await suite.input(session, specs, mine)) w[wire] = s;
  options.onPhase?.('online');

  // Wires nobody reads any more are dropped after their last layer: long circuits (sorting
  // networks) would otherwise keep every intermediate vector alive.
  const last = lastUses(plan);
  const dropAfter: number[][] = plan.layers.map(() => []);
  last.forEach((k, wire) => {
    if (k >= 0 && k < plan.layers.length) dropAfter[k].push(wire);
  });

  const layers = plan.layers.length - 1;
  let done = 0;
  for (let k = 0; k < plan.layers.length; k++) {
    const layer = plan.layers[k];
    if (opensCheck(plan, layer)) await suite.verify?.(session);
    // Openings claim their preprocessing first, then the multiplications (plan.ts prepSteps).
    const opening = layer.opens.length > 0 ? openLayer(suite, session, k, new Operands(suite, layer.opens.map((g) => ({ share: w[g.a]!, length: plan.wireLength[g.out] })))) : undefined;
    opening?.catch(() => {});
    let product: Promise<void> | undefined;
    if (layer.muls.length > 0) {
      const len = layer.muls.map((g) => plan.wireLength[g.out]);
      const x = new Operands(suite, layer.muls.map((g, i) => ({ share: w[g.a]!, length: len[i] })));
      const y = new Operands(suite, layer.muls.map((g, i) => ({ share: w[g.b]!, length: len[i] })));
      const starts: number[] = [];
      len.reduce((t, l) => (starts.push(t), t + l), 0);
      // A layer of one chunk keeps its product as the wires' views; wider layers place each
      // chunk into the gates' own results, so no layer-sized batch exists.
      const single = layerChunks(x.length).length === 1;
      if (!single) layer.muls.forEach((g, i) => (w[g.out] = suite.allocate(len[i])));
      product = multiplyLayer(suite, session, k, x, y, (off, z) => {
        if (single) {
          layer.muls.forEach((g, i) => (w[g.out] = layer.muls.length === 1 ? z : suite.slice(z, starts[i], starts[i] + len[i])));
          return;
        }
        const end = off + suite.length(z);
        layer.muls.forEach((g, i) => {
          const from = Math.max(off, starts[i]);
          const to = Math.min(end, starts[i] + len[i]);
          if (from < to) suite.place(w[g.out]!, from - starts[i], suite.slice(z, from - off, to - off));
        });
      });
    }
    if (opening) {
      const v = await opening;
      let off = 0;
      for (const g of layer.opens) {
        const len = plan.wireLength[g.out];
        pub[g.out] = D.slice(v, off, off + len);
        off += len;
      }
    }
    if (product) {
      await product;
      for (const g of layer.muls) done += plan.wireLength[g.out];
    }
    for (const op of layer.local) {
      // A layer's local ops can be many and long (a range check or comparison over 10^5
      // elements works on vectors of millions): timers and sockets (heartbeats) get turns.
      const length = plan.wireLength[op.out];
      await pause(length);
      const pubPieces = (f: (s: number, e: number) => V, block = 1): Promise<V> => inPieces(pieceSize, length, block, allocPub, placePub, f);
      const secretPieces = (f: (s: number, e: number) => S, block = 1): Promise<S> => inPieces(pieceSize, length, block, allocShare, placeShare, f);
      if (op.op === 'rand') {
        w[op.out] = await suite.rand(session, op.bits, length);
      } else if (!secret(op.out)) {
        if (op.op === 'add' || op.op === 'sub' || op.op === 'mul') {
          const [a, b] = [pub[op.a]!, pub[op.b]!];
          pub[op.out] = await pubPieces((s, e) => D.elementwise(op.op as 'add' | 'sub' | 'mul', pubPiece(a, s, e), pubPiece(b, s, e)));
        } else if (op.op === 'neg') {
          const a = pub[op.a]!;
          pub[op.out] = await pubPieces((s, e) => D.neg(pubPiece(a, s, e)));
        } else if (op.op === 'bits') {
          // Bit-major: rows of the input's length, one bit position each.
          const [a, from] = [pub[op.a]!, op.from];
          const L = D.length(a);
          pub[op.out] = await pubPieces((s, e) => D.bits(a, from + s / L, (e - s) / L), L);
        } else if (op.op === 'pack') {
          const [a, count, shift] = [pub[op.a]!, op.count, op.shift];
          pub[op.out] = await pubPieces((s, e) => (e - s === length ? D.pack(a, count, shift) : D.pack(D.concat(Array.from({ length: count }, (_, i) => D.slice(a, i * length + s, i * length + e))), count, shift)));
        } else if (op.op === 'gather') {
          const [a, index, block] = [pub[op.a]!, gatherIndex(op.index), op.block];
          pub[op.out] = await pubPieces((s, e) => D.gather(a, index.subarray(s / block, e / block), block), block);
        } else {
          pub[op.out] = evalLocalIn(D, op, (x) => pub[x]!);
        }
      } else if (op.op === 'neg') {
        const a = w[op.a]!;
        w[op.out] = await secretPieces((s, e) => suite.neg(secretPiece(a, s, e)));
      } else if (op.op === 'sum') {
        w[op.out] = suite.sum(w[op.a]!);
      } else if (op.op === 'mul') {
        // The compiler guarantees exactly one operand is secret here.
        const [x, p] = secret(op.a) ? [w[op.a]!, pub[op.b]!] : [w[op.b]!, pub[op.a]!];
        w[op.out] = await secretPieces((s, e) => suite.mulPublic(secretPiece(x, s, e), pubPiece(p, s, e)));
      } else if (op.op === 'add' || op.op === 'sub') {
        const [a, b] = [await shareInPieces(op.a), await shareInPieces(op.b)];
        const f = op.op;
        w[op.out] = await secretPieces((s, e) => suite[f](secretPiece(a, s, e), secretPiece(b, s, e)));
      } else if (op.op === 'slice') {
        w[op.out] = suite.slice(w[op.a]!, op.start, op.end);
      } else if (op.op === 'concat') {
        const parts: S[] = [];
        for (const x of op.parts) parts.push(await shareInPieces(x));
        if (length <= pieceSize) w[op.out] = suite.concat(parts);
        else {
          const out = suite.allocate(length);
          let off = 0;
          for (const part of parts) {
            await pause(suite.length(part));
            suite.place(out, off, part);
            off += suite.length(part);
          }
          w[op.out] = out;
        }
      } else if (op.op === 'gather') {
        const [a, index, block] = [w[op.a]!, gatherIndex(op.index), op.block];
        w[op.out] = await secretPieces((s, e) => suite.gather(a, index.subarray(s / block, e / block), block), block);
      } else if (op.op === 'pack') {
        // Elements [s, e) of the result need elements [s, e) of every digit's block.
        const [a, count, shift] = [w[op.a]!, op.count, op.shift];
        w[op.out] = await secretPieces((s, e) => (e - s === length ? suite.pack(a, count, shift) : suite.pack(suite.concat(Array.from({ length: count }, (_, i) => suite.slice(a, i * length + s, i * length + e))), count, shift)));
      }
    }
    for (const wire of dropAfter[k]) w[wire] = pub[wire] = undefined;
    if (layer.muls.length > 0 || layer.opens.length > 0) options.onProgress?.({ layer: k, layers, multiplications: done });
  }
  if (plan.checks) {
    await suite.verify?.(session);
    for (const c of plan.checks) {
      if (D.toBigints(pub[c.wire]!).some((v) => v !== 0n)) {
        throw new MpcError(
          ErrorCode.PROTOCOL,
          `party ${c.party} fed values outside the declared range [${c.min}, ${c.max}] into input ${c.party}.${c.name} (checked inside the computation); the job is aborted and no output is released`,
          { party: c.party },
        );
      }
    }
  }
  options.onPhase?.('output');
  const outputs: OutputSpec<S>[] = plan.outputs.map((o) => ({
    name: o.name,
    share: share(o.wire),
    toParties: o.to.filter((r) => r !== ANALYST).map((r) => partyIndex(session, r)),
    external: o.to.includes(ANALYST),
  }));
  return suite.output(session, outputs);
}
