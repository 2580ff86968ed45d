/**
 * Request resolution with a memo: route + raw path + the header values that can change the
 * outcome → (verified ImageRequest, cache key). Parsing, HMAC verification, option
 * normalisation and the canonical key hash dominate a cache hit's CPU time, and they are a
 * pure function of those inputs under the frozen configuration, so repeated URLs (the
 * normal case behind a CDN miss storm or a hot page) skip them.
 *
 * Only successes are remembered; a URL with `expires` is re-parsed once past it (which
 * then answers 404). The source is admitted (scheme enabled, IMGPROXY_ALLOWED_SOURCES)
 * before anything is remembered or looked up — seed: "The cache is protected by the same
 * security measures as imgproxy itself" — so narrowing the allowed sources also closes
 * entries cached under the older configuration.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';
import type { ImageCache } from '../cache/index.js';
import type { ImageRequest } from '../request.js';
import type { Sources } from '../sources/index.js';

export interface Resolved {
  request: ImageRequest;
  /** Cache key; empty for `raw` requests, which are never cached. */
  key: string;
}

export type Resolver = (routeId: string, parse: () => ImageRequest, headers: IncomingHttpHeaders) => Resolved;

const HINT_HEADERS = ['sec-ch-dpr', 'dpr', 'sec-ch-width', 'width'] as const;

export function createResolver(config: Config, cache: ImageCache, sources: Sources, max = 5000): Resolver {
  const memo = new LRUCache<string, Resolved>({ max });
  const hints = config.processing.enableClientHints;
  const keyHeaders = config.cache.keyHeaders.map((h) => h.toLowerCase());
  const keyCookies = config.cache.keyCookies.length > 0;

  return (routeId, parse, headers) => {
    let id = `${routeId}\0${headers.accept ?? ''}`;
    if (hints) for (const h of HINT_HEADERS) id += `\0${String(headers[h] ?? '')}`;
    for (const h of keyHeaders) id += `\0${String(headers[h] ?? '')}`;
    if (keyCookies) id += `\0${headers.cookie ?? ''}`;

    const known = memo.get(id);
    if (known && (known.request.options.expires === 0 || known.request.options.expires * 1000 > Date.now())) return known;

    const request = parse();
    sources.admit(request.source);
    const resolved: Resolved = { request, key: request.options.raw ? '' : cache.key(request, headers) };
    memo.set(id, resolved);
    return resolved;
  };
}
