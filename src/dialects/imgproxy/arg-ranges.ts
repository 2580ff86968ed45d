/**
 * The range of every numeric argument of the imgproxy option table, in one place: the
 * option table parses through it (`num`), the docs generator prints it. imgproxy's own
 * checks are in options/parser/apply.go and parse.go
 * (https://github.com/imgproxy/imgproxy/tree/master/options/parser); where it has no upper
 * bound we add the one that keeps the value within what libvips/sharp can do, so that an
 * out-of-range number is a 404 `Invalid URL` naming the argument instead of a throw inside
 * sharp (a 500) or an unbounded allocation. Each entry says what imgproxy does there.
 */
import { ProxyError } from '../../errors.js';
import { checkNumber, describeRange, type NumberSpec } from '../numeric.js';

/**
 * No image libvips makes is wider or taller than this (its resize refuses larger scales,
 * sharp larger sizes), so no size, offset or padding beyond it can mean anything.
 */
export const MAX_DIMENSION = 10_000_000;

/**
 * Both dialects scale the watermark relative to the image. At 2 the mark has 4× the result's
 * pixels and only its middle shows; a larger mark only costs memory (1e308 asked for a mark
 * of u32::MAX pixels in PreviewProxy).
 */
export const MAX_WATERMARK_SCALE = 2;

/** A shadow blurred wider than this is a grey haze around the mark: it only costs memory. */
const MAX_SHADOW_SIGMA = 100;

/** Resolution limits are megapixels; 1e9 of them (1e15 pixels) is more than any image, and exact. */
const MAX_MEGAPIXELS = 1e9;

export interface ArgRange extends NumberSpec {
  /** Options (canonical names) whose arguments this is. */
  readonly options: readonly string[];
}

const NO_UPPER = 'no upper bound in imgproxy';

const size = (options: readonly string[]): ArgRange => ({
  kind: 'int', min: 0, max: MAX_DIMENSION, options,
  peer: `\`strconv.Atoi\`, ≥ 0 ("positive number or 0"); ${NO_UPPER}`,
});

const megapixels = (option: string): ArgRange => ({
  kind: 'float', min: 0, max: MAX_MEGAPIXELS, options: [option],
  peer: 'megapixels ≥ 0 (stored as int pixels there)',
});

/** Gaussian sigmas: libvips' mask grows with sigma, sharp stops at 1000. */
const sigma = (options: readonly string[]): ArgRange => ({
  kind: 'float', min: 0, max: 1000, options,
  peer: `imgproxy Pro: ≥ 0, 0 = off; ${NO_UPPER} (sharp's blur stops at 1000)`,
});

const unit = (options: readonly string[], peer: string): ArgRange => ({ kind: 'float', min: 0, max: 1, options, peer });

/** imgproxy's security limits take any integer and read ≤ 0 as "none". */
const limitOrNone = (option: string): ArgRange => ({
  kind: 'int', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, options: [option],
  peer: 'any integer; ≤ 0 = no limit (stored as 0 here)',
});

