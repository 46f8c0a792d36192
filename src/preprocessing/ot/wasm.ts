/**
 * The little WebAssembly the OT layer assembles itself (transpose.ts, chi.ts): binary
 * encoding helpers and the part of the JS API it uses. Kernels are built from opcodes in the
 * module that uses them, so no binary blob or build step is involved.
 * @module
 */

/** Unsigned LEB128. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** A module section: id, size, body. */
export function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/** A name as the binary format spells it (length, then the bytes). */
export function name(s: string): number[] {
  return [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

/** The part of the WebAssembly JS API used here (the project compiles with lib ES2022, which lacks its types). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (desc: { initial: number }) => { buffer: ArrayBuffer };
}

export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * `assemble()`'s module compiled once per thread on first use (modules are immutable code;
 * instances, each with memory of its own, hold any state), or null when WebAssembly SIMD is
 * unavailable or `MPC_NO_WASM=1`.
 */
export function compiledOnce(assemble: () => Uint8Array): () => object | null {
  let compiled: object | null | undefined;
  return () => {
    if (compiled === undefined) {
      compiled = null;
      if (process.env.MPC_NO_WASM !== '1' && wasmApi !== undefined) {
        const bytes = assemble();
        if (wasmApi.validate(bytes)) compiled = new wasmApi.Module(bytes);
      }
    }
    return compiled;
  };
}
