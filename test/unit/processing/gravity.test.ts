// Gravity placement (imgproxy's processing/calc_position.go): compass gravities, offsets in
// pixels (times dpr) or fractions, focus points, clamping.
import { describe, expect, it } from 'vitest';
import type { Gravity, GravityType } from '../../../src/options.js';
import { calcPosition } from '../../../src/processing/gravity.js';

describe('calcPosition', () => {
  const g = (type: GravityType, x = 0, y = 0): Gravity => ({ type, x, y });
  const cases: [string, Gravity, number, [number, number]][] = [
    // outer 1000x500, inner 300x200; centre = roundToEven(701/2), roundToEven(301/2)
    ['ce', g('ce'), 1, [350, 150]],
    ['no', g('no'), 1, [350, 0]],
    ['so', g('so'), 1, [350, 300]],
    ['ea', g('ea'), 1, [700, 150]],
    ['we', g('we'), 1, [0, 150]],
    ['noea', g('noea'), 1, [700, 0]],
    ['nowe', g('nowe'), 1, [0, 0]],
    ['soea', g('soea'), 1, [700, 300]],
    ['sowe', g('sowe'), 1, [0, 300]],
    ['ce +10+20', g('ce', 10, 20), 1, [360, 170]],
    ['ce +10+20 dpr 2', g('ce', 10, 20), 2, [370, 190]],
    ['ea offset moves inward', g('ea', 10), 1, [690, 150]],
    ['so offset moves up', g('so', 0, 10), 1, [350, 290]],
    ['relative 0.1 of outer width', g('ce', 0.1, 0), 1, [450, 150]],
    ['relative offsets ignore dpr', g('ce', 0.1, 0), 3, [450, 150]],
    ['clamped to the right edge', g('ce', 1000, 0), 1, [700, 150]],
    ['clamped to the left edge', g('we', -50, 0), 1, [0, 150]],
    ['fp centre', g('fp', 0.5, 0.5), 1, [350, 150]],
    ['fp top-left clamps', g('fp', 0, 0), 1, [0, 0]],
    ['fp bottom-right clamps', g('fp', 1, 1), 1, [700, 300]],
    ['fp quarter', g('fp', 0.25, 0.25), 1, [100, 25]],
  ];
  it.each(cases)('%s', (_n, gravity, dpr, [left, top]) => {
    expect(calcPosition(1000, 500, 300, 200, gravity, dpr)).toEqual({ left, top });
  });
});
