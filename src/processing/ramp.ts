/**
 * The linear ramps of imgproxy Pro's `gradient` and `progressive_blur`
 * (https://docs.imgproxy.net/usage/processing#gradient): a weight from 0 to 1 across the image
 * along a direction, 0 up to `start` and 1 from `stop` (fractions of the image measured along
 * the direction). Angle 0 runs top to bottom and angles turn clockwise, so 90 runs from the
 * right edge to the left one. Pure, so every direction is unit-tested without pixels.
 */
import type { Ramp } from '../options.js';

export interface RampField {
  /** The weight of the pixel whose top-left corner is (x, y). */
  at(x: number, y: number): number;
}

export function rampField(width: number, height: number, ramp: Ramp): RampField {
  const rad = (ramp.angle * Math.PI) / 180;
  // Screen coordinates (y down): 0° points down, a clockwise turn points it left.
  const dx = -Math.sin(rad);
  const dy = Math.cos(rad);
  // CSS linear-gradient's line: long enough that 0 and 1 touch the two farthest corners.
  const length = Math.abs(width * dx) + Math.abs(height * dy) || 1;
  const cx = width / 2;
  const cy = height / 2;
  const span = ramp.stop - ramp.start;
  return {
    at(x, y) {
      const t = 0.5 + ((x + 0.5 - cx) * dx + (y + 0.5 - cy) * dy) / length;
      if (span <= 0) return t >= ramp.start ? 1 : 0;
      return Math.min(1, Math.max(0, (t - ramp.start) / span));
    },
  };
}
