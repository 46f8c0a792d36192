/**
 * The dealer daemon (`mpc dealer`): an authenticated service that hands each party of a job
 * its triple seed, and streams the last party's corrections (see dealer.ts). Only
 * computing parties of the federation may ask; every party of a job must ask for the same
 * plan hash and batch sizes, or the job is refused.
 *
 * The stream is flow-controlled by the party (ControlKind.DealerCredit, messages.ts): the
 * dealer sends no chunk beyond the credit the party granted, cutting chunks to the credit
 * it has, so a party that is slow to consume holds the dealer back instead of buffering the
 * job's material; the dealer computes a bounded number of items ahead in its own memory
 * (AHEAD_ITEMS), so that its work is not all left for the online phase.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import type { DealerConfig } from '../security/config.ts';
import { loadTlsMaterial } from '../security/config.ts';
import { NodeServer } from '../net/server.ts';
import { ControlKind } from '../net/frame.ts';
import { CloseCode, type Channel } from '../net/channel.ts';
import { netLog, type Logger } from '../util/log.ts';
import { abortBody, dealerChunkCost, parseDealerCredit, parseDealerRequest, type DealerRequestBody } from '../net/messages.ts';
import { decodePlan, planHash, type Plan } from '../compiler/plan.ts';
import { planForSecurity } from '../compiler/range-checks.ts';
import { dealerFor } from './dealers.ts';
import type { Dealing } from './dealer.ts';
import { DEALER_TRUST } from './dealer.ts';
import { RunAhead } from '../util/run-ahead.ts';

/** Chunks stay well under the frame limit and keep memory per send small. */
const CHUNK_BYTES = 4 << 20;
/**
 * Items of one party's stream the dealer computes ahead of that party's credit. The dealer's
 * work per item (the last party's MAC corrections: ~170 ms for a triple piece here) can be
 * slower than the online phase takes items, so it must get ahead while the parties share
 * their inputs; the party's window alone (a few items) would leave it idle then and put its
 * work on the online phase's critical path. Sixteen items are at most 16 × 16 MiB = 256 MiB
 * of the dealer's own memory, per party stream being served.
 */
const AHEAD_ITEMS = 16;
/** A job whose parties do not all ask within this time is forgotten. */
const JOB_TTL_MS = 10 * 60_000;

/**
 * The credit a party granted for one job's chunks (see messages.ts DealerCreditBody): `take`
 * waits until some is left and spends at most what it asks for.
 */
class Credit {
  #granted = 0;
  #spent = 0;
  #wake: (() => void) | undefined;
  #error: Error | undefined;

  constructor(private readonly party: string) {}

  grant(granted: number): void {
    if (granted < this.#granted) throw new MpcError(ErrorCode.PROTOCOL, `party ${this.party} lowered its dealer credit from ${this.#granted} to ${granted}`, { party: this.party });
    this.#granted = granted;
    this.#wake?.();
  }

  fail(e: Error): void {
    this.#error ??= e;
    this.#wake?.();
  }

  /** Spend up to `want` (at least 1), once credit is available; resolves with what was spent. */
  async take(want: number): Promise<number> {
    while (this.#granted - this.#spent < 1) {
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    if (this.#error) throw this.#error;
    const n = Math.min(want, this.#granted - this.#spent);
    this.#spent += n;
    return n;
  }
}

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

  async function serve(ch: Channel, job: string, req: DealerRequestBody, credit: Credit): Promise<void> {
    const index = req.parties.indexOf(ch.peer.id);
    if (index < 0 || !req.parties.every((p) => ids.includes(p)) || new Set(req.parties).size !== req.parties.length) {
      throw new MpcError(ErrorCode.FORBIDDEN, `party ${ch.peer.id} asked for job ${job} with party list ${req.parties.join(',')}`);
    }
    if (finished.has(job)) throw new MpcError(ErrorCode.PROTOCOL, `job ${job} was already dealt to every party`, { party: ch.peer.id });
    let state = jobs.get(job);
    if (!state) {
      if (planHash(req.plan) !== req.planHash) throw new MpcError(ErrorCode.PROTOCOL, `party ${ch.peer.id} sent a plan that does not match its hash`, { party: ch.peer.id });
      // The plan the parties run: a malicious job's also checks its input ranges.
      const plan = planForSecurity(decodePlan(req.plan), req.security);
      const dealing = dealerFor(req.security).deal(plan, req.parties.length);
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
    const extras = state.dealing.extras(index)[Symbol.iterator]();
    const ahead = new RunAhead<Uint8Array | undefined>({
      count: Infinity,
      cost: () => 1,
      budget: AHEAD_ITEMS,
      produce: async () => {
        const r = extras.next();
        return r.done ? undefined : r.value;
      },
      // Between items, the other parties' streams and the sockets get a turn.
      pace: () => new Promise((resolve) => setImmediate(resolve)),
    });
    try {
      for (let item = 0; ; item++) {
        const bytes = await ahead.take();
        if (bytes === undefined) break;
        // At least one chunk per item, even an empty one, so the party sees every item; each
        // as long as the credit allows, so an item larger than the party's window still flows.
        let off = 0;
        do {
          const len = Math.min(CHUNK_BYTES, bytes.length - off);
          const n = await credit.take(dealerChunkCost(len));
          const part = bytes.subarray(off, off + Math.min(len, n));
          await ch.send({ job, round: item, kind: ControlKind.DealerCorrections, body: { item, offset: off, total: bytes.length }, payload: part });
          off += part.length;
        } while (off < bytes.length);
      }
    } finally {
      // However the stream ends (done, the party gone), nothing more is computed for it.
      ahead.abort(new MpcError(ErrorCode.ABORTED, `the dealing of job ${job} to party ${ch.peer.id} ended`));
    }
  }

  server.on('party', (ch) => {
    // This channel's jobs, by id: the credit its party granted for each.
    const credits = new Map<string, Credit>();
    ch.on('close', (c) => {
      for (const cr of credits.values()) cr.fail(c.error ?? new MpcError(ErrorCode.PEER_LOST, `party ${ch.peer.id} closed the connection (${c.reason || c.code})`, { party: ch.peer.id }));
    });
    ch.on('frame', (f) => {
      try {
        if (f.kind === ControlKind.DealerCredit) {
          const cr = credits.get(f.job);
          if (!cr) throw new MpcError(ErrorCode.PROTOCOL, `party ${ch.peer.id} granted credit for job ${f.job}, which it did not ask for`, { party: ch.peer.id });
          cr.grant(parseDealerCredit(f.body, ch.peer.id).granted);
          return;
        }
        if (f.kind !== ControlKind.DealerRequest) throw new MpcError(ErrorCode.PROTOCOL, `unexpected frame kind ${f.kind} at the dealer`, { party: ch.peer.id });
        if (credits.has(f.job)) throw new MpcError(ErrorCode.PROTOCOL, `party ${ch.peer.id} asked twice for job ${f.job}`, { party: ch.peer.id });
        const credit = new Credit(ch.peer.id);
        credits.set(f.job, credit);
        serve(ch, f.job, parseDealerRequest(f.body, ch.peer.id), credit).catch((e: unknown) => {
          log.error({ event: 'deal-failed', job: f.job, party: ch.peer.id, err: (e as Error).message }, 'dealing failed');
          void ch.send({ job: f.job, round: 0, kind: ControlKind.JobAbort, body: abortBody(e, 'dealer') }).catch(() => {});
        });
      } catch (e) {
        ch.fail(e as MpcError, CloseCode.Violation);
      }
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
