// The lazy pipeline (one sharp pass for resize, crop, embed, flatten, watermark) gives the same
// image as the held one (every step on raw pixels, forced here by a brightness of 1e-9, which
// changes no pixel): over generated geometry, background, format and watermark options.
// Plus the processing budget: the deadline stops libvips, a canvas bomb is refused at once.
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { GravityType, ProcessingOptions } from '../../../src/options.js';
import { createProcessor } from '../../../src/processing/pipeline.js';
import { alphaPng, orientedJpeg, photoJpeg } from '../../fixtures/generate.js';

const config = loadConfig({});
const run = createProcessor(config);
const base = defaultOptions(config);

const sources: Record<string, Buffer> = {};
let mark: Buffer;
beforeAll(async () => {
  [sources.jpeg, sources.png, sources.oriented] = await Promise.all([photoJpeg(), alphaPng(), orientedJpeg(6)]);
  mark = await sharp({ create: { width: 12, height: 8, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.8 } } }).png().toBuffer();
});

/** Mean absolute difference per sample of two images of the same size and bands, else Infinity. */
async function difference(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((img) => sharp(img).raw().toBuffer({ resolveWithObject: true })));
  if (!x || !y || x.info.width !== y.info.width || x.info.height !== y.info.height || x.info.channels !== y.info.channels) return Infinity;
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += Math.abs((x.data[i] ?? 0) - (y.data[i] ?? 0));
  return sum / x.data.length;
}

const gravities: GravityType[] = ['ce', 'no', 'so', 'ea', 'we', 'noea', 'sowe'];
const options = fc.record({
  source: fc.constantFrom('jpeg', 'png', 'oriented'),
  rt: fc.constantFrom('fit', 'fill', 'fill-down', 'force', 'auto'),
  w: fc.integer({ min: 0, max: 160 }),
  h: fc.integer({ min: 0, max: 160 }),
  enlarge: fc.boolean(),
  dpr: fc.constantFrom(1, 1.5, 2),
  // min-width and zoom scale past the target, where an embed canvas cuts the image.
  minWidth: fc.constantFrom(0, 0, 150),
  zoom: fc.constantFrom(1, 1, 1.7),
  g: fc.constantFrom(...gravities),
  ex: fc.boolean(),
  ear: fc.boolean(),
  pd: fc.option(fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.nat(20)), { nil: null }),
  bg: fc.option(fc.constantFrom({ r: 0, g: 200, b: 0 }, { r: 255, g: 255, b: 255 }), { nil: null }),
  format: fc.constantFrom('png', 'jpeg', 'webp'),
  blur: fc.constantFrom(0, 0, 1.5),
  wm: fc.option(fc.constantFrom('ce', 're', 'soea'), { nil: null }),
});

describe('lazy and held pipelines agree', () => {
  it('on generated options', async () => {
    await fc.assert(
      fc.asyncProperty(options, async (a) => {
        const gravity = { type: a.g, x: 0, y: 0 };
        const o: ProcessingOptions = {
          ...base,
          resizingType: a.rt as ProcessingOptions['resizingType'],
          width: a.w,
          height: a.h,
          enlarge: a.enlarge,
          dpr: a.dpr,
          minWidth: a.minWidth,
          zoomX: a.zoom,
          gravity,
          extend: { enabled: a.ex, gravity },
          extendAspectRatio: { enabled: a.ear, gravity },
          padding: a.pd ? { top: a.pd[0], right: a.pd[1], bottom: a.pd[2], left: a.pd[3] } : null,
          background: a.bg,
          format: a.format as ProcessingOptions['format'],
          blur: a.blur,
          watermark: a.wm ? { opacity: 1, position: a.wm as 'ce', x: 3, y: 2, scale: 0, layout: 'imgproxy' } : null,
        };
        const ctx = a.wm ? { watermark: mark } : {};
        const src = sources[a.source] as Buffer;
        const lazy = await run(src, o, ctx);
        const held = await run(src, { ...o, brightness: 1e-9 }, ctx);
        expect([lazy.format, lazy.width, lazy.height]).toEqual([held.format, held.width, held.height]);
        // Lossless and without blur, the same pixels. A blur in the resize's pass skips one 8-bit
        // rounding, lossy encoders add their noise; a misplaced crop, embed or mark is far more.
        const d = await difference(lazy.data, held.data);
        if (a.format === 'png' && a.blur === 0) expect(d).toBe(0);
        else expect(d).toBeLessThan(3.5);
      }),
      { seed: 42, numRuns: 60 },
    );
  }, 120_000);
});

describe('processing budget', () => {
  const small = () => sharp({ create: { width: 64, height: 48, channels: 3, background: '#c63', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg().toBuffer();

  it('a pass still running at the deadline is stopped by libvips (503)', async () => {
    const started = Date.now();
    const err = await run(await small(), { ...base, resizingType: 'fill', width: 7000, height: 7000, enlarge: true, blur: 300, format: 'png' }, { deadline: Date.now() + 1500 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe('TIMEOUT');
    expect((err as ProxyError).status).toBe(503);
    // Minutes of work without the timeout; seconds with it, even on a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('no pass starts after the deadline or the abort', async () => {
    await expect(run(await small(), base, { deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const ac = new AbortController();
    ac.abort(new ProxyError('TIMEOUT', 'the flow gave up'));
    await expect(run(await small(), base, { signal: ac.signal })).rejects.toMatchObject({ code: 'TIMEOUT', message: 'the flow gave up' });
  });

  it('a canvas bomb is refused before anything is decoded', async () => {
    const started = Date.now();
    const pad = { top: 16500, right: 16500, bottom: 16500, left: 16500 };
    await expect(run(await small(), { ...base, padding: pad }, {})).rejects.toMatchObject({ code: 'RESULT_TOO_BIG', status: 422 });
    await expect(run(await small(), { ...base, resizingType: 'fill', width: 4000, height: 4000, enlarge: true, dpr: 8 }, {})).rejects.toMatchObject({ code: 'RESULT_TOO_BIG' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
