// The bounded run-ahead (src/util/run-ahead.ts): items in order whatever the timing, never
// more than the budget produced ahead of the consumer (but always what the consumer asked
// for), failures and aborts reject cleanly and stop production.
import { describe, expect, it } from 'vitest';
import { RunAhead } from '../../src/util/run-ahead.ts';

/** Let every queued microtask and macrotask run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A run-ahead over `count` items of cost `costs[i]` (default 1) that records what it produced and what was ahead. */
function recorded(count: number, budget: number, opts: { costs?: number[]; failAt?: number } = {}) {
  const produced: number[] = [];
  let maxAhead = 0;
  const cost = (i: number): number => opts.costs?.[i] ?? 1;
  const ra: RunAhead<string> = new RunAhead({
    count,
    budget,
    cost,
    produce: async (i) => {
      produced.push(i);
      maxAhead = Math.max(maxAhead, ra.ahead);
      await new Promise((r) => setImmediate(r));
      if (i === opts.failAt) throw new Error(`item ${i} failed`);
      return `item ${i}`;
    },
  });
  return { ra, produced, maxAhead: () => maxAhead };
}

describe('RunAhead', () => {
  it('hands out items in order and stays within its budget ahead of the consumer', async () => {
    const { ra, produced, maxAhead } = recorded(20, 3);
    expect(produced).toEqual([]); // nothing before the first take
    expect(await ra.take()).toBe('item 0');
    await settle();
    // Item 0 taken; items 1..3 ahead, and no more.
    expect(produced).toEqual([0, 1, 2, 3]);
    const rest: string[] = [];
    for (let i = 1; i < 20; i++) {
      rest.push(await ra.take());
      await settle();
      expect(produced.length - (i + 1)).toBeLessThanOrEqual(3);
    }
    expect(rest).toEqual(Array.from({ length: 19 }, (_, i) => `item ${i + 1}`));
    expect(maxAhead()).toBeLessThanOrEqual(3);
    expect(ra.remaining).toBe(0);
    await expect(ra.take()).rejects.toThrow(/all 20 items were taken/);
  });

  it('produces what the consumer asked for beyond the budget, and one item costlier than the budget alone', async () => {
    const { ra, produced } = recorded(6, 2, { costs: [1, 1, 1, 1, 5, 1] });
    // Four takes at once (a layer's chunks): all are produced, though the budget is 2.
    const first = await Promise.all([ra.take(), ra.take(), ra.take(), ra.take()]);
    expect(first).toEqual(['item 0', 'item 1', 'item 2', 'item 3']);
    await settle();
    // Item 4 costs 5 > budget: it still goes ahead, alone.
    expect(produced).toEqual([0, 1, 2, 3, 4]);
    expect(ra.ahead).toBe(5);
    expect(await ra.take()).toBe('item 4');
    expect(await ra.take()).toBe('item 5');
  });

  it('a failed item rejects itself and every later item; earlier items are still delivered', async () => {
    const { ra, produced } = recorded(10, 4, { failAt: 2 });
    expect(await ra.take()).toBe('item 0');
    await settle();
    expect(produced).toEqual([0, 1, 2]); // production stopped at the failure
    expect(await ra.take()).toBe('item 1');
    await expect(ra.take()).rejects.toThrow('item 2 failed');
    await expect(ra.take()).rejects.toThrow('item 2 failed');
  });

  it('a failure rejects later items the consumer already asked for', async () => {
    const { ra } = recorded(10, 0, { failAt: 1 });
    const takes = [ra.take(), ra.take(), ra.take()];
    await expect(takes[0]).resolves.toBe('item 0');
    await expect(takes[1]).rejects.toThrow('item 1 failed');
    await expect(takes[2]).rejects.toThrow('item 1 failed');
  });

  it('abort rejects pending and later takes, drops what was produced and produces nothing more', async () => {
    const { ra, produced } = recorded(100, 10);
    expect(await ra.take()).toBe('item 0');
    const pending = [ra.take(), ra.take()];
    ra.abort(new Error('job aborted'));
    await expect(pending[0]).rejects.toThrow('job aborted');
    await expect(pending[1]).rejects.toThrow('job aborted');
    await expect(ra.take()).rejects.toThrow('job aborted');
    const n = produced.length;
    await settle();
    expect(produced.length).toBe(n);
    expect(produced.length).toBeLessThanOrEqual(2); // at most the item being produced when aborted finished
    expect(ra.ahead).toBe(0);
  });

  it('runs an open-ended sequence (count Infinity) ahead of its consumer, within the budget', async () => {
    const source = [10, 11, 12, 13, 14][Symbol.iterator]();
    let produced = 0;
    const ra = new RunAhead<number | undefined>({
      count: Infinity,
      budget: 2,
      cost: () => 1,
      produce: async () => {
        produced++;
        const r = source.next();
        return r.done ? undefined : r.value;
      },
    });
    expect(await ra.take()).toBe(10);
    await settle();
    expect(produced).toBe(3);
    const got: number[] = [];
    for (let v = await ra.take(); v !== undefined; v = await ra.take()) got.push(v);
    expect(got).toEqual([11, 12, 13, 14]);
    ra.abort(new Error('done'));
    await settle();
    expect(produced).toBeLessThanOrEqual(8);
  });

  it('abort during the pace before an item skips it', async () => {
    const produced: number[] = [];
    let release!: () => void;
    const ra = new RunAhead<number>({
      count: 3,
      budget: 10,
      cost: () => 1,
      pace: (i) => (i === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve()),
      produce: async (i) => {
        produced.push(i);
        return i;
      },
    });
    expect(await ra.take()).toBe(0);
    await settle();
    const next = ra.take();
    ra.abort(new Error('stop'));
    release();
    await expect(next).rejects.toThrow('stop');
    await settle();
    expect(produced).toEqual([0]);
  });
});
