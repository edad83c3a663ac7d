import type { KvStore } from '@tus/server';

/**
 * A tus `KvStore` in memory that cannot grow without bound: at most
 * `maxEntries` entries (the least recently used goes first), each kept for at
 * most `ttlMs`. `@tus/s3-store` caches every upload's `.info` here; its default
 * (`MemoryKvStore`) keeps every entry for ever, so a client creating uploads in
 * a loop grew the API's memory. A miss only costs one GetObject of the `.info`.
 */
export class BoundedKvStore<T> implements KvStore<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor({
    maxEntries = 1000,
    ttlMs = 10 * 60_000,
    now = Date.now,
  }: { maxEntries?: number; ttlMs?: number; now?: () => number } = {}) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.until <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  async set(key: string, value: T): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
