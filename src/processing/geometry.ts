/**
 * Geometry: pure arithmetic that turns a source size and the processing options into a plan
 * of every size-changing step (pre-crop, scale, result crop, extend, extend-aspect-ratio,
 * padding), with the same numbers imgproxy's `processing/prepare.go`, `crop.go`,
 * `calc_position.go`, `extend.go`, `padding.go` and `fix_size.go` produce. No sharp here, so
 * the whole matrix of options is unit-tested without decoding anything.
 *
 * Coordinates: the plan works in the *final* orientation (after EXIF orientation, the rotate
 * option and the flip option). imgproxy crops before rotating and rotates the crop gravity
 * instead; the pipeline rotates first and crops afterwards, which selects the same region.
 */
import type { OutputFormat } from '../formats.js';
import type { CropAspectRatio, Gravity, ProcessingOptions, RelativeRect } from '../options.js';

// ---------------------------------------------------------------------------------------------
// Go-compatible integer helpers (imgproxy's `imath`). Go's math.Round rounds half away from
// zero and math.RoundToEven is banker's rounding; JS Math.round differs for negative halves.

function goRound(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export function roundToEven(x: number): number {
  if (Math.abs(x % 1) === 0.5) return 2 * Math.round(x / 2);
  return goRound(x);
}

function scaleInt(a: number, scale: number): number {
  return a === 0 ? 0 : goRound(a * scale);
}

function scaleToEven(a: number, scale: number): number {
  return a === 0 ? 0 : roundToEven(a * scale);
}

function shrinkToEven(a: number, shrink: number): number {
  return a === 0 ? 0 : roundToEven(a / shrink);
}

function minNonZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

// ---------------------------------------------------------------------------------------------

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A crop step: either a fixed rectangle or "let libvips' attention strategy choose". */
export type CropStep = { kind: 'rect'; rect: Rect } | { kind: 'smart'; width: number; height: number };

/** Places an image of the current size at (left, top) on a width × height canvas. */
export interface EmbedStep {
  width: number;
  height: number;
  left: number;
  top: number;
}

export interface GeometryInput {
  /** Source size after EXIF orientation (and after trim, when trimmed). */
  width: number;
  height: number;
  /** SVG and other vector sources ignore the no-enlarge rule. */
  isVector: boolean;
}

export interface GeometryPlan {
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
  extend: EmbedStep | null;
  extendAspectRatio: EmbedStep | null;
  /** Padding in output pixels (already multiplied by the DPR scale). */
  padding: { top: number; right: number; bottom: number; left: number } | null;
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

/** `crop` option value → pixels: 0 = none, ≥1 absolute, <1 relative (at least 1 px). */
export function cropSize(orig: number, crop: number): number {
  if (crop === 0) return 0;
  if (crop >= 1) return Math.trunc(crop);
  return Math.max(1, scaleInt(orig, crop));
}

/**
 * imgproxy Pro `crop_aspect_ratio`: the crop area (w × h) of an imgW × imgH image brought to
 * `ratio`, by shrinking the side that is too long or, with `enlarge`, growing the one that is
 * too short; an enlarged area larger than the image is shrunk back into it at the same ratio
 * (https://docs.imgproxy.net/usage/processing#crop-aspect-ratio). Never below one pixel.
 */
export function correctCropAspect(w: number, h: number, imgW: number, imgH: number, car: CropAspectRatio): [number, number] {
  let cw = w;
  let ch = h;
  const { ratio } = car;
  if (cw / ch > ratio) {
    if (car.enlarge) ch = goRound(cw / ratio);
    else cw = goRound(ch * ratio);
  } else if (cw / ch < ratio) {
    if (car.enlarge) cw = goRound(ch * ratio);
    else ch = goRound(cw / ratio);
  }
  if (cw > imgW) {
    cw = imgW;
    ch = goRound(cw / ratio);
  }
  if (ch > imgH) {
    ch = imgH;
    cw = goRound(ch * ratio);
  }
  return [Math.max(1, Math.min(cw, imgW)), Math.max(1, Math.min(ch, imgH))];
}

/**
 * Top-left corner of an inner box inside an outer box for a gravity (imgproxy calcPosition).
 * Compass offsets ≥ 1 are pixels multiplied by `dpr`; smaller ones are fractions of the outer
 * size. `fp` centres the box on a relative focus point. The result is clamped so the inner box
 * stays inside the outer one unless `allowOverflow`.
 */
export function calcPosition(
  width: number,
  height: number,
  innerWidth: number,
  innerHeight: number,
  gravity: Gravity,
  dpr: number,
  allowOverflow = false,
): { left: number; top: number } {
  let left: number;
  let top: number;
  if (gravity.type === 'fp') {
    left = scaleToEven(width, gravity.x) - Math.trunc(innerWidth / 2);
    top = scaleToEven(height, gravity.y) - Math.trunc(innerHeight / 2);
  } else {
    const offX = Math.abs(gravity.x) >= 1 ? roundToEven(gravity.x * dpr) : scaleToEven(width, gravity.x);
    const offY = Math.abs(gravity.y) >= 1 ? roundToEven(gravity.y * dpr) : scaleToEven(height, gravity.y);
    left = shrinkToEven(width - innerWidth + 1, 2) + offX;
    top = shrinkToEven(height - innerHeight + 1, 2) + offY;
    const t = gravity.type;
    if (t === 'no' || t === 'noea' || t === 'nowe') top = offY;
    if (t === 'ea' || t === 'noea' || t === 'soea') left = width - innerWidth - offX;
    if (t === 'so' || t === 'soea' || t === 'sowe') top = height - innerHeight - offY;
    if (t === 'we' || t === 'nowe' || t === 'sowe') left = offX;
  }
  const [minX, maxX] = allowOverflow ? [-innerWidth + 1, width - 1] : [0, width - innerWidth];
  const [minY, maxY] = allowOverflow ? [-innerHeight + 1, height - 1] : [0, height - innerHeight];
  return { left: Math.max(minX, Math.min(left, maxX)), top: Math.max(minY, Math.min(top, maxY)) };
}

/** imgproxy cropImage: a crop of (w, h) on an image of (imgW, imgH), or null when it is a no-op. */
function planCrop(imgW: number, imgH: number, w: number, h: number, gravity: Gravity, offsetScale: number): CropStep | null {
  if (w === 0 && h === 0) return null;
  const cw = minNonZero(w, imgW);
  const ch = minNonZero(h, imgH);
  if (cw >= imgW && ch >= imgH) return null;
  if (gravity.type === 'sm') return { kind: 'smart', width: cw, height: ch };
  const { left, top } = calcPosition(imgW, imgH, cw, ch, gravity, offsetScale, false);
  return { kind: 'rect', rect: { left, top, width: cw, height: ch } };
}

function cropStepSize(step: CropStep | null, w: number, h: number): [number, number] {
  if (!step) return [w, h];
  return step.kind === 'rect' ? [step.rect.width, step.rect.height] : [step.width, step.height];
}

/** imgproxy extendImage: embed into (w, h) when it is larger in some dimension. */
function planExtend(imgW: number, imgH: number, w: number, h: number, gravity: Gravity, dpr: number): EmbedStep | null {
  if (w <= imgW && h <= imgH) return null;
  const cw = w <= 0 ? imgW : w;
  const ch = h <= 0 ? imgH : h;
  const { left, top } = calcPosition(cw, ch, imgW, imgH, gravity, dpr, false);
  return { width: cw, height: ch, left, top };
}

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
  if (o.padding) {
    outW += scaleToEven(o.padding.left, s.dprScale) + scaleToEven(o.padding.right, s.dprScale);
    outH += scaleToEven(o.padding.top, s.dprScale) + scaleToEven(o.padding.bottom, s.dprScale);
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
  const swap = (((o.rotate % 360) + 360) % 360) % 180 === 90;
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

  let padding: GeometryPlan['padding'] = null;
  if (o.padding) {
    padding = {
      top: scaleToEven(o.padding.top, s.dprScale),
      right: scaleToEven(o.padding.right, s.dprScale),
      bottom: scaleToEven(o.padding.bottom, s.dprScale),
      left: scaleToEven(o.padding.left, s.dprScale),
    };
    if (padding.top + padding.right + padding.bottom + padding.left === 0) padding = null;
    else {
      w += padding.left + padding.right;
      h += padding.top + padding.bottom;
    }
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

// ---------------------------------------------------------------------------------------------
// Quarter turns and mirrors. imgproxy rotates and flips after the resize
// (processing/processing.go: scale → rotateAndFlip → cropToResult); the plan is in the final
// orientation, so the pre-crop, made before the turn, is mapped back to the unturned image.

/** A turn of the image: rotate `angle` (a multiple of 90) clockwise, then mirror left-right if `flop`. */
export interface Turn {
  angle: number;
  flop: boolean;
}

export const NO_TURN: Turn = { angle: 0, flop: false };

const norm = (a: number): number => ((a % 360) + 360) % 360;

/** `first`, then `second`: a mirror reverses the direction of the rotations after it. */
export function composeTurns(first: Turn, second: Turn): Turn {
  return { angle: norm(first.angle + (first.flop ? -second.angle : second.angle)), flop: first.flop !== second.flop };
}

/** The rotate and flip options as one turn (a vertical flip is a half turn and a mirror). */
export function optionTurn(o: Pick<ProcessingOptions, 'rotate' | 'flipHorizontal' | 'flipVertical'>): Turn {
  let t: Turn = { angle: norm(o.rotate), flop: o.flipHorizontal };
  if (o.flipVertical) t = composeTurns(t, { angle: 180, flop: true });
  return t;
}

export function isIdentity(t: Turn): boolean {
  return norm(t.angle) === 0 && !t.flop;
}

/** Whether the turn swaps width and height. */
export function swapsAxes(t: Turn): boolean {
  return norm(t.angle) % 180 === 90;
}

/** A rectangle of a width × height image turned a quarter clockwise (the image becomes height × width). */
function quarterRect(r: Rect, height: number): Rect {
  return { left: height - r.top - r.height, top: r.left, width: r.height, height: r.width };
}

/**
 * The crop step of a plan (in the final orientation, on a finalW × finalH image) on the image
 * before `turn`: the same pixels, cut before the turn.
 */
export function unturnCrop(step: CropStep | null, finalW: number, finalH: number, turn: Turn): CropStep | null {
  if (!step || isIdentity(turn)) return step;
  if (step.kind === 'smart') return swapsAxes(turn) ? { kind: 'smart', width: step.height, height: step.width } : step;
  let r = step.rect;
  let w = finalW;
  let h = finalH;
  if (turn.flop) r = { ...r, left: w - r.left - r.width };
  // Undoing a clockwise turn of `angle` is turning on clockwise to a full turn.
  for (let q = (360 - norm(turn.angle)) / 90 % 4; q > 0; q--) {
    r = quarterRect(r, h);
    [w, h] = [h, w];
  }
  return { kind: 'rect', rect: r };
}

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

// ---------------------------------------------------------------------------------------------
// Per-format size limits (imgproxy fix_size.go).

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

/**
 * extend, extend_aspect_ratio and padding of a plan as one embed on an image of width × height:
 * keep its top-left `keepWidth × keepHeight` (an embed canvas narrower than the image cuts it,
 * libvips embed semantics) and add transparent margins. Three embeds in a row are one in
 * effect, so the pipeline can hand them to sharp as a single lazy extend. null: no embed.
 */
export interface Canvas {
  keepWidth: number;
  keepHeight: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

export function composeEmbeds(width: number, height: number, plan: Pick<GeometryPlan, 'extend' | 'extendAspectRatio' | 'padding'>): Canvas | null {
  const steps: EmbedStep[] = [];
  if (plan.extend) steps.push(plan.extend);
  if (plan.extendAspectRatio) steps.push(plan.extendAspectRatio);
  if (steps.length === 0 && !plan.padding) return null;
  // The image's place (x, y, w, h) on a canvas W × H, embed after embed.
  let x = 0;
  let y = 0;
  let w = width;
  let h = height;
  let W = width;
  let H = height;
  const embed = (e: EmbedStep): void => {
    w = Math.min(w, Math.min(W, e.width) - x);
    h = Math.min(h, Math.min(H, e.height) - y);
    x += Math.max(0, e.left);
    y += Math.max(0, e.top);
    W = e.width;
    H = e.height;
  };
  for (const e of steps) embed(e);
  if (plan.padding) {
    const p = plan.padding;
    embed({ width: W + p.left + p.right, height: H + p.top + p.bottom, left: p.left, top: p.top });
  }
  // A later canvas never cuts into what an earlier one placed (plans grow the canvas), but if
  // one did, keep a pixel rather than ask libvips for an empty area.
  w = Math.max(1, w);
  h = Math.max(1, h);
  return { keepWidth: w, keepHeight: h, left: x, top: y, right: W - x - w, bottom: H - y - h, width: W, height: H };
}
