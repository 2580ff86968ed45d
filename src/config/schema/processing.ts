/**
 * The schema's `processing` section: results' caching header, qualities and formats (format
 * negotiation, `best`, the encoders' settings, autoquality), metadata and colour handling,
 * sharpening, the watermark and fallback images.
 */
import { AVIF_SUBSAMPLES, autoqualityMethod, WEBP_COMPRESSIONS, WEBP_PRESETS } from '../encoder-fields.js';
import { bool, custom, float, int, map, oneOf, str, type SchemaSection } from '../fields.js';
import { OUTPUT_FORMATS } from '../../formats.js';

const FORMAT_ALIASES: Readonly<Record<string, string>> = { jpg: 'jpeg' };

/** imgproxy Pro's IMGPROXY_UNSHARP_MASKING_MODE values (and the `unsharp_masking` option's). */
export const UNSHARP_MASKING_MODES = ['auto', 'none', 'always'] as const;

function positive(raw: string): number | undefined {
  const n = Number(raw.trim());
  return raw.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function parseFormatList(raw: string): string[] | undefined {
  const out: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const f = FORMAT_ALIASES[item] ?? item;
    if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) return undefined;
    out.push(f);
  }
  return out;
}

function parseQuality(v: string): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 100 ? n : undefined;
}

/** imgproxy accepts 0 (the original error's status) or a valid status code. */
function parseHttpCode(raw: string): number | undefined {
  const v = raw.trim();
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n === 0 || (n >= 100 && n <= 599) ? n : undefined;
}

