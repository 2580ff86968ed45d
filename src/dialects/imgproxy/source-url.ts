/**
 * Source URL of an imgproxy path: `plain/<percent-encoded url>[@ext]` or
 * `<base64url, may be split by />[.ext]`, then IMGPROXY_URL_REPLACEMENTS and
 * IMGPROXY_BASE_URL (imgproxy options/parser/url.go). The extension is returned apart:
 * the caller applies it as the output format, last.
 */
import type { Config } from '../../config/index.js';
import { ConfigError } from '../../config/fields.js';
import { ProxyError } from '../../errors.js';
import { decodeBase64Url, utf8 } from './args.js';

export interface DecodedSource {
  readonly url: string;
  /** '' = none given (automatic format). */
  readonly extension: string;
}

interface Replacement {
  readonly pattern: RegExp;
  readonly replacement: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `pattern=replacement;…`; `*` matches `[^/]*` and is referenced as `${N}`; prefix match. */
export function parseUrlReplacements(raw: string): Replacement[] {
  const out: Replacement[] = [];
  for (const item of raw.split(';')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    if (eq === -1) throw new ConfigError(`IMGPROXY_URL_REPLACEMENTS: expected pattern=replacement, got ${JSON.stringify(item)}`);
    const pattern = new RegExp(`^${item.slice(0, eq).split('*').map(escapeRegExp).join('([^/]*)')}`);
    out.push({ pattern, replacement: item.slice(eq + 1) });
  }
  return out;
}

function applyReplacement(url: string, r: Replacement): string {
  // A function replacer so that only Go's `${N}` / `$N` are special, not JS's `$&`, `$<`….
  return url.replace(r.pattern, (...m: unknown[]) =>
    r.replacement.replace(/\$\{(\d+)\}|\$(\d+)/g, (_x, a?: string, b?: string) => {
      const v = m[Number(a ?? b)];
      return typeof v === 'string' ? v : '';
    }),
  );
}

/** Go's url.PathUnescape: `%XX` only, `+` stays, a bad escape is an error. */
export function pathUnescape(s: string): string | undefined {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? 0;
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return utf8(Uint8Array.from(bytes));
}

export type SourceDecoder = (parts: readonly string[]) => DecodedSource;

export function createSourceDecoder(config: Config): SourceDecoder {
  const replacements = parseUrlReplacements(config.urls.urlReplacements);
  const { baseUrl, base64UrlIncludesFilename } = config.urls;

  function preprocess(url: string): string {
    let u = url;
    for (const r of replacements) u = applyReplacement(u, r);
    return baseUrl === '' || u.startsWith(baseUrl) ? u : baseUrl + u;
  }

  function splitExtension(encoded: string, mark: '@' | '.'): [string, string] {
    const pieces = encoded.split(mark);
    if ((pieces[0] ?? '') === '') throw new ProxyError('INVALID_URL', 'Image URL is empty');
    if (pieces.length > 2) throw new ProxyError('INVALID_URL', `Multiple formats are specified: ${encoded}`);
    return [pieces[0] ?? '', pieces[1] ?? ''];
  }

  function decodePlain(parts: readonly string[]): DecodedSource {
    const encoded = parts.join('/');
    const [url, extension] = splitExtension(encoded, '@');
    const unescaped = pathUnescape(url);
    if (unescaped === undefined) throw new ProxyError('INVALID_URL', `Invalid url encoding: ${encoded}`);
    return { url: preprocess(unescaped), extension };
  }

  function decodeBase64(allParts: readonly string[]): DecodedSource {
    // The last segment is an SEO filename, not part of the encoded URL.
    const parts = base64UrlIncludesFilename && allParts.length > 1 ? allParts.slice(0, -1) : allParts;
    const encoded = parts.join('');
    const [url, extension] = splitExtension(encoded, '.');
    const bytes = decodeBase64Url(url);
    const text = bytes && utf8(bytes);
    if (text === undefined) throw new ProxyError('INVALID_URL', `Invalid url encoding: ${encoded}`);
    return { url: preprocess(text), extension };
  }

  return (parts) => {
    if (parts.length === 0) throw new ProxyError('INVALID_URL', 'Image URL is empty');
    if (parts[0] === 'plain' && parts.length > 1) return decodePlain(parts.slice(1));
    return decodeBase64(parts);
  };
}
