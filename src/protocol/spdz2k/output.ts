/**
 * Outputs with verification, for party recipients and for the analyst.
 *
 * An opened SPDZ2k value must not show its upper s = 64 bits (they depend on the inputs
 * beyond the value mod 2^k) [CDESX18 §4, "Output"], and a recipient must be able to tell a
 * correct output from one a corrupt party shifted. Nothing is released before the final
 * MAC check (mac-check.ts) has passed on every value opened in the job.
 *
 * Party recipient j of output x (the mirror image of input [DPSZ12]): the dealer gave j
 * r mod 2^k for an authenticated mask [[r]] (r uniform in Z_2^{k+s}); all parties open
 * z = x − r (uniform: reveals nothing, and r's unknown upper s bits hide x's), the MAC check
 * covers z as j received it, and j outputs (z + r) mod 2^k. Acceptance depends only on
 * what the adversary did, never on x.
 *
 * The analyst holds no preprocessing, so it gets an information-theoretic MAC under a
 * one-time key κ that is revealed only after every party is bound to its shares:
 * 1. [[y]] = [[x]] + 2^k·[[ρ]] (hides the upper bits), and [[u]] = [[κ]]·[[y]] by one
 *    Beaver round (opened together with the party outputs' z, one message per peer);
 * 2. every party commits to its shares (y_i, u_i) of each analyst output (SHA-256 with a
 *    32-byte nonce) and sends the commitments to every other party;
 * 3. only then is [[κ]] opened (and MAC-checked with everything else);
 * 4. after the final MAC check, party i's message to the analyst is
 *    index ‖ n ‖ κ ‖ (all n commitments as i received them) ‖ nonce ‖ y_i ‖ u_i.
 * The analyst checks that all parties report the same κ and the same commitments, that
 * every opening matches its commitment, and that Σu_i ≡ κ·Σy_i (mod 2^{k+s}) elementwise
 * (Z_2^128 for k = 64; Z_2^192 for k = 128, with y = x + 2^128·ρ), then keeps Σy_i mod 2^k.
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
 * δ (δ ≢ 0 mod 2^k) is caught except with probability ≤ 2^-65 per element (for either k:
 * κ·δ ≡ 0 mod 2^{k+s} needs κ ≡ 0 mod 2^{k+s−v} where 2^v ∥ δ, v < k, so at least s + 1 bits of κ); and since κ is
 * authenticated, it cannot shift κ to make acceptance depend on y.
 * @module
 */
import type { Z128Vec } from '../../ring/z128.ts';
import { u64ToBytes } from '../../ring/encoding.ts';
import { MpcError, ErrorCode } from '../../errors.ts';
import { MessageKind } from '../transport.ts';
import { chunkRound } from '../executor.ts';
import type { Session } from '../session.ts';
import type { OutputResult, OutputSpec } from '../suite.ts';
import type { AuthTriple, Spdz2kPrep } from './prep.ts';
import type { AuthShare } from './share.ts';
import { MAC64, type MacRing } from './mac-ring.ts';
import { ChunkedVec, chunkLayout, forPieces, MUL_CHUNK, pause, pieces } from './chunks.ts';
import { equalBytes, exchange, expectBytes, openShares, TaggedHasher, text, u32 } from './wire.ts';

const outputTag = (R: MacRing<unknown, unknown>): string => `${R.label}/analyst-output-commitment`;

/** Chunks of the output opening in flight at once (as for a layer's chunks, executor.ts). */
const OUTPUT_WINDOW = 4;

/**
 * Size of one party's message to the analyst for an output of `length` elements among `n`
 * parties, with `bytes` per share element (16 for k = 64, 24 for k = 128).
 */
export function externalMessageBytes(n: number, length: number, bytes = 16): number {
  return 8 + bytes + 32 * n + 32 + 2 * bytes * length;
}

/** The commitment to a party's shares: SHA-256 over (tag, name, party, nonce, y, u) in wire layout (`taggedHash` framing). */
function commitment(R: MacRing<unknown, unknown>, name: string, party: number, nonce: Uint8Array, y: Uint8Array, u: Uint8Array): Uint8Array {
  return new TaggedHasher(outputTag(R)).whole(text(name)).whole(u32(party)).whole(nonce).whole(y).whole(u).digest();
}

