/**
 * The image cache: L1 (memory) → L2 (a BlobStore: fs or an object store) for transformed
 * results and /info answers (layers.ts), the origin sub-store for raw source bytes
 * (origin.ts), single-flight for concurrent misses, and purges (purge.ts) shared between the
 * instances of one L2 through the purge log (purge-log.ts).
 *
 * Every cache failure degrades to working without the cache (report.ts). As in imgproxy, a
 * result is stored before it is served (https://docs.imgproxy.net/cache/internal: "processes
 * the image and stores the result in the cache before serving it"): `store()` is called before
 * the response, puts the entry in L1 at once and schedules the L2 write without awaiting it
 * (PreviewProxy awaited its L2 write before answering); until that write ends, lookups find
 * the entry among the writes in flight, so it is in the cache from the moment store() returns.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ImageRequest } from '../request.js';
import type { BlobStore } from '../storage/types.js';
import type { DiskBudget, DiskTotals } from './budget.js';
import { computeEtag, decodeImageMeta, encodeImageMeta, type CachedImage } from './image-entry.js';
import { infoCodec, type CachedInfo } from './info-entry.js';
import { infoKey, legacyKey, transformedKey } from './key.js';
import { createLayer, type Applied, type CacheLayerHit, type Layer } from './layers.js';
import { createMemoryCache } from './memory.js';
import { createLease, type Lease } from './lease.js';
import { createOriginCache, type SourceFetcher, type SourceResult, type SourceVariant } from './origin.js';
import { createPurgeLog } from './purge-log.js';
import { createPurger, type PurgeRequest, type PurgeResult } from './purge.js';
import { createPurgeRecords, matchesKey, type PurgeRecord } from './purge-records.js';
import { createErrorReporter } from './report.js';
import { createSingleFlight, type SingleFlight } from './singleflight.js';
import { keepUntil } from './swr.js';

export { createCacheStores, type CacheStores } from './stores.js';
export { createDiskBudget, type DiskBudget, type DiskTotals } from './budget.js';
export type { SourceFetcher, SourceOutcome, SourceResult, SourceVariant, ConditionalHeaders } from './origin.js';
export { originFreshness, isOriginCacheable } from './origin-policy.js';
export { computeEtag, makeCachedImage, type CachedImage, type ImageFacts, type OriginHeaders } from './image-entry.js';
export type { CachedInfo } from './info-entry.js';
export type { CacheLayerHit } from './layers.js';
export type { PurgeCounts, PurgeRequest, PurgeResult, PurgeTarget } from './purge.js';

/** The /info answers' part of the cache. */
export interface InfoCache {
  /** `options`: the /info options without the ones that never change the answer. */
  key(source: string, options: Readonly<Record<string, unknown>>): string;
  lookup(key: string): Promise<{ info: CachedInfo; layer: CacheLayerHit } | null>;
  /** Before the response, like ImageCache.store; false when a purge retired it meanwhile. */
  store(key: string, info: CachedInfo): boolean;
  /** PIXPROXY_CACHE_INFO_TTL_SECS > 0. */
  readonly enabled: boolean;
}

export interface CacheStats {
  l1: { entries: number; bytes: number };
  infoL1: { entries: number; bytes: number };
  /** fs only: what the disk budget counts. */
  disk: DiskTotals | null;
  purges: { recent: number; lastPollAt: number; pollMs: number; legacyFence: number };
}

export interface ImageCache {
  key(req: ImageRequest, headers: IncomingHttpHeaders): string;
  /**
   * L1 → L2; an L2 hit is promoted to L1. Never rejects: errors are misses. `release`: with
   * L1 off, an L2 hit read by this lookup alone; called once nothing uses `image.data` any more,
   * it gives the read's buffer back for reuse (src/buffer-pool.ts). Not calling it is safe.
   */
  lookup(key: string): Promise<{ image: CachedImage; layer: CacheLayerHit; release?: (() => void) | undefined } | null>;
  /**
   * The L1 entry of `key` when `accept` takes it, at once (no promise: most of the traffic is
   * this); counted as an L1 hit only then. Undefined otherwise: lookup() does the rest.
   */
  l1Hit(key: string, accept: (image: CachedImage) => boolean): CachedImage | undefined;
  /**
   * Before the response; never throws, never rejects unhandled. `ttlMs` shortens this entry's
   * life in both layers (a fallback answer lives as long as its max-age). False when a purge
   * since the computation began retires the result (it is not stored).
   */
  store(key: string, image: CachedImage, ttlMs?: number): boolean;
  singleflight: Pick<SingleFlight, 'run' | 'waiters' | 'has'>;
  /** The cross-instance lease (PIXPROXY_CACHE_LEASE, ./lease.ts); null when off or without an L2. */
  lease: Pick<Lease<CachedImage>, 'claim'> | null;
  /**
   * Source bytes through the origin sub-store (direct fetch when it is off or for local://).
   * `signal`: this caller stops waiting; the fetch is cancelled once no caller waits.
   */
  getSource(url: string, fetcher: SourceFetcher, signal?: AbortSignal, variant?: SourceVariant): Promise<SourceResult>;
  readonly info: InfoCache;
  /** Removes what the request names from every layer, here and (through the purge log) on every instance. */
  purge(request: PurgeRequest): Promise<PurgeResult>;
  stats(): CacheStats;
  /** Reads the purge log's fence, then polls it (PIXPROXY_CACHE_PURGE_POLL_MS). */
  start(): Promise<void>;
  /** Resolves when background writes have finished (tests, graceful stop). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ImageCacheDeps {
  config: Config;
  l2: BlobStore | null;
  origin: BlobStore | null;
  /** The purge log's store (`purges/` next to the cache); none = purges stay in this instance. */
  purges?: BlobStore | null;
  /** The stores without time boxes, for purges (default: l2 and origin). */
  direct?: { l2: BlobStore | null; origin: BlobStore | null };
  metrics: Metrics;
  logger: Logger;
  budget?: DiskBudget | null;
}

