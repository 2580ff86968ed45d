/**
 * Sources that are not images libvips loads here, PDF, PSD/PSB and video, made into what the
 * pipeline works on (pipeline.ts): decoded pixels, or a video frame as PNG, with the source's
 * own format and size kept for the result's headers and /info.
 *
 * Each is bounded before it is decoded: a PSD by its header and a video by ffprobe's size and
 * duration against IMGPROXY_MAX_SRC_RESOLUTION (imgproxy Pro applies it to the frame:
 * https://docs.imgproxy.net/features/video_thumbnails); a PDF is vector, so like SVG it is
 * rendered smaller rather than refused when its pages at 72 DPI exceed that resolution, and
 * rendered at the size the request needs when nothing comes before the resize (the
 * shrink-on-load of vectors), within PIXPROXY_MAX_INTERMEDIATE_RESOLUTION. `seek` and the
 * other video options mean nothing to a still image and are ignored there.
 */
import { ProxyError } from '../errors.js';
import { isAsIs, isVideoFormat, type ImageFormat, type ProcessingOptions, type VideoFormat } from '../options.js';
import type { PreviewCodecs } from './codecs/previews.js';
import type { DecodeLimits } from './codecs/types.js';
import { planGeometry } from './geometry.js';
import { checkCanvas, checkSource, type PixelLimits } from './limits.js';
import type { Run } from './run.js';
import { probeSource, type SourceInfo } from './source-probe.js';

export type PreviewFormat = 'pdf' | 'psd' | VideoFormat;

export function isPreviewFormat(f: ImageFormat | null): f is PreviewFormat {
  return f === 'pdf' || f === 'psd' || (f !== null && isVideoFormat(f));
}

export interface PreparedPreview {
  /** What the pipeline decodes: the source, or the video frame ffmpeg wrote. */
  readonly input: Buffer;
  /** The pixels to work on (`decoded`), as the source's format. */
  readonly info: SourceInfo;
  /** The source's size before any scaling (a PDF page at 72 DPI). */
  readonly origin: { readonly width: number; readonly height: number };
  /** A video frame asked for as it is (PreviewProxy without transforms): ffmpeg's PNG, unchanged. */
  readonly asIs: boolean;
}

function decodeLimits(o: ProcessingOptions, run: Run, frames = 1): DecodeLimits {
  return { maxPixels: o.maxSrcResolution * 1e6, maxFrames: frames, deadline: run.deadline, signal: run.signal };
}

function rawInfo(format: ImageFormat, d: { data: Buffer; width: number; height: number; channels: 1 | 2 | 3 | 4; depth?: 'uchar' | 'ushort' | undefined }): SourceInfo {
  const depth = d.depth ?? 'uchar';
  return {
    format,
    width: d.width,
    height: d.height,
    orientation: 1,
    pages: 1,
    delay: undefined,
    loop: 0,
    hasAlpha: d.channels === 2 || d.channels === 4,
    depth,
    grey: d.channels <= 2,
    exif: undefined,
    xmp: undefined,
    decoded: { data: d.data, width: d.width, height: d.height, channels: d.channels, depth },
  };
}

/** Whether the pipeline resizes straight after the decode (no trim, rotation, flip or crop first). */
function resizesFirst(o: ProcessingOptions): boolean {
  return o.trim === null && o.crop === null && ((o.rotate % 360) + 360) % 360 === 0 && !o.flipHorizontal && !o.flipVertical;
}

async function preparePdf(codecs: PreviewCodecs, source: Buffer, o: ProcessingOptions, run: Run, limits: PixelLimits): Promise<PreparedPreview> {
  const count = Math.max(1, o.pages);
  const dl = decodeLimits(o, run, count);
  const probe = await codecs.pdf.pages(source, o.page, count, dl);
  // The pages stacked at 72 DPI: the PDF's size here, as libvips' pdfload reads it.
  const width = Math.max(...probe.sizes.map((s) => s.width));
  const height = probe.sizes.reduce((h, s) => h + s.height, 0);
  const maxPixels = dl.maxPixels;
  // The vector guard: pages larger than max_src_resolution are rendered smaller, not refused.
  const guard = width * height > maxPixels ? Math.sqrt(maxPixels / (width * height)) : 1;
  let scale = guard;
  if (resizesFirst(o) && probe.sizes.length === 1) {
    const plan = planGeometry({ width: Math.max(1, Math.round(width * guard)), height: Math.max(1, Math.round(height * guard)), isVector: true }, { ...o, rotate: 0 });
    scale = guard * Math.max(plan.wscale, plan.hscale);
  }
  const rw = Math.max(1, Math.round(width * scale));
  const rh = Math.max(1, Math.round(height * scale));
  checkCanvas(limits, 'intermediate', 'PDF rendering', { width: rw, height: rh });
  const d = await codecs.pdf.decode(source, { page: o.page, pages: count, scale }, { ...dl, maxPixels: Math.max(maxPixels, limits.intermediate) });
  if (d.kind !== 'raw') throw new ProxyError('PDF_RENDER_ERROR', 'PDF: the renderer returned no pixels');
  return { input: source, info: rawInfo('pdf', d), origin: { width: Math.round(width), height: Math.round(height) }, asIs: false };
}

async function preparePsd(codecs: PreviewCodecs, source: Buffer, o: ProcessingOptions, run: Run, limits: PixelLimits): Promise<PreparedPreview> {
  const dl = decodeLimits(o, run);
  const h = await codecs.psd.probe(source, dl);
  const highDepth = o.preserveHdr && h.highDepth === true;
  checkSource(h.width, h.height, 1, o, limits, highDepth ? 'ushort' : 'uchar');
  const d = await codecs.psd.decode(source, { highDepth }, dl);
  if (d.kind !== 'raw') throw new ProxyError('UNSUPPORTED_IMAGE', 'PSD: the reader returned no pixels');
  return { input: source, info: rawInfo('psd', d), origin: { width: d.width, height: d.height }, asIs: false };
}

async function prepareVideo(codecs: PreviewCodecs, source: Buffer, format: VideoFormat, o: ProcessingOptions, run: Run, limits: PixelLimits): Promise<PreparedPreview> {
  if (!o.video.enabled) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${format} video, and video thumbnails are off (IMGPROXY_ENABLE_VIDEO_THUMBNAILS)`);
  const dl = decodeLimits(o, run);
  const video = await codecs.video.open(source, format);
  try {
    const probe = await video.probe(dl);
    if (!probe.unprobed) checkSource(probe.width, probe.height, 1, o, limits);
    const frame = await video.frame({ seek: o.video.seek, keyframes: o.video.keyframes }, probe, dl);
    if (frame.kind !== 'encoded') throw new ProxyError('VIDEO_DECODE_ERROR', 'video: ffmpeg returned no frame');
    const info = await probeSource(frame.data, (w, h) => checkSource(w, h, 1, o, limits));
    // ffmpeg wrote a PNG; the source format stays the video's for the choice of the output.
    return { input: frame.data, info: { ...info, format }, origin: { width: info.width, height: info.height }, asIs: isAsIs(o) };
  } finally {
    await video.close();
  }
}

/** The prepared preview of a PDF, PSD or video source. */
export function preparePreview(codecs: PreviewCodecs, source: Buffer, format: PreviewFormat, o: ProcessingOptions, run: Run, limits: PixelLimits): Promise<PreparedPreview> {
  if (format === 'pdf') return preparePdf(codecs, source, o, run, limits);
  if (format === 'psd') return preparePsd(codecs, source, o, run, limits);
  return prepareVideo(codecs, source, format, o, run, limits);
}
