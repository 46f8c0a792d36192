/**
 * Micro-benchmark of the OT layer (src/preprocessing/ot), all parties in this one thread over
 * the in-memory transport, so every figure is the *sum* of all parties' work on one core:
 *
 *   node --import tsx bench/ot.ts [--quick] [--json <file>]
 *
 * Rows: base OT (128 OTs, both sides), bit-matrix transposition (WebAssembly and JS paths),
 * OT extension (random OTs over Z_2^64, semi-honest and with the KOS check), and semi-honest
 * Beaver triples for 2 and 3 parties with their bytes per triple — all bytes sent by all
 * parties, divided by the number of triples (per party: divide by n). Timed regions exclude
 * session setup, which is reported on its own. Each rate is the best of a few runs.
 *
 * One more row runs the 2-party triples with each party in its own worker thread, connected
 * by a MessagePort transport defined here: the deployment shape (one node process per party),
 * where the parties' work overlaps instead of adding up — on a machine with a core per party.
 * The last two rows are malicious triples (SPDZ2k, authenticated and sacrificed) for 2 parties
 * at k = 64 and k = 128, in one thread.
 * @module
 */

import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, MessageChannel, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { memoryNetwork } from '../src/protocol/memory.ts';
import { emptyStats, type MessageKind, type Transport, type TransportStats } from '../src/protocol/transport.ts';
import { baseOtReceive, baseOtSend } from '../src/preprocessing/ot/base-ot.ts';
import { FixedKeyAes } from '../src/preprocessing/ot/aes.ts';
import { OtExtReceiver, OtExtSender } from '../src/preprocessing/ot/extension.ts';
import { transpose128Js, Transposer } from '../src/preprocessing/ot/transpose.ts';
import { OtTripleGenerator } from '../src/preprocessing/ot/triples.ts';
import { createOtSpdz2kMaterial } from '../src/preprocessing/ot/spdz2k.ts';
import { Prg } from '../src/ring/prg.ts';
import { tsxWorkerSource } from '../src/util/worker-loader.ts';

export interface OtBenchRow {
  what: string;
  /** Items per run (OTs, triples, bytes). */
  items: number;
  /** Best wall-clock milliseconds of one run. */
  ms: number;
  /** Items per second at that time. */
  perSecond: number;
  unit: string;
  /** Bytes sent by all parties per item, where it applies. */
  bytesPerItem?: number;
}

export interface OtBenchOptions {
  quick?: boolean;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const sessionId = new Uint8Array(32).fill(0x42);

async function best(runs: number, f: () => Promise<unknown> | unknown): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = now();
    await f();
    b = Math.min(b, now() - t);
  }
  return b;
}

async function baseOtRow(runs: number): Promise<OtBenchRow> {
  const choices = new Prg(new Uint8Array(32), 'bench/base').bytes(16);
  let round = 0;
  const ms = await best(runs, async () => {
    const [t0, t1] = memoryNetwork(2);
    const rounds = { sender: round++, receiver: round++ };
    const sid = new Uint8Array(32).fill(round);
    await Promise.all([baseOtSend(t0, 1, 128, { sid, rounds }), baseOtReceive(t1, 0, choices, 128, { sid, rounds })]);
  });
  return { what: 'base OT: 128 OTs (MRR21, ristretto255), both sides', items: 128, ms, perSecond: (128 / ms) * 1e3, unit: 'OT/s' };
}

async function transposeRows(quick: boolean, runs: number): Promise<OtBenchRow[]> {
  const n = quick ? 1 << 16 : 1 << 20;
  const cols = new Prg(new Uint8Array(32), 'bench/transpose').bytes(16 * n);
  const out = new Uint8Array(16 * n);
  const t = new Transposer();
  const rows: OtBenchRow[] = [];
  if (t.wasm) {
    t.transpose(cols, n, out);
    const ms = await best(runs, () => t.transpose(cols, n, out));
    rows.push({ what: `transpose 128 × ${n} bits (WebAssembly SIMD)`, items: 16 * n, ms, perSecond: ((16 * n) / ms) * 1e3, unit: 'B/s' });
  }
  transpose128Js(cols, n, out);
  const ms = await best(runs, () => transpose128Js(cols, n, out));
  rows.push({ what: `transpose 128 × ${n} bits (JavaScript)`, items: 16 * n, ms, perSecond: ((16 * n) / ms) * 1e3, unit: 'B/s' });
  return rows;
}

