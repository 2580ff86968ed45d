// `best` output format: the complexity measure (PreviewProxy's edge density), which candidates
// an image gets, and, through the real pipeline, that the answer is the smallest candidate.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { OutputFormat } from '../../../src/formats.js';
import type { BestFormatOptions, ProcessingOptions } from '../../../src/options.js';
import { planBest, type BestInput } from '../../../src/processing/best-format.js';
import { edgeDensity } from '../../../src/processing/edge-density.js';
import { createProcessor } from '../../../src/processing/pipeline.js';

const config = loadConfig({});
const run = createProcessor(config);
const opts = (o: Partial<ProcessingOptions> = {}): ProcessingOptions => ({ ...defaultOptions(config), ...o });
const best = (candidates: OutputFormat[], o: Partial<BestFormatOptions> = {}): BestFormatOptions => ({ candidates, complexityThreshold: 5.5, maxResolution: 0, allowSkips: false, ...o });

const plane = (w: number, h: number, f: (x: number, y: number) => number): Uint8Array => Uint8Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w)));

describe('edgeDensity (PreviewProxy best_format.rs)', () => {
  it('a solid plane has none, a checkerboard of 10-pixel squares plenty, a thin image none to measure', () => {
    expect(edgeDensity(plane(20, 20, () => 100), 20, 20)).toBe(0);
    expect(edgeDensity(plane(200, 200, (x, y) => ((Math.floor(x / 10) + Math.floor(y / 10)) % 2 === 0 ? 255 : 0)), 200, 200)).toBeGreaterThanOrEqual(5.5);
    expect(edgeDensity(plane(2, 50, () => 0), 2, 50)).toBe(0);
  });

  it('keeps PreviewProxy\'s kernels: a one-pixel checkerboard cancels out at its own size (its thumbnail enlarges it first)', () => {
    expect(edgeDensity(plane(20, 20, (x, y) => ((x + y) % 2 === 0 ? 255 : 0)), 20, 20)).toBe(0);
  });

  it('one vertical edge marks the two columns beside it', () => {
    const d = edgeDensity(plane(12, 12, (x) => (x < 6 ? 0 : 255)), 12, 12);
    expect(d).toBeCloseTo((2 / 10) * 100, 5);
  });
});

describe('planBest', () => {
  const input = (x: Partial<BestInput> = {}): BestInput => ({ sourceFormat: 'png', width: 100, height: 80, hasAlpha: false, density: async () => 0, smallAvif: 'substitute', ...x });

  it('a complex image leaves out the lossless formats; a simple one keeps them and tries WebP lossless', async () => {
    expect(await planBest(best(['jpeg', 'png', 'webp']), input({ density: async () => 40 }))).toEqual({ formats: ['jpeg', 'webp'], trial: true, simple: false });
    expect(await planBest(best(['jpeg', 'png', 'webp']), input())).toEqual({ formats: ['jpeg', 'png', 'webp'], trial: true, simple: true });
  });

  it('GIF only for a GIF source; alpha only among formats with alpha', async () => {
    expect((await planBest(best(['jpeg', 'gif']), input())).formats).toEqual(['jpeg']);
    expect((await planBest(best(['jpeg', 'gif']), input({ sourceFormat: 'gif' }))).formats).toEqual(['jpeg', 'gif']);
    expect((await planBest(best(['jpeg', 'png']), input({ hasAlpha: true }))).formats).toEqual(['png']);
  });

  it('no candidate that cannot hold the size: ICO over 256 px, imgproxy\'s AVIF under 16 px', async () => {
    expect((await planBest(best(['ico', 'png']), input({ width: 300 }))).formats).toEqual(['png']);
    expect((await planBest(best(['avif', 'jpeg']), input({ width: 10, height: 10 }))).formats).toEqual(['jpeg']);
    expect((await planBest(best(['avif', 'jpeg']), input({ width: 10, height: 10, smallAvif: 'keep' }))).formats).toEqual(['avif', 'jpeg']);
  });

  it('above the resolution limit nothing is tried: the first candidate left', async () => {
    expect(await planBest(best(['webp', 'jpeg'], { maxResolution: 0.001 }), input())).toMatchObject({ formats: ['webp', 'jpeg'], trial: false });
  });

  it('the density is measured only when a candidate depends on it', async () => {
    let asked = 0;
    await planBest(best(['jpeg', 'avif']), input({ density: async () => ++asked }));
    expect(asked).toBe(0);
  });
});

describe('best through the pipeline', () => {
  const noise = async (): Promise<Buffer> => {
    const px = Buffer.alloc(120 * 90 * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
    return sharp(px, { raw: { width: 120, height: 90, channels: 3 } }).png().toBuffer();
  };

  it('answers the smallest of the candidates, each encoded as it would be on its own', async () => {
    const src = await noise();
    const candidates: OutputFormat[] = ['jpeg', 'webp', 'avif'];
    const alone = await Promise.all(candidates.map(async (f) => ({ f, size: (await run(src, opts({ format: f }), {})).data.length })));
    const smallest = alone.reduce((a, b) => (b.size < a.size ? b : a));
    const r = await run(src, opts({ bestFormat: best(candidates) }), {});
    expect(r.format).toBe(smallest.f);
    expect(r.data.length).toBe(smallest.size);
  }, 60_000);

  it('a small flat image is won by PNG, which a complex one never gets', async () => {
    const flat = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#3366aa' } }).jpeg().toBuffer();
    expect((await run(flat, opts({ bestFormat: best(['jpeg', 'png']) }), {})).format).toBe('png');
    expect((await run(await noise(), opts({ bestFormat: best(['png', 'jpeg']) }), {})).format).toBe('jpeg');
  });

  it('IMGPROXY_BEST_FORMAT_ALLOW_SKIPS serves a skip_processing source as it is; without it, best re-encodes', async () => {
    const src = await noise();
    const skip = { skipProcessingFormats: ['png' as const] };
    const kept = await run(src, opts({ ...skip, bestFormat: best(['jpeg', 'png'], { allowSkips: true }) }), {});
    expect(kept.data.equals(src)).toBe(true);
    const redone = await run(src, opts({ ...skip, bestFormat: best(['jpeg', 'png']) }), {});
    expect(redone.data.equals(src)).toBe(false);
  });
});
