/**
 * The watermarks of a request: the mark of each pipeline of the chain, opened once before the
 * pipelines run, and its overlays placed once per frame size.
 */
import type { OverlayOptions } from 'sharp';
import type { ProcessingOptions } from '../options.js';
import { stagesOf, type Job } from './job.js';
import type { PixelLimits } from './limits.js';
import type { Run } from './run.js';
import type { ProcessContext } from './types.js';
import { openWatermark, watermarkOverlays } from './watermark.js';
import type { MarkSource } from './watermark-mark.js';

/** Watermark overlays for a frame size; prepared once and reused by every animation frame. */
export type Overlays = (width: number, height: number, dprScale: number) => Promise<OverlayOptions[] | null>;

export function watermarkFor(job: Job): Overlays {
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
export async function openMarks(o: ProcessingOptions, ctx: ProcessContext, limits: PixelLimits, run: Run): Promise<(MarkSource | null)[]> {
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
