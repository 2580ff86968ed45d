import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import type { WatermarkOptions, WatermarkPosition } from '../../../src/options.js';
import { pixelLimits } from '../../../src/processing/limits.js';
import { loadWatermark, markSize, roundToEven, watermarkOverlays, type MarkRequest } from '../../../src/processing/watermark.js';
import { encodedMark, rotatedSize } from '../../../src/processing/watermark-mark.js';

const CANVAS = { width: 100, height: 80 };
const LIMITS = pixelLimits(loadConfig({}));
const RUN = { deadline: Date.now() + 600_000 };
const solid = (width: number, height: number, background: string): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 4, background } }).png().toBuffer();
const wm = (over: Partial<WatermarkOptions>): WatermarkOptions => ({ opacity: 1, position: 'ce', x: 0, y: 0, scale: 0, layout: 'imgproxy', ...over });

/** Overlays of `png` on CANVAS (or `canvas`) with these options. */
async function overlaysOf(png: Buffer, opts: Partial<WatermarkOptions>, extra: Partial<MarkRequest> = {}, canvas = CANVAS): Promise<OverlayOptions[]> {
  const mark = await encodedMark(png, 50e6, LIMITS, true);
  return watermarkOverlays(mark, canvas, { opts: wm(opts), baseOpacity: 1, ...extra }, LIMITS, RUN);
}

function box(o: OverlayOptions): { left: number; top: number; width: number; height: number } {
  return { left: o.left ?? -1, top: o.top ?? -1, width: o.raw?.width ?? -1, height: o.raw?.height ?? -1 };
}

async function compositeOn(canvasColour: string, overlays: OverlayOptions[]): Promise<{ data: Buffer; at: (x: number, y: number) => number[] }> {
  const { data } = await sharp({ create: { ...CANVAS, channels: 3, background: canvasColour } }).composite(overlays).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, at: (x, y) => [...data.subarray((y * CANVAS.width + x) * 3, (y * CANVAS.width + x) * 3 + 3)] };
}

