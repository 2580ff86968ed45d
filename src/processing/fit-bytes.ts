/**
 * `max_bytes`: re-encode at decreasing quality until the result fits, following imgproxy's
 * loop (processing/save_fit_bytes.go) so the same URL yields the same quality steps here.
 */
import { checkAbort } from './run.js';

/** Below this quality imgproxy stops trying: the image would be worthless anyway. */
const MIN_QUALITY = 10;

/** Next quality to try: bigger overshoot → bigger step, always at least 1 lower, never below 1. */
export function nextQuality(quality: number, size: number, maxBytes: number): number {
  const delta = size / maxBytes;
  const factor = delta > 3 ? 0.25 : delta > 1.5 ? 0.5 : 0.75;
  return Math.max(1, Math.min(quality - 1, Math.round(quality * factor)));
}

/**
 * Encodes at `quality`, then at lower qualities while the result exceeds `maxBytes`.
 * Returns the last encoding even when it is still too big, as imgproxy does: a slightly
 * oversized image is more useful to the client than an error.
 */
export async function fitBytes(encode: (quality: number) => Promise<Buffer>, quality: number, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  let q = Math.max(1, Math.round(quality));
  while (true) {
    // Checked before every pass: each encode can take a while on a large image, and a
    // request that was cancelled or timed out should not keep a worker busy.
    checkAbort(signal);
    const out = await encode(q);
    if (maxBytes <= 0 || out.length <= maxBytes || q <= MIN_QUALITY) return out;
    q = nextQuality(q, out.length, maxBytes);
  }
}
