/**
 * The dialing side: open an mTLS WebSocket to a node, make sure the server is the principal we
 * meant to reach (its certificate's identity, not its host name), run Hello, and return the
 * {@link Channel}. Used by the mesh (party → party), the analyst client and the dealer.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { ErrorCode, isMpcError, MpcError } from '../errors.ts';
import type { Identity } from '../security/identity.ts';
import { formatIdentity } from '../security/identity.ts';
import { identityFromCertificate } from '../security/pki.ts';
import { Channel, CloseCode, type ChannelClose } from './channel.ts';
import { DEFAULT_HELLO_TIMEOUT_MS, exchangeHello, makeHello } from './hello.ts';
import type { Hello } from './hello.ts';
import { silentLog } from './log.ts';
import { limitsFor, reportPeerCertificate } from './server.ts';
import type { ChannelSettings } from './server.ts';
import { checkExpected, clientTlsOptions, peerIdentity } from './tls.ts';
import type { TlsMaterial } from './tls.ts';

/** Exponential backoff for connection attempts refused at start-up (ECONNREFUSED). */
export interface RetryOptions {
  /** Total attempts, including the first. */
  attempts: number;
  /** Delay before the second attempt; doubles each time. */
  baseMs: number;
  /** Upper bound of one delay. */
  maxMs: number;
}

/** Options of {@link connect}. */
export interface ConnectOptions extends TlsMaterial, ChannelSettings {
  /** The principal the server must prove to be. */
  expected: Identity;
  /** The federation's party list for Hello (must match between parties; `[]` is fine for clients). */
  parties?: readonly string[];
  /** Default: a single attempt. */
  retry?: RetryOptions;
  /** Time allowed for TCP + TLS + upgrade. Default 10 s. */
  connectTimeoutMs?: number;
  /** Stops retrying (and fails) when aborted. */
  signal?: AbortSignal;
}

/** Delay before retry number `i` (0-based): baseMs · 2^i, capped at maxMs. */
export function backoffDelay(retry: Pick<RetryOptions, 'baseMs' | 'maxMs'>, i: number): number {
  return Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(i, 30));
}

/**
 * Connect to `url` (`wss://host:port`), authenticate both ways and exchange Hello. The
 * returned channel is paused: attach 'frame'/'close' listeners, then call `resume()`.
 *
 * Errors: PEER_AUTH when the server's certificate names another principal, TLS fails
 * (untrusted, expired) or the server answers 403; PROTOCOL / PEER_AUTH on a Hello mismatch;
 * PEER_LOST when the server cannot be reached (after the retries, which only apply to
 * ECONNREFUSED — the peer not listening yet).
 *
 * @example
 * const ch = await connect('wss://127.0.0.1:7001', { ca, cert, key, expected: { federation: 'demo', role: 'party', id: 'p1' } });
 * ch.on('frame', onFrame);
 * ch.resume();
 * await ch.send({ job: 'j1', round: 0, kind: ControlKind.JobSubmit, body: { plan } });
 */
export async function connect(url: string, opts: ConnectOptions): Promise<Channel> {
  return (await connectWithHello(url, opts)).channel;
}

/**
 * For analysts and dealers: connect to a node's endpoint, retrying while it starts up
 * (default 6 attempts, 100 ms doubling to 2 s). The channel is paused like {@link connect}'s.
 *
 * @example
 * const ch = await connectClient({ host: '127.0.0.1', port: 7001 }, { ...tls, expected: { federation: 'demo', role: 'party', id: 'p1' } });
 * ch.on('frame', (f) => { if (f.kind === ControlKind.OutputShare) collect(ch.peer.id, f); });
 * ch.on('close', (info) => info.error && console.error(info.error.message));
 * ch.resume();
 */
export function connectClient(endpoint: { host: string; port: number }, opts: ConnectOptions): Promise<Channel> {
  return connect(wssUrl(endpoint.host, endpoint.port), { retry: { attempts: 6, baseMs: 100, maxMs: 2000 }, ...opts });
}

