/**
 * Header-only look at the source: format, size, orientation, frames, alpha, depth and the
 * metadata blocks we may carry over. Nothing here decodes pixels (except BMP/ICO, which the
 * decoders module turns into raw pixels because libvips has no loader for them here), so the
 * resolution limits are enforced before any large allocation.
 */
import sharp, { type Metadata } from 'sharp';
import { ProxyError } from '../errors.js';
import type { ImageFormat } from '../options.js';
import { decodeExtra } from './decoders.js';
import type { Depth, Frame } from './frame.js';
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
  depth: Depth;
  /** Single-channel (plus alpha) greyscale source: b-w or grey16 interpretation. */
  grey: boolean;
  exif: Buffer | undefined;
  xmp: string | undefined;
  /** Already-decoded pixels for formats libvips cannot load here (BMP, ICO). */
  decoded: Frame | null;
}

function sniffExtra(buf: Buffer): ImageFormat | null {
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'bmp';
  if (buf.length >= 4 && buf[0] === 0 && buf[1] === 0 && buf[2] === 1 && buf[3] === 0) return 'ico';
  return null;
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

export async function probeSource(source: Buffer): Promise<SourceInfo> {
  const extra = sniffExtra(source);
  if (extra) {
    const px = await decodeExtra(source, extra).catch((err: unknown) => {
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
      decoded: { ...px, depth: 'uchar' },
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
    depth: meta.depth === 'ushort' ? 'ushort' : 'uchar',
    grey: meta.space === 'b-w' || meta.space === 'grey16',
    exif: meta.exif,
    xmp: meta.xmpAsString,
    decoded: null,
  };
}
