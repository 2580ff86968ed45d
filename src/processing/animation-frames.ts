/**
 * The animation path: the frames of an animated GIF/WebP decoded as one strip, each run through
 * the stages (the geometric ones only outside a `gif_anim` range), and written into one strip
 * for the encoder with their delays.
 */
import type { FramePlan } from './animation.js';
import { watermarkFor, type Overlays } from './chain-marks.js';
import { framePixels, toFrame, type Frame, type Pixels } from './frame.js';
import { decoder, geometricOnly, planFor, type Job } from './job.js';
import { checkPlan } from './limits.js';
import { checkAbort } from './run.js';
import { cutAndFinish, runChain } from './stages.js';
import { optionTurn, swapsAxes } from './turns.js';

/** Missing frame delays default to 40 ms (25 fps), as in imgproxy. */
const DEFAULT_DELAY_MS = 40;

/** The delays of `count` frames from `page` on, a missing one at the default. */
export function frameDelays(delay: readonly number[] | undefined, page: number, count: number): number[] {
  const d = (delay ?? []).slice(page, page + count);
  return Array.from({ length: count }, (_, i) => d[i] ?? DEFAULT_DELAY_MS);
}

/**
 * Splits the decoded frames, runs each through the steps after the pre-crop and writes it into
 * one strip for the encoder: the strip of results is the only copy of them.
 */
export async function processAnimation(job: Job, page: number, count: number, styled: FramePlan['styled'] = () => true): Promise<{ pixels: Pixels; frameHeight: number }> {
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
