// Pipeline with real sharp on small generated fixtures: sizes and formats per operation, limits
// and error mapping, SVG passthrough and skip_processing. Images are compared by
// size/format/pixel distance. The decode paths are in still.test.ts and
// animation-frames.test.ts, the output stage in output-stage.test.ts.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { alphaPng, animatedGif, photoJpeg, svg } from '../../fixtures/generate.js';
import { patchPng } from '../../fixtures/hostile/make.js';
import { pixelDistance } from '../../helpers/phash.js';
import { testProcessor } from '../../helpers/processor.js';

const { run, opts } = testProcessor();

let jpeg: Buffer;
let png: Buffer;
let gif: Buffer;
beforeAll(async () => {
  [jpeg, png, gif] = await Promise.all([photoJpeg(), alphaPng(), animatedGif()]);
});

async function expectProxyError(p: Promise<unknown>, code: string, status: number): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProxyError);
  expect((err as ProxyError).code).toBe(code);
  expect((err as ProxyError).status).toBe(status);
}

describe('sizes and formats per operation', () => {
  const cases: [string, () => Buffer, Partial<ProcessingOptions>, string, [number, number]][] = [
    ['no options keeps size and format', () => jpeg, {}, 'jpeg', [120, 80]],
    ['fit 60x0', () => jpeg, { width: 60 }, 'jpeg', [60, 40]],
    ['fill 50x50', () => jpeg, { resizingType: 'fill', width: 50, height: 50 }, 'jpeg', [50, 50]],
    ['force 30x70 with enlarge', () => jpeg, { resizingType: 'force', width: 30, height: 70, enlarge: true }, 'jpeg', [30, 70]],
    ['fill-down 200x100 crops to 2:1', () => jpeg, { resizingType: 'fill-down', width: 200, height: 100 }, 'jpeg', [120, 60]],
    ['crop 60x40 before resize', () => jpeg, { crop: { width: 60, height: 40, gravity: null } }, 'jpeg', [60, 40]],
    ['crop + fit', () => jpeg, { crop: { width: 0.5, height: 0.5, gravity: { type: 'nowe', x: 0, y: 0 } }, width: 30 }, 'jpeg', [30, 20]],
    ['smart result crop', () => jpeg, { resizingType: 'fill', width: 40, height: 40, gravity: { type: 'sm', x: 0, y: 0 } }, 'jpeg', [40, 40]],
    ['focus-point result crop', () => jpeg, { resizingType: 'fill', width: 40, height: 40, gravity: { type: 'fp', x: 0.9, y: 0.5 } }, 'jpeg', [40, 40]],
    ['rotate 90 swaps', () => jpeg, { rotate: 90 }, 'jpeg', [80, 120]],
    ['rotate 270 + fit 40x0', () => jpeg, { rotate: 270, width: 40 }, 'jpeg', [40, 60]],
    ['dpr 2 without enlarge', () => jpeg, { width: 60, dpr: 2 }, 'jpeg', [120, 80]],
    ['zoom 0.5', () => jpeg, { zoomX: 0.5, zoomY: 0.5 }, 'jpeg', [60, 40]],
    ['min-width enlarges', () => jpeg, { minWidth: 240 }, 'jpeg', [240, 160]],
    ['extend on jpeg stays jpeg (source format preferred)', () => jpeg, { width: 200, height: 200, extend: { enabled: true, gravity: { type: 'ce', x: 0, y: 0 } } }, 'jpeg', [200, 200]],
    ['extend_aspect_ratio', () => jpeg, { width: 100, height: 100, extendAspectRatio: { enabled: true, gravity: { type: 'ce', x: 0, y: 0 } } }, 'jpeg', [100, 100]],
    ['padding', () => jpeg, { width: 60, padding: { top: 5, right: 10, bottom: 5, left: 10 } }, 'jpeg', [80, 50]],
    ['padding × dpr', () => jpeg, { width: 30, dpr: 2, padding: { top: 5, right: 5, bottom: 5, left: 5 } }, 'jpeg', [80, 60]],
    ['blur keeps size', () => jpeg, { blur: 3 }, 'jpeg', [120, 80]],
    ['sharpen keeps size', () => jpeg, { sharpen: 1.5 }, 'jpeg', [120, 80]],
    ['pixelate keeps size', () => jpeg, { pixelate: 7 }, 'jpeg', [120, 80]],
    ['adjustments keep size', () => jpeg, { brightness: 30, contrast: 1.3, saturation: 0.5 }, 'jpeg', [120, 80]],
    ['monochrome keeps size', () => jpeg, { monochrome: { intensity: 1, color: 'b3b3b3' } }, 'jpeg', [120, 80]],
    ['png keeps png', () => png, { width: 50 }, 'png', [50, 50]],
    ['png → explicit jpeg (flattened)', () => png, { format: 'jpeg' }, 'jpeg', [100, 100]],
    ['png → webp', () => png, { format: 'webp', width: 40 }, 'webp', [40, 40]],
    ['jpeg → avif', () => jpeg, { format: 'avif', width: 60 }, 'avif', [60, 40]],
    ['avif under 16px → jpeg', () => jpeg, { format: 'avif', width: 12 }, 'jpeg', [12, 8]],
    ['avif under 16px with alpha → png', () => png, { format: 'avif', width: 10 }, 'png', [10, 10]],
    ['tiff output', () => jpeg, { format: 'tiff', width: 30 }, 'tiff', [30, 20]],
    ['max_result_dimension', () => jpeg, { maxResultDimension: 60 }, 'jpeg', [60, 40]],
    ['resizing algorithm nearest', () => jpeg, { width: 30, resizingAlgorithm: 'nearest' }, 'jpeg', [30, 20]],
  ];
  it.each(cases)('%s', async (_n, src, o, format, [w, h]) => {
    const r = await run(src(), opts(o), {});
    expect(r.format).toBe(format);
    expect([r.width, r.height]).toEqual([w, h]);
    const meta = await sharp(r.data).metadata();
    expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(format);
    expect([meta.width, meta.height]).toEqual([w, h]);
    expect(r.originFormat).toBeDefined();
  });

  it('reports the origin size and format', async () => {
    const r = await run(png, opts({ width: 10 }), {});
    expect([r.originFormat, r.originWidth, r.originHeight]).toEqual(['png', 100, 100]);
    expect(r.contentType).toBe('image/png');
  });

  it('extend on a PNG leaves transparent margins; background fills them', async () => {
    const ext = { enabled: true, gravity: { type: 'ce' as const, x: 0, y: 0 } };
    const clear = await run(png, opts({ width: 150, height: 150, extend: ext }), {});
    const corner = await sharp(clear.data).extract({ left: 0, top: 0, width: 1, height: 1 }).raw().toBuffer();
    expect(corner[3]).toBe(0);
    const filled = await run(png, opts({ width: 150, height: 150, extend: ext, background: { r: 0, g: 255, b: 0 } }), {});
    const px = await sharp(filled.data).extract({ left: 0, top: 0, width: 1, height: 1 }).raw().toBuffer();
    expect([px[0], px[1], px[2]]).toEqual([0, 255, 0]);
  });

  it('flattens to white when the output has no alpha and no background is set', async () => {
    const r = await run(png, opts({ format: 'jpeg' }), {});
    const px = await sharp(r.data).extract({ left: 2, top: 2, width: 1, height: 1 }).raw().toBuffer();
    expect(px[0]).toBeGreaterThan(245);
    expect(px[2]).toBeGreaterThan(245);
  });

  it('trim removes a uniform border (auto colour from the top-left pixel)', async () => {
    const bordered = await sharp(jpeg).extend({ top: 20, bottom: 20, left: 30, right: 30, background: '#ffffff' }).png().toBuffer();
    const r = await run(bordered, opts({ trim: { threshold: 10, color: null, equalHor: false, equalVer: false } }), {});
    expect(Math.abs(r.width - 120)).toBeLessThanOrEqual(2);
    expect(Math.abs(r.height - 80)).toBeLessThanOrEqual(2);
  });

  it('trim with equal_hor keeps symmetric horizontal margins', async () => {
    const bordered = await sharp(jpeg).extend({ top: 0, bottom: 0, left: 10, right: 40, background: '#ffffff' }).png().toBuffer();
    const r = await run(bordered, opts({ trim: { threshold: 10, color: 'ffffff', equalHor: true, equalVer: false } }), {});
    // content box: left 10, width 120, right margin 40 → width grows by 30 so both margins are 10
    expect(Math.abs(r.width - (120 + 30))).toBeLessThanOrEqual(2);
  });

  it('flip horizontal mirrors the image, also combined with rotate', async () => {
    const mirrored = await sharp(jpeg).flop().toBuffer();
    const r = await run(jpeg, opts({ flipHorizontal: true }), {});
    expect(await pixelDistance(r.data, mirrored)).toBeLessThan(6);
    expect(await pixelDistance(r.data, jpeg)).toBeGreaterThan(15);
    // rotate 90 then mirror horizontally == transpose of the upright image
    const rf = await run(jpeg, opts({ rotate: 90, flipHorizontal: true }), {});
    const rotated = await sharp(jpeg).rotate(90).toBuffer();
    const expected = await sharp(rotated).flop().toBuffer();
    expect(await pixelDistance(rf.data, expected)).toBeLessThan(6);
  });

  it('pixelate changes pixels, blur smooths them', async () => {
    const p = await run(jpeg, opts({ pixelate: 8 }), {});
    expect(await pixelDistance(p.data, jpeg)).toBeGreaterThan(2);
    const b = await run(jpeg, opts({ blur: 4 }), {});
    expect(await pixelDistance(b.data, jpeg)).toBeGreaterThan(2);
  });
});



