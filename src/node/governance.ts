/**
 * A node's gatekeeper (ARCHITECTURE.md §7): everything that decides whether a request may
 * proceed on this node's data, and the record of each decision.
 *
 * - **Roles**: every request is checked against the caller's certificate role
 *   (src/security/roles.ts); a request outside it is refused and raised as an alert.
 * - **Signed requests**: a job runs only on a request the analyst signed for exactly this
 *   plan, job id, recipients and options, still valid and never seen before
 *   (src/security/request.ts).
 * - **Policy**: the data owner's policy file, evaluated on the compiled plan
 *   (src/security/policy.ts), reloaded when it changes.
 * - **Audit**: the signed request, every decision and every alert go into the node's
 *   hash-chained audit log (src/security/audit.ts) *before* the decision takes effect, so a
 *   job can never run, or be refused, without its entry on disk.
 *
 * Alerts are log lines with their own event names (`alert-role`, `alert-request`,
 * `alert-policy`, `alert-auth`) and are counted per event and principal; the counts appear in
 * every alert line and in the `alerts` field of the node's `job-done` lines.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ErrorCode, MpcError } from '../errors.ts';
import type { NodeConfig } from '../security/config.ts';
import type { Identity } from '../security/identity.ts';
import { formatIdentity } from '../security/identity.ts';
import { ALERT_EVENTS, AlertCounter, authorize, type AlertEvent, type RequestKind } from '../security/roles.ts';
import { canonicalRequestBytes, JobRequestRefused, parseSignedJobRequest, planRecipients, ReplayCache, verifyJobRequest, type JobRequest } from '../security/request.ts';
import { evaluatePolicy, OPEN_POLICY, type Policy } from '../security/policy.ts';
import { AuditLog, type AuditFields } from '../security/audit.ts';
import type { Plan } from '../compiler/plan.ts';
import type { JobSubmitBody } from '../net/messages.ts';
import { PolicyFile } from './policy-file.ts';
import type { Logger } from '../util/log.ts';

const DAY_MS = 24 * 3600 * 1000;

/** What {@link Governance.admit} needs to know about a submission. */
export interface Submission {
  peer: Identity;
  jobId: string;
  body: JobSubmitBody;
  plan: Plan;
}

export class Governance {
  readonly audit: AuditLog | undefined;
  readonly alerts = new AlertCounter();
  readonly #cfg: NodeConfig;
  readonly #log: Logger;
  readonly #caPem: () => string;
  readonly #policyFile: PolicyFile | undefined;
  readonly #replay = new ReplayCache();
  /** Accepted jobs per analyst in the current UTC day (policy `maxJobsPerDay`). */
  readonly #jobsToday = new Map<string, { day: number; count: number }>();

  private constructor(cfg: NodeConfig, log: Logger, caPem: () => string, audit: AuditLog | undefined, policyFile: PolicyFile | undefined) {
    this.#cfg = cfg;
    this.#log = log;
    this.#caPem = caPem;
    this.audit = audit;
    this.#policyFile = policyFile;
  }

  /**
   * Open the node's audit log and policy file (both named by the node config). A node whose
   * config names a policy it cannot read does not start: running with a weaker policy than
   * the owner wrote would be worse than not running.
   */
  static async open(cfg: NodeConfig, log: Logger, caPem: () => string): Promise<Governance> {
    const audit = cfg.audit === undefined ? undefined : await AuditLog.open(cfg.audit, { party: cfg.party });
    let policyFile: PolicyFile | undefined;
    try {
      if (cfg.policy !== undefined) {
        policyFile = PolicyFile.open(cfg.policy, {
          onChange: (_policy, info) => {
            log.info({ event: 'policy-reloaded', file: cfg.policy, ...info }, `policy ${cfg.policy} reloaded`);
            audit?.note('policy-reloaded', { file: cfg.policy, ...info });
          },
          onInvalid: (e) => {
            log.warn({ event: 'policy-invalid', file: cfg.policy, reason: e.message }, `policy ${cfg.policy} is invalid, keeping the previous one: ${e.message}`);
            audit?.note('policy-invalid', { file: cfg.policy, reason: e.message });
          },
        });
      }
    } catch (e) {
      await audit?.close();
      throw e;
    }
    const g = new Governance(cfg, log, caPem, audit, policyFile);
    if (policyFile === undefined) {
      log.warn({ event: 'policy-open' }, 'no policy configured: every plan the node can run is accepted (set "policy" in the node config)');
    }
    if (audit === undefined) log.warn({ event: 'audit-off' }, 'no audit log configured (set "audit" in the node config)');
    await audit?.record('node-started', { party: cfg.party, policy: cfg.policy ?? null, federation: cfg.federation });
    return g;
  }

  /** The policy in force now. */
  get policy(): Policy {
    return this.#policyFile?.current ?? OPEN_POLICY;
  }

