/**
 * The networked rows of `npm run bench`: real `mpc node` processes and a dealer on
 * 127.0.0.1 with real mTLS (`withEmbeddedFederation`), or each in a network namespace of an
 * emulated LAN (`--net lan`, bench/netns.ts), jobs submitted by `runJob` — the code path of
 * `mpc run`. Nothing is simulated.
 *
 * The circuit is built here: p1's vector x and p2's vector y of `width` elements,
 * `layers` sequential elementwise multiplications (z = x; repeat z = z·y), and only the sum
 * of z is revealed, so input and output cost next to nothing on the wire. Each node holds
 * one input per width (`x1000`, `x10000`, …) as a dataset, so one federation per party
 * count and kernel thread count serves every row of that group (nodes serve many jobs).
 * The thread count is given to the nodes when they start (`MPC_THREADS`, or the node
 * config's `"threads"` on the LAN); rows show the count the nodes report in their
 * `listening` log line.
 *
 * Time is the nodes' `onlineSeconds`: from the end of input sharing to the end of the last
 * layer, i.e. around the multiplications only (MP-SPDZ's benchmark shape). A run's time is
 * the slowest node's; a row keeps the best of its runs. Every run's output is checked
 * against the plaintext result.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { circuit } from '../src/circuit/index.ts';
import type { LoadedCircuit } from '../src/compiler/load.ts';
import { runJob, type ClusterTarget, type JobResult } from '../src/coordinator/client.ts';
import { withEmbeddedFederation } from '../src/coordinator/embedded.ts';
import type { SecurityLevel } from '../src/protocol/suites.ts';
import type { RawInputs } from '../src/protocol/inputs.ts';

export type BenchAudit = 'every-frame' | 'decisions' | 'off';
export const BENCH_AUDITS: readonly BenchAudit[] = ['every-frame', 'decisions', 'off'];

export interface NetConfig {
  parties: number;
  security: SecurityLevel;
  /** Kernel threads per node (node config `"threads"` / `MPC_THREADS`); one federation per value. */
  threads: number;
  /** Elements per layer. */
  width: number;
  /** Sequential multiplication layers. */
  layers: number;
  /** Timed runs (the best is kept). */
  runs: number;
  /**
   * The nodes' audit log (one federation per value): `every-frame` (the default of every node
   * `mpc init` writes: each frame's entry fsync'd before it is sent), `decisions` (frame
   * entries written first, synced within 100 ms) or `off`. The audit's cost is a row with it
   * off beside the same row with it on.
   */
  audit?: BenchAudit;
  /** Whether the job pads its frames to power-of-two sizes (`mpc run --pad`). */
  pad?: boolean;
  /** Where the job's triples come from (default `dealer`; `ot`: the nodes make them, issue 12). */
  preprocessing?: 'dealer' | 'ot';
  /** The value domain (default Z_2^64; 128: the same circuit with circuit({ ring: 128 })). */
  ring?: 64 | 128;
}

export interface NodeFigures {
  party: string;
  bytesSent: number;
  onlineSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** OT preprocessing: what the node's generator made and how long it took. */
  ot?: { triples: number; bits: number; setupSeconds: number; generateSeconds: number };
}

/** What identifies a benchmark row (ARCHITECTURE.md §6), networked or in-process. */
export interface BenchRowKey {
  protocol: string;
  preprocessing: string;
  parties: number;
  threads: number;
  /** Elements per multiplication layer. */
  batch: number;
  layers: number;
  multiplications: number;
  transport: string;
}

/** One configuration's result (ARCHITECTURE.md §6); the figures are null when it failed. */
export interface NetworkRow extends BenchRowKey {
  security: SecurityLevel;
  /** The nodes' audit log (see {@link NetConfig.audit}). */
  audit: BenchAudit;
  /** Whether the job padded its frames to power-of-two sizes. */
  pad: boolean;
  /** The network profile: `loopback`, `lan 1G`, `lan 10G` (bench/netns.ts). */
  net: string;
  /** Threads asked for; `threads` is what every node reported when it started listening. */
  threadsRequested: number;
  runs: number;
  /** Best online time (slowest node of the run), seconds. */
  seconds: number | null;
  gatesPerSecond: number | null;
  /** Bytes p1 sent per multiplication over the whole job (input sharing and output included). */
  bytesPerGate: number | null;
  /**
   * Bytes p1 sent per multiplication in the layers only: the job's bytes minus those of the
   * same inputs and output without the multiplications (measured by one extra job). Input
   * sharing is not negligible everywhere: in malicious mode an input owner broadcasts its
   * masked input, 16 bytes per element.
   */
  onlineBytesPerGate: number | null;
  /** p1's bytes in the job without multiplications (input sharing and output). */
  ioBytes: number | null;
  rounds: number | null;
  secondsPerRound: number | null;
  /** Mean over nodes of CPU seconds for the job (dealer link, input sharing, layers, output). */
  cpuSecondsPerParty: number | null;
  /** Highest node peak RSS: each node process's high-water mark since it started. */
  peakRssBytes: number | null;
  /** p1's layer bytes per online second, over the raw TLS baseline's bytes per second. */
  linkFraction: number | null;
  /** p1's layer bytes (see onlineBytesPerGate) per online second. */
  bytesPerSecond: number | null;
  /** Wall time of the best run as the analyst saw it (submit to done, all phases). */
  jobSeconds: number | null;
  /** Online seconds of every run. */
  runSeconds: number[];
  nodes: NodeFigures[];
  error?: string;
}

