// Lanes (src/net/lanes.ts): worker threads with channels of their own, one per peer, that
// carry a wide layer's chunks. Real TLS on 127.0.0.1, parties in one process, the protocol
// run by `runLocal` over the meshes' job transports. Read the first test first.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { CloseCode } from '../../src/net/channel.ts';
import { connectWithHello } from '../../src/net/client.ts';
import { ControlKind } from '../../src/net/frame.ts';
import { MUL_CHUNK } from '../../src/compiler/plan.ts';
import type { SecurityLevel } from '../../src/protocol/suites.ts';
import { chunkOf, type Transport } from '../../src/protocol/transport.ts';
import { compileInline, M64 } from '../helpers.ts';
import { federation as laneFederation, product, productInputs, runOnMesh, type Fed } from './federation.ts';
import { party, rejectionOf, netTestSetup } from './helpers.ts';

const setup = netTestSetup();
const { cleanups } = setup;

const federation = (laneCounts: Record<string, number>) => laneFederation(setup, laneCounts);
const inputs = productInputs;
function run(fed: Fed, plan: ReturnType<typeof product>['plan'], data: Record<string, Record<string, number[]>>, security: SecurityLevel, wrap?: (t: Transport, id: string) => Transport) {
  return runOnMesh(setup, fed, plan, data, security, { wrap });
}

const WIDE = 2 * MUL_CHUNK + 3; // three chunks: lanes 0, 1, 0

