import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import { fitBytes, nextQuality } from '../../../src/processing/fit-bytes.js';

/** A fake encoder whose size is a known function of quality, recording every call. */
function fakeEncoder(sizeAt: (q: number) => number): { tried: number[]; encode: (q: number) => Promise<Buffer> } {
  const tried: number[] = [];
  return { tried, encode: async (q) => (tried.push(q), Buffer.alloc(sizeAt(q))) };
}

describe('fitBytes', () => {
  it('returns the first encoding when it already fits', async () => {
    const f = fakeEncoder(() => 100);
    const out = await fitBytes(f.encode, 80, 100);
    expect(f.tried).toEqual([80]);
    expect(out.length).toBe(100);
  });

  it('follows imgproxy steps: ×0.25 over 3×, ×0.5 over 1.5×, ×0.75 otherwise', async () => {
    // size = q × 100 bytes, target 1000 → q=80 (8×) → 20 (2×) → 10 (1×) fits.
    const f = fakeEncoder((q) => q * 100);
    const out = await fitBytes(f.encode, 80, 1000);
    expect(f.tried).toEqual([80, 20, 10]);
    expect(out.length).toBeLessThanOrEqual(1000);

    // 1.2× over → ×0.75
    const g = fakeEncoder((q) => (q === 90 ? 1200 : 900));
    await fitBytes(g.encode, 90, 1000);
    expect(g.tried).toEqual([90, 68]);
  });

  it('always lowers by at least 1 and stops at quality ≤ 10, returning the last (too big) result', async () => {
    expect(nextQuality(2, 1001, 1000)).toBe(1);
    expect(nextQuality(1, 1001, 1000)).toBe(1);
    expect(nextQuality(3, 1001, 1000)).toBe(2); // round(2.25)=2
    const f = fakeEncoder((q) => 5000 + q);
    const out = await fitBytes(f.encode, 100, 1000);
    expect(f.tried).toEqual([100, 25, 6]);
    expect(out.length).toBe(5006);
  });

  it('stops between passes when the signal is aborted', async () => {
    const ac = new AbortController();
    const tried: number[] = [];
    const encode = async (q: number): Promise<Buffer> => {
      tried.push(q);
      ac.abort();
      return Buffer.alloc(10_000);
    };
    const err = await fitBytes(encode, 80, 100, ac.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe('CANCELLED');
    expect(tried).toEqual([80]);
  });

  it('brings a real JPEG under the target when reachable', async () => {
    const noise = Buffer.alloc(256 * 256 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
    const img = sharp(noise, { raw: { width: 256, height: 256, channels: 3 } });
    const tried: number[] = [];
    const encode = (q: number): Promise<Buffer> => (tried.push(q), img.clone().jpeg({ quality: q }).toBuffer());
    const full = await encode(95);
    const target = Math.round(full.length / 3);
    tried.length = 0;
    const out = await fitBytes(encode, 95, target);
    expect(out.length).toBeLessThanOrEqual(target);
    expect(tried.length).toBeGreaterThan(1);
    expect(tried).toEqual([...tried].sort((a, b) => b - a));
    expect((await sharp(out).metadata()).width).toBe(256);
  });
});