/** What a federation of the bench is started from. */
export interface FederationSpec {
  parties: string[];
  inputs: RawInputs;
  threads: number;
  /** The nodes' audit log. */
  audit: BenchAudit;
}

/** Starts a federation, runs `fn` on it and tears it down (loopback: `withEmbeddedFederation`). */
export type Launcher = <T>(spec: FederationSpec, fn: (target: ClusterTarget, federation: { dir: string }) => Promise<T>) => Promise<T>;

/** The network the federations run on. */
export interface NetTarget {
  /** `net` of every row. */
  label: string;
  /** `transport` of every row. */
  transport: string;
  launch: Launcher;
}

/** Federations on 127.0.0.1 through `withEmbeddedFederation`, the code path of `mpc run`. */
export const loopback: NetTarget = {
  label: 'loopback',
  transport: 'wss (mTLS 1.3), 127.0.0.1, one process per party',
  launch: (spec, fn) =>
    // MPC_THREADS always set, so that a value in the bench's own environment does not leak in.
    withEmbeddedFederation({ parties: spec.parties, inputs: spec.inputs, env: { MPC_THREADS: String(spec.threads) }, ...(spec.audit === 'off' ? { auditDir: false as const } : { auditSync: spec.audit }) }, fn),
};

export interface NetworkBenchOptions {
  configs: NetConfig[];
  net: NetTarget;
  /** For linkFraction; null when the baseline failed. */
  baselineBytesPerSecond: number | null;
  /** Width of the untimed warm-up job run first on each federation. */
  warmupWidth: number;
  /** Longest a single job may take before the federation is restarted. */
  jobTimeoutMs: (c: NetConfig) => number;
  progress: (line: string) => void;
}

