// Greyscale sources keep their colourspace (imgproxy preserves colour vs grey) unless an
// operation adds colour.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { createProcessor } from '../../../src/processing/pipeline.js';

const config = loadConfig({});
const run = createProcessor(config);
const opts = (o: Partial<ProcessingOptions> = {}): ProcessingOptions => ({ ...defaultOptions(config), ...o });

let greyJpeg: Buffer;
let greyAlphaPng: Buffer;

beforeAll(async () => {
  greyJpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 120, g: 120, b: 120 } } }).toColourspace('b-w').jpeg().toBuffer();
  greyAlphaPng = await sharp({ create: { width: 64, height: 48, channels: 4, background: { r: 90, g: 90, b: 90, alpha: 0.5 } } }).toColourspace('b-w').png().toBuffer();
});

async function bands(data: Buffer): Promise<{ channels: number; space: string | undefined }> {
  const m = await sharp(data).metadata();
  return { channels: m.channels, space: m.space };
}

describe('greyscale sources', () => {
  it('a grey JPEG stays a one-channel grey JPEG with its grey level', async () => {
    const r = await run(greyJpeg, opts({ width: 32 }), {});
    expect(r.format).toBe('jpeg');
    expect(await bands(r.data)).toEqual({ channels: 1, space: 'b-w' });
    const { data } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
    expect(Math.abs((data[0] ?? 0) - 120)).toBeLessThanOrEqual(2);
  });

  it('grey with alpha stays two channels in PNG, also when the colour profile is kept', async () => {
    const r = await run(greyAlphaPng, opts({ width: 32, stripColorProfile: false }), {});
    expect(r.format).toBe('png');
    expect(await bands(r.data)).toEqual({ channels: 2, space: 'b-w' });
  });

  it('a coloured background over padding makes it colour', async () => {
    const r = await run(greyJpeg, opts({ width: 32, padding: { top: 4, right: 4, bottom: 4, left: 4 }, background: { r: 255, g: 0, b: 0 } }), {});
    expect((await bands(r.data)).channels).toBe(3);
    const { data } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[1]).toBeLessThan(60);
  });

  it('a grey background keeps it grey; a colour source stays colour', async () => {
    const grey = await run(greyJpeg, opts({ width: 32, padding: { top: 4, right: 4, bottom: 4, left: 4 }, background: { r: 10, g: 10, b: 10 } }), {});
    expect((await bands(grey.data)).channels).toBe(1);
    const colour = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();
    expect((await bands((await run(colour, opts({ width: 32 }), {})).data)).channels).toBe(3);
  });
});

describe('monochrome', () => {
  let red: Buffer;
  beforeAll(async () => {
    red = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 220, g: 40, b: 30 } } }).png().toBuffer();
  });

  it('a full grey monochrome makes a colour PNG one grey channel', async () => {
    const r = await run(red, opts({ monochrome: { intensity: 1, color: '808080' } }), {});
    expect(r.format).toBe('png');
    expect(await bands(r.data)).toEqual({ channels: 1, space: 'b-w' });
  });

  it('a coloured tint keeps three channels, every pixel of the tint\'s hue', async () => {
    const r = await run(red, opts({ monochrome: { intensity: 1, color: '3050d0' } }), {});
    const { data, info } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    // Blue dominates where the source was red: the colour was replaced, not kept.
    expect(data[2]).toBeGreaterThan(data[0] ?? 255);
  });

  it('half intensity leaves the colour half way', async () => {
    const { data } = await sharp((await run(red, opts({ monochrome: { intensity: 0.5, color: '808080' } }), {})).data).raw().toBuffer({ resolveWithObject: true });
    const [r = 0, g = 0] = data;
    expect(r - g).toBeGreaterThan(40);
    expect(r - g).toBeLessThan(180);
  });
});
