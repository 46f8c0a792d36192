/**
 * The semi-honest protocol suite over additive shares in Z_2^64 or Z_2^128 (one suite per
 * value domain, the same protocol: `semiHonest` and `semiHonest128`).
 *
 * - Input: the owner derives the other parties' shares from fresh 32-byte seeds and keeps
 *   x − Σ PRG(seed_j); it sends each peer only its seeds (one message per peer for all of
 *   the owner's inputs), so sharing a vector of any length costs 32 bytes per peer.
 * - Multiplication: Beaver [Bea91] with dealer triples; a layer opens d = x − a and
 *   e = y − b for its whole batch in one message per peer, then
 *   z = c + d·b + e·a + d·e (the public d·e added by party 0 only), as in SPDZ's online
 *   phase [DPSZ12 §2] without MACs.
 * - Output: every party sends its share to each party recipient; external recipients get
 *   shares from the node layer.
 * Secure against honest-but-curious parties only; see README "Threat model".
 * @module
 */
import { D64, D128, type Domain } from './domain.ts';
import { MpcError, ErrorCode } from '../errors.ts';
import * as z64 from '../ring/z64.ts';
import * as z128 from '../ring/z128.ts';
import type { Z128Vec } from '../ring/z128.ts';
import { Prg } from '../ring/prg.ts';
import { bytesToU64, u64ToBytes } from '../ring/encoding.ts';
import { MessageKind } from './transport.ts';
import type { Session } from './session.ts';
import type { InputSpec, OutputResult, OutputSpec, ProtocolSuite } from './suite.ts';
import { SemiHonestPrep, semiHonestItems, type SemiHonestMaterialSource, type SemiHonestSource } from './semi-honest-prep.ts';
import { abortedBy } from '../util/run-ahead.ts';
import { kernelsOf } from './kernels.ts';
import { fromWire, wireBytes } from './spdz2k/wire.ts';

const SEED_BYTES = 32;
export const INPUT_LABEL = 'tessera/input/v1';

/** A received payload must have exactly the size the protocol step expects. */
export function expectBytes(payload: Uint8Array, bytes: number, from: string, what: string): Uint8Array {
  if (payload.byteLength !== bytes) {
    throw new MpcError(ErrorCode.PROTOCOL, `party ${from} sent ${payload.byteLength} bytes for ${what}, expected ${bytes}`, { party: from });
  }
  return payload;
}

/** What the protocol needs of a domain beyond the public operations: shares and their arithmetic. */
interface ShareRing<V> {
  readonly D: Domain<V>;
  /** `n` pseudorandom elements from `prg`. */
  random(prg: Prg, n: number): V;
  /** a + b into a (returned). */
  addTo(a: V, b: V): V;
  /** a − b into a (returned). */
  subTo(a: V, b: V): V;
  copy(a: V): V;
  /** Copy `part` into `into` at element `offset`. */
  place(into: V, offset: number, part: V): void;
  /** A received vector: a view of the payload where it can be one (it is only read). */
  fromWire(bytes: Uint8Array): V;
  /** The vector's wire bytes: a view where its limbs already lie in wire order in one buffer. */
  wire(v: V): Uint8Array;
  /** Preprocessing material (64-bit words: one per element, or low limbs then high limbs) as a vector of n elements. */
  view(words: BigUint64Array, n: number): V;
  /** One Beaver layer (below). */
  multiply(s: Session<SemiHonestSource>, round: number, x: V, y: V): Promise<V>;
}

/**
 * Share every input in one round. `mine` holds this party's own input values by wire.
 * Returns this party's share of every input wire.
 */
async function shareInputs<V>(
  R: ShareRing<V>,
  s: Session<SemiHonestSource>,
  specs: readonly InputSpec[],
  mine: ReadonlyMap<number, V>,
): Promise<Map<number, V>> {
  const n = s.parties.length;
  const out = new Map<number, V>();
  const owned = specs.filter((x) => x.owner === s.self);
  if (owned.length > 0) {
    const seeds = Array.from({ length: n }, () => new Uint8Array(owned.length * SEED_BYTES));
    owned.forEach((spec, k) => {
      const x = mine.get(spec.wire);
      if (!x || R.D.length(x) !== spec.length) throw new RangeError(`missing or mis-sized own input for wire ${spec.wire}`);
      const share = R.copy(x);
      for (let j = 0; j < n; j++) {
        if (j === s.self) continue;
        const seed = s.rng.bytes(SEED_BYTES);
        seeds[j].set(seed, k * SEED_BYTES);
        R.subTo(share, R.random(new Prg(seed, INPUT_LABEL), spec.length));
      }
      out.set(spec.wire, share);
    });
    await Promise.all(
      seeds.map((payload, j) => (j === s.self ? undefined : s.transport.send(j, MessageKind.Input, 0, payload))),
    );
  }
  const owners = [...new Set(specs.map((x) => x.owner))].filter((o) => o !== s.self);
  await Promise.all(
    owners.map(async (o) => {
      const mineFrom = specs.filter((x) => x.owner === o);
      const payload = expectBytes(await s.transport.recv(o, MessageKind.Input, 0), mineFrom.length * SEED_BYTES, s.parties[o], 'input seeds');
      mineFrom.forEach((spec, k) => {
        out.set(spec.wire, R.random(new Prg(payload.subarray(k * SEED_BYTES, (k + 1) * SEED_BYTES), INPUT_LABEL), spec.length));
      });
    }),
  );
  return out;
}

