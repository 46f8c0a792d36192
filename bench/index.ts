/**
 * `npm run bench`: Tessera's throughput, measured the way issue 5 asks.
 *
 * - **network** (the headline rows, bench/network.ts): real `mpc node` processes and a
 *   dealer on 127.0.0.1 with real mTLS, jobs submitted through the code path of `mpc run`;
 *   parties 2 and 3, security semi-honest and (when this build has it) malicious, dealer
 *   preprocessing, one layer of 10^4…10^7 multiplications and a deep circuit of
 *   1 000 layers × 1 000. Next to them the raw link baseline (bench/baseline.ts: one TLS 1.3
 *   connection between two processes) and MP-SPDZ's figures on this machine. Writes an SVG
 *   chart (bench/chart.ts) next to the JSON file.
 * - **kernels**: the ring kernels on one core, and the semi-honest online phase with all
 *   parties in one process over the in-memory transport (no network, no TLS: an upper bound
 *   for the nodes, and a regression guard for the executor).
 *
 * Kernel threads: the 2-party rows at 10^5 and 10^6 are also run with 2 kernel threads per
 * node (a worker pool, src/node/pool.ts), on a federation of their own.
 *
 * Flags: `--quick` (small sizes, under a minute), `--only network|kernels|analytics|governance|ot|ring`, `--json <file>`
 * (default bench/results/latest[-<net>].json; the chart goes to the same name with `.svg`),
 * `--net loopback|lan|lan10g` (comma-separated for several; default loopback): `lan` and
 * `lan10g` run the 2-party rows on an emulated LAN (bench/netns.ts: a network namespace per
 * node, 1 or 10 Gbit/s, 0.2 ms round trip), with the raw TLS baseline across the same link,
 * and skip with a one-line reason where that cannot be set up (not root, no `ip netns`).
 * Progress goes to stderr. A configuration that fails shows its error in its row and the
 * bench exits non-zero at the end.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join, basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { circuit } from '../src/circuit/index.ts';
import { compileLoaded } from '../src/compiler/load.ts';
import { runLocal } from '../src/coordinator/local.ts';
import { suiteFor, type SecurityLevel } from '../src/protocol/suites.ts';
import { formatRows, runKernelBench, type Row as KernelRow } from './kernels.ts';
import { measureTlsBaseline, measureTlsBaselineInNetns, type Baseline } from './baseline.ts';
import { formatAnalyticsRows, runAnalyticsBench, type AnalyticsRow } from './analytics.ts';
import { fmtCount, governanceLabel, loopback, runNetworkBench, type BenchRowKey, type NetConfig, type NetTarget, type NetworkRow } from './network.ts';
import { renderChart, type ChartSeries } from './chart.ts';
import { isNetName, lanPreflight, NET_PROFILES, setUpLan, withLanFederation, type NetName, type Preflight } from './netns.ts';

interface InProcessRow extends BenchRowKey {
  security: string;
  seconds: number;
  gatesPerSecond: number;
  bytesPerGate: number;
}

/** MP-SPDZ on this machine (issue 5): 2 parties on 127.0.0.1, 10^6-wide layer, online phase. */
const MP_SPDZ = {
  source: 'issue 5: MP-SPDZ on this machine, 2 parties on 127.0.0.1, one 10^6-wide multiplication, online phase (fake preprocessing), its own timers',
  'semi-honest': { protocol: 'semi2k', gatesPerSecond: [0.96e6, 1.05e6], bytesPerGate: 16 },
  malicious: { protocol: 'spdz2k (s = 64)', gatesPerSecond: [0.22e6, 0.27e6], bytesPerGate: 32 },
  secondsPerRound: { protocol: 'semi2k, 10 000 sequential multiplications', seconds: 52e-6 },
} as const;

class UsageError extends Error {}

const t0 = performance.now();
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const progress = (line: string): void => void process.stderr.write(`[bench ${elapsed()}] ${line}\n`);

/** One layer of `width` multiplications (or `layers` sequential ones), all parties in-process. */
async function inProcessRow(parties: number, width: number, layers: number): Promise<InProcessRow> {
  const ids = Array.from({ length: parties }, (_, i) => `p${i + 1}`);
  const definition = circuit({ name: 'bench', parties: ids }, (c) => {
    let z = c.vector('p1', 'x');
    const y = c.vector('p2', 'y');
    for (let k = 0; k < layers; k++) z = z.mul(y);
    c.reveal('z0', z.sum());
  });
  const { plan } = compileLoaded({ definition, file: 'bench' }, new Map([['p1.x', width], ['p2.y', width]]));
  const inputs = { p1: { x: new Array(width).fill(3) }, p2: { y: new Array(width).fill(5) } };
  // Includes input sharing and dealer expansion: the whole job as a node runs it.
  const start = performance.now();
  const r = await runLocal(plan, inputs);
  const seconds = (performance.now() - start) / 1000;
  const m = plan.stats.multiplications;
  return {
    protocol: 'beaver-z2k64',
    security: 'semi-honest',
    preprocessing: 'dealer (in-process)',
    parties,
    threads: 1,
    batch: width,
    layers,
    multiplications: m,
    seconds,
    gatesPerSecond: m / seconds,
    bytesPerGate: r.bytesSent[0] / m,
    transport: 'memory (in-process)',
  };
}

