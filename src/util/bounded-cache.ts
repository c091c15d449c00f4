/**
 * A size-bounded map whose entries expire. When full, the oldest insertion is dropped first, so memory stays
 * flat however many distinct keys arrive. Reads do not refresh an entry: its age is its age. `onRemove`, if
 * given, sees every value that leaves (replaced, evicted, found expired, deleted or cleared), so an index
 * kept beside the cache can follow it exactly.
 * @example const cache = new BoundedTtlCache<string, number>({ maxEntries: 1000, ttlMs: 5000 });
 */
export class BoundedTtlCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #onRemove: ((value: V) => void) | undefined;

  constructor(options: { maxEntries: number; ttlMs: number; onRemove?: (value: V) => void }) {
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#onRemove = options.onRemove;
  }

  get(key: K, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, now: number): void {
    this.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs });
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#onRemove?.(entry.value);
  }

  clear(): void {
    if (this.#onRemove) for (const { value } of this.#entries.values()) this.#onRemove(value);
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
