/**
 * The dealer daemon (`mpc dealer`): an authenticated service that hands each party of a job
 * its triple seed, and streams the last party's corrections (see dealer.ts). Only
 * computing parties of the federation may ask; every party of a job must ask for the same
 * plan hash and batch sizes, or the job is refused.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import type { DealerConfig } from '../security/config.ts';
import { loadTlsMaterial } from '../security/config.ts';
import { NodeServer } from '../net/server.ts';
import { ControlKind } from '../net/frame.ts';
import type { Channel } from '../net/channel.ts';
import { netLog, type Logger } from '../node/log.ts';
import { abortBody, parseDealerRequest, type DealerRequestBody } from '../node/messages.ts';
import { decodePlan, planHash, type Plan } from '../compiler/plan.ts';
import { suiteFor } from '../protocol/suites.ts';
import type { Dealing } from '../protocol/suite.ts';
import { DEALER_TRUST } from './dealer.ts';

/** Chunks stay well under the frame limit and keep memory per send small. */
const CHUNK_BYTES = 4 << 20;
/** A job whose parties do not all ask within this time is forgotten. */
const JOB_TTL_MS = 10 * 60_000;

interface DealerJob {
  request: DealerRequestBody;
  plan: Plan;
  dealing: Dealing;
  served: Set<number>;
  timer: NodeJS.Timeout;
}

export interface RunningDealer {
  port: number;
  close(): Promise<void>;
}

export async function startDealer(cfg: DealerConfig, log: Logger): Promise<RunningDealer> {
  const tls = loadTlsMaterial(cfg.tls);
  const ids = cfg.parties.map((p) => p.id);
  const server = new NodeServer({ tls, parties: ids, log: netLog(log) });
  const jobs = new Map<string, DealerJob>();
  // Job ids already dealt in full: a late or replayed request must not get fresh seeds.
  const finished = new Set<string>();
  log.warn({ event: 'trust', trust: DEALER_TRUST }, DEALER_TRUST);

  const same = (a: DealerRequestBody, b: DealerRequestBody): boolean =>
    a.planHash === b.planHash && a.security === b.security && a.parties.join() === b.parties.join();

  async function serve(ch: Channel, job: string, req: DealerRequestBody): Promise<void> {
    const index = req.parties.indexOf(ch.peer.id);
    if (index < 0 || !req.parties.every((p) => ids.includes(p)) || new Set(req.parties).size !== req.parties.length) {
      throw new MpcError(ErrorCode.FORBIDDEN, `party ${ch.peer.id} asked for job ${job} with party list ${req.parties.join(',')}`);
    }
    if (finished.has(job)) throw new MpcError(ErrorCode.PROTOCOL, `job ${job} was already dealt to every party`, { party: ch.peer.id });
    let state = jobs.get(job);
    if (!state) {
      if (planHash(req.plan) !== req.planHash) throw new MpcError(ErrorCode.PROTOCOL, `party ${ch.peer.id} sent a plan that does not match its hash`, { party: ch.peer.id });
      const plan = decodePlan(req.plan);
      const dealing = suiteFor(req.security).deal(plan, req.parties.length);
      state = { request: req, plan, dealing, served: new Set(), timer: setTimeout(() => jobs.delete(job), JOB_TTL_MS) };
      state.timer.unref();
      jobs.set(job, state);
    } else if (!same(state.request, req)) {
      throw new MpcError(ErrorCode.PROTOCOL, `party ${ch.peer.id} asked for job ${job} with a different plan than the other parties`, { party: ch.peer.id });
    }
    if (state.served.has(index)) throw new MpcError(ErrorCode.PROTOCOL, `party ${ch.peer.id} asked twice for job ${job}`, { party: ch.peer.id });
    state.served.add(index);
    log.info({ event: 'deal', job, party: ch.peer.id, security: req.security, triples: state.plan.stats.multiplications }, 'dealing');
    await ch.send({ job, round: 0, kind: ControlKind.DealerSeeds, body: { seed: state.dealing.seeds[index], trust: DEALER_TRUST } });
    if (state.served.size === req.parties.length) {
      clearTimeout(state.timer);
      jobs.delete(job);
      finished.add(job);
      if (finished.size > 100_000) finished.delete(finished.values().next().value!);
    }
    let item = 0;
    for (const bytes of state.dealing.extras(index)) {
      // At least one chunk per item, even an empty one, so the party sees every item.
      for (let off = 0; off === 0 || off < bytes.length; off += CHUNK_BYTES) {
        const part = bytes.subarray(off, off + CHUNK_BYTES);
        await ch.send({ job, round: item, kind: ControlKind.DealerCorrections, body: { item, offset: off, total: bytes.length }, payload: part });
        if (bytes.length === 0) break;
      }
      item++;
    }
  }

  server.on('party', (ch) => {
    ch.on('frame', (f) => {
      if (f.kind !== ControlKind.DealerRequest) {
        ch.fail(new MpcError(ErrorCode.PROTOCOL, `unexpected frame kind ${f.kind} at the dealer`, { party: ch.peer.id }));
        return;
      }
      serve(ch, f.job, parseDealerRequest(f.body, ch.peer.id)).catch((e: unknown) => {
        log.error({ event: 'deal-failed', job: f.job, party: ch.peer.id, err: (e as Error).message }, 'dealing failed');
        void ch.send({ job: f.job, round: 0, kind: ControlKind.JobAbort, body: abortBody(e, 'dealer') }).catch(() => {});
      });
    });
    ch.resume();
  });
  // Analysts have no business with the dealer.
  server.on('client', (ch) => ch.close(4003, 'the dealer serves computing parties only'));
  const { port } = await server.listen(cfg.listen.port, cfg.listen.host);
  log.info({ event: 'listening', port, host: cfg.listen.host }, `dealer listening on ${cfg.listen.host}:${port}`);
  return {
    port,
    close: async () => {
      for (const j of jobs.values()) clearTimeout(j.timer);
      await server.close();
    },
  };
}
