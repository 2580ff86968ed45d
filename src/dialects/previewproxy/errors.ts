/**
 * PreviewProxy's error format: every ProxyError code as PreviewProxy answers that kind of
 * failure, `{"error": <code>, "detail"?: <text>}` with its status
 * (`IntoResponse for ProxyError` in src/common/errors/mod.rs,
 * https://github.com/ViGrise/previewproxy). One table over our codes, so a new code cannot
 * reach a PreviewProxy client without a row here (the type demands every code).
 *
 * `detail` is sent, as there, only for `invalid_params`, `unsupported_format` and
 * `transform_disabled`; where our message is written for the log (it may name variables or
 * paths) the row gives PreviewProxy's fixed text instead. Two answers have no body there:
 * 503 (with `Retry-After: 1`) and 408.
 *
 * Deliberate differences (listed in this folder's README): an origin answering a status other
 * than 404, and a source that does not decode, are PreviewProxy's `internal_error` with 500;
 * here they are 502 `internal_error` and 422 `not_an_image`, because a 500 means a bug of ours.
 */
import type { ErrorCode, ProxyError } from '../../errors.js';

/** PreviewProxy's error codes (its `ProxyError` variants, as `Display` writes them). */
export type PpErrorCode =
  | 'upstream_not_found'
  | 'upstream_timeout'
  | 'upstream_connection_error'
  | 'too_many_redirects'
  | 'not_an_image'
  | 'video_decode_error'
  | 'pdf_render_error'
  | 'heic_decode_error'
  | 'source_too_large'
  | 'host_not_allowed'
  | 'invalid_signature'
  | 'invalid_params'
  | 'unsupported_format'
  | 'transform_disabled'
  | 'watermark_fetch_failed'
  | 'internal_error';

export interface PpErrorResponse {
  readonly status: number;
  /** Empty for the bodiless answers (503, 408, 499). */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface Row {
  readonly status: number;
  /** null: no body (PreviewProxy's 503 and 408). */
  readonly error: PpErrorCode | null;
  /** true: our message (written for clients); a string: that fixed detail; absent: none. */
  readonly detail?: true | string;
}

const GONE: Row = { status: 499, error: null };

/** Our codes → PreviewProxy's answer. */
const ROWS: Readonly<Record<ErrorCode, Row>> = {
  INVALID_URL: { status: 400, error: 'invalid_params', detail: true },
  FORBIDDEN: { status: 403, error: 'invalid_signature' },
  SECURITY_OPTION_FORBIDDEN: { status: 400, error: 'invalid_params', detail: true },
  INVALID_SOURCE_URL: { status: 400, error: 'invalid_params', detail: 'Invalid source URL' },
  SOURCE_UNREACHABLE: { status: 502, error: 'upstream_connection_error' },
  SOURCE_CONNECTION: { status: 502, error: 'upstream_connection_error' },
  SOURCE_REDIRECTS: { status: 502, error: 'too_many_redirects' },
  SOURCE_SCHEME_DISABLED: { status: 400, error: 'invalid_params', detail: 'unsupported scheme' },
  SOURCE_ADDRESS_FORBIDDEN: { status: 403, error: 'host_not_allowed' },
  SOURCE_PATH_FORBIDDEN: { status: 400, error: 'invalid_params', detail: 'path not allowed' },
  SOURCE_NOT_A_FILE: { status: 400, error: 'invalid_params', detail: 'not a regular file' },
  WATERMARK_UNREACHABLE: { status: 502, error: 'watermark_fetch_failed' },
  // 404 is PreviewProxy's upstream_not_found; other statuses are resolved in ppErrorResponse.
  SOURCE_CLIENT_ERROR: { status: 404, error: 'upstream_not_found' },
  SOURCE_BAD_GATEWAY: { status: 502, error: 'internal_error' },
  SOURCE_TIMEOUT: { status: 502, error: 'upstream_timeout' },
  SOURCE_BODY_INCOMPLETE: { status: 502, error: 'upstream_connection_error' },
  SOURCE_TOO_BIG: { status: 413, error: 'source_too_large' },
  SOURCE_RESOLUTION_TOO_BIG: { status: 413, error: 'source_too_large' },
  // A result or intermediate canvas over pixproxy's bounds: the request's parameters ask too much.
  RESULT_TOO_BIG: { status: 400, error: 'invalid_params', detail: true },
  INVALID_IMAGE: { status: 422, error: 'not_an_image' },
  UNSUPPORTED_IMAGE: { status: 422, error: 'not_an_image' },
  VIDEO_DECODE_ERROR: { status: 422, error: 'video_decode_error' },
  PDF_RENDER_ERROR: { status: 422, error: 'pdf_render_error' },
  HEIC_DECODE_ERROR: { status: 422, error: 'heic_decode_error' },
  UNSUPPORTED_OUTPUT: { status: 400, error: 'unsupported_format', detail: true },
  // Only imgproxy options raise it; mapped like PreviewProxy's own unsupported parameters.
  UNSUPPORTED_OPTION: { status: 400, error: 'invalid_params', detail: true },
  // imgproxy's queue (IMGPROXY_REQUESTS_QUEUE_SIZE) is full: PreviewProxy's overload answer.
  TOO_MANY_REQUESTS: { status: 503, error: null },
  OVERLOADED: { status: 503, error: null },
  // The whole request took too long: PreviewProxy's request timeout layer answers 408.
  TIMEOUT: { status: 408, error: null },
  CANCELLED: GONE,
  BAD_REQUEST: { status: 400, error: 'invalid_params', detail: true },
  UNSUPPORTED_PARAM: { status: 400, error: 'invalid_params', detail: true },
  HOST_NOT_ALLOWED: { status: 403, error: 'host_not_allowed' },
  TRANSFORM_DISABLED: { status: 400, error: 'transform_disabled', detail: true },
  NOT_FOUND: { status: 404, error: null },
  // Admin API codes: never answered on a PreviewProxy route.
  UNAUTHORIZED: { status: 403, error: 'invalid_signature' },
  METHOD_NOT_ALLOWED: { status: 404, error: null },
  CACHE_UNAVAILABLE: { status: 503, error: null },
  INTERNAL: { status: 500, error: 'internal_error' },
};

/** The row of a code (tests and the docs read the table through this). */
export function ppErrorRow(code: ErrorCode): Row {
  return ROWS[code];
}

/** The status and the error string PreviewProxy gives this error (no body for null). */
export function ppErrorStatus(e: ProxyError): { status: number; error: PpErrorCode | null } {
  const row = ROWS[e.code];
  if (e.code === 'SOURCE_CLIENT_ERROR' && e.status !== 404) {
    // PreviewProxy: any upstream status but 404 is internal_error (500); an origin's refusal
    // is not a bug of ours, so the status is a gateway error.
    return { status: 502, error: 'internal_error' };
  }
  return { status: row.status, error: row.error };
}

export function ppErrorResponse(e: ProxyError): PpErrorResponse {
  const { status, error } = ppErrorStatus(e);
  if (error === null) {
    const headers: Record<string, string> = status === 503 ? { 'Retry-After': '1', 'Content-Length': '0' } : { 'Content-Length': '0' };
    return { status, body: '', headers };
  }
  const row = ROWS[e.code];
  const detail = row.detail === true ? e.message : row.detail;
  const body = JSON.stringify(detail === undefined ? { error } : { error, detail });
  return { status, body, headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } };
}
