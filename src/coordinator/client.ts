/**
 * The analyst's side of a job (inside `mpc run`): connect to every node with the analyst's
 * certificate, learn the public input shapes, compile, submit the plan, follow progress,
 * collect the output shares addressed to the analyst and reconstruct them. If any node
 * refuses or aborts, the job is cancelled on all nodes and no output is returned.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MpcError, ErrorCode } from '../errors.ts';
import type { Endpoint, TlsMaterial } from '../security/config.ts';
import { connect } from '../net/client.ts';
import { ControlKind, type Frame } from '../net/frame.ts';
import type { Channel } from '../net/channel.ts';
import type { NetLog } from '../net/log.ts';
import { compileLoaded, type LoadedCircuit } from '../compiler/load.ts';
import { encodePlan, planHash, type Plan } from '../compiler/plan.ts';
import { planForSecurity } from '../compiler/range-checks.ts';
import { formatOutputs, type OutputValue } from '../protocol/outputs.ts';
import { assertSupported, suiteFor } from '../protocol/suites.ts';
import { ANALYST } from '../circuit/builder.ts';
import { identityFromCertificate } from '../security/pki.ts';
import { planRecipients, signJobRequest, type JobRequestFields, type SignedJobRequest } from '../security/request.ts';
import {
  abortBody,
  abortError,
  parseDescribeReply,
  parseJobAbort,
  parseJobDone,
  parseJobProgress,
  parseOutputShare,
  type JobDoneBody,
  type JobProgressBody,
  type SecurityLevel,
} from '../net/messages.ts';

export interface ClusterTarget {
  federation: string;
  tls: TlsMaterial;
  parties: Endpoint[];
}

export interface JobStats {
  parties: number;
  security: SecurityLevel;
  preprocessing: string;
  /** The value domain: Z_2^64 or Z_2^128. */
  ring: 64 | 128;
  /** What the nodes ran, the range checks of malicious jobs included. */
  multiplications: number;
  rounds: number;
  /** Malicious jobs: input elements whose declared range was checked inside the computation. */
  rangeChecks?: number;
  /** Protocol payload bytes sent by all nodes together. */
  bytesSent: number;
  /** Wall time from submission until every node reported done. */
  seconds: number;
  gatesPerSecond: number;
  planHash: string;
  jobId: string;
  trust?: string;
  /**
   * Per node, in job party order: time in the multiplication layers, CPU time, peak RSS, and
   * with OT preprocessing what its generator made (triples, random bits, setup and generation seconds).
   */
  nodes: { party: string; bytesSent: number; onlineSeconds: number; onlineBytesSent: number; cpuSeconds: number; peakRssBytes: number; ot?: JobDoneBody['ot']; store?: JobDoneBody['store'] }[];
}

export interface JobResult {
  outputs: Record<string, OutputValue>;
  stats: JobStats;
}

export interface RunJobOptions {
  security: SecurityLevel;
  preprocessing: 'dealer' | 'ot';
  /** Pad every protocol frame of the job to a power-of-two size, so sizes do not show input lengths. */
  pad?: boolean;
  /**
   * How the job request is signed: by default once, with the analyst's own certificate key,
   * valid for 2 minutes, the same request for every node. Tests replace it (it is then called
   * per node) to send expired, replayed, altered or differing requests.
   */
  signRequest?: (fields: JobRequestFields, tls: TlsMaterial, node: string) => SignedJobRequest;
  onProgress?: (p: JobProgressBody & { seconds: number }) => void;
  /** Called with the compiled plan before submission. */
  onPlan?: (plan: Plan, hash: string) => void;
  log?: NetLog;
  /** Connection attempts while nodes start up. */
  connectRetry?: { attempts: number; baseMs: number; maxMs: number };
}

interface NodeState {
  id: string;
  ch: Channel;
  frames: Frame[];
  waiter?: () => void;
  closed?: MpcError;
}

/** Wait for the next frame from a node (or its channel's end). */
function nextFrame(s: NodeState, timeoutMs: number): Promise<Frame> {
  return new Promise((resolve, reject) => {
    const take = (): boolean => {
      const f = s.frames.shift();
      if (f) {
        resolve(f);
        return true;
      }
      if (s.closed) {
        reject(s.closed);
        return true;
      }
      return false;
    };
    if (take()) return;
    const timer = setTimeout(() => {
      s.waiter = undefined;
      reject(new MpcError(ErrorCode.PEER_LOST, `node ${s.id} sent nothing for ${timeoutMs / 1000} s`, { party: s.id }));
    }, timeoutMs);
    s.waiter = () => {
      if (take()) {
        clearTimeout(timer);
        s.waiter = undefined;
      }
    };
  });
}

