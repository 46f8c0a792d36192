// Flow control of the dealer's stream (ControlKind.DealerCredit), over real mTLS channels:
// the dealer daemon never sends beyond the window a node granted, items larger than the
// window still arrive intact, a dealer that sends beyond its credit is refused with a clear
// error naming it, the dealer refuses credit nobody asked for, and a link closed mid-stream
// fails the preprocessing source reading it cleanly and releases the dealer.
import { dealerFor, dealerPrep } from '../../src/preprocessing/dealers.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import { encodePlan, planHash } from '../../src/compiler/plan.ts';
import { connect } from '../../src/net/client.ts';
import { CloseCode, type Channel } from '../../src/net/channel.ts';
import { ControlKind } from '../../src/net/frame.ts';
import { silentLog } from '../../src/net/log.ts';
import { NodeServer } from '../../src/net/server.ts';
import { openDealerLink, type DealerLink } from '../../src/node/dealer-link.ts';
import { startDealer } from '../../src/preprocessing/dealer-server.ts';
import { spdz2k } from '../../src/protocol/spdz2k/suite.ts';
import { schedule } from '../../src/protocol/spdz2k/schedule.ts';
import { Spdz2kPrep } from '../../src/protocol/spdz2k/prep.ts';
import { dealerMaterial } from '../../src/preprocessing/spdz2k-dealer.ts';
import { compileInline } from '../helpers.ts';
import { FED, netTestSetup, rejectionOf } from '../net/helpers.ts';
import { memoryLogger } from '../faults/helpers.ts';

const t = netTestSetup();
const PARTIES = ['p1', 'p2'];
const WIDTH = 10_000;
// A triple batch's corrections are 64·WIDTH = 640 KB: ten times the window below.
const WINDOW = 64 << 10;

const plan = compileInline(PARTIES, (c) => c.reveal('z', c.vector('p1', 'x').mul(c.vector('p2', 'y')).sum(), { to: 'p1' }), { 'p1.x': WIDTH, 'p2.y': WIDTH }).plan;
const planBytes = encodePlan(plan);

