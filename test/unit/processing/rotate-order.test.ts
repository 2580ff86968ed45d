// imgproxy turns the image after the resize (processing/processing.go: scale → rotateAndFlip →
// cropToResult). libvips resamples the two axes in turn, so resizing a turned image gives other
// pixels than turning a resized one (up to 10 levels apart here): the result must be the second.
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createImageProcessor } from '../../../src/image-processor.js';

const W = 200;
const H = 100;
let raw: Buffer;
let png: Buffer;
beforeAll(async () => {
  raw = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      raw[i] = (x * 7 + y * 3) % 256;
      raw[i + 1] = (x * x + y) % 256;
      raw[i + 2] = (((x >> 3) ^ (y >> 3)) * 16) % 256;
    }
  }
  png = await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
});

const run = createImageProcessor(loadConfig({}));
const pixels = async (b: Buffer): Promise<Buffer> => (await sharp(b).removeAlpha().raw().toBuffer());
const differing = (a: Buffer, b: Buffer): number => a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);

describe('rotate and flip after the resize', () => {
  it.each([
    ['rs:force:67:150/rot:90/f:png', (s: Sharp) => s.resize(150, 67, { fit: 'fill' }).rotate(90)],
    // sharp mirrors before it turns: a left-right mirror after a quarter turn is an up-down one before it.
    ['rs:force:40:90/rot:270/fl:1/f:png', (s: Sharp) => s.resize(90, 40, { fit: 'fill' }).rotate(270).flip()],
    ['rs:force:90:40/rot:180/fl:0:1/f:png', (s: Sharp) => s.resize(90, 40, { fit: 'fill' }).rotate(180).flip()],
  ])('%s', async (options, reference) => {
    const ours = await pixels((await run(png, options)).data);
    const resizedThenTurned = await pixels(await reference(sharp(raw, { raw: { width: W, height: H, channels: 3 } })).png().toBuffer());
    expect(differing(ours, resizedThenTurned)).toBe(0);
  });

  it('the other order is measurably different (what the test above would catch)', async () => {
    const turnedFirst = await sharp(await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).rotate(90).png().toBuffer()).resize(67, 150, { fit: 'fill' }).raw().toBuffer();
    const ours = await pixels((await run(png, 'rs:force:67:150/rot:90/f:png')).data);
    expect(differing(ours, turnedFirst)).toBeGreaterThan(100);
  });

  it('a pre-crop cuts the same region before the turn', async () => {
    // crop 100×50 at the north-west corner of the turned image = the stored image's south-west 50×100.
    const ours = await pixels((await run(png, 'rot:90/c:100:50:nowe/f:png')).data);
    const ref = await pixels(await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).extract({ left: 0, top: 0, width: 50, height: 100 }).rotate(90).png().toBuffer());
    expect(differing(ours, ref)).toBe(0);
  });
});
