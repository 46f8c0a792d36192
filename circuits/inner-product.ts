// Σ x[i]·y[i] of p1's x and p2's y: one layer of x.length multiplications, one round.
import { circuit } from '../src/circuit/index.ts';

export default circuit({ name: 'inner-product', parties: ['p1', 'p2'] }, (c) => {
  const x = c.vector('p1', 'x');
  const y = c.vector('p2', 'y');
  c.reveal('dot', x.dot(y));
});
