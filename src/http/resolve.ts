/**
 * Request resolution with a memo: route + raw path + the header values that can change the
 * outcome → (verified ImageRequest, cache key). Parsing, HMAC verification, option
 * normalisation and the canonical key hash dominate a cache hit's CPU time, and they are a
 * pure function of those inputs under the frozen configuration, so repeated URLs (the
 * normal case behind a CDN miss storm or a hot page) skip them.
 *
 * Only successes are remembered; a URL with `expires` is re-parsed once past it (which
 * then answers 404). The values of PIXPROXY_CACHE_TAGS_HEADER become the request's cache
 * tags (with the `cache_tags` option's), and part of its memo id like the key headers. The
 * source (and a watermark image's) is admitted (scheme enabled, IMGPROXY_ALLOWED_SOURCES)
 * before anything is remembered or looked up, so a cached entry is guarded like a fresh
 * request: narrowing the allowed sources also closes entries cached under the older
 * configuration. Cookies forwarded to the source (IMGPROXY_COOKIE_PASSTHROUGH) go with the
 * request and into its key.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import type { ImageCache } from '../cache/index.js';
import { keyHeaderValue, withCookies } from '../cache/key.js';
import { defaultOptions } from '../default-options.js';
import { watermarkUrls } from '../options.js';
import type { ImageRequest } from '../request.js';
import type { Sources } from '../sources/index.js';
import { MAX_TAGS, normalizeTags, tagsFromHeader } from '../tags.js';
import { COOKIE_SCOPE_HEADERS, createCookiePassthrough } from './cookie-passthrough.js';
import { createResolveMemo, type Resolved } from './resolve-memo.js';

export type { Resolved } from './resolve-memo.js';

export type Resolver = (routeId: string, parse: () => ImageRequest, headers: IncomingHttpHeaders) => Resolved;

const HINT_HEADERS = ['sec-ch-dpr', 'dpr', 'sec-ch-width', 'width'] as const;

/**
 * One header's part of the memo id. An absent header and an empty one are different parts
 * (the cache key tells them apart: `null` vs `""`), and the value is the one the key
 * hashes, so two requests share a memo entry only if they would share the key.
 */
function part(headers: IncomingHttpHeaders, name: string): string {
  const v = keyHeaderValue(headers, name);
  return v === null ? '\0-' : `\0=${v}`;
}

/**
 * The memo's budget: about 100,000 URLs of 80 characters (~800 bytes each on the heap, measured
 * in test/unit/http/resolve-memo.test.ts; a longer URL costs its length more).
 * Varied traffic (tens of thousands of distinct URLs behind a CDN) then finds its keys here
 * instead of re-parsing the URL and recomputing the canonical JSON and its hash per request:
 * with whole requests kept (~2.4 KB each) the same 40 MiB held ~16,000 URLs, and an L2 of
 * 100,000 entries read at random answered at a third of the rate of one of 1,000.
 */
export const RESOLVE_MEMO_BYTES = 80 * 1024 * 1024;

export function createResolver(config: Config, cache: Pick<ImageCache, 'key'>, sources: Pick<Sources, 'admit'>, maxBytes = RESOLVE_MEMO_BYTES): Resolver {
  const memo = createResolveMemo(defaultOptions(config), maxBytes);
  const hints = config.processing.enableClientHints;
  const keyHeaders = config.cache.keyHeaders.map((h) => h.toLowerCase());
  const tagsHeader = config.cache.tagsHeader;
  if (tagsHeader) keyHeaders.push(tagsHeader);
  const passCookies = createCookiePassthrough(config.download);
  // The cookie forwarded depends on these request headers too (cookie-passthrough.ts).
  const cookieHeaders: readonly string[] = passCookies ? COOKIE_SCOPE_HEADERS : config.cache.keyCookies.length > 0 ? ['cookie'] : [];

  return (routeId, parse, headers) => {
    let id = routeId + part(headers, 'accept');
    if (hints) for (const h of HINT_HEADERS) id += part(headers, h);
    for (const h of keyHeaders) id += part(headers, h);
    for (const h of cookieHeaders) id += part(headers, h);

    const known = memo.get(id);
    if (known) return known;

    const request = parse();
    sources.admit(request.source);
    // A watermark image is a source too: IMGPROXY_ALLOWED_SOURCES and the enabled schemes apply.
    for (const mark of watermarkUrls(request.options)) sources.admit(mark);
    if (tagsHeader) {
      const fromHeader = tagsFromHeader(headers[tagsHeader]);
      if (fromHeader.length > 0) request.tags = normalizeTags([...request.options.cacheTags, ...fromHeader]).slice(0, MAX_TAGS);
    }
    const cookie = passCookies?.(request.source, headers);
    if (cookie !== undefined) request.originCookie = cookie;
    let key = request.options.raw ? '' : cache.key(request, headers);
    if (cookie !== undefined && key !== '') key = withCookies(key, cookie);
    const resolved: Resolved = { request, key };
    memo.set(id, resolved);
    return resolved;
  };
}
