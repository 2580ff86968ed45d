/**
 * Watermark placement: the mark's size on an image, where it goes, which part of it shows,
 * and the overlays for sharp's `.composite()` that draw it. Two sets of rules, one per
 * dialect (WatermarkLayout):
 *
 *  - imgproxy's (processing/watermark.go, calc_position.go,
 *    https://github.com/imgproxy/imgproxy/blob/master/processing/watermark.go): `scale` fits
 *    the mark into scale × the image (Pro `watermark_size` when the scale is 0), offsets push
 *    the mark away from the edge it is anchored to, pixel offsets follow `dpr`, the mark may
 *    overflow but keeps ≥ 1 px on the image, and `re` tiles it symmetrically around the centre;
 *  - PreviewProxy's (src/modules/transform/ops/watermark.rs, https://github.com/ViGrise/previewproxy):
 *    `wm_scale` is the mark's width as a fraction of the image's, offsets are added to the
 *    top-left corner, the mark is clipped wherever it lands, and `re` tiles from the top-left
 *    corner with the offsets as spacing.
 *
 * Only the part of the mark that shows is made (watermark-mark.ts), and every overlay lies
 * inside the image: sharp refuses an overlay larger than the image under it.
 */
import type { OverlayOptions } from 'sharp';
import type { Config } from '../config/index.js';
import { ConfigError } from '../config/fields.js';
import { readAuxImage } from '../aux-image.js';
import { ProxyError } from '../errors.js';
import type { WatermarkImage, WatermarkLayout, WatermarkOptions } from '../options.js';
import type { Rect } from './crop.js';
import type { PixelLimits } from './limits.js';
import type { Run } from './run.js';
import { sanitizeSvg } from './svg-sanitize.js';
import { encodedMark, finalMarkSize, looksLikeSvg, rawMark, renderMark, reshapes, type MarkSource, type Raw } from './watermark-mark.js';
import { renderText } from './watermark-text.js';

export interface Canvas {
  width: number;
  height: number;
}

/** Everything that decides how one mark is drawn on an image. */
export interface MarkRequest {
  opts: WatermarkOptions;
  /** IMGPROXY_WATERMARK_OPACITY, multiplied by the option's opacity. */
  baseOpacity: number;
  /** imgproxy Pro `watermark_size` (used when the scale is 0). */
  size?: { width: number; height: number } | null;
  rotate?: number;
  shadow?: number;
  /** Multiplies offsets given in pixels (imgproxy's `dpr`). */
  offsetScale?: number;
}

/** Go's math.RoundToEven, which imgproxy's imath helpers use for every offset. */
export function roundToEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Offsets of magnitude ≥ 1 are pixels (times `dpr`); smaller ones are a fraction of the side. */
function offset(v: number, side: number, scale: number): number {
  return Math.abs(v) >= 1 ? roundToEven(v * scale) : roundToEven(side * v);
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
}

/** The mark's size after the resize, before rotation and shadow. */
export function markSize(natural: Canvas, canvas: Canvas, req: MarkRequest): Canvas {
  const { opts } = req;
  const { width: w0, height: h0 } = natural;
  if (opts.layout === 'previewproxy') {
    if (!(opts.scale > 0)) return natural;
    // Rust's `as u32` truncates; each side is at least 1.
    const width = Math.max(1, Math.floor(canvas.width * opts.scale));
    return { width, height: Math.max(1, Math.floor(h0 * (width / w0))) };
  }
  let box: Canvas | null = null;
  if (opts.scale > 0) box = { width: Math.max(1, roundToEven(canvas.width * opts.scale)), height: Math.max(1, roundToEven(canvas.height * opts.scale)) };
  else if (req.size && (req.size.width > 0 || req.size.height > 0)) box = req.size;
  if (box === null) return natural;
  // Fit, enlarging when needed; a side of 0 follows the other.
  const factor = box.width === 0 ? box.height / h0 : box.height === 0 ? box.width / w0 : Math.min(box.width / w0, box.height / h0);
  return { width: Math.max(1, Math.round(w0 * factor)), height: Math.max(1, Math.round(h0 * factor)) };
}

/** One mark: its top-left corner on the image. */
interface Single {
  kind: 'single';
  left: number;
  top: number;
}

/**
 * Tiles: the cell (the mark and its spacing) handed to sharp's composite `tile`, which
 * replicates it lazily (libvips replicate); `window` is the part of a cell kept (all of it,
 * unless the cell is larger than the image), `at` the mark's corner inside the window and
 * `shift` where the replicated cells start on the image.
 */
interface Tiles {
  kind: 'tile';
  window: Canvas;
  at: { left: number; top: number };
  shift: { left: number; top: number };
}

type Layout = Single | Tiles;

