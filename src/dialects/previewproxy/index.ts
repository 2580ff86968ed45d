/**
 * The PreviewProxy URL dialect: `/<options>/<source>` paths and `/proxy?url=…` queries in,
 * ImageRequest out. Order: parse (path, then query params over path params) → decrypt an
 * `enc` source → PreviewProxy's resolved URL → canonical string → signature → source mapping
 * and PP_ALLOWED_HOSTS → options (defaults, Accept/client hints, then the URL's params).
 *
 * The canonical string is PreviewProxy's, over the decrypted URL for an `enc` source, so any
 * URL it signs verifies here. PreviewProxy decrypts before checking the signature and answers
 * a bad padding (400) differently from a bad signature (403): a padding oracle. Here, while
 * signatures are required, whatever fails before the signature is checked (a blob that does
 * not decrypt, a decrypted URL that does not resolve) is the same 403 as a wrong signature.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import { applyClientFeatures, detectClientFeatures } from '../../negotiate.js';
import type { Logger } from '../../observability/logger.js';
import { defaultOptions } from '../../default-options.js';
import type { ProcessingOptions } from '../../options.js';
import type { ImageRequest } from '../../request.js';
import { applyParams, isProcessed } from './apply-params.js';
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

  /** The URL PreviewProxy signs; for an `enc` source, decrypted. */
  function resolvedUrl(source: PathSource): string {
    if (source.kind === 'plain') return ppUrl(source.url, pp);
    const key = pp.sourceUrlEncryptionKey;
    if (key === null) throw new ProxyError('BAD_REQUEST', 'source URL encryption key not configured');
    try {
      return ppUrl(decryptSourceUrl(source.blob, key), pp);
    } catch (err) {
      deps.logger?.debug({ err }, 'encrypted source URL rejected');
      // Nothing about the blob may tell an unsigned request more than "forbidden".
      if (pp.hmacKey !== '') throw new ProxyError('FORBIDDEN', 'Invalid signature', { cause: err });
      throw err;
    }
  }

  /** imgproxy's defaults with PreviewProxy's own source limit (PP_MAX_SOURCE_BYTES, 20 MiB). */
  function ppDefaults(): ProcessingOptions {
    const options = defaultOptions(config);
    options.maxSrcFileSize = pp.maxSourceBytes;
    return options;
  }

  function build(params: PpParams, sig: string | undefined, source: PathSource, headers: IncomingHttpHeaders): ImageRequest {
    const url = resolvedUrl(source);
    const canonical = canonicalString(params, url);
    verifyCanonical(canonical, sig, pp.hmacKey);
    const resolved = toSourceUrl(url, config);

    const options = ppDefaults();
    const negotiated = applyClientFeatures(options, detectClientFeatures(headers, config), config);
    applyParams(options, params, config);
    const request: ImageRequest = { kind: 'image', source: resolved, options, signedPath: canonical, dialect: 'previewproxy' };
    if (negotiated) {
      // The URL's own options, which the cache groups this URL's negotiated variants by.
      const plain = ppDefaults();
      applyParams(plain, params, config);
      request.urlOptions = plain;
    }
    if (pp.inputDisallow.length > 0) request.refusedInputs = pp.inputDisallow;
    // A source served as it is was never encoded, so PreviewProxy does not check its format.
    if (pp.outputDisallow.length > 0 && isProcessed(params, pp)) request.refusedOutputs = pp.outputDisallow;
    return request;
  }

  function parsePath(rawPath: string, query: URLSearchParams, headers: IncomingHttpHeaders): ImageRequest {
    const path = parsePpPath(rawPath);
    const fromQuery = paramsFromQuery(query);
    // Query parameters override path parameters (PreviewProxy's `merge_from`).
    return build({ ...path.params, ...fromQuery.params }, fromQuery.sig ?? path.sig, path.source, headers);
  }

  function parseQuery(query: URLSearchParams, headers: IncomingHttpHeaders): ImageRequest {
    const url = query.getAll('url').at(-1) ?? null;
    if (url === null || url === '') throw new ProxyError('BAD_REQUEST', "missing 'url' query param");
    const { params, sig } = paramsFromQuery(query);
    const source: PathSource = query.has('enc') ? { kind: 'encrypted', blob: url } : { kind: 'plain', url };
    return build(params, sig, source, headers);
  }

  return { parsePath, parseQuery };
}
