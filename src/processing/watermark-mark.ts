/**
 * The watermark image itself, before it is placed: opened (encoded bytes or rendered text),
 * its size checked before anything is decoded, then resized, rotated, shadowed and faded
 * into the RGBA pixels that are composited. imgproxy's watermark pipeline is scale → rotate
 * → padding (processing/watermark.go `watermarkPipeline`,
 * https://github.com/imgproxy/imgproxy/blob/master/processing/watermark.go); imgproxy Pro adds
 * `watermark_rotate` and `watermark_shadow` (https://docs.imgproxy.net/usage/processing#watermark-rotate).
 *
 * Memory: the mark's resolution is held to IMGPROXY_MAX_SRC_RESOLUTION like any source
 * (imgproxy checks it with `checkImageSize`), every canvas made here is checked against the
 * intermediate bound first, and when only part of a scaled mark shows on the image, only that
 * part is computed: the resize and the crop run as one lazy libvips pipeline.
 */
import sharp, { type Sharp } from 'sharp';
import { ProxyError } from '../errors.js';
import { readSource, sharpOf } from './codecs/source.js';
import type { Rect } from './crop.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { underBudget, type Run } from './run.js';
import { vips } from './sharp-setup.js';
import { sanitizeSvg } from './svg-sanitize.js';

/** 8-bit RGBA pixels. */
export interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

/** A mark ready to be sized: its natural size, and a pipeline that decodes it. */
export interface MarkSource {
  width: number;
  height: number;
  /**
   * Greyscale (b-w or grey16), as the source reader found it: a grey mark keeps a grey result
   * grey (imgproxy processing/colorspace_test.go `TestWatermarkColorspace`). Text marks are
   * coloured by their markup: never grey.
   */
  grey: boolean;
  open(run: Run): Sharp;
}

const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

export function looksLikeSvg(buf: Buffer): boolean {
  const head = buf.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}

function undecodable(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  return new ProxyError('UNSUPPORTED_IMAGE', `watermark image cannot be decoded: ${(err as Error).message}`, { cause: err });
}

/** Pixels already in memory (rendered text) as a mark. */
export function rawMark(raw: Raw): MarkSource {
  return { width: raw.width, height: raw.height, grey: false, open: (run) => underBudget(sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 }, limitInputPixels: false }), run) };
}

/**
 * Encoded watermark bytes as a mark, after a header-only look: an SVG is sanitised first when
 * `sanitize` (one from a request may come from any allowed source), and a mark over
 * `maxPixels` is refused before decoding.
 */
/** A watermark is decoded once per request: bounded in time like a source is. */
const MARK_DECODE_MS = 30_000;

export async function encodedMark(input: Buffer, maxPixels: number, limits: PixelLimits, sanitize: boolean): Promise<MarkSource> {
  let buf = input;
  try {
    if (sanitize && looksLikeSvg(buf)) buf = sanitizeSvg(buf);
    const tooBig = (width: number, height: number): void => {
      if (width * height > maxPixels) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `watermark: resolution ${width}x${height} is over ${Math.round(maxPixels / 1e4) / 100} MP`);
      checkCanvas(limits, 'intermediate', 'watermark', { width, height });
    };
    // The one reader of every source (codecs/source.ts): a mark may be any readable format.
    // A codec format's header size is checked before it is decoded, libvips' after its header.
    const info = await readSource(buf, { limits: { maxPixels, maxFrames: 1, deadline: Date.now() + MARK_DECODE_MS }, check: tooBig });
    const { width, height } = info;
    if (!(width > 0 && height > 0)) throw new Error('no size in its header');
    tooBig(width, height);
    const limitInputPixels = Math.max(1, width * height);
    return { width, height, grey: info.grey, open: (run) => underBudget(sharpOf(info.input, { limitInputPixels, page: 0, pages: 1 }), run) };
  } catch (err) {
    throw undecodable(err);
  }
}

export interface MarkSteps {
  /** Size the mark is resized to. */
  width: number;
  height: number;
  /** imgproxy Pro `watermark_rotate`, degrees clockwise. */
  rotate: number;
  /** imgproxy Pro `watermark_shadow`, blur sigma; 0 = none. */
  shadow: number;
  /** Multiplies the alpha. */
  opacity: number;
}

/** sharp's gaussian blur takes sigma from 0.3. */
const MIN_SIGMA = 0.3;

/** The margin a shadow of this sigma spreads over (3 σ holds all but 0.3 % of it). */
export function shadowMargin(sigma: number): number {
  return sigma > 0 ? Math.ceil(3 * Math.max(sigma, MIN_SIGMA)) : 0;
}