function imgproxySingle(canvas: Canvas, w: number, h: number, req: MarkRequest): Single {
  const { width: W, height: H } = canvas;
  const s = req.offsetScale ?? 1;
  const offX = offset(req.opts.x, W, s);
  const offY = offset(req.opts.y, H, s);
  const p = req.opts.position;
  let left = roundToEven((W - w + 1) / 2) + offX;
  let top = roundToEven((H - h + 1) / 2) + offY;
  if (p === 'no' || p === 'noea' || p === 'nowe') top = offY;
  if (p === 'so' || p === 'soea' || p === 'sowe') top = H - h - offY;
  if (p === 'ea' || p === 'noea' || p === 'soea') left = W - w - offX;
  if (p === 'we' || p === 'nowe' || p === 'sowe') left = offX;
  left = Math.max(-w + 1, Math.min(left, W - 1));
  top = Math.max(-h + 1, Math.min(top, H - 1));
  return { kind: 'single', left, top };
}

/** PreviewProxy's `compute_single_position`: Rust's integer division truncates toward zero. */
function previewproxySingle(canvas: Canvas, w: number, h: number, opts: WatermarkOptions): Single {
  const half = (v: number): number => Math.trunc(v / 2);
  const { width: W, height: H } = canvas;
  const p = opts.position;
  let left = half(W - w);
  let top = half(H - h);
  if (p === 'no' || p === 'noea' || p === 'nowe') top = 0;
  if (p === 'so' || p === 'soea' || p === 'sowe') top = H - h;
  if (p === 'ea' || p === 'noea' || p === 'soea') left = W - w;
  if (p === 'we' || p === 'nowe' || p === 'sowe') left = 0;
  return { kind: 'single', left: left + opts.x, top: top + opts.y };
}

function tiles(canvas: Canvas, w: number, h: number, req: MarkRequest): Tiles {
  if (req.opts.layout === 'previewproxy') {
    // Cells from the top-left corner, spacing to the right and below each mark.
    const axis = (mark: number, spacing: number, side: number): { window: number } => ({ window: Math.min(mark + Math.max(0, spacing), side) });
    const x = axis(w, req.opts.x, canvas.width);
    const y = axis(h, req.opts.y, canvas.height);
    return { kind: 'tile', window: { width: x.window, height: y.window }, at: { left: 0, top: 0 }, shift: { left: 0, top: 0 } };
  }
  // imgproxy: the spacing split on both sides of each mark; an odd number of cells across,
  // the middle one centred.
  const s = req.offsetScale ?? 1;
  const axis = (mark: number, spacing: number, side: number): { window: number; at: number; shift: number } => {
    const cell = mark + spacing;
    let across = Math.ceil(side / cell);
    if (across % 2 === 0) across++;
    const shift = Math.floor((across * cell - side) / 2);
    const inCell = Math.floor(spacing / 2);
    // A cell larger than the image shows as one tile: keep only its visible window.
    return cell > side ? { window: side, at: inCell - shift, shift: 0 } : { window: cell, at: inCell, shift };
  };
  const x = axis(w, Math.max(0, offset(req.opts.x, canvas.width, s)), canvas.width);
  const y = axis(h, Math.max(0, offset(req.opts.y, canvas.height, s)), canvas.height);
  return { kind: 'tile', window: { width: x.window, height: y.window }, at: { left: x.at, top: y.at }, shift: { left: x.shift, top: y.shift } };
}

function layoutFor(canvas: Canvas, w: number, h: number, req: MarkRequest): Layout {
  if (req.opts.position === 're') return tiles(canvas, w, h, req);
  return req.opts.layout === 'previewproxy' ? previewproxySingle(canvas, w, h, req.opts) : imgproxySingle(canvas, w, h, req);
}

/** The part of a w×h mark that shows, in the mark's own pixels; null when none does. */
function visiblePart(layout: Layout, canvas: Canvas, w: number, h: number): Rect | null {
  const [at, area] = layout.kind === 'single' ? [layout, canvas] : [layout.at, layout.window];
  const left = Math.max(0, -at.left);
  const top = Math.max(0, -at.top);
  const right = Math.min(w, area.width - at.left);
  const bottom = Math.min(h, area.height - at.top);
  return right > left && bottom > top ? { left, top, width: right - left, height: bottom - top } : null;
}

/** `part` of a raw mark, copied out. */
function crop(m: Raw, part: Rect): Raw {
  if (part.left === 0 && part.top === 0 && part.width === m.width && part.height === m.height) return m;
  const data = Buffer.allocUnsafe(part.width * part.height * 4);
  for (let y = 0; y < part.height; y++) {
    const src = ((part.top + y) * m.width + part.left) * 4;
    m.data.copy(data, y * part.width * 4, src, src + part.width * 4);
  }
  return { data, width: part.width, height: part.height };
}

