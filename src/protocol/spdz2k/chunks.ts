/**
 * Size bounds of the malicious suite: nothing it computes in one go, sends in one message or
 * takes from the dealer in one item grows with the data beyond MUL_CHUNK (2^18) elements.
 *
 * - Pieces: a vector of L elements is cut into pieces of MUL_CHUNK elements (the last one
 *   shorter; an empty vector is one empty piece), exactly as a multiplication layer is cut
 *   into chunks (`layerChunks`, compiler/plan.ts). Every length-dependent preprocessing item
 *   is one piece (schedule.ts), and every long loop runs piece by piece.
 * - Chunks: a message whose size grows with the data carries a stream of elements (e.g. the
 *   concatenation of one owner's masked inputs); chunk c is elements [c·M, (c+1)·M) of the
 *   stream, M = MUL_CHUNK, whatever vectors they come from (`chunkLayout`), and is sent as its
 *   own message (16 bytes per element for k = 64, 24 for k = 128: at most 4 MiB, 6 MiB).
 * - Pauses: before each piece, `pause(size)` lets the event loop run (heartbeats, pings,
 *   socket reads) once about a piece's worth of work was done since its last turn, so no
 *   synchronous stretch of the suite lasts much longer than one piece's work.
 * @module
 */
import type { Z128Vec } from '../../ring/z128.ts';
import { layerChunks, MUL_CHUNK } from '../../compiler/plan.ts';
import { MAC64, type MacRing } from './mac-ring.ts';

export { MUL_CHUNK };

/** Piece lengths of a vector of `length` elements (at least one piece). */
export function pieces(length: number): number[] {
  return layerChunks(length);
}

/** Elements [from, to) of vector `k` go to elements [at, at + to − from) of a chunk. */
export interface Part {
  k: number;
  from: number;
  to: number;
  at: number;
}

export interface ChunkLayout {
  length: number;
  parts: Part[];
}

/**
 * The chunks of the concatenation of vectors of `lengths` (in that order): chunk c holds
 * elements [c·M, min(total, (c+1)·M)) of the concatenation. At least one chunk (empty when
 * the total is 0), like `pieces`.
 */
export function chunkLayout(lengths: readonly number[]): ChunkLayout[] {
  const total = lengths.reduce((t, l) => t + l, 0);
  const out: ChunkLayout[] = pieces(total).map((length) => ({ length, parts: [] }));
  let pos = 0;
  lengths.forEach((len, k) => {
    let from = 0;
    while (from < len) {
      const c = Math.floor(pos / MUL_CHUNK);
      const at = pos - c * MUL_CHUNK;
      const n = Math.min(len - from, MUL_CHUNK - at);
      out[c].parts.push({ k, from, to: from + n, at });
      from += n;
      pos += n;
    }
  });
  return out;
}

/** Split [from, to) at multiples of MUL_CHUNK: calls `f(piece, start, end, at)` with offsets inside the piece and `at` from `from`. */
export function forPieces(from: number, to: number, f: (piece: number, start: number, end: number, at: number) => void): void {
  let i = from;
  while (i < to) {
    const p = Math.floor(i / MUL_CHUNK);
    const start = i - p * MUL_CHUNK;
    const end = Math.min(MUL_CHUNK, start + (to - i));
    f(p, start, end, i - from);
    i += end - start;
  }
}

/**
 * A long vector of the MAC ring held as its chunks (each MUL_CHUNK elements but the last), as
 * an opening received chunk by chunk leaves it.
 */
export class ChunkedVec<E = Z128Vec> {
  constructor(
    readonly chunks: readonly E[],
    readonly ring: MacRing<unknown, E> = MAC64 as unknown as MacRing<unknown, E>,
  ) {}

  /** Elements [from, to), at most MUL_CHUNK of them: a view inside one chunk, else a copy. */
  range(from: number, to: number): E {
    const R = this.ring;
    const c = Math.floor(from / MUL_CHUNK);
    const start = from - c * MUL_CHUNK;
    if (start + (to - from) <= MUL_CHUNK) return R.slice(this.chunks[c], start, start + to - from);
    const out = R.alloc(to - from);
    forPieces(from, to, (p, s, e, at) => R.place(out, at, R.slice(this.chunks[p], s, e)));
    return out;
  }

  /** Elements [from, to) mod 2^k into `out` (a value vector of to − from elements). */
  lowInto<V>(from: number, to: number, out: V): void {
    const R = this.ring as unknown as MacRing<V, E>;
    forPieces(from, to, (p, s, e, at) => R.lowInto(R.slice(this.chunks[p], s, e), out, at));
  }
}

/**
 * Work allowed in one turn of the event loop, in elements (a piece's worth: the costliest
 * piece, a dealer's triple corrections for 3 parties, takes ~130 ms on a loaded 2-core machine).
 */
const TURN_BUDGET = MUL_CHUNK;
/** Time after which unpaused work also ends the turn (ms). */
const TURN_MS = 20;

interface Waiter {
  cost: number;
  go(): void;
}
let budget = TURN_BUDGET;
let turnStart = performance.now();
const waiting: Waiter[] = [];
let scheduled = false;
/** The real one, even if a test later installs fake timers. */
const immediate = globalThis.setImmediate;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  immediate(turn);
}

/** A turn of the event loop: a fresh budget, spent on the waiters in order (the first always goes). */
function turn(): void {
  scheduled = false;
  turnStart = performance.now();
  budget = TURN_BUDGET;
  let first = true;
  while (waiting.length > 0 && (first || waiting[0].cost <= budget)) {
    const w = waiting.shift()!;
    budget -= w.cost;
    first = false;
    w.go();
  }
  if (waiting.length > 0) schedule();
}

/**
 * Called before each piece of a long computation, with the piece's size in elements: go on
 * at once while this turn of the event loop has budget for it (TURN_BUDGET elements, and
 * TURN_MS of time since the turn began), else wait for a later turn (`setImmediate`), so
 * timers and sockets are served in between. Budget is taken when a piece is allowed to go,
 * not when it runs, so pieces of computations in flight together (the chunks of a layer, a
 * MAC check, the dealer's extras in a test) never add up to more than about one piece per
 * turn; waiters go in the order they came. Results never depend on whether a pause yields.
 */
export function pause(cost: number): Promise<void> {
  if (waiting.length === 0 && cost <= budget && performance.now() - turnStart < TURN_MS) {
    budget -= cost;
    return Promise.resolve();
  }
  return new Promise<void>((go) => {
    waiting.push({ cost, go });
    schedule();
  });
}