describe('limits and errors', () => {
  it('rejects over-resolution sources from the header, before decoding', async () => {
    // 20000 x 20000 = 400 MP > 50 MP. The pixel data is for 100 x 100, so a decode would fail differently.
    await expectProxyError(run(patchPng(png, 20000, 20000), opts(), {}), 'SOURCE_RESOLUTION_TOO_BIG', 422);
  });

  it('honours max_src_resolution from the options', async () => {
    await expectProxyError(run(jpeg, opts({ maxSrcResolution: 0.005 }), {}), 'SOURCE_RESOLUTION_TOO_BIG', 422);
    await expect(run(jpeg, opts({ maxSrcResolution: 0.01 }), {})).resolves.toBeDefined();
  });

  it('counts animation frames, or checks per frame with max_animation_frame_resolution', async () => {
    // 60 x 40 = 2400 px per frame, 7200 px for 3 frames
    await expectProxyError(run(gif, opts({ maxAnimationFrames: 3, maxSrcResolution: 0.005 }), {}), 'SOURCE_RESOLUTION_TOO_BIG', 422);
    await expect(run(gif, opts({ maxAnimationFrames: 1, maxSrcResolution: 0.005 }), {})).resolves.toBeDefined();
    await expect(run(gif, opts({ maxAnimationFrames: 3, maxSrcResolution: 0.005, maxAnimationFrameResolution: 0.003 }), {})).resolves.toBeDefined();
    await expectProxyError(
      run(gif, opts({ maxAnimationFrames: 3, maxSrcResolution: 1, maxAnimationFrameResolution: 0.002 }), {}),
      'SOURCE_RESOLUTION_TOO_BIG',
      422,
    );
  });

  it('a truncated JPEG is a 422, not a 500', async () => {
    const big = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#777', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .jpeg()
      .toBuffer();
    await expectProxyError(run(big.subarray(0, Math.floor(big.length * 0.6)), opts(), {}), 'UNSUPPORTED_IMAGE', 422);
    await expectProxyError(run(jpeg.subarray(0, 40), opts(), {}), 'UNSUPPORTED_IMAGE', 422);
  });

  it('garbage and blocked loaders are 422', async () => {
    // No signature matches: imgproxy's "Invalid source image".
    await expectProxyError(run(Buffer.from('definitely not an image'), opts(), {}), 'INVALID_IMAGE', 422);
    // PPM is a libvips format we do not accept: no signature of ours matches it (and its loader
    // is blocked behind that).
    await expectProxyError(run(Buffer.from('P3\n1 1\n255\n0 0 0\n'), opts(), {}), 'INVALID_IMAGE', 422);
  });

  it('an impossible output format is UNSUPPORTED_OUTPUT', async () => {
    await expectProxyError(run(jpeg, opts({ format: 'svg' }), {}), 'UNSUPPORTED_OUTPUT', 422);
  });

  it('an aborted signal cancels', async () => {
    const ac = new AbortController();
    ac.abort();
    await expectProxyError(run(jpeg, opts(), { signal: ac.signal }), 'CANCELLED', 499);
  });
});

