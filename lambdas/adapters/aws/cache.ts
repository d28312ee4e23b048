/**
 * A small per-process cache for values that change rarely (partner records,
 * partner keys): one load in flight per key, results kept for `ttlSeconds`,
 * failures never cached, and a size bound so that requests for random
 * unknown ids cannot grow a warm Lambda's memory without limit.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; loadedAt: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly clock: () => number,
    private readonly maxEntries = 1000,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlSeconds <= 0) return load();
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && now - hit.loadedAt < this.ttlSeconds * 1000) return hit.value;
    if (hit) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const value = load();
    const entry = { value, loadedAt: now };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }
}
