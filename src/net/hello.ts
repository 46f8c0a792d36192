/**
 * The Hello handshake: the first frame in each direction of every channel (kind
 * {@link ControlKind.Hello}, `job` = '', seq 0). It pins what both ends must agree on before
 * any job traffic — protocol version, federation, who is speaking, and, between computing
 * parties, the federation's party list (so party indices mean the same on both sides).
 *
 * Both sides send first, then read, so neither waits on the other; each side checks the
 * other's Hello and, on a mismatch, closes with {@link CloseCode.HelloMismatch} and the reason,
 * which the other side reports as its own error.
 * @module
 */
import { ErrorCode, MpcError } from '../errors.ts';
import { formatIdentity, isRole, isValidId } from '../security/identity.ts';
import type { Identity, Role } from '../security/identity.ts';
import type { Channel } from './channel.ts';
import { CloseCode } from './channel.ts';
import { ControlKind, PROTOCOL_VERSION } from './frame.ts';

/** Body of a Hello frame. */
export interface Hello {
  version: number;
  federation: string;
  /** The sender's id; must equal the id in its certificate. */
  from: string;
  /** The sender's role; must equal the role in its certificate. */
  role: Role;
  /** Number of computing parties in the sender's view of the federation (`parties.length`). */
  n: number;
  /** The federation's computing party ids in order (may be empty for an analyst or dealer). */
  parties: string[];
}

/** Default time to wait for the peer's Hello. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

/** The Hello this process sends. */
export function makeHello(self: Identity, parties: readonly string[]): Hello {
  return { version: PROTOCOL_VERSION, federation: self.federation, from: self.id, role: self.role, n: parties.length, parties: [...parties] };
}

/** Validate the shape of a received Hello body; MpcError FRAME if malformed. */
export function parseHello(body: unknown): Hello {
  const b = body as Partial<Record<keyof Hello, unknown>> | null;
  const ok =
    typeof b === 'object' &&
    b !== null &&
    typeof b.version === 'number' &&
    isValidId(b.federation) &&
    isValidId(b.from) &&
    isRole(b.role) &&
    typeof b.n === 'number' &&
    Number.isSafeInteger(b.n) &&
    b.n >= 0 &&
    Array.isArray(b.parties) &&
    b.parties.length <= 1024 &&
    b.parties.every(isValidId);
  if (!ok) throw new MpcError(ErrorCode.FRAME, 'bad frame: malformed Hello body');
  return { version: b.version as number, federation: b.federation as string, from: b.from as string, role: b.role as Role, n: b.n as number, parties: b.parties as string[] };
}

/**
 * Check the peer's Hello against its certificate identity and our own Hello. Throws MpcError
 * PROTOCOL (version, n, party list) or PEER_AUTH (federation, claimed identity).
 */
export function checkHello(remote: Hello, peer: Identity, local: Hello): void {
  const who = formatIdentity(peer);
  const fail = (code: ErrorCode, msg: string) => {
    throw new MpcError(code, `Hello mismatch with ${who}: ${msg}`, { party: peer.id });
  };
  if (remote.version !== local.version) fail(ErrorCode.PROTOCOL, `it speaks protocol version ${remote.version}, we speak ${local.version}`);
  if (remote.federation !== local.federation || peer.federation !== local.federation) {
    fail(ErrorCode.PEER_AUTH, `it is in federation ${remote.federation}, we are in ${local.federation}`);
  }
  if (remote.from !== peer.id || remote.role !== peer.role) {
    fail(ErrorCode.PEER_AUTH, `it claims to be ${remote.role} ${remote.from} but its certificate names ${peer.role} ${peer.id}`);
  }
  if (peer.role === 'party' && local.role === 'party') {
    if (remote.n !== local.n) fail(ErrorCode.PROTOCOL, `it has n = ${remote.n} parties, we have n = ${local.n}`);
    if (remote.parties.length !== local.parties.length || remote.parties.some((p, i) => p !== local.parties[i])) {
      fail(ErrorCode.PROTOCOL, `party lists differ: it has [${remote.parties.join(',')}], we have [${local.parties.join(',')}]`);
    }
    if (!local.parties.includes(remote.from)) fail(ErrorCode.PEER_AUTH, `${remote.from} is not a party of this federation`);
  }
}

/**
 * Send our Hello on a fresh (paused) channel, read and check the peer's. On any failure the
 * channel is closed (Hello mismatch code, with the reason) and the error is thrown.
 */
export async function exchangeHello(ch: Channel, local: Hello, timeoutMs = DEFAULT_HELLO_TIMEOUT_MS): Promise<Hello> {
  try {
    // Do not await: the peer reads our Hello while we read theirs.
    const sent = ch.send({ job: '', round: 0, kind: ControlKind.Hello, body: local });
    sent.catch(() => {}); // a failed send shows up as a failed read too; avoid an unhandled rejection
    const f = await ch.read(timeoutMs);
    await sent;
    if (f.kind !== ControlKind.Hello) {
      throw new MpcError(ErrorCode.PROTOCOL, `expected Hello from ${ch.peer.id} as first frame, got kind ${f.kind}`, { party: ch.peer.id });
    }
    const remote = parseHello(f.body);
    checkHello(remote, ch.peer, local);
    return remote;
  } catch (e) {
    // The channel may already be closed — by the peer with its reason, or by us on a bad
    // frame — and that error says more than the failed read does.
    const info = ch.closeInfo;
    if (info?.error !== undefined) throw info.error;
    const err = e instanceof MpcError ? e : new MpcError(ErrorCode.PROTOCOL, String(e), { party: ch.peer.id, cause: e });
    ch.fail(err, CloseCode.HelloMismatch);
    throw err;
  }
}