describe('SVG, skip_processing, watermark', () => {
  it('SVG with auto format is passed through', async () => {
    const r = await run(svg(), opts({ width: 50 }), {});
    expect(r.format).toBe('svg');
    expect(r.contentType).toBe('image/svg+xml');
    expect(r.data.toString()).toContain('<svg');
    expect([r.originWidth, r.originHeight]).toEqual([200, 100]);
  });

  it('SVG rasterised on request scales freely (vector enlarge)', async () => {
    const r = await run(svg(), opts({ format: 'png', width: 400 }), {});
    expect([r.format, r.width, r.height]).toEqual(['png', 400, 200]);
    const crisp = await sharp(svg(), { density: 144 }).png().toBuffer();
    expect(await pixelDistance(r.data, crisp)).toBeLessThan(4);
  });

  it('the header probe reads the sanitised SVG: a UTF-16 document and an entity holding markup render', async () => {
    const doc = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE svg [ <!ENTITY box "<rect width=\'10\' height=\'10\' fill=\'red\'/>"> ]>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">&box;</svg>';
    for (const source of [Buffer.from(`\ufeff${doc}`, 'utf16le'), Buffer.from(doc.replace('UTF-16', 'UTF-8'))]) {
      const r = await testProcessor({ IMGPROXY_SANITIZE_SVG: 'true' }).run(source, opts({ format: 'png' }), {});
      expect([r.format, r.width, r.height]).toEqual(['png', 10, 10]);
      const { data } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
      expect([data[0], data[1], data[2]]).toEqual([255, 0, 0]);
    }
  });

  it('IMGPROXY_ALWAYS_RASTERIZE_SVG rasterises to a preferred format with alpha', async () => {
    const r = await testProcessor({ IMGPROXY_ALWAYS_RASTERIZE_SVG: 'true' }).run(svg(), opts(), {});
    expect([r.format, r.width, r.height]).toEqual(['png', 200, 100]);
  });

  it('skip_processing returns the source bytes untouched', async () => {
    const r = await run(jpeg, opts({ skipProcessingFormats: ['jpeg'], width: 10 }), {});
    expect(r.data.equals(jpeg)).toBe(true);
    expect([r.format, r.width, r.height]).toEqual(['jpeg', 120, 80]);
    const other = await run(jpeg, opts({ skipProcessingFormats: ['jpeg'], format: 'png' }), {});
    expect(other.format).toBe('png');
  });

  it('skip_processing still checks the resolution', async () => {
    await expectProxyError(run(jpeg, opts({ skipProcessingFormats: ['jpeg'], maxSrcResolution: 0.001 }), {}), 'SOURCE_RESOLUTION_TOO_BIG', 422);
  });

  it('applies the watermark overlays', async () => {
    const mark = await sharp({ create: { width: 30, height: 30, channels: 4, background: { r: 255, g: 0, b: 255, alpha: 1 } } }).png().toBuffer();
    const wm = { opacity: 1, position: 'ce' as const, x: 0, y: 0, scale: 0, layout: 'imgproxy' as const };
    const plain = await run(jpeg, opts(), {});
    const marked = await run(jpeg, opts({ watermark: wm }), { watermark: mark });
    expect([marked.width, marked.height]).toEqual([120, 80]);
    expect(await pixelDistance(marked.data, plain.data)).toBeGreaterThan(2);
  });
});
