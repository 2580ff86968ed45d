/**
 * Output-format choice and encoder settings, following imgproxy's `determineOutputFormat`
 * (processing/processing.go) and the type table in imagetype/defs.go: explicit format,
 * ENFORCE_* overriding it, PREFER_* (Accept negotiation) when none is requested, then the
 * source format or the first suitable IMGPROXY_PREFERRED_FORMATS entry.
 *
 * Which formats can be written is the encoder table below: libvips (through sharp) for JPEG,
 * PNG, WebP, AVIF, GIF and TIFF, and the codecs of ./codecs/ for JPEG XL, BMP, ICO and HEIC.
 * A format whose encoder is unavailable (heif-enc not installed) is never negotiated and an
 * explicit request for it is a 422 saying why. The table is the write side of the format
 * registry (./codecs/types.ts `Codec`); it moves to ./codecs/index.ts with the read side.
 */
import sharp, { type Sharp } from 'sharp';
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import type { ImageFormat, OutputFormat } from '../formats.js';
import type { ProcessingOptions } from '../options.js';
import { bmpEncoder } from './codecs/bmp-encoder.js';
import { heicEncoder, heicEncoderProbe } from './codecs/heic-encoder.js';
import { icoEncoder } from './codecs/ico-encoder.js';
import { JXL_MAX_PIXELS, jxlEncoder } from './codecs/jxl-encoder.js';
import type { Codec } from './codecs/types.js';

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

/** One row of the write side: who writes the format, and a codec when libvips does not. */
export interface EncoderRow extends Codec {
  readonly format: OutputFormat;
  /** Largest result in pixels the encoder can take (JPEG XL's WASM heap). */
  readonly maxPixels?: number;
}

function libvipsRow(format: OutputFormat, writes: boolean): EncoderRow {
  return writes
    ? { format, by: 'libvips (sharp)', available: true }
    : { format, by: 'libvips (sharp)', available: false, unavailableReason: `this libvips build has no ${format} saver` };
}

function buildTable(): readonly EncoderRow[] {
  const f = sharp.format;
  const heic = heicEncoderProbe();
  return [
    libvipsRow('jpeg', f.jpeg.output.buffer),
    libvipsRow('png', f.png.output.buffer),
    libvipsRow('webp', f.webp.output.buffer),
    libvipsRow('gif', f.gif.output.buffer),
    libvipsRow('tiff', f.tiff.output.buffer),
    // sharp's libheif writes AV1 only; HEVC comes from heif-enc below.
    libvipsRow('avif', f.heif.output.buffer),
    { format: 'jxl', by: '@jsquash/jxl (libjxl, WebAssembly)', available: true, encoder: jxlEncoder, maxPixels: JXL_MAX_PIXELS },
    { format: 'bmp', by: 'pixproxy (processing/decoders.ts)', available: true, encoder: bmpEncoder },
    { format: 'ico', by: 'pixproxy (PNG by libvips in an ICO directory)', available: true, encoder: icoEncoder },
    { format: 'heic', by: 'heif-enc (Debian libheif-examples, x265)', available: heic.available, unavailableReason: heic.reason, encoder: heicEncoder },
    { format: 'svg', by: 'none (SVG sources are served sanitised, never written)', available: false, unavailableReason: 'svg output is only possible for SVG sources' },
  ];
}

let table: readonly EncoderRow[] | null = null;

/** The encoder table; built on first use (it asks once whether heif-enc is installed). */
export function encoderTable(): readonly EncoderRow[] {
  table ??= buildTable();
  return table;
}

/** Rows of formats that could be written but cannot here (a tool is missing); SVG is no such format. */
export function unavailableEncoders(): EncoderRow[] {
  return encoderTable().filter((r) => !r.available && r.format !== 'svg');
}

export function encoderFor(format: OutputFormat): EncoderRow {
  const row = encoderTable().find((r) => r.format === format);
  if (!row) throw new TypeError(`no encoder row for ${format}`);
  return row;
}

