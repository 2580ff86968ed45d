/**
 * The read-buffer pool (src/buffer-pool.ts): a buffer comes back only through the release its
 * handing-out came with, once; an older release never gives back a later handing-out of the
 * same memory; the free lists stay within their byte bound.
 */
import { describe, expect, it } from 'vitest';
import { createBufferPool } from '../../src/buffer-pool.js';

const KB = 1024;
const MB = 1024 * KB;

describe('buffer pool', () => {
  it('sizes outside (16 KB, maxSize] are plain allocations without a release', () => {
    const pool = createBufferPool({ maxSize: 64 * KB, maxFreeBytes: MB });
    for (const size of [0, 1, 7_000, 16 * KB, 64 * KB + 1, 1024 * KB]) {
      const t = pool.take(size);
      expect(t.buf.length).toBe(size);
      expect(t.release).toBeUndefined();
    }
    expect(pool.stats()).toMatchObject({ allocated: 0, reused: 0 });
  });

  it('a buffer of the size asked for, from a power-of-two class; given back, the next take of the class gets the same memory', () => {
    const pool = createBufferPool({ maxSize: 256 * KB, maxFreeBytes: MB });
    const a = pool.take(20_000);
    expect(a.buf.length).toBe(20_000);
    expect(a.buf.buffer.byteLength).toBe(32 * KB);
    a.release?.();
    const b = pool.take(30_000);
    expect(b.buf.buffer).toBe(a.buf.buffer);
    // Another class: new memory.
    const c = pool.take(40_000);
    expect(c.buf.buffer).not.toBe(a.buf.buffer);
    expect(c.buf.buffer.byteLength).toBe(64 * KB);
    expect(pool.stats()).toMatchObject({ allocated: 2, reused: 1, returned: 1 });
  });

  it('a second release of one handing-out does nothing, and an old release does not give back the memory taken again since', () => {
    const pool = createBufferPool({ maxSize: 256 * KB, maxFreeBytes: MB });
    const first = pool.take(100 * KB);
    first.release?.();
    first.release?.();
    expect(pool.stats()).toMatchObject({ returned: 1, freeBytes: 128 * KB });
    const second = pool.take(100 * KB);
    expect(second.buf.buffer).toBe(first.buf.buffer);
    // The first consumer's stale release: the second still owns the memory.
    first.release?.();
    expect(pool.stats()).toMatchObject({ returned: 1, freeBytes: 0 });
    const third = pool.take(100 * KB);
    expect(third.buf.buffer).not.toBe(second.buf.buffer);
    second.release?.();
    expect(pool.take(100 * KB).buf.buffer).toBe(second.buf.buffer);
  });

  it('keeps at most maxFreeBytes of given-back buffers', () => {
    const pool = createBufferPool({ maxSize: 256 * KB, maxFreeBytes: 300 * KB });
    const taken = [pool.take(200 * KB), pool.take(200 * KB), pool.take(200 * KB)];
    for (const t of taken) t.release?.();
    expect(pool.stats()).toMatchObject({ allocated: 3, returned: 1, freeBytes: 256 * KB });
    // A release past the bound still ends its handing-out: giving it back again does nothing.
    taken[2]?.release?.();
    expect(pool.stats().returned).toBe(1);
  });
});

