/**
 * Response header rules shared by processed images and `raw` streams, as imgproxy's response
 * writer applies them (server/responsewriter/writer.go,
 * https://github.com/imgproxy/imgproxy/blob/master/server/responsewriter/writer.go), kept pure
 * so they are unit tested without a server: Cache-Control in its priority order, the canonical
 * Link, Content-Disposition (content-disposition.ts), the security headers.
 */
import { parseHttpDate } from './http-date.js';

export { contentDisposition, rawContentDisposition } from './content-disposition.js';
export { ifNoneMatchHits } from '../validators.js';

/** Sent on every response: images must never run as documents (imgproxy's CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
  'X-Content-Type-Options': 'nosniff',
};

/**
 * `max-age=<ttl>, public` (imgproxy's token order), capped by the `expires` option;
 * TTL 0 → `no-cache` (imgproxy #1195).
 */
export function cacheControl(ttlSeconds: number, expiresUnix: number, nowMs = Date.now()): string {
  let ttl = ttlSeconds;
  if (expiresUnix > 0) ttl = Math.min(ttl === 0 ? Infinity : ttl, Math.max(0, Math.floor(expiresUnix - nowMs / 1000)));
  if (ttl === 0 || !Number.isFinite(ttl)) return 'no-cache';
  return `max-age=${ttl}, public`;
}

export interface CacheControlInput {
  /** IMGPROXY_TTL. */
  readonly ttl: number;
  /** The `expires` option (Unix seconds); 0 = none. */
  readonly expiresUnix: number;
  /** IMGPROXY_CACHE_CONTROL_PASSTHROUGH. */
  readonly passthrough: boolean;
  /** The origin's headers (of its 200, or of its 304). */
  readonly origin: { readonly cacheControl?: string | undefined; readonly expires?: string | undefined };
  /** Set for a fallback image: the max-age it lives (the origin's headers are not its own). */
  readonly fallbackTtl?: number;
}

/**
 * imgproxy's priority: an explicit max-age (the `expires` cap, or a fallback's TTL) first; then,
 * with IMGPROXY_CACHE_CONTROL_PASSTHROUGH, the origin's Cache-Control as it is, or its Expires
 * (IMF-fixdate only) as a max-age when it is still ahead; then IMGPROXY_TTL, or `no-cache`. An
 * origin Expires in the past falls through to the TTL, as in imgproxy
 * (`PassthroughCacheControlExpiredInThePast` in server/responsewriter/writer_test.go).
 */
export function resultCacheControl(i: CacheControlInput, nowMs = Date.now()): string {
  if (i.fallbackTtl !== undefined) return cacheControl(i.fallbackTtl, i.expiresUnix, nowMs);
  if (i.expiresUnix !== 0) return cacheControl(i.ttl, i.expiresUnix, nowMs);
  if (i.passthrough) {
    if (i.origin.cacheControl) return i.origin.cacheControl;
    const at = parseHttpDate(i.origin.expires, true);
    const seconds = at === null ? 0 : Math.floor((at - nowMs) / 1000);
    if (seconds > 0) return `max-age=${seconds}, public`;
  }
  return cacheControl(i.ttl, 0);
}

/** `Link: <source>; rel="canonical"` (IMGPROXY_SET_CANONICAL_HEADER), for http(s) sources only. */
export function canonicalLink(enabled: boolean, source: string): string | undefined {
  return enabled && /^https?:\/\//.test(source) ? `<${source}>; rel="canonical"` : undefined;
}

export type CacheTagsFormat = 'all' | 'cloudflare' | 'cloudfront' | 'none';

/**
 * The headers carrying an answer's cache tags to a CDN, per IMGPROXY_CACHE_TAGS_FORMAT (imgproxy
 * Pro): Cloudflare purges by `Cache-Tag` (comma-separated,
 * https://developers.cloudflare.com/cache/how-to/purge-cache/purge-by-tags/), CloudFront
 * forwards `x-amz-meta-cache-tag`. As a flat name/value list for writeHead.
 */
export function cacheTagHeaders(tags: readonly string[] | undefined, format: CacheTagsFormat): string[] {
  if (tags === undefined || tags.length === 0 || format === 'none') return [];
  const value = tags.join(',');
  const out: string[] = [];
  if (format === 'all' || format === 'cloudflare') out.push('Cache-Tag', value);
  if (format === 'all' || format === 'cloudfront') out.push('x-amz-meta-cache-tag', value);
  return out;
}
