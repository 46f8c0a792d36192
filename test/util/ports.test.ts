import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { candidateBases, ephemeralRange, freePortRange } from '../../src/util/ports.ts';

describe('free port ranges outside the ephemeral range', () => {
  it('falls back to the IANA ephemeral range when the kernel setting is unreadable or garbage', () => {
    expect(ephemeralRange(() => { throw new Error('ENOENT'); })).toEqual([49_152, 65_535]);
    expect(ephemeralRange(() => 'abc def')).toEqual([49_152, 65_535]);
    expect(ephemeralRange(() => '60000 1000')).toEqual([49_152, 65_535]);
    expect(ephemeralRange(() => '32768\t60999\n')).toEqual([32_768, 60_999]);
  });

  it('refuses when the ephemeral range leaves no room, and otherwise picks the larger gap', () => {
    expect(() => candidateBases(6, [10_050, 65_500])).toThrow(/no room for 6 ports/);
    expect(candidateBases(6, [32_768, 60_999])).toEqual([10_000, 32_762]);
    expect(candidateBases(6, [10_100, 40_000])).toEqual([40_001, 65_530]);
  });

  it('returns a run of ports that are free and lie outside the ephemeral range', async () => {
    const [lo, hi] = ephemeralRange();
    const base = await freePortRange(6);
    expect(base + 6 <= lo || base > hi).toBe(true);
    for (let p = base; p < base + 6; p++) {
      await new Promise<void>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(p, '127.0.0.1', () => s.close(() => resolve()));
      });
    }
  });
});
