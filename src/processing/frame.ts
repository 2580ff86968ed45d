/**
 * Frame operations: one still image as raw pixels, and the steps of the imgproxy pipeline
 * applied to it with sharp. Each step is its own sharp pass because sharp runs the
 * operations of one pipeline in a fixed internal order (e.g. flop before rotate, extend after
 * extract), while imgproxy's order matters here. Steps after the resize work on small images,
 * so the extra passes are cheap next to the decode.
 */
import sharp, { type KernelEnum, type OverlayOptions, type Sharp } from 'sharp';
import type { ProcessingOptions, Rgb } from '../options.js';
import type { CropStep, EmbedStep } from './geometry.js';
import { vips } from './sharp-setup.js';

export type Depth = 'uchar' | 'ushort';

export interface Frame {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  depth: Depth;
}

export function hasAlpha(f: Frame): boolean {
  return f.channels === 2 || f.channels === 4;
}

/** A sharp pipeline reading the frame's pixels. */
export function fromFrame(f: Frame): Sharp {
  const raw = { width: f.width, height: f.height, channels: f.channels };
  if (f.depth === 'ushort') {
    // sharp infers 16-bit raw input from the typed array.
    return sharp(new Uint16Array(f.data.buffer, f.data.byteOffset, f.data.length / 2), { raw });
  }
  return sharp(f.data, { raw });
}

/** Runs a pipeline to raw pixels of the given depth. */
export async function toFrame(p: Sharp, depth: Depth): Promise<Frame> {
  const piped = depth === 'ushort' ? p.toColourspace('rgb16').raw({ depth: 'ushort' }) : p.raw();
  const { data, info } = await vips(piped.toBuffer({ resolveWithObject: true }));
  return { data, width: info.width, height: info.height, channels: info.channels, depth };
}

const KERNELS: Readonly<Record<string, keyof KernelEnum>> = {
  nearest: 'nearest',
  linear: 'linear',
  cubic: 'cubic',
  lanczos2: 'lanczos2',
  lanczos3: 'lanczos3',
};

export function kernelFor(algorithm: string): keyof KernelEnum {
  return KERNELS[algorithm] ?? 'lanczos3';
}

export async function resizeFrame(f: Frame, width: number, height: number, kernel: keyof KernelEnum): Promise<Frame> {
  if (width === f.width && height === f.height) return f;
  return toFrame(fromFrame(f).resize(width, height, { fit: 'fill', kernel }), f.depth);
}

async function extract(f: Frame, left: number, top: number, width: number, height: number): Promise<Frame> {
  if (left === 0 && top === 0 && width === f.width && height === f.height) return f;
  return toFrame(fromFrame(f).extract({ left, top, width, height }), f.depth);
}

/**
 * libvips smartcrop (attention) without scaling: sharp only exposes it through a cover resize,
 * which does not scale when one side already matches, so crop one axis at a time.
 */
async function smartCrop(f: Frame, width: number, height: number): Promise<Frame> {
  let cur = f;
  if (width < cur.width) cur = await toFrame(fromFrame(cur).resize(width, cur.height, { fit: 'cover', position: 'attention' }), f.depth);
  if (height < cur.height) cur = await toFrame(fromFrame(cur).resize(cur.width, height, { fit: 'cover', position: 'attention' }), f.depth);
  return cur;
}

export async function cropFrame(f: Frame, step: CropStep | null): Promise<Frame> {
  if (!step) return f;
  if (step.kind === 'smart') return smartCrop(f, Math.min(step.width, f.width), Math.min(step.height, f.height));
  const r = step.rect;
  return extract(f, r.left, r.top, Math.min(r.width, f.width - r.left), Math.min(r.height, f.height - r.top));
}

/** Rotation (multiple of 90) then horizontal/vertical mirroring, in that order. */
export async function rotateFlipFrame(f: Frame, angle: number, flipH: boolean, flipV: boolean): Promise<Frame> {
  const a = ((angle % 360) + 360) % 360;
  if (a === 0 && !flipH && !flipV) return f;
  let p = fromFrame(f);
  if (a !== 0) p = p.rotate(a);
  // sharp mirrors before rotating; a mirror after a quarter turn is the other mirror before it.
  const quarter = a % 180 === 90;
  const flop = quarter ? flipV : flipH;
  const flip = quarter ? flipH : flipV;
  if (flop) p = p.flop();
  if (flip) p = p.flip();
  return toFrame(p, f.depth);
}

