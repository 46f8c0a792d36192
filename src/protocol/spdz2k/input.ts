/**
 * Authenticated input [CDESX18 §4, Π_Online "Input"; as in DPSZ12, online phase]: the owner of x holds
 * the value r of an authenticated random mask [[r]] from preprocessing, broadcasts
 * δ = x − r (a whole element of Z_2^{k+s}: r is uniform there, so δ reveals nothing), and every party sets
 * [[x]] = [[r]] + δ (party 0 adds δ to its value share; every party adds α_i·δ to its MAC
 * share).
 *
 * Broadcast is point-to-point, so a corrupt owner could send different δ to different
 * parties. Before any δ is used, the parties compare what they received: each sends every
 * other party, per input owner, SHA-256(tag ‖ owner ‖ bytes received from that owner) —
 * broadcast with abort by echoing hashes (Goldwasser–Lindell, "Secure computation without
 * agreement"), where DPSZ12 assumes a broadcast channel. A mismatch aborts with PROTOCOL
 * "inconsistent input broadcast from <owner>".
 *
 * Chunks: an owner's δ for all its inputs (plan order) form one stream, cut into chunks of
 * MUL_CHUNK elements (chunks.ts); chunk c is its own message (kind Input, round c; 16 bytes
 * per element for k = 64, 24 for k = 128, in wire layout: the chunk's lowest limbs, then the
 * next ones; at most 6 MiB), sent back to
 * back, so all chunks still make one round. Each chunk is applied to the shares as it comes,
 * but the shares are returned only after the broadcast check. The digest is over the
 * owner's whole stream, chunk after chunk: SHA-256(tag ‖ owner ‖ chunk 0 ‖ chunk 1 ‖ …) with
 * `taggedHash`'s framing (the stream counted as one part), so with one chunk it is the digest
 * of the single message, as before.
 * @module
 */
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import type { InputSpec } from '../suite.ts';
import type { Masked, Spdz2kPrep } from './prep.ts';
import type { AuthShare } from './share.ts';
import type { MacRing } from './mac-ring.ts';
import { chunkLayout, MUL_CHUNK, pause } from './chunks.ts';
import { equalBytes, exchange, expectBytes, TaggedHasher, u32 } from './wire.ts';

/** Share every input in one round plus one broadcast-check round. `mine` holds this party's own values by wire. */
export async function shareInputs<V, E>(
  s: Session<Spdz2kPrep<V, E>>,
  specs: readonly InputSpec[],
  mine: ReadonlyMap<number, V>,
): Promise<Map<number, AuthShare<E>>> {
  const prep = s.prep;
  const R = prep.ring;
  const D = R.D;
  prep.checkParties(s.parties);
  const n = s.parties.length;
  // Claim every mask now, in plan order (the dealer's order).
  const masks = await Promise.all(specs.map((spec) => prep.inputMask(spec.owner, spec.length)));
  const out = new Map<number, AuthShare<E>>();
  if (specs.length === 0) return out;
  for (const spec of specs) {
    if (spec.owner !== s.self) continue;
    const x = mine.get(spec.wire);
    if (!x || D.length(x) !== spec.length) throw new RangeError(`missing or mis-sized own input for wire ${spec.wire}`);
  }

  const owners = [...new Set(specs.map((x) => x.owner))].sort((a, b) => a - b);
  const scratch = R.alloc(Math.min(MUL_CHUNK, specs.reduce((t, x) => Math.max(t, x.length), 0)));
  const digests = new Uint8Array(32 * owners.length);
  await Promise.all(
    owners.map(async (o, q) => {
      const ks = specs.flatMap((spec, k) => (spec.owner === o ? [k] : []));
      const layout = chunkLayout(ks.map((k) => specs[k].length));
      const hash = new TaggedHasher(`${R.label}/input-broadcast`).whole(u32(o)).begin(R.bytes * layout.reduce((t, c) => t + c.length, 0));
      for (let c = 0; c < layout.length; c++) {
        const { length, parts } = layout[c];
        await pause(length);
        let bytes: Uint8Array;
        if (o === s.self) {
          // δ = x − r, built in its wire buffer.
          const delta = R.allocWire(length);
          for (const p of parts) {
            const k = ks[p.k];
            const x = R.liftView(D.slice(mine.get(specs[k].wire)!, p.from, p.to));
            R.sub(x, R.slice(masks[k].value!, p.from, p.to), R.slice(delta, p.at, p.at + p.to - p.from));
          }
          bytes = R.wireBytes(delta);
          await Promise.all(s.parties.map((_, j) => (j === s.self ? undefined : s.transport.send(j, MessageKind.Input, c, bytes))));
        } else {
          bytes = expectBytes(await s.transport.recv(o, MessageKind.Input, c), R.bytes * length, s.parties[o], 'masked inputs');
        }
        hash.update(bytes);
        // [[x]] = [[r]] + δ, in place over the mask's share (returned only once the check passed).
        const delta = R.fromWire(bytes, length);
        for (const p of parts) {
          const k = ks[p.k];
          applyDelta(R, masks[k], p.from, p.to, R.slice(delta, p.at, p.at + p.to - p.from), s.self === 0, prep.alpha, scratch);
        }
      }
      digests.set(hash.digest(), 32 * q);
    }),
  );

  // Broadcast check: everybody must have seen the same bytes from every owner.
  const theirs = await exchange(s, MessageKind.BroadcastCheck, 0, digests, digests.length, 'input broadcast digests');
  for (let j = 0; j < n; j++) {
    if (j === s.self) continue;
    owners.forEach((o, k) => {
      if (!equalBytes(theirs[j].subarray(32 * k, 32 * k + 32), digests.subarray(32 * k, 32 * k + 32))) {
        const who = o === j ? `${s.parties[j]} reports having sent other values` : `${s.parties[j]} received other values`;
        throw new MpcError(ErrorCode.PROTOCOL, `inconsistent input broadcast from ${s.parties[o]} (${who} than ${s.parties[s.self]}): aborting before any use`, {
          party: s.parties[o],
        });
      }
    });
  }
  specs.forEach((spec, k) => out.set(spec.wire, masks[k].share));
  return out;
}

/** Elements [from, to) of the share become [[r]] + δ: party 0 adds δ to its value share, every party α_i·δ to its MAC share. */
function applyDelta<E>(R: MacRing<unknown, E>, mask: Masked<E, E>, from: number, to: number, delta: E, first: boolean, alpha: bigint, scratch: E): void {
  const x = R.slice(mask.share.x, from, to);
  const m = R.slice(mask.share.m, from, to);
  if (first) R.add(x, delta, x);
  const t = R.slice(scratch, 0, to - from);
  R.mulScalar(delta, alpha, t);
  R.add(m, t, m);
}
