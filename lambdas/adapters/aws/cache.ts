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
    const hit = this.peek(key);
    if (hit) return hit;
    const value = load();
    const entry = this.insert(key, value);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  /** The fresh cached value of `key`, or undefined (an expired entry is dropped). */
  peek(key: string): Promise<V> | undefined {
    const hit = this.entries.get(key);
    if (hit && this.clock() - hit.loadedAt < this.ttlSeconds * 1000) return hit.value;
    if (hit) this.entries.delete(key);
    return undefined;
  }

  /** Cache an already-known value (evicting the oldest entry when full). */
  set(key: string, value: V): void {
    if (this.ttlSeconds > 0) this.insert(key, Promise.resolve(value));
  }

  private insert(key: string, value: Promise<V>) {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const entry = { value, loadedAt: this.clock() };
    this.entries.set(key, entry);
    return entry;
  }
}
