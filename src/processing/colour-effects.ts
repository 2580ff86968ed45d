/**
 * imgproxy Pro's `duotone` (https://docs.imgproxy.net/usage/processing#duotone): the image's
 * luma mapped from the shadows colour (`color1`) to the highlights colour (`color2`), blended
 * over the image by `intensity`. Alpha is untouched. Runs on held pixels among the filters.
 */
import { hexToRgb, type DuotoneOptions } from '../options.js';
import { fromFrame, hasAlpha, toFrame, type Frame } from './frame.js';
import { samplesOf } from './sample-view.js';

/** Rec. 709 luma weights, the ones libvips' sRGB → b-w conversion uses. */
const LUMA = [0.2126, 0.7152, 0.0722] as const;

export async function duotone(f: Frame, d: DuotoneOptions): Promise<Frame> {
  // A grey frame gets colour bands first: the two colours make it a colour image.
  // Written in place, so never into a buffer someone else holds (a decoded source, a strip).
  const rgb = f.channels < 3 ? await toFrame(fromFrame(f).toColourspace(f.depth === 'ushort' ? 'rgb16' : 'srgb'), f) : { ...f, data: Buffer.from(f.data) };
  const { data, max } = samplesOf(rgb);
  const scale = max / 255;
  const dark = hexToRgb(d.dark);
  const light = hexToRgb(d.light);
  const lo = [dark.r * scale, dark.g * scale, dark.b * scale];
  const span = [(light.r - dark.r) * scale, (light.g - dark.g) * scale, (light.b - dark.b) * scale];
  const k = Math.min(1, Math.max(0, d.intensity));
  const step = rgb.channels;
  const colour = hasAlpha(rgb) ? step - 1 : step;
  for (let i = 0; i + step <= data.length; i += step) {
    const l = (LUMA[0] * (data[i] ?? 0) + LUMA[1] * (data[i + 1] ?? 0) + LUMA[2] * (data[i + 2] ?? 0)) / max;
    for (let c = 0; c < colour && c < 3; c++) {
      const v = data[i + c] ?? 0;
      data[i + c] = Math.round(v * (1 - k) + ((lo[c] ?? 0) + (span[c] ?? 0) * l) * k);
    }
  }
  return rgb;
}
