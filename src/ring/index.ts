/**
 * The ring layer: Z_2^64 and Z_2^128 vector kernels, integer encoding and byte views, and the
 * seeded PRG. Kernels are namespaced (`z64.add`, `z128.add`) because both rings share names.
 * @module
 */

export * as z64 from './z64.ts';
export * as z128 from './z128.ts';
export * as z192 from './z192.ts';
export type { Z128Vec } from './z128.ts';
export {
  encodeInt,
  encodeIntVector,
  decodeInt,
  toJsonInt,
  toJsonIntVector,
  u64ToBytes,
  bytesToU64,
} from './encoding.ts';
export { Prg, randomSeed, deriveSeed, prgKey, expandRegion, SEED_BYTES } from './prg.ts';
export type { PrgRegion } from './prg.ts';