let writable: ReadonlySet<OutputFormat> | null = null;

/** Formats an encoder is available for. */
export function writableFormats(): ReadonlySet<OutputFormat> {
  writable ??= new Set(encoderTable().filter((r) => r.available).map((r) => r.format));
  return writable;
}

function cannotEncode(format: OutputFormat): ProxyError {
  const reason = encoderTable().find((r) => r.format === format)?.unavailableReason;
  return new ProxyError('UNSUPPORTED_OUTPUT', `format: cannot encode ${format}${reason ? `: ${reason}` : ' with this build'}`);
}

/** IMGPROXY_PREFERRED_FORMATS without the formats we cannot write (imgproxy drops them at startup). */
export function preferredFormats(config: Config, encoders: ReadonlySet<OutputFormat> = writableFormats()): OutputFormat[] {
  const list = (config.processing.preferredFormats as readonly OutputFormat[]).filter((f) => encoders.has(f));
  return list.length > 0 ? list : ['jpeg'];
}

export interface FormatInput {
  sourceFormat: ImageFormat;
  hasAlpha: boolean;
  /** The source would be processed as animated (more than one frame allowed and present). */
  animated: boolean;
}

/** Alpha is expected when the source has it or extend/padding add transparent areas, unless a background flattens everything (imgproxy looks at extend, not extend_aspect_ratio). */
export function expectsAlpha(input: FormatInput, o: ProcessingOptions): boolean {
  return o.background === null && (input.hasAlpha || o.padding !== null || o.extend.enabled);
}

/**
 * The output format for a raster result. Throws UNSUPPORTED_OUTPUT when the chosen format
 * has no encoder (explicit `svg` for a raster source included). With `best`, the format the
 * pipeline prepares the pixels for: one that keeps alpha and has no size limit of its own
 * (PNG), since the candidates are only tried at the end.
 */
export function chooseOutputFormat(input: FormatInput, o: ProcessingOptions, config: Config, encoders: ReadonlySet<OutputFormat> = writableFormats()): OutputFormat {
  if (o.bestFormat !== null && o.format === null) return 'png';
  const preferred = preferredFormats(config, encoders);
  const { animated } = input;
  const expectAlpha = expectsAlpha(input, o);
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
    throw cannotEncode('svg');
  } else if (o.enforceJxl && jxl) format = 'jxl';
  else if (o.enforceAvif && avif) format = 'avif';
  else if (o.enforceWebp) format = 'webp';
  else format = o.format;

  if (!encoders.has(format)) throw cannotEncode(format);
  return format;
}

/**
 * The format actually written for a result of this size: an AVIF under 16 px on a side is PNG
 * (alpha) or JPEG in imgproxy (`smallAvif: 'substitute'`), an AVIF in PreviewProxy; a result
 * larger than its encoder takes (JPEG XL) is RESULT_TOO_BIG when the format was asked for,
 * and the next negotiated choice when it was only negotiated (`rechoose` without it).
 */
export function finalFormat(
  format: OutputFormat,
  size: { width: number; height: number; hasAlpha: boolean },
  o: Pick<ProcessingOptions, 'smallAvif' | 'format'>,
  rechoose: (without: OutputFormat) => OutputFormat = (f) => f,
): OutputFormat {
  if (format === 'avif' && o.smallAvif === 'substitute' && (size.width < 16 || size.height < 16)) return size.hasAlpha ? 'png' : 'jpeg';
  const max = encoderTable().find((r) => r.format === format)?.maxPixels;
  if (max !== undefined && size.width * size.height > max) {
    if (o.format === format) throw new ProxyError('RESULT_TOO_BIG', `format: ${format} results are limited to ${max} pixels by its encoder, got ${size.width}x${size.height}`);
    const other = rechoose(format);
    return other === format ? 'png' : other;
  }
  return format;
}

