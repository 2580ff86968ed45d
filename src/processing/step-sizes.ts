/**
 * Sizes that steps after the geometry plan force on the canvas: the output format's size limits
 * (imgproxy's https://github.com/imgproxy/imgproxy/blob/master/processing/fix_size.go) and the
 * block grid of pixelate. Pure: limits.ts checks them before the step runs, frame.ts and the
 * stage runner apply them.
 */
import type { OutputFormat } from '../formats.js';

const WEBP_MAX_DIMENSION = 16383;
const HEIF_MAX_DIMENSION = 16384;
const GIF_MAX_DIMENSION = 65535;
/** libvips' cgif resolution limit as imgproxy reads it (INT_MAX / 4). */
const GIF_MAX_RESOLUTION = Math.floor(2147483647 / 4);
const ICO_MAX_DIMENSION = 256;

/**
 * The scale factor the output format forces on a width × height image (1 = fits). GIF's
 * factor is the square root of the larger of its two limits, as imgproxy computes it.
 */
function fixSizeScale(width: number, height: number, format: OutputFormat): number {
  const maxSide = Math.max(width, height);
  const byDimension = (limit: number): number => {
    const shrink = maxSide / limit;
    return shrink <= 1 ? 1 : 1 / shrink;
  };
  switch (format) {
    case 'webp':
      return byDimension(WEBP_MAX_DIMENSION);
    case 'avif':
    case 'heic':
      return byDimension(HEIF_MAX_DIMENSION);
    case 'ico':
      return byDimension(ICO_MAX_DIMENSION);
    case 'gif': {
      const shrink = Math.max((width * height) / GIF_MAX_RESOLUTION, maxSide / GIF_MAX_DIMENSION);
      return shrink <= 1 ? 1 : Math.sqrt(1 / shrink);
    }
    default:
      return 1;
  }
}

/** The size after the per-format fix (libvips resize rounds each side to the nearest pixel). */
export function fixSize(width: number, height: number, format: OutputFormat): { width: number; height: number } {
  const scale = fixSizeScale(width, height, format);
  if (scale === 1) return { width, height };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * imgproxy's pixelate (vips_pixelate in vips/vips.c) mirrors the image out to a whole number of
 * blocks before averaging them: the block side (at most the longer side) and that grid.
 */
export function pixelateGrid(width: number, height: number, pixelate: number): { block: number; width: number; height: number } {
  const block = Math.min(pixelate, Math.max(width, height));
  if (block <= 1) return { block: 1, width, height };
  return { block, width: Math.ceil(width / block) * block, height: Math.ceil(height / block) * block };
}