describe('watermarkOverlays, imgproxy layout', () => {
  it('rounds like Go math.RoundToEven', () => {
    expect([roundToEven(40.5), roundToEven(35.5), roundToEven(-0.5), roundToEven(2.4)]).toEqual([40, 36, -0, 2]);
  });

  const cases: [WatermarkPosition, number, number][] = [
    ['ce', 45, 39],
    ['no', 45, 3],
    ['so', 45, 67],
    ['ea', 75, 39],
    ['we', 5, 39],
    ['noea', 75, 3],
    ['nowe', 5, 3],
    ['soea', 75, 67],
    ['sowe', 5, 67],
  ];
  it.each(cases)('places %s with offsets x=5 y=3 at (%i, %i)', async (position, left, top) => {
    const overlays = await overlaysOf(await solid(20, 10, '#ff0000ff'), { position, x: 5, y: 3 });
    expect(overlays.map(box)).toEqual([{ left, top, width: 20, height: 10 }]);
    const img = await compositeOn('#000000', overlays);
    expect(img.at(left, top)).toEqual([255, 0, 0]);
    expect(img.at(left + 19, top + 9)).toEqual([255, 0, 0]);
    expect(img.at(left + 20 < 100 ? left + 20 : left - 1, top)).toEqual([0, 0, 0]);
  });

  it('treats offsets below 1 as fractions of the canvas, and multiplies pixel offsets by the dpr', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    const [o] = await overlaysOf(mark, { position: 'nowe', x: 0.1, y: 0.25 });
    expect(o && box(o)).toEqual({ left: 10, top: 20, width: 20, height: 10 });
    const [d] = await overlaysOf(mark, { position: 'nowe', x: 5, y: 3 }, { offsetScale: 2 });
    expect(d && box(d)).toEqual({ left: 10, top: 6, width: 20, height: 10 });
  });

  it('tiles `re` symmetrically with x/y as spacing, clipping edge tiles, as one tiled overlay', async () => {
    const overlays = await overlaysOf(await solid(20, 10, '#ff0000ff'), { position: 're', x: 10, y: 10 });
    // However many tiles, one overlay: sharp replicates the cell.
    expect(overlays).toHaveLength(1);
    // 5×5 cells of 30×20 centred on 100×80: columns at 10, 40, 70; rows at −5, 15, 35, 55, 75.
    const img = await compositeOn('#000000', overlays);
    const red = (x: number, y: number): boolean => {
      const inCol = [10, 40, 70].some((c) => x >= c && x < c + 20);
      const inRow = [-5, 15, 35, 55, 75].some((r) => y >= r && y < r + 10);
      return inCol && inRow;
    };
    for (let y = 0; y < CANVAS.height; y++) {
      for (let x = 0; x < CANVAS.width; x++) expect(img.at(x, y), `pixel ${x},${y}`).toEqual(red(x, y) ? [255, 0, 0] : [0, 0, 0]);
    }
  });

  it('tiles a cell larger than the canvas as its centred window', async () => {
    // Cells of 20+150 × 10+0: one column, centred; the mark sits 75 px into its cell.
    const overlays = await overlaysOf(await solid(20, 10, '#ff0000ff'), { position: 're', x: 150, y: 0 });
    const img = await compositeOn('#000000', overlays);
    // Cell 170 wide on 100: shift 35, so the mark spans x 40–59, on every row.
    for (const y of [0, 9, 10, 79]) {
      expect(img.at(39, y)).toEqual([0, 0, 0]);
      expect(img.at(40, y)).toEqual([255, 0, 0]);
      expect(img.at(59, y)).toEqual([255, 0, 0]);
      expect(img.at(60, y)).toEqual([0, 0, 0]);
    }
  });

  it('a tiny tiled mark is still one overlay (no per-tile objects)', async () => {
    const overlays = await overlaysOf(await solid(1, 1, '#ff0000ff'), { position: 're' }, {}, { width: 4000, height: 4000 });
    expect(overlays).toHaveLength(1);
    expect(overlays[0]?.tile).toBe(true);
  });

  it('refuses a scale that makes the mark larger than the intermediate bound', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    await expect(overlaysOf(mark, { position: 're', scale: 1e6 })).rejects.toMatchObject({ code: 'RESULT_TOO_BIG', status: 422 });
    await expect(overlaysOf(mark, { scale: 1e308 })).rejects.toMatchObject({ code: 'RESULT_TOO_BIG' });
  });

  it('a mark larger than the image is clipped where it lands, and only the part that shows is made', async () => {
    // scale 2 fits 20×10 into 200×160: 200×100, centred at (−50, −10); the overlay is its
    // middle 100×80, one canvas of the image's size, not the whole mark.
    const [one] = await overlaysOf(await solid(20, 10, '#ff0000ff'), { scale: 2 });
    expect(one && box(one)).toEqual({ left: 0, top: 0, width: 100, height: 80 });
    // A natural-size mark over the edge keeps ≥ 1 px on the image (imgproxy's calcPosition).
    const [edge] = await overlaysOf(await solid(200, 100, '#ff0000ff'), { position: 'nowe', x: 150, y: 0 });
    expect(edge && box(edge)).toEqual({ left: 99, top: 0, width: 1, height: 80 });
  });

  it('applies opacity = base × option', async () => {
    const mark = await encodedMark(await solid(20, 10, '#ff0000ff'), 50e6, LIMITS, true);
    const overlays = await watermarkOverlays(mark, CANVAS, { opts: wm({ opacity: 0.5 }), baseOpacity: 0.5 }, LIMITS, RUN);
    const img = await compositeOn('#ffffff', overlays);
    const [r, g, b] = img.at(50, 40);
    expect(r).toBe(255);
    expect(g).toBeGreaterThanOrEqual(189);
    expect(g).toBeLessThanOrEqual(193); // 255 × 0.75
    expect(b).toBe(g);
    expect(await watermarkOverlays(mark, CANVAS, { opts: wm({ opacity: 1 }), baseOpacity: 0 }, LIMITS, RUN)).toEqual([]);
  });

  it('scales relative to the canvas (fit into scale × canvas), or to watermark_size when the scale is 0', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    const [scaled] = await overlaysOf(mark, { scale: 0.5 });
    expect(scaled && { w: box(scaled).width, h: box(scaled).height }).toEqual({ w: 50, h: 25 });
    const [sized] = await overlaysOf(mark, {}, { size: { width: 40, height: 0 } });
    expect(sized && { w: box(sized).width, h: box(sized).height }).toEqual({ w: 40, h: 20 });
    const [both] = await overlaysOf(mark, {}, { size: { width: 60, height: 10 } });
    expect(both && { w: box(both).width, h: box(both).height }).toEqual({ w: 20, h: 10 });
    // The scale wins over watermark_size (imgproxy Pro's docs).
    expect(markSize({ width: 20, height: 10 }, CANVAS, { opts: wm({ scale: 0.5 }), baseOpacity: 1, size: { width: 10, height: 10 } })).toEqual({ width: 50, height: 25 });
  });

  it('rotates the mark on its bounding box, transparent around it', async () => {
    const [turned] = await overlaysOf(await solid(20, 10, '#ff0000ff'), { position: 'nowe' }, { rotate: 90 });
    expect(turned && box(turned)).toEqual({ left: 0, top: 0, width: 10, height: 20 });
    const [tilted] = await overlaysOf(await solid(20, 10, '#ff0000ff'), { position: 'nowe' }, { rotate: 45 });
    const size = rotatedSize(20, 10, 45);
    expect(tilted && Math.abs(box(tilted).width - size.width)).toBeLessThanOrEqual(1);
    const img = await compositeOn('#000000', tilted ? [tilted] : []);
    // The corner of the bounding box is outside the turned rectangle; its centre is inside.
    expect(img.at(0, 0)).toEqual([0, 0, 0]);
    const [cx, cy] = [Math.floor(box(tilted as OverlayOptions).width / 2), Math.floor(box(tilted as OverlayOptions).height / 2)];
    expect(img.at(cx, cy)[0]).toBeGreaterThan(200);
  });

  it('adds a shadow: a dark blur around the mark, 3 sigma wide', async () => {
    const [shadowed] = await overlaysOf(await solid(20, 10, '#ffffffff'), { position: 'nowe' }, { shadow: 2 });
    expect(shadowed && box(shadowed)).toEqual({ left: 0, top: 0, width: 32, height: 22 });
    const img = await compositeOn('#ffffff', shadowed ? [shadowed] : []);
    // Just outside the white mark the white canvas is darkened by the shadow.
    expect(img.at(5, 7)[0]).toBeLessThan(200);
    expect(img.at(15, 11)).toEqual([255, 255, 255]);
  });

  it('rejects an undecodable watermark with 422, and one over the source resolution limit before decoding', async () => {
    await expect(encodedMark(Buffer.from('nope'), 50e6, LIMITS, true)).rejects.toMatchObject({ code: 'INVALID_IMAGE', status: 422 });
    await expect(encodedMark(await solid(200, 100, '#ff0000ff'), 10_000, LIMITS, true)).rejects.toMatchObject({ code: 'SOURCE_RESOLUTION_TOO_BIG' });
  });
});

