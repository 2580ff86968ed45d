/**
 * `best` output format, one mechanism for imgproxy Pro's `format:best`
 * (https://docs.imgproxy.net/features/best_format) and PreviewProxy's `format=best`
 * (src/modules/transform/ops/best_format.rs, https://github.com/ViGrise/previewproxy), each
 * dialect filling BestFormatOptions from its own variables: measure how complex the image is,
 * leave out the formats that cannot win or cannot hold it, then encode the candidates in
 * parallel and keep the smallest (or, above the resolution limit, take the first one without
 * trying). The rules both peers share or that keep the answer right:
 *
 * - a complex image (edge density ≥ the threshold) is not tried as PNG, BMP or TIFF
 *   (PreviewProxy's `is_lossless`), a simple one is tried as lossless WebP (imgproxy: "a
 *   lossless or near-lossless encoding for images with low complexity"; PreviewProxy's WebP
 *   is lossless always);
 * - GIF only for a GIF source (PreviewProxy: a 256-colour palette costs any other source its
 *   colours);
 * - a result with alpha is not given to a format without it while one with it is left
 *   (imgproxy's preferred-format rule), and no format is tried that cannot hold the size
 *   (ICO's 256 px, WebP's 16383, JPEG XL's encoder) or has no encoder here.
 */
import type { Sharp } from 'sharp';
import { ProxyError } from '../errors.js';
import type { ImageFormat, OutputFormat } from '../formats.js';
import type { BestFormatOptions } from '../options.js';
import { edgeDensity, THUMBNAIL_SIDE } from './edge-density.js';
import { encoderTable, FORMAT_TRAITS } from './format.js';
import { fixSize } from './step-sizes.js';
import { underBudget, type Run } from './run.js';
import { vips } from './sharp-setup.js';

const LOSSLESS_ONLY: ReadonlySet<OutputFormat> = new Set(['png', 'bmp', 'tiff']);

export interface BestInput {
  readonly sourceFormat: ImageFormat;
  readonly width: number;
  readonly height: number;
  readonly hasAlpha: boolean;
  /** Edge density (edge-density.ts); only read when some candidate depends on it. */
  density(): Promise<number>;
  /** AVIF under 16 px is not written (imgproxy) or is (PreviewProxy). */
  readonly smallAvif: 'substitute' | 'keep';
}

export interface BestPlan {
  /** In order of preference; the first is the pick when `trial` is false. */
  readonly formats: readonly OutputFormat[];
  readonly trial: boolean;
  /** Simple image: WebP is tried lossless. */
  readonly simple: boolean;
}

function fits(format: OutputFormat, width: number, height: number, smallAvif: BestInput['smallAvif']): boolean {
  const row = encoderTable().find((r) => r.format === format);
  if (!row?.available) return false;
  const fixed = fixSize(width, height, format);
  if (fixed.width !== width || fixed.height !== height) return false;
  if (row.maxPixels !== undefined && width * height > row.maxPixels) return false;
  return !(format === 'avif' && smallAvif === 'substitute' && (width < 16 || height < 16));
}

/** The formats to try for this image. Throws UNSUPPORTED_OUTPUT when no candidate can hold it. */
export async function planBest(best: BestFormatOptions, input: BestInput): Promise<BestPlan> {
  const usable = best.candidates.filter((f, i) => best.candidates.indexOf(f) === i && fits(f, input.width, input.height, input.smallAvif));
  if (usable.length === 0) throw new ProxyError('UNSUPPORTED_OUTPUT', `format: best: none of ${best.candidates.join(', ')} can be written for a ${input.width}x${input.height} result`);
  const needsDensity = usable.some((f) => LOSSLESS_ONLY.has(f) || f === 'webp');
  const simple = needsDensity ? (await input.density()) < best.complexityThreshold : false;
  let formats = usable.filter((f) => simple || !LOSSLESS_ONLY.has(f)).filter((f) => f !== 'gif' || input.sourceFormat === 'gif');
  if (input.hasAlpha && formats.some((f) => FORMAT_TRAITS[f].alpha)) formats = formats.filter((f) => FORMAT_TRAITS[f].alpha);
  // Every candidate ruled out by the image's own traits: the first that can hold it is still an answer.
  if (formats.length === 0) formats = [usable[0] as OutputFormat];
  const megapixels = (input.width * input.height) / 1e6;
  return { formats, trial: !(best.maxResolution > 0 && megapixels > best.maxResolution) && formats.length > 1, simple };
}

/**
 * Encodes every candidate at once and keeps the smallest; a candidate whose encoder fails is
 * left out (PreviewProxy skips it too). All failing: the first failure.
 */
export async function smallest(formats: readonly OutputFormat[], encode: (format: OutputFormat) => Promise<Buffer>): Promise<{ format: OutputFormat; data: Buffer }> {
  const results = await Promise.allSettled(formats.map(async (format) => ({ format, data: await encode(format) })));
  let winner: { format: OutputFormat; data: Buffer } | null = null;
  let failure: unknown = null;
  for (const r of results) {
    if (r.status === 'rejected') failure ??= r.reason;
    else if (winner === null || r.value.data.length < winner.data.length) winner = r.value;
  }
  if (winner) return winner;
  throw failure instanceof Error ? failure : new ProxyError('UNSUPPORTED_OUTPUT', 'format: best: no candidate could be encoded');
}

/**
 * Edge density of the pixels `open` gives: fitted into 200 × 200 as PreviewProxy's thumbnail
 * (enlarged too, by repeating pixels as its box filter does), as luma.
 */
export async function imageDensity(open: () => Sharp, width: number, height: number, run: Run): Promise<number> {
  const enlarge = Math.max(width, height) < THUMBNAIL_SIDE;
  const thumb = open().resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', ...(enlarge ? { kernel: 'nearest' as const } : {}) });
  // Luma of the colour, alpha left out, as PreviewProxy's to_luma8.
  const { data, info } = await vips(underBudget(thumb.removeAlpha().greyscale(), run).raw().toBuffer({ resolveWithObject: true }), 'best format');
  return edgeDensity(data, info.width, info.height);
}
