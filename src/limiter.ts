/**
 * Worker limiter: at most `workers` image computations at once, at most `queueSize`
 * waiting (0 = unlimited); overflow is refused at once with 429, as imgproxy does.
 *
 * sharp runs each pipeline on libuv's thread pool with libvips concurrency 1 here, so
 * throughput comes from several images in flight: the default is 2 per core. Cache hits
 * never pass through the limiter.
 */
import { ProxyError } from './errors.js';

export interface Limiter {
  /** Runs `fn` when a worker is free. Rejects with TOO_MANY_REQUESTS when the queue is full. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly waiting: number;
  readonly capacity: number;
}

interface Waiter {
  start: () => void;
  cancel: (err: unknown) => void;
}

export function createLimiter(workers: number, queueSize: number, hooks: { onChange?: (active: number, waiting: number) => void } = {}): Limiter {
  let active = 0;
  const queue: Waiter[] = [];
  const changed = () => hooks.onChange?.(active, queue.length);

  const release = () => {
    active--;
    const next = queue.shift();
    if (next) {
      active++;
      next.start();
    }
    changed();
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    capacity: workers,
    run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(new ProxyError('CANCELLED'));
      if (active < workers) {
        active++;
        changed();
        return runAndRelease(fn, release);
      }
      if (queueSize > 0 && queue.length >= queueSize) {
        return Promise.reject(new ProxyError('TOO_MANY_REQUESTS', `queue full (${queue.length} waiting, ${workers} workers)`));
      }
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            runAndRelease(fn, release).then(resolve, reject);
          },
          cancel: reject,
        };
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) {
            queue.splice(i, 1);
            changed();
            reject(new ProxyError('CANCELLED', 'gave up waiting for a worker'));
          }
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        changed();
      });
    },
  };
}

async function runAndRelease<T>(fn: () => Promise<T>, release: () => void): Promise<T> {
  try {
    return await fn();
  } finally {
    release();
  }
}
