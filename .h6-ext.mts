import { memoryNetwork } from './src/protocol/memory.ts';
import { OtExtSender, OtExtReceiver, rotSenderKeys64, rotReceiverKeys64 } from './src/preprocessing/ot/extension.ts';
import { FixedKeyAes } from './src/preprocessing/ot/aes.ts';
import { randomFillSync } from 'node:crypto';
for (const malicious of [false, true]) {
const [t0, t1] = memoryNetwork(2);
const sessionId = new Uint8Array(32).fill(1);
let t = performance.now();
const [S, R] = await Promise.all([OtExtSender.setup({ transport: t0, peer: 1, sessionId, malicious }), OtExtReceiver.setup({ transport: t1, peer: 0, sessionId, malicious })]);
console.log('setup ms', performance.now() - t);
const aes = new FixedKeyAes();
for (const m of [1000, 1 << 20, 1 << 20]) {
  const ch = randomFillSync(new Uint8Array(Math.ceil(m / 8)));
  t = performance.now();
  const [sb, rb] = await Promise.all([S.extend(m), R.extend(ch, m)]);
  const t1x = performance.now();
  const { m0, m1 } = rotSenderKeys64(sb, aes);
  const h = rotReceiverKeys64(rb, aes);
  const t2 = performance.now();
  let ok = true;
  for (let i = 0; i < m; i++) { const c = (ch[i >> 3] >> (i & 7)) & 1; if (h[i] !== (c ? m1[i] : m0[i]) || h[i] === (c ? m0[i] : m1[i])) { ok = false; break; } }
  console.log(malicious ? 'mal' : 'sh', m, ok, 'extend ms', (t1x - t).toFixed(1), 'hash ms', (t2 - t1x).toFixed(1), 'M OT/s', (m / (t2 - t) / 1e3).toFixed(2));
}
}
