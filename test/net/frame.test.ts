// Read the first tests first: they pin the exact bytes of a small protocol frame (binary
// form, laid out by hand from the table in frame.ts) and of a small control frame (msgpack,
// computed by msgpackr 1.12 and checked by hand against the msgpack spec); the rest checks
// that decoding refuses everything else with MPC_ERR_FRAME.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import {
  ControlKind,
  decodeFrame,
  DEFAULT_FRAME_LIMITS,
  encodeFrame,
  encodeFrameParts,
  isControlKind,
  isProtocolKind,
  MIN_PADDED_PAYLOAD,
  paddedLength,
  PROTOCOL_VERSION,
} from '../../src/net/frame.ts';
import type { Frame } from '../../src/net/frame.ts';
import { MessageKind } from '../../src/protocol/transport.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const plain = new Packr({ useRecords: false });
const loose = new Packr({ useRecords: false, moreTypes: true, structuredClone: false });

function frameError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect((e as { code?: string }).code).toBe(ErrorCode.FRAME);
    return (e as Error).message;
  }
  throw new Error('expected a FRAME error');
}

/** Below the control kinds, above every protocol kind (checked in 'unknown kinds'). */
const UNUSED_KIND = 15;

const small: Frame = { v: PROTOCOL_VERSION, job: 'j1', round: 3, kind: MessageKind.Open, from: 'p1', seq: 7, payload: new Uint8Array([1, 2, 3, 255]) };
const smallControl: Frame = { ...small, round: 0, kind: ControlKind.OutputShare };

