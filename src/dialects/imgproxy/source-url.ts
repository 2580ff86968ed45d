/**
 * Source URL of an imgproxy path: `plain/<percent-encoded url>[@ext]`,
 * `<base64url, may be split by />[.ext]` or `enc/<AES-CBC blob, may be split by />[.ext]`
 * (imgproxy Pro), then IMGPROXY_URL_REPLACEMENTS and
 * IMGPROXY_BASE_URL (imgproxy options/parser/url.go). The extension is returned apart:
 * the caller applies it as the output format, last.
 */
import type { Config } from '../../config/index.js';
import { ConfigError } from '../../config/fields.js';
import { ProxyError } from '../../errors.js';
import { decodeBase64Url, utf8 } from './args.js';
import { decryptSourceUrl } from './encryption.js';

export interface DecodedSource {
  readonly url: string;
  /** '' = none given (automatic format). */
  readonly extension: string;
  /** The source came encrypted (`enc/`). */
  readonly encrypted?: true;
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

/** IMGPROXY_URL_REPLACEMENTS, then IMGPROXY_BASE_URL unless the URL starts with it. */
export function createUrlPreprocessor(config: Pick<Config, 'urls'>): (url: string) => string {
  const replacements = parseUrlReplacements(config.urls.urlReplacements);
  const { baseUrl } = config.urls;
  return (url) => {
    let u = url;
    for (const r of replacements) u = applyReplacement(u, r);
    return baseUrl === '' || u.startsWith(baseUrl) ? u : baseUrl + u;
  };
}

export function createSourceDecoder(config: Config): SourceDecoder {
  const preprocess = createUrlPreprocessor(config);
  const { base64UrlIncludesFilename } = config.urls;

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

  /** base64 and encrypted sources: the pieces joined, the SEO filename dropped, the extension split off. */
  function joined(allParts: readonly string[]): [string, string] {
    // The last segment is an SEO filename, not part of the encoded URL.
    const parts = base64UrlIncludesFilename && allParts.length > 1 ? allParts.slice(0, -1) : allParts;
    return splitExtension(parts.join(''), '.');
  }

  function decodeBase64(parts: readonly string[]): DecodedSource {
    const [url, extension] = joined(parts);
    const bytes = decodeBase64Url(url);
    const text = bytes && utf8(bytes);
    if (text === undefined) throw new ProxyError('INVALID_URL', `Invalid url encoding: ${url}`);
    return { url: preprocess(text), extension };
  }

  /**
   * imgproxy Pro's `enc/<blob>` (https://docs.imgproxy.net/usage/encrypting_source_url). The
   * caller verified the signature already. Every bad blob is the same error with the same
   * detail, whatever failed (dialects/url-cipher.ts).
   */
  function decodeEncrypted(parts: readonly string[]): DecodedSource {
    const key = config.security.sourceUrlEncryptionKey;
    if (key === null) throw new ProxyError('INVALID_URL', 'Encrypted source URLs need IMGPROXY_SOURCE_URL_ENCRYPTION_KEY');
    const [blob, extension] = joined(parts);
    const url = decryptSourceUrl(blob, key);
    if (url === null) throw new ProxyError('INVALID_URL', 'Invalid encrypted source URL');
    return { url: preprocess(url), extension, encrypted: true };
  }

  return (parts) => {
    if (parts.length === 0) throw new ProxyError('INVALID_URL', 'Image URL is empty');
    if (parts[0] === 'plain' && parts.length > 1) return decodePlain(parts.slice(1));
    if (parts[0] === 'enc' && parts.length > 1) return decodeEncrypted(parts.slice(1));
    return decodeBase64(parts);
  };
}
