/**
 * The schema's `download` section: how sources are fetched (timeouts, redirects, TLS,
 * keep-alive, User-Agent, cookies) and how the origin's validators and caching headers
 * carry over to results.
 */
import { bool, custom, int, str, type SchemaSection } from '../fields.js';

/** Go's time.RFC3339 (imgproxy's env.DateTime): `2006-01-02T15:04:05Z` or with an offset, fractions allowed; epoch ms. */
function parseRfc3339(raw: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Math.floor(Number(`0${frac}`) * 1000));
  const check = new Date(ms);
  if (check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const offset = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return ms - offset;
}

export const download = {
  downloadTimeout: int(['IMGPROXY_DOWNLOAD_TIMEOUT'], 5, { min: 1 })
    .describe('Seconds a source download of an imgproxy request may take, redirects included (http and storage sources). PreviewProxy requests use PP_FETCH_TIMEOUT_SECS.'),
  maxRedirects: int(['IMGPROXY_MAX_REDIRECTS'], 10, { min: 0 })
    .describe('Redirects followed when fetching an http(s) source.'),
  userAgent: str(['IMGPROXY_USER_AGENT'], 'pixproxy/%current_version')
    .describe('`User-Agent` sent to http(s) origins; `%current_version` is replaced with pixproxy\'s version.'),
  localFilesystemRoot: str(['IMGPROXY_LOCAL_FILESYSTEM_ROOT', 'PP_LOCAL_BASE_DIR'])
    .describe('Directory `local://` sources are read from (never outside it); empty = `local://` off.'),
  clientKeepAliveTimeout: int(['IMGPROXY_CLIENT_KEEP_ALIVE_TIMEOUT'], 90, { min: 0 })
    .describe('Seconds an idle connection to an origin is kept for reuse; 0 = no keep-alive.'),
  ignoreSslVerification: bool(['IMGPROXY_IGNORE_SSL_VERIFICATION'], false)
    .describe('Accepts any TLS certificate from https origins.'),
  useEtag: bool(['IMGPROXY_USE_ETAG'], true)
    .describe('Processed results carry the source\'s ETag (or, when it sends none, one of the result bytes); a client\'s If-None-Match goes to the origin and its 304 is answered 304. false sends none and forwards none.'),
  useLastModified: bool(['IMGPROXY_USE_LAST_MODIFIED'], true)
    .describe('Processed results carry the source\'s Last-Modified (dropped when it is no HTTP date); a client\'s If-Modified-Since goes to the origin, and a cached result answers it with 304.'),
  etagBuster: str(['IMGPROXY_ETAG_BUSTER'])
    .describe('ETags become `"<buster>/<base64url(ETag)>"`; an If-None-Match without the current buster is not forwarded, so changing it makes every client download again.'),
  lastModifiedBuster: custom(['IMGPROXY_LAST_MODIFIED_BUSTER'], null as number | null, 'an RFC 3339 date-time, e.g. 2024-05-01T00:00:00Z', parseRfc3339)
    .describe('An older Last-Modified is answered as this time, and an If-Modified-Since not after it is not forwarded, so raising it makes every client download again.'),
  cacheControlPassthrough: bool(['IMGPROXY_CACHE_CONTROL_PASSTHROUGH'], false)
    .describe('Use the source\'s Cache-Control (or its Expires as a max-age) instead of IMGPROXY_TTL; `expires` still caps it.'),
  setCanonicalHeader: bool(['IMGPROXY_SET_CANONICAL_HEADER'], false)
    .describe('Send `Link: <source>; rel="canonical"` for http(s) sources (processed and `raw`; not for `/enc/` sources, whose URL is secret).'),
  cookiePassthrough: bool(['IMGPROXY_COOKIE_PASSTHROUGH'], false)
    .describe('Forwards the client\'s cookies to http(s) sources on the request\'s own host (X-Forwarded-Proto/-Host/-Port or Host, or IMGPROXY_COOKIE_BASE_URL). Results fetched with cookies are cached per cookie set only.'),
  cookiePassthroughAll: bool(['IMGPROXY_COOKIE_PASSTHROUGH_ALL'], false)
    .describe('With IMGPROXY_COOKIE_PASSTHROUGH, forwards the cookies to every http(s) source, whatever its host.'),
  cookieBaseUrl: custom(['IMGPROXY_COOKIE_BASE_URL'], '', 'an absolute http(s) URL, e.g. https://example.com/images/', (raw) => {
    const v = raw.trim();
    return /^https?:\/\/[^/?#]+/i.test(v) && URL.canParse(v) ? v : undefined;
  }).describe('The URL the client\'s cookies are taken to belong to (instead of the request\'s host): they go to sources on its host and path.'),
} as const satisfies SchemaSection;
