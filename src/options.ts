/**
 * The processing-options model: plain data, fully normalised. Both URL dialects produce it;
 * the pipeline consumes it; the cache key is a canonical serialisation of it (so aliases,
 * argument order and presets that expand to the same options share one entry). Here: its
 * types, which fields are request-wide (MAIN_KEYS) and what one chained pipeline sees, and
 * the derived facts about the watermark.
 *
 * Defaults that come from configuration (quality, strip_metadata, …) are filled in by
 * `defaultOptions(config)` (default-options.ts); format names and media types are in
 * formats.ts.
 */
import type { AutoqualityMethod, AvifSubsample, WebpCompression, WebpPreset } from './config/encoder-fields.js';
import type { Config } from './config/index.js';
import type { OutputFormat } from './formats.js';

export { AUTOQUALITY_METHODS, AVIF_SUBSAMPLES, WEBP_COMPRESSIONS, WEBP_PRESETS, type AutoqualityMethod, type AvifSubsample, type WebpCompression, type WebpPreset } from './config/encoder-fields.js';

/**
 * Where a frame of a video source is taken: seconds from the start, a ratio of the duration
 * (PreviewProxy's `seek:0.25r`) or `auto`, the middle (PreviewProxy's `seek:auto`).
 */
export type VideoSeek = { readonly seconds: number } | { readonly ratio: number } | 'auto';

export interface VideoOptions {
  /** IMGPROXY_ENABLE_VIDEO_THUMBNAILS on imgproxy routes; always on PreviewProxy's. */
  enabled: boolean;
  /** `video_thumbnail_second` / PreviewProxy's `seek`; IMGPROXY_VIDEO_THUMBNAIL_SECOND by default. */
  seek: VideoSeek;
  /** `video_thumbnail_keyframes`: the keyframe at or before the seek, not the exact frame. */
  keyframes: boolean;
}

export const RESIZING_TYPES = ['fit', 'fill', 'fill-down', 'force', 'auto'] as const;
export type ResizingType = (typeof RESIZING_TYPES)[number];

/** The nine compass gravities (imgproxy's gravity, extend, watermark and objects_position use them). */
export const COMPASS_GRAVITIES = ['no', 'so', 'ea', 'we', 'noea', 'nowe', 'soea', 'sowe', 'ce'] as const;

export const GRAVITY_TYPES = [...COMPASS_GRAVITIES, 'sm', 'fp'] as const;
export type GravityType = (typeof GRAVITY_TYPES)[number];

export interface Gravity {
  type: GravityType;
  /** Offsets for compass gravities (≥1 px absolute, <1 relative); focus point for `fp`. */
  x: number;
  y: number;
}

export interface ExtendOptions {
  enabled: boolean;
  gravity: Gravity;
}

export interface CropOptions {
  width: number;
  height: number;
  /** null → use the main `gravity`. */
  gravity: Gravity | null;
}

export interface TrimOptions {
  threshold: number;
  /** Hex colour `rrggbb` or null for auto (top-left pixel). */
  color: string | null;
  equalHor: boolean;
  equalVer: boolean;
}

export interface Padding {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** `rrggbb` → channels. */
export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex, 16);
  return { r: (n >> 16) & 0xff, g: (n >> 8) & 0xff, b: n & 0xff };
}

export const WATERMARK_POSITIONS = ['ce', 'no', 'so', 'ea', 'we', 'noea', 'nowe', 'soea', 'sowe', 're'] as const;
export type WatermarkPosition = (typeof WATERMARK_POSITIONS)[number];

/**
 * Whose placement rules a watermark follows: imgproxy's (scale fits the mark into scale ×
 * the image, offsets push away from the anchored edge, `re` tiles centred) or PreviewProxy's
 * (scale is the mark's width as a fraction of the image's, offsets are added to the top-left
 * corner, `re` tiles from the top-left corner).
 */
export type WatermarkLayout = 'imgproxy' | 'previewproxy';

export interface WatermarkOptions {
  opacity: number;
  position: WatermarkPosition;
  x: number;
  y: number;
  scale: number;
  layout: WatermarkLayout;
}

/** A text watermark: one layout of Pango markup (already checked, processing/pango-markup.ts). */
export interface WatermarkText {
  kind: 'text';
  markup: string;
  /** `sans`: the bundled font; another name is a font file found as PreviewProxy finds it. */
  font: string;
  /** Font size in pixels. */
  size: number;
  /** `em`: the size of the em square (Pango's, at 72 dpi); `line`: ascent + descent (PreviewProxy's). */
  sizing: 'em' | 'line';
}

