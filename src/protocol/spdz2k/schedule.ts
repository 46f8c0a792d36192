/**
 * The preprocessing schedule of one job: the list of authenticated items the online phase
 * consumes, in consumption order. The dealer and every party derive it from the plan alone,
 * so they agree on it without talking. No item is longer than MUL_CHUNK (2^18) elements:
 * a vector of L elements takes ⌈L/MUL_CHUNK⌉ items (one when L = 0), its pieces, in order
 * (chunks.ts), so every step of the dealer and of a party handles a bounded amount of data.
 *
 * 1. per plan input, in plan order, its input masks [[r]] (one per piece of the input),
 *    owned by the input's party;
 * 2. the online layers' items in plan order (plan.ts `prepSteps`, whose chunks are already
 *    pieces): per layer, a random batch [[ρ]] per chunk of its openings (an opening
 *    reveals x + 2^k·ρ, so the upper 64 bits, noise in SPDZ2k, stay hidden), then one triple
 *    batch ([[a]], [[b]], [[c]] with c = a·b) per chunk of its multiplications, then per
 *    `rand` op a random integer batch [[r]] with r < 2^bits (the dealer picks r; the last
 *    party's value share comes from the dealer too);
 * 3. per (output, party recipient), in plan output order and then in the order of the
 *    output's `to` list, its output masks [[r]] (one per piece); the recipient learns
 *    r mod 2^k;
 * 4. when some output goes to the analyst, with W the total length of those outputs: the
 *    pieces of a random batch [[ρ]] of W (masks the upper s = 64 bits), a random [[κ]] of one
 *    element (the analyst's one-time MAC key), and the pieces of a triple batch of W (for
 *    [[κ·y]]); ρ and the triples are cut as one vector of W, not output by output.
 *
 * Party indices in the schedule are plan indices: the job's party order puts the plan's
 * parties first (ARCHITECTURE.md, node.ts), and the online phase checks that it does.
 * @module
 */
import { ANALYST } from '../../circuit/builder.ts';
import { prepSteps, type Plan } from '../../compiler/plan.ts';
import { pieces } from './chunks.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MAC64, type AnyMacRing } from './mac-ring.ts';

export type ItemKind = 'input-mask' | 'triples' | 'output-mask' | 'random' | 'rand';

export interface Item {
  kind: ItemKind;
  /** Position among items of the same kind; with the kind, it names the item's PRG streams. */
  ordinal: number;
  length: number;
  /**
   * The party that also learns the item's value from the dealer: an input mask's owner
   * (the whole share element) or an output mask's recipient (its value mod 2^k only); -1 for none.
   */
  holder: number;
  /** For error messages: what the item is for. */
  what: string;
  /** `rand` items: the value is uniform in [0, 2^bits). */
  bits?: number;
}

/** Version tag of every PRG label of the suite at k = 64 (MAC64.label): changing the layout means changing it. */
export const SPDZ2K_LABEL = 'tessera/spdz2k/v1';

/**
 * HKDF label of item `it`'s stream in each party's seed; `prefix` is the MAC ring's label
 * (SPDZ2K_LABEL for k = 64, `tessera/spdz2k128/v1` for k = 128, mac-ring.ts).
 */
export function itemLabel(it: Pick<Item, 'kind' | 'ordinal'>, prefix: string = SPDZ2K_LABEL): string {
  return `${prefix}/${it.kind}/${it.ordinal}`;
}

/** What the item sizes depend on: bytes of a share element (16 or 24) and of a value (8 or 16). */
type Sizes = Pick<AnyMacRing, 'bytes'> & { readonly D: { readonly bytes: number } };

function planIndex(plan: Plan, party: string, what: string): number {
  const i = plan.parties.indexOf(party);
  if (i < 0) throw new MpcError(ErrorCode.PREPROCESSING, `${what}: party ${party} is not one of the circuit's parties (${plan.parties.join(', ')})`);
  return i;
}

/** The schedule of `plan` for `n` computing parties (n ≥ the plan's party count). */
export function schedule(plan: Plan, n: number): Item[] {
  if (!Number.isInteger(n) || n < Math.max(1, plan.parties.length)) {
    throw new MpcError(ErrorCode.PREPROCESSING, `a job of circuit ${plan.circuit} needs at least its ${plan.parties.length} parties, got n = ${n}`);
  }
  const items: Item[] = [];
  const ordinals: Record<ItemKind, number> = { 'input-mask': 0, triples: 0, 'output-mask': 0, random: 0, rand: 0 };
  const push = (kind: ItemKind, length: number, holder: number, what: string, bits?: number): void => {
    items.push({ kind, ordinal: ordinals[kind]++, length, holder, what, ...(bits === undefined ? {} : { bits }) });
  };
  // A vector's pieces, in order; a one-piece vector keeps its plain name.
  const pushPieces = (kind: ItemKind, length: number, holder: number, what: string): void => {
    const ps = pieces(length);
    ps.forEach((w, i) => push(kind, w, holder, ps.length === 1 ? what : `${what}, piece ${i + 1} of ${ps.length}`));
  };
  for (const i of plan.inputs) pushPieces('input-mask', i.length, planIndex(plan, i.party, `input ${i.party}.${i.name}`), `input ${i.party}.${i.name}`);
  let batch = 0;
  for (const step of prepSteps(plan)) {
    if (step.kind === 'open') push('random', step.length, -1, `the opening masks of layer ${step.layer}`);
    else if (step.kind === 'triples') push('triples', step.length, -1, `multiplication batch ${batch++}`);
    else push('rand', step.length, -1, `random ${step.bits}-bit integers of layer ${step.layer}`, step.bits);
  }
  let analyst = 0;
  let toAnalyst = false;
  for (const o of plan.outputs) {
    const len = plan.wireLength[o.wire];
    for (const r of o.to) {
      if (r === ANALYST) continue;
      pushPieces('output-mask', len, planIndex(plan, r, `output ${o.name}`), `output ${o.name} to ${r}`);
    }
    if (o.to.includes(ANALYST)) {
      toAnalyst = true;
      analyst += len;
    }
  }
  if (toAnalyst) {
    pushPieces('random', analyst, -1, 'output high-bit masks');
    push('random', 1, -1, "the analyst's output key");
    pushPieces('triples', analyst, -1, "the analyst's output tags");
  }
  return items;
}

/**
 * Bytes of the dealer's extra for the last party (MAC-share corrections, c for triples, the
 * value share for random integers), B = 16 (k = 64) or 24 (k = 128) bytes per share element:
 * at most 4B·MUL_CHUNK = 16 MiB or 24 MiB (a triple piece), 2B·MUL_CHUNK = 8 or 12 MiB for
 * other items.
 */
export function correctionBytes(it: Item, ring: Sizes = MAC64): number {
  return (it.kind === 'triples' ? 4 : it.kind === 'rand' ? 2 : 1) * ring.bytes * it.length;
}

/**
 * Bytes of the dealer's extra for the item's holder (its value): an input mask's whole share
 * element, an output mask's value mod 2^k; at most 24·MUL_CHUNK = 6 MiB.
 */
export function valueBytes(it: Item, ring: Sizes = MAC64): number {
  return (it.kind === 'input-mask' ? ring.bytes : ring.D.bytes) * it.length;
}
