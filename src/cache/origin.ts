/**
 * Origin sub-store: raw source bytes keyed by the source URL only, so one source requested
 * in several variants is downloaded once (http(s) and object-store sources; `local://` is
 * already on disk). Which sources it keeps and how long a response is fresh:
 * ./origin-policy.ts; the stored form of an entry: ./origin-entry.ts.
 *
 * A stale entry that has a validator (ETag / Last-Modified) is kept on disk for another
 * PP_CACHE_DISK_TTL_SECS so it can be revalidated: a 304 refreshes its expiry and reuses
 * the stored body, a 200 replaces it. Concurrent requests for one URL share one upstream
 * fetch (per-URL single-flight), whether or not the store is enabled.
 *
 * RFC 5861 §4 (https://www.rfc-editor.org/rfc/rfc5861#section-4): within the source's
 * `stale-if-error` window (or PIXPROXY_CACHE_STALE_IF_ERROR_SECS) a stale entry is answered
 * when the origin fails. A 200 that brings other bytes than a stale entry held (swr.ts
 * sourceTag) is reported (`onChanged`): the results made from the old bytes are retired.
 * Purges (purge-records.ts) drop matching entries from the memory tier, stop in-flight
 * fetches from taking new callers, and keep a fetch begun before a purge from storing.
 */
