/**
 * What the README says about each imgproxy processing option: arguments, default, status.
 * Names and aliases are NOT here: they come from the option table itself
 * (src/dialects/imgproxy/option-table.ts), so the README cannot drift from what the parser
 * accepts. test/unit/docs/option-table.test.ts fails when an option has no entry here or
 * when the README's generated block is stale (`npx tsx scripts/option-table.ts --write`).
 */

export type OptionStatus = 'working' | 'partial' | 'not supported';

export interface OptionDoc {
  args: string;
  default: string;
  status: OptionStatus;
  /** Why partial / not supported, or a difference worth knowing. */
  note?: string;
}

const PRO = 'imgproxy Pro option, implemented here';

export const OPTION_DOCS: Readonly<Record<string, OptionDoc>> = {
  resize: { args: '`%type:%width:%height:%enlarge:%extend…`', default: '–', status: 'working', note: 'meta-option: resizing_type + size' },
  size: { args: '`%width:%height:%enlarge:%extend…`', default: '–', status: 'working', note: 'meta-option' },
  resizing_type: { args: '`fit` `fill` `fill-down` `force` `auto`', default: '`fit`', status: 'working' },
  resizing_algorithm: { args: '`nearest` `linear` `cubic` `lanczos2` `lanczos3`', default: '`lanczos3`', status: 'working', note: PRO },
  width: { args: 'int ≥ 0', default: '`0` (from height and aspect)', status: 'working' },
  height: { args: 'int ≥ 0', default: '`0`', status: 'working' },
  'min-width': { args: 'int ≥ 0', default: '`0`', status: 'working' },
  'min-height': { args: 'int ≥ 0', default: '`0`', status: 'working' },
  zoom: { args: '`%x:%y` or one float > 0', default: '`1`', status: 'working' },
  dpr: { args: 'float > 0', default: '`1`', status: 'working', note: 'also from client hints (`IMGPROXY_ENABLE_CLIENT_HINTS`)' },
  enlarge: { args: 'bool', default: '`false`', status: 'working', note: 'SVG sources always scale freely' },
  extend: { args: '`%extend:%gravity:%x:%y`', default: '`false:ce:0:0`', status: 'working', note: 'gravity: compass points or `fp`' },
  extend_aspect_ratio: { args: '`%extend:%gravity:%x:%y`', default: '`false:ce:0:0`', status: 'working' },
  gravity: {
    args: '`%type:%x:%y`; `no` `so` `ea` `we` `noea` `nowe` `soea` `sowe` `ce` `sm` `fp:%x:%y`',
    default: '`ce:0:0`',
    status: 'partial',
    note: '`sm` is libvips attention smartcrop; Pro `obj`/`objw` (object detection) are refused with 422 (no detection model)',
  },
  objects_position: {
    args: '`%type:%x:%y`; compass points, `fp:%x:%y`, `prop`',
    default: '`ce:0:0`',
    status: 'partial',
    note: `parsed and validated; it places detected objects, and object detection is refused, so it changes nothing (not in the cache key); ${PRO}`,
  },
  crop: { args: '`%width:%height:%gravity…`', default: '–', status: 'working', note: 'before resize; < 1 relative, ≥ 1 pixels' },
  crop_aspect_ratio: {
    args: '`%ratio:%enlarge`; ratio = width / height, `0` = off',
    default: 'off',
    status: 'working',
    note: `corrects the crop area (the whole image without \`crop\`), shrinking it or, with \`enlarge\`, growing it within the image; the gravity then places the corrected area; ${PRO}`,
  },
  crop_objects: { args: '`%scale_factor:%class…`', default: '–', status: 'not supported', note: 'object detection: 422 (no detection model is shipped in an npm package pixproxy can use); `co` stays contrast\'s alias' },
  trim: {
    args: '`%threshold:%hex_color:%equal_hor:%equal_ver`',
    default: 'off',
    status: 'working',
    note: 'runs on the stored image, before EXIF orientation (as imgproxy); not applied to animations',
  },
  padding: { args: '`%top:%right:%bottom:%left` (CSS shorthand)', default: '`0`', status: 'working', note: 'scales with `dpr`' },
  auto_rotate: { args: 'bool', default: '`IMGPROXY_AUTO_ROTATE` (`true`)', status: 'working' },
  rotate: { args: 'multiple of 90', default: '`0`', status: 'working', note: 'other angles → 404' },
  flip: { args: '`%horizontal:%vertical`', default: '`false:false`', status: 'working' },
  background: { args: '`%r:%g:%b` or `%hex`; empty = off', default: 'off (white when the output has no alpha)', status: 'working' },
  background_alpha: { args: 'float 0–1', default: '`1`', status: 'working', note: `alpha of \`background\` where the output format holds alpha (a JPEG is flattened opaque); ${PRO}` },
  adjust: { args: '`%brightness:%contrast:%saturation`', default: '–', status: 'working', note: `meta-option; ${PRO}` },
  brightness: { args: 'int −255…255', default: '`0`', status: 'working', note: PRO },
  contrast: { args: 'float 0…1000', default: '`1`', status: 'working', note: PRO },
  saturation: { args: 'float 0…1000', default: '`1`', status: 'working', note: PRO },
  monochrome: { args: '`%intensity:%hex`', default: '`0:b3b3b3`', status: 'working', note: PRO },
  duotone: { args: '`%intensity:%hex1:%hex2`', default: '`0:000000:ffffff`', status: 'working', note: `luma mapped from color1 (shadows) to color2 (highlights), blended by intensity; ${PRO}` },
  unsharp_masking: {
    args: '`%mode:%weight:%divider`; mode `auto` `none` `always`',
    default: '`IMGPROXY_UNSHARP_MASKING_MODE` (`none`), `_WEIGHT` (`1`), `_DIVIDER` (`24`)',
    status: 'working',
    note: `3×3 sharpening after the filters; \`auto\` only when downscaled and \`sharpen\` is unset. pixproxy's mode default is \`none\` (imgproxy open source's pixels); Pro's is \`auto\`; ${PRO}`,
  },
  blur_areas: {
    args: '`%sigma:%left:%top:%width:%height…` (fractions of the source, ≤ 64 areas)',
    default: 'off',
    status: 'working',
    note: `areas follow crop, resize, rotate and flip; under a smart crop they are placed as if the crop were centred; ${PRO}`,
  },
  progressive_blur: {
    args: '`%sigma:%direction:%start:%stop`; direction: degrees clockwise or `down` `up` `left` `right`',
    default: 'off (`down`, `0`, `1`)',
    status: 'working',
    note: `blended from four blur levels; ${PRO}`,
  },
  blur_detections: { args: '`%sigma:%class…`', default: '–', status: 'not supported', note: 'object detection: 422 (sigma 0 is accepted and does nothing)' },
  draw_detections: { args: '`%draw:%class…`', default: '–', status: 'not supported', note: 'object detection: 422 (`false` is accepted and does nothing)' },
  colorize: { args: '`%opacity:%hex:%keep_alpha`', default: 'off (`000`, `false`)', status: 'working', note: `a colour layer over the processed image, under the watermark; ${PRO}` },
  gradient: {
    args: '`%opacity:%hex:%direction:%start:%stop`; direction: degrees clockwise or `down` `up` `left` `right`',
    default: 'off (`000`, `down`, `0`, `1`)',
    status: 'working',
    note: `from transparent at start to the colour at stop, over the processed image, under the watermark; ${PRO}`,
  },
  blur: { args: 'sigma, float 0…1000; `0` = off', default: 'off', status: 'working' },
  sharpen: { args: 'sigma, float 0…10; `0` = off', default: 'off', status: 'working' },
  pixelate: { args: 'block size, int ≥ 0', default: 'off', status: 'working' },
  watermark: {
    args: '`%opacity:%position:%x:%y:%scale`; positions: compass points, `re` (tile)',
    default: 'off',
    status: 'partial',
    note: 'image from `watermark_url`/`watermark_text`, else `IMGPROXY_WATERMARK_DATA`/`_PATH`/`_URL`; pixel offsets follow `dpr`; a mark larger than the image is clipped; Pro `ch` (chessboard) is not supported; on animations it is composited per frame (same pixels as imgproxy\'s once-after-joining for a static watermark)',
  },
  watermark_url: {
    args: 'URL-safe base64 of the image URL; empty = the configured watermark',
    default: 'blank',
    status: 'working',
    note: `a source like the image's: \`IMGPROXY_ALLOWED_SOURCES\`, size limit, origin sub-store, part of the cache key; ${PRO}`,
  },
  watermark_text: {
    args: 'URL-safe base64 of text with Pango markup',
    default: 'blank (black, `sans 16`)',
    status: 'partial',
    note: `bundled DejaVu fonts; the markup subset of [docs/watermarks.md](watermarks.md#text) (other tags and attributes → 404); ${PRO}`,
  },
  watermark_size: { args: '`%width:%height`, int ≥ 0; `0` follows the aspect ratio', default: '`0:0`', status: 'working', note: `fit, enlarging; only when the watermark scale is 0; ${PRO}` },
  watermark_rotate: { args: 'degrees clockwise, any angle', default: '`0`', status: 'working', note: PRO },
  watermark_shadow: { args: 'sigma, float 0…100; `0` = off', default: 'off', status: 'partial', note: `a black blur of the mark's alpha under it, 3 sigma wide, no offset (Pro's look is undocumented); ${PRO}` },
  strip_metadata: {
    args: 'bool',
    default: '`IMGPROXY_STRIP_METADATA` (`true`)',
    status: 'partial',
    note: '`false` keeps XMP and the EXIF IFD0 text tags (Artist, Copyright, ImageDescription, Make, Model, Software, DateTime); binary, GPS and sub-IFD EXIF and IPTC are not re-written',
  },
  keep_copyright: {
    args: 'bool',
    default: '`IMGPROXY_KEEP_COPYRIGHT` (`true`)',
    status: 'partial',
    note: 'keeps EXIF Artist and Copyright; IPTC by-line/credit/copyright are lost (sharp cannot write IPTC)',
  },
  strip_color_profile: {
    args: 'bool',
    default: '`IMGPROXY_STRIP_COLOR_PROFILE` (`true`)',
    status: 'partial',
    note: 'pixels are always converted to sRGB; `false` tags the result with an sRGB profile instead of carrying the source profile over; grey results are never tagged',
  },
  style: { args: 'URL-safe base64 CSS', default: '–', status: 'working', note: `put in a \`<style>\` first in an SVG source's root; cleaned like the source's own CSS (no @import, external url(), script URLs) even with IMGPROXY_SANITIZE_SVG off; ${PRO}` },
  dpi: { args: 'float 0–65535', default: '`0`', status: 'working', note: `0 keeps the source's DPI, or writes \`IMGPROXY_STRIP_METADATA_DPI\` (72) when metadata is stripped; ${PRO}` },
  color_profile: {
    args: '`srgb` `p3` `cmyk` or a file name (`.icc`/`.icm` optional) in `IMGPROXY_COLOR_PROFILES_DIR`',
    default: '–',
    status: 'working',
    note: `converts to the profile and embeds it, whatever \`strip_color_profile\` says; ignored where the format holds no profile (CMYK: JPEG and TIFF only); an unknown name → 404; ${PRO}`,
  },
  preserve_hdr: { args: 'bool', default: '`IMGPROXY_PRESERVE_HDR` (`false`)', status: 'working', note: '16-bit kept for PNG and TIFF output; grey stays grey' },
  enforce_thumbnail: {
    args: 'bool',
    default: '`IMGPROXY_ENFORCE_THUMBNAIL` (`false`)',
    status: 'not supported',
    note: 'accepted and ignored: sharp does not expose the embedded HEIF/AVIF thumbnail',
  },
  quality: { args: 'int 0–100', default: '`0` (→ `format_quality` → `IMGPROXY_FORMAT_QUALITY` → `IMGPROXY_QUALITY`)', status: 'working' },
  format_quality: { args: '`%format:%quality:…` pairs', default: '`IMGPROXY_FORMAT_QUALITY`', status: 'working' },
  max_bytes: { args: 'int ≥ 0', default: '`0`', status: 'working', note: 'imgproxy\'s quality-lowering loop; formats with a quality setting only' },
  format: {
    args: '`jpeg`/`jpg` `png` `webp` `avif` `gif` `tiff` `svg` `jxl` `bmp` `ico` `heic` `best`',
    default: 'automatic (see [Format negotiation](formats.md#format-negotiation))',
    status: 'working',
    note: 'also the URL extension; `svg` only for SVG sources; `heic` needs heif-enc (422 without it); `best` (imgproxy Pro) keeps the smallest of the candidates, see [formats.md](formats.md#best-format)',
  },
  autoquality: {
    args: '`%method:%target:%min:%max:%allowed_error`, method `none` `size` `dssim`',
    default: '`IMGPROXY_AUTOQUALITY_*`',
    status: 'working',
    note: `quality searched per image by size or DSSIM; \`ml\` is refused (no neural network ships); ${PRO}`,
  },
  jpeg_options: { args: '`%progressive:%no_subsample:%trellis_quant:%overshoot_deringing:%optimize_scans:%quant_table`', default: '`IMGPROXY_JPEG_*`', status: 'working', note: PRO },
  png_options: { args: '`%interlaced:%quantize:%quantization_colors`', default: '`IMGPROXY_PNG_*`', status: 'working', note: PRO },
  webp_options: { args: '`%compression:%smart_subsample:%preset`', default: '`IMGPROXY_WEBP_*`', status: 'working', note: PRO },
  avif_options: { args: '`%subsample` (`auto` `on` `off`)', default: '`IMGPROXY_AVIF_SUBSAMPLE`', status: 'working', note: PRO },
  page: { args: 'int ≥ 0', default: '`0`', status: 'working', note: `PDF page, multi-page TIFF, animation frame; ${PRO}` },
  pages: { args: 'int ≥ 1', default: '`1`', status: 'working', note: `pages (PDF, TIFF) stacked vertically; ${PRO}` },
  disable_animation: { args: 'bool', default: '`false`', status: 'working', note: PRO },
  video_thumbnail_second: { args: 'seconds ≥ 0', default: '`IMGPROXY_VIDEO_THUMBNAIL_SECOND`', status: 'working', note: `the frame of a video source; past the end, the last; ${PRO}` },
  video_thumbnail_keyframes: { args: 'bool', default: '`IMGPROXY_VIDEO_THUMBNAIL_KEYFRAMES`', status: 'working', note: `the keyframe at or before the second; ${PRO}` },
  skip_processing: { args: '`%format:%format…`', default: '`IMGPROXY_SKIP_PROCESSING_FORMATS`', status: 'working', note: 'SVG is still sanitised' },
  raw: {
    args: 'bool',
    default: '`false`',
    status: 'working',
    note: 'source bytes untouched, not limited by workers; forwards `Range`, `If-None-Match`, `If-Modified-Since`, `Accept-Encoding` (codings we can decode) and passthrough cookies; passes 200/206/304, `Content-Range`, `Accept-Ranges`, `ETag`, `Last-Modified` through, with imgproxy\'s Cache-Control (`IMGPROXY_CACHE_CONTROL_PASSTHROUGH` too), Content-Disposition and canonical `Link`; type sniffed from the first bytes (a non-image is 422), so a compressed body is decoded and served as identity; streamed with backpressure (http and local; object stores are buffered), `IMGPROXY_MAX_SRC_FILE_SIZE` enforced while streaming',
  },
  cachebuster: { args: 'string', default: '–', status: 'working', note: 'part of the cache key' },
  cache_tags: { args: '`%tag1:%tag2…`', default: '–', status: 'working', note: `stored with the result, purged by tag (docs/admin.md), sent per \`IMGPROXY_CACHE_TAGS_FORMAT\`; up to 16 tags of 1–64 visible ASCII characters; ${PRO}` },
  bypass_cache: { args: 'bool', default: '`false`', status: 'working', note: `recomputes from a fresh download and replaces the entry (\`X-Cache: BYPASS\`); needs \`IMGPROXY_ALLOW_BYPASS_CACHE\`, else 403; ${PRO}` },
  expires: { args: 'unix timestamp', default: '–', status: 'working', note: 'past → 404; caps `max-age`' },
  filename: { args: '`%name:%encoded`', default: 'source basename', status: 'working' },
  return_attachment: { args: 'bool', default: '`false`', status: 'working' },
  fallback_image_url: {
    args: 'base64url URL',
    default: '`IMGPROXY_FALLBACK_IMAGE_*`',
    status: 'working',
    note: `the image answered (processed) when the download fails, in place of the configured one; fetched like a source (allowed sources, origin sub-store); when it fails too, the error stands; \`IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL\` applies the base URL and replacements; ${PRO}`,
  },
  preset: { args: '`%name:%name…`', default: '–', status: 'working', note: 'unknown preset → 404' },
  max_src_resolution: { args: 'megapixels', default: '`IMGPROXY_MAX_SRC_RESOLUTION`', status: 'working' },
  max_src_file_size: { args: 'bytes', default: '`IMGPROXY_MAX_SRC_FILE_SIZE`', status: 'working', note: 'decoded bytes; capped by `PIXPROXY_MAX_SRC_BYTES_CEILING`' },
  max_animation_frames: { args: 'int ≥ 1', default: '`IMGPROXY_MAX_ANIMATION_FRAMES`', status: 'working' },
  max_animation_frame_resolution: { args: 'megapixels', default: '`IMGPROXY_MAX_ANIMATION_FRAME_RESOLUTION`', status: 'working' },
  max_result_dimension: { args: 'px', default: '`IMGPROXY_MAX_RESULT_DIMENSION`', status: 'working' },
};

