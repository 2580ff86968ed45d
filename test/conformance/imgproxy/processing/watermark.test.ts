/**
 * Port of imgproxy's processing/watermark_test.go (TestWatermark): geometry.png as
 * IMGPROXY_WATERMARK_PATH over bmp/24-bpp.bmp (1080×902) at every position, with offsets,
 * DPR, opacity and scale, and over an animated GIF. The hash check becomes: the watermark's
 * pixels (B = 0, G ≈ 128 at its centre) are where calcPosition puts them.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/watermark_test.go
 */
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import sharp from 'sharp';
import { options, pixels, port } from '../harness.js';
import { calcPosition, type Gravity } from './position.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

interface Case {
  position: Gravity | 're';
  opacity: number;
  x?: number;
  y?: number;
  scale?: number;
  dpr?: number;
  name?: string;
}

const goG = (n: number) => String(n);
const caseName = (c: Case) => c.name ?? `${c.position}_opacity_${goG(c.opacity)}${c.x || c.y ? `_offset_${goG(c.x ?? 0)}_${goG(c.y ?? 0)}` : ''}${c.scale ? `_scale_${goG(c.scale)}` : ''}${c.dpr ? `_dpr_${goG(c.dpr)}` : ''}`;
const urlOptions = (c: Case, format?: string) => options({ watermark: [c.opacity, c.position, c.x || undefined, c.y || undefined, c.scale || undefined], ...(c.dpr ? { dpr: [c.dpr] } : {}), ...(format ? { format: [format] } : {}) });

describe('TestWatermark', () => {
  const env = () => ({ IMGPROXY_WATERMARK_PATH: join(suite.root(), 'geometry.png') });
  describe('TestWatermark', () => {
    const cases: Case[] = [
      ...(['ce', 'no', 'ea', 'so', 'we', 'nowe', 'noea', 'sowe', 'soea', 're'] as const).map((position) => ({ position, opacity: 1 })),
      { position: 'no', x: 50, opacity: 1 },
      { position: 'no', y: 50, opacity: 1 },
      { position: 'no', x: 50, y: 50, opacity: 1 },
      { position: 'no', x: 50, y: 50, opacity: 1, dpr: 0.5 },
      { position: 'no', x: 50, y: 50, opacity: 1, dpr: 2 },
      { position: 're', x: 50, opacity: 1 },
      { position: 're', y: 50, opacity: 1 },
      { position: 're', x: 50, y: 50, opacity: 1 },
      { position: 're', x: 50, y: 50, opacity: 1, dpr: 0.5 },
      { position: 're', x: 50, y: 50, opacity: 1, dpr: 2 },
      { position: 're', opacity: 0 },
      { position: 're', opacity: 0.5 },
      { position: 're', opacity: 1, scale: 0, name: 're_opacity_1#01' },
      { position: 're', opacity: 1, scale: 0.5 },
    ];
    for (const c of cases) {
      port(`TestWatermark/${caseName(c)}`, undefined, async () => {
        const result = await suite.process(urlOptions(c, 'png'), 'test-images/bmp/24-bpp.bmp', env());
        const size: [number, number] = c.dpr === 0.5 ? [540, 451] : [1080, 902];
        await suite.check(result, ...size);
        const p = await pixels(result);
        const plain = await pixels(await suite.process('format:png', 'test-images/bmp/24-bpp.bmp', env()));
        if (c.opacity === 0) {
          expect(p.at(100, 50)).toEqual(plain.at(100, 50));
          return;
        }
        if (c.position === 're' || c.dpr) {
          // Somewhere the result is no longer the source.
          const changed = [100, 300, 500, 700].some((x) => JSON.stringify(p.at(x, 50)) !== JSON.stringify(plain.at(x, 50)));
          expect(changed).toBe(true);
          return;
        }
        const [left, top] = calcPosition(1080, 902, [200, 100], c.position, c.x, c.y);
        const centre = p.at(left + 100, top + 50);
        expect(centre.b).toBeLessThan(40);
        expect(Math.abs(centre.g - 128)).toBeLessThan(30);
      });
    }
  });

  describe('TestWatermarkAnimation', () => {
    const cases: [Case, [number, number]][] = [
      [{ position: 'nowe', x: 10, y: 20, dpr: 0.5, opacity: 0.5 }, [246, 115]],
      [{ position: 'nowe', x: 10, y: 20, dpr: 2, opacity: 0.5 }, [492, 229]],
    ];
    for (const [c, size] of cases) {
      port(`TestWatermarkAnimation/${caseName(c)}`, undefined, async () => {
        const result = await suite.process(urlOptions(c), 'test-images/gif/gif.gif', env());
        await suite.check(result, ...size);
        expect((await sharp(result).metadata()).format).toBe('gif');
      });
    }
  });
});
