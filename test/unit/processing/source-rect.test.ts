// blur_areas rectangles (https://docs.imgproxy.net/usage/processing#blur-areas) followed
// through the plan: pure arithmetic.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { planGeometry } from '../../../src/processing/geometry.js';
import { mapSourceRect } from '../../../src/processing/source-rect.js';

const base = defaultOptions(loadConfig({}));
const plan = (w: number, h: number, o: Partial<ProcessingOptions>) => planGeometry({ width: w, height: h, isVector: false }, { ...base, ...o });
const noTurn = { rotate: 0, flipHorizontal: false, flipVertical: false };

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