/** `commitment` over vectors, fed piece by piece with pauses: y and u in wire layout (limb array after limb array). */
async function commitmentOf<E>(R: MacRing<unknown, E>, name: string, party: number, nonce: Uint8Array, y: E, u: E): Promise<Uint8Array> {
  const h = new TaggedHasher(outputTag(R)).whole(text(name)).whole(u32(party)).whole(nonce);
  for (const v of [y, u]) {
    h.begin(R.bytes * R.length(v));
    for (const limbs of R.limbArrays(v)) {
      for (let i = 0; i < limbs.length; i += MUL_CHUNK) {
        await pause(Math.min(MUL_CHUNK, limbs.length - i));
        h.update(u64ToBytes(limbs.subarray(i, i + MUL_CHUNK)));
      }
    }
  }
  return h.digest();
}

/** `v` in wire layout into `dst` from byte `at`, piece by piece with pauses. */
async function copyWire<E>(R: MacRing<unknown, E>, v: E, dst: Uint8Array, at: number): Promise<void> {
  const n = R.length(v);
  for (const [j, limbs] of R.limbArrays(v).entries()) {
    for (let i = 0; i < n; i += MUL_CHUNK) {
      await pause(Math.min(MUL_CHUNK, n - i));
      dst.set(u64ToBytes(limbs.subarray(i, i + MUL_CHUNK)), at + 8 * (j * n + i));
    }
  }
}

