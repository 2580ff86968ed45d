/**
 * The imgproxy processing-option table: one entry per option with its canonical name,
 * aliases and an `apply` that parses the arguments onto ProcessingOptions, assembled from
 * one module per option family under ./options/ (geometry, effects, watermark, output,
 * source, request). Adding an option is adding an entry to its family. Semantics follow
 * imgproxy's options/parser (apply.go, parse.go): too many arguments, a bad number or a bad
 * enum value is INVALID_URL; an invalid boolean is false; an empty optional argument keeps
 * the current value. Every number goes through `num`, whose ranges are in arg-ranges.ts (add
 * one there with a new numeric argument).
 */
import { EFFECT_OPTIONS } from './options/effects.js';
import { GEOMETRY_OPTIONS } from './options/geometry.js';
import { OUTPUT_OPTIONS } from './options/output.js';
import { REQUEST_OPTIONS } from './options/request.js';
import { SOURCE_OPTIONS, STYLE_OPTION } from './options/source.js';
import type { OptionSpec } from './options/spec.js';
import { WATERMARK_MARK_OPTIONS, WATERMARK_OPTION } from './options/watermark.js';

/**
 * The families in the order of docs/processing-options.md (and of imgproxy's docs), but for
 * `style`, which has stood right after `watermark` since it was added.
 */
const OPTIONS: readonly OptionSpec[] = [
  ...GEOMETRY_OPTIONS,
  ...EFFECT_OPTIONS,
  WATERMARK_OPTION,
  STYLE_OPTION,
  ...WATERMARK_MARK_OPTIONS,
  ...OUTPUT_OPTIONS,
  ...SOURCE_OPTIONS,
  ...REQUEST_OPTIONS,
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
