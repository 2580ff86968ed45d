/**
 * Cache keys. The transformed-result key is sha256 over a canonical (sorted-keys) JSON of:
 * key version, resolved source URL, normalised options minus NON_KEY_OPTIONS (the output
 * format request — `format` and the preferX / enforceX flags from Accept — is part of the
 * options), and the configured request headers and cookies.
 *
 * Seed: "URL signature is not part of the cache key, allowing key rotation without
 * invalidating the cache" — the signature is not an input at all; "imgproxy includes the
 * cachebuster in the cache key" — it is an ordinary option here. Because the dialects
 * normalise aliases, order and presets into one ProcessingOptions, equivalent URLs share a key.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import { NON_KEY_OPTIONS } from '../options.js';
import type { ImageRequest } from '../request.js';

type KeyConfig = Pick<Config['cache'], 'keyVersion' | 'keyHeaders' | 'keyCookies'>;

/** JSON with object keys sorted at every level; `undefined` members are dropped like JSON.stringify does. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Cookie header → first value of each name (RFC 6265 §5.4: names are case-sensitive). */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const raw = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const pair of raw.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || out.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.set(name, value);
  }
  return out;
}

/** A request header as the key records it: null when absent, repeated values joined. */
export function keyHeaderValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** The canonical string a transformed-result key hashes (exported for tests and debugging). */
export function keyMaterial(req: ImageRequest, headers: IncomingHttpHeaders, cfg: KeyConfig): string {
  const options: Record<string, unknown> = { ...req.options };
  for (const k of NON_KEY_OPTIONS) delete options[k];
  const h: Record<string, string | null> = {};
  for (const name of cfg.keyHeaders) h[name.toLowerCase()] = keyHeaderValue(headers, name);
  const c: Record<string, string | null> = {};
  if (cfg.keyCookies.length > 0) {
    const jar = parseCookies(headers.cookie);
    for (const name of cfg.keyCookies) c[name] = jar.get(name) ?? null;
  }
  return canonicalJson({ v: cfg.keyVersion, kind: req.kind, source: req.source, options, headers: h, cookies: c });
}

export function transformedKey(req: ImageRequest, headers: IncomingHttpHeaders, cfg: KeyConfig): string {
  return createHash('sha256').update(keyMaterial(req, headers, cfg)).digest('hex');
}

/** Origin sub-store key: "derived from the source URL only (no transform parameters)". */
export function originKey(url: string): string {
  return createHash('sha256').update(`origin\n${url}`).digest('hex');
}
