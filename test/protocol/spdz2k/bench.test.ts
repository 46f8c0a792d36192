// The in-memory online cost of one 10^5-wide layer, 2 parties, malicious vs semi-honest:
// printed for the record; only the communication figures are asserted (time varies).
import { describe, expect, it } from 'vitest';
import { benchSpdz2k } from '../../../bench/spdz2k-layer.ts';

describe('benchSpdz2k', () => {
  it('measures one 10^5-wide layer: 32 bytes per multiplication per peer (malicious), 16 (semi-honest)', async () => {
    const rows = await benchSpdz2k({ width: 100_000, parties: 2, repeats: 1 });
    console.table(rows);
    expect(rows.map((r) => [r.security, r.bytesPerMultiplication])).toEqual([
      ['semi-honest', 16],
      ['malicious', 32],
    ]);
    expect(rows[1].macCheckSeconds).toBeGreaterThan(0);
  });
});
