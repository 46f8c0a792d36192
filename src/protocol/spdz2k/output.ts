/**
 * Outputs with verification, for party recipients and for the analyst.
 *
 * An opened SPDZ2k value must not show its upper 64 bits (they depend on the inputs beyond
 * the value mod 2^64) [CDESX18 §4, "Output"], and a recipient must be able to tell a
 * correct output from one a corrupt party shifted. Nothing is released before the final
 * MAC check (mac-check.ts) has passed on every value opened in the job.
 *
 * Party recipient j of output x (the mirror image of input [DPSZ12]): the dealer gave j
 * the low 64 bits of an authenticated mask [[r]] (r uniform in Z_2^128); all parties open
 * z = x − r (uniform: reveals nothing, and r's unknown upper half hides x's), the MAC check
 * covers z as j received it, and j outputs (z + r) mod 2^64. Acceptance depends only on
 * what the adversary did, never on x.
 *
 * The analyst holds no preprocessing, so it gets an information-theoretic MAC under a
 * one-time key κ that is revealed only after every party is bound to its shares:
 * 1. [[y]] = [[x]] + 2^64·[[ρ]] (hides the upper bits), and [[u]] = [[κ]]·[[y]] by one
 *    Beaver round (opened together with the party outputs' z, one message per peer);
 * 2. every party commits to its shares (y_i, u_i) of each analyst output (SHA-256 with a
 *    32-byte nonce) and sends the commitments to every other party;
 * 3. only then is [[κ]] opened (and MAC-checked with everything else);
 * 4. after the final MAC check, party i's message to the analyst is
 *    index ‖ n ‖ κ ‖ (all n commitments as i received them) ‖ nonce ‖ y_i ‖ u_i.
 * The analyst checks that all parties report the same κ and the same commitments, that
 * every opening matches its commitment, and that Σu_i ≡ κ·Σy_i (mod 2^128) elementwise.
 * Shares are fixed before κ is known and κ is uniform, so a party that shifts its y share by
 * δ (δ ≢ 0 mod 2^64) is caught except with probability ≤ 2^-65 per element; and since κ is
 * authenticated, it cannot shift κ to make acceptance depend on y.
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import * as z64 from '../../ring/z64.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../transport.ts';
import type { Session } from '../session.ts';
import type { OutputResult, OutputSpec } from '../suite.ts';
import type { Spdz2kPrep } from './prep.ts';
import {
  bigintFrom16,
  broadcastShare,
  concatShares,
  shareLength,
  shift64,
  slice128,
  subShares,
  addShares,
  type AuthShare,
} from './share.ts';
import { equalBytes, exchange, expectBytes, openShares, taggedHash, text, u32 } from './wire.ts';

const OUTPUT_TAG = 'tessera/spdz2k/v1/analyst-output-commitment';

/** Size of one party's message to the analyst for an output of `length` elements among `n` parties. */
export function externalMessageBytes(n: number, length: number): number {
  return 8 + 16 + 32 * n + 32 + 32 * length;
}

function commitment(name: string, party: number, nonce: Uint8Array, y: Uint8Array, u: Uint8Array): Uint8Array {
  return taggedHash(OUTPUT_TAG, text(name), u32(party), nonce, y, u);
}

