/**
 * Free listening ports on 127.0.0.1 for federations started on one machine (the embedded
 * federation, tests). Ports are picked outside the kernel's ephemeral range: a port inside it
 * can be handed to an outgoing connection, and a client retrying a node that is not listening
 * yet can then connect to itself (TCP self-connect) and read its own ClientHello back — seen
 * as "EPROTO … unexpected message" in a 5-node federation test.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port we use: below it lie well-known and registered services. */
const FLOOR = 10_000;

/** The kernel's ephemeral port range [lo, hi] (Linux); the IANA default elsewhere. */
export function ephemeralRange(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): [number, number] {
  try {
    const [lo, hi] = read().trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 0 && lo <= hi && hi <= 65_535) return [lo, hi];
  } catch {
    // not Linux, or /proc not mounted
  }
  return [49_152, 65_535];
}

/** Whether `port` is free on 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Where a run of `count` ports may start: the larger gap below or above the ephemeral range. */
export function candidateBases(count: number, [lo, hi]: [number, number]): [number, number] {
  const below: [number, number] = [FLOOR, lo - count];
  const above: [number, number] = [hi + 1, 65_536 - count];
  const size = ([a, b]: [number, number]) => b - a;
  const best = size(below) >= size(above) ? below : above;
  if (size(best) < 100) throw new RangeError(`no room for ${count} ports outside the ephemeral range ${lo}-${hi}`);
  return best;
}

/** The first of `count` consecutive ports free on 127.0.0.1 (the `mpc init` layout puts them side by side). */
export async function freePortRange(count: number): Promise<number> {
  const [from, to] = candidateBases(count, ephemeralRange());
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`could not find ${count} consecutive free ports on 127.0.0.1`);
}
