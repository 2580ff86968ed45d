// Sources decoded outside libvips (BMP/ICO via the decoders module) go through the same steps.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import { encodeBmp } from '../../../src/processing/codecs/bmp-write.js';
import { createProcessor } from '../../../src/processing/pipeline.js';

// 40x20 RGBA: left half red, right half transparent.
const pixels = Buffer.alloc(40 * 20 * 4);
for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) pixels.set([255, 0, 0, 255], (y * 40 + x) * 4);

describe('BMP/ICO decoded by the decoders module', () => {

  const config = loadConfig({});
  const run = createProcessor(config);
  const o = defaultOptions(config);
  const bmp = encodeBmp(pixels, 40, 20, 4);

  it('is refused from its header when over max_src_resolution, before decoding', async () => {
    await expect(run(bmp, { ...o, maxSrcResolution: 0.0005 }, {})).rejects.toMatchObject({ code: 'SOURCE_RESOLUTION_TOO_BIG' });
  });

  it('is resized and reported as bmp origin, output in a preferred format with alpha', async () => {
    const r = await run(bmp, { ...o, width: 20 }, {});
    expect([r.originFormat, r.originWidth, r.originHeight]).toEqual(['bmp', 40, 20]);
    expect([r.format, r.width, r.height]).toEqual(['png', 20, 10]);
  });

  it('rotates and trims like any other source', async () => {
    const r = await run(bmp, { ...o, rotate: 90 }, {});
    expect([r.width, r.height]).toEqual([20, 40]);
    const t = await run(bmp, { ...o, trim: { threshold: 10, color: null, equalHor: false, equalVer: false } }, {});
    // top-left is red, so the transparent half (flattened to magenta) is what remains
    expect([t.width, t.height]).toEqual([20, 20]);
    const px = await sharp(t.data).raw().toBuffer();
    expect(px[3]).toBe(0);
  });
});
