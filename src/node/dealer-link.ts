/**
 * A party's connection to the dealer for one job: asks for the job's triples, receives its
 * seed (and, for the last party, the correction stream) and exposes them as a TripleSource.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import type { Identity } from '../security/identity.ts';
import type { Endpoint, TlsMaterial } from '../security/config.ts';
import { connect } from '../net/client.ts';
import { ControlKind } from '../net/frame.ts';
import type { Channel } from '../net/channel.ts';
import type { NetLog } from '../net/log.ts';
import { SeededTripleSource, type TripleSource } from '../preprocessing/dealer.ts';
import { bytesToU64 } from '../ring/encoding.ts';
import { AsyncQueue } from '../util/queue.ts';
import { parseDealerChunk, parseDealerSeeds, parseJobAbort, abortError } from './messages.ts';

export interface DealerLink {
  triples: TripleSource;
  /** The dealer's statement of what it is trusted for. */
  trust: string;
  close(): void;
}

/** Connect to the dealer and obtain this party's triple source for `jobId`. */
export async function openDealerLink(args: {
  dealer: Endpoint;
  federation: string;
  tls: TlsMaterial;
  jobId: string;
  planHash: string;
  batches: number[];
  parties: readonly string[];
  self: number;
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
  const chunks = new AsyncQueue<{ batch: number; offset: number; total: number; data: BigUint64Array }>();
  const fail = (e: Error): void => {
    seeds.fail(e);
    chunks.fail(e);
  };
  ch.on('frame', (f) => {
    try {
      if (f.job !== args.jobId) throw new MpcError(ErrorCode.PROTOCOL, `${from} sent a frame for job ${f.job}`);
      if (f.kind === ControlKind.DealerSeeds) seeds.push(parseDealerSeeds(f.body, from));
      else if (f.kind === ControlKind.DealerCorrections) {
        const c = parseDealerChunk(f.body, from);
        chunks.push({ ...c, data: bytesToU64(f.payload ?? new Uint8Array(0)) });
      } else if (f.kind === ControlKind.JobAbort) fail(abortError(parseJobAbort(f.body, from)));
      else throw new MpcError(ErrorCode.PROTOCOL, `${from} sent unexpected frame kind ${f.kind}`);
    } catch (e) {
      fail(e as Error);
      ch.close();
    }
  });
  ch.on('close', (c) => fail(c.error ?? new MpcError(ErrorCode.PREPROCESSING, `${from} closed the connection (${c.reason || c.code})`)));
  ch.resume();
  await ch.send({ job: args.jobId, round: 0, kind: ControlKind.DealerRequest, body: { planHash: args.planHash, batches: args.batches, parties: [...args.parties] } });
  const { seed, trust } = await seeds.next();
  if (seed.length !== 32) throw new MpcError(ErrorCode.PREPROCESSING, `${from} sent a ${seed.length}-byte seed`);
  let batch = 0;
  // The last party's correction for a batch arrives in chunks, in order, on this channel.
  const correction = async (): Promise<BigUint64Array> => {
    const want = args.batches[batch];
    const out = new BigUint64Array(want);
    let filled = 0;
    while (filled < want || (want === 0 && filled === 0)) {
      const c = await chunks.next();
      if (c.batch !== batch || c.offset !== filled || c.total !== want || c.offset + c.data.length > want) {
        throw new MpcError(ErrorCode.PREPROCESSING, `${from} sent correction chunk (batch ${c.batch}, offset ${c.offset}) out of order`);
      }
      out.set(c.data, filled);
      filled += c.data.length;
      if (want === 0) break;
    }
    batch++;
    return out;
  };
  const last = args.self === args.parties.length - 1;
  return {
    triples: new SeededTripleSource(args.self, args.parties.length, new Uint8Array(seed), args.batches, last ? correction : undefined),
    trust,
    close: () => ch.close(),
  };
}
