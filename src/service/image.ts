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
 *
 * With PIXPROXY_CACHE_LEASE the computation is claimed across instances first (flow.ts): a
 * result another instance stored while this one waited is answered as an L2 hit.
 */
import { makeCachedImage, type CachedImage, type CacheLayerHit, type ConditionalHeaders, type ImageCache } from '../cache/index.js';
import { ProxyError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { asIs, isVideoFormat, watermarkUrls, type ImageFormat } from '../options.js';
import type { Processor } from '../processing/types.js';
import type { ImageRequest } from '../request.js';
import { detectImageFormat } from '../sources/detect.js';
import type { SourceResponse } from '../sources/types.js';
import type { Flow } from './flow.js';
import { NO_POLICY, type DialectPolicies } from './policy.js';

export interface ImageResult {
  image: CachedImage;
  outcome: CacheLayerHit | 'MISS';
  /** A miss that joined a computation another request had started. */
  joined: boolean;
}

/** The origin answered the client's own conditional headers with 304: its headers. */
export interface NotModifiedResult {
  notModified: OriginValidators;
  joined: boolean;
}

/** What the origin said about the source, for the response headers. */
export interface OriginValidators {
  etag?: string;
  lastModified?: string;
  cacheControl?: string;
  expires?: string;
}

export interface ImageService {
  /**
   * `key`: the request's cache key (http/resolve.ts). `signal`: the client's; when it aborts
   * this call rejects with its reason and, if no other request waits, the work stops.
   * Rejects with a ProxyError (TIMEOUT past IMGPROXY_TIMEOUT, TOO_MANY_REQUESTS, …).
   *
   * `conditional`: the client's validators to forward to the origin on a miss (imgproxy's
   * conditional requests, http/conditional.ts); the origin's 304 to them is a NotModifiedResult.
   * A cached result is returned as it is: the caller checks the validators against it.
   */
  getImage(request: ImageRequest, key: string, signal?: AbortSignal): Promise<ImageResult>;
  getImage(request: ImageRequest, key: string, signal: AbortSignal | undefined, conditional: ConditionalHeaders | undefined): Promise<ImageResult | NotModifiedResult>;
}

export interface ImageServiceDeps {
  readonly cache: Pick<ImageCache, 'lookup' | 'store' | 'lease'>;
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

  async function getImage(request: ImageRequest, key: string, signal?: AbortSignal, conditional?: ConditionalHeaders): Promise<ImageResult | NotModifiedResult> {
    const hit = await cache.lookup(key);
    if (hit) return { image: hit.image, outcome: hit.layer, joined: false };
    const opts = request.options;
    const policy = policies[request.dialect ?? 'imgproxy'];
    const lease = cache.lease;
    const asked = conditional !== undefined && (conditional.ifNoneMatch !== undefined || conditional.ifModifiedSince !== undefined);
    const variant = {
      ...(asked ? { conditional } : {}),
      ...(request.originCookie !== undefined ? { cookie: request.originCookie } : {}),
    };
    // Requests asking the origin their own question compute their own answer; `key` already
    // holds the cookies (http/resolve.ts).
    const flightKey = asked ? `${key}\0if\0${conditional.ifNoneMatch ?? ''}\0${conditional.ifModifiedSince ?? ''}` : key;
    const { value, joined, shared } = await flow.run<CachedImage | OriginValidators>(
      flightKey,
      {
        url: request.source,
        maxBytes: opts.maxSrcFileSize,
        retry: policy.retry,
        fallback: policy.fallback,
        ...(opts.fallbackImageUrl !== '' ? { fallbackUrl: opts.fallbackImageUrl } : {}),
        variant,
        watermarks: watermarkUrls(opts),
      },
      async ({ source, failure, marks }, work) => {
        metrics.imagesInProgress.inc();
        try {
          const ctx = { signal: work.signal, deadline: work.deadline(), ...extra, ...(marks ? { marks } : {}) };
          if (failure !== undefined && policy.fallback) {
            const fb = policy.fallback;
            const result = await deps.process(source.body, fb.processed ? opts : asIs(opts), ctx);
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
          const v = originValidators(source);
          const image = makeCachedImage(result, {
            originSize: source.body.length,
            ...(v.etag ? { originEtag: v.etag } : {}),
            ...(v.lastModified ? { originLastModified: v.lastModified } : {}),
            ...(v.cacheControl ? { originCacheControl: v.cacheControl } : {}),
            ...(v.expires ? { originExpires: v.expires } : {}),
          });
          cache.store(key, image);
          return image;
        } finally {
          metrics.imagesInProgress.dec();
        }
      },
      signal,
      {
        early: ({ source }) => (source.status === 304 ? originValidators(source) : undefined),
        ...(lease ? { coordinate: (s: AbortSignal) => lease.claim(key, s) } : {}),
      },
    );
    // Another instance computed it and this one read it from the L2: a hit of the L2 here.
    return 'data' in value ? { image: value, outcome: shared ? 'HIT-L2' : 'MISS', joined } : { notModified: value, joined };
  }

  return { getImage: getImage as ImageService['getImage'] };
}

function originValidators(source: SourceResponse): OriginValidators {
  const h = source.headers;
  return {
    ...(source.etag ? { etag: source.etag } : {}),
    ...(source.lastModified ? { lastModified: source.lastModified } : {}),
    ...(h['cache-control'] ? { cacheControl: h['cache-control'] } : {}),
    ...(h.expires ? { expires: h.expires } : {}),
  };
}
