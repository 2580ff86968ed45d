/**
 * Pixels and the steps of the imgproxy pipeline applied to them with sharp.
 *
 * A `Frame` is raw pixels held in memory; `Pixels` is what a sharp pipeline will produce when it
 * runs (a decode, a frame, plus pending operations). libvips evaluates a pipeline lazily, strip
 * by strip, so a step appended to `Pixels` costs no canvas of its own: only a materialised
 * `Frame` does. sharp runs the operations of one pipeline in a fixed internal order (trim →
 * pre-extract → flatten → resize → rotate → post-extract → extend → blur/sharpen → composite →
 * linear; https://github.com/lovell/sharp/blob/main/src/pipeline.cc), so a step that imgproxy
 * runs in another order (trim, rotate, most filters, the per-format size fix) materialises a
 * `Frame` and the next steps start a new pipeline from it. Every sharp pass starts under the
 * request's budget (run.ts).
 */
import sharp, { type KernelEnum, type OverlayOptions, type Sharp } from 'sharp';
import type { ProcessingOptions, Rgb } from '../options.js';
import type { CropStep, Rect } from './crop.js';
import { pixelateGrid } from './step-sizes.js';
import { exifTurn, isIdentity, type Turn } from './turns.js';
import { underBudget, type Run } from './run.js';
import { vips } from './sharp-setup.js';

export type Depth = 'uchar' | 'ushort';

export interface Frame {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  depth: Depth;
  run: Run;
  /** Frames of an animation stacked vertically, each this high. */
  pageHeight?: number;
}

/** Pixels not computed yet: `open()` starts a new pipeline that yields width × height. */
export interface Pixels {
  open(): Sharp;
  width: number;
  height: number;
  hasAlpha: boolean;
  depth: Depth;
  run: Run;
  /** The pipeline `open()` starts works in linear light (it still yields sRGB). */
  linear?: boolean;
}

export function hasAlpha(f: Frame): boolean {
  return f.channels === 2 || f.channels === 4;
}

/** A sharp pipeline reading the frame's pixels. */
export function fromFrame(f: Frame): Sharp {
  // Our own buffer, already allocated: sharp's input pixel limit has nothing left to protect.
  const raw = { width: f.width, height: f.height, channels: f.channels, ...(f.pageHeight !== undefined ? { pageHeight: f.pageHeight } : {}) };
  // sharp infers 16-bit raw input from the typed array.
  const input = f.depth === 'ushort' ? new Uint16Array(f.data.buffer, f.data.byteOffset, f.data.length / 2) : f.data;
  return underBudget(sharp(input, { raw, limitInputPixels: false }), f.run);
}

export function framePixels(f: Frame): Pixels {
  return { open: () => fromFrame(f), width: f.width, height: f.height, hasAlpha: hasAlpha(f), depth: f.depth, run: f.run };
}

/**
 * Runs a pipeline to raw pixels of the depth of `like`, under its budget. `size`, when the
 * caller knows it, is what the pixels are: sharp's `info` reports the size of a post-resize
 * extract even when an extend follows it (the info object of sharp's src/pipeline.cc), and raw
 * pixels described with the wrong width are garbage.
 */
export async function toFrame(p: Sharp, like: { depth: Depth; run: Run }, size?: { width: number; height: number }): Promise<Frame> {
  const piped = like.depth === 'ushort' ? p.toColourspace('rgb16').raw({ depth: 'ushort' }) : p.raw();
  const { data, info } = await vips(piped.toBuffer({ resolveWithObject: true }));
  const width = size?.width ?? info.width;
  const height = size?.height ?? info.height;
  if (data.length !== width * height * info.channels * (like.depth === 'ushort' ? 2 : 1)) {
    throw new Error(`raw pixels: ${data.length} bytes are not ${width}x${height}x${info.channels} (${like.depth})`);
  }
  return { data, width, height, channels: info.channels, depth: like.depth, run: like.run };
}

/** Operations sharp can run in one lazy pass, each in its slot of sharp's order. */
export interface LazyOps {
  /** Run the pass in linear light (IMGPROXY_USE_LINEAR_COLORSPACE): libvips scRGB, sRGB out. */
  linear?: boolean;
  resize?: { width: number; height: number; kernel: keyof KernelEnum } | null;
  /** The rotate/flip options (and EXIF orientation), after the resize as in imgproxy. */
  turn?: Turn | null;
  /** In the final orientation. */
  extract?: Rect | null;
  /** Transparent margins. */
  extend?: { left: number; top: number; right: number; bottom: number } | null;
  /** Background alpha is removed over; sharp does it first in the pass, before any resize. */
  flatten?: Rgb | null;
  /** imgproxy's blur and sharpen sigmas (0 = none); after extend in sharp's order. */
  blur?: number;
  sharpen?: number;
  overlays?: OverlayOptions[] | null;
  removeAlpha?: boolean;
}