import { LRUCache } from 'lru-cache';
import { ProxyError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { SourceResponse } from '../sources/types.js';
import { answersNotModified } from '../validators.js';
import { type BlobStore, isNotModified } from '../storage/types.js';
import type { DiskBudget } from './budget.js';
import { originKey } from './key.js';
import { decodeEntry, encodeEntry, entryResponse, mergeHeaders, type OriginEntry } from './origin-entry.js';
import { isOriginCacheable, isOriginFailure, originFreshness } from './origin-policy.js';
import { matchesOrigin, type PurgeRecord, type PurgeRecords } from './purge-records.js';
import type { ErrorReporter } from './report.js';
import { sourceTag, staleWindows, type StaleWindows } from './swr.js';
import { readAll, withTimeout } from './util.js';
import type { SingleFlight } from './singleflight.js';

export interface ConditionalHeaders {
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}
/** `signal` aborts when no caller waits for this source any more (see singleflight.ts). */
export type SourceFetcher = (conditional: ConditionalHeaders, signal: AbortSignal) => Promise<SourceResponse>;
/**
 * `stale`: the origin failed and a stale entry was answered within its stale-if-error window.
 * `not-modified`: the answer to the caller's own conditional headers (SourceVariant) is a 304.
 */
export type SourceOutcome = 'hit' | 'revalidated' | 'miss' | 'stale' | 'not-modified';
export interface SourceResult {
  response: SourceResponse;
  outcome: SourceOutcome;
  /** Unix ms until which these bytes are fresh, when the origin sub-store knows. */
  freshUntil?: number;
}

/**
 * What makes one caller's fetch of a source its own: the client's conditional headers
 * (imgproxy forwards them, http/conditional.ts) or its credentials (cookies it forwards).
 */
export interface SourceVariant {
  /**
   * The client's validators: sent to the origin instead of the stored entry's, and checked
   * against a fresh stored entry without asking the origin (RFC 9111 §4.3.2). A 304 for them
   * is the answer (`not-modified`), not a body.
   */
  readonly conditional?: ConditionalHeaders;
  /**
   * Set when the fetch carries the client's own credentials: the shared store is neither
   * read nor written (a body fetched with one client's cookies is not another's), and only
   * fetches with the same credentials are coalesced.
   */
  readonly credentials?: string;
  /** Skip the stored bytes (`bypass_cache`): fetch unconditionally and store what comes. */
  readonly fresh?: boolean;
}

export interface OriginCache {
  /** `signal`: this caller stops waiting; the fetch is cancelled once no caller waits. */
  getSource(url: string, fetcher: SourceFetcher, signal?: AbortSignal, variant?: SourceVariant): Promise<SourceResult>;
  /** Applies a purge record to the memory tier and the fetches in flight. */
  apply(record: PurgeRecord): void;
  /** Resolves when background writes have finished. */
  flush(): Promise<void>;
}

export function createOriginCache(deps: {
  store: BlobStore | null;
  /** PP_CACHE_DISK_TTL_SECS in ms: fallback freshness, and how long a stale validated entry is kept. */
  defaultTtlMs: number;
  /** Purges this instance knows of. */
  records?: PurgeRecords;
  /** PIXPROXY_CACHE_STALE_WHILE_REVALIDATE_SECS / _STALE_IF_ERROR_SECS. */
  staleDefaults?: StaleWindows;
  /** A stale entry's source came back with other bytes (`tag`: the new bytes' source tag). */
  onChanged?: (url: string, tag: string) => void;
  timeoutMs: number;
  singleflight: SingleFlight;
  metrics: Metrics;
  report: ErrorReporter;
  budget?: DiskBudget | null;
  /**
   * Bytes of recently used sources kept in memory in front of the store, so new variants of
   * a hot source neither read nor re-verify megabytes from disk. 0 disables it.
   */
  memoryBytes?: number;
}): OriginCache {
  const { store, defaultTtlMs, metrics, report } = deps;
  const originLookups = metrics.lookups('origin');
  const pending = new Set<Promise<void>>();
  // Entries whose write is still in flight: a request arriving between the end of a
  // fetch and the end of its write must not fetch the source again.
  const writing = new Map<string, OriginEntry>();
  const memoryBytes = deps.memoryBytes ?? 0;
  const recent =
    memoryBytes > 0
      ? new LRUCache<string, OriginEntry>({
          maxSize: memoryBytes,
          // A source bigger than a quarter of the budget would evict everything else.
          maxEntrySize: Math.max(1, Math.floor(memoryBytes / 4)),
          sizeCalculation: (c) => Math.max(1, c.body.length),
        })
      : null;

  function track(p: Promise<void>): void {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  const staleDefaults = deps.staleDefaults ?? { swrSecs: 0, sieSecs: 0 };

  /** Stores a response (fetched by a load that began at `bornAt`); resolves until when it is fresh. */
  function save(key: string, url: string, res: SourceResponse, existed: boolean, bornAt: number): number {
    const headers: Record<string, string> = { ...res.headers };
    if (res.etag !== undefined) headers.etag ??= res.etag;
    if (res.lastModified !== undefined) headers['last-modified'] ??= res.lastModified;
    const f = originFreshness(headers, defaultTtlMs);
    const now = Date.now();
    const freshUntil = now + f.freshMs;
    if (!store) return freshUntil;
    // A purge since this load began: what it fetched may predate it.
    if (deps.records?.retiresOrigin(key, bornAt)) return freshUntil;
    const validator = res.etag !== undefined || res.lastModified !== undefined;
    const windows = staleWindows(headers, staleDefaults);
    // Kept past its freshness for revalidation (validators) and its stale windows.
    const expiresAt = freshUntil + Math.max(validator ? defaultTtlMs : 0, windows.swrSecs * 1000, windows.sieSecs * 1000);
    if (!f.storable || expiresAt <= now || !(deps.budget?.admits(res.body.length) ?? true)) {
      // A newer answer says "don't keep": drop what we had rather than serve it later.
      recent?.delete(key);
      if (existed) track(store.delete(key).catch((err: unknown) => report('origin', 'delete', err)));
      return freshUntil;
    }
    const { putMeta, entry } = encodeEntry(url, res, freshUntil, expiresAt, now);
    writing.set(key, entry);
    recent?.set(key, entry);
    track(
      store
        .put(key, res.body, putMeta)
        .catch((err: unknown) => report('origin', 'put', err))
        .finally(() => {
          if (writing.get(key) === entry) writing.delete(key);
        }),
    );
    return freshUntil;
  }

  async function read(key: string, url: string): Promise<OriginEntry | null> {
    if (!store) return null;
    const inMemory = writing.get(key) ?? recent?.get(key);
    if (inMemory) return inMemory;
    try {
      const r = await withTimeout(store.get(key), deps.timeoutMs, 'origin get');
      if (r === null || isNotModified(r)) return null;
      const body = r.data ?? (await withTimeout(readAll(r.body), deps.timeoutMs, 'origin read'));
      return decodeEntry(r.meta, body, url);
    } catch (err) {
      report('origin', 'get', err);
      return null;
    }
  }

  /** "a 200 with new bytes retires them": tells onChanged when a stored source came back changed. */
  async function changed(url: string, res: SourceResponse, cached: OriginEntry): Promise<void> {
    const [tag, before] = await Promise.all([sourceTag(res), sourceTag(entryResponse(cached))]);
    if (tag !== undefined && tag !== before) deps.onChanged?.(url, tag);
  }

  async function load(url: string, fetcher: (conditional: ConditionalHeaders) => Promise<SourceResponse>, fresh: boolean): Promise<SourceResult> {
    const key = originKey(url);
    const bornAt = Date.now();
    const cached = fresh ? null : await read(key, url);
    if (cached && cached.freshUntil > Date.now()) {
      originLookups.count(true);
      return { response: entryResponse(cached), outcome: 'hit', freshUntil: cached.freshUntil };
    }
    const conditional: ConditionalHeaders = {};
    if (cached?.meta.etag !== undefined) conditional.ifNoneMatch = cached.meta.etag;
    if (cached?.meta.lastModified !== undefined) conditional.ifModifiedSince = cached.meta.lastModified;
    let res: SourceResponse;
    try {
      res = await fetcher(conditional);
    } catch (err) {
      // RFC 5861 §4: the stale entry stands in for the failed origin within its window.
      const sie = cached ? staleWindows(cached.headers, staleDefaults).sieSecs * 1000 : 0;
      if (!cached || !isOriginFailure(err) || Date.now() >= cached.freshUntil + sie) throw err;
      originLookups.count(true);
      return { response: entryResponse(cached), outcome: 'stale', freshUntil: cached.freshUntil };
    }
    if (res.status === 304) {
      if (!cached || (conditional.ifNoneMatch === undefined && conditional.ifModifiedSince === undefined)) {
        throw new ProxyError('SOURCE_BAD_GATEWAY', `source answered 304 to an unconditional request: ${url}`);
      }
      originLookups.count(true);
      // RFC 9111 §4.3.4: the stored response's headers are updated from the 304; body reused.
      const response = entryResponse(cached, mergeHeaders(cached.headers, res.headers), res.etag ?? cached.meta.etag, res.lastModified ?? cached.meta.lastModified);
      const freshUntil = save(key, url, response, true, bornAt);
      return { response, outcome: 'revalidated', freshUntil };
    }
    if (store) originLookups.count(false);
    if (cached) await changed(url, res, cached);
    const freshUntil = save(key, url, res, cached !== null, bornAt);
    return { response: res, outcome: 'miss', freshUntil };
  }

  /**
   * A fetch with the client's conditional headers: a fresh stored entry answers them itself;
   * otherwise they go to the origin, whose 200 is stored as any miss is, and whose 304 is the
   * answer (it also refreshes a stale entry that has the same strong ETag, RFC 9111 §4.3.4).
   */
  async function loadConditional(url: string, client: ConditionalHeaders, fetcher: (conditional: ConditionalHeaders) => Promise<SourceResponse>, fresh: boolean): Promise<SourceResult> {
    const key = originKey(url);
    const bornAt = Date.now();
    const cached = fresh ? null : await read(key, url);
    if (cached && cached.freshUntil > Date.now()) {
      originLookups.count(true);
      if (answersNotModified(client.ifNoneMatch, client.ifModifiedSince, cached.meta.etag, cached.meta.lastModified)) {
        return { response: { ...entryResponse(cached), status: 304, body: Buffer.alloc(0) }, outcome: 'not-modified', freshUntil: cached.freshUntil };
      }
      return { response: entryResponse(cached), outcome: 'hit', freshUntil: cached.freshUntil };
    }
    const res = await fetcher(client);
    if (res.status === 304) {
      const strong = res.etag !== undefined && !res.etag.startsWith('W/') && res.etag === cached?.meta.etag;
      if (cached && strong) save(key, url, entryResponse(cached, mergeHeaders(cached.headers, res.headers), res.etag, res.lastModified ?? cached.meta.lastModified), true, bornAt);
      return { response: res, outcome: 'not-modified' };
    }
    originLookups.count(false);
    if (cached) await changed(url, res, cached);
    const freshUntil = save(key, url, res, cached !== null, bornAt);
    return { response: res, outcome: 'miss', freshUntil };
  }

  return {
    getSource(url, fetcher, signal, variant = {}) {
      const waiter = signal ? { signal } : {};
      const c = variant.conditional;
      const conditional = c !== undefined && (c.ifNoneMatch !== undefined || c.ifModifiedSince !== undefined) ? c : null;
      const fresh = variant.fresh === true;
      // Only callers asking the same question share an answer; a fresh load must not join one
      // that may answer stored bytes.
      const asked = conditional === null ? '' : `\0if\0${conditional.ifNoneMatch ?? ''}\0${conditional.ifModifiedSince ?? ''}`;
      const pre = fresh ? 'fresh-' : '';
      if (!store || !isOriginCacheable(url) || variant.credentials !== undefined) {
        // Still coalesced: concurrent variants of one local file read it once.
        const who = variant.credentials === undefined ? '' : `\0as\0${variant.credentials}`;
        return deps.singleflight
          .run(`${pre}direct:${url}${who}${asked}`, async (work) => {
            const response = await fetcher(conditional ?? {}, work.signal);
            return { response, outcome: response.status === 304 ? ('not-modified' as const) : ('miss' as const) };
          }, waiter)
          .then((r) => r.value);
      }
      if (conditional !== null) {
        return deps.singleflight.run(`${pre}origin:${url}${asked}`, (work) => loadConditional(url, conditional, (cond) => fetcher(cond, work.signal), fresh), waiter).then((r) => r.value);
      }
      return deps.singleflight.run(`${pre}origin:${url}`, (work) => load(url, (cond) => fetcher(cond, work.signal), fresh), waiter).then((r) => r.value);
    },
    apply(record) {
      const matches = (key: string): boolean => matchesOrigin(record.scope, key);
      for (const key of [...writing.keys()]) if (matches(key)) writing.delete(key);
      if (recent) for (const key of [...recent.keys()]) if (matches(key)) recent.delete(key);
      deps.singleflight.detach((flight) => {
        // `[fresh-]origin:<url>[\0if\0…]`: a URL holds no NUL (it is percent-encoded).
        const colon = flight.indexOf(':');
        const end = flight.indexOf('\0');
        return colon > 0 && flight.slice(0, colon).endsWith('origin') && matches(originKey(flight.slice(colon + 1, end < 0 ? undefined : end)));
      });
    },
    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
