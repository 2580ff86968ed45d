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
 *
 * A hit is most of the traffic, so its headers are built once per (request, entry) and reused
 * while they cannot differ (preparedFor), and go out with the router's in one writeHead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedImage } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { varyHeader } from '../negotiate.js';
import type { ImageRequest } from '../request.js';
import type { ImageResult, ImageService, NotModifiedResult, OriginValidators } from '../service/image.js';
import type { DialectPolicies } from '../service/policy.js';
import { answersNotModified } from '../validators.js';
import { clientSignal } from './client-signal.js';
import { conditionalPolicy, originConditionals, responseEtag, responseLastModified } from './conditional.js';
import { cacheControl, cacheTagHeaders, canonicalLink, contentDisposition, resultCacheControl, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './request-log.js';
import { factsOf, type PreparedAnswer, sameAnswer } from './prepared-answer.js';
import type { Resolved } from './resolve.js';

/**
 * `head`: the router's headers for this response as a flat name/value list, the request id
 * first (X-Request-ID, Server, CORS). The router sets none on `res` before an image answer,
 * so the handler writes them all in one writeHead.
 *
 * A fresh L1 hit is answered before the handler returns, which then returns undefined (no
 * promise on most of the traffic); anything else returns the promise of its answer. Either
 * may throw or reject with the error the router answers.
 */
export type ImageHandler = (req: IncomingMessage, res: ServerResponse, resolved: Resolved, log: RequestLog, head: readonly string[]) => Promise<void> | undefined;

/** Same route headers, the id (the first pair) aside. */
function sameRouteHeaders(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 2; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface ImageHandlerDeps {
  readonly images: Pick<ImageService, 'getImage' | 'hit'>;
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
  // PreviewProxy's Cache-Control (controller.rs build_cached_response / build_fallback_response).
  const ppCacheControl = `public, max-age=${cfg.cache.diskTtlSecs}`;
  const fallbackTtl = (dialect: ImageRequest['dialect']): number => deps.policies?.[dialect ?? 'imgproxy'].fallback?.ttlSeconds ?? cfg.processing.ttl;

  /** Content-Disposition: the one the previous answer to this request sent when it was of the same format. */
  function dispositionFor(request: ImageRequest, image: CachedImage, previous: PreparedAnswer | undefined): string {
    if (previous?.facts.format === image.format) return previous.disposition;
    // An encrypted source's name is as secret as its URL.
    return contentDisposition(request.options.filename, request.sourceHidden ? '' : request.source, image.format, request.options.returnAttachment);
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

  /**
   * The headers both a result and a 304 carry, after the route's. A Vary the route set
   * (PreviewProxy's CORS) is merged with ours into one field (RFC 9110 §12.5.5).
   */
  function commonHeaders(head: readonly string[], request: ImageRequest, cache: string, origin: OriginValidators, fallback: boolean): string[] {
    const headers: string[] = [];
    let routeVary: string | undefined;
    for (let i = 0; i < head.length; i += 2) {
      const name = head[i] ?? '';
      if (vary && name.toLowerCase() === 'vary') routeVary = head[i + 1];
      else headers.push(name, head[i + 1] ?? '');
    }
    headers.push(...SECURITY_HEADER_LIST, 'Cache-Control', cacheControlFor(request, origin, fallback), 'X-Cache', cache);
    if (vary) headers.push('Vary', routeVary !== undefined ? `${routeVary}, ${vary}` : vary);
    return headers;
  }

  /** The response's validators: the origin's on imgproxy routes (the result bytes' without one). */
  function validatorsOf(request: ImageRequest, image: CachedImage | null, origin: OriginValidators): { etag: string | undefined; lastModified: string | undefined } {
    const pp = request.dialect === 'previewproxy';
    // A fallback is no representation of the source: it has no validators of its own.
    if (image?.fallbackStatus !== undefined) return { etag: pp ? responseEtag(conditional, image.etag) : undefined, lastModified: undefined };
    return { etag: responseEtag(conditional, pp ? image?.etag : (origin.etag ?? image?.etag)), lastModified: responseLastModified(conditional, origin.lastModified) };
  }

  function notModified(res: ServerResponse, headers: string[]): void {
    res.writeHead(304, headers);
    res.end();
  }

  /** The origin's 304 to the client's own validators: this request's alone, never prepared. */
  function sendNotModified(res: ServerResponse, request: ImageRequest, { notModified: origin }: NotModifiedResult, head: readonly string[]): void {
    const headers = commonHeaders(head, request, 'MISS', origin, false);
    const { etag, lastModified } = validatorsOf(request, null, origin);
    if (etag !== undefined) headers.push('ETag', etag);
    if (lastModified !== undefined) headers.push('Last-Modified', lastModified);
    notModified(res, headers);
  }

  /** The headers of one answer of `image` to `request`: those of its 304 and of its 200. */
  function buildHeaders(request: ImageRequest, image: CachedImage, outcome: string, head: readonly string[], previous: PreparedAnswer | undefined): PreparedAnswer {
    const fallback = image.fallbackStatus !== undefined;
    const origin: OriginValidators = {
      ...(image.originEtag !== undefined ? { etag: image.originEtag } : {}),
      ...(image.originLastModified !== undefined ? { lastModified: image.originLastModified } : {}),
      ...(image.originCacheControl !== undefined ? { cacheControl: image.originCacheControl } : {}),
      ...(image.originExpires !== undefined ? { expires: image.originExpires } : {}),
    };
    const headers = commonHeaders(head, request, outcome, origin, fallback);
    if (image.tags !== undefined) headers.push(...cacheTagHeaders(image.tags, cfg.cache.tagsFormat));
    if (fallback && request.dialect === 'previewproxy') headers.push('X-Fallback', 'true');
    const { etag, lastModified } = validatorsOf(request, image, origin);
    if (etag !== undefined) headers.push('ETag', etag);
    if (lastModified !== undefined) headers.push('Last-Modified', lastModified);
    const link = request.sourceHidden ? undefined : canonicalLink(dl.setCanonicalHeader, request.source);
    if (link !== undefined) headers.push('Link', link);
    if (cfg.server.enableDebugHeaders) {
      if (image.originWidth !== undefined) headers.push('X-Origin-Width', String(image.originWidth));
      if (image.originHeight !== undefined) headers.push('X-Origin-Height', String(image.originHeight));
      if (image.originSize !== undefined) headers.push('X-Origin-Content-Length', String(image.originSize));
      headers.push('X-Result-Width', String(image.width), 'X-Result-Height', String(image.height));
    }
    const disposition = dispositionFor(request, image, previous);
    const full = [...headers, 'Content-Type', image.contentType, 'Content-Length', String(image.data.length), 'Content-Disposition', disposition];
    return { facts: factsOf(image), outcome, head: [...head], headers, full, disposition, etag, lastModified };
  }

  /**
   * The headers of one (request, entry, outcome), computed on its first answer and reused
   * while the same memoised request is answered with the same entry: a hit then builds no
   * header string. Not kept when they could differ on the next answer (clockFree).
   */
  function preparedFor(resolved: Resolved, image: CachedImage, outcome: string, head: readonly string[]): PreparedAnswer {
    const { request, prepared: known } = resolved;
    if (known !== undefined && known.outcome === outcome && sameAnswer(known.facts, image) && sameRouteHeaders(known.head, head)) {
      // The id (the first pair) differs on every request.
      known.headers[1] = head[1] ?? '';
      known.full[1] = head[1] ?? '';
      return known;
    }
    const p = buildHeaders(request, image, outcome, head, known);
    if (clockFree(request, image)) resolved.prepared = p;
    return p;
  }

  /**
   * Whether an answer's headers are the same at any time for any client of this request: not
   * with an `expires` cap or an origin Expires turned into a max-age (both count down), and not
   * for a request forwarding the client's cookies (one client's answer, kept by nobody else).
   * Whether the client's validators match is decided per request against the kept ones.
   */
  function clockFree(request: ImageRequest, image: CachedImage): boolean {
    if (request.options.expires !== 0 || request.originCookie !== undefined) return false;
    return !(dl.cacheControlPassthrough && request.dialect !== 'previewproxy' && image.fallbackStatus === undefined && !image.originCacheControl && image.originExpires);
  }

  /**
   * Writes a cached or fresh result, or 304 when the client's validators (`inm`, `ims`) match it. On the hit
   * path this is most of the work left, so the headers go to writeHead as one flat list of
   * strings on a response with no header set before (node:http's fast path: no setHeader per
   * field), prepared once per entry. HEAD never gets here: the router answers it first.
   */
  function send(res: ServerResponse, resolved: Resolved, { image, outcome, release }: ImageResult, head: readonly string[], inm: string | undefined, ims: string | undefined): void {
    const p = preparedFor(resolved, image, outcome, head);
    if (image.fallbackStatus === undefined && answersNotModified(dl.useEtag ? inm : undefined, ims, p.etag, p.lastModified)) {
      notModified(res, p.headers);
      release?.();
      return;
    }
    res.writeHead(image.fallbackStatus ?? 200, p.full);
    // 'finish' comes once the socket has taken the last byte (a write cut short by the client
    // never finishes: that buffer is left to the collector).
    if (release !== undefined) res.once('finish', release);
    res.end(image.data);
  }

  /** Everything but a fresh L1 hit: the service's lookup, computation or the origin's 304. */
  async function answer(req: IncomingMessage, res: ServerResponse, resolved: Resolved, log: RequestLog, head: readonly string[], inm: string | undefined, ims: string | undefined): Promise<void> {
    const { request, key } = resolved;
    // Only imgproxy forwards the client's validators; PreviewProxy's are answered locally.
    const forwarded = request.dialect === 'previewproxy' || (inm === undefined && ims === undefined) ? undefined : originConditionals(conditional, inm, ims);
    // The client's signal is made only on a miss (a hit has no work to stop).
    const result = await deps.images.getImage(request, key, () => clientSignal(res, 'the client went away before its image'), forwarded);
    if (result.joined) log.joined = true;
    if ('notModified' in result) {
      log.cache = 'MISS';
      sendNotModified(res, request, result, head);
      return;
    }
    log.cache = result.outcome;
    send(res, resolved, result, head, inm, ims);
  }

  return (req, res, resolved, log, head) => {
    const inm = headerValue(req.headers['if-none-match']);
    const ims = headerValue(req.headers['if-modified-since']);
    const hit = deps.images.hit(resolved.request, resolved.key);
    if (hit === null) return answer(req, res, resolved, log, head, inm, ims);
    log.cache = hit.outcome;
    send(res, resolved, hit, head, inm, ims);
    return undefined;
  };
}
