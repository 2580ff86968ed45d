/**
 * imgproxy Pro's autoquality (https://docs.imgproxy.net/features/autoquality): the quality is
 * searched, not fixed. `size`: the highest quality in [min, max] whose result fits in `target`
 * bytes (the lowest when none does). `dssim`: the lowest quality in [min, max] whose DSSIM to
 * the pipeline's pixels (ssim.ts) is at most `target`, stopping as soon as one is within
 * `allowedError` of it (the highest when none reaches it). Both are binary searches: at most
 * ⌈log2(max − min + 1)⌉ + 1 encodes, each checked against the request's abort and deadline.
 */
import type { Config } from '../config/index.js';
import type { OutputFormat } from '../formats.js';
import type { AutoqualityOptions } from '../options.js';
import { checkAbort } from './run.js';

export interface QualityRange {
  readonly min: number;
  readonly max: number;
}

/** [min, max] for a format: the URL's values, else IMGPROXY_AUTOQUALITY_FORMAT_MIN/MAX, else _MIN/_MAX. */
export function qualityRange(format: OutputFormat, aq: AutoqualityOptions, config: Config): QualityRange {
  const p = config.processing;
  const min = aq.min ?? p.autoqualityFormatMin[format] ?? p.autoqualityMin;
  const max = aq.max ?? p.autoqualityFormatMax[format] ?? p.autoqualityMax;
  const lo = Math.max(1, Math.min(100, Math.round(min)));
  return { min: lo, max: Math.max(lo, Math.min(100, Math.round(max))) };
}

export interface Encoded {
  readonly data: Buffer;
  readonly quality: number;
}

/** Highest quality within `target` bytes. */
export async function bySize(encode: (q: number) => Promise<Buffer>, range: QualityRange, target: number, signal?: AbortSignal): Promise<Encoded> {
  let lo = range.min;
  let hi = range.max;
  let fit: Encoded | null = null;
  let lowest: Encoded | null = null;
  while (lo <= hi) {
    checkAbort(signal);
    const q = Math.ceil((lo + hi) / 2);
    const data = await encode(q);
    if (data.length <= target) {
      fit = { data, quality: q };
      lo = q + 1;
    } else {
      if (q === range.min) lowest = { data, quality: q };
      hi = q - 1;
    }
  }
  return fit ?? lowest ?? { data: await encode(range.min), quality: range.min };
}

/** Lowest quality whose DSSIM is at most `target` (within `allowedError` ends the search). */
export async function byDssim(
  encode: (q: number) => Promise<Buffer>,
  measure: (data: Buffer) => Promise<number>,
  range: QualityRange,
  target: number,
  allowedError: number,
  signal?: AbortSignal,
): Promise<Encoded> {
  let lo = range.min;
  let hi = range.max;
  let good: Encoded | null = null;
  let best: Encoded | null = null;
  while (lo <= hi) {
    checkAbort(signal);
    const q = Math.floor((lo + hi) / 2);
    const data = await encode(q);
    const d = await measure(data);
    if (Math.abs(d - target) <= allowedError) return { data, quality: q };
    if (d <= target) {
      good = { data, quality: q };
      hi = q - 1;
    } else {
      if (q === range.max) best = { data, quality: q };
      lo = q + 1;
    }
  }
  return good ?? best ?? { data: await encode(range.max), quality: range.max };
}
