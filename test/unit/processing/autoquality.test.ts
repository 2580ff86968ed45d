// imgproxy Pro's autoquality: the two searches on encoders whose sizes and DSSIMs are known, the
// DSSIM measure itself, and the real pipeline meeting a size and a DSSIM target.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createImgproxyDialect } from '../../../src/dialects/imgproxy/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { byDssim, bySize, qualityRange } from '../../../src/processing/autoquality.js';
import { dssimOf, toRgba } from '../../../src/processing/compare.js';
import { createProcessor } from '../../../src/processing/pipeline.js';
import { dssim } from '../../../src/processing/ssim.js';
import { photoPixels } from '../../fixtures/generate.js';

const config = loadConfig({});
const run = createProcessor(config);
const opts = (o: Partial<ProcessingOptions> = {}): ProcessingOptions => ({ ...defaultOptions(config), ...o });
const far = { deadline: Date.now() + 600_000 };

/** An "encoder" whose output is 100 bytes per quality point, recording what it was asked. */
function sized(): { encode: (q: number) => Promise<Buffer>; asked: number[] } {
  const asked: number[] = [];
  return { asked, encode: async (q) => (asked.push(q), Buffer.alloc(q * 100)) };
}

describe('the searches', () => {
  it('size: the highest quality within the target, in a handful of encodes', async () => {
    const e = sized();
    const r = await bySize(e.encode, { min: 10, max: 90 }, 5_050);
    expect(r.quality).toBe(50);
    expect(r.data.length).toBeLessThanOrEqual(5_050);
    expect(e.asked.length).toBeLessThanOrEqual(8);
  });

  it('size: nothing fits → the minimum quality; everything fits → the maximum', async () => {
    expect((await bySize(sized().encode, { min: 40, max: 80 }, 10)).quality).toBe(40);
    expect((await bySize(sized().encode, { min: 40, max: 80 }, 1e9)).quality).toBe(80);
  });

  it('dssim: the lowest quality whose DSSIM is within the target; none → the maximum', async () => {
    const measure = async (d: Buffer) => 1 / (d.length / 100); // DSSIM falls as quality rises
    expect((await byDssim(sized().encode, measure, { min: 1, max: 100 }, 0.02, 0)).quality).toBe(50);
    expect((await byDssim(sized().encode, measure, { min: 1, max: 20 }, 0.02, 0)).quality).toBe(20);
    // Within the allowed error the search stops at once.
    const e = sized();
    expect((await byDssim(e.encode, measure, { min: 1, max: 100 }, 0.02, 1)).quality).toBe(50);
    expect(e.asked).toEqual([50]);
  });

  it('an abort stops the search', async () => {
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(bySize(sized().encode, { min: 1, max: 100 }, 10, ac.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('the range: the URL, else the per-format variable, else the global one', () => {
    const c = loadConfig({ IMGPROXY_AUTOQUALITY_MIN: '30', IMGPROXY_AUTOQUALITY_FORMAT_MAX: 'webp=60' });
    const aq = defaultOptions(c).autoquality;
    expect(qualityRange('webp', aq, c)).toEqual({ min: 30, max: 60 });
    expect(qualityRange('jpeg', aq, c)).toEqual({ min: 30, max: 80 });
    // Setting IMGPROXY_AUTOQUALITY_FORMAT_MAX replaces its default (avif=50); FORMAT_MIN's avif=40 stays.
    expect(qualityRange('avif', aq, c)).toEqual({ min: 40, max: 80 });
    expect(qualityRange('avif', defaultOptions(config).autoquality, config)).toEqual({ min: 40, max: 50 });
    expect(qualityRange('webp', { ...aq, min: 55, max: 70 }, c)).toEqual({ min: 55, max: 70 });
  });
});

describe('dssim', () => {
  it('0 for the same pixels, more for more noise', () => {
    const a = Buffer.from(photoPixels());
    const noisy = (amp: number) => Buffer.from(a.map((v, i) => Math.max(0, Math.min(255, v + (((i * 2654435761) >>> 28) - 8) * amp))));
    expect(dssim(a, a, 120, 80, 3)).toBe(0);
    const small = dssim(a, noisy(1), 120, 80, 3);
    const big = dssim(a, noisy(6), 120, 80, 3);
    expect(small).toBeGreaterThan(0);
    expect(big).toBeGreaterThan(small);
  });
});

describe('autoquality through the pipeline', () => {
  const photo = () => sharp(photoPixels(), { raw: { width: 120, height: 80, channels: 3 } }).resize(480, 320).png().toBuffer();

  it('size: the result fits the target, and a larger target gives a larger result', async () => {
    const src = await photo();
    const aq = (target: number) => opts({ format: 'jpeg', autoquality: { method: 'size', target, min: 5, max: 95, allowedError: 0.001 } });
    const [tight, loose] = await Promise.all([run(src, aq(8_000), {}), run(src, aq(40_000), {})]);
    expect(tight.data.length).toBeLessThanOrEqual(8_000);
    expect(loose.data.length).toBeLessThanOrEqual(40_000);
    expect(loose.data.length).toBeGreaterThan(tight.data.length);
  });

  it('dssim: the result is within the DSSIM target of the pipeline\'s pixels', async () => {
    const src = await photo();
    const target = 0.01;
    const r = await run(src, opts({ format: 'webp', autoquality: { method: 'dssim', target, min: 5, max: 95, allowedError: 0.001 } }), {});
    const reference = await toRgba(sharp(src), far);
    expect(await dssimOf(reference, r.data, 'webp', far)).toBeLessThanOrEqual(target + 0.001);
    // A looser target gives a smaller file.
    const loose = await run(src, opts({ format: 'webp', autoquality: { method: 'dssim', target: 0.05, min: 5, max: 95, allowedError: 0.001 } }), {});
    expect(loose.data.length).toBeLessThan(r.data.length);
  }, 60_000);

  it('the URL option and its refusal of ml', () => {
    const d = createImgproxyDialect(config);
    const parse = (o: string) => d.parseImage(`/unsafe/${o}/plain/http://e.com/a.jpg`, {}).options;
    expect(parse('aq:size:10240:10:80').autoquality).toEqual({ method: 'size', target: 10240, min: 10, max: 80, allowedError: 0.001 });
    expect(parse('autoquality:dssim:0.02:70:80:0.002').autoquality).toMatchObject({ method: 'dssim', allowedError: 0.002 });
    expect(() => parse('aq:ml:0.02')).toThrow(/neural network/);
  });
});

describe('encoder variables at startup', () => {
  it('IMGPROXY_AUTOQUALITY_METHOD=ml stops startup saying why; none, size and dssim start', async () => {
    const { inspectConfig } = await import('../../../src/config/index.js');
    expect(inspectConfig({ IMGPROXY_AUTOQUALITY_METHOD: 'ml' }).errors).toEqual([expect.stringMatching(/^IMGPROXY_AUTOQUALITY_METHOD: .*neural network/)]);
    for (const m of ['none', 'size', 'dssim']) expect(inspectConfig({ IMGPROXY_AUTOQUALITY_METHOD: m }).errors).toEqual([]);
  });

  it('PP_BEST_FORMAT_PREFERRED_FORMATS: an unknown name is warned about and skipped, none known stops startup', async () => {
    const { inspectConfig } = await import('../../../src/config/index.js');
    const some = inspectConfig({ PP_BEST_FORMAT_PREFERRED_FORMATS: 'webp,heic,png' });
    expect(some.errors).toEqual([]);
    expect(some.warnings).toContain('PP_BEST_FORMAT_PREFERRED_FORMATS: unknown format "heic" ignored');
    expect(some.config?.previewproxy.bestFormatPreferredFormats).toEqual(['webp', 'png']);
    expect(inspectConfig({ PP_BEST_FORMAT_PREFERRED_FORMATS: 'heic' }).errors).toEqual([expect.stringMatching(/^PP_BEST_FORMAT_PREFERRED_FORMATS: /)]);
  });

  it('the JPEG variables reach the encoder: no subsampling makes a larger JPEG', async () => {
    const src = await sharp(photoPixels(), { raw: { width: 120, height: 80, channels: 3 } }).png().toBuffer();
    const sub = createProcessor(loadConfig({}));
    const full = createProcessor(loadConfig({ IMGPROXY_JPEG_NO_SUBSAMPLE: 'true' }));
    const [a, b] = await Promise.all([sub(src, opts({ format: 'jpeg' }), {}), full(src, opts({ format: 'jpeg', jpegOptions: { ...opts().jpegOptions, noSubsample: true } }), {})]);
    expect(b.data.length).toBeGreaterThan(a.data.length);
    // and jpeg_options in the URL sets the same
    const d = createImgproxyDialect(config);
    expect(d.parseImage('/unsafe/jpgo:1:1:1:1:1:3/plain/http://e.com/a.jpg', {}).options.jpegOptions).toEqual({ progressive: true, noSubsample: true, trellisQuant: true, overshootDeringing: true, optimizeScans: true, quantTable: 3 });
    expect(d.parseImage('/unsafe/webpo:near_lossless:1:photo/avifo:off/pngo:1:1:16/plain/http://e.com/a.jpg', {}).options).toMatchObject({
      webpOptions: { compression: 'near_lossless', smartSubsample: true, preset: 'photo' },
      avifSubsample: 'off',
      pngOptions: { interlaced: true, quantize: true, quantizationColors: 16 },
    });
  });
});
