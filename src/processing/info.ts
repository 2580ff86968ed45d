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
import type { ImageFormat } from '../options.js';
import { averageColour, dominantColours, paletteFromPng } from './colour-stats.js';
import { detectImageFormat } from '../sources/detect.js';
import type { PreviewCodecs } from './codecs/previews.js';
import type { Decoded } from './codecs/types.js';
import type { VideoStream } from './codecs/video.js';
import { decodeExtra, probeExtra, sniffExtraFormat } from './decoders.js';
import { isPreviewFormat, type PreviewFormat } from './preview-source.js';
import type { InfoOptions } from './info-options.js';
import { readExif, readIptc, readXmp } from './metadata-readers.js';

export { defaultInfoOptions, parseInfoOptions } from './info-options.js';
export type { HashsumType, InfoOptions } from './info-options.js';

function formatOf(meta: Metadata): ImageFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'svg':
    case 'tiff':
      return meta.format;
    case 'heif':
      return meta.compression === 'av1' ? 'avif' : 'heic';
    default:
      return undefined;
  }
}

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

/** What /info needs to read PDF, PSD and video sources. */
export interface InfoContext {
  readonly previews: PreviewCodecs;
  /** IMGPROXY_ENABLE_VIDEO_THUMBNAILS: videos are sources at all. */
  readonly videoEnabled: boolean;
  /** IMGPROXY_VIDEO_THUMBNAIL_SECOND: the frame the pixel fields are computed on. */
  readonly videoSecond: number;
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
}

/** A preview source's own facts, and a decoded picture of it for the pixel fields. */
interface PreviewFacts {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  readonly pages: number;
  readonly highDepth: boolean;
  readonly img: Sharp;
  readonly video?: { readonly duration: number | undefined; readonly streams: readonly VideoStream[]; readonly tags: Readonly<Record<string, string>> };
}

/** The longest side of the PDF page rendered for the pixel fields (they work on 512 px at most). */
const PDF_INFO_SIDE = 512;

async function previewFacts(source: Buffer, format: PreviewFormat, opts: InfoOptions, ctx: InfoContext): Promise<PreviewFacts> {
  const limits = { maxPixels: opts.maxSrcResolution * 1e6, maxFrames: 1, deadline: ctx.deadline, signal: ctx.signal };
  const tooBig = (w: number, h: number): void => {
    if (w * h > limits.maxPixels) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${w}x${h} is over ${opts.maxSrcResolution} MP`);
  };
  const raw = (d: Decoded): Sharp => (d.kind === 'raw' ? sharp(d.data, { raw: { width: d.width, height: d.height, channels: d.channels } }) : sharp(d.data));
  if (format === 'pdf') {
    const p = await ctx.previews.pdf.pages(source, opts.page, 1, limits);
    const size = p.sizes[0] ?? { width: 1, height: 1 };
    const scale = Math.min(1, PDF_INFO_SIDE / Math.max(size.width, size.height));
    const d = await ctx.previews.pdf.decode(source, { page: opts.page, scale }, limits);
    return { format, width: Math.round(size.width), height: Math.round(size.height), pages: p.pages, highDepth: false, img: raw(d) };
  }
  if (format === 'psd') {
    const h = await ctx.previews.psd.probe(source, limits);
    tooBig(h.width, h.height);
    return { format, width: h.width, height: h.height, pages: 1, highDepth: h.highDepth === true, img: raw(await ctx.previews.psd.decode(source, {}, limits)) };
  }
  if (!ctx.videoEnabled) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${format} video, and video thumbnails are off (IMGPROXY_ENABLE_VIDEO_THUMBNAILS)`);
  const v = await ctx.previews.video.open(source, format);
  try {
    const probe = await v.probe(limits);
    if (!probe.unprobed) tooBig(probe.width, probe.height);
    const frame = await v.frame({ seek: { seconds: ctx.videoSecond } }, probe, limits);
    const img = raw(frame);
    const m = await img.metadata();
    return {
      format,
      width: probe.unprobed ? m.width : probe.width,
      height: probe.unprobed ? m.height : probe.height,
      pages: 1,
      highDepth: m.depth === 'ushort',
      img,
      video: { duration: probe.duration, streams: probe.streams, tags: probe.tags },
    };
  } finally {
    await v.close();
  }
}

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
export async function imageInfo(source: Buffer, sourceSize: number, opts: InfoOptions, ctx?: InfoContext): Promise<Record<string, unknown>> {
  try {
    return await buildInfo(source, sourceSize, opts, ctx);
  } catch (err) {
    if (err instanceof ProxyError) throw err;
    throw new ProxyError('UNSUPPORTED_IMAGE', `cannot read image info: ${(err as Error).message}`, { cause: err });
  }
}

