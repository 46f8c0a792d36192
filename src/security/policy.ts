/**
 * The data owner's policy (ARCHITECTURE.md §7): the file a party's node reads to decide, on
 * the compiled plan, whether a job may touch its data. This module is pure — parsing and
 * `evaluatePolicy(policy, context) → decision`; no file system (except `loadPolicy`), no
 * clock: the caller passes the day's job count and everything else in.
 *
 * The format (JSON; keys starting with `$` are comments; unknown keys are errors naming the
 * file and JSON path; policy.schema.json is the same format as a JSON Schema):
 * ```jsonc
 * {
 *   "minAggregation": 5,     // every output element must depend on ≥ 5 of this party's input elements (default 1: no rule)
 *   "mode": "rules",         // or "approved-only": only plans whose hash is listed below run
 *   "approvedPlans": [{ "hash": "<sha256 of the plan>", "circuit": "power", "shapes": { "p1.x": 5 }, "note": "…" }],
 *   "requirePadding": false, // refuse jobs whose frames are not padded (mpc run --pad)
 *   "analysts": {            // per analyst id, or "*" for any analyst the node config admits
 *     "alice": {
 *       "inputs": ["*"],             // this node's datasets the analyst may use (default all)
 *       "recipients": ["analyst"],   // who may receive outputs: "analyst" (the submitter), party ids, "*" (default ["analyst"])
 *       "security": ["malicious", "semi-honest"],  // allowed modes (default both)
 *       "maxJobsPerDay": 1000,       // accepted jobs per UTC day (default unlimited)
 *       "limits": { "multiplications": 1e8, "rounds": 1e5, "planBytes": 67108864 },
 *       "minAggregation": 10         // stricter than the top level for this analyst
 *     }
 *   }
 * }
 * ```
 * Decisions, in this order: the analyst must have an entry (or "*"); an approved plan is
 * accepted whatever the rules say; in approved-only mode anything else is refused; then
 * padding, security mode, inputs, recipients, limits, jobs per day and aggregation.
 *
 * Aggregation is checked on the plan's data flow (src/compiler/facts.ts): an output element
 * that depends on fewer than k distinct input elements of this party — but on at least one —
 * is refused. The count is structural: a computation that cancels where the compiler does
 * not fold it, or a weighted sum that packs several small values into one, passes it (see
 * facts.ts); data owners who need a guarantee beyond it run in approved-only mode. Outputs addressed only to this party itself are
 * exempt: the owner already knows its own data. Refusal messages name rules, outputs,
 * inputs, counts and hashes — never a data value.
 * @module
 */
import { ErrorCode, MpcError, isMpcError } from '../errors.ts';
import { parseJson, readTextFile } from '../util/json-file.ts';
import { inputDependence, planFacts, type OutputDependence, type PlanFacts } from '../compiler/facts.ts';
import type { Plan } from '../compiler/plan.ts';
import { ANALYST } from '../circuit/builder.ts';
import { SECURITY_MODES, Validator, join, show, type SecurityMode } from './config.ts';
import { isValidId } from './identity.ts';

export type PolicyMode = 'rules' | 'approved-only';
export const POLICY_MODES: readonly PolicyMode[] = ['rules', 'approved-only'];

/** "Any": in `analysts` any analyst, in `inputs` any dataset, in `recipients` anyone. */
export const ANY = '*';

/** A plan the data owner has approved by hash; everything but the hash is informational. */
export interface ApprovedPlan {
  /** SHA-256 of the plan's canonical bytes, 64 lowercase hex digits. */
  hash: string;
  circuit?: string;
  /** Input lengths the plan was compiled for, `party.input` → elements. */
  shapes?: Record<string, number>;
  note?: string;
  /** When it was approved (ISO 8601), as `mpc policy approve` writes it. */
  approvedAt?: string;
}

/** Per-job ceilings; each is optional. */
export interface PolicyLimits {
  multiplications?: number;
  rounds?: number;
  planBytes?: number;
}