/** The URL of a Tessera listener (an IPv6 host in brackets). */
export function wssUrl(host: string, port: number): string {
  return `wss://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/** What {@link keepDialing} reports. */
export interface DialHandlers {
  /** A new channel is up (paused): attach listeners and resume it. */
  up(channel: Channel): void;
  /** The channel handed to `up` has closed; dialing starts again. */
  closed?(info: ChannelClose): void;
  /** A dial failed; `attempt` counts the failures since the last channel (0 = the first). */
  failed(error: unknown, attempt: number): void;
}

/** Options of {@link keepDialing}. */
export interface DialOptions extends ConnectOptions {
  signal: AbortSignal;
  /**
   * The TLS material to dial with, asked before every dial; overrides `ca`, `cert` and `key`.
   * With it a renewed certificate is used from the next dial on (src/node/tls-reload.ts).
   */
  currentTls?: () => TlsMaterial;
}

/**
 * Keep a channel to `url` up until `opts.signal` aborts: dial, hand the channel to `up`, wait
 * for it to close, dial again; with backoff (`retry`, reset by every channel). A channel that
 * comes up after the signal aborted is closed with 1001 and `stopReason` instead.
 */
export async function keepDialing(
  url: string,
  opts: DialOptions,
  retry: Pick<RetryOptions, 'baseMs' | 'maxMs'>,
  handlers: DialHandlers,
  stopReason: string,
): Promise<void> {
  const { signal } = opts;
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const { channel } = await connectWithHello(url, opts.currentTls === undefined ? opts : { ...opts, ...opts.currentTls() });
      if (signal.aborted) return channel.close(CloseCode.GoingAway, stopReason);
      attempt = 0;
      handlers.up(channel);
      const info = await channel.whenClosed;
      handlers.closed?.(info);
    } catch (e) {
      if (signal.aborted) return;
      handlers.failed(e, attempt);
    }
    await sleep(backoffDelay(retry, attempt++), undefined, { signal }).catch(() => {});
  }
}

/** Like {@link connect}, also returning the peer's Hello. */
export async function connectWithHello(url: string, opts: ConnectOptions): Promise<{ channel: Channel; hello: Hello }> {
  const retry = opts.retry ?? { attempts: 1, baseMs: 0, maxMs: 0 };
  for (let i = 0; ; i++) {
    try {
      return await connectOnce(url, opts);
    } catch (e) {
      const refused = (e as MpcError).cause !== undefined && errno((e as MpcError).cause) === 'ECONNREFUSED';
      if (!refused || i + 1 >= retry.attempts || opts.signal?.aborted) throw e;
      const delay = backoffDelay(retry, i);
      (opts.log ?? silentLog)('debug', `${url} refused the connection; retrying in ${delay} ms`, { peer: opts.expected.id, attempt: i + 1 });
      await sleep(delay, undefined, { signal: opts.signal }).catch(() => {});
    }
  }
}

async function connectOnce(url: string, opts: ConnectOptions): Promise<{ channel: Channel; hello: Hello }> {
  const self = identityFromCertificate(opts.cert);
  const log = opts.log ?? silentLog;
  const { ws, socket } = await openWebSocket(url, opts);
  const channel = new Channel(ws, {
    self,
    peer: opts.expected, // verified during the TLS handshake and again on 'upgrade'
    socket,
    limits: limitsFor(opts.maxPayload),
    highWaterMark: opts.highWaterMark,
    heartbeat: opts.heartbeat,
    log,
  });
  const hello = await exchangeHello(channel, makeHello(self, opts.parties ?? []), opts.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
  log('info', `connected to ${formatIdentity(opts.expected)} at ${url}`, { event: 'connected', peer: opts.expected.id });
  return { channel, hello };
}

function openWebSocket(url: string, opts: ConnectOptions): Promise<{ ws: WebSocket; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const peer = opts.expected;
    const ws = new WebSocket(url, {
      ...clientTlsOptions(opts, peer),
      perMessageDeflate: false,
      maxPayload: limitsFor(opts.maxPayload).maxFrameBytes,
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
      followRedirects: false,
      // RFC 6455 masking protects plaintext WebSockets from cache-poisoning proxies; ours are
      // TLS end to end between authenticated peers, so the XOR pass over every byte (about
      // 10 % of a node's CPU in the benchmark) buys nothing. ws skips masking for a zero
      // key on both ends.
      generateMask: (mask: Buffer) => void mask.fill(0),
    });
    let settled = false;
    let socket: TLSSocket | undefined;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(mapConnectError(e, url, peer));
    };
    ws.on('upgrade', (res: IncomingMessage) => {
      // checkServerIdentity already compared identities during the handshake; checking again
      // here costs nothing and does not depend on that hook being honoured.
      socket = res.socket as TLSSocket;
      try {
        checkExpected(peerIdentity(socket), peer);
      } catch (e) {
        return fail(e);
      }
      reportPeerCertificate(opts, peer, socket);
    });
    ws.on('unexpected-response', (_req, res) => {
      fail(new MpcError(
        res.statusCode === 403 ? ErrorCode.PEER_AUTH : ErrorCode.PEER_LOST,
        `${formatIdentity(peer)} at ${url} answered HTTP ${res.statusCode}${res.statusCode === 403 ? ' (refused us)' : ''}`,
        { party: peer.id },
      ));
    });
    ws.on('error', fail);
    ws.on('close', () => fail(new Error('closed during the handshake')));
    ws.on('open', () => {
      // ws emits 'upgrade' (with the socket) before 'open'.
      if (socket === undefined) return fail(new Error('WebSocket open without an upgrade'));
      if (settled) return;
      settled = true;
      ws.removeListener('error', fail);
      ws.removeAllListeners('close');
      resolve({ ws, socket });
    });
  });
}

function mapConnectError(e: unknown, url: string, peer: Identity): MpcError {
  if (isMpcError(e)) return e;
  const code = errno(e);
  const msg = e instanceof Error ? e.message : String(e);
  const where = `${formatIdentity(peer)} at ${url}`;
  // TLS verification failures, on our side (CERT_*, self-signed, …) or reported by the
  // server as an alert (ERR_SSL_*): an authentication problem, not a transient one.
  if (code !== undefined && (code.startsWith('ERR_SSL_') || code.startsWith('CERT_') || /SELF_SIGNED|UNABLE_TO|VERIFY|ERR_TLS/.test(code))) {
    return new MpcError(ErrorCode.PEER_AUTH, `TLS handshake with ${where} failed: ${msg}`, { party: peer.id, cause: e });
  }
  // node:tls servers refuse a client certificate by dropping the connection without an
  // alert, so a reset during the handshake often means "our certificate was refused".
  const hint = code === 'ECONNRESET' ? ' (reset during the handshake: the server may have refused our certificate; see its log)' : '';
  return new MpcError(ErrorCode.PEER_LOST, `cannot connect to ${where}: ${msg}${hint}`, { party: peer.id, cause: e });
}

function errno(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}
