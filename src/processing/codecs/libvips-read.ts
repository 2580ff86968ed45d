/**
 * The formats libvips reads itself, as shipped with sharp (JPEG, PNG, WebP, GIF, TIFF, SVG,
 * AVIF; https://sharp.pixelplumbing.com/api-constructor): their decoder hands sharp the source
 * bytes, and the probe is sharp's header read. `formatOf` is the one mapping of sharp's
 * metadata to our format names.
 */
import sharp, { type Metadata } from 'sharp';
import type { ImageFormat } from '../../formats.js';
import { vips } from '../sharp-setup.js';
import type { Codec, Decoder, FailOn } from './types.js';

/** Our format name for what sharp's header read found; undefined for anything else. */
export function formatOf(meta: Pick<Metadata, 'format' | 'compression'>): ImageFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
    case 'svg':
      return meta.format;
    case 'heif':
      // libheif reads both; AV1 in any HEIF container is AVIF.
      return meta.compression === 'av1' ? 'avif' : 'heic';
    default:
      return undefined;
  }
}

/** sharp's header read, without its pixel limit: the caller's checks come next. */
export function headerOf(source: Buffer): Promise<Metadata> {
  return vips(sharp(source, { limitInputPixels: false }).metadata(), 'source');
}

const libvipsDecoders = new WeakSet<Decoder>();

/** Whether the codec's decoder is libvips itself (the source goes to sharp as it is). */
export function readByLibvips(codec: Codec): boolean {
  return codec.decoder !== undefined && libvipsDecoders.has(codec.decoder);
}

/** A registry row for a format libvips reads; `failOn` when it must read more leniently than `error`. */
export function libvipsReader(format: ImageFormat, failOn?: FailOn): Codec {
  const decoder: Decoder = {
    async probe(source) {
      const m = await headerOf(source);
      return { width: m.width, height: m.pageHeight ?? m.height, pages: Math.max(1, m.pages ?? 1), hasAlpha: m.hasAlpha, format: formatOf(m) };
    },
    decode(source) {
      return Promise.resolve({ kind: 'encoded', data: source, failOn });
    },
  };
  libvipsDecoders.add(decoder);
  return { format, by: 'libvips', available: true, decoder };
}
