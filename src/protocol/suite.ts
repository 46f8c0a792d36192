/**
 * The contract between the executor and a protocol: how shares combine locally, the
 * interactive steps (input, one multiplication layer, output), and how a party consumes the
 * protocol's preprocessing. The executor is written
 * once against this interface (MP-SPDZ's share-type parametrisation, in TypeScript);
 * semi-honest and malicious security are two suites, not two engines.
 * @module
 */
import type { Plan } from '../compiler/plan.ts';
import type { Session } from './session.ts';
import type { Domain } from './domain.ts';

/** An input to share: its owner (session index), length and wire. */
export interface InputSpec {
  owner: number;
  length: number;
  wire: number;
}

/** One output as the executor hands it to the suite. */
export interface OutputSpec<S> {
  name: string;
  share: S;
  /** Session indices of the parties that must learn it. */
  toParties: number[];
  /** Whether a recipient outside the federation (the analyst) gets it too. */
  external: boolean;
}

export interface OutputResult<V = BigUint64Array> {
  /** Outputs addressed to this party, reconstructed (and verified, where the suite can). */
  values: Record<string, V>;
  /** This party's message for the external recipient, per external output. */
  external: Record<string, Uint8Array>;
}

export interface ProtocolSuite<S, P, V = BigUint64Array> {
  readonly name: 'semi-honest' | 'malicious';
  /** The value domain the suite computes in (src/protocol/domain.ts); a plan's `ring` must match it. */
  readonly domain: Domain<V>;
  length(s: S): number;
  /** A sharing of a public value (no communication). */
  fromPublic(session: Session<P>, v: V): S;
  add(a: S, b: S): S;
  sub(a: S, b: S): S;
  neg(a: S): S;
  sum(a: S): S;
  /** Elementwise product with a public vector of the same length, or a public scalar. */
  mulPublic(a: S, p: V): S;
  /** `a` repeated to `length` elements when it has one. */
  broadcast(a: S, length: number): S;
  concat(parts: readonly S[]): S;
  /** A sharing of `length` zeros to fill with `place` (a long layer's result, chunk by chunk). */
  allocate(length: number): S;
  /** Copy `part` into `into` at element `offset`. */
  place(into: S, offset: number, part: S): void;
  slice(a: S, start: number, end: number): S;
  /** Block i of the result is block index[i] of `a`, blocks of `block` elements. */
  gather(a: S, index: Uint32Array, block: number): S;
  /** Σ_i 2^(shift+i)·a[i·L … (i+1)·L) for `count` digits (plan op `pack`). */
  pack(a: S, count: number, shift: number): S;
  /** Share all inputs in one round; `mine` holds this party's own values by wire. */
  input(session: Session<P>, specs: readonly InputSpec[], mine: ReadonlyMap<number, V>): Promise<Map<number, S>>;
  /** One multiplication layer, one round: elementwise x·y. */
  multiply(session: Session<P>, round: number, x: S, y: S): Promise<S>;
  /**
   * Open a secret to every computing party in one round. The compiler only opens values
   * masked by a uniformly random `rand` (src/circuit/lib), so the opened value is uniform.
   * The result is the value mod 2^ring (verified before any output, where the suite can).
   */
  open(session: Session<P>, round: number, x: S): Promise<V>;
  /**
   * Check every value opened so far, before the executor opens a value that is not masked
   * (a range check) or acts on one: the malicious suite runs its MAC check; a semi-honest
   * suite has nothing to check and leaves this out.
   */
  verify?(session: Session<P>): Promise<void>;
  /** `length` shared uniformly random integers in [0, 2^bits), from preprocessing. */
  rand(session: Session<P>, bits: number, length: number): Promise<S>;
  /**
   * Deliver every output: party recipients learn theirs (over the transport), and the
   * returned `external` messages go to the analyst. Any final check (e.g. MACs) happens here,
   * before anything leaves this party.
   */
  output(session: Session<P>, outputs: readonly OutputSpec<S>[]): Promise<OutputResult<V>>;
  /** The external recipient's side: combine every party's message for one output, verify. */
  reconstructExternal(messages: readonly Uint8Array[], length: number, name: string): V;
  /**
   * This party's preprocessing source for one job, over `material`, the suite's material
   * source (`SemiHonestMaterialSource`, `Spdz2kMaterialSource`): a dealer's
   * (src/preprocessing/dealers.ts) or the parties' own by OT (src/preprocessing/ot). It
   * produces ahead of the protocol (src/util/run-ahead.ts); `signal` aborting (the job is
   * over) stops that. The suite knows nothing of where the material comes from.
   */
  prep(plan: Plan, n: number, self: number, material: unknown, signal?: AbortSignal): P;
}