async function openNode(target: ClusterTarget, ep: Endpoint, opts: RunJobOptions): Promise<NodeState> {
  const ch = await connect(`wss://${ep.host}:${ep.port}`, {
    ...target.tls,
    expected: { federation: target.federation, role: 'party', id: ep.id },
    parties: target.parties.map((p) => p.id),
    log: opts.log,
    retry: opts.connectRetry ?? { attempts: 6, baseMs: 100, maxMs: 1000 },
  });
  const s: NodeState = { id: ep.id, ch, frames: [] };
  ch.on('frame', (f) => {
    s.frames.push(f);
    s.waiter?.();
  });
  ch.on('close', (c) => {
    s.closed ??= c.error?.code === ErrorCode.PEER_LOST || !c.error
      ? new MpcError(ErrorCode.PEER_LOST, `lost the connection to party ${ep.id}${c.reason ? ` (${c.reason})` : ''}`, { party: ep.id })
      : c.error;
    s.waiter?.();
  });
  ch.resume();
  return s;
}

/** Compile `circuit` against the nodes' input shapes and run it on the cluster. */
export async function runJob(target: ClusterTarget, circuit: LoadedCircuit, opts: RunJobOptions): Promise<JobResult> {
  const nodes = await Promise.all(target.parties.map((ep) => openNode(target, ep, opts)));
  const jobId = randomBytes(16).toString('hex');
  try {
    // 1. Shapes are public metadata held by each input owner.
    const shapes = new Map<string, number>();
    await Promise.all(
      nodes.map(async (s) => {
        await s.ch.send({ job: jobId, round: 0, kind: ControlKind.Describe });
        const f = await nextFrame(s, 30_000);
        if (f.kind === ControlKind.JobAbort || f.kind === ControlKind.JobReject) throw abortError(parseJobAbort(f.body, s.id));
        if (f.kind !== ControlKind.DescribeReply) throw new MpcError(ErrorCode.PROTOCOL, `node ${s.id} answered Describe with kind ${f.kind}`, { party: s.id });
        const d = parseDescribeReply(f.body, s.id);
        if (d.party !== s.id) throw new MpcError(ErrorCode.PROTOCOL, `node ${s.id} describes itself as ${d.party}`, { party: s.id });
        for (const [name, len] of Object.entries(d.inputs)) if (len !== null) shapes.set(`${s.id}.${name}`, len);
      }),
    );
    // 2. Compile and submit.
    const { plan } = compileLoaded(circuit, shapes);
    assertSupported(opts.security, plan.ring ?? 64);
    const bytes = encodePlan(plan);
    const hash = planHash(bytes);
    opts.onPlan?.(plan, hash);
    const started = performance.now();
    // One signed request for every node: each checks it against the plan it received, so no
    // node can be shown a different plan, recipient list or option under the same signature.
    const pad = opts.pad ?? false;
    const fields: JobRequestFields = {
      federation: target.federation,
      analyst: identityFromCertificate(target.tls.cert).id,
      jobId,
      planHash: hash,
      recipients: planRecipients(plan),
      security: opts.security,
      preprocessing: opts.preprocessing,
      pad,
    };
    const signed = opts.signRequest === undefined ? signJobRequest(fields, target.tls) : undefined;
    await Promise.all(
      nodes.map((s) => {
        const request = signed ?? opts.signRequest!(fields, target.tls, s.id);
        return s.ch.send({ job: jobId, round: 0, kind: ControlKind.JobSubmit, body: { plan: bytes, planHash: hash, security: opts.security, preprocessing: opts.preprocessing, pad, request } });
      }),
    );
    // 3. Follow every node until it is done; any refusal or abort ends the job everywhere.
    const wantShares = plan.outputs.some((o) => o.to.includes(ANALYST));
    const shares: Record<string, Uint8Array>[] = [];
    const outputBuffers: { data: Uint8Array; filled: number }[] = [];
    const done: JobDoneBody[] = [];
    const progress = new Map<string, JobProgressBody>();
    await Promise.all(
      nodes.map(async (s, i) => {
        let gotShares = !wantShares;
        let finished = false;
        while (!finished || !gotShares) {
          const f = await nextFrame(s, 10 * 60_000);
          if (f.job !== jobId) continue;
          switch (f.kind) {
            case ControlKind.JobAccept:
              break;
            case ControlKind.JobReject:
            case ControlKind.JobAbort:
              throw abortError(parseJobAbort(f.body, s.id));
            case ControlKind.JobProgress: {
              progress.set(s.id, parseJobProgress(f.body, s.id));
              const slowest = [...progress.values()].reduce((a, b) => (a.layer <= b.layer ? a : b));
              if (progress.size === nodes.length) opts.onProgress?.({ ...slowest, seconds: (performance.now() - started) / 1000 });
              break;
            }
            case ControlKind.OutputShare: {
              const b = parseOutputShare(f.body, s.id);
              const piece = f.payload ?? new Uint8Array(0);
              const expected = plan.outputs.filter((o) => o.to.includes(ANALYST));
              const buf = (outputBuffers[i] ??= { data: new Uint8Array(b.total), filled: 0 });
              if (
                b.names.join() !== expected.map((o) => o.name).join() ||
                b.lengths.reduce((t, x) => t + x, 0) !== b.total ||
                b.total !== buf.data.byteLength ||
                b.offset !== buf.filled ||
                b.offset + piece.byteLength > b.total
              ) {
                throw new MpcError(ErrorCode.PROTOCOL, `node ${s.id} sent output shares that do not match the plan`, { party: s.id });
              }
              buf.data.set(piece, b.offset);
              buf.filled += piece.byteLength;
              if (buf.filled < b.total) break;
              const data = buf.data;
              const mine: Record<string, Uint8Array> = {};
              let off = 0;
              expected.forEach((o, k) => {
                mine[o.name] = data.subarray(off, off + b.lengths[k]);
                off += b.lengths[k];
              });
              shares[i] = mine;
              gotShares = true;
              break;
            }
            case ControlKind.JobDone:
              done[i] = parseJobDone(f.body, s.id);
              finished = true;
              break;
            default:
              throw new MpcError(ErrorCode.PROTOCOL, `node ${s.id} sent unexpected frame kind ${f.kind}`, { party: s.id });
          }
        }
      }),
    ).catch(async (e: unknown) => {
      // Make sure no node goes on with a job whose output will not be delivered, and tell
      // each why (code, reason, blamed party): a node may hear of the abort from us first.
      const body = abortBody(e, 'analyst');
      await Promise.all(nodes.map((s) => s.ch.send({ job: jobId, round: 0, kind: ControlKind.JobAbort, body }).catch(() => {})));
      throw e;
    });
    const seconds = (performance.now() - started) / 1000;
    // The suite combines and verifies each output (in malicious mode, a party that altered
    // its share is caught here).
    const suite = suiteFor(opts.security, plan.ring ?? 64);
    const ran = planForSecurity(plan, opts.security);
    const values: Record<string, BigUint64Array> = {};
    for (const o of plan.outputs) {
      if (o.to.includes(ANALYST)) values[o.name] = suite.reconstructExternal(shares.map((m) => m[o.name]), plan.wireLength[o.wire], o.name);
    }
    return {
      outputs: formatOutputs(plan, values, ANALYST),
      stats: {
        parties: nodes.length,
        security: opts.security,
        preprocessing: opts.preprocessing,
        ring: plan.ring ?? 64,
        multiplications: ran.stats.multiplications,
        rounds: ran.stats.rounds,
        ...(ran.checks ? { rangeChecks: ran.stats.nonlinear['range check'] } : {}),
        bytesSent: done.reduce((t, d) => t + d.bytesSent, 0),
        seconds,
        gatesPerSecond: seconds > 0 ? ran.stats.multiplications / seconds : 0,
        planHash: hash,
        jobId,
        ...(done[0]?.trust ? { trust: done[0].trust } : {}),
        nodes: done.map((d, i) => ({ party: nodes[i].id, bytesSent: d.bytesSent, onlineSeconds: d.onlineSeconds, onlineBytesSent: d.onlineBytesSent, cpuSeconds: d.cpuSeconds, peakRssBytes: d.peakRssBytes, ...(d.ot ? { ot: d.ot } : {}), ...(d.store ? { store: d.store } : {}) })),
      },
    };
  } finally {
    for (const s of nodes) s.ch.close();
  }
}
