// Declared input ranges, checked inside the computation (src/compiler/range-checks.ts). The
// attacks come first: a party that skips its own node's range check and feeds values
// outside the declared range must make every party abort before any output, with the
// owner named; a party that bends the check itself must be caught by the MAC check, and
// never get an honest party blamed. Then honest runs at the edges of the ranges.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { CHUNK_ROUND_STRIDE, MessageKind, type Transport } from '../../../src/protocol/transport.ts';
import { encodePartyInputs, type RawInputs } from '../../../src/protocol/inputs.ts';
import { planForSecurity, withRangeChecks } from '../../../src/compiler/range-checks.ts';
import { planHash, type Plan } from '../../../src/compiler/plan.ts';
import { runLocal } from '../../../src/coordinator/local.ts';
import { spdz2k } from '../../../src/protocol/spdz2k/suite.ts';
import { compileInline } from '../../helpers.ts';
import { addAt, expectAbort, runParties, tamperSends, type HarnessResult } from './harness.ts';

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${i + 1}`);

/** p1: a fixed-point vector in [−100, 100]; the last party: an integer scalar in [0, 120] (an age); p2: an unranged vector. */
function circuitFor(parties: string[], L: number): Plan {
  const last = parties[parties.length - 1];
  return compileInline(parties, (c) => {
    const x = c.fixed('p1', 'x', { min: -100, max: 100 });
    const age = c.scalar(last, 'age', { min: 0, max: 120 });
    const free = c.vector('p2', 'free');
    c.reveal('total', x.sum().add(age.toFixed()));
    c.reveal('free', free.sum());
  }, { 'p1.x': L, 'p2.free': L }).plan;
}

function rawFor(parties: string[], x: number[], age: number): RawInputs {
  const raw: RawInputs = { p1: { x }, p2: { free: x.map((_, i) => i) } };
  const last = parties[parties.length - 1];
  raw[last] = { ...(raw[last] ?? {}), age };
  return raw;
}

/** An encoder that writes `bad` (ring units) into element `at` of input `party.name`, as a cheating node would. */
function cheat(party: string, name: string, at: number, bad: bigint) {
  return (plan: Plan, p: string, values: RawInputs[string] | undefined): Map<number, BigUint64Array> => {
    const out = encodePartyInputs(plan, p, values, 'inputs');
    if (p === party) out.get(plan.inputs.find((i) => i.party === party && i.name === name)!.wire)![at] = BigInt.asUintN(64, bad);
    return out;
  };
}

/** A transport that records the kinds of every message its party sends. */
function recording(kinds: Set<number>) {
  return (t: Transport): Transport => tamperSends(t, (_to, kind, _round, p) => {
    kinds.add(kind);
    return p;
  });
}

/** Every party aborts (the cheater too, its peers' abort reaching it). */
const expectAllAbort = (res: HarnessResult, code: string, pattern: RegExp, party?: string): void => expectAbort(res, undefined, code, pattern, party);

const L = 6;
const honestX = [-100, 100, 0.5, -3.25, 99.99, -0.0001];

describe.each([2, 3, 5])('range checks inside the computation, %i parties', (n) => {
  const parties = names(n);
  const submitted = circuitFor(parties, L);
  const plan = withRangeChecks(submitted);
  const last = parties[n - 1];

  it.each([
    ['one unit above the maximum', 'p1', 'x', 2, 100n * 65536n + 1n],
    ['one unit below the minimum', 'p1', 'x', 5, -100n * 65536n - 1n],
    ['near 2^63 (wraps every difference)', 'p1', 'x', 0, (1n << 63n) - 5n],
    ['a negative age', last, 'age', 0, -1n],
    ['an age of 121', last, 'age', 0, 121n],
    ['2^62, beyond anything the encoder makes', last, 'age', 0, 1n << 62n],
  ])('a party feeding %s aborts the job on every party, naming it, with no output sent', async (_what, party, name, at, bad) => {
    const kinds = new Set<number>();
    const res = await runParties(plan, rawFor(parties, honestX, 30), { parties, encode: cheat(party, name, at, bad), wrapTransport: recording(kinds) });
    expectAllAbort(res, ErrorCode.PROTOCOL, new RegExp(`party ${party} fed values outside the declared range .* into input ${party}\\.${name}`), party);
    expect(kinds.has(MessageKind.Output), 'no output share may be sent').toBe(false);
  });

  it('a party that alters its share of a check opening is caught by the MAC check, and nobody is blamed for a range', async () => {
    // The last opening of the job is the checks' own: every message of it is bent by p2.
    const lastOpen = Math.max(...plan.layers.map((l, k) => (l.opens.length > 0 ? k : -1)));
    const res = await runParties(plan, rawFor(parties, honestX, 30), {
      parties,
      wrapTransport: (t, i) => (i === 1 ? tamperSends(t, (_to, kind, round, p) => (kind === MessageKind.Open && round % CHUNK_ROUND_STRIDE === lastOpen ? addAt(p, 0, 1n) : p)) : t),
    });
    expectAllAbort(res, ErrorCode.MAC_CHECK, /MAC check/i);
  });

  it('honest values at the edges of every range pass, and the outputs are exact', async () => {
    const res = await runParties(plan, rawFor(parties, honestX, 120), { parties });
    expect(res.outcomes.every((o) => o.ok), String(res.outcomes.map((o) => (o.ok ? 'ok' : (o as { error: Error }).error.message)))).toBe(true);
    const total = BigInt.asIntN(64, res.analyst!.total[0]);
    const expected = honestX.reduce((s, v) => s + Math.round(v * 65536), 0) + 120 * 65536;
    expect(Number(total)).toBe(expected);
    expect(res.analyst!.free[0]).toBe(BigInt((L * (L - 1)) / 2));
  });
});

describe('which plans carry range checks', () => {
  const parties = names(3);
  const submitted = circuitFor(parties, L);

  it('only malicious jobs, only inputs with both bounds; the submitted plan and its hash are untouched', () => {
    const hash = planHash(submitted);
    expect(planForSecurity(submitted, 'semi-honest')).toBe(submitted);
    const checked = planForSecurity(submitted, 'malicious');
    expect(checked).toBe(withRangeChecks(submitted));
    expect(planHash(submitted)).toBe(hash);
    expect(submitted.checks).toBeUndefined();
    expect(checked.checks!.map((c) => `${c.party}.${c.name}`)).toEqual(['p1.x', 'p3.age']);
    expect(checked.outputs).toEqual(submitted.outputs);
    // [−100, 100] at 16 fractional bits is not a power-of-two width (two sides per element); [0, 120] neither.
    expect(checked.stats.nonlinear['range check']).toBe(2 * L + 2);
  });

  it('a power-of-two range is one bit decomposition per element', () => {
    const { plan } = compileInline(['p1', 'p2'], (c) => c.reveal('s', c.vector('p1', 'b', { min: 0, max: 255 }).sum()), { 'p1.b': 10 });
    expect(withRangeChecks(plan).stats.nonlinear['range check']).toBe(10);
  });

  it('the range checks run through runLocal and the dealer like any plan', async () => {
    const r = await runLocal(submitted, rawFor(parties, honestX, 7), { suite: spdz2k as never });
    expect(r.analyst.free[0]).toBe(15n);
    await expect(runLocal(submitted, rawFor(parties, honestX, 7), { suite: spdz2k as never, encodeInputs: cheat('p3', 'age', 0, 500n) })).rejects.toMatchObject({
      code: ErrorCode.PROTOCOL,
      party: 'p3',
    });
  });
});
