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
}

/** What a party ends a job with: its own outputs, and its messages for the analyst. */
export type PartyResult<V = BigUint64Array> = OutputResult<V>;

/** Chunks of one layer in flight at once: enough to overlap compute and network, bounded memory. */
const CHUNK_WINDOW = 4;

/**
 * Multiply one layer's batch chunk by chunk (see MUL_CHUNK), at most CHUNK_WINDOW chunks in
 * flight; chunks are started in order, so preprocessing is consumed in order.
 */
async function multiplyLayer<S, P, V>(suite: ProtocolSuite<S, P, V>, session: Session<P>, layer: number, x: S, y: S): Promise<S> {
  const widths = layerChunks(suite.length(x));
  if (widths.length === 1) return suite.multiply(session, chunkRound(layer, 0), x, y);
  // Each chunk's product goes straight into the layer's result, so the chunks' own buffers
  // are dropped as they finish (a 10^7-wide layer would otherwise hold its result twice).
  const out = suite.allocate(suite.length(x));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < widths.length) {
      const c = next++;
      const off = c * MUL_CHUNK;
      suite.place(out, off, await suite.multiply(session, chunkRound(layer, c), suite.slice(x, off, off + widths[c]), suite.slice(y, off, off + widths[c])));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_WINDOW, widths.length) }, worker));
  return out;
}

/**
 * Open one layer's openings, concatenated and cut into chunks like a multiplication layer.
 * Every chunk is started (and so claims its preprocessing) before this returns its promise.
 */
function openLayer<S, P, V>(suite: ProtocolSuite<S, P, V>, session: Session<P>, layer: number, x: S): Promise<V> {
  const widths = layerChunks(suite.length(x));
  const parts = widths.map((w, c) => suite.open(session, chunkRound(layer, OPEN_CHUNK_BASE + c), suite.slice(x, c * MUL_CHUNK, c * MUL_CHUNK + w)));
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
    const opening = layer.opens.length > 0 ? openLayer(suite, session, k, suite.concat(layer.opens.map((g) => w[g.a]!))) : undefined;
    opening?.catch(() => {});
    let product: Promise<S> | undefined;
    if (layer.muls.length > 0) {
      const xs: S[] = [];
      const ys: S[] = [];
      for (const g of layer.muls) {
        const len = plan.wireLength[g.out];
        xs.push(suite.broadcast(w[g.a]!, len));
        ys.push(suite.broadcast(w[g.b]!, len));
      }
      product = multiplyLayer(suite, session, k, suite.concat(xs), suite.concat(ys));
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
      const z = await product;
      let off = 0;
      for (const g of layer.muls) {
        const len = plan.wireLength[g.out];
        w[g.out] = layer.muls.length === 1 ? z : suite.slice(z, off, off + len);
        off += len;
        done += len;
      }
    }
    for (const op of layer.local) {
      // A layer's local ops can be many and long (a range check or comparison over 10^5
      // elements works on vectors of millions): timers and sockets (heartbeats) get turns.
      await pause(plan.wireLength[op.out]);
      if (op.op === 'rand') {
        w[op.out] = await suite.rand(session, op.bits, plan.wireLength[op.out]);
      } else if (!secret(op.out)) {
        pub[op.out] = evalLocalIn(D, op, (x) => pub[x]!);
      } else if (op.op === 'neg' || op.op === 'sum') {
        w[op.out] = suite[op.op](w[op.a]!);
      } else if (op.op === 'mul') {
        // The compiler guarantees exactly one operand is secret here.
        w[op.out] = secret(op.a) ? suite.mulPublic(w[op.a]!, pub[op.b]!) : suite.mulPublic(w[op.b]!, pub[op.a]!);
      } else if (op.op === 'add' || op.op === 'sub') {
        w[op.out] = suite[op.op](share(op.a), share(op.b));
      } else if (op.op === 'slice') {
        w[op.out] = suite.slice(w[op.a]!, op.start, op.end);
      } else if (op.op === 'concat') {
        w[op.out] = suite.concat(op.parts.map(share));
      } else if (op.op === 'gather') {
        w[op.out] = suite.gather(w[op.a]!, gatherIndex(op.index), op.block);
      } else if (op.op === 'pack') {
        w[op.out] = suite.pack(w[op.a]!, op.count, op.shift);
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
