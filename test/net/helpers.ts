import { afterEach, beforeAll } from 'vitest';
/**
 * Shared fixtures for the network tests: one federation's PKI (made once per test file in a
 * beforeAll), a log collector, and small helpers for servers on 127.0.0.1:0.
 */
import { WebSocket } from 'ws';
import type { LogLevel, NetLog } from '../../src/net/log.ts';
import type { TlsMaterial } from '../../src/net/tls.ts';
import { clientTlsOptions } from '../../src/net/tls.ts';
import type { Identity, Role } from '../../src/security/identity.ts';
import { createCA, issueCertificate, selfSignedCertificate } from '../../src/security/pki.ts';
import type { KeyPairPem } from '../../src/security/pki.ts';

export const FED = 'demo';
export const PARTIES = ['p1', 'p2', 'p3'];

export function party(id: string, federation = FED): Identity {
  return { federation, role: 'party', id };
}

export function ident(role: Role, id: string, federation = FED): Identity {
  return { federation, role, id };
}

export interface Pki {
  ca: KeyPairPem;
  /** TLS material per principal id: p1, p2, p3, a1 (analyst), d1 (dealer). */
  m: Record<string, TlsMaterial>;
  /** Issued by another CA (federation "demo" too). */
  otherCa: TlsMaterial;
  /** Issued by our CA but expired yesterday. */
  expired: TlsMaterial;
  /** Self-signed, with a valid-looking identity. */
  selfSigned: TlsMaterial;
  /** Issued by our CA for another federation. */
  foreign: TlsMaterial;
}

function material(ca: KeyPairPem, kp: KeyPairPem): TlsMaterial {
  return { ca: ca.certPem, cert: kp.certPem, key: kp.keyPem };
}

export async function makePki(): Promise<Pki> {
  const ca = await createCA(FED);
  const other = await createCA(FED);
  const m: Record<string, TlsMaterial> = {};
  for (const id of PARTIES) m[id] = material(ca, await issueCertificate(ca, party(id)));
  m.a1 = material(ca, await issueCertificate(ca, ident('analyst', 'a1')));
  m.d1 = material(ca, await issueCertificate(ca, ident('dealer', 'd1')));
  const day = 24 * 3600 * 1000;
  return {
    ca,
    m,
    otherCa: material(ca, await issueCertificate(other, ident('analyst', 'a1'))),
    expired: material(
      ca,
      await issueCertificate(ca, ident('analyst', 'a1'), { notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) }),
    ),
    selfSigned: material(ca, await selfSignedCertificate(ident('analyst', 'a1'))),
    foreign: material(ca, await issueCertificate(ca, ident('analyst', 'a1', 'elsewhere'))),
  };
}

export interface LogLine {
  level: LogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

/** A NetLog that records every line, plus a helper to wait for one. */
export function collectLog(): { log: NetLog; lines: LogLine[]; waitFor: (pred: (l: LogLine) => boolean, ms?: number) => Promise<LogLine> } {
  const lines: LogLine[] = [];
  const log: NetLog = (level, msg, fields) => void lines.push({ level, msg, fields });
  const waitFor = async (pred: (l: LogLine) => boolean, ms = 3000) => {
    const t0 = Date.now();
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (Date.now() - t0 > ms) throw new Error(`no matching log line within ${ms} ms; got:\n${lines.map((l) => `${l.level} ${l.msg}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { log, lines, waitFor };
}

/** A raw ws client (no Channel): plays a misbehaving peer. Resolves when open. */
export function rawClient(url: string, mat: TlsMaterial, expected: Identity, opts: { autoPong?: boolean } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...clientTlsOptions(mat, expected), perMessageDeflate: false, maxPayload: 1 << 20, autoPong: opts.autoPong ?? true });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Resolves with [code, reason] when `ws` closes. */
export function closed(ws: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

/** Rejects with the promise's error, or fails if it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string; party?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Per test file: one PKI, made before the tests, and cleanups run after each test, last first. */
export function netTestSetup(): { readonly pki: Pki; cleanups: Array<() => Promise<void> | void> } {
  const state = { pki: undefined as unknown as Pki, cleanups: [] as Array<() => Promise<void> | void> };
  beforeAll(async () => {
    state.pki = await makePki();
  });
  afterEach(async () => {
    for (const c of state.cleanups.splice(0).reverse()) await c();
  });
  return state;
}
