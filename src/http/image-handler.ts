/**
 * Image responses: asks the image service (src/service/image.ts) for the result of a
 * resolved request and writes it with its status and headers (X-Cache, Cache-Control,
 * ETag/304, Last-Modified, Link, Vary, debug headers, Content-Disposition). Errors go back
 * to the router, which maps them to a status.
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
import { cacheControl, contentDisposition, ifNoneMatchHits, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './request-log.js';
import type { Resolved } from './resolve.js';

/**
 * `head`: the router's headers for this response as a flat name/value list, the request id
 * first (X-Request-ID, Server, CORS). The router sets none on `res` before an image answer,
 * so the handler writes them all in one writeHead.
 */
export type ImageHandler = (req: IncomingMessage, res: ServerResponse, resolved: Resolved, log: RequestLog, head: readonly string[]) => Promise<void>;

/** One answer's headers, reused by the next answers of the same request with the same entry. */
interface Prepared {
  image: CachedImage;
  outcome: string;
  /** The route's headers they were built with (the id excepted, which is patched in). */
  head: readonly string[];
  /** Without the body's fields (a 304). */
  headers: string[];
  /** With Content-Type, Content-Length and Content-Disposition (a 200). */
  full: string[];
  etag: string;
}

/** Whether two entries answer with the same headers (an L2 hit reads a new object each time). */
function sameAnswer(a: CachedImage, b: CachedImage): boolean {
  return (
    a === b ||
    (a.etag === b.etag &&
      a.data.length === b.data.length &&
      a.contentType === b.contentType &&
      a.format === b.format &&
      a.width === b.width &&
      a.height === b.height &&
      a.fallbackStatus === b.fallbackStatus &&
      a.originWidth === b.originWidth &&
      a.originHeight === b.originHeight &&
      a.originSize === b.originSize &&
      a.originLastModified === b.originLastModified &&
      a.originCacheControl === b.originCacheControl &&
      a.originExpires === b.originExpires)
  );
}

/** Same route headers, the id (the first pair) aside. */
function sameRouteHeaders(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 2; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

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
  const prepared = new WeakMap<ImageRequest, Prepared>();
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

  /** The answer's headers before the body's (Content-Type, -Length, -Disposition), as a flat list. */
  function buildHeaders(request: ImageRequest, image: CachedImage, outcome: string, head: readonly string[]): { headers: string[]; etag: string } {
    const headers: string[] = [];
    let routeVary: string | undefined;
    for (let i = 0; i < head.length; i += 2) {
      const name = head[i] ?? '';
      // A Vary the route set (PreviewProxy's CORS) is merged with ours into one field (RFC 9110 §12.5.5).
      if (vary && name.toLowerCase() === 'vary') routeVary = head[i + 1];
      else headers.push(name, head[i + 1] ?? '');
    }
    headers.push(...SECURITY_HEADER_LIST, 'Cache-Control', cacheControlFor(request, image), 'X-Cache', outcome);
    const fallback = image.fallbackStatus !== undefined;
    if (fallback && request.dialect === 'previewproxy') headers.push('X-Fallback', 'true');
    // imgproxy's ETAG_BUSTER re-keys every ETag a client holds; ours are content-derived.
    const etag = dl.etagBuster ? `"${dl.etagBuster}/${image.etag.replace(/"/g, '')}"` : image.etag;
    if (dl.useEtag) headers.push('ETag', etag);
    if (dl.useLastModified && image.originLastModified && !fallback) headers.push('Last-Modified', image.originLastModified);
    if (dl.setCanonicalHeader && /^https?:\/\//i.test(request.source)) headers.push('Link', `<${request.source}>; rel="canonical"`);
    if (vary) headers.push('Vary', routeVary !== undefined ? `${routeVary}, ${vary}` : vary);
    if (cfg.server.enableDebugHeaders) {
      if (image.originWidth !== undefined) headers.push('X-Origin-Width', String(image.originWidth));
      if (image.originHeight !== undefined) headers.push('X-Origin-Height', String(image.originHeight));
      if (image.originSize !== undefined) headers.push('X-Origin-Content-Length', String(image.originSize));
      headers.push('X-Result-Width', String(image.width), 'X-Result-Height', String(image.height));
    }
    return { headers, etag };
  }

  /**
   * The headers of one (request, entry, outcome), computed on its first answer and reused
   * while the same memoised request is answered with the same entry: a hit then builds no
   * header string. Not kept when they depend on the clock (an `expires` cap, an origin
   * Expires turned into a max-age) or on the route's per-request headers beyond the id.
   */
  function preparedFor(request: ImageRequest, image: CachedImage, outcome: string, head: readonly string[]): Prepared {
    const known = prepared.get(request);
    if (known !== undefined && known.outcome === outcome && sameAnswer(known.image, image) && sameRouteHeaders(known.head, head)) {
      // The id (the first pair) differs on every request.
      known.headers[1] = head[1] ?? '';
      known.full[1] = head[1] ?? '';
      return known;
    }
    const { headers, etag } = buildHeaders(request, image, outcome, head);
    const full = [...headers, 'Content-Type', image.contentType, 'Content-Length', String(image.data.length), 'Content-Disposition', dispositionFor(request, image)];
    const p: Prepared = { image, outcome, head: [...head], headers, full, etag };
    if (clockFree(request, image)) prepared.set(request, p);
    return p;
  }

  /** Whether the Cache-Control of this answer is the same at any time. */
  function clockFree(request: ImageRequest, image: CachedImage): boolean {
    if (request.options.expires !== 0) return false;
    return !(dl.cacheControlPassthrough && request.dialect !== 'previewproxy' && image.fallbackStatus === undefined && !image.originCacheControl && image.originExpires);
  }

  /**
   * Writes a cached or fresh result. On the hit path this is most of the work left, so the
   * headers go to writeHead as one flat list of strings on a response with no header set
   * before (node:http's fast path: no setHeader per field), prepared once per entry.
   * HEAD never gets here: the router answers it before any handler runs.
   */
  function send(req: IncomingMessage, res: ServerResponse, request: ImageRequest, { image, outcome }: ImageResult, head: readonly string[]): void {
    const p = preparedFor(request, image, outcome, head);
    if (dl.useEtag && image.fallbackStatus === undefined && ifNoneMatchHits(req.headers['if-none-match'], p.etag)) {
      res.writeHead(304, p.headers);
      res.end();
      return;
    }
    res.writeHead(image.fallbackStatus ?? 200, p.full);
    res.end(image.data);
  }

  return async (req, res, { request, key }, log, head) => {
    // The client's signal is made only on a miss (a hit has no work to stop).
    const result = await deps.images.getImage(request, key, () => clientSignal(res, 'the client went away before its image'));
    log.cache = result.outcome;
    if (result.joined) log.joined = true;
    send(req, res, request, result, head);
  };
}