/** imgproxy options this dialect does not accept at all (404 Invalid URL): Pro features. */
export const UNSUPPORTED_OPTIONS: readonly { names: string; why: string }[] = [
  { names: '`video_thumbnail_tile` `video_thumbnail_animation` `hashsum`', why: 'Pro video tiles and animation, and hashsum' },
];

export interface InfoOptionDoc {
  args: string;
  default: string;
  note?: string;
}

/** `/info` options (imgproxy Pro's getting_info), keyed by canonical name. */
export const INFO_OPTION_DOCS: Readonly<Record<string, InfoOptionDoc>> = {
  size: { args: 'bool', default: 'on', note: 'source byte length' },
  format: { args: 'bool', default: 'on' },
  dimensions: { args: 'bool', default: 'on', note: '`width`, `height` orientation-corrected, and `orientation`' },
  exif: { args: '`%enabled:%canonical_names`', default: 'on' },
  iptc: { args: 'bool', default: 'on', note: 'with Photoshop resolution' },
  xmp: { args: 'bool', default: 'on' },
  video_meta: { args: 'bool', default: 'on', note: 'video sources: `video_meta` (container tags), `video_streams`, `duration`' },
  colorspace: { args: 'bool', default: 'off' },
  bands: { args: 'bool', default: 'off' },
  sample_format: { args: 'bool', default: 'off' },
  pages_number: { args: 'bool', default: 'off' },
  alpha: { args: '`%alpha:%check_transparency`', default: 'off' },
  palette: { args: 'colours, 0 or 2–256', default: 'off' },
  average: { args: '`%average:%ignore_transparent`', default: 'off' },
  dominant_colors: { args: '`%enabled:%build_missed`', default: 'off' },
  blurhash: { args: '`%x_components:%y_components` (1–9)', default: 'off' },
  thumb_hash: { args: 'bool', default: 'off', note: 'base64' },
  calc_hashsums: { args: '`md5:sha1:sha256:sha512`', default: 'none' },
  page: { args: 'int ≥ 0', default: '`0`' },
  cachebuster: { args: 'string', default: '–' },
  cache_tags: { args: '`%tag1:%tag2…`', default: '–', note: 'stored with the cached answer, purged by tag' },
  bypass_cache: { args: 'bool', default: '`false`', note: 'recomputes and replaces the cached answer; needs `IMGPROXY_ALLOW_BYPASS_CACHE`' },
  expires: { args: 'unix timestamp', default: '–', note: 'past → 404' },
  preset: { args: '`%name…`', default: '–', note: 'accepted and logged; presets are processing options and are not expanded for /info' },
  max_src_resolution: { args: 'megapixels', default: '`IMGPROXY_MAX_SRC_RESOLUTION`', note: 'security option; bounds the fields that decode pixels' },
  max_src_file_size: { args: 'bytes', default: '`IMGPROXY_MAX_SRC_FILE_SIZE`', note: 'security option; decoded bytes, capped by `PIXPROXY_MAX_SRC_BYTES_CEILING`' },
};

/** imgproxy /info options not accepted here (404). */
export const UNSUPPORTED_INFO_OPTIONS = '`detect_objects` `classify` `crop` `objects_position` `perceptual_hash` `video_thumbnail_*` `hashsum`';
