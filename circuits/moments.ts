// Count, sum and sum of squares of three parties' vectors; mean and population variance
// are computed by the recipient from those three revealed moments, which disclose exactly
// what mean and variance disclose (count is public anyway: vector lengths are).
import { circuit } from '../src/circuit/index.ts';

export default circuit({ name: 'moments', parties: ['p1', 'p2', 'p3'] }, (c) => {
  const vs = c.parties.map((p) => c.vector(p, 'v'));
  c.reveal('count', vs.reduce((n, v) => n + v.length, 0));
  c.reveal('sum', c.sum(vs.map((v) => v.sum())));
  c.reveal('sumOfSquares', c.sum(vs.map((v) => v.dot(v))));
  c.derive('mean', 'sum / count');
  c.derive('variance', 'sumOfSquares / count - (sum / count)^2');
});