  /** Log, count and audit an alert; returns the count for this event and principal. */
  alert(event: AlertEvent, who: Identity | string, fields: AuditFields, message: string): number {
    const principal = typeof who === 'string' ? who : formatIdentity(who);
    this.alerts.record(event, principal);
    const count = this.alerts.count(event, principal);
    this.#log.warn({ event, principal, count, total: this.alerts.total, ...fields }, message);
    this.note(event, { principal, ...fields, message });
    return count;
  }

  /**
   * Whether `peer` may make request `kind`; a refusal is an alert and comes back as the
   * FORBIDDEN error to send to the caller.
   */
  authorize(peer: Identity, kind: RequestKind, job?: string): MpcError | undefined {
    const verdict = authorize(peer.role, kind);
    if (verdict.ok) return undefined;
    this.alert(ALERT_EVENTS.role, peer, { request: kind, role: peer.role, ...(job ? { job } : {}) }, `refused ${formatIdentity(peer)}: ${verdict.reason}`);
    return new MpcError(ErrorCode.FORBIDDEN, verdict.reason, { party: peer.id });
  }

  /**
   * Check a job submission: the signed request, then the policy, each recorded in the audit
   * log before this returns. Throws MpcError FORBIDDEN naming the rule (the abort body adds
   * this party's id) when the job may not run here; nothing of the job has happened yet then.
   */
  async admit(s: Submission): Promise<{ request: JobRequest; rule: string; digest: string }> {
    const job = s.jobId;
    let request: JobRequest;
    try {
      const signed = parseSignedJobRequest(s.body.request, s.peer.id);
      // The signed request goes into the log as received, certificate and signature included,
      // so the entry alone lets anyone check later who asked for this job.
      await this.audit?.record('job-request', { job, analyst: s.peer.id, planHash: s.body.planHash, signed });
      request = verifyJobRequest(signed, {
        caPem: this.#caPem(),
        peer: s.peer,
        expect: {
          jobId: job,
          planHash: s.body.planHash,
          recipients: planRecipients(s.plan),
          security: s.body.security,
          preprocessing: s.body.preprocessing,
          pad: s.body.pad,
        },
        now: Date.now(),
        replay: this.#replay,
      });
    } catch (e) {
      const reason = e instanceof JobRequestRefused ? e.reason : e instanceof MpcError ? e.code : 'malformed';
      const msg = e instanceof Error ? e.message : String(e);
      this.alert(ALERT_EVENTS.request, s.peer, { job, reason }, `refused the request of job ${job} from ${formatIdentity(s.peer)}: ${msg}`);
      await this.audit?.record('policy-decision', { job, accept: false, rule: 'request', reason });
      throw new MpcError(ErrorCode.FORBIDDEN, `job request refused: ${msg}`, { party: s.peer.id, cause: e });
    }
    const analyst = s.peer.id;
    const decision = evaluatePolicy(this.policy, {
      party: this.#cfg.party,
      plan: s.plan,
      planHash: s.body.planHash,
      planBytes: s.body.plan.byteLength,
      analyst,
      security: s.body.security,
      padded: s.body.pad,
      jobsToday: this.#today(analyst).count,
    });
    if (!decision.accept) {
      const fields = { job, analyst, planHash: s.body.planHash, rule: decision.rule, ...(decision.output ? { output: decision.output } : {}) };
      this.alert(ALERT_EVENTS.policy, s.peer, fields, `refused job ${job} of ${analyst}: ${decision.message}`);
      await this.audit?.record('policy-decision', { ...fields, accept: false, message: decision.message });
      throw new MpcError(ErrorCode.FORBIDDEN, decision.message, { party: this.#cfg.party });
    }
    // Taken before the await: concurrent submissions must not all see the same count.
    this.#today(analyst).count++;
    await this.audit?.record('policy-decision', { job, analyst, planHash: s.body.planHash, accept: true, rule: decision.rule });
    return { request, rule: decision.rule, digest: bytesToHex(sha256(canonicalRequestBytes(request))) };
  }

  /** Write an entry and wait until it is on disk (no-op without an audit log). */
  async record(event: string, fields: AuditFields): Promise<void> {
    await this.audit?.record(event, fields);
  }

  /**
   * Append an entry that becomes durable with the next commit. Never throws: it is called on
   * failure paths (an abort, a refusal) that may run while the node shuts down and its log is
   * closed; a log that cannot be written fails the next `record` instead.
   */
  note(event: string, fields: AuditFields): void {
    try {
      this.audit?.note(event, fields);
    } catch (e) {
      this.#log.warn({ event: 'audit-note-failed', audit: event, reason: (e as Error).message }, `could not note ${event} in the audit log: ${(e as Error).message}`);
    }
  }

  /** SIGHUP: read the policy file again now. */
  reload(): void {
    this.#policyFile?.reload();
  }

  async close(): Promise<void> {
    this.#policyFile?.close();
    await this.audit?.close();
  }

  #today(analyst: string): { day: number; count: number } {
    const day = Math.floor(Date.now() / DAY_MS);
    let e = this.#jobsToday.get(analyst);
    if (e === undefined || e.day !== day) {
      e = { day, count: 0 };
      this.#jobsToday.set(analyst, e);
    }
    return e;
  }
}
