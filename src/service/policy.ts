/**
 * What a URL dialect decides about the flow of its requests, beyond their options: how long a
 * fetch may take, how often a failed one is tried again, and what a failed download becomes
 * (the fallback image). The
 * composition root builds one policy per dialect from the configuration; the image service
 * reads the one of each request's `dialect`.
 */
import type { ProxyError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly retries: number;
  readonly delayMs: number;
  /** Whether this failure is worth another attempt. */
  retryable(err: ProxyError): boolean;
}

export interface FallbackPolicy {
  /** The image, validated at startup; null when only a request's own fallback URL can serve. */
  readonly image: Buffer | null;
  /** Whether this download failure is answered with the image. */
  applies(err: ProxyError): boolean;
  /** true: the request's options are applied to the image (imgproxy); false: served as it is. */
  readonly processed: boolean;
  /** The status of the answer for this failure. */
  status(err: ProxyError): number;
  /** Seconds of its `max-age`, and of its life in the cache. */
  readonly ttlSeconds: number;
}

export interface DialectPolicy {
  readonly retry: RetryPolicy | null;
  /** Seconds a source download may take (absent: IMGPROXY_DOWNLOAD_TIMEOUT). */
  readonly fetchTimeoutSeconds?: number;
  readonly fallback: FallbackPolicy | null;
}

export interface DialectPolicies {
  readonly imgproxy: DialectPolicy;
  readonly previewproxy: DialectPolicy;
}

export const NO_POLICY: DialectPolicy = { retry: null, fallback: null };