/** What a watermark draws when it is not the configured image (IMGPROXY_WATERMARK_*). */
export type WatermarkImage = { kind: 'url'; url: string } | WatermarkText;

export type FrameRange =
  | { kind: 'all' }
  | { kind: 'from'; first: number }
  | { kind: 'range'; first: number; last: number }
  | { kind: 'last'; count: number };

/**
 * Frames of an animated GIF to output (PreviewProxy's `gif_anim`, 0-indexed, inclusive).
 * `keepOthers` (`gif_af`): frames outside the range are kept too, with the geometric steps only.
 */
export interface FrameSelection {
  range: FrameRange;
  keepOthers: boolean;
}

export const RESIZING_ALGORITHMS = ['nearest', 'linear', 'cubic', 'lanczos2', 'lanczos3'] as const;
export type ResizingAlgorithm = (typeof RESIZING_ALGORITHMS)[number];

export type UnsharpMaskingMode = Config['processing']['unsharpMaskingMode'];

export interface UnsharpMasking {
  mode: UnsharpMaskingMode;
  /** How much the neighbours weigh against the pixel; greater is sharper. */
  weight: number;
  /** Strength divider; smaller is sharper. */
  divider: number;
}

/** `crop_aspect_ratio`: the crop area corrected to `ratio` (width / height). */
export interface CropAspectRatio {
  ratio: number;
  /** Grow the area (within the image) instead of shrinking it. */
  enlarge: boolean;
}

/**
 * A ramp across the image for `gradient` and `progressive_blur`: 0 at `start`, full at `stop`
 * (fractions of the image along the direction), the direction `angle` degrees clockwise from
 * top-to-bottom.
 */
export interface Ramp {
  angle: number;
  start: number;
  stop: number;
}

export interface GradientOptions extends Ramp {
  opacity: number;
  /** rrggbb */
  color: string;
}

export interface ProgressiveBlurOptions extends Ramp {
  sigma: number;
}

/** A rectangle in fractions (0–1) of the image it applies to. */
export interface RelativeRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface BlurAreas {
  sigma: number;
  areas: RelativeRect[];
}

export interface DuotoneOptions {
  intensity: number;
  /** rrggbb of the shadows and of the highlights. */
  dark: string;
  light: string;
}

export interface ColorizeOptions {
  opacity: number;
  /** rrggbb */
  color: string;
  keepAlpha: boolean;
}

export const OBJECTS_POSITION_TYPES = [...COMPASS_GRAVITIES, 'fp', 'prop'] as const;
export type ObjectsPositionType = (typeof OBJECTS_POSITION_TYPES)[number];

/** Offsets as in `Gravity`; `prop` takes none. */
export interface ObjectsPosition extends Omit<Gravity, 'type'> {
  type: ObjectsPositionType;
}

/** imgproxy Pro's `jpeg_options` (defaults: IMGPROXY_JPEG_*). */
export interface JpegOptions {
  progressive: boolean;
  noSubsample: boolean;
  trellisQuant: boolean;
  overshootDeringing: boolean;
  optimizeScans: boolean;
  /** mozjpeg quantisation table 0–8. */
  quantTable: number;
}

/** imgproxy Pro's `png_options` (defaults: IMGPROXY_PNG_*). */
export interface PngOptions {
  interlaced: boolean;
  quantize: boolean;
  quantizationColors: number;
}

/** imgproxy Pro's `webp_options` (defaults: IMGPROXY_WEBP_*). */
export interface WebpOptions {
  compression: WebpCompression;
  smartSubsample: boolean;
  preset: WebpPreset;
}

/** imgproxy Pro's `autoquality` (defaults: IMGPROXY_AUTOQUALITY_*). */
export interface AutoqualityOptions {
  method: AutoqualityMethod;
  /** Bytes (`size`) or DSSIM (`dssim`). */
  target: number;
  /** null: IMGPROXY_AUTOQUALITY_FORMAT_MIN of the format, else IMGPROXY_AUTOQUALITY_MIN. */
  min: number | null;
  max: number | null;
  allowedError: number;
}

/**
 * `format:best` (imgproxy Pro) and `format=best` (PreviewProxy): one mechanism, configured by
 * each dialect from its own variables (IMGPROXY_BEST_FORMAT_*, PP_BEST_FORMAT_*).
 */
