/**
 * How a codec refuses a source: a broken or unsupported file is UNSUPPORTED_IMAGE (422, never a
 * RangeError's 500), and a size over the pixel limit is SOURCE_RESOLUTION_TOO_BIG, said before
 * anything of that size is allocated.
 */
import { ProxyError } from '../../errors.js';

export function bad(detail: string): ProxyError {
  return new ProxyError('UNSUPPORTED_IMAGE', detail);
}

export function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${width}x${height} is over ${maxPixels / 1e6} MP`);
}
