/**
 * How this package's worker threads load TypeScript: every worker (the kernel pool's,
 * src/node/pool.ts, and the lanes', src/net/lanes.ts) runs its .ts sources through tsx like
 * the main thread does. The loader is resolved from this package, so it works under
 * `node bin/mpc.js`, `node --import tsx` and vitest alike, from any working directory.
 * @module
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const resolve = createRequire(import.meta.url).resolve;

/** `execArgv` for a worker thread whose entry is JavaScript (piscina's) and imports TypeScript. */
export const TSX_EXEC_ARGV: readonly string[] = ['--import', pathToFileURL(resolve('tsx')).href];

/**
 * Source of a worker (`new Worker(src, { eval: true })`) that runs the TypeScript module at
 * `moduleUrl`. Node checks a worker script's file extension before any loader runs, so the
 * module is imported from this bootstrap, after registering tsx's hooks in the worker itself
 * (as bin/mpc.js does for the main thread).
 */
export function tsxWorkerSource(moduleUrl: URL): string {
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
}
