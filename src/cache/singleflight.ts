/**
 * Per-key single-flight: concurrent callers of one key share one computation.
 *
 * Seed: "If multiple requests for the same image and parameters arrive simultaneously …
 * only one fetch and transform is performed. All other concurrent requests wait for the
 * result and then receive it." Unlike PreviewProxy's check-then-insert (reference §3.8),
 * registration here is synchronous, so no interleaving can start two leaders for one key,
 * and followers receive the leader's own outcome: the same value or the same ProxyError
 * (a 404 stays a 404, not a generic 500).
 *
 * The computation is detached from any one caller: `fn` must not take the leader's
 * client AbortSignal, so a leader whose client goes away does not cancel the work the
 * followers wait for; the caller simply stops awaiting its own promise.
 */
import { toProxyError } from '../errors.js';

export interface SingleFlight {
  run<T>(key: string, fn: () => Promise<T>): Promise<{ value: T; joined: boolean }>;
  /** Keys with a computation in flight. */
  readonly size: number;
  /** Whether a computation for `key` is in flight (a new request will join it). */
  has(key: string): boolean;
}

export function createSingleFlight(opts: { onJoin?: (key: string) => void } = {}): SingleFlight {
  const inflight = new Map<string, Promise<unknown>>();
  return {
    get size() {
      return inflight.size;
    },
    has(key: string): boolean {
      return inflight.has(key);
    },
    run<T>(key: string, fn: () => Promise<T>): Promise<{ value: T; joined: boolean }> {
      const existing = inflight.get(key) as Promise<T> | undefined;
      if (existing) {
        opts.onJoin?.(key);
        return existing.then((value) => ({ value, joined: true }));
      }
      let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
      const shared = new Promise<T>((resolve, reject) => {
        settle = { resolve, reject };
      });
      // Registered before fn runs: a re-entrant or concurrent run() for this key joins.
      inflight.set(key, shared);
      const done = (): void => {
        if (inflight.get(key) === shared) inflight.delete(key);
      };
      // Removal is attached first so it happens before any caller continuation; the
      // handler also keeps a rejection nobody awaits any more from being "unhandled".
      shared.then(done, done);
      try {
        fn().then(settle.resolve, (err: unknown) => settle.reject(toProxyError(err)));
      } catch (err) {
        settle.reject(toProxyError(err));
      }
      return shared.then((value) => ({ value, joined: false }));
    },
  };
}
