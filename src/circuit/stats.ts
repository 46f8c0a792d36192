/**
 * The statistics library for circuit files: `import { mean, median } from '../src/circuit/stats.ts'`.
 * See lib/stats.ts for the functions and their accuracy.
 * @module
 */
export { sum, count, mean, variance, stddev, covariance, correlation, histogram, sort, kth, median, percentile, topK, ols } from './lib/stats.ts';