async function extensionRow(malicious: boolean, quick: boolean, runs: number): Promise<OtBenchRow> {
  const [t0, t1] = memoryNetwork(2);
  const [S, R] = await Promise.all([
    OtExtSender.setup({ transport: t0, peer: 1, sessionId, malicious }),
    OtExtReceiver.setup({ transport: t1, peer: 0, sessionId, malicious }),
  ]);
  const aes = new FixedKeyAes();
  const m = quick ? 1 << 17 : 1 << 20;
  const choices = new Prg(new Uint8Array(32), 'bench/choices').bytes(m / 8);
  const once = () => Promise.all([S.extendRot64(m, aes), R.extendRot64(choices, m, aes)]);
  await once();
  const b0 = t0.stats().bytesSent + t1.stats().bytesSent;
  const ms = await best(runs, once);
  const bytes = (t0.stats().bytesSent + t1.stats().bytesSent - b0) / runs / m;
  const what = malicious ? 'OT extension, KOS check (s = 64), TMMO hash' : 'OT extension, semi-honest, MMO hash';
  return { what: `${what}: ${m} random OTs`, items: m, ms, perSecond: (m / ms) * 1e3, unit: 'OT/s', bytesPerItem: bytes };
}

async function tripleRows(n: number, quick: boolean, runs: number): Promise<OtBenchRow[]> {
  const transports = memoryNetwork(n);
  const t = now();
  const gens = await Promise.all(transports.map((transport) => OtTripleGenerator.setup({ transport, sessionId })));
  const setupMs = now() - t;
  const count = (quick ? 1 << 14 : 1 << 17) / (n - 1);
  const sent = () => transports.reduce((acc, x) => acc + x.stats().bytesSent, 0);
  await Promise.all(gens.map((g) => g.generate(count))); // warm-up
  const b0 = sent();
  const ms = await best(runs, () => Promise.all(gens.map((g) => g.generate(count))));
  const bytes = (sent() - b0) / runs / count;
  return [
    { what: `triples, ${n} parties: setup of ${n * (n - 1)} OT sessions (base OTs)`, items: n * (n - 1), ms: setupMs, perSecond: ((n * (n - 1)) / setupMs) * 1e3, unit: 'sessions/s' },
    { what: `triples, ${n} parties, semi-honest: ${count} Beaver triples in Z_2^64`, items: count, ms, perSecond: (count / ms) * 1e3, unit: 'triples/s', bytesPerItem: bytes },
  ];
}

/**
 * Malicious (SPDZ2k) triples by OT for 2 parties at k = 64 (Z_2^128) or k = 128 (Z_2^192):
 * authenticated and sacrificed, as `createOtSpdz2kMaterial` serves a `triples` item.
 */
export async function spdz2kTripleRow(ring: 64 | 128, quick: boolean, runs: number): Promise<OtBenchRow> {
  const n = 2;
  const transports = memoryNetwork(n);
  const parties = ['p1', 'p2'];
  const srcs = transports.map((transport) => createOtSpdz2kMaterial({ transport, parties, sessionId, ring }));
  const count = quick ? 1 << 10 : 1 << 12;
  let ordinal = 0;
  const batch = () => {
    const item = { kind: 'triples' as const, ordinal: ordinal++, length: count, holder: -1, what: 'bench' };
    return Promise.all(srcs.map((s) => s.produce(item, undefined)));
  };
  const sent = () => transports.reduce((acc, x) => acc + x.stats().bytesSent, 0);
  await batch(); // setup and warm-up
  const b0 = sent();
  const ms = await best(runs, batch);
  const bytes = (sent() - b0) / runs / count;
  const shares = ring === 64 ? 'Z_2^128' : 'Z_2^192';
  return { what: `triples, 2 parties, malicious (SPDZ2k k = ${ring}, shares in ${shares}): ${count}`, items: count, ms, perSecond: (count / ms) * 1e3, unit: 'triples/s', bytesPerItem: bytes };
}

/**
 * A Transport over one MessagePort per peer (bench only): messages are structured-cloned,
 * kept in a mailbox by (from, kind, round) and each consumed once, like memory.ts.
 */
class PortTransport implements Transport {
  readonly #ports: Map<number, MessagePort>;
  readonly #ready = new Map<string, Uint8Array>();
  readonly #waiting = new Map<string, (p: Uint8Array) => void>();
  readonly #stats: TransportStats = emptyStats();

  constructor(
    readonly self: number,
    readonly n: number,
    ports: Map<number, MessagePort>,
  ) {
    this.#ports = ports;
    for (const [from, port] of ports) {
      port.on('message', (m: { kind: number; round: number; payload: Uint8Array }) => {
        const key = `${from}:${m.kind}:${m.round}`;
        const w = this.#waiting.get(key);
        if (w) {
          this.#waiting.delete(key);
          w(m.payload);
        } else {
          this.#ready.set(key, m.payload);
        }
      });
    }
  }

  async send(to: number, kind: MessageKind, round: number, payload: Uint8Array): Promise<void> {
    this.#stats.bytesSent += payload.byteLength;
    this.#stats.messagesSent += 1;
    this.#ports.get(to)!.postMessage({ kind, round, payload });
  }

