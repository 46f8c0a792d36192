// Sealed-bid auction: the highest bid over three parties' bids and which party holds it
// (1, 2 or 3; on a tie, the lowest party number). A tournament of comparisons over all
// bids, in ⌈log2 n⌉ rounds of comparisons; nothing else about the bids is revealed.
import { circuit } from '../src/circuit/index.ts';

// Comparisons are exact while a − b fits in 64 bits (README "Exactness and error bounds"):
// without a declared range, bids of 2^63 − 1 and −2^63 would compare wrongly (the tournament
// would silently report a lower bid). Each node refuses a bid outside ±4·10^18 (< 2^62).
export const BID_LIMIT = 4e18;

export default circuit({ name: 'max', parties: ['p1', 'p2', 'p3'] }, (c) => {
  const bids = c.parties.map((p) => c.vector(p, 'bid', { min: -BID_LIMIT, max: BID_LIMIT }));
  for (const [i, b] of bids.entries()) {
    if (b.length === 0) throw new RangeError(`${c.parties[i]}.bid is empty: every party must bid`);
  }
  // Each bid's party number, public: the tournament carries it along with the bid.
  const owner = bids.flatMap((b, i) => new Array<number>(b.length).fill(i + 1));
  const { max, arg } = c.argmax(c.concat(bids), owner);
  c.reveal('max', max);
  c.reveal('winner', arg);
});