/** A dealer daemon on 127.0.0.1 with pki's d1 certificate; closed after the test. */
async function dealer(): Promise<{ port: number; lines: Record<string, unknown>[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dealer-flow-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const m = t.pki.m.d1;
  const tls = { ca: file('ca.crt', [m.ca].flat().join('\n')), cert: file('cert.pem', m.cert), key: file('key.pem', m.key) };
  const { log, lines } = memoryLogger({ role: 'dealer', id: 'd1' });
  const running = await startDealer({ federation: FED, id: 'd1', listen: { host: '127.0.0.1', port: 0 }, tls, parties: PARTIES.map((id, i) => ({ id, host: '127.0.0.1', port: i + 1 })) }, log);
  t.cleanups.push(async () => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { port: running.port, lines };
}

async function link(party: string, port: number, job: string, windowBytes?: number): Promise<DealerLink> {
  const l = await openDealerLink({
    dealer: { id: 'd1', host: '127.0.0.1', port },
    federation: FED,
    tls: { ...t.pki.m[party], ca: [t.pki.m[party].ca].flat().join('\n') },
    jobId: job,
    plan: planBytes,
    planHash: planHash(planBytes),
    security: 'malicious',
    parties: PARTIES,
    log: silentLog,
    windowBytes,
  });
  t.cleanups.push(() => l.close());
  return l;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('dealer flow control', () => {
  it('the dealer stops at the window; items ten times larger than it arrive intact', async () => {
    const { port } = await dealer();
    const links = await Promise.all(PARTIES.map((p) => link(p, port, 'job-window', WINDOW)));
    const last = links[1];
    // Nobody consumes: the dealer fills the window exactly (it cuts chunks to its credit) and stops.
    await until('the window to fill', () => last.stats().buffered === WINDOW);
    await sleep(200);
    expect(last.stats()).toMatchObject({ window: WINDOW, granted: WINDOW, buffered: WINDOW, peakBuffered: WINDOW });
    // Everything, compared with the dealing recomputed from the seeds the parties got.
    const dealing = dealerFor(spdz2k.name).deal(plan, 2, links.map((l) => l.seed));
    for (const [i, l] of links.entries()) {
      const want = [...dealing.extras(i)];
      for (const w of want) expect(Buffer.from(await l.nextExtra()).equals(Buffer.from(w))).toBe(true);
      expect(l.stats().buffered).toBe(0);
      expect(l.stats().peakBuffered).toBeLessThanOrEqual(WINDOW);
    }
    expect(Math.max(...[...dealing.extras(1)].map((b) => b.byteLength))).toBe(64 * WIDTH);
  });

  it('a preprocessing source reads through a window smaller than one item', async () => {
    const { port } = await dealer();
    const links = await Promise.all(PARTIES.map((p) => link(p, port, 'job-source', 1000)));
    const preps = links.map((l, i) => dealerPrep(spdz2k, plan, 2, i, l.seed, l.nextExtra));
    const items = schedule(plan, 2);
    expect(items.map((i) => i.kind)).toEqual(['input-mask', 'input-mask', 'triples', 'output-mask']);
    await Promise.all(preps.map((p) => Promise.all([p.inputMask(0, WIDTH), p.inputMask(1, WIDTH)])));
    const ts = await Promise.all(preps.map((p) => p.triples(WIDTH)));
    expect(ts[1].c.m.lo.length).toBe(WIDTH);
    await Promise.all(preps.map((p) => p.outputMask(0, 1)));
    for (const l of links) expect(l.stats().peakBuffered).toBeLessThanOrEqual(1000);
  });

  it('a dealer that sends beyond its credit is refused with a PROTOCOL error naming it', async () => {
    const server = new NodeServer({ tls: t.pki.m.d1, parties: PARTIES });
    let closed: Promise<number> | undefined;
    server.on('party', (ch: Channel) => {
      closed = new Promise((r) => ch.on('close', (c) => r(c.code)));
      ch.on('frame', (f) => {
        if (f.kind !== ControlKind.DealerRequest) return;
        void (async () => {
          await ch.send({ job: f.job, round: 0, kind: ControlKind.DealerSeeds, body: { seed: new Uint8Array(32), trust: 'test' } });
          // Three chunks of 1000 bytes of one item against a window of 2000: the third is too many.
          for (let k = 0; k < 3; k++) await ch.send({ job: f.job, round: 0, kind: ControlKind.DealerCorrections, body: { item: 0, offset: 1000 * k, total: 3000 }, payload: new Uint8Array(1000) });
        })().catch(() => {});
      });
      ch.resume();
    });
    const { port } = await server.listen(0, '127.0.0.1');
    t.cleanups.push(() => server.close());
    const l = await link('p2', port, 'job-greedy', 2000);
    const e = await rejectionOf(l.nextExtra());
    expect(isMpcError(e, ErrorCode.PROTOCOL)).toBe(true);
    expect(e.message).toMatch(/dealer d1 sent 3000 bytes of preprocessing for job job-greedy, beyond the 2000 it was granted/);
    // Every later request fails the same way, and the dealer is told why.
    await expect(l.nextExtra()).rejects.toThrow(/beyond the 2000/);
    expect(await closed).toBe(CloseCode.Violation);
  });

  it('the dealer refuses credit for a job nobody asked for', async () => {
    const { port } = await dealer();
    const ch = await connect(`wss://127.0.0.1:${port}`, { ...t.pki.m.p1, expected: { federation: FED, role: 'dealer', id: 'd1' }, parties: PARTIES });
    const closed = new Promise<{ code: number; reason: string }>((r) => ch.on('close', (c) => r(c)));
    ch.resume();
    await ch.send({ job: 'job-nobody', round: 0, kind: ControlKind.DealerCredit, body: { granted: 1 << 20 } });
    const c = await closed;
    expect(c.code).toBe(CloseCode.Violation);
    expect(c.reason).toMatch(/party p1 granted credit for job job-nobody, which it did not ask for/);
  });

  it('a link closed mid-stream fails the source reading it cleanly, and the dealer stops waiting for credit', async () => {
    const { port, lines } = await dealer();
    const links = await Promise.all(PARTIES.map((p) => link(p, port, 'job-closed', WINDOW)));
    // No run-ahead budget: one item ahead of the claims, so the source leaves the dealer's later items in the window.
    const prep = new Spdz2kPrep(plan, 2, 1, dealerMaterial(links[1].seed, 1, 2, links[1].nextExtra), { runAheadBytes: 0 });
    await prep.inputMask(0, WIDTH);
    // Full and staying full: the source is idle (the next input mask expanded), the dealer blocked on credit.
    await until('the window to fill', () => links[1].stats().buffered === WINDOW);
    await sleep(200);
    expect(links[1].stats().buffered).toBe(WINDOW);
    links[1].close();
    await prep.inputMask(1, WIDTH);
    const e = await rejectionOf(prep.triples(WIDTH));
    expect(isMpcError(e, ErrorCode.PREPROCESSING)).toBe(true);
    expect(e.message).toMatch(/dealer d1 closed the connection/);
    await expect(prep.outputMask(0, 1)).rejects.toThrow(/dealer d1 closed the connection/);
    // The dealer was blocked on p2's credit: the close ends its stream instead of leaving it waiting.
    await until('the dealer to give up on p2', () => lines.some((l) => l.event === 'deal-failed' && l.party === 'p2'));
  });
});
