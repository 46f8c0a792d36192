// Total of three parties' private vectors: Σ p1.x + Σ p2.x + Σ p3.x (mod 2^64, signed).
// Only additions: no multiplication, no communication beyond input and output.
import { circuit } from '../src/circuit/index.ts';

export default circuit({ name: 'sum', parties: ['p1', 'p2', 'p3'] }, (c) => {
  const subtotals = c.parties.map((p) => c.vector(p, 'x').sum());
  c.reveal('total', c.sum(subtotals));
});
