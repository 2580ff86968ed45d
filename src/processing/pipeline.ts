/**
 * The image pipeline (Processor): bytes + options in, encoded bytes out, in imgproxy's order
 * (processing/processing.go):
 *
 *   header probe → resolution limits (before decoding) → skip_processing / SVG passthrough →
 *   output format → decode (shrink-on-load, vector guard) → trim → EXIF orientation → rotate/flip →
 *   crop → scale → result crop → filters → extend → extend_aspect_ratio → padding → fix size →
 *   flatten → watermark → metadata and colour profile → encode (max_bytes loop).
 *
 * Animated GIF/WebP are split into frames, each frame runs the same steps, and the frames are
 * joined again with their delays. Pure with respect to I/O.
 *
 * Known deviations, kept on purpose (README "Processing options"):
 *  - the watermark of an animation is composited on each frame (overlays prepared once),
 *    where imgproxy composites once on the joined strip; the watermark image is static, so
 *    every frame gets the same pixels either way;
 *  - keep_copyright keeps EXIF Artist and Copyright only: pixels travel through raw buffers,
 *    sharp cannot write IPTC, so IPTC by-line/credit/copyright (imgproxy's 80/110/116) are lost.
 */
import sharp, { type OverlayOptions, type Sharp, type SharpOptions } from 'sharp';
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { MIME_TYPES, type ImageFormat, type OutputFormat, type ProcessingOptions, type Rgb } from '../options.js';
import { readExifText } from './exif-text.js';
import { fitBytes } from './fit-bytes.js';
import { applyEncoder, chooseOutputFormat, finalFormat, FORMAT_TRAITS, resolveQuality, shouldSkipProcessing } from './format.js';
import {
  compositeFrame,
  cropFrame,
  embedFrame,
  filterFrame,
  flattenFrame,
  fromFrame,
  hasAlpha,
  kernelFor,
  orientFrame,
  padFrame,
  resizeFrame,
  rotateFlipFrame,
  toFrame,
  trimFrame,
  type Depth,
  type Frame,
} from './frame.js';
import { fixSize, planGeometry, type GeometryPlan } from './geometry.js';
import { initSharp, vips } from './sharp-setup.js';
import { probeSource, type SourceInfo } from './source-probe.js';
import { sanitizeSvg, svgSanitizeOptions } from './svg-sanitize.js';
import type { ProcessContext, ProcessResult, Processor } from './types.js';
import { watermarkOverlays } from './watermark.js';

initSharp();

/** Missing frame delays default to 40 ms (25 fps), as in imgproxy. */
const DEFAULT_DELAY_MS = 40;
/** libvips renders SVG at 72 DPI for a scale of 1. */
const SVG_BASE_DENSITY = 72;

function checkAbort(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof ProxyError) throw reason;
  throw new ProxyError('CANCELLED', 'processing aborted');
}

/**
 * imgproxy security.CheckDimensions: width × height × frames against max_src_resolution, or,
 * for several frames with max_animation_frame_resolution set, each frame against that.
 */
function checkResolution(width: number, height: number, frames: number, o: ProcessingOptions): void {
  const n = Math.max(1, frames);
  if (n > 1 && o.maxAnimationFrameResolution > 0) {
    if (width * height > o.maxAnimationFrameResolution * 1e6) {
      throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: frame resolution ${width}x${height} is over ${o.maxAnimationFrameResolution} MP`);
    }
  } else if (width * height * n > o.maxSrcResolution * 1e6) {
    throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${width}x${height}x${n} is over ${o.maxSrcResolution} MP`);
  }
}

function isAnimatedFormat(f: ImageFormat): boolean {
  return f === 'gif' || f === 'webp';
}

interface Job {
  source: Buffer;
  info: SourceInfo;
  o: ProcessingOptions;
  ctx: ProcessContext;
  config: Config;
  format: OutputFormat;
  depth: Depth;
  isVector: boolean;
  /** Vector guard: SVG rendered smaller so it fits max_src_resolution. */
  vectorScale: number;
  /** Encode as greyscale: the source is grey and nothing below adds colour. */
  grey: boolean;
}

function isGreyRgb(c: Rgb | null): boolean {
  return c === null || (c.r === c.g && c.g === c.b);
}