describe('frame encoding', () => {
  it('encodes a small protocol frame to pinned bytes (binary form)', () => {
    // 00 03 02 02        binary form, version 3, kind 2 (Open), from is 2 bytes
    // 0200 0000          job is 2 bytes, no flags
    // 04000000           payload is 4 bytes
    // 03000000 00000000  round 3
    // 07000000 00000000  seq 7
    // 6a31 7031          "j1", "p1": the header ends at 32, a multiple of 8, so no padding
    // 010203ff           payload
    const expected = '00030202' + '02000000' + '04000000' + '0300000000000000' + '0700000000000000' + '6a317031' + '010203ff';
    const bytes = encodeFrame(small);
    expect(hex(bytes)).toBe(expected);
    expect(decodeFrame(bytes)).toEqual(small);
    const parts = encodeFrameParts(small);
    expect(parts.payload).toBe(small.payload); // not copied
    expect(hex(parts.head)).toBe(expected.slice(0, 64));
    expect(parts.byteLength).toBe(36);
  });

  it('pads the binary header to a multiple of 8 with zeros', () => {
    const f: Frame = { ...small, job: 'job-7', round: 2 ** 53 - 1, seq: 2 ** 32 };
    const bytes = encodeFrame(f);
    // 28 + 5 + 2 = 35 → 40: five zero bytes of padding before the payload.
    expect(hex(bytes.subarray(12, 28))).toBe('ffffffffffff1f00' + '0000000001000000');
    expect(hex(bytes.subarray(28, 40))).toBe(Buffer.from('job-7p1').toString('hex') + '0000000000');
    expect(hex(bytes.subarray(40))).toBe('010203ff');
    expect(decodeFrame(bytes)).toEqual(f);
  });

  it('encodes a small control frame to pinned bytes (msgpack)', () => {
    // de 0007            map16, 7 entries (msgpackr always writes map16)
    // a1 76 03           "v": 3
    // a3 6a6f62 a2 6a31  "job": "j1"
    // a5 726f756e64 00   "round": 0
    // a4 6b696e64 15     "kind": 21 (OutputShare)
    // a4 66726f6d a2 7031 "from": "p1"
    // a3 736571 07       "seq": 7
    // a7 7061796c6f6164 c4 04 010203ff   "payload": bin8 of 4 bytes
    const expected =
      'de0007' + 'a17603' + 'a36a6f62a26a31' + 'a5726f756e6400' + 'a46b696e6415' + 'a466726f6da27031' + 'a373657107' + 'a77061796c6f6164c404010203ff';
    const bytes = encodeFrame(smallControl);
    expect(hex(bytes)).toBe(expected);
    expect(decodeFrame(bytes)).toEqual({ ...smallControl, payload: Buffer.from([1, 2, 3, 255]) });
  });

  it('decodes the same control frame written by another encoder (fixmap instead of map16)', () => {
    const fixmap = Buffer.from('87' + 'a17603' + 'a36a6f62a26a31' + 'a5726f756e6400' + 'a46b696e6415' + 'a466726f6da27031' + 'a373657107' + 'a77061796c6f6164c404010203ff', 'hex');
    expect(decodeFrame(fixmap)).toEqual({ ...smallControl, payload: Buffer.from([1, 2, 3, 255]) });
  });

  it('carries a 1 MiB payload verbatim behind an aligned header, and decodes it without a copy', () => {
    const payload = new Uint8Array(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
    const bytes = encodeFrame({ v: PROTOCOL_VERSION, job: 'job-42', round: 9, kind: MessageKind.Open, from: 'p2', seq: 123, payload });
    const head = bytes.length - payload.length;
    expect(head).toBe(40);
    expect(Buffer.compare(Buffer.from(bytes.subarray(head)), Buffer.from(payload))).toBe(0);
    const f = decodeFrame(bytes);
    expect(f.payload!.length).toBe(payload.length);
    expect(Buffer.compare(Buffer.from(f.payload!), Buffer.from(payload))).toBe(0);
    // Decoding does not copy: the payload is a view into the received bytes.
    expect(f.payload!.buffer).toBe(bytes.buffer);
    expect(f.payload!.byteOffset % 8).toBe(0);
  });

  it('round-trips control frames with a free-form body', () => {
    const body = { plan: { layers: [[1, 2], [3]] }, hash: new Uint8Array([9, 9]), big: 2n ** 63n, ok: true, none: null, text: 'é' };
    const f: Frame = { v: PROTOCOL_VERSION, job: 'j-7', round: 0, kind: ControlKind.JobSubmit, from: 'a1', seq: 0, body };
    const back = decodeFrame(encodeFrame(f));
    expect(back).toEqual({ ...f, body: { ...body, hash: Buffer.from([9, 9]) } });
    const withPayload: Frame = { v: PROTOCOL_VERSION, job: 'j-7', round: 0, kind: ControlKind.OutputShare, from: 'p1', seq: 1, payload: new Uint8Array(3), body: { name: 'sum' } };
    expect(decodeFrame(encodeFrame(withPayload)).payload).toEqual(Buffer.alloc(3));
  });

  it('has distinct control kinds, all >= 16 and clear of the protocol kinds', () => {
    const values = Object.values(ControlKind);
    expect(new Set(values).size).toBe(values.length);
    expect(Math.min(...values)).toBe(16);
    expect(Math.max(...Object.values(MessageKind))).toBeLessThan(16);
  });

  it('refuses to encode malformed frames (our bug, not a peer\'s)', () => {
    expect(() => encodeFrame({ ...small, payload: undefined })).toThrow(TypeError);
    expect(() => encodeFrame({ ...small, from: '' })).toThrow(RangeError);
    expect(() => encodeFrame({ ...small, from: 'x'.repeat(256) })).toThrow(RangeError);
    expect(() => encodeFrame({ ...small, round: 2 ** 53 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...small, body: {} })).toThrow(TypeError);
    expect(() => encodeFrame({ ...small, seq: -1 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...small, kind: 99 as never })).toThrow(RangeError);
  });
});

describe('frame decoding refuses', () => {
  const base = { v: PROTOCOL_VERSION, job: 'j1', round: 0, kind: ControlKind.OutputShare, from: 'p1', seq: 0, payload: new Uint8Array(1) };

  it('garbage and non-map values', () => {
    expect(frameError(() => decodeFrame(new Uint8Array(0)))).toMatch(/not a msgpack frame/);
    // 0xc1 is "never used" in msgpack; msgpackr yields a marker object, which is not a map.
    expect(frameError(() => decodeFrame(Buffer.from([0xc1])))).toMatch(/expected a msgpack map/);
    expect(frameError(() => decodeFrame(Buffer.from('de00ffa1', 'hex')))).toMatch(/not a msgpack frame/);
    expect(frameError(() => decodeFrame(plain.pack([1, 2, 3])))).toMatch(/expected a msgpack map, got array/);
    expect(frameError(() => decodeFrame(plain.pack('hello')))).toMatch(/expected a msgpack map/);
    expect(frameError(() => decodeFrame(plain.pack(null)))).toMatch(/expected a msgpack map/);
  });

  it('trailing bytes after the frame', () => {
    const b = Buffer.concat([encodeFrame(smallControl), Buffer.from([0x01])]);
    expect(frameError(() => decodeFrame(b))).toMatch(/not a msgpack frame/);
    const p = Buffer.concat([encodeFrame(small), Buffer.from([0x01])]);
    expect(frameError(() => decodeFrame(p))).toMatch(/binary frame of 37 bytes, its header announces 32 \+ 4/);
  });

  it('wrong field types', () => {
    expect(frameError(() => decodeFrame(plain.pack({ ...base, round: '3' })))).toMatch(/round/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, round: 1.5 })))).toMatch(/round/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, seq: -1 })))).toMatch(/seq/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, seq: 2n ** 60n })))).toMatch(/seq/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, job: 5 })))).toMatch(/job/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, from: '' })))).toMatch(/from/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, from: 'x'.repeat(300) })))).toMatch(/from/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, payload: 'bytes' })))).toMatch(/payload/);
    const { seq: _seq, ...noSeq } = base;
    expect(frameError(() => decodeFrame(plain.pack(noSeq)))).toMatch(/seq/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, extra: 1 })))).toMatch(/unknown key "extra"/);
  });

  it('a kind in the wrong form', () => {
    expect(frameError(() => decodeFrame(plain.pack({ ...base, kind: MessageKind.Open })))).toMatch(/protocol frame \(kind 2\) as a msgpack map/);
    const b = Buffer.from(encodeFrame(small));
    b[2] = ControlKind.JobAbort;
    expect(frameError(() => decodeFrame(b))).toMatch(/control frame \(kind 20\) in the binary form/);
  });

  it('binary frames that do not match their header', () => {
    const good = () => Buffer.from(encodeFrame(small));
    const bad = (edit: (b: Buffer) => void) => {
      const b = good();
      edit(b);
      return frameError(() => decodeFrame(b));
    };
    expect(frameError(() => decodeFrame(good().subarray(0, 20)))).toMatch(/shorter than its 28-byte header/);
    expect(frameError(() => decodeFrame(good().subarray(0, 35)))).toMatch(/header announces 32 \+ 4/);
    expect(bad((b) => (b[1] = 1))).toMatch(/unsupported protocol version 1/);
    expect(bad((b) => (b[2] = 99))).toMatch(/unknown frame kind number 99/);
    expect(bad((b) => (b[2] = UNUSED_KIND))).toMatch(/unknown frame kind number 15/);
    expect(bad((b) => (b[7] = 1))).toMatch(/unknown header flags 0x0100/);
    expect(bad((b) => (b[6] = 2))).toMatch(/unknown header flags 0x0002/);
    expect(bad((b) => (b[8] = 5))).toMatch(/header announces 32 \+ 5/);
    expect(bad((b) => (b[4] = 3))).toMatch(/announces 40 \+ 4/);
    // job "j1p1" and an empty from: the same 32-byte header.
    expect(bad((b) => ((b[3] = 0), (b[4] = 4)))).toMatch(/expected from to be a non-empty string/);
    expect(bad((b) => (b[30] = 0xff))).toMatch(/from is not valid UTF-8/);
    expect(bad((b) => (b[28] = 0xc3))).toMatch(/job is not valid UTF-8/);
    expect(bad((b) => b.writeUInt32LE(0x200000, 16))).toMatch(/round to be a safe integer/);
    expect(bad((b) => b.writeUInt32LE(0xffffffff, 24))).toMatch(/seq to be a safe integer/);
    // Padding must be zeros: job "job-7" leaves one byte of it at offset 35.
    const padded = Buffer.from(encodeFrame({ ...small, job: 'job-7' }));
    padded[35] = 1;
    expect(frameError(() => decodeFrame(padded))).toMatch(/nonzero header padding/);
    const limits = { ...DEFAULT_FRAME_LIMITS, maxStringLength: 3 };
    expect(frameError(() => decodeFrame(encodeFrame({ ...small, job: 'long-job' }), limits))).toMatch(/expected job/);
    expect(frameError(() => decodeFrame(encodeFrame({ ...small, from: 'long-id' }), limits))).toMatch(/expected from/);
  });

  it('unknown kinds', () => {
    expect(isProtocolKind(UNUSED_KIND) || isControlKind(UNUSED_KIND)).toBe(false);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, kind: 99 })))).toMatch(/unknown frame kind/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, kind: UNUSED_KIND })))).toMatch(/unknown frame kind/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, kind: '2' })))).toMatch(/unknown frame kind/);
  });

  it('unknown versions', () => {
    expect(frameError(() => decodeFrame(plain.pack({ ...base, v: 1 })))).toMatch(/unsupported protocol version/);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, v: undefined })))).toMatch(/unsupported protocol version/);
    // 2 since protocol frames got their binary header, 3 since they may be padded (header
    // bytes 6–7 became flags): a version-2 peer is refused at Hello.
    expect(PROTOCOL_VERSION).toBe(3);
    expect(frameError(() => decodeFrame(plain.pack({ ...base, v: 2 })))).toMatch(/unsupported protocol version number 2, expected 3/);
  });

  it('bodies with non-plain values or nested too deep', () => {
    const ctl = { ...base, kind: ControlKind.JobSubmit, payload: undefined };
    expect(frameError(() => decodeFrame(loose.pack({ ...ctl, body: { e: new Error('x') } })))).toMatch(/non-plain value \(Error\)/);
    expect(frameError(() => decodeFrame(loose.pack({ ...ctl, body: new Set([1]) })))).toMatch(/non-plain value \(Set\)/);
    expect(frameError(() => decodeFrame(loose.pack({ ...ctl, body: [/re/] })))).toMatch(/non-plain value \(RegExp\)/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(frameError(() => decodeFrame(plain.pack({ ...ctl, body: deep })))).toMatch(/nested deeper/);
    // Recursion bombs fail as FRAME, not with an uncaught stack overflow.
    expect(frameError(() => decodeFrame(Buffer.alloc(200_000, 0x91)))).toMatch(/not a msgpack frame/);
  });

  it('frames over the size limit', () => {
    const limits = { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: 100 };
    expect(frameError(() => decodeFrame(encodeFrame({ ...small, payload: new Uint8Array(200) }), limits))).toMatch(/exceeds the limit of 100/);
  });
});

