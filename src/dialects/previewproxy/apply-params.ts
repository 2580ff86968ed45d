/**
 * Merged PreviewProxy params → ProcessingOptions, so a PreviewProxy URL gives what it gives
 * there (mapping table in the README of this folder). Everything here sees normalised values
 * (params.ts); what PreviewProxy accepts but we cannot honour is a 400/422 naming the
 * parameter, never silently dropped.
 */
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import { asIs, type BestFormatOptions, type OutputFormat, type ProcessingOptions, type WatermarkPosition } from '../../options.js';
import type { PpKey, PpParams } from './params.js';

const UNSUPPORTED: readonly [PpKey, string][] = [
  ['seek', 'seek (video frames) is not supported'],
  ['gif_anim', 'gif_anim (animated GIF frame ranges) is not supported'],
  ['gif_af', 'gif_af (animated GIF frame ranges) is not supported'],
  ['wmt', 'text watermarks (wmt) are not supported'],
  ['wmt_color', 'text watermarks (wmt_color) are not supported'],
  ['wmt_size', 'text watermarks (wmt_size) are not supported'],
  ['wmt_font', 'text watermarks (wmt_font) are not supported'],
];

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

/** PreviewProxy's defaults for an image watermark. */
const WM_DEFAULT_POSITION: WatermarkPosition = 'noea';
const WM_DEFAULT_SCALE = 0.15;

/** Neutral tint: sharp's tint keeps lightness and takes chroma from the colour, so grey = greyscale. */
const GREY = '808080';

const num = (v: string | undefined, dflt: number): number => (v === undefined ? dflt : Number(v));

function watermarkPosition(spelling: string): WatermarkPosition {
  const pos = Object.hasOwn(WM_POSITIONS, spelling) ? WM_POSITIONS[spelling] : undefined;
  // PreviewProxy logs a warning and uses top-right; a typo deserves an answer instead.
  if (pos === undefined) throw new ProxyError('BAD_REQUEST', `Invalid wm_pos: expected one of ${Object.keys(WM_POSITIONS).join(', ')}, got ${JSON.stringify(spelling)}`);
  return pos;
}

function applyWatermark(o: ProcessingOptions, p: PpParams, config: Config): void {
  const position = p.wm_pos === undefined ? WM_DEFAULT_POSITION : watermarkPosition(p.wm_pos);
  if (p.wm === undefined) return; // wm_* alone do nothing in PreviewProxy either.
  const configured = config.processing.watermarkUrl;
  if (configured === '' || p.wm !== configured) {
    throw new ProxyError('UNSUPPORTED_PARAM', 'wm: per-request watermark images are not supported; only the configured watermark (IMGPROXY_WATERMARK_URL) may be named');
  }
  const opacity = num(p.wm_opacity, 1);
  if (opacity === 0) return; // imgproxy's normal form for "no watermark"
  let x = num(p.wm_x, 0);
  let y = num(p.wm_y, 0);
  if (position === 're') {
    // Tile spacing; PreviewProxy treats negative spacing as 0.
    x = Math.max(x, 0);
    y = Math.max(y, 0);
  } else {
    // PreviewProxy adds offsets to the top-left corner; ours push away from the anchored
    // edge (imgproxy), so east/south offsets change sign.
    if (position === 'ea' || position === 'noea' || position === 'soea') x = -x;
    if (position === 'so' || position === 'soea' || position === 'sowe') y = -y;
  }
  // `+ 0` turns -0 into 0: one normal form for the cache key.
  o.watermark = { opacity, position, x: x + 0, y: y + 0, scale: num(p.wm_scale, WM_DEFAULT_SCALE) };
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

export function applyParams(o: ProcessingOptions, p: PpParams, config: Config): void {
  if (!isProcessed(p, config.previewproxy)) {
    // PreviewProxy streams such a source unchanged (service.rs); so do we, from memory.
    Object.assign(o, asIs(o));
    return;
  }
  checkDisallowed(p, config.previewproxy);
  for (const [key, message] of UNSUPPORTED) {
    if (p[key] !== undefined) throw new ProxyError('UNSUPPORTED_PARAM', message);
  }
  applyGeometry(o, p);
  applyFormat(o, p, config.previewproxy);
  applyFilters(o, p);
  applyWatermark(o, p, config);
}
