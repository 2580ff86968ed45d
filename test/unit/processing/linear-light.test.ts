// IMGPROXY_USE_LINEAR_COLORSPACE: a resize averages in linear light (imgproxy processing/scale.go
// converts to linear, resizes, converts back). A 1-pixel black-and-white checkerboard halved
// twice is mid-grey in sRGB averaging (128) and ≈ 188 in linear light (0.5 linear → sRGB 188).
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createImageProcessor } from '../../../src/image-processor.js';

let checker: Buffer;
beforeAll(async () => {
  const w = 64;
  const raw = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) raw.fill((x + y) % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  checker = await sharp(raw, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
});

async function centre(linear: boolean, options: string): Promise<number> {
  const run = createImageProcessor(loadConfig({ IMGPROXY_USE_LINEAR_COLORSPACE: String(linear) }));
  const r = await run(checker, options);
  const { data, info } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
  return data[(Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels] ?? -1;
}

describe('IMGPROXY_USE_LINEAR_COLORSPACE', () => {
  it.each(['w:16/f:png', 'w:16/pd:2/f:png', 'c:32:32/w:16/f:png', 'w:16/bl:0.5/f:png', 'w:32/-/w:16/f:png', 'w:16/ph:1/f:png'])('%s', async (options) => {
    expect(Math.abs((await centre(false, options)) - 128)).toBeLessThanOrEqual(3);
    expect(Math.abs((await centre(true, options)) - 188)).toBeLessThanOrEqual(4);
  });

  it('without a resize nothing changes', async () => {
    expect([0, 255]).toContain(await centre(true, 'f:png'));
  });
});
