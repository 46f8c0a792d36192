/**
 * The engine: evaluates a plan for one party, layer by layer, against any protocol suite.
 * One input round, then for each layer one multiplication round covering every
 * secret × secret gate of the layer (concatenated into one batch), then local ops, and
 * finally one output round for outputs addressed to parties. It touches no sockets, files
 * or clocks: only the session's transport and preprocessing.
 * @module
 */
import { layerChunks, MUL_CHUNK, type Plan } from '../compiler/plan.ts';
import { ANALYST } from '../circuit/builder.ts';
import { partyIndex, type Session } from './session.ts';
import type { OutputResult, OutputSpec, ProtocolSuite } from './suite.ts';
import { constantValues } from './vectors.ts';

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
export type PartyResult = OutputResult;

/** Chunks of one layer in flight at once: enough to overlap compute and network, bounded memory. */
const CHUNK_WINDOW = 4;

/**
 * Round id of chunk `c` of layer `k`: unique per message slot (layers < 2^20), and equal
 * to the layer number for a layer's first chunk. All chunks of a layer are one round.
 */
export function chunkRound(layer: number, chunk: number): number {
  return chunk * 2 ** 20 + layer;
}

/**
 * Multiply one layer's batch chunk by chunk (see MUL_CHUNK), at most CHUNK_WINDOW chunks in
 * flight; chunks are started in order, so preprocessing is consumed in order.
 */
async function multiplyLayer<S, P>(suite: ProtocolSuite<S, P>, session: Session<P>, layer: number, x: S, y: S): Promise<S> {
  const widths = layerChunks(suite.length(x));
  if (widths.length === 1) return suite.multiply(session, chunkRound(layer, 0), x, y);
  const parts = new Array<S>(widths.length);
  const offsets = widths.map((_, i) => i * MUL_CHUNK);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < widths.length) {
      const c = next++;
      const off = offsets[c];
      parts[c] = await suite.multiply(session, chunkRound(layer, c), suite.slice(x, off, off + widths[c]), suite.slice(y, off, off + widths[c]));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_WINDOW, widths.length) }, worker));
  return suite.concat(parts);
}

/**
 * Run `plan` as party `session.self`. `mine` holds this party's own input values by wire
 * (see `encodePartyInputs`). Every party of the session must call this with the same plan.
 */
export async function execute<S, P>(
  plan: Plan,
  session: Session<P>,
  suite: ProtocolSuite<S, P>,
  mine: ReadonlyMap<number, BigUint64Array>,
  options: ExecuteOptions = {},
): Promise<PartyResult> {
  const w = new Array<S | undefined>(plan.wireLength.length);
  const pub = new Array<BigUint64Array | undefined>(plan.wireLength.length);
  for (const c of plan.constants) pub[c.wire] = constantValues(c.values);
  // Public operands of local ops become sharings on first use only.
  const share = (wire: number): S => (w[wire] ??= suite.fromPublic(session, pub[wire]!));

  const specs = plan.inputs.map((i) => ({ owner: partyIndex(session, i.party), length: i.length, wire: i.wire }));
  for (const [wire, s] of await suite.input(session, specs, mine)) w[wire] = s;
  options.onPhase?.('online');

  const layers = plan.layers.length - 1;
  let done = 0;
  for (let k = 0; k < plan.layers.length; k++) {
    const layer = plan.layers[k];
    if (layer.muls.length > 0) {
      const xs: S[] = [];
      const ys: S[] = [];
      for (const g of layer.muls) {
        const len = plan.wireLength[g.out];
        xs.push(suite.broadcast(w[g.a]!, len));
        ys.push(suite.broadcast(w[g.b]!, len));
      }
      const z = await multiplyLayer(suite, session, k, suite.concat(xs), suite.concat(ys));
      let off = 0;
      for (const g of layer.muls) {
        const len = plan.wireLength[g.out];
        w[g.out] = layer.muls.length === 1 ? z : suite.slice(z, off, off + len);
        off += len;
        done += len;
      }
    }
    for (const op of layer.local) {
      if (!('b' in op)) {
        w[op.out] = suite[op.op](w[op.a]!);
      } else if (op.op === 'mul') {
        // The compiler guarantees exactly one operand is secret here.
        w[op.out] = plan.wireSecret[op.a] ? suite.mulPublic(w[op.a]!, pub[op.b]!) : suite.mulPublic(w[op.b]!, pub[op.a]!);
      } else {
        w[op.out] = suite[op.op](share(op.a), share(op.b));
      }
    }
    if (layer.muls.length > 0) options.onProgress?.({ layer: k, layers, multiplications: done });
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
