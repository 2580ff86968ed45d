/**
 * The image pipeline (Processor): bytes + options in, encoded bytes out, in imgproxy's order
 * (processing/processing.go):
 *
 *   header probe → resolution limits (before decoding) → skip_processing / SVG passthrough →
 *   output format → decode (shrink-on-load, vector guard) → trim → EXIF orientation → rotate/flip →
 *   crop → scale → result crop → filters → extend → extend_aspect_ratio → padding → fix size →
 *   flatten → watermark → metadata and colour profile → encode (max_bytes loop).
 *
 * Memory: every canvas of the plan is checked against the pixel bounds (limits.ts) before the
 * step that makes it runs, and the steps run lazily where sharp's own order allows it
 * (frame.ts): for the common request (no trim, rotate, crop or filters) decode, shrink-on-load,
 * resize, result crop, extend/padding, flatten, watermark and encode are one libvips pipeline,
 * evaluated strip by strip, so a large result is never held as raw pixels. Every pass runs under
 * the request's deadline and abort signal (run.ts).
 *
 * Animated GIF/WebP are split into frames, each frame runs the same steps, and the frames are
 * written into one strip for the encoder, with their delays. PreviewProxy's `gif_anim` chooses
 * the frames of a GIF (animation.ts), and with `gif_af` the frames outside its range take the
 * geometric steps only. Pure with respect to I/O: a watermark image is loaded by the caller.
 *
 * Known deviations, kept on purpose (README "Processing options"):
 *  - the watermark of an animation is composited on each frame (overlays prepared once),
 *    where imgproxy composites once on the joined strip; the watermark image is static, so
 *    every frame gets the same pixels either way;
 *  - keep_copyright keeps EXIF Artist and Copyright only: sharp cannot write IPTC, so IPTC
 *    by-line/credit/copyright (imgproxy's 80/110/116) are lost.
 */
import type { OverlayOptions, Sharp, SharpOptions } from 'sharp';
import type { Config } from '../config/index.js';
import { isAsIs } from '../default-options.js';
import { isVideoFormat, MIME_TYPES, type ImageFormat, type OutputFormat } from '../formats.js';
import { stageOptions, type BestFormatOptions, type ProcessingOptions, type Rgb } from '../options.js';
import { ProxyError } from '../errors.js';
import { readSource, sharpOf, type SharpInput, type SourceInfo } from './codecs/source.js';
import { applyEffects, hasEffects } from './effects.js';
import { fitBytes } from './fit-bytes.js';
import { byDssim, bySize, qualityRange } from './autoquality.js';
import { imageDensity, planBest, smallest } from './best-format.js';
import { dssimOf, toRgba } from './compare.js';
import { writeImage } from './encode.js';
import { chooseOutputFormat, finalFormat, FORMAT_TRAITS, resolveQuality, shouldSkipProcessing, writableFormats, type EncodeSettings } from './format.js';
import {
  clampRect,
  cropFrame,
  filterFrame,
  framePixels,
  heldFilters,
  applyTurn,
  exifTurn,
  kernelFor,
  linearLight,
  orient,
  orientationSwaps,
  orientFrame,
  resizeFrame,
  toFrame,
  trimFrame,
  withOps,
  type Depth,
  type Frame,
  type LazyOps,
  type Pixels,
} from './frame.js';
import { composeEmbeds, composeTurns, fixSize, isIdentity, NO_TURN, optionTurn, planGeometry, swapsAxes, unturnCrop, type GeometryPlan, type Turn } from './geometry.js';
import { exifText } from './metadata-readers.js';
import { checkCanvas, checkPlan, checkSource, pixelLimits, type PixelLimits } from './limits.js';
import { checkAbort, underBudget, type Run } from './run.js';
import { outputDensity, profileFits, resolveColourProfile, withDensity } from './output-profile.js';
import { initSharp } from './sharp-setup.js';
import { previewSettings } from './codecs/preview-settings.js';
import type { DecodeRequest, PreviewSettings, Probe } from './codecs/types.js';
import { sanitizeSvg, svgSanitizeOptions } from './svg-sanitize.js';
import { injectSvgStyle } from './svg-style.js';
import { colorizeOverlay, gradientOverlay } from './tint-overlays.js';
import type { ProcessContext, ProcessResult, Processor } from './types.js';
import { planFrames, type FramePlan } from './animation.js';
import { openWatermark, watermarkOverlays } from './watermark.js';
import type { MarkSource } from './watermark-mark.js';

/** Missing frame delays default to 40 ms (25 fps), as in imgproxy. */
const DEFAULT_DELAY_MS = 40;
/** libvips renders SVG at 72 DPI for a scale of 1. */
const SVG_BASE_DENSITY = 72;
const WHITE: Rgb = { r: 255, g: 255, b: 255 };

function isAnimatedFormat(f: ImageFormat): boolean {
  return f === 'gif' || f === 'webp';
}

