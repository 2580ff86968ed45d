/**
 * Pixel bounds, checked from the geometry before sharp allocates anything.
 *
 * libvips allocates whatever canvas it is asked for, and a canvas of a few gigapixels
 * (`pd:16500` on any image is 33000×33000, 4.4 GB of RGBA) ends the process in glibc's heap
 * checks instead of in an error. So the size of every canvas a request makes is computed here
 * from the plan — the decoded frames, the scaled image, extend, extend_aspect_ratio, padding,
 * pixelate's block grid, the watermark, the result — and refused with 422 when it is over its
 * bound: PIXPROXY_MAX_RESULT_RESOLUTION for the result, PIXPROXY_MAX_INTERMEDIATE_RESOLUTION
 * for everything else. Frames count: an animation strip of n frames is n canvases held at once.
 * A 16-bit intermediate (preserve_hdr) counts double, because it takes twice the memory when a
 * step must hold it; the result does not, the encoders write it out as they go.
 *
 * imgproxy's own source limits (security/checker.go `CheckDimensions`,
 * https://github.com/imgproxy/imgproxy/blob/master/security/checker.go) are `checkSource`.
 * imgproxy has no result or intermediate bound; its IMGPROXY_MAX_RESULT_DIMENSION scales the
 * result down instead and stays in the geometry (geometry.ts `limitScale`).
 */
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import type { OutputFormat } from '../formats.js';
import type { ProcessingOptions } from '../options.js';
import type { Depth } from './frame.js';
import type { GeometryPlan } from './geometry.js';
import { fixSize, pixelateGrid } from './step-sizes.js';

export interface PixelLimits {
  /** Largest result, pixels (all frames). */
  readonly result: number;
  /** Largest canvas at any other step, pixels (all frames). */
  readonly intermediate: number;
}

export function pixelLimits(config: Config): PixelLimits {
  return {
    result: Math.floor(config.security.maxResultResolution * 1e6),
    intermediate: Math.floor(config.security.maxIntermediateResolution * 1e6),
  };
}

function megapixels(n: number): string {
  return `${Math.round(n / 1e4) / 100} MP`;
}

export interface CanvasSize {
  width: number;
  height: number;
  /** Frames held at once (an animation strip); default 1. */
  frames?: number;
  /** 16-bit canvases (preserve_hdr) take twice the memory and count double as intermediates. */
  depth?: Depth;
}

/** Refuses a canvas over the given bound. */
export function checkCanvas(limits: PixelLimits, kind: 'result' | 'intermediate', what: string, c: CanvasSize): void {
  const frames = Math.max(1, c.frames ?? 1);
  const weight = kind === 'intermediate' && c.depth === 'ushort' ? 2 : 1;
  const bound = kind === 'result' ? limits.result : limits.intermediate;
  const pixels = c.width * c.height * frames;
  // NaN and Infinity (a scale of 1e308) are refused too: `!(a <= b)`.
  if (!(pixels * weight <= bound)) {
    const name = kind === 'result' ? 'PIXPROXY_MAX_RESULT_RESOLUTION' : 'PIXPROXY_MAX_INTERMEDIATE_RESOLUTION';
    const size = `${c.width}x${c.height}${frames > 1 ? `x${frames}` : ''}`;
    const counted = weight > 1 ? ', 16-bit counted double' : '';
    throw new ProxyError('RESULT_TOO_BIG', `${what}: ${size} (${megapixels(pixels)}${counted}) is over ${name} (${megapixels(bound)})`);
  }
}

/**
 * imgproxy CheckDimensions: width × height × frames against max_src_resolution or, for several
 * frames with max_animation_frame_resolution set, each frame against that. In that second case
 * nothing bounds the frames together, yet they are decoded at once: they must fit the
 * intermediate bound.
 */
export function checkSource(
  width: number,
  height: number,
  frames: number,
  o: Pick<ProcessingOptions, 'maxSrcResolution' | 'maxAnimationFrameResolution'>,
  limits: PixelLimits,
  depth: Depth = 'uchar',
): void {
  const n = Math.max(1, frames);
  if (n > 1 && o.maxAnimationFrameResolution > 0) {
    if (width * height > o.maxAnimationFrameResolution * 1e6) {
      throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: frame resolution ${width}x${height} is over ${o.maxAnimationFrameResolution} MP`);
    }
    checkCanvas(limits, 'intermediate', 'source frames', { width, height, frames: n, depth });
  } else if (width * height * n > o.maxSrcResolution * 1e6) {
    throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${width}x${height}x${n} is over ${o.maxSrcResolution} MP`);
  }
}

/**
 * Every canvas the plan makes after the decode, against its bound, for `frames` frames of
 * `depth`; returns the result size. Called before the step that makes the first of them runs.
 */
export function checkPlan(plan: GeometryPlan, o: Pick<ProcessingOptions, 'pixelate'>, format: OutputFormat, frames: number, depth: Depth, limits: PixelLimits): { width: number; height: number } {
  const steps: [string, number, number][] = [['resize', plan.scaledWidth, plan.scaledHeight]];
  if (o.pixelate > 1) {
    const grid = pixelateGrid(plan.resultWidth, plan.resultHeight, o.pixelate);
    steps.push(['pixelate', grid.width, grid.height]);
  }
  if (plan.extend) steps.push(['extend', plan.extend.width, plan.extend.height]);
  if (plan.extendAspectRatio) steps.push(['extend_aspect_ratio', plan.extendAspectRatio.width, plan.extendAspectRatio.height]);
  if (plan.padding) steps.push(['padding', plan.width, plan.height]);
  for (const [what, width, height] of steps) checkCanvas(limits, 'intermediate', what, { width, height, frames, depth });
  const result = fixSize(plan.width, plan.height, format);
  checkCanvas(limits, 'result', 'result', { ...result, frames });
  return result;
}
