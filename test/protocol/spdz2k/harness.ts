// Test harness for the malicious suite: every party of a job in one process, like runLocal,
// but each party's outcome is kept (fulfilled or rejected), corrupt parties can have their
// transport or their preprocessing source wrapped, and a party that hangs is reported
// instead of hanging the test. The plan's ring picks the suite (SPDZ2k with k = 64 or 128):
// a Z_2^128 plan runs over Z_2^192 shares, its vectors are Z128Vecs (V, E below).
import { dealerFor, dealerPrep } from '../../../src/preprocessing/dealers.ts';
import type { Plan } from '../../../src/compiler/plan.ts';
import { ANALYST } from '../../../src/circuit/builder.ts';
import { Prg, randomSeed } from '../../../src/ring/prg.ts';
import { memoryExtras } from '../../../src/preprocessing/dealer.ts';
import { memoryNetwork } from '../../../src/protocol/memory.ts';
import { execute, type PartyResult } from '../../../src/protocol/executor.ts';
import { encodePartyInputs, type RawInputs } from '../../../src/protocol/inputs.ts';
import type { ProtocolSuite } from '../../../src/protocol/suite.ts';
import type { MessageKind, Transport } from '../../../src/protocol/transport.ts';
import { expect } from 'vitest';
import { isMpcError, type ErrorCode, type MpcError } from '../../../src/errors.ts';
import { suiteFor } from '../../../src/protocol/suites.ts';
import type { AuthShare } from '../../../src/protocol/spdz2k/share.ts';
import type { Spdz2kPrep } from '../../../src/protocol/spdz2k/prep.ts';
import type { Z128Vec } from '../../../src/ring/z128.ts';

export type Outcome<V = BigUint64Array> = { ok: true; result: PartyResult<V> } | { ok: false; error: unknown };

/** V: the plan's value vectors, E: the suite's share vectors (Z_2^64 plans: the defaults; Z_2^128 plans: Z128Vec, Z192Vec). */
export interface HarnessOptions<V = BigUint64Array, E = Z128Vec> {
  parties?: readonly string[];
  /** Default: the malicious suite of the plan's ring. */
  suite?: ProtocolSuite<AuthShare<E>, Spdz2kPrep<V, E>, V>;
  wrapTransport?: (t: Transport, self: number) => Transport;
  wrapPrep?: (p: Spdz2kPrep<V, E>, self: number) => Spdz2kPrep<V, E>;
  dealerSeeds?: Uint8Array[];
  /** Seed of each party's local randomness (coins, nonces); fresh by default. */
  rngSeed?: (self: number) => Uint8Array;
  /** Abort every party's transport when one party fails (as nodes do). Default false. */
  propagate?: boolean;
  /** A party still running after this many ms is reported as hung. Default 5000. */
  timeoutMs?: number;
  /** How party `party` encodes its inputs (default: honestly, refusing out-of-range values). */
  encode?: (plan: Plan, party: string, values: RawInputs[string] | undefined) => Map<number, V>;
}

export interface HarnessResult<V = BigUint64Array> {
  outcomes: Outcome<V>[];
  /** Analyst outputs, when every party finished; or the error reconstructing them. */
  analyst?: Record<string, V>;
  analystError?: unknown;
}