/** EXIF orientation → the rotation and mirror that show the image upright (libvips autorot). */
const EXIF_ORIENTATION: Readonly<Record<number, { angle: number; flop: boolean }>> = {
  2: { angle: 0, flop: true },
  3: { angle: 180, flop: false },
  4: { angle: 180, flop: true },
  5: { angle: 90, flop: true },
  6: { angle: 90, flop: false },
  7: { angle: 270, flop: true },
  8: { angle: 270, flop: false },
};

/** Applies an EXIF orientation to decoded pixels (for steps that must see the stored image first). */
export async function orientFrame(f: Frame, orientation: number): Promise<Frame> {
  const o = EXIF_ORIENTATION[orientation];
  return o ? rotateFlipFrame(f, o.angle, o.flop, false) : f;
}

/**
 * imgproxy's embed: adds an alpha channel and places the image on a transparent canvas. A
 * canvas smaller than the image on one axis crops that axis (libvips embed semantics).
 */
export async function embedFrame(f: Frame, e: EmbedStep | null): Promise<Frame> {
  if (!e) return f;
  let cur = f;
  const cutX = Math.max(0, cur.width - e.width);
  const cutY = Math.max(0, cur.height - e.height);
  if (cutX > 0 || cutY > 0) cur = await extract(cur, 0, 0, cur.width - cutX, cur.height - cutY);
  const left = Math.max(0, e.left);
  const top = Math.max(0, e.top);
  return toFrame(
    fromFrame(cur)
      .ensureAlpha()
      .extend({
        left,
        top,
        right: e.width - cur.width - left,
        bottom: e.height - cur.height - top,
        background: { r: 0, g: 0, b: 0, alpha: 0 },
      }),
    f.depth,
  );
}

export async function padFrame(f: Frame, p: { top: number; right: number; bottom: number; left: number } | null): Promise<Frame> {
  if (!p) return f;
  return embedFrame(f, { width: f.width + p.left + p.right, height: f.height + p.top + p.bottom, left: p.left, top: p.top });
}

/** Grows a trimmed span (start, size) within `total` so both margins equal the smaller one. */
function equalMargins(start: number, size: number, total: number): [number, number] {
  const far = total - start - size;
  const diff = far - start;
  if (diff > 0) return [start, size + diff];
  if (diff < 0) return [far, size - diff];
  return [start, size];
}

/**
 * Trim (imgproxy vips_trim): flatten alpha onto magenta so `FF00FF` trims transparency, find the
 * bounding box of what differs from the colour (top-left pixel when none) by more than the
 * threshold, optionally equalise opposite margins, then cut.
 */
