/**
 * Image responses: asks the image service (src/service/image.ts) for the result of a
 * resolved request and writes it with its status and headers (X-Cache, Cache-Control,
 * ETag/304, Last-Modified, Link, Vary, debug headers, Content-Disposition, cache tags). Errors
 * go back to the router, which maps them to a status.
 *
 * A fallback image is answered with its status and its own max-age. PreviewProxy requests get
 * PreviewProxy's Cache-Control (`public, max-age=<PP_CACHE_DISK_TTL_SECS>`, for a fallback
 * `public, max-age=<PP_FALLBACK_IMAGE_TTL or PP_TTL>` and `X-Fallback: true`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedImage } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { varyHeader } from '../negotiate.js';
import type { ImageRequest } from '../request.js';
import type { ImageResult, ImageService } from '../service/image.js';
import type { DialectPolicies } from '../service/policy.js';
import { clientSignal } from './client-signal.js';
import { cacheControl, cacheTagHeaders, contentDisposition, ifNoneMatchHits, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './request-log.js';
import type { Resolved } from './resolve.js';

export type ImageHandler = (req: IncomingMessage, res: ServerResponse, resolved: Resolved, log: RequestLog) => Promise<void>;

export interface ImageHandlerDeps {
  readonly images: Pick<ImageService, 'getImage'>;
  readonly config: Config;
  /** The dialects' fallback TTLs (the max-age of a fallback answer). */
  readonly policies?: DialectPolicies;
}

const SECURITY_HEADER_LIST: readonly string[] = Object.entries(SECURITY_HEADERS).flat();

export function createImageHandler(deps: ImageHandlerDeps): ImageHandler {
  const cfg = deps.config;
  const dl = cfg.download;
  const vary = varyHeader(cfg);
  // Cache-Control of a result without `expires` (the common case, computed once).
  const defaultCacheControl = cacheControl(cfg.processing.ttl, 0);
  const dispositions = new WeakMap<ImageRequest, { format: string; value: string }>();
  // PreviewProxy's Cache-Control (controller.rs build_cached_response / build_fallback_response).
  const ppCacheControl = `public, max-age=${cfg.cache.diskTtlSecs}`;
  const fallbackTtl = (dialect: ImageRequest['dialect']): number => deps.policies?.[dialect ?? 'imgproxy'].fallback?.ttlSeconds ?? cfg.processing.ttl;

  /** Content-Disposition per resolved request (memoised requests are reused objects). */
  function dispositionFor(request: ImageRequest, image: CachedImage): string {
    const known = dispositions.get(request);
    if (known?.format === image.format) return known.value;
    const value = contentDisposition(request.options.filename, request.source, image.format, request.options.returnAttachment);
    dispositions.set(request, { format: image.format, value });
    return value;
  }

  /**
   * imgproxy's priority: an `expires` cap first; then, with IMGPROXY_CACHE_CONTROL_PASSTHROUGH,
   * the origin's Cache-Control (or its Expires as a max-age); then IMGPROXY_TTL.
   */
  function cacheControlFor(request: ImageRequest, image: CachedImage): string {
    const expires = request.options.expires;
    if (request.dialect === 'previewproxy') return image.fallbackStatus === undefined ? ppCacheControl : `public, max-age=${fallbackTtl('previewproxy')}`;
    // imgproxy: a fallback lives exactly its TTL; origin headers are not its own.
    if (image.fallbackStatus !== undefined) return cacheControl(fallbackTtl(request.dialect), expires);
    if (expires !== 0) return cacheControl(cfg.processing.ttl, expires);
    if (dl.cacheControlPassthrough) {
      if (image.originCacheControl) return image.originCacheControl;
      if (image.originExpires) {
        const at = Date.parse(image.originExpires);
        if (Number.isFinite(at)) return at > Date.now() ? `max-age=${Math.floor((at - Date.now()) / 1000)}, public` : 'no-cache';
      }
    }
    return defaultCacheControl;
  }

  /**
   * Writes a cached or fresh result. On the hit path this is most of the work left, so the
   * headers go to writeHead as one flat list (no per-header object spread or setHeader).
   * HEAD never gets here: the router answers it before any handler runs.
   */
  function send(req: IncomingMessage, res: ServerResponse, request: ImageRequest, { image, outcome }: ImageResult): void {
    const headers: (string | number)[] = [...SECURITY_HEADER_LIST, 'Cache-Control', cacheControlFor(request, image), 'X-Cache', outcome];
    if (image.tags !== undefined) headers.push(...cacheTagHeaders(image.tags, cfg.cache.tagsFormat));
    const fallback = image.fallbackStatus !== undefined;
    if (fallback && request.dialect === 'previewproxy') headers.push('X-Fallback', 'true');
    // imgproxy's ETAG_BUSTER re-keys every ETag a client holds; ours are content-derived.
    const etag = dl.etagBuster ? `"${dl.etagBuster}/${image.etag.replace(/"/g, '')}"` : image.etag;
    if (dl.useEtag) headers.push('ETag', etag);
    if (dl.useLastModified && image.originLastModified && !fallback) headers.push('Last-Modified', image.originLastModified);
    if (dl.setCanonicalHeader && /^https?:\/\//i.test(request.source)) headers.push('Link', `<${request.source}>; rel="canonical"`);
    if (vary) {
      // A Vary the route set already (PreviewProxy's CORS) stays: writeHead's list replaces it.
      const prior = res.getHeader('vary');
      if (prior !== undefined) headers.push('Vary', String(prior));
      headers.push('Vary', vary);
    }
    if (cfg.server.enableDebugHeaders) {
      if (image.originWidth !== undefined) headers.push('X-Origin-Width', image.originWidth);
      if (image.originHeight !== undefined) headers.push('X-Origin-Height', image.originHeight);
      if (image.originSize !== undefined) headers.push('X-Origin-Content-Length', image.originSize);
      headers.push('X-Result-Width', image.width, 'X-Result-Height', image.height);
    }
    if (dl.useEtag && !fallback && ifNoneMatchHits(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers.map(String));
      res.end();
      return;
    }
    headers.push('Content-Type', image.contentType, 'Content-Length', image.data.length, 'Content-Disposition', dispositionFor(request, image));
    res.writeHead(image.fallbackStatus ?? 200, headers.map(String));
    res.end(image.data);
  }

  return async (req, res, { request, key }, log) => {
    const result = await deps.images.getImage(request, key, clientSignal(res, 'the client went away before its image'));
    log.cache = result.outcome;
    if (result.joined) log.joined = true;
    send(req, res, request, result);
  };
}