/** The overlay drawing `shown` (the visible `part` of the mark) as `layout` says. */
function overlay(layout: Layout, part: Rect, shown: Raw): OverlayOptions {
  const raw = { width: shown.width, height: shown.height, channels: 4 as const };
  if (layout.kind === 'single') return { input: shown.data, raw, left: layout.left + part.left, top: layout.top + part.top };
  const { window } = layout;
  const cell = Buffer.alloc(window.width * window.height * 4);
  const x0 = layout.at.left + part.left;
  const y0 = layout.at.top + part.top;
  for (let row = 0; row < shown.height; row++) {
    shown.data.copy(cell, ((y0 + row) * window.width + x0) * 4, row * shown.width * 4, (row + 1) * shown.width * 4);
  }
  return { input: cell, raw: { width: window.width, height: window.height, channels: 4 }, tile: true, left: layout.shift.left, top: layout.shift.top };
}

/**
 * Overlays that draw the mark on an image of `canvas` size: none when the opacity is 0 or the
 * mark lands outside. Every canvas made on the way is checked against the intermediate bound
 * first (a scale of 2 asks for a mark four times the image).
 */
export async function watermarkOverlays(source: MarkSource, canvas: Canvas, req: MarkRequest, limits: PixelLimits, run: Run): Promise<OverlayOptions[]> {
  const W = Math.floor(canvas.width);
  const H = Math.floor(canvas.height);
  const opacity = clamp01(req.baseOpacity) * clamp01(req.opts.opacity);
  if (W < 1 || H < 1 || opacity <= 0) return [];
  const image = { width: W, height: H };
  const sized = markSize(source, image, req);
  const steps = { ...sized, rotate: req.rotate ?? 0, shadow: req.shadow ?? 0, opacity };
  const expected = finalMarkSize(steps, limits);
  if (!reshapes(steps)) {
    const layout = layoutFor(image, expected.width, expected.height, req);
    const part = visiblePart(layout, image, expected.width, expected.height);
    return part ? [overlay(layout, part, await renderMark(source, steps, part, run))] : [];
  }
  // Rotation and shadow make a mark whose size is known once made: made whole, then placed.
  const whole = await renderMark(source, steps, null, run);
  const layout = layoutFor(image, whole.width, whole.height, req);
  const part = visiblePart(layout, image, whole.width, whole.height);
  return part ? [overlay(layout, part, crop(whole, part))] : [];
}

/**
 * The mark a request draws: its text, or the image bytes the caller loaded (the request's
 * own `watermark_url`/`wm`, else the configured IMGPROXY_WATERMARK_*). null: nothing to draw
 * (no watermark configured, or text that draws no glyph).
 */
export async function openWatermark(
  image: WatermarkImage | null,
  bytes: Buffer | undefined,
  ctx: { maxPixels: number; limits: PixelLimits; run: Run; layout: WatermarkLayout },
): Promise<MarkSource | null> {
  if (image?.kind === 'text') {
    // PreviewProxy's text image has 1 px of margin all round.
    const raw = await renderText(image, ctx.layout === 'previewproxy' ? 1 : 0, ctx.limits, ctx.run);
    return raw ? rawMark(raw) : null;
  }
  if (bytes === undefined) {
    if (image?.kind === 'url') throw new ProxyError('INTERNAL', `watermark ${image.url} was not loaded`);
    return null;
  }
  // The configured image was sanitised at startup; a request's own may be any SVG.
  return encodedMark(bytes, ctx.maxPixels, ctx.limits, image?.kind === 'url');
}

/**
 * Reads the watermark configured by IMGPROXY_WATERMARK_DATA (base64), _PATH or _URL, in
 * imgproxy's order of precedence. A watermark that cannot be read or decoded stops startup:
 * silently serving unmarked images would be worse than not starting.
 */
export async function loadWatermark(config: Config, fetchUrl: (url: string) => Promise<Buffer>): Promise<Buffer | undefined> {
  const p = config.processing;
  const aux = await readAuxImage({ data: p.watermarkData, path: p.watermarkPath, url: p.watermarkUrl }, 'IMGPROXY_WATERMARK', 'watermark image', fetchUrl);
  if (aux === null) return undefined;
  const name = aux.variable;
  let buf = aux.image;
  if (looksLikeSvg(buf)) {
    // Operator-supplied, but possibly fetched over the network: same rules as any SVG.
    try {
      buf = sanitizeSvg(buf);
    } catch (err) {
      throw new ConfigError(`${name}: the watermark SVG is invalid: ${(err as Error).message}`);
    }
  }
  try {
    const mark = await encodedMark(buf, Infinity, { result: Infinity, intermediate: Infinity }, false);
    await renderMark(mark, { width: 1, height: 1, rotate: 0, shadow: 0, opacity: 1 }, null, { deadline: Date.now() + 60_000 });
  } catch (err) {
    throw new ConfigError(`${name}: expected an image sharp can decode, got ${buf.length} bytes that fail: ${(err as Error).message}`);
  }
  return buf;
}