// Padding (the job option `pad`): the payload is followed by zeros up to its bucket, a power
// of two of at least MIN_PADDED_PAYLOAD bytes. Refusals first, then the round trip.
describe('padded frames', () => {
  /** 300 bytes, none zero: a stretch of payload read as padding is caught. */
  const payload300 = Uint8Array.from({ length: 300 }, (_, i) => 1 + (i % 251));
  const padded300 = (): Buffer => Buffer.from(encodeFrame({ ...small, payload: payload300, padded: true }));

  it('refuse a length other than header + bucket', () => {
    const b = padded300();
    expect(b.length).toBe(32 + 512);
    expect(frameError(() => decodeFrame(b.subarray(0, b.length - 1)))).toMatch(/padded binary frame of 543 bytes, its header announces 32 \+ 300 padded to 512/);
    expect(frameError(() => decodeFrame(Buffer.concat([b, Buffer.alloc(1)])))).toMatch(/padded binary frame of 545 bytes/);
    // Padded one bucket too far.
    expect(frameError(() => decodeFrame(Buffer.concat([b, Buffer.alloc(512)])))).toMatch(/padded binary frame of 1056 bytes/);
    // An unpadded frame that merely sets the flag.
    const unpadded = Buffer.from(encodeFrame({ ...small, payload: payload300 }));
    unpadded[6] = 1;
    expect(frameError(() => decodeFrame(unpadded))).toMatch(/padded binary frame of 332 bytes, its header announces 32 \+ 300 padded to 512/);
    // A padded frame whose flag was cleared: the padding is trailing bytes.
    const cleared = padded300();
    cleared[6] = 0;
    expect(frameError(() => decodeFrame(cleared))).toMatch(/binary frame of 544 bytes, its header announces 32 \+ 300$/);
    // A payload length from another bucket.
    const shorter = padded300();
    shorter.writeUInt32LE(200, 8);
    expect(frameError(() => decodeFrame(shorter))).toMatch(/header announces 32 \+ 200 padded to 256/);
  });

  it('refuse padding that is not all zeros', () => {
    const last = padded300();
    last[last.length - 1] = 1;
    expect(frameError(() => decodeFrame(last))).toMatch(/nonzero payload padding/);
    const first = padded300();
    first[32 + 300] = 0x80;
    expect(frameError(() => decodeFrame(first))).toMatch(/nonzero payload padding/);
    // A shorter payload announced in the same bucket: bytes 280..300 of the real payload
    // would be its padding.
    const shorter = padded300();
    shorter.writeUInt32LE(280, 8);
    expect(frameError(() => decodeFrame(shorter))).toMatch(/nonzero payload padding/);
  });

  it('refuse unknown flag bits next to the padding flag', () => {
    const b = padded300();
    b[6] = 0x03;
    expect(frameError(() => decodeFrame(b))).toMatch(/unknown header flags 0x0003/);
  });

  it('refuse padding on a control frame, in either form', () => {
    expect(() => encodeFrame({ ...smallControl, padded: true })).toThrow(/control frame \(kind 21\) cannot be padded/);
    const binary = padded300();
    binary[2] = ControlKind.OutputShare;
    expect(frameError(() => decodeFrame(binary))).toMatch(/control frame \(kind 21\) in the binary form/);
    expect(frameError(() => decodeFrame(plain.pack({ ...smallControl, padded: true })))).toMatch(/unknown key "padded"/);
  });

  it('encodes a small padded frame to pinned bytes: the flag, the payload, then zeros', () => {
    const bytes = encodeFrame({ ...small, padded: true });
    // As the unpadded frame above but for the flags (0100) and 252 zeros after the payload.
    expect(hex(bytes.subarray(0, 36))).toBe('00030202' + '02000100' + '04000000' + '0300000000000000' + '0700000000000000' + '6a317031' + '010203ff');
    expect(bytes.length).toBe(32 + 256);
    expect(bytes.subarray(36).every((x) => x === 0)).toBe(true);
    const parts = encodeFrameParts({ ...small, padded: true });
    expect(parts).toMatchObject({ padded: true, padding: 252, byteLength: 288 });
    expect(parts.payload).toBe(small.payload); // not copied
    expect(decodeFrame(bytes)).toEqual({ ...small, padded: true });
    // An unpadded frame decodes without the key.
    expect('padded' in decodeFrame(encodeFrame(small))).toBe(false);
  });

  it('pads to powers of two of at least 256 bytes; a power of two stays as it is', () => {
    const table: Array<[number, number]> = [[0, 256], [1, 256], [256, 256], [257, 512], [1000, 1024], [4 << 20, 4 << 20], [(4 << 20) + 1, 8 << 20]];
    for (const [n, q] of table) expect(paddedLength(n)).toBe(q);
    expect(MIN_PADDED_PAYLOAD).toBe(256);
    expect(() => paddedLength(-1)).toThrow(RangeError);
    expect(() => paddedLength(1.5)).toThrow(RangeError);
  });

  it('round-trip for any payload length: header + bucket on the wire, the payload intact and not copied', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: 255 }), fc.string({ minLength: 0, maxLength: 12 }), (n, seed, job) => {
        const payload = Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
        const f: Frame = { ...small, job, payload, padded: true };
        const parts = encodeFrameParts(f);
        const bytes = encodeFrame(f);
        const q = bytes.length - parts.head.length;
        expect(q).toBe(paddedLength(n));
        expect(q & (q - 1)).toBe(0); // a power of two
        expect(q >= Math.max(n, MIN_PADDED_PAYLOAD) && (q === MIN_PADDED_PAYLOAD || q < 2 * n)).toBe(true);
        const back = decodeFrame(bytes);
        expect(back.padded).toBe(true);
        expect(back.job).toBe(job);
        expect(Buffer.compare(Buffer.from(back.payload!), Buffer.from(payload))).toBe(0);
        expect(back.payload!.buffer).toBe(bytes.buffer);
      }),
      { numRuns: 150 },
    );
  });
});