describe('lanes', () => {
  it("carry a wide layer's chunks round-robin, each on its own channel, and the product is right", async () => {
    const fed = await federation({ p1: 2, p2: 2 });
    const { plan } = product(['p1', 'p2'], WIDE);
    const { data, expected } = inputs(['p1', 'p2'], WIDE);
    const r = await run(fed, plan, data, 'semi-honest');
    expect([...r.analyst.z].slice(0, 5)).toEqual(expected.slice(0, 5));
    expect(r.analyst.z.every((v, i) => v === expected[i])).toBe(true);
    for (const id of ['p1', 'p2']) {
      const [l0, l1] = fed.lanes[id]!.stats();
      // Chunk 0 on lane 0, chunk 1 on lane 1; chunk 2 (3 elements) and every other small
      // message on the main channel (LANE_MIN_BYTES).
      expect(l0.framesSent).toBe(1);
      expect(l0.bytesSent).toBe(16 * MUL_CHUNK);
      expect(l1.framesSent).toBe(1);
      expect(l1.bytesSent).toBe(16 * MUL_CHUNK);
      expect(l1.framesReceived).toBe(1);
    }
  });

  it('carry malicious (SPDZ2k) jobs too: MAC-checked openings arrive whichever lane they took', async () => {
    const fed = await federation({ p1: 2, p2: 2 });
    const width = MUL_CHUNK + 5;
    const { plan } = product(['p1', 'p2'], width);
    const { data, expected } = inputs(['p1', 'p2'], width);
    const r = await run(fed, plan, data, 'malicious');
    expect(r.analyst.z.every((v, i) => v === expected[i])).toBe(true);
    // Chunk 0 of the layer took lane 0, chunk 1 of the output openings lane 1.
    for (const id of ['p1', 'p2']) {
      const [l0, l1] = fed.lanes[id]!.stats();
      expect(l0.bytesSent).toBeGreaterThanOrEqual(32 * MUL_CHUNK);
      expect(l1.bytesSent).toBe(16 * MUL_CHUNK);
    }
  });

  it('use as many lanes as both ends run, and the main channel to a party without lanes', async () => {
    const fed = await federation({ p1: 2, p2: 1, p3: 0 });
    expect(fed.lanes.p1!.upTo('p2')).toBe(1);
    expect(fed.lanes.p1!.upTo('p3')).toBe(0);
    const plan = compileInline(['p1', 'p2', 'p3'], (c) => c.reveal('z', c.vector('p1', 'x').mul(c.vector('p2', 'y')).mul(c.vector('p3', 'w'))), {
      'p1.x': WIDE,
      'p2.y': WIDE,
      'p3.w': WIDE,
    }).plan;
    const { data, expected } = inputs(['p1', 'p2'], WIDE);
    const w = Array.from({ length: WIDE }, (_, i) => i % 3);
    const r = await run(fed, plan, { ...data, p3: { w } }, 'semi-honest');
    expect(r.analyst.z.every((v, i) => v === ((expected[i] * BigInt(w[i])) & M64))).toBe(true);
    expect(fed.lanes.p2!.stats()[0].framesReceived).toBeGreaterThan(0);
  });

  it('refuse control frames: a lane carries job messages only', async () => {
    const fed = await federation({ p1: 1, p2: 1 });
    // p1's own certificate, dialing p2's lane directly (replacing p1's real lane channel).
    const { channel } = await connectWithHello(`wss://127.0.0.1:${fed.lanes.p2!.ports[0]}/`, {
      ...setup.pki.m.p1,
      expected: party('p2'),
      parties: fed.ids,
    });
    channel.resume();
    await channel.send({ job: 'x', round: 0, kind: ControlKind.JobAbort, body: { code: 'MPC_ERR_ABORTED', reason: 'no' } });
    const info = await channel.whenClosed;
    expect(info.code).toBe(CloseCode.Violation);
    expect(info.reason).toMatch(/lanes carry job messages only/);
    await fed.logs.p2.waitFor((l) => l.fields?.event === 'lane-lost' && /control frame/.test(l.msg));
  });

  it('admit only lower-indexed parties of the federation, with certificates of its CA', async () => {
    const fed = await federation({ p1: 1, p2: 1 });
    const url = `wss://127.0.0.1:${fed.lanes.p1!.ports[0]}/`;
    // p2 must not dial p1 (the lower index dials).
    const higher = await rejectionOf(connectWithHello(url, { ...setup.pki.m.p2, expected: party('p1'), parties: fed.ids }));
    expect(higher.code).toBe(ErrorCode.PEER_AUTH);
    // A certificate of another CA: the lane's TLS handshake refuses it, and says so in the node's log.
    await rejectionOf(connectWithHello(`wss://127.0.0.1:${fed.lanes.p2!.ports[0]}/`, { ...setup.pki.otherCa, expected: party('p2'), parties: fed.ids }));
    await fed.logs.p2.waitFor((l) => l.fields?.event === 'tls-refused' && l.fields?.lane === 0);
    // The real lanes are untouched.
    expect(fed.lanes.p1!.upTo('p2')).toBe(1);
  });

  it('abort the job with PEER_LOST when a lane is lost mid-job; the next job runs on the main channels', async () => {
    const fed = await federation({ p1: 2, p2: 2 });
    const { plan } = product(['p1', 'p2'], WIDE);
    const { data, expected } = inputs(['p1', 'p2'], WIDE);
    // p2's lanes go away just before p1 sends chunk 1 (lane 1).
    const cut = (t: Transport, id: string): Transport =>
      id !== 'p1'
        ? t
        : {
            self: t.self,
            n: t.n,
            stats: () => t.stats(),
            abort: (e) => t.abort(e),
            recv: (from, kind, round) => t.recv(from, kind, round),
            send: async (to, kind, round, payload) => {
              if (chunkOf(round) === 1) await fed.lanes.p2!.close();
              return t.send(to, kind, round, payload);
            },
          };
    const e = await rejectionOf(run(fed, plan, data, 'semi-honest', cut));
    expect(e.code).toBe(ErrorCode.PEER_LOST);
    expect(e.message).toMatch(/p2/);
    await expect.poll(() => fed.lanes.p1!.upTo('p2')).toBe(0);
    const again = await run(fed, plan, data, 'semi-honest');
    expect(again.analyst.z.every((v, i) => v === expected[i])).toBe(true);
  });
});
