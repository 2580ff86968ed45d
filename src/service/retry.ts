/**
 * Fetch retries, as PreviewProxy's RetryFetcher (src/modules/proxy/retry.rs,
 * https://github.com/ViGrise/previewproxy): a failure the policy calls retryable (a connection
 * that failed or broke off) is tried again up to `retries` times, with a fixed pause between
 * attempts; any other failure, and the last one, is the answer. A caller that stops waiting
 * stops the retries too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { toProxyError } from '../errors.js';
import type { RetryPolicy } from './policy.js';

export function withRetries<A extends unknown[], T>(fn: (signal: AbortSignal, ...args: A) => Promise<T>, policy: RetryPolicy): (signal: AbortSignal, ...args: A) => Promise<T> {
  return async (signal, ...args) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(signal, ...args);
      } catch (err) {
        const e = toProxyError(err);
        if (attempt >= policy.retries || signal.aborted || !policy.retryable(e)) throw e;
      }
      // An aborted pause rejects with the signal's reason, which ends the attempts.
      if (policy.delayMs > 0) await sleep(policy.delayMs, undefined, { signal });
    }
  };
}
