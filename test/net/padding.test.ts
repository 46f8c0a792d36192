// Padding on the wire (the job option `pad`, a node policy's `requirePadding`), over real TLS
// on 127.0.0.1. Read the first test first: a TCP relay between two channels reads the TLS
// record lengths — all a network observer sees — and frames whose payloads differ in length
// but share a bucket must look exactly alike, in both directions. Then: a padded job refuses
// an unpadded message (PROTOCOL, naming the peer, no data in the error), and lanes carry
// padded frames across their threads.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import type { Channel } from '../../src/net/channel.ts';
import { connectWithHello } from '../../src/net/client.ts';
import { paddedLength } from '../../src/net/frame.ts';
import type { Frame } from '../../src/net/frame.ts';
import { LANE_MIN_BYTES } from '../../src/net/lanes.ts';
import { NodeServer } from '../../src/net/server.ts';
import { MUL_CHUNK } from '../../src/compiler/plan.ts';
import { MessageKind } from '../../src/protocol/transport.ts';
import { federation, product, productInputs, runOnMesh } from './federation.ts';
import { party, rejectionOf, netTestSetup } from './helpers.ts';

const setup = netTestSetup();
const { cleanups } = setup;

type Direction = 'up' | 'down';

/** The same bytes as a Buffer view, so that payloads compare equal whatever their array type. */
const view = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * A TCP relay to `port` that splits each direction into TLS records (type, version, 16-bit
 * length, body) and keeps their lengths: `up` from the dialer, `down` to it.
 */
async function tlsTap(port: number): Promise<{ port: number; records: Record<Direction, number[]> }> {
  const records: Record<Direction, number[]> = { up: [], down: [] };
  const splitter = (dir: Direction) => {
    let pending = Buffer.alloc(0);
    return (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        records[dir].push(pending.readUInt16BE(3));
        pending = pending.subarray(5 + pending.readUInt16BE(3));
      }
    };
  };
  const relay = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    const onUp = splitter('up');
    const onDown = splitter('down');
    // Record first, then forward: a frame the far side received has been seen here.
    down.on('data', (d) => (onUp(d), up.write(d)));
    up.on('data', (d) => (onDown(d), down.write(d)));
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
    cleanups.push(() => void down.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  return { port: (relay.address() as net.AddressInfo).port, records };
}

/** p1 dials p2's server through a TLS tap; both channels flowing, frames queued per side. */
async function tappedPair() {
  const ids = ['p1', 'p2'];
  const server = new NodeServer({ tls: setup.pki.m.p2, parties: ids, heartbeat: false });
  const accepted = new Promise<Channel>((resolve) => server.once('party', (ch) => resolve(ch)));
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  const tap = await tlsTap(port);
  const { channel: dialer } = await connectWithHello(`wss://127.0.0.1:${tap.port}/`, { ...setup.pki.m.p1, expected: party('p2'), parties: ids, heartbeat: false });
  const acceptor = await accepted;
  const inbox = new Map<Channel, Array<(f: Frame) => void>>([[dialer, []], [acceptor, []]]);
  for (const ch of [dialer, acceptor]) {
    ch.on('frame', (f) => inbox.get(ch)!.shift()?.(f));
    ch.resume();
    cleanups.push(() => ch.close());
  }
  /** Send one frame, wait until it arrived, and return the TLS records it took. */
  const wire = async (dir: Direction, length: number, pad: boolean): Promise<{ records: number[]; frame: Frame; frameBytes: number }> => {
    const [from, to] = dir === 'up' ? [dialer, acceptor] : [acceptor, dialer];
    tap.records[dir].length = 0;
    const before = to.stats().bytesReceived;
    const arrived = new Promise<Frame>((resolve) => inbox.get(to)!.push(resolve));
    const payload = Uint8Array.from({ length }, (_, i) => 1 + (i % 253));
    await from.send({ job: 'j', round: 0, kind: MessageKind.Open, payload, pad });
    const frame = await arrived;
    expect(view(frame.payload!).equals(view(payload))).toBe(true);
    return { records: [...tap.records[dir]], frame, frameBytes: to.stats().bytesReceived - before };
  };
  return { wire };
}

/** Payload lengths that share a bucket; the last three cover the zero-copy tail, the copied tail and no padding. */
const BUCKETS: number[][] = [
  [0, 1, 200, 256],
  [300, 511, 512],
  [40_000, 65_000, 65_536],
  [65_537, 100_000, 131_072],
  [524_289, 600_000, 1_000_000, 1_048_576],
];

describe('padding on the wire', () => {
  it('makes every payload length of a bucket look the same to an observer of the TLS stream, both ways', async () => {
    const { wire } = await tappedPair();
    // The tap sees lengths: unpadded, two lengths of one bucket differ on the wire.
    expect((await wire('up', 600_000, false)).records).not.toEqual((await wire('up', 1_000_000, false)).records);
    for (const dir of ['up', 'down'] as const) {
      for (const bucket of BUCKETS) {
        const seen = [];
        for (const length of bucket) {
          const { records, frame, frameBytes } = await wire(dir, length, true);
          expect(frame.padded).toBe(true);
          // The channel's count: header (32 bytes for job "j" from "p1"/"p2") + the bucket, a power of two.
          expect(frameBytes).toBe(32 + paddedLength(length));
          seen.push(records);
        }
        for (const records of seen) expect(records, `${dir}, bucket of ${bucket.join('/')}`).toEqual(seen[0]);
      }
    }
  });
});

