// Identity URIs: the round trip, and the strictness that keeps a peer from smuggling in a
// look-alike name.
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMpcError } from '../../src/errors.ts';
import { formatIdentity, identityUri, parseIdentityUri, ROLES, sameIdentity } from '../../src/security/identity.ts';
import type { Identity } from '../../src/security/identity.ts';

describe('identity URIs', () => {
  it('round-trips every role', () => {
    expect(ROLES).toEqual(['party', 'analyst', 'dealer', 'auditor']);
    for (const role of ROLES) {
      const i: Identity = { federation: 'demo-fed.1', role, id: 'p_1' };
      const uri = identityUri(i);
      expect(uri).toBe(`spiffe://demo-fed.1/${role}/p_1`);
      expect(parseIdentityUri(uri)).toEqual(i);
    }
  });

  it('formats and compares', () => {
    const a: Identity = { federation: 'fed', role: 'party', id: 'p1' };
    expect(formatIdentity(a)).toBe('party p1@fed');
    expect(sameIdentity(a, { ...a })).toBe(true);
    expect(sameIdentity(a, { ...a, role: 'analyst' })).toBe(false);
    expect(sameIdentity(a, { ...a, id: 'P1' })).toBe(false);
    expect(sameIdentity(a, { ...a, federation: 'other' })).toBe(false);
  });

  it.each([
    'spiffe://fed/party',
    'spiffe://fed/party/p1/',
    'spiffe://fed/party/p1/extra',
    'spiffe://fed/admin/p1',
    'spiffe://fed/auditors/a1',
    'spiffe://fed/Auditor/a1',
    'spiffe://fed/Party/p1',
    'SPIFFE://fed/party/p1',
    'spiffe://fed:443/party/p1',
    'spiffe://user@fed/party/p1',
    'spiffe://fed/party/p1?x=1',
    'spiffe://fed/party/p1#f',
    'spiffe://fed/party/p%31',
    'spiffe://fed/party/-p1',
    'spiffe://fed/party/.p1',
    'spiffe:///party/p1',
    'spiffe://fed/party/',
    `spiffe://fed/party/${'a'.repeat(64)}`,
    'https://fed/party/p1',
    ' spiffe://fed/party/p1',
    '',
  ])('rejects %j with PEER_AUTH naming the URI', (uri) => {
    let err: unknown;
    try {
      parseIdentityUri(uri);
    } catch (e) {
      err = e;
    }
    expect(isMpcError(err, ErrorCode.PEER_AUTH)).toBe(true);
    expect((err as Error).message).toContain(JSON.stringify(uri));
  });

  it('accepts the longest allowed id', () => {
    expect(parseIdentityUri(`spiffe://f/party/${'a'.repeat(63)}`).id).toHaveLength(63);
  });

  it('refuses to build a URI from a malformed identity', () => {
    expect(() => identityUri({ federation: 'fed', role: 'party', id: 'a/b' })).toThrow(/invalid identity/);
    expect(() => identityUri({ federation: 'fed', role: 'root' as never, id: 'p1' })).toThrow(/invalid identity/);
  });
});