/** An aligned text table; columns after the first `left` are right-aligned. */
function table(head: string[], body: string[][], left = 0): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line)].join('\n');
}

function inProcessTable(rows: InProcessRow[]): string {
  const head = ['parties', 'batch', 'layers', 'mults', 'seconds', 'gates/s', 'bytes/gate/party'];
  return table(head, rows.map((r) => [r.parties, r.batch, r.layers, r.multiplications, r.seconds.toFixed(3), Math.round(r.gatesPerSecond).toLocaleString('en'), r.bytesPerGate.toFixed(1)].map(String)));
}

const mps = (g: number): string => `${(g / 1e6).toFixed(3)} M`;
/** A duration in µs below 10 ms, in ms below 10 s, else in s. */
const us = (s: number): string => (s < 0.01 ? `${(s * 1e6).toFixed(0)} µs` : s < 10 ? `${(s * 1e3).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);

function networkTable(rows: NetworkRow[]): string {
  const head = ['net', 'parties', 'security', 'thr', 'governance', 'layers × width', 'mults', 'online s', 'mult/s', 'B/mult online', 'B/mult job', 'rounds', 'time/round', 'CPU s/party', 'peak RSS MiB', 'link %'];
  const body = rows.map((r) => {
    const shape = `${fmtCount(r.layers)} × ${fmtCount(r.batch)}`;
    const cfg = [r.net, String(r.parties), r.security, String(r.threads), governanceLabel(r), shape, fmtCount(r.multiplications)];
    if (r.error !== undefined) return [...cfg, `ERROR: ${r.error}`];
    return [
      ...cfg,
      r.seconds!.toFixed(4),
      mps(r.gatesPerSecond!),
      r.onlineBytesPerGate!.toFixed(2),
      r.bytesPerGate!.toFixed(2),
      String(r.rounds),
      us(r.secondsPerRound!),
      r.cpuSecondsPerParty!.toFixed(3),
      mib(r.peakRssBytes!),
      r.linkFraction === null ? 'n/a' : (r.linkFraction * 100).toFixed(1),
    ];
  });
  // An error row has the configuration cells, then its message in place of the figures.
  const cfgCols = 7;
  const leftCols = new Set([0, 2, 4, 5]);
  const w = head.map((h, i) => Math.max(h.length, ...body.filter((b) => b.length === head.length || i < cfgCols).map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= w.length || (cells.length < head.length && i === cells.length - 1) ? c : leftCols.has(i) ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line)].join('\n');
}

/** Our matching rows next to MP-SPDZ's figures. */
function comparison(rows: NetworkRow[], quick: boolean): string {
  // MP-SPDZ was measured on 127.0.0.1 with one thread per party.
  const ok = rows.filter((r) => r.error === undefined && plain(r) && r.parties === 2 && r.net === 'loopback' && r.threadsRequested === 1);
  const wide = ok.filter((r) => r.layers === 1);
  const width = wide.some((r) => r.batch === 1_000_000) ? 1_000_000 : Math.max(0, ...wide.map((r) => r.batch));
  const deep = ok.filter((r) => r.layers > 1 && r.security === 'semi-honest').sort((a, b) => b.layers - a.layers)[0];
  const lines: string[] = [];
  if (wide.length === 0 && deep === undefined) return 'Against MP-SPDZ: no 2-party loopback row with 1 thread in this run (MP-SPDZ\'s figures are for 127.0.0.1).';
  const note = width === 1_000_000 ? '' : ` (this run has no 10^6 row${quick ? ' (--quick)' : ''}: compared at ${fmtCount(width)})`;
  lines.push(`Against MP-SPDZ${note}.\nReference: ${MP_SPDZ.source}.\n`);
  const body: string[][] = [];
  for (const sec of ['semi-honest', 'malicious'] as const) {
    const ref = MP_SPDZ[sec];
    const r = wide.find((x) => x.security === sec && x.batch === width);
    const refRate = `${(ref.gatesPerSecond[0] / 1e6).toFixed(2)}–${(ref.gatesPerSecond[1] / 1e6).toFixed(2)} M mult/s`;
    body.push([`2 parties, ${sec}, 1 × ${fmtCount(width)}`, r ? `${mps(r.gatesPerSecond!)} mult/s` : 'not measured', `${ref.protocol}: ${refRate}`, r ? `${((r.gatesPerSecond! / ((ref.gatesPerSecond[0] + ref.gatesPerSecond[1]) / 2)) * 100).toFixed(0)} %` : '']);
    body.push(['  bytes per mult per party (online)', r ? r.onlineBytesPerGate!.toFixed(2) : '', String(ref.bytesPerGate), '']);
  }
  body.push([
    `2 parties, semi-honest, time per round${deep ? ` (${fmtCount(deep.layers)} × ${fmtCount(deep.batch)})` : ''}`,
    deep ? us(deep.secondsPerRound!) : 'not measured',
    `semi2k: ~${us(MP_SPDZ.secondsPerRound.seconds)} (${MP_SPDZ.secondsPerRound.protocol})`,
    deep ? `${(deep.secondsPerRound! / MP_SPDZ.secondsPerRound.seconds).toFixed(1)}× their time` : '',
  ]);
  lines.push(table(['', 'Tessera', 'MP-SPDZ', 'ours / theirs'], body, 1));
  return lines.join('\n');
}

function chartFor(rows: NetworkRow[], machine: string, nets: string[]): string {
  const series: ChartSeries[] = [];
  const key = (r: NetworkRow) => `${r.net}|${r.parties}|${r.security}|${r.threadsRequested}`;
  const keys = [...new Set(rows.map(key))];
  const oneNet = nets.length === 1;
  const partyCounts = [...new Set(rows.map((r) => r.parties))];
  for (const k of keys) {
    const [net, p, sec, thr] = k.split('|');
    const pts = rows.filter((r) => key(r) === k && r.layers === 1 && r.error === undefined && plain(r));
    const failedWidths = rows.filter((r) => key(r) === k && r.layers === 1 && r.error !== undefined && plain(r)).map((r) => r.batch);
    if (pts.length === 0 && failedWidths.length === 0) continue;
    const parts = [...(oneNet ? [] : [net]), ...(partyCounts.length > 1 ? [`${p} parties`] : []), sec, ...(thr === '1' ? [] : [`${thr} threads`])];
    series.push({ label: parts.join(', '), dashed: sec === 'malicious', failedWidths, points: pts.map((r) => ({ width: r.batch, gatesPerSecond: r.gatesPerSecond! })) });
  }
  const lan = nets.filter((n) => n !== 'loopback');
  const where = lan.length === 0 ? 'mTLS on 127.0.0.1' : lan.length === nets.length ? `mTLS, emulated LAN${oneNet ? ` (${nets[0]})` : ''}` : 'mTLS, loopback and emulated LAN';
  const threads = [...new Set(rows.map((r) => r.threadsRequested))].sort();
  const parties = partyCounts.length === 1 ? `${partyCounts[0]} parties, ` : '';
  return renderChart({
    title: `Tessera online throughput: real nodes, ${where}`,
    subtitle: `${parties}one multiplication layer of each width, dealer preprocessing, ${threads.join(' or ')} kernel thread${threads.length > 1 || threads[0] > 1 ? 's' : ''} per node, best online time\n${machine}`,
    series,
    references: [
      { label: 'MP-SPDZ semi2k online, 2 parties (~1.0 M/s)', gatesPerSecond: 1.0e6 },
      { label: 'MP-SPDZ spdz2k online, 2 parties (~0.25 M/s)', gatesPerSecond: 0.245e6 },
    ],
  });
}

function maliciousAvailable(): { ok: boolean; why?: string } {
  try {
    suiteFor('malicious');
    return { ok: true };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
}

type BaselineResult = (Baseline & { error?: undefined }) | { error: string };

/** One network profile of the run (the JSON's `nets`). */
interface NetRecord {
  name: NetName;
  /** `net` of its rows. */
  label: string;
  transport: string | null;
  /** Whether the profile's delay was applied (false: netem missing, rate only). Null for loopback. */
  delayEmulated: boolean | null;
  /** The qdisc on every namespace's egress. */
  qdisc: string | null;
  baseline: BaselineResult | null;
  /** Why the profile did not run. */
  skipped?: string;
  note?: string;
}

/** Loopback: parties 2 and 3, every width and the deep circuit with 1 thread; 2-party rows at two widths also with 2. */
function loopbackConfigs(quick: boolean, securities: SecurityLevel[]): NetConfig[] {
  const widths = quick ? [1_000, 10_000, 100_000] : [10_000, 100_000, 1_000_000, 10_000_000];
  const twoThreads = quick ? [10_000] : [100_000, 1_000_000];
  const deep = quick ? { layers: 100, width: 100 } : { layers: 1000, width: 1000 };
  const configs: NetConfig[] = [];
  for (const parties of [2, 3]) {
    for (const security of securities) {
      for (const width of widths) {
        const runs = width >= 10_000_000 ? 1 : 3;
        configs.push({ parties, security, threads: 1, width, layers: 1, runs });
        if (parties === 2 && twoThreads.includes(width)) configs.push({ parties, security, threads: 2, width, layers: 1, runs });
      }
      configs.push({ parties, security, threads: 1, width: deep.width, layers: deep.layers, runs: 3 });
    }
  }
  if (securities.includes('semi-honest')) configs.push(...governanceConfigs(quick).filter((c) => c.audit !== undefined || c.pad));
  configs.push(...otConfigs(quick, securities).filter((c) => c.preprocessing === 'ot' || !configs.some((x) => x.parties === c.parties && x.security === c.security && x.width === c.width && x.layers === 1 && x.threads === 1 && !x.audit && !x.pad)));
  configs.push(...ringConfigs(quick).filter((c) => c.ring === 128));
  return configs;
}

/**
 * The Z_2^128 domain's rows, each beside the Z_2^64 row of the same shape (`--only ring` runs
 * just these): a wide layer and the deep circuit, 2 parties, semi-honest and malicious (SPDZ2k
 * with k = 64, shares in Z_2^128, beside k = 128, shares in Z_2^192).
 */
function ringConfigs(quick: boolean): NetConfig[] {
  const shapes = quick ? [{ width: 10_000, layers: 1 }, { width: 100, layers: 100 }] : [{ width: 1_000_000, layers: 1 }, { width: 1000, layers: 1000 }];
  return (['semi-honest', 'malicious'] as const).flatMap((security) =>
    shapes.flatMap(({ width, layers }) =>
      ([64, 128] as const).map((ring): NetConfig => ({ parties: 2, security, threads: 1, width, layers, runs: 3, ...(ring === 128 ? { ring } : {}) })),
    ),
  );
}

/** Z_2^128 rows beside their Z_2^64 rows: online time per multiplication and bytes, and the ratio. */
function ringTable(rows: NetworkRow[]): string {
  const wide = rows.filter((r) => r.protocol.endsWith('z2k128'));
  if (wide.length === 0) return '';
  const body = wide.map((r) => {
    const base = rows.find((x) => x.protocol === r.protocol.replace('z2k128', 'z2k64') && x.parties === r.parties && x.batch === r.batch && x.layers === r.layers && x.threads === r.threads && x.audit === r.audit && !x.pad && x.preprocessing === r.preprocessing);
    const per = (x: NetworkRow | undefined): string => (x?.seconds ? `${((x.seconds / x.multiplications) * 1e9).toFixed(0)} ns` : '—');
    const ratio = base?.seconds && r.seconds ? (r.seconds / base.seconds).toFixed(2) : '—';
    return [`${r.parties}p ${r.security}`, r.layers === 1 ? `1 × ${r.batch}` : `${r.layers} × ${r.batch}`, per(base), per(r), ratio, String(base?.onlineBytesPerGate?.toFixed(1) ?? '—'), String(r.onlineBytesPerGate?.toFixed(1) ?? '—')];
  });
  return `\nValue domains: the same job in Z_2^64 and Z_2^128 (online time per multiplication; target ratio ≤ 2.5)\n\n${table(['mode', 'layers × width', 'Z_2^64', 'Z_2^128', 'ratio', 'B/mult 64', 'B/mult 128'], body)}\n`;
}

/**
 * What governance costs (issue 11): the 2-party semi-honest 10^6 layer and the deep circuit
 * with the audit on (the default), off, with frame entries synced with the decisions only,
 * and with padded frames (`--only governance` runs just these).
 */
function governanceConfigs(quick: boolean): NetConfig[] {
  const width = quick ? 100_000 : 1_000_000;
  const deep = quick ? { layers: 100, width: 100 } : { layers: 1000, width: 1000 };
  const row = { parties: 2, security: 'semi-honest' as const, threads: 1, runs: 3 };
  return [
    { ...row, width, layers: 1 },
    { ...row, width, layers: 1, audit: 'off' },
    { ...row, width, layers: 1, pad: true },
    { ...row, width: deep.width, layers: deep.layers },
    { ...row, width: deep.width, layers: deep.layers, audit: 'off' },
    { ...row, width: deep.width, layers: deep.layers, audit: 'decisions' },
  ];
}

/**
 * Dealer-free preprocessing (issue 12): the 10^6-wide layer (10^5 for 3 parties; in malicious
 * mode, where OT triples are ~30× dearer, 5·10^4 for 2 parties and 10^4 for 3) with OT
 * preprocessing, each beside the dealer row of the same shape (`--only ot` runs just these
 * pairs). A job's first ~2 s of generation include the peers' setup and warm-up, so rows
 * much shorter than ~10 s under-state the rate a node sustains.
 */
function otConfigs(quick: boolean, securities: SecurityLevel[]): NetConfig[] {
  const shapes: { parties: number; security: SecurityLevel; width: number }[] = [
    { parties: 2, security: 'semi-honest', width: quick ? 100_000 : 1_000_000 },
    { parties: 3, security: 'semi-honest', width: quick ? 10_000 : 100_000 },
    { parties: 2, security: 'malicious', width: quick ? 1_000 : 50_000 },
    { parties: 3, security: 'malicious', width: quick ? 1_000 : 10_000 },
  ];
  return shapes
    .filter((s) => securities.includes(s.security))
    .flatMap((s) => [
      { ...s, threads: 1, layers: 1, runs: 1 },
      { ...s, threads: 1, layers: 1, runs: 1, preprocessing: 'ot' as const },
    ]);
}

/** MP-SPDZ's figures on this machine (issue 12): triples/s and bytes sent per triple per party. */
const MP_SPDZ_TRIPLES: Record<string, { perSecond: number; bytes: number; floor: number }> = {
  '2/semi-honest': { perSecond: 260_000, bytes: 1556, floor: 100_000 },
  '2/malicious': { perSecond: 4_200, bytes: 20_134, floor: 2_000 },
  '3/semi-honest': { perSecond: 69_000, bytes: 3101, floor: 0 },
};

/** The OT rows: triple generation over real nodes, and the end-to-end cost beside the dealer's. */
function otTable(rows: NetworkRow[]): string {
  const body: string[][] = [];
  for (const o of rows.filter((r) => r.preprocessing === 'ot')) {
    const d = rows.find((r) => r.preprocessing === 'dealer' && r.error === undefined && r.net === o.net && r.parties === o.parties && r.security === o.security && r.batch === o.batch && r.layers === o.layers && r.threadsRequested === o.threadsRequested && plain(r));
    const label = `${o.net}, ${o.parties} parties, ${o.security}, ${fmtCount(o.layers)} × ${fmtCount(o.batch)}`;
    if (o.error !== undefined) {
      body.push([label, 'FAILED', '', '', '', '', '', o.error]);
      continue;
    }
    const p1 = o.nodes.find((n) => n.party === 'p1') ?? o.nodes[0];
    const ot = p1.ot;
    const rate = ot && ot.generateSeconds > 0 ? ot.triples / ot.generateSeconds : null;
    const dp1 = d?.nodes.find((n) => n.party === 'p1');
    const bytes = ot && dp1 ? (p1.bytesSent - dp1.bytesSent) / ot.triples : null;
    const ref = MP_SPDZ_TRIPLES[`${o.parties}/${o.security}`];
    const vs = ref && rate !== null ? `${(rate / ref.perSecond).toFixed(2)}× MP-SPDZ${ref.floor && rate < ref.floor ? ' (below floor)' : ''}` : '';
    body.push([
      label,
      rate === null ? '?' : `${fmtRate(rate)}/s`,
      vs,
      bytes === null ? '?' : `${Math.round(bytes)}${ref ? ` (MP-SPDZ ${ref.bytes})` : ''}`,
      ot ? `${ot.setupSeconds.toFixed(2)} s` : '?',
      `${mps(o.multiplications / o.jobSeconds!)} mult/s`,
      d ? `${mps(d.multiplications / d.jobSeconds!)} mult/s` : '?',
      d ? `${mps(d.gatesPerSecond!)} mult/s` : '?',
    ]);
  }
  if (body.length === 0) return '';
  return (
    '\nOT preprocessing (issue 12), real nodes over mTLS, no dealer in the job:\n' +
    table(['row', 'triples/s (p1)', 'vs MP-SPDZ', 'B/triple per party', 'base OTs (setup)', 'end to end, OT', 'end to end, dealer', 'online only'], body, 1) +
    '\ntriples/s = triples p1 made / seconds its generator ran (setup excluded); B/triple = p1\'s bytes in the OT job minus in the dealer job of\n' +
    'the same shape, per triple; base OTs = p1\'s session setup (128 base OTs per ordered pair and direction, all pairs at once);\n' +
    'end to end = multiplications / job seconds as the analyst saw them (submit to done), preprocessing included.\n'
  );
}

const fmtRate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

/** Rows with the default governance (audit on, no padding) and dealer preprocessing: what the other tables compare. */
const plain = (r: NetworkRow): boolean => r.audit === 'every-frame' && !r.pad && r.preprocessing === 'dealer';

/** The audit's and the padding's cost: each governance row beside the default row of the same shape. */
function governanceTable(rows: NetworkRow[]): string {
  const body: string[][] = [];
  for (const g of rows.filter((r) => !plain(r) && r.error === undefined)) {
    const same = (r: NetworkRow) => r.error === undefined && r.net === g.net && r.parties === g.parties && r.security === g.security && r.threadsRequested === g.threadsRequested && r.batch === g.batch && r.layers === g.layers;
    const base = rows.find((r) => plain(r) && same(r));
    const off = rows.find((r) => r.audit === 'off' && !r.pad && same(r));
    // An audit-off row is the "without" of the audit; a "decisions" row is compared with the
    // audit off too; a padded row is the "with" of padding.
    const [without, withIt, feature] =
      g.pad ? [base, g, 'padding (audit on in both)'] : g.audit === 'off' ? [g, base, 'audit log (every frame synced)'] : [off, g, 'audit log (decisions synced, frames within 100 ms)'];
    if (without === undefined || withIt === undefined) continue;
    body.push([
      `${g.net}, ${g.parties} parties, ${g.security}, ${fmtCount(g.layers)} × ${fmtCount(g.batch)}`,
      feature,
      `${mps(without.gatesPerSecond!)} mult/s`,
      `${mps(withIt.gatesPerSecond!)} mult/s`,
      `${((1 - withIt.gatesPerSecond! / without.gatesPerSecond!) * 100).toFixed(1)} %`,
      `${(withIt.bytesPerGate! / without.bytesPerGate!).toFixed(3)}×`,
    ]);
  }
  if (body.length === 0) return '';
  return '\nGovernance cost (issue 11: audit target < 10 % of throughput at 1 × 10^6):\n' + table(['row', 'feature', 'without', 'with', 'throughput cost', 'bytes with / without'], body, 2);
}

/** Emulated LAN: 2 parties, 1 thread, 10^4…10^6 and the deep circuit. */
function lanConfigs(quick: boolean, securities: SecurityLevel[]): NetConfig[] {
  const widths = quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000];
  const deep = quick ? { layers: 100, width: 100 } : { layers: 1000, width: 1000 };
  const configs: NetConfig[] = [];
  for (const security of securities) {
    for (const width of widths) configs.push({ parties: 2, security, threads: 1, width, layers: 1, runs: 3 });
    configs.push({ parties: 2, security, threads: 1, width: deep.width, layers: deep.layers, runs: 3 });
  }
  return configs;
}

async function measureBaseline(what: string, fn: () => Promise<Baseline>): Promise<BaselineResult> {
  progress(`raw TLS baseline, ${what}`);
  try {
    const b = await fn();
    progress(`baseline: ${(b.bytesPerSecond / 1e9).toFixed(3)} GB/s, round trip ${(b.rttSeconds * 1e6).toFixed(0)} µs`);
    return b;
  } catch (e) {
    progress(`baseline FAILED: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
}

