/**
 * The files this process checked (or wrote), by file name: their identity (device, inode,
 * size, mtime) when checked, when, and their last use by this process, least recently used
 * first, at most `max` of them.
 *
 * Kept in typed columns, not an object per file: at 100,000 entries read at random, the
 * objects of this record and the boxed doubles of their fields (V8 boxes a double field, and a
 * Unix time in ms, an mtime or an inode past 2^30 is one) were ~860,000 of the ~2.8 million
 * objects live on the heap, walked by every mark-compact. Here a file costs its name in a
 * Map and 56 bytes in arrays the collector never looks into.
 *
 * A record is named by a handle (a number) that stays valid only while that very record
 * lives: forgetting the file, or reusing its slot for another, makes every older handle
 * unknown, so a handle held across an await never reads or writes another file's record.
 */
import type { Stats } from 'node:fs';

/** A record's handle: its slot and its generation, in one number. */
export type Verified = number;

const FIELDS = 5;
const DEV = 0;
const INO = 1;
const SIZE = 2;
const MTIME = 3;
const VERIFIED_AT = 4;

export interface VerifiedFiles {
  /** The handle of `name`'s record, or undefined; its recency untouched. */
  get(name: string): Verified | undefined;
  /** A new record of the file `st` describes (replacing any for `name`), the most recent; undefined when `max` is 0. */
  remember(name: string, st: Stats, now: number): Verified | undefined;
  /** Makes `name`'s record the most recently used. */
  touch(name: string): void;
  forget(name: string): void;
  /** Whether `v` still names a record (not forgotten, its slot not reused). */
  valid(v: Verified): boolean;
  /** The very file `st` describes (same device, inode, size, mtime)? False for an unknown handle. */
  same(v: Verified, st: Stats): boolean;
  /** NaN for an unknown handle, as verifiedAt. */
  size(v: Verified): number;
  verifiedAt(v: Verified): number;
  /** 0 for an unknown handle. */
  lastUse(v: Verified): number;
  /** No-op for an unknown handle. */
  setLastUse(v: Verified, now: number): void;
  /** The header memo's clock when this record's header was last parsed (undefined: never). */
  headerSeenAt(v: Verified): number | undefined;
  setHeaderSeenAt(v: Verified, clock: number): void;
  readonly entries: number;
}

export function createVerifiedFiles(max: number): VerifiedFiles {
  const capacity = Math.max(0, max);
  /** Name → handle, least recently used first. */
  const handles = new Map<string, Verified>();
  const nums = new Float64Array(capacity * FIELDS);
  const lastUses = new Float64Array(capacity);
  /** NaN: never parsed. */
  const seenAt = new Float64Array(capacity);
  /** Each slot's current generation; a handle is `generation * capacity + slot`. */
  const generations = new Float64Array(capacity);
  const free: number[] = [];
  let used = 0;

  const slotOf = (v: Verified): number => v % capacity;
  const handleOf = (slot: number): Verified => (generations[slot] ?? 0) * capacity + slot;
  const valid = (v: Verified): boolean => capacity > 0 && Number.isInteger(v) && v >= 0 && handleOf(slotOf(v)) === v;
  const num = (v: Verified, field: number): number => (valid(v) ? (nums[slotOf(v) * FIELDS + field] ?? Number.NaN) : Number.NaN);

  function release(slot: number): void {
    generations[slot] = (generations[slot] ?? 0) + 1;
    free.push(slot);
  }

  function forget(name: string): void {
    const v = handles.get(name);
    if (v === undefined) return;
    handles.delete(name);
    release(slotOf(v));
  }

  return {
    get: (name) => handles.get(name),

    remember(name, st, now) {
      if (capacity === 0) return undefined;
      forget(name);
      if (handles.size >= capacity) {
        const oldest = handles.keys().next();
        if (!oldest.done) forget(oldest.value);
      }
      const slot = free.pop() ?? used++;
      const at = slot * FIELDS;
      nums[at + DEV] = st.dev;
      nums[at + INO] = st.ino;
      nums[at + SIZE] = st.size;
      nums[at + MTIME] = Math.round(st.mtimeMs);
      nums[at + VERIFIED_AT] = now;
      lastUses[slot] = now;
      seenAt[slot] = Number.NaN;
      const v = handleOf(slot);
      handles.set(name, v);
      return v;
    },

    touch(name) {
      const v = handles.get(name);
      if (v === undefined) return;
      handles.delete(name);
      handles.set(name, v);
    },

    forget,
    valid,

    same(v, st) {
      if (!valid(v)) return false;
      const at = slotOf(v) * FIELDS;
      return nums[at + INO] === st.ino && nums[at + DEV] === st.dev && nums[at + SIZE] === st.size && nums[at + MTIME] === Math.round(st.mtimeMs);
    },

    size: (v) => num(v, SIZE),
    verifiedAt: (v) => num(v, VERIFIED_AT),
    lastUse: (v) => (valid(v) ? (lastUses[slotOf(v)] ?? 0) : 0),

    setLastUse(v, now) {
      if (valid(v)) lastUses[slotOf(v)] = now;
    },

    headerSeenAt(v) {
      const s = valid(v) ? (seenAt[slotOf(v)] ?? Number.NaN) : Number.NaN;
      return Number.isNaN(s) ? undefined : s;
    },

    setHeaderSeenAt(v, clock) {
      if (valid(v)) seenAt[slotOf(v)] = clock;
    },

    get entries() {
      return handles.size;
    },
  };
}
