/**
 * One error class for everything that reaches a client, with a stable machine code.
 *
 * The registry below is the single place where codes map to HTTP status and public
 * message (imgproxy's mapping: https://github.com/imgproxy/imgproxy/blob/master/handlers/errors.go);
 * PreviewProxy routes render the same codes as PreviewProxy's JSON errors
 * (src/dialects/previewproxy/errors.ts). Anything derived from user input must surface as one
 * of these with a 4xx/5xx status; a plain `Error` escaping to the HTTP layer becomes a 500 and
 * means a bug here.
 */

export const ERROR_CODES = {
  /** Path, option or preset the parser could not accept; expired URL. */
  INVALID_URL: { status: 404, message: 'Invalid URL' },
  /** Signature missing, malformed or wrong; bad shared secret. */
  FORBIDDEN: { status: 403, message: 'Forbidden' },
  /** A security option used without IMGPROXY_ALLOW_SECURITY_OPTIONS. */
  SECURITY_OPTION_FORBIDDEN: { status: 403, message: 'Invalid URL' },
  /** Source not in IMGPROXY_ALLOWED_SOURCES, or resolving to a forbidden address. */
  INVALID_SOURCE_URL: { status: 404, message: 'Invalid source URL' },
  /** The source could not be fetched for a reason none of the codes below names. */
  SOURCE_UNREACHABLE: { status: 404, message: 'Source is unreachable' },
  /** No connection to the origin (refused, reset, DNS failure) before its answer began. */
  SOURCE_CONNECTION: { status: 404, message: 'Source is unreachable' },
  /** More redirects than IMGPROXY_MAX_REDIRECTS. */
  SOURCE_REDIRECTS: { status: 404, message: 'Source is unreachable' },
  /** The source URL's scheme is unknown or not enabled (IMGPROXY_USE_S3, …). */
  SOURCE_SCHEME_DISABLED: { status: 404, message: 'Source is unreachable' },
  /** The origin resolves to an address the SSRF guard refuses (loopback, private, …). */
  SOURCE_ADDRESS_FORBIDDEN: { status: 404, message: 'Invalid source URL' },
  /** A local:// path that leaves the root (`..`, a symlink pointing out). */
  SOURCE_PATH_FORBIDDEN: { status: 404, message: 'Invalid source URL' },
  /** A local:// path naming a directory or another non-file. */
  SOURCE_NOT_A_FILE: { status: 404, message: 'Source is unreachable' },
  /**
   * The request's own watermark image (`watermark_url`, PreviewProxy `wm`) could not be
   * fetched; the status is the fetch failure's (PreviewProxy answers 502 `watermark_fetch_failed`).
   */
  WATERMARK_UNREACHABLE: { status: 404, message: 'Watermark is unreachable' },
  /** Origin answered 4xx: mirrored status. */
  SOURCE_CLIENT_ERROR: { status: 404, message: 'Source is unreachable' },
  /** Origin answered 5xx. */
  SOURCE_BAD_GATEWAY: { status: 502, message: 'Source is unreachable' },
  /** Origin did not answer within IMGPROXY_DOWNLOAD_TIMEOUT. */
  SOURCE_TIMEOUT: { status: 504, message: 'Source is unreachable' },
  /** Source larger than the allowed file size. */
  SOURCE_TOO_BIG: { status: 422, message: 'Invalid source image' },
  /** Source resolution over the limit. */
  SOURCE_RESOLUTION_TOO_BIG: { status: 422, message: 'Invalid source image' },
  /** A result or intermediate canvas over PIXPROXY_MAX_RESULT/INTERMEDIATE_RESOLUTION. */
  RESULT_TOO_BIG: { status: 422, message: 'Result image is too big' },
  /** The origin's answer began but its body broke off (reset, shorter than Content-Length). */
  SOURCE_BODY_INCOMPLETE: { status: 422, message: 'Broken or unsupported image' },
  /** Type could not be detected from the magic bytes. */
  INVALID_IMAGE: { status: 422, message: 'Invalid source image' },
  /** Detected type we do not load, or a decode failure (truncated, corrupt). */
  UNSUPPORTED_IMAGE: { status: 422, message: 'Broken or unsupported image' },
  /**
   * An imgproxy Pro option this server cannot honour (object detection: `crop_objects`, `g:obj`,
   * `blur_detections`, `draw_detections` need a model none of our packages ships).
   */
  UNSUPPORTED_OPTION: { status: 422, message: 'Unsupported processing option' },
  /** A video source ffmpeg could not take a frame of (or ffmpeg is missing): PreviewProxy's `video_decode_error`. */
  VIDEO_DECODE_ERROR: { status: 422, message: 'Broken or unsupported image' },
  /** A PDF source PDFium could not render: PreviewProxy's `pdf_render_error`. */
  PDF_RENDER_ERROR: { status: 422, message: 'Broken or unsupported image' },
  HEIC_DECODE_ERROR: { status: 422, message: 'Broken or unsupported image' },
  /** Requested output format cannot be produced. */
  UNSUPPORTED_OUTPUT: { status: 422, message: 'Invalid URL' },
  /** Queue full (IMGPROXY_REQUESTS_QUEUE_SIZE). */
  TOO_MANY_REQUESTS: { status: 429, message: 'Too many requests' },
  /** Whole request exceeded IMGPROXY_TIMEOUT. */
  TIMEOUT: { status: 503, message: 'Timeout' },
  /** Client went away before the answer. */
  CANCELLED: { status: 499, message: 'Cancelled' },
  /** PreviewProxy dialect: a bad parameter or source (PreviewProxy's `invalid_params`). */
  BAD_REQUEST: { status: 400, message: 'Invalid params' },
  /** PreviewProxy dialect: a PreviewProxy parameter pixproxy does not implement (video seek, text watermark…). */
  UNSUPPORTED_PARAM: { status: 400, message: 'Unsupported parameter' },
  /** PreviewProxy dialect: source host not in PP_ALLOWED_HOSTS (PreviewProxy's `host_not_allowed`). */
  HOST_NOT_ALLOWED: { status: 403, message: 'Host not allowed' },
  /** PreviewProxy dialect: a format or transform on PP_INPUT/OUTPUT/TRANSFORM_DISALLOW_LIST (`transform_disabled`). */
  TRANSFORM_DISABLED: { status: 400, message: 'Transform disabled' },
  /** PP_MAX_CONCURRENT_REQUESTS requests are in progress (PreviewProxy answers 503 at once). */
  OVERLOADED: { status: 503, message: 'Service unavailable' },
  /** Unknown route. */
  NOT_FOUND: { status: 404, message: 'Not found' },
  /** Admin API: the bearer secret is missing or wrong (PIXPROXY_ADMIN_SECRET). */
  UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  /** Admin API: a route called with a method it does not take. */
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  /** Admin API: the cache's backend failed while a purge listed or deleted (answered, never a 500). */
  CACHE_UNAVAILABLE: { status: 503, message: 'Cache backend unavailable' },
  /** A bug. */
  INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Text safe to send to the client. `message` holds the detail for the log. */
  readonly publicMessage: string;

  constructor(code: ErrorCode, detail?: string, opts: { status?: number; cause?: unknown } = {}) {
    const entry = ERROR_CODES[code];
    super(detail ?? entry.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.status = opts.status ?? entry.status;
    this.publicMessage = entry.message;
  }
}

export function isProxyError(err: unknown): err is ProxyError {
  return err instanceof ProxyError;
}

/** Wraps anything thrown into a ProxyError; unknown errors become INTERNAL (a bug). */
export function toProxyError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  if (err instanceof Error && err.name === 'AbortError') return new ProxyError('CANCELLED', err.message, { cause: err });
  return new ProxyError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}
