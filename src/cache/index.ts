/**
 * The image cache: L1 (memory) → L2 (a BlobStore: fs or an object store) for transformed
 * results, the origin sub-store for raw source bytes, and single-flight for concurrent misses.
 * Seed: "Once an image has been fetched and processed, subsequent requests for the same image
 * and parameters are served from cache."
 *
 * Every cache failure degrades to working without the cache (see report.ts). Seed: "stores
 * the result in the cache before serving it": `store()` is called before the response, puts
 * the entry in L1 at once and schedules the L2 write without awaiting it (PreviewProxy awaited
 * its L2 write before answering, reference §3.9); until that write ends, lookups find the
 * entry among the writes in flight, so it is in the cache from the moment store() returns.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../options.js';
import type { ProcessResult } from '../processing/types.js';
import type { ImageRequest } from '../request.js';
import { type BlobMeta, type BlobStore, isNotModified } from '../storage/types.js';
import type { DiskBudget } from './budget.js';
import { transformedKey } from './key.js';
import { createMemoryCache } from './memory.js';
import { createOriginCache, type SourceFetcher, type SourceResult, type SourceVariant } from './origin.js';
import { createLease, type Lease } from './lease.js';
import { createErrorReporter } from './report.js';
import { createSingleFlight, type SingleFlight } from './singleflight.js';
import { readAll, withTimeout } from './util.js';

export { createCacheStores, type CacheStores } from './stores.js';
export { createDiskBudget, type DiskBudget, type DiskTotals } from './budget.js';
export type { SourceFetcher, SourceOutcome, SourceResult, SourceVariant, ConditionalHeaders } from './origin.js';
export { originFreshness, isOriginCacheable } from './origin.js';

export interface CachedImage {
  data: Buffer;
  contentType: string;
  format: OutputFormat;
  width: number;
  height: number;
  etag: string;
  createdAt: number;
  originWidth?: number;
  originHeight?: number;
  originSize?: number;
  /** Origin's ETag (IMGPROXY_USE_ETAG: the result's ETag, see http/conditional.ts). */
  originEtag?: string;
  /** Origin's Last-Modified (IMGPROXY_USE_LAST_MODIFIED). */
  originLastModified?: string;
  /** Origin's Cache-Control / Expires (IMGPROXY_CACHE_CONTROL_PASSTHROUGH). */
  originCacheControl?: string;
  originExpires?: string;
  /** Set on a fallback image answered instead of an error: the status to answer it with. */
  fallbackStatus?: number;
}

/** Origin headers a result carries for the response (stored with it, so hits answer alike). */
export interface OriginHeaders {
  originEtag?: string;
  originLastModified?: string;
  originCacheControl?: string;
  originExpires?: string;
}

const ORIGIN_HEADER_FIELDS = ['originEtag', 'originLastModified', 'originCacheControl', 'originExpires'] as const;

export type CacheLayerHit = 'HIT-L1' | 'HIT-L2';

