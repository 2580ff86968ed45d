/**
 * Watermarks: loading the configured image once at boot, and turning `watermark` options
 * into overlays for sharp's `.composite()`, with imgproxy's geometry (processing/watermark.go,
 * calc_position.go) so existing URLs place the mark where imgproxy would.
 */
import sharp from 'sharp';
import type { OverlayOptions, Sharp } from 'sharp';
import { readAuxImage } from '../aux-image.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../config/fields.js';
import { ProxyError } from '../errors.js';
import type { WatermarkOptions } from '../options.js';
import { openImage } from './codecs/source.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { sanitizeSvg } from './svg-sanitize.js';

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

export interface Canvas {
  width: number;
  height: number;
}

/** Go's math.RoundToEven, which imgproxy's imath helpers use for every offset. */
export function roundToEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Offsets of magnitude ≥ 1 are pixels; smaller ones are a fraction of the canvas side. */
function offset(v: number, side: number): number {
  return Math.abs(v) >= 1 ? roundToEven(v) : roundToEven(side * v);
}

/**
 * Top-left corner of a `w`×`h` mark on the canvas for a compass position. Offsets push the
 * mark away from the edge it is anchored to (so `x` moves an `ea` mark left), and for `ce`
 * they move it right/down, as in imgproxy. The mark may overflow but always keeps ≥ 1 px
 * on the canvas.
 */
function watermarkPosition(canvas: Canvas, w: number, h: number, opts: Pick<WatermarkOptions, 'position' | 'x' | 'y'>): { left: number; top: number } {
  const { width: W, height: H } = canvas;
  const offX = offset(opts.x, W);
  const offY = offset(opts.y, H);
  const p = opts.position;
  let left = roundToEven((W - w + 1) / 2) + offX;
  let top = roundToEven((H - h + 1) / 2) + offY;
  if (p === 'no' || p === 'noea' || p === 'nowe') top = offY;
  if (p === 'so' || p === 'soea' || p === 'sowe') top = H - h - offY;
  if (p === 'ea' || p === 'noea' || p === 'soea') left = W - w - offX;
  if (p === 'we' || p === 'nowe' || p === 'sowe') left = offX;
  left = Math.max(-w + 1, Math.min(left, W - 1));
  top = Math.max(-h + 1, Math.min(top, H - 1));
  return { left, top };
}

/**
 * Overlays that draw `watermark` on a canvas of the given size. Final opacity is
 * `baseOpacity` (IMGPROXY_WATERMARK_OPACITY) × `opts.opacity`. Every overlay lies fully
 * inside the canvas (edge parts are cropped here), because sharp refuses an overlay larger
 * than the image it is composited onto. The mark's size is checked against the intermediate
 * pixel bound before it is made: `scale` can ask for a mark many times the canvas.
 */
export async function watermarkOverlays(watermark: Buffer, canvas: { width: number; height: number }, opts: WatermarkOptions, baseOpacity: number, limits: PixelLimits): Promise<OverlayOptions[]> {
  const W = Math.floor(canvas.width);
  const H = Math.floor(canvas.height);
  const opacity = clamp01(baseOpacity) * clamp01(opts.opacity);
  if (W < 1 || H < 1 || opacity <= 0) return [];

  const replicate = opts.position === 're';
  // imgproxy: scale > 0 fits the mark into (scale × canvas) on both axes, enlarging if needed.
  let box: { width: number; height: number; enlarge: boolean } | null = null;
  if (opts.scale > 0) {
    box = { width: Math.max(1, roundToEven(W * opts.scale)), height: Math.max(1, roundToEven(H * opts.scale)), enlarge: true };
    // A single mark larger than the canvas is shrunk to fit it below anyway: fitting it into the
    // smaller box at once gives the same mark without making the large one first.
    if (!replicate) box = { ...box, width: Math.min(box.width, W), height: Math.min(box.height, H) };
    checkCanvas(limits, 'intermediate', 'watermark', box);
  }
  const mark = await prepareMark(watermark, box, opacity);

  if (!replicate) {
    let m = mark;
    // A single mark larger than the canvas is shrunk to fit rather than mostly clipped.
    if (m.width > W || m.height > H) m = await fitRaw(m, W, H);
    const { left, top } = watermarkPosition({ width: W, height: H }, m.width, m.height, opts);
    const o = clipped(m, left, top, W, H);
    return o ? [o] : [];
  }
  const tiled = tiledOverlay(mark, Math.max(0, offset(opts.x, W)), Math.max(0, offset(opts.y, H)), W, H);
  return tiled ? [tiled] : [];
}

