// Ordinary least squares with five regressors over two parties' columns of the same rows:
// p1 holds x1, x2, x3 and p2 holds x4, x5 and the outcome y (|values| ≤ 100). Reveals the
// coefficients [β0, β1, …, β5], R² and the residual standard error. Gaussian elimination on
// the normalised centred cross sums (src/circuit/lib/regression.ts). In Z_2^128 (32 fractional
// bits) every coefficient, the smallest (0.028 in the example) included, comes within 10^-6 of
// its own magnitude of a double-precision fit; Z_2^64 at 22 bits gets within 10^-6 of
// max(1, |β|) only (README "Statistics"). Runs in either mode:
//   npx mpc run circuits/regression.ts                      (malicious: SPDZ2k, k = 128)
//   npx mpc run circuits/regression.ts --security semi-honest
import { circuit } from '../src/circuit/index.ts';
import { ols } from '../src/circuit/stats.ts';

const REGRESSORS = 5;

export default circuit({ name: 'regression', parties: ['p1', 'p2'], ring: 128, description: 'OLS with five regressors, R² and residual standard error' }, (c) => {
  const range = { min: -100, max: 100 };
  const y = c.fixed('p2', 'y', range);
  const owner = (j: number) => (j < 3 ? 'p1' : 'p2');
  const xs = Array.from({ length: REGRESSORS }, (_, j) => c.fixed(owner(j), `x${j + 1}`, { ...range, length: y.length }));
  const fit = ols(y, xs, { r2: true, residualStdError: true });
  c.reveal('beta', fit.slice(0, REGRESSORS + 1));
  c.reveal('r2', fit.get(REGRESSORS + 1));
  c.reveal('residualStdError', fit.get(REGRESSORS + 2));
});
