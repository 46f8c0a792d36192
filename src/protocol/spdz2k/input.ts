/**
 * Authenticated input [CDESX18 §4, Π_Online "Input"; as in DPSZ12, online phase]: the owner of x holds
 * the value r of an authenticated random mask [[r]] from preprocessing, broadcasts
 * δ = x − r (128 bits: r is uniform in Z_2^128, so δ reveals nothing), and every party sets
 * [[x]] = [[r]] + δ (party 0 adds δ to its value share; every party adds α_i·δ to its MAC
 * share).
 *
 * Broadcast is point-to-point, so a corrupt owner could send different δ to different
 * parties. Before any δ is used, the parties compare what they received: each sends every
 * other party, per input owner, SHA-256(tag ‖ owner ‖ bytes received from that owner) —
 * broadcast with abort by echoing hashes (Goldwasser–Lindell, "Secure computation without
 * agreement"), where DPSZ12 assumes a broadcast channel. A mismatch aborts with PROTOCOL
 * "inconsistent input broadcast from <owner>".
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import type { InputSpec } from '../suite.ts';
import type { Spdz2kPrep } from './prep.ts';
import type { AuthShare } from './share.ts';
import { concat128, slice128 } from './share.ts';
import { equalBytes, exchange, expectBytes, taggedHash, u32 } from './wire.ts';

const BROADCAST_TAG = 'tessera/spdz2k/v1/input-broadcast';

/** Share every input in one round plus one broadcast-check round. `mine` holds this party's own values by wire. */
export async function shareInputs(
  s: Session<Spdz2kPrep>,
  specs: readonly InputSpec[],
  mine: ReadonlyMap<number, BigUint64Array>,
): Promise<Map<number, AuthShare>> {
  const prep = s.prep;
  prep.checkParties(s.parties);
  const n = s.parties.length;
  // Claim every mask now, in plan order (the dealer's order).
  const masks = await Promise.all(specs.map((spec) => prep.inputMask(spec.owner, spec.length)));
  const out = new Map<number, AuthShare>();
  if (specs.length === 0) return out;

  // δ = x − r for this party's own inputs, one message for all of them.
  const ownIdx = specs.flatMap((spec, k) => (spec.owner === s.self ? [k] : []));
  const deltas = new Array<Z128Vec>(specs.length);
  const received = new Map<number, Uint8Array>();
  if (ownIdx.length > 0) {
    const parts = ownIdx.map((k) => {
      const spec = specs[k];
      const x = mine.get(spec.wire);
      if (!x || x.length !== spec.length) throw new RangeError(`missing or mis-sized own input for wire ${spec.wire}`);
      return z128.sub(z128.lift(x), masks[k].value!);
    });
    const payload = z128.toBytes(concat128(parts));
    received.set(s.self, payload);
    await Promise.all(s.parties.map((_, j) => (j === s.self ? undefined : s.transport.send(j, MessageKind.Input, 0, payload))));
  }
  const owners = [...new Set(specs.map((x) => x.owner))].sort((a, b) => a - b);
  await Promise.all(
    owners
      .filter((o) => o !== s.self)
      .map(async (o) => {
        const bytes = 16 * specs.reduce((t, x) => t + (x.owner === o ? x.length : 0), 0);
        received.set(o, expectBytes(await s.transport.recv(o, MessageKind.Input, 0), bytes, s.parties[o], 'masked inputs'));
      }),
  );

  // Broadcast check: everybody must have seen the same bytes from every owner.
  const digests = new Uint8Array(32 * owners.length);
  owners.forEach((o, k) => digests.set(taggedHash(BROADCAST_TAG, u32(o), received.get(o)!), 32 * k));
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

  // [[x]] = [[r]] + δ.
  for (const o of owners) {
    const all = z128.fromBytes(received.get(o)!);
    let off = 0;
    specs.forEach((spec, k) => {
      if (spec.owner !== o) return;
      deltas[k] = slice128(all, off, off + spec.length);
      off += spec.length;
    });
  }
  specs.forEach((spec, k) => {
    const r = masks[k].share;
    const d = deltas[k];
    out.set(spec.wire, { x: s.self === 0 ? z128.add(r.x, d) : r.x, m: z128.add(r.m, z128.mulScalar(d, prep.alpha)) });
  });
  return out;
}
