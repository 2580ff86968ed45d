/**
 * The encoder variables' value sets and grammars (imgproxy's vips/config.go and its Pro docs,
 * https://docs.imgproxy.net/configuration/options, PreviewProxy's BestFormatConfig in
 * src/common/config/types.rs), shared by the schema and by the options model that the URL
 * options `webp_options`, `avif_options`, `autoquality` and `format:best` fill.
 */
import { custom, type Field } from './fields.js';

export const WEBP_COMPRESSIONS = ['lossy', 'near_lossless', 'lossless'] as const;
export type WebpCompression = (typeof WEBP_COMPRESSIONS)[number];
export const WEBP_PRESETS = ['default', 'photo', 'picture', 'drawing', 'icon', 'text'] as const;
export type WebpPreset = (typeof WEBP_PRESETS)[number];
/** libvips' VipsForeignSubsample (https://www.libvips.org/API/current/enum.ForeignSubsample.html): `auto` subsamples below quality 90. */
export const AVIF_SUBSAMPLES = ['auto', 'on', 'off'] as const;
export type AvifSubsample = (typeof AVIF_SUBSAMPLES)[number];
/** imgproxy Pro's autoquality methods pixproxy runs; `ml` needs a neural network it does not ship. */
export const AUTOQUALITY_METHODS = ['none', 'size', 'dssim'] as const;
export type AutoqualityMethod = (typeof AUTOQUALITY_METHODS)[number];

/** Why `ml` is refused, in the startup error and the URL option's 404. */
export const ML_REFUSED = 'the `ml` method predicts quality with a neural network (IMGPROXY_AUTOQUALITY_*_NET), and pixproxy ships none; use `dssim`, which `ml` refines';

/** IMGPROXY_AUTOQUALITY_METHOD: none, size or dssim; `ml` stops startup saying why. */
export function autoqualityMethod(names: readonly string[]): Field<AutoqualityMethod> {
  return custom<AutoqualityMethod>(names, 'none', `one of ${AUTOQUALITY_METHODS.join(', ')} (not ml: ${ML_REFUSED})`, (raw) => {
    const v = raw.trim().toLowerCase();
    return (AUTOQUALITY_METHODS as readonly string[]).includes(v) ? (v as AutoqualityMethod) : undefined;
  });
}

/** The formats PreviewProxy's PP_BEST_FORMAT_PREFERRED_FORMATS knows (loader.rs VALID_PREFERRED_FORMATS). */
export const PP_BEST_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl'] as const;
export type PpBestFormat = (typeof PP_BEST_FORMATS)[number];
export const PP_BEST_DEFAULT: readonly PpBestFormat[] = ['jpeg', 'webp', 'png'];

function splitFormats(raw: string): string[] {
  return raw.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

/**
 * PP_BEST_FORMAT_PREFERRED_FORMATS: unknown names are skipped with a warning, as PreviewProxy
 * does; a list with no known name stops startup (there every `best` request would fail).
 */
export function ppBestFormats(name: string): Field<readonly PpBestFormat[]> {
  return custom<readonly PpBestFormat[]>([name], PP_BEST_DEFAULT, `a comma-separated list of ${PP_BEST_FORMATS.join(', ')}`, (raw) => {
    const known = splitFormats(raw).filter((t): t is PpBestFormat => (PP_BEST_FORMATS as readonly string[]).includes(t));
    return known.length > 0 ? known : undefined;
  });
}

/** The unknown names of PP_BEST_FORMAT_PREFERRED_FORMATS, for the startup warning. */
export function unknownPpBestFormats(raw: string): string[] {
  return splitFormats(raw).filter((t) => !(PP_BEST_FORMATS as readonly string[]).includes(t));
}