const baselineLine = (b: BaselineResult | null): string =>
  b && b.error === undefined
    ? `${(b.bytesPerSecond / 1e9).toFixed(3)} GB/s (${(b.bytes / 2 ** 20).toFixed(0)} MiB, ${b.cipher}, one direction, process to process), one-byte round trip ${(b.rttSeconds * 1e6).toFixed(0)} µs (median)`
    : `FAILED: ${b?.error ?? 'not measured'}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      only: { type: 'string' },
      net: { type: 'string', default: 'loopback' },
    },
  });
  const quick = values.quick === true;
  const only = values.only;
  if (only !== undefined && only !== 'network' && only !== 'kernels' && only !== 'analytics' && only !== 'governance' && only !== 'ot' && only !== 'ring') {
    throw new UsageError(`--only: expected network, kernels, analytics, governance, ot or ring, got ${JSON.stringify(only)}`);
  }
  const nets = [...new Set(values.net!.split(',').map((n) => n.trim()).filter(Boolean))];
  const badNet = nets.find((n) => !isNetName(n));
  if (badNet !== undefined || nets.length === 0) throw new UsageError(`--net: expected loopback, lan or lan10g (comma-separated for several), got ${JSON.stringify(values.net)}`);
  const netNames = nets as NetName[];
  const lanNames = netNames.filter((n) => n !== 'loopback');
  // The kernel rows do not depend on the network: a LAN-only run skips them.
  const doKernels = only === 'kernels' || (only !== 'network' && only !== 'governance' && only !== 'ot' && only !== 'ring' && netNames.includes('loopback'));
  const doNetwork = only !== 'kernels' && only !== 'analytics';
  // Issue 6's rows (comparisons per second, the canonical analytics circuits) run on loopback.
  const doAnalytics = (only === undefined || only === 'analytics') && netNames.includes('loopback');
  const jsonFile = values.json ?? `bench/results/latest${lanNames.map((n) => `-${n}`).join('')}.json`;
  const svgFile = join(dirname(jsonFile), `${basename(jsonFile, extname(jsonFile))}.svg`);

  const cpu = cpus();
  const machine = {
    cpu: cpu[0]?.model.trim() ?? 'unknown CPU',
    cores: cpu.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
  const machineLine = `${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${machine.os}, Node ${machine.node}`;
  console.log(`Tessera benchmark${quick ? ' (--quick: small sizes)' : ''}, net ${netNames.join(', ')} — ${machineLine}`);
  let failed = false;

  let kernels: KernelRow[] | null = null;
  let inProcess: InProcessRow[] | null = null;
  if (doKernels) {
    progress('ring kernels');
    kernels = await runKernelBench({ log2: quick ? 16 : 20, runs: quick ? 3 : 7 });
    console.log(`\nRing kernels (one thread, no network)\n`);
    console.log(formatRows(kernels));
    progress('in-process protocol rows');
    const shapes: [number, number, number][] = quick
      ? [[2, 10_000, 1], [3, 10_000, 1], [2, 100, 100]]
      : [[2, 10_000, 1], [2, 100_000, 1], [2, 1_000_000, 1], [3, 1_000_000, 1], [2, 1000, 1000]];
    inProcess = [];
    for (const [p, w, l] of shapes) inProcess.push(await inProcessRow(p, w, l));
    console.log('\nIN-PROCESS (not networked): semi-honest job, all parties in one process, in-memory transport, no TLS; includes input sharing and dealer expansion\n');
    console.log(inProcessTable(inProcess));
  }

  const rows: NetworkRow[] = [];
  const netRecords: NetRecord[] = [];
  const notes: string[] = [];
  if (doNetwork) {
    const mal = maliciousAvailable();
    const securities: SecurityLevel[] = mal.ok ? ['semi-honest', 'malicious'] : ['semi-honest'];
    if (!mal.ok) notes.push(`malicious security is not available in this build (${mal.why}): no malicious rows`);
    notes.push('thr = kernel threads per node, as every node reported when it started (node config "threads" / MPC_THREADS): 1 runs the kernels in the node\'s main thread (the default), 2 on a worker pool of two (src/node/pool.ts)');
    const bench = (configs: NetConfig[], net: NetTarget, baseline: BaselineResult) =>
      runNetworkBench({
        configs,
        net,
        baselineBytesPerSecond: baseline.error === undefined ? baseline.bytesPerSecond : null,
        warmupWidth: 100,
        jobTimeoutMs: (c) => (c.width * c.layers >= 10_000_000 ? 600_000 : quick ? 60_000 : 180_000),
        progress,
      });

    let preflight: Preflight | undefined;
    for (const name of netNames) {
      const profile = NET_PROFILES[name];
      if (name === 'loopback') {
        const bytes = quick ? 256 * 2 ** 20 : 2 ** 30;
        const baseline = await measureBaseline(`127.0.0.1 (${bytes / 2 ** 20} MiB in 1 MiB writes)`, () => measureTlsBaseline({ bytes, chunkBytes: 2 ** 20 }));
        if (baseline.error !== undefined) failed = true;
        netRecords.push({ name, label: loopback.label, transport: loopback.transport, delayEmulated: null, qdisc: null, baseline });
        const configs = only === 'governance' ? governanceConfigs(quick) : only === 'ot' ? otConfigs(quick, securities) : only === 'ring' ? ringConfigs(quick) : loopbackConfigs(quick, securities);
        rows.push(...(await bench(configs, loopback, baseline)));
        continue;
      }
      preflight ??= lanPreflight();
      if (preflight.skip !== null) {
        const msg = `LAN emulation skipped (--net ${name}): ${preflight.skip}`;
        console.log(msg);
        notes.push(msg);
        netRecords.push({ name, label: profile.label, transport: null, delayEmulated: null, qdisc: null, baseline: null, skipped: preflight.skip });
        continue;
      }
      const lan = setUpLan(profile, ['dealer', 'p1', 'p2'], preflight.netem);
      try {
        if (lan.note !== null) {
          console.log(`LAN emulation (--net ${name}) without delay: ${lan.note}`);
          notes.push(`${lan.label}: ${lan.note}`);
        }
        progress(`emulated LAN ${lan.label}: namespaces ${['dealer', 'p1', 'p2'].map((n) => `${lan.netns(n)} (${lan.address(n)})`).join(', ')}; egress qdisc ${lan.qdisc}`);
        const bytes = quick ? 64 * 2 ** 20 : profile.rateBitsPerSecond! >= 1e10 ? 2 ** 30 : 512 * 2 ** 20;
        const what = `TLS 1.3, one connection, one direction, p1's namespace → p2's namespace over the emulated LAN (${lan.label})`;
        const baseline = await measureBaseline(`${lan.label}, p1 → p2 (${bytes / 2 ** 20} MiB)`, () =>
          measureTlsBaselineInNetns({ senderNetns: lan.netns('p1'), receiverNetns: lan.netns('p2'), host: lan.address('p2'), bytes, what }),
        );
        if (baseline.error !== undefined) failed = true;
        netRecords.push({ name, label: lan.label, transport: lan.transport, delayEmulated: lan.delayEmulated, qdisc: lan.qdisc, baseline, ...(lan.note !== null ? { note: lan.note } : {}) });
        const target: NetTarget = { label: lan.label, transport: lan.transport, launch: (spec, fn) => withLanFederation(lan, spec, fn) };
        rows.push(...(await bench(lanConfigs(quick, securities), target, baseline)));
      } finally {
        lan.close();
        progress(`emulated LAN ${lan.label} removed`);
      }
    }
    if (rows.some((r) => r.error !== undefined)) failed = true;

    if (rows.length > 0) {
      console.log('\nNETWORKED: real `mpc node` processes + dealer, mTLS 1.3 (wss), jobs through runJob as `mpc run`; dealer preprocessing');
      console.log('online s = best of the runs (1 run for 10^7, else 3) of the slowest node\'s time from end of input sharing to end of last layer');
      for (const r of netRecords.filter((x) => x.skipped === undefined)) {
        console.log(`net ${r.label}: ${r.transport}`);
        console.log(`  raw TLS baseline: ${baselineLine(r.baseline)}`);
      }
      for (const n of notes) console.log(`note: ${n}`);
      console.log('');
      console.log(networkTable(rows.filter((r) => r.preprocessing === 'dealer')));
      console.log(
        "\nB/mult online = bytes p1 sent in the layers / multiplications (job bytes minus a job with the same inputs and output but\n" +
          "no multiplication); B/mult job = all bytes p1 sent / multiplications; time/round = online s / rounds;\n" +
          'CPU s/party = mean over nodes, whole job (dealer link, input sharing, layers, output);\n' +
          'peak RSS = highest node high-water mark since the node started (dataset loading included; jobs run narrowest first);\n' +
          "link % = p1's layer bytes per online second / the raw TLS baseline of the row's net.\n",
      );
      console.log(comparison(rows.filter((r) => r.preprocessing === 'dealer'), quick));
      console.log(governanceTable(rows.filter((r) => r.preprocessing === 'dealer')));
      console.log(otTable(rows));
      console.log(ringTable(rows));

      mkdirSync(dirname(svgFile), { recursive: true });
      writeFileSync(svgFile, chartFor(rows.filter((r) => r.preprocessing === 'dealer'), machineLine, netRecords.filter((x) => x.skipped === undefined).map((x) => x.label)));
      console.log(`\nwrote ${svgFile}`);
    }
  }

  let analytics: AnalyticsRow[] | null = null;
  if (doAnalytics) {
    progress('analytics: comparisons and the canonical statistics circuits, end to end over real nodes');
    analytics = await runAnalyticsBench({ quick, securities: ['semi-honest', 'malicious'], progress });
    console.log('\nAnalytics (end to end over real nodes on loopback: input sharing, dealer preprocessing, online phase, output;');
    console.log('error = largest deviation from the plaintext reference, bound = the issue\'s stated error; linreg relative):\n');
    console.log(formatAnalyticsRows(analytics));
    if (analytics.some((r) => !r.ok)) failed = true;
  }

  if (kernels === null && rows.length === 0 && analytics === null) {
    // Nothing measured (every profile skipped): no file to write.
    console.log(`nothing measured; total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return;
  }
  const baseline = netRecords.find((r) => r.baseline !== null)?.baseline ?? null;
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        machine,
        date: new Date().toISOString(),
        quick,
        seconds: (performance.now() - t0) / 1000,
        // The first network profile's baseline; every profile's is in `nets`.
        baseline,
        nets: netRecords,
        kernels,
        inProcess,
        rows: doNetwork ? rows : null,
        analytics,
        references: { mpSpdz: MP_SPDZ },
        notes,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${jsonFile}`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failed) {
    console.log('\nsome configurations FAILED (see their rows): exit code 1');
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  // Usage mistakes (unknown flag, bad value) as one line; anything else with its stack.
  const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(usage ? `bench: ${(e as Error).message}` : e);
  process.exitCode = 1;
});
