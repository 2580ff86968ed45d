/**
 * Frame selection of an animated GIF (PreviewProxy's `gif_anim` and `gif_af`,
 * src/modules/transform/ops/gif_anim.rs, https://github.com/ViGrise/previewproxy): which
 * frames are decoded, which of them get every step and which only the geometric ones.
 *
 * Ranges are 0-indexed and inclusive: `all`, `N` (from frame N to the end), `N-M`, `-N` (the
 * last N). A start past the last frame, `N-M` with N > M and `-0` are errors, as there; an end
 * past the last frame and a count over the frame count are clamped.
 *
 * Frames are decoded up to IMGPROXY_MAX_ANIMATION_FRAMES, as imgproxy decodes an animation
 * (processing/processing.go, https://github.com/imgproxy/imgproxy/blob/master/processing/processing.go),
 * and ranges are resolved against what was decoded. That variable's default, 1, is imgproxy's
 * "no animation"; a request that asks for frames with `gif_anim` gets up to
 * GIF_ANIM_DEFAULT_FRAMES then (every frame also counts against the pixel limits).
 */
import { ProxyError } from '../errors.js';
import type { FrameRange, FrameSelection } from '../options.js';

/** Frames `gif_anim` may decode while IMGPROXY_MAX_ANIMATION_FRAMES is at its default of 1. */
export const GIF_ANIM_DEFAULT_FRAMES = 1000;

export interface FramePlan {
  /** First decoded frame and how many are decoded (every one is output). */
  page: number;
  count: number;
  /** Whether the decoded frame at this index (0 = `page`) gets every step, or only the geometric ones. */
  styled(index: number): boolean;
}

/** The frames a GIF of `total` frames can give, under the animation frame limit. */
export function decodableFrames(total: number, maxAnimationFrames: number): number {
  return Math.min(total, maxAnimationFrames > 1 ? maxAnimationFrames : GIF_ANIM_DEFAULT_FRAMES);
}

/** A range against `total` frames: first and last, inclusive. */
export function resolveRange(range: FrameRange, total: number): { first: number; last: number } {
  const bad = (why: string): never => {
    throw new ProxyError('BAD_REQUEST', `gif_anim: ${why}`);
  };
  switch (range.kind) {
    case 'all':
      return { first: 0, last: total - 1 };
    case 'from':
      if (range.first >= total) bad('start frame out of range');
      return { first: range.first, last: total - 1 };
    case 'range':
      if (range.first > range.last) bad('X must be <= Y');
      if (range.first >= total) bad('start frame out of range');
      return { first: range.first, last: Math.min(range.last, total - 1) };
    case 'last':
      if (range.count === 0) bad('frame count must be >= 1');
      return { first: total - Math.min(range.count, total), last: total - 1 };
  }
}

/** What to decode and style for a selection on a GIF of `total` frames. */
export function planFrames(selection: FrameSelection, total: number, maxAnimationFrames: number): FramePlan {
  const n = decodableFrames(total, maxAnimationFrames);
  const { first, last } = resolveRange(selection.range, n);
  if (selection.keepOthers) return { page: 0, count: n, styled: (i) => i >= first && i <= last };
  return { page: first, count: last - first + 1, styled: () => true };
}
