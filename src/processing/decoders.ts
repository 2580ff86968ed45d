// placeholder: replaced by the ops branch
/** Placeholder for BMP/ICO decoding to raw pixels: handles nothing yet. */
import type { ImageFormat } from '../options.js';

export async function decodeExtra(
  _buf: Buffer,
  _format: ImageFormat,
): Promise<{ data: Buffer; width: number; height: number; channels: 1 | 2 | 3 | 4 } | null> {
  return null;
}
