/**
 * The party daemon (`mpc node`): holds this party's datasets, keeps authenticated channels
 * to every other party, accepts jobs from authorised analysts, runs them with the protocol
 * executor, and sends output shares only to the recipients a plan names. One failing job
 * is aborted on every node and reported; the node keeps serving the others.
 * @module
 */
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { MpcError, ErrorCode } from '../errors.ts';
import type { NodeConfig, PreprocessingMode } from '../security/config.ts';
import { loadTlsMaterial } from '../security/config.ts';
import { formatIdentity } from '../security/identity.ts';
import { NodeServer } from '../net/server.ts';
import { PeerMesh } from '../net/mesh.ts';
import { startLanes, type Lanes } from '../net/lanes.ts';
import { ControlKind } from '../net/frame.ts';
import type { Channel } from '../net/channel.ts';
import type { Frame } from '../net/frame.ts';
import type { JobTransport } from '../net/job-transport.ts';
import { decodePlan, planHash, type Plan } from '../compiler/plan.ts';
import { planForSecurity } from '../compiler/range-checks.ts';
import { ANALYST } from '../circuit/builder.ts';
import { execute } from '../protocol/executor.ts';
import { assertSupported, suiteFor, type SecurityLevel } from '../protocol/suites.ts';
import { encodePartyInputs } from '../protocol/inputs.ts';
import { formatOutputs } from '../protocol/outputs.ts';
import { Prg, randomSeed } from '../ring/prg.ts';
import { DEALER_TRUST } from '../preprocessing/dealer.ts';
import { dealerPrep } from '../preprocessing/dealers.ts';
import type { HasStore, StoreFill } from '../util/run-ahead.ts';
import { createOtMaterial, otSessionId, OT_TRUST } from '../preprocessing/ot/material.ts';
import type { OtPrepStats } from '../preprocessing/ot/semi-honest.ts';
import { loadDatasets } from './datasets.ts';
import { Governance } from './governance.ts';
import { createFrameAudit, payloadDigest } from '../security/audit.ts';
import { ALERT_EVENTS, type RequestKind } from '../security/roles.ts';
import { openDealerLink, type DealerLink } from './dealer-link.ts';
import { netLog, type Logger } from '../util/log.ts';
import { startKernels } from './pool.ts';
import { watchExpiry, watchTlsFiles } from './tls-reload.ts';
import {
  abortBody,
  abortError,
  parseJobAbort,
  parseJobAccept,
  parseJobSubmit,
  type JobAbortBody,
  type JobAcceptBody,
  type JobSubmitBody,
  type JobDoneBody,
} from '../net/messages.ts';

/** How long a node waits for its peers to accept the same job before giving up. */
const ACCEPT_TIMEOUT_MS = 30_000;
/** Output messages to the analyst are sent in pieces of at most this many bytes. */
const OUTPUT_CHUNK_BYTES = 8 << 20;
/** Progress reports to the analyst are rate-limited to this interval. */
const PROGRESS_INTERVAL_MS = 200;
/** Peer messages about jobs this node has not seen yet are kept this long. */
const PENDING_TTL_MS = 60_000;

interface PeerNotes {
  accepts: Map<string, JobAcceptBody>;
  abort?: JobAbortBody & { from: string };
  timer: NodeJS.Timeout;
}

interface Job {
  id: string;
  /** SHA-256 of the signed request this node accepted (src/node/governance.ts). */
  request: string;
  plan: Plan;
  planBytes: Uint8Array;
  security: SecurityLevel;
  preprocessing: PreprocessingMode;
  pad: boolean;
  hash: string;
  analyst: Channel;
  transport?: JobTransport;
  dealer?: DealerLink;
  onPeerNote?: () => void;
  failed?: Error;
}

/**
 * Liveness of an analyst's channel. An analyst compiles its circuit between Describe and
 * JobSubmit, and a large circuit (a sorting network) keeps its process busy for seconds, deaf
 * to pings: 5 s would drop a healthy analyst. A silent analyst only delays the abort of its
 * own job (a closed connection is seen at once); parties keep the 5 s of issue 3.
 */
const ANALYST_HEARTBEAT = { intervalMs: 1000, timeoutMs: 60_000 };
export interface RunningNode {
  port: number;
  /** Read the policy file and the TLS files again now (SIGHUP). */
  reload(): void;
  close(): Promise<void>;
}

