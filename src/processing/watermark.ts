// placeholder: replaced by the ops branch
/** Placeholder watermark: one centred overlay at its natural size, no opacity handling. */
import type { OverlayOptions } from 'sharp';
import type { WatermarkOptions } from '../options.js';

export async function watermarkOverlays(
  watermark: Buffer,
  _canvas: { width: number; height: number },
  _opts: WatermarkOptions,
  _baseOpacity: number,
): Promise<OverlayOptions[]> {
  return [{ input: watermark, gravity: 'centre' }];
}
