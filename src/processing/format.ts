/**
 * Output-format choice and encoder settings, following imgproxy's `determineOutputFormat`
 * (processing/processing.go) and the type table in imagetype/defs.go: explicit format,
 * ENFORCE_* overriding it, PREFER_* (Accept negotiation) when none is requested, then the
 * source format or the first suitable IMGPROXY_PREFERRED_FORMATS entry. Encoders this sharp
 * build lacks (JXL, HEIC/HEVC, BMP, ICO, SVG) are never chosen by negotiation and fail
 * as UNSUPPORTED_OUTPUT when asked for explicitly.
 */
import sharp, { type Sharp } from 'sharp';
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import type { ImageFormat, OutputFormat, ProcessingOptions } from '../options.js';

interface Traits {
  alpha: boolean;
  animationSave: boolean;
  quality: boolean;
  colourProfile: boolean;
}

/** imgproxy's per-type capabilities (imagetype/defs.go). */
export const FORMAT_TRAITS: Readonly<Record<OutputFormat, Traits>> = {
  jpeg: { alpha: false, animationSave: false, quality: true, colourProfile: true },
  png: { alpha: true, animationSave: false, quality: false, colourProfile: true },
  webp: { alpha: true, animationSave: true, quality: true, colourProfile: true },
  avif: { alpha: true, animationSave: false, quality: true, colourProfile: true },
  gif: { alpha: true, animationSave: true, quality: false, colourProfile: false },
  tiff: { alpha: true, animationSave: false, quality: true, colourProfile: true },
  svg: { alpha: true, animationSave: false, quality: false, colourProfile: false },
  jxl: { alpha: true, animationSave: false, quality: true, colourProfile: true },
  bmp: { alpha: true, animationSave: false, quality: false, colourProfile: false },
  ico: { alpha: true, animationSave: false, quality: false, colourProfile: false },
  heic: { alpha: true, animationSave: false, quality: true, colourProfile: true },
};

/** Formats this libvips build can write to a buffer. HEIF output is AV1-only (no HEVC). */
function probeEncoders(): ReadonlySet<OutputFormat> {
  const out = new Set<OutputFormat>();
  const f = sharp.format;
  if (f.jpeg.output.buffer) out.add('jpeg');
  if (f.png.output.buffer) out.add('png');
  if (f.webp.output.buffer) out.add('webp');
  if (f.gif.output.buffer) out.add('gif');
  if (f.tiff.output.buffer) out.add('tiff');
  if (f.heif.output.buffer) out.add('avif');
  if (f.jxl.output.buffer) out.add('jxl');
  return out;
}

export const ENCODERS: ReadonlySet<OutputFormat> = probeEncoders();

/** IMGPROXY_PREFERRED_FORMATS without the formats we cannot write (imgproxy drops them at startup). */
export function preferredFormats(config: Config, encoders: ReadonlySet<OutputFormat> = ENCODERS): OutputFormat[] {
  const list = (config.processing.preferredFormats as readonly OutputFormat[]).filter((f) => encoders.has(f));
  return list.length > 0 ? list : ['jpeg'];
}

export interface FormatInput {
  sourceFormat: ImageFormat;
  hasAlpha: boolean;
  /** The source would be processed as animated (more than one frame allowed and present). */
  animated: boolean;
}

/**
 * The output format for a raster result. Throws UNSUPPORTED_OUTPUT when the chosen format
 * has no encoder (explicit `svg` for a raster source included).
 */
