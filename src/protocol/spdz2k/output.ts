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
 *
 * Chunks: the output opening is one stream [κ − a (W) | y − b (W) | z per (output, party
 * recipient)] (W the total analyst-output length, none of it without analyst outputs), cut
 * into chunks of MUL_CHUNK elements (chunks.ts); chunk c is opened under round
 * c·2^20 + L (`chunkRound(L, c)`, L = plan.layers.length: the slots of a layer L that does not
 * exist), at most OUTPUT_WINDOW chunks in flight, each logged for the MAC check as it is
 * received. ρ and the analyst's triples come in pieces of the same size (schedule.ts), and
 * every long loop (y, u, commitments, the analyst messages, the recipients' values) runs piece
 * by piece with pauses.
 * Shares are fixed before κ is known and κ is uniform, so a party that shifts its y share by
 * δ (δ ≢ 0 mod 2^64) is caught except with probability ≤ 2^-65 per element; and since κ is
 * authenticated, it cannot shift κ to make acceptance depend on y.
 * @module
 */
import * as z128 from '../../ring/z128.ts';
import type { Z128Vec } from '../../ring/z128.ts';
import * as z64 from '../../ring/z64.ts';
import { u64ToBytes } from '../../ring/encoding.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../transport.ts';
import { chunkRound } from '../executor.ts';
import type { Session } from '../session.ts';
import type { OutputResult, OutputSpec } from '../suite.ts';
import type { AuthTriple, Spdz2kPrep } from './prep.ts';
import { bigintFrom16, shareLength, slice128, type AuthShare } from './share.ts';
import { ChunkedVec, chunkLayout, forPieces, MUL_CHUNK, pause, pieces } from './chunks.ts';
import { allocWire, equalBytes, exchange, expectBytes, openShares, TaggedHasher, text, u32 } from './wire.ts';

const OUTPUT_TAG = 'tessera/spdz2k/v1/analyst-output-commitment';

/** Chunks of the output opening in flight at once (as for a layer's chunks, executor.ts). */
const OUTPUT_WINDOW = 4;

/** Size of one party's message to the analyst for an output of `length` elements among `n` parties. */
export function externalMessageBytes(n: number, length: number): number {
  return 8 + 16 + 32 * n + 32 + 32 * length;
}

/** The commitment to a party's shares: SHA-256 over (tag, name, party, nonce, y, u) in wire layout (`taggedHash` framing). */
function commitment(name: string, party: number, nonce: Uint8Array, y: Uint8Array, u: Uint8Array): Uint8Array {
  return new TaggedHasher(OUTPUT_TAG).whole(text(name)).whole(u32(party)).whole(nonce).whole(y).whole(u).digest();
}

/** `commitment` over vectors, fed piece by piece with pauses: y and u in wire layout (low limbs, then high limbs). */
async function commitmentOf(name: string, party: number, nonce: Uint8Array, y: Z128Vec, u: Z128Vec): Promise<Uint8Array> {
  const h = new TaggedHasher(OUTPUT_TAG).whole(text(name)).whole(u32(party)).whole(nonce);
  for (const v of [y, u]) {
    h.begin(16 * v.lo.length);
    for (const limbs of [v.lo, v.hi]) {
      for (let i = 0; i < limbs.length; i += MUL_CHUNK) {
        await pause(Math.min(MUL_CHUNK, limbs.length - i));
        h.update(u64ToBytes(limbs.subarray(i, i + MUL_CHUNK)));
      }
    }
  }
  return h.digest();
}

/** `v` in wire layout into `dst` from byte `at`, piece by piece with pauses. */
async function copyWire(v: Z128Vec, dst: Uint8Array, at: number): Promise<void> {
  const n = v.lo.length;
  for (const [limbs, base] of [[v.lo, at], [v.hi, at + 8 * n]] as const) {
    for (let i = 0; i < n; i += MUL_CHUNK) {
      await pause(Math.min(MUL_CHUNK, n - i));
      dst.set(u64ToBytes(limbs.subarray(i, i + MUL_CHUNK)), base + 8 * i);
    }
  }
}

/** A one-element vector's value as a bigint. */
const scalarOf = (v: Z128Vec): bigint => (v.hi[0] << 64n) | v.lo[0];

function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Deliver every output (see the module comment). Throws MAC_CHECK, releasing nothing, if any check fails. */
export async function deliverOutputs(s: Session<Spdz2kPrep>, outputs: readonly OutputSpec<AuthShare>[]): Promise<OutputResult> {
  const prep = s.prep;
  prep.checkParties(s.parties);
  const n = s.parties.length;

  // Claim preprocessing in schedule order, and the log slots, before the first await.
  const partyOuts = outputs.flatMap((o) => o.toParties.map((j) => ({ o, j, length: shareLength(o.share) })));
  const maskPs = partyOuts.map(({ j, length }) => quiet(prep.outputMask(j, length)));
  const ext = outputs.filter((o) => o.external);
  const W = ext.reduce((t, o) => t + shareLength(o.share), 0);
  const analyst =
    ext.length > 0 ? { rho: quiet(prep.random(W)), kappa: quiet(prep.random(1)), triples: pieces(W).map((w) => quiet(prep.triples(w))) } : undefined;
  // The opening's stream: [κ − a | y − b] for the analyst, then z for each party recipient.
  const zBase = analyst ? 2 : 0;
  const layout = chunkLayout([...(analyst ? [W, W] : []), ...partyOuts.map((p) => p.length)]);
  const slots = layout.map((c) => prep.opened.claim(s, c.length, 'outputs'));

  let opened: ChunkedVec;
  let masks: Awaited<(typeof maskPs)[number]>[];
  let tagged: { y: Z128Vec; u: Z128Vec; kappa: AuthShare } | undefined;
  try {
    masks = await Promise.all(maskPs);
    let ab: { y: AuthShare; kappa: AuthShare; t: AuthTriple[] } | undefined;
    if (analyst) {
      const rho = await analyst.rho;
      const kappa = await analyst.kappa;
      const t = await Promise.all(analyst.triples);
      // [[y]] = [[x]] + 2^64·[[ρ]]: x's low limbs, and x's high limbs plus ρ's low limbs.
      const y = { x: z128.alloc(W), m: z128.alloc(W) };
      let off = 0;
      for (const o of ext) {
        const len = shareLength(o.share);
        for (let i = 0; i < len; i += MUL_CHUNK) {
          const e = Math.min(len, i + MUL_CHUNK);
          await pause(e - i);
          for (const [dst, src, r] of [[y.x, o.share.x, rho.x], [y.m, o.share.m, rho.m]]) {
            dst.lo.set(src.lo.subarray(i, e), off + i);
            z64.add(src.hi.subarray(i, e), r.lo.subarray(off + i, off + e), dst.hi.subarray(off + i, off + e));
          }
        }
        off += len;
      }
      ab = { y, kappa, t };
    }

    // The opening, chunk by chunk: this party's value shares in the chunk's wire buffer, its MAC shares alongside.
    const kx = ab && scalarOf(ab.kappa.x);
    const km = ab && scalarOf(ab.kappa.m);
    const opens: Promise<Z128Vec>[] = [];
    for (let c = 0; c < layout.length; c++) {
      const { length, parts } = layout[c];
      if (c >= OUTPUT_WINDOW) await opens[c - OUTPUT_WINDOW];
      await pause(length);
      const mine = allocWire(length);
      const macs = z128.alloc(length);
      for (const p of parts) {
        const vx = slice128(mine, p.at, p.at + p.to - p.from);
        const vm = slice128(macs, p.at, p.at + p.to - p.from);
        if (ab && p.k === 0) {
          // κ − a
          forPieces(p.from, p.to, (q, st, en, at) => {
            const a = ab.t[q].a;
            for (const [v, sh, k] of [[vx, a.x, kx!], [vm, a.m, km!]] as const) {
              const o = slice128(v, at, at + en - st);
              z128.neg(slice128(sh, st, en), o);
              z128.addScalar(o, k, o);
            }
          });
        } else if (ab && p.k === 1) {
          // y − b
          forPieces(p.from, p.to, (q, st, en, at) => {
            const b = ab.t[q].b;
            const f = p.from + at;
            z128.sub(slice128(ab.y.x, f, f + en - st), slice128(b.x, st, en), slice128(vx, at, at + en - st));
            z128.sub(slice128(ab.y.m, f, f + en - st), slice128(b.m, st, en), slice128(vm, at, at + en - st));
          });
        } else {
          // z = x − r
          const k = p.k - zBase;
          const x = partyOuts[k].o.share;
          const r = masks[k].share;
          z128.sub(slice128(x.x, p.from, p.to), slice128(r.x, p.from, p.to), vx);
          z128.sub(slice128(x.m, p.from, p.to), slice128(r.m, p.from, p.to), vm);
        }
      }
      const slot = slots[c];
      opens.push(
        quiet(
          openShares(s, MessageKind.Open, chunkRound(prep.outputRound, c), mine, 'the output openings').then((v) => {
            slot.done(v, macs);
            return v;
          }),
        ),
      );
    }
    opened = new ChunkedVec(await Promise.all(opens));
    if (ab) {
      // [[u]] = [[κ]]·[[y]]: value shares only, u is never opened among the parties.
      const u = z128.alloc(W);
      for (const [q, w] of pieces(W).entries()) {
        await pause(w);
        const f = q * MUL_CHUNK;
        const t = ab.t[q];
        z128.beaverCombine(t.c.x, t.a.x, t.b.x, opened.range(f, f + w), opened.range(W + f, W + f + w), s.self === 0, slice128(u, f, f + w));
      }
      tagged = { y: ab.y.x, u, kappa: ab.kappa };
    }
  } catch (err) {
    for (const slot of slots) slot.fail(err);
    throw err;
  }

  // Analyst outputs: bind every party to its shares, then open κ.
  let kappaOpen: Z128Vec | undefined;
  let commits: Uint8Array[] = [];
  const nonces: Uint8Array[] = [];
  const extParts: { y: Z128Vec; u: Z128Vec }[] = [];
  if (tagged) {
    let off = 0;
    const mineC = new Uint8Array(32 * ext.length);
    for (const [q, o] of ext.entries()) {
      const len = shareLength(o.share);
      const y = slice128(tagged.y, off, off + len);
      const u = slice128(tagged.u, off, off + len);
      off += len;
      const nonce = s.rng.bytes(32);
      nonces.push(nonce);
      extParts.push({ y, u });
      mineC.set(await commitmentOf(o.name, s.self, nonce, y, u), 32 * q);
    }
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
  let at = zBase * W;
  for (const [k, p] of partyOuts.entries()) {
    if (p.j === s.self) {
      const v = new BigUint64Array(p.length);
      for (let i = 0; i < p.length; i += MUL_CHUNK) {
        const e = Math.min(p.length, i + MUL_CHUNK);
        await pause(e - i);
        opened.low64Into(at + i, at + e, v.subarray(i, e));
        z64.add(v.subarray(i, e), masks[k].value!.subarray(i, e), v.subarray(i, e));
      }
      values[p.o.name] = v;
    }
    at += p.length;
  }
  const external: Record<string, Uint8Array> = {};
  if (tagged) {
    const kb = z128.toBytes(kappaOpen!);
    for (const [q, o] of ext.entries()) {
      const len = shareLength(o.share);
      const msg = new Uint8Array(externalMessageBytes(n, len));
      const dv = new DataView(msg.buffer);
      dv.setUint32(0, s.self, true);
      dv.setUint32(4, n, true);
      msg.set(kb, 8);
      for (let j = 0; j < n; j++) msg.set(commits[j].subarray(32 * q, 32 * q + 32), 24 + 32 * j);
      const base = 24 + 32 * n;
      msg.set(nonces[q], base);
      await copyWire(extParts[q].y, msg, base + 32);
      await copyWire(extParts[q].u, msg, base + 32 + 16 * len);
      external[o.name] = msg;
    }
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