interface Job {
  /** What sharp decodes: the source (SVG: sanitised), or its codec's output. */
  input: SharpInput;
  info: SourceInfo;
  o: ProcessingOptions;
  ctx: ProcessContext;
  config: Config;
  limits: PixelLimits;
  run: Run;
  format: OutputFormat;
  depth: Depth;
  isVector: boolean;
  /** Vector guard: SVG rendered smaller so it fits max_src_resolution. */
  vectorScale: number;
  /** Encode as greyscale: the source is grey and nothing below adds colour (per output format, see keepsGrey). */
  grey: boolean;
  /**
   * The mark of each pipeline of the chain (index 0: the first), opened once for the request;
   * null where that pipeline draws none.
   */
  marks: readonly (MarkSource | null)[];
  /** The index of this job's pipeline in the chain. */
  stage: number;
  /** Whether this is the chain's last pipeline: only there does the format force a flatten. */
  last: boolean;
  /** The `color_profile` resolved (built-in name or file), null = none. */
  profile: string | null;
  /** Frames outside a gif_anim range keep their colours: not one grey palette for all. */
  frameColours: boolean;
}

function isGreyRgb(c: Rgb | null): boolean {
  return c === null || (c.r === c.g && c.g === c.b);
}

const isGreyHex = (hex: string): boolean => /^([0-9a-f]{2})\1\1$/i.test(hex);

/** Whether a pipeline's options can add colour to a grey image (`mark`: the one it draws). */
function addsColour(o: ProcessingOptions, mark: MarkSource | null): boolean {
  return (
    !isGreyRgb(o.background) ||
    (o.monochrome !== null && !isGreyHex(o.monochrome.color)) ||
    (o.duotone !== null && !(isGreyHex(o.duotone.dark) && isGreyHex(o.duotone.light))) ||
    (o.colorize !== null && !isGreyHex(o.colorize.color)) ||
    (o.gradient !== null && !isGreyHex(o.gradient.color)) ||
    // Text marks are coloured by their markup (rawMark is never grey); no mark adds nothing.
    (o.watermark !== null && mark !== null && !mark.grey)
  );
}

/** The options of every pipeline of the chain, first to last. */
function stagesOf(o: ProcessingOptions): ProcessingOptions[] {
  return [o, ...o.chain.map((_, i) => stageOptions(o, i + 1))];
}

/**
 * Frames run through the pipeline as sRGB (sharp's raw output), so a grey source (or one made
 * grey by a grey monochrome) would come out with three equal channels. imgproxy keeps the
 * colourspace: we convert back to b-w at encode time unless an operation can add colour (a
 * coloured background or tint, a watermark that is not grey itself, a colour output like
 * WebP/AVIF whose encoders store RGB anyway).
 */
function keepsGrey(info: SourceInfo, o: ProcessingOptions, format: OutputFormat, marks: readonly (MarkSource | null)[]): boolean {
  const stages = stagesOf(o);
  // A full-intensity grey monochrome makes any source grey (PreviewProxy's `grayscale`
  // answers one-channel luma, https://docs.rs/image DynamicImage::grayscale).
  const greyed = stages.some((s) => s.monochrome !== null && s.monochrome.intensity >= 1);
  if (!info.grey && !greyed) return false;
  // A grey watermark on a grey image keeps it grey, as imgproxy keeps the result's colourspace
  // (processing/colorspace_test.go TestWatermarkColorspace): the mark's greyness is what the
  // source reader found in it (codecs/source.ts), so a BMP, ICO or HEIC mark is judged too.
  if (stages.some((s, i) => addsColour(s, marks[i] ?? null))) return false;
  // An embedded colour profile is an RGB (or CMYK) one.
  if (o.colorProfile !== null) return false;
  return format === 'jpeg' || format === 'png' || format === 'tiff' || format === 'gif';
}

/** keepsGrey for a result written as `format` (a `best` candidate or the chosen format). */
function greyFor(job: Omit<Job, 'grey'>, format: OutputFormat): boolean {
  return keepsGrey(job.info, job.o, format, job.marks) && !job.frameColours;
}

/**
 * Decoder options. sharp's own input pixel limit stays on as a second line behind the header
 * check: what the decoder finds must not be larger than what the limits let through.
 */
function loadOptions(job: Job, page: number, pages: number, density?: number): SharpOptions {
  const frames = Math.max(1, pages);
  const allowed = Math.max(job.limits.intermediate, job.o.maxSrcResolution * 1e6 * frames);
  return {
    failOn: 'error',
    limitInputPixels: Math.ceil(allowed),
    page,
    pages,
    ...(density !== undefined ? { density: Math.min(100000, Math.max(1, density)) } : {}),
  };
}

/** A new decoding pipeline of the job's source, under the budget. */
function decoder(job: Job, page: number, pages: number, density?: number): Sharp {
  return underBudget(sharpOf(job.input, loadOptions(job, page, pages, density)), job.run);
}

/**
 * Shrink-on-load applies (the resize runs inside the decoding pipeline) when nothing must
 * happen before the resize; a multi-resolution source (ICO) then decodes the rendition that
 * covers the planned size. The rotate/flip options turn after the resize, so they do not stop it.
 */
function resizesOnLoad(o: ProcessingOptions): boolean {
  return o.trim === null && o.crop === null && o.cropAspectRatio === null;
}

/**
 * The resize planned from a source's header, before it is decoded: the one planner of a codec's
 * decode size (loadSize) and a PDF's drawing scale (pdfScale). A codec's output carries no EXIF
 * turn, and the options' turn comes after the resize, so the plan is of the turned size; `swap`
 * says the axes are swapped. Null when no resize runs on load, or when there is no size to plan
 * from (ffprobe may not have measured a video: 0×0).
 */
