/**
 * A party's connection to the dealer for one job: sends the plan, receives this party's
 * seed and then its extra items (corrections, mask values) in chunks, and exposes them to
 * the suite's preprocessing source as `nextExtra`.
 *
 * The chunks are flow-controlled (ControlKind.DealerCredit, messages.ts): the node grants
 * the dealer a window of `windowBytes` right after its request and more as `nextExtra` takes
 * chunks out of the buffer, so at most a window of the dealer's material waits here,
 * however far ahead of the online phase the dealer could compute. An item larger than the
 * window still flows: the dealer cuts its chunks to the credit it has. A dealer that sends
 * beyond its credit breaks the protocol: the job fails with a PROTOCOL error naming it.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import type { Identity } from '../security/identity.ts';
import type { Endpoint, TlsMaterial } from '../security/config.ts';
import { connect } from '../net/client.ts';
import { ControlKind } from '../net/frame.ts';
import { CloseCode, type Channel } from '../net/channel.ts';
import type { NetLog } from '../net/log.ts';
import type { NextExtra } from '../preprocessing/dealer.ts';
import type { SecurityLevel } from '../protocol/suites.ts';
import { AsyncQueue } from '../util/queue.ts';
import { dealerChunkCost, parseDealerChunk, parseDealerSeeds, parseJobAbort, abortError } from '../net/messages.ts';

/**
 * Default window of a dealer link, in bytes of the dealer's chunks. Two of the largest
 * items (a malicious triple piece's corrections, 64·MUL_CHUNK = 16 MiB): the dealer can
 * compute the next item while the node takes the current one, and a grant's round trip
 * (under a millisecond on a LAN) is far shorter than a piece's round, so a wider window
 * would only hold memory (a 10^7-wide malicious layer's corrections are 640 MB).
 */
export const DEALER_WINDOW_BYTES = 32 << 20;

/** What a dealer link holds, for tests and logs. */
export interface DealerLinkStats {
  window: number;
  /** Credit granted to the dealer so far (it may have sent this much in all). */
  granted: number;
  /** Chunks received and not yet taken by `nextExtra`, in credit (bytes). */
  buffered: number;
  /** The most `buffered` ever was. */
  peakBuffered: number;
}

export interface DealerLink {
  seed: Uint8Array;
  nextExtra: NextExtra;
  /** The dealer's statement of what it is trusted for. */
  trust: string;
  stats(): DealerLinkStats;
  close(): void;
}