describe('a padded job', () => {
  it('aborts with PROTOCOL naming the peer when a message arrives unpadded, and says nothing of its content', async () => {
    const fed = await federation(setup, { p1: 0, p2: 0 });
    const padded = fed.mesh.p1.jobTransport('pad-strict', ['p1', 'p2'], { pad: true });
    const careless = fed.mesh.p2.jobTransport('pad-strict', ['p1', 'p2']); // ignores the agreed padding
    cleanups.push(() => padded.dispose(), () => careless.dispose());
    await careless.send(0, MessageKind.Open, 4, new TextEncoder().encode('salary=123456'));
    const e = await rejectionOf(padded.recv(1, MessageKind.Open, 4));
    expect(e.code).toBe(ErrorCode.PROTOCOL);
    expect(e.party).toBe('p2');
    expect(e.message).toMatch(/party p2 sent an unpadded message in job pad-strict, whose messages must be padded \(kind 2, round 4\)/);
    expect(e.message).not.toMatch(/salary|123456/);
    expect(padded.aborted).toBe(e);
    await expect(padded.send(1, MessageKind.Open, 5, new Uint8Array(8))).rejects.toBe(e);
  });

  it('pads what it sends, and a job without padding accepts padded messages', async () => {
    const fed = await federation(setup, { p1: 0, p2: 0 });
    const a = fed.mesh.p1.jobTransport('pad-ok', ['p1', 'p2'], { pad: true });
    const b = fed.mesh.p2.jobTransport('pad-ok', ['p1', 'p2'], { pad: true });
    const plain = fed.mesh.p2.jobTransport('pad-lenient', ['p1', 'p2']);
    const sender = fed.mesh.p1.jobTransport('pad-lenient', ['p1', 'p2'], { pad: true });
    cleanups.push(() => a.dispose(), () => b.dispose(), () => plain.dispose(), () => sender.dispose());
    expect([a.pad, plain.pad]).toEqual([true, false]);
    const main = fed.mesh.p2.channel('p1')!;
    const before = main.stats().bytesReceived;
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    await a.send(1, MessageKind.Open, 0, payload);
    expect(view(await b.recv(0, MessageKind.Open, 0))).toEqual(view(payload));
    // On the channel: a 40-byte header ("pad-ok" from "p1") and the 1024-byte bucket; the job counts payload bytes only.
    expect(main.stats().bytesReceived - before).toBe(40 + 1024);
    expect(b.stats().bytesReceived).toBe(1000);
    await sender.send(1, MessageKind.Open, 0, payload);
    expect(view(await plain.recv(0, MessageKind.Open, 0))).toEqual(view(payload));
  });

  it('keeps its padding across the lane threads, both ways, and a lane’s unpadded message aborts it', async () => {
    const fed = await federation(setup, { p1: 1, p2: 1 });
    const big = Uint8Array.from({ length: LANE_MIN_BYTES + 12_345 }, (_, i) => (i * 7) & 0xff);
    const a = fed.mesh.p1.jobTransport('lane-pad', ['p1', 'p2'], { pad: true });
    const b = fed.mesh.p2.jobTransport('lane-pad', ['p1', 'p2'], { pad: true });
    cleanups.push(() => a.dispose(), () => b.dispose());
    await a.send(1, MessageKind.Open, 0, big);
    expect(view(await b.recv(0, MessageKind.Open, 0))).toEqual(view(big));
    await b.send(0, MessageKind.Open, 1, big);
    expect(view(await a.recv(1, MessageKind.Open, 1))).toEqual(view(big));
    for (const id of ['p1', 'p2']) expect(fed.lanes[id]!.stats()[0]).toMatchObject({ framesSent: 1, framesReceived: 1 });

    const strict = fed.mesh.p1.jobTransport('lane-unpadded', ['p1', 'p2'], { pad: true });
    const careless = fed.mesh.p2.jobTransport('lane-unpadded', ['p1', 'p2']);
    cleanups.push(() => strict.dispose(), () => careless.dispose());
    await careless.send(0, MessageKind.Open, 0, big);
    const e = await rejectionOf(strict.recv(1, MessageKind.Open, 0));
    expect(e.code).toBe(ErrorCode.PROTOCOL);
    expect(e.message).toMatch(/party p2 sent an unpadded message in job lane-unpadded/);
    expect(fed.lanes.p2!.stats()[0].framesSent).toBe(2);
  });

  it('computes the right product, a full chunk on a lane and the rest on the main channel', async () => {
    const fed = await federation(setup, { p1: 1, p2: 1 });
    const width = MUL_CHUNK + 1000;
    const { plan } = product(['p1', 'p2'], width);
    const { data, expected } = productInputs(['p1', 'p2'], width);
    const r = await runOnMesh(setup, fed, plan, data, 'semi-honest', { pad: true });
    expect(r.analyst.z.every((v, i) => v === expected[i])).toBe(true);
    // The full chunk (16 bytes × 2^18, a power of two) is not padded further.
    expect(fed.lanes.p1!.stats()[0]).toMatchObject({ framesSent: 1, bytesSent: 16 * MUL_CHUNK });
  });
});