export interface BestFormatOptions {
  /** Formats to try, in order of preference (the first is the pick when nothing is tried). */
  candidates: OutputFormat[];
  /** Edge density (% of edge pixels) from which lossless candidates are left out. */
  complexityThreshold: number;
  /** Megapixels above which no format is tried: the first candidate left is used; 0 = none. */
  maxResolution: number;
  /** imgproxy's IMGPROXY_BEST_FORMAT_ALLOW_SKIPS: SVG and skip_processing formats are served as they are. */
  allowSkips: boolean;
}

export interface ProcessingOptions {
  resizingType: ResizingType;
  resizingAlgorithm: ResizingAlgorithm;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  zoomX: number;
  zoomY: number;
  dpr: number;
  enlarge: boolean;
  extend: ExtendOptions;
  extendAspectRatio: ExtendOptions;
  gravity: Gravity;
  crop: CropOptions | null;
  trim: TrimOptions | null;
  padding: Padding | null;
  autoRotate: boolean;
  rotate: number;
  flipHorizontal: boolean;
  flipVertical: boolean;
  background: Rgb | null;
  blur: number;
  sharpen: number;
  pixelate: number;
  brightness: number;
  contrast: number;
  saturation: number;
  /** null = off; intensity 0–1 and tint colour. */
  monochrome: { intensity: number; color: string } | null;
  duotone: DuotoneOptions | null;
  unsharpMasking: UnsharpMasking;
  blurAreas: BlurAreas | null;
  progressiveBlur: ProgressiveBlurOptions | null;
  colorize: ColorizeOptions | null;
  gradient: GradientOptions | null;
  cropAspectRatio: CropAspectRatio | null;
  /** Alpha (0–1) of `background`; 1 = opaque. */
  backgroundAlpha: number;
  /** Where detected objects go (Pro `objects_position`); only `obj`/`objw` gravities read it. */
  objectsPosition: ObjectsPosition;
  /** CSS put in a `<style>` at the start of an SVG source; '' = none. */
  style: string;
  /** Output DPI; 0 = the source's, or IMGPROXY_STRIP_METADATA_DPI when metadata is stripped. */
  dpi: number;
  /** ICC profile the result is converted to and tagged with (`srgb`, `p3`, `cmyk`, a file name); null = none. */
  colorProfile: string | null;
  stripMetadata: boolean;
  keepCopyright: boolean;
  stripColorProfile: boolean;
  preserveHdr: boolean;
  enforceThumbnail: boolean;
  /** 0 = resolve from formatQuality / config. */
  quality: number;
  formatQuality: Partial<Record<OutputFormat, number>>;
  maxBytes: number;
  /** Explicit output format; null = automatic (or `bestFormat`). */
  format: OutputFormat | null;
  /** `best`: the smallest of several encodings; null = not asked. */
  bestFormat: BestFormatOptions | null;
  /**
   * An AVIF result under 16 px on a side: imgproxy writes PNG (alpha) or JPEG instead
   * (processing/processing.go saveImage), PreviewProxy writes the AVIF (ravif has no minimum).
   */
  smallAvif: 'substitute' | 'keep';
  /**
   * PreviewProxy's PP_BEST_FORMAT_ALLOW_SKIPS (set by its dialect only without non-format
   * transforms): a result in the source's own format is the source's bytes.
   */
  sourceIfSameFormat: boolean;
  autoquality: AutoqualityOptions;
  jpegOptions: JpegOptions;
  pngOptions: PngOptions;
  webpOptions: WebpOptions;
  avifSubsample: AvifSubsample;
  /** Format preferences negotiated from Accept (or forced by ENFORCE_*). */
  preferWebp: boolean;
  preferAvif: boolean;
  preferJxl: boolean;
  enforceWebp: boolean;
  enforceAvif: boolean;
  enforceJxl: boolean;
  skipProcessingFormats: OutputFormat[];
  raw: boolean;
  cachebuster: string;
  /** Cache tags of the result (`cache_tags`, src/tags.ts): sorted, no duplicates. */
  cacheTags: string[];
  /** Recompute and replace the cached result (`bypass_cache`, behind IMGPROXY_ALLOW_BYPASS_CACHE); never part of the key. */
  bypassCache: boolean;
  /** Unix seconds; 0 = none. Never part of the cache key. */
  expires: number;
  filename: string;
  returnAttachment: boolean;
  /** imgproxy Pro's `fallback_image_url`: the request's own fallback image ('' = the configured one). */
  fallbackImageUrl: string;
  watermark: WatermarkOptions | null;
  /** null: the configured watermark image. */
  watermarkImage: WatermarkImage | null;
  /** imgproxy Pro `watermark_size` (used when the scale is 0); null = natural size. */
  watermarkSize: { width: number; height: number } | null;
  /** imgproxy Pro `watermark_rotate`, degrees clockwise. */
  watermarkRotate: number;
  /** imgproxy Pro `watermark_shadow`: blur sigma of the shadow; 0 = none. */
  watermarkShadow: number;
  /** GIF frames to output; null = every frame, as usual. */
  frames: FrameSelection | null;
  page: number;
  pages: number;
  disableAnimation: boolean;
  /** Video sources only (ignored on a still image). */
  video: VideoOptions;
  // Security options (only settable with IMGPROXY_ALLOW_SECURITY_OPTIONS).
  maxSrcResolution: number;
  maxSrcFileSize: number;
  maxAnimationFrames: number;
  maxAnimationFrameResolution: number;
  maxResultDimension: number;
  /** Presets that were applied, for logging only; never part of the key. */
  usedPresets: string[];
  /**
   * Pro's chained pipelines (`-` between option groups): each runs on the result of the one
   * before, after this one. Only the pipeline options (not MAIN_KEYS) are per pipeline.
   */
  chain: PipelineOptions[];
}