function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Deliver every output (see the module comment). Throws MAC_CHECK, releasing nothing, if any check fails. */
export async function deliverOutputs<V, E>(s: Session<Spdz2kPrep<V, E>>, outputs: readonly OutputSpec<AuthShare<E>>[]): Promise<OutputResult<V>> {
  const prep = s.prep;
  const R = prep.ring;
  const D = R.D;
  prep.checkParties(s.parties);
  const n = s.parties.length;
  const len = (a: AuthShare<E>): number => R.length(a.x);

  // Claim preprocessing in schedule order, and the log slots, before the first await.
  const partyOuts = outputs.flatMap((o) => o.toParties.map((j) => ({ o, j, length: len(o.share) })));
  const maskPs = partyOuts.map(({ j, length }) => quiet(prep.outputMask(j, length)));
  const ext = outputs.filter((o) => o.external);
  const W = ext.reduce((t, o) => t + len(o.share), 0);
  const analyst =
    ext.length > 0 ? { rho: quiet(prep.random(W)), kappa: quiet(prep.random(1)), triples: pieces(W).map((w) => quiet(prep.triples(w))) } : undefined;
  // The opening's stream: [κ − a | y − b] for the analyst, then z for each party recipient.
  const zBase = analyst ? 2 : 0;
  const layout = chunkLayout([...(analyst ? [W, W] : []), ...partyOuts.map((p) => p.length)]);
  const slots = layout.map((c) => prep.opened.claim(s, c.length, 'outputs'));

  let opened: ChunkedVec<E>;
  let masks: Awaited<(typeof maskPs)[number]>[];
  let tagged: { y: E; u: E; kappa: AuthShare<E> } | undefined;
  try {
    masks = await Promise.all(maskPs);
    let ab: { y: AuthShare<E>; kappa: AuthShare<E>; t: AuthTriple<E>[] } | undefined;
    if (analyst) {
      const rho = await analyst.rho;
      const kappa = await analyst.kappa;
      const t = await Promise.all(analyst.triples);
      // [[y]] = [[x]] + 2^k·[[ρ]], piece by piece.
      const y = { x: R.alloc(W), m: R.alloc(W) };
      let off = 0;
      for (const o of ext) {
        const l = len(o.share);
        for (let i = 0; i < l; i += MUL_CHUNK) {
          const e = Math.min(l, i + MUL_CHUNK);
          await pause(e - i);
          for (const [dst, src, r] of [[y.x, o.share.x, rho.x], [y.m, o.share.m, rho.m]]) {
            R.add(R.slice(src, i, e), R.shiftK(R.slice(r, off + i, off + e)), R.slice(dst, off + i, off + e));
          }
        }
        off += l;
      }
      ab = { y, kappa, t };
    }

    // The opening, chunk by chunk: this party's value shares in the chunk's wire buffer, its MAC shares alongside.
    const kx = ab && R.scalarOf(ab.kappa.x);
    const km = ab && R.scalarOf(ab.kappa.m);
    const opens: Promise<E>[] = [];
    for (let c = 0; c < layout.length; c++) {
      const { length, parts } = layout[c];
      if (c >= OUTPUT_WINDOW) await opens[c - OUTPUT_WINDOW];
      await pause(length);
      const mine = R.allocWire(length);
      const macs = R.alloc(length);
      for (const p of parts) {
        const vx = R.slice(mine, p.at, p.at + p.to - p.from);
        const vm = R.slice(macs, p.at, p.at + p.to - p.from);
        if (ab && p.k === 0) {
          // κ − a
          forPieces(p.from, p.to, (q, st, en, at) => {
            const a = ab.t[q].a;
            for (const [v, sh, k] of [[vx, a.x, kx!], [vm, a.m, km!]] as const) {
              const o = R.slice(v, at, at + en - st);
              R.neg(R.slice(sh, st, en), o);
              R.addScalar(o, k, o);
            }
          });
        } else if (ab && p.k === 1) {
          // y − b
          forPieces(p.from, p.to, (q, st, en, at) => {
            const b = ab.t[q].b;
            const f = p.from + at;
            R.sub(R.slice(ab.y.x, f, f + en - st), R.slice(b.x, st, en), R.slice(vx, at, at + en - st));
            R.sub(R.slice(ab.y.m, f, f + en - st), R.slice(b.m, st, en), R.slice(vm, at, at + en - st));
          });
        } else {
          // z = x − r
          const k = p.k - zBase;
          const x = partyOuts[k].o.share;
          const r = masks[k].share;
          R.sub(R.slice(x.x, p.from, p.to), R.slice(r.x, p.from, p.to), vx);
          R.sub(R.slice(x.m, p.from, p.to), R.slice(r.m, p.from, p.to), vm);
        }
      }
      const slot = slots[c];
      opens.push(
        quiet(
          openShares(s, MessageKind.Open, chunkRound(prep.outputRound, c), mine, 'the output openings', undefined, R).then((v) => {
            slot.done(v, macs);
            return v;
          }),
        ),
      );
    }
    opened = new ChunkedVec(await Promise.all(opens), R);
    if (ab) {
      // [[u]] = [[κ]]·[[y]]: value shares only, u is never opened among the parties.
      const u = R.alloc(W);
      for (const [q, w] of pieces(W).entries()) {
        await pause(w);
        const f = q * MUL_CHUNK;
        const t = ab.t[q];
        R.beaverCombine(t.c.x, t.a.x, t.b.x, opened.range(f, f + w), opened.range(W + f, W + f + w), s.self === 0, R.slice(u, f, f + w));
      }
      tagged = { y: ab.y.x, u, kappa: ab.kappa };
    }
  } catch (err) {
    for (const slot of slots) slot.fail(err);
    throw err;
  }

  // Analyst outputs: bind every party to its shares, then open κ.
  let kappaOpen: E | undefined;
  let commits: Uint8Array[] = [];
  const nonces: Uint8Array[] = [];
  const extParts: { y: E; u: E }[] = [];
  if (tagged) {
    let off = 0;
    const mineC = new Uint8Array(32 * ext.length);
    for (const [q, o] of ext.entries()) {
      const l = len(o.share);
      const y = R.slice(tagged.y, off, off + l);
      const u = R.slice(tagged.u, off, off + l);
      off += l;
      const nonce = s.rng.bytes(32);
      nonces.push(nonce);
      extParts.push({ y, u });
      mineC.set(await commitmentOf(R, o.name, s.self, nonce, y, u), 32 * q);
    }
    commits = await exchange(s, MessageKind.Output, 0, mineC, mineC.length, 'output commitments');
    const kslot = prep.opened.claim(s, 1, 'output key');
    try {
      kappaOpen = await openShares(s, MessageKind.Open, prep.outputRound + 1, tagged.kappa.x, "the analyst's output key", undefined, R);
      kslot.done(kappaOpen, tagged.kappa.m);
    } catch (err) {
      kslot.fail(err);
      throw err;
    }
  }

  // Nothing leaves before every opened value is MAC-checked [CDESX18 §4; DKLPSS13, MACCheck].
  await prep.opened.flush(s);

  const values: Record<string, V> = {};
  let at = zBase * W;
  for (const [k, p] of partyOuts.entries()) {
    if (p.j === s.self) {
      const v = D.alloc(p.length);
      for (let i = 0; i < p.length; i += MUL_CHUNK) {
        const e = Math.min(p.length, i + MUL_CHUNK);
        await pause(e - i);
        const piece = D.slice(v, i, e);
        opened.lowInto(at + i, at + e, piece);
        R.addValues(piece, D.slice(masks[k].value!, i, e), piece);
      }
      values[p.o.name] = v;
    }
    at += p.length;
  }
  const external: Record<string, Uint8Array> = {};
  if (tagged) {
    const B = R.bytes;
    const kb = R.toBytes(kappaOpen!);
    for (const [q, o] of ext.entries()) {
      const l = len(o.share);
      const msg = new Uint8Array(externalMessageBytes(n, l, B));
      const dv = new DataView(msg.buffer);
      dv.setUint32(0, s.self, true);
      dv.setUint32(4, n, true);
      msg.set(kb, 8);
      for (let j = 0; j < n; j++) msg.set(commits[j].subarray(32 * q, 32 * q + 32), 8 + B + 32 * j);
      const base = 8 + B + 32 * n;
      msg.set(nonces[q], base);
      await copyWire(R, extParts[q].y, msg, base + 32);
      await copyWire(R, extParts[q].u, msg, base + 32 + B * l);
      external[o.name] = msg;
    }
  }
  return { values, external };
}

