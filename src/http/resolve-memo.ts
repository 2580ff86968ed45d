/**
 * The resolve memo's storage: remembered resolutions, each request kept with its options as
 * their difference from the configured defaults. A parsed ProcessingOptions holds ~90 members
 * and 15 nested objects (~1.9 KB on the heap) of which a URL usually sets two or three; kept
 * whole, a memo of 40 MiB remembered ~16,000 URLs and a store of 100,000 entries read at random
 * recomputed nearly every key. Kept as a difference, an entry is a few hundred bytes.
 *
 * The most recently used URLs (HOT_ENTRIES) are also kept whole, as they were parsed: a hot set
 * is answered with the very objects of its first parse, as before, and only a URL outside it
 * pays for a rebuild. A rebuilt request joins them only when its URL came back soon enough
 * (src/hot-tier.ts): URLs spread over far more than the tier holds are rebuilt each time and
 * their objects die young, instead of each taking a place, being promoted and dying old.
 *
 * On a hit the options are rebuilt as `{ ...defaults, ...difference }`: the same members in the
 * same order, each value equal to the parsed one (same-data.ts). Values at their default are
 * the defaults' own objects, shared by every rebuilt request, so those are frozen: the
 * request path treats options as read-only data (the memo always shared whole requests between
 * concurrent requests), and a write now fails loudly instead of changing other requests.
 */
import { LRUCache } from 'lru-cache';
import { createHotTier } from '../hot-tier.js';
import type { ProcessingOptions } from '../options.js';
import type { PreparedAnswer } from './prepared-answer.js';
import type { ImageRequest } from '../request.js';
import { deepFreeze, sameData } from '../same-data.js';

export interface Resolved {
  request: ImageRequest;
  /** Cache key; empty for `raw` requests, which are never cached. */
  key: string;
  /**
   * The image handler's headers for answers to this request, built on its first answer
   * (image-handler.ts). Kept here, they live exactly as long as this resolution: kept in a
   * WeakMap keyed by the request, each rebuilt request's headers were promoted to the old
   * generation with it (a WeakMap's values survive a scavenge like any other).
   */
  prepared?: PreparedAnswer;
}

/**
 * Options as stored: the members that differ from the defaults, or the whole object when it
 * lacks one of theirs (those are in the memo's `wholes`). Not wrapped in an object saying
 * which: at 100,000 entries the wrappers were 100,000 objects more for the collector to walk.
 */
type Packed = Readonly<Record<string, unknown>>;

interface Entry {
  readonly key: string;
  /** The request with its options left out. */
  readonly rest: Omit<ImageRequest, 'options' | 'urlOptions'>;
  readonly options: Packed;
  /** The URL's own options: absent, the same object as `options`, or packed. */
  readonly urlOptions: Packed | 'same' | undefined;
  /** `options.expires` (Unix s, 0 = never), checked on every hit. */
  readonly expires: number;
  /** Bytes the entry holds beyond its fixed part (strings and packed members), for the budget. */
  readonly bytes: number;
  /** The hot tier's clock when this URL was last answered from here (or parsed): whether a rebuild joins the tier. */
  seenAt: number | undefined;
}

/** The fixed part of one entry: its objects and the LRU's node (measured in test/unit/http/resolve-memo.test.ts). */
export const ENTRY_BYTES = 340;
/** What one packed member costs in its object (a nested one counts its JSON length more). */
const MEMBER_BYTES = 24;

/** URLs kept whole besides (~2.4 KB each: ~10 MB). */
export const HOT_ENTRIES = 4096;

/** A ProcessingOptions kept whole (measured on a parsed imgproxy URL). */
const WHOLE_OPTIONS_BYTES = 1900;

/** A string's heap size: V8 keeps Latin-1 text one byte per character, anything else two. */
function stringBytes(s: string): number {
  return 16 + (/^[\0-\xff]*$/.test(s) ? s.length : 2 * s.length);
}

export interface ResolveMemo {
  get(id: string): Resolved | undefined;
  set(id: string, resolved: Resolved): void;
  /** Entries remembered (tests, metrics). */
  readonly size: number;
  /** Bytes the budget counts for them. */
  readonly bytes: number;
}