/**
 * Options that belong to the request as a whole, whatever pipeline they are written in
 * (imgproxy's `o.Main()` in options/parser/processing_options.go): output, metadata, source
 * loading, security limits, headers. Everything else is per pipeline.
 */
export const MAIN_KEYS = [
  'stripMetadata', 'keepCopyright', 'stripColorProfile', 'preserveHdr', 'enforceThumbnail',
  'quality', 'formatQuality', 'maxBytes', 'format', 'preferWebp', 'preferAvif', 'preferJxl',
  'enforceWebp', 'enforceAvif', 'enforceJxl', 'skipProcessingFormats', 'raw', 'cachebuster',
  'expires', 'filename', 'returnAttachment', 'page', 'pages', 'disableAnimation', 'style', 'dpi',
  'colorProfile', 'maxSrcResolution', 'maxSrcFileSize', 'maxAnimationFrames',
  'maxAnimationFrameResolution', 'maxResultDimension', 'usedPresets', 'chain', 'bestFormat',
  'smallAvif', 'sourceIfSameFormat', 'autoquality', 'jpegOptions', 'pngOptions', 'webpOptions',
  'avifSubsample', 'fallbackImageUrl', 'cacheTags', 'bypassCache',
] as const satisfies readonly (keyof ProcessingOptions)[];
export type MainKey = (typeof MAIN_KEYS)[number];

/** The options of one pipeline of a chain. */
export type PipelineOptions = Omit<ProcessingOptions, MainKey>;

const MAIN_KEY_SET: ReadonlySet<string> = new Set(MAIN_KEYS);

/** The pipeline part of a full options object. */
export function pipelineOptions(o: ProcessingOptions): PipelineOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!MAIN_KEY_SET.has(k)) out[k] = v;
  return out as PipelineOptions;
}

/** Options for pipeline `index` of a chain (0 = the first): its own options over the main ones. */
export function stageOptions(o: ProcessingOptions, index: number): ProcessingOptions {
  if (index === 0) return o;
  const stage = o.chain[index - 1];
  return stage ? { ...o, ...stage } : o;
}

/**
 * The watermark's details mean nothing without a watermark: reset, so that a URL naming
 * them alone shares the cache key of one that does not (the main options or a chained pipeline's).
 */
export function settleWatermark(o: Pick<ProcessingOptions, 'watermark' | 'watermarkImage' | 'watermarkSize' | 'watermarkRotate' | 'watermarkShadow'>): void {
  if (o.watermark !== null) return;
  o.watermarkImage = null;
  o.watermarkSize = null;
  o.watermarkRotate = 0;
  o.watermarkShadow = 0;
}

/**
 * The request's own watermark images, each URL once: sources to load like the image's. Each
 * chained pipeline places its own watermark (https://docs.imgproxy.net/features/chained_pipelines).
 */
export function watermarkUrls(o: ProcessingOptions): string[] {
  const urls = [o, ...o.chain].flatMap((s) => (s.watermark !== null && s.watermarkImage?.kind === 'url' ? [s.watermarkImage.url] : []));
  return [...new Set(urls)];
}
