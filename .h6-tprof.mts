import { memoryNetwork } from './src/protocol/memory.ts';
import { OtTripleGenerator } from './src/preprocessing/ot/triples.ts';
const ts = memoryNetwork(2);
const sessionId = new Uint8Array(32).fill(5);
const gens = await Promise.all(ts.map((transport) => OtTripleGenerator.setup({ transport, sessionId, batchSize: +(process.argv[2] ?? 8192) })));
const count = 1 << 16;
const t = performance.now();
for (let rep = 0; rep < 4; rep++) await Promise.all(gens.map((g) => g.generate(count)));
console.log('triples/s', (4 * count / (performance.now() - t) * 1000).toFixed(0));
