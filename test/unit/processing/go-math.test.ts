// Go-compatible rounding (imgproxy's imath).
import { describe, expect, it } from 'vitest';
import { roundToEven } from '../../../src/processing/go-math.js';

describe('go-math', () => {
  it('roundToEven is banker’s rounding', () => {
    expect([0.5, 1.5, 2.5, -2.5, 2.6, -2.6].map(roundToEven)).toEqual([0, 2, 2, -2, 3, -3]);
  });
});
