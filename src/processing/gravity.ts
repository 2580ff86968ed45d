/**
 * Gravity: where an inner box goes inside an outer one, with imgproxy's numbers
 * (https://github.com/imgproxy/imgproxy/blob/master/processing/calc_position.go). The crops
 * (crop.ts), extend and extend_aspect_ratio (embeds.ts) all place their box with it.
 */
import type { Gravity } from '../options.js';
import { roundToEven, scaleToEven, shrinkToEven } from './go-math.js';

/**
 * Top-left corner of an inner box inside an outer box for a gravity (imgproxy calcPosition).
 * Compass offsets ≥ 1 are pixels multiplied by `dpr`; smaller ones are fractions of the outer
 * size. `fp` centres the box on a relative focus point. The result is clamped so the inner box
 * stays inside the outer one unless `allowOverflow`.
 */
export function calcPosition(
  width: number,
  height: number,
  innerWidth: number,
  innerHeight: number,
  gravity: Gravity,
  dpr: number,
  allowOverflow = false,
): { left: number; top: number } {
  let left: number;
  let top: number;
  if (gravity.type === 'fp') {
    left = scaleToEven(width, gravity.x) - Math.trunc(innerWidth / 2);
    top = scaleToEven(height, gravity.y) - Math.trunc(innerHeight / 2);
  } else {
    const offX = Math.abs(gravity.x) >= 1 ? roundToEven(gravity.x * dpr) : scaleToEven(width, gravity.x);
    const offY = Math.abs(gravity.y) >= 1 ? roundToEven(gravity.y * dpr) : scaleToEven(height, gravity.y);
    left = shrinkToEven(width - innerWidth + 1, 2) + offX;
    top = shrinkToEven(height - innerHeight + 1, 2) + offY;
    const t = gravity.type;
    if (t === 'no' || t === 'noea' || t === 'nowe') top = offY;
    if (t === 'ea' || t === 'noea' || t === 'soea') left = width - innerWidth - offX;
    if (t === 'so' || t === 'soea' || t === 'sowe') top = height - innerHeight - offY;
    if (t === 'we' || t === 'nowe' || t === 'sowe') left = offX;
  }
  const [minX, maxX] = allowOverflow ? [-innerWidth + 1, width - 1] : [0, width - innerWidth];
  const [minY, maxY] = allowOverflow ? [-innerHeight + 1, height - 1] : [0, height - innerHeight];
  return { left: Math.max(minX, Math.min(left, maxX)), top: Math.max(minY, Math.min(top, maxY)) };
}