export function withOps(p: Sharp, ops: LazyOps): Sharp {
  let out = p;
  if (ops.linear) out = linearLight(out);
  if (ops.flatten) out = out.flatten({ background: ops.flatten });
  if (ops.resize) out = out.resize(ops.resize.width, ops.resize.height, { fit: 'fill', kernel: ops.resize.kernel });
  // Called after resize(), so sharp turns the resized pixels; an extract() after it is then in
  // the turned image, with or without a resize (sharp's rotateBefore rules).
  if (ops.turn && !isIdentity(ops.turn)) out = applyTurn(out, ops.turn);
  // After a resize this is sharp's post-resize extract, without one its pre-resize extract.
  if (ops.extract) out = out.extract(ops.extract);
  if (ops.extend) out = out.extend({ ...ops.extend, background: { r: 0, g: 0, b: 0, alpha: 0 } });
  // sharp's gaussian blur accepts sigma from 0.3; smaller is visually a no-op.
  if (ops.blur && ops.blur > 0) out = out.blur(Math.max(0.3, ops.blur));
  if (ops.sharpen && ops.sharpen > 0) out = out.sharpen({ sigma: Math.max(0.000001, ops.sharpen) });
  if (ops.overlays && ops.overlays.length > 0) out = out.composite(ops.overlays);
  if (ops.removeAlpha) out = out.removeAlpha();
  return out;
}

/**
 * A pass in linear light, as imgproxy's IMGPROXY_USE_LINEAR_COLORSPACE resizes
 * (processing/scale.go: to linear, resize, back): sharp converts the input to libvips' scRGB
 * and the output back to sRGB (or to what toColourspace asks).
 */
export function linearLight(p: Sharp): Sharp {
  return p.pipelineColourspace('scrgb');
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
  return toFrame(fromFrame(f).resize(width, height, { fit: 'fill', kernel }), f);
}

async function extract(f: Frame, left: number, top: number, width: number, height: number): Promise<Frame> {
  if (left === 0 && top === 0 && width === f.width && height === f.height) return f;
  return toFrame(fromFrame(f).extract({ left, top, width, height }), f);
}

/**
 * libvips smartcrop (attention) without scaling: sharp only exposes it through a cover resize,
 * which does not scale when one side already matches, so crop one axis at a time.
 */
async function smartCrop(f: Frame, width: number, height: number): Promise<Frame> {
  let cur = f;
  if (width < cur.width) cur = await toFrame(fromFrame(cur).resize(width, cur.height, { fit: 'cover', position: 'attention' }), f);
  if (height < cur.height) cur = await toFrame(fromFrame(cur).resize(cur.width, height, { fit: 'cover', position: 'attention' }), f);
  return cur;
}

/** A crop rectangle kept inside a width × height image. */
export function clampRect(r: Rect, width: number, height: number): Rect {
  return { left: r.left, top: r.top, width: Math.min(r.width, width - r.left), height: Math.min(r.height, height - r.top) };
}

export async function cropFrame(f: Frame, step: CropStep | null): Promise<Frame> {
  if (!step) return f;
  if (step.kind === 'smart') return smartCrop(f, Math.min(step.width, f.width), Math.min(step.height, f.height));
  const r = clampRect(step.rect, f.width, f.height);
  return extract(f, r.left, r.top, r.width, r.height);
}

/** Rotation (multiple of 90) then horizontal/vertical mirroring, in that order. */
export function rotateFlip(p: Sharp, angle: number, flipH: boolean, flipV: boolean): Sharp {
  const a = ((angle % 360) + 360) % 360;
  let out = p;
  if (a !== 0) out = out.rotate(a);
  // sharp mirrors before rotating; a mirror after a quarter turn is the other mirror before it.
  const quarter = a % 180 === 90;
  if (quarter ? flipV : flipH) out = out.flop();
  if (quarter ? flipH : flipV) out = out.flip();
  return out;
}

export async function rotateFlipFrame(f: Frame, angle: number, flipH: boolean, flipV: boolean): Promise<Frame> {
  if (((angle % 360) + 360) % 360 === 0 && !flipH && !flipV) return f;
  return toFrame(rotateFlip(fromFrame(f), angle, flipH, flipV), f);
}

export function applyTurn(p: Sharp, t: Turn): Sharp {
  return rotateFlip(p, t.angle, t.flop, false);
}

/**
 * An EXIF orientation as sharp's post-resize rotate and mirror. Unlike `autoOrient()`, this does
 * not move the rotation before a later `extract()` (sharp does that for autoOrient, which turns
 * off JPEG shrink-on-load). A resize in the same pipeline is then in stored orientation.
 */