export async function trimFrame(f: Frame, t: { threshold: number; color: string | null; equalHor: boolean; equalVer: boolean }): Promise<Frame> {
  let probe = fromFrame(f);
  if (hasAlpha(f)) probe = probe.flatten({ background: '#ff00ff' });
  const trimmed = await vips(
    probe
      .trim({ threshold: t.threshold, ...(t.color ? { background: `#${t.color}` } : {}) })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  let left = -(trimmed.info.trimOffsetLeft ?? 0);
  let top = -(trimmed.info.trimOffsetTop ?? 0);
  let width = trimmed.info.width;
  let height = trimmed.info.height;
  if (t.equalHor) [left, width] = equalMargins(left, width, f.width);
  if (t.equalVer) [top, height] = equalMargins(top, height, f.height);
  if (width <= 0 || height <= 0) return f;
  return extract(f, left, top, width, height);
}

export type Filters = Pick<ProcessingOptions, 'blur' | 'sharpen' | 'pixelate' | 'brightness' | 'contrast' | 'saturation' | 'monochrome'>;

/** blur → sharpen → pixelate (imgproxy vips_apply_filters), then the adjustments. */
export async function filterFrame(f: Frame, o: Filters): Promise<Frame> {
  let cur = f;
  if (o.blur > 0 || o.sharpen > 0) {
    let p = fromFrame(cur);
    // sharp's gaussian blur accepts sigma from 0.3; smaller is visually a no-op.
    if (o.blur > 0) p = p.blur(Math.max(0.3, o.blur));
    if (o.sharpen > 0) p = p.sharpen({ sigma: Math.max(0.000001, o.sharpen) });
    cur = await toFrame(p, cur.depth);
  }
  const pixels = Math.min(o.pixelate, Math.max(cur.width, cur.height));
  if (pixels > 1) cur = await pixelate(cur, pixels);
  if (o.brightness !== 0 || o.contrast !== 1) {
    // Contrast pivots around mid-grey; brightness is an offset in 8-bit units.
    const a = o.contrast;
    const b = 128 * (1 - o.contrast) + o.brightness;
    const colour = hasAlpha(cur) ? cur.channels - 1 : cur.channels;
    const as = Array.from({ length: cur.channels }, (_, i) => (i < colour ? a : 1));
    const bs = Array.from({ length: cur.channels }, (_, i) => (i < colour ? b : 0));
    cur = await toFrame(fromFrame(cur).linear(as, bs), cur.depth);
  }
  if (o.saturation !== 1) cur = await toFrame(fromFrame(cur).modulate({ saturation: o.saturation }), cur.depth);
  if (o.monochrome && o.monochrome.intensity > 0) cur = await monochrome(cur, o.monochrome.intensity, o.monochrome.color);
  return cur;
}

/** imgproxy pixelate: mirror-extend to a multiple of the block, shrink (box average), zoom back. */
async function pixelate(f: Frame, pixels: number): Promise<Frame> {
  const tw = Math.ceil(f.width / pixels) * pixels;
  const th = Math.ceil(f.height / pixels) * pixels;
  let cur = f;
  if (tw > f.width || th > f.height) {
    cur = await toFrame(fromFrame(cur).extend({ right: tw - f.width, bottom: th - f.height, extendWith: 'mirror' }), f.depth);
  }
  cur = await toFrame(fromFrame(cur).resize(tw / pixels, th / pixels, { fit: 'fill', kernel: 'linear' }), f.depth);
  cur = await toFrame(fromFrame(cur).resize(tw, th, { fit: 'fill', kernel: 'nearest' }), f.depth);
  return extract(cur, 0, 0, f.width, f.height);
}

/**
 * Tinted greyscale blended over the image by `intensity` (alpha untouched). sharp's tint alone
 * is the tinted greyscale (it keeps the lightness and takes the colour's chroma, so a grey
 * tint is plain greyscale); adding `.greyscale()` would make sharp emit one band, which is
 * not the frame layout blended below.
 */
async function monochrome(f: Frame, intensity: number, color: string): Promise<Frame> {
  const base = await toFrame(fromFrame(f).toColourspace('srgb'), 'uchar');
  const tinted = await toFrame(fromFrame(base).tint(`#${color}`).toColourspace('srgb'), 'uchar');
  if (tinted.channels !== base.channels || tinted.width !== base.width) return base;
  const k = Math.max(0, Math.min(1, intensity));
  const out = Buffer.from(base.data);
  const colour = hasAlpha(base) ? base.channels - 1 : base.channels;
  for (let i = 0; i < out.length; i++) {
    if (i % base.channels >= colour) continue;
    out[i] = Math.round((base.data[i] ?? 0) * (1 - k) + (tinted.data[i] ?? 0) * k);
  }
  return { ...base, data: out };
}

/** Removes alpha over a background colour (white when none is given). */
export async function flattenFrame(f: Frame, bg: Rgb | null): Promise<Frame> {
  if (!hasAlpha(f)) return f;
  const background = bg ?? { r: 255, g: 255, b: 255 };
  return toFrame(fromFrame(f).flatten({ background }), f.depth);
}

export async function compositeFrame(f: Frame, overlays: OverlayOptions[]): Promise<Frame> {
  if (overlays.length === 0) return f;
  const out = await toFrame(fromFrame(f).composite(overlays), f.depth);
  // Compositing may add alpha; keep the image's own channel layout (imgproxy does the same).
  if (!hasAlpha(f) && hasAlpha(out)) return toFrame(fromFrame(out).removeAlpha(), f.depth);
  return out;
}
