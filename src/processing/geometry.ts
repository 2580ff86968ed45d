/**
 * The geometry planner: pure arithmetic that turns a source size and the processing options into
 * a plan of every size-changing step (pre-crop, scale, result crop, extend, extend-aspect-ratio,
 * padding), with the same numbers imgproxy's
 * https://github.com/imgproxy/imgproxy/blob/master/processing/prepare.go produces (calcScale,
 * calcSizes, limitScale). The steps' own arithmetic lives beside it: crop.ts (crop sizes,
 * crop_aspect_ratio), gravity.ts (placement), embeds.ts (extend, padding), turns.ts (rotate,
 * flip, EXIF orientation). No sharp here, so the whole matrix of options is unit-tested without
 * decoding anything.
 *
 * Coordinates: the plan works in the *final* orientation (after EXIF orientation, the rotate
 * option and the flip option). imgproxy crops before rotating and rotates the crop gravity
 * instead; the pipeline rotates first and crops afterwards, which selects the same region.
 */
import type { ProcessingOptions } from '../options.js';
import { correctCropAspect, cropSize, cropStepSize, planCrop, type CropStep } from './crop.js';
import { planExtend, planPadding, type EmbedStep, type PlannedEmbeds } from './embeds.js';
import { minNonZero, scaleInt } from './go-math.js';
import { swapsAxes } from './turns.js';

export interface GeometryInput {
  /** Source size after EXIF orientation (and after trim, when trimmed). */
  width: number;
  height: number;
  /** SVG and other vector sources ignore the no-enlarge rule. */
  isVector: boolean;
}

export interface GeometryPlan extends PlannedEmbeds {
  /** Source size in the final orientation (rotate option applied). */
  srcWidth: number;
  srcHeight: number;
  /** Crop before resize (the `crop` option), or null. */
  crop: CropStep | null;
  /** Size after the pre-crop. */
  croppedWidth: number;
  croppedHeight: number;
  wscale: number;
  hscale: number;
  dprScale: number;
  /** Size after scaling; the resize target. */
  scaledWidth: number;
  scaledHeight: number;
  targetWidth: number;
  targetHeight: number;
  /** Crop to the requested size after resize, or null. */
  resultCrop: CropStep | null;
  /** Size after the result crop. */
  resultWidth: number;
  resultHeight: number;
  /** Final size before the per-format size fix. */
  width: number;
  height: number;
}

type GeometryOptions = Pick<
  ProcessingOptions,
  | 'resizingType'
  | 'width'
  | 'height'
  | 'minWidth'
  | 'minHeight'
  | 'zoomX'
  | 'zoomY'
  | 'dpr'
  | 'enlarge'
  | 'extend'
  | 'extendAspectRatio'
  | 'gravity'
  | 'crop'
  | 'cropAspectRatio'
  | 'padding'
  | 'rotate'
  | 'maxResultDimension'
>;

interface Scales {
  wscale: number;
  hscale: number;
  dprScale: number;
}

