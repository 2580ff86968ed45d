// The animation path through the processor: frames, delays, output formats that keep or drop
// the animation, the starting page.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { animatedGif, GIF_DELAYS } from '../../fixtures/generate.js';
import { pixelDistance } from '../../helpers/phash.js';
import { testProcessor } from '../../helpers/processor.js';

const { run, opts } = testProcessor();

let gif: Buffer;
beforeAll(async () => {
  gif = await animatedGif();
});

describe('animation', () => {
  it('keeps 3 frames and their delays as GIF with max_animation_frames 3', async () => {
    const r = await run(gif, opts({ maxAnimationFrames: 3, width: 30 }), {});
    expect(r.format).toBe('gif');
    const m = await sharp(r.data).metadata();
    expect(m.pages).toBe(3);
    expect(m.delay).toEqual(GIF_DELAYS);
    expect([m.width, m.pageHeight ?? m.height]).toEqual([30, 20]);
    expect([r.width, r.height]).toEqual([30, 20]);
  });

  it('animated WebP output keeps frames and delays', async () => {
    const r = await run(gif, opts({ maxAnimationFrames: 3, format: 'webp' }), {});
    const m = await sharp(r.data).metadata();
    expect([m.format, m.pages]).toEqual(['webp', 3]);
    expect(m.delay).toEqual(GIF_DELAYS);
  });

  it('frames are processed separately (second frame differs from the first)', async () => {
    const r = await run(gif, opts({ maxAnimationFrames: 3 }), {});
    const f0 = await sharp(r.data, { page: 0 }).png().toBuffer();
    const f1 = await sharp(r.data, { page: 1 }).png().toBuffer();
    expect(await pixelDistance(f0, f1)).toBeGreaterThan(20);
  });

  it('default max_animation_frames 1 gives the first frame only', async () => {
    const r = await run(gif, opts(), {});
    const m = await sharp(r.data).metadata();
    expect(m.pages ?? 1).toBe(1);
  });

  it('animated output is never AVIF even when AVIF is preferred or enforced', async () => {
    for (const o of [{ preferAvif: true }, { enforceAvif: true }, { enforceAvif: true, format: 'gif' as const }]) {
      const r = await run(gif, opts({ maxAnimationFrames: 3, ...o }), {});
      expect(r.format).not.toBe('avif');
      expect((await sharp(r.data).metadata()).pages).toBe(3);
    }
  });

  it('prefer WebP turns an animated GIF into animated WebP', async () => {
    const r = await run(gif, opts({ maxAnimationFrames: 3, preferWebp: true }), {});
    expect(r.format).toBe('webp');
    expect((await sharp(r.data).metadata()).pages).toBe(3);
  });

  it('disable_animation takes the first frame', async () => {
    const r = await run(gif, opts({ maxAnimationFrames: 3, disableAnimation: true }), {});
    expect((await sharp(r.data).metadata()).pages ?? 1).toBe(1);
  });

  it('page selects the starting frame', async () => {
    const r0 = await run(gif, opts({ page: 0 }), {});
    const r2 = await run(gif, opts({ page: 2 }), {});
    expect(await pixelDistance(r0.data, r2.data)).toBeGreaterThan(20);
  });
});
