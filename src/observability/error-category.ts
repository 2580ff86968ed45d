/**
 * imgproxy's error categories, the `type` label of its `errors_total` (the ErrCategory*
 * constants of https://github.com/imgproxy/imgproxy/blob/master/handlers/errors.go and
 * server/errors.go), from pixproxy's error codes: an imgproxy dashboard's error panels then
 * count the same things. Which step raises a code decides its category, as in imgproxy's
 * handlers/processing/request.go: a size limit met while downloading is `download`, the
 * resolution limit checked while processing is `processing`.
 */
import type { ErrorCode } from '../errors.js';

export type ErrorCategory = 'timeout' | 'path_parsing' | 'security' | 'queue' | 'download' | 'processing' | 'IO' | 'streaming' | 'image_data_size' | 'unexpected';

const CATEGORY: Readonly<Record<ErrorCode, ErrorCategory | null>> = {
  INVALID_URL: 'path_parsing',
  UNSUPPORTED_OUTPUT: 'path_parsing',
  UNSUPPORTED_OPTION: 'path_parsing',
  BAD_REQUEST: 'path_parsing',
  UNSUPPORTED_PARAM: 'path_parsing',
  FORBIDDEN: 'security',
  SECURITY_OPTION_FORBIDDEN: 'security',
  INVALID_SOURCE_URL: 'security',
  HOST_NOT_ALLOWED: 'security',
  SOURCE_UNREACHABLE: 'download',
  SOURCE_CLIENT_ERROR: 'download',
  SOURCE_BAD_GATEWAY: 'download',
  SOURCE_TIMEOUT: 'download',
  SOURCE_TOO_BIG: 'download',
  SOURCE_CONNECTION: 'download',
  SOURCE_REDIRECTS: 'download',
  SOURCE_BODY_INCOMPLETE: 'download',
  SOURCE_NOT_A_FILE: 'download',
  WATERMARK_UNREACHABLE: 'download',
  SOURCE_SCHEME_DISABLED: 'security',
  SOURCE_ADDRESS_FORBIDDEN: 'security',
  SOURCE_PATH_FORBIDDEN: 'security',
  INVALID_IMAGE: 'download',
  SOURCE_RESOLUTION_TOO_BIG: 'processing',
  RESULT_TOO_BIG: 'processing',
  UNSUPPORTED_IMAGE: 'processing',
  VIDEO_DECODE_ERROR: 'processing',
  PDF_RENDER_ERROR: 'processing',
  HEIC_DECODE_ERROR: 'processing',
  TRANSFORM_DISABLED: 'security',
  TOO_MANY_REQUESTS: 'queue',
  OVERLOADED: 'queue',
  TIMEOUT: 'timeout',
  // imgproxy does not count a cancelled request (server/middlewares.go, WithReportError).
  CANCELLED: null,
  // A route that does not exist never reaches imgproxy's monitored handler.
  NOT_FOUND: null,
  // Admin API codes: not image requests.
  UNAUTHORIZED: null,
  METHOD_NOT_ALLOWED: null,
  CACHE_UNAVAILABLE: null,
  INTERNAL: 'unexpected',
};

/**
 * The category of `code`, or null when imgproxy would not count it. `streaming`: the
 * request was a `raw` one, whose failures imgproxy files under its stream handler's own
 * category (handlers/stream/handler.go) unless they are about the URL or a timeout.
 */
export function errorCategory(code: ErrorCode, streaming = false): ErrorCategory | null {
  const c = CATEGORY[code];
  if (streaming && c !== null && c !== 'path_parsing' && c !== 'security' && c !== 'timeout') return 'streaming';
  return c;
}
