/**
 * `/info` (imgproxy Pro, https://docs.imgproxy.net/usage/getting_info): JSON facts about a source image. Cheap fields come from the
 * header (sharp metadata); the slow ones (colours, hashes of pixels) from a small decoded
 * preview. Field names and shapes follow imgproxy's docs (docs/usage/getting_info.mdx).
 */
import { createHash } from 'node:crypto';
import { encode as blurhashEncode } from 'blurhash';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { ProxyError } from '../errors.js';
import type { ImageFormat } from '../formats.js';
import { averageColour, dominantColours, paletteFromPng } from './colour-stats.js';
import { isVideoFormat } from '../formats.js';
import { defaultPreviewSettings } from './codecs/preview-settings.js';
import { probeSource, readSource, sharpOf } from './codecs/source.js';
import { detectImageFormat } from '../sources/detect.js';
import type { PreviewSettings, VideoStream } from './codecs/types.js';
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
  /** The app's PDF and video decoder settings. */
  readonly previews?: PreviewSettings | undefined;
  /** IMGPROXY_ENABLE_VIDEO_THUMBNAILS: videos are sources at all (refused when false). */
  readonly videoEnabled?: boolean | undefined;
  /** IMGPROXY_VIDEO_THUMBNAIL_SECOND: the frame the pixel fields are computed on. */
  readonly videoSecond?: number | undefined;
  /**
   * IMGPROXY_SANITIZE_SVG: an SVG source is sanitised before anything reads it, the header probe
   * included, as processing does (vector-input.ts); `size` and the hash sums stay the source's own.
   */
  readonly sanitizeSvg?: ((svg: Buffer) => Buffer) | undefined;
}

/** The longest side of the PDF page rendered for the pixel fields (they work on 512 px at most). */
const PDF_INFO_SIDE = 512;

/** imgproxy Pro's `video_streams` entries (docs/usage/getting_info.mdx, video_meta). */
function videoStreams(streams: readonly VideoStream[]): Record<string, unknown>[] {
  return streams.map((s) => ({
    type: s.codecType,
    codec: s.codecName,
    ...(s.bitRate !== undefined ? { bps: s.bitRate } : {}),
    ...(s.frameRate !== undefined ? { fps: Math.round(s.frameRate * 1000) / 1000 } : {}),
    ...(s.width !== undefined ? { width: s.width, height: s.height } : {}),
    ...(s.duration !== undefined ? { duration: s.duration } : {}),
  }));
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

async function buildInfo(original: Buffer, sourceSize: number, opts: InfoOptions, run: InfoRun): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const source = run.sanitizeSvg && detectImageFormat(original) === 'svg' ? run.sanitizeSvg(original) : original;
  const maxPixels = opts.maxSrcResolution * 1e6;
  const limits = { maxPixels, maxFrames: 1, deadline: Math.min(run.deadline ?? Infinity, Date.now() + INFO_DECODE_MS), signal: run.signal, previews: run.previews ?? defaultPreviewSettings() };
  const accept = (f: ImageFormat): void => {
    if (isVideoFormat(f) && run.videoEnabled === false) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${f} video, and video thumbnails are off (IMGPROXY_ENABLE_VIDEO_THUMBNAILS)`);
  };
  const select = { page: opts.page, pages: 1 };
  // Header fields never decode pixels (libvips' header read, or the codec's probe).
  const { format, probe, meta: header } = await probeSource(source, limits, { accept, select });
  // Without ffprobe a video's size is its frame's.
  const unmeasured = probe.video?.unprobed === true;
  const pixelWork = opts.average || opts.dominantColors || opts.palette > 0 || opts.blurhash !== null || opts.thumbhash || (opts.alpha && opts.alphaCheckTransparency);
  // The fields that do are bounded like processing is (max_src_resolution /
  // IMGPROXY_MAX_SRC_RESOLUTION), so /info is no way around the limit.
  const tooBig = (): ProxyError => new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${probe.width}x${probe.height} is over ${opts.maxSrcResolution} MP`);
  // A PDF is drawn small for them, whatever its page size.
  if (pixelWork && format !== 'pdf' && probe.width * probe.height > maxPixels) throw tooBig();
  // What the decoded image says of itself (bands, colourspace) is what a codec's output says.
  const needDecoded = pixelWork || (header === undefined && (opts.colorspace || opts.bands || (opts.sampleFormat && probe.highDepth === undefined) || opts.alpha)) || (unmeasured && opts.dimensions);
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
      accept,
      select,
      check: (w, h, _pages, f) => {
        if (f !== 'pdf' && w * h > maxPixels) throw tooBig();
      },
      // A PDF page is drawn at 512 px at most, a video's frame taken at IMGPROXY_VIDEO_THUMBNAIL_SECOND.
      request: (w, h) => ({ page: opts.page, scale: Math.min(1, PDF_INFO_SIDE / Math.max(w, h, 1)), seek: { seconds: run.videoSecond ?? 0 } }),
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
    const size = unmeasured && meta ? { width: meta.width, height: meta.height } : probe;
    out.width = swap ? size.height : size.width;
    out.height = swap ? size.width : size.height;
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
  if (opts.sampleFormat) out.sample_format = probe.highDepth === undefined ? (meta?.depth ?? 'uchar') : probe.highDepth ? 'ushort' : 'uchar';
  if (opts.pagesNumber) out.pages_number = probe.pages;
  if (opts.videoMeta && probe.video) {
    out.video_meta = probe.video.tags;
    out.video_streams = videoStreams(probe.video.streams);
    if (probe.duration !== undefined) out.duration = probe.duration;
  }
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
    for (const t of opts.hashsums) sums[t] = createHash(t).update(original).digest('hex');
    out.hashsums = sums;
  }
  return out;
}
