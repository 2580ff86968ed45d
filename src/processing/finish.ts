/**
 * The steps after the pre-crop (resize, turn, result crop, filters, embeds, size fix, flatten,
 * colour layers, watermark) on one frame, merged into as few lazy sharp passes as imgproxy's
 * order allows (https://github.com/imgproxy/imgproxy/blob/master/processing/processing.go).
 */
import type { OverlayOptions } from 'sharp';
import type { Overlays } from './chain-marks.js';
import { applyEffects, hasEffects } from './effects.js';
import { composeEmbeds } from './embeds.js';
import { FORMAT_TRAITS } from './format.js';
import { clampRect, cropFrame, filterFrame, framePixels, heldFilters, kernelFor, resizeFrame, toFrame, withOps, type Frame, type LazyOps, type Pixels } from './frame.js';
import type { GeometryPlan } from './geometry.js';
import { WHITE, type Job } from './job.js';
import { fixSize } from './step-sizes.js';
import { colorizeOverlay, gradientOverlay } from './tint-overlays.js';
import { isIdentity, swapsAxes, type Turn } from './turns.js';

/**
 * Everything after the pre-crop, in as few sharp passes as imgproxy's order allows: resize,
 * result crop, blur and sharpen in one lazy pass; the smart crop, the other filters and Pro's
 * held effects (effects.ts) on held pixels; extend/extend_aspect_ratio/padding as one embed; the
 * per-format size fix (held, rare); flatten, Pro's colour layers (colorize, gradient) and the
 * watermark as one composite. The pixels returned are still lazy: the encoder pulls them.
 */
export async function finish(px: Pixels, plan: GeometryPlan, job: Job, watermark: Overlays, turn: Turn): Promise<Pixels> {
  const { o } = job;
  const kernel = kernelFor(o.resizingAlgorithm);
  // Operations pending on `base`, one per sharp slot; a step that needs a slot again, or a slot
  // before one already taken in sharp's order, holds `base` as a frame first.
  let base = px;
  let ops: LazyOps = {};
  let width = plan.scaledWidth;
  let height = plan.scaledHeight;
  const settle = async (): Promise<Frame> => {
    const f = await toFrame(withOps(base.open(), ops), base, { width, height });
    base = framePixels(f);
    ops = {};
    return f;
  };
  // The resize is of the unturned pixels; the turn follows it in the same pass.
  const rw = swapsAxes(turn) ? height : width;
  const rh = swapsAxes(turn) ? width : height;
  if (base.width !== rw || base.height !== rh) {
    ops.resize = { width: rw, height: rh, kernel };
    ops.linear = job.config.processing.useLinearColorspace;
  }
  if (!isIdentity(turn)) ops.turn = turn;
  // Linear light is for the resize only (imgproxy processing/scale.go): what blurs, sharpens or
  // composites after it does so on sRGB pixels, so such a step holds the resized pixels first.
  const inSrgb = async (): Promise<void> => {
    if (ops.linear === true || base.linear === true) await settle();
  };
  if (plan.resultCrop?.kind === 'rect') {
    ops.extract = clampRect(plan.resultCrop.rect, width, height);
    ({ width, height } = ops.extract);
  }
  let alpha = base.hasAlpha;
  const effects = hasEffects(o, plan);
  if (plan.resultCrop?.kind === 'smart' || heldFilters(o) || effects) {
    let f = await settle();
    f = await cropFrame(f, plan.resultCrop?.kind === 'smart' ? plan.resultCrop : null);
    f = await filterFrame(f, o);
    if (effects) f = await applyEffects(f, o, plan, job.limits);
    base = framePixels(f);
    ({ width, height } = f);
    alpha = base.hasAlpha;
  } else {
    if (o.blur > 0 || o.sharpen > 0) await inSrgb();
    ops.blur = o.blur;
    ops.sharpen = o.sharpen;
  }
  const filtering = (ops.blur ?? 0) > 0 || (ops.sharpen ?? 0) > 0;

  const canvas = composeEmbeds(width, height, plan);
  if (canvas) {
    // sharp extends before it blurs; imgproxy filters first.
    if (filtering) await settle();
    if (canvas.keepWidth < width || canvas.keepHeight < height) {
      // The embed's cut is the top-left of what the result crop keeps: one extract.
      const at = ops.extract ?? { left: 0, top: 0 };
      ops.extract = { left: at.left, top: at.top, width: canvas.keepWidth, height: canvas.keepHeight };
    }
    ops.extend = { left: canvas.left, top: canvas.top, right: canvas.right, bottom: canvas.bottom };
    ({ width, height } = canvas);
    alpha = true;
  }
  const fixed = fixSize(width, height, job.format);
  if (fixed.width !== width || fixed.height !== height) {
    base = framePixels(await resizeFrame(await settle(), fixed.width, fixed.height, kernel));
    ({ width, height } = fixed);
  }
  const overlays: OverlayOptions[] = [];
  const formatAlpha = FORMAT_TRAITS[job.format].alpha;
  // A format without alpha flattens the result of the last pipeline only: a chained pipeline
  // after this one still sees the transparency (imgproxy Pro 3.25 changelog).
  if (alpha && (o.background !== null || (!formatAlpha && job.last))) {
    const background = o.background ?? WHITE;
    // Pro's background_alpha keeps the background see-through where the format holds alpha.
    const backgroundAlpha = o.background !== null && formatAlpha ? o.backgroundAlpha : 1;
    if (base.depth === 'ushort' && backgroundAlpha >= 1) {
      // libvips composites in 8-bit sRGB here, which would drop the 16 bits: flatten held pixels.
      await settle();
      ops.flatten = background;
    } else {
      // sharp's own flatten runs before the resize; the background laid under the image after
      // everything else (Porter-Duff dest-over) is imgproxy's order, margins of the embed included.
      overlays.push({ input: { create: { width, height, channels: 4, background: { ...background, alpha: backgroundAlpha } } }, blend: 'dest-over' });
    }
    alpha = backgroundAlpha < 1;
  }
  if (o.colorize) overlays.push(colorizeOverlay(o.colorize, width, height));
  if (o.gradient) overlays.push(gradientOverlay(o.gradient, width, height, job.limits));
  const marks = await watermark(width, height, plan.dprScale);
  if (marks) overlays.push(...marks);
  if (overlays.length > 0) {
    await inSrgb();
    ops.overlays = overlays;
    // Compositing adds alpha; keep the image's own channel layout (imgproxy does the same).
    ops.removeAlpha = !alpha;
  }
  const from = base;
  const pending = ops;
  return { open: () => withOps(from.open(), pending), width, height, hasAlpha: alpha, depth: from.depth, run: from.run, linear: from.linear === true || pending.linear === true };
}
