// The still-image decode paths through the processor: EXIF orientation (staged and
// shrink-on-load), the vector guard, shrink-on-load against the staged path.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { orientedJpeg, photoJpeg, svg } from '../../fixtures/generate.js';
import { pixelDistance } from '../../helpers/phash.js';
import { testProcessor } from '../../helpers/processor.js';

const { run, opts } = testProcessor();

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await photoJpeg();
});

describe('EXIF orientation', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i comes out upright', async (orientation) => {
    const src = await orientedJpeg(orientation);
    const r = await run(src, opts(), {});
    expect([r.width, r.height]).toEqual([120, 80]);
    expect([r.originWidth, r.originHeight]).toEqual([120, 80]);
    expect(await pixelDistance(r.data, jpeg)).toBeLessThan(6);
    const meta = await sharp(r.data).metadata();
    expect(meta.orientation ?? 1).toBe(1);
  });

  it('orientation is ignored with auto_rotate off', async () => {
    const r = await run(await orientedJpeg(6), opts({ autoRotate: false }), {});
    expect([r.width, r.height]).toEqual([80, 120]);
  });

  it('orientation combines with resizing (shrink-on-load path)', async () => {
    const r = await run(await orientedJpeg(8), opts({ width: 60 }), {});
    expect([r.width, r.height]).toEqual([60, 40]);
    expect(await pixelDistance(r.data, jpeg)).toBeLessThan(8);
  });
});

describe('decode paths', () => {
  it('vector guard renders an SVG over max_src_resolution smaller instead of rejecting it', async () => {
    // 200 x 100 = 20000 px; limit 5000 px → scale sqrt(1/4) = 0.5
    const r = await run(svg(), opts({ format: 'png', maxSrcResolution: 0.005 }), {});
    expect([r.width, r.height]).toEqual([100, 50]);
  });

  it('IMGPROXY_DISABLE_SHRINK_ON_LOAD gives the same geometry and nearly the same pixels', async () => {
    const off = await testProcessor({ IMGPROXY_DISABLE_SHRINK_ON_LOAD: 'true' }).run(jpeg, opts({ width: 30 }), {});
    const on = await run(jpeg, opts({ width: 30 }), {});
    expect([off.width, off.height]).toEqual([on.width, on.height]);
    expect(await pixelDistance(off.data, on.data)).toBeLessThan(4);
  });

  it('the fused (shrink-on-load) path and the staged path agree', async () => {
    const fused = await run(jpeg, opts({ width: 60 }), {});
    // A full-size crop forces the staged path without changing the image.
    const staged = await run(jpeg, opts({ width: 60, crop: { width: 120, height: 80, gravity: null } }), {});
    expect([staged.width, staged.height]).toEqual([60, 40]);
    expect(await pixelDistance(fused.data, staged.data)).toBeLessThan(4);
  });
});
