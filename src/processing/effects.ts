/**
 * imgproxy Pro's filters that run on held pixels after the open-source ones (frame.ts
 * `filterFrame`: blur, sharpen, pixelate, adjustments, monochrome), in this order: unsharp
 * masking (sharpening what the resize softened), duotone, blur_areas, progressive_blur. One
 * entry for the pipeline: whether any applies, and applying them.
 */
import type { ProcessingOptions } from '../options.js';
import { blurAreas, progressiveBlur } from './blur-effects.js';
import { duotone } from './colour-effects.js';
import type { Frame } from './frame.js';
import type { Rect } from './crop.js';
import type { GeometryPlan } from './geometry.js';
import { mapSourceRect } from './source-rect.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { unsharpMask, wantsUnsharp } from './unsharp-mask.js';

export type EffectOptions = Pick<
  ProcessingOptions,
  'unsharpMasking' | 'sharpen' | 'duotone' | 'blurAreas' | 'progressiveBlur' | 'rotate' | 'flipHorizontal' | 'flipVertical'
>;

function downscaled(plan: GeometryPlan): boolean {
  return plan.wscale < 1 || plan.hscale < 1;
}

export function hasEffects(o: EffectOptions, plan: GeometryPlan): boolean {
  return wantsUnsharp(o, downscaled(plan)) || o.duotone !== null || o.blurAreas !== null || o.progressiveBlur !== null;
}

export async function applyEffects(f: Frame, o: EffectOptions, plan: GeometryPlan, limits: PixelLimits): Promise<Frame> {
  let cur = f;
  // Duotone and blur_areas write a copy of the frame beside it.
  if (o.duotone || o.blurAreas) checkCanvas(limits, 'intermediate', o.duotone ? 'duotone' : 'blur_areas', { width: f.width, height: f.height, frames: 2, depth: f.depth });
  if (wantsUnsharp(o, downscaled(plan))) cur = await unsharpMask(cur, o);
  if (o.duotone) cur = await duotone(cur, o.duotone);
  if (o.blurAreas) {
    const areas = o.blurAreas.areas.map((a) => mapSourceRect(a, plan, o)).filter((r): r is Rect => r !== null);
    // The plan's result size is this frame's unless a smart crop or the format fix changed it.
    const fit = areas.map((r) => ({ ...r, width: Math.min(r.width, cur.width - r.left), height: Math.min(r.height, cur.height - r.top) })).filter((r) => r.width > 0 && r.height > 0);
    cur = await blurAreas(cur, o.blurAreas.sigma, fit);
  }
  if (o.progressiveBlur) cur = await progressiveBlur(cur, o.progressiveBlur, limits);
  return cur;
}