/** What one analyst (or "*") may do with this node's data. */
export interface AnalystPolicy {
  /** Dataset (input) names, or ["*"]. */
  inputs: readonly string[];
  /** "analyst" (the submitter), party ids, or ["*"]. */
  recipients: readonly string[];
  security: readonly SecurityMode[];
  maxJobsPerDay?: number;
  limits: PolicyLimits;
  /** At least the top-level minAggregation. */
  minAggregation?: number;
}

export interface Policy {
  minAggregation: number;
  mode: PolicyMode;
  approvedPlans: readonly ApprovedPlan[];
  requirePadding: boolean;
  analysts: Readonly<Record<string, AnalystPolicy>>;
}

/** The keys each object of the format accepts (policy.schema.json lists the same). */
export const POLICY_KEYS = {
  policy: ['minAggregation', 'mode', 'approvedPlans', 'requirePadding', 'analysts'],
  approvedPlan: ['hash', 'circuit', 'shapes', 'note', 'approvedAt'],
  analyst: ['inputs', 'recipients', 'security', 'maxJobsPerDay', 'limits', 'minAggregation'],
  limits: ['multiplications', 'rounds', 'planBytes'],
} as const;

/** Largest aggregation threshold (counts are 32-bit in the data-flow pass). */
export const MAX_MIN_AGGREGATION = 0x7fffffff;

const HASH = /^[0-9a-f]{64}$/;
const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The policy of a node whose config names none: every analyst the config admits, anything. */
export const OPEN_POLICY: Policy = deepFreeze({
  minAggregation: 1,
  mode: 'rules',
  approvedPlans: [],
  requirePadding: false,
  analysts: { [ANY]: { inputs: [ANY], recipients: [ANY], security: [...SECURITY_MODES], limits: {} } },
});

/**
 * The policy `mpc init` writes for each party: aggregates of at least 5 elements, outputs
 * to the analyst only, any security mode the node config allows, for `analyst` alone.
 */
export function defaultPolicy(analyst: string): Record<string, unknown> {
  if (!isValidId(analyst)) throw new MpcError(ErrorCode.CONFIG, `defaultPolicy: invalid analyst id ${show(analyst)}`);
  return {
    $comment:
      'Data owner policy, checked by this node on every compiled plan before any share moves, and reloaded when this file changes. ' +
      'minAggregation: every output element must depend on at least that many of this party\'s input elements. ' +
      'Approve an exact plan with: mpc policy approve <circuit.ts> --policy <this file>. Format: src/security/policy.schema.json.',
    minAggregation: 5,
    mode: 'rules',
    approvedPlans: [],
    requirePadding: false,
    analysts: {
      [analyst]: { inputs: [ANY], recipients: [ANALYST], security: ['malicious', 'semi-honest'] },
    },
  };
}

/** Validate a parsed policy document; errors are MpcError CONFIG `file: json.path: problem`. */
export function parsePolicy(obj: unknown, file: string): Policy {
  const v = new Validator(file, '');
  const o = v.object(obj, '', POLICY_KEYS.policy);
  const minAggregation = o.minAggregation === undefined ? 1 : v.integer(o.minAggregation, 'minAggregation', 1, MAX_MIN_AGGREGATION);
  const policy: Policy = {
    minAggregation,
    mode: o.mode === undefined ? 'rules' : v.oneOf(o.mode, 'mode', POLICY_MODES),
    approvedPlans: o.approvedPlans === undefined ? [] : approvedPlans(v, o.approvedPlans, 'approvedPlans'),
    requirePadding: o.requirePadding === undefined ? false : boolean(v, o.requirePadding, 'requirePadding'),
    // Without an "analysts" section the file sets no per-analyst rules: every analyst the node
    // config admits is held to the top-level rules only (`{"minAggregation": 2}` means that).
    analysts: o.analysts === undefined ? { [ANY]: { inputs: [ANY], recipients: [ANY], security: [...SECURITY_MODES], limits: {} } } : analysts(v, o.analysts, 'analysts', minAggregation),
  };
  return policy;
}