export function chooseOutputFormat(input: FormatInput, o: ProcessingOptions, config: Config, encoders: ReadonlySet<OutputFormat> = ENCODERS): OutputFormat {
  const preferred = preferredFormats(config, encoders);
  const { animated } = input;
  // Alpha is expected when the source has it or extend/padding add transparent areas, unless
  // a background flattens everything (imgproxy looks at extend, not extend_aspect_ratio).
  const expectAlpha = o.background === null && (input.hasAlpha || o.padding !== null || o.extend.enabled);
  const jxl = encoders.has('jxl') && !animated;
  const avif = encoders.has('avif') && !animated;

  let format: OutputFormat;
  if (o.format === null) {
    if ((o.preferJxl || o.enforceJxl) && jxl) format = 'jxl';
    else if ((o.preferAvif || o.enforceAvif) && avif) format = 'avif';
    else if (o.preferWebp || o.enforceWebp) format = 'webp';
    else if ((preferred as readonly string[]).includes(input.sourceFormat)) format = input.sourceFormat as OutputFormat;
    else format = preferred.find((f) => (!animated || FORMAT_TRAITS[f].animationSave) && (!expectAlpha || FORMAT_TRAITS[f].alpha)) ?? (preferred[0] as OutputFormat);
  } else if (o.format === 'svg') {
    throw new ProxyError('UNSUPPORTED_OUTPUT', 'format: svg output is only possible for SVG sources');
  } else if (o.enforceJxl && jxl) format = 'jxl';
  else if (o.enforceAvif && avif) format = 'avif';
  else if (o.enforceWebp) format = 'webp';
  else format = o.format;

  if (!encoders.has(format)) throw new ProxyError('UNSUPPORTED_OUTPUT', `format: cannot encode ${format} with this build`);
  return format;
}

/** AVIF cannot be smaller than 16 px on a side: imgproxy silently switches to PNG or JPEG. */
export function finalFormat(format: OutputFormat, width: number, height: number, hasAlpha: boolean): OutputFormat {
  if (format === 'avif' && (width < 16 || height < 16)) return hasAlpha ? 'png' : 'jpeg';
  return format;
}

/** Whether skip_processing applies: the source format is listed and the output is it or auto. */
export function shouldSkipProcessing(source: ImageFormat, o: ProcessingOptions, config: Config): boolean {
  const listed = (o.skipProcessingFormats as readonly string[]).includes(source);
  if (source === 'svg') {
    if (o.format === 'svg') return true;
    if (o.format === null) return !config.processing.alwaysRasterizeSvg || listed;
    return false;
  }
  return listed && (o.format === null || o.format === source);
}

/** Quality: option q → option fq[fmt] → IMGPROXY_FORMAT_QUALITY[fmt] → IMGPROXY_QUALITY. */
export function resolveQuality(format: OutputFormat, o: ProcessingOptions, config: Config): number {
  if (o.quality > 0) return o.quality;
  const fq = o.formatQuality[format];
  if (fq !== undefined && fq > 0) return fq;
  const cq = config.processing.formatQuality[format];
  if (cq !== undefined && cq > 0) return cq;
  return config.processing.quality;
}

export interface EncodeSettings {
  format: OutputFormat;
  quality: number;
  /** Animation data for GIF/WebP output; null for still images. */
  animation: { loop: number; delay: number[] } | null;
}

/** Applies the encoder and its options (from configuration) to a sharp pipeline. */
export function applyEncoder(pipeline: Sharp, s: EncodeSettings, config: Config): Sharp {
  const p = config.processing;
  const anim = s.animation ? { loop: s.animation.loop, delay: s.animation.delay } : {};
  switch (s.format) {
    case 'jpeg':
      // mozjpeg's tuning without its forced progressive scan, so IMGPROXY_JPEG_PROGRESSIVE decides.
      return pipeline.jpeg({
        quality: s.quality,
        progressive: p.jpegProgressive,
        optimiseScans: p.jpegProgressive,
        trellisQuantisation: true,
        overshootDeringing: true,
        quantisationTable: 3,
        optimiseCoding: true,
      });
    case 'png':
      return pipeline.png({
        progressive: p.pngInterlaced,
        ...(p.pngQuantize ? { palette: true, colours: p.pngQuantizationColors } : {}),
      });
    case 'webp':
      return pipeline.webp({ quality: s.quality, effort: p.webpEffort, preset: p.webpPreset, ...anim });
    case 'avif':
      return pipeline.avif({ quality: s.quality, effort: Math.max(0, Math.min(9, 9 - p.avifSpeed)) });
    case 'gif':
      return pipeline.gif({ ...anim });
    case 'tiff':
      return pipeline.tiff({ quality: s.quality });
    case 'jxl':
      return pipeline.jxl({ quality: s.quality });
    default:
      throw new ProxyError('UNSUPPORTED_OUTPUT', `format: cannot encode ${s.format} with this build`);
  }
}
