/**
 * A rectangle of a pipeline's source (imgproxy Pro's `blur_areas`,
 * https://docs.imgproxy.net/usage/processing#blur-areas) followed through a geometry plan to
 * the pixels it covers in the result. Pure.
 */
import type { RelativeRect } from '../options.js';
import type { Rect } from './crop.js';
import type { GeometryPlan } from './geometry.js';

/**
 * A rectangle given in fractions of the source of a pipeline (before its rotate and flip
 * options, as imgproxy Pro's `blur_areas` takes it) in pixels of the image after the result
 * crop: turned with the rotate/flip options, moved by the pre-crop, scaled, moved by the result
 * crop, and clipped to the image. A smart crop's place is only known to libvips; it is taken as
 * centred. null when nothing of the rectangle is left.
 */
export function mapSourceRect(r: RelativeRect, plan: GeometryPlan, turn: { rotate: number; flipHorizontal: boolean; flipVertical: boolean }): Rect | null {
  let { left, top, width, height } = r;
  // Quarter turns clockwise, then the mirrors of the turned image (imgproxy's rotate-then-flip,
  // which rotateFlip() in frame.ts gives the pixels).
  const quarters = ((((turn.rotate % 360) + 360) % 360) / 90) | 0;
  for (let i = 0; i < quarters; i++) [left, top, width, height] = [1 - top - height, left, height, width];
  if (turn.flipHorizontal) left = 1 - left - width;
  if (turn.flipVertical) top = 1 - top - height;

  const pre = plan.crop;
  const preRect = pre?.kind === 'rect' ? pre.rect : centred(plan.srcWidth, plan.srcHeight, plan.croppedWidth, plan.croppedHeight);
  const sx = plan.scaledWidth / plan.croppedWidth;
  const sy = plan.scaledHeight / plan.croppedHeight;
  const post = plan.resultCrop;
  const postRect = post?.kind === 'rect' ? post.rect : centred(plan.scaledWidth, plan.scaledHeight, plan.resultWidth, plan.resultHeight);
  const x0 = (left * plan.srcWidth - preRect.left) * sx - postRect.left;
  const y0 = (top * plan.srcHeight - preRect.top) * sy - postRect.top;
  const x1 = x0 + width * plan.srcWidth * sx;
  const y1 = y0 + height * plan.srcHeight * sy;
  const l = Math.max(0, Math.round(x0));
  const t = Math.max(0, Math.round(y0));
  const rr = Math.min(plan.resultWidth, Math.round(x1));
  const b = Math.min(plan.resultHeight, Math.round(y1));
  return rr > l && b > t ? { left: l, top: t, width: rr - l, height: b - t } : null;
}

function centred(outerW: number, outerH: number, innerW: number, innerH: number): Rect {
  return { left: Math.trunc((outerW - innerW) / 2), top: Math.trunc((outerH - innerH) / 2), width: innerW, height: innerH };
}
