import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import type { WatermarkOptions, WatermarkPosition } from '../../../src/options.js';
import { pixelLimits } from '../../../src/processing/limits.js';
import { loadWatermark, roundToEven, watermarkOverlays } from '../../../src/processing/watermark.js';

const CANVAS = { width: 100, height: 80 };
const LIMITS = pixelLimits(loadConfig({}));
const solid = (width: number, height: number, background: string): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 4, background } }).png().toBuffer();
const wm = (over: Partial<WatermarkOptions>): WatermarkOptions => ({ opacity: 1, position: 'ce', x: 0, y: 0, scale: 0, ...over });

function box(o: OverlayOptions): { left: number; top: number; width: number; height: number } {
  return { left: o.left ?? -1, top: o.top ?? -1, width: o.raw?.width ?? -1, height: o.raw?.height ?? -1 };
}

async function compositeOn(canvasColour: string, overlays: OverlayOptions[]): Promise<{ data: Buffer; at: (x: number, y: number) => number[] }> {
  const { data } = await sharp({ create: { ...CANVAS, channels: 3, background: canvasColour } }).composite(overlays).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, at: (x, y) => [...data.subarray((y * CANVAS.width + x) * 3, (y * CANVAS.width + x) * 3 + 3)] };
}

describe('watermarkOverlays', () => {
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
    const mark = await solid(20, 10, '#ff0000ff');
    const overlays = await watermarkOverlays(mark, CANVAS, wm({ position, x: 5, y: 3 }), 1, LIMITS);
    expect(overlays.map(box)).toEqual([{ left, top, width: 20, height: 10 }]);
    const img = await compositeOn('#000000', overlays);
    expect(img.at(left, top)).toEqual([255, 0, 0]);
    expect(img.at(left + 19, top + 9)).toEqual([255, 0, 0]);
    expect(img.at(left + 20 < 100 ? left + 20 : left - 1, top)).toEqual([0, 0, 0]);
  });

  it('treats offsets below 1 as fractions of the canvas', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    const [o] = await watermarkOverlays(mark, CANVAS, wm({ position: 'nowe', x: 0.1, y: 0.25 }), 1, LIMITS);
    expect(o && box(o)).toEqual({ left: 10, top: 20, width: 20, height: 10 });
  });

  it('tiles `re` symmetrically with x/y as spacing, clipping edge tiles, as one tiled overlay', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    const overlays = await watermarkOverlays(mark, CANVAS, wm({ position: 're', x: 10, y: 10 }), 1, LIMITS);
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
    const mark = await solid(20, 10, '#ff0000ff');
    // Cells of 20+150 × 10+0: one column, centred; the mark sits 75 px into its cell.
    const overlays = await watermarkOverlays(mark, CANVAS, wm({ position: 're', x: 150, y: 0 }), 1, LIMITS);
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
    const overlays = await watermarkOverlays(await solid(1, 1, '#ff0000ff'), { width: 4000, height: 4000 }, wm({ position: 're' }), 1, LIMITS);
    expect(overlays).toHaveLength(1);
    expect(overlays[0]?.tile).toBe(true);
  });

  it('refuses a scale that makes the mark larger than the intermediate bound', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    await expect(watermarkOverlays(mark, CANVAS, wm({ position: 're', scale: 1e6 }), 1, LIMITS)).rejects.toMatchObject({ code: 'RESULT_TOO_BIG', status: 422 });
    await expect(watermarkOverlays(mark, CANVAS, wm({ position: 're', scale: 1e308 }), 1, LIMITS)).rejects.toMatchObject({ code: 'RESULT_TOO_BIG' });
    // A single mark is fitted to the canvas whatever the scale.
    const [one] = await watermarkOverlays(mark, CANVAS, wm({ scale: 1e6 }), 1, LIMITS);
    expect(one && box(one)).toEqual({ left: 0, top: 16, width: 100, height: 50 });
  });

  it('applies opacity = base × option', async () => {
    const mark = await solid(20, 10, '#ff0000ff');
    const overlays = await watermarkOverlays(mark, CANVAS, wm({ opacity: 0.5 }), 0.5, LIMITS);
    const img = await compositeOn('#ffffff', overlays);
    const [r, g, b] = img.at(50, 40);
    expect(r).toBe(255);
    expect(g).toBeGreaterThanOrEqual(189);
    expect(g).toBeLessThanOrEqual(193); // 255 × 0.75
    expect(b).toBe(g);
    expect(await watermarkOverlays(mark, CANVAS, wm({ opacity: 1 }), 0, LIMITS)).toEqual([]);
  });

  it('scales relative to the canvas (fit into scale × canvas) and shrinks oversized marks', async () => {
    const [scaled] = await watermarkOverlays(await solid(20, 10, '#ff0000ff'), CANVAS, wm({ scale: 0.5 }), 1, LIMITS);
    expect(scaled && { w: box(scaled).width, h: box(scaled).height }).toEqual({ w: 50, h: 25 });
    const [big] = await watermarkOverlays(await solid(200, 100, '#ff0000ff'), CANVAS, wm({ position: 'nowe' }), 1, LIMITS);
    expect(big && box(big)).toEqual({ left: 0, top: 0, width: 100, height: 50 });
  });

  it('rejects an undecodable watermark with 422', async () => {
    await expect(watermarkOverlays(Buffer.from('nope'), CANVAS, wm({}), 1, LIMITS)).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 422 });
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
