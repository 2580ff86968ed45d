/**
 * The PreviewProxy URL dialect: `/<options>/<source>` paths and `/proxy?url=…` queries in,
 * ImageRequest out. Order: parse (path, then query params over path params) → canonical
 * string → signature → decrypt an `enc` source → resolve the source and check
 * PP_ALLOWED_HOSTS → options (defaults, Accept/client hints, then the URL's params).
 *
 * Deviation on purpose: PreviewProxy decrypts `enc/` sources before checking the signature,
 * so a bad-padding blob (400) and a bad signature (403) answer differently — a padding
 * oracle. Here the signature covers the blob itself (`…:enc/<blob>` in the canonical string)
 * and is checked first; only a correctly signed blob is ever decrypted.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import { applyClientFeatures, detectClientFeatures } from '../../negotiate.js';
import type { Logger } from '../../observability/logger.js';
import { defaultOptions } from '../../options.js';
import type { ImageRequest } from '../../request.js';
import { applyParams } from './apply-params.js';
import { decryptSourceUrl } from './encryption.js';
import { canonicalString, paramsFromQuery, type PpParams } from './params.js';
import { parsePpPath, type PathSource } from './path.js';
import { verifyCanonical } from './signature.js';
import { ppUrl, toSourceUrl } from './source.js';

export { encryptSourceUrl, decryptSourceUrl } from './encryption.js';
export { signCanonical, verifyCanonical } from './signature.js';
export { canonicalString, PP_KEYS, type PpKey, type PpParams } from './params.js';
export { hostAllowed } from './source.js';

export interface PreviewProxyDialect {
  /** `rawPath`: after the path prefix, still percent-encoded, without the query string. */
  parsePath(rawPath: string, query: URLSearchParams, headers: IncomingHttpHeaders): ImageRequest;
  /** `/proxy?url=<source>&…` (`enc` present: `url` is an encrypted blob). */
  parseQuery(query: URLSearchParams, headers: IncomingHttpHeaders): ImageRequest;
}

export interface PreviewProxyDialectDeps {
  logger?: Logger;
}

export function createPreviewProxyDialect(config: Config, deps: PreviewProxyDialectDeps = {}): PreviewProxyDialect {
  const pp = config.previewproxy;

  function decrypt(blob: string): string {
    const key = pp.sourceUrlEncryptionKey;
    if (key === null) throw new ProxyError('BAD_REQUEST', 'Encrypted source URLs need PP_SOURCE_URL_ENCRYPTION_KEY');
    try {
      return decryptSourceUrl(blob, key);
    } catch (err) {
      deps.logger?.debug({ err }, 'encrypted source URL rejected');
      throw err;
    }
  }

  function build(params: PpParams, sig: string | undefined, source: PathSource, headers: IncomingHttpHeaders): ImageRequest {
    const signedUrl = source.kind === 'plain' ? ppUrl(source.url, pp) : `enc/${source.blob}`;
    const canonical = canonicalString(params, signedUrl);
    verifyCanonical(canonical, sig, pp.hmacKey);

    const url = source.kind === 'plain' ? signedUrl : ppUrl(decrypt(source.blob), pp);
    const resolved = toSourceUrl(url, pp);

    const options = defaultOptions(config);
    applyClientFeatures(options, detectClientFeatures(headers, config), config);
    applyParams(options, params, config);
    return { kind: 'image', source: resolved, options, signedPath: canonical };
  }

  function parsePath(rawPath: string, query: URLSearchParams, headers: IncomingHttpHeaders): ImageRequest {
    const path = parsePpPath(rawPath);
    const fromQuery = paramsFromQuery(query);
    // Query parameters override path parameters (PreviewProxy's `merge_from`).
    return build({ ...path.params, ...fromQuery.params }, fromQuery.sig ?? path.sig, path.source, headers);
  }

  function parseQuery(query: URLSearchParams, headers: IncomingHttpHeaders): ImageRequest {
    const url = query.get('url');
    if (url === null || url === '') throw new ProxyError('BAD_REQUEST', "missing 'url' query param");
    if (new Set(query.getAll('url')).size > 1) throw new ProxyError('BAD_REQUEST', 'url is given twice with different values');
    const { params, sig } = paramsFromQuery(query);
    const source: PathSource = query.has('enc') ? { kind: 'encrypted', blob: url } : { kind: 'plain', url };
    return build(params, sig, source, headers);
  }

  return { parsePath, parseQuery };
}
