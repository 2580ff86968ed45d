// Geometry of imgproxy Pro's crop_aspect_ratio and of the blur_areas rectangles
// (https://docs.imgproxy.net/usage/processing#crop-aspect-ratio, #blur-areas): pure arithmetic.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { correctCropAspect, mapSourceRect, planGeometry } from '../../../src/processing/geometry.js';

const base = defaultOptions(loadConfig({}));
const plan = (w: number, h: number, o: Partial<ProcessingOptions>) => planGeometry({ width: w, height: h, isVector: false }, { ...base, ...o });
const noTurn = { rotate: 0, flipHorizontal: false, flipVertical: false };

describe('correctCropAspect', () => {
  it.each([
    // [w, h, imgW, imgH, ratio, enlarge] → [w, h]
    [100, 200, 1000, 1000, 1, false, [100, 100]],
    [100, 200, 1000, 1000, 1, true, [200, 200]],
    [300, 100, 1000, 1000, 1.5, false, [150, 100]],
    [300, 100, 1000, 1000, 1.5, true, [300, 200]],
    // Enlarged past the image: shrunk back at the same ratio.
    [800, 100, 1000, 500, 1, true, [500, 500]],
    [100, 400, 300, 1000, 0.5, true, [200, 400]],
    [100, 900, 300, 1000, 0.5, true, [300, 600]],
    // Already right.
    [160, 90, 1000, 1000, 16 / 9, false, [160, 90]],
    // Never below a pixel.
    [1, 1000, 1000, 1000, 1000, false, [1, 1]],
  ] as const)('%i×%i in %i×%i at %f (enlarge %s)', (w, h, iw, ih, ratio, enlarge, out) => {
    expect(correctCropAspect(w, h, iw, ih, { ratio, enlarge })).toEqual(out);
  });
});

describe('planGeometry with crop_aspect_ratio', () => {
  it('corrects the crop area; the docs example keeps the corner of a nowe crop', () => {
    const p = plan(1000, 1000, { crop: { width: 100, height: 200, gravity: { type: 'nowe', x: 300, y: 400 } }, cropAspectRatio: { ratio: 1, enlarge: true } });
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 300, top: 400, width: 200, height: 200 } });
  });

  it('without crop the whole image is the area, centred by the gravity', () => {
    const p = plan(400, 200, { cropAspectRatio: { ratio: 1, enlarge: false } });
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 100, top: 0, width: 200, height: 200 } });
    expect([p.width, p.height]).toEqual([200, 200]);
  });

  it('the resize applies to the corrected area', () => {
    const p = plan(400, 200, { cropAspectRatio: { ratio: 2, enlarge: false }, crop: { width: 100, height: 100, gravity: null }, width: 50 });
    expect([p.croppedWidth, p.croppedHeight, p.width, p.height]).toEqual([100, 50, 50, 25]);
  });
});

describe('mapSourceRect', () => {
  const whole = plan(200, 100, {});

  it('fractions of the source are pixels of an unscaled result', () => {
    expect(mapSourceRect({ left: 0.5, top: 0, width: 0.5, height: 0.5 }, whole, noTurn)).toEqual({ left: 100, top: 0, width: 100, height: 50 });
  });

  it('follows the resize', () => {
    const p = plan(200, 100, { width: 100 });
    expect(mapSourceRect({ left: 0.5, top: 0.5, width: 0.5, height: 0.5 }, p, noTurn)).toEqual({ left: 50, top: 25, width: 50, height: 25 });
  });

  it('follows the pre-crop and the result crop, and is clipped to the result', () => {
    const p = plan(200, 100, { crop: { width: 100, height: 100, gravity: { type: 'we', x: 0, y: 0 } } });
    expect(mapSourceRect({ left: 0.25, top: 0, width: 0.5, height: 1 }, p, noTurn)).toEqual({ left: 50, top: 0, width: 50, height: 100 });
    expect(mapSourceRect({ left: 0.6, top: 0, width: 0.4, height: 1 }, p, noTurn)).toBeNull();
    const fill = plan(200, 100, { resizingType: 'fill', width: 50, height: 50 });
    // 200×100 → 100×50 → centre 50×50 cut from x = 26 (imgproxy rounds (100 − 50 + 1) / 2 to even).
    expect(mapSourceRect({ left: 0, top: 0, width: 0.25, height: 1 }, fill, noTurn)).toBeNull();
    expect(mapSourceRect({ left: 0, top: 0, width: 0.5, height: 1 }, fill, noTurn)).toEqual({ left: 0, top: 0, width: 24, height: 50 });
  });

  it('turns with the rotate and flip options (plan sizes are after the rotation)', () => {
    const turned = planGeometry({ width: 200, height: 100, isVector: false }, { ...base, rotate: 90 });
    // The top-left quarter of the 200×100 source is the top-right corner after a clockwise turn.
    expect(mapSourceRect({ left: 0, top: 0, width: 0.5, height: 0.5 }, turned, { ...noTurn, rotate: 90 })).toEqual({ left: 50, top: 0, width: 50, height: 100 });
    expect(mapSourceRect({ left: 0, top: 0, width: 0.5, height: 0.5 }, whole, { ...noTurn, flipHorizontal: true })).toEqual({ left: 100, top: 0, width: 100, height: 50 });
    expect(mapSourceRect({ left: 0, top: 0, width: 0.5, height: 0.5 }, whole, { ...noTurn, flipVertical: true })).toEqual({ left: 0, top: 50, width: 100, height: 50 });
  });
});
