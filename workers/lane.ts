/**
 * One lane of a node (src/net/lanes.ts): a worker thread with its own TLS server and its own
 * mTLS channels, one per peer, carrying job messages for the node's main thread.
 *
 * Every check of the main channels applies here, because it is the same code: the server
 * requires a client certificate from the federation CA and admits only parties with a lower
 * index than ours (the lower index dials), the Hello pins federation and party list, and
 * each `Channel` checks sender, sequence numbers and frame limits. On top, a lane refuses
 * control frames: it carries job messages only, and the main thread routes those by job.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErrorCode, isMpcError, MpcError } from '../src/errors.ts';
import { identityFromCertificate } from '../src/security/pki.ts';
import type { Channel } from '../src/net/channel.ts';
import { CloseCode } from '../src/net/channel.ts';
import { keepDialing } from '../src/net/client.ts';
import { isProtocolKind } from '../src/net/frame.ts';
import type { LaneCommand, LaneEvent, LaneWorkerData } from '../src/net/lanes.ts';
import type { NetLog } from '../src/net/log.ts';
import { NodeServer } from '../src/net/server.ts';

const data = workerData as LaneWorkerData;
const port = parentPort!;
const post = (m: LaneEvent, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const log: NetLog = (level, msg, fields) => post({ t: 'log', level, msg: `lane ${data.lane}: ${msg}`, fields: { ...fields, lane: data.lane } });

const self = identityFromCertificate(data.tls.cert);
const index = data.parties.indexOf(self.id);
const settings = { maxPayload: data.maxPayload, highWaterMark: data.highWaterMark, heartbeat: data.heartbeat, log };
const channels = new Map<string, Channel>();
/** Channels this side closed on purpose (drop, close): their end is not a loss. */
const deliberate = new WeakSet<Channel>();
const dialers = new Map<string, AbortController>();
let closing = false;
/** The material of the next dial; replaced by the main thread after a renewal. */
let tls = data.tls;

const server = new NodeServer({
  tls: data.tls,
  parties: data.parties,
  ...settings,
  // Only the lower-indexed parties dial us; everyone else is refused before the upgrade.
  authorize: (peer) => {
    const j = data.parties.indexOf(peer.id);
    return peer.role === 'party' && j >= 0 && j < index;
  },
});
server.on('party', (ch) => attach(ch.peer.id, ch));

function attach(id: string, ch: Channel): void {
  if (closing) {
    deliberate.add(ch);
    return ch.close(CloseCode.GoingAway, 'lane shutting down');
  }
  const old = channels.get(id);
  if (old !== undefined) old.close(CloseCode.Replaced, 'replaced by a new connection');
  channels.set(id, ch);
  ch.on('frame', (f) => {
    if (!isProtocolKind(f.kind)) {
      return ch.fail(new MpcError(ErrorCode.PROTOCOL, `party ${id} sent a control frame (kind ${f.kind}) on lane ${data.lane}: lanes carry job messages only`, { party: id }));
    }
    // The frame's bytes may be a view into a larger receive buffer: hand over a copy of
    // exactly the payload (a padded frame's padding stays here), transferred (not cloned) to
    // the main thread.
    const payload = new Uint8Array(f.payload!);
    post({ t: 'frame', peer: id, job: f.job, kind: f.kind, round: f.round, seq: f.seq, payload, padded: f.padded === true }, [payload.buffer]);
  });
  ch.on('close', (info) => {
    if (channels.get(id) === ch) channels.delete(id);
    if (deliberate.has(ch)) return;
    const local = !info.remote && info.error !== undefined;
    const why = info.error?.message ?? (info.reason || `code ${info.code}`);
    post({ t: 'lost', peer: id, code: local ? info.error!.code : ErrorCode.PEER_LOST, message: `lane ${data.lane} to party ${id} lost: ${why}`, local });
  });
  ch.on('error', (e) => log('warn', e.message, { peer: id, code: e.code }));
  post({ t: 'up', peer: id });
  ch.resume();
}

/** Keep a channel to `peer`'s lane at `url` up until dropped (re-dialing with backoff). */
function dial(peer: string, url: string): Promise<void> {
  if (closing) return Promise.resolve();
  dialers.get(peer)?.abort();
  const stop = new AbortController();
  dialers.set(peer, stop);
  const expected = { federation: self.federation, role: 'party', id: peer } as const;
  return keepDialing(url, { ...data.tls, currentTls: () => tls, ...settings, expected, parties: data.parties, signal: stop.signal }, { baseMs: 100, maxMs: 2000 }, {
    up: (channel) => attach(peer, channel),
    // Said once at warn (a lane port the network blocks shows up here), then quietly.
    failed: (e, attempt) =>
      log(attempt === 0 ? 'warn' : 'debug', `dialing ${peer}'s lane at ${url} failed (job messages use the main channel meanwhile): ${isMpcError(e) ? e.message : String(e)}`, { peer }),
  }, 'lane no longer wanted');
}

function drop(peer: string): void {
  dialers.get(peer)?.abort();
  dialers.delete(peer);
  const ch = channels.get(peer);
  if (ch === undefined) return;
  channels.delete(peer);
  deliberate.add(ch);
  ch.close(CloseCode.GoingAway, 'peer dropped by the node');
}

function send(m: Extract<LaneCommand, { t: 'send' }>): void {
  const ch = channels.get(m.peer);
  if (ch === undefined) {
    return post({ t: 'sent', id: m.id, error: { code: ErrorCode.PEER_LOST, message: `lane ${data.lane} to party ${m.peer} is not up` } });
  }
  ch.send({ job: m.job, round: m.round, kind: m.kind, payload: m.payload, pad: m.pad }).then(
    () => post({ t: 'sent', id: m.id }),
    (e: unknown) => post({ t: 'sent', id: m.id, error: { code: isMpcError(e) ? e.code : ErrorCode.PEER_LOST, message: e instanceof Error ? e.message : String(e) } }),
  );
}

async function close(): Promise<void> {
  closing = true;
  for (const stop of dialers.values()) stop.abort();
  for (const ch of channels.values()) {
    deliberate.add(ch);
    ch.close(CloseCode.GoingAway, 'node shutting down');
  }
  channels.clear();
  await server.close();
  post({ t: 'closed' });
  port.close();
}

port.on('message', (m: LaneCommand) => {
  switch (m.t) {
    case 'send':
      return send(m);
    case 'dial':
      return void dial(m.peer, m.url);
    case 'drop':
      return drop(m.peer);
    case 'tls':
      try {
        server.updateTls(m.tls);
        tls = m.tls;
      } catch (e) {
        log('error', `cannot use the new TLS material: ${(e as Error).message}`);
      }
      return;
    case 'close':
      return void close();
  }
});

try {
  const { port: listening } = await server.listen(0, data.host);
  post({ t: 'listening', port: listening });
} catch (e) {
  throw new MpcError(ErrorCode.CONFIG, `lane ${data.lane} cannot listen on ${data.host}: ${(e as Error).message}`, { cause: e });
}
