/**
 * `/info` (imgproxy Pro §7.1): JSON facts about a source image. Cheap fields come from the
 * header (sharp metadata); the slow ones (colours, hashes of pixels) from a small decoded
 * preview. Field names and shapes follow imgproxy's docs (docs/usage/getting_info.mdx).
 */
import { createHash } from 'node:crypto';
import { encode as blurhashEncode } from 'blurhash';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { ProxyError } from '../errors.js';
import { averageColour, dominantColours, paletteFromPng } from './colour-stats.js';
import { probeSource, readSource, sharpOf } from './codecs/source.js';
import type { InfoOptions } from './info-options.js';
import { readExif, readIptc, readXmp } from './metadata-readers.js';

export { defaultInfoOptions, parseInfoOptions } from './info-options.js';
export type { HashsumType, InfoOptions } from './info-options.js';

/** The longest a codec may take to decode a source for /info, when the caller gives no deadline. */
const INFO_DECODE_MS = 60_000;

async function raw(img: Sharp, max: number): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await img
    .clone()
    .resize({ width: max, height: max, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** When a codec's decode must stop: the request's deadline (IMGPROXY_TIMEOUT) and abort signal. */
export interface InfoRun {
  readonly signal?: AbortSignal | undefined;
  readonly deadline?: number | undefined;
}

/** Builds the /info JSON for `source`; `sourceSize` is its byte length (Content-Length). */
export async function imageInfo(source: Buffer, sourceSize: number, opts: InfoOptions, run: InfoRun = {}): Promise<Record<string, unknown>> {
  try {
    return await buildInfo(source, sourceSize, opts, run);
  } catch (err) {
    if (err instanceof ProxyError) throw err;
    throw new ProxyError('UNSUPPORTED_IMAGE', `cannot read image info: ${(err as Error).message}`, { cause: err });
  }
}

async function buildInfo(source: Buffer, sourceSize: number, opts: InfoOptions, run: InfoRun): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const maxPixels = opts.maxSrcResolution * 1e6;
  const limits = { maxPixels, maxFrames: 1, deadline: Math.min(run.deadline ?? Infinity, Date.now() + INFO_DECODE_MS), signal: run.signal };
  // Header fields never decode pixels (libvips' header read, or the codec's probe).
  const { format, probe, meta: header } = await probeSource(source, limits);
  const pixelWork = opts.average || opts.dominantColors || opts.palette > 0 || opts.blurhash !== null || opts.thumbhash || (opts.alpha && opts.alphaCheckTransparency);
  // The fields that do are bounded like processing is (max_src_resolution /
  // IMGPROXY_MAX_SRC_RESOLUTION), so /info is no way around the limit.
  const tooBig = (): ProxyError => new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${probe.width}x${probe.height} is over ${opts.maxSrcResolution} MP`);
  if (pixelWork && probe.width * probe.height > maxPixels) throw tooBig();
  // What the decoded image says of itself (bands, colourspace) is what a codec's output says.
  const needDecoded = pixelWork || (header === undefined && (opts.colorspace || opts.bands || opts.sampleFormat || opts.alpha));
  let img: Sharp | undefined;
  let meta: Metadata | undefined = header;
  if (header !== undefined && (needDecoded || opts.page > 0)) {
    img = sharp(source, { page: opts.page });
    meta = await img.metadata();
    // Pixel work sees the image the way viewers show it.
    img = img.rotate();
  } else if (needDecoded) {
    const read = await readSource(source, {
      limits,
      check: (w, h) => {
        if (w * h > maxPixels) throw tooBig();
      },
    });
    img = sharpOf(read.input);
    meta = await img.metadata();
  }
  const pixels = (): Sharp => {
    if (!img) throw new Error('info: pixels asked for without a decoded image');
    return img;
  };

  if (opts.size) out.size = sourceSize;
  if (opts.format) out.format = format;
  if (opts.dimensions) {
    // A codec applies the orientation it finds: its probe's size is the size shown.
    const orientation = header?.orientation ?? 1;
    const swap = orientation >= 5 && orientation <= 8;
    out.width = swap ? probe.height : probe.width;
    out.height = swap ? probe.width : probe.height;
    out.orientation = orientation;
  }
  if (opts.exif) out.exif = readExif(meta?.exif, opts.exifCanonicalNames);
  if (opts.iptc) {
    const { iptc, photoshop } = readIptc(meta?.iptc);
    out.iptc = iptc;
    if (photoshop) out.photoshop = photoshop;
  }
  if (opts.xmp) out.xmp = readXmp(meta?.xmp);
  if (opts.colorspace) out.colorspace = meta?.space ?? 'srgb';
  if (opts.bands) out.bands = meta?.channels;
  if (opts.sampleFormat) out.sample_format = meta?.depth ?? 'uchar';
  if (opts.pagesNumber) out.pages_number = probe.pages;
  if (opts.alpha) {
    let alpha = (meta?.hasAlpha ?? probe.hasAlpha) === true;
    if (alpha && opts.alphaCheckTransparency) {
      // Many PNGs carry an alpha channel that is opaque everywhere.
      alpha = !(await pixels().clone().stats()).isOpaque;
    }
    out.alpha = alpha;
  }

  const needPreview = opts.average || opts.dominantColors;
  if (needPreview) {
    const preview = await raw(pixels(), 512);
    if (opts.average) out.average = averageColour(preview.data, opts.averageIgnoreTransparent);
    if (opts.dominantColors) out.dominant_colors = dominantColours(preview.data, opts.dominantColorsBuildMissed);
  }
  if (opts.palette > 0) {
    const png = await pixels().clone().resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true }).toColourspace('srgb').png({ palette: true, colours: opts.palette, dither: 0 }).toBuffer();
    out.palette = paletteFromPng(png);
  }
  if (opts.blurhash) {
    const p = await raw(pixels(), 64);
    out.blurhash = blurhashEncode(new Uint8ClampedArray(p.data.buffer, p.data.byteOffset, p.data.length), p.width, p.height, opts.blurhash.x, opts.blurhash.y);
  }
  if (opts.thumbhash) {
    const p = await raw(pixels(), 100);
    out.thumbhash = Buffer.from(rgbaToThumbHash(p.width, p.height, p.data)).toString('base64');
  }
  if (opts.hashsums.length > 0) {
    const sums: Record<string, string> = {};
    for (const t of opts.hashsums) sums[t] = createHash(t).update(source).digest('hex');
    out.hashsums = sums;
  }
  return out;
}
