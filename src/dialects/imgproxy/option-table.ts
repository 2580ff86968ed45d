/**
 * The imgproxy processing-option table: one entry per option with its canonical name,
 * aliases and an `apply` that parses the arguments onto ProcessingOptions. Adding an
 * option is adding an entry. Semantics follow imgproxy's options/parser (apply.go,
 * parse.go): too many arguments, a bad number or a bad enum value is INVALID_URL;
 * an invalid boolean is false; an empty optional argument keeps the current value. Every
 * number goes through `num`, whose ranges are in arg-ranges.ts (add one there with a new
 * numeric argument).
 */
import { ML_REFUSED } from '../../config/encoder-fields.js';
import type { Config } from '../../config/index.js';
import { UNSHARP_MASKING_MODES } from '../../config/schema/processing.js';
import { ProxyError } from '../../errors.js';
import {
  AUTOQUALITY_METHODS,
  AVIF_SUBSAMPLES,
  OBJECTS_POSITION_TYPES,
  RESIZING_ALGORITHMS,
  WEBP_COMPRESSIONS,
  WEBP_PRESETS,
  RESIZING_TYPES,
  WATERMARK_POSITIONS,
  type ExtendOptions,
  type OutputFormat,
  type ProcessingOptions,
  type Ramp,
  type RelativeRect,
  type WatermarkText,
} from '../../options.js';
import { colouredMarkup, MarkupError, parsePangoMarkup } from '../../processing/pango-markup.js';
import {
  CROP_GRAVITIES,
  EXTEND_GRAVITIES,
  arg,
  decodeBase64Url,
  ensureMaxArgs,
  hexToRgb,
  invalidArg,
  objectDetectionUnavailable,
  parseBool,
  parseEnum,
  isFormatName,
  parseFormat,
  parseGravity,
  parseHexColor,
  utf8,
} from './args.js';
import { num } from './arg-ranges.js';
import { parseCacheTagArgs } from '../../tags.js';

/** `watermark_url`: URL-safe base64 of an absolute URL. */
function parseWatermarkUrl(v: string): string {
  const bytes = decodeBase64Url(v);
  const url = bytes && utf8(bytes);
  if (url === undefined || !/^[a-z][a-z0-9+.-]*:\/\/./i.test(url)) throw invalidArg('watermark_url', 'URL-safe base64 of an absolute URL', v);
  return url;
}

/**
 * `watermark_text`: URL-safe base64 of Pango markup, black `sans 16` by default (imgproxy Pro
 * docs); only the subset pango-markup.ts lists is accepted.
 */
function parseWatermarkText(v: string): WatermarkText {
  const bytes = decodeBase64Url(v);
  const text = bytes && utf8(bytes);
  if (text === undefined) throw invalidArg('watermark_text', 'URL-safe base64 of UTF-8 text', v);
  try {
    return { kind: 'text', markup: colouredMarkup(parsePangoMarkup(text).markup, '000000'), font: 'sans', size: 16, sizing: 'em' };
  } catch (err) {
    if (err instanceof MarkupError) throw new ProxyError('INVALID_URL', `Invalid watermark_text: ${err.message}`);
    throw err;
  }
}

export interface ApplyContext {
  readonly config: Config;
  /** IMGPROXY_URL_REPLACEMENTS and IMGPROXY_BASE_URL, as applied to source URLs. */
  preprocessUrl(url: string): string;
  /** Expands presets in place (the `preset` option); knows the recursion chain. */
  expandPresets(o: ProcessingOptions, names: readonly string[]): void;
  /** Unix seconds; injectable for tests of `expires`. */
  now(): number;
}

export interface OptionSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  /** Only usable with IMGPROXY_ALLOW_SECURITY_OPTIONS. */
  readonly security?: boolean;
  /**
   * Sets request-wide options (MAIN_KEYS in options.ts): in a chained pipeline it still writes
   * the main options, as imgproxy's parser passes them `o.Main()`.
   */
  readonly main?: boolean;
  apply(o: ProcessingOptions, args: readonly string[], ctx: ApplyContext): void;
}

/** Single-argument option: checks the count, hands the value to `set`. */
function single(name: string, set: (o: ProcessingOptions, value: string) => void): OptionSpec['apply'] {
  return (o, args) => {
    ensureMaxArgs(name, args, 1);
    set(o, arg(args, 0));
  };
}

function boolOption(name: string, aliases: readonly string[], key: BoolKey): OptionSpec {
  return { name, aliases, apply: single(name, (o, v) => { o[key] = parseBool(v); }) };
}

type BoolKey = { [K in keyof ProcessingOptions]: ProcessingOptions[K] extends boolean ? K : never }[keyof ProcessingOptions];

