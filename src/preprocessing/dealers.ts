/**
 * Dealer preprocessing by security level: what a dealer deals for one job, and the material
 * source a party builds from its dealer seed and the dealer's extras, for its suite's `prep`.
 * The one place that maps a job's security to the dealer's code (the dealer daemon, nodes,
 * the in-process harness and tests all go through here); the suites in src/protocol know
 * nothing of dealers.
 * @module
 */
import type { Plan } from '../compiler/plan.ts';
import type { ProtocolSuite } from '../protocol/suite.ts';
import type { SecurityLevel } from '../protocol/suites.ts';
import { semiHonestItems } from '../protocol/semi-honest-prep.ts';
import { dealSemiHonest, seededMaterial, type Dealing, type NextExtra } from './dealer.ts';
import { dealerMaterial, dealSpdz2k } from './spdz2k-dealer.ts';
import { macRingOf, type MacRing } from '../protocol/spdz2k/mac-ring.ts';

export interface DealerScheme {
  /** Dealer side: the material for one job (`seeds` pinned in tests). */
  deal(plan: Plan, n: number, seeds?: Uint8Array[]): Dealing;
  /** Party side: party `self`'s material source from its seed and the dealer's extras. */
  material(plan: Plan, n: number, self: number, seed: Uint8Array, nextExtra: NextExtra): unknown;
}

const schemes: Record<SecurityLevel, DealerScheme> = {
  'semi-honest': {
    deal: (plan, n, seeds) => dealSemiHonest(semiHonestItems(plan), n, seeds, plan.ring ?? 64),
    material: (plan, n, self, seed, nextExtra) => seededMaterial(self, n, seed, nextExtra, plan.ring ?? 64),
  },
  malicious: {
    deal: dealSpdz2k,
    // The plan's domain picks the MAC ring (Z_2^128 for Z_2^64, Z_2^192 for Z_2^128) on both sides.
    material: (plan, n, self, seed, nextExtra) => dealerMaterial(seed, self, n, nextExtra, macRingOf(plan) as MacRing<unknown, unknown>),
  },
};

export function dealerFor(security: SecurityLevel): DealerScheme {
  return schemes[security];
}

/** Party `self`'s preprocessing source for one job of `suite`, from a dealer. */
export function dealerPrep<P, V>(suite: ProtocolSuite<unknown, P, V>, plan: Plan, n: number, self: number, seed: Uint8Array, nextExtra: NextExtra, signal?: AbortSignal): P {
  return suite.prep(plan, n, self, dealerFor(suite.name).material(plan, n, self, seed, nextExtra), signal);
}