/**
 * A sequential copy of `s`. The key and the request's strings are built by concatenation and
 * slicing (V8 cons and sliced strings: a tree of pieces, or a view that keeps the whole URL it
 * was cut from alive); copied, an entry holds just its characters.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

export function createResolveMemo(defaults: ProcessingOptions, maxBytes: number, hotEntries = HOT_ENTRIES): ResolveMemo {
  // The members' values are frozen, not the object itself: spreading a frozen object takes
  // V8's slow path (3.8 µs against 0.12 µs for ~90 members, measured).
  const base = { ...defaults } as unknown as Readonly<Record<string, unknown>>;
  for (const v of Object.values(base)) deepFreeze(v);
  const baseNames = Object.keys(base);
  /** The options kept whole (rare: options without one of the defaults' members). */
  const wholes = new WeakSet<Packed>();
  const hot = hotEntries > 0 ? createHotTier<string, Resolved>(hotEntries) : null;
  const memo = new LRUCache<string, Entry>({
    maxSize: maxBytes,
    sizeCalculation: (e, id) => ENTRY_BYTES + stringBytes(id) + e.bytes,
  });

  function pack(options: ProcessingOptions): { packed: Packed; bytes: number } {
    const record = options as unknown as Record<string, unknown>;
    if (baseNames.some((n) => !Object.hasOwn(record, n))) {
      wholes.add(record);
      return { packed: record, bytes: WHOLE_OPTIONS_BYTES };
    }
    const diff: Record<string, unknown> = {};
    let bytes = 0;
    for (const [k, v] of Object.entries(record)) {
      if (Object.hasOwn(base, k) && sameData(v, base[k])) continue;
      diff[k] = v;
      bytes += MEMBER_BYTES + (v !== null && typeof v === 'object' ? (JSON.stringify(v)?.length ?? 0) : typeof v === 'string' ? stringBytes(v) : 0);
    }
    return { packed: diff, bytes };
  }

  function unpack(p: Packed): ProcessingOptions {
    return (wholes.has(p) ? p : { ...base, ...p }) as unknown as ProcessingOptions;
  }

  return {
    get(id) {
      const whole = hot?.get(id);
      if (whole !== undefined) {
        const expires = whole.request.options.expires;
        if (expires === 0 || expires * 1000 > Date.now()) return whole;
        hot?.delete(id);
      }
      const e = memo.get(id);
      if (e === undefined) return undefined;
      if (e.expires !== 0 && e.expires * 1000 <= Date.now()) {
        memo.delete(id);
        return undefined;
      }
      const options = unpack(e.options);
      const request: ImageRequest = { ...e.rest, options };
      if (e.urlOptions === 'same') request.urlOptions = options;
      else if (e.urlOptions !== undefined) request.urlOptions = unpack(e.urlOptions);
      const resolved = { request, key: e.key };
      if (hot !== null) {
        const seenAt = e.seenAt;
        e.seenAt = hot.clock;
        hot.offer(id, resolved, seenAt);
      }
      return resolved;
    },

    set(id, resolved) {
      // A URL seen for the first time joins the tier only while it has room; else at its next lookup.
      hot?.offer(id, resolved, undefined);
      const { request, key: builtKey } = resolved;
      const { options, urlOptions, ...built } = request;
      const key = flat(builtKey);
      const rest = { ...built, source: flat(built.source), signedPath: flat(built.signedPath) };
      const o = pack(options);
      const u = urlOptions === undefined ? undefined : urlOptions === options ? 'same' : pack(urlOptions);
      let bytes = o.bytes + (u !== undefined && u !== 'same' ? u.bytes : 0) + stringBytes(key);
      for (const v of Object.values(rest)) if (typeof v === 'string') bytes += stringBytes(v);
      for (const list of [rest.tags, rest.refusedInputs, rest.refusedOutputs]) for (const t of list ?? []) bytes += 8 + stringBytes(t);
      memo.set(flat(id), { key, rest, options: o.packed, urlOptions: u === undefined || u === 'same' ? u : u.packed, expires: options.expires, bytes, seenAt: hot?.clock });
    },

    get size() {
      return memo.size;
    },

    get bytes() {
      return memo.calculatedSize;
    },
  };
}