function applySize(o: ProcessingOptions, args: readonly string[]): void {
  ensureMaxArgs('size', args, 7);
  if (arg(args, 0) !== '') o.width = num('width', arg(args, 0));
  if (arg(args, 1) !== '') o.height = num('height', arg(args, 1));
  if (arg(args, 2) !== '') o.enlarge = parseBool(arg(args, 2));
  if (arg(args, 3) !== '') o.extend = parseExtend('extend', args.slice(3), o.extend);
}

function parseExtend(name: string, args: readonly string[], prev: ExtendOptions): ExtendOptions {
  ensureMaxArgs(name, args, 4);
  const enabled = parseBool(arg(args, 0));
  const gravity = args.length > 1 ? parseGravity(`${name} gravity`, args.slice(1), EXTEND_GRAVITIES, prev.gravity) : { ...prev.gravity };
  return { enabled, gravity };
}

/** Directions by name, as angles clockwise from top-to-bottom (imgproxy Pro `gradient`). */
const DIRECTIONS: Readonly<Record<string, number>> = { down: 0, left: 90, up: 180, right: 270 };

/** `%direction:%start:%stop` of `gradient` and `progressive_blur`; empty arguments keep `prev`. */
function parseRamp(args: readonly string[], prev: Ramp): Ramp {
  const dir = arg(args, 0);
  const angle = dir === '' ? prev.angle : (DIRECTIONS[dir] ?? num('ramp angle', dir, 'direction'));
  const start = arg(args, 1) === '' ? prev.start : num('ramp position', arg(args, 1), 'start');
  const stop = arg(args, 2) === '' ? prev.stop : num('ramp position', arg(args, 2), 'stop');
  return { angle: ((angle % 360) + 360) % 360, start, stop };
}

const DOWN: Ramp = { angle: 0, start: 0, stop: 1 };

/**
 * Enough areas for any face or plate list; each is a blur pass, so a URL cannot ask for
 * thousands of them.
 */
export const MAX_BLUR_AREAS = 64;

/** imgproxy Pro `style`: URL-safe base64 of the CSS. */
function parseStyle(v: string): string {
  const bytes = decodeBase64Url(v);
  const text = bytes && utf8(bytes);
  if (text === undefined) throw invalidArg('style', 'URL-safe base64 of UTF-8 CSS', v);
  return text;
}

/** Built-in profiles of libvips (sharp `withIccProfile`); anything else is a file name. */
const BUILTIN_PROFILES = new Set(['srgb', 'p3', 'cmyk']);

/**
 * `color_profile`: a built-in name or a percent-encoded file name inside
 * IMGPROXY_COLOR_PROFILES_DIR. Only the name is checked here (no path may leave the
 * directory); the file is looked up when the image is processed.
 */
function parseColorProfile(v: string): string | null {
  if (v === '') return null;
  let name: string;
  try {
    name = decodeURIComponent(v);
  } catch {
    throw invalidArg('color profile', 'a profile name or a percent-encoded file name', v);
  }
  if (BUILTIN_PROFILES.has(name.toLowerCase())) return name.toLowerCase();
  if (/[/\\\0]/.test(name) || name === '.' || name === '..' || name.trim() === '') {
    throw invalidArg('color profile', 'srgb, p3, cmyk or a file name in IMGPROXY_COLOR_PROFILES_DIR', v);
  }
  return name;
}

/**
 * `format` and the URL extension: a format, or `best` (imgproxy Pro), whose candidates are
 * completed once every option is known (index.ts `completeBest`).
 */
export function setFormat(o: ProcessingOptions, name: string, value: string, config: Config): void {
  if (value.toLowerCase() === 'best') {
    const p = config.processing;
    o.format = null;
    o.bestFormat = { candidates: [], complexityThreshold: p.bestFormatComplexityThreshold, maxResolution: p.bestFormatMaxResolution, allowSkips: p.bestFormatAllowSkips };
    return;
  }
  o.format = parseFormat(name, value);
  o.bestFormat = null;
}

function setAdjust(o: ProcessingOptions, key: 'brightness' | 'contrast' | 'saturation', v: string): void {
  o[key] = num(key, v);
}