export function orient(p: Sharp, orientation: number): Sharp {
  return applyTurn(p, exifTurn(orientation));
}

/** Applies an EXIF orientation to decoded pixels (for steps that must see the stored image first). */
export async function orientFrame(f: Frame, orientation: number): Promise<Frame> {
  const t = exifTurn(orientation);
  return rotateFlipFrame(f, t.angle, t.flop, false);
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
  // sharp trims before it flattens within one pipeline (and reads alpha for trimming), so the
  // flatten onto magenta that imgproxy does first (vips/vips.c vips_trim) is a pass of its own.
  if (hasAlpha(f)) probe = fromFrame(await toFrame(probe.flatten({ background: '#ff00ff' }), f));
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

/**
 * The filters `filterFrame` must run on held pixels: all but blur and sharpen, which a lazy
 * pipeline can run in imgproxy's order (blur then sharpen) when nothing else filters.
 */
export function heldFilters(o: Filters): boolean {
  return o.pixelate > 1 || o.brightness !== 0 || o.contrast !== 1 || o.saturation !== 1 || (o.monochrome !== null && o.monochrome.intensity > 0);
}

/** blur → sharpen → pixelate (imgproxy vips_apply_filters), then the adjustments. */
export async function filterFrame(f: Frame, o: Filters): Promise<Frame> {
  let cur = f;
  if (o.blur > 0 || o.sharpen > 0) cur = await toFrame(withOps(fromFrame(cur), { blur: o.blur, sharpen: o.sharpen }), cur);
  if (pixelateGrid(cur.width, cur.height, o.pixelate).block > 1) cur = await pixelate(cur, o.pixelate);
  if (o.brightness !== 0 || o.contrast !== 1) {
    // Contrast pivots around mid-grey; brightness is an offset in 8-bit units.
    const a = o.contrast;
    const b = 128 * (1 - o.contrast) + o.brightness;
    const colour = hasAlpha(cur) ? cur.channels - 1 : cur.channels;
    const as = Array.from({ length: cur.channels }, (_, i) => (i < colour ? a : 1));
    const bs = Array.from({ length: cur.channels }, (_, i) => (i < colour ? b : 0));
    cur = await toFrame(fromFrame(cur).linear(as, bs), cur);
  }
  if (o.saturation !== 1) cur = await toFrame(fromFrame(cur).modulate({ saturation: o.saturation }), cur);
  if (o.monochrome && o.monochrome.intensity > 0) cur = await monochrome(cur, o.monochrome.intensity, o.monochrome.color);
  return cur;
}

/** imgproxy pixelate: mirror-extend to a multiple of the block, shrink (box average), zoom back. */
async function pixelate(f: Frame, pixelateOption: number): Promise<Frame> {
  const { block, width: tw, height: th } = pixelateGrid(f.width, f.height, pixelateOption);
  let cur = f;
  if (tw > f.width || th > f.height) {
    cur = await toFrame(fromFrame(cur).extend({ right: tw - f.width, bottom: th - f.height, extendWith: 'mirror' }), f);
  }
  cur = await toFrame(fromFrame(cur).resize(tw / block, th / block, { fit: 'fill', kernel: 'linear' }), f);
  cur = await toFrame(fromFrame(cur).resize(tw, th, { fit: 'fill', kernel: 'nearest' }), f);
  return extract(cur, 0, 0, f.width, f.height);
}

/**
 * Tinted greyscale blended over the image by `intensity` (alpha untouched). sharp's tint alone
 * is the tinted greyscale (it keeps the lightness and takes the colour's chroma, so a grey
 * tint is plain greyscale); adding `.greyscale()` would make sharp emit one band, which is
 * not the frame layout blended below.
 */
async function monochrome(f: Frame, intensity: number, color: string): Promise<Frame> {
  const base = await toFrame(fromFrame(f).toColourspace('srgb'), { depth: 'uchar', run: f.run });
  const tinted = await toFrame(fromFrame(base).tint(`#${color}`).toColourspace('srgb'), base);
  if (tinted.channels !== base.channels || tinted.width !== base.width) return base;
  const k = Math.max(0, Math.min(1, intensity));
  // Blended into the tinted buffer, which nothing else holds: one canvas fewer.
  const out = tinted.data;
  const colour = hasAlpha(base) ? base.channels - 1 : base.channels;
  for (let i = 0; i < out.length; i++) {
    out[i] = i % base.channels >= colour ? (base.data[i] ?? 0) : Math.round((base.data[i] ?? 0) * (1 - k) + (out[i] ?? 0) * k);
  }
  return { ...base, data: out };
}
