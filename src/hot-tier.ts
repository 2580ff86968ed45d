/**
 * A small tier of whole objects in front of something cheaper to keep but dearer to use (the
 * resolve memo's packed requests, an entry file's header parsed again): most recently used
 * last, at most `max` values.
 *
 * Unlike a plain LRU it does not take in every value offered once it is full. Under traffic
 * spread over many more keys than it holds (an L2 of 100,000 entries read at random), a plain
 * LRU takes in a new value on every lookup and drops it ~`max` lookups later: each such value
 * lives long enough to be promoted to V8's old space and dies there, so the tier turns the
 * hit path into a stream of old-generation garbage (measured: ~4.6 KB promoted per L2 hit, a
 * mark-compact every 2 s) while serving almost no hits. Here a value is taken in when there is
 * room, or when its key was looked up within the last REACH × `max` lookups: what a plain LRU
 * of that size would most likely still have held. A hot set smaller than the tier fits as
 * before; a key seen once in a long while is answered from the slower path and its objects die
 * young.
 *
 * A value looked up goes to the recent end only when it has not been moved in the last quarter
 * of `max` lookups: the hot set of a cache hit is looked up on every request, and two Map
 * operations less per lookup are worth an order that is exact only to that quarter.
 *
 * Time is counted in lookups (`clock`), not milliseconds: a busy and a quiet process judge the
 * same traffic the same way, and tests need no clock.
 */

/** How many times `max` lookups a key may go unseen and still be taken in. */
const REACH = 2;

export interface HotTier<K, V> {
  /** The value, made the most recent; counts one lookup, found or not. */
  get(key: K): V | undefined;
  /**
   * Offers a value for `key`, whose previous lookup happened at `seenAt` (a `clock` reading;
   * undefined: never): kept when the tier has room, replaces the one it holds for `key`, or
   * takes the place of the least recent one when `key` was seen recently enough. True when kept.
   */
  offer(key: K, value: V, seenAt: number | undefined): boolean;
  delete(key: K): void;
  /** Lookups so far. */
  readonly clock: number;
  readonly size: number;
}

/** A value and the lookup count at which it last went to the recent end. */
interface Slot<V> {
  readonly value: V;
  movedAt: number;
}

export function createHotTier<K, V>(max: number): HotTier<K, V> {
  const values = new Map<K, Slot<V>>();
  const reach = REACH * max;
  const settle = Math.max(1, max >> 2);
  let clock = 0;

  return {
    get(key) {
      clock++;
      const slot = values.get(key);
      if (slot === undefined) return undefined;
      if (clock - slot.movedAt >= settle) {
        values.delete(key);
        values.set(key, slot);
        slot.movedAt = clock;
      }
      return slot.value;
    },

    offer(key, value, seenAt) {
      if (max <= 0) return false;
      if (values.delete(key) || values.size < max) {
        values.set(key, { value, movedAt: clock });
        return true;
      }
      if (seenAt === undefined || clock - seenAt > reach) return false;
      const oldest = values.keys().next();
      if (!oldest.done) values.delete(oldest.value);
      values.set(key, { value, movedAt: clock });
      return true;
    },

    delete(key) {
      values.delete(key);
    },

    get clock() {
      return clock;
    },

    get size() {
      return values.size;
    },
  };
}
