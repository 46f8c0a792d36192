/**
 * Who is who in a federation. Every process (party node, analyst, dealer) is named by a
 * SPIFFE-style URI, `spiffe://<federation>/<role>/<id>`, carried as a URI SAN in its
 * certificate. Access control matches on this triple, never on host names or CNs: a host
 * name says where a peer is, the URI says what it may do.
 * @module
 */
import { ErrorCode, MpcError } from '../errors.ts';

/**
 * The kinds of principal (ARCHITECTURE.md §1). An auditor reads nodes' audit logs and does
 * nothing else: a data owner's compliance officer needs the record without being able to run
 * jobs on the data.
 */
export type Role = 'party' | 'analyst' | 'dealer' | 'auditor';

/** All roles, in a fixed order, for validation and help texts. */
export const ROLES: readonly Role[] = ['party', 'analyst', 'dealer', 'auditor'];

/** A principal of a federation. */
export interface Identity {
  federation: string;
  role: Role;
  id: string;
}

/**
 * What a federation name or a principal id may look like. Deliberately narrow: the id ends up
 * in URIs, file names, log lines and certificate names, so no escaping is ever needed.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** True when `s` is a valid federation name or principal id (see {@link ID_PATTERN}). */
export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && ID_PATTERN.test(s);
}

/** True when `s` names one of the roles. */
export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s);
}

/**
 * The URI that names `i`, e.g. `spiffe://demo/party/p1`.
 * Throws MpcError CONFIG when `i` is not well formed, so a bad identity cannot be baked into a
 * certificate that no peer would later accept.
 */
export function identityUri(i: Identity): string {
  if (!isValidId(i.federation) || !isRole(i.role) || !isValidId(i.id)) {
    throw new MpcError(
      ErrorCode.CONFIG,
      `invalid identity ${JSON.stringify(i)}: federation and id must match ${ID_PATTERN}, role one of ${ROLES.join(', ')}`,
    );
  }
  return `spiffe://${i.federation}/${i.role}/${i.id}`;
}

const URI_PATTERN = /^spiffe:\/\/([^/]*)\/([^/]*)\/([^/]*)$/;

/**
 * Parse `spiffe://<federation>/<role>/<id>` strictly: no query, fragment, port, user info,
 * trailing slash, percent-encoding or case folding. Anything else comes from a peer we cannot
 * trust to be well-formed, so it fails with MpcError PEER_AUTH naming the URI.
 */
export function parseIdentityUri(uri: string): Identity {
  const m = typeof uri === 'string' ? URI_PATTERN.exec(uri) : null;
  if (m === null || !isValidId(m[1]) || !isRole(m[2]) || !isValidId(m[3])) {
    throw new MpcError(
      ErrorCode.PEER_AUTH,
      `invalid identity URI ${JSON.stringify(uri)}: expected spiffe://<federation>/<party|analyst|dealer|auditor>/<id>`,
    );
  }
  return { federation: m[1], role: m[2], id: m[3] };
}

/** True when both name the same principal (case-sensitive, as the URIs are compared). */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.federation === b.federation && a.role === b.role && a.id === b.id;
}

/** Human-readable form for logs and messages, e.g. `party p1@demo`. */
export function formatIdentity(i: Identity): string {
  return `${i.role} ${i.id}@${i.federation}`;
}
