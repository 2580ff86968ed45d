/**
 * Header-only look at the source: format, size, orientation, frames, alpha, depth and the
 * metadata blocks we may carry over. Nothing here decodes pixels before the caller's size check
 * has passed (BMP/ICO are decoded by the decoders module, libvips has no loader for them here,
 * but only after `check` accepted the size their header gives), so the resolution limits are
 * enforced before any large allocation.
 */
import sharp, { type Metadata } from 'sharp';
import { ProxyError } from '../errors.js';
import type { ImageFormat } from '../options.js';
import { decodeExtra, probeExtra, sniffExtraFormat, type RawImage } from './decoders.js';
import type { Depth } from './frame.js';
import { vips } from './sharp-setup.js';

export interface SourceInfo {
  format: ImageFormat;
  /** Size of one frame as stored (EXIF orientation not applied). */
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number;
  pages: number;
  delay: number[] | undefined;
  loop: number;
  hasAlpha: boolean;
  /** 'ushort' for any source of more than 8 bits a sample (16-bit, 32-bit float…). */
  depth: Depth;
  /** Pixels per inch the source records, if any. */
  density?: number | undefined;
  /** Single-channel (plus alpha) greyscale source: b-w or grey16 interpretation. */
  grey: boolean;
  exif: Buffer | undefined;
  xmp: string | undefined;
  /** Already-decoded pixels for formats libvips cannot load here (BMP, ICO). */
  decoded: RawImage | null;
}

function formatOf(meta: Metadata): ImageFormat {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
    case 'svg':
      return meta.format;
    case 'heif':
      // libheif reads both; only AV1 decodes with this build (HEVC fails at decode time).
      return meta.compression === 'av1' ? 'avif' : 'heic';
    default:
      throw new ProxyError('UNSUPPORTED_IMAGE', `source: format ${String(meta.format)} is not supported`);
  }
}

/**
 * `check(width, height)` sees the size of a BMP/ICO from its header before it is decoded, and
 * throws to refuse it; other formats are not decoded here at all.
 */
export async function probeSource(source: Buffer, check: (width: number, height: number) => void): Promise<SourceInfo> {
  const extra = sniffExtraFormat(source);
  if (extra) {
    const size = probeExtra(source, extra);
    if (size) check(size.width, size.height);
    const px = await decodeExtra(source, extra).catch((err: unknown) => {
      if (err instanceof ProxyError) throw err;
      throw new ProxyError('UNSUPPORTED_IMAGE', `source: cannot decode ${extra}`, { cause: err });
    });
    if (!px) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${extra} is not supported`);
    return {
      format: extra,
      width: px.width,
      height: px.height,
      orientation: 1,
      pages: 1,
      delay: undefined,
      loop: 0,
      hasAlpha: px.channels === 2 || px.channels === 4,
      depth: 'uchar',
      grey: false,
      exif: undefined,
      xmp: undefined,
      decoded: px,
    };
  }
  const meta = await vips(sharp(source, { limitInputPixels: false }).metadata(), 'source');
  const format = formatOf(meta);
  return {
    format,
    width: meta.width,
    height: meta.pageHeight ?? meta.height,
    orientation: meta.orientation ?? 1,
    pages: Math.max(1, meta.pages ?? 1),
    delay: meta.delay,
    loop: meta.loop ?? 0,
    hasAlpha: meta.hasAlpha,
    // preserve_hdr keeps float and 32-bit sources at 16 bits, as imgproxy does
    // (processing/colorspace_test.go 32-bpp-linear-tiff-rgb16).
    depth: meta.depth === 'uchar' || meta.depth === 'char' ? 'uchar' : 'ushort',
    density: meta.density,
    grey: meta.space === 'b-w' || meta.space === 'grey16',
    exif: meta.exif,
    xmp: meta.xmpAsString,
    decoded: null,
  };
}
