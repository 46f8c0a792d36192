// Sealed-bid auction: the highest bid over three parties' bids and which party holds it
// (1, 2 or 3; on a tie, the lowest party number). A tournament of comparisons over all
// bids, in ⌈log2 n⌉ rounds of comparisons; nothing else about the bids is revealed.
import { circuit } from '../src/circuit/index.ts';

export default circuit({ name: 'max', parties: ['p1', 'p2', 'p3'] }, (c) => {
  const bids = c.parties.map((p) => c.vector(p, 'bid'));
  for (const [i, b] of bids.entries()) {
    if (b.length === 0) throw new RangeError(`${c.parties[i]}.bid is empty: every party must bid`);
  }
  // Each bid's party number, public: the tournament carries it along with the bid.
  const owner = bids.flatMap((b, i) => new Array<number>(b.length).fill(i + 1));
  const { max, arg } = c.argmax(c.concat(bids), owner);
  c.reveal('max', max);
  c.reveal('winner', arg);
});