export const protocolName = (s: SecurityLevel, ring: 64 | 128 = 64): string => `${s === 'malicious' ? 'spdz2k' : 'beaver'}-z2k${ring}`;
export const partyIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${i + 1}`);

/** p1's x and p2's y: small, varied values (period 10) so the expected output is cheap to compute. */
const xAt = (i: number): number => 1 + (i % 10);
const yAt = (i: number): number => 2 + (i % 5);

/** Σ x_i · y_i^layers mod 2^64 (Σ x_i + y_i for 0 layers), as a signed 64-bit value. */
export function expectedSum(width: number, layers: number, ring: 64 | 128 = 64): bigint {
  let total = 0n;
  if (layers === 0) {
    for (let i = 0; i < Math.min(10, width); i++) total += BigInt(Math.floor((width - 1 - i) / 10) + 1) * BigInt(xAt(i) + yAt(i));
    return BigInt.asIntN(ring, total);
  }
  for (let r = 0; r < Math.min(10, width); r++) {
    const count = BigInt(Math.floor((width - 1 - r) / 10) + 1);
    let p = 1n;
    let base = BigInt(yAt(r));
    // y^layers mod 2^64 by squaring.
    for (let e = layers; e > 0; e >>= 1) {
      if (e & 1) p = BigInt.asUintN(ring, p * base);
      base = BigInt.asUintN(ring, base * base);
    }
    total = BigInt.asUintN(ring, total + count * BigInt(xAt(r)) * p);
  }
  return BigInt.asIntN(ring, total);
}

/**
 * The benchmark circuit for one configuration. With `layers` 0, the same inputs and output
 * without any multiplication (sum = Σx + Σy): what input sharing and output cost alone.
 */
export function benchCircuit(parties: number, width: number, layers: number, ring: 64 | 128 = 64): LoadedCircuit {
  const definition = circuit({ name: `bench-${width}x${layers}`, parties: partyIds(parties), ring }, (c) => {
    let z = c.vector('p1', `x${width}`);
    const y = c.vector('p2', `y${width}`);
    if (layers === 0) z = z.add(y);
    for (let k = 0; k < layers; k++) z = z.mul(y);
    c.reveal('sum', z.sum());
  });
  return { definition, file: `bench/network.ts (${width} × ${layers})` };
}

export const configLabel = (c: NetConfig): string =>
  `${c.parties} parties, ${c.security}, ${c.threads} thread${c.threads > 1 ? 's' : ''}, ${c.layers === 1 ? `1 layer × ${fmtCount(c.width)}` : `${fmtCount(c.layers)} layers × ${fmtCount(c.width)}`}${governanceLabel(c) === 'audit' ? '' : `, ${governanceLabel(c)}`}${c.preprocessing === 'ot' ? ', OT preprocessing' : ''}${c.ring === 128 ? ', Z_2^128' : ''}`;

/** The governance features of a row: `audit` (the default), `no audit`, `audit (decisions)`, `audit + pad`, … */
export const governanceLabel = (c: Pick<NetConfig, 'audit' | 'pad'>): string =>
  `${c.audit === 'off' ? 'no audit' : c.audit === 'decisions' ? 'audit (decisions)' : 'audit'}${c.pad ? ' + pad' : ''}`;

export function fmtCount(n: number): string {
  const e = Math.log10(n);
  return n >= 10_000 && Number.isInteger(e) ? `10^${e}` : n.toLocaleString('en');
}

class FederationBroken extends Error {}

/**
 * Wait until the dealer and every node have logged `listening` (nodes load and check their
 * datasets first, which takes a while for 10^7-element JSON files).
 */
async function waitListening(dir: string, names: string[], progress: (line: string) => void, timeoutMs: number): Promise<void> {
  const start = performance.now();
  let lastNote = start;
  for (;;) {
    const waiting = names.filter((n) => {
      try {
        return !readFileSync(join(dir, `${n}.log`), 'utf8').includes('"event":"listening"');
      } catch {
        return true;
      }
    });
    if (waiting.length === 0) return;
    const now = performance.now();
    if (now - start > timeoutMs) throw new FederationBroken(`${waiting.join(', ')} not listening after ${Math.round(timeoutMs / 1000)} s`);
    if (now - lastNote > 15_000) {
      lastNote = now;
      progress(`federation: waiting for ${waiting.join(', ')} to load datasets and listen (${((now - start) / 1000).toFixed(0)} s)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Kernel threads each node reported in its `listening` log line (the pool may have fallen
 * back to 1). The node's own line comes just after its server's `listening` line (which
 * `waitListening` may have seen first), so this waits for it a little; NaN if it never comes.
 */
