// Ordinary least squares y ≈ β0 + β1·x1 + β2·x2 over vertically partitioned data: p1 holds
// the regressors x1, x2 and p2 the outcome y of the same rows (|values| ≤ 100, up to 10^4
// rows). Normal equations on centred data, solved by Gaussian elimination (two secret
// divisions, src/circuit/lib/regression.ts); reveals beta = [β0, β1, β2].
import { circuit } from '../src/circuit/index.ts';
import { ols } from '../src/circuit/stats.ts';

export default circuit({ name: 'linreg', parties: ['p1', 'p2'] }, (c) => {
  const range = { min: -100, max: 100 };
  const x1 = c.fixed('p1', 'x1', range);
  const x2 = c.fixed('p1', 'x2', { ...range, length: x1.length });
  const y = c.fixed('p2', 'y', { ...range, length: x1.length });
  c.reveal('beta', ols(y, [x1, x2]));
});