/**
 * `re`: x/y are the spacing between tiles, split on both sides of each tile; the tiles are laid
 * out symmetrically around the canvas centre (imgproxy replicates an odd number of cells and
 * takes the middle). One cell (the mark inside its spacing) handed to sharp's composite `tile`,
 * which replicates it lazily (libvips replicate) and takes the same middle: however small the
 * mark, one overlay and one cell of memory, not one per tile.
 */
function tiledOverlay(mark: Raw, offX: number, offY: number, W: number, H: number): OverlayOptions | null {
  const axis = (markSide: number, spacing: number, side: number): { cell: number; shift: number; window: number; start: number } => {
    const cell = markSide + spacing;
    let across = Math.ceil(side / cell);
    if (across % 2 === 0) across++;
    const shift = Math.floor((across * cell - side) / 2);
    // A cell larger than the canvas shows as one tile: keep only its visible window.
    return cell > side ? { cell, shift: 0, window: side, start: shift } : { cell, shift, window: cell, start: 0 };
  };
  const x = axis(mark.width, offX, W);
  const y = axis(mark.height, offY, H);
  // The mark's place in the kept window of its cell.
  const placed = clipped(mark, Math.floor(offX / 2) - x.start, Math.floor(offY / 2) - y.start, x.window, y.window);
  if (!placed) return null;
  const cell = Buffer.alloc(x.window * y.window * 4);
  const input = placed.input as Buffer;
  const raw = placed.raw as { width: number; height: number };
  for (let row = 0; row < raw.height; row++) {
    input.copy(cell, (((placed.top ?? 0) + row) * x.window + (placed.left ?? 0)) * 4, row * raw.width * 4, (row + 1) * raw.width * 4);
  }
  return { input: cell, raw: { width: x.window, height: y.window, channels: 4 }, tile: true, left: x.shift, top: y.shift };
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
}

/** Decodes to RGBA, resizes into `box`, multiplies alpha by `opacity`. */
async function prepareMark(input: Buffer, box: { width: number; height: number; enlarge: boolean } | null, opacity: number): Promise<Raw> {
  try {
    let img = await openMark(input);
    if (box) img = img.resize({ width: box.width, height: box.height, fit: 'inside', withoutEnlargement: !box.enlarge });
    const { data, info } = await img.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`expected 4 channels, got ${info.channels}`);
    if (opacity < 1) for (let i = 3; i < data.length; i += 4) data[i] = Math.round((data[i] ?? 0) * opacity);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new ProxyError('UNSUPPORTED_IMAGE', `watermark image cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}

/** The watermark is the operator's image, read once per size: bounded like libvips' own default. */
const MARK_LIMITS = { maxPixels: 2 ** 28, maxFrames: 1 } as const;
const MARK_DECODE_MS = 30_000;

function openMark(input: Buffer): Promise<Sharp> {
  return openImage(input, { ...MARK_LIMITS, deadline: Date.now() + MARK_DECODE_MS });
}

async function fitRaw(m: Raw, W: number, H: number): Promise<Raw> {
  const { data, info } = await sharp(m.data, { raw: { width: m.width, height: m.height, channels: 4 } })
    .resize({ width: W, height: H, fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The part of `m` placed at (left, top) that falls on a W×H canvas, or null if none does. */
function clipped(m: Raw, left: number, top: number, W: number, H: number): OverlayOptions | null {
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(W, left + m.width);
  const y1 = Math.min(H, top + m.height);
  if (x1 <= x0 || y1 <= y0) return null;
  const cw = x1 - x0;
  const ch = y1 - y0;
  let data = m.data;
  if (cw !== m.width || ch !== m.height) {
    data = Buffer.allocUnsafe(cw * ch * 4);
    const sx = x0 - left;
    const sy = y0 - top;
    for (let y = 0; y < ch; y++) {
      const src = ((sy + y) * m.width + sx) * 4;
      m.data.copy(data, y * cw * 4, src, src + cw * 4);
    }
  }
  return { input: data, raw: { width: cw, height: ch, channels: 4 }, left: x0, top: y0 };
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
    await prepareMark(buf, { width: 1, height: 1, enlarge: false }, 1);
  } catch (err) {
    throw new ConfigError(`${name}: expected an image sharp can decode, got ${buf.length} bytes that fail: ${(err as Error).message}`);
  }
  return buf;
}


function looksLikeSvg(buf: Buffer): boolean {
  const head = buf.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}
