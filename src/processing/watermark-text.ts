/**
 * Text watermarks drawn by Pango, through libvips' text operation (sharp's `text` input,
 * https://sharp.pixelplumbing.com/api-constructor), in the bundled font unless the request
 * names another (fonts.ts). The markup is the checked subset of pango-markup.ts, made by the
 * dialects; nothing the user wrote reaches Pango unescaped.
 *
 * The rendered canvas is the text's ink box, which Pango allocates whole before any check
 * of ours could see it: its size is bounded beforehand from the markup (characters per line,
 * lines, the largest font size, the largest baseline shift), against the intermediate bound.
 * PreviewProxy's text image is the glyphs' line box plus 1 px all round
 * (src/modules/transform/ops/watermark.rs `render_text_image`); here it is the ink box plus
 * that 1 px margin, so the mark's place differs from PreviewProxy's by the space Pango's
 * line box keeps above and below the glyphs.
 */
import sharp from 'sharp';
import { ProxyError } from '../errors.js';
import type { WatermarkText } from '../options.js';
import { bundledFontFiles, findFont } from './fonts.js';
import { checkCanvas, type PixelLimits } from './limits.js';
import { MAX_FONT_PX, parsePangoMarkup } from './pango-markup.js';
import { underBudget, type Run } from './run.js';
import { vips } from './sharp-setup.js';
import type { Raw } from './watermark-mark.js';

const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

let registered: Promise<void> | null = null;

/**
 * Pango finds a font file only once libvips added it to fontconfig (`fontfile`); the bundled
 * faces are added before the first text, so `<b>` and `<i>` use real bold and italic faces.
 */
function registerBundledFonts(): Promise<void> {
  registered ??= (async () => {
    for (const fontfile of bundledFontFiles()) {
      await vips(sharp({ text: { text: '.', fontfile, font: 'sans 8' } }).raw().toBuffer(), 'watermark font');
    }
  })();
  return registered;
}

/**
 * The text as RGBA pixels; null when it draws nothing. `margin`: transparent pixels added
 * all round (PreviewProxy's 1 px).
 */
export async function renderText(t: WatermarkText, margin: number, limits: PixelLimits, run: Run): Promise<Raw | null> {
  const m = parsePangoMarkup(t.markup);
  if (m.chars === 0) return null;
  const font = await findFont(t.font);
  // PreviewProxy's size is the line height (ab_glyph's PxScale); Pango's is the em square.
  const em = Math.max(1, t.size) / (t.sizing === 'line' ? font.lineToEm : 1);
  const largest = Math.max(em * m.maxScale, m.maxAbsolutePx);
  if (!(largest <= MAX_FONT_PX)) throw new ProxyError('RESULT_TOO_BIG', `watermark text: a font size of ${Math.round(largest)} px is over ${MAX_FONT_PX} px`);
  // No glyph is wider than 2 em (plus an italic overhang) nor a line taller than 1.5 em;
  // each combining mark stacked on a letter adds less than an em.
  checkCanvas(limits, 'intermediate', 'watermark text', {
    width: Math.ceil((m.longestLine * 2 + 2) * largest + 2 * margin),
    height: Math.ceil((m.lines * 1.5 + m.marks) * largest + 2 * m.maxRisePx + 2 * margin),
  });
  await registerBundledFonts();
  // A trailing comma ends the family list, so no family name is read as a style word.
  const text = sharp({ text: { text: m.markup, font: `${font.family}, ${em}px`, fontfile: font.path, rgba: true, dpi: 72 }, limitInputPixels: Math.max(1, limits.intermediate) });
  let p = underBudget(text, run);
  if (margin > 0) p = p.extend({ top: margin, bottom: margin, left: margin, right: margin, background: TRANSPARENT });
  const { data, info } = await vips(p.ensureAlpha().raw().toBuffer({ resolveWithObject: true }), 'watermark text');
  if (info.channels !== 4) throw new ProxyError('INTERNAL', `watermark text: expected 4 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}
