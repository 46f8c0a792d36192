import { memoryNetwork } from './src/protocol/memory.ts';
import { OtTripleGenerator } from './src/preprocessing/ot/triples.ts';
for (const n of [2, 3]) {
  const ts = memoryNetwork(n);
  const sessionId = new Uint8Array(32).fill(5);
  let t = performance.now();
  const gens = await Promise.all(ts.map((transport) => OtTripleGenerator.setup({ transport, sessionId })));
  console.log(n, 'setup ms', (performance.now() - t).toFixed(0));
  const before = ts.map((x) => x.stats().bytesSent).reduce((a, b) => a + b);
  const count = 1 << 16;
  for (let rep = 0; rep < 3; rep++) {
    const b0 = ts.map((x) => x.stats().bytesSent).reduce((a, b) => a + b);
    t = performance.now();
    const sh = await Promise.all(gens.map((g) => g.generate(count)));
    const dt = performance.now() - t;
    const b1 = ts.map((x) => x.stats().bytesSent).reduce((a, b) => a + b);
    let ok = true;
    for (let k = 0; k < count; k++) { let a = 0n, b = 0n, c = 0n; for (const s of sh) { a += s.a[k]; b += s.b[k]; c += s.c[k]; } if (BigInt.asUintN(64, a * b) !== BigInt.asUintN(64, c)) { ok = false; break; } }
    console.log(n, 'ok', ok, 'triples/s', (count / dt * 1000).toFixed(0), 'bytes/triple', ((b1 - b0) / count).toFixed(1));
  }
}