/** Parse policy file text (a UTF-8 byte-order mark is ignored). */
export function parsePolicyText(text: string, file: string): Policy {
  return parsePolicy(parseJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file, ErrorCode.CONFIG), file);
}

/** Read and validate a policy file. */
export function loadPolicy(path: string): Policy {
  return parsePolicyText(readTextFile(path, ErrorCode.CONFIG), path);
}

function boolean(v: Validator, x: unknown, path: string): boolean {
  if (typeof x !== 'boolean') v.fail(path, `expected true or false, got ${show(x)}`);
  return x;
}

function count(v: Validator, x: unknown, path: string): number {
  return v.integer(x, path, 0, Number.MAX_SAFE_INTEGER);
}

function text(v: Validator, x: unknown, path: string): string {
  if (typeof x !== 'string') v.fail(path, `expected a string, got ${show(x)}`);
  return x;
}

function array(v: Validator, x: unknown, path: string, what: string): unknown[] {
  if (!Array.isArray(x)) v.fail(path, `expected an array of ${what}, got ${show(x)}`);
  return x;
}

function approvedPlans(v: Validator, x: unknown, path: string): ApprovedPlan[] {
  const out = array(v, x, path, 'approved plans { "hash": … }').map((e, i) => {
    const at = `${path}[${i}]`;
    const o = v.object(e, at, POLICY_KEYS.approvedPlan);
    if (typeof o.hash !== 'string' || !HASH.test(o.hash)) {
      v.fail(join(at, 'hash'), `expected the plan's SHA-256 as 64 lowercase hex digits (mpc compile prints it), got ${show(o.hash)}`);
    }
    const plan: ApprovedPlan = { hash: o.hash };
    if (o.circuit !== undefined) plan.circuit = text(v, o.circuit, join(at, 'circuit'));
    if (o.shapes !== undefined) {
      const s = v.object(o.shapes, join(at, 'shapes'), null);
      plan.shapes = Object.fromEntries(Object.keys(s).filter((k) => !k.startsWith('$')).map((k) => [k, count(v, s[k], join(join(at, 'shapes'), k))]));
    }
    if (o.note !== undefined) plan.note = text(v, o.note, join(at, 'note'));
    if (o.approvedAt !== undefined) plan.approvedAt = text(v, o.approvedAt, join(at, 'approvedAt'));
    return plan;
  });
  out.forEach((p, i) => {
    const first = out.findIndex((q) => q.hash === p.hash);
    if (first !== i) v.fail(`${path}[${i}].hash`, `duplicate of ${path}[${first}].hash`);
  });
  return out;
}

function analysts(v: Validator, x: unknown, path: string, floor: number): Record<string, AnalystPolicy> {
  const o = v.object(x, path, null);
  const out: Record<string, AnalystPolicy> = {};
  for (const id of Object.keys(o)) {
    if (id.startsWith('$')) continue;
    const at = join(path, id);
    if (id !== ANY && !isValidId(id)) v.fail(at, `expected an analyst id or "${ANY}"`);
    // defineProperty: an id can never reach Object.prototype, whatever it is called.
    Object.defineProperty(out, id, { value: analyst(v, o[id], at, floor), enumerable: true, writable: false });
  }
  return out;
}

/** A list of names, each matching `ok` or "*", without repeats. */
function names(v: Validator, x: unknown, path: string, what: string, ok: (s: string) => boolean): string[] {
  const out = array(v, x, path, what).map((e, i) => {
    if (typeof e !== 'string' || (e !== ANY && !ok(e))) v.fail(`${path}[${i}]`, `expected ${what} or "${ANY}", got ${show(e)}`);
    return e;
  });
  out.forEach((e, i) => {
    if (out.indexOf(e) !== i) v.fail(`${path}[${i}]`, `duplicate ${show(e)}`);
  });
  return out;
}

