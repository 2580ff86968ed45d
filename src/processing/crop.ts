/**
 * Crops: the `crop` option's size, imgproxy Pro's `crop_aspect_ratio` correction, and a crop
 * step (a rectangle placed by gravity, or a smart crop left to libvips), as imgproxy's
 * https://github.com/imgproxy/imgproxy/blob/master/processing/crop.go plans them. Pure: the
 * planner (geometry.ts) uses them for the pre-crop and the result crop, frame.ts cuts them.
 */
import type { CropAspectRatio, Gravity } from '../options.js';
import { goRound, minNonZero, scaleInt } from './go-math.js';
import { calcPosition } from './gravity.js';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A crop step: either a fixed rectangle or "let libvips' attention strategy choose". */
export type CropStep = { kind: 'rect'; rect: Rect } | { kind: 'smart'; width: number; height: number };

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

/** imgproxy cropImage: a crop of (w, h) on an image of (imgW, imgH), or null when it is a no-op. */
export function planCrop(imgW: number, imgH: number, w: number, h: number, gravity: Gravity, offsetScale: number): CropStep | null {
  if (w === 0 && h === 0) return null;
  const cw = minNonZero(w, imgW);
  const ch = minNonZero(h, imgH);
  if (cw >= imgW && ch >= imgH) return null;
  if (gravity.type === 'sm') return { kind: 'smart', width: cw, height: ch };
  const { left, top } = calcPosition(imgW, imgH, cw, ch, gravity, offsetScale, false);
  return { kind: 'rect', rect: { left, top, width: cw, height: ch } };
}

/** The size of a w × h image after `step`. */
export function cropStepSize(step: CropStep | null, w: number, h: number): [number, number] {
  if (!step) return [w, h];
  return step.kind === 'rect' ? [step.rect.width, step.rect.height] : [step.width, step.height];
}
