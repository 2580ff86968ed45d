/**
 * Image responses: asks the image service (src/service/image.ts) for the result of a
 * resolved request and writes it with its status and headers (X-Cache, Cache-Control,
 * ETag/Last-Modified and 304, Link, Vary, debug headers, Content-Disposition, cache tags).
 * Errors go back to the router, which maps them to a status.
 *
 * imgproxy routes follow imgproxy v4's conditional requests (conditional.ts): the client's
 * If-None-Match / If-Modified-Since go to the origin on a miss, the origin's 304 is answered
 * 304 with its validators, and a cached result answers them itself.
 *
 * A fallback image is answered with its status and its own max-age, never with a 304.
 * PreviewProxy requests get PreviewProxy's Cache-Control (`public, max-age=<PP_CACHE_DISK_TTL_SECS>`,
 * for a fallback `public, max-age=<PP_FALLBACK_IMAGE_TTL or PP_TTL>` and `X-Fallback: true`) and
 * the ETag of the result bytes, checked locally (PreviewProxy sends none and forwards nothing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedImage } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { varyHeader } from '../negotiate.js';
import type { ImageRequest } from '../request.js';
import type { ImageService, NotModifiedResult, OriginValidators } from '../service/image.js';
import type { DialectPolicies } from '../service/policy.js';
import { answersNotModified } from '../validators.js';
import { clientSignal } from './client-signal.js';
import { conditionalPolicy, originConditionals, responseEtag, responseLastModified } from './conditional.js';
import { cacheControl, cacheTagHeaders, canonicalLink, contentDisposition, resultCacheControl, SECURITY_HEADERS } from './headers.js';
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

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

export function createImageHandler(deps: ImageHandlerDeps): ImageHandler {
  const cfg = deps.config;
  const dl = cfg.download;
  const conditional = conditionalPolicy(dl);
  const vary = varyHeader(cfg);
  // Cache-Control of a result without `expires` or passthrough (the common case, computed once).
  const defaultCacheControl = cacheControl(cfg.processing.ttl, 0);
  const dispositions = new WeakMap<ImageRequest, { format: string; value: string }>();
  // PreviewProxy's Cache-Control (controller.rs build_cached_response / build_fallback_response).
  const ppCacheControl = `public, max-age=${cfg.cache.diskTtlSecs}`;
  const fallbackTtl = (dialect: ImageRequest['dialect']): number => deps.policies?.[dialect ?? 'imgproxy'].fallback?.ttlSeconds ?? cfg.processing.ttl;

  /** Content-Disposition per resolved request (memoised requests are reused objects). */
  function dispositionFor(request: ImageRequest, image: CachedImage): string {
    const known = dispositions.get(request);
    if (known?.format === image.format) return known.value;
    // An encrypted source's name is as secret as its URL.
    const value = contentDisposition(request.options.filename, request.sourceHidden ? '' : request.source, image.format, request.options.returnAttachment);
    dispositions.set(request, { format: image.format, value });
    return value;
  }

  function cacheControlFor(request: ImageRequest, origin: OriginValidators, fallback: boolean): string {
    if (request.dialect === 'previewproxy') return fallback ? `public, max-age=${fallbackTtl('previewproxy')}` : ppCacheControl;
    const expiresUnix = request.options.expires;
    if (!fallback && expiresUnix === 0 && !dl.cacheControlPassthrough) return defaultCacheControl;
    return resultCacheControl({
      ttl: cfg.processing.ttl,
      expiresUnix,
      passthrough: dl.cacheControlPassthrough,
      origin,
      ...(fallback ? { fallbackTtl: fallbackTtl(request.dialect) } : {}),
    });
  }

  /** The headers both a result and a 304 carry. On the hit path this is most of the work left. */
  function commonHeaders(res: ServerResponse, request: ImageRequest, cache: string, origin: OriginValidators, fallback: boolean): (string | number)[] {
    const headers: (string | number)[] = [...SECURITY_HEADER_LIST, 'Cache-Control', cacheControlFor(request, origin, fallback), 'X-Cache', cache];
    if (vary) {
      // A Vary the route set already (PreviewProxy's CORS) stays: writeHead's list replaces it.
      const prior = res.getHeader('vary');
      if (prior !== undefined) headers.push('Vary', String(prior));
      headers.push('Vary', vary);
    }
    return headers;
  }

  /** The response's validators: the origin's on imgproxy routes (the result bytes' without one). */
  function validatorsOf(request: ImageRequest, image: CachedImage | null, origin: OriginValidators): { etag: string | undefined; lastModified: string | undefined } {
    const pp = request.dialect === 'previewproxy';
    // A fallback is no representation of the source: it has no validators of its own.
    if (image?.fallbackStatus !== undefined) return { etag: pp ? responseEtag(conditional, image.etag) : undefined, lastModified: undefined };
    return { etag: responseEtag(conditional, pp ? image?.etag : (origin.etag ?? image?.etag)), lastModified: responseLastModified(conditional, origin.lastModified) };
  }

  function notModified(res: ServerResponse, headers: (string | number)[]): void {
    res.writeHead(304, headers.map(String));
    res.end();
  }

  /** The origin's 304 to the client's own validators. */
  function sendNotModified(res: ServerResponse, request: ImageRequest, { notModified: origin }: NotModifiedResult): void {
    const headers = commonHeaders(res, request, 'MISS', origin, false);
    const { etag, lastModified } = validatorsOf(request, null, origin);
    if (etag !== undefined) headers.push('ETag', etag);
    if (lastModified !== undefined) headers.push('Last-Modified', lastModified);
    notModified(res, headers);
  }

  /**
   * Writes a cached or fresh result, or 304 when the client's validators match it. The headers
   * go to writeHead as one flat list (no per-header object spread or setHeader). HEAD never
   * gets here: the router answers it before any handler runs.
   */
  function send(req: IncomingMessage, res: ServerResponse, request: ImageRequest, image: CachedImage, outcome: string): void {
    const fallback = image.fallbackStatus !== undefined;
    const origin: OriginValidators = {
      ...(image.originEtag !== undefined ? { etag: image.originEtag } : {}),
      ...(image.originLastModified !== undefined ? { lastModified: image.originLastModified } : {}),
      ...(image.originCacheControl !== undefined ? { cacheControl: image.originCacheControl } : {}),
      ...(image.originExpires !== undefined ? { expires: image.originExpires } : {}),
    };
    const headers = commonHeaders(res, request, outcome, origin, fallback);
    if (image.tags !== undefined) headers.push(...cacheTagHeaders(image.tags, cfg.cache.tagsFormat));
    if (fallback && request.dialect === 'previewproxy') headers.push('X-Fallback', 'true');
    const { etag, lastModified } = validatorsOf(request, image, origin);
    if (etag !== undefined) headers.push('ETag', etag);
    if (lastModified !== undefined) headers.push('Last-Modified', lastModified);
    const link = request.sourceHidden ? undefined : canonicalLink(dl.setCanonicalHeader, request.source);
    if (link !== undefined) headers.push('Link', link);
    if (cfg.server.enableDebugHeaders) {
      if (image.originWidth !== undefined) headers.push('X-Origin-Width', image.originWidth);
      if (image.originHeight !== undefined) headers.push('X-Origin-Height', image.originHeight);
      if (image.originSize !== undefined) headers.push('X-Origin-Content-Length', image.originSize);
      headers.push('X-Result-Width', image.width, 'X-Result-Height', image.height);
    }
    if (!fallback && answersNotModified(dl.useEtag ? headerValue(req.headers['if-none-match']) : undefined, headerValue(req.headers['if-modified-since']), etag, lastModified)) {
      notModified(res, headers);
      return;
    }
    headers.push('Content-Type', image.contentType, 'Content-Length', image.data.length, 'Content-Disposition', dispositionFor(request, image));
    res.writeHead(image.fallbackStatus ?? 200, headers.map(String));
    res.end(image.data);
  }

  return async (req, res, { request, key }, log) => {
    const signal = clientSignal(res, 'the client went away before its image');
    // Only imgproxy forwards the client's validators; PreviewProxy's are answered locally.
    const forwarded = request.dialect === 'previewproxy' ? undefined : originConditionals(conditional, headerValue(req.headers['if-none-match']), headerValue(req.headers['if-modified-since']));
    const result = await deps.images.getImage(request, key, signal, forwarded);
    if (result.joined) log.joined = true;
    if ('notModified' in result) {
      log.cache = 'MISS';
      sendNotModified(res, request, result);
      return;
    }
    log.cache = result.outcome;
    send(req, res, request, result.image, result.outcome);
  };
}