/** imgproxy calcScale: per-axis scale factors and the effective DPR scale. */
function calcScale(srcW: number, srcH: number, o: GeometryOptions, isVector: boolean): Scales {
  const dstW = o.width === 0 ? srcW : o.width;
  const dstH = o.height === 0 ? srcH : o.height;
  let wshrink = dstW === srcW ? 1 : srcW / dstW;
  let hshrink = dstH === srcH ? 1 : srcH / dstH;

  if (wshrink !== 1 || hshrink !== 1) {
    let rt = o.resizingType;
    if (rt === 'auto') {
      const srcD = srcW - srcH;
      const dstD = dstW - dstH;
      rt = (srcD >= 0 && dstD >= 0) || (srcD < 0 && dstD < 0) ? 'fill' : 'fit';
    }
    if (o.width === 0 && rt !== 'force') wshrink = hshrink;
    else if (o.height === 0 && rt !== 'force') hshrink = wshrink;
    else if (rt === 'fit') wshrink = hshrink = Math.max(wshrink, hshrink);
    else if (rt === 'fill' || rt === 'fill-down') wshrink = hshrink = Math.min(wshrink, hshrink);
  }

  wshrink /= o.zoomX;
  hshrink /= o.zoomY;

  let dprScale = o.dpr;
  if (!o.enlarge && !isVector) {
    const minShrink = Math.min(wshrink, hshrink);
    if (minShrink < 1) {
      wshrink /= minShrink;
      hshrink /= minShrink;
      // The target cannot be reached without enlarging; a DPR < 1 would move even further
      // from it, so compensate. With extend, keep the composition independent of DPR.
      if (!o.extend.enabled) dprScale /= minShrink;
    }
    // The smaller shrink is the largest DPR scale that still does not enlarge.
    dprScale = Math.min(dprScale, Math.min(wshrink, hshrink));
  }

  if (o.minWidth > 0) {
    const minShrink = srcW / o.minWidth;
    if (minShrink < wshrink) {
      hshrink /= wshrink / minShrink;
      wshrink = minShrink;
    }
  }
  if (o.minHeight > 0) {
    const minShrink = srcH / o.minHeight;
    if (minShrink < hshrink) {
      wshrink /= hshrink / minShrink;
      hshrink = minShrink;
    }
  }

  wshrink /= dprScale;
  hshrink /= dprScale;
  if (wshrink > srcW) wshrink = srcW;
  if (hshrink > srcH) hshrink = srcH;
  return { wscale: 1 / wshrink, hscale: 1 / hshrink, dprScale };
}

interface Sizes {
  targetWidth: number;
  targetHeight: number;
  scaledWidth: number;
  scaledHeight: number;
  resultCropWidth: number;
  resultCropHeight: number;
  earWidth: number;
  earHeight: number;
}

/** imgproxy calcSizes: target, scaled, result-crop and extend-aspect-ratio sizes. */
function calcSizes(wts: number, hts: number, s: Scales, o: GeometryOptions): Sizes {
  const targetWidth = scaleInt(o.width, s.dprScale * o.zoomX);
  const targetHeight = scaleInt(o.height, s.dprScale * o.zoomY);
  const scaledWidth = scaleInt(wts, s.wscale);
  const scaledHeight = scaleInt(hts, s.hscale);
  let resultCropWidth = targetWidth;
  let resultCropHeight = targetHeight;

  if (o.resizingType === 'fill-down' && !o.enlarge) {
    // Cannot fill without enlarging: crop to the requested aspect ratio instead.
    const diffW = targetWidth / scaledWidth;
    const diffH = targetHeight / scaledHeight;
    if (diffW > diffH && diffW > 1) {
      resultCropHeight = scaleInt(scaledWidth, targetHeight / targetWidth);
      resultCropWidth = scaledWidth;
    } else if (diffH > diffW && diffH > 1) {
      resultCropWidth = scaleInt(scaledHeight, targetWidth / targetHeight);
      resultCropHeight = scaledHeight;
    }
  }

  let earWidth = 0;
  let earHeight = 0;
  if (o.extendAspectRatio.enabled && targetWidth > 0 && targetHeight > 0) {
    const outW = minNonZero(scaledWidth, resultCropWidth);
    const outH = minNonZero(scaledHeight, resultCropHeight);
    const diffW = targetWidth / outW;
    const diffH = targetHeight / outH;
    if (diffH > diffW) {
      earHeight = scaleInt(outW, targetHeight / targetWidth);
      earWidth = outW;
    } else if (diffW > diffH) {
      earWidth = scaleInt(outH, targetWidth / targetHeight);
      earHeight = outH;
    }
  }
  return { targetWidth, targetHeight, scaledWidth, scaledHeight, resultCropWidth, resultCropHeight, earWidth, earHeight };
}

/**
 * imgproxy limitScale: shrink everything so the result, including extend and padding, fits
 * max_result_dimension. It downscales, it never rejects.
 */
