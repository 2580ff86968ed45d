// placeholder: replaced by the ops branch
/** Placeholder SVG sanitiser: returns the input unchanged until the ops branch lands. */
export function sanitizeSvg(svg: Buffer): Buffer {
  return svg;
}
