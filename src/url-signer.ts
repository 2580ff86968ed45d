/**
 * Builds and signs request paths for both URL dialects from the same configuration the
 * server verifies with, for applications (`createUrlSigner` in the public surface) and for
 * `pixproxy sign`.
 *
 * Signing goes through the dialects' own parsers, so what is signed is exactly what the
 * server will verify: imgproxy's normalised path (`splitPath`: `%3A` and collapsed
 * `scheme:/` repaired), PreviewProxy's canonical string (normalised parameters, the source as
 * PreviewProxy resolves it). imgproxy: https://docs.imgproxy.net/usage/signing_url;
 * PreviewProxy: https://github.com/ViGrise/previewproxy#hmac-signing.
 */
import type { Config } from './config/index.js';
import { ProxyError } from './errors.js';
import { splitPath } from './dialects/imgproxy/path.js';
import { sign } from './dialects/imgproxy/signature.js';
import { createPreviewProxyDialect } from './dialects/previewproxy/index.js';
import { signCanonical } from './dialects/previewproxy/signature.js';

export type Dialect = 'imgproxy' | 'previewproxy';

export interface UrlSigner {
  /**
   * `/%options/plain/%source@%ext` (everything after the signature segment) → the path to
   * request, IMGPROXY_PATH_PREFIX and signature included. Signed with the first IMGPROXY_KEY /
   * IMGPROXY_SALT pair; `insecure` in the signature slot when no key is configured.
   */
  imgproxy(path: string): string;
  /**
   * A PreviewProxy path (`/300x200,webp/https://…`) or query (`/proxy?url=…&w=300`) → the
   * path to request with `sig` added (none when PP_HMAC_KEY is empty).
   */
  previewproxy(pathAndQuery: string): string;
  /** Which dialect the server answers `pathAndQuery` with: `/proxy?` is PreviewProxy's, the rest follows PIXPROXY_PATH_DIALECT. */
  dialectOf(pathAndQuery: string): Dialect;
  /** Whether the configuration has a key for `dialect` (false: the server does not check signatures). */
  hasKey(dialect: Dialect): boolean;
}

function leadingSlash(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

function isProxyQuery(pathAndQuery: string): boolean {
  return /^\/proxy(?:\?|$)/.test(pathAndQuery);
}

export function createUrlSigner(config: Config): UrlSigner {
  const prefix = config.server.pathPrefix;
  const { keys, salts, signatureSize } = config.security;
  const ppKey = config.previewproxy.hmacKey;
  // The dialect with signatures off yields the canonical string without verifying it.
  const pp = createPreviewProxyDialect({ ...config, previewproxy: { ...config.previewproxy, hmacKey: '' } });

  return {
    imgproxy(path) {
      // `_` stands in for the signature so that splitPath applies the server's normalisation.
      const { signedPath } = splitPath(`/_${leadingSlash(path)}`);
      const key = keys[0];
      const salt = salts[0];
      const signature = key && salt ? sign(signedPath, key, salt, signatureSize) : 'insecure';
      return `${prefix}/${signature}${signedPath}`;
    },

    previewproxy(pathAndQuery) {
      const full = leadingSlash(pathAndQuery);
      const q = full.indexOf('?');
      const rawPath = q === -1 ? full : full.slice(0, q);
      const query = new URLSearchParams(q === -1 ? '' : full.slice(q + 1));
      if (query.has('sig') || /(?:^|[/,])sig[:=]/.test(rawPath)) throw new ProxyError('BAD_REQUEST', 'the URL already carries a sig');
      const request = isProxyQuery(full) ? pp.parseQuery(query, {}) : pp.parsePath(rawPath, query, {});
      if (ppKey === '') return `${prefix}${full}`;
      return `${prefix}${full}${q === -1 ? '?' : '&'}sig=${signCanonical(request.signedPath, ppKey)}`;
    },

    dialectOf(pathAndQuery) {
      return isProxyQuery(leadingSlash(pathAndQuery)) ? 'previewproxy' : config.server.pathDialect;
    },

    hasKey(dialect) {
      return dialect === 'imgproxy' ? keys.length > 0 && salts.length > 0 : ppKey !== '';
    },
  };
}

/** Options for `imgproxyPath`. */
export interface ImgproxyPathParts {
  /** Processing options, `rs:fit:300:200` or `['rs:fit:300:200', 'q:80']`. */
  options?: string | readonly string[];
  /** The source URL, as the server should fetch it. */
  source: string;
  /** Output format (`webp`), or none for automatic. */
  extension?: string;
  /** `base64` (URL-safe, no padding; hides nothing but survives any proxy) or `plain` (default). */
  encoding?: 'plain' | 'base64';
}

/**
 * The unsigned part of an imgproxy URL: `/%options/plain/%source@%ext` or
 * `/%options/%base64_source.%ext`. In `plain` form the source is percent-escaped where the
 * grammar needs it (`%`, `?`, `#`, `@` and anything not allowed in a URL path).
 */
export function imgproxyPath(parts: ImgproxyPathParts): string {
  const options = typeof parts.options === 'string' ? [parts.options] : [...(parts.options ?? [])];
  const head = options.filter((o) => o !== '').map((o) => `/${o.replace(/^\/+|\/+$/g, '')}`).join('');
  const ext = parts.extension ?? '';
  if (parts.encoding === 'base64') {
    return `${head}/${Buffer.from(parts.source, 'utf8').toString('base64url')}${ext ? `.${ext}` : ''}`;
  }
  const escaped = encodeURI(parts.source).replace(/[?#@]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${head}/plain/${escaped}${ext ? `@${ext}` : ''}`;
}

/** Options for `previewproxyQuery`. */
export interface PreviewProxyQueryParts {
  /** PreviewProxy parameters (`w`, `h`, `fit`, `format`, `q`, …). */
  params?: Readonly<Record<string, string | number | boolean>>;
  /** The source URL, or an encrypted blob with `encrypted: true`. */
  source: string;
  encrypted?: boolean;
}

/** The unsigned `/proxy?url=…&…` form of a PreviewProxy request (served whatever PIXPROXY_PATH_DIALECT says). */
export function previewproxyQuery(parts: PreviewProxyQueryParts): string {
  const q = new URLSearchParams({ url: parts.source });
  if (parts.encrypted) q.set('enc', '1');
  for (const [k, v] of Object.entries(parts.params ?? {})) q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  return `/proxy?${q.toString()}`;
}
