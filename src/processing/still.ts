/**
 * The still-image path of the first pipeline: shrink-on-load (the resize inside the decoding
 * pipeline) when nothing must happen before the resize, else decode, trim and orient held
 * pixels, then the stage runner.
 */
import { watermarkFor } from './chain-marks.js';
import { finish } from './finish.js';
import { applyTurn, kernelFor, linearLight, orient, orientFrame, toFrame, trimFrame, type Pixels } from './frame.js';
import { decoder, planFor, type Job } from './job.js';
import { checkCanvas, checkPlan } from './limits.js';
import { resizesOnLoad } from './load-plan.js';
import { orientedSize } from './source-open.js';
import { cutAndFinish } from './stages.js';
import { composeTurns, exifTurn, NO_TURN, optionTurn, swapsAxes } from './turns.js';
import { SVG_BASE_DENSITY } from './vector-input.js';

/**
 * Decode, trim and orient a still image, cut the pre-crop, then the steps after it. The rotate
 * and flip options turn the image after the resize (imgproxy processing/processing.go: scale →
 * rotateAndFlip), inside the pass that resizes: the plan is in the final orientation, so the
 * pre-crop is mapped back to the unturned image.
 */
export async function processStill(job: Job, page: number, stack: number): Promise<Pixels> {
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