/** Connect to the dealer and obtain this party's dealer material for `jobId`. */
export async function openDealerLink(args: {
  dealer: Endpoint;
  federation: string;
  tls: TlsMaterial;
  jobId: string;
  plan: Uint8Array;
  planHash: string;
  security: SecurityLevel;
  parties: readonly string[];
  log: NetLog;
  /** Flow-control window in bytes (default DEALER_WINDOW_BYTES); at least 1. */
  windowBytes?: number;
}): Promise<DealerLink> {
  const window = args.windowBytes ?? DEALER_WINDOW_BYTES;
  if (!Number.isSafeInteger(window) || window < 1) throw new RangeError(`dealer link: windowBytes must be a positive integer, got ${window}`);
  const expected: Identity = { federation: args.federation, role: 'dealer', id: args.dealer.id };
  let ch: Channel;
  try {
    ch = await connect(`wss://${args.dealer.host}:${args.dealer.port}`, {
      ...args.tls,
      expected,
      parties: args.parties,
      log: args.log,
      retry: { attempts: 8, baseMs: 100, maxMs: 1000 },
    });
  } catch (e) {
    throw new MpcError(ErrorCode.PREPROCESSING, `cannot reach the dealer ${args.dealer.id} at ${args.dealer.host}:${args.dealer.port}: ${(e as Error).message}`, { cause: e });
  }
  const from = `dealer ${args.dealer.id}`;
  const seeds = new AsyncQueue<{ seed: Uint8Array; trust: string }>();
  const chunks = new AsyncQueue<{ item: number; offset: number; total: number; data: Uint8Array; cost: number }>();
  const flow = { window, granted: window, received: 0, taken: 0, buffered: 0, peakBuffered: 0 };
  // Grants go out in steps of a quarter window, not one per chunk; the dealer still never
  // stalls with the node idle: once everything sent is taken, a whole window is due.
  const grantStep = Math.max(1, Math.floor(window / 4));
  const fail = (e: Error): void => {
    seeds.fail(e);
    chunks.fail(e);
  };
  const sendCredit = (): void => {
    ch.send({ job: args.jobId, round: 0, kind: ControlKind.DealerCredit, body: { granted: flow.granted } }).catch(() => {}); // a closed channel fails the queues itself
  };
  ch.on('frame', (f) => {
    try {
      if (f.job !== args.jobId) throw new MpcError(ErrorCode.PROTOCOL, `${from} sent a frame for job ${f.job}`);
      if (f.kind === ControlKind.DealerSeeds) seeds.push(parseDealerSeeds(f.body, from));
      else if (f.kind === ControlKind.DealerCorrections) {
        const body = parseDealerChunk(f.body, from);
        const data = f.payload ?? new Uint8Array(0);
        const cost = dealerChunkCost(data.length);
        flow.received += cost;
        if (flow.received > flow.granted) {
          throw new MpcError(ErrorCode.PROTOCOL, `${from} sent ${flow.received} bytes of preprocessing for job ${args.jobId}, beyond the ${flow.granted} it was granted (flow-control window ${window})`);
        }
        flow.buffered += cost;
        flow.peakBuffered = Math.max(flow.peakBuffered, flow.buffered);
        chunks.push({ ...body, data, cost });
      } else if (f.kind === ControlKind.JobAbort) fail(abortError(parseJobAbort(f.body, from)));
      else throw new MpcError(ErrorCode.PROTOCOL, `${from} sent unexpected frame kind ${f.kind}`);
    } catch (e) {
      fail(e as Error);
      ch.close(CloseCode.Violation, (e as Error).message);
    }
  });
  ch.on('close', (c) => fail(c.error ?? new MpcError(ErrorCode.PREPROCESSING, `${from} closed the connection (${c.reason || c.code})`)));
  ch.resume();
  await ch.send({
    job: args.jobId,
    round: 0,
    kind: ControlKind.DealerRequest,
    body: { plan: args.plan, planHash: args.planHash, security: args.security, parties: [...args.parties] },
  });
  sendCredit();
  const { seed, trust } = await seeds.next();
  if (seed.length !== 32) throw new MpcError(ErrorCode.PREPROCESSING, `${from} sent a ${seed.length}-byte seed`);
  /** A chunk left the buffer: grant the dealer a window beyond everything taken. */
  const took = (cost: number): void => {
    flow.buffered -= cost;
    flow.taken += cost;
    if (flow.taken + window - flow.granted < grantStep) return;
    flow.granted = flow.taken + window;
    sendCredit();
  };
  let item = 0;
  // Items arrive in order, each as one or more chunks (at least one, even when empty).
  const readItem = async (): Promise<Uint8Array> => {
    let out: Uint8Array | undefined;
    let filled = 0;
    do {
      const c = await chunks.next();
      took(c.cost);
      out ??= new Uint8Array(c.total);
      if (c.item !== item || c.offset !== filled || c.total !== out.length || c.offset + c.data.length > c.total) {
        throw new MpcError(ErrorCode.PREPROCESSING, `${from} sent chunk (item ${c.item}, offset ${c.offset}) out of order`);
      }
      out.set(c.data, filled);
      filled += c.data.length;
    } while (filled < out.length);
    item++;
    return out;
  };
  // Chunks of a layer ask for their items concurrently: serve the calls one after another.
  let tail: Promise<unknown> = Promise.resolve();
  const nextExtra: NextExtra = () => {
    const p = tail.then(readItem);
    tail = p.catch(() => {});
    return p;
  };
  const stats = (): DealerLinkStats => ({ window, granted: flow.granted, buffered: flow.buffered, peakBuffered: flow.peakBuffered });
  return { seed: new Uint8Array(seed), nextExtra, trust, stats, close: () => ch.close() };
}