/**
 * Σ over the parties of `mine` (this party's vector): sent to every peer in one message, and
 * each peer's added as it arrives. Returns a fresh vector.
 */
async function sumOverParties<V>(R: ShareRing<V>, s: Session<SemiHonestSource>, kind: MessageKind, round: number, mine: V, what: string): Promise<V> {
  const bytes = R.wire(mine);
  const total = R.copy(mine);
  const tasks: Promise<void>[] = [];
  for (let j = 0; j < s.parties.length; j++) {
    if (j === s.self) continue;
    tasks.push(s.transport.send(j, kind, round, bytes));
    tasks.push(s.transport.recv(j, kind, round).then((p) => void R.addTo(total, R.fromWire(expectBytes(p, bytes.byteLength, s.parties[j], what)))));
  }
  await Promise.all(tasks);
  return total;
}

/**
 * One Beaver layer in Z_2^64: multiply x by y elementwise (both shared, same length) in one
 * round. `round` numbers the layer so messages of different layers never mix. The arithmetic
 * runs on the session's kernels (in-thread or a worker pool, src/protocol/kernels.ts); the
 * messages are the same either way.
 */
async function multiply64(s: Session<SemiHonestSource>, round: number, x: BigUint64Array, y: BigUint64Array): Promise<BigUint64Array> {
  const w = x.length;
  if (y.length !== w) throw new RangeError(`multiply: operands of ${w} and ${y.length} elements`);
  const k = kernelsOf(s);
  const t = await s.prep.triples(w, k);
  const a = k.reach64(t.a);
  const b = k.reach64(t.b);
  // This party's shares of d and e, laid out as one [d | e] message for every peer.
  const mine = k.alloc64(2 * w);
  await k.run({ op: 'beaverOpen64', x: k.reach64(x), y: k.reach64(y), a, b, out: mine });
  const n = s.parties.length;
  const opened = k.alloc64(2 * w);
  // Σ of the openings: the first peer's is added to ours straight into `opened`.
  let sum = mine;
  const bytes = u64ToBytes(mine);
  const sends: Promise<void>[] = [];
  for (let j = 0; j < n; j++) if (j !== s.self) sends.push(s.transport.send(j, MessageKind.Open, round, bytes));
  const recvs: Promise<void>[] = [];
  for (let j = 0; j < n; j++) {
    if (j === s.self) continue;
    recvs.push(
      s.transport.recv(j, MessageKind.Open, round).then((p) => {
        const theirs = bytesToU64(expectBytes(p, 16 * w, s.parties[j], `the openings of layer ${round}`));
        sum = z64.add(sum, theirs, opened);
      }),
    );
  }
  await Promise.all([...sends, ...recvs]);
  if (sum === mine) opened.set(mine); // no peers
  const d = opened.subarray(0, w);
  const e = opened.subarray(w);
  // In-thread, z is written over c (a fresh array of its own); a shared c may be a view into
  // the chunk's whole preprocessing buffer, which z must not keep alive.
  const c = k.reach64(t.c);
  const z = k.shares(w) ? k.alloc64(w) : c;
  await k.run({ op: 'beaverCombine64', c, a, b, d, e, addDE: s.self === 0, out: z });
  return z;
}

/**
 * One Beaver layer in Z_2^128, in the calling thread: the same messages, 16 bytes per element.
 * d and e are written straight into the message's wire layout (the low limbs of [d | e], then
 * the high limbs), and received openings are read in place, so nothing is copied to send.
 */
async function multiply128(s: Session<SemiHonestSource>, round: number, x: Z128Vec, y: Z128Vec): Promise<Z128Vec> {
  const w = x.lo.length;
  if (y.lo.length !== w) throw new RangeError(`multiply: operands of ${w} and ${y.lo.length} elements`);
  const t = await s.prep.triples(w);
  const [a, b, c] = [t.a, t.b, t.c].map((m) => RING128.view(m, w));
  const mine = new BigUint64Array(4 * w);
  const part = (k: number): Z128Vec => ({ lo: mine.subarray(k * w, (k + 1) * w), hi: mine.subarray((2 + k) * w, (3 + k) * w) });
  z128.sub(x, a, part(0));
  z128.sub(y, b, part(1));
  const opened = await sumOverParties(RING128, s, MessageKind.Open, round, RING128.view(mine, 2 * w), `the openings of layer ${round}`);
  return z128.beaverCombine(c, a, b, D128.slice(opened, 0, w), D128.slice(opened, w, 2 * w), s.self === 0, c);
}

