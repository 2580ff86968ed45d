// The marks of a request as the pipeline sees them: one per chained pipeline (imgproxy Pro,
// https://docs.imgproxy.net/features/chained_pipelines), each its own `watermark_url` image,
// and the grey rule (imgproxy processing/colorspace_test.go TestWatermarkColorspace) judged on
// the mark as the source reader decodes it, so a format libvips' header cannot read counts.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createImageProcessor } from '../../../src/image-processor.js';
import { writePsd } from '../../helpers/psd.js';

const processor = createImageProcessor(loadConfig({}));
const b64 = (s: string): string => Buffer.from(s).toString('base64url');

const solid = (width: number, height: number, c: { r: number; g: number; b: number }): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: c } }).png().toBuffer();
const greyPng = (width: number, height: number, v: number): Promise<Buffer> =>
  sharp(Buffer.alloc(width * height, v), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();

/** A PSD mark: grey (mode 1) or RGB (mode 3), 8 bits, one value per channel. */
const psd = (width: number, height: number, values: readonly number[]): Buffer =>
  writePsd({ width, height, mode: values.length === 1 ? 1 : 3, depth: 8, planes: values.map((v) => Buffer.alloc(width * height, v)) });

async function space(data: Buffer): Promise<string | undefined> {
  return (await sharp(data).metadata()).space;
}

async function pixel(data: Buffer, x: number, y: number): Promise<number[]> {
  const { data: px, info } = await sharp(data).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 3;
  return [px[i] ?? -1, px[i + 1] ?? -1, px[i + 2] ?? -1];
}

describe('watermarks of chained pipelines', () => {
  const RED = 'http://marks.test/red.png';
  const BLUE = 'http://marks.test/blue.png';

  it('each pipeline draws its own watermark_url image where its own `watermark` puts it', async () => {
    const marks = new Map([
      [RED, await solid(10, 10, { r: 255, g: 0, b: 0 })],
      [BLUE, await solid(10, 10, { r: 0, g: 0, b: 255 })],
    ]);
    const white = await solid(100, 60, { r: 255, g: 255, b: 255 });
    const r = await processor(white, `wm:1:nowe/wmu:${b64(RED)}/-/wm:1:soea/wmu:${b64(BLUE)}/f:png`, { marks });
    expect([r.width, r.height]).toEqual([100, 60]);
    expect(await pixel(r.data, 5, 5)).toEqual([255, 0, 0]);
    expect(await pixel(r.data, 95, 55)).toEqual([0, 0, 255]);
    expect(await pixel(r.data, 50, 30)).toEqual([255, 255, 255]);
  });

  it('a later pipeline without its own image draws the configured one', async () => {
    const configured = await solid(10, 10, { r: 0, g: 255, b: 0 });
    const marks = new Map([[RED, await solid(10, 10, { r: 255, g: 0, b: 0 })]]);
    const white = await solid(100, 60, { r: 255, g: 255, b: 255 });
    const r = await processor(white, `wm:1:nowe/wmu:${b64(RED)}/-/wm:1:soea/f:png`, { marks, watermark: configured });
    expect(await pixel(r.data, 5, 5)).toEqual([255, 0, 0]);
    expect(await pixel(r.data, 95, 55)).toEqual([0, 255, 0]);
  });
});

describe('a grey result stays grey under a grey mark, judged through the source reader', () => {
  it('a grey PSD mark (read by the PSD codec, not libvips) keeps a grey PNG grey; an RGB PSD mark does not', async () => {
    const source = await greyPng(60, 40, 200);
    const grey = await processor(source, 'wm:1/f:png', { watermark: psd(10, 10, [40]) });
    expect(await space(grey.data)).toBe('b-w');
    const rgb = await processor(source, 'wm:1/f:png', { watermark: psd(10, 10, [250, 0, 0]) });
    expect(await space(rgb.data)).toBe('srgb');
    expect(await pixel(rgb.data, 30, 20)).toEqual([250, 0, 0]);
  });

  it('a text mark counts as coloured', async () => {
    const r = await processor(await greyPng(120, 60, 200), `wm:1/wmt:${b64('XX')}/f:png`, {});
    expect(await space(r.data)).toBe('srgb');
  });

  it('every pipeline\'s mark counts: a grey first mark and a coloured second one make a colour result', async () => {
    const marks = new Map([['http://marks.test/red.png', await solid(10, 10, { r: 255, g: 0, b: 0 })]]);
    const source = await greyPng(60, 40, 200);
    const both = await processor(source, `wm:1:nowe/-/wm:1:soea/wmu:${b64('http://marks.test/red.png')}/f:png`, { marks, watermark: await greyPng(10, 10, 30) });
    expect(await space(both.data)).toBe('srgb');
    const greyOnly = await processor(source, 'wm:1:nowe/-/wm:1:soea/f:png', { watermark: await greyPng(10, 10, 30) });
    expect(await space(greyOnly.data)).toBe('b-w');
  });
});