function limitScale(wts: number, hts: number, s: Scales, z: Sizes, o: GeometryOptions): { s: Scales; z: Sizes } {
  const maxDim = o.maxResultDimension;
  if (maxDim <= 0) return { s, z };
  let outW = minNonZero(z.scaledWidth, z.resultCropWidth);
  let outH = minNonZero(z.scaledHeight, z.resultCropHeight);
  if (o.extend.enabled) {
    outW = Math.max(outW, z.targetWidth);
    outH = Math.max(outH, z.targetHeight);
  } else if (o.extendAspectRatio.enabled) {
    outW = Math.max(outW, z.earWidth);
    outH = Math.max(outH, z.earHeight);
  }
  const padding = planPadding(o.padding, s.dprScale);
  if (padding) {
    outW += padding.left + padding.right;
    outH += padding.top + padding.bottom;
  }
  if (outW <= maxDim && outH <= maxDim) return { s, z };

  const down = maxDim / Math.max(outW, outH);
  // Never below one pixel per axis.
  const ns: Scales = {
    wscale: Math.max(s.wscale * down, 1 / wts),
    hscale: Math.max(s.hscale * down, 1 / hts),
    dprScale: s.dprScale * down,
  };
  return { s: ns, z: calcSizes(wts, hts, ns, o) };
}

/** Computes the geometry plan for a source of the given (oriented) size. */
export function planGeometry(input: GeometryInput, o: GeometryOptions): GeometryPlan {
  const swap = swapsAxes({ angle: o.rotate, flop: false });
  const srcWidth = swap ? input.height : input.width;
  const srcHeight = swap ? input.width : input.height;

  let cropW = o.crop ? cropSize(srcWidth, o.crop.width) : 0;
  let cropH = o.crop ? cropSize(srcHeight, o.crop.height) : 0;
  // Without `crop`, the area crop_aspect_ratio corrects is the whole image.
  if (o.cropAspectRatio) [cropW, cropH] = correctCropAspect(minNonZero(cropW, srcWidth), minNonZero(cropH, srcHeight), srcWidth, srcHeight, o.cropAspectRatio);
  const wts = minNonZero(cropW, srcWidth);
  const hts = minNonZero(cropH, srcHeight);

  const s0 = calcScale(wts, hts, o, input.isVector);
  const z0 = calcSizes(wts, hts, s0, o);
  const { s, z } = limitScale(wts, hts, s0, z0, o);

  // Pre-resize crop; DPR does not apply to its offsets.
  const crop = o.crop || o.cropAspectRatio ? planCrop(srcWidth, srcHeight, cropW, cropH, o.crop?.gravity ?? o.gravity, 1) : null;
  const [croppedWidth, croppedHeight] = cropStepSize(crop, srcWidth, srcHeight);

  const scaledWidth = z.scaledWidth;
  const scaledHeight = z.scaledHeight;

  const resultCrop = planCrop(scaledWidth, scaledHeight, z.resultCropWidth, z.resultCropHeight, o.gravity, s.dprScale);
  const [resultWidth, resultHeight] = cropStepSize(resultCrop, scaledWidth, scaledHeight);
  let w = resultWidth;
  let h = resultHeight;

  let extend: EmbedStep | null = null;
  if (o.extend.enabled) {
    extend = planExtend(w, h, z.targetWidth, z.targetHeight, o.extend.gravity, s.dprScale);
    if (extend) [w, h] = [extend.width, extend.height];
  }

  let extendAspectRatio: EmbedStep | null = null;
  if (o.extendAspectRatio.enabled && z.earWidth !== 0 && z.earHeight !== 0) {
    extendAspectRatio = planExtend(w, h, z.earWidth, z.earHeight, o.extendAspectRatio.gravity, s.dprScale);
    if (extendAspectRatio) [w, h] = [extendAspectRatio.width, extendAspectRatio.height];
  }

  const padding = planPadding(o.padding, s.dprScale);
  if (padding) {
    w += padding.left + padding.right;
    h += padding.top + padding.bottom;
  }

  return {
    srcWidth,
    srcHeight,
    crop,
    croppedWidth,
    croppedHeight,
    wscale: s.wscale,
    hscale: s.hscale,
    dprScale: s.dprScale,
    scaledWidth,
    scaledHeight,
    targetWidth: z.targetWidth,
    targetHeight: z.targetHeight,
    resultCrop,
    resultWidth,
    resultHeight,
    extend,
    extendAspectRatio,
    padding,
    width: w,
    height: h,
  };
}

