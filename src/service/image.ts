/**
 * The image flow, callable without a socket: cache lookup (L1 → L2), then on a miss one
 * computation per key (see flow.ts): source → detect → process → store. The result is in
 * the cache before any waiting request gets it (L1 at once, the L2 write in flight is
 * readable), whether or not the request that started it is still there.
 *
 * A download failure the request's dialect answers with its fallback image (policy.ts) is a
 * result too: the image (processed with the request's options, or as it is), marked with the
 * status to answer, cached under the request's key for the fallback's TTL, so a failing
 * origin is not asked again for every request meanwhile.
 */
import { makeCachedImage, type CachedImage, type CacheLayerHit, type ImageCache } from '../cache/index.js';
import { ProxyError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { asIs, isVideoFormat, type ImageFormat } from '../options.js';
import type { Processor } from '../processing/types.js';
import type { ImageRequest } from '../request.js';
import { detectImageFormat } from '../sources/detect.js';
import type { Flow } from './flow.js';
import { NO_POLICY, type DialectPolicies } from './policy.js';

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
  /** Retries and fallback image of each dialect (none when absent). */
  readonly policies?: DialectPolicies;
}

function refuse(format: string, refused: readonly string[] | undefined): void {
  // PreviewProxy's `transform_disabled` with the format token as its detail; its token for
  // every video container is `video` (src/modules/proxy/service.rs).
  const token = isVideoFormat(format as ImageFormat) ? 'video' : format;
  if (refused?.includes(token)) throw new ProxyError('TRANSFORM_DISABLED', token);
}

export function createImageService(deps: ImageServiceDeps): ImageService {
  const { cache, flow, metrics } = deps;
  const extra = deps.watermark ? { watermark: deps.watermark } : {};
  const policies = deps.policies ?? { imgproxy: NO_POLICY, previewproxy: NO_POLICY };

  return {
    async getImage(request, key, signal) {
      const hit = await cache.lookup(key);
      if (hit) return { image: hit.image, outcome: hit.layer, joined: false };
      const opts = request.options;
      const policy = policies[request.dialect ?? 'imgproxy'];
      const { value, joined } = await flow.run(
        key,
        { url: request.source, maxBytes: opts.maxSrcFileSize, retry: policy.retry, fallback: policy.fallback },
        async ({ source, failure }, work) => {
          metrics.imagesInProgress.inc();
          try {
            const ctx = { signal: work.signal, deadline: work.deadline(), ...extra };
            if (failure !== undefined && policy.fallback) {
              const fb = policy.fallback;
              const result = await deps.process(fb.image, fb.processed ? opts : asIs(opts), ctx);
              metrics.transforms.inc({ format: result.format });
              // No origin headers: the fallback's life is its own TTL (imgproxy drops them too).
              const image = { ...makeCachedImage(result), fallbackStatus: fb.status(failure) };
              cache.store(key, image, fb.ttlSeconds * 1000);
              return image;
            }
            const detected = detectImageFormat(source.body);
            if (detected !== null) refuse(detected, request.refusedInputs);
            const started = performance.now();
            const result = await deps.process(source.body, opts, ctx);
            metrics.transformed((performance.now() - started) / 1000);
            refuse(result.format, request.refusedOutputs);
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
