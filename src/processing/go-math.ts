/**
 * Go-compatible rounding and integer scaling, as imgproxy's `imath` package does them
 * (https://github.com/imgproxy/imgproxy/blob/master/imath/imath.go), so the geometry modules produce
 * imgproxy's numbers to the pixel. Go's math.Round rounds half away from zero and
 * math.RoundToEven is banker's rounding; JS Math.round differs for negative halves.
 */

export function goRound(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export function roundToEven(x: number): number {
  if (Math.abs(x % 1) === 0.5) return 2 * Math.round(x / 2);
  return goRound(x);
}

export function scaleInt(a: number, scale: number): number {
  return a === 0 ? 0 : goRound(a * scale);
}

export function scaleToEven(a: number, scale: number): number {
  return a === 0 ? 0 : roundToEven(a * scale);
}

export function shrinkToEven(a: number, shrink: number): number {
  return a === 0 ? 0 : roundToEven(a / shrink);
}

export function minNonZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}
