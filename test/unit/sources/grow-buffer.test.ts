import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { growBuffer } from '../../../src/sources/grow-buffer.js';

const MIB = 1024 * 1024;

/** `data` cut into chunks of pseudo-random sizes up to `max`. */
function chunks(data: Buffer, max: number, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let s = seed;
  for (let at = 0; at < data.length; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % max);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('growBuffer', () => {
  it.each([
    ['bounded by the exact length', (n: number) => n],
    ['bounded by a larger limit', (n: number) => n * 3],
    ['without a bound (1 MiB blocks)', () => 0],
    ['past what V8 can reserve (falls back to blocks)', () => 2 ** 33],
  ])('%s: returns exactly the bytes appended, however they were cut', (_name, bound) => {
    for (const [size, max, seed] of [[0, 1, 1], [1, 1, 2], [5000, 700, 3], [3 * MIB + 17, 200_000, 4], [300_000, 65_536, 5]] as const) {
      const data = randomBytes(size);
      const buf = growBuffer(bound(size));
      for (const c of chunks(data, max, seed)) buf.append(c);
      const out = buf.finish();
      expect(out.length).toBe(size);
      expect(out.equals(data)).toBe(true);
    }
  });

  it('the result is an ordinary Buffer to its users', () => {
    const buf = growBuffer(1000);
    buf.append(Buffer.from('hello '));
    buf.append(Buffer.from('world'));
    const out = buf.finish();
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out.toString()).toBe('hello world');
    expect(Buffer.concat([out, Buffer.from('!')]).toString()).toBe('hello world!');
    expect(out.subarray(6).toString()).toBe('world');
  });

  it('release() gives the memory back to the OS at once, without waiting for a garbage collection', () => {
    const rss = (): number => process.memoryUsage().rss;
    const before = rss();
    const chunk = Buffer.alloc(64 * 1024, 7);
    const bufs = Array.from({ length: 4 }, () => growBuffer(64 * MIB));
    for (const b of bufs) for (let n = 0; n < 48 * MIB; n += chunk.length) b.append(chunk);
    const filled = rss();
    for (const b of bufs) b.release();
    const released = rss();
    expect(filled - before).toBeGreaterThan(150 * MIB);
    expect(filled - released).toBeGreaterThan(150 * MIB);
  });
});
