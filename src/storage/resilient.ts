/**
 * Wraps a BlobStore so a slow or dead backend cannot hold requests up: every call is
 * time-boxed, and after `failureThreshold` consecutive failures a circuit breaker opens and
 * calls fail at once (no timeout paid per request) for `cooldownMs`. Then one probe call is
 * let through (half-open): success closes the circuit, failure opens it for another cooldown.
 *
 * A time-out aborts `get` through its signal; put/head/delete/list have no signal in the
 * contract, so the backend call keeps running in the background and its late result is
 * dropped. For `get` the box covers the answer (metadata and the start of the body), not
 * the streaming of the body, which is paced by the consumer. A foreign entry (ForeignEntryError)
 * and a refused conditional write (ConditionalWriteUnsupportedError) are answers, not failures:
 * the backend is healthy.
 */
import { ProxyError } from '../errors.js';
import { ConditionalWriteUnsupportedError } from './common.js';
import { ForeignEntryError } from './entry-key.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, ListOptions, PutMeta } from './types.js';
import type { Readable } from 'node:stream';

export interface ResilienceOptions {
  timeoutMs: number;
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long an open circuit fails fast before a probe (default 30 s). */
  cooldownMs?: number;
  /** Every real failure (time-outs included), not the fast failures of an open circuit. */
  onError?: (op: string, err: unknown) => void;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface ResilientBlobStore extends BlobStore {
  readonly circuit: CircuitState;
}

export function withResilience(store: BlobStore, opts: ResilienceOptions): ResilientBlobStore {
  const threshold = Math.max(1, opts.failureThreshold ?? 5);
  const cooldownMs = opts.cooldownMs ?? 30_000;
  let failures = 0;
  let openUntil = 0;
  let state: CircuitState = 'closed';
  let probing = false;

  function admit(op: string): boolean {
    if (state === 'closed') return false;
    const now = Date.now();
    if (state === 'open' && now >= openUntil && !probing) {
      state = 'half-open';
      probing = true;
      return true;
    }
    const wait = Math.max(0, openUntil - now);
    throw new ProxyError('SOURCE_UNREACHABLE', `${store.name} ${op}: circuit open after ${failures} consecutive failures${probing ? ', probe in flight' : `; next try in ${wait} ms`}`);
  }

  function succeeded(probe: boolean): void {
    failures = 0;
    if (probe || state !== 'closed') {
      state = 'closed';
      probing = false;
    }
  }

  function failed(op: string, err: unknown, probe: boolean): void {
    failures++;
    opts.onError?.(op, err);
    if (probe) probing = false;
    if (probe || failures >= threshold) {
      state = 'open';
      openUntil = Date.now() + cooldownMs;
    }
  }

  async function guard<T>(op: string, fn: (signal: AbortSignal) => Promise<T>, callerSignal?: AbortSignal): Promise<T> {
    const probe = admit(op);
    const ac = new AbortController();
    let rejectAborted: ((err: unknown) => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      rejectAborted = reject;
    });
    // The caller's abort ends the wait at once, whatever the backend does with its signal.
    const onCallerAbort = (): void => {
      ac.abort(callerSignal?.reason);
      rejectAborted?.(new ProxyError('CANCELLED', `${store.name} ${op}: aborted by the caller`, { cause: callerSignal?.reason }));
    };
    if (callerSignal?.aborted) onCallerAbort();
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    aborted.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new ProxyError('SOURCE_TIMEOUT', `${store.name} ${op}: no answer within ${opts.timeoutMs} ms`);
        ac.abort(err);
        reject(err);
      }, opts.timeoutMs);
    });
    // Through an async wrapper, so a backend that throws synchronously is still a counted failure.
    const call = callerSignal?.aborted ? Promise.reject(new ProxyError('CANCELLED', `${store.name} ${op}: aborted by the caller`)) : (async () => fn(ac.signal))();
    // The loser of the race must not surface later as an unhandled rejection.
    call.catch(() => undefined);
    try {
      const result = await Promise.race([call, timedOut, aborted]);
      succeeded(probe);
      return result;
    } catch (err) {
      if (err instanceof ForeignEntryError || err instanceof ConditionalWriteUnsupportedError) {
        succeeded(probe);
        throw err;
      }
      // The caller giving up says nothing about the backend's health.
      if (callerSignal?.aborted) {
        if (probe) {
          probing = false;
          state = 'open';
        }
        throw err;
      }
      failed(op, err, probe);
      throw err;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    name: store.name,
    get circuit(): CircuitState {
      return state === 'open' && Date.now() >= openUntil && !probing ? 'half-open' : state;
    },
    get(key: string, o: GetOptions = {}): Promise<GetResult> {
      return guard('get', (signal) => store.get(key, { ...o, signal }), o.signal);
    },
    head(key: string): Promise<BlobMeta | null> {
      return guard('head', () => store.head(key));
    },
    put(key: string, body: Buffer | Readable, meta: PutMeta): Promise<void> {
      return guard('put', () => store.put(key, body, meta)).catch((err: unknown) => {
        // Nobody else will drain a stream whose upload we stopped waiting for.
        if (!Buffer.isBuffer(body)) body.destroy();
        throw err;
      });
    },
    putIfAbsent(key: string, body: Buffer, meta: PutMeta): Promise<boolean> {
      return guard('putIfAbsent', () => store.putIfAbsent(key, body, meta));
    },
    delete(key: string): Promise<void> {
      return guard('delete', () => store.delete(key));
    },
    ...(store.deleteMany
      ? {
          deleteMany: (keys: readonly string[]): Promise<void> => guard('delete', () => (store.deleteMany as (k: readonly string[]) => Promise<void>)(keys)),
        }
      : {}),
    list(prefix?: string, listOpts?: ListOptions): AsyncIterable<ListItem> {
      return {
        [Symbol.asyncIterator](): AsyncIterator<ListItem> {
          let it: AsyncIterator<ListItem> | undefined;
          return {
            next: () =>
              guard('list', () => {
                it ??= store.list(prefix, listOpts)[Symbol.asyncIterator]();
                return it.next();
              }),
            return: async (): Promise<IteratorResult<ListItem>> => {
              await it?.return?.();
              return { done: true, value: undefined };
            },
          };
        },
      };
    },
  };
}
