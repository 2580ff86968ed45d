// Every output format written by the real pipeline and read back: the result is in the asked
// format, of the asked size, shows the source's pixels (mean channel distance) and keeps its
// alpha where the format has one. Then the codec workers' limits: a JPEG XL too large for its
// encoder, a job stopped by its deadline or by an abort, a missing tool named.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { OutputFormat } from '../../../src/formats.js';
import type { ProcessingOptions } from '../../../src/options.js';
import type { JxlEncodeJob } from '../../../src/processing/codecs/jobs.js';
import { JXL_ENCODE_MODULE, jxlWasm } from '../../../src/processing/codecs/jxl-encoder.js';
import { probeTool } from '../../../src/processing/codecs/tool.js';
import { copyToTransfer, runJob } from '../../../src/processing/codecs/worker-pool.js';
import { decodeRgba } from '../../../src/processing/compare.js';
import { writableFormats } from '../../../src/processing/format.js';
import { createProcessor } from '../../../src/processing/pipeline.js';

const config = loadConfig({});
const run = createProcessor(config);
const opts = (o: Partial<ProcessingOptions> = {}): ProcessingOptions => ({ ...defaultOptions(config), ...o });
const far = { deadline: Date.now() + 600_000 };

/** A gradient with a half-transparent band: colours, edges and alpha to compare. */
async function source(width: number, height: number): Promise<{ png: Buffer; rgba: Buffer }> {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      rgba[i] = Math.round((x / width) * 255);
      rgba[i + 1] = Math.round((y / height) * 255);
      rgba[i + 2] = 128;
      rgba[i + 3] = y < height / 3 ? 96 : 255;
    }
  }
  return { png: await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer(), rgba };
}

/** Mean absolute difference of two RGBA buffers of one size, per channel (alpha included when both have it). */
function distance(a: Buffer, b: Buffer, channels: number[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (const c of channels) {
      sum += Math.abs((a[i + c] ?? 0) - (b[i + c] ?? 0));
      n++;
    }
  }
  return sum / n;
}

/** The result as RGBA, read by what reads each format (the source reader: our BMP/ICO decoders, libjxl, heif-convert, libvips). */
const readBack = (data: Buffer): Promise<{ data: Buffer; width: number; height: number }> => decodeRgba(data, far);

/** Magic bytes of each written format. */
const MAGIC: Record<string, (b: Buffer) => boolean> = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8,
  png: (b) => b.subarray(1, 4).toString('latin1') === 'PNG',
  webp: (b) => b.subarray(8, 12).toString('latin1') === 'WEBP',
  avif: (b) => b.subarray(4, 12).toString('latin1') === 'ftypavif',
  gif: (b) => b.subarray(0, 3).toString('latin1') === 'GIF',
  tiff: (b) => ['II*\0', 'MM\0*'].includes(b.subarray(0, 4).toString('latin1')),
  jxl: (b) => b[0] === 0xff && b[1] === 0x0a,
  bmp: (b) => b.subarray(0, 2).toString('latin1') === 'BM',
  ico: (b) => b.readUInt32BE(0) === 0x00000100,
  heic: (b) => b.subarray(4, 12).toString('latin1') === 'ftypheic',
};

/** Lossy formats get a looser bound; GIF's palette dithers, so it gets the loosest. */
const MAX_DISTANCE: Partial<Record<OutputFormat, number>> = { png: 0.5, tiff: 1, bmp: 0.5, ico: 0.5, gif: 12 };

