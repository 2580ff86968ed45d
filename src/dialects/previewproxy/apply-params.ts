/**
 * Merged PreviewProxy params → ProcessingOptions, so a PreviewProxy URL gives what it gives
 * there (mapping table in the README of this folder). Everything here sees normalised values
 * (params.ts); what PreviewProxy accepts but we cannot honour is a 400/422 naming the
 * parameter, never silently dropped.
 */
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import { asIs } from '../../default-options.js';
import type { OutputFormat } from '../../formats.js';
import type { BestFormatOptions, FrameRange, ProcessingOptions, VideoSeek, WatermarkImage, WatermarkPosition } from '../../options.js';
import { colouredMarkup, MarkupError, plainMarkup } from '../../processing/pango-markup.js';
import type { PpKey, PpParams } from './params.js';
import { toSourceUrl } from './source.js';

/** Every spelling PreviewProxy's `WmPosition::from_str` accepts. */
const WM_POSITIONS: Readonly<Record<string, WatermarkPosition>> = Object.fromEntries(
  ([
    ['ce', ['ce', 'center', 'c']],
    ['no', ['no', 'top', 't', 'north']],
    ['so', ['so', 'bottom', 'b', 'south']],
    ['ea', ['ea', 'right', 'r', 'east']],
    ['we', ['we', 'left', 'l', 'west']],
    ['noea', ['noea', 'top-right', 'tr', 'north_east']],
    ['nowe', ['nowe', 'top-left', 'tl', 'north_west']],
    ['soea', ['soea', 'bottom-right', 'br', 'south_east']],
    ['sowe', ['sowe', 'bottom-left', 'bl', 'south_west']],
    ['re', ['re', 'repeat', 'rep']],
  ] as const).flatMap(([pos, names]) => names.map((n) => [n, pos])),
);

/** PreviewProxy's defaults for a watermark (src/modules/transform/pipeline.rs). */
const WM_DEFAULT_POSITION: WatermarkPosition = 'noea';
const WM_DEFAULT_SCALE = 0.15;
const WMT_DEFAULT_COLOUR = '000000';
const WMT_DEFAULT_SIZE = 24;
const WMT_DEFAULT_FONT = 'sans';

/** Longer than any video: every seek beyond it is "past the end" all the same. */
const MAX_SEEK_SECONDS = 1e9;

/** Neutral tint: sharp's tint keeps lightness and takes chroma from the colour, so grey = greyscale. */
const GREY = '808080';

const num = (v: string | undefined, dflt: number): number => (v === undefined ? dflt : Number(v));

function watermarkPosition(spelling: string): WatermarkPosition {
  const pos = Object.hasOwn(WM_POSITIONS, spelling) ? WM_POSITIONS[spelling] : undefined;
  // PreviewProxy logs a warning and uses top-right; a typo deserves an answer instead.
  if (pos === undefined) throw new ProxyError('BAD_REQUEST', `Invalid wm_pos: expected one of ${Object.keys(WM_POSITIONS).join(', ')}, got ${JSON.stringify(spelling)}`);
  return pos;
}

/**
 * `wmt_color` as PreviewProxy's `parse_hex_color` reads it: leading `#`s dropped, then three
 * pairs `u8::from_str_radix` accepts (two hex digits, or `+` and one).
 */
