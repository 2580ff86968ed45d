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
 * Stale results (RFC 5861, cache/swr.ts): within `stale-while-revalidate` one is answered at
 * once (`STALE`) and refreshed in the background, one refresh per key; within
 * `stale-if-error` it is refreshed first and answered stale only when the refresh fails. A
 * refresh whose source is unchanged (a 304, the same bytes) renews the result without
 * processing it again. `bypass_cache` skips the lookup and the stored source: it recomputes
 * from a fresh download and replaces the entry.
 *
 * With PIXPROXY_CACHE_LEASE a miss is claimed across instances first (flow.ts): a result
 * another instance stored while this one waited is answered as an L2 hit, unless a purge this
 * instance knows of came after that computation began (cache/layers.ts). Refreshes and
 * `bypass_cache` compute here without the lease: they exist to replace what the L2 holds.
 */
import { makeCachedImage, type CachedImage, type CacheLayerHit, type ConditionalHeaders, type ImageCache, type ImageFacts } from '../cache/index.js';
import { resultFreshness, sourceTag, staleness, staleWindows, type StaleWindows } from '../cache/swr.js';
import { originFreshness } from '../cache/origin-policy.js';
import { ProxyError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { asIs } from '../default-options.js';
import { isVideoFormat, type ImageFormat } from '../formats.js';
import { watermarkUrls } from '../options.js';
import type { Processor } from '../processing/types.js';
import type { ImageRequest } from '../request.js';
import { detectImageFormat } from '../sources/detect.js';
import type { SourceResponse } from '../sources/types.js';
import type { Flow, FlowInput } from './flow.js';
import type { Work } from '../cache/singleflight.js';
import { NO_POLICY, type DialectPolicies } from './policy.js';

export type ImageOutcome = CacheLayerHit | 'MISS' | 'STALE' | 'BYPASS';

export interface ImageResult {
  image: CachedImage;
  outcome: ImageOutcome;
  /** A miss that joined a computation another request had started. */
  joined: boolean;
  /**
   * A fresh L2 hit whose bytes nobody else holds (ImageCache.lookup): called once the response
   * has gone out (or will not use `image.data`), it gives the read's buffer back for reuse.
   */
  release?: (() => void) | undefined;
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

/** The client's AbortSignal, or a function that makes it (called only when there is work to wait for). */
export type ClientSignal = AbortSignal | (() => AbortSignal);

export interface ImageService {
  /**
   * `key`: the request's cache key (http/resolve.ts). `signal`: the client's; when it aborts
   * this call rejects with its reason and, if no other request waits, the work stops. It may
   * be given as a function that makes it, called only when this call waits for work: a hit
   * then allocates none.
   * Rejects with a ProxyError (TIMEOUT past IMGPROXY_TIMEOUT, TOO_MANY_REQUESTS, …).
   *
   * `conditional`: the client's validators to forward to the origin on a miss (imgproxy's
   * conditional requests, http/conditional.ts); the origin's 304 to them is a NotModifiedResult.
   * A cached result is returned as it is: the caller checks the validators against it.
   */
  getImage(request: ImageRequest, key: string, signal?: ClientSignal): Promise<ImageResult>;
  getImage(request: ImageRequest, key: string, signal: ClientSignal | undefined, conditional: ConditionalHeaders | undefined): Promise<ImageResult | NotModifiedResult>;
  /**
   * A fresh L1 hit of `key`, at once: what getImage would answer, without its promises. Null
   * when there is none (a bypass, a miss, a stale entry): getImage then does the rest.
   */
  hit(request: ImageRequest, key: string): ImageResult | null;
}

export interface ImageServiceDeps {
  readonly cache: Pick<ImageCache, 'lookup' | 'l1Hit' | 'store' | 'lease'>;
  /** Built over the cache's own single-flight, which its lookup consults. */
  readonly flow: Flow;
  readonly process: Processor;
  readonly watermark: Buffer | undefined;
  readonly metrics: Pick<Metrics, 'imagesInProgress' | 'transforms' | 'transformed'>;
  /** Retries and fallback image of each dialect (none when absent). */
  readonly policies?: DialectPolicies;
  /** PP_CACHE_DISK_TTL_SECS and the operator's stale windows (none when absent). */
  readonly freshness?: { lifeMs: number; defaults: StaleWindows };
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
  const lifeMs = deps.freshness?.lifeMs ?? 0;
  const defaults = deps.freshness?.defaults ?? { swrSecs: 0, sieSecs: 0 };

  /** What a result records of its source and its freshness, for a computation born at `bornAt`. */
  async function factsOf(request: ImageRequest, source: SourceResponse, bornAt: number): Promise<ImageFacts> {
    const h = source.headers;
    const windows = staleWindows(h, defaults);
    const now = Date.now();
    const freshUntil = source.freshUntil ?? now + originFreshness(h, lifeMs).freshMs;
    const freshness = lifeMs > 0 ? resultFreshness(now, lifeMs, freshUntil, windows) : null;
    const tags = request.tags ?? request.options.cacheTags;
    const tag = await sourceTag(source, freshness !== null);
    return {
      originSize: source.body.length,
      bornAt,
      ...(tag !== undefined ? { sourceTag: tag } : {}),
      ...(tags.length > 0 ? { tags } : {}),
      ...(freshness ? { freshness } : {}),
      ...(source.etag ? { originEtag: source.etag } : {}),
      ...(source.lastModified ? { originLastModified: source.lastModified } : {}),
      ...(h['cache-control'] ? { originCacheControl: h['cache-control'] } : {}),
      ...(h.expires ? { originExpires: h.expires } : {}),
    };
  }

  /** The computation's step: the source → the result, stored under `key`. */
  function step(request: ImageRequest, key: string, bornAt: number, stale?: CachedImage): (input: FlowInput, work: Work) => Promise<CachedImage> {
    const opts = request.options;
    const policy = policies[request.dialect ?? 'imgproxy'];
    return async ({ source, failure, marks }, work) => {
      metrics.imagesInProgress.inc();
      try {
        const ctx = { signal: work.signal, deadline: work.deadline(), ...extra, ...(marks ? { marks } : {}) };
        if (failure !== undefined && policy.fallback) {
          const fb = policy.fallback;
          const result = await deps.process(source.body, fb.processed ? opts : asIs(opts), ctx);
          metrics.transforms.inc({ format: result.format });
          // No origin headers: the fallback's life is its own TTL (imgproxy drops them too).
          const image = { ...makeCachedImage(result, { bornAt }), fallbackStatus: fb.status(failure) };
          cache.store(key, image, fb.ttlSeconds * 1000);
          return image;
        }
        // The origin failed and the origin sub-store stood in with its stale bytes: the refresh
        // failed too, and the stale result is answered as it is (RFC 5861 §4).
        if (stale && source.staleIfError) throw new ProxyError('SOURCE_BAD_GATEWAY', `source failed; its stale copy stands in: ${request.source}`);
        // The source's digest (its tag, when the origin sent no validator) is hashed alongside
        // the transform: only a refresh needs it first, to tell an unchanged source.
        const pendingFacts = factsOf(request, source, bornAt);
        pendingFacts.catch(() => undefined);
        if (stale && stale.fallbackStatus === undefined && stale.sourceTag !== undefined) {
          const facts = await pendingFacts;
          if (stale.sourceTag === facts.sourceTag) {
            // A refresh whose source did not change: the same bytes, fresh again.
            const renewed: CachedImage = { ...stale, createdAt: Date.now(), bornAt, ...(facts.freshness ? { freshness: facts.freshness } : {}) };
            cache.store(key, renewed);
            return renewed;
          }
        }
        const detected = detectImageFormat(source.body);
        if (detected !== null) refuse(detected, request.refusedInputs);
        const started = performance.now();
        const result = await deps.process(source.body, opts, ctx);
        metrics.transformed((performance.now() - started) / 1000);
        refuse(result.format, request.refusedOutputs);
        metrics.transforms.inc({ format: result.format });
        const image = makeCachedImage(result, await pendingFacts);
        cache.store(key, image);
        return image;
      } finally {
        metrics.imagesInProgress.dec();
      }
    };
  }

  /**
   * Runs (or joins) the computation of `flightKey`, storing under `key`. `conditional`: the
   * client's validators, forwarded to the origin; its 304 is answered without a worker.
   */
  function compute(request: ImageRequest, key: string, flightKey: string, signal: AbortSignal | undefined, stale?: CachedImage, conditional?: ConditionalHeaders): Promise<{ value: CachedImage | OriginValidators; joined: boolean; shared: boolean }> {
    const opts = request.options;
    const policy = policies[request.dialect ?? 'imgproxy'];
    const asked = conditional !== undefined && (conditional.ifNoneMatch !== undefined || conditional.ifModifiedSince !== undefined);
    const variant = {
      ...(asked ? { conditional } : {}),
      ...(request.originCookie !== undefined ? { cookie: request.originCookie } : {}),
      ...(opts.bypassCache ? { fresh: true } : {}),
    };
    const source = {
      url: request.source,
      maxBytes: opts.maxSrcFileSize,
      retry: policy.retry,
      ...(policy.fetchTimeoutSeconds !== undefined ? { timeoutSeconds: policy.fetchTimeoutSeconds } : {}),
      fallback: stale ? null : policy.fallback,
      ...(opts.fallbackImageUrl !== '' ? { fallbackUrl: opts.fallbackImageUrl } : {}),
      variant,
      watermarks: watermarkUrls(opts),
    };
    // The lease coordinates plain misses only: a refresh or a bypass must not take the result
    // another instance stored (that is what it replaces).
    const lease = stale || opts.bypassCache ? null : cache.lease;
    return flow.run<CachedImage | OriginValidators>(flightKey, source, step(request, key, Date.now(), stale), signal, {
      early: ({ source: s }) => (s.status === 304 ? originValidators(s) : undefined),
      ...(lease ? { coordinate: (s: AbortSignal) => lease.claim(key, s) } : {}),
    });
  }

  /** The refresh of a stale result: one per key (`signal`: the caller waiting for it, if any). */
  function refresh(request: ImageRequest, key: string, stale: CachedImage, signal?: AbortSignal): Promise<CachedImage> {
    return compute(request, key, `refresh\0${key}`, signal, stale).then(({ value }) => {
      // A refresh forwards no client validators, so its source is never a 304 (source.ts).
      if (!('data' in value)) throw new ProxyError('SOURCE_BAD_GATEWAY', `source answered 304 to a refresh: ${request.source}`);
      return value;
    });
  }

  const fresh = (image: CachedImage): boolean => !image.freshness || staleness(image.freshness, Date.now()) === 'fresh';

  return {
    hit(request, key) {
      if (request.options.bypassCache) return null;
      const image = cache.l1Hit(key, fresh);
      return image === undefined ? null : { image, outcome: 'HIT-L1', joined: false };
    },

    getImage: (async (request: ImageRequest, key: string, clientSignal?: ClientSignal, conditional?: ConditionalHeaders): Promise<ImageResult | NotModifiedResult> => {
      // Made only where the caller waits for work: a fresh or revalidating hit allocates none.
      const signalOf = (): AbortSignal | undefined => (typeof clientSignal === 'function' ? clientSignal() : clientSignal);
      if (request.options.bypassCache) {
        const r = await compute(request, key, `bypass\0${key}`, signalOf(), undefined, conditional);
        return 'data' in r.value ? { image: r.value, outcome: 'BYPASS', joined: false } : { notModified: r.value, joined: false };
      }
      const hit = await cache.lookup(key);
      if (hit) {
        const state = hit.image.freshness ? staleness(hit.image.freshness, Date.now()) : 'fresh';
        // A stale hit's bytes may go on to its refresh (a 304 stores them again): never given back.
        if (state === 'fresh') return { image: hit.image, outcome: hit.layer, joined: false, release: hit.release };
        if (state === 'revalidate') {
          // RFC 5861 §3: answered at once; the refresh (shared by every stale hit) runs behind.
          refresh(request, key, hit.image).catch(() => undefined);
          return { image: hit.image, outcome: 'STALE', joined: false };
        }
        if (state === 'if-error') {
          // RFC 5861 §4: refreshed first; the stale result stands in when that fails.
          const signal = signalOf();
          try {
            return { image: await refresh(request, key, hit.image, signal), outcome: 'MISS', joined: false };
          } catch (err) {
            if (signal?.aborted) throw err;
            return { image: hit.image, outcome: 'STALE', joined: false };
          }
        }
      }
      const asked = conditional !== undefined && (conditional.ifNoneMatch !== undefined || conditional.ifModifiedSince !== undefined);
      // Requests asking the origin their own question compute their own answer; `key` already
      // holds the cookies (http/resolve.ts).
      const flightKey = asked ? `${key}\0if\0${conditional.ifNoneMatch ?? ''}\0${conditional.ifModifiedSince ?? ''}` : key;
      const { value, joined, shared } = await compute(request, key, flightKey, signalOf(), undefined, conditional);
      // Another instance computed it and this one read it from the L2: a hit of the L2 here.
      return 'data' in value ? { image: value, outcome: shared ? 'HIT-L2' : 'MISS', joined } : { notModified: value, joined };
    }) as ImageService['getImage'],
  };
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
