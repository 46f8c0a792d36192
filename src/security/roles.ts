/**
 * What each role may ask of a node (issue 11 "Roles"), and the alerts a node raises when a
 * principal asks for more.
 *
 * One table, {@link REQUEST_ROLES}, says which roles may make each kind of request; a node
 * calls {@link authorize} on every request with the role of the authenticated TLS peer (its
 * certificate's SPIFFE id, see identity.ts) and refuses with the reason it returns. Anything
 * not in the table is refused: a new request kind has no access until someone writes it in.
 *
 * Refusals and other suspicious events are logged under the stable names of
 * {@link ALERT_EVENTS} and counted by an {@link AlertCounter}, so an operator can alert on
 * them without matching message text.
 * @module
 */
import type { Role } from './identity.ts';

/** The kinds of request a node serves. */
export type RequestKind = 'submit-job' | 'cancel-job' | 'describe' | 'read-audit' | 'party-channel' | 'dealer-link';

/** All request kinds, in a fixed order, for validation, help texts and tests. */
export const REQUEST_KINDS: readonly RequestKind[] = ['submit-job', 'cancel-job', 'describe', 'read-audit', 'party-channel', 'dealer-link'];

/**
 * The roles allowed to make each request: least privilege, one role per request today.
 * - An analyst proposes and cancels jobs, and describes the datasets it compiles against.
 * - An auditor reads the audit log, and nothing else: not even `describe`. Dataset names and
 *   shapes are metadata about the data, and the log already records what each job used; a
 *   compliance officer needs the record, not a view of what could be asked next.
 * - Parties talk to parties, and a node takes its preprocessing from the dealer.
 * Nobody but the auditor reads the audit log: it shows every analyst's requests.
 */
export const REQUEST_ROLES: Readonly<Record<RequestKind, readonly Role[]>> = {
  'submit-job': ['analyst'],
  'cancel-job': ['analyst'],
  describe: ['analyst'],
  'read-audit': ['auditor'],
  'party-channel': ['party'],
  'dealer-link': ['dealer'],
};

// What each request does, as the reason text phrases it ("may not <what>").
const WHAT: Readonly<Record<RequestKind, string>> = {
  'submit-job': 'submit jobs',
  'cancel-job': 'cancel jobs',
  describe: 'describe datasets',
  'read-audit': 'read the audit log',
  'party-channel': 'open a party channel',
  'dealer-link': 'serve as the dealer',
};

/**
 * Whether `role` may make `request`. A refusal's reason names both roles, e.g.
 * `a party certificate may not submit jobs (role party; submit-job needs role analyst)`.
 */
export function authorize(role: Role, request: RequestKind): { ok: true } | { ok: false; reason: string } {
  // Object.hasOwn: a request kind from outside the type ("__proto__", "toString") is unknown.
  const allowed = Object.hasOwn(REQUEST_ROLES, request) ? REQUEST_ROLES[request] : undefined;
  if (allowed === undefined) return { ok: false, reason: `unknown request ${JSON.stringify(request)} (role ${role})` };
  if (allowed.includes(role)) return { ok: true };
  const needs = allowed.length === 1 ? `role ${allowed[0]}` : `one of the roles ${allowed.join(', ')}`;
  return { ok: false, reason: `${article(role)} ${role} certificate may not ${WHAT[request]} (role ${role}; ${request} needs ${needs})` };
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/**
 * The event names a node logs (pino `event` field) and counts for alerts. Stable: dashboards
 * and alert rules match on them.
 */
export const ALERT_EVENTS = {
  /** A request outside the caller's role (a party certificate submitting a job). */
  role: 'alert-role',
  /** A policy refusal (an analyst asking for an input it may not use). */
  policy: 'alert-policy',
  /** A bad signed job request: expired, replayed, altered, badly signed… */
  request: 'alert-request',
  /** A principal this node does not know (not in its analysts / parties / dealer). */
  auth: 'alert-auth',
} as const;

export type AlertEvent = (typeof ALERT_EVENTS)[keyof typeof ALERT_EVENTS];

const EVENTS: readonly AlertEvent[] = Object.values(ALERT_EVENTS);

/** What {@link AlertCounter.snapshot} returns: plain JSON, for a log line or a metrics reply. */
export interface AlertSnapshot {
  total: number;
  /** Every event name, with 0 for those never raised. */
  byEvent: Record<AlertEvent, number>;
  /** Principal → the events raised for it (only non-zero counts). */
  byPrincipal: Record<string, Partial<Record<AlertEvent, number>>>;
}

/**
 * Counts of alerts per event name and per principal. Pure; one per node, passed explicitly.
 *
 * The principals are bounded (`maxPrincipals`, default 10 000): `alert-auth` is raised for
 * callers the node does not know, whose names an attacker chooses, so past the bound new
 * principals are counted together under {@link AlertCounter.OTHER}. The totals stay exact.
 */
export class AlertCounter {
  /** The principal that the counts of principals past the bound are folded into. */
  static readonly OTHER = '(other principals)';
  readonly #maxPrincipals: number;
  readonly #byEvent = new Map<AlertEvent, number>();
  readonly #byPrincipal = new Map<string, Map<AlertEvent, number>>();
  #total = 0;

  constructor(opts: { maxPrincipals?: number } = {}) {
    const max = opts.maxPrincipals ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`expected maxPrincipals a positive integer, got ${max}`);
    this.#maxPrincipals = max;
  }

  /** Count one `event` raised for `principal` (e.g. `formatIdentity(peer)`); returns the event's new total. */
  record(event: AlertEvent, principal: string): number {
    if (!EVENTS.includes(event)) throw new RangeError(`expected an alert event (${EVENTS.join(', ')}), got ${JSON.stringify(event)}`);
    let key = principal;
    if (!this.#byPrincipal.has(key) && this.#byPrincipal.size >= this.#maxPrincipals) key = AlertCounter.OTHER;
    let mine = this.#byPrincipal.get(key);
    if (mine === undefined) {
      mine = new Map();
      this.#byPrincipal.set(key, mine);
    }
    mine.set(event, (mine.get(event) ?? 0) + 1);
    this.#total++;
    const n = (this.#byEvent.get(event) ?? 0) + 1;
    this.#byEvent.set(event, n);
    return n;
  }

  /** Alerts raised in all. */
  get total(): number {
    return this.#total;
  }

  /** How often `event` was raised, in all or for one principal. */
  count(event: AlertEvent, principal?: string): number {
    if (principal === undefined) return this.#byEvent.get(event) ?? 0;
    return this.#byPrincipal.get(principal)?.get(event) ?? 0;
  }

  /** A copy of every count. */
  snapshot(): AlertSnapshot {
    return {
      total: this.#total,
      byEvent: Object.fromEntries(EVENTS.map((e) => [e, this.#byEvent.get(e) ?? 0])) as Record<AlertEvent, number>,
      // fromEntries defines own properties, so a principal named "__proto__" stays a key.
      byPrincipal: Object.fromEntries([...this.#byPrincipal].map(([p, m]) => [p, Object.fromEntries(m)])),
    };
  }
}
