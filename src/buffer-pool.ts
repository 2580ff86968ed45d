/**
 * Read buffers handed back for reuse once their bytes have left: an L2 hit with L1 off reads
 * its entry file into a fresh buffer on every request, and V8 answers that stream of external
 * memory (a 224 KB result 2,000 times a second is 450 MB/s) with a full mark-compact every
 * ~150 ms, whatever the size of the heap (bench/reports: the l2-hit profile's garbage collector
 * at 13–17 % of the main thread).
 *
 * Ownership is passed, never shared: take() gives a buffer and the one function that may give
 * it back. Whoever holds that function holds the only reference the read made; whoever keeps
 * the bytes (an L1 promotion, a store, a read joined by a second lookup) drops the function
 * instead, and the buffer is then collected as any other. So a buffer comes back only from
 * the one consumer that knows it is done with it (the image handler, once the response has
 * finished). Giving it back twice, or after the buffer went out again, does nothing: each
 * handing-out has its own generation.
 *
 * Sizes above MIN_POOLED, up to `maxSize`, are rounded up to a power of two; the free lists
 * hold `maxFreeBytes` at most.
 */

/**
 * Up to this, reads get plain buffers. What they cost the collector is small (a 7 KB entry read
 * 5,000 times a second is 35 MB/s), and the collections V8 starts for that external memory are
 * what keeps the old generation near its live size: pooling them too, a store of 100,000 small
 * entries read at random with L1 off (a live heap of ~200 MB) grew to 530–1,030 MB resident
 * between mark-compacts, against 450–500 MB with plain buffers (p99 9–24 ms against 35–70 ms).
 */
const MIN_POOLED = 16 * 1024;

export interface BufferPoolOptions {
  /** Largest request served from the pool (larger ones are plain allocations, never given back). */
  maxSize: number;
  /** Bytes kept in the free lists at most (more given back is dropped). */
  maxFreeBytes: number;
}

/** A buffer of the size asked for, and how to give it back (undefined: not a pooled buffer). */
export interface Taken {
  buf: Buffer;
  release: (() => void) | undefined;
}

export interface BufferPoolStats {
  /** Buffers allocated because no free one of the size class was there. */
  allocated: number;
  /** Buffers taken from a free list. */
  reused: number;
  /** Buffers given back and kept. */
  returned: number;
  /** Bytes in the free lists now. */
  freeBytes: number;
}

export interface BufferPool {
  /** `size` bytes (contents undefined). */
  take(size: number): Taken;
  stats(): BufferPoolStats;
}

/** The power-of-two class of `size` (> MIN_POOLED). */
function classOf(size: number): number {
  let c = MIN_POOLED * 2;
  while (c < size) c *= 2;
  return c;
}

export function createBufferPool(opts: BufferPoolOptions): BufferPool {
  const free = new Map<number, Buffer[]>();
  /** Each pooled ArrayBuffer's current handing-out: a release of an older one does nothing. */
  const generation = new WeakMap<ArrayBufferLike, number>();
  const stats: BufferPoolStats = { allocated: 0, reused: 0, returned: 0, freeBytes: 0 };

  function giveBack(whole: Buffer, gen: number): void {
    if (generation.get(whole.buffer) !== gen) return;
    // Out of circulation until the next take: a second release of this handing-out is a no-op.
    generation.set(whole.buffer, gen + 1);
    if (stats.freeBytes + whole.length > opts.maxFreeBytes) return;
    let list = free.get(whole.length);
    if (list === undefined) free.set(whole.length, (list = []));
    list.push(whole);
    stats.freeBytes += whole.length;
    stats.returned++;
  }

  return {
    take(size) {
      if (size <= MIN_POOLED || size > opts.maxSize) return { buf: Buffer.allocUnsafe(size), release: undefined };
      const cls = classOf(size);
      let whole = free.get(cls)?.pop();
      if (whole !== undefined) {
        stats.freeBytes -= whole.length;
        stats.reused++;
      } else {
        // Its own ArrayBuffer: the generation is keyed by it.
        whole = Buffer.allocUnsafeSlow(cls);
        stats.allocated++;
      }
      const gen = (generation.get(whole.buffer) ?? 0) + 1;
      generation.set(whole.buffer, gen);
      const w = whole;
      return { buf: whole.subarray(0, size), release: () => giveBack(w, gen) };
    },
    stats: () => ({ ...stats }),
  };
}
