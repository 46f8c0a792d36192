/**
 * The semi-honest protocol suite over additive shares in Z_2^64.
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
import { D64 } from './domain.ts';
import { MpcError, ErrorCode } from '../errors.ts';
import * as z64 from '../ring/z64.ts';
import { Prg } from '../ring/prg.ts';
import { bytesToU64, u64ToBytes } from '../ring/encoding.ts';
import { MessageKind } from './transport.ts';
import type { Session } from './session.ts';
import type { InputSpec, OutputResult, OutputSpec, ProtocolSuite } from './suite.ts';
import { SemiHonestPrep, semiHonestItems, type SemiHonestMaterialSource, type SemiHonestSource } from './semi-honest-prep.ts';
import { abortedBy } from '../util/run-ahead.ts';
import { broadcast, concat64, elementwise, gather64, pack64 } from './vectors.ts';
import { kernelsOf } from './kernels.ts';

const SEED_BYTES = 32;
export const INPUT_LABEL = 'tessera/input/v1';

/** A received payload must have exactly the size the protocol step expects. */
export function expectBytes(payload: Uint8Array, bytes: number, from: string, what: string): Uint8Array {
  if (payload.byteLength !== bytes) {
    throw new MpcError(ErrorCode.PROTOCOL, `party ${from} sent ${payload.byteLength} bytes for ${what}, expected ${bytes}`, { party: from });
  }
  return payload;
}

/**
 * Share every input in one round. `mine` holds this party's own input values by wire.
 * Returns this party's share of every input wire.
 */
export async function shareInputs(
  s: Session<SemiHonestSource>,
  specs: readonly InputSpec[],
  mine: ReadonlyMap<number, BigUint64Array>,
): Promise<Map<number, BigUint64Array>> {
  const n = s.parties.length;
  const out = new Map<number, BigUint64Array>();
  const owned = specs.filter((x) => x.owner === s.self);
  if (owned.length > 0) {
    const seeds = Array.from({ length: n }, () => new Uint8Array(owned.length * SEED_BYTES));
    owned.forEach((spec, k) => {
      const x = mine.get(spec.wire);
      if (!x || x.length !== spec.length) throw new RangeError(`missing or mis-sized own input for wire ${spec.wire}`);
      const share = new BigUint64Array(x);
      for (let j = 0; j < n; j++) {
        if (j === s.self) continue;
        const seed = s.rng.bytes(SEED_BYTES);
        seeds[j].set(seed, k * SEED_BYTES);
        z64.sub(share, new Prg(seed, INPUT_LABEL).u64(spec.length), share);
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
        out.set(spec.wire, new Prg(payload.subarray(k * SEED_BYTES, (k + 1) * SEED_BYTES), INPUT_LABEL).u64(spec.length));
      });
    }),
  );
  return out;
}

/**
 * One Beaver layer: multiply x by y elementwise (both shared, same length) in one round.
 * `round` numbers the layer so messages of different layers never mix. The arithmetic runs
 * on the session's kernels (in-thread or a worker pool, src/protocol/kernels.ts); the
 * messages are the same either way.
 */
export async function multiply(s: Session<SemiHonestSource>, round: number, x: BigUint64Array, y: BigUint64Array): Promise<BigUint64Array> {
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

/** Open x to every party: one message of this party's shares to each peer, in one round. */
export async function openShares(s: Session<SemiHonestSource>, round: number, x: BigUint64Array): Promise<BigUint64Array> {
  const n = s.parties.length;
  const opened = new BigUint64Array(x.length);
  // Σ of the shares: the first peer's is added to ours straight into `opened`.
  let sum = x;
  const bytes = u64ToBytes(x);
  const tasks: Promise<void>[] = [];
  for (let j = 0; j < n; j++) {
    if (j === s.self) continue;
    tasks.push(s.transport.send(j, MessageKind.Open, round, bytes));
    tasks.push(
      s.transport.recv(j, MessageKind.Open, round).then((p) => {
        sum = z64.add(sum, bytesToU64(expectBytes(p, 8 * x.length, s.parties[j], `openings of round ${round}`)), opened);
      }),
    );
  }
  await Promise.all(tasks);
  if (sum === x) opened.set(x); // no peers
  return opened;
}

/**
 * Deliver outputs: each party sends its shares of the outputs addressed to party j in one
 * message to j; the analyst's messages are simply this party's shares.
 */
export async function deliverOutputs(s: Session<SemiHonestSource>, outputs: readonly OutputSpec<BigUint64Array>[]): Promise<OutputResult> {
  const n = s.parties.length;
  const toParty: BigUint64Array[][] = s.parties.map(() => []);
  for (const o of outputs) for (const j of o.toParties) toParty[j].push(o.share);
  const sends: Promise<void>[] = [];
  for (let j = 0; j < n; j++) {
    if (j !== s.self && toParty[j].length > 0) sends.push(s.transport.send(j, MessageKind.Output, 0, u64ToBytes(concat64(toParty[j]))));
  }
  const mine = outputs.filter((o) => o.toParties.includes(s.self));
  // A fresh copy even for one part: the sum is accumulated in place.
  const total = new BigUint64Array(concat64(mine.map((o) => o.share)));
  if (mine.length > 0) {
    for (let j = 0; j < n; j++) {
      if (j === s.self) continue;
      const p = expectBytes(await s.transport.recv(j, MessageKind.Output, 0), total.length * 8, s.parties[j], 'output shares');
      z64.add(total, bytesToU64(p), total);
    }
  }
  await Promise.all(sends);
  const values: Record<string, BigUint64Array> = {};
  let off = 0;
  for (const o of mine) {
    values[o.name] = total.subarray(off, off + o.share.length);
    off += o.share.length;
  }
  const external: Record<string, Uint8Array> = {};
  for (const o of outputs) if (o.external) external[o.name] = u64ToBytes(o.share);
  return { values, external };
}

/** Semi-honest additive sharing over Z_2^64: a share is a BigUint64Array. */
export const semiHonest: ProtocolSuite<BigUint64Array, SemiHonestSource> = {
  name: 'semi-honest',
  domain: D64,
  length: (s) => s.length,
  // Party 0 holds the public value, everyone else zero: a valid additive sharing.
  fromPublic: (session, v) => (session.self === 0 ? new BigUint64Array(v) : new BigUint64Array(v.length)),
  add: (a, b) => elementwise('add', a, b),
  sub: (a, b) => elementwise('sub', a, b),
  neg: (a) => z64.neg(a),
  sum: (a) => BigUint64Array.of(z64.sum(a)),
  mulPublic: (a, p) => elementwise('mul', a, p),
  broadcast,
  concat: concat64,
  slice: (a, start, end) => a.subarray(start, end),
  gather: gather64,
  allocate: (length) => new BigUint64Array(length),
  place: (into, offset, part) => into.set(part, offset),
  pack: pack64,
  input: shareInputs,
  multiply,
  open: openShares,
  rand: (session, bits, length) => session.prep.rand(bits, length),
  output: deliverOutputs,
  reconstructExternal: (messages, length, name) => {
    const acc = new BigUint64Array(length);
    messages.forEach((m, i) => z64.add(acc, bytesToU64(expectBytes(m, length * 8, `#${i}`, `output ${name}`)), acc));
    return acc;
  },
  prep: (plan, _n, _self, material, signal) => abortedBy(signal, new SemiHonestPrep(semiHonestItems(plan), material as SemiHonestMaterialSource)),
};