/** /info options that never change the answer. */
const INFO_NON_KEY = new Set(['expires', 'presets', 'bypassCache']);

export function createImageCache(deps: ImageCacheDeps): ImageCache {
  const { config, l2, metrics } = deps;
  const c = config.cache;
  const logger = deps.logger.child({ module: 'cache' });
  const report = createErrorReporter(c.reportErrors, logger, metrics);
  const budget = deps.budget ?? null;
  const diskTtlMs = c.diskTtlSecs * 1000;
  const records = createPurgeRecords();

  const memoryBytes = c.memoryMaxMb * 1024 * 1024;
  const l1 = createMemoryCache<CachedImage>({
    maxBytes: memoryBytes,
    ttlMs: c.memoryTtlSecs * 1000,
    onEvict: () => metrics.cacheEvictions.inc({ layer: 'memory' }),
  });
  // /info answers are small: an eighth of the L1 budget.
  const infoL1 = c.infoTtlSecs > 0 ? createMemoryCache<CachedInfo>({ maxBytes: Math.floor(memoryBytes / 8), ttlMs: Math.min(c.memoryTtlSecs, c.infoTtlSecs) * 1000 }) : null;
  // L1 entries expire lazily; drop the expired ones at scrape time so the gauges follow the TTL.
  metrics.onCollect(() => {
    for (const [mem, layer] of [[l1, 'memory'], [infoL1, 'info-memory']] as const) {
      if (!mem) continue;
      mem.purgeStale();
      metrics.cacheBytes.set({ layer }, mem.bytes);
      metrics.cacheEntries.set({ layer }, mem.entries);
    }
  });

  const imageFlight = createSingleFlight({ onJoin: () => metrics.singleflightJoins.inc({ kind: 'image' }) });
  const sourceFlight = createSingleFlight({ onJoin: () => metrics.singleflightJoins.inc({ kind: 'origin' }) });
  const recentWritesMs = c.purgePollMs + 30_000;
  const common = { records, metrics, report, budget, timeoutMs: c.backendTimeoutMs, recentWritesMs, l2 };
  const images: Layer<CachedImage> = createLayer<CachedImage>({
    ...common,
    labels: { l1: 'memory', l2: 'l2' },
    l1,
    codec: { encode: encodeImageMeta, decode: decodeImageMeta },
    inFlight: (key) => imageFlight.has(key),
    reuseReads: true,
  });
  const infos: Layer<CachedInfo> = createLayer<CachedInfo>({
    ...common,
    labels: { l1: 'info-memory', l2: 'info-l2' },
    l1: infoL1,
    l2: c.infoTtlSecs > 0 ? l2 : null,
    codec: infoCodec,
    inFlight: () => false,
  });

  const log = createPurgeLog({ store: deps.purges ?? null, records, pollMs: c.purgePollMs, report, logger });
  const direct = deps.direct ?? { l2, origin: deps.origin };
  const origin = createOriginCache({
    store: deps.origin,
    defaultTtlMs: diskTtlMs,
    timeoutMs: c.backendTimeoutMs,
    memoryBytes: c.originMemoryMaxMb * 1024 * 1024,
    singleflight: sourceFlight,
    metrics,
    report,
    budget,
    records,
    staleDefaults: { swrSecs: c.staleWhileRevalidateSecs, sieSecs: c.staleIfErrorSecs },
    // "a 200 with new bytes retires them": the source's results made from its old bytes.
    onChanged: (url, tag) => purger.retireChanged(url, tag, (err) => report('l2', 'purge', err)),
  });
  /** A purge record reaches this instance's memory: L1s, computations in flight, the origin memory tier. */
  function applyRecord(record: PurgeRecord, local = false): Applied {
    const a = images.apply(record, local);
    const b = infos.apply(record, local);
    origin.apply(record);
    imageFlight.detach((key) => matchesKey(record.scope, flightKey(key)));
    return { l1: a.l1 + b.l1, settled: Promise.all([a.settled, b.settled]).then(() => undefined) };
  }
  // Declared after the origin cache, whose onChanged (called only later, on a fetch) uses it.
  const purger = createPurger({ apply: applyRecord, l2: direct.l2, originStore: direct.origin, records, log, wroteFrom: (key, tag) => images.recentSourceTag(key) === tag });
  records.onRecord((record) => applyRecord(record));

  /**
   * Each result key's layout-1 key, remembered from key() for the lookup that follows, and
   * computed only when that lookup misses the grouped key: its canonical JSON and hash were a
   * third of the key's cost (legacyKey 2 % of the main thread on its own in the 100,000-entry
   * L2-hit profile), paid on every hit for a read that only a miss makes.
   */
  const legacyKeys = c.readLayout1 && l2 ? new LRUCache<string, { readonly key: string; migrate: boolean }>({ max: 10_000 }) : null;
  /** The request headers a layout-1 key reads (key.ts keyInputs): all that is kept of them. */
  const legacyHeaderNames = [...c.keyHeaders.map((h) => h.toLowerCase()), ...(c.keyCookies.length > 0 ? ['cookie'] : [])];
  let closed = false;

  // A follower's read of another instance's result goes through the layer: promoted to L1,
  // and a miss when a purge this instance knows of came after that computation began.
  const lease = c.lease && l2
    ? createLease<CachedImage>({
        store: l2,
        ttlMs: c.leaseTtlSecs * 1000,
        read: (key) => images.readShared(key),
        written: (key) => images.written(key),
        confirm: c.use === 'swift',
        report,
        logger,
        onOutcome: (outcome) => metrics.leaseClaims.inc({ outcome }),
      })
    : null;

  async function flush(): Promise<void> {
    await Promise.all([images.flush(), infos.flush(), origin.flush()]);
    await lease?.flush();
    await budget?.settled();
  }

  const info: InfoCache = {
    enabled: c.infoTtlSecs > 0,
    key(source, options) {
      const keyed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(options)) if (!INFO_NON_KEY.has(k)) keyed[k] = v;
      return infoKey(source, keyed, c);
    },
    async lookup(key) {
      if (c.infoTtlSecs <= 0) return null;
      const hit = await infos.lookup(key);
      return hit && { info: hit.value, layer: hit.layer };
    },
    store(key, value) {
      if (c.infoTtlSecs <= 0) return false;
      return infos.store(key, value, { l2ExpiresAt: Date.now() + c.infoTtlSecs * 1000 });
    },
  };

  return {
    key(req, headers) {
      const key = transformedKey(req, headers, c);
      if (legacyKeys) {
        const kept: IncomingHttpHeaders = {};
        for (const name of legacyHeaderNames) if (headers[name] !== undefined) kept[name] = headers[name];
        let legacy: string | undefined;
        // A getter: the layer reads the layout-1 key only when the grouped key missed.
        legacyKeys.set(key, {
          get key() {
            return (legacy ??= legacyKey(req, kept, c));
          },
          migrate: true,
        });
      }
      return key;
    },

    async lookup(key) {
      const hit = await images.lookup(key, legacyKeys?.get(key));
      return hit && { image: hit.value, layer: hit.layer, release: hit.release };
    },

    l1Hit: (key, accept) => images.l1Hit(key, accept),

    store(key, input, ttlMs) {
      if (closed) return false;
      const image = input.etag === '' ? { ...input, etag: computeEtag(input.data) } : input;
      const now = Date.now();
      // A result with a stale window is kept through it; one without lives PP_CACHE_DISK_TTL_SECS.
      const until = image.freshness ? keepUntil(image.freshness) : now + (ttlMs === undefined ? diskTtlMs : Math.min(ttlMs, diskTtlMs));
      // A TTL of 0 means "expired on arrival": nothing worth writing to L2.
      const l2ExpiresAt = diskTtlMs > 0 && until > now ? until : undefined;
      const l1Ms = ttlMs ?? (image.freshness ? until - now : undefined);
      return images.store(key, image, { ...(l1Ms !== undefined ? { l1Ms } : {}), ...(l2ExpiresAt !== undefined ? { l2ExpiresAt } : {}) });
    },

    singleflight: imageFlight,

    lease,

    getSource: (url, fetcher, signal, variant) => origin.getSource(url, fetcher, signal, variant),

    info,

    purge: (request) => purger.purge(request),

    stats() {
      return {
        l1: { entries: l1?.entries ?? 0, bytes: l1?.bytes ?? 0 },
        infoL1: { entries: infoL1?.entries ?? 0, bytes: infoL1?.bytes ?? 0 },
        disk: budget?.totals() ?? null,
        purges: { recent: records.recent().length, lastPollAt: log.lastPollAt, pollMs: log.pollMs, legacyFence: records.legacyFence },
      };
    },

    start: () => log.start(),

    flush,

    async close() {
      closed = true;
      log.close();
      await flush();
      images.clear();
      infos.clear();
      await budget?.close();
    },
  };
}

/** The cache key a flight computes: SWR refreshes and bypasses run under `<kind>\0<key>`. */
function flightKey(key: string): string {
  const nul = key.indexOf('\0');
  return nul < 0 ? key : key.slice(nul + 1);
}
