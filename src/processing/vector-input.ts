/**
 * Vector sources (SVG, PDF): the SVG a request renders (Pro's `style` injected, then sanitised),
 * the vector guard that draws an oversized vector smaller instead of refusing it, and the
 * density libvips renders SVG at.
 */
import type { Config } from '../config/index.js';
import type { ProcessingOptions } from '../options.js';
import { sanitizeSvg, svgSanitizeOptions } from './svg-sanitize.js';
import { injectSvgStyle } from './svg-style.js';

/** libvips renders SVG at 72 DPI for a scale of 1. */
export const SVG_BASE_DENSITY = 72;

/** The SVG document to use, serve or render. */
export function svgInput(source: Buffer, o: Pick<ProcessingOptions, 'style'>, config: Config): Buffer {
  // Pro's `style` goes into the SVG first, so the sanitiser sees it as part of the document.
  const styled = o.style !== '' ? injectSvgStyle(source, o.style) : source;
  // An SVG is sanitised before it is used, served or rendered (IMGPROXY_SANITIZE_SVG): librsvg
  // would otherwise see its entities and references.
  return config.security.sanitizeSvg ? sanitizeSvg(styled, svgSanitizeOptions(config)) : styled;
}

/** The vector guard: the scale that brings a width × height vector within `maxPixels` (1 = it fits). */
export function vectorGuard(width: number, height: number, maxPixels: number): number {
  return width * height > maxPixels ? Math.sqrt(maxPixels / (width * height)) : 1;
}
