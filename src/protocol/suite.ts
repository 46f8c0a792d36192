/**
 * The contract between the executor and a protocol: how shares combine locally, and the
 * three interactive steps (input, one multiplication layer, output). The executor is
 * written once against this interface (MP-SPDZ's share-type parametrisation, in
 * TypeScript); semi-honest and malicious security are two suites, not two engines.
 * @module
 */
import type { Session } from './session.ts';
import type { InputSpec } from './semi-honest.ts';

export interface ProtocolSuite<S> {
  readonly name: string;
  length(s: S): number;
  /** A sharing of a public value (no communication). */
  fromPublic(session: Session, v: BigUint64Array): S;
  add(a: S, b: S): S;
  sub(a: S, b: S): S;
  neg(a: S): S;
  sum(a: S): S;
  /** Elementwise product with a public vector of the same length, or a public scalar. */
  mulPublic(a: S, p: BigUint64Array): S;
  /** `a` repeated to `length` elements when it has one. */
  broadcast(a: S, length: number): S;
  concat(parts: readonly S[]): S;
  slice(a: S, start: number, end: number): S;
  /** Share all inputs in one round; `mine` holds this party's own values by wire. */
  input(session: Session, specs: readonly InputSpec[], mine: ReadonlyMap<number, BigUint64Array>): Promise<Map<number, S>>;
  /** One multiplication layer, one round: elementwise x·y. */
  multiply(session: Session, round: number, x: S, y: S): Promise<S>;
  /** Open each party's list of values to it; returns what this party learns. */
  openTo(session: Session, toParty: readonly (readonly S[])[]): Promise<BigUint64Array[]>;
  /** This party's additive share in Z_2^64, for delivery to an external recipient. */
  outputShare(a: S): BigUint64Array;
}