function applySecurityResolution(key: 'maxSrcResolution' | 'maxAnimationFrameResolution', name: 'max_src_resolution' | 'max_animation_frame_resolution'): OptionSpec['apply'] {
  // Megapixels, like the config variables the option overrides.
  return single(name, (o, v) => { o[key] = num(name, v); });
}

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'resize', aliases: ['rs'],
    apply(o, args) {
      ensureMaxArgs('resize', args, 8);
      if (arg(args, 0) !== '') o.resizingType = parseEnum('resizing type', arg(args, 0), RESIZING_TYPES);
      if (args.length > 1) applySize(o, args.slice(1));
    },
  },
  { name: 'size', aliases: ['s'], apply: (o, args) => applySize(o, args) },
  { name: 'resizing_type', aliases: ['rt'], apply: single('resizing_type', (o, v) => { o.resizingType = parseEnum('resizing type', v, RESIZING_TYPES); }) },
  { name: 'resizing_algorithm', aliases: ['ra'], apply: single('resizing_algorithm', (o, v) => { o.resizingAlgorithm = parseEnum('resizing algorithm', v, RESIZING_ALGORITHMS); }) },
  { name: 'width', aliases: ['w'], apply: single('width', (o, v) => { o.width = num('width', v); }) },
  { name: 'height', aliases: ['h'], apply: single('height', (o, v) => { o.height = num('height', v); }) },
  { name: 'min-width', aliases: ['mw'], apply: single('min-width', (o, v) => { o.minWidth = num('min-width', v); }) },
  { name: 'min-height', aliases: ['mh'], apply: single('min-height', (o, v) => { o.minHeight = num('min-height', v); }) },
  {
    name: 'zoom', aliases: ['z'],
    apply(o, args) {
      ensureMaxArgs('zoom', args, 2);
      o.zoomX = num('zoom', arg(args, 0), 'zoom x');
      o.zoomY = args.length > 1 ? num('zoom', arg(args, 1), 'zoom y') : o.zoomX;
    },
  },
  { name: 'dpr', aliases: [], apply: single('dpr', (o, v) => { o.dpr = num('dpr', v); }) },
  boolOption('enlarge', ['el'], 'enlarge'),
  { name: 'extend', aliases: ['ex'], apply: (o, args) => { o.extend = parseExtend('extend', args, o.extend); } },
  { name: 'extend_aspect_ratio', aliases: ['extend_ar', 'exar'], apply: (o, args) => { o.extendAspectRatio = parseExtend('extend_aspect_ratio', args, o.extendAspectRatio); } },
  { name: 'gravity', aliases: ['g'], apply: (o, args) => { o.gravity = parseGravity('gravity', args, CROP_GRAVITIES, o.gravity); } },
  {
    name: 'crop', aliases: ['c'],
    apply(o, args) {
      const width = num('crop size', arg(args, 0), 'crop width');
      const height = args.length > 1 ? num('crop size', arg(args, 1), 'crop height') : (o.crop?.height ?? 0);
      const gravity = args.length > 2
        ? parseGravity('crop gravity', args.slice(2), CROP_GRAVITIES, o.crop?.gravity ?? { type: 'ce', x: 0, y: 0 })
        : (o.crop?.gravity ?? null);
      // 0:0 crops nothing whatever the gravity: one normal form for the cache key.
      o.crop = width === 0 && height === 0 ? null : { width, height, gravity };
    },
  },
  {
    name: 'crop_aspect_ratio', aliases: ['crop_ar', 'car'],
    apply(o, args) {
      ensureMaxArgs('crop_aspect_ratio', args, 2);
      const ratio = arg(args, 0) === '' ? (o.cropAspectRatio?.ratio ?? 0) : num('crop aspect ratio', arg(args, 0));
      const enlarge = arg(args, 1) === '' ? (o.cropAspectRatio?.enlarge ?? false) : parseBool(arg(args, 1));
      o.cropAspectRatio = ratio === 0 ? null : { ratio, enlarge };
    },
  },
  {
    name: 'objects_position', aliases: ['obj_pos', 'op'],
    apply(o, args) {
      const type = parseEnum('objects position type', arg(args, 0), OBJECTS_POSITION_TYPES);
      if (type === 'prop') {
        ensureMaxArgs('objects_position', args, 1);
        o.objectsPosition = { type, x: 0, y: 0 };
        return;
      }
      const g = parseGravity('objects_position', args, EXTEND_GRAVITIES, { type: 'ce', x: o.objectsPosition.x, y: o.objectsPosition.y });
      o.objectsPosition = { type, x: g.x, y: g.y };
    },
  },
  {
    // `co` is contrast's alias too in Pro's docs; contrast keeps it here (it came first).
    name: 'crop_objects', aliases: [],
    apply() {
      throw objectDetectionUnavailable('crop_objects');
    },
  },
  {
    name: 'trim', aliases: ['t'],
    apply(o, args) {
      ensureMaxArgs('trim', args, 4);
      const threshold = arg(args, 0) === '' ? null : num('trim threshold', arg(args, 0));
      const color = arg(args, 1) === '' ? null : parseHexColor('trim color', arg(args, 1));
      const equalHor = arg(args, 2) === '' ? (o.trim?.equalHor ?? false) : parseBool(arg(args, 2));
      const equalVer = arg(args, 3) === '' ? (o.trim?.equalVer ?? false) : parseBool(arg(args, 3));
      // An empty threshold switches trimming off (imgproxy deletes the threshold key).
      o.trim = threshold === null ? null : { threshold, color, equalHor, equalVer };
    },
  },
  {
    name: 'padding', aliases: ['pd'],
    apply(o, args) {
      ensureMaxArgs('padding', args, 4);
      // CSS shorthand: right defaults to top, bottom to top, left to right.
      const top = arg(args, 0) !== '' ? num('padding', arg(args, 0), 'padding top') : (o.padding?.top ?? 0);
      const right = arg(args, 1) !== '' ? num('padding', arg(args, 1), 'padding right') : top;
      const bottom = arg(args, 2) !== '' ? num('padding', arg(args, 2), 'padding bottom') : top;
      const left = arg(args, 3) !== '' ? num('padding', arg(args, 3), 'padding left') : right;
      o.padding = top + right + bottom + left === 0 ? null : { top, right, bottom, left };
    },
  },
  boolOption('auto_rotate', ['ar'], 'autoRotate'),
  {
    name: 'rotate', aliases: ['rot'],
    apply: single('rotate', (o, v) => {
      const n = num('rotate', v);
      if (n % 90 !== 0) throw new ProxyError('INVALID_URL', `Rotation angle must be a multiple of 90, got ${JSON.stringify(v)}`);
      o.rotate = ((n % 360) + 360) % 360;
    }),
  },
  {
    name: 'flip', aliases: ['fl'],
    apply(o, args) {
      ensureMaxArgs('flip', args, 2);
      if (arg(args, 0) !== '') o.flipHorizontal = parseBool(arg(args, 0));
      if (arg(args, 1) !== '') o.flipVertical = parseBool(arg(args, 1));
    },
  },
  {
    name: 'background', aliases: ['bg'],
    apply(o, args) {
      if (args.length === 1) {
        o.background = arg(args, 0) === '' ? null : hexToRgb(parseHexColor('background', arg(args, 0)));
        return;
      }
      if (args.length !== 3) throw new ProxyError('INVALID_URL', `Invalid background arguments: expected r:g:b or a hex colour, got ${JSON.stringify(args.join(':'))}`);
      // strconv.ParseUint: digits only, no sign.
      const channel = (name: string, v: string): number => {
        if (!/^\d+$/.test(v)) throw invalidArg(`background ${name}`, 'an integer from 0 to 255', v);
        return num('background channel', v, `background ${name}`);
      };
      o.background = { r: channel('red', arg(args, 0)), g: channel('green', arg(args, 1)), b: channel('blue', arg(args, 2)) };
    },
  },
  { name: 'background_alpha', aliases: ['bga'], apply: single('background_alpha', (o, v) => { o.backgroundAlpha = num('background alpha', v); }) },
  {
    name: 'adjust', aliases: ['a'],
    apply(o, args) {
      ensureMaxArgs('adjust', args, 3);
      if (arg(args, 0) !== '') setAdjust(o, 'brightness', arg(args, 0));
      if (arg(args, 1) !== '') setAdjust(o, 'contrast', arg(args, 1));
      if (arg(args, 2) !== '') setAdjust(o, 'saturation', arg(args, 2));
    },
  },
  { name: 'brightness', aliases: ['br'], apply: single('brightness', (o, v) => setAdjust(o, 'brightness', v)) },
  { name: 'contrast', aliases: ['co'], apply: single('contrast', (o, v) => setAdjust(o, 'contrast', v)) },
  { name: 'saturation', aliases: ['sa'], apply: single('saturation', (o, v) => setAdjust(o, 'saturation', v)) },
  {
    name: 'monochrome', aliases: ['mc'],
    apply(o, args) {
      ensureMaxArgs('monochrome', args, 2);
      const intensity = num('monochrome intensity', arg(args, 0));
      const color = arg(args, 1) !== '' ? parseHexColor('monochrome color', arg(args, 1)) : (o.monochrome?.color ?? 'b3b3b3');
      o.monochrome = intensity === 0 ? null : { intensity, color };
    },
  },
  {
    name: 'duotone', aliases: ['dt'],
    apply(o, args) {
      ensureMaxArgs('duotone', args, 3);
      const intensity = num('duotone intensity', arg(args, 0));
      const dark = arg(args, 1) !== '' ? parseHexColor('duotone color1', arg(args, 1)) : (o.duotone?.dark ?? '000000');
      const light = arg(args, 2) !== '' ? parseHexColor('duotone color2', arg(args, 2)) : (o.duotone?.light ?? 'ffffff');
      o.duotone = intensity === 0 ? null : { intensity, dark, light };
    },
  },
  {
    name: 'unsharp_masking', aliases: ['ush'],
    apply(o, args) {
      ensureMaxArgs('unsharp_masking', args, 3);
      const prev = o.unsharpMasking;
      o.unsharpMasking = {
        mode: arg(args, 0) === '' ? prev.mode : parseEnum('unsharp masking mode', arg(args, 0), UNSHARP_MASKING_MODES),
        weight: arg(args, 1) === '' ? prev.weight : num('unsharp masking weight', arg(args, 1)),
        divider: arg(args, 2) === '' ? prev.divider : num('unsharp masking divider', arg(args, 2)),
      };
    },
  },
  {
    name: 'blur_areas', aliases: ['ba'],
    apply(o, args) {
      const sigma = num('area blur sigma', arg(args, 0), 'blur_areas sigma');
      const coords = args.slice(1);
      if (coords.length % 4 !== 0) {
        throw new ProxyError('INVALID_URL', `Invalid blur_areas arguments: expected %sigma then %left:%top:%width:%height per area, got ${JSON.stringify(args.join(':'))}`);
      }
      if (coords.length / 4 > MAX_BLUR_AREAS) throw new ProxyError('INVALID_URL', `Invalid blur_areas arguments: at most ${MAX_BLUR_AREAS} areas, got ${coords.length / 4}`);
      const areas: RelativeRect[] = [];
      for (let i = 0; i < coords.length; i += 4) {
        const at = (k: number, what: string): number => num('blur area', arg(coords, i + k), `blur area ${what}`);
        areas.push({ left: at(0, 'left'), top: at(1, 'top'), width: at(2, 'width'), height: at(3, 'height') });
      }
      const kept = areas.filter((a) => a.width > 0 && a.height > 0);
      o.blurAreas = sigma === 0 || kept.length === 0 ? null : { sigma, areas: kept };
    },
  },
  {
    name: 'progressive_blur', aliases: ['pbl'],
    apply(o, args) {
      ensureMaxArgs('progressive_blur', args, 4);
      const sigma = num('progressive blur sigma', arg(args, 0), 'progressive_blur sigma');
      const ramp = parseRamp(args.slice(1), o.progressiveBlur ?? DOWN);
      o.progressiveBlur = sigma === 0 ? null : { sigma, ...ramp };
    },
  },
  {
    name: 'blur_detections', aliases: ['bd'],
    apply(o, args) {
      // sigma 0 blurs nothing: nothing to detect.
      if (num('blur', arg(args, 0), 'blur_detections sigma') > 0) throw objectDetectionUnavailable('blur_detections');
    },
  },
  {
    name: 'draw_detections', aliases: ['dd'],
    apply(o, args) {
      if (parseBool(arg(args, 0))) throw objectDetectionUnavailable('draw_detections');
    },
  },
  {
    name: 'colorize', aliases: ['col'],
    apply(o, args) {
      ensureMaxArgs('colorize', args, 3);
      const opacity = num('colorize opacity', arg(args, 0));
      const color = arg(args, 1) !== '' ? parseHexColor('colorize color', arg(args, 1)) : (o.colorize?.color ?? '000000');
      const keepAlpha = arg(args, 2) !== '' ? parseBool(arg(args, 2)) : (o.colorize?.keepAlpha ?? false);
      o.colorize = opacity === 0 ? null : { opacity, color, keepAlpha };
    },
  },
  {
    name: 'gradient', aliases: ['gr'],
    apply(o, args) {
      ensureMaxArgs('gradient', args, 5);
      const opacity = num('gradient opacity', arg(args, 0));
      const color = arg(args, 1) !== '' ? parseHexColor('gradient color', arg(args, 1)) : (o.gradient?.color ?? '000000');
      const ramp = parseRamp(args.slice(2), o.gradient ?? DOWN);
      o.gradient = opacity === 0 ? null : { opacity, color, ...ramp };
    },
  },
  // 0 = off (imgproxy applies them only when > 0).
  { name: 'blur', aliases: ['bl'], apply: single('blur', (o, v) => { o.blur = num('blur', v); }) },
  { name: 'sharpen', aliases: ['sh'], apply: single('sharpen', (o, v) => { o.sharpen = num('sharpen', v); }) },
  { name: 'pixelate', aliases: ['pix'], apply: single('pixelate', (o, v) => { o.pixelate = num('pixelate', v); }) },
  {
    name: 'watermark', aliases: ['wm'],
    apply(o, args) {
      // imgproxy accepts up to 7 (Pro positions use more) and ignores what OSS does not read.
      ensureMaxArgs('watermark', args, 7);
      const opacity = num('watermark opacity', arg(args, 0));
      const prev = o.watermark ?? { opacity: 0, position: 'ce', x: 0, y: 0, scale: 0, layout: 'imgproxy' };
      const position = arg(args, 1) !== '' ? parseEnum('watermark position', arg(args, 1), WATERMARK_POSITIONS) : prev.position;
      const x = arg(args, 2) !== '' ? num('watermark offset', arg(args, 2), 'watermark x offset') : prev.x;
      const y = arg(args, 3) !== '' ? num('watermark offset', arg(args, 3), 'watermark y offset') : prev.y;
      const scale = arg(args, 4) !== '' ? num('watermark scale', arg(args, 4)) : prev.scale;
      o.watermark = opacity === 0 ? null : { opacity, position, x, y, scale, layout: 'imgproxy' };
    },
  },
  { name: 'style', aliases: ['st'], apply: single('style', (o, v) => { o.style = v === '' ? '' : parseStyle(v); }) },
  // imgproxy Pro's watermark options (https://docs.imgproxy.net/usage/processing#watermark-url):
  // they shape the mark that `watermark` places; an empty argument restores the default.
  {
    name: 'watermark_url', aliases: ['wmu'],
    apply: single('watermark_url', (o, v) => {
      o.watermarkImage = v === '' ? null : { kind: 'url', url: parseWatermarkUrl(v) };
    }),
  },
  {
    name: 'watermark_text', aliases: ['wmt'],
    apply: single('watermark_text', (o, v) => {
      o.watermarkImage = v === '' ? null : parseWatermarkText(v);
    }),
  },
  {
    name: 'watermark_size', aliases: ['wms'],
    apply(o, args) {
      ensureMaxArgs('watermark_size', args, 2);
      const width = arg(args, 0) === '' ? (o.watermarkSize?.width ?? 0) : num('watermark size', arg(args, 0), 'watermark width');
      const height = arg(args, 1) === '' ? (o.watermarkSize?.height ?? 0) : num('watermark size', arg(args, 1), 'watermark height');
      o.watermarkSize = width === 0 && height === 0 ? null : { width, height };
    },
  },
  {
    name: 'watermark_rotate', aliases: ['wm_rot', 'wmr'],
    apply: single('watermark_rotate', (o, v) => {
      const n = num('watermark rotate', v);
      o.watermarkRotate = (((n % 360) + 360) % 360) + 0;
    }),
  },
  { name: 'watermark_shadow', aliases: ['wmsh'], apply: single('watermark_shadow', (o, v) => { o.watermarkShadow = num('watermark shadow', v); }) },
  boolOption('strip_metadata', ['sm'], 'stripMetadata'),
  boolOption('keep_copyright', ['kcr'], 'keepCopyright'),
  boolOption('strip_color_profile', ['scp'], 'stripColorProfile'),
  { name: 'dpi', aliases: [], apply: single('dpi', (o, v) => { o.dpi = num('dpi', v); }) },
  boolOption('preserve_hdr', ['ph'], 'preserveHdr'),
  { name: 'color_profile', aliases: ['cp', 'icc'], apply: single('color_profile', (o, v) => { o.colorProfile = parseColorProfile(v); }) },
  boolOption('enforce_thumbnail', ['eth'], 'enforceThumbnail'),
  // 0 restores the configured default (documented range 0–100).
  { name: 'quality', aliases: ['q'], apply: single('quality', (o, v) => { o.quality = num('quality', v); }) },
  {
    name: 'format_quality', aliases: ['fq'],
    apply(o, args) {
      if (args.length % 2 !== 0) throw new ProxyError('INVALID_URL', `Invalid format_quality arguments: missing quality for ${JSON.stringify(args[args.length - 1])}`);
      const fq: Partial<Record<OutputFormat, number>> = { ...o.formatQuality };
      for (let i = 0; i < args.length; i += 2) {
        const format = parseFormat('format_quality format', arg(args, i));
        const q = num('format quality', arg(args, i + 1), `format_quality ${format}`);
        // 0 = the configured default (imgproxy reads only a quality > 0): no entry, one cache key.
        if (q === 0) delete fq[format];
        else fq[format] = q;
      }
      o.formatQuality = fq;
    },
  },
  { name: 'max_bytes', aliases: ['mb'], apply: single('max_bytes', (o, v) => { o.maxBytes = num('max_bytes', v); }) },
  { name: 'format', aliases: ['f', 'ext'], apply: (o, args, ctx) => { ensureMaxArgs('format', args, 1); setFormat(o, 'format', arg(args, 0), ctx.config); } },
  {
    name: 'autoquality', aliases: ['aq'],
    apply(o, args) {
      ensureMaxArgs('autoquality', args, 5);
      const aq = { ...o.autoquality };
      const method = arg(args, 0);
      if (method === 'ml') throw new ProxyError('INVALID_URL', `Invalid autoquality method: ${ML_REFUSED}`);
      if (method !== '') aq.method = parseEnum('autoquality method', method, AUTOQUALITY_METHODS);
      if (arg(args, 1) !== '') aq.target = num('autoquality target', arg(args, 1));
      if (arg(args, 2) !== '') aq.min = num('autoquality quality', arg(args, 2), 'autoquality min quality');
      if (arg(args, 3) !== '') aq.max = num('autoquality quality', arg(args, 3), 'autoquality max quality');
      if (arg(args, 4) !== '') aq.allowedError = num('autoquality allowed error', arg(args, 4));
      o.autoquality = aq;
    },
  },
  {
    name: 'jpeg_options', aliases: ['jpgo'],
    apply(o, args) {
      ensureMaxArgs('jpeg_options', args, 6);
      const j = { ...o.jpegOptions };
      const flags = ['progressive', 'noSubsample', 'trellisQuant', 'overshootDeringing', 'optimizeScans'] as const;
      flags.forEach((key, i) => {
        if (arg(args, i) !== '') j[key] = parseBool(arg(args, i));
      });
      if (arg(args, 5) !== '') j.quantTable = num('jpeg quant table', arg(args, 5));
      o.jpegOptions = j;
    },
  },
  {
    name: 'png_options', aliases: ['pngo'],
    apply(o, args) {
      ensureMaxArgs('png_options', args, 3);
      const g = { ...o.pngOptions };
      if (arg(args, 0) !== '') g.interlaced = parseBool(arg(args, 0));
      if (arg(args, 1) !== '') g.quantize = parseBool(arg(args, 1));
      if (arg(args, 2) !== '') g.quantizationColors = num('png quantization colors', arg(args, 2));
      o.pngOptions = g;
    },
  },
  {
    name: 'webp_options', aliases: ['webpo'],
    apply(o, args) {
      ensureMaxArgs('webp_options', args, 3);
      const w = { ...o.webpOptions };
      if (arg(args, 0) !== '') w.compression = parseEnum('webp compression', arg(args, 0), WEBP_COMPRESSIONS);
      if (arg(args, 1) !== '') w.smartSubsample = parseBool(arg(args, 1));
      if (arg(args, 2) !== '') w.preset = parseEnum('webp preset', arg(args, 2), WEBP_PRESETS);
      o.webpOptions = w;
    },
  },
  { name: 'avif_options', aliases: ['avifo'], apply: single('avif_options', (o, v) => { if (v !== '') o.avifSubsample = parseEnum('avif subsample', v, AVIF_SUBSAMPLES); }) },
  { name: 'page', aliases: ['pg'], apply: single('page', (o, v) => { o.page = num('page', v); }) },
  { name: 'pages', aliases: ['pgs'], apply: single('pages', (o, v) => { o.pages = num('pages', v); }) },
  boolOption('disable_animation', ['da'], 'disableAnimation'),
  // imgproxy Pro's video thumbnail options (https://docs.imgproxy.net/usage/processing#video-thumbnail-second).
  { name: 'video_thumbnail_second', aliases: ['vts'], apply: single('video_thumbnail_second', (o, v) => { o.video = { ...o.video, seek: { seconds: num('video_thumbnail_second', v) } }; }) },
  { name: 'video_thumbnail_keyframes', aliases: ['vtk'], apply: single('video_thumbnail_keyframes', (o, v) => { o.video = { ...o.video, keyframes: parseBool(v) }; }) },
  {
    // `sp` is what the official imgproxy-js-core builder emits for skip_processing.
    name: 'skip_processing', aliases: ['skp', 'sp'],
    apply(o, args) {
      const formats = new Set(o.skipProcessingFormats);
      for (const a of args) {
        // imgproxy's wording (options/parser/apply.go applySkipProcessingFormatsOption).
        if (!isFormatName(a)) throw new ProxyError('INVALID_URL', `Invalid image format in skip_processing: ${a}`);
        formats.add(parseFormat('skip_processing format', a));
      }
      // A set: sorted so that argument order does not change the options (or the cache key).
      o.skipProcessingFormats = [...formats].sort();
    },
  },
  boolOption('raw', [], 'raw'),
  { name: 'cachebuster', aliases: ['cb'], apply: single('cachebuster', (o, v) => { o.cachebuster = v; }) },
  { name: 'cache_tags', aliases: ['ct'], apply: (o, args) => { o.cacheTags = parseCacheTagArgs('cache_tags', args); } },
  {
    name: 'bypass_cache', aliases: ['bc'],
    apply(o, args, ctx) {
      ensureMaxArgs('bypass_cache', args, 1);
      const on = parseBool(arg(args, 0));
      // imgproxy Pro: "may be used for DoS attacks", so it is off unless the operator allows it.
      if (on && !ctx.config.cache.allowBypassCache) throw new ProxyError('SECURITY_OPTION_FORBIDDEN', 'bypass_cache needs IMGPROXY_ALLOW_BYPASS_CACHE=true');
      o.bypassCache = on;
    },
  },
  {
    name: 'expires', aliases: ['exp'],
    apply(o, args, ctx) {
      ensureMaxArgs('expires', args, 1);
      const ts = num('expires', arg(args, 0));
      if (ts > 0 && ts < ctx.now()) throw new ProxyError('INVALID_URL', 'Expired URL');
      o.expires = Math.max(ts, 0);
    },
  },
  {
    name: 'filename', aliases: ['fn'],
    apply(o, args) {
      ensureMaxArgs('filename', args, 2);
      const name = arg(args, 0);
      if (arg(args, 1) !== '' && parseBool(arg(args, 1))) {
        const bytes = decodeBase64Url(name);
        const text = bytes && utf8(bytes);
        if (text === undefined) throw invalidArg('filename', 'URL-safe base64 of a UTF-8 name', name);
        o.filename = text;
      } else {
        o.filename = name;
      }
    },
  },
  boolOption('return_attachment', ['att'], 'returnAttachment'),
  {
    // imgproxy Pro: https://docs.imgproxy.net/usage/processing#fallback-image-url
    name: 'fallback_image_url', aliases: ['fiu'],
    apply(o, args, ctx) {
      ensureMaxArgs('fallback_image_url', args, 1);
      const encoded = arg(args, 0);
      if (encoded === '') return;
      const bytes = decodeBase64Url(encoded);
      const url = bytes && utf8(bytes);
      if (url === undefined || url === '') throw invalidArg('fallback_image_url', 'URL-safe base64 of a URL', encoded);
      o.fallbackImageUrl = ctx.config.processing.fallbackImagePreprocessUrl ? ctx.preprocessUrl(url) : url;
    },
  },
  { name: 'preset', aliases: ['pr'], apply: (o, args, ctx) => ctx.expandPresets(o, args) },
  { name: 'max_src_resolution', aliases: ['msr'], security: true, apply: applySecurityResolution('maxSrcResolution', 'max_src_resolution') },
  { name: 'max_src_file_size', aliases: ['msfs'], security: true, apply: single('max_src_file_size', (o, v) => { o.maxSrcFileSize = Math.max(0, num('max_src_file_size', v)); }) },
  { name: 'max_animation_frames', aliases: ['maf'], security: true, apply: single('max_animation_frames', (o, v) => { o.maxAnimationFrames = num('max_animation_frames', v); }) },
  { name: 'max_animation_frame_resolution', aliases: ['mafr'], security: true, apply: applySecurityResolution('maxAnimationFrameResolution', 'max_animation_frame_resolution') },
  { name: 'max_result_dimension', aliases: ['mrd'], security: true, apply: single('max_result_dimension', (o, v) => { o.maxResultDimension = Math.max(0, num('max_result_dimension', v)); }) },
];

