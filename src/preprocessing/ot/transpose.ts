/**
 * Bit-matrix transposition between the two shapes of an OT-extension matrix [IKNP03]:
 * the protocol expands and corrects it column by column (128 columns of m bits, one per base
 * OT), and hashes it row by row (m rows of 128 bits, one per extended OT).
 *
 * Bit order everywhere is little-endian and LSB-first: bit c of a row of bits is bit (c & 7)
 * of byte (c >> 3). So column j of the column form holds bit j of every row, and row i of the
 * row form is 16 bytes whose bit j is bit i of column j.
 *
 * Algorithm: Eklundh's recursive transposition, on 64 × 64 blocks of 64-bit words. A block
 * is transposed in place by six rounds of "delta swaps": in round s (32, 16, …, 1) the bits
 * of row k whose column has bit s set trade places with the bits of row k + s whose column
 * has bit s clear — which, for the six bits of the row and column indices, exchanges the two
 * indices, i.e. transposes. Every BigInt expression is wrapped in `BigInt.asUintN(64, …)` so
 * V8 runs the loop on native 64-bit words (ARCHITECTURE.md §5): ~0.3 word operations per bit,
 * several hundred MB/s on one core. The block level above the 64 × 64 blocks is pure
 * addressing, so it costs nothing.
 *
 * Fast path: the same algorithm on 128 × 128 blocks in WebAssembly SIMD (v128 rows, seven
 * rounds; the 64-bit round is a lane shuffle, the others i64x2 shifts), several times faster
 * again. The module is assembled below from its opcodes (no toolchain, no binary blob) and is
 * used whenever the runtime validates it, unless `MPC_NO_WASM=1` (STYLE.md habit 7: every
 * fast path can be switched off, and the tests run both paths against the reference).
 * @module
 */
import { describeKind } from '../../util/describe.ts';
import { compiledOnce, leb, name, section, wasmApi } from './wasm.ts';

function checkN(fn: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n % 64 !== 0) {
    throw new RangeError(`${fn}: n: expected a non-negative multiple of 64, got ${String(n)}`);
  }
}