/**
 * Whether skip_processing applies: the source format is listed and the output is it or
 * automatic. `best` counts as automatic only with IMGPROXY_BEST_FORMAT_ALLOW_SKIPS (imgproxy
 * Pro: "imgproxy will skip processing of SVG and formats listed to skip processing").
 */
export function shouldSkipProcessing(source: ImageFormat, o: ProcessingOptions, config: Config): boolean {
  const listed = (o.skipProcessingFormats as readonly string[]).includes(source);
  const best = o.bestFormat !== null && o.format === null;
  if (best) return o.bestFormat?.allowSkips === true && (source === 'svg' || listed);
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
  /** The pixels have an alpha channel. */
  alpha: boolean;
  /** The pixels are 16 bits per sample (preserve_hdr, PNG and TIFF). */
  sixteen: boolean;
  /** Lossless where the format has a lossless mode (`best` on a simple image). */
  lossless?: boolean;
}

/** sharp's chroma subsampling for an AVIF at this quality (libvips' `auto`: none from 90 up). */
function avifChroma(o: ProcessingOptions, quality: number): '4:2:0' | '4:4:4' {
  if (o.avifSubsample === 'on') return '4:2:0';
  if (o.avifSubsample === 'off') return '4:4:4';
  return quality >= 90 ? '4:4:4' : '4:2:0';
}

/**
 * Applies a libvips encoder and its options to a sharp pipeline: the URL's `*_options`
 * (imgproxy Pro), whose defaults are the IMGPROXY_* encoder variables. Codec formats (JPEG XL,
 * BMP, ICO, HEIC) are not written by sharp: see encode.ts.
 */
export function applyEncoder(pipeline: Sharp, s: EncodeSettings, o: ProcessingOptions, config: Config): Sharp {
  const p = config.processing;
  const anim = s.animation ? { loop: s.animation.loop, delay: s.animation.delay } : {};
  switch (s.format) {
    case 'jpeg': {
      const j = o.jpegOptions;
      return pipeline.jpeg({
        quality: s.quality,
        progressive: j.progressive,
        chromaSubsampling: j.noSubsample ? '4:4:4' : '4:2:0',
        trellisQuantisation: j.trellisQuant,
        overshootDeringing: j.overshootDeringing,
        // imgproxy: "Requires IMGPROXY_JPEG_PROGRESSIVE to be true".
        optimiseScans: j.optimizeScans && j.progressive,
        quantisationTable: j.quantTable,
        optimiseCoding: true,
      });
    }
    case 'png': {
      const g = o.pngOptions;
      return pipeline.png({ progressive: g.interlaced, ...(g.quantize ? { palette: true, colours: g.quantizationColors } : {}) });
    }
    case 'webp': {
      const w = o.webpOptions;
      const lossless = s.lossless === true || w.compression === 'lossless';
      return pipeline.webp({
        quality: s.quality,
        effort: p.webpEffort,
        preset: w.preset,
        smartSubsample: w.smartSubsample,
        lossless,
        nearLossless: !lossless && w.compression === 'near_lossless',
        ...anim,
      });
    }
    case 'avif':
      return pipeline.avif({ quality: s.quality, effort: Math.max(0, Math.min(9, 9 - p.avifSpeed)), chromaSubsampling: avifChroma(o, s.quality), lossless: s.lossless === true });
    case 'gif':
      return pipeline.gif({ ...anim });
    case 'tiff':
      // JPEG compression (where the quality applies) holds neither alpha nor 16-bit samples:
      // such pixels are written losslessly, so the alpha a TIFF can carry is kept.
      return s.alpha || s.sixteen ? pipeline.tiff({ compression: 'deflate', predictor: 'horizontal' }) : pipeline.tiff({ quality: s.quality, compression: 'jpeg' });
    default:
      throw cannotEncode(s.format);
  }
}
