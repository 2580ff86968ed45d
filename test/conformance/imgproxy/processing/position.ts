/**
 * Where imgproxy places an inner box in an outer one for a gravity with offsets: a port of
 * calcPosition (processing/calc_position.go) for the crop and extend checks. Offsets ≥ 1 are
 * pixels (times the DPR), smaller ones a fraction of the outer size.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/calc_position.go
 */
export type Gravity = 'ce' | 'no' | 'so' | 'ea' | 'we' | 'noea' | 'nowe' | 'soea' | 'sowe';

const roundToEven = (n: number): number => {
  const r = Math.round(n);
  return Math.abs(n % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

export function calcPosition(width: number, height: number, inner: [number, number], g: Gravity, x = 0, y = 0, dpr = 1): [number, number] {
  const [iw, ih] = inner;
  const offX = Math.abs(x) >= 1 ? roundToEven(x * dpr) : roundToEven(width * x);
  const offY = Math.abs(y) >= 1 ? roundToEven(y * dpr) : roundToEven(height * y);
  let left = roundToEven((width - iw + 1) / 2) + offX;
  let top = roundToEven((height - ih + 1) / 2) + offY;
  if (g === 'no' || g === 'noea' || g === 'nowe') top = offY;
  if (g === 'ea' || g === 'noea' || g === 'soea') left = width - iw - offX;
  if (g === 'so' || g === 'soea' || g === 'sowe') top = height - ih - offY;
  if (g === 'we' || g === 'nowe' || g === 'sowe') left = offX;
  return [Math.max(0, Math.min(left, width - iw)), Math.max(0, Math.min(top, height - ih))];
}
