/**
 * Embeds: extend, extend_aspect_ratio and padding, the steps that place the image on a larger
 * canvas (imgproxy's https://github.com/imgproxy/imgproxy/blob/master/processing/extend.go and
 * padding.go), and their composition into the one embed sharp runs. Pure.
 */
import type { Gravity, ProcessingOptions } from '../options.js';
import { scaleToEven } from './go-math.js';
import { calcPosition } from './gravity.js';

/** Places an image of the current size at (left, top) on a width × height canvas. */
export interface EmbedStep {
  width: number;
  height: number;
  left: number;
  top: number;
}

/** Margins in output pixels. */
export interface Padding {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** The embeds of a plan, in the order they run. */
export interface PlannedEmbeds {
  extend: EmbedStep | null;
  extendAspectRatio: EmbedStep | null;
  /** Padding in output pixels (already multiplied by the DPR scale). */
  padding: Padding | null;
}

/** imgproxy extendImage: embed into (w, h) when it is larger in some dimension. */
export function planExtend(imgW: number, imgH: number, w: number, h: number, gravity: Gravity, dpr: number): EmbedStep | null {
  if (w <= imgW && h <= imgH) return null;
  const cw = w <= 0 ? imgW : w;
  const ch = h <= 0 ? imgH : h;
  const { left, top } = calcPosition(cw, ch, imgW, imgH, gravity, dpr, false);
  return { width: cw, height: ch, left, top };
}

/** The `padding` option in output pixels (imgproxy scales each side to even by the DPR); null when it adds nothing. */
export function planPadding(padding: ProcessingOptions['padding'], dprScale: number): Padding | null {
  if (!padding) return null;
  const p = {
    top: scaleToEven(padding.top, dprScale),
    right: scaleToEven(padding.right, dprScale),
    bottom: scaleToEven(padding.bottom, dprScale),
    left: scaleToEven(padding.left, dprScale),
  };
  return p.top + p.right + p.bottom + p.left === 0 ? null : p;
}

/**
 * extend, extend_aspect_ratio and padding of a plan as one embed on an image of width × height:
 * keep its top-left `keepWidth × keepHeight` (an embed canvas narrower than the image cuts it,
 * libvips embed semantics) and add transparent margins. Three embeds in a row are one in
 * effect, so the pipeline can hand them to sharp as a single lazy extend. null: no embed.
 */
export interface Canvas {
  keepWidth: number;
  keepHeight: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

export function composeEmbeds(width: number, height: number, plan: PlannedEmbeds): Canvas | null {
  const steps: EmbedStep[] = [];
  if (plan.extend) steps.push(plan.extend);
  if (plan.extendAspectRatio) steps.push(plan.extendAspectRatio);
  if (steps.length === 0 && !plan.padding) return null;
  // The image's place (x, y, w, h) on a canvas W × H, embed after embed.
  let x = 0;
  let y = 0;
  let w = width;
  let h = height;
  let W = width;
  let H = height;
  const embed = (e: EmbedStep): void => {
    w = Math.min(w, Math.min(W, e.width) - x);
    h = Math.min(h, Math.min(H, e.height) - y);
    x += Math.max(0, e.left);
    y += Math.max(0, e.top);
    W = e.width;
    H = e.height;
  };
  for (const e of steps) embed(e);
  if (plan.padding) {
    const p = plan.padding;
    embed({ width: W + p.left + p.right, height: H + p.top + p.bottom, left: p.left, top: p.top });
  }
  // A later canvas never cuts into what an earlier one placed (plans grow the canvas), but if
  // one did, keep a pixel rather than ask libvips for an empty area.
  w = Math.max(1, w);
  h = Math.max(1, h);
  return { keepWidth: w, keepHeight: h, left: x, top: y, right: W - x - w, bottom: H - y - h, width: W, height: H };
}
