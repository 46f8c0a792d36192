/**
 * The listening side of a node: an HTTPS server (TLS 1.3, client certificates required and
 * verified against the federation CA) that upgrades to WebSocket only for authenticated,
 * authorized principals of our federation, runs the Hello handshake, and hands the channel
 * to the node layer — computing parties as 'party' (the {@link PeerMesh} takes those),
 * analysts and dealers as 'client'.
 *
 * Refusals are logged through the injected `log`: TLS handshake failures (unknown CA,
 * expired, self-signed, no certificate) via the server's 'tlsClientError', and identity or
 * authorization refusals as HTTP 403 before the WebSocket exists.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { ErrorCode, isMpcError, MpcError } from '../errors.ts';
import type { Identity } from '../security/identity.ts';
import { formatIdentity, sameIdentity } from '../security/identity.ts';
import { identityFromCertificate } from '../security/pki.ts';
import { Channel, CloseCode } from './channel.ts';
import type { HeartbeatOptions } from './channel.ts';
import { DEFAULT_FRAME_LIMITS } from './frame.ts';
import type { FrameLimits } from './frame.ts';
import { DEFAULT_HELLO_TIMEOUT_MS, exchangeHello, makeHello } from './hello.ts';
import type { Hello } from './hello.ts';
import type { NetLog } from './log.ts';
import { silentLog } from './log.ts';
import { peerCertificateExpiry, peerIdentity, serverTlsOptions } from './tls.ts';
import type { TlsMaterial } from './tls.ts';

/** Channel settings shared by server, client and mesh. */
export interface ChannelSettings {
  /** Largest frame accepted (ws `maxPayload` and the decoder's limit). Default 64 MiB. */
  maxPayload?: number;
  /** Backpressure threshold of `Channel.send`. Default 8 MiB. */
  highWaterMark?: number;
  /** Liveness probing; default 1 s pings, 5 s timeout; `false` disables. */
  heartbeat?: HeartbeatOptions | false;
  /** Time allowed for the peer's Hello. Default 10 s. */
  helloTimeoutMs?: number;
  log?: NetLog;
  /**
   * Called with each authenticated peer's identity and the end of its certificate's validity,
   * as the connection is set up, so the node can warn before a peer's certificate expires.
   * Must not throw (a throw is logged and ignored).
   */
  onPeerCertificate?: (peer: Identity, validTo: Date) => void;
}

/** Call `settings.onPeerCertificate` for the peer on `socket`, if both are there. */
export function reportPeerCertificate(settings: ChannelSettings, peer: Identity, socket: TLSSocket): void {
  const hook = settings.onPeerCertificate;
  const validTo = hook === undefined ? undefined : peerCertificateExpiry(socket);
  if (hook === undefined || validTo === undefined) return;
  try {
    hook(peer, validTo);
  } catch (e) {
    (settings.log ?? silentLog)('error', `onPeerCertificate threw for ${formatIdentity(peer)}: ${String(e)}`, { peer: peer.id });
  }
}

/** Options of {@link NodeServer}. */
export interface NodeServerOptions extends ChannelSettings {
  tls: TlsMaterial;
  /** The federation's computing party ids, in order (sent in Hello; parties must agree). */
  parties: readonly string[];
  /**
   * Called with each authenticated peer of our federation before the WebSocket upgrade;
   * false → HTTP 403. Default: admit every principal of the federation (the mesh and the node
   * layer apply their own role checks afterwards).
   */
  authorize?: (peer: Identity) => boolean | Promise<boolean>;
  /** Liveness of analyst channels (default: `heartbeat`); see the node's ANALYST_HEARTBEAT. */
  analystHeartbeat?: HeartbeatOptions | false;
}

/** Events of a {@link NodeServer}. Channels are paused: attach listeners, then `resume()`. */
export interface NodeServerEvents {
  /** A computing party connected and passed Hello. */
  party: [Channel, Hello];
  /** An analyst or dealer connected and passed Hello. */
  client: [Channel, Hello];
  /** An authenticated peer failed the Hello exchange (mismatch or timeout); already logged. */
  'hello-failed': [Identity, MpcError];
}

/** Frame limits for a given maxPayload. */
export function limitsFor(maxPayload: number | undefined): FrameLimits {
  return { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: maxPayload ?? DEFAULT_FRAME_LIMITS.maxFrameBytes };
}

/**
 * A node's server. Create, subscribe to 'party' / 'client', then `listen()`. A channel whose
 * event has no listener is closed with 1013 (try again later), so a peer dialing before the
 * node is ready simply retries.
 *
 * @example
 * const server = new NodeServer({ tls, parties: ['p1', 'p2', 'p3'], log });
 * server.on('client', (ch, hello) => { ch.on('frame', (f) => handle(ch, f)); ch.resume(); });
 * const { port } = await server.listen(0, '127.0.0.1');
 */
export class NodeServer extends EventEmitter<NodeServerEvents> {
  /** Our identity, read from our certificate. */
  readonly self: Identity;
  readonly #opts: NodeServerOptions;
  readonly #log: NetLog;
  readonly #https: Server;
  readonly #wss: WebSocketServer;
  readonly #channels = new Set<Channel>();
  readonly #hello: Hello;