export async function runParties<V = BigUint64Array, E = Z128Vec>(plan: Plan, inputs: RawInputs, options: HarnessOptions<V, E> = {}): Promise<HarnessResult<V>> {
  const parties = options.parties ?? plan.parties;
  const suite = options.suite ?? (suiteFor('malicious', plan.ring ?? 64) as unknown as ProtocolSuite<AuthShare<E>, Spdz2kPrep<V, E>, V>);
  const n = parties.length;
  const transports = memoryNetwork(n).map((t, i) => options.wrapTransport?.(t, i) ?? t);
  const dealing = dealerFor(suite.name).deal(plan, n, options.dealerSeeds);
  const timeout = options.timeoutMs ?? 5000;
  const runs = parties.map((p, i) => {
    const prep = dealerPrep(suite, plan, n, i, dealing.seeds[i], memoryExtras(dealing, i));
    const run = execute(
      plan,
      { self: i, parties, transport: transports[i], prep: options.wrapPrep?.(prep, i) ?? prep, rng: new Prg(options.rngSeed?.(i) ?? randomSeed(), 'test') },
      suite,
      options.encode?.(plan, p, inputs[p]) ?? encodePartyInputs<V>(plan, p, inputs[p], 'inputs'),
    );
    if (options.propagate) run.catch((e: Error) => transports.forEach((t) => t.abort(e)));
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`party ${p} hung`)), timeout);
    });
    return Promise.race([run, hung]).finally(() => clearTimeout(timer));
  });
  const settled = await Promise.allSettled(runs);
  const outcomes: Outcome<V>[] = settled.map((s) => (s.status === 'fulfilled' ? { ok: true, result: s.value } : { ok: false, error: s.reason }));
  const res: HarnessResult<V> = { outcomes };
  if (outcomes.every((o) => o.ok)) {
    try {
      const analyst: Record<string, V> = {};
      for (const o of plan.outputs) {
        if (!o.to.includes(ANALYST)) continue;
        analyst[o.name] = suite.reconstructExternal(
          outcomes.map((r) => (r as { result: PartyResult<V> }).result.external[o.name]),
          plan.wireLength[o.wire],
          o.name,
        );
      }
      res.analyst = analyst;
    } catch (e) {
      res.analystError = e;
    }
  }
  return res;
}

/** A transport that lets `edit` rewrite (or multiply, or drop) what this party sends. */
export function tamperSends(
  t: Transport,
  edit: (to: number, kind: MessageKind, round: number, payload: Uint8Array) => Uint8Array[] | Uint8Array,
): Transport {
  return {
    self: t.self,
    n: t.n,
    send: async (to, kind, round, payload) => {
      const out = edit(to, kind, round, payload);
      for (const p of Array.isArray(out) ? out : [out]) await t.send(to, kind, round, p);
    },
    recv: (from, kind, round) => t.recv(from, kind, round),
    abort: (reason) => t.abort(reason),
    stats: () => t.stats(),
  };
}

/** A copy of `payload` with `delta` added (mod 2^64) to the little-endian u64 at byte offset `at`. */
export function addAt(payload: Uint8Array, at: number, delta: bigint): Uint8Array {
  const out = payload.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setBigUint64(at, BigInt.asUintN(64, dv.getBigUint64(at, true) + delta), true);
  return out;
}

/**
 * Parties `who` (every party when omitted) rejected with `code` and a message matching
 * `pattern` (blaming `party`, when given), and nobody released anything.
 */
export function expectAbort<V>(res: HarnessResult<V>, who: readonly number[] | undefined, code: string, pattern: RegExp, party?: string): void {
  for (const i of who ?? res.outcomes.map((_, k) => k)) {
    const o = res.outcomes[i];
    expect(o.ok, `party ${i} must not finish`).toBe(false);
    const e = (o as { error: unknown }).error;
    expect(isMpcError(e), `party ${i}: ${String(e)}`).toBe(true);
    expect((e as MpcError).code, `party ${i}: ${(e as Error).message}`).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    if (party !== undefined) expect((e as MpcError).party).toBe(party);
  }
  expect(res.analyst).toBeUndefined();
}

/** `f` (the analyst reconstructing output `name`) throws MAC_CHECK "output <name> failed verification: … why …". */
export function expectRejected(f: () => unknown, code: ErrorCode, name: string, why: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isMpcError(err, code), String(err)).toBe(true);
  expect((err as Error).message).toMatch(new RegExp(`^output ${name} failed verification`));
  expect((err as Error).message).toMatch(why);
}
