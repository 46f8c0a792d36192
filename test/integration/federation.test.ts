// Real node processes, real mTLS, the dealer process: every canonical circuit over an
// embedded federation of 2, 3 and 5 parties, under malicious (SPDZ2k) and semi-honest
// security, compared with the plaintext evaluator.
// Read this first: one federation per party count, several jobs on each (nodes serve many).
import { describe, expect, it } from 'vitest';
import { loadCircuit, compileLoaded } from '../../src/compiler/load.ts';
import { evaluateClear } from '../../src/circuit/clear.ts';
import { encodePartyInputs, shapesOf, type RawInputs } from '../../src/protocol/inputs.ts';
import { formatOutputs } from '../../src/protocol/outputs.ts';
import { runJob } from '../../src/coordinator/client.ts';
import { withEmbeddedFederation } from '../../src/coordinator/embedded.ts';
import { Prg } from '../../src/ring/prg.ts';

const base = { preprocessing: 'dealer' as const, connectRetry: { attempts: 60, baseMs: 50, maxMs: 500 } };
const SECURITY = ['malicious', 'semi-honest'] as const;

/** Seeded random signed 64-bit integers, as decimal strings, some small. */
function randomInts(prg: Prg, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const v = BigInt.asIntN(64, prg.nextBigint64());
    return (i % 3 === 0 ? v % 1000n : v).toString();
  });
}

/** One inputs set that serves every canonical circuit at once (datasets are per name). */
function inputsFor(parties: string[], seed: number): RawInputs {
  const prg = new Prg(new Uint8Array(32).fill(seed), 'integration');
  const len = 7;
  const raw: RawInputs = {};
  for (const p of parties) raw[p] = { x: randomInts(prg, len), v: randomInts(prg, 5).map((s) => String(BigInt(s) % 100000n)) };
  raw.p2 = { ...raw.p2, y: randomInts(prg, len) };
  return raw;
}

async function expected(file: string, raw: RawInputs) {
  const circuit = await loadCircuit(file);
  const { plan } = compileLoaded(circuit, shapesOf(raw));
  const clear = new Map<number, BigUint64Array>();
  for (const p of plan.parties) for (const [w, v] of encodePartyInputs(plan, p, Object.fromEntries(plan.inputs.filter((i) => i.party === p).map((i) => [i.name, raw[p][i.name]])), 'test')) clear.set(w, v);
  return { circuit, want: formatOutputs(plan, evaluateClear(plan, clear), 'analyst') };
}

const ALL = ['circuits/sum.ts', 'circuits/inner-product.ts', 'circuits/moments.ts', 'circuits/power.ts'];
const cases: [number, string[]][] = [
  [2, ['circuits/inner-product.ts', 'circuits/power.ts']],
  [3, ALL],
  [5, ALL],
];

describe('embedded federation over real processes and mTLS', () => {
  for (const [n, circuits] of cases) {
    it(`${n} parties: ${circuits.map((c) => c.replace(/^circuits\/|\.ts$/g, '')).join(', ')}`, async () => {
      const parties = Array.from({ length: n }, (_, i) => `p${i + 1}`);
      const raw = inputsFor(parties, n);
      await withEmbeddedFederation({ parties, inputs: raw }, async (target) => {
        for (const security of SECURITY) {
          for (const file of circuits) {
            const { circuit, want } = await expected(file, raw);
            const got = await runJob(target, circuit, { ...base, security });
            expect(got.outputs, `${file} (${security})`).toEqual(want);
            expect(got.stats.parties).toBe(n);
            expect(got.stats.security).toBe(security);
            expect(got.stats.bytesSent).toBeGreaterThan(0);
          }
        }
        // Several jobs at once on the same nodes, of both kinds: messages are kept apart by job id.
        const concurrent = await Promise.all(circuits.map(async (file) => [await expected(file, raw), file] as const));
        const results = await Promise.all(
          concurrent.flatMap(([{ circuit }]) => SECURITY.map((security) => runJob(target, circuit, { ...base, security }))),
        );
        results.forEach((r, i) => {
          const [{ want }, file] = concurrent[Math.floor(i / SECURITY.length)];
          expect(r.outputs, `${file} (concurrent)`).toEqual(want);
        });
      });
    }, 120_000);
  }

  it('a vector output longer than one output message (chunked delivery to the analyst)', async () => {
    const n = 300_000; // malicious: 32 bytes per element per party, more than one 8 MiB piece
    const x = Array.from({ length: n }, (_, i) => i);
    const y = Array.from({ length: n }, (_, i) => -2 * i);
    await withEmbeddedFederation({ parties: ['p1', 'p2'], inputs: { p1: { x }, p2: { y } } }, async (target) => {
      const circuit = await loadCircuit('test/fixtures/echo.ts');
      for (const security of SECURITY) {
        const got = await runJob(target, circuit, { ...base, security });
        const z = got.outputs.z as number[];
        expect(z).toHaveLength(n);
        expect(z.every((v, i) => v === -i), security).toBe(true);
      }
    });
  }, 120_000);
});