export const ARG_RANGES = {
  width: size(['resize', 'size', 'width']),
  height: size(['resize', 'size', 'height']),
  'min-width': size(['min-width']),
  'min-height': size(['min-height']),
  zoom: {
    kind: 'float', min: 1 / MAX_DIMENSION, max: MAX_DIMENSION, options: ['zoom'],
    peer: `> 0 ("positive number"); ${NO_UPPER}. Below 1e-7 every image is under one pixel`,
  },
  dpr: {
    kind: 'float', min: 1 / MAX_DIMENSION, max: MAX_DIMENSION, options: ['dpr'],
    peer: `> 0; ${NO_UPPER} (its client hints stop at 8)`,
  },
  'gravity offset': {
    kind: 'float', min: -MAX_DIMENSION, max: MAX_DIMENSION, options: ['gravity', 'crop', 'extend', 'extend_aspect_ratio', 'objects_position'],
    peer: 'any float; ≥ 1 pixels, < 1 a fraction of the image. An empty offset keeps the previous one',
  },
  'focus point': {
    kind: 'float', min: 0, max: 1, options: ['gravity', 'crop', 'extend', 'extend_aspect_ratio', 'objects_position'],
    peer: '`fp` coordinates: 0–1, as imgproxy',
  },
  'crop size': {
    kind: 'float', min: 0, max: MAX_DIMENSION, options: ['crop'],
    peer: `≥ 0; < 1 a fraction of the image; ${NO_UPPER}`,
  },
  'crop aspect ratio': {
    kind: 'float', min: 0, max: MAX_DIMENSION, options: ['crop_aspect_ratio'],
    peer: `imgproxy Pro: width / height ≥ 0, 0 = no correction; ${NO_UPPER}`,
  },
  'trim threshold': {
    kind: 'float', min: 0, max: Infinity, options: ['trim'],
    peer: 'any float; a negative threshold trims nothing there, and is refused here (sharp throws on it)',
  },
  padding: size(['padding']),
  rotate: {
    kind: 'int', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, options: ['rotate'],
    peer: 'any integer multiple of 90 (int64 there; ±2^53 here)',
  },
  'background channel': {
    kind: 'int', min: 0, max: 255, options: ['background'],
    peer: '`strconv.ParseUint` 0–255, no sign, as imgproxy',
  },
  'background alpha': unit(['background_alpha'], 'imgproxy Pro: 0–1'),
  brightness: { kind: 'int', min: -255, max: 255, options: ['adjust', 'brightness'], peer: 'imgproxy Pro: −255…255' },
  contrast: {
    kind: 'float', min: 0, max: 1000, options: ['adjust', 'contrast'],
    peer: 'imgproxy Pro: ≥ 0, no documented upper bound; above 1000 every pixel is already black or white',
  },
  saturation: {
    kind: 'float', min: 0, max: 1000, options: ['adjust', 'saturation'],
    peer: 'imgproxy Pro: ≥ 0, no documented upper bound; above 1000 every colour is already at the gamut edge',
  },
  'monochrome intensity': { kind: 'float', min: 0, max: 1, options: ['monochrome'], peer: 'imgproxy Pro: 0–1' },
  'duotone intensity': unit(['duotone'], 'imgproxy Pro: 0–1, 0 = off'),
  'unsharp masking weight': {
    kind: 'float', min: 0, max: 1000, minExclusive: true, options: ['unsharp_masking'],
    peer: `imgproxy Pro: > 0; ${NO_UPPER} (beyond 1000 every edge is already clipped)`,
  },
  'unsharp masking divider': {
    kind: 'float', min: 0, max: 1e6, minExclusive: true, options: ['unsharp_masking'],
    peer: `imgproxy Pro: > 0; ${NO_UPPER}`,
  },
  'area blur sigma': sigma(['blur_areas']),
  'blur area': unit(['blur_areas'], 'imgproxy Pro: fractions of the image, 0–1'),
  'progressive blur sigma': sigma(['progressive_blur']),
  'ramp angle': {
    kind: 'float', min: -1e6, max: 1e6, options: ['progressive_blur', 'gradient'],
    peer: 'imgproxy Pro: degrees clockwise, any float (taken modulo 360)',
  },
  'ramp position': {
    kind: 'float', min: -1000, max: 1000, options: ['progressive_blur', 'gradient'],
    peer: 'imgproxy Pro: fractions of the image along the direction, any float; outside 0–1 the ramp starts or ends off the image',
  },
  'colorize opacity': unit(['colorize'], 'imgproxy Pro: 0–1, 0 = off'),
  'gradient opacity': unit(['gradient'], 'imgproxy Pro: 0–1, 0 = off'),
  dpi: {
    kind: 'float', min: 0, max: 65535, options: ['dpi'],
    peer: 'imgproxy Pro: ≥ 0, 0 = keep (or IMGPROXY_STRIP_METADATA_DPI when stripping); 65535 is the most JPEG\'s JFIF header holds',
  },
  blur: {
    kind: 'float', min: 0, max: 1000, options: ['blur'],
    peer: `≥ 0, 0 = off; ${NO_UPPER} (libvips' mask grows with sigma; sharp stops at 1000)`,
  },
  sharpen: {
    kind: 'float', min: 0, max: 10, options: ['sharpen'],
    peer: `≥ 0, 0 = off; ${NO_UPPER} (sharp stops at 10)`,
  },
  pixelate: size(['pixelate']),
  'watermark opacity': { kind: 'float', min: 0, max: 1, options: ['watermark'], peer: '0–1 ("number in range 0-1"), as imgproxy' },
  'watermark offset': {
    kind: 'float', min: -MAX_DIMENSION, max: MAX_DIMENSION, options: ['watermark'],
    peer: 'any float',
  },
  'watermark scale': {
    kind: 'float', min: 0, max: MAX_WATERMARK_SCALE, minExclusive: true, options: ['watermark'],
    peer: `> 0 (empty = none); ${NO_UPPER}. At 2 the mark is twice the image and only its middle shows; more only costs memory`,
  },
  'watermark size': size(['watermark_size']),
  'watermark rotate': {
    kind: 'float', min: -MAX_DIMENSION, max: MAX_DIMENSION, options: ['watermark_rotate'],
    peer: 'imgproxy Pro: degrees clockwise, any angle; taken modulo 360',
  },
  'watermark shadow': {
    kind: 'float', min: 0, max: MAX_SHADOW_SIGMA, options: ['watermark_shadow'],
    peer: `imgproxy Pro: the shadow's blur sigma, ≥ 0, 0 = none; ${NO_UPPER} (the shadow spreads over 3 sigma around the mark)`,
  },
  quality: { kind: 'int', min: 0, max: 100, options: ['quality'], peer: '0–100, 0 = the configured default, as imgproxy' },
  'format quality': { kind: 'int', min: 0, max: 100, options: ['format_quality'], peer: '0–100, 0 = the configured default, as imgproxy' },
  max_bytes: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, options: ['max_bytes'], peer: '≥ 0, 0 = no limit' },
  'autoquality target': {
    kind: 'float', min: 0, max: Number.MAX_SAFE_INTEGER, options: ['autoquality'],
    peer: 'imgproxy Pro: bytes for `size`, a DSSIM for `dssim`; ≥ 0',
  },
  'autoquality quality': { kind: 'int', min: 1, max: 100, options: ['autoquality'], peer: 'imgproxy Pro: min and max quality, 1–100' },
  'autoquality allowed error': { kind: 'float', min: 0, max: 1, options: ['autoquality'], peer: 'imgproxy Pro: a DSSIM difference, 0–1' },
  'jpeg quant table': { kind: 'int', min: 0, max: 8, options: ['jpeg_options'], peer: 'imgproxy Pro: mozjpeg tables 0–8' },
  'png quantization colors': { kind: 'int', min: 2, max: 256, options: ['png_options'], peer: '2–256, as IMGPROXY_PNG_QUANTIZATION_COLORS' },
  page: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, options: ['page'], peer: 'imgproxy Pro: ≥ 0; past the last page means the last' },
  pages: { kind: 'int', min: 1, max: Number.MAX_SAFE_INTEGER, options: ['pages'], peer: 'imgproxy Pro: ≥ 1' },
  video_thumbnail_second: { kind: 'float', min: 0, max: 1e9, options: ['video_thumbnail_second'], peer: 'imgproxy Pro: seconds, a float since 3.13; past the end means the last frame' },
  expires: {
    kind: 'int', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, options: ['expires'],
    peer: 'unix timestamp (int64 there); ≤ 0 = none',
  },
  max_src_resolution: megapixels('max_src_resolution'),
  max_src_file_size: limitOrNone('max_src_file_size'),
  max_animation_frames: { kind: 'int', min: 1, max: Number.MAX_SAFE_INTEGER, options: ['max_animation_frames'], peer: '> 0 ("positive number")' },
  max_animation_frame_resolution: megapixels('max_animation_frame_resolution'),
  max_result_dimension: limitOrNone('max_result_dimension'),
} as const satisfies Record<string, ArgRange>;

export type ArgKey = keyof typeof ARG_RANGES;

/**
 * Parses `value` as the argument `key`; `name` is what the error calls it (`crop width`).
 * The message has imgproxy's shape: `Invalid width: abc (expected integer ≥ 0 and ≤ 1e7)`.
 */
export function num(key: ArgKey, value: string, name: string = key): number {
  const spec: NumberSpec = ARG_RANGES[key];
  const n = checkNumber(spec, value);
  if (n === undefined) throw new ProxyError('INVALID_URL', `Invalid ${name}: ${value} (expected ${describeRange(spec)})`);
  return n;
}
