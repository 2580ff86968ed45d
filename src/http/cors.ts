/**
 * CORS on PreviewProxy's routes, as PreviewProxy's `cors_layer` configures tower-http's
 * CorsLayer (src/common/middlewares/cors.rs, https://github.com/ViGrise/previewproxy;
 * tower-http 0.6 `cors/mod.rs`, https://github.com/tower-rs/tower-http):
 *
 * - every response: `Access-Control-Allow-Origin` (`*` when PP_CORS_ALLOW_ORIGIN holds `*`,
 *   else the request's Origin when it matches an entry, else nothing) and
 *   `Vary: origin, access-control-request-method, access-control-request-headers`;
 * - any OPTIONS request is a preflight answered at once, 200 with an empty body, adding
 *   `Access-Control-Allow-Methods: *`, the request's Access-Control-Request-Headers mirrored
 *   as `Access-Control-Allow-Headers`, and `Access-Control-Max-Age: PP_CORS_MAX_AGE_SECS`.
 *
 * Entries follow PreviewProxy's documentation (.env.sample): an exact origin (scheme, host,
 * optional port) matches the whole Origin; `*.example.com` matches a host with exactly one
 * more label, any scheme and port. Its code differs in two places we do not copy (listed in
 * src/dialects/previewproxy/README.md): `*.example.com` also matched `evilexample.com` (the
 * suffix was compared without its dot), and a port made a wildcard never match.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface CorsSettings {
  readonly allowOrigin: readonly string[];
  readonly maxAgeSecs: number;
}

export interface Cors {
  /** Headers every response of the route carries. */
  response(headers: IncomingHttpHeaders): Record<string, string>;
  /** Headers of the answer to an OPTIONS request. */
  preflight(headers: IncomingHttpHeaders): Record<string, string>;
}

const VARY = 'origin, access-control-request-method, access-control-request-headers';

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The host of an Origin (`https://a.example.com:8443` → `a.example.com`), lower-cased. */
function originHost(origin: string): string {
  const rest = origin.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const authority = rest.split('/')[0] ?? '';
  return authority.replace(/:\d*$/, '').toLowerCase();
}

export function matchesOrigin(entry: string, origin: string): boolean {
  if (!entry.startsWith('*.')) return entry === origin;
  const suffix = entry.slice(1).toLowerCase();
  const host = originHost(origin);
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, -suffix.length);
  return label !== '' && !label.includes('.');
}

export function createCors(settings: CorsSettings): Cors {
  const any = settings.allowOrigin.includes('*');
  const entries = settings.allowOrigin;

  function allowOrigin(headers: IncomingHttpHeaders): Record<string, string> {
    if (any) return { 'Access-Control-Allow-Origin': '*' };
    const origin = one(headers.origin);
    if (origin === undefined || !entries.some((e) => matchesOrigin(e, origin))) return {};
    return { 'Access-Control-Allow-Origin': origin };
  }

  return {
    response: (headers) => ({ ...allowOrigin(headers), Vary: VARY }),
    preflight(headers) {
      const out: Record<string, string> = { ...allowOrigin(headers), Vary: VARY, 'Access-Control-Allow-Methods': '*' };
      const requested = one(headers['access-control-request-headers']);
      if (requested !== undefined) out['Access-Control-Allow-Headers'] = requested;
      out['Access-Control-Max-Age'] = String(settings.maxAgeSecs);
      return out;
    },
  };
}
