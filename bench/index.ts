/**
 * `npm run bench`: the ring kernels, then the semi-honest protocol's online phase in one
 * process over the in-memory transport (no network: an upper bound for what the nodes can
 * do, and a regression guard for the executor). Prints tables and writes JSON
 * (`--json <file>`, default bench/results/latest.json). `--quick` uses small sizes.
 * The networked benchmark against MP-SPDZ's figures comes with the throughput milestone.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { circuit } from '../src/circuit/index.ts';
import { compileLoaded } from '../src/compiler/load.ts';
import { runLocal } from '../src/protocol/local.ts';
import { formatRows, runKernelBench } from './kernels.ts';

interface ProtocolRow {
  protocol: string;
  security: string;
  preprocessing: string;
  parties: number;
  threads: number;
  batch: number;
  layers: number;
  multiplications: number;
  seconds: number;
  gatesPerSecond: number;
  bytesPerGate: number;
  transport: string;
}

/** One layer of `width` multiplications (or `layers` sequential ones), all parties in-process. */
async function protocolRow(parties: number, width: number, layers: number): Promise<ProtocolRow> {
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
  const t0 = performance.now();
  const r = await runLocal(plan, inputs);
  const seconds = (performance.now() - t0) / 1000;
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
    transport: 'memory',
  };
}

function table(rows: ProtocolRow[]): string {
  const head = ['parties', 'batch', 'layers', 'mults', 'seconds', 'gates/s', 'bytes/gate/party'];
  const body = rows.map((r) => [r.parties, r.batch, r.layers, r.multiplications, r.seconds.toFixed(3), Math.round(r.gatesPerSecond).toLocaleString('en'), r.bytesPerGate.toFixed(1)].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(w[i])).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'string', default: 'bench/results/latest.json' } } });
  const quick = values.quick === true;
  const kernels = await runKernelBench({ log2: quick ? 16 : 20, runs: quick ? 3 : 7 });
  console.log(`Tessera — Node ${process.version}\n\nRing kernels (one thread)\n`);
  console.log(formatRows(kernels));
  const shapes: [number, number, number][] = quick
    ? [[2, 10_000, 1], [3, 10_000, 1], [2, 100, 100]]
    : [[2, 10_000, 1], [2, 100_000, 1], [2, 1_000_000, 1], [3, 1_000_000, 1], [2, 1000, 1000]];
  const rows: ProtocolRow[] = [];
  for (const [p, w, l] of shapes) rows.push(await protocolRow(p, w, l));
  console.log('\nSemi-honest online phase, all parties in one process, in-memory transport\n');
  console.log(table(rows));
  mkdirSync(dirname(values.json!), { recursive: true });
  writeFileSync(values.json!, JSON.stringify({ node: process.version, date: new Date().toISOString(), kernels, protocol: rows }, null, 2));
  console.log(`\nwrote ${values.json}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
