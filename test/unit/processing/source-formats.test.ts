// Every format we read, made here by a tool or an encoder (sharp, libjxl in WASM, libheif's
// heif-enc, our BMP/ICO writers): the pipeline resizes it and keeps its picture, /info reports
// its format, size and pages, and the registry names what reads it.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ImageFormat } from '../../../src/formats.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { encodeBmp } from '../../../src/processing/codecs/bmp-write.js';
import { CODECS, readerOf, unavailableCodecs } from '../../../src/processing/codecs/index.js';
import { encodeIco } from '../../../src/processing/codecs/ico-write.js';
import { imageInfo, parseInfoOptions } from '../../../src/processing/info.js';
import { createProcessor } from '../../../src/processing/pipeline.js';
import { heicOf, jxlOf } from '../../fixtures/generate.js';
import { pixelDistance } from '../../helpers/phash.js';
import { encodeIco as icoOf } from '../../conformance/imgproxy/encoders.js';

const config = loadConfig({});
const run = createProcessor(config);
const base = defaultOptions(config);
const opts = (o: Partial<ProcessingOptions> = {}): ProcessingOptions => ({ ...base, ...o });

const W = 120;
const H = 80;

/** Left half red, right half blue, a green band at the bottom: any crop, flip or scaling shows. */
function picture(alpha = false): Buffer {
  const px = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      const c = y >= 60 ? [0, 200, 0] : x < 60 ? [220, 30, 30] : [30, 30, 220];
      px.set([...c, alpha && x < 10 ? 0 : 255], i);
    }
  }
  return px;
}

const rawOf = (rgba: Buffer) => sharp(rgba, { raw: { width: W, height: H, channels: 4 } });

let truth: Buffer;
const sources: Partial<Record<ImageFormat, Buffer>> = {};

beforeAll(async () => {
  const rgba = picture();
  truth = await rawOf(rgba).png().toBuffer();
  sources.jpeg = await rawOf(rgba).jpeg({ quality: 95 }).toBuffer();
  sources.png = truth;
  sources.webp = await rawOf(rgba).webp({ lossless: true }).toBuffer();
  sources.avif = await rawOf(rgba).avif({ quality: 80 }).toBuffer();
  sources.gif = await rawOf(rgba).gif().toBuffer();
  sources.tiff = await rawOf(rgba).tiff().toBuffer();
  sources.bmp = encodeBmp(await rawOf(rgba).removeAlpha().raw().toBuffer(), W, H, 3);
  sources.ico = encodeIco(truth, W, H);
  sources.jxl = await jxlOf(rgba, W, H);
  const heic = heicOf(await rawOf(rgba).removeAlpha().png().toBuffer());
  if (heic) sources.heic = heic;
}, 120_000);

describe('every readable format', () => {
  const formats: ImageFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'bmp', 'ico', 'jxl', 'heic'];

  it.each(formats)('%s: resized through the pipeline, the picture kept', async (format) => {
    const src = sources[format];
    expect(src, `no ${format} source (HEIC needs heif-enc: scripts/ci-packages.txt)`).toBeDefined();
    const r = await run(src as Buffer, opts({ width: 60, format: 'png' }), {});
    expect([r.originFormat, r.originWidth, r.originHeight, r.width, r.height]).toEqual([format, W, H, 60, 40]);
    const small = await sharp(truth).resize(60, 40).png().toBuffer();
    expect(await pixelDistance(r.data, small)).toBeLessThan(12);
  });

  it.each(formats)('%s: /info reports its format, size and pages', async (format) => {
    const src = sources[format] as Buffer;
    const info = await imageInfo(src, src.length, parseInfoOptions([{ name: 'pn', args: ['1'] }, { name: 'avg', args: ['1'] }], config));
    expect(info).toMatchObject({ format, width: W, height: H, pages_number: 1, size: src.length });
    // The average needs the pixels: decoded by the format's reader. Half red, half blue, a green band.
    const avg = info.average as { R: number; G: number; B: number };
    expect(avg.R).toBeGreaterThan(70);
    expect(avg.B).toBeGreaterThan(70);
    expect(avg.G).toBeGreaterThan(40);
  });

  it('/info counts pages and frames', async () => {
    // Three different frames (an encoder may merge equal ones).
    const tall = Buffer.concat([0, 100, 200].map((v) => Buffer.alloc(W * H * 3, v)));
    const gif = await sharp(tall, { raw: { width: W, height: H * 3, channels: 3, pageHeight: H } }).gif().toBuffer();
    const tiff = await sharp(tall, { raw: { width: W, height: H * 3, channels: 3, pageHeight: H } }).tiff().toBuffer();
    for (const [src, format] of [[gif, 'gif'], [tiff, 'tiff']] as const) {
      expect(await imageInfo(src, src.length, parseInfoOptions([{ name: 'pn', args: ['1'] }], config))).toMatchObject({ format, width: W, height: H, pages_number: 3 });
    }
  });
});

describe('ICO: the entry that covers the result', () => {
  it('draws a small result from the small entry, a large one from the large entry', async () => {
    // Two drawings of different colours: which one the result shows says which entry was read.
    const entry = (size: number, colour: string) => sharp({ create: { width: size, height: size, channels: 4, background: colour } }).png().toBuffer();
    const ico = icoOf([
      { kind: 'png', png: await entry(16, '#ff0000'), width: 16, height: 16 },
      { kind: 'png', png: await entry(64, '#0000ff'), width: 64, height: 64 },
    ]);
    const colour = async (o: Partial<ProcessingOptions>): Promise<number[]> => {
      const r = await run(ico, opts({ format: 'png', ...o }), {});
      const { data } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
      return [r.width, data[0] ?? -1, data[2] ?? -1];
    };
    expect(await colour({ width: 16 })).toEqual([16, 255, 0]);
    expect(await colour({ width: 40 })).toEqual([40, 0, 255]);
    // Without a resize, the largest entry, as imgproxy reads it.
    expect(await colour({})).toEqual([64, 0, 255]);
    // A crop needs the image as stored: the largest entry again, whatever the result size.
    expect(await colour({ width: 16, crop: { width: 32, height: 32, gravity: { type: 'ce', x: 0, y: 0 } } })).toEqual([16, 0, 255]);
  });
});

describe('the registry', () => {
  it('has one reading row per format we detect, and names what does the work', () => {
    for (const format of ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'svg', 'heic', 'jxl', 'bmp', 'ico', 'pdf', 'psd', 'mp4', 'mov', 'webm', 'mkv', 'avi'] as const) {
      const row = readerOf(format);
      expect(row?.decoder, format).toBeDefined();
      expect(row?.by.length, format).toBeGreaterThan(0);
    }
    // One row per format and direction: no format has two readers.
    const read = CODECS.filter((c) => c.decoder !== undefined).map((c) => c.format);
    expect(new Set(read).size).toBe(read.length);
    // Every unavailable row says why (heif-convert is installed here, so none is).
    expect(unavailableCodecs()).toEqual(CODECS.filter((c) => !c.available).map((c) => ({ format: c.format, by: c.by, reason: c.unavailableReason })));
    expect(readerOf('heic')?.available).toBe(true);
  });
});
