// Mean and population standard deviation of three parties' real-valued measurements,
// |v| ≤ 10^4, up to 10^5 values in all, computed inside the circuit in fixed point
// (16 fractional bits); absolute error below 10^-3 (README "Statistics").
import { circuit } from '../src/circuit/index.ts';
import { mean, stddev } from '../src/circuit/stats.ts';

export default circuit({ name: 'mean-fixed', parties: ['p1', 'p2', 'p3'] }, (c) => {
  const v = c.concat(c.parties.map((p) => c.fixed(p, 'v', { min: -1e4, max: 1e4 })));
  c.reveal('mean', mean(v));
  c.reveal('stddev', stddev(v));
});
