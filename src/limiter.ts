/**
 * The limits a miss passes through, in imgproxy's order (handlers/processing/request.go,
 * workers/workers.go): admission to the queue first, refused at once with 429 when
 * IMGPROXY_REQUESTS_QUEUE_SIZE requests beyond the workers are already in; then the
 * resources, each bounded on its own and waited for in arrival order.
 *
 * imgproxy holds its worker from the download to the encode, so origins that trickle
 * bytes keep every worker idle. Here a download holds a download slot
 * (PIXPROXY_MAX_DOWNLOADS) and the processing slot (IMGPROXY_WORKERS) is taken only once
 * the source bytes are in memory. sharp runs each pipeline on libuv's thread pool with
 * libvips concurrency 1, so throughput comes from several images in flight: the default is
 * 2 workers per core, as imgproxy's. Cache hits never pass through the limiter.
 */
import { ProxyError } from './errors.js';

/** A counting semaphore whose waiters can give up. */
export interface Slots {
  /** Runs `fn` when a slot is free. A waiter whose `signal` aborts leaves the queue (CANCELLED). */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly waiting: number;
  /** Infinity when unlimited. */
  readonly capacity: number;
}

export interface Limiter {
  /**
   * Admits one computation for as long as `fn` runs, or rejects with TOO_MANY_REQUESTS at
   * once: imgproxy's queue semaphore, sized IMGPROXY_WORKERS + IMGPROXY_REQUESTS_QUEUE_SIZE
   * (no bound when the queue size is 0).
   */
  admit<T>(fn: () => Promise<T>): Promise<T>;
  /** Computations admitted and not finished (downloading, processing or waiting for either). */
  readonly admitted: number;
  /** Source downloads at once. */
  readonly downloads: Slots;
  /** Image computations at once, from source bytes in memory to encoded result. */
  readonly workers: Slots;
}

export interface LimiterOptions {
  workers: number;
  /** 0 = unlimited. */
  queueSize: number;
  /** 0 = unlimited. */
  downloads: number;
}

export function createLimiter(o: LimiterOptions, hooks: { onWorkersChange?: (active: number, waiting: number) => void } = {}): Limiter {
  const admission = o.queueSize > 0 ? o.workers + o.queueSize : Infinity;
  let admitted = 0;
  const workers = createSlots(o.workers, hooks.onWorkersChange);
  return {
    async admit<T>(fn: () => Promise<T>): Promise<T> {
      if (admitted >= admission) {
        throw new ProxyError('TOO_MANY_REQUESTS', `queue full (${admitted - workers.active} waiting, ${o.workers} workers)`);
      }
      admitted++;
      try {
        return await fn();
      } finally {
        admitted--;
      }
    },
    get admitted() {
      return admitted;
    },
    downloads: createSlots(o.downloads > 0 ? o.downloads : Infinity),
    workers,
  };
}

interface Waiter {
  start: () => void;
}

export function createSlots(capacity: number, onChange?: (active: number, waiting: number) => void): Slots {
  let active = 0;
  const queue: Waiter[] = [];
  const changed = (): void => onChange?.(active, queue.length);

  const release = (): void => {
    active--;
    const next = queue.shift();
    if (next) {
      active++;
      next.start();
    }
    changed();
  };

  async function runAndRelease<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      release();
    }
  }

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    capacity,
    run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(new ProxyError('CANCELLED', 'gave up before a slot was free'));
      if (active < capacity) {
        active++;
        changed();
        return runAndRelease(fn);
      }
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          const i = queue.indexOf(waiter);
          if (i < 0) return;
          queue.splice(i, 1);
          changed();
          reject(new ProxyError('CANCELLED', 'gave up waiting for a free slot'));
        };
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            runAndRelease(fn).then(resolve, reject);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        changed();
      });
    },
  };
}