/**
 * Frames run through the pipeline as sRGB (sharp's raw output), so a grey source (or one made
 * grey by a grey monochrome) would come out with three equal channels. imgproxy keeps the
 * colourspace: we convert back to b-w at encode time unless an operation can add colour (a
 * coloured background or tint, a watermark, a colour output like WebP/AVIF whose encoders
 * store RGB anyway).
 */
function keepsGrey(info: SourceInfo, o: ProcessingOptions, format: OutputFormat): boolean {
  // A full-intensity grey monochrome makes any source grey (PreviewProxy's `grayscale`
  // answers one-channel luma, https://docs.rs/image DynamicImage::grayscale).
  const greyed = o.monochrome !== null && o.monochrome.intensity >= 1;
  if (!info.grey && !greyed) return false;
  if (!isGreyRgb(o.background)) return false;
  if (o.monochrome !== null && !/^([0-9a-f]{2})\1\1$/i.test(o.monochrome.color)) return false;
  if (o.watermark !== null) return false;
  return format === 'jpeg' || format === 'png' || format === 'tiff' || format === 'gif';
}

function loadOptions(page: number, pages: number, density?: number): SharpOptions {
  return {
    failOn: 'error',
    limitInputPixels: false,
    page,
    pages,
    ...(density !== undefined ? { density: Math.min(100000, Math.max(1, density)) } : {}),
  };
}

