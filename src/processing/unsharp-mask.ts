/**
 * imgproxy Pro's unsharp masking (IMGPROXY_UNSHARP_MASKING_MODE / _WEIGHT / _DIVIDER and the
 * `unsharp_masking` option, https://docs.imgproxy.net/configuration/options#unsharp-masking):
 * after a downscale (`auto`, unless `sharpen` is set) or always, a 3×3 convolution whose
 * neighbours weigh −weight and whose centre keeps the pixel: kernel sum = divider, divided by
 * the divider, so flat areas are unchanged, a greater weight or a smaller divider sharpens more.
 */
import type { ProcessingOptions } from '../options.js';
import { fromFrame, toFrame, type Frame } from './frame.js';

/** Whether the pipeline's options and its scale call for unsharp masking. */
export function wantsUnsharp(o: Pick<ProcessingOptions, 'unsharpMasking' | 'sharpen'>, downscaled: boolean): boolean {
  const { mode } = o.unsharpMasking;
  return mode === 'always' || (mode === 'auto' && downscaled && o.sharpen === 0);
}

export function unsharpKernel(weight: number, divider: number): { width: 3; height: 3; kernel: number[]; scale: number } {
  const w = -weight;
  return { width: 3, height: 3, kernel: [w, w, w, w, divider + 8 * weight, w, w, w, w], scale: divider };
}

export async function unsharpMask(f: Frame, o: Pick<ProcessingOptions, 'unsharpMasking'>): Promise<Frame> {
  return toFrame(fromFrame(f).convolve(unsharpKernel(o.unsharpMasking.weight, o.unsharpMasking.divider)), f, f);
}
