/**
 * Dealer-free semi-honest preprocessing: the `SemiHonestMaterialSource` of a job made by the
 * parties themselves over their transport (src/protocol/semi-honest-prep.ts consumes it).
 *
 * - Beaver triples: `OtTripleGenerator.generate` (pairwise Gilboa products, triples.ts).
 * - Random integers below 2^bits (the masks of comparisons and truncations,
 *   src/circuit/lib/bits.ts): bits·L random shared bits (`OtTripleGenerator.bits`), packed
 *   r = Σ_j 2^j·b_j, so r is uniform in [0, 2^bits) exactly, as a dealer's would be.
 * - In either value domain (`ring`): Z_2^64, or Z_2^128 with 128 OTs per product, material
 *   laid out as the low limbs then the high limbs, as SemiHonestPrep expects.
 *
 * The sessions are set up once per job (128 base OTs per ordered pair and direction) and
 * bound to the job by `sessionId`; nothing is persisted, so no material outlives its job and
 * none can be used twice, across a restart or otherwise. Trust: none beyond the parties —
 * semi-honest security against any number of corrupted parties (README "Threat model").
 * @module
 */
import type { Transport } from '../../protocol/transport.ts';
import type { SemiHonestItem, SemiHonestMaterial, SemiHonestMaterialSource } from '../../protocol/semi-honest-prep.ts';
import { OtTripleGenerator } from './triples.ts';
import type { RandomBytes } from './base-ot.ts';
import type { BaseOtProvider } from './extension.ts';
import type { RingBits } from '../../protocol/domain.ts';
import * as z128 from '../../ring/z128.ts';

export interface OtPrepOptions {
  transport: Transport;
  /** Party names in job order (for messages). */
  parties: readonly string[];
  /** ≥ 16 bytes, the same at every party: binds every OT to the job. */
  sessionId: Uint8Array;
  random?: RandomBytes;
  baseOt?: BaseOtProvider;
  /** The plan's value domain (default 64): Z_2^64 or Z_2^128 material. */
  ring?: RingBits;
}

/** What a job's dealer-free preprocessing made, for the node's log and the job's stats. */
export interface OtPrepStats {
  triples: number;
  bits: number;
  /** Milliseconds until every OT session was set up (base OTs). */
  setupMs: number;
  /** Milliseconds spent producing items after the setup. */
  generateMs: number;
}

/** A semi-honest material source over OT; every party of the job must create one. */
export function createOtSemiHonestMaterial(opts: OtPrepOptions): SemiHonestMaterialSource & { stats(): OtPrepStats } {
  let setupMs = 0;
  let generateMs = 0;
  let generator: OtTripleGenerator | undefined;
  // Set up on the first item, so a plan that needs no preprocessing (a sum) costs no base OT;
  // every party's first item is the same, so they all start the setup together.
  async function setup(): Promise<OtTripleGenerator> {
    const started = performance.now();
    const g = await OtTripleGenerator.setup({ transport: opts.transport, sessionId: opts.sessionId, random: opts.random, baseOt: opts.baseOt, ring: opts.ring });
    setupMs = performance.now() - started;
    return g;
  }
  async function produce(item: SemiHonestItem): Promise<SemiHonestMaterial> {
    const g = (generator ??= await setup());
    const t0 = performance.now();
    try {
      if (item.kind === 'triples') return { kind: 'triples', triples: await g.generate(item.length) };
      return { kind: 'rand', values: packBits(await g.bits(item.bits * item.length), item.bits, item.length, opts.ring) };
    } finally {
      generateMs += performance.now() - t0;
    }
  }
  return {
    produce,
    stats: () => ({ triples: generator?.generated ?? 0, bits: generator?.bitsGenerated ?? 0, setupMs, generateMs }),
  };
}

/**
 * r_k = Σ_j 2^j·b[j·L + k] for `bits` bit vectors of L shares each (linear, so it acts on
 * shares), mod 2^ring; in Z_2^128 both `b` and the result are low limbs then high limbs.
 */
export function packBits(b: BigUint64Array, bits: number, L: number, ring: RingBits = 64): BigUint64Array {
  if (ring === 128) {
    const all = z128.wordsView(b, bits * L);
    const out = new BigUint64Array(2 * L);
    const r = z128.wordsView(out, L);
    for (let j = bits - 1; j >= 0; j--) {
      z128.add(r, r, r);
      z128.add(r, { lo: all.lo.subarray(j * L, (j + 1) * L), hi: all.hi.subarray(j * L, (j + 1) * L) }, r);
    }
    return out;
  }
  const r = new BigUint64Array(L);
  for (let j = bits - 1; j >= 0; j--) {
    const row = b.subarray(j * L, (j + 1) * L);
    for (let k = 0; k < L; k++) r[k] = BigInt.asUintN(64, 2n * r[k] + row[k]);
  }
  return r;
}