function rejected(name: string, why: string, party?: string): MpcError {
  return new MpcError(ErrorCode.MAC_CHECK, `output ${name} failed verification: ${why}`, party === undefined ? {} : { party });
}

/**
 * The analyst's side over MAC ring `R`: combine every party's message for output `name` of
 * `length` elements, and verify it; the value is Σy mod 2^k.
 */
export function reconstructExternalOver<V, E>(R: MacRing<V, E>, messages: readonly Uint8Array[], length: number, name: string): V {
  const n = messages.length;
  if (n < 1) throw new MpcError(ErrorCode.PROTOCOL, `output ${name}: no messages from the parties`);
  const B = R.bytes;
  const size = externalMessageBytes(n, length, B);
  const parsed = messages.map((m, i) => {
    const b = expectBytes(m instanceof Uint8Array ? m : new Uint8Array(0), size, `#${i}`, `output ${name}`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const at = 8 + B + 32 * n;
    return {
      index: dv.getUint32(0, true),
      n: dv.getUint32(4, true),
      kappa: b.subarray(8, 8 + B),
      commits: b.subarray(8 + B, at),
      nonce: b.subarray(at, at + 32),
      y: b.subarray(at + 32, at + 32 + B * length),
      u: b.subarray(at + 32 + B * length),
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
    if (!equalBytes(commitment(R, name, p.index, p.nonce, p.y, p.u), commits.subarray(32 * p.index, 32 * p.index + 32))) {
      throw rejected(name, `commitment mismatch from party #${p.index}`, `#${p.index}`);
    }
  }
  const y = R.alloc(length);
  const u = R.alloc(length);
  for (const p of parsed) {
    R.add(y, R.fromBytes(p.y), y);
    R.add(u, R.fromBytes(p.u), u);
  }
  // Σu ≡ κ·Σy, compared limb by limb.
  const ky = R.limbArrays(R.mulScalar(y, R.scalarOf(R.fromBytes(parsed[0].kappa))));
  const ul = R.limbArrays(u);
  for (let i = 0; i < length; i++) {
    if (ky.some((limbs, j) => limbs[i] !== ul[j][i])) throw rejected(name, `element ${i} does not match its tag (a party altered its share)`);
  }
  return R.low(y);
}

/** `reconstructExternalOver` for k = 64 (the registered suite's). */
export function reconstructExternal(messages: readonly Uint8Array[], length: number, name: string): BigUint64Array {
  return reconstructExternalOver(MAC64, messages, length, name);
}
