/**
 * L1. PreviewProxy's caching overview (https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview): "PP_CACHE_MEMORY_MAX_MB | 256 | Maximum size of the in-memory cache in megabytes"
 * and "PP_CACHE_MEMORY_TTL_SECS | 3600 | How long entries remain in the memory cache".
 */
import { describe, expect, it } from 'vitest';
import { createMemoryCache, MAX_ENTRY_FRACTION } from '../../../src/cache/memory.js';

const img = (n: number): { data: Buffer } => ({ data: Buffer.alloc(n, 1) });

describe('L1 memory cache', () => {
  it('is bounded by bytes: total stays within the budget and the least recently used go first', () => {
    const evicted: string[] = [];
    const l1 = createMemoryCache<{ data: Buffer }>({ maxBytes: 100_000, ttlMs: 60_000, onEvict: (k) => evicted.push(k) });
    if (!l1) throw new Error('L1 should be enabled');
    for (let i = 0; i < 10; i++) l1.set(`k${i}`, img(10_000));
    expect(l1.bytes).toBeLessThanOrEqual(100_000);
    expect(l1.get('k0')).toBeUndefined();
    l1.get('k5'); // a use: k5 becomes most recent
    for (let i = 10; i < 16; i++) l1.set(`k${i}`, img(10_000));
    expect(l1.get('k5')).toBeDefined();
    expect(l1.get('k6')).toBeUndefined();
    expect(l1.bytes).toBeLessThanOrEqual(100_000);
    expect(evicted.length).toBeGreaterThan(0);
  });

  it(`does not admit entries bigger than 1/${MAX_ENTRY_FRACTION} of the budget`, () => {
    const l1 = createMemoryCache<{ data: Buffer }>({ maxBytes: 80_000, ttlMs: 60_000 });
    if (!l1) throw new Error('L1 should be enabled');
    l1.set('small', img(1000));
    expect(l1.set('big', img(20_000))).toBe(false);
    expect(l1.get('big')).toBeUndefined();
    expect(l1.get('small')).toBeDefined();
  });

  it('entries expire after the TTL (from insertion)', async () => {
    const l1 = createMemoryCache<{ data: Buffer }>({ maxBytes: 1_000_000, ttlMs: 80 });
    if (!l1) throw new Error('L1 should be enabled');
    l1.set('a', img(10));
    expect(l1.get('a')).toBeDefined();
    await new Promise((r) => setTimeout(r, 120));
    expect(l1.get('a')).toBeUndefined();
  });

  it('PP_CACHE_MEMORY_MAX_MB=0 disables L1 (and so does a TTL of 0)', () => {
    expect(createMemoryCache({ maxBytes: 0, ttlMs: 1000 })).toBeNull();
    expect(createMemoryCache({ maxBytes: 1000, ttlMs: 0 })).toBeNull();
  });
});
