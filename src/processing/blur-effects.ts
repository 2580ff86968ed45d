/**
 * imgproxy Pro's local blurs, on held pixels among the filters:
 *
 * - `blur_areas` (https://docs.imgproxy.net/usage/processing#blur-areas): each area (already in
 *   pixels of this image, source-rect.ts `mapSourceRect`) is blurred from a margin around it, so
 *   its edges see the pixels outside as a whole-image blur would, and written back;
 * - `progressive_blur` (#progressive-blur): the blur grows from none at `start` to `sigma` at
 *   `stop` along the direction. A blur whose sigma changes per pixel is not a libvips
 *   operation; it is built from whole-image blurs at evenly spaced sigmas, each pixel blended
 *   between the two levels around its own sigma. Three frames are held at a time (result,
 *   previous and current level), bounded as intermediates before the first is made.
 */
import type { ProgressiveBlurOptions } from '../options.js';
import { fromFrame, toFrame, type Frame } from './frame.js';
import type { Rect } from './crop.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { rampField } from './ramp.js';
import { samplesOf } from './sample-view.js';

/** sharp's gaussian blur takes sigma from 0.3; less is visually nothing. */
const MIN_SIGMA = 0.3;

/** Levels of the progressive blur; more only costs blur passes. */
const LEVELS = 4;

function bytesPerPixel(f: Frame): number {
  return f.channels * (f.depth === 'ushort' ? 2 : 1);
}

export async function blurAreas(f: Frame, sigma: number, areas: readonly Rect[]): Promise<Frame> {
  if (areas.length === 0) return f;
  const out: Frame = { ...f, data: Buffer.from(f.data) };
  const bpp = bytesPerPixel(f);
  // libvips' gaussian mask reaches about 3 sigma.
  const margin = Math.ceil(3 * Math.max(MIN_SIGMA, sigma));
  for (const a of areas) {
    const left = Math.max(0, a.left - margin);
    const top = Math.max(0, a.top - margin);
    const width = Math.min(f.width, a.left + a.width + margin) - left;
    const height = Math.min(f.height, a.top + a.height + margin) - top;
    const patch = await toFrame(
      fromFrame(f).extract({ left, top, width, height }).blur(Math.max(MIN_SIGMA, sigma)).extract({ left: a.left - left, top: a.top - top, width: a.width, height: a.height }),
      f,
      { width: a.width, height: a.height },
    );
    const row = a.width * bpp;
    for (let y = 0; y < a.height; y++) patch.data.copy(out.data, ((a.top + y) * f.width + a.left) * bpp, y * row, (y + 1) * row);
  }
  return out;
}

export async function progressiveBlur(f: Frame, pb: ProgressiveBlurOptions, limits: PixelLimits): Promise<Frame> {
  checkCanvas(limits, 'intermediate', 'progressive_blur', { width: f.width, height: f.height, frames: 3, depth: f.depth });
  const field = rampField(f.width, f.height, pb);
  const weight = new Float32Array(f.width * f.height);
  for (let y = 0, i = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) weight[i++] = field.at(x, y) * LEVELS;

  const out: Frame = { ...f, data: Buffer.from(f.data) };
  const result = samplesOf(out).data;
  let prev = samplesOf(f).data;
  const channels = f.channels;
  for (let level = 1; level <= LEVELS; level++) {
    const sigma = (pb.sigma * level) / LEVELS;
    const cur = sigma < MIN_SIGMA ? prev : samplesOf(await toFrame(fromFrame(f).blur(sigma), f, f)).data;
    // Pixels whose own sigma lies between this level and the one before it.
    for (let p = 0; p < weight.length; p++) {
      const w = (weight[p] ?? 0) - (level - 1);
      if (w <= 0 || w > 1) continue;
      for (let c = 0, i = p * channels; c < channels; c++, i++) result[i] = Math.round((prev[i] ?? 0) * (1 - w) + (cur[i] ?? 0) * w);
    }
    prev = cur;
  }
  return out;
}
