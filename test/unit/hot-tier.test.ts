/**
 * The hot tier (src/hot-tier.ts): an LRU of at most `max` values that, once full, takes in a
 * value only for a key looked up within the last 2 × max lookups, so traffic spread over far
 * more keys than it holds does not replace its values on every lookup.
 */
import { describe, expect, it } from 'vitest';
import { createHotTier } from '../../src/hot-tier.js';

describe('hot tier', () => {
  it('takes in anything while it has room, and gives the values back', () => {
    const tier = createHotTier<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c'].entries()) expect(tier.offer(k, i, undefined)).toBe(true);
    expect([tier.get('a'), tier.get('b'), tier.get('c'), tier.get('d')]).toEqual([0, 1, 2, undefined]);
    expect(tier.size).toBe(3);
    expect(tier.clock).toBe(4);
  });

  it('once full, refuses a key never seen or seen too long ago, and takes in one seen recently in place of the least recent', () => {
    const tier = createHotTier<string, number>(2);
    tier.offer('a', 1, undefined);
    tier.offer('b', 2, undefined);
    expect(tier.offer('new', 3, undefined)).toBe(false);
    const seen = tier.clock;
    for (let i = 0; i < 4; i++) tier.get('b');
    // 4 lookups since: within 2 × 2.
    expect(tier.offer('c', 3, seen)).toBe(true);
    expect(tier.get('a')).toBeUndefined();
    expect(tier.get('b')).toBe(2);
    expect(tier.get('c')).toBe(3);
    const long = tier.clock;
    for (let i = 0; i < 5; i++) tier.get('x');
    expect(tier.offer('d', 4, long)).toBe(false);
    expect(tier.size).toBe(2);
  });

  it('replaces the value it holds for a key, whenever it was seen', () => {
    const tier = createHotTier<string, number>(1);
    tier.offer('a', 1, undefined);
    expect(tier.offer('a', 2, undefined)).toBe(true);
    expect(tier.get('a')).toBe(2);
  });

  it('keeps the most recently used: a value looked up is not the one replaced', () => {
    const tier = createHotTier<string, number>(2);
    tier.offer('a', 1, undefined);
    tier.offer('b', 2, undefined);
    tier.get('a');
    expect(tier.offer('c', 3, tier.clock)).toBe(true);
    expect(tier.get('b')).toBeUndefined();
    expect(tier.get('a')).toBe(1);
  });

  it('under lookups spread over 50 times its size takes in almost nothing once full; a small hot set among them stays', () => {
    const tier = createHotTier<number, number>(100);
    const seenAt = new Map<number, number>();
    let admitted = 0;
    let hotHits = 0;
    for (let i = 0; i < 100_000; i++) {
      const hot = i % 4 === 0;
      const key = hot ? (i / 4) % 50 : 1000 + ((i * 7919) % 5000);
      if (tier.get(key) !== undefined) {
        if (hot && i > 10_000) hotHits++;
        continue;
      }
      const before = seenAt.get(key);
      seenAt.set(key, tier.clock);
      if (tier.offer(key, i, before) && i > 10_000) admitted++;
    }
    // A plain LRU would have taken in ~70,000 values after the first 10,000 lookups.
    expect(admitted).toBeLessThan(2_000);
    expect(hotHits).toBeGreaterThan(22_000);
  });

  it('moves a value looked up to the recent end only when it was not moved in the last quarter of max lookups', () => {
    const tier = createHotTier<string, number>(8);
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) tier.offer(k, i, undefined);
    // One lookup after it went in: it stays the least recent.
    tier.get('a');
    expect(tier.offer('i', 8, tier.clock)).toBe(true);
    expect(tier.get('a')).toBeUndefined();
    // Two lookups (a quarter of 8) after it went in: b moves.
    tier.get('b');
    expect(tier.offer('j', 9, tier.clock)).toBe(true);
    expect(tier.get('c')).toBeUndefined();
    expect(tier.get('b')).toBe(1);
  });

  it('holds nothing with max 0', () => {
    const tier = createHotTier<string, number>(0);
    expect(tier.offer('a', 1, tier.clock)).toBe(false);
    expect(tier.get('a')).toBeUndefined();
  });
});