export const processing = {
  ttl: int(['IMGPROXY_TTL'], 31_536_000, { min: 0 })
    .describe('Seconds in `Cache-Control: max-age` of results (capped by `expires`); 0 = `no-cache`.'),
  quality: int(['IMGPROXY_QUALITY'], 80, { min: 1, max: 100 })
    .describe('Encoding quality when neither the URL nor IMGPROXY_FORMAT_QUALITY sets one.'),
  formatQuality: map<number>(['IMGPROXY_FORMAT_QUALITY'], { webp: 79, avif: 63, jxl: 77 }, 'format=quality pairs, e.g. jpeg=80,avif=60', parseQuality)
    .describe('Default quality per output format, before IMGPROXY_QUALITY.'),
  preferredFormats: custom(['IMGPROXY_PREFERRED_FORMATS'], ['jpeg', 'png', 'gif'] as readonly string[], `a comma-separated list of ${OUTPUT_FORMATS.join(', ')}`, parseFormatList)
    .describe('Output formats used when none is asked: the source\'s if listed, else the first that fits (alpha, animation); unencodable ones are dropped.'),
  skipProcessingFormats: custom(['IMGPROXY_SKIP_PROCESSING_FORMATS'], [] as readonly string[], 'a comma-separated list of formats', parseFormatList)
    .describe('Source formats served unprocessed when the output format is theirs or automatic. Default of `skip_processing`.'),
  autoRotate: bool(['IMGPROXY_AUTO_ROTATE'], true)
    .describe('Rotates by the EXIF orientation. Default of `auto_rotate`.'),
  stripMetadata: bool(['IMGPROXY_STRIP_METADATA'], true)
    .describe('Results carry no EXIF or XMP (but see IMGPROXY_KEEP_COPYRIGHT). Default of `strip_metadata`.'),
  keepCopyright: bool(['IMGPROXY_KEEP_COPYRIGHT'], true)
    .describe('Keeps the EXIF Artist and Copyright tags when metadata is stripped. Default of `keep_copyright`.'),
  stripColorProfile: bool(['IMGPROXY_STRIP_COLOR_PROFILE'], true)
    .describe('Results carry no ICC profile (pixels are sRGB either way; off = tagged sRGB). Default of `strip_color_profile`.'),
  preserveHdr: bool(['IMGPROXY_PRESERVE_HDR'], false)
    .describe('Keeps 16-bit sources at 16 bits where the output format can hold it. Default of `preserve_hdr`.'),
  useLinearColorspace: bool(['IMGPROXY_USE_LINEAR_COLORSPACE'], false)
    .describe('Resizes in linear light (libvips scRGB), then back to sRGB: truer averages of bright and dark pixels, slower. Shrink-on-load still decodes in sRGB (IMGPROXY_DISABLE_SHRINK_ON_LOAD).'),
  unsharpMaskingMode: oneOf(['IMGPROXY_UNSHARP_MASKING_MODE'], UNSHARP_MASKING_MODES, 'none')
    .describe('imgproxy Pro\'s unsharp masking: `auto` sharpens downscaled results unless `sharpen` is set, `always` every result, `none` never. Default `none` keeps imgproxy\'s open-source pixels (Pro\'s default is `auto`). Default of `unsharp_masking`.'),
  unsharpMaskingWeight: custom(['IMGPROXY_UNSHARP_MASKING_WEIGHT'], 1, 'a number > 0', positive)
    .describe('How much neighbouring pixels weigh in unsharp masking; greater is sharper.'),
  unsharpMaskingDivider: custom(['IMGPROXY_UNSHARP_MASKING_DIVIDER'], 24, 'a number > 0', positive)
    .describe('Unsharp masking strength divider; smaller is sharper.'),
  stripMetadataDpi: custom(['IMGPROXY_STRIP_METADATA_DPI'], 72, 'a number > 0', positive)
    .describe('DPI written into results whose metadata is stripped, unless `dpi` sets one (imgproxy Pro).'),
  colorProfilesDir: str(['IMGPROXY_COLOR_PROFILES_DIR'], '/usr/share/color/icc')
    .describe('Directory of the ICC profiles `color_profile` may name (file name, `.icc`/`.icm` optional), besides the built-in `srgb`, `p3` and `cmyk`.'),
  disableShrinkOnLoad: bool(['IMGPROXY_DISABLE_SHRINK_ON_LOAD'], false)
    .describe('Turns off shrink-on-load (decoding JPEG/WebP at 1/2, 1/4 or 1/8 when only a resize follows): slower, slightly sharper.'),
  autoWebp: bool(['IMGPROXY_AUTO_WEBP', 'IMGPROXY_ENABLE_WEBP_DETECTION'], false)
    .describe('Prefers WebP when the client\'s Accept lists it and no format is asked; adds `Vary: Accept`.'),
  autoAvif: bool(['IMGPROXY_AUTO_AVIF', 'IMGPROXY_ENABLE_AVIF_DETECTION'], false)
    .describe('Prefers AVIF (over WebP) when Accept lists it and no format is asked; adds `Vary: Accept`.'),
  autoJxl: bool(['IMGPROXY_AUTO_JXL'], false)
    .describe('Prefers JPEG XL (over AVIF and WebP) when Accept lists it and no format is asked; adds `Vary: Accept`.'),
  enforceWebp: bool(['IMGPROXY_ENFORCE_WEBP'], false)
    .describe('Serves WebP to clients that accept it even when the URL asks for another format.'),
  enforceAvif: bool(['IMGPROXY_ENFORCE_AVIF'], false)
    .describe('Serves AVIF to clients that accept it even when the URL asks for another format.'),
  enforceJxl: bool(['IMGPROXY_ENFORCE_JXL'], false)
    .describe('Serves JPEG XL to clients that accept it even when the URL asks for another format.'),
  enableClientHints: bool(['IMGPROXY_ENABLE_CLIENT_HINTS'], false)
    .describe('Takes `dpr` and `width` defaults from the Sec-CH-DPR/DPR and Sec-CH-Width/Width headers; adds them to Vary.'),
  avifSpeed: int(['IMGPROXY_AVIF_SPEED'], 8, { min: 0, max: 9 })
    .describe('AVIF encoder speed, 0 (slow, small) to 9 (fast); sharp\'s effort is 9 − speed.'),
  avifSubsample: oneOf(['IMGPROXY_AVIF_SUBSAMPLE'], AVIF_SUBSAMPLES, 'auto')
    .describe('AVIF chroma subsampling: `auto` (4:2:0 below quality 90, as libvips), `on` (4:2:0) or `off` (4:4:4). Default of `avif_options`.'),
  jxlEffort: int(['IMGPROXY_JXL_EFFORT'], 4, { min: 1, max: 9 })
    .describe('JPEG XL encoder effort, 1 (fast) to 9 (slow, small).'),
  webpEffort: int(['IMGPROXY_WEBP_EFFORT'], 4, { min: 0, max: 6 })
    .describe('WebP encoder effort, 0 (fast) to 6 (slow, small).'),
  webpPreset: oneOf(['IMGPROXY_WEBP_PRESET'], WEBP_PRESETS, 'default')
    .describe('WebP encoder preset. Default of `webp_options`.'),
  webpCompression: oneOf(['IMGPROXY_WEBP_COMPRESSION'], WEBP_COMPRESSIONS, 'lossy')
    .describe('WebP compression: `lossy`, `near_lossless` (lossless on slightly altered pixels, at the quality) or `lossless`. Default of `webp_options`.'),
  webpSmartSubsample: bool(['IMGPROXY_WEBP_SMART_SUBSAMPLE'], false)
    .describe('Sharper RGB→YUV conversion for lossy WebP (slower, fewer colour fringes). Default of `webp_options`.'),
  jpegProgressive: bool(['IMGPROXY_JPEG_PROGRESSIVE'], false)
    .describe('Writes progressive JPEGs. Default of `jpeg_options`.'),
  jpegNoSubsample: bool(['IMGPROXY_JPEG_NO_SUBSAMPLE'], false)
    .describe('Writes JPEG without chroma subsampling (4:4:4): better colour edges, larger files. Default of `jpeg_options`.'),
  jpegTrellisQuant: bool(['IMGPROXY_JPEG_TRELLIS_QUANT'], false)
    .describe('mozjpeg trellis quantisation of each 8×8 block: smaller files, slower. Default of `jpeg_options`.'),
  jpegOvershootDeringing: bool(['IMGPROXY_JPEG_OVERSHOOT_DERINGING'], false)
    .describe('mozjpeg overshooting of extreme samples, against ringing around black text on white. Default of `jpeg_options`.'),
  jpegOptimizeScans: bool(['IMGPROXY_JPEG_OPTIMIZE_SCANS'], false)
    .describe('Splits the DCT spectrum into separate scans (smaller, slower); only with progressive JPEG. Default of `jpeg_options`.'),
  jpegQuantTable: int(['IMGPROXY_JPEG_QUANT_TABLE'], 0, { min: 0, max: 8 })
    .describe('mozjpeg quantisation table 0–8 (0: JPEG Annex K, 3: ImageMagick\'s, …). Default of `jpeg_options`.'),
  pngInterlaced: bool(['IMGPROXY_PNG_INTERLACED'], false)
    .describe('Writes interlaced (Adam7) PNGs. Default of `png_options`.'),
  pngQuantize: bool(['IMGPROXY_PNG_QUANTIZE'], false)
    .describe('Writes palette PNGs with at most IMGPROXY_PNG_QUANTIZATION_COLORS colours (libimagequant). Default of `png_options`.'),
  pngQuantizationColors: int(['IMGPROXY_PNG_QUANTIZATION_COLORS'], 256, { min: 2, max: 256 })
    .describe('Palette size when IMGPROXY_PNG_QUANTIZE is on. Default of `png_options`.'),
  autoqualityMethod: autoqualityMethod(['IMGPROXY_AUTOQUALITY_METHOD'])
    .describe('How quality is chosen per image: `none` (fixed), `size` (the highest quality within IMGPROXY_AUTOQUALITY_TARGET bytes) or `dssim` (the lowest quality whose DSSIM is within the target). Default of `autoquality`.'),
  autoqualityTarget: float(['IMGPROXY_AUTOQUALITY_TARGET'], 0.02, { min: 0 })
    .describe('The autoquality target: bytes for `size`, DSSIM for `dssim`.'),
  autoqualityMin: int(['IMGPROXY_AUTOQUALITY_MIN'], 70, { min: 1, max: 100 })
    .describe('The lowest quality autoquality may pick.'),
  autoqualityFormatMin: map<number>(['IMGPROXY_AUTOQUALITY_FORMAT_MIN'], { avif: 40 }, 'format=quality pairs, e.g. avif=40,webp=60', parseQuality)
    .describe('IMGPROXY_AUTOQUALITY_MIN per output format.'),
  autoqualityMax: int(['IMGPROXY_AUTOQUALITY_MAX'], 80, { min: 1, max: 100 })
    .describe('The highest quality autoquality may pick.'),
  autoqualityFormatMax: map<number>(['IMGPROXY_AUTOQUALITY_FORMAT_MAX'], { avif: 50 }, 'format=quality pairs, e.g. avif=50,webp=75', parseQuality)
    .describe('IMGPROXY_AUTOQUALITY_MAX per output format.'),
  autoqualityAllowedError: float(['IMGPROXY_AUTOQUALITY_ALLOWED_ERROR'], 0.001, { min: 0, max: 1 })
    .describe('How far from the DSSIM target a result may be (`dssim`).'),
  autoqualityMaxResolution: float(['IMGPROXY_AUTOQUALITY_MAX_RESOLUTION'], 0, { min: 0 })
    .describe('Megapixels above which autoquality is not used (each try is an encode); 0 = no limit.'),
  bestFormatComplexityThreshold: float(['IMGPROXY_BEST_FORMAT_COMPLEXITY_THRESHOLD'], 5.5, { min: 0, max: 100 })
    .describe('`format:best`: the edge density (% of edge pixels) from which an image counts as complex and lossless formats are not tried.'),
  bestFormatMaxResolution: float(['IMGPROXY_BEST_FORMAT_MAX_RESOLUTION'], 0, { min: 0 })
    .describe('`format:best`: megapixels above which no format is tried and the first fitting candidate is used; 0 = always try.'),
  bestFormatByDefault: bool(['IMGPROXY_BEST_FORMAT_BY_DEFAULT'], false)
    .describe('Uses `best` when a URL asks for no format (instead of the source\'s or a preferred format).'),
  bestFormatAllowSkips: bool(['IMGPROXY_BEST_FORMAT_ALLOW_SKIPS'], false)
    .describe('With `best`, SVG sources and IMGPROXY_SKIP_PROCESSING_FORMATS are served unprocessed, as for an automatic format.'),
  alwaysRasterizeSvg: bool(['IMGPROXY_ALWAYS_RASTERIZE_SVG'], false)
    .describe('Rasterises SVG sources even when no output format is asked (otherwise they are served as SVG).'),
  watermarkData: str(['IMGPROXY_WATERMARK_DATA'])
    .describe('Watermark image as base64; wins over IMGPROXY_WATERMARK_PATH and _URL. Read at startup.'),
  watermarkPath: str(['IMGPROXY_WATERMARK_PATH'])
    .describe('Watermark image file, read at startup; wins over IMGPROXY_WATERMARK_URL.'),
  watermarkUrl: str(['IMGPROXY_WATERMARK_URL'])
    .describe('Watermark image URL, fetched once at startup like a source.'),
  watermarkOpacity: float(['IMGPROXY_WATERMARK_OPACITY'], 1, { min: 0, max: 1 })
    .describe('Base opacity, multiplied by the `watermark` option\'s opacity.'),
  fallbackImageData: str(['IMGPROXY_FALLBACK_IMAGE_DATA', 'PP_FALLBACK_IMAGE_DATA'])
    .describe('Image (base64) answered instead of an error when the source cannot be fetched (which failures, per dialect: docs/previewproxy.md); wins over _PATH and _URL. Read at startup.'),
  fallbackImagePath: str(['IMGPROXY_FALLBACK_IMAGE_PATH', 'PP_FALLBACK_IMAGE_PATH'])
    .describe('Fallback image file, read once at startup; wins over _URL.'),
  fallbackImageUrl: str(['IMGPROXY_FALLBACK_IMAGE_URL', 'PP_FALLBACK_IMAGE_URL'])
    .describe('Fallback image URL, fetched once at startup like a source (a failure stops startup). A request\'s `fallback_image_url` option (imgproxy Pro) replaces it for that request.'),
  fallbackImagePreprocessUrl: bool(['IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL'], false)
    .describe('IMGPROXY_FALLBACK_IMAGE_URL and the `fallback_image_url` option go through IMGPROXY_URL_REPLACEMENTS and IMGPROXY_BASE_URL like source URLs (imgproxy Pro\'s variable).'),
  fallbackImageHttpCode: custom(['IMGPROXY_FALLBACK_IMAGE_HTTP_CODE', 'PP_FALLBACK_IMAGE_HTTP_CODE'], 200, '0 or an HTTP status from 100 to 599', parseHttpCode)
    .describe('Status of fallback answers; 0 = the status the error would have had (in the route\'s dialect).'),
  fallbackImageTtl: int(['IMGPROXY_FALLBACK_IMAGE_TTL', 'PP_FALLBACK_IMAGE_TTL'], 0, { min: 0 })
    .describe('Seconds in the `max-age` of fallback answers, and how long the cache keeps them; 0 = IMGPROXY_TTL on imgproxy routes, PP_TTL on PreviewProxy routes.'),
} as const satisfies SchemaSection;
