/**
 * Beaver multiplication on authenticated shares [Bea91; DPSZ12, online phase; CDESX18 §4, Π_Online
 * "Multiply"]. With a triple ([[a]], [[b]], [[c]]), c = a·b:
 * 1. open d = x − a and e = y − b as full elements of Z_2^{k+s} (a, b are uniform there,
 *    so the openings reveal nothing, including about the upper bits), [d | e] in one message
 *    per peer: 32 bytes per multiplication per peer for k = 64, 48 for k = 128;
 * 2. z = c + d·b + e·a (+ d·e at party 0) and
 *    m_z = m_c + d·m_b + e·m_a + α_i·d·e = m_c + d·(m_b + α_i·e) + e·m_a;
 * 3. log the opened [d | e] with this party's MAC shares of them (m_x − m_a, m_y − m_b)
 *    for the batched MAC check, which runs here when enough values piled up.
 * One call handles one chunk of a layer (at most MUL_CHUNK elements, executor.ts), with a
 * pause (chunks.ts) before its triple is expanded and before it is combined.
 * @module
 */
import { MessageKind } from '../transport.ts';
import { kernelsOf } from '../kernels.ts';
import type { Session } from '../session.ts';
import type { Spdz2kPrep } from './prep.ts';
import type { AuthShare } from './share.ts';
import { openShares } from './wire.ts';
import { pause } from './chunks.ts';

/**
 * Layer of a multiplication round. The executor numbers chunk c of layer k as c·2^20 + k
 * (executor.ts `chunkRound`); this only names the layer in MAC-check failures.
 */
export function layerOf(round: number): number {
  return round % 2 ** 20;
}

/**
 * One Beaver round: x·y elementwise (same length), `round` naming the message slot. The
 * arithmetic runs on the session's kernels (in-thread or a worker pool,
 * src/protocol/kernels.ts); the messages are the same either way.
 */
export async function multiply<V, E>(s: Session<Spdz2kPrep<V, E>>, round: number, x: AuthShare<E>, y: AuthShare<E>): Promise<AuthShare<E>> {
  const R = s.prep.ring;
  const w = R.length(x.x);
  if (R.length(y.x) !== w) throw new RangeError(`multiply: operands of ${w} and ${R.length(y.x)} elements`);
  const k = kernelsOf(s);
  const alloc = (n: number): E => R.kernelAlloc(k, n);
  // The kernel tasks name the ring; their vectors are the ring's (workers/kernels.ts).
  const run = (task: object): Promise<void> => k.run({ ...task, ...R.task } as Parameters<typeof k.run>[0]);
  // Claim the triple and the log slot before the first await: concurrent chunks of a
  // layer must consume preprocessing and log openings in call order on every party.
  const triple = s.prep.triples(w, k);
  const slot = s.prep.opened.claim(s, 2 * w, `layer ${layerOf(round)}`);
  let z: AuthShare<E>;
  try {
    const t = await triple;
    const reach = (v: AuthShare<E>): AuthShare<E> => ({ x: R.kernelReach(k, v.x), m: R.kernelReach(k, v.m) });
    const a = reach(t.a);
    const b = reach(t.b);
    // [d | e] is built in place in its wire buffer; the MAC shares [m_x − m_a | m_y − m_b] alongside.
    const mine = alloc(2 * w);
    const macs = alloc(2 * w);
    await run({ op: 'spdz2kOpen', x: reach(x), y: reach(y), a, b, out: mine, macs });
    const opened = await openShares(s, MessageKind.Open, round, mine, `the openings of layer ${layerOf(round)}`, alloc, R);
    slot.done(opened, macs);
    // The peers' openings of several chunks may arrive at once: one chunk's combine per turn.
    await pause(w);
    z = { x: alloc(w), m: alloc(w) };
    await run({
      op: 'spdz2kCombine',
      c: reach(t.c),
      a,
      b,
      d: R.slice(opened, 0, w),
      e: R.slice(opened, w, 2 * w),
      alpha: s.prep.alpha,
      addDE: s.self === 0,
      out: z,
    });
  } catch (err) {
    slot.fail(err);
    throw err;
  }
  if (slot.check) await slot.check;
  return z;
}
