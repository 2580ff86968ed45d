/**
 * IMGPROXY_COOKIE_PASSTHROUGH: which of the client's cookies go to a source, as imgproxy decides
 * it (cookies/cookies.go, https://github.com/imgproxy/imgproxy/blob/master/cookies/cookies.go).
 * The client's cookies are taken to have been set by the request's own site — X-Forwarded-Proto
 * (else `http`) :// X-Forwarded-Host (else Host) [: X-Forwarded-Port], or IMGPROXY_COOKIE_BASE_URL
 * — with no Domain attribute, so a cookie jar (RFC 6265 §5.3, Go's net/http/cookiejar) gives
 * them only to http(s) sources on exactly that host and under that URL's directory.
 * IMGPROXY_COOKIE_PASSTHROUGH_ALL gives them to every http(s) source.
 *
 * The result is the Cookie header to send, or undefined: it is part of the cache key of the
 * request (http/resolve.ts), so a result fetched with one client's cookies is never another's.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';

/** The Cookie header for `source`, given the client's request headers; undefined = none. */
export type CookiePassthrough = (source: string, headers: IncomingHttpHeaders) => string | undefined;

/** Request headers the result depends on (for memo ids). */
export const COOKIE_SCOPE_HEADERS = ['cookie', 'host', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto'] as const;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 cookie-octets, optionally in double quotes.
const VALUE = /^(?:"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"|[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*)$/;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The Cookie header's pairs in order, malformed ones skipped (Go's readCookies). */
function pairs(header: string | string[] | undefined): [string, string][] {
  const raw = Array.isArray(header) ? header.join('; ') : (header ?? '');
  const out: [string, string][] = [];
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (TOKEN.test(name) && VALUE.test(value)) out.push([name, value]);
  }
  return out;
}

/** RFC 6265 §5.1.4 default-path of the URL the cookies were set by. */
function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) return '/';
  const last = pathname.lastIndexOf('/');
  return last <= 0 ? '/' : pathname.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function httpUrl(raw: string): URL | null {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}

/** The site the client's cookies belong to, or null when the request names none. */
function scopeOf(headers: IncomingHttpHeaders, base: URL | null): URL | null {
  if (base !== null) return base;
  const host = first(headers['x-forwarded-host']) || first(headers.host);
  if (!host) return null;
  const proto = first(headers['x-forwarded-proto']) || 'http';
  const port = first(headers['x-forwarded-port']);
  return httpUrl(`${proto}://${host}${port ? `:${port}` : ''}/`);
}

/** null when IMGPROXY_COOKIE_PASSTHROUGH is off. */
export function createCookiePassthrough(d: Pick<Config['download'], 'cookiePassthrough' | 'cookiePassthroughAll' | 'cookieBaseUrl'>): CookiePassthrough | null {
  if (!d.cookiePassthrough) return null;
  const base = d.cookieBaseUrl === '' ? null : httpUrl(d.cookieBaseUrl);
  return (source, headers) => {
    if (headers.cookie === undefined) return undefined;
    const target = httpUrl(source);
    if (target === null) return undefined;
    let cookies = pairs(headers.cookie);
    if (!d.cookiePassthroughAll) {
      const scope = scopeOf(headers, base);
      if (scope === null || scope.hostname.toLowerCase() !== target.hostname.toLowerCase() || !pathMatches(target.pathname, defaultPath(scope.pathname))) return undefined;
      // A jar keeps one cookie per name (and path): a later one replaces the value in place.
      const byName = new Map<string, string>();
      for (const [name, value] of cookies) byName.set(name, value);
      cookies = [...byName];
    }
    return cookies.length > 0 ? cookies.map(([n, v]) => `${n}=${v}`).join('; ') : undefined;
  };
}
