/**
 * The raw link baseline of `npm run bench`: the throughput of one plain TLS 1.3 connection
 * between two processes on 127.0.0.1, one direction, with the same kind of material the
 * nodes use (a fresh federation CA, ECDSA P-256 leaf certificates, client certificates
 * required). This process is the sender; a child process (plain JavaScript, `node -e`) is
 * the receiver. The receiver acknowledges with one byte when it has read a given count, so
 * the sender's clock runs from its first write until every byte has reached the other
 * process's JavaScript — the same end points as share traffic between two nodes.
 *
 * Before the transfer the sender times 200 one-byte round trips on the same connection
 * (`rttSeconds`, the median): the link's latency as a node's messages see it.
 *
 * A warm-up transfer (a tenth of the total, at least 8 MiB) runs on the same connection
 * before the timed one, so TLS handshake and JIT warm-up are not counted.
 *
 * Across the emulated LAN of `--net lan` (bench/netns.ts) both ends run in network
 * namespaces: `measureTlsBaselineInNetns` starts this file's command line in the sender's
 * namespace, which starts the receiver in the other's.
 *
 *   node --import tsx bench/baseline.ts [--mib 1024] [--chunk-kib 1024] [--host 127.0.0.1]
 *        [--receiver-netns <name>] [--json]
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type TLSSocket } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createCA, issueCertificate } from '../src/security/pki.ts';

export interface Baseline {
  what: string;
  /** Bytes in the timed transfer. */
  bytes: number;
  /** Size of each write. */
  chunkBytes: number;
  seconds: number;
  bytesPerSecond: number;
  protocol: string;
  cipher: string;
  /** Median time of a one-byte round trip on the connection (sender → receiver → sender). */
  rttSeconds: number;
}

export interface BaselineOptions {
  /** Bytes in the timed transfer; default 1 GiB. */
  bytes?: number;
  /** Bytes per write; default 1 MiB. */
  chunkBytes?: number;
  /** Address the receiver listens on and the sender connects to; default 127.0.0.1. */
  host?: string;
  /** Command prefix that starts the receiver elsewhere, e.g. `['ip', 'netns', 'exec', 'tessera-p2']`. */
  receiverPrefix?: string[];
  /** One-byte round trips timed before the transfer; default 200. */
  pings?: number;
  /** Description of the link for `Baseline.what`. */
  what?: string;
}

// The receiver: a TLS 1.3 server requiring a client certificate from the same CA. It prints
// its port, echoes the first `pings` bytes (the round-trip probes), then counts bytes and
// writes one byte back each time the count reaches a checkpoint (the end of the warm-up,
// then the end of the timed transfer).
const RECEIVER = `
const tls = require('node:tls');
const m = JSON.parse(process.env.TESSERA_BASELINE);
const marks = m.marks.slice();
let pings = m.pings;
const server = tls.createServer({ ca: m.ca, cert: m.cert, key: m.key, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: true }, (s) => {
  let n = 0;
  s.setNoDelay(true);
  s.on('data', (b) => {
    if (pings > 0) {
      const k = Math.min(pings, b.length);
      pings -= k;
      s.write(b.subarray(0, k));
      b = b.subarray(k);
    }
    n += b.length;
    while (marks.length > 0 && n >= marks[0]) { marks.shift(); s.write('k'); }
  });
  s.on('end', () => { s.end(); server.close(); });
  s.on('close', () => server.close());
  s.on('error', () => process.exit(2));
});
server.listen(0, m.host, () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
`;

/** Resolves when `n` more acknowledgement bytes have arrived on `socket`. */
function acks(socket: TLSSocket): (n: number) => Promise<void> {
  let got = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  socket.on('data', (b: Buffer) => {
    got += b.length;
    if (got >= want) wake?.();
  });
  return (n) => {
    want += n;
    return got >= want ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve));
  };
}

async function send(socket: TLSSocket, bytes: number, chunk: Buffer): Promise<void> {
  for (let sent = 0; sent < bytes; ) {
    const n = Math.min(chunk.length, bytes - sent);
    const ok = socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    sent += n;
    if (!ok) await once(socket, 'drain');
  }
}

