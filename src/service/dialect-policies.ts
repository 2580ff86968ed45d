/**
 * The two dialects' policies (policy.ts) from the configuration, each with its peer's rules:
 *
 * - imgproxy answers every download failure with the fallback image processed with the
 *   request's options, status IMGPROXY_FALLBACK_IMAGE_HTTP_CODE (0: the error's), max-age
 *   IMGPROXY_FALLBACK_IMAGE_TTL (0: IMGPROXY_TTL); it never retries a fetch
 *   (handlers/processing/request_methods.go, https://github.com/imgproxy/imgproxy).
 * - PreviewProxy answers only a missing source, a timeout and too many redirects, with the
 *   image as it is, status PP_FALLBACK_IMAGE_HTTP_CODE (0: the error's, in its mapping),
 *   max-age PP_FALLBACK_IMAGE_TTL (0: PP_TTL); it retries a failed connection
 *   PP_FETCH_RETRY_COUNT times, PP_FETCH_RETRY_DELAY_MS apart (src/modules/proxy/controller.rs
 *   and retry.rs, https://github.com/ViGrise/previewproxy), and gives a fetch
 *   PP_FETCH_TIMEOUT_SECS (10 s), not imgproxy's IMGPROXY_DOWNLOAD_TIMEOUT (5 s).
 */
import type { Config } from '../config/index.js';
import { ppErrorStatus } from '../dialects/previewproxy/errors.js';
import type { ErrorCode, ProxyError } from '../errors.js';
import type { DialectPolicies, FallbackPolicy, RetryPolicy } from './policy.js';

/** What imgproxy calls a download error: anything that went wrong getting the bytes. */
const DOWNLOAD_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SOURCE_UNREACHABLE',
  'SOURCE_CONNECTION',
  'SOURCE_REDIRECTS',
  'SOURCE_SCHEME_DISABLED',
  'SOURCE_ADDRESS_FORBIDDEN',
  'SOURCE_PATH_FORBIDDEN',
  'SOURCE_NOT_A_FILE',
  'SOURCE_CLIENT_ERROR',
  'SOURCE_BAD_GATEWAY',
  'SOURCE_TIMEOUT',
  'SOURCE_BODY_INCOMPLETE',
  'SOURCE_TOO_BIG',
  // A source whose type cannot be detected: imgproxy detects it while downloading
  // (imagedata/factory.go DownloadAsync), so it is a download error there too.
  'INVALID_IMAGE',
]);

/** PreviewProxy's `is_upstream_error` (controller.rs), in its own error codes. */
const PP_FALLBACK_ERRORS: ReadonlySet<string> = new Set(['upstream_not_found', 'upstream_timeout', 'too_many_redirects']);

/** PreviewProxy's `is_connection_error`: its UpstreamConnectionError, before or during the body. */
const PP_RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['SOURCE_CONNECTION', 'SOURCE_BODY_INCOMPLETE']);

export function createDialectPolicies(config: Config, fallbackImage: Buffer | null): DialectPolicies {
  const p = config.processing;
  const pp = config.previewproxy;
  const status = (own: (e: ProxyError) => number) => (e: ProxyError): number => (p.fallbackImageHttpCode > 0 ? p.fallbackImageHttpCode : own(e));

  // Always there: a request's `fallback_image_url` needs the rules even without an image.
  const imgproxyFallback: FallbackPolicy = {
    image: fallbackImage,
    applies: (e) => DOWNLOAD_ERRORS.has(e.code),
    processed: true,
    status: status((e) => e.status),
    ttlSeconds: p.fallbackImageTtl > 0 ? p.fallbackImageTtl : p.ttl,
  };
  const ppFallback: FallbackPolicy | null = fallbackImage && {
    image: fallbackImage,
    applies: (e) => PP_FALLBACK_ERRORS.has(ppErrorStatus(e).error ?? ''),
    processed: false,
    status: status((e) => ppErrorStatus(e).status),
    ttlSeconds: p.fallbackImageTtl > 0 ? p.fallbackImageTtl : pp.ttl,
  };
  const ppRetry: RetryPolicy | null = pp.fetchRetryCount > 0 ? { retries: pp.fetchRetryCount, delayMs: pp.fetchRetryDelayMs, retryable: (e) => PP_RETRYABLE.has(e.code) } : null;

  return {
    imgproxy: { retry: null, fallback: imgproxyFallback },
    previewproxy: { retry: ppRetry, fallback: ppFallback, fetchTimeoutSeconds: pp.fetchTimeout },
  };
}