function textColour(v: string | undefined): string {
  if (v === undefined) return WMT_DEFAULT_COLOUR;
  const hex = v.replace(/^#+/, '');
  const pairs = /^(\+?[0-9a-fA-F]{1,2})(\+?[0-9a-fA-F]{1,2})(\+?[0-9a-fA-F]{1,2})$/.exec(hex);
  if (Buffer.byteLength(hex) !== 6 || !pairs || pairs.slice(1).some((pair) => pair.length !== 2)) throw new ProxyError('BAD_REQUEST', `invalid wmt_color: ${hex}`);
  return pairs.slice(1).map((pair) => parseInt(pair.replace('+', ''), 16).toString(16).padStart(2, '0')).join('');
}

/**
 * The watermark's source through PreviewProxy's source rules (aliases, `s3:/`, `local:/`,
 * PP_ALLOWED_HOSTS); any other failure to reach it is its `watermark_fetch_failed`.
 */
function watermarkSource(wm: string, config: Config): string {
  try {
    return toSourceUrl(wm, config);
  } catch (err) {
    if (err instanceof ProxyError && err.code !== 'HOST_NOT_ALLOWED') throw new ProxyError('WATERMARK_UNREACHABLE', `watermark ${JSON.stringify(wm)}: ${err.message}`, { status: 502, cause: err });
    throw err;
  }
}

function applyWatermark(o: ProcessingOptions, p: PpParams, config: Config): void {
  const position = p.wm_pos === undefined ? WM_DEFAULT_POSITION : watermarkPosition(p.wm_pos);
  // wm_* alone do nothing in PreviewProxy either; `wm` wins over `wmt`.
  if (p.wm === undefined && p.wmt === undefined) return;
  const image: WatermarkImage = p.wm !== undefined
    ? { kind: 'url', url: watermarkSource(p.wm, config) }
    : { kind: 'text', markup: colouredMarkup(textMarkup(p.wmt ?? ''), textColour(p.wmt_color)), font: p.wmt_font ?? WMT_DEFAULT_FONT, size: num(p.wmt_size, WMT_DEFAULT_SIZE), sizing: 'line' };
  const opacity = num(p.wm_opacity, 1);
  if (opacity === 0) return; // imgproxy's normal form for "no watermark"
  // Offsets are added to the top-left corner, and are the tile spacing for `re`
  // (negative spacing is none): the previewproxy layout (processing/watermark.ts).
  // A text mark is drawn at its size: `wm_scale` is for images only.
  const scale = image.kind === 'url' ? num(p.wm_scale, WM_DEFAULT_SCALE) : 0;
  // `+ 0` turns -0 into 0: one normal form for the cache key.
  o.watermark = { opacity, position, x: num(p.wm_x, 0) + 0, y: num(p.wm_y, 0) + 0, scale: scale + 0, layout: 'previewproxy' };
  o.watermarkImage = image;
}

function textMarkup(text: string): string {
  try {
    return plainMarkup(text);
  } catch (err) {
    if (err instanceof MarkupError) throw new ProxyError('BAD_REQUEST', `invalid wmt: ${err.message}`);
    throw err;
  }
}

/** `gif_anim` (normalised by params.ts) → the frames to output; `gif_af` alone does nothing. */
function applyFrames(o: ProcessingOptions, p: PpParams): void {
  const v = p.gif_anim;
  if (v === undefined) return;
  const keepOthers = p.gif_af === '1';
  const n = (s: string): number => Number(s);
  let range: FrameRange;
  if (v === 'all') range = { kind: 'all' };
  else if (v.startsWith('-')) range = { kind: 'last', count: n(v.slice(1)) };
  else if (v.includes('-')) {
    const [first = '', last = ''] = v.split('-');
    range = { kind: 'range', first: n(first), last: n(last) };
  } else range = { kind: 'from', first: n(v) };
  o.frames = { range, keepOthers };
}

function applyGeometry(o: ProcessingOptions, p: PpParams): void {
  const rotate = num(p.rotate, 0);
  if (rotate !== 0 && rotate !== 90 && rotate !== 180 && rotate !== 270) {
    // PreviewProxy silently ignores other angles (and still caches them under their own key).
    throw new ProxyError('BAD_REQUEST', `Invalid rotate: expected 0, 90, 180 or 270, got ${JSON.stringify(p.rotate)}`);
  }
  o.rotate = rotate;
  if (p.flip === 'h') o.flipHorizontal = true;
  if (p.flip === 'v') o.flipVertical = true;

  const w = num(p.w, 0);
  const h = num(p.h, 0);
  if (w === 0 && h === 0) return; // fit alone resizes nothing
  // PreviewProxy resizes, then rotates; our size applies to the rotated image.
  const quarter = rotate === 90 || rotate === 270;
  o.width = quarter ? h : w;
  o.height = quarter ? w : h;
  // contain upscales in PreviewProxy; cover and crop are the same centre crop there.
  o.resizingType = p.fit === 'cover' || p.fit === 'crop' ? 'fill' : 'fit';
  o.enlarge = true;
  o.gravity = { type: 'ce', x: 0, y: 0 };
}

/** Whether the request is answered with `best`: asked for, or PP_BEST_FORMAT_BY_DEFAULT without a format. */
function wantsBest(p: PpParams, pp: Config['previewproxy']): boolean {
  return p.format === 'best' || (p.format === undefined && pp.bestFormatByDefault);
}

/**
 * `best` with PreviewProxy's settings (best_format.rs `select_best_format`): the
 * PP_BEST_FORMAT_PREFERRED_FORMATS not on PP_OUTPUT_DISALLOW_LIST, none left being its
 * `transform_disabled` for `best`.
 */
function ppBest(pp: Config['previewproxy']): BestFormatOptions {
  const candidates = pp.bestFormatPreferredFormats.filter((f) => !(pp.outputDisallow as readonly string[]).includes(f));
  if (candidates.length === 0) throw new ProxyError('TRANSFORM_DISABLED', 'best');
  return { candidates: [...candidates], complexityThreshold: pp.bestFormatComplexityThreshold, maxResolution: pp.bestFormatMaxResolution ?? 0, allowSkips: false };
}

function applyFormat(o: ProcessingOptions, p: PpParams, pp: Config['previewproxy']): void {
  if (wantsBest(p, pp)) o.bestFormat = ppBest(pp);
  else if (p.format !== undefined) o.format = p.format as OutputFormat;
  // ravif encodes AVIF of any size (PreviewProxy's format=avif on a 1×1 source is an AVIF).
  o.smallAvif = 'keep';
  // PP_BEST_FORMAT_ALLOW_SKIPS (pipeline.rs): only `format`/`q` asked, a result in the source's format is the source.
  o.sourceIfSameFormat = pp.bestFormatAllowSkips && !hasNonFormatTransforms(p);
  // PreviewProxy's JPEG encoder clamps q into 1–100; AVIF would panic on it.
  if (p.q !== undefined) o.quality = Math.min(Math.max(Number(p.q), 1), 100);
}

function applyFilters(o: ProcessingOptions, p: PpParams): void {
  if (p.grayscale === '1') o.monochrome = { intensity: 1, color: GREY };
  // bright adds to every channel (image::brighten): imgproxy's brightness, same 8-bit units.
  if (p.bright !== undefined) o.brightness = Math.min(Math.max(Number(p.bright), -255), 255);
  if (p.contrast !== undefined) {
    // image::contrast(c) scales around mid-grey by ((100 + c) / 100)²; below −100 the square
    // would turn contrast back up, so −100 (flat grey) is the floor.
    const c = Math.max(Number(p.contrast), -100);
    o.contrast = ((100 + c) / 100) ** 2;
  }
  if (p.blur !== undefined) o.blur = Number(p.blur) + 0; // `-0` is a valid f32 there
}

/**
 * PreviewProxy's `has_transforms` (dto/params.rs): any of these makes it decode and re-encode;
 * without them the source is served as it is (`gif_af` alone does not count).
 */
const TRANSFORM_KEYS: readonly PpKey[] = ['w', 'h', 'fit', 'format', 'q', 'rotate', 'flip', 'blur', 'grayscale', 'seek', 'bright', 'contrast', 'wm', 'wmt', 'gif_anim'];

export function hasTransforms(p: PpParams): boolean {
  return TRANSFORM_KEYS.some((k) => p[k] !== undefined);
}

/** PreviewProxy's `has_non_format_transforms`: everything but `format` and `q` (and with `gif_af`). */
const NON_FORMAT_KEYS: readonly PpKey[] = [...TRANSFORM_KEYS.filter((k) => k !== 'format' && k !== 'q'), 'gif_af'];

function hasNonFormatTransforms(p: PpParams): boolean {
  return NON_FORMAT_KEYS.some((k) => p[k] !== undefined);
}

/** Whether the request is processed: any transform, or `best` (PreviewProxy's `needs_best` breaks the passthrough too). */
export function isProcessed(p: PpParams, pp: Config['previewproxy']): boolean {
  return hasTransforms(p) || wantsBest(p, pp);
}

/**
 * PP_TRANSFORM_DISALLOW_LIST and an explicit format on PP_OUTPUT_DISALLOW_LIST, in the order
 * PreviewProxy's run_pipeline checks them (src/modules/transform/pipeline.rs); the detail
 * names the token, as there. An automatic output format is checked on the result (the image
 * service), since PreviewProxy's fixed default (JPEG) is not ours.
 */
function checkDisallowed(p: PpParams, pp: Config['previewproxy']): void {
  const refuse = (token: string): never => {
    throw new ProxyError('TRANSFORM_DISABLED', token);
  };
  if (p.format !== undefined && p.format !== 'best' && (pp.outputDisallow as readonly string[]).includes(p.format)) refuse(p.format);
  const t = new Set<string>(pp.transformDisallow);
  if ((p.gif_anim !== undefined || p.gif_af !== undefined) && t.has('gif_anim')) refuse('gif_anim');
  if ((p.w !== undefined || p.h !== undefined) && t.has('resize')) refuse('resize');
  if (p.rotate !== undefined && t.has('rotate')) refuse('rotate');
  if (p.flip !== undefined && t.has('flip')) refuse('flip');
  if (p.bright !== undefined && t.has('brightness')) refuse('brightness');
  if (p.contrast !== undefined && t.has('contrast')) refuse('contrast');
  if (p.grayscale === '1' && t.has('grayscale')) refuse('grayscale');
  if (p.blur !== undefined && t.has('blur')) refuse('blur');
  if ((p.wm !== undefined || p.wmt !== undefined) && t.has('watermark')) refuse('watermark');
}

/**
 * `seek` as the frame of a video source (src/modules/proxy/service.rs): seconds, a ratio
 * `<f>r` or `auto`, normalised by params.ts; none is the first frame. PreviewProxy previews
 * every video, so videos are on here whatever IMGPROXY_ENABLE_VIDEO_THUMBNAILS says.
 */
function applySeek(o: ProcessingOptions, p: PpParams): void {
  const v = p.seek;
  // f32 overflows to infinity there ("past the end": the last frame); a finite bound here.
  const seconds = (s: number): number => (s < MAX_SEEK_SECONDS ? s : MAX_SEEK_SECONDS);
  const seek: VideoSeek = v === undefined ? { seconds: 0 } : v === 'auto' ? 'auto' : v.endsWith('r') ? { ratio: Number(v.slice(0, -1)) } : { seconds: seconds(Number(v)) };
  o.video = { enabled: true, seek, keyframes: false };
}

export function applyParams(o: ProcessingOptions, p: PpParams, config: Config): void {
  // Before the pass-through, as run_pipeline checks them: `gif_af` alone is no transform,
  // yet refused when gif_anim is disallowed.
  checkDisallowed(p, config.previewproxy);
  applySeek(o, p);
  if (!isProcessed(p, config.previewproxy)) {
    // PreviewProxy streams such a source unchanged (service.rs); so do we, from memory.
    Object.assign(o, asIs(o));
    return;
  }
  applyGeometry(o, p);
  applyFormat(o, p, config.previewproxy);
  applyFilters(o, p);
  applyWatermark(o, p, config);
  applyFrames(o, p);
}
