/**
 * Tessera's network layer: framed, authenticated, multiplexed channels between the processes
 * of a federation over mTLS WebSockets (TLS 1.3, client certificates, `ws`).
 *
 * - `frame.ts`   the wire envelope and the message-kind table
 * - `tls.ts`     TLS options and certificate identities
 * - `channel.ts` one authenticated connection: sequencing, sender check, backpressure, heartbeat
 * - `hello.ts`   the first frame of every channel
 * - `server.ts`  a node's listener; hands out party and client channels
 * - `client.ts`  dialing a node (parties, analysts, dealers)
 * - `mesh.ts`    the parties' full mesh and per-job routing
 * - `job-transport.ts` the protocol's `Transport` for one job
 * @module
 */
export { Channel, CloseCode, DEFAULT_HEARTBEAT, DEFAULT_HIGH_WATER_MARK } from './channel.ts';
export type { ChannelClose, ChannelEvents, ChannelOptions, HeartbeatOptions, OutFrame } from './channel.ts';
export { backoffDelay, connect, connectClient, connectWithHello } from './client.ts';
export type { ConnectOptions, RetryOptions } from './client.ts';
export {
  ControlKind,
  decodeFrame,
  DEFAULT_FRAME_LIMITS,
  encodeFrame,
  isControlKind,
  isProtocolKind,
  PROTOCOL_VERSION,
} from './frame.ts';
export type { Frame, FrameKind, FrameLimits } from './frame.ts';
export { checkHello, DEFAULT_HELLO_TIMEOUT_MS, exchangeHello, makeHello, parseHello } from './hello.ts';
export type { Hello } from './hello.ts';
export { JobTransport } from './job-transport.ts';
export type { JobLink, JobTransportOptions } from './job-transport.ts';
export { silentLog } from './log.ts';
export type { LogLevel, NetLog } from './log.ts';
export { PeerMesh } from './mesh.ts';
export type { PartyEndpoint, PeerMeshEvents, PeerMeshOptions } from './mesh.ts';
export { limitsFor, NodeServer } from './server.ts';
export type { ChannelSettings, NodeServerEvents, NodeServerOptions } from './server.ts';
export { checkExpected, clientTlsOptions, peerIdentity, serverTlsOptions } from './tls.ts';
export type { TlsMaterial } from './tls.ts';