describe('watermarkOverlays, PreviewProxy layout', () => {
  const pp = (over: Partial<WatermarkOptions>): Partial<WatermarkOptions> => ({ layout: 'previewproxy', ...over });

  it('adds offsets to the top-left corner and truncates the centre (compute_single_position)', async () => {
    const mark = await solid(21, 10, '#ff0000ff');
    const [ce] = await overlaysOf(mark, pp({ position: 'ce' }));
    expect(ce && box(ce)).toEqual({ left: 39, top: 35, width: 21, height: 10 });
    const [ea] = await overlaysOf(mark, pp({ position: 'noea', x: -5, y: 10 }));
    expect(ea && box(ea)).toEqual({ left: 74, top: 10, width: 21, height: 10 });
  });

  it('clips a mark pushed past the edge instead of keeping it on the image', async () => {
    const [o] = await overlaysOf(await solid(20, 10, '#ff0000ff'), pp({ position: 'noea', x: 10 }));
    expect(o && box(o)).toEqual({ left: 90, top: 0, width: 10, height: 10 });
    expect(await overlaysOf(await solid(20, 10, '#ff0000ff'), pp({ position: 'noea', x: 30 }))).toEqual([]);
  });

  it('scales the mark to a fraction of the image width (wm_scale)', () => {
    expect(markSize({ width: 20, height: 10 }, CANVAS, { opts: wm(pp({ scale: 0.15 })), baseOpacity: 1 })).toEqual({ width: 15, height: 7 });
    expect(markSize({ width: 20, height: 10 }, CANVAS, { opts: wm(pp({ scale: 0 })), baseOpacity: 1 })).toEqual({ width: 20, height: 10 });
  });

  it('tiles from the top-left corner with x/y as spacing', async () => {
    const overlays = await overlaysOf(await solid(20, 10, '#ff0000ff'), pp({ position: 're', x: 10, y: 10 }));
    const img = await compositeOn('#000000', overlays);
    const red = (x: number, y: number): boolean => x % 30 < 20 && y % 20 < 10;
    for (let y = 0; y < CANVAS.height; y++) {
      for (let x = 0; x < CANVAS.width; x++) expect(img.at(x, y), `pixel ${x},${y}`).toEqual(red(x, y) ? [255, 0, 0] : [0, 0, 0]);
    }
  });
});

