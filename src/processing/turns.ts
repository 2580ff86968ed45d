/**
 * Quarter turns and mirrors as values: the rotate and flip options, EXIF orientation, their
 * composition, and a crop mapped back through a turn. imgproxy rotates and flips after the
 * resize (https://github.com/imgproxy/imgproxy/blob/master/processing/processing.go: scale →
 * rotateAndFlip → cropToResult); the plan is in the final orientation, so the pre-crop, made
 * before the turn, is mapped back to the unturned image. Pure: frame.ts turns the pixels.
 */
import type { ProcessingOptions } from '../options.js';
import type { CropStep, Rect } from './crop.js';

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

/** EXIF orientation → the rotation and mirror that show the image upright (libvips autorot). */
const EXIF_ORIENTATION: Readonly<Record<number, Turn>> = {
  2: { angle: 0, flop: true },
  3: { angle: 180, flop: false },
  4: { angle: 180, flop: true },
  5: { angle: 90, flop: true },
  6: { angle: 90, flop: false },
  7: { angle: 270, flop: true },
  8: { angle: 270, flop: false },
};

/** An EXIF orientation as a turn (none for 1 and unknown values). */
export function exifTurn(orientation: number): Turn {
  const o = EXIF_ORIENTATION[orientation];
  return o ? { angle: o.angle, flop: o.flop } : NO_TURN;
}

/** Whether an EXIF orientation swaps width and height. */
export function orientationSwaps(orientation: number): boolean {
  return swapsAxes(exifTurn(orientation));
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
