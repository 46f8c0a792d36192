// The role table, whole: every role against every request kind, with the exact refusal
// wording; then the alert counter.
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../src/security/identity.ts';
import type { Role } from '../../src/security/identity.ts';
import { ALERT_EVENTS, AlertCounter, authorize, REQUEST_KINDS, REQUEST_ROLES } from '../../src/security/roles.ts';
import type { AlertEvent, RequestKind } from '../../src/security/roles.ts';

// The expected table, written out independently of REQUEST_ROLES.
const ALLOWED: Record<Role, RequestKind[]> = {
  analyst: ['submit-job', 'cancel-job', 'describe'],
  auditor: ['read-audit'],
  party: ['party-channel'],
  dealer: ['dealer-link'],
};

describe('authorize', () => {
  const cells = ROLES.flatMap((role) => REQUEST_KINDS.map((kind) => [role, kind] as const));
  it.each(cells)('%s × %s', (role, kind) => {
    const r = authorize(role, kind);
    expect(r.ok).toBe(ALLOWED[role].includes(kind));
    if (!r.ok) {
      expect(r.reason).toContain(`(role ${role}; ${kind} needs role ${REQUEST_ROLES[kind][0]})`);
      expect(r.reason).toMatch(new RegExp(`^an? ${role} certificate may not `));
    }
  });

  it('covers every role and every kind exactly once', () => {
    expect(Object.keys(REQUEST_ROLES).sort()).toEqual([...REQUEST_KINDS].sort());
    expect(cells).toHaveLength(ROLES.length * REQUEST_KINDS.length);
    expect(ROLES).toEqual(['party', 'analyst', 'dealer', 'auditor']);
  });

  it('words the reasons', () => {
    const reason = (role: Role, kind: RequestKind) => (authorize(role, kind) as { reason: string }).reason;
    expect(reason('party', 'submit-job')).toBe('a party certificate may not submit jobs (role party; submit-job needs role analyst)');
    expect(reason('auditor', 'describe')).toBe('an auditor certificate may not describe datasets (role auditor; describe needs role analyst)');
    expect(reason('analyst', 'read-audit')).toBe('an analyst certificate may not read the audit log (role analyst; read-audit needs role auditor)');
    expect(reason('dealer', 'cancel-job')).toBe('a dealer certificate may not cancel jobs (role dealer; cancel-job needs role analyst)');
    expect(reason('analyst', 'party-channel')).toBe('an analyst certificate may not open a party channel (role analyst; party-channel needs role party)');
    expect(reason('party', 'dealer-link')).toBe('a party certificate may not serve as the dealer (role party; dealer-link needs role dealer)');
  });

  it.each(['__proto__', 'toString', 'admin'])('refuses an unknown request kind %j', (kind) => {
    expect(authorize('analyst', kind as RequestKind)).toEqual({ ok: false, reason: `unknown request ${JSON.stringify(kind)} (role analyst)` });
  });
});

describe('AlertCounter', () => {
  it('has stable event names', () => {
    expect(ALERT_EVENTS).toEqual({ role: 'alert-role', policy: 'alert-policy', request: 'alert-request', auth: 'alert-auth' });
  });

  it('counts per event and per principal', () => {
    const c = new AlertCounter();
    expect(c.record(ALERT_EVENTS.role, 'party p1@demo')).toBe(1);
    expect(c.record(ALERT_EVENTS.role, 'party p2@demo')).toBe(2);
    expect(c.record(ALERT_EVENTS.request, 'party p1@demo')).toBe(1);
    c.record(ALERT_EVENTS.request, 'party p1@demo');
    expect(c.count(ALERT_EVENTS.role)).toBe(2);
    expect(c.count(ALERT_EVENTS.request, 'party p1@demo')).toBe(2);
    expect(c.count(ALERT_EVENTS.policy)).toBe(0);
    expect(c.count(ALERT_EVENTS.role, 'nobody')).toBe(0);
    expect(c.snapshot()).toEqual({
      total: 4,
      byEvent: { 'alert-role': 2, 'alert-policy': 0, 'alert-request': 2, 'alert-auth': 0 },
      byPrincipal: { 'party p1@demo': { 'alert-role': 1, 'alert-request': 2 }, 'party p2@demo': { 'alert-role': 1 } },
    });
  });

  it('returns a copy, and keeps odd principal names as plain keys', () => {
    const c = new AlertCounter();
    c.record(ALERT_EVENTS.auth, '__proto__');
    const snap = c.snapshot();
    expect(Object.keys(snap.byPrincipal)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(snap.byPrincipal)).toBe(Object.prototype);
    snap.byEvent['alert-auth'] = 99;
    expect(c.count(ALERT_EVENTS.auth)).toBe(1);
  });

  it('bounds the principals it tracks; totals stay exact', () => {
    const c = new AlertCounter({ maxPrincipals: 2 });
    for (const p of ['a', 'b', 'c', 'd', 'a']) c.record(ALERT_EVENTS.auth, p);
    expect(c.count(ALERT_EVENTS.auth)).toBe(5);
    expect(c.snapshot().byPrincipal).toEqual({ a: { 'alert-auth': 2 }, b: { 'alert-auth': 1 }, [AlertCounter.OTHER]: { 'alert-auth': 2 } });
  });

  it('refuses an event name outside ALERT_EVENTS, and a bad bound', () => {
    expect(() => new AlertCounter().record('alert-other' as AlertEvent, 'x')).toThrow(RangeError);
    expect(() => new AlertCounter({ maxPrincipals: 0 })).toThrow(RangeError);
  });
});