async function reportedThreads(dir: string, parties: string[], timeoutMs = 10_000): Promise<number[]> {
  const read = (p: string): number => {
    let text = '';
    try {
      text = readFileSync(join(dir, `${p}.log`), 'utf8');
    } catch {
      return Number.NaN;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('"event":"listening"') || !line.includes('"threads"')) continue;
      try {
        const t = (JSON.parse(line) as { threads?: unknown }).threads;
        if (typeof t === 'number') return t;
      } catch {
        // A line still being written.
      }
    }
    return Number.NaN;
  };
  const start = performance.now();
  for (;;) {
    const got = parties.map(read);
    if (got.every((t) => !Number.isNaN(t)) || performance.now() - start > timeoutMs) return got;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FederationBroken(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** One job, its output checked. */
async function job(target: ClusterTarget, c: NetConfig, timeoutMs: number, connectAttempts = 6): Promise<JobResult> {
  const r = await withTimeout(
    runJob(target, benchCircuit(c.parties, c.width, c.layers, c.ring), {
      security: c.security,
      preprocessing: c.preprocessing ?? 'dealer',
      pad: c.pad ?? false,
      connectRetry: { attempts: connectAttempts, baseMs: 100, maxMs: 1000 },
    }),
    timeoutMs,
    `a job of ${configLabel(c)}`,
  );
  const got = r.outputs.sum;
  const want = expectedSum(c.width, c.layers, c.ring);
  if (typeof got !== 'number' && typeof got !== 'string') throw new Error(`output sum missing or not a scalar: ${JSON.stringify(got)}`);
  if (BigInt(got) !== want) throw new Error(`wrong output: sum = ${got}, expected ${want}`);
  return r;
}

function emptyRow(c: NetConfig, net: NetTarget): NetworkRow {
  return {
    protocol: protocolName(c.security, c.ring),
    security: c.security,
    audit: c.audit ?? 'every-frame',
    pad: c.pad ?? false,
    net: net.label,
    preprocessing: c.preprocessing ?? 'dealer',
    parties: c.parties,
    threads: c.threads,
    threadsRequested: c.threads,
    batch: c.width,
    layers: c.layers,
    multiplications: c.width * c.layers,
    transport: net.transport,
    runs: 0,
    seconds: null,
    gatesPerSecond: null,
    bytesPerGate: null,
    onlineBytesPerGate: null,
    ioBytes: null,
    rounds: null,
    secondsPerRound: null,
    cpuSecondsPerParty: null,
    peakRssBytes: null,
    linkFraction: null,
    bytesPerSecond: null,
    jobSeconds: null,
    runSeconds: [],
    nodes: [],
  };
}

async function measure(target: ClusterTarget, c: NetConfig, opts: NetworkBenchOptions, threads: number): Promise<NetworkRow> {
  const row = emptyRow(c, opts.net);
  row.threads = threads;
  let best: { r: JobResult; online: number } | undefined;
  for (let i = 0; i < c.runs; i++) {
    const r = await job(target, c, opts.jobTimeoutMs(c));
    const online = Math.max(...r.stats.nodes.map((n) => n.onlineSeconds));
    row.runSeconds.push(online);
    if (!best || online < best.online) best = { r, online };
  }
  const { r, online } = best!;
  const s = r.stats;
  const p1Of = (x: JobResult) => x.stats.nodes.find((n) => n.party === 'p1') ?? x.stats.nodes[0];
  const p1 = p1Of(r);
  // The same inputs and output without the layers: what p1 sends outside the online phase.
  const io = await job(target, { ...c, layers: 0, runs: 1 }, opts.jobTimeoutMs(c));
  row.ioBytes = p1Of(io).bytesSent;
  const layerBytes = p1.bytesSent - row.ioBytes;
  row.runs = c.runs;
  row.multiplications = s.multiplications;
  row.seconds = online;
  row.gatesPerSecond = s.multiplications / online;
  row.bytesPerGate = p1.bytesSent / s.multiplications;
  row.onlineBytesPerGate = layerBytes / s.multiplications;
  row.rounds = s.rounds;
  row.secondsPerRound = online / s.rounds;
  row.cpuSecondsPerParty = s.nodes.reduce((t, n) => t + n.cpuSeconds, 0) / s.nodes.length;
  row.peakRssBytes = Math.max(...s.nodes.map((n) => n.peakRssBytes));
  row.bytesPerSecond = layerBytes / online;
  row.linkFraction = opts.baselineBytesPerSecond ? row.bytesPerSecond / opts.baselineBytesPerSecond : null;
  row.jobSeconds = s.seconds;
  row.nodes = s.nodes.map((n) => ({ ...n }));
  return row;
}

/** Inputs for one federation: p1 holds x<w>, p2 holds y<w>, for every width used. */
function federationInputs(widths: number[]): Record<string, Record<string, number[]>> {
  const p1: Record<string, number[]> = {};
  const p2: Record<string, number[]> = {};
  for (const w of widths) {
    p1[`x${w}`] = Array.from({ length: w }, (_, i) => xAt(i));
    p2[`y${w}`] = Array.from({ length: w }, (_, i) => yAt(i));
  }
  return { p1, p2 };
}

/**
 * Run every configuration of one party count and thread count on one federation (restarted
 * if it breaks: a node that dies takes its federation with it, and the rows after it get a
 * fresh one).
 */
async function runGroup(parties: number, threads: number, audit: BenchAudit, configs: NetConfig[], opts: NetworkBenchOptions): Promise<Map<NetConfig, NetworkRow>> {
  const results = new Map<NetConfig, NetworkRow>();
  const queue = [...configs];
  const widths = [...new Set([opts.warmupWidth, ...configs.map((c) => c.width)])].sort((a, b) => a - b);
  const inputs = federationInputs(widths);
  for (let attempt = 1; queue.length > 0 && attempt <= 3; attempt++) {
    let current: NetConfig | undefined;
    const gen = { alive: true };
    try {
      const t0 = performance.now();
      opts.progress(`federation (${opts.net.label}): starting ${parties} nodes with ${threads} kernel thread${threads > 1 ? 's' : ''} each${audit === 'every-frame' ? '' : audit === 'off' ? ', no audit log' : `, audit sync ${audit}`} and a dealer (datasets of widths ${widths.map(fmtCount).join(', ')})${attempt > 1 ? `, attempt ${attempt}` : ''}`);
      await opts.net.launch({ parties: partyIds(parties), inputs, threads, audit }, async (target, fed) => {
        await waitListening(fed.dir, ['dealer', ...partyIds(parties)], opts.progress, 15 * 60_000);
        const up = performance.now();
        const reported = await reportedThreads(fed.dir, partyIds(parties));
        // The row shows what the nodes run with: the fewest threads any node reported (the
        // request, if no node said).
        const known = reported.filter((t) => !Number.isNaN(t));
        const real = known.length > 0 ? Math.min(...known) : threads;
        if (reported.some((t) => t !== threads)) opts.progress(`federation: asked for ${threads} kernel threads per node, the nodes report ${reported.map((t) => (Number.isNaN(t) ? '?' : t)).join(', ')}`);
        // Untimed warm-up jobs, one per security level.
        const warm: NetConfig = { parties, security: queue[0].security, threads, width: opts.warmupWidth, layers: 1, runs: 1 };
        for (const security of new Set(queue.map((c) => c.security))) await job(target, { ...warm, security }, 120_000, 20);
        opts.progress(`federation: ${parties} nodes listening after ${((up - t0) / 1000).toFixed(1)} s (mostly dataset loading), warmed up in ${((performance.now() - up) / 1000).toFixed(1)} s`);
        while (gen.alive && queue.length > 0) {
          current = queue[0];
          const c = current;
          const started = performance.now();
          opts.progress(`start ${configLabel(c)} (${c.runs} run${c.runs > 1 ? 's' : ''})`);
          let row: NetworkRow;
          let broken: unknown;
          try {
            row = await measure(target, c, opts, real);
          } catch (e) {
            row = { ...emptyRow(c, opts.net), threads: real, error: message(e) };
            broken = e instanceof FederationBroken ? e : undefined;
          }
          if (!gen.alive) return;
          results.set(c, row);
          queue.shift();
          current = undefined;
          const took = ((performance.now() - started) / 1000).toFixed(1);
          opts.progress(row.error ? `FAILED ${configLabel(c)} after ${took} s: ${row.error}` : `done  ${configLabel(c)}: ${(row.gatesPerSecond! / 1e6).toFixed(3)} M mult/s, ${(row.secondsPerRound! * 1e6).toFixed(0)} µs/round (${took} s)`);
          if (broken) throw broken;
          if (row.error) {
            // Is the federation still serving jobs after the failure?
            try {
              await job(target, warm, 60_000);
            } catch (e) {
              throw new FederationBroken(`the federation does not serve jobs after the failure: ${message(e)}`);
            }
          }
        }
      });
    } catch (e) {
      gen.alive = false;
      opts.progress(`federation of ${parties} parties (${threads} thread${threads > 1 ? 's' : ''}) ended: ${message(e)}`);
      if (current !== undefined && !results.has(current)) {
        results.set(current, { ...emptyRow(current, opts.net), error: message(e) });
        if (queue[0] === current) queue.shift();
      }
    }
  }
  for (const c of queue) results.set(c, { ...emptyRow(c, opts.net), error: 'not run: the federation could not be started or kept running' });
  return results;
}

/** Every configuration, one federation per party count and thread count; rows in the order of `configs`. */
export async function runNetworkBench(opts: NetworkBenchOptions): Promise<NetworkRow[]> {
  const auditOf = (c: NetConfig): number => BENCH_AUDITS.indexOf(c.audit ?? 'every-frame');
  const groups = [...new Set(opts.configs.map((c) => `${c.parties}/${c.threads}/${auditOf(c)}`))].map((k) => k.split('/').map(Number));
  groups.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const all = new Map<NetConfig, NetworkRow>();
  for (const [n, t, a] of groups) {
    // Narrowest first: each node's peak RSS is a high-water mark since its start, so a row's
    // figure is its own only if no wider job ran before it on the same nodes.
    const rank = (c: NetConfig) => (c.security === 'semi-honest' ? 0 : 1);
    const audit = BENCH_AUDITS[a];
    const mine = opts.configs
      .filter((c) => c.parties === n && c.threads === t && auditOf(c) === a)
      .sort((a, b) => a.width - b.width || a.layers - b.layers || rank(a) - rank(b));
    for (const [c, r] of await runGroup(n, t, audit, mine, opts)) all.set(c, r);
  }
  return opts.configs.map((c) => all.get(c)!);
}
