/**
 * imgproxy Pro's colour layers on the processed image, `colorize` (one colour at an opacity)
 * and `gradient` (a colour fading in along a direction), as overlays for sharp's composite:
 * they join the flatten background and the watermark in one lazy libvips pass, after the
 * background and before the watermark
 * (https://docs.imgproxy.net/usage/processing#colorize, #gradient).
 */
import type { OverlayOptions } from 'sharp';
import { hexToRgb, type ColorizeOptions, type GradientOptions } from '../options.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { rampField } from './ramp.js';

/**
 * `keep_alpha` keeps the image's transparency (the colour lands only where the image is:
 * Porter-Duff atop); without it transparent areas are coloured too.
 */
export function colorizeOverlay(c: ColorizeOptions, width: number, height: number): OverlayOptions {
  const { r, g, b } = hexToRgb(c.color);
  return { input: { create: { width, height, channels: 4, background: { r, g, b, alpha: c.opacity } } }, blend: c.keepAlpha ? 'atop' : 'over' };
}

/** The gradient as an RGBA layer of the image's size (bounded like any other canvas). */
export function gradientOverlay(gr: GradientOptions, width: number, height: number, limits: PixelLimits): OverlayOptions {
  checkCanvas(limits, 'intermediate', 'gradient', { width, height });
  const { r, g, b } = hexToRgb(gr.color);
  const field = rampField(width, height, gr);
  const data = Buffer.allocUnsafe(width * height * 4);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data[i++] = r;
      data[i++] = g;
      data[i++] = b;
      data[i++] = Math.round(255 * gr.opacity * field.at(x, y));
    }
  }
  return { input: data, raw: { width, height, channels: 4 }, blend: 'over' };
}
