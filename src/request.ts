/**
 * ImageRequest: the one model both URL dialects produce. Plain data; the cache key is a
 * pure function of it plus the configured key headers/cookies.
 */
import type { ProcessingOptions } from './options.js';

export type RequestKind = 'image' | 'info';

export interface ImageRequest {
  kind: RequestKind;
  /** Fully resolved source URL (base URL and replacements applied), e.g. `http://…`, `local:///a.jpg`, `s3://b/k`. */
  source: string;
  /** Normalised options (defaults, presets, client hints and Accept negotiation applied). */
  options: ProcessingOptions;
  /**
   * The options the URL alone gives (no Accept, no client hints), when the request's headers
   * changed them; the cache groups every negotiated variant of a URL by them (cache/key.ts).
   */
  urlOptions?: ProcessingOptions;
  /**
   * Cache tags of the result: the `cache_tags` option and the values of
   * PIXPROXY_CACHE_TAGS_HEADER (set when resolved); absent = the option's alone.
   */
  tags?: readonly string[];
  /** The path part that was signed (for logs). */
  signedPath: string;
  /**
   * The URL API it came through when not imgproxy's: its rules for fallback images, fetch
   * retries and headers apply (src/service/policy.ts). Not part of the cache key.
   */
  dialect?: 'previewproxy';
  /** Detected source formats to refuse (PP_INPUT_DISALLOW_LIST): 400 before processing. */
  refusedInputs?: readonly string[];
  /** Result formats to refuse (PP_OUTPUT_DISALLOW_LIST): 400 instead of the image. */
  refusedOutputs?: readonly string[];
  /**
   * The client's cookies forwarded to the source (IMGPROXY_COOKIE_PASSTHROUGH), as the `Cookie`
   * header sent; set by the HTTP layer, and part of the cache key when set.
   */
  originCookie?: string;
  /** The source came encrypted (`/enc/`): it is not revealed in response headers. */
  sourceHidden?: boolean;
}