function orientedSize(info: SourceInfo, autoRotate: boolean): { width: number; height: number } {
  const swap = autoRotate && info.orientation >= 5 && info.orientation <= 8;
  return swap ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

function rotationOf(o: ProcessingOptions): number {
  return ((o.rotate % 360) + 360) % 360;
}

/** Plan options for a frame whose user rotation has already been applied. */
function planFor(width: number, height: number, job: Job): GeometryPlan {
  return planGeometry({ width, height, isVector: job.isVector }, { ...job.o, rotate: 0 });
}

/** Steps after the resize, shared by still images and every animation frame. */
async function finishFrame(f: Frame, plan: GeometryPlan, job: Job, overlays: Overlays): Promise<Frame> {
  const { o, ctx } = job;
  let cur = await cropFrame(f, plan.resultCrop);
  cur = await filterFrame(cur, o);
  checkAbort(ctx.signal);
  cur = await embedFrame(cur, plan.extend);
  cur = await embedFrame(cur, plan.extendAspectRatio);
  cur = await padFrame(cur, plan.padding);
  const fixed = fixSize(cur.width, cur.height, job.format);
  cur = await resizeFrame(cur, fixed.width, fixed.height, kernelFor(o.resizingAlgorithm));
  if (o.background !== null || !FORMAT_TRAITS[job.format].alpha) cur = await flattenFrame(cur, o.background);
  const marks = await overlays(cur.width, cur.height);
  if (marks) cur = await compositeFrame(cur, marks);
  return cur;
}

/** Watermark overlays for a frame size; prepared once and reused by every animation frame. */
type Overlays = (width: number, height: number) => Promise<OverlayOptions[] | null>;

function watermarkFor(job: Job): Overlays {
  const wm = job.o.watermark;
  const image = job.ctx.watermark;
  if (!wm || !image || wm.opacity <= 0) return async () => null;
  let cached: { key: string; overlays: Promise<OverlayOptions[]> } | null = null;
  return (width, height) => {
    const key = `${width}x${height}`;
    if (cached?.key !== key) cached = { key, overlays: watermarkOverlays(image, { width, height }, wm, job.config.processing.watermarkOpacity) };
    return cached.overlays;
  };
}

/** Decode, trim, orient and rotate a still image, then run the whole frame pipeline. */
async function processStill(job: Job, page: number, stack: number): Promise<Frame> {
  const { o, info, ctx } = job;
  const kernel = kernelFor(o.resizingAlgorithm);
  const rotation = rotationOf(o);
  const needsRotate = rotation !== 0 || o.flipHorizontal || o.flipVertical;
  const oriented = orientedSize(info, o.autoRotate);
  const baseW = job.isVector ? Math.max(1, Math.round(oriented.width * job.vectorScale)) : oriented.width;
  const baseH = job.isVector ? Math.max(1, Math.round(oriented.height * job.vectorScale * stack)) : oriented.height * stack;

  // Shrink-on-load: resize inside the decoding pipeline so libjpeg/libwebp decode at 1/2, 1/4,
  // 1/8 (and SVG renders at the target size). Only when nothing must happen before the resize.
  const early = o.trim === null && !needsRotate && o.crop === null && info.decoded === null;
  const earlyPlan = early ? planFor(baseW, baseH, job) : null;
  const fuse = earlyPlan !== null && (job.isVector || !job.config.processing.disableShrinkOnLoad);
  // imgproxy trims the image as stored, before EXIF orientation: the auto colour is the stored
  // top-left pixel and equal_hor/equal_ver refer to the stored axes.
  const trimFirst = o.trim !== null && o.autoRotate && info.orientation > 1 && info.decoded === null;

  let frame: Frame;
  if (info.decoded) frame = info.decoded;
  else {
    let density: number | undefined;
    if (job.isVector) {
      const prescale = fuse && earlyPlan ? Math.max(earlyPlan.wscale, earlyPlan.hscale) : 1;
      density = SVG_BASE_DENSITY * job.vectorScale * prescale;
    }
    let p: Sharp = sharp(job.source, loadOptions(page, stack, density));
    if (o.autoRotate && !trimFirst) p = p.autoOrient();
    if (fuse && earlyPlan) p = p.resize(earlyPlan.scaledWidth, earlyPlan.scaledHeight, { fit: 'fill', kernel });
    frame = await toFrame(p, job.depth);
  }
  checkAbort(ctx.signal);
  if (o.trim) frame = await trimFrame(frame, o.trim);
  if (trimFirst) frame = await orientFrame(frame, info.orientation);
  if (needsRotate) frame = await rotateFlipFrame(frame, rotation, o.flipHorizontal, o.flipVertical);
  const plan = fuse && earlyPlan ? earlyPlan : planFor(frame.width, frame.height, job);

  frame = await cropFrame(frame, plan.crop);
  frame = await resizeFrame(frame, plan.scaledWidth, plan.scaledHeight, kernel);
  checkAbort(ctx.signal);
  return finishFrame(frame, plan, job, watermarkFor(job));
}

/** Splits the stacked frames, runs each through the frame pipeline, returns them in order. */
async function processAnimation(job: Job, page: number, count: number): Promise<Frame[]> {
  const { o, ctx } = job;
  const kernel = kernelFor(o.resizingAlgorithm);
  const strip = await toFrame(sharp(job.source, loadOptions(page, count)), job.depth);
  const frameH = strip.height / count;
  const bytesPerFrame = strip.width * frameH * strip.channels * (strip.depth === 'ushort' ? 2 : 1);

  let plan: GeometryPlan | null = null;
  const overlays = watermarkFor(job);
  const out: Frame[] = [];
  for (let i = 0; i < count; i++) {
    checkAbort(ctx.signal);
    let frame: Frame = { ...strip, height: frameH, data: strip.data.subarray(i * bytesPerFrame, (i + 1) * bytesPerFrame) };
    frame = await rotateFlipFrame(frame, rotationOf(o), o.flipHorizontal, o.flipVertical);
    plan ??= planFor(frame.width, frame.height, job);
    frame = await cropFrame(frame, plan.crop);
    frame = await resizeFrame(frame, plan.scaledWidth, plan.scaledHeight, kernel);
    out.push(await finishFrame(frame, plan, job, overlays));
  }
  return out;
}

function encoderInput(frames: Frame[]): Sharp {
  const first = frames[0] as Frame;
  if (frames.length === 1) return fromFrame(first);
  const joined: Frame = { ...first, height: first.height * frames.length, data: Buffer.concat(frames.map((f) => f.data)) };
  return sharp(joined.depth === 'ushort' ? new Uint16Array(joined.data.buffer, joined.data.byteOffset, joined.data.length / 2) : joined.data, {
    raw: { width: joined.width, height: joined.height, channels: joined.channels, pageHeight: first.height },
  });
}

/** EXIF text, XMP and ICC handling that sharp allows once the pixels went through raw buffers. */
function withMetadata(p: Sharp, job: Job, format: OutputFormat): Sharp {
  const { o, info } = job;
  let out = p;
  const exif = o.stripMetadata ? (o.keepCopyright ? readExifText(info.exif, false) : {}) : readExifText(info.exif, true);
  if (Object.keys(exif).length > 0 && format !== 'gif') out = out.withExif({ IFD0: exif });
  if (!o.stripMetadata && info.xmp) out = out.withXmp(info.xmp);
  // Pixels are already sRGB; keeping "a" profile means tagging them as sRGB. Not for grey
  // output: an RGB profile on one channel is wrong, and tagging would convert it back to RGB.
  if (!o.stripColorProfile && !job.grey && FORMAT_TRAITS[format].colourProfile) out = out.withIccProfile('srgb');
  return out;
}

async function encode(job: Job, frames: Frame[], delay: number[] | null): Promise<{ data: Buffer; format: OutputFormat }> {
  const first = frames[0] as Frame;
  const format = finalFormat(job.format, first.width, first.height, hasAlpha(first));
  const quality = resolveQuality(format, job.o, job.config);
  const animation = delay ? { loop: job.info.loop, delay } : null;
  const sixteen = first.depth === 'ushort' && (format === 'png' || format === 'tiff');
  const run = async (q: number): Promise<Buffer> => {
    let p = encoderInput(frames);
    if (sixteen) p = p.toColourspace(first.channels <= 2 || job.grey ? 'grey16' : 'rgb16');
    else if (job.grey) p = p.toColourspace('b-w');
    p = applyEncoder(withMetadata(p, job, format), { format, quality: q, animation }, job.config);
    return vips(p.toBuffer(), 'encode');
  };
  if (job.o.maxBytes > 0 && FORMAT_TRAITS[format].quality) {
    return { data: await fitBytes(run, quality, job.o.maxBytes, job.ctx.signal), format };
  }
  return { data: await run(quality), format };
}

async function process(source: Buffer, o: ProcessingOptions, ctx: ProcessContext, config: Config): Promise<ProcessResult> {
  checkAbort(ctx.signal);
  const info = await probeSource(source);
  const isVector = info.format === 'svg';
  const origin = orientedSize(info, o.autoRotate);

  if (shouldSkipProcessing(info.format, o, config)) {
    if (!isVector) checkResolution(origin.width, origin.height, 1, o);
    const data = isVector && config.security.sanitizeSvg ? sanitizeSvg(source, svgSanitizeOptions(config)) : source;
    const format = info.format as OutputFormat;
    return {
      data,
      format,
      contentType: MIME_TYPES[format],
      width: origin.width,
      height: origin.height,
      originFormat: info.format,
      originWidth: origin.width,
      originHeight: origin.height,
    };
  }

  const page = Math.min(Math.max(0, o.page), info.pages - 1);
  const animCandidate = isAnimatedFormat(info.format) && info.pages > 1 && o.maxAnimationFrames > 1 && !o.disableAnimation;
  const format = chooseOutputFormat({ sourceFormat: info.format, hasAlpha: info.hasAlpha, animated: animCandidate }, o, config);
  const animated = animCandidate && FORMAT_TRAITS[format].animationSave;
  const frames = animated ? Math.min(info.pages - page, o.maxAnimationFrames) : 1;
  // `pages` stacks pages of multi-page stills (TIFF) vertically.
  const stack = !animated && !isAnimatedFormat(info.format) && o.pages > 1 ? Math.min(o.pages, info.pages - page) : 1;

  if (!isVector) checkResolution(origin.width, origin.height * stack, frames, o);
  const maxPixels = o.maxSrcResolution * 1e6;
  const vectorScale = isVector && info.width * info.height > maxPixels ? Math.sqrt(maxPixels / (info.width * info.height)) : 1;

  const job: Job = {
    source,
    info,
    o,
    ctx,
    config,
    format,
    depth: o.preserveHdr && info.depth === 'ushort' ? 'ushort' : 'uchar',
    isVector,
    vectorScale,
    grey: keepsGrey(info, o, format),
  };

  let out: Frame[];
  let delay: number[] | null = null;
  if (animated) {
    out = await processAnimation(job, page, frames);
    const d = (info.delay ?? []).slice(page, page + frames);
    delay = Array.from({ length: out.length }, (_, i) => d[i] ?? DEFAULT_DELAY_MS);
  } else {
    out = [await processStill(job, page, stack)];
  }
  checkAbort(ctx.signal);
  const encoded = await encode(job, out, delay);
  const first = out[0] as Frame;
  return {
    data: encoded.data,
    format: encoded.format,
    contentType: MIME_TYPES[encoded.format],
    width: first.width,
    height: first.height,
    originFormat: info.format,
    originWidth: origin.width,
    originHeight: origin.height,
  };
}

/** Builds the Processor bound to the frozen configuration (the composition root uses this). */
export function createProcessor(config: Config): Processor {
  return (source, options, ctx) => process(source, options, ctx, config);
}
