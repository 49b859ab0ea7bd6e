// The micro-batcher: grouping by size and wait, errors reaching only their own request, aborts.
import { describe, expect, it } from 'vitest';
import { MicroBatcher } from './batcher.js';

describe('MicroBatcher', () => {
  it('groups concurrent requests up to maxSize and splits results back in order', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher<number, number>(async (items) => {
      sizes.push(items.length);
      return items.map((x) => x * 2);
    }, { maxSize: 4, maxWaitMs: 20 });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(sizes).toEqual([4, 4, 2]);
    expect(b.stats).toEqual({ batches: 3, items: 10 });
  });

  it('runs a lone request after maxWaitMs without waiting for company', async () => {
    const b = new MicroBatcher<number, number>(async (items) => items, { maxSize: 32, maxWaitMs: 5 });
    const started = Date.now();
    expect(await b.submit(7)).toBe(7);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('delivers an error only to the request that caused it', async () => {
    const b = new MicroBatcher<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('unlucky input 13');
      return items.map((x) => x + 1);
    }, { maxSize: 8, maxWaitMs: 10 });
    const results = await Promise.allSettled([1, 2, 13, 4].map((x) => b.submit(x)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('unlucky input 13');
    expect((results[3] as PromiseFulfilledResult<number>).value).toBe(5);
  });

  it('drops aborted requests before they run and rejects pending ones on close', async () => {
    const seen: number[] = [];
    const b = new MicroBatcher<number, number>(async (items) => {
      seen.push(...items);
      return items;
    }, { maxSize: 8, maxWaitMs: 20 });
    const controller = new AbortController();
    const aborted = b.submit(1, controller.signal);
    const kept = b.submit(2);
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(await kept).toBe(2);
    expect(seen).toEqual([2]);
    const pending = b.submit(3);
    b.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(b.submit(4)).rejects.toThrow(/closed/);
  });
});
