/**
 * What the origin sub-store keeps and for how long: which sources (remote ones), how fresh
 * an upstream response is for a shared cache (RFC 9111, through http-cache-semantics:
 * `no-store` and `private` are not stored, s-maxage beats max-age beats Expires, Age and Date
 * count; without caching headers, PP_CACHE_DISK_TTL_SECS), and which failures a stale entry
 * may stand in for (RFC 5861 §4). PreviewProxy reads only max-age and Expires
 * (`extract_ttl` in https://github.com/ViGrise/previewproxy/blob/main/src/modules/cache/origin.rs).
 */
import CachePolicy from 'http-cache-semantics';
import type { ProxyError } from '../errors.js';

/** Sources whose bytes we keep: remote ones. `local://` is already on disk. */
const CACHEABLE_SCHEMES = new Set(['http:', 'https:', 's3:', 'gs:', 'abs:', 'swift:']);

export function isOriginCacheable(url: string): boolean {
  const colon = url.indexOf(':');
  return colon > 0 && CACHEABLE_SCHEMES.has(url.slice(0, colon + 1).toLowerCase());
}

export interface Freshness {
  /** False for `no-store`, `private` (shared cache) and other unstorable responses. */
  storable: boolean;
  /** How long the response stays fresh from now (ms). */
  freshMs: number;
  /** Whether the response stated its freshness (max-age, s-maxage, Expires, no-cache). */
  explicit: boolean;
}

const EXPLICIT_CC = /(?:^|[\s,])(?:s-maxage|max-age)\s*=|(?:^|[\s,])no-cache(?:$|[\s,=])/i;

/** RFC 9111 freshness of an upstream response for a shared cache, with PreviewProxy's fallback. */
export function originFreshness(headers: Readonly<Record<string, string>>, defaultTtlMs: number): Freshness {
  const policy = new CachePolicy({ url: '/', method: 'GET', headers: {} }, { status: 200, headers: { ...headers } }, { shared: true });
  if (!policy.storable()) return { storable: false, freshMs: 0, explicit: true };
  const explicit = EXPLICIT_CC.test(headers['cache-control'] ?? '') || headers.expires !== undefined;
  // No caching headers: PP_CACHE_DISK_TTL_SECS, as PreviewProxy falls back to its default TTL
  // (not the RFC's Last-Modified heuristic, which would give arbitrary lifetimes).
  if (!explicit) return { storable: true, freshMs: defaultTtlMs, explicit: false };
  // maxAge() counts from the response's Date (Expires − Date); age() is the Age header
  // plus time since; what is left is the freshness we may still use.
  return { storable: true, freshMs: Math.max(0, Math.round((policy.maxAge() - policy.age()) * 1000)), explicit: true };
}

/** RFC 9110 §15.6: what stale-if-error covers; a 4xx is the origin's answer, not a failure. */
export function isOriginFailure(err: unknown): boolean {
  const code = (err as ProxyError | null)?.code;
  return code === 'SOURCE_BAD_GATEWAY' || code === 'SOURCE_TIMEOUT' || code === 'SOURCE_UNREACHABLE' || code === 'SOURCE_CONNECTION' || code === 'SOURCE_BODY_INCOMPLETE';
}
