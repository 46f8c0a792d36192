// The lower median of the union of two parties' real-valued vectors (|v| ≤ 10^4, up to
// 2000 values in all): a sorting network pruned to the one rank that is revealed.
import { circuit } from '../src/circuit/index.ts';
import { median } from '../src/circuit/stats.ts';

export default circuit({ name: 'median', parties: ['p1', 'p2'] }, (c) => {
  const v = c.concat(c.parties.map((p) => c.fixed(p, 'v', { min: -1e4, max: 1e4 })));
  c.reveal('median', median(v));
});