describe('round trip of every output format', () => {
  let src: { png: Buffer; rgba: Buffer };
  beforeAll(async () => {
    src = await source(96, 64);
  });

  const formats = (['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'jxl', 'bmp', 'ico', 'heic'] as const).filter((f) => f !== 'heic' || writableFormats().has('heic'));
  it.each(formats)('%s: the asked format and size, the source pixels, its alpha', async (format) => {
    const r = await run(src.png, opts({ format }), {});
    expect(r.format).toBe(format);
    expect(MAGIC[format]?.(r.data), `${format} magic bytes`).toBe(true);
    expect([r.width, r.height]).toEqual([96, 64]);
    const back = await readBack(r.data);
    expect([back.width, back.height]).toEqual([96, 64]);
    if (format !== 'jpeg') {
      // Colour and alpha both survive (GIF keeps only 1-bit alpha: compare colour where opaque).
      const opaque = (b: Buffer): Buffer => Buffer.from(b.subarray((96 * 64 * 4 * 2) / 3 + 96 * 4));
      if (format === 'gif') expect(distance(opaque(back.data), opaque(src.rgba), [0, 1, 2])).toBeLessThan(MAX_DISTANCE.gif ?? 0);
      else expect(distance(back.data, src.rgba, [0, 1, 2, 3])).toBeLessThan(MAX_DISTANCE[format] ?? 6);
    } else {
      // JPEG flattens on white, as imgproxy does: the opaque rows keep their colour.
      const rows = (b: Buffer): Buffer => Buffer.from(b.subarray(Math.ceil(64 / 3) * 96 * 4));
      expect(distance(rows(back.data), rows(src.rgba), [0, 1, 2])).toBeLessThan(6);
    }
  }, 60_000);

  it('TIFF with alpha keeps its alpha channel (it came back RGB on black)', async () => {
    const r = await run(src.png, opts({ format: 'tiff' }), {});
    const meta = await sharp(r.data).metadata();
    expect(meta.channels).toBe(4);
    const { data } = await sharp(r.data).raw().toBuffer({ resolveWithObject: true });
    expect(data[3]).toBe(96);
  });

  it('an opaque TIFF is JPEG-compressed: its quality applies', async () => {
    const photo = await sharp(src.png).removeAlpha().png().toBuffer();
    const [lo, hi] = await Promise.all([run(photo, opts({ format: 'tiff', quality: 20 }), {}), run(photo, opts({ format: 'tiff', quality: 95 }), {})]);
    expect(lo.data.length).toBeLessThan(hi.data.length);
  });

  it('ICO results are fitted into 256 × 256 (imgproxy fixSize)', async () => {
    const big = await source(600, 300);
    const r = await run(big.png, opts({ format: 'ico' }), {});
    expect([r.width, r.height]).toEqual([256, 128]);
    const back = await readBack(r.data);
    expect([back.width, back.height]).toEqual([256, 128]);
  });

  it('IMGPROXY_JXL_EFFORT changes the JPEG XL encoding', async () => {
    const fast = createProcessor(loadConfig({ IMGPROXY_JXL_EFFORT: '1' }));
    const slow = createProcessor(loadConfig({ IMGPROXY_JXL_EFFORT: '9' }));
    const [a, b] = await Promise.all([fast(src.png, opts({ format: 'jxl' }), {}), slow(src.png, opts({ format: 'jxl' }), {})]);
    expect(a.data.equals(b.data)).toBe(false);
  }, 60_000);
});

describe('codec limits', () => {
  it('a JPEG XL result over the encoder limit is RESULT_TOO_BIG when asked for, another format when negotiated', async () => {
    const big = await sharp({ create: { width: 4100, height: 4100, channels: 3, background: '#336699' } }).png().toBuffer();
    await expect(run(big, opts({ format: 'jxl' }), {})).rejects.toMatchObject({ code: 'RESULT_TOO_BIG', status: 422 });
    const r = await run(big, opts({ preferJxl: true, preferWebp: true }), {});
    expect(r.format).toBe('webp');
  }, 60_000);

  async function bigJxlJob(): Promise<JxlEncodeJob> {
    const pixels = copyToTransfer(Buffer.alloc(2048 * 2048 * 4, 0x7f));
    return { kind: 'jxl-encode', module: JXL_ENCODE_MODULE, wasm: await jxlWasm('enc'), pixels, width: 2048, height: 2048, quality: 80, effort: 9, lossless: false };
  }

  it('an abort stops the thread: CANCELLED at once, not after the encode', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new ProxyError('CANCELLED', 'client left')), 100);
    await expect(runJob(await bigJxlJob(), [], { deadline: Date.now() + 60_000, signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 30_000);

  it('the deadline stops the thread: TIMEOUT', async () => {
    const started = Date.now();
    await expect(runJob(await bigJxlJob(), [], { deadline: Date.now() + 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 30_000);

  it('a codec failure is a 422, not a 500', async () => {
    const job = { kind: 'jxl-encode' as const, module: JXL_ENCODE_MODULE, wasm: await jxlWasm('enc'), pixels: copyToTransfer(Buffer.alloc(16)), width: 100, height: 100, quality: 80, effort: 4, lossless: false };
    await expect(runJob(job, [], far)).rejects.toMatchObject({ status: 422 });
  }, 30_000);

  it('a missing tool is named, with its Debian package', () => {
    const probe = probeTool('pixproxy-no-such-tool', ['--version'], () => null, 'some-package');
    expect(probe).toEqual({ available: false, reason: 'pixproxy-no-such-tool is not installed (Debian package some-package)' });
  });
});
