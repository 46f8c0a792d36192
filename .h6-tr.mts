import { transpose128, transpose128Js, transposeReference, untranspose128, Transposer } from './src/preprocessing/ot/transpose.ts';
import { randomFillSync } from 'node:crypto';
for (const n of [128, 1024, 65536 + 128 * 3, 1 << 18]) {
  const cols = randomFillSync(new Uint8Array(16 * n));
  const ref = transposeReference(cols, 128, n);
  const a = transpose128(cols, n), b = transpose128Js(cols, n);
  const back = untranspose128(a, n);
  console.log(n, a.every((v, i) => v === ref[i]), b.every((v, i) => v === ref[i]), back.every((v, i) => v === cols[i]));
}
const n = 1 << 18; const cols = randomFillSync(new Uint8Array(16 * n)); const T = new Transposer(); console.log('wasm', T.wasm);
const out = new Uint8Array(16 * n);
for (const [nm, f] of [['wasm', () => T.transpose(cols, n, out)], ['js', () => transpose128Js(cols, n, out)]] as const) {
  let t = performance.now(), c = 0; while (performance.now() - t < 1000) { f(); c++; }
  console.log(nm, (c * 16 * n / (performance.now() - t) / 1e3).toFixed(0), 'MB/s');
}
