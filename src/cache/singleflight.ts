/**
 * Per-key single-flight: concurrent callers of one key share one computation, and the
 * computation lives exactly as long as somebody waits for it.
 *
 * Registration is synchronous, so no interleaving can start two leaders for one key
 * (PreviewProxy checks, then inserts: two leaders can start), and followers receive the
 * leader's own outcome: the same value or the same ProxyError (a 404 stays a 404, not a
 * generic 500).
 *
 * Each caller may bring an AbortSignal (its client went away, its IMGPROXY_TIMEOUT fired).
 * When it aborts, that caller stops waiting at once (rejected with the signal's reason) and
 * its interest ends; when the last interested caller has stopped waiting, the computation's
 * own signal aborts (the download is cancelled, the processing stops) and the key is free
 * for a fresh computation. A caller without a signal stays interested until the end, and
 * while any follower still waits, the work goes on whoever started it.
 */
import { ProxyError, toProxyError } from '../errors.js';

/** One caller's wait: what ends it early, and until when it waits at most (epoch ms). */
export interface Waiter {
  signal?: AbortSignal;
  deadline?: number;
}

/** What the computation sees of the callers waiting for it. */
export interface Work {
  /** Aborts when nobody waits any more. */
  readonly signal: AbortSignal;
  /** The latest deadline among the callers still waiting (Infinity when one has none). */
  deadline(): number;
}

export interface SingleFlight {
  run<T>(key: string, fn: (work: Work) => Promise<T>, waiter?: Waiter): Promise<{ value: T; joined: boolean }>;
  /** Keys with a computation in flight. */
  readonly size: number;
  /** Whether a computation for `key` is in flight (a new request will join it). */
  has(key: string): boolean;
  /** How many callers wait for `key`'s computation (0 when none is in flight). */
  waiters(key: string): number;
  /**
   * Computations whose key `match` picks (a purge) stop taking new callers: the ones waiting
   * keep theirs, the next caller starts afresh. Resolves how many.
   */
  detach(match: (key: string) => boolean): number;
}

interface Flight {
  readonly shared: Promise<unknown>;
  readonly controller: AbortController;
  /** Deadlines of the callers still waiting (Infinity for one without). */
  readonly waiting: Set<{ deadline: number }>;
}

export function createSingleFlight(opts: { onJoin?: (key: string) => void } = {}): SingleFlight {
  const inflight = new Map<string, Flight>();

  /** Registers the flight for `key`; `go` runs `fn`, once the leader's wait is counted. */
  function start<T>(key: string, fn: (work: Work) => Promise<T>): { flight: Flight; go: () => void } {
    let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
    const shared = new Promise<T>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const flight: Flight = { shared, controller: new AbortController(), waiting: new Set() };
    // Registered before fn runs: a re-entrant or concurrent run() for this key joins.
    inflight.set(key, flight);
    const done = (): void => {
      if (inflight.get(key) === flight) inflight.delete(key);
    };
    // Removal is attached first so it happens before any caller continuation; the
    // handler also keeps a rejection nobody awaits any more from being "unhandled".
    shared.then(done, done);
    const work: Work = {
      signal: flight.controller.signal,
      deadline: () => Math.max(...[...flight.waiting].map((w) => w.deadline)),
    };
    const go = (): void => {
      try {
        fn(work).then(settle.resolve, (err: unknown) => settle.reject(toProxyError(err)));
      } catch (err) {
        settle.reject(toProxyError(err));
      }
    };
    return { flight, go };
  }

  /** The caller's view of the shared outcome: it can stop waiting on its own signal. */
  function wait<T>(key: string, flight: Flight, waiter: Waiter, joined: boolean): Promise<{ value: T; joined: boolean }> {
    const me = { deadline: waiter.deadline ?? Infinity };
    flight.waiting.add(me);
    const signal = waiter.signal;
    if (!signal) {
      return (flight.shared as Promise<T>).then((value) => ({ value, joined }));
    }
    return new Promise<{ value: T; joined: boolean }>((resolve, reject) => {
      const leave = (): void => {
        flight.waiting.delete(me);
        reject(toProxyError(signal.reason));
        if (flight.waiting.size > 0) return;
        // Nobody waits: stop the work, and let the next request start afresh rather
        // than join a computation that is being torn down.
        if (inflight.get(key) === flight) inflight.delete(key);
        flight.controller.abort(new ProxyError('CANCELLED', 'nobody waits for this result any more'));
      };
      signal.addEventListener('abort', leave, { once: true });
      const finish = (): void => {
        signal.removeEventListener('abort', leave);
        flight.waiting.delete(me);
      };
      flight.shared.then(
        (value) => {
          finish();
          resolve({ value: value as T, joined });
        },
        (err: unknown) => {
          finish();
          reject(err);
        },
      );
    });
  }

  return {
    get size() {
      return inflight.size;
    },
    has(key: string): boolean {
      return inflight.has(key);
    },
    waiters(key: string): number {
      return inflight.get(key)?.waiting.size ?? 0;
    },
    detach(match) {
      let n = 0;
      for (const key of [...inflight.keys()]) {
        if (!match(key)) continue;
        inflight.delete(key);
        n++;
      }
      return n;
    },
    run<T>(key: string, fn: (work: Work) => Promise<T>, waiter: Waiter = {}): Promise<{ value: T; joined: boolean }> {
      // Gone before it asked: it neither starts nor keeps alive anything.
      if (waiter.signal?.aborted) return Promise.reject(toProxyError(waiter.signal.reason));
      const existing = inflight.get(key);
      if (existing) {
        opts.onJoin?.(key);
        return wait<T>(key, existing, waiter, true);
      }
      const { flight, go } = start(key, fn);
      const result = wait<T>(key, flight, waiter, false);
      go();
      return result;
    },
  };
}