function analyst(v: Validator, x: unknown, path: string, floor: number): AnalystPolicy {
  const o = v.object(x, path, POLICY_KEYS.analyst);
  const a: AnalystPolicy = {
    inputs: o.inputs === undefined ? [ANY] : names(v, o.inputs, join(path, 'inputs'), 'dataset names', (s) => INPUT_NAME.test(s)),
    recipients:
      o.recipients === undefined ? [ANALYST] : names(v, o.recipients, join(path, 'recipients'), `"${ANALYST}" or party ids`, (s) => s === ANALYST || isValidId(s)),
    security: o.security === undefined ? [...SECURITY_MODES] : securityModes(v, o.security, join(path, 'security')),
    limits: o.limits === undefined ? {} : limits(v, o.limits, join(path, 'limits')),
  };
  if (o.maxJobsPerDay !== undefined) a.maxJobsPerDay = count(v, o.maxJobsPerDay, join(path, 'maxJobsPerDay'));
  if (o.minAggregation !== undefined) {
    const at = join(path, 'minAggregation');
    const k = v.integer(o.minAggregation, at, 1, MAX_MIN_AGGREGATION);
    // A per-analyst value may only tighten the rule: the top level is the owner's floor.
    if (k < floor) v.fail(at, `expected at least the top-level minAggregation ${floor}, got ${k}`);
    a.minAggregation = k;
  }
  return a;
}

function securityModes(v: Validator, x: unknown, path: string): SecurityMode[] {
  const list = array(v, x, path, 'security modes').map((e, i) => v.oneOf(e, `${path}[${i}]`, SECURITY_MODES));
  if (list.length === 0) v.fail(path, `expected at least one of ${SECURITY_MODES.map((m) => JSON.stringify(m)).join(', ')} (remove the analyst's entry to refuse it)`);
  return [...new Set(list)];
}

function limits(v: Validator, x: unknown, path: string): PolicyLimits {
  const o = v.object(x, path, POLICY_KEYS.limits);
  const out: PolicyLimits = {};
  for (const k of POLICY_KEYS.limits) if (o[k] !== undefined) out[k] = count(v, o[k], join(path, k));
  return out;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const k of Object.keys(x)) deepFreeze((x as Record<string, unknown>)[k]);
    Object.freeze(x);
  }
  return x;
}

// ---- evaluation ----

/** What a node knows about a submitted job when it decides. */
export interface PolicyContext {
  /** This node's party id. */
  party: string;
  plan: Plan;
  planHash: string;
  /** Length of the plan's canonical encoding as received. */
  planBytes: number;
  /** The authenticated analyst who signed the request. */
  analyst: string;
  security: string;
  /** Whether the job pads its frames. */
  padded: boolean;
  /** Jobs of this analyst this node has accepted so far in the current UTC day. */
  jobsToday: number;
}

export type Decision =
  | { accept: true; rule: 'approved-plan' | 'rules' }
  | { accept: false; rule: string; output?: string; message: string };

const refuse = (rule: string, message: string, output?: string): Decision =>
  output === undefined ? { accept: false, rule, message } : { accept: false, rule, output, message };

const allows = (list: readonly string[], name: string): boolean => list.includes(ANY) || list.includes(name);

const LIMIT_WORDING: Record<keyof PolicyLimits, (n: number) => string> = {
  multiplications: (n) => `the plan has ${n} multiplications`,
  rounds: (n) => `the plan has ${n} rounds`,
  planBytes: (n) => `the plan is ${n} bytes`,
};

