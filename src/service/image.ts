/**
 * The image flow, callable without a socket: cache lookup (L1 → L2), then on a miss one
 * computation per key (see flow.ts): source → detect → process → store. The result is in
 * the cache before any waiting request gets it (L1 at once, the L2 write in flight is
 * readable), whether or not the request that started it is still there.
 */
import { makeCachedImage, type CachedImage, type CacheLayerHit, type ImageCache } from '../cache/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { Processor } from '../processing/types.js';
import type { ImageRequest } from '../request.js';
import type { Flow } from './flow.js';

export interface ImageResult {
  image: CachedImage;
  outcome: CacheLayerHit | 'MISS';
  /** A miss that joined a computation another request had started. */
  joined: boolean;
}

export interface ImageService {
  /**
   * `key`: the request's cache key (http/resolve.ts). `signal`: the client's; when it aborts
   * this call rejects with its reason and, if no other request waits, the work stops.
   * Rejects with a ProxyError (TIMEOUT past IMGPROXY_TIMEOUT, TOO_MANY_REQUESTS, …).
   */
  getImage(request: ImageRequest, key: string, signal?: AbortSignal): Promise<ImageResult>;
}

export interface ImageServiceDeps {
  readonly cache: Pick<ImageCache, 'lookup' | 'store'>;
  /** Built over the cache's own single-flight, which its lookup consults. */
  readonly flow: Flow;
  readonly process: Processor;
  readonly watermark: Buffer | undefined;
  readonly metrics: Pick<Metrics, 'imagesInProgress' | 'transforms' | 'transformed'>;
}

export function createImageService(deps: ImageServiceDeps): ImageService {
  const { cache, flow, metrics } = deps;
  const extra = deps.watermark ? { watermark: deps.watermark } : {};
  return {
    async getImage(request, key, signal) {
      const hit = await cache.lookup(key);
      if (hit) return { image: hit.image, outcome: hit.layer, joined: false };
      const opts = request.options;
      const { value, joined } = await flow.run(
        key,
        { url: request.source, maxBytes: opts.maxSrcFileSize },
        async (source, work) => {
          metrics.imagesInProgress.inc();
          try {
            const started = performance.now();
            const result = await deps.process(source.body, opts, { signal: work.signal, deadline: work.deadline(), ...extra });
            metrics.transformed((performance.now() - started) / 1000);
            metrics.transforms.inc({ format: result.format });
            const h = source.headers;
            const image = makeCachedImage(result, {
              originSize: source.body.length,
              ...(source.lastModified ? { originLastModified: source.lastModified } : {}),
              ...(h['cache-control'] ? { originCacheControl: h['cache-control'] } : {}),
              ...(h.expires ? { originExpires: h.expires } : {}),
            });
            cache.store(key, image);
            return image;
          } finally {
            metrics.imagesInProgress.dec();
          }
        },
        signal,
      );
      return { image: value, outcome: 'MISS', joined };
    },
  };
}