function checkBytes(fn: string, what: string, b: unknown, bytes: number): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${fn}: ${what}: expected Uint8Array, got ${describeKind(b)}`);
  if (b.length !== bytes) throw new RangeError(`${fn}: ${what}: expected Uint8Array of length ${bytes}, got length=${b.length}`);
}

/** A 64-bit view of `b`, copying only when `b` is not 8-byte aligned. */
function words(b: Uint8Array): BigUint64Array {
  if (b.byteOffset % 8 === 0) return new BigUint64Array(b.buffer, b.byteOffset, b.length >>> 3);
  const w = new BigUint64Array(b.length >>> 3);
  new Uint8Array(w.buffer).set(b);
  return w;
}

/**
 * Transposes the 64 × 64 bit block held in `a` (word k = row k, bit c = column c) in place.
 * Constants are literals and the rounds are written out: TurboFan folds neither module
 * constants nor BigInt helpers into the loop (see ring/z128.ts).
 */
function transpose64(a: BigUint64Array): void {
  for (let k = 0; k < 32; k++) {
    const x = a[k];
    const y = a[k + 32];
    const t = BigInt.asUintN(64, BigInt.asUintN(64, (x >> 32n) ^ y) & 0x00000000ffffffffn);
    a[k + 32] = BigInt.asUintN(64, y ^ t);
    a[k] = BigInt.asUintN(64, x ^ BigInt.asUintN(64, t << 32n));
  }
  for (let b = 0; b < 64; b += 32) {
    for (let k = b; k < b + 16; k++) {
      const x = a[k];
      const y = a[k + 16];
      const t = BigInt.asUintN(64, BigInt.asUintN(64, (x >> 16n) ^ y) & 0x0000ffff0000ffffn);
      a[k + 16] = BigInt.asUintN(64, y ^ t);
      a[k] = BigInt.asUintN(64, x ^ BigInt.asUintN(64, t << 16n));
    }
  }
  for (let b = 0; b < 64; b += 16) {
    for (let k = b; k < b + 8; k++) {
      const x = a[k];
      const y = a[k + 8];
      const t = BigInt.asUintN(64, BigInt.asUintN(64, (x >> 8n) ^ y) & 0x00ff00ff00ff00ffn);
      a[k + 8] = BigInt.asUintN(64, y ^ t);
      a[k] = BigInt.asUintN(64, x ^ BigInt.asUintN(64, t << 8n));
    }
  }
  for (let b = 0; b < 64; b += 8) {
    for (let k = b; k < b + 4; k++) {
      const x = a[k];
      const y = a[k + 4];
      const t = BigInt.asUintN(64, BigInt.asUintN(64, (x >> 4n) ^ y) & 0x0f0f0f0f0f0f0f0fn);
      a[k + 4] = BigInt.asUintN(64, y ^ t);
      a[k] = BigInt.asUintN(64, x ^ BigInt.asUintN(64, t << 4n));
    }
  }
  for (let b = 0; b < 64; b += 4) {
    for (let k = b; k < b + 2; k++) {
      const x = a[k];
      const y = a[k + 2];
      const t = BigInt.asUintN(64, BigInt.asUintN(64, (x >> 2n) ^ y) & 0x3333333333333333n);
      a[k + 2] = BigInt.asUintN(64, y ^ t);
      a[k] = BigInt.asUintN(64, x ^ BigInt.asUintN(64, t << 2n));
    }
  }
  for (let k = 0; k < 64; k += 2) {
    const x = a[k];
    const y = a[k + 1];
    const t = BigInt.asUintN(64, BigInt.asUintN(64, (x >> 1n) ^ y) & 0x5555555555555555n);
    a[k + 1] = BigInt.asUintN(64, y ^ t);
    a[k] = BigInt.asUintN(64, x ^ BigInt.asUintN(64, t << 1n));
  }
}

// --- WebAssembly SIMD kernel ---------------------------------------------------------------

/**
 * Assembles `transpose(src, dst, rowBytes, blocks)`, which for each block I < blocks reads
 * the 16 bytes at src + j·rowBytes + 16·I of the 128 columns j, transposes that 128 × 128
 * bit block in 128 v128 locals, and writes its 128 rows to dst + 2048·I. Memory is imported
 * as env.mem. The code is straight-line per block (~23 KB), so no index arithmetic runs
 * inside the rounds.
 */
function assembleKernel(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const [SRC, DST, ROW, N, I, P, D] = [0, 1, 2, 3, 4, 5, 6]; // params, then i32 locals
  const R = 7; // 128 v128 locals: the rows of the block
  const T = R + 128; // temporary
  const M = T + 1; // six masks
  const c: number[] = [];
  const get = (i: number): void => void c.push(0x20, ...leb(i));
  const set = (i: number): void => void c.push(0x21, ...leb(i));
  const i32 = (v: number): void => void c.push(0x41, ...leb(v)); // v < 64: the signed LEB is the same
  const simd = (op: number): void => void c.push(0xfd, ...leb(op));
  const V128_LOAD = 0x00, V128_STORE = 0x0b, V128_CONST = 0x0c, SHUFFLE = 0x0d, AND = 0x4e, XOR = 0x51, SHL = 0xcb, SHR_U = 0xcd;
  const masks = [0x00000000ffffffffn, 0x0000ffff0000ffffn, 0x00ff00ff00ff00ffn, 0x0f0f0f0f0f0f0f0fn, 0x3333333333333333n, 0x5555555555555555n];
  masks.forEach((m, k) => {
    simd(V128_CONST);
    for (let lane = 0; lane < 2; lane++) for (let b = 0; b < 8; b++) c.push(Number((m >> BigInt(8 * b)) & 0xffn));
    set(M + k);
  });
  i32(0);
  set(I);
  c.push(0x02, 0x40); // block
  get(I), get(N), c.push(0x4f, 0x0d, 0); // if I >= blocks: br out
  c.push(0x03, 0x40); // loop
  get(SRC), get(I), i32(4), c.push(0x74, 0x6a), set(P); // P = src + 16·I
  for (let k = 0; k < 128; k++) {
    get(P), simd(V128_LOAD), c.push(4, 0), set(R + k);
    get(P), get(ROW), c.push(0x6a), set(P);
  }
  // Round 64: rows k and k + 64 trade 64-bit lanes: k ← (k.lo, k+64.lo), k+64 ← (k.hi, k+64.hi).
  for (let k = 0; k < 64; k++) {
    get(R + k), get(R + k + 64), simd(SHUFFLE), c.push(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), set(T);
    get(R + k), get(R + k + 64), simd(SHUFFLE), c.push(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), set(R + k + 64);
    get(T), set(R + k);
  }
  // Rounds 32..1: delta swaps within each 64-bit lane, as in transpose64.
  [32, 16, 8, 4, 2, 1].forEach((sh, mk) => {
    for (let k = 0; k < 128; k++) {
      if (k & sh) continue;
      const a = R + k;
      const b = R + k + sh;
      get(a), i32(sh), simd(SHR_U), get(b), simd(XOR), get(M + mk), simd(AND), set(T); // t = ((a >> s) ^ b) & m
      get(b), get(T), simd(XOR), set(b); // b ^= t
      get(a), get(T), i32(sh), simd(SHL), simd(XOR), set(a); // a ^= t << s
    }
  });
  get(DST), get(I), i32(11), c.push(0x74, 0x6a), set(D); // D = dst + 2048·I
  for (let k = 0; k < 128; k++) get(D), get(R + k), simd(V128_STORE), c.push(4, ...leb(16 * k));
  get(I), i32(1), c.push(0x6a, 0x22, ...leb(I)), get(N), c.push(0x49, 0x0d, 0); // ++I < blocks: continue
  c.push(0x0b, 0x0b, 0x0b); // end loop, end block, end function
  const body = [...leb(2), ...leb(3), I32, ...leb(128 + 1 + masks.length), V128, ...c];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 0]), // type: (i32 i32 i32 i32) → ()
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]), // import env.mem, ≥ 1 page
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name('transpose'), 0x00, 0]), // export it
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** The compiled kernel, or null when WebAssembly SIMD is unavailable or `MPC_NO_WASM=1`. */
const kernelModule = compiledOnce(assembleKernel);

/** Rows per kernel call: bounds the instance's memory (2 MB) whatever the batch size. */
export const CHUNK_ROWS = 1 << 16;

/**
 * The column form of a matrix: either one buffer of 128 consecutive columns, or 128 separate
 * column buffers (as the OT extension's PRG streams produce them, which saves a copy).
 */
export type Columns = Uint8Array | readonly Uint8Array[];

function checkColumns(fn: string, cols: unknown, n: number): void {
  if (Array.isArray(cols)) {
    if (cols.length !== 128) throw new RangeError(`${fn}: cols: expected 128 columns, got ${cols.length}`);
    for (let j = 0; j < 128; j++) checkBytes(fn, `cols[${j}]`, cols[j], n >>> 3);
  } else {
    checkBytes(fn, 'cols', cols, 16 * n);
  }
}

/** Bytes [from, to) of column j. */
function columnPart(cols: Columns, j: number, colBytes: number, from: number, to: number): Uint8Array {
  return cols instanceof Uint8Array ? cols.subarray(j * colBytes + from, j * colBytes + to) : cols[j].subarray(from, to);
}

function contiguous(cols: Columns, n: number): Uint8Array {
  if (cols instanceof Uint8Array) return cols;
  const out = new Uint8Array(16 * n);
  for (let j = 0; j < 128; j++) out.set(cols[j], j * (n >>> 3));
  return out;
}

/**
 * A reusable transposer: owns one WebAssembly instance and its 2 MB of memory, so sessions
 * that transpose every batch do not instantiate per call. Falls back to the JavaScript path
 * when the kernel is unavailable. Not reentrant across threads (one per thread, like any object).
 */
export class Transposer {
  readonly #run: ((src: number, dst: number, rowBytes: number, blocks: number) => void) | null;
  readonly #mem: Uint8Array | null;

  constructor(opts: { wasm?: boolean } = {}) {
    const mod = opts.wasm === false ? null : kernelModule();
    if (mod === null) {
      this.#run = null;
      this.#mem = null;
      return;
    }
    const memory = new wasmApi!.Memory({ initial: (2 * 16 * CHUNK_ROWS) / 65536 });
    const inst = new wasmApi!.Instance(mod, { env: { mem: memory } });
    this.#run = inst.exports.transpose as (src: number, dst: number, rowBytes: number, blocks: number) => void;
    this.#mem = new Uint8Array(memory.buffer);
  }

  /** Whether this transposer uses the WebAssembly SIMD kernel. */
  get wasm(): boolean {
    return this.#run !== null;
  }

  /**
   * Transposes `cols` (128 columns of `n` bits) chunk by chunk and calls
   * `visit(rows, row0, count)` with the row form of rows [row0, row0 + count), in order, in
   * chunks of CHUNK_ROWS rows (the last one shorter) on either path. The view is only valid
   * during the call (its memory is reused for the next chunk), which lets a caller hash rows
   * while they are still in cache instead of materialising the whole row form.
   */
  forEachRows(cols: Columns, n: number, visit: (rows: Uint8Array, row0: number, count: number) => void): void {
    checkN('Transposer.forEachRows', n);
    checkColumns('Transposer.forEachRows', cols, n);
    if (this.#run === null || this.#mem === null || n % 128 !== 0) {
      // Same chunks as the kernel path, so callers see one behaviour whichever path runs.
      const all = transpose128Js(contiguous(cols, n), n);
      for (let r0 = 0; r0 < n; r0 += CHUNK_ROWS) {
        const rows = Math.min(CHUNK_ROWS, n - r0);
        visit(all.subarray(16 * r0, 16 * (r0 + rows)), r0, rows);
      }
      return;
    }
    const mem = this.#mem;
    const colBytes = n >>> 3;
    const dst = 16 * CHUNK_ROWS;
    for (let r0 = 0; r0 < n; r0 += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - r0);
      const rb = rows >>> 3;
      // Gather this chunk of every column into contiguous columns of rb bytes.
      for (let j = 0; j < 128; j++) mem.set(columnPart(cols, j, colBytes, r0 >>> 3, (r0 >>> 3) + rb), j * rb);
      this.#run(0, dst, rb, rows >>> 7);
      visit(mem.subarray(dst, dst + 16 * rows), r0, rows);
    }
  }

  /** Column form → row form, as `transpose128`. */
  transpose(cols: Columns, n: number, out?: Uint8Array): Uint8Array {
    const o = out ?? new Uint8Array(16 * n);
    checkBytes('Transposer.transpose', 'out', o, 16 * n);
    this.forEachRows(cols, n, (rows, row0) => o.set(rows, 16 * row0));
    return o;
  }
}

/**
 * Column form → row form: `cols` holds 128 columns of `n` bits each (column j in bytes
 * [j·n/8, (j+1)·n/8)); the result holds `n` rows of 128 bits (row i in bytes [16i, 16i + 16)).
 * `n` must be a multiple of 64.
 * @example
 * const rows = transpose128(cols, 1024); // rows.length === 1024 * 16
 */
export function transpose128(cols: Uint8Array, n: number, out?: Uint8Array): Uint8Array {
  return new Transposer().transpose(cols, n, out);
}

/** The JavaScript path of `transpose128` (64 × 64 blocks of BigInt words). */
export function transpose128Js(cols: Uint8Array, n: number, out?: Uint8Array): Uint8Array {
  checkN('transpose128', n);
  checkBytes('transpose128', 'cols', cols, 16 * n);
  const o = out ?? new Uint8Array(16 * n);
  checkBytes('transpose128', 'out', o, 16 * n);
  const src = words(cols);
  const dst = o.byteOffset % 8 === 0 ? new BigUint64Array(o.buffer, o.byteOffset, 2 * n) : new BigUint64Array(2 * n);
  const wpr = n >>> 6; // 64-bit words per column
  const a = new BigUint64Array(64);
  for (let J = 0; J < 2; J++) {
    for (let I = 0; I < wpr; I++) {
      // Block (J, I): columns 64J..64J+63, rows 64I..64I+63.
      for (let k = 0; k < 64; k++) a[k] = src[(64 * J + k) * wpr + I];
      transpose64(a);
      const base = 128 * I + J;
      for (let k = 0; k < 64; k++) dst[base + 2 * k] = a[k];
    }
  }
  if (dst.buffer !== o.buffer) o.set(new Uint8Array(dst.buffer));
  return o;
}

/** Row form → column form: the inverse of `transpose128`. */
export function untranspose128(rows: Uint8Array, n: number, out?: Uint8Array): Uint8Array {
  checkN('untranspose128', n);
  checkBytes('untranspose128', 'rows', rows, 16 * n);
  const o = out ?? new Uint8Array(16 * n);
  checkBytes('untranspose128', 'out', o, 16 * n);
  const src = words(rows);
  const dst = o.byteOffset % 8 === 0 ? new BigUint64Array(o.buffer, o.byteOffset, 2 * n) : new BigUint64Array(2 * n);
  const wpr = n >>> 6;
  const a = new BigUint64Array(64);
  for (let J = 0; J < 2; J++) {
    for (let I = 0; I < wpr; I++) {
      const base = 128 * I + J;
      for (let k = 0; k < 64; k++) a[k] = src[base + 2 * k];
      transpose64(a);
      for (let k = 0; k < 64; k++) dst[(64 * J + k) * wpr + I] = a[k];
    }
  }
  if (dst.buffer !== o.buffer) o.set(new Uint8Array(dst.buffer));
  return o;
}

/**
 * Reference transposition, one bit at a time, for tests: `src` is `rows` rows of `cols` bits
 * (each row ⌈cols/8⌉ bytes, LSB-first); the result is `cols` rows of `rows` bits.
 */
export function transposeReference(src: Uint8Array, rows: number, cols: number): Uint8Array {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
    throw new RangeError(`transposeReference: expected non-negative integer dimensions, got ${rows} × ${cols}`);
  }
  const inRow = Math.ceil(cols / 8);
  const outRow = Math.ceil(rows / 8);
  checkBytes('transposeReference', 'src', src, rows * inRow);
  const out = new Uint8Array(cols * outRow);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const bit = (src[r * inRow + (c >> 3)] >> (c & 7)) & 1;
      out[c * outRow + (r >> 3)] |= bit << (r & 7);
    }
  }
  return out;
}
