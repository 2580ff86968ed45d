/**
 * The image pipeline (Processor): bytes + options in, encoded bytes out, in imgproxy's order
 * (processing/processing.go):
 *
 *   header probe → resolution limits (before decoding) → skip_processing / SVG passthrough →
 *   output format → decode (shrink-on-load, vector guard) → trim → EXIF orientation → rotate/flip →
 *   crop → scale → result crop → filters → extend → extend_aspect_ratio → padding → fix size →
 *   flatten → watermark → metadata and colour profile → encode (max_bytes loop).
 *
 * This module is the entry (createProcessor) and the order; the stages are modules of their own:
 * source-open.ts (probe, limits, codec decode), vector-input.ts (SVG style/sanitise, the vector
 * guard), job.ts (what the stages read), still.ts and animation-frames.ts (the two decode paths),
 * stages.ts (plan, pre-crop, chained pipelines), finish.ts (the steps after the pre-crop),
 * chain-marks.ts (watermarks), keeps-grey.ts, output-stage.ts (format, best, autoquality,
 * max_bytes, encode).
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
import type { Config } from '../config/index.js';
import { isAsIs } from '../default-options.js';
import { isVideoFormat, MIME_TYPES, type ImageFormat, type OutputFormat } from '../formats.js';
import type { ProcessingOptions } from '../options.js';
import { frameDelays, processAnimation } from './animation-frames.js';
import { planFrames } from './animation.js';
import { openMarks } from './chain-marks.js';
import type { SourceInfo } from './codecs/source.js';
import { previewSettings } from './codecs/preview-settings.js';
import type { PreviewSettings } from './codecs/types.js';
import { chooseOutputFormat, FORMAT_TRAITS, shouldSkipProcessing } from './format.js';
import type { Depth } from './frame.js';
import type { Job } from './job.js';
import { greyFor } from './keeps-grey.js';
import { checkSource, pixelLimits } from './limits.js';
import { encode } from './output-stage.js';
import { resolveColourProfile } from './output-profile.js';
import { checkAbort, type Run } from './run.js';
import { initSharp } from './sharp-setup.js';
import { orientedSize, openSource } from './source-open.js';
import { runChain } from './stages.js';
import { processStill } from './still.js';
import type { ProcessContext, ProcessResult, Processor } from './types.js';
import { svgInput, vectorGuard } from './vector-input.js';
import { detectImageFormat } from '../sources/detect.js';

function isAnimatedFormat(f: ImageFormat): boolean {
  return f === 'gif' || f === 'webp';
}

async function process(source: Buffer, o: ProcessingOptions, ctx: ProcessContext, config: Config, previews: PreviewSettings): Promise<ProcessResult> {
  checkAbort(ctx.signal);
  const limits = pixelLimits(config);
  // The flow passes the request's deadline; a caller without one gets IMGPROXY_TIMEOUT from now.
  const run: Run = { deadline: ctx.deadline ?? Date.now() + config.server.timeout * 1000, signal: ctx.signal };
  // The decode entry point: libvips' formats are decoded lazily by the steps below; a codec's
  // (BMP, ICO, JPEG XL, HEIC, PDF, PSD, video…) is decoded here, off the main thread, once its
  // header passed the resolution check, into what sharp reads.
  // An SVG is styled and sanitised before anything reads it, the header probe included, so
  // librsvg's XML parser never sees the document as sent (its entities, scripts, encoding).
  const input = detectImageFormat(source) === 'svg' ? svgInput(source, o, config) : source;
  const info = await openSource(input, o, config, previews, limits, run);
  // A video frame asked for as it is (PreviewProxy without transforms): ffmpeg's PNG, unchanged.
  if (isVideoFormat(info.format) && isAsIs(o)) return asIsFrame(info);
  const isVector = info.format === 'svg';
  // The source's own size: a PDF's at 72 DPI, whatever it was drawn at.
  const origin = info.stored ?? orientedSize(info, o.autoRotate);
  // Checked as a source: neither SVG nor PDF (vectors drawn within the limits) is refused for its size.
  const sized = !isVector && info.format !== 'pdf';

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
  const vectorScale = isVector ? vectorGuard(info.width, info.height, o.maxSrcResolution * 1e6) : 1;

  const profile = o.colorProfile !== null ? await resolveColourProfile(o.colorProfile, config.processing.colorProfilesDir) : null;
  const base = {
    input: info.input,
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
    // PreviewProxy writes its GIF to loop for ever.
    encoded = await encode(job, pixels, { delay: frameDelays(info.delay, page, frames), frameHeight, loop: selected ? 0 : info.loop });
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