export interface ImageCache {
  key(req: ImageRequest, headers: IncomingHttpHeaders): string;
  /** L1 → L2; an L2 hit is promoted to L1. Never rejects: errors are misses. */
  lookup(key: string): Promise<{ image: CachedImage; layer: CacheLayerHit } | null>;
  /**
   * Fire-and-forget, before the response; never throws, never rejects unhandled. `ttlMs`
   * shortens this entry's life in both layers (a fallback answer lives as long as its max-age).
   */
  store(key: string, image: CachedImage, ttlMs?: number): void;
  singleflight: Pick<SingleFlight, 'run' | 'waiters'>;
  /** The cross-instance lease (PIXPROXY_CACHE_LEASE, ./lease.ts); null when off or without an L2. */
  lease: Pick<Lease<CachedImage>, 'claim'> | null;
  /**
   * Source bytes through the origin sub-store (direct fetch when it is off or for local://).
   * `signal`: this caller stops waiting; the fetch is cancelled once no caller waits.
   */
  getSource(url: string, fetcher: SourceFetcher, signal?: AbortSignal, variant?: SourceVariant): Promise<SourceResult>;
  /** Resolves when background writes have finished (tests, graceful stop). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ImageCacheDeps {
  config: Config;
  l2: BlobStore | null;
  origin: BlobStore | null;
  metrics: Metrics;
  logger: Logger;
  budget?: DiskBudget | null;
}

/** Strong ETag of the result bytes: differs per options and format, stable across restarts. */
export function computeEtag(data: Buffer): string {
  return `"${createHash('sha256').update(data).digest('base64url').slice(0, 27)}"`;
}

/** The entry to respond with and then store: the ETag is computed once, here. */
export function makeCachedImage(result: ProcessResult, extra: { originSize?: number; createdAt?: number } & OriginHeaders = {}): CachedImage {
  return {
    data: result.data,
    contentType: result.contentType,
    format: result.format,
    width: result.width,
    height: result.height,
    etag: computeEtag(result.data),
    createdAt: extra.createdAt ?? Date.now(),
    originWidth: result.originWidth,
    originHeight: result.originHeight,
    ...(extra.originSize !== undefined ? { originSize: extra.originSize } : {}),
    ...pickOriginHeaders(extra),
  };
}

function pickOriginHeaders(from: Partial<Record<(typeof ORIGIN_HEADER_FIELDS)[number], unknown>>): OriginHeaders {
  const out: OriginHeaders = {};
  for (const f of ORIGIN_HEADER_FIELDS) {
    const v = from[f];
    if (typeof v === 'string' && v !== '') out[f] = v;
  }
  return out;
}

const META_VERSION = '1';

function encodeMeta(image: CachedImage): Record<string, string> {
  const x: Record<string, string> = {
    v: META_VERSION,
    format: image.format,
    width: String(image.width),
    height: String(image.height),
    createdAt: String(image.createdAt),
  };
  if (image.originWidth !== undefined) x.originWidth = String(image.originWidth);
  if (image.originHeight !== undefined) x.originHeight = String(image.originHeight);
  if (image.originSize !== undefined) x.originSize = String(image.originSize);
  if (image.fallbackStatus !== undefined) x.fallbackStatus = String(image.fallbackStatus);
  for (const f of ORIGIN_HEADER_FIELDS) {
    const v = image[f];
    if (v !== undefined) x[f] = v;
  }
  return x;
}

function optNum(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** null when the stored meta is not one we wrote (other version, foreign object): a miss. */
function decodeImage(meta: BlobMeta, data: Buffer): CachedImage | null {
  const x = meta.extra;
  if (!x || x.v !== META_VERSION || meta.contentType === undefined || meta.etag === undefined) return null;
  const format = x.format as OutputFormat;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) return null;
  const width = optNum(x.width);
  const height = optNum(x.height);
  const createdAt = optNum(x.createdAt) ?? meta.createdAt;
  if (width === undefined || height === undefined || data.length !== meta.size) return null;
  const originWidth = optNum(x.originWidth);
  const originHeight = optNum(x.originHeight);
  const originSize = optNum(x.originSize);
  const fallbackStatus = optNum(x.fallbackStatus);
  return {
    data,
    contentType: meta.contentType,
    format,
    width,
    height,
    etag: meta.etag,
    createdAt,
    ...(originWidth !== undefined ? { originWidth } : {}),
    ...(originHeight !== undefined ? { originHeight } : {}),
    ...(originSize !== undefined ? { originSize } : {}),
    ...(fallbackStatus !== undefined ? { fallbackStatus } : {}),
    ...pickOriginHeaders(x),
  };
}

export function createImageCache(deps: ImageCacheDeps): ImageCache {
  const { config, l2, metrics } = deps;
  const c = config.cache;
  const logger = deps.logger.child({ module: 'cache' });
  const report = createErrorReporter(c.reportErrors, logger, metrics);
  const budget = deps.budget ?? null;
  const diskTtlMs = c.diskTtlSecs * 1000;

  const l1 = createMemoryCache<CachedImage>({
    maxBytes: c.memoryMaxMb * 1024 * 1024,
    ttlMs: c.memoryTtlSecs * 1000,
    onEvict: () => metrics.cacheEvictions.inc({ layer: 'memory' }),
  });
  const updateL1Gauges = (): void => {
    if (!l1) return;
    metrics.cacheBytes.set({ layer: 'memory' }, l1.bytes);
    metrics.cacheEntries.set({ layer: 'memory' }, l1.entries);
  };
  // L1 entries expire lazily; drop the expired ones at scrape time so the gauges follow the TTL.
  metrics.onCollect(() => {
    if (!l1) return;
    l1.purgeStale();
    updateL1Gauges();
  });

  const imageFlight = createSingleFlight({ onJoin: () => metrics.singleflightJoins.inc({ kind: 'image' }) });
  const sourceFlight = createSingleFlight({ onJoin: () => metrics.singleflightJoins.inc({ kind: 'origin' }) });
  const origin = createOriginCache({
    store: deps.origin,
    defaultTtlMs: diskTtlMs,
    timeoutMs: c.backendTimeoutMs,
    memoryBytes: c.originMemoryMaxMb * 1024 * 1024,
    singleflight: sourceFlight,
    metrics,
    report,
    budget,
  });

  const pending = new Set<Promise<void>>();
  /** L2 writes in flight: readable before the write ends (the entry is already "in the cache"). */
  const writing = new Map<string, CachedImage>();
  /** The same writes, for a lease released once its result is readable by other instances. */
  const writes = new Map<string, Promise<void>>();
  let closed = false;

  async function readL2(key: string): Promise<CachedImage | null> {
    if (!l2) return null;
    const r = await withTimeout(l2.get(key), c.backendTimeoutMs, 'l2 get');
    if (r === null || isNotModified(r)) return null;
    const data = r.data ?? (await withTimeout(readAll(r.body), c.backendTimeoutMs, 'l2 read'));
    const image = decodeImage(r.meta, data);
    if (!image) {
      // Not one of ours (or an older layout): drop it so the next store replaces it cleanly.
      void l2.delete(key).catch((err: unknown) => report('l2', 'delete', err));
    }
    return image;
  }

  /** Another instance's result, found by a lease follower: promoted to L1 like any L2 hit. */
  async function readShared(key: string): Promise<CachedImage | null> {
    const image = await readL2(key).catch((err: unknown) => {
      report('l2', 'get', err);
      return null;
    });
    metrics.cacheLookups.inc({ layer: 'l2', outcome: image ? 'hit' : 'miss' });
    if (image && l1) {
      l1.set(key, image);
      updateL1Gauges();
    }
    return image;
  }

  const lease = c.lease && l2
    ? createLease<CachedImage>({
        store: l2,
        ttlMs: c.leaseTtlSecs * 1000,
        read: readShared,
        written: (key) => writes.get(key) ?? Promise.resolve(),
        confirm: c.use === 'swift',
        report,
        logger,
        onOutcome: (outcome) => metrics.leaseClaims.inc({ outcome }),
      })
    : null;

  /**
   * Concurrent lookups of one key share one L2 read: a stampede arrives before its first
   * request has started the computation the others join, and 300 reads of one missing key at
   * once would queue in front of everything else at an object store (and time out into its
   * circuit breaker).
   */
  const reads = new Map<string, Promise<CachedImage | null>>();
  function readL2Once(key: string): Promise<CachedImage | null> {
    let p = reads.get(key);
    if (!p) {
      p = readL2(key).finally(() => reads.delete(key));
      reads.set(key, p);
    }
    return p;
  }

  async function flush(): Promise<void> {
    while (pending.size > 0) await Promise.allSettled([...pending]);
    await lease?.flush();
    await origin.flush();
    await budget?.settled();
  }

  return {
    key: (req, headers) => transformedKey(req, headers, c),

    async lookup(key) {
      if (l1) {
        const hit = l1.get(key);
        metrics.cacheLookups.inc({ layer: 'memory', outcome: hit ? 'hit' : 'miss' });
        if (hit) {
          // A use all the same: the disk LRU must not evict what L1 keeps serving.
          budget?.noteUse('l2', key);
          return { image: hit, layer: 'HIT-L1' };
        }
      }
      if (!l2) return null;
      let image: CachedImage | null = writing.get(key) ?? null;
      // The key is being computed: the caller will join that computation, so reading L2
      // (which cannot hold it yet) would only queue a file operation per waiting request —
      // 200 of them in a stampede — in front of the leader's own I/O and transform.
      if (image === null && imageFlight.has(key)) return null;
      try {
        image ??= await readL2Once(key);
      } catch (err) {
        report('l2', 'get', err);
      }
      metrics.cacheLookups.inc({ layer: 'l2', outcome: image ? 'hit' : 'miss' });
      if (!image) return null;
      if (l1) {
        // Promotion restarts the L1 TTL, as PreviewProxy's does.
        l1.set(key, image);
        updateL1Gauges();
      }
      return { image, layer: 'HIT-L2' };
    },

    store(key, input, ttlMs) {
      try {
        if (closed) return;
        const image = input.etag === '' ? { ...input, etag: computeEtag(input.data) } : input;
        if (l1) {
          l1.set(key, image, ttlMs);
          updateL1Gauges();
        }
        const lifeMs = ttlMs === undefined ? diskTtlMs : Math.min(ttlMs, diskTtlMs);
        // A TTL of 0 means "expired on arrival": nothing worth writing.
        if (!l2 || lifeMs <= 0 || !(budget?.admits(image.data.length) ?? true)) return;
        writing.set(key, image);
        // The entry is visible from here on; the write (checksum, file I/O) starts once the
        // current responses have been written.
        const p = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() =>
            l2.put(key, image.data, {
              contentType: image.contentType,
              etag: image.etag,
              expiresAt: Date.now() + lifeMs,
              extra: encodeMeta(image),
            }),
          )
          .catch((err: unknown) => report('l2', 'put', err))
          .finally(() => {
            if (writing.get(key) === image) writing.delete(key);
            if (writes.get(key) === p) writes.delete(key);
          });
        writes.set(key, p);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      } catch (err) {
        report('l2', 'put', err);
      }
    },

    singleflight: imageFlight,

    lease,

    getSource: (url, fetcher, signal, variant) => origin.getSource(url, fetcher, signal, variant),

    flush,

    async close() {
      closed = true;
      await flush();
      l1?.clear();
      updateL1Gauges();
      await budget?.close();
    },
  };
}