function loadPlan(width: number, height: number, o: ProcessingOptions, isVector: boolean): { plan: GeometryPlan; swap: boolean } | null {
  if (!resizesOnLoad(o) || !(width > 0 && height > 0)) return null;
  const swap = swapsAxes(optionTurn(o));
  return { plan: planGeometry({ width: swap ? height : width, height: swap ? width : height, isVector }, { ...o, rotate: 0 }), swap };
}

/** The resize's size in stored orientation (what a codec decodes for), or undefined if none runs on load. */
function loadSize(width: number, height: number, o: ProcessingOptions, config: Config): { width: number; height: number } | undefined {
  const planned = config.processing.disableShrinkOnLoad ? null : loadPlan(width, height, o, false);
  if (planned === null) return undefined;
  const { plan, swap } = planned;
  return swap ? { width: plan.scaledHeight, height: plan.scaledWidth } : { width: plan.scaledWidth, height: plan.scaledHeight };
}

function orientedSize(info: SourceInfo, autoRotate: boolean): { width: number; height: number } {
  const swap = autoRotate && orientationSwaps(info.orientation);
  return swap ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

/** Plan options for a frame whose user rotation has already been applied. */
function planFor(width: number, height: number, job: Job): GeometryPlan {
  // A PDF drawn at the size asked is as scalable as an SVG: it may be enlarged like one (in the
  // first pipeline: later ones start from its raster result).
  return planGeometry({ width, height, isVector: job.isVector || (job.stage === 0 && job.info.format === 'pdf') }, { ...job.o, rotate: 0 });
}

/** Watermark overlays for a frame size; prepared once and reused by every animation frame. */
type Overlays = (width: number, height: number, dprScale: number) => Promise<OverlayOptions[] | null>;

function watermarkFor(job: Job): Overlays {
  const { o } = job;
  const wm = o.watermark;
  const mark = job.marks[job.stage] ?? null;
  if (!wm || wm.opacity <= 0 || mark === null) return async () => null;
  const req = { opts: wm, baseOpacity: job.config.processing.watermarkOpacity, size: o.watermarkSize, rotate: o.watermarkRotate, shadow: o.watermarkShadow };
  // The mark was opened (or its text drawn) once; it is placed once per frame size.
  let cached: { key: string; overlays: Promise<OverlayOptions[]> } | null = null;
  return (width, height, dprScale) => {
    const key = `${width}x${height}@${dprScale}`;
    if (cached?.key !== key) {
      // imgproxy's pixel offsets follow the dpr the geometry settled on (prepare.go `DprScale`).
      const placed = { ...req, offsetScale: wm.layout === 'imgproxy' ? dprScale : 1 };
      cached = { key, overlays: watermarkOverlays(mark, { width, height }, placed, job.limits, job.run) };
    }
    return cached.overlays;
  };
}

/**
 * The mark of each pipeline (imgproxy Pro places one watermark per chained pipeline,
 * https://docs.imgproxy.net/features/chained_pipelines), opened once: a request's own image
 * (`watermark_url`) from `ctx.marks`, else the configured one, or its text drawn. Opened before
 * the pipelines run because whether a grey result stays grey depends on the marks.
 */
async function openMarks(o: ProcessingOptions, ctx: ProcessContext, limits: PixelLimits, run: Run): Promise<(MarkSource | null)[]> {
  const opened = new Map<string, Promise<MarkSource | null>>();
  return Promise.all(
    stagesOf(o).map((s) => {
      const wm = s.watermark;
      if (wm === null || wm.opacity <= 0) return null;
      const image = s.watermarkImage;
      const bytes = image?.kind === 'url' ? ctx.marks?.get(image.url) : ctx.watermark;
      // Pipelines drawing the same image share one opening.
      const id = JSON.stringify([image, wm.layout]);
      let mark = opened.get(id);
      if (mark === undefined) {
        mark = openWatermark(image, bytes, { maxPixels: o.maxSrcResolution * 1e6, limits, run, layout: wm.layout });
        opened.set(id, mark);
      }
      return mark;
    }),
  );
}

/** The same job without the steps PreviewProxy keeps off the frames outside a `gif_anim` range. */
function geometricOnly(job: Job): Job {
  const o: ProcessingOptions = { ...job.o, blur: 0, sharpen: 0, pixelate: 0, brightness: 0, contrast: 1, saturation: 1, monochrome: null, watermark: null };
  return { ...job, o };
}

/**
 * Everything after the pre-crop, in as few sharp passes as imgproxy's order allows: resize,
 * result crop, blur and sharpen in one lazy pass; the smart crop, the other filters and Pro's
 * held effects (effects.ts) on held pixels; extend/extend_aspect_ratio/padding as one embed; the
 * per-format size fix (held, rare); flatten, Pro's colour layers (colorize, gradient) and the
 * watermark as one composite. The pixels returned are still lazy: the encoder pulls them.
 */
async function finish(px: Pixels, plan: GeometryPlan, job: Job, watermark: Overlays, turn: Turn): Promise<Pixels> {
  const { o } = job;
  const kernel = kernelFor(o.resizingAlgorithm);
  // Operations pending on `base`, one per sharp slot; a step that needs a slot again, or a slot
  // before one already taken in sharp's order, holds `base` as a frame first.
  let base = px;
  let ops: LazyOps = {};
  let width = plan.scaledWidth;
  let height = plan.scaledHeight;
  const settle = async (): Promise<Frame> => {
    const f = await toFrame(withOps(base.open(), ops), base, { width, height });
    base = framePixels(f);
    ops = {};
    return f;
  };
  // The resize is of the unturned pixels; the turn follows it in the same pass.
  const rw = swapsAxes(turn) ? height : width;
  const rh = swapsAxes(turn) ? width : height;
  if (base.width !== rw || base.height !== rh) {
    ops.resize = { width: rw, height: rh, kernel };
    ops.linear = job.config.processing.useLinearColorspace;
  }
  if (!isIdentity(turn)) ops.turn = turn;
  // Linear light is for the resize only (imgproxy processing/scale.go): what blurs, sharpens or
  // composites after it does so on sRGB pixels, so such a step holds the resized pixels first.
  const inSrgb = async (): Promise<void> => {
    if (ops.linear === true || base.linear === true) await settle();
  };
  if (plan.resultCrop?.kind === 'rect') {
    ops.extract = clampRect(plan.resultCrop.rect, width, height);
    ({ width, height } = ops.extract);
  }
  let alpha = base.hasAlpha;
  const effects = hasEffects(o, plan);
  if (plan.resultCrop?.kind === 'smart' || heldFilters(o) || effects) {
    let f = await settle();
    f = await cropFrame(f, plan.resultCrop?.kind === 'smart' ? plan.resultCrop : null);
    f = await filterFrame(f, o);
    if (effects) f = await applyEffects(f, o, plan, job.limits);
    base = framePixels(f);
    ({ width, height } = f);
    alpha = base.hasAlpha;
  } else {
    if (o.blur > 0 || o.sharpen > 0) await inSrgb();
    ops.blur = o.blur;
    ops.sharpen = o.sharpen;
  }
  const filtering = (ops.blur ?? 0) > 0 || (ops.sharpen ?? 0) > 0;

  const canvas = composeEmbeds(width, height, plan);
  if (canvas) {
    // sharp extends before it blurs; imgproxy filters first.
    if (filtering) await settle();
    if (canvas.keepWidth < width || canvas.keepHeight < height) {
      // The embed's cut is the top-left of what the result crop keeps: one extract.
      const at = ops.extract ?? { left: 0, top: 0 };
      ops.extract = { left: at.left, top: at.top, width: canvas.keepWidth, height: canvas.keepHeight };
    }
    ops.extend = { left: canvas.left, top: canvas.top, right: canvas.right, bottom: canvas.bottom };
    ({ width, height } = canvas);
    alpha = true;
  }
  const fixed = fixSize(width, height, job.format);
  if (fixed.width !== width || fixed.height !== height) {
    base = framePixels(await resizeFrame(await settle(), fixed.width, fixed.height, kernel));
    ({ width, height } = fixed);
  }
  const overlays: OverlayOptions[] = [];
  const formatAlpha = FORMAT_TRAITS[job.format].alpha;
  // A format without alpha flattens the result of the last pipeline only: a chained pipeline
  // after this one still sees the transparency (imgproxy Pro 3.25 changelog).
  if (alpha && (o.background !== null || (!formatAlpha && job.last))) {
    const background = o.background ?? WHITE;
    // Pro's background_alpha keeps the background see-through where the format holds alpha.
    const backgroundAlpha = o.background !== null && formatAlpha ? o.backgroundAlpha : 1;
    if (base.depth === 'ushort' && backgroundAlpha >= 1) {
      // libvips composites in 8-bit sRGB here, which would drop the 16 bits: flatten held pixels.
      await settle();
      ops.flatten = background;
    } else {
      // sharp's own flatten runs before the resize; the background laid under the image after
      // everything else (Porter-Duff dest-over) is imgproxy's order, margins of the embed included.
      overlays.push({ input: { create: { width, height, channels: 4, background: { ...background, alpha: backgroundAlpha } } }, blend: 'dest-over' });
    }
    alpha = backgroundAlpha < 1;
  }
  if (o.colorize) overlays.push(colorizeOverlay(o.colorize, width, height));
  if (o.gradient) overlays.push(gradientOverlay(o.gradient, width, height, job.limits));
  const marks = await watermark(width, height, plan.dprScale);
  if (marks) overlays.push(...marks);
  if (overlays.length > 0) {
    await inSrgb();
    ops.overlays = overlays;
    // Compositing adds alpha; keep the image's own channel layout (imgproxy does the same).
    ops.removeAlpha = !alpha;
  }
  const from = base;
  const pending = ops;
  return { open: () => withOps(from.open(), pending), width, height, hasAlpha: alpha, depth: from.depth, run: from.run, linear: from.linear === true || pending.linear === true };
}

/**
 * Decode, trim and orient a still image, cut the pre-crop, then the steps after it. The rotate
 * and flip options turn the image after the resize (imgproxy processing/processing.go: scale →
 * rotateAndFlip), inside the pass that resizes: the plan is in the final orientation, so the
 * pre-crop is mapped back to the unturned image.
 */
async function processStill(job: Job, page: number, stack: number): Promise<Pixels> {
  const { o, info } = job;
  const kernel = kernelFor(o.resizingAlgorithm);
  const turn = optionTurn(o);
  const oriented = orientedSize(info, o.autoRotate);
  const orientation = o.autoRotate ? info.orientation : 1;

  // Shrink-on-load: resize inside the decoding pipeline so libjpeg/libwebp decode at 1/2, 1/4,
  // 1/8 (and SVG renders at the target size). Only when nothing must happen before the resize,
  // and not for stacked pages, which sharp would resize and crop page by page.
  const early = resizesOnLoad(o) && stack === 1;
  if (early && (job.isVector || !job.config.processing.disableShrinkOnLoad)) {
    const baseW = job.isVector ? Math.max(1, Math.round(oriented.width * job.vectorScale)) : oriented.width;
    const baseH = job.isVector ? Math.max(1, Math.round(oriented.height * job.vectorScale)) : oriented.height;
    const plan = planFor(swapsAxes(turn) ? baseH : baseW, swapsAxes(turn) ? baseW : baseH, job);
    checkPlan(plan, o, job.format, 1, job.depth, job.limits);
    const density = job.isVector ? SVG_BASE_DENSITY * job.vectorScale * Math.max(plan.wscale, plan.hscale) : undefined;
    // EXIF orientation, then the options' turn, as one turn after the resize: the resize is in
    // stored orientation.
    const full = composeTurns(exifTurn(orientation), turn);
    const rw = swapsAxes(full) ? plan.scaledHeight : plan.scaledWidth;
    const rh = swapsAxes(full) ? plan.scaledWidth : plan.scaledHeight;
    // Shrink-on-load still decodes in sRGB; the resize after it is in linear light (imgproxy's
    // IMGPROXY_USE_LINEAR_COLORSPACE documentation says the same of its own shrink-on-load).
    const linear = job.config.processing.useLinearColorspace && !job.isVector && (plan.scaledWidth !== plan.srcWidth || plan.scaledHeight !== plan.srcHeight);
    const decoded: Pixels = {
      open: () => {
        const p = decoder(job, page, 1, density);
        return applyTurn((linear ? linearLight(p) : p).resize(rw, rh, { fit: 'fill', kernel }), full);
      },
      width: plan.scaledWidth,
      height: plan.scaledHeight,
      hasAlpha: info.hasAlpha,
      depth: job.depth,
      run: job.run,
      linear,
    };
    return finish(decoded, plan, job, watermarkFor(job), NO_TURN);
  }

  // imgproxy trims the image as stored, before EXIF orientation: the auto colour is the stored
  // top-left pixel and equal_hor/equal_ver refer to the stored axes.
  const trimFirst = o.trim !== null && orientation > 1;
  // Held whole for the steps before the resize.
  const width = job.isVector ? Math.round(oriented.width * job.vectorScale) : oriented.width;
  const height = (job.isVector ? Math.round(oriented.height * job.vectorScale) : oriented.height) * stack;
  checkCanvas(job.limits, 'intermediate', 'decode', { width, height, depth: job.depth });
  const density = job.isVector ? SVG_BASE_DENSITY * job.vectorScale : undefined;
  const p = decoder(job, page, stack, density);
  let frame = await toFrame(trimFirst ? p : orient(p, orientation), job);
  if (o.trim) frame = await trimFrame(frame, o.trim);
  if (trimFirst) frame = await orientFrame(frame, orientation);
  return cutAndFinish(frame, job, watermarkFor(job), 1);
}

/**
 * The plan of a held, unturned frame (sizes in the final orientation), the pre-crop cut before
 * the turn, then the steps after it with the turn after the resize.
 */
async function cutAndFinish(frame: Frame, job: Job, watermark: Overlays, frames: number): Promise<Pixels> {
  const turn = optionTurn(job.o);
  const swap = swapsAxes(turn);
  const plan = planFor(swap ? frame.height : frame.width, swap ? frame.width : frame.height, job);
  checkPlan(plan, job.o, job.format, frames, job.depth, job.limits);
  const cut = await cropFrame(frame, unturnCrop(plan.crop, plan.srcWidth, plan.srcHeight, turn));
  return finish(framePixels(cut), plan, job, watermark, turn);
}

/** The job of pipeline `index` of the chain: its options over the main ones. */
function stageJob(job: Job, index: number): Job {
  if (index === 0) return job;
  // Later pipelines start from the raster result of the one before.
  return { ...job, o: stageOptions(job.o, index), stage: index, isVector: false, vectorScale: 1, last: index === job.o.chain.length };
}

/**
 * A chained pipeline (imgproxy Pro, https://docs.imgproxy.net/features/chained_pipelines) on the
 * result of the one before: the main pipeline's steps without decoding, EXIF orientation or
 * shrink-on-load. The result before is held first: its operations took sharp's slots. Trim is
 * skipped on animation frames, as in the first pipeline.
 */
async function chainStage(px: Pixels, job: Job, frames: number, animated: boolean): Promise<Pixels> {
  let frame = await toFrame(px.open(), px, px);
  if (job.o.trim && !animated) frame = await trimFrame(frame, job.o.trim);
  return cutAndFinish(frame, job, watermarkFor(job), frames);
}

/** The pipelines after the first, each on the result of the one before. */
async function runChain(job: Job, px: Pixels, frames: number, animated: boolean): Promise<Pixels> {
  let cur = px;
  for (let i = 1; i <= job.o.chain.length; i++) {
    checkAbort(job.run.signal);
    cur = await chainStage(cur, stageJob(job, i), frames, animated);
  }
  return cur;
}

/**
 * Splits the decoded frames, runs each through the steps after the pre-crop and writes it into
 * one strip for the encoder: the strip of results is the only copy of them.
 */
async function processAnimation(job: Job, page: number, count: number, styled: FramePlan['styled'] = () => true): Promise<{ pixels: Pixels; frameHeight: number }> {
  const { o, info } = job;
  const swap = swapsAxes(optionTurn(o));
  // Checked once for all the frames before the strip is decoded (cutAndFinish checks each frame's).
  checkPlan(planFor(swap ? info.height : info.width, swap ? info.width : info.height, job), o, job.format, count, job.depth, job.limits);
  const strip = await toFrame(decoder(job, page, count), job);
  const frameH = strip.height / count;
  const bytesPerFrame = strip.width * frameH * strip.channels * (strip.depth === 'ushort' ? 2 : 1);

  const overlays = watermarkFor(job);
  const plain = geometricOnly(job);
  const none: Overlays = async () => null;
  let out: Frame | null = null;
  for (let i = 0; i < count; i++) {
    checkAbort(job.run.signal);
    const frame: Frame = { ...strip, height: frameH, data: strip.data.subarray(i * bytesPerFrame, (i + 1) * bytesPerFrame) };
    const all = styled(i);
    const finished = await runChain(job, await cutAndFinish(frame, all ? job : plain, all ? overlays : none, count), count, true);
    const done = await toFrame(finished.open(), job, finished);
    out ??= { ...done, height: done.height * count, pageHeight: done.height, data: Buffer.allocUnsafe(done.data.length * count) };
    done.data.copy(out.data, i * done.data.length);
  }
  const strips = out as Frame;
  return { pixels: framePixels(strips), frameHeight: strips.pageHeight ?? strips.height };
}

/** EXIF text, XMP and ICC handling that sharp allows once the pixels went through raw buffers. */
function withMetadata(p: Sharp, job: Job, format: OutputFormat): Sharp {
  const { o, info } = job;
  let out = p;
  const exif = o.stripMetadata ? (o.keepCopyright ? exifText(info.exif, false) : {}) : exifText(info.exif, true);
  if (Object.keys(exif).length > 0 && format !== 'gif') out = out.withExif({ IFD0: exif });
  if (!o.stripMetadata && info.xmp) out = out.withXmp(info.xmp);
  // Pixels are already sRGB; keeping "a" profile means tagging them as sRGB. Not for grey
  // output: an RGB profile on one channel is wrong, and tagging would convert it back to RGB.
  // A `color_profile` converts to its profile and embeds it whatever strip_color_profile says.
  const keep = !o.stripColorProfile && !job.grey && FORMAT_TRAITS[format].colourProfile ? 'srgb' : null;
  const profile = job.profile !== null && profileFits(job.profile, format) ? job.profile : keep;
  if (profile) out = out.withIccProfile(profile);
  return withDensity(out, outputDensity(o, info.density, job.config.processing.stripMetadataDpi));
}

interface Animation {
  delay: number[];
  frameHeight: number;
  loop: number;
}

interface Encoded {
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
}

/**
 * The encode exit: `source` written as `format` at a quality (grey or 16-bit colourspace,
 * metadata, then the encoder of encode.ts). A `best` candidate without alpha gets the pixels
 * flattened as the pipeline would have flattened them for it.
 */
function writer(job: Job, source: Pixels, format: OutputFormat, animation: EncodeSettings['animation']): (quality: number, lossless?: boolean) => Promise<Buffer> {
  const sixteen = source.depth === 'ushort' && (format === 'png' || format === 'tiff');
  const grey = greyFor(job, format);
  return (quality, lossless) => {
    let p = source.open();
    if (source.hasAlpha && !FORMAT_TRAITS[format].alpha) p = p.flatten({ background: job.o.background ?? WHITE });
    if (sixteen) p = p.toColourspace(grey ? 'grey16' : 'rgb16');
    else if (grey) p = p.toColourspace('b-w');
    p = withMetadata(p, { ...job, grey }, format);
    return writeImage(p, { format, quality, animation, alpha: source.hasAlpha && FORMAT_TRAITS[format].alpha, sixteen, lossless }, job.o, job.config, job.run);
  };
}

/** Held pixels, for the steps that encode the same result several times. */
async function held(px: Pixels): Promise<Pixels> {
  return framePixels(await toFrame(px.open(), px, px));
}

/** `best`: the candidates of best-format.ts tried on the result (a still image). */
async function encodeBest(job: Job, px: Pixels, best: BestFormatOptions): Promise<Encoded> {
  const source = await held(px);
  const plan = await planBest(best, {
    sourceFormat: job.info.format,
    width: source.width,
    height: source.height,
    hasAlpha: source.hasAlpha,
    smallAvif: job.o.smallAvif,
    density: () => imageDensity(source.open, source.width, source.height, job.run),
  });
  const encodeAs = (f: OutputFormat): Promise<Buffer> => writer(job, source, f, null)(resolveQuality(f, job.o, job.config), plan.simple && f === 'webp');
  const first = plan.formats[0] as OutputFormat;
  const won = plan.trial ? await smallest(plan.formats, encodeAs) : { format: first, data: await encodeAs(first) };
  return { ...won, width: source.width, height: source.height };
}

/** Whether autoquality searches the quality of this result (imgproxy Pro's conditions). */
function autoqualityApplies(job: Job, format: OutputFormat, lossy: boolean, px: Pixels, anim: Animation | null): boolean {
  const max = job.config.processing.autoqualityMaxResolution;
  return job.o.autoquality.method !== 'none' && lossy && anim === null && !(max > 0 && (px.width * px.height) / 1e6 > max);
}

async function encode(job: Job, px: Pixels, anim: Animation | null): Promise<Encoded> {
  const { o } = job;
  if (o.bestFormat !== null && o.format === null && anim === null) return encodeBest(job, px, o.bestFormat);
  const frameHeight = anim ? anim.frameHeight : px.height;
  const input = { sourceFormat: job.info.format, hasAlpha: job.info.hasAlpha, animated: anim !== null };
  const format = finalFormat(job.format, { width: px.width, height: frameHeight, hasAlpha: px.hasAlpha }, o, (without) =>
    chooseOutputFormat(input, o, job.config, new Set([...writableFormats()].filter((f) => f !== without))),
  );
  const quality = resolveQuality(format, o, job.config);
  const animation = anim ? { loop: anim.loop, delay: anim.delay } : null;
  // A TIFF with alpha or 16-bit samples is written losslessly: no quality to search.
  const lossy = FORMAT_TRAITS[format].quality && !(format === 'tiff' && (px.hasAlpha || px.depth === 'ushort'));
  const fit = o.maxBytes > 0 && lossy;
  const auto = autoqualityApplies(job, format, lossy, px, anim);
  // max_bytes and autoquality encode several times: decode and resize once, not once per quality.
  const source = (fit || auto) && !anim ? await held(px) : px;
  const write = writer(job, source, format, animation);
  let q = quality;
  let data: Buffer | null = null;
  if (auto) {
    const range = qualityRange(format, o.autoquality, job.config);
    const aq = o.autoquality;
    const found =
      aq.method === 'size'
        ? await bySize(write, range, aq.target, job.run.signal)
        : await (async () => {
            const reference = await toRgba(source.open(), job.run);
            return byDssim(write, (d) => dssimOf(reference, d, format, job.run), range, aq.target, aq.allowedError, job.run.signal);
          })();
    q = found.quality;
    data = found.data;
  }
  if (fit && (data === null || data.length > o.maxBytes)) data = await fitBytes(write, q, o.maxBytes, job.run.signal);
  data ??= await write(q);
  // The size the pixels were built to (sharp's info can misreport it, see toFrame).
  return { data, format, width: px.width, height: frameHeight };
}

async function process(source: Buffer, o: ProcessingOptions, ctx: ProcessContext, config: Config, previews: PreviewSettings): Promise<ProcessResult> {
  checkAbort(ctx.signal);
  const limits = pixelLimits(config);
  // The flow passes the request's deadline; a caller without one gets IMGPROXY_TIMEOUT from now.
  const run: Run = { deadline: ctx.deadline ?? Date.now() + config.server.timeout * 1000, signal: ctx.signal };
  // The decode entry point: libvips' formats are decoded lazily by the steps below; a codec's
  // (BMP, ICO, JPEG XL, HEIC, PDF, PSD, video…) is decoded here, off the main thread, once its
  // header passed the resolution check, into what sharp reads.
  const info = await readSource(source, {
    limits: { maxPixels: o.maxSrcResolution * 1e6, maxFrames: Math.max(1, o.maxAnimationFrames, o.pages), deadline: run.deadline, signal: run.signal, previews },
    accept: (format) => {
      if (isVideoFormat(format) && !o.video.enabled) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${format} video, and video thumbnails are off (IMGPROXY_ENABLE_VIDEO_THUMBNAILS)`);
    },
    select: { page: o.page, pages: o.pages },
    check: (width, height, _pages, format) => {
      // A PDF is vector: like SVG it is drawn smaller, not refused (request below). ffprobe may
      // not have measured a video (0×0): ffmpeg's -max_pixels and the frame's check stand.
      if (format === 'pdf' || width === 0) return;
      checkSource(width, height, 1, o, limits, format === 'psd' && o.preserveHdr ? 'ushort' : 'uchar');
    },
    request: (width, height, format, probe) => {
      const request: DecodeRequest = {
        page: o.page,
        pages: o.pages,
        size: loadSize(width, height, o, config),
        seek: o.video.seek,
        keyframes: o.video.keyframes,
        highDepth: o.preserveHdr && probe.highDepth === true,
      };
      return format === 'pdf' ? { ...request, scale: pdfScale(width, height, probe, o, limits) } : request;
    },
  });
  // A video frame asked for as it is (PreviewProxy without transforms): ffmpeg's PNG, unchanged.
  if (isVideoFormat(info.format) && isAsIs(o)) return asIsFrame(info);
  const isVector = info.format === 'svg';
  // The source's own size: a PDF's at 72 DPI, whatever it was drawn at.
  const origin = info.stored ?? orientedSize(info, o.autoRotate);
  // Checked as a source: neither SVG nor PDF (vectors drawn within the limits) is refused for its size.
  const sized = !isVector && info.format !== 'pdf';
  // Pro's `style` goes into the SVG first, so the sanitiser sees it as part of the document.
  const styled = isVector && o.style !== '' ? injectSvgStyle(source, o.style) : source;
  // An SVG is sanitised before it is used, served or rendered (IMGPROXY_SANITIZE_SVG): librsvg
  // would otherwise see its entities and references.
  const input = isVector && config.security.sanitizeSvg ? sanitizeSvg(styled, svgSanitizeOptions(config)) : styled;

  // The source as it is: its own format, its own size (still checked, so a bomb is not served).
  const unprocessed = (): ProcessResult => {
    if (sized) checkSource(origin.width, origin.height, 1, o, limits);
    const format = info.format as OutputFormat;
    return { data: input, format, contentType: MIME_TYPES[format], width: origin.width, height: origin.height, originFormat: info.format, originWidth: origin.width, originHeight: origin.height };
  };
  if (shouldSkipProcessing(info.format, o, config)) return unprocessed();

  // PreviewProxy's gif_anim: chosen frames of a GIF, written as a GIF whatever `format` says
  // (src/modules/transform/pipeline.rs); on any other source it is ignored.
  const selected = o.frames !== null && info.format === 'gif' ? planFrames(o.frames, info.pages, o.maxAnimationFrames) : null;
  const page = selected ? selected.page : Math.min(Math.max(0, o.page), info.pages - 1);
  const animCandidate = isAnimatedFormat(info.format) && info.pages > 1 && o.maxAnimationFrames > 1 && !o.disableAnimation;
  const format = selected ? 'gif' : chooseOutputFormat({ sourceFormat: info.format, hasAlpha: info.hasAlpha, animated: animCandidate }, o, config);
  // PreviewProxy's PP_BEST_FORMAT_ALLOW_SKIPS: a result in the source's format is the source.
  if (o.sourceIfSameFormat && o.bestFormat === null && format === info.format) return unprocessed();
  const animated = selected !== null || (animCandidate && FORMAT_TRAITS[format].animationSave);
  const frames = selected ? selected.count : animated ? Math.min(info.pages - page, o.maxAnimationFrames) : 1;
  // `pages` stacks pages of multi-page stills (TIFF) vertically.
  const stack = !animated && !isAnimatedFormat(info.format) && o.pages > 1 ? Math.min(o.pages, info.pages - page) : 1;

  const depth: Depth = o.preserveHdr && info.depth === 'ushort' ? 'ushort' : 'uchar';
  if (sized) checkSource(origin.width, origin.height * stack, frames, o, limits, depth);
  const maxPixels = o.maxSrcResolution * 1e6;
  const vectorScale = isVector && info.width * info.height > maxPixels ? Math.sqrt(maxPixels / (info.width * info.height)) : 1;

  const profile = o.colorProfile !== null ? await resolveColourProfile(o.colorProfile, config.processing.colorProfilesDir) : null;
  const base = {
    input: input === source ? info.input : { ...info.input, data: input },
    info,
    o,
    ctx,
    config,
    limits,
    run,
    format,
    depth,
    isVector,
    vectorScale,
    marks: await openMarks(o, ctx, limits, run),
    stage: 0,
    last: o.chain.length === 0,
    profile,
    frameColours: selected !== null && o.frames?.keepOthers === true,
  };
  const job: Job = { ...base, grey: greyFor(base, format) };

  let encoded;
  if (animated) {
    const { pixels, frameHeight } = await processAnimation(job, page, frames, selected?.styled);
    const d = (info.delay ?? []).slice(page, page + frames);
    // PreviewProxy writes its GIF to loop for ever.
    encoded = await encode(job, pixels, { delay: Array.from({ length: frames }, (_, i) => d[i] ?? DEFAULT_DELAY_MS), frameHeight, loop: selected ? 0 : info.loop });
  } else {
    encoded = await encode(job, await runChain(job, await processStill(job, page, stack), 1, false), null);
  }
  if (o.sourceIfSameFormat && encoded.format === info.format) return unprocessed();
  return {
    data: encoded.data,
    format: encoded.format,
    contentType: MIME_TYPES[encoded.format],
    width: encoded.width,
    height: encoded.height,
    originFormat: info.format,
    originWidth: origin.width,
    originHeight: origin.height,
  };
}

/**
 * The scale a PDF's pages are drawn at: smaller than 72 DPI when they exceed max_src_resolution
 * (the vector guard, as for SVG), and the size the request needs when the resize comes first
 * and one page is drawn (the shrink-on-load of vectors), within the intermediate bound.
 */
function pdfScale(width: number, height: number, probe: Probe, o: ProcessingOptions, limits: PixelLimits): number {
  const maxPixels = o.maxSrcResolution * 1e6;
  const guard = width * height > maxPixels ? Math.sqrt(maxPixels / (width * height)) : 1;
  let scale = guard;
  const count = Math.min(Math.max(1, o.pages), Math.max(1, probe.pages - Math.max(0, o.page)));
  const planned = count === 1 ? loadPlan(Math.max(1, Math.round(width * guard)), Math.max(1, Math.round(height * guard)), o, true) : null;
  // The larger of the two axis scales: a quarter turn swaps them, the larger stays the larger.
  if (planned !== null) scale = guard * Math.max(planned.plan.wscale, planned.plan.hscale);
  checkCanvas(limits, 'intermediate', 'PDF rendering', { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) });
  return scale;
}

/** A video frame asked for as it is: ffmpeg's PNG, as PreviewProxy returns it without transforms. */
function asIsFrame(info: SourceInfo): ProcessResult {
  return {
    data: info.input.data,
    format: 'png',
    contentType: MIME_TYPES.png,
    width: info.width,
    height: info.height,
    originFormat: info.format,
    originWidth: info.width,
    originHeight: info.height,
  };
}

/**
 * Builds the Processor bound to the frozen configuration (the composition root uses this).
 * Configures sharp first: building a processor is the explicit step that needs it. The PDF and
 * video decoders' settings are the app's when it passes them (it looked ffmpeg up once), else
 * made from `config` now.
 */
export function createProcessor(config: Config, previews: PreviewSettings = previewSettings(config)): Processor {
  initSharp();
  return (source, options, ctx) => process(source, options, ctx, config, previews);
}
