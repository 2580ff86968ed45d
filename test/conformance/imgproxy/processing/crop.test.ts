/**
 * Port of imgproxy's processing/crop_test.go (TestCrop): `rs:fill` with every gravity,
 * offsets and DPR, `crop` with gravities and offsets, and crop gravity priority, on
 * geometry.png. Where imgproxy compares a golden hash we check which part of the source the
 * result shows: geometry.png's red channel follows x and its green channel follows y.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/crop_test.go
 */
import { describe, expect } from 'vitest';
import sharp from 'sharp';
import { GEOMETRY, geometryColour } from '../fixtures.js';
import { near, options, pixels, port, ported } from '../harness.js';
import { calcPosition, type Gravity } from './position.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

interface FillCase {
  gravity: Gravity;
  size: [number, number];
  x?: number;
  y?: number;
  dpr?: number;
  out: [number, number];
}

/** resizeFillGravityTestCase.URLOptions / String. */
const fillOptions = (c: FillCase) => options({ rs: ['fill', ...c.size], g: [c.gravity, c.x, c.y], ...(c.dpr ? { dpr: [c.dpr] } : {}) });
const goFloat = (n = 0) => n.toFixed(6);
const fillName = (c: FillCase) =>
  `resizeFill_${c.size[0]}x${c.size[1]}_gravity_${c.gravity}${c.x || c.y ? `_offset_${goFloat(c.x)}_${goFloat(c.y)}` : ''}${c.dpr ? `_dpr_${c.dpr}` : ''}`;

const W: [number, number] = [100, 26];
const T: [number, number] = [26, 100];

describe('TestCrop', () => {
  describe('TestResizeFill', () => {
    const cases: FillCase[] = [
      ...(['ce', 'no', 'so', 'noea', 'soea', 'sowe', 'nowe'] as const).map((gravity) => ({ gravity, size: W, out: W })),
      ...(['ce', 'ea', 'we', 'noea', 'soea', 'sowe', 'nowe'] as const).map((gravity) => ({ gravity, size: T, out: T })),
      { gravity: 'ce', size: W, dpr: 2, out: [200, 52] },
      { gravity: 'no', size: W, y: 5, out: W },
      { gravity: 'no', size: W, y: 5, dpr: 0.5, out: [50, 13] },
      { gravity: 'no', size: W, y: 5, dpr: 2, out: [200, 52] },
      { gravity: 'no', size: T, x: 5, out: T },
      { gravity: 'no', size: T, x: 5, dpr: 0.5, out: [13, 50] },
      { gravity: 'no', size: T, x: 5, dpr: 2, out: T },
      { gravity: 'no', size: W, y: 0.1, out: W },
      { gravity: 'no', size: W, y: 0.1, dpr: 0.5, out: [50, 13] },
      { gravity: 'no', size: W, y: 0.1, dpr: 2, out: [200, 52] },
    ];
    for (const c of cases) {
      ported(`TestResizeFill/${fillName(c)}`, async () => {
        const result = await suite.process(fillOptions(c), 'geometry.png');
        await suite.check(result, ...c.out);
        if (c.x !== undefined || c.y !== undefined || c.dpr) return;
        // Which band of the source survives the fill crop: G follows y, R follows x (the centred
        // crop starts at source row 24 of the wider case, column 87 of the taller one).
        const p = await pixels(result);
        const [w, h] = c.out;
        const edge = c.size === W ? p.at(w / 2, c.gravity.startsWith('so') ? h - 1 : 0).g : p.at(c.gravity.endsWith('ea') || c.gravity === 'ea' ? w - 1 : 0, h / 2).r;
        const want = c.size === W ? (c.gravity.startsWith('no') ? 0 : c.gravity.startsWith('so') ? 255 : 64) : c.gravity.endsWith('ea') || c.gravity === 'ea' ? 255 : c.gravity.endsWith('we') || c.gravity === 'we' ? 0 : 111;
        expect(Math.abs(edge - want)).toBeLessThanOrEqual(12);
      });
    }
  });

  describe('TestCrop', () => {
    interface CropCase {
      gravity?: Gravity;
      cropGravity: Gravity;
      x?: number;
      y?: number;
      dpr?: number;
      out: [number, number];
    }
    const S: [number, number] = [50, 50];
    const cases: CropCase[] = [
      ...(['ce', 'no', 'so', 'ea', 'we', 'noea', 'nowe', 'soea', 'sowe'] as const).map((cropGravity) => ({ cropGravity, out: S })),
      { cropGravity: 'ce', x: 10, out: S },
      { cropGravity: 'ce', y: 10, out: S },
      { cropGravity: 'ce', x: 10, y: 10, out: S },
      { cropGravity: 'ce', x: 0.1, out: S },
      { cropGravity: 'ce', y: 0.1, out: S },
      { cropGravity: 'ce', x: 0.1, y: 0.1, out: S },
      { cropGravity: 'ce', x: 10, y: 10, dpr: 0.5, out: [25, 25] },
    ];
    const name = (c: CropCase) => `crop_gravity_${c.cropGravity}_crop_50x50${c.x || c.y ? `_offset_${goFloat(c.x)}_${goFloat(c.y)}` : ''}${c.dpr ? `_dpr_${c.dpr}` : ''}`;
    for (const c of cases) {
      ported(`TestCrop/${name(c)}`, async () => {
        const result = await suite.process(options({ crop: [...S, c.cropGravity, c.x, c.y], ...(c.dpr ? { dpr: [c.dpr] } : {}) }), 'geometry.png');
        await suite.check(result, ...c.out);
        if (c.dpr) return;
        // The crop window's centre shows the source pixel calcPosition puts there.
        const [left, top] = calcPosition(GEOMETRY.width, GEOMETRY.height, S, c.cropGravity, c.x, c.y);
        const want = geometryColour(left + 25, top + 25);
        expect(near((await pixels(result)).at(25, 25), want, 8)).toBe(true);
      });
    }
  });

  port('TestCropGravityPriority', undefined, async () => {
    const raw = async (o: string) => sharp(await suite.process(o, 'geometry.png')).raw().toBuffer();
    const r1 = await raw('crop:50:50/gravity:no');
    const r2 = await raw('crop:50:50:no');
    const r3 = await raw('crop:50:50:no/gravity:so');
    expect(r1.equals(r2)).toBe(true);
    expect(r1.equals(r3)).toBe(true);
  });
});
