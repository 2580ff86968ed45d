/**
 * Response header rules for processed images (imgproxy's httpheaders/,
 * https://github.com/imgproxy/imgproxy/tree/master/httpheaders), kept pure so they are unit
 * tested without a server: Cache-Control with the `expires` cap, Content-Disposition
 * (content-disposition.ts), conditional-request matching.
 */
export { contentDisposition, rawContentDisposition } from './content-disposition.js';

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

/** RFC 9110 §13.1.2: weak comparison of an If-None-Match list against our ETag. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === ours);
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