/** The bounding box of a w×h rectangle turned by `degrees`. */
export function rotatedSize(width: number, height: number, degrees: number): { width: number; height: number } {
  const r = (((degrees % 360) + 360) % 360) * (Math.PI / 180);
  const c = Math.abs(Math.cos(r));
  const s = Math.abs(Math.sin(r));
  // Within rounding of a quarter turn, the sides swap exactly.
  const snap = (v: number): number => (Math.abs(v - Math.round(v)) < 1e-9 ? Math.round(v) : Math.ceil(v));
  return { width: snap(width * c + height * s), height: snap(width * s + height * c) };
}

/** Whether the steps change the mark's size after the resize (rotation or shadow). */
export function reshapes(steps: Pick<MarkSteps, 'rotate' | 'shadow'>): boolean {
  return steps.rotate % 360 !== 0 || steps.shadow > 0;
}

/** The size of the mark once every step ran, checked against the intermediate bound. */
export function finalMarkSize(steps: MarkSteps, limits: PixelLimits): { width: number; height: number } {
  checkCanvas(limits, 'intermediate', 'watermark', steps);
  const turned = steps.rotate % 360 !== 0 ? rotatedSize(steps.width, steps.height, steps.rotate) : steps;
  const m = shadowMargin(steps.shadow);
  const size = { width: turned.width + 2 * m, height: turned.height + 2 * m };
  checkCanvas(limits, 'intermediate', 'watermark', size);
  return size;
}

async function toRaw(p: Sharp): Promise<Raw> {
  const { data, info } = await vips(p.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true }), 'watermark');
  if (info.channels !== 4) throw new Error(`expected 4 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

function fromRaw(r: Raw, run: Run): Sharp {
  return underBudget(sharp(r.data, { raw: { width: r.width, height: r.height, channels: 4 }, limitInputPixels: false }), run);
}

function resized(source: MarkSource, steps: MarkSteps, run: Run): Sharp {
  const p = source.open(run);
  if (steps.width === source.width && steps.height === source.height) return p;
  return p.resize(steps.width, steps.height, { fit: 'fill', kernel: 'lanczos3' });
}

/** The mark's alpha, blurred, as a black shadow under the mark, with room for it around. */
async function withShadow(mark: Raw, sigma: number, run: Run): Promise<Raw> {
  const m = shadowMargin(sigma);
  const grown = await toRaw(fromRaw(mark, run).extend({ top: m, bottom: m, left: m, right: m, background: TRANSPARENT }));
  const alpha = await vips(fromRaw(grown, run).extractChannel(3).blur(Math.max(sigma, MIN_SIGMA)).raw().toBuffer(), 'watermark shadow');
  const shadow = Buffer.alloc(grown.width * grown.height * 4);
  for (let i = 0; i < alpha.length; i++) shadow[i * 4 + 3] = alpha[i] ?? 0;
  const over = sharp(shadow, { raw: { width: grown.width, height: grown.height, channels: 4 }, limitInputPixels: false })
    .composite([{ input: grown.data, raw: { width: grown.width, height: grown.height, channels: 4 } }]);
  return toRaw(underBudget(over, run));
}

function fade(r: Raw, opacity: number): Raw {
  if (opacity < 1) for (let i = 3; i < r.data.length; i += 4) r.data[i] = Math.round((r.data[i] ?? 0) * opacity);
  return r;
}

/**
 * The mark's pixels after every step. `window`: the part of the resized mark that shows on
 * the image, computed alone (the crop follows the resize in one lazy pass); only without
 * rotation or shadow, whose result size is known once they ran (null: the whole mark).
 */
export async function renderMark(source: MarkSource, steps: MarkSteps, window: Rect | null, run: Run): Promise<Raw> {
  try {
    if (!reshapes(steps)) {
      const p = resized(source, steps, run);
      const whole = window === null || (window.left === 0 && window.top === 0 && window.width === steps.width && window.height === steps.height);
      return fade(await toRaw(whole ? p : p.extract(window)), steps.opacity);
    }
    let mark = await toRaw(resized(source, steps, run));
    if (steps.rotate % 360 !== 0) mark = await toRaw(fromRaw(mark, run).rotate(steps.rotate, { background: TRANSPARENT }));
    if (steps.shadow > 0) mark = await withShadow(mark, steps.shadow, run);
    return fade(mark, steps.opacity);
  } catch (err) {
    throw undecodable(err);
  }
}
