/**
 * What one party needs to run one job, passed explicitly (no module-level state): who it
 * is, who the others are, how to reach them, and where its preprocessing comes from.
 * @module
 */
import type { Prg } from '../ring/prg.ts';
import type { Transport } from './transport.ts';
import type { Kernels } from './kernels.ts';

export interface Session<P> {
  /** This party's index in `parties`. */
  readonly self: number;
  /** Computing parties' ids in job order; index i is transport party i. */
  readonly parties: readonly string[];
  readonly transport: Transport;
  /** The suite's preprocessing source for this job (triples, masks, MAC key share). */
  readonly prep: P;
  /** Local randomness (input sharing). */
  readonly rng: Prg;
  /**
   * Where the batch kernels of multiplication run: a node passes its worker pool
   * (src/node/pool.ts); without it, `defaultKernels()` (in-thread).
   */
  readonly kernels?: Kernels;
}

/** The index of party `id` in the session, or a clear error. */
export function partyIndex(session: Pick<Session<unknown>, 'parties'>, id: string): number {
  const i = session.parties.indexOf(id);
  if (i < 0) throw new RangeError(`party ${id} is not part of this job (parties: ${session.parties.join(', ')})`);
  return i;
}