  constructor(opts: NodeServerOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log ?? silentLog;
    this.self = identityFromCertificate(opts.tls.cert);
    this.#hello = makeHello(this.self, opts.parties);
    this.#https = createServer({ ...serverTlsOptions(opts.tls), handshakeTimeout: 10_000 }, (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('WebSocket upgrade required\n');
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false, // share traffic is random-looking; compression only costs CPU
      maxPayload: limitsFor(opts.maxPayload).maxFrameBytes,
      clientTracking: false,
    });
    // Client-certificate failures do not raise an error inside node:tls: the server checks
    // the chain after the handshake, destroys the socket (no alert is sent) and reports it
    // as 'tlsClientError' ECONNRESET, with the real cause in `authorizationError`. By then
    // the TLS socket has forgotten its address, so remember it from the TCP connection.
    const remoteOf = new WeakMap<object, string>();
    this.#https.on('connection', (raw: Socket) => remoteOf.set(raw, `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`));
    this.#https.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      const remote = remoteOf.get((socket as { _parent?: object })._parent ?? socket) ?? '?';
      const why = socket.authorizationError ? `client certificate rejected: ${String(socket.authorizationError)}` : err.message;
      this.#log('warn', `TLS handshake refused from ${remote}: ${why}`, {
        event: 'tls-refused',
        code: socket.authorizationError ?? err.code,
        remote,
      });
    });
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#onUpgrade(req, socket as TLSSocket, head));
  }

  /** Start listening; resolves with the bound address (use port 0 for an ephemeral port). */
  listen(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#https.once('error', reject);
      this.#https.listen(port, host, () => {
        this.#https.off('error', reject);
        const a = this.#https.address() as AddressInfo;
        this.#log('info', `listening on ${a.address}:${a.port} as ${formatIdentity(this.self)}`, { event: 'listening', port: a.port });
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /**
   * Present `tls` (a renewed certificate, key and CA) from now on: connections made after this
   * call get the new material; channels already up keep theirs, so running jobs go on. Throws
   * MpcError CONFIG when the certificate names another principal than this server's (a
   * process's identity does not change while it runs). Validate the files before calling this
   * (certs.ts checkTlsMaterial); node:tls throws on a key that does not parse.
   */
  updateTls(tls: TlsMaterial): void {
    const id = identityFromCertificate(tls.cert);
    if (!sameIdentity(id, this.self)) {
      throw new MpcError(ErrorCode.CONFIG, `the new certificate names ${formatIdentity(id)}, but this server runs as ${formatIdentity(this.self)}`);
    }
    this.#https.setSecureContext(serverTlsOptions(tls));
  }

  /** The bound port (after `listen`). */
  get port(): number {
    return (this.#https.address() as AddressInfo).port;
  }

  /** Close every channel (1001) and stop listening. */
  async close(): Promise<void> {
    for (const ch of this.#channels) ch.close(CloseCode.GoingAway, 'server shutting down');
    this.#channels.clear();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#https.close(() => resolve());
      this.#https.closeAllConnections();
    });
  }

  async #onUpgrade(req: IncomingMessage, socket: TLSSocket, head: Buffer): Promise<void> {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('error', (e) => this.#log('debug', `socket error from ${remote}: ${e.message}`, { remote }));
    let peer: Identity;
    try {
      peer = peerIdentity(socket);
    } catch (e) {
      return this.#refuse(socket, remote, undefined, isMpcError(e) ? e.message : String(e));
    }
    if (peer.federation !== this.self.federation) {
      return this.#refuse(socket, remote, peer, `federation ${peer.federation} is not ours (${this.self.federation})`);
    }
    let ok = true;
    try {
      ok = this.#opts.authorize === undefined ? true : await this.#opts.authorize(peer);
    } catch (e) {
      this.#log('error', `authorize() threw for ${formatIdentity(peer)}: ${String(e)}`, { peer: peer.id });
      ok = false;
    }
    if (!ok) return this.#refuse(socket, remote, peer, 'not authorized');
    reportPeerCertificate(this.#opts, peer, socket);
    this.#wss.handleUpgrade(req, socket, head, (ws) => void this.#onWebSocket(ws, socket, peer, remote));
  }

  async #onWebSocket(ws: import('ws').WebSocket, socket: TLSSocket, peer: Identity, remote: string): Promise<void> {
    const o = this.#opts;
    const ch = new Channel(ws, {
      self: this.self,
      peer,
      socket,
      limits: limitsFor(o.maxPayload),
      highWaterMark: o.highWaterMark,
      heartbeat: peer.role === 'analyst' && o.analystHeartbeat !== undefined ? o.analystHeartbeat : o.heartbeat,
      log: this.#log,
    });
    this.#channels.add(ch);
    void ch.whenClosed.then(() => this.#channels.delete(ch));
    let hello: Hello;
    try {
      hello = await exchangeHello(ch, this.#hello, o.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
    } catch (e) {
      const err = isMpcError(e) ? e : new MpcError(ErrorCode.PROTOCOL, String(e), { party: peer.id, cause: e });
      this.#log('warn', `Hello with ${formatIdentity(peer)} (${remote}) failed: ${err.message}`, { event: 'hello-failed', peer: peer.id });
      this.emit('hello-failed', peer, err);
      return;
    }
    const event = peer.role === 'party' ? 'party' : 'client';
    this.#log('info', `${formatIdentity(peer)} connected from ${remote}`, { event: 'connected', peer: peer.id, role: peer.role });
    if (this.listenerCount(event) === 0) {
      ch.close(CloseCode.TryAgainLater, `not accepting ${peer.role} connections yet`);
      return;
    }
    this.emit(event, ch, hello);
  }

  #refuse(socket: TLSSocket, remote: string, peer: Identity | undefined, why: string): void {
    const who = peer ? formatIdentity(peer) : 'peer';
    this.#log('warn', `refused ${who} from ${remote}: ${why}`, { event: 'refused', peer: peer?.id, remote });
    const body = `forbidden: ${why}\n`;
    if (!socket.writable) return void socket.destroy();
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}
