// Bit-matrix transposition: both paths (WebAssembly SIMD and JavaScript) against the
// bit-by-bit reference on random inputs, including sizes that cross the kernel's chunks.
import { describe, expect, it } from 'vitest';
import { CHUNK_ROWS, transpose128, transpose128Js, Transposer, transposeReference, untranspose128 } from '../../../src/preprocessing/ot/transpose.ts';
import { hex, seeded } from './helpers.ts';

const random = seeded('transpose');

describe('transpose128', () => {
  const wasm = new Transposer();
  const js = new Transposer({ wasm: false });

  it('the WebAssembly kernel is used unless MPC_NO_WASM=1 (then both instances take the JS path)', () => {
    expect(wasm.wasm).toBe(process.env.MPC_NO_WASM !== '1');
    expect(js.wasm).toBe(false);
  });

  for (const n of [64, 128, 192, 1024, 4096, CHUNK_ROWS + 384]) {
    it(`128 × ${n} → ${n} × 128 matches the reference on both paths`, () => {
      const cols = random(16 * n);
      const want = hex(transposeReference(cols, 128, n));
      expect(hex(wasm.transpose(cols, n))).toBe(want);
      expect(hex(js.transpose(cols, n))).toBe(want);
      expect(hex(transpose128Js(cols, n))).toBe(want);
      expect(hex(transpose128(cols, n))).toBe(want);
    });
  }

  it('row i, bit j is column j, bit i (spot checks of the convention)', () => {
    const n = 256;
    const cols = new Uint8Array(16 * n);
    // column 5, bit 200; column 127, bit 0; column 64, bit 255
    for (const [j, i] of [[5, 200], [127, 0], [64, 255]]) cols[j * (n / 8) + (i >> 3)] |= 1 << (i & 7);
    const rows = transpose128(cols, n);
    const at = (i: number, j: number) => (rows[16 * i + (j >> 3)] >> (j & 7)) & 1;
    expect([at(200, 5), at(0, 127), at(255, 64), at(200, 6), at(5, 200 % 128)]).toEqual([1, 1, 1, 0, 0]);
  });

  it('untranspose128 inverts it', () => {
    const n = 2048;
    const cols = random(16 * n);
    expect(hex(untranspose128(transpose128(cols, n), n))).toBe(hex(cols));
  });

  it('takes 128 separate column buffers as well as one contiguous matrix', () => {
    const n = 1024;
    const cols = random(16 * n);
    const parts = Array.from({ length: 128 }, (_, j) => cols.slice(j * (n / 8), (j + 1) * (n / 8)));
    expect(hex(wasm.transpose(parts, n))).toBe(hex(wasm.transpose(cols, n)));
    expect(hex(js.transpose(parts, n))).toBe(hex(wasm.transpose(cols, n)));
  });

  it('forEachRows visits consecutive chunks that together are the row form', () => {
    const n = 2 * CHUNK_ROWS + 128;
    const cols = random(16 * n);
    const want = transposeReference(cols, 128, n);
    const seen: number[] = [];
    wasm.forEachRows(cols, n, (rows, row0, count) => {
      seen.push(row0, count);
      expect(hex(rows)).toBe(hex(want.subarray(16 * row0, 16 * (row0 + count))));
    });
    expect(seen).toEqual([0, CHUNK_ROWS, CHUNK_ROWS, CHUNK_ROWS, 2 * CHUNK_ROWS, 128]);
  });

  it('works on unaligned views', () => {
    const n = 128;
    const buf = random(16 * n + 3);
    const cols = buf.subarray(3);
    expect(hex(transpose128Js(cols, n))).toBe(hex(transposeReference(cols, 128, n)));
    expect(hex(untranspose128(transpose128(cols, n), n))).toBe(hex(cols));
  });

  it('refuses sizes that are not a multiple of 64 or buffers of the wrong length', () => {
    expect(() => transpose128(new Uint8Array(16 * 100), 100)).toThrow(/multiple of 64/);
    expect(() => transpose128(new Uint8Array(10), 64)).toThrow(/expected Uint8Array of length 1024/);
    expect(() => wasm.transpose(new Array(127).fill(new Uint8Array(8)), 64)).toThrow(/expected 128 columns/);
  });
});
