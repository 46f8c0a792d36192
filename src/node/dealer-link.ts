/**
 * A party's connection to the dealer for one job: sends the plan, receives this party's
 * seed and then its extra items (corrections, mask values) in chunks, and exposes them to
 * the suite's preprocessing source as `nextExtra`.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import type { Identity } from '../security/identity.ts';
import type { Endpoint, TlsMaterial } from '../security/config.ts';
import { connect } from '../net/client.ts';
import { ControlKind } from '../net/frame.ts';
import type { Channel } from '../net/channel.ts';
import type { NetLog } from '../net/log.ts';
import type { NextExtra } from '../protocol/suite.ts';
import type { SecurityLevel } from '../protocol/suites.ts';
import { AsyncQueue } from '../util/queue.ts';
import { parseDealerChunk, parseDealerSeeds, parseJobAbort, abortError } from './messages.ts';

export interface DealerLink {
  seed: Uint8Array;
  nextExtra: NextExtra;
  /** The dealer's statement of what it is trusted for. */
  trust: string;
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
}): Promise<DealerLink> {
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
  const chunks = new AsyncQueue<{ item: number; offset: number; total: number; data: Uint8Array }>();
  const fail = (e: Error): void => {
    seeds.fail(e);
    chunks.fail(e);
  };
  ch.on('frame', (f) => {
    try {
      if (f.job !== args.jobId) throw new MpcError(ErrorCode.PROTOCOL, `${from} sent a frame for job ${f.job}`);
      if (f.kind === ControlKind.DealerSeeds) seeds.push(parseDealerSeeds(f.body, from));
      else if (f.kind === ControlKind.DealerCorrections) chunks.push({ ...parseDealerChunk(f.body, from), data: f.payload ?? new Uint8Array(0) });
      else if (f.kind === ControlKind.JobAbort) fail(abortError(parseJobAbort(f.body, from)));
      else throw new MpcError(ErrorCode.PROTOCOL, `${from} sent unexpected frame kind ${f.kind}`);
    } catch (e) {
      fail(e as Error);
      ch.close();
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
  const { seed, trust } = await seeds.next();
  if (seed.length !== 32) throw new MpcError(ErrorCode.PREPROCESSING, `${from} sent a ${seed.length}-byte seed`);
  let item = 0;
  // Items arrive in order, each as one or more chunks (at least one, even when empty).
  const readItem = async (): Promise<Uint8Array> => {
    let out: Uint8Array | undefined;
    let filled = 0;
    do {
      const c = await chunks.next();
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
  return { seed: new Uint8Array(seed), nextExtra, trust, close: () => ch.close() };
}
