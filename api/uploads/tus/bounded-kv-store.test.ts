import { describe, expect, it } from 'vitest';
import { LedgerS3Store } from './ledger-s3-store.ts';
import { BoundedKvStore } from './bounded-kv-store.ts';

describe('BoundedKvStore', () => {
  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const kv = new BoundedKvStore<number>({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await kv.set(k, 1);
    await kv.get('a');
    await kv.set('d', 1);
    expect(kv.size).toBe(3);
    expect(await kv.get('b')).toBeUndefined();
    expect(await kv.get('a')).toBe(1);
  });

  it('forgets an entry after its time to live', async () => {
    let now = 0;
    const kv = new BoundedKvStore<number>({ ttlMs: 1000, now: () => now });
    await kv.set('a', 1);
    now = 999;
    expect(await kv.get('a')).toBe(1);
    now = 1000;
    expect(await kv.get('a')).toBeUndefined();
    expect(kv.size).toBe(0);
  });

  it("is the tus store's metadata cache by default (issue #23: the default cache never evicted)", async () => {
    const store = new LedgerS3Store({ s3ClientConfig: { bucket: 'b', region: 'us-east-1' } });
    const cache = (store as unknown as { cache: { set(k: string, v: unknown): Promise<void> } }).cache;
    expect(cache).toBeInstanceOf(BoundedKvStore);
    for (let i = 0; i < 5000; i++) await cache.set(`tus/${i}`, {});
    expect((cache as BoundedKvStore<unknown>).size).toBeLessThanOrEqual(1000);
  });
});