  recv(from: number, kind: MessageKind, round: number): Promise<Uint8Array> {
    const key = `${from}:${kind}:${round}`;
    const p = this.#ready.get(key);
    if (p) {
      this.#ready.delete(key);
      return Promise.resolve(p);
    }
    return new Promise((resolve) => this.#waiting.set(key, resolve));
  }

  abort(): void {}

  stats(): TransportStats {
    return { ...this.#stats };
  }

  close(): void {
    for (const port of this.#ports.values()) port.close();
  }
}

interface PartyData {
  otBench: true;
  self: number;
  n: number;
  peers: number[];
  ports: MessagePort[];
  count: number;
  runs: number;
}

/** Worker side: one party of the threaded triple benchmark. */
async function partyMain(d: PartyData): Promise<void> {
  const transport = new PortTransport(d.self, d.n, new Map(d.peers.map((p, i) => [p, d.ports[i]])));
  const gen = await OtTripleGenerator.setup({ transport, sessionId });
  await gen.generate(d.count); // warm-up
  parentPort!.postMessage({ t: 'ready' });
  for (let r = 0; r < d.runs; r++) {
    await new Promise<void>((resolve) => parentPort!.once('message', () => resolve()));
    await gen.generate(d.count);
    parentPort!.postMessage({ t: 'done', bytes: transport.stats().bytesSent });
  }
  transport.close();
}

export async function threadedTripleRow(quick: boolean, runs: number): Promise<OtBenchRow> {
  const n = 2;
  const count = quick ? 1 << 14 : 1 << 17;
  const { port1, port2 } = new MessageChannel();
  const workers = [0, 1].map(
    (self) =>
      // A worker's entry is checked for its extension before any loader runs, hence the bootstrap
      // that registers tsx and then imports this file (src/util/worker-loader.ts).
      new Worker(tsxWorkerSource(new URL(import.meta.url)), {
        eval: true,
        workerData: { otBench: true, self, n, peers: [1 - self], ports: [self === 0 ? port1 : port2], count, runs } satisfies PartyData,
        transferList: [self === 0 ? port1 : port2],
      }),
  );
  const next = (w: Worker) => new Promise<{ t: string; bytes?: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(next)); // set up and warmed up
  let bestMs = Infinity;
  let bytes = 0;
  let last = [0, 0];
  for (let r = 0; r < runs; r++) {
    const t = now();
    workers.forEach((w) => w.postMessage('go'));
    const done = await Promise.all(workers.map(next));
    bestMs = Math.min(bestMs, now() - t);
    const total = done.map((d) => d.bytes ?? 0);
    bytes = total[0] + total[1] - last[0] - last[1];
    last = total;
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return {
    what: `triples, 2 parties in 2 worker threads (MessagePort), semi-honest: ${count}`,
    items: count,
    ms: bestMs,
    perSecond: (count / bestMs) * 1e3,
    unit: 'triples/s',
    bytesPerItem: bytes / count,
  };
}

/** Runs every row. */
export async function runOtBench(opts: OtBenchOptions = {}): Promise<OtBenchRow[]> {
  const quick = opts.quick ?? false;
  const runs = quick ? 2 : 3;
  const rows: OtBenchRow[] = [];
  rows.push(await baseOtRow(runs));
  rows.push(...(await transposeRows(quick, runs)));
  rows.push(await extensionRow(false, quick, runs));
  rows.push(await extensionRow(true, quick, runs));
  rows.push(...(await tripleRows(2, quick, runs)));
  rows.push(...(await tripleRows(3, quick, runs)));
  rows.push(await threadedTripleRow(quick, runs));
  rows.push(await spdz2kTripleRow(64, quick, 2));
  rows.push(await spdz2kTripleRow(128, quick, 2));
  return rows;
}

function rate(r: OtBenchRow): string {
  const v = r.perSecond;
  if (r.unit === 'B/s') return `${(v / 1e6).toFixed(0)} MB/s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M ${r.unit}`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k ${r.unit}`;
  return `${v.toFixed(1)} ${r.unit}`;
}

/** The rows as an aligned text table. */
export function formatOtRows(rows: OtBenchRow[]): string {
  const header = ['what', 'ms', 'rate', 'bytes/item'];
  const body = rows.map((r) => [r.what, r.ms.toFixed(1), rate(r), r.bytesPerItem === undefined ? '' : r.bytesPerItem.toFixed(1)]);
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((row) => row[j].length)));
  const line = (cells: string[]) => cells.map((s, j) => (j === 0 ? s.padEnd(widths[j]) : s.padStart(widths[j]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } } });
  const rows = await runOtBench({ quick: values.quick });
  console.log(`Tessera OT layer — Node ${process.version}, every party in one thread, in-memory transport\n`);
  console.log(formatOtRows(rows));
  const two = rows.find((r) => r.unit === 'triples/s' && r.what.includes('2 parties'));
  if (two) {
    console.log(
      `\n2-party semi-honest triples: ${(two.perSecond / 1e3).toFixed(1)} k/s (floor 100 k/s, goal 260 k/s), ` +
        `${two.bytesPerItem?.toFixed(0)} bytes per triple over both parties (${((two.bytesPerItem ?? 0) / 2).toFixed(0)} per party).`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
}

if (!isMainThread && (workerData as Partial<PartyData> | null)?.otBench) {
  partyMain(workerData as PartyData).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
