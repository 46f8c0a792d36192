/**
 * The KOS consistency check's heavy step, Σ_i χ_i·row_i in GF(2^128) over the *column* form
 * of an OT-extension matrix (extension.ts `chiCombineColumns` explains the method): the GF(2)
 * matrix product y_b = ⊕_{i : col_b[i] = 1} χ_i by the "four Russians" method, one 256-entry
 * table of XOR-combinations per group of 8 rows, one lookup per column and group.
 *
 * Here as a WebAssembly SIMD kernel assembled from opcodes (as transpose.ts's): the 128
 * accumulators y_b live in v128 locals for a whole call, the table is built by 255
 * straight-line 16-byte XORs whose addresses are constants, and the 128 lookups of a group are
 * straight-line too. Measured on this machine: ~4–6× the JavaScript version (which works on
 * 32-bit words, 4 XORs per entry), so the check stops dominating malicious OT extension.
 *
 * Memory of an instance: the table at 0 (4 KiB, entry 0 stays zero), y at 4096 (2 KiB),
 * then one chunk of χ (16 bytes per row) and of the columns (128 × rows/8 bytes).
 * @module
 */
import { compiledOnce, leb, name, section, wasmApi } from './wasm.ts';

/** Rows per kernel call (bounds the instance's memory at ~0.5 MiB). */
export const CHI_CHUNK_ROWS = 1 << 14;

const Y_OFF = 4096;
const CHI_OFF = 8192;
const COLS_OFF = CHI_OFF + 16 * CHI_CHUNK_ROWS;
const MEM_BYTES = COLS_OFF + 16 * CHI_CHUNK_ROWS;

/** `combine(chi, cols, colBytes, groups)`: y_b ^= ⊕ over the groups' rows (see the module comment). */
function assembleChi(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const [CHI, COLS, CB, N, G, Q, CG] = [0, 1, 2, 3, 4, 5, 6];
  const Y = 7; // 128 v128 locals
  const c: number[] = [];
  const get = (i: number): void => void c.push(0x20, ...leb(i));
  const set = (i: number): void => void c.push(0x21, ...leb(i));
  const zero = (): void => void c.push(0x41, 0);
  const load = (offset: number): void => void c.push(0xfd, 0x00, 4, ...leb(offset));
  const store = (offset: number): void => void c.push(0xfd, 0x0b, 4, ...leb(offset));
  const xor = (): void => void c.push(0xfd, ...leb(0x51));
  const ADD = 0x6a, SHL = 0x74, GE_U = 0x4f, LT_U = 0x49;
  for (let b = 0; b < 128; b++) zero(), load(Y_OFF + 16 * b), set(Y + b);
  zero(), set(G);
  c.push(0x02, 0x40); // block
  get(G), get(N), c.push(GE_U, 0x0d, 0); // G ≥ groups: br out
  c.push(0x03, 0x40); // loop
  get(CHI), get(G), c.push(0x41, 7, SHL, ADD), set(CG); // CG = chi + 128·G: χ of rows 8G … 8G + 7
  for (let v = 1; v < 256; v++) {
    const low = 31 - Math.clz32(v & -v);
    zero(); // store address base
    zero(), load(16 * (v & (v - 1))); // tab[v without its lowest bit]
    get(CG), load(16 * low); // χ of that bit's row
    xor(), store(16 * v);
  }
  get(COLS), get(G), c.push(ADD), set(Q); // Q = byte G of column 0
  for (let b = 0; b < 128; b++) {
    get(Y + b);
    get(Q), c.push(0x2d, 0, 0), c.push(0x41, 4, SHL), load(0); // tab[col_b byte G]
    xor(), set(Y + b);
    if (b < 127) get(Q), get(CB), c.push(ADD), set(Q);
  }
  get(G), c.push(0x41, 1, ADD, 0x22, ...leb(G)), get(N), c.push(LT_U, 0x0d, 0); // ++G < groups: continue
  c.push(0x0b, 0x0b); // end loop, end block
  for (let b = 0; b < 128; b++) zero(), get(Y + b), store(Y_OFF + 16 * b);
  c.push(0x0b); // end function
  const body = [...leb(2), ...leb(3), I32, ...leb(128), V128, ...c];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 0]), // type: (i32 i32 i32 i32) → ()
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]), // import env.mem, ≥ 1 page
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('combine'), 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

const chiModule = compiledOnce(assembleChi);

/**
 * A reusable χ-combiner with its own WebAssembly instance, or none (`available` false) when
 * WebAssembly SIMD is unavailable or `MPC_NO_WASM=1`.
 */
export class ChiCombiner {
  readonly #run: ((chi: number, cols: number, colBytes: number, groups: number) => void) | null = null;
  readonly #mem: Uint8Array | null = null;

  constructor() {
    const mod = chiModule();
    if (mod === null) return;
    const memory = new wasmApi!.Memory({ initial: Math.ceil(MEM_BYTES / 65536) });
    const inst = new wasmApi!.Instance(mod, { env: { mem: memory } });
    this.#run = inst.exports.combine as (chi: number, cols: number, colBytes: number, groups: number) => void;
    this.#mem = new Uint8Array(memory.buffer);
  }

  get available(): boolean {
    return this.#run !== null;
  }

  /**
   * y_b = ⊕_{i : bit i of column b} χ_i for the 128 columns (`column(b)` gives column b's
   * `rows` bits), as 128 × 16 bytes. `rows` is a multiple of 8.
   */
  columnSums(column: (b: number) => Uint8Array, chi: Uint8Array, rows: number): Uint8Array {
    const mem = this.#mem!;
    mem.fill(0, Y_OFF, Y_OFF + 2048);
    for (let r0 = 0; r0 < rows; r0 += CHI_CHUNK_ROWS) {
      const n = Math.min(CHI_CHUNK_ROWS, rows - r0);
      const g0 = r0 >>> 3;
      const gb = n >>> 3;
      mem.set(chi.subarray(16 * r0, 16 * (r0 + n)), CHI_OFF);
      for (let b = 0; b < 128; b++) mem.set(column(b).subarray(g0, g0 + gb), COLS_OFF + b * gb);
      this.#run!(CHI_OFF, COLS_OFF, gb, gb);
    }
    return mem.slice(Y_OFF, Y_OFF + 2048);
  }
}
