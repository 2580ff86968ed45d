/**
 * L1: transformed results in memory, bounded by bytes (PP_CACHE_MEMORY_MAX_MB) with a TTL
 * from insertion (PP_CACHE_MEMORY_TTL_SECS), on lru-cache. PreviewProxy's caching overview
 * (https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview): "The L1 cache stores
 * transformed images in RAM … a cache hit here avoids both disk I/O and recomputation."
 *
 * One big image must not flush the hot set, so entries larger than 1/8 of the budget are
 * not admitted. A budget of 0 disables L1, and so does a TTL of 0 (an entry that is expired
 * on arrival is never worth keeping; lru-cache would read 0 as "no TTL").
 */
import { LRUCache } from 'lru-cache';

/** Accounting overhead per entry beyond the body (key, object, strings). */
const ENTRY_OVERHEAD = 512;
export const MAX_ENTRY_FRACTION = 8;

export interface MemoryCache<V extends { data: Buffer }> {
  get(key: string): V | undefined;
  /** `ttlMs`: a shorter life than the cache's TTL for this entry (a fallback answer). */
  set(key: string, value: V, ttlMs?: number): boolean;
  delete(key: string): void;
  /** Deletes every entry `match` picks (a purge); resolves how many. */
  deleteWhere(match: (key: string, value: V) => boolean): number;
  readonly bytes: number;
  readonly entries: number;
  /** Drops expired entries now (they are otherwise dropped lazily, on access). */
  purgeStale(): void;
  clear(): void;
}

export function createMemoryCache<V extends { data: Buffer }>(opts: {
  maxBytes: number;
  ttlMs: number;
  onEvict?: (key: string) => void;
}): MemoryCache<V> | null {
  if (opts.maxBytes <= 0 || opts.ttlMs <= 0) return null;
  const maxEntrySize = Math.max(1, Math.floor(opts.maxBytes / MAX_ENTRY_FRACTION));
  const lru = new LRUCache<string, V>({
    maxSize: opts.maxBytes,
    maxEntrySize,
    sizeCalculation: (v, k) => v.data.length + k.length + ENTRY_OVERHEAD,
    ttl: opts.ttlMs,
    // TTL counts from insertion (like PreviewProxy's moka time_to_live), not from the last read.
    updateAgeOnGet: false,
    allowStale: false,
    dispose: (_v, k, reason) => {
      if (reason === 'evict') opts.onEvict?.(k);
    },
  });
  return {
    get: (key) => lru.get(key),
    set(key, value, ttlMs) {
      if (value.data.length + key.length + ENTRY_OVERHEAD > maxEntrySize) return false;
      if (ttlMs !== undefined && ttlMs <= 0) return false;
      lru.set(key, value, ttlMs !== undefined && ttlMs < opts.ttlMs ? { ttl: ttlMs } : {});
      return lru.has(key);
    },
    delete: (key) => {
      lru.delete(key);
    },
    deleteWhere(match) {
      const doomed: string[] = [];
      lru.forEach((v, k) => {
        if (match(k, v)) doomed.push(k);
      });
      for (const k of doomed) lru.delete(k);
      return doomed.length;
    },
    get bytes() {
      return lru.calculatedSize;
    },
    get entries() {
      return lru.size;
    },
    purgeStale: () => {
      lru.purgeStale();
    },
    clear: () => lru.clear(),
  };
}
