/**
 * Conditional requests for processed images, as imgproxy v4 does them
 * (httpheaders/conditionalheaders/request.go,
 * https://github.com/imgproxy/imgproxy/blob/master/httpheaders/conditionalheaders/request.go):
 *
 * - the result's ETag is the origin's (IMGPROXY_USE_ETAG), wrapped as
 *   `"<buster>/<base64url(origin ETag)>"` when IMGPROXY_ETAG_BUSTER is set; its Last-Modified is
 *   the origin's (IMGPROXY_USE_LAST_MODIFIED), raised to IMGPROXY_LAST_MODIFIED_BUSTER when
 *   older, and dropped when it is no HTTP-date;
 * - the client's If-None-Match goes to the origin (unwrapped from the buster; one without the
 *   current buster, or not base64, sends no conditional header at all), its If-Modified-Since
 *   too unless it is not later than the Last-Modified buster; the origin's 304 is answered 304.
 *
 * Where the origin sends no ETag imgproxy sends none; pixproxy then sends the ETag of the result
 * bytes (`computeEtag`), which only it can validate: the cache answers an If-None-Match for it
 * itself, and forwarding it costs the origin nothing but a 200.
 */
import type { ConditionalHeaders } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { unquoteEtag } from '../validators.js';
import { formatHttpDate, parseHttpDate } from './http-date.js';

export interface ConditionalPolicy {
  readonly useEtag: boolean;
  readonly useLastModified: boolean;
  /** '' = none. */
  readonly etagBuster: string;
  /** Epoch ms; null = none. */
  readonly lastModifiedBuster: number | null;
}

export function conditionalPolicy(d: Pick<Config['download'], 'useEtag' | 'useLastModified' | 'etagBuster' | 'lastModifiedBuster'>): ConditionalPolicy {
  return { useEtag: d.useEtag, useLastModified: d.useLastModified, etagBuster: d.etagBuster, lastModifiedBuster: d.lastModifiedBuster };
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The client's If-None-Match as the origin issued it: as is without a buster, else unwrapped;
 * `abort` when it does not carry the current buster (then nothing conditional is forwarded).
 */
function originIfNoneMatch(p: ConditionalPolicy, ifNoneMatch: string | undefined): { value?: string; abort: boolean } {
  if (!p.useEtag || !ifNoneMatch) return { abort: false };
  if (p.etagBuster === '') return { value: ifNoneMatch, abort: false };
  const unquoted = unquoteEtag(ifNoneMatch);
  const prefix = `${p.etagBuster}/`;
  if (!unquoted.startsWith(prefix)) return { abort: true };
  const rest = unquoted.slice(prefix.length);
  // Go's RawURLEncoding: no padding, and only whole 6-bit groups that end cleanly.
  if (!BASE64URL.test(rest) || rest.length % 4 === 1) return { abort: true };
  return { value: Buffer.from(rest, 'base64url').toString('latin1'), abort: false };
}

/** The conditional headers to send to the origin for a client request (InjectImageRequestHeaders). */
export function originConditionals(p: ConditionalPolicy, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): ConditionalHeaders {
  const inm = originIfNoneMatch(p, ifNoneMatch);
  if (inm.abort) return {};
  const out: ConditionalHeaders = {};
  if (p.useLastModified && ifModifiedSince) {
    if (p.lastModifiedBuster === null) out.ifModifiedSince = ifModifiedSince;
    else {
      // An unreadable date, or one not later than the buster, predates the buster: the
      // client's copy may be stale whatever the origin says.
      const since = parseHttpDate(ifModifiedSince);
      if (since !== null && p.lastModifiedBuster < since) out.ifModifiedSince = ifModifiedSince;
    }
  }
  if (inm.value !== undefined) out.ifNoneMatch = inm.value;
  return out;
}

/** The response ETag for the origin's (injectEtagHeader); undefined = none. */
export function responseEtag(p: ConditionalPolicy, etag: string | undefined): string | undefined {
  if (!p.useEtag || !etag) return undefined;
  if (p.etagBuster === '') return etag;
  return `"${p.etagBuster}/${Buffer.from(etag, 'latin1').toString('base64url')}"`;
}

/** The response Last-Modified for the origin's (injectLastModifiedHeader); undefined = none. */
export function responseLastModified(p: ConditionalPolicy, lastModified: string | undefined): string | undefined {
  if (!p.useLastModified || !lastModified) return undefined;
  const at = parseHttpDate(lastModified);
  if (at === null) return undefined;
  if (p.lastModifiedBuster !== null && at < p.lastModifiedBuster) return formatHttpDate(p.lastModifiedBuster);
  return lastModified;
}
