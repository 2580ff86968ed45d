/**
 * The stage runner: a held frame through its pipeline's plan (the pre-crop cut before the turn,
 * then finish.ts), and the chained pipelines of imgproxy Pro after the first, each on the
 * result of the one before.
 */
import { watermarkFor, type Overlays } from './chain-marks.js';
import { finish } from './finish.js';
import { cropFrame, framePixels, toFrame, trimFrame, type Frame, type Pixels } from './frame.js';
import { planFor, stageJob, type Job } from './job.js';
import { checkPlan } from './limits.js';
import { checkAbort } from './run.js';
import { optionTurn, swapsAxes, unturnCrop } from './turns.js';

/**
 * The plan of a held, unturned frame (sizes in the final orientation), the pre-crop cut before
 * the turn, then the steps after it with the turn after the resize.
 */
export async function cutAndFinish(frame: Frame, job: Job, watermark: Overlays, frames: number): Promise<Pixels> {
  const turn = optionTurn(job.o);
  const swap = swapsAxes(turn);
  const plan = planFor(swap ? frame.height : frame.width, swap ? frame.width : frame.height, job);
  checkPlan(plan, job.o, job.format, frames, job.depth, job.limits);
  const cut = await cropFrame(frame, unturnCrop(plan.crop, plan.srcWidth, plan.srcHeight, turn));
  return finish(framePixels(cut), plan, job, watermark, turn);
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
export async function runChain(job: Job, px: Pixels, frames: number, animated: boolean): Promise<Pixels> {
  let cur = px;
  for (let i = 1; i <= job.o.chain.length; i++) {
    checkAbort(job.run.signal);
    cur = await chainStage(cur, stageJob(job, i), frames, animated);
  }
  return cur;
}