/**
 * Options that set request-wide fields (MAIN_KEYS): imgproxy's parser applies these to
 * `o.Main()` (options/parser/processing_options.go); the Pro ones with them are the output
 * and source options of the same kind (dpi, color_profile, style, page, pages,
 * disable_animation, the encoder options, autoquality, fallback_image_url, cache_tags, bypass_cache) and the security limits.
 */
const MAIN_OPTIONS: ReadonlySet<string> = new Set([
  'strip_metadata', 'keep_copyright', 'strip_color_profile', 'preserve_hdr', 'enforce_thumbnail', 'quality',
  'format_quality', 'max_bytes', 'format', 'skip_processing', 'raw', 'cachebuster', 'expires', 'filename',
  'return_attachment', 'page', 'pages', 'disable_animation', 'style', 'dpi', 'color_profile',
  'autoquality', 'jpeg_options', 'png_options', 'webp_options', 'avif_options', 'fallback_image_url', 'cache_tags', 'bypass_cache',
  'max_src_resolution', 'max_src_file_size', 'max_animation_frames', 'max_animation_frame_resolution', 'max_result_dimension',
]);

export const OPTION_TABLE: readonly OptionSpec[] = OPTIONS.map((spec) => (MAIN_OPTIONS.has(spec.name) ? { ...spec, main: true } : spec));

/** Name or alias → spec. */
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(
  OPTION_TABLE.flatMap((spec) => [spec.name, ...spec.aliases].map((n) => [n, spec] as const)),
);