/** Deliver every output (see the module comment). Throws MAC_CHECK, releasing nothing, if any check fails. */
export async function deliverOutputs(s: Session<Spdz2kPrep>, outputs: readonly OutputSpec<AuthShare>[]): Promise<OutputResult> {
  const prep = s.prep;
  prep.checkParties(s.parties);
  const n = s.parties.length;

  // Claim preprocessing in schedule order, and the log slot, before the first await.
  const partyOuts = outputs.flatMap((o) => o.toParties.map((j) => ({ o, j })));
  const maskPs = partyOuts.map(({ o, j }) => prep.outputMask(j, shareLength(o.share)));
  const ext = outputs.filter((o) => o.external);
  const W = ext.reduce((t, o) => t + shareLength(o.share), 0);
  const analyst = ext.length > 0 ? { rho: prep.random(W), kappa: prep.random(1), triple: prep.triples(W) } : undefined;
  const zCount = partyOuts.reduce((t, p) => t + shareLength(p.o.share), 0);
  const slot = prep.opened.claim(s, 2 * W + zCount, 'outputs');

  let opened: Z128Vec;
  let masks: Awaited<(typeof maskPs)[number]>[];
  let tagged: { y: Z128Vec; u: Z128Vec; kappa: AuthShare } | undefined;
  try {
    masks = await Promise.all(maskPs);
    const zs = partyOuts.map((p, k) => subShares(p.o.share, masks[k].share));
    const parts: AuthShare[] = [];
    let ab: { y: AuthShare; kappa: AuthShare; t: Awaited<ReturnType<Spdz2kPrep['triples']>> } | undefined;
    if (analyst) {
      const [rho, kappa, t] = await Promise.all([analyst.rho, analyst.kappa, analyst.triple]);
      const x = concatShares(ext.map((o) => o.share));
      const y = addShares(x, { x: shift64(rho.x), m: shift64(rho.m) });
      parts.push(subShares(broadcastShare(kappa, W), t.a), subShares(y, t.b));
      ab = { y, kappa, t };
    }
    parts.push(...zs);
    const all = concatShares(parts.length > 0 ? parts : [{ x: z128.alloc(0), m: z128.alloc(0) }]);
    opened = await openShares(s, MessageKind.Open, prep.outputRound, all.x, 'the output openings');
    slot.done(opened, all.m);
    if (ab) {
      // [[u]] = [[κ]]·[[y]]: value shares only, u is never opened among the parties.
      const u = z128.beaverCombine(ab.t.c.x, ab.t.a.x, ab.t.b.x, slice128(opened, 0, W), slice128(opened, W, 2 * W), s.self === 0);
      tagged = { y: ab.y.x, u, kappa: ab.kappa };
    }
  } catch (err) {
    slot.fail(err);
    throw err;
  }

  // Analyst outputs: bind every party to its shares, then open κ.
  let kappaOpen: Z128Vec | undefined;
  let commits: Uint8Array[] = [];
  const nonces: Uint8Array[] = [];
  const extParts: { y: Uint8Array; u: Uint8Array }[] = [];
  if (tagged) {
    let off = 0;
    const mineC = new Uint8Array(32 * ext.length);
    ext.forEach((o, q) => {
      const len = shareLength(o.share);
      const y = z128.toBytes(slice128(tagged!.y, off, off + len));
      const u = z128.toBytes(slice128(tagged!.u, off, off + len));
      off += len;
      const nonce = s.rng.bytes(32);
      nonces.push(nonce);
      extParts.push({ y, u });
      mineC.set(commitment(o.name, s.self, nonce, y, u), 32 * q);
    });
    commits = await exchange(s, MessageKind.Output, 0, mineC, mineC.length, 'output commitments');
    const kslot = prep.opened.claim(s, 1, 'output key');
    try {
      kappaOpen = await openShares(s, MessageKind.Open, prep.outputRound + 1, tagged.kappa.x, "the analyst's output key");
      kslot.done(kappaOpen, tagged.kappa.m);
    } catch (err) {
      kslot.fail(err);
      throw err;
    }
  }

  // Nothing leaves before every opened value is MAC-checked [CDESX18 §4; DKLPSS13, MACCheck].
  await prep.opened.flush(s);

  const values: Record<string, BigUint64Array> = {};
  let off = 2 * W;
  partyOuts.forEach((p, k) => {
    const len = shareLength(p.o.share);
    if (p.j === s.self) values[p.o.name] = z64.add(slice128(opened, off, off + len).lo, masks[k].value!);
    off += len;
  });
  const external: Record<string, Uint8Array> = {};
  if (tagged) {
    const kb = z128.toBytes(kappaOpen!);
    ext.forEach((o, q) => {
      const len = shareLength(o.share);
      const msg = new Uint8Array(externalMessageBytes(n, len));
      const dv = new DataView(msg.buffer);
      dv.setUint32(0, s.self, true);
      dv.setUint32(4, n, true);
      msg.set(kb, 8);
      for (let j = 0; j < n; j++) msg.set(commits[j].subarray(32 * q, 32 * q + 32), 24 + 32 * j);
      const at = 24 + 32 * n;
      msg.set(nonces[q], at);
      msg.set(extParts[q].y, at + 32);
      msg.set(extParts[q].u, at + 32 + 16 * len);
      external[o.name] = msg;
    });
  }
  return { values, external };
}

function rejected(name: string, why: string, party?: string): MpcError {
  return new MpcError(ErrorCode.MAC_CHECK, `output ${name} failed verification: ${why}`, party === undefined ? {} : { party });
}

/** The analyst's side: combine every party's message for output `name` of `length` elements, and verify it. */
export function reconstructExternal(messages: readonly Uint8Array[], length: number, name: string): BigUint64Array {
  const n = messages.length;
  if (n < 1) throw new MpcError(ErrorCode.PROTOCOL, `output ${name}: no messages from the parties`);
  const size = externalMessageBytes(n, length);
  const parsed = messages.map((m, i) => {
    const b = expectBytes(m instanceof Uint8Array ? m : new Uint8Array(0), size, `#${i}`, `output ${name}`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const at = 24 + 32 * n;
    return {
      index: dv.getUint32(0, true),
      n: dv.getUint32(4, true),
      kappa: b.subarray(8, 24),
      commits: b.subarray(24, at),
      nonce: b.subarray(at, at + 32),
      y: b.subarray(at + 32, at + 32 + 16 * length),
      u: b.subarray(at + 32 + 16 * length),
    };
  });
  const seen = new Set(parsed.map((p) => p.index));
  if (parsed.some((p) => p.n !== n || p.index >= n) || seen.size !== n) {
    throw rejected(name, `the parties' messages do not come from ${n} distinct parties of a ${n}-party job`);
  }
  for (const p of parsed) {
    if (!equalBytes(p.kappa, parsed[0].kappa)) throw rejected(name, `parties ${parsed[0].index} and ${p.index} report different output keys`);
    if (!equalBytes(p.commits, parsed[0].commits)) throw rejected(name, `parties ${parsed[0].index} and ${p.index} received different commitments`);
  }
  const commits = parsed[0].commits;
  for (const p of parsed) {
    if (!equalBytes(commitment(name, p.index, p.nonce, p.y, p.u), commits.subarray(32 * p.index, 32 * p.index + 32))) {
      throw rejected(name, `commitment mismatch from party #${p.index}`, `#${p.index}`);
    }
  }
  const y = z128.alloc(length);
  const u = z128.alloc(length);
  for (const p of parsed) {
    z128.add(y, z128.fromBytes(p.y), y);
    z128.add(u, z128.fromBytes(p.u), u);
  }
  const ky = z128.mulScalar(y, bigintFrom16(parsed[0].kappa));
  for (let i = 0; i < length; i++) {
    if (ky.lo[i] !== u.lo[i] || ky.hi[i] !== u.hi[i]) throw rejected(name, `element ${i} does not match its tag (a party altered its share)`);
  }
  return z128.low64(y);
}