/** Decide whether `ctx.party`'s node may run the job described by `ctx` under `policy`. */
export function evaluatePolicy(policy: Policy, ctx: PolicyContext): Decision {
  const { party, plan, analyst } = ctx;
  const key = Object.hasOwn(policy.analysts, analyst) ? analyst : Object.hasOwn(policy.analysts, ANY) ? ANY : undefined;
  if (key === undefined) return refuse('analysts', `analyst ${analyst} has no entry in the policy (policy analysts)`);
  const a = policy.analysts[key];
  const at = join('analysts', key);

  // How a job runs (padding, security), which of this party's data it reads and how much it
  // may cost are the analyst's rules and hold for approved plans too: an approval says what
  // may be computed, not who may compute it on which data, or with weaker protection.
  if (policy.requirePadding && !ctx.padded) return refuse('requirePadding', 'the job does not pad its frames (policy requirePadding)');
  if (!(a.security as readonly string[]).includes(ctx.security)) {
    return refuse('security', `security mode ${ctx.security} is not allowed for analyst ${analyst} (policy ${at}.security)`);
  }
  for (const i of plan.inputs) {
    if (i.party === party && !allows(a.inputs, i.name)) {
      return refuse('inputs', `input ${party}.${i.name} is not allowed for analyst ${analyst} (policy ${at}.inputs)`);
    }
  }
  const facts: PlanFacts = planFacts(plan, ctx.planBytes);
  for (const k of POLICY_KEYS.limits) {
    const limit = a.limits[k];
    if (limit !== undefined && facts[k] > limit) {
      return refuse(`limits.${k}`, `${LIMIT_WORDING[k](facts[k])}, above the limit of ${limit} (policy ${at}.limits.${k})`);
    }
  }
  if (a.maxJobsPerDay !== undefined && ctx.jobsToday >= a.maxJobsPerDay) {
    return refuse('maxJobsPerDay', `analyst ${analyst} has reached ${ctx.jobsToday} accepted jobs today (UTC) (policy ${at}.maxJobsPerDay ${a.maxJobsPerDay})`);
  }

  // What is revealed, and to whom: an approved plan was reviewed for exactly that.
  if (policy.approvedPlans.some((p) => p.hash === ctx.planHash)) return { accept: true, rule: 'approved-plan' };
  if (policy.mode === 'approved-only') return refuse('approved-only', `plan ${ctx.planHash} is not an approved plan (policy mode approved-only)`);
  for (const o of plan.outputs) {
    // Sending a result to this party itself discloses none of its data to anyone else.
    const bad = o.to.find((r) => r !== party && !allows(a.recipients, r));
    if (bad !== undefined) {
      const who = bad === ANALYST ? `the analyst ${analyst}` : bad;
      return refuse('recipients', `output "${o.name}" goes to ${who}, which is not allowed for analyst ${analyst} (policy ${at}.recipients)`, o.name);
    }
  }

  const own = a.minAggregation !== undefined && a.minAggregation > policy.minAggregation;
  const k = own ? a.minAggregation! : policy.minAggregation;
  // An opening shows its value to every computing party; unless it is masked, that is an
  // output to all of them (facts.ts maskedOpenings).
  const othersAllowed = plan.parties.every((p) => p === party || allows(a.recipients, p));
  if (k > 1 || !othersAllowed) {
    const source = `policy ${own ? `${at}.minAggregation` : 'minAggregation'} ${k}`;
    const openings: OutputDependence[] = [];
    let deps: OutputDependence[];
    try {
      deps = inputDependence(plan, party, k, { openings });
    } catch (e) {
      if (isMpcError(e, ErrorCode.FORBIDDEN)) return refuse('minAggregation', `${e.message} (${source})`);
      throw e;
    }
    const first = openings[0];
    if (first !== undefined && !othersAllowed) {
      return refuse(
        'recipients',
        `an unmasked ${first.name} shows every computing party a value that depends on ${first.min} input element${first.min === 1 ? '' : 's'} of ${party} (policy ${at}.recipients)`,
      );
    }
    for (const o of [...deps, ...openings]) {
      if (o.to.every((r) => r === party)) continue; // the owner already knows its own data
      if (o.min > 0 && o.min < k) {
        const what = o.name.startsWith('opening ') ? `an unmasked ${o.name}` : `output "${o.name}"`;
        return refuse('minAggregation', `${what} depends on ${o.min} input element${o.min === 1 ? '' : 's'} of ${party} (${source})`, o.name.startsWith('opening ') ? undefined : o.name);
      }
    }
  }
  return { accept: true, rule: 'rules' };
}
