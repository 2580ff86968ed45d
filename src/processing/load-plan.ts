/**
 * The resize planned from a source's header, before it is decoded: whether shrink-on-load
 * applies, the size a codec decodes for, and the scale a PDF is drawn at.
 */
import type { Config } from '../config/index.js';
import type { ProcessingOptions } from '../options.js';
import type { Probe } from './codecs/types.js';
import { planGeometry, type GeometryPlan } from './geometry.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { optionTurn, swapsAxes } from './turns.js';
import { vectorGuard } from './vector-input.js';

/**
 * Shrink-on-load applies (the resize runs inside the decoding pipeline) when nothing must
 * happen before the resize; a multi-resolution source (ICO) then decodes the rendition that
 * covers the planned size. The rotate/flip options turn after the resize, so they do not stop it.
 */
export function resizesOnLoad(o: ProcessingOptions): boolean {
  return o.trim === null && o.crop === null && o.cropAspectRatio === null;
}

/**
 * The resize planned from a source's header, before it is decoded: the one planner of a codec's
 * decode size (loadSize) and a PDF's drawing scale (pdfScale). A codec's output carries no EXIF
 * turn, and the options' turn comes after the resize, so the plan is of the turned size; `swap`
 * says the axes are swapped. Null when no resize runs on load, or when there is no size to plan
 * from (ffprobe may not have measured a video: 0×0).
 */
export function loadPlan(width: number, height: number, o: ProcessingOptions, isVector: boolean): { plan: GeometryPlan; swap: boolean } | null {
  if (!resizesOnLoad(o) || !(width > 0 && height > 0)) return null;
  const swap = swapsAxes(optionTurn(o));
  return { plan: planGeometry({ width: swap ? height : width, height: swap ? width : height, isVector }, { ...o, rotate: 0 }), swap };
}

/** The resize's size in stored orientation (what a codec decodes for), or undefined if none runs on load. */
export function loadSize(width: number, height: number, o: ProcessingOptions, config: Config): { width: number; height: number } | undefined {
  const planned = config.processing.disableShrinkOnLoad ? null : loadPlan(width, height, o, false);
  if (planned === null) return undefined;
  const { plan, swap } = planned;
  return swap ? { width: plan.scaledHeight, height: plan.scaledWidth } : { width: plan.scaledWidth, height: plan.scaledHeight };
}

/**
 * The scale a PDF's pages are drawn at: smaller than 72 DPI when they exceed max_src_resolution
 * (the vector guard, as for SVG), and the size the request needs when the resize comes first
 * and one page is drawn (the shrink-on-load of vectors), within the intermediate bound.
 */
export function pdfScale(width: number, height: number, probe: Probe, o: ProcessingOptions, limits: PixelLimits): number {
  const guard = vectorGuard(width, height, o.maxSrcResolution * 1e6);
  let scale = guard;
  const count = Math.min(Math.max(1, o.pages), Math.max(1, probe.pages - Math.max(0, o.page)));
  const planned = count === 1 ? loadPlan(Math.max(1, Math.round(width * guard)), Math.max(1, Math.round(height * guard)), o, true) : null;
  // The larger of the two axis scales: a quarter turn swaps them, the larger stays the larger.
  if (planned !== null) scale = guard * Math.max(planned.plan.wscale, planned.plan.hscale);
  checkCanvas(limits, 'intermediate', 'PDF rendering', { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) });
  return scale;
}
