/**
 * How complex an image is, for `best` format: PreviewProxy's `edge_density`
 * (src/modules/transform/ops/best_format.rs, https://github.com/ViGrise/previewproxy), the
 * percentage of pixels of a luma thumbnail (at most 200 × 200) whose Sobel gradient exceeds
 * 32. Its vertical kernel is kept as PreviewProxy has it (the bottom-right sample counted
 * twice, the bottom-left not at all), so that its PP_BEST_FORMAT_COMPLEXITY_THRESHOLD values
 * mean the same here; imgproxy Pro's IMGPROXY_BEST_FORMAT_COMPLEXITY_THRESHOLD, whose measure
 * is not published, has the same default (5.5) and is read on the same scale.
 */

/** The thumbnail's longer side, as PreviewProxy's `img.thumbnail(200, 200)`. */
export const THUMBNAIL_SIDE = 200;
const EDGE_MAGNITUDE = 32;

/** Edge density in [0, 100] of a one-byte-per-pixel luma plane. */
export function edgeDensity(luma: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  const p = (x: number, y: number): number => luma[y * width + x] ?? 0;
  let edges = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const gx = -p(x - 1, y - 1) + p(x + 1, y - 1) - 2 * p(x - 1, y) + 2 * p(x + 1, y) - p(x - 1, y + 1) + p(x + 1, y + 1);
      const gy = -p(x - 1, y - 1) - 2 * p(x, y - 1) - p(x + 1, y - 1) + p(x + 1, y + 1) + 2 * p(x, y + 1) + p(x + 1, y + 1);
      if (Math.sqrt(gx * gx + gy * gy) > EDGE_MAGNITUDE) edges++;
    }
  }
  return (edges / ((width - 2) * (height - 2))) * 100;
}
