import { memoryNetwork } from './src/protocol/memory.ts';
import { OtExtSender, OtExtReceiver, rotSenderKeys64, rotReceiverKeys64 } from './src/preprocessing/ot/extension.ts';
import { FixedKeyAes } from './src/preprocessing/ot/aes.ts';
import { randomFillSync } from 'node:crypto';
const malicious = process.argv[2] === 'mal';
const [t0, t1] = memoryNetwork(2);
const sessionId = new Uint8Array(32).fill(1);
const [S, R] = await Promise.all([OtExtSender.setup({ transport: t0, peer: 1, sessionId, malicious }), OtExtReceiver.setup({ transport: t1, peer: 0, sessionId, malicious })]);
const aes = new FixedKeyAes();
const m = 1 << 20;
const ch = randomFillSync(new Uint8Array(m / 8));
const t = performance.now();
for (let k = 0; k < 8; k++) {
  const [sb, rb] = await Promise.all([S.extend(m), R.extend(ch, m)]);
  rotSenderKeys64(sb, aes); rotReceiverKeys64(rb, aes);
}
console.log('M OT/s', (8 * m / (performance.now() - t) / 1e3).toFixed(2));
