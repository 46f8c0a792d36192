/**
 * A federation of parties in one process for the mesh-level tests (lanes, padding): a
 * NodeServer and a PeerMesh per party on 127.0.0.1 with real TLS, optional lanes, and jobs
 * run by `runLocal` over the meshes' job transports.
 */
import { runLocal } from '../../src/coordinator/local.ts';
import { suiteFor, type SecurityLevel } from '../../src/protocol/suites.ts';
import type { Transport } from '../../src/protocol/transport.ts';
import { startLanes, type Lanes } from '../../src/net/lanes.ts';
import { PeerMesh, type PartyEndpoint } from '../../src/net/mesh.ts';
import { NodeServer } from '../../src/net/server.ts';
import { compileInline, M64 } from '../helpers.ts';
import { collectLog, type Pki } from './helpers.ts';

export interface Fed {
  ids: string[];
  mesh: Record<string, PeerMesh>;
  lanes: Record<string, Lanes | undefined>;
  logs: Record<string, ReturnType<typeof collectLog>>;
}

/** What {@link netTestSetup} gives a test file. */
export interface Setup {
  readonly pki: Pki;
  cleanups: Array<() => Promise<void> | void>;
}

/** A federation whose party `id` runs `laneCounts[id]` lanes (0: none); resolves when every channel and lane is up. */
export async function federation(setup: Setup, laneCounts: Record<string, number>): Promise<Fed> {
  const { cleanups } = setup;
  const ids = Object.keys(laneCounts);
  const fed: Fed = { ids, mesh: {}, lanes: {}, logs: {} };
  const servers: Record<string, NodeServer> = {};
  const endpoints: PartyEndpoint[] = [];
  for (const id of ids) {
    fed.logs[id] = collectLog();
    const tls = setup.pki.m[id];
    servers[id] = new NodeServer({ tls, parties: ids, log: fed.logs[id].log });
    const { port } = await servers[id].listen(0, '127.0.0.1');
    endpoints.push({ id, host: '127.0.0.1', port });
    cleanups.push(() => servers[id].close());
    if (laneCounts[id] > 0) {
      const lanes = await startLanes({ count: laneCounts[id], tls, parties: ids, host: '127.0.0.1', log: fed.logs[id].log });
      fed.lanes[id] = lanes;
      cleanups.push(() => lanes.close());
    }
  }
  for (const id of ids) {
    fed.mesh[id] = new PeerMesh({ tls: setup.pki.m[id], parties: endpoints, server: servers[id], log: fed.logs[id].log, lanes: fed.lanes[id] });
    cleanups.push(() => fed.mesh[id].close());
  }
  await Promise.all(ids.map((id) => fed.mesh[id].ready(5000)));
  // Lanes come up after the main channels: wait until every pair has the lanes both sides run.
  const want = (a: string, b: string) => Math.min(laneCounts[a], laneCounts[b]);
  const t0 = Date.now();
  while (!ids.every((a) => ids.every((b) => a === b || (fed.lanes[a]?.upTo(b) ?? 0) === want(a, b)))) {
    if (Date.now() - t0 > 10_000) throw new Error('lanes did not come up within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  return fed;
}

/** x·y elementwise over `width` elements, revealed to the analyst. */
export function product(ids: string[], width: number) {
  return compileInline(ids, (c) => c.reveal('z', c.vector(ids[0], 'x').mul(c.vector(ids[1], 'y'))), { [`${ids[0]}.x`]: width, [`${ids[1]}.y`]: width });
}

/** Inputs for {@link product} and the expected product. */
export function productInputs(ids: string[], width: number): { data: Record<string, Record<string, number[]>>; expected: bigint[] } {
  const x = Array.from({ length: width }, (_, i) => (i * 7919) % 100_003);
  const y = Array.from({ length: width }, (_, i) => (i * 104_729) % 65_537);
  return { data: { [ids[0]]: { x }, [ids[1]]: { y } }, expected: x.map((v, i) => (BigInt(v) * BigInt(y[i])) & M64) };
}

/** Options of {@link runOnMesh}. */
export interface RunOptions {
  /** Interpose on party `id`'s transport. */
  wrap?: (t: Transport, id: string) => Transport;
  /** The job option `pad` (JobTransportOptions.pad) on every party. */
  pad?: boolean;
}

let jobs = 0;
/** Run `plan` over the federation's meshes, as a fresh job. */
export function runOnMesh(
  setup: Setup,
  fed: Fed,
  plan: ReturnType<typeof product>['plan'],
  inputs: Record<string, Record<string, number[]>>,
  security: SecurityLevel,
  opts: RunOptions = {},
) {
  const jobId = `mesh-job-${jobs++}`;
  return runLocal(plan, inputs, {
    suite: suiteFor(security),
    wrapTransport: (_memory, i) => {
      const t = fed.mesh[plan.parties[i]].jobTransport(jobId, plan.parties, { pad: opts.pad });
      setup.cleanups.push(() => t.dispose());
      return opts.wrap?.(t, plan.parties[i]) ?? t;
    },
  });
}