/**
 * Deliver outputs: each party sends its shares of the outputs addressed to party j in one
 * message to j; the analyst's messages are simply this party's shares.
 */
async function deliverOutputs<V>(R: ShareRing<V>, s: Session<SemiHonestSource>, outputs: readonly OutputSpec<V>[]): Promise<OutputResult<V>> {
  const n = s.parties.length;
  const { D } = R;
  const toParty: V[][] = s.parties.map(() => []);
  for (const o of outputs) for (const j of o.toParties) toParty[j].push(o.share);
  const sends: Promise<void>[] = [];
  for (let j = 0; j < n; j++) {
    if (j !== s.self && toParty[j].length > 0) sends.push(s.transport.send(j, MessageKind.Output, 0, D.toBytes(D.concat(toParty[j]))));
  }
  const mine = outputs.filter((o) => o.toParties.includes(s.self));
  // A fresh copy even for one part: the sum is accumulated in place.
  const total = R.copy(D.concat(mine.map((o) => o.share)));
  if (mine.length > 0) {
    for (let j = 0; j < n; j++) {
      if (j === s.self) continue;
      const p = expectBytes(await s.transport.recv(j, MessageKind.Output, 0), D.length(total) * D.bytes, s.parties[j], 'output shares');
      R.addTo(total, R.fromWire(p));
    }
  }
  await Promise.all(sends);
  const values: Record<string, V> = {};
  let off = 0;
  for (const o of mine) {
    const len = D.length(o.share);
    values[o.name] = D.slice(total, off, off + len);
    off += len;
  }
  const external: Record<string, Uint8Array> = {};
  for (const o of outputs) if (o.external) external[o.name] = D.toBytes(o.share);
  return { values, external };
}

const RING64: ShareRing<BigUint64Array> = {
  D: D64,
  random: (prg, n) => prg.u64(n),
  addTo: (a, b) => z64.add(a, b, a),
  subTo: (a, b) => z64.sub(a, b, a),
  copy: (a) => new BigUint64Array(a),
  place: (into, offset, part) => into.set(part, offset),
  fromWire: bytesToU64,
  wire: u64ToBytes,
  view: (words) => words,
  multiply: multiply64,
};

const RING128: ShareRing<Z128Vec> = {
  D: D128,
  random: (prg, n) => prg.z128(n),
  addTo: (a, b) => z128.add(a, b, a),
  subTo: (a, b) => z128.sub(a, b, a),
  copy: (a) => ({ lo: a.lo.slice(), hi: a.hi.slice() }),
  place: (into, offset, part) => {
    into.lo.set(part.lo, offset);
    into.hi.set(part.hi, offset);
  },
  fromWire: (bytes) => fromWire(bytes, bytes.byteLength / 16),
  wire: wireBytes,
  view: (words, n) => z128.wordsView(words, n),
  multiply: multiply128,
};

/** Semi-honest additive sharing over the ring of `R`: a share is a vector of the domain. */
function semiHonestSuite<V>(R: ShareRing<V>): ProtocolSuite<V, SemiHonestSource, V> {
  const { D } = R;
  const ring = D.ring;
  return {
    name: 'semi-honest',
    domain: D,
    length: (s) => D.length(s),
    // Party 0 holds the public value, everyone else zero: a valid additive sharing.
    fromPublic: (session, v) => (session.self === 0 ? R.copy(v) : D.alloc(D.length(v))),
    add: (a, b) => D.elementwise('add', a, b),
    sub: (a, b) => D.elementwise('sub', a, b),
    neg: (a) => D.neg(a),
    sum: (a) => D.sum(a),
    mulPublic: (a, p) => D.elementwise('mul', a, p),
    broadcast: (a, length) => D.broadcast(a, length),
    concat: (parts) => D.concat(parts),
    slice: (a, start, end) => D.slice(a, start, end),
    gather: (a, index, block) => D.gather(a, index, block),
    allocate: (length) => D.alloc(length),
    place: (into, offset, part) => R.place(into, offset, part),
    pack: (a, count, shift) => D.pack(a, count, shift),
    input: (session, specs, mine) => shareInputs(R, session, specs, mine),
    multiply: (session, round, x, y) => R.multiply(session, round, x, y),
    open: (session, round, x) => sumOverParties(R, session, MessageKind.Open, round, x, `openings of round ${round}`),
    rand: async (session, bits, length) => R.view(await session.prep.rand(bits, length), length),
    output: (session, outputs) => deliverOutputs(R, session, outputs),
    reconstructExternal: (messages, length, name) => {
      const acc = D.alloc(length);
      messages.forEach((m, i) => R.addTo(acc, R.fromWire(expectBytes(m, length * D.bytes, `#${i}`, `output ${name}`))));
      return acc;
    },
    prep: (plan, _n, _self, material, signal) => abortedBy(signal, new SemiHonestPrep(semiHonestItems(plan), material as SemiHonestMaterialSource, undefined, ring)),
  };
}

export const semiHonest = semiHonestSuite(RING64);
export const semiHonest128 = semiHonestSuite(RING128);