/** Measure one direction of a TLS 1.3 connection to a child process (on 127.0.0.1 by default). */
export async function measureTlsBaseline(options: BaselineOptions = {}): Promise<Baseline> {
  const bytes = options.bytes ?? 1 << 30;
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  const host = options.host ?? '127.0.0.1';
  const pings = options.pings ?? 200;
  const prefix = options.receiverPrefix ?? [];
  const warm = Math.max(8 << 20, Math.floor(bytes / 10));
  const ca = await createCA('bench');
  const [rx, tx] = await Promise.all([
    issueCertificate(ca, { federation: 'bench', role: 'party', id: 'receiver' }),
    issueCertificate(ca, { federation: 'bench', role: 'party', id: 'sender' }),
  ]);
  const argv = [...prefix, process.execPath, '-e', RECEIVER];
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '', TESSERA_BASELINE: JSON.stringify({ ca: ca.certPem, cert: rx.certPem, key: rx.keyPem, marks: [warm, warm + bytes], pings, host }) },
  });
  const exited = once(child, 'exit');
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve((JSON.parse(buf.slice(0, nl)) as { port: number }).port);
      });
      child.once('exit', (code) => reject(new Error(`baseline receiver exited (code ${code}) before listening`)));
    });
    const socket = connect({ host, port, ca: ca.certPem, cert: tx.certPem, key: tx.keyPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', servername: 'localhost' });
    // An error (e.g. the receiver dying) fails the pending wait; `once` rejects on 'error'.
    const failed = once(socket, 'never-emitted');
    failed.catch(() => {});
    await once(socket, 'secureConnect');
    const cipher = socket.getCipher();
    const protocol = socket.getProtocol() ?? 'unknown';
    const waitAck = acks(socket);
    socket.setNoDelay(true);
    const rtts: number[] = [];
    const ping = Buffer.from([0x70]);
    for (let i = 0; i < pings; i++) {
      const t = process.hrtime.bigint();
      socket.write(ping);
      await Promise.race([waitAck(1), failed]);
      rtts.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    rtts.sort((a, b) => a - b);
    const buf = Buffer.alloc(chunkBytes, 0x5a);
    await send(socket, warm, buf);
    await Promise.race([waitAck(1), failed]);
    const t0 = process.hrtime.bigint();
    await send(socket, bytes, buf);
    await Promise.race([waitAck(1), failed]);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // Close cleanly (the receiver ends its side and exits) before the child is reaped.
    const closed = once(socket, 'close').catch(() => {});
    socket.end();
    await Promise.race([closed, exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    socket.destroy();
    return {
      what: options.what ?? 'TLS 1.3, one connection, one direction, 127.0.0.1, process to process',
      bytes,
      chunkBytes,
      seconds,
      bytesPerSecond: bytes / seconds,
      protocol,
      cipher: cipher.name,
      rttSeconds: rtts.length > 0 ? rtts[Math.floor(rtts.length / 2)] : NaN,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
}

export interface NetnsBaselineOptions {
  /** Namespace of the sender (a child process running this file) and of the receiver. */
  senderNetns: string;
  receiverNetns: string;
  /** The receiver's address in its namespace. */
  host: string;
  bytes: number;
  chunkBytes?: number;
  what: string;
}

/**
 * The baseline between two network namespaces: this file's command line runs as the sender
 * in `senderNetns` (`ip netns exec`) and starts the receiver in `receiverNetns`; its result
 * comes back as one JSON line.
 */
export async function measureTlsBaselineInNetns(o: NetnsBaselineOptions): Promise<Baseline> {
  const self = fileURLToPath(import.meta.url);
  const args = ['netns', 'exec', o.senderNetns, process.execPath, '--import', 'tsx', self, '--json', '--host', o.host, '--receiver-netns', o.receiverNetns,
    '--bytes', String(o.bytes), '--chunk-kib', String((o.chunkBytes ?? 1 << 20) / 1024), '--what', o.what];
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`baseline sender in ${o.senderNetns} failed (exit ${code}): ${(err.trim() || out.trim()).split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(last) as Baseline;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '1024' },
      bytes: { type: 'string' },
      'chunk-kib': { type: 'string', default: '1024' },
      host: { type: 'string', default: '127.0.0.1' },
      'receiver-netns': { type: 'string' },
      what: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const ns = values['receiver-netns'];
  const b = await measureTlsBaseline({
    bytes: values.bytes !== undefined ? Number(values.bytes) : Number(values.mib) * 2 ** 20,
    chunkBytes: Number(values['chunk-kib']) * 1024,
    host: values.host,
    receiverPrefix: ns !== undefined ? ['ip', 'netns', 'exec', ns] : undefined,
    what: values.what,
  });
  if (values.json) console.log(JSON.stringify(b));
  else console.log(`${b.what}: ${(b.bytes / 2 ** 20).toFixed(0)} MiB in ${b.seconds.toFixed(3)} s = ${(b.bytesPerSecond / 1e9).toFixed(3)} GB/s (${b.protocol}, ${b.cipher}), round trip ${(b.rttSeconds * 1e6).toFixed(0)} µs`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
