// The ramp of imgproxy Pro's gradient and progressive_blur: where it is 0 and where 1, per direction.
import { describe, expect, it } from 'vitest';
import { rampField } from '../../../src/processing/ramp.js';

const W = 100;
const H = 50;
const at = (angle: number, x: number, y: number, start = 0, stop = 1): number => rampField(W, H, { angle, start, stop }).at(x, y);

describe('rampField', () => {
  it('down (0°): 0 at the top, 1 at the bottom, the same across a row', () => {
    expect(at(0, 50, 0)).toBeLessThan(0.02);
    expect(at(0, 50, H - 1)).toBeGreaterThan(0.98);
    expect(at(0, 0, 20)).toBeCloseTo(at(0, 99, 20), 10);
  });

  it('90° runs from the right edge to the left one, 180° up, 270° right', () => {
    expect(at(90, W - 1, 25)).toBeLessThan(0.02);
    expect(at(90, 0, 25)).toBeGreaterThan(0.98);
    expect(at(180, 50, H - 1)).toBeLessThan(0.02);
    expect(at(180, 50, 0)).toBeGreaterThan(0.98);
    expect(at(270, 0, 25)).toBeLessThan(0.02);
    expect(at(270, W - 1, 25)).toBeGreaterThan(0.98);
  });

  it('start and stop bound the ramp; a stop at or before the start is a step', () => {
    expect(at(0, 50, 10, 0.5, 1)).toBe(0);
    expect(at(0, 50, 40, 0, 0.5)).toBe(1);
    expect(at(0, 50, 37, 0.5, 1)).toBeCloseTo((37.5 / 50 - 0.5) / 0.5, 5);
    expect(at(0, 50, 20, 0.5, 0.5)).toBe(0);
    expect(at(0, 50, 30, 0.5, 0.5)).toBe(1);
  });

  it('a diagonal reaches both far corners', () => {
    expect(at(315, 0, 0)).toBeLessThan(0.02);
    expect(at(315, W - 1, H - 1)).toBeGreaterThan(0.98);
  });
});