async function buildInfo(source: Buffer, sourceSize: number, opts: InfoOptions, ctx: InfoContext | undefined): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const extra = sniffExtraFormat(source);
  const detected = detectImageFormat(source);
  let format: ImageFormat | undefined;
  let meta: Metadata | undefined;
  let img: Sharp;
  let facts: PreviewFacts | null = null;
  if (isPreviewFormat(detected)) {
    if (!ctx) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${detected} is not read here`);
    facts = await previewFacts(source, detected, opts, ctx);
    format = facts.format;
    img = facts.img;
  } else if (extra) {
    // BMP and ICO have no header-only read here: they are decoded whole, so their size is
    // checked against the resolution limit from the header first.
    const size = probeExtra(source, extra);
    if (size && size.width * size.height > opts.maxSrcResolution * 1e6) {
      throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${size.width}x${size.height} is over ${opts.maxSrcResolution} MP`);
    }
    const decoded = await decodeExtra(source, extra);
    if (!decoded) throw new ProxyError('UNSUPPORTED_IMAGE', 'unreadable BMP/ICO');
    format = extra;
    img = sharp(decoded.data, { raw: { width: decoded.width, height: decoded.height, channels: decoded.channels } });
  } else {
    img = sharp(source, { page: opts.page });
    meta = await img.metadata();
    format = formatOf(meta);
    if (!format) throw new ProxyError('UNSUPPORTED_IMAGE', `unsupported source format ${meta.format ?? 'unknown'}`);
    // Pixel work sees the image the way viewers show it.
    img = img.rotate();
  }
  meta ??= await img.metadata();
  // Header fields never decode pixels; the fields that do are bounded like processing is
  // (max_src_resolution / IMGPROXY_MAX_SRC_RESOLUTION), so /info is no way around the limit.
  const pixelWork = opts.average || opts.dominantColors || opts.palette > 0 || opts.blurhash !== null || opts.thumbhash || (opts.alpha && opts.alphaCheckTransparency);
  const frameHeight = meta.pageHeight ?? meta.height;
  if (pixelWork && meta.width * frameHeight > opts.maxSrcResolution * 1e6) {
    throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${meta.width}x${frameHeight} is over ${opts.maxSrcResolution} MP`);
  }

  if (opts.size) out.size = sourceSize;
  if (opts.format) out.format = format;
  if (facts && opts.dimensions) {
    out.width = facts.width;
    out.height = facts.height;
    out.orientation = 1;
  } else if (opts.dimensions) {
    const orientation = meta.orientation ?? 1;
    const swap = orientation >= 5 && orientation <= 8;
    const w = meta.width;
    const h = meta.pageHeight ?? meta.height;
    out.width = swap ? h : w;
    out.height = swap ? w : h;
    out.orientation = orientation;
  }
  if (opts.exif) out.exif = readExif(meta.exif, opts.exifCanonicalNames);
  if (opts.iptc) {
    const { iptc, photoshop } = readIptc(meta.iptc);
    out.iptc = iptc;
    if (photoshop) out.photoshop = photoshop;
  }
  if (opts.xmp) out.xmp = readXmp(meta.xmp);
  if (opts.colorspace) out.colorspace = meta.space ?? 'srgb';
  if (opts.bands) out.bands = meta.channels;
  if (opts.sampleFormat) out.sample_format = facts ? (facts.highDepth ? 'ushort' : 'uchar') : (meta.depth ?? 'uchar');
  if (opts.pagesNumber) out.pages_number = facts ? facts.pages : (meta.pages ?? 1);
  if (opts.videoMeta && facts?.video) {
    out.video_meta = facts.video.tags;
    out.video_streams = videoStreams(facts.video.streams);
    if (facts.video.duration !== undefined) out.duration = facts.video.duration;
  }
  if (opts.alpha) {
    let alpha = meta.hasAlpha === true;
    if (alpha && opts.alphaCheckTransparency) {
      // Many PNGs carry an alpha channel that is opaque everywhere.
      alpha = !(await img.clone().stats()).isOpaque;
    }
    out.alpha = alpha;
  }

  const needPreview = opts.average || opts.dominantColors;
  if (needPreview) {
    const preview = await raw(img, 512);
    if (opts.average) out.average = averageColour(preview.data, opts.averageIgnoreTransparent);
    if (opts.dominantColors) out.dominant_colors = dominantColours(preview.data, opts.dominantColorsBuildMissed);
  }
  if (opts.palette > 0) {
    const png = await img.clone().resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true }).toColourspace('srgb').png({ palette: true, colours: opts.palette, dither: 0 }).toBuffer();
    out.palette = paletteFromPng(png);
  }
  if (opts.blurhash) {
    const p = await raw(img, 64);
    out.blurhash = blurhashEncode(new Uint8ClampedArray(p.data.buffer, p.data.byteOffset, p.data.length), p.width, p.height, opts.blurhash.x, opts.blurhash.y);
  }
  if (opts.thumbhash) {
    const p = await raw(img, 100);
    out.thumbhash = Buffer.from(rgbaToThumbHash(p.width, p.height, p.data)).toString('base64');
  }
  if (opts.hashsums.length > 0) {
    const sums: Record<string, string> = {};
    for (const t of opts.hashsums) sums[t] = createHash(t).update(source).digest('hex');
    out.hashsums = sums;
  }
  return out;
}
