// Age histogram over three parties' records: counts per bucket [0,18) [18,30) [30,45)
// [45,65) [65,121), lower bound inclusive. One comparison per age and bucket edge, all in
// one batch; only the five counts are revealed.
import { circuit } from '../src/circuit/index.ts';
import { histogram } from '../src/circuit/stats.ts';

export const EDGES = [0, 18, 30, 45, 65, 121];

export default circuit({ name: 'histogram', parties: ['p1', 'p2', 'p3'] }, (c) => {
  const ages = c.concat(c.parties.map((p) => c.vector(p, 'age', { min: 0, max: 120 })));
  c.reveal('counts', histogram(ages, EDGES));
});