describe('loadWatermark', () => {
  const noFetch = async (): Promise<Buffer> => {
    throw new Error('no fetch expected');
  };

  it('returns undefined when nothing is configured', async () => {
    expect(await loadWatermark(loadConfig({}), noFetch)).toBeUndefined();
  });

  it('reads base64 data, a file and a URL (through the fetcher)', async () => {
    const png = await solid(4, 4, '#00ff00ff');
    const fromData = await loadWatermark(loadConfig({ IMGPROXY_WATERMARK_DATA: png.toString('base64') }), noFetch);
    expect(fromData?.equals(png)).toBe(true);

    const dir = await mkdtemp(join(tmpdir(), 'wm-'));
    await writeFile(join(dir, 'wm.png'), png);
    const fromPath = await loadWatermark(loadConfig({ IMGPROXY_WATERMARK_PATH: join(dir, 'wm.png') }), noFetch);
    expect(fromPath?.equals(png)).toBe(true);

    const urls: string[] = [];
    const fromUrl = await loadWatermark(loadConfig({ IMGPROXY_WATERMARK_URL: 'https://example.com/wm.png' }), async (u) => (urls.push(u), png));
    expect(urls).toEqual(['https://example.com/wm.png']);
    expect(fromUrl?.equals(png)).toBe(true);
  });

  it('stops startup with a ConfigError naming the variable when the image is bad', async () => {
    await expect(loadWatermark(loadConfig({ IMGPROXY_WATERMARK_DATA: Buffer.from('not an image').toString('base64') }), noFetch)).rejects.toThrow(/IMGPROXY_WATERMARK_DATA/);
    await expect(loadWatermark(loadConfig({ IMGPROXY_WATERMARK_PATH: '/nonexistent/wm.png' }), noFetch)).rejects.toThrow(ConfigError);
    await expect(loadWatermark(loadConfig({ IMGPROXY_WATERMARK_PATH: '/nonexistent/wm.png' }), noFetch)).rejects.toThrow(/IMGPROXY_WATERMARK_PATH/);
    await expect(loadWatermark(loadConfig({ IMGPROXY_WATERMARK_URL: 'https://example.com/x' }), noFetch)).rejects.toThrow(/IMGPROXY_WATERMARK_URL/);
  });

  it('sanitises an SVG watermark', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4" onload="alert(1)"><rect width="4" height="4" fill="red"/></svg>';
    const out = await loadWatermark(loadConfig({ IMGPROXY_WATERMARK_DATA: Buffer.from(svg).toString('base64') }), noFetch);
    expect(out?.toString()).not.toContain('onload');
    expect(out?.toString()).toContain('<rect');
  });
});
