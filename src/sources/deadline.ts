/**
 * One abort signal for a whole download (redirects, headers and body alike), fired either by
 * IMGPROXY_DOWNLOAD_TIMEOUT or by the caller's own signal (the client went away, the request
 * timed out), with a reason saying which: SOURCE_TIMEOUT (504) or CANCELLED. Every source
 * hands this signal to whatever does its I/O, so both stop the transfer where it is.
 *
 * A controller and a timer of our own rather than AbortSignal.any([signal,
 * AbortSignal.timeout()]): `any` holds its sources weakly, and a timeout signal nothing else
 * references can be garbage-collected before it fires, which under memory pressure is exactly
 * when it is needed (https://github.com/nodejs/node/issues/57736; seen here: a redirect-body
 * drain bounded that way ran to the download timeout while bombs were being decoded).
 */
import { ProxyError } from '../errors.js';

export interface Deadline {
  readonly signal: AbortSignal;
  /** The ProxyError it was aborted with, or undefined while it has not fired. */
  reason(): ProxyError | undefined;
  /** Clears the timer and the caller's listener (call once the transfer is over). */
  release(): void;
}

/** Aborts after `ms`, or when `caller` aborts, with the reason each maker returns. */
export function deadline(ms: number, caller: AbortSignal | undefined, timedOut: () => ProxyError, cancelled: () => ProxyError): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timedOut()), ms);
  const onCancel = (): void => controller.abort(cancelled());
  if (caller?.aborted) onCancel();
  else caller?.addEventListener('abort', onCancel, { once: true });
  return {
    signal: controller.signal,
    reason() {
      const r: unknown = controller.signal.reason;
      return controller.signal.aborted && r instanceof ProxyError ? r : undefined;
    },
    release() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCancel);
    },
  };
}

/** The deadline of one source download: IMGPROXY_DOWNLOAD_TIMEOUT or the caller's signal. */
export function downloadDeadline(url: string, timeoutSeconds: number, caller: AbortSignal | undefined): Deadline {
  return deadline(
    timeoutSeconds * 1000,
    caller,
    () => new ProxyError('SOURCE_TIMEOUT', `download exceeded IMGPROXY_DOWNLOAD_TIMEOUT=${timeoutSeconds}s: ${url}`),
    () => new ProxyError('CANCELLED', `source fetch cancelled: ${url}`),
  );
}
