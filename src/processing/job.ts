/**
 * A processing job: what every stage of one request's pipeline reads (the decoded source, the
 * options, the pixel limits, the deadline, the output format, the marks), and what is derived
 * from it alone: the options of each chained pipeline and its job, a new decoder of the source,
 * the geometry plan of a frame.
 */
import type { Sharp, SharpOptions } from 'sharp';
import type { Config } from '../config/index.js';
import type { OutputFormat } from '../formats.js';
import { stageOptions, type ProcessingOptions, type Rgb } from '../options.js';
import { sharpOf, type SharpInput, type SourceInfo } from './codecs/source.js';
import type { Depth } from './frame.js';
import { planGeometry, type GeometryPlan } from './geometry.js';
import type { PixelLimits } from './limits.js';
import { underBudget, type Run } from './run.js';
import type { ProcessContext } from './types.js';
import type { MarkSource } from './watermark-mark.js';

/** What a result without alpha is flattened onto when no background is asked for (imgproxy's white). */
export const WHITE: Rgb = { r: 255, g: 255, b: 255 };

export interface Job {
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

/** The options of every pipeline of the chain, first to last. */
export function stagesOf(o: ProcessingOptions): ProcessingOptions[] {
  return [o, ...o.chain.map((_, i) => stageOptions(o, i + 1))];
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
export function decoder(job: Job, page: number, pages: number, density?: number): Sharp {
  return underBudget(sharpOf(job.input, loadOptions(job, page, pages, density)), job.run);
}

/** Plan options for a frame whose user rotation has already been applied. */
export function planFor(width: number, height: number, job: Job): GeometryPlan {
  // A PDF drawn at the size asked is as scalable as an SVG: it may be enlarged like one (in the
  // first pipeline: later ones start from its raster result).
  return planGeometry({ width, height, isVector: job.isVector || (job.stage === 0 && job.info.format === 'pdf') }, { ...job.o, rotate: 0 });
}

/** The job of pipeline `index` of the chain: its options over the main ones. */
export function stageJob(job: Job, index: number): Job {
  if (index === 0) return job;
  // Later pipelines start from the raster result of the one before.
  return { ...job, o: stageOptions(job.o, index), stage: index, isVector: false, vectorScale: 1, last: index === job.o.chain.length };
}

/** The same job without the steps PreviewProxy keeps off the frames outside a `gif_anim` range. */
export function geometricOnly(job: Job): Job {
  const o: ProcessingOptions = { ...job.o, blur: 0, sharpen: 0, pixelate: 0, brightness: 0, contrast: 1, saturation: 1, monochrome: null, watermark: null };
  return { ...job, o };
}
