// Trim runs on the image as stored, before EXIF orientation (imgproxy's order), and
// orientFrame applies all eight EXIF orientations exactly as libvips autorot does.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import { orient, orientFrame, toFrame } from '../../../src/processing/frame.js';
import { createProcessor } from '../../../src/processing/pipeline.js';

const config = loadConfig({});
const run = createProcessor(config);

const like = { depth: 'uchar' as const, run: { deadline: Date.now() + 60_000 } };

describe('orientFrame', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i matches sharp autoOrient', async (n) => {
    const raw = Buffer.alloc(6 * 4 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
    const tagged = await sharp(raw, { raw: { width: 6, height: 4, channels: 3 } }).withMetadata({ orientation: n }).png().toBuffer();
    const want = await toFrame(sharp(tagged).autoOrient(), like);
    const got = await orientFrame(await toFrame(sharp(tagged), like), n);
    expect([got.width, got.height]).toEqual([want.width, want.height]);
    expect(got.data.equals(want.data)).toBe(true);
    // orient() on a pipeline, after a resize in stored orientation and before a crop, is
    // autoOrient + resize + crop (2× nearest: resampling commutes with the quarter turns).
    const [uw, uh] = n >= 5 ? [8, 12] : [12, 8];
    const region = { left: 1, top: 2, width: uw - 2, height: uh - 3 };
    const nearest = { fit: 'fill', kernel: 'nearest' } as const;
    const viaSharp = await toFrame(sharp(tagged).autoOrient().resize(uw, uh, nearest).extract(region), like);
    const viaOrient = await toFrame(orient(sharp(tagged).resize(12, 8, nearest), n).extract(region), like);
    expect([viaOrient.width, viaOrient.height]).toEqual([viaSharp.width, viaSharp.height]);
    expect(viaOrient.data.equals(viaSharp.data)).toBe(true);
  });
});

describe('trim and EXIF orientation', () => {
  it('trims with the stored top-left colour, then orients', async () => {
    // Stored 100×60, white, a black block at x 40–59, y 20–39, and a red block in the stored
    // bottom-left corner, which orientation 6 shows top-left.
    const w = 100;
    const h = 60;
    const px = Buffer.alloc(w * h * 3, 255);
    const paint = (x0: number, y0: number, x1: number, y1: number, c: number[]): void => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) px.set(c, (y * w + x) * 3);
    };
    paint(40, 20, 60, 40, [0, 0, 0]);
    paint(0, 54, 6, 60, [255, 0, 0]);
    const src = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation: 6 }).png().toBuffer();
    const r = await run(src, { ...defaultOptions(config), trim: { threshold: 10, color: null, equalHor: false, equalVer: false } }, {});
    // Stored white margins go: x 0–59, y 20–59 (60×40 stored) → 40×60 once turned upright.
    // Trimming after orientation would take red as the colour and trim nothing (60×100).
    expect([r.width, r.height]).toEqual([40, 60]);
  });
});
