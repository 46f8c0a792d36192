// Mean and standard deviation of sensor readings with a large offset: three parties'
// measurements around 10^7, declared within ±2·10^7. Squaring deviations of up to 4·10^7 at
// full precision needs more than 64 bits, so the compiler runs this circuit in Z_2^128
// (32 fractional bits); `mpc compile circuits/wide-stats.ts` says so and why, and
// `npx mpc run circuits/wide-stats.ts` runs it under SPDZ2k at k = 128 (README "Value domains").
import { circuit } from '../src/circuit/index.ts';
import { mean, stddev } from '../src/circuit/stats.ts';

const parties = ['p1', 'p2', 'p3'];

export default circuit({ name: 'wide-stats', parties, description: 'mean and standard deviation of readings around 10^7' }, (c) => {
  const readings = c.concat(parties.map((p) => c.fixed(p, 'readings', { min: -2e7, max: 2e7 })));
  c.reveal('mean', mean(readings));
  c.reveal('stddev', stddev(readings));
});