/** The request each analyst or auditor frame kind makes, for the role check. */
const CLIENT_REQUESTS: ReadonlyMap<number, RequestKind> = new Map([
  [ControlKind.JobSubmit, 'submit-job'],
  [ControlKind.JobAbort, 'cancel-job'],
  [ControlKind.Describe, 'describe'],
  [ControlKind.AuditRead, 'read-audit'],
]);

export async function startNode(cfg: NodeConfig, log: Logger): Promise<RunningNode> {
  // `let`: renewed certificate files replace it (below); every later dial reads the current one.
  let tls = loadTlsMaterial(cfg.tls);
  const self = cfg.party;
  const ids = cfg.parties.map((p) => p.id);
  const datasets = loadDatasets(cfg.datasets, self);
  const shapes: Record<string, number | null> = {};
  for (const [name, v] of Object.entries(datasets)) shapes[name] = Array.isArray(v) ? v.length : null;
  const gov = await Governance.open(cfg, log, () => tls.ca);

  // One kernel pool per node process, shared by its jobs (issue 5; src/node/pool.ts).
  const kernels = await startKernels({ threads: cfg.threads }, (reason) =>
    log.warn({ event: 'workers-unavailable', reason }, `worker threads could not start (${reason}); kernels run in the main thread`),
  ).catch(async (e: unknown) => {
    await gov.close();
    throw e;
  });
  const nlog = netLog(log);
  // With kernel threads, as many lanes: chunks of a wide layer travel on channels of their
  // own threads (src/net/lanes.ts). Without lanes the node works the same, on its main channels.
  let lanes: Lanes | undefined;
  // MPC_NO_LANES=1 keeps the kernel threads but sends every job message on the main channels
  // (to compare the two, and a way out should lanes misbehave on some host).
  if (kernels.threads > 1 && process.env.MPC_NO_LANES !== '1') {
    try {
      lanes = await startLanes({ count: kernels.threads, tls, parties: ids, host: cfg.listen.host, log: nlog });
    } catch (e) {
      log.warn({ event: 'lanes-unavailable', reason: (e as Error).message }, `lanes could not start (${(e as Error).message}); job messages use the main channels`);
    }
  }
  // Warns days before this node's certificate, the CA's or a connected peer's expires.
  const expiry = watchExpiry({ ownCertPem: tls.cert, caPem: tls.ca, log: nlog });
  const server = new NodeServer({ tls, parties: ids, log: nlog, analystHeartbeat: ANALYST_HEARTBEAT, onPeerCertificate: expiry.peer });
  const mesh = new PeerMesh({ tls, parties: cfg.parties, server, log: nlog, lanes, onPeerCertificate: expiry.peer, ...(gov.audit ? { audit: createFrameAudit(gov.audit, { sync: cfg.auditSync }) } : {}) });
  // Renewed certificate files (mpc cert renew) take effect without a restart: new connections
  // and dials use them, open channels and their jobs carry on with the old ones.
  const tlsWatch = watchTlsFiles(
    cfg.tls,
    (m, c) => {
      server.updateTls(m);
      mesh.updateTls(m);
      lanes?.updateTls(m);
      // A CA bundle (old and new CA during a move) is one PEM text to node:tls and X509Certificate.
      tls = { ...m, ca: Array.isArray(m.ca) ? m.ca.join('\n') : m.ca };
      expiry.setOwn(m.cert, tls.ca);
      log.info({ event: 'tls-reloaded', fingerprint: c.fingerprint, notAfter: c.notAfter.toISOString() }, 'renewed certificate in use; open connections keep theirs');
      gov.note('tls-reloaded', { fingerprint: c.fingerprint, notAfter: c.notAfter.toISOString() });
    },
    (e) => log.error({ event: 'tls-reload-refused', code: e.code, reason: e.message }, e.message),
    { current: tls },
  );
  const closeThreads = async (): Promise<void> => {
    tlsWatch.close();
    expiry.close();
    await lanes?.close();
    await kernels.close();
    await gov.close();
  };
  const jobs = new Map<string, Job>();
  const used = new Set<string>();
  /**
   * Jobs that finished here, most recent last (bounded). A node can finish its part of a job
   * before another node aborts it (say, the fault is in the last layer's openings to that
   * node); the abort that arrives afterwards is still logged, so every node's log says the
   * job was aborted, and why. Job id → the analyst who submitted it.
   */
  const completed = new Map<string, string>();
  const MAX_COMPLETED = 10_000;
  function lateAbort(jobId: string, e: MpcError, from: string, analyst?: string): void {
    if (!completed.has(jobId) || (analyst !== undefined && completed.get(jobId) !== analyst)) return;
    completed.delete(jobId);
    log.error(
      { event: 'job-aborted', job: jobId, code: e.code, party: e.party, reason: e.message, late: true, from },
      `job ${jobId}, finished here, was aborted afterwards by ${from}: ${e.message}`,
    );
  }
  const notes = new Map<string, PeerNotes>();

  const notesFor = (job: string): PeerNotes => {
    let n = notes.get(job);
    if (!n) {
      n = { accepts: new Map(), timer: setTimeout(() => notes.delete(job), PENDING_TTL_MS) };
      n.timer.unref();
      notes.set(job, n);
    }
    return n;
  };

  const send = (ch: Channel, kind: number, job: string, body?: unknown, payload?: Uint8Array): Promise<void> =>
    ch.send({ job, round: 0, kind: kind as never, body, payload }).catch((e: Error) => {
      log.warn({ event: 'send-failed', job, peer: ch.peer.id, err: e.message }, 'could not reach the analyst');
    });

  /** Abort `job` here, tell the analyst and every peer (once). */
  function fail(job: Job, e: unknown): void {
    if (job.failed) return;
    job.failed = e instanceof Error ? e : new Error(String(e));
    const body = abortBody(e, self);
    // Anything but an MpcError is a bug here: its stack goes to this node's own log only.
    const stack = e instanceof MpcError || !(e instanceof Error) ? {} : { stack: e.stack };
    log.error({ event: 'job-aborted', job: job.id, code: body.code, party: body.party, reason: body.reason, ...stack }, `job ${job.id} aborted: ${body.reason}`);
    gov.note('job-aborted', { job: job.id, code: body.code, reason: body.reason, ...(body.party ? { party: body.party } : {}) });
    if (body.code === ErrorCode.MAC_CHECK) gov.note('mac-check', { job: job.id, result: 'fail', reason: body.reason });
    job.transport?.abort(job.failed);
    job.onPeerNote?.();
    void send(job.analyst, ControlKind.JobAbort, job.id, body);
    for (const p of ids) if (p !== self && mesh.isConnected(p)) void mesh.sendControl(p, ControlKind.JobAbort, job.id, body).catch(() => {});
  }

  mesh.on('control', (peer, f) => {
    // A party's certificate may only carry party traffic: a job submission or a Describe on a
    // party channel is outside its role, refused and raised as an alert.
    const asked = CLIENT_REQUESTS.get(f.kind);
    if (asked !== undefined && f.kind !== ControlKind.JobAbort) {
      const refused = gov.authorize({ federation: cfg.federation, role: 'party', id: peer }, asked, f.job);
      if (refused) void mesh.sendControl(peer, ControlKind.JobReject, f.job, abortBody(refused, self)).catch(() => {});
      return;
    }
    try {
      const n = notesFor(f.job);
      if (f.kind === ControlKind.JobAccept) n.accepts.set(peer, parseJobAccept(f.body, peer));
      else if (f.kind === ControlKind.JobAbort) n.abort = { ...parseJobAbort(f.body, peer), from: peer };
      else throw new MpcError(ErrorCode.PROTOCOL, `party ${peer} sent control kind ${f.kind}, which parties do not exchange`, { party: peer });
      const job = jobs.get(f.job);
      if (!job && n.abort) lateAbort(f.job, abortError(n.abort), peer);
      if (job) {
        if (n.abort && !job.failed) {
          const err = abortError(n.abort);
          job.transport?.abort(err);
          fail(job, err);
        }
        job.onPeerNote?.();
      }
    } catch (e) {
      log.warn({ event: 'bad-control', peer, err: (e as Error).message }, 'bad control frame from a party');
    }
  });

  // A lost peer ends every running job at once, whatever phase it is in (every job involves
  // every party). The mesh aborts the job transports it has registered, but a job still
  // waiting for its peers' JobAccept, or for the dealer, would otherwise notice only when it
  // next used its transport — or after ACCEPT_TIMEOUT_MS, far beyond the 10 s allowed.
  mesh.on('peer-lost', (_peer, err) => {
    for (const job of jobs.values()) {
      if (!job.failed) fail(job, job.transport?.aborted ?? err);
    }
  });

  /** Wait until every peer accepted the same plan for this job. */
  function allAccepted(job: Job): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        job.onPeerNote = undefined;
        const missing = ids.filter((p) => p !== self && !notesFor(job.id).accepts.has(p));
        reject(new MpcError(ErrorCode.PEER_LOST, `parties ${missing.join(', ')} did not accept job ${job.id} within ${ACCEPT_TIMEOUT_MS / 1000} s`, { party: missing[0] }));
      }, ACCEPT_TIMEOUT_MS);
      job.onPeerNote = () => {
        const n = notesFor(job.id);
        const done = (e?: Error) => {
          clearTimeout(timer);
          job.onPeerNote = undefined;
          if (e) reject(e);
          else resolve();
        };
        if (job.failed) return done(job.failed);
        if (n.abort) return done(abortError(n.abort));
        for (const [p, { planHash: plan, request }] of n.accepts) {
          if (plan !== job.hash) return done(new MpcError(ErrorCode.PROTOCOL, `party ${p} accepted job ${job.id} with a different plan (${plan.slice(0, 12)}… vs ${job.hash.slice(0, 12)}…)`, { party: p }));
          // The analyst signed one request for every node; a node shown another (other options,
          // say no padding where this node requires it) must not run the job with the others.
          if (request !== job.request) return done(new MpcError(ErrorCode.FORBIDDEN, `party ${p} accepted job ${job.id} under a different signed request than this node did`, { party: p }));
        }
        if (ids.every((p) => p === self || n.accepts.has(p))) done();
      };
      job.onPeerNote();
    });
  }

  async function run(job: Job, mine: Map<number, BigUint64Array>, started: number): Promise<void> {
    await mesh.ready(15_000);
    // The job's party order puts the circuit's parties first (in the circuit's order), then
    // the federation's other parties: every node derives the same order from the plan, and
    // suites can map a plan party to a session index without a table.
    const parties = [...job.plan.parties, ...ids.filter((p) => !job.plan.parties.includes(p))];
    const transport = mesh.jobTransport(job.id, parties, { pad: job.pad });
    job.transport = transport;
    const over = new AbortController();
    if (job.failed) transport.abort(job.failed);
    try {
      for (const p of ids) if (p !== self) await mesh.sendControl(p, ControlKind.JobAccept, job.id, { planHash: job.hash, request: job.request });
      await allAccepted(job);
      await gov.record('job-started', { job: job.id, planHash: job.hash, parties });
      const suite = suiteFor(job.security, job.plan.ring ?? 64);
      // What this node runs: the accepted plan, plus (malicious jobs) the range checks of its
      // inputs, which this node adds itself (compiler/range-checks.ts).
      const plan = planForSecurity(job.plan, job.security);
      const me = parties.indexOf(self);
      let prep: unknown;
      let otStats: (() => OtPrepStats) | undefined;
      if (job.preprocessing === 'ot') {
        // The parties make the job's material among themselves, over the job's own transport.
        const ot = createOtMaterial(job.security, { transport, parties, sessionId: otSessionId(job.id, job.hash), ring: plan.ring ?? 64 });
        prep = suite.prep(plan, parties.length, me, ot.material, over.signal);
        otStats = ot.stats;
      } else {
        job.dealer = await openDealerLink({
          dealer: cfg.dealer!,
          federation: cfg.federation,
          tls,
          jobId: job.id,
          plan: job.planBytes,
          planHash: job.hash,
          security: job.security,
          parties,
          log: nlog,
        });
        prep = dealerPrep(suite, plan, parties.length, me, job.dealer.seed, job.dealer.nextExtra, over.signal);
      }
      let lastProgress = 0;
      const phases: Record<string, number> = {};
      const phaseBytes: Record<string, number> = {};
      const cpu0 = process.cpuUsage();
      const result = await execute(
        plan,
        {
          self: me,
          parties,
          transport,
          prep,
          rng: new Prg(randomSeed(), `input/${job.id}`),
          kernels,
        },
        suite,
        mine,
        {
          onProgress: (p) => {
            const now = performance.now();
            if (now - lastProgress < PROGRESS_INTERVAL_MS && p.layer < p.layers) return;
            lastProgress = now;
            void send(job.analyst, ControlKind.JobProgress, job.id, p);
          },
          onPhase: (phase) => {
            phases[phase] = performance.now();
            phaseBytes[phase] = transport.stats().bytesSent;
          },
        },
      );
      if (job.failed) throw job.failed;
      // The suite's output step checks every MAC before anything leaves (src/protocol/spdz2k).
      if (job.security === 'malicious') gov.note('mac-check', { job: job.id, result: 'pass' });
      for (const o of job.plan.outputs) {
        for (const r of o.to) if (r !== ANALYST && r !== self) gov.note('output-delivered', { job: job.id, output: o.name, recipient: r });
      }
      const toAnalyst = job.plan.outputs.filter((o) => o.to.includes(ANALYST));
      if (toAnalyst.length > 0) {
        const parts = toAnalyst.map((o) => result.external[o.name]);
        const payload = new Uint8Array(parts.reduce((t, v) => t + v.byteLength, 0));
        let off = 0;
        for (const v of parts) {
          payload.set(v, off);
          off += v.byteLength;
        }
        await gov.record('output-delivered', {
          job: job.id,
          recipient: ANALYST,
          analyst: job.analyst.peer.id,
          outputs: toAnalyst.map((o) => o.name),
          bytes: payload.byteLength,
          digest: payloadDigest(payload),
        });
        // In chunks, so outputs of any length stay under the frame limit.
        for (let offset = 0; offset === 0 || offset < payload.byteLength; offset += OUTPUT_CHUNK_BYTES) {
          await job.analyst.send({
            job: job.id,
            round: 0,
            kind: ControlKind.OutputShare,
            body: { names: toAnalyst.map((o) => o.name), lengths: parts.map((v) => v.byteLength), offset, total: payload.byteLength },
            payload: payload.subarray(offset, offset + OUTPUT_CHUNK_BYTES),
          });
          if (payload.byteLength === 0) break;
        }
      }
      if (Object.keys(result.values).length > 0) {
        // Outputs addressed to this party: its operator reads them from the log.
        log.info({ event: 'output', job: job.id, outputs: formatOutputs(job.plan, result.values, self) }, `outputs for ${self}`);
      }
      const st = transport.stats();
      await gov.record('job-done', { job: job.id, bytesSent: st.bytesSent, bytesReceived: st.bytesReceived });
      await job.analyst.send({
        job: job.id,
        round: 0,
        kind: ControlKind.JobDone,
        body: {
          bytesSent: st.bytesSent,
          bytesReceived: st.bytesReceived,
          messagesSent: st.messagesSent,
          seconds: (performance.now() - started) / 1000,
          onlineSeconds: ((phases.output ?? 0) - (phases.online ?? 0)) / 1000,
          onlineBytesSent: (phaseBytes.output ?? 0) - (phaseBytes.online ?? 0),
          cpuSeconds: (() => {
            const c = process.cpuUsage(cpu0);
            return (c.user + c.system) / 1e6;
          })(),
          peakRssBytes: process.resourceUsage().maxRSS * 1024,
          preprocessing: job.preprocessing,
          trust: job.dealer?.trust ?? OT_TRUST,
          ...(otStats ? { ot: otStatsBody(otStats()) } : {}),
          ...storeOf(prep),
        },
      });
      completed.set(job.id, job.analyst.peer.id);
      if (completed.size > MAX_COMPLETED) completed.delete(completed.keys().next().value as string);
      log.info(
        {
          event: 'job-done',
          job: job.id,
          seconds: (performance.now() - started) / 1000,
          bytesSent: st.bytesSent,
          preprocessing: job.preprocessing,
          ...(otStats ? { ot: otStatsBody(otStats()) } : {}),
          ...storeOf(prep),
          kernels: kernels.stats(),
          ...(lanes ? { lanes: lanes.stats() } : {}),
          ...(gov.alerts.total > 0 ? { alerts: gov.alerts.snapshot() } : {}),
        },
        `job ${job.id} done`,
      );
    } finally {
      // The sources' run-ahead stops with the job, whether it finished or failed.
      over.abort(job.failed ?? new MpcError(ErrorCode.ABORTED, `job ${job.id} is over`));
      job.dealer?.close();
      transport.dispose();
    }
  }

  async function submit(ch: Channel, f: Frame): Promise<void> {
    const jobId = f.job;
    // A refusal of a job no node runs yet is told to the peers too; a replayed submission of a
    // running job must not abort that job.
    let known = false;
    const reject = (e: MpcError): void => {
      log.warn({ event: 'job-rejected', job: jobId, analyst: ch.peer.id, code: e.code, reason: e.message }, `refused job ${jobId}: ${e.message}`);
      const body = abortBody(e, self);
      // The refusal is on disk before anyone hears of it (a log that fails still lets it out).
      void gov
        .record('job-rejected', { job: jobId, analyst: ch.peer.id, code: e.code, reason: e.message })
        .catch(() => {})
        .then(() => {
          void send(ch, ControlKind.JobReject, jobId, body);
          // Every node fails the job, naming this one and its reason, even if the analyst goes
          // away instead of cancelling it: they wait for this node's JobAccept, which never comes.
          if (e.code === ErrorCode.FORBIDDEN && !known) {
            for (const p of ids) if (p !== self && mesh.isConnected(p)) void mesh.sendControl(p, ControlKind.JobAbort, jobId, body).catch(() => {});
          }
        });
    };
    let body: JobSubmitBody;
    let plan: Plan;
    let mine: Map<number, BigUint64Array>;
    let requestDigest: string;
    try {
      body = parseJobSubmit(f.body, ch.peer.id);
      if (jobId.length < 8) throw new MpcError(ErrorCode.PROTOCOL, `job id ${JSON.stringify(jobId)} is too short; job ids must be fresh random strings`);
      if (jobs.has(jobId) || used.has(jobId)) {
        known = true;
        // The signature of a replayed submission is valid; only the job id tells it apart.
        gov.alert(ALERT_EVENTS.request, ch.peer, { job: jobId, reason: 'replayed' }, `refused a second submission of job ${jobId} from ${formatIdentity(ch.peer)}`);
        throw new MpcError(ErrorCode.FORBIDDEN, `replayed: job ${jobId} was submitted before; job ids must be fresh`);
      }
      used.add(jobId);
      suiteFor(body.security);
      if (cfg.security === 'malicious' && body.security !== 'malicious') {
        throw new MpcError(ErrorCode.FORBIDDEN, `this node requires malicious security; the job asked for ${body.security}`);
      }
      // OT preprocessing trusts no one beyond the parties, so every node accepts it; a dealer
      // is trusted only by nodes whose config says so.
      if (body.preprocessing === 'dealer') {
        if (!cfg.dealer) throw new MpcError(ErrorCode.CONFIG, `party ${self} has no dealer configured, but the job uses dealer preprocessing; run it with --preprocessing ot`);
        if (cfg.preprocessing === 'ot') {
          throw new MpcError(ErrorCode.FORBIDDEN, `party ${self} trusts no dealer (its config says "preprocessing": "ot"); run the job with --preprocessing ot`);
        }
      }
      if (planHash(body.plan) !== body.planHash) throw new MpcError(ErrorCode.PROTOCOL, 'the plan does not match its hash');
      plan = decodePlan(body.plan);
      assertSupported(body.security, plan.ring ?? 64);
      const foreign = plan.parties.filter((p) => !ids.includes(p));
      if (foreign.length > 0) throw new MpcError(ErrorCode.CONFIG, `circuit ${plan.circuit} needs parties ${foreign.join(', ')}, which are not in this federation (${ids.join(', ')})`);
      for (const o of plan.outputs) {
        for (const r of o.to) if (r !== ANALYST && !ids.includes(r)) throw new MpcError(ErrorCode.CONFIG, `output ${o.name} is addressed to unknown party ${r}`);
      }
      // The signed request and the data owner's policy decide before this node's data is
      // read for the job (the request and the decision are on disk in the audit log first).
      const admitted = await gov.admit({ peer: ch.peer, jobId, body, plan });
      requestDigest = admitted.digest;
      await gov.record('job-accepted', { job: jobId, analyst: ch.peer.id, circuit: plan.circuit, planHash: body.planHash, security: body.security, preprocessing: body.preprocessing, pad: body.pad, rule: admitted.rule });
      const wanted = Object.fromEntries(plan.inputs.filter((i) => i.party === self).map((i) => [i.name, datasets[i.name]]));
      mine = bindDatasets(jobId, plan, wanted);
    } catch (e) {
      used.add(jobId);
      reject(e instanceof MpcError ? e : new MpcError(ErrorCode.PROTOCOL, (e as Error).message));
      return;
    }
    if (ch.closed) return reject(new MpcError(ErrorCode.ABORTED, `the analyst ${ch.peer.id} disconnected`));
    const job: Job = { id: jobId, request: requestDigest, plan, planBytes: body.plan, security: body.security, preprocessing: body.preprocessing, pad: body.pad, hash: body.planHash, analyst: ch };
    jobs.set(jobId, job);
    log.info({ event: 'job-accepted', job: jobId, analyst: ch.peer.id, circuit: plan.circuit, planHash: body.planHash, security: body.security, preprocessing: body.preprocessing, trust: body.preprocessing === 'ot' ? OT_TRUST : DEALER_TRUST }, `accepted job ${jobId} (${plan.circuit})`);
    void send(ch, ControlKind.JobAccept, jobId, { planHash: body.planHash });
    const started = performance.now();
    run(job, mine, started)
      .catch((e: unknown) => fail(job, e))
      .finally(() => {
        jobs.delete(jobId);
        notes.delete(jobId);
      });
  }

  /**
   * This node's data encoded for the plan. Why a value does not fit (its type, its declared
   * range) would quote the value: that stays in this node's own log, and the analyst, the
   * peers and the audit log get only which input failed. (Whether a dataset fits a declared
   * range is itself one bit about the data, which the policy's job budget bounds.)
   */
  function bindDatasets(jobId: string, plan: Plan, wanted: Record<string, unknown>): Map<number, BigUint64Array> {
    try {
      return encodePartyInputs(plan, self, Object.fromEntries(Object.entries(wanted).filter(([, v]) => v !== undefined)), `datasets of ${self}`);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      log.warn({ event: 'dataset-mismatch', job: jobId, detail }, `job ${jobId}: ${detail}`);
      const names = (k: string) => ['[', ':', ' '].some((c) => detail.includes(k + c)) || detail.endsWith(k);
      const which = plan.inputs.filter((i) => i.party === self).map((i) => `${self}.${i.name}`).find(names);
      throw new MpcError(ErrorCode.INPUT, `${which ?? `an input of ${self}`} does not fit the job (its type, length or declared range); ${self}'s operator has the details in its log`, { party: self });
    }
  }

  /**
   * An auditor's read of this node's audit log: the whole file as it stands once every entry
   * so far is on disk, in pieces under the frame limit. The read itself is an entry.
   */
  async function readAudit(ch: Channel, f: Frame): Promise<void> {
    const audit = gov.audit;
    if (audit === undefined) {
      return void send(ch, ControlKind.JobReject, f.job, abortBody(new MpcError(ErrorCode.UNSUPPORTED, `party ${self} keeps no audit log ("audit" is not set in its node config)`), self));
    }
    try {
      await audit.record('audit-read', { auditor: ch.peer.id, request: f.job });
      // Piece by piece, up to the size it has now: a long log never sits in memory whole.
      const fh = await open(audit.file, 'r');
      try {
        const { size: total } = await fh.stat();
        const piece = Buffer.alloc(Math.min(OUTPUT_CHUNK_BYTES, Math.max(1, total)));
        for (let offset = 0; offset === 0 || offset < total; ) {
          const { bytesRead } = await fh.read(piece, 0, Math.min(piece.length, total - offset), offset);
          await ch.send({ job: f.job, round: 0, kind: ControlKind.AuditChunk, body: { offset, total }, payload: piece.subarray(0, bytesRead) });
          offset += bytesRead;
          if (bytesRead === 0) break;
        }
      } finally {
        await fh.close();
      }
    } catch (e) {
      log.warn({ event: 'audit-read-failed', auditor: ch.peer.id, err: (e as Error).message }, `could not send the audit log to ${ch.peer.id}`);
      void send(ch, ControlKind.JobReject, f.job, abortBody(e, self));
    }
  }

  /**
   * The analyst's cancellation of a job. runJob cancels a job on every node as soon as one
   * node aborts it, and says why (code, reason, blamed party): keep that, so a node that
   * hears of the abort first from the analyst still logs the real cause and the party.
   */
  function cancelled(analyst: string, body: unknown): MpcError {
    let cause: JobAbortBody | undefined;
    try {
      cause = parseJobAbort(body, analyst);
    } catch {
      cause = undefined; // an older client sends no usable body: a plain cancellation
    }
    if (!cause) return new MpcError(ErrorCode.ABORTED, `the analyst ${analyst} cancelled the job`);
    const e = abortError({ ...cause, by: undefined });
    return new MpcError(e.code, `the analyst ${analyst} cancelled the job: ${e.message}`, e.party ? { party: e.party } : {});
  }

  server.on('client', (ch, hello) => {
    // Analysts connect to submit jobs, auditors to read the audit log; each only if this
    // node's config names it. Any other principal (a dealer, an unknown analyst) is refused.
    const admitted = ch.peer.role === 'analyst' ? cfg.analysts.includes(ch.peer.id) : ch.peer.role === 'auditor' ? cfg.auditors.includes(ch.peer.id) : false;
    if (!admitted) {
      const why = ch.peer.role === 'analyst' || ch.peer.role === 'auditor' ? `not an ${ch.peer.role} of this node` : `a ${ch.peer.role} certificate may not connect as a client`;
      gov.alert(ALERT_EVENTS.auth, ch.peer, { role: ch.peer.role }, `refused ${formatIdentity(ch.peer)}: ${why}`);
      ch.close(4003, why);
      return;
    }
    void hello;
    ch.on('frame', (f) => {
      const asked = CLIENT_REQUESTS.get(f.kind);
      if (asked !== undefined) {
        const refused = gov.authorize(ch.peer, asked, f.job);
        if (refused) return void send(ch, ControlKind.JobReject, f.job, abortBody(refused, self));
      }
      if (f.kind === ControlKind.Describe) void send(ch, ControlKind.DescribeReply, f.job, { party: self, inputs: shapes });
      else if (f.kind === ControlKind.JobSubmit) void submit(ch, f);
      else if (f.kind === ControlKind.AuditRead) void readAudit(ch, f);
      else if (f.kind === ControlKind.JobAbort) {
        const job = jobs.get(f.job);
        if (job && job.analyst === ch) fail(job, cancelled(ch.peer.id, f.body));
        else if (!job) lateAbort(f.job, cancelled(ch.peer.id, f.body), `analyst ${ch.peer.id}`, ch.peer.id);
      } else {
        ch.fail(new MpcError(ErrorCode.PROTOCOL, `analyst ${ch.peer.id} sent frame kind ${f.kind}, which analysts may not send`));
      }
    });
    ch.on('close', () => {
      for (const job of jobs.values()) {
        if (job.analyst === ch) fail(job, new MpcError(ErrorCode.ABORTED, `the analyst ${ch.peer.id} disconnected`));
      }
    });
    ch.resume();
  });

  let port: number;
  try {
    ({ port } = await server.listen(cfg.listen.port, cfg.listen.host));
  } catch (e) {
    await closeThreads();
    throw e;
  }
  mesh.start();
  log.info(
    { event: 'listening', host: cfg.listen.host, port, party: self, parties: ids, datasets: shapes, threads: kernels.threads, lanes: lanes?.ports.length ?? 0 },
    `node ${self} listening on ${cfg.listen.host}:${port}`,
  );
  return {
    port,
    reload: () => {
      gov.reload();
      tlsWatch.reload();
    },
    close: async () => {
      for (const n of notes.values()) clearTimeout(n.timer);
      try {
        await mesh.close();
        await server.close();
      } finally {
        await closeThreads();
      }
    },
  };
}

/** A job's OT preprocessing figures, as the job's stats and the node's log carry them. */
function otStatsBody(s: OtPrepStats): JobDoneBody['ot'] {
  return { triples: s.triples, bits: s.bits, setupSeconds: s.setupMs / 1000, generateSeconds: s.generateMs / 1000 };
}

/** The preprocessing store's bound and fill level (the job's run-ahead of material), when the source keeps one. */
function storeOf(prep: unknown): { store?: StoreFill } {
  const s = (prep as Partial<HasStore> | undefined)?.store;
  return typeof s === 'function' ? { store: s.call(prep) } : {};
}
