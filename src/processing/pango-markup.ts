/**
 * The subset of Pango markup a text watermark may use (imgproxy Pro `watermark_text`, whose
 * docs allow Pango markup: https://docs.imgproxy.net/usage/processing#watermark-text and
 * https://docs.gtk.org/Pango/pango_markup.html), checked and written back by us, so what
 * reaches Pango is only what is listed here: the convenience tags, and `<span>` with the
 * attributes that style text. Text is re-escaped, every attribute value must match its
 * grammar, and the sizes are bounded, because Pango allocates the whole rendered layout at
 * once: `<big>` nested fifty times, or `size="2000000000"`, would ask for gigapixels.
 *
 * Anything outside the subset (another element, another attribute, a value of another
 * shape, markup that is not well formed) is refused with a message naming it, never
 * passed on. `plainMarkup` turns plain text (PreviewProxy's `wmt`) into markup.
 */
import { decodeXmlText, lexXml, XmlSyntaxError } from './xml-lexer.js';

/** Largest font size anywhere in the text, pixels (72 dpi: a point is a pixel). */
export const MAX_FONT_PX = 2000;
/** Longest text, in characters, and deepest nesting of tags. */
export const MAX_TEXT_CHARS = 2000;
const MAX_DEPTH = 16;
/** Largest relative size (nested `<big>`, `size="400%"`), as a multiple of the base size. */
const MAX_SCALE = 100;

export interface Markup {
  /** Pango markup made of checked parts only. */
  markup: string;
  /** Characters drawn, lines, the longest line and combining marks (for the canvas bound before rendering). */
  chars: number;
  lines: number;
  longestLine: number;
  marks: number;
  /** Largest font size as a multiple of the base size, or an absolute size in pixels. */
  maxScale: number;
  maxAbsolutePx: number;
  /** Largest `rise` (baseline shift), pixels. */
  maxRisePx: number;
}

export class MarkupError extends Error {
  override name = 'MarkupError';
}

/** Pango's named sizes are steps of 1.2 around the base (`medium`). */
const NAMED_SIZES: Readonly<Record<string, number>> = {
  'xx-small': 1.2 ** -3, 'x-small': 1.2 ** -2, small: 1.2 ** -1, medium: 1, large: 1.2, 'x-large': 1.2 ** 2, 'xx-large': 1.2 ** 3,
};

/** Tags with a fixed meaning; the factor is what they do to the font size. */
const TAG_SCALE: Readonly<Record<string, number>> = { b: 1, i: 1, s: 1, u: 1, tt: 1, big: 1.2, small: 1 / 1.2, sub: 1, sup: 1, span: 1 };

const COLOUR = /^(#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}|[0-9a-fA-F]{12})|[a-zA-Z]{3,30})$/;
const ALPHA = /^(\d{1,5}|\d{1,3}%)$/;
const FAMILY = /^[A-Za-z0-9 ._-]{1,100}(,[A-Za-z0-9 ._-]{1,100}){0,4}$/;
/** A font description: families, style words, then an optional size (`Sans Bold 12`, `Serif 20px`). */
const FONT_DESC = /^[A-Za-z0-9 ,._-]{1,200}$/;
const PANGO_UNITS = 1024;

type Check = (value: string, name: string) => void;
const oneOf = (...words: string[]): Check => (v, name) => {
  if (!words.includes(v)) throw new MarkupError(`${name}="${v}": expected one of ${words.join(', ')}`);
};
const matching = (re: RegExp, what: string): Check => (v, name) => {
  if (!re.test(v)) throw new MarkupError(`${name}="${v}": expected ${what}`);
};

const WEIGHTS = ['thin', 'ultralight', 'light', 'semilight', 'book', 'normal', 'medium', 'semibold', 'bold', 'ultrabold', 'heavy', 'ultraheavy'];
const STRETCHES = ['ultracondensed', 'extracondensed', 'condensed', 'semicondensed', 'normal', 'semiexpanded', 'expanded', 'extraexpanded', 'ultraexpanded'];

/** `<span>` attributes (aliases Pango accepts are listed as themselves). Sizes are checked apart. */
const SPAN_ATTRS: Readonly<Record<string, Check>> = {
  font_family: matching(FAMILY, 'font family names'),
  face: matching(FAMILY, 'font family names'),
  style: oneOf('normal', 'oblique', 'italic'),
  weight: (v, name) => {
    if (!WEIGHTS.includes(v) && !(/^\d{1,4}$/.test(v) && Number(v) >= 100 && Number(v) <= 1000)) throw new MarkupError(`${name}="${v}": expected a weight name or 100–1000`);
  },
  variant: oneOf('normal', 'small-caps', 'all-small-caps', 'petite-caps', 'all-petite-caps', 'unicase', 'title-caps'),
  stretch: oneOf(...STRETCHES),
  foreground: matching(COLOUR, 'a colour (#rgb, #rrggbb, #rrggbbaa or a name)'),
  fgcolor: matching(COLOUR, 'a colour'),
  color: matching(COLOUR, 'a colour'),
  background: matching(COLOUR, 'a colour'),
  bgcolor: matching(COLOUR, 'a colour'),
  alpha: matching(ALPHA, '1–65535 or a percentage'),
  fgalpha: matching(ALPHA, '1–65535 or a percentage'),
  background_alpha: matching(ALPHA, '1–65535 or a percentage'),
  bgalpha: matching(ALPHA, '1–65535 or a percentage'),
  underline: oneOf('none', 'single', 'double', 'low', 'error'),
  underline_color: matching(COLOUR, 'a colour'),
  strikethrough: oneOf('true', 'false'),
  strikethrough_color: matching(COLOUR, 'a colour'),
  letter_spacing: (v, name) => {
    // Pango units (1024ths of a point); 100 pt between letters is already absurd.
    if (!/^-?\d{1,6}$/.test(v) || Math.abs(Number(v)) > 100 * PANGO_UNITS) throw new MarkupError(`${name}="${v}": expected −102400…102400 (1024ths of a point)`);
  },
};

/** The font size a `size`/`font_size` value sets: a factor of the current size or pixels. */
function sizeValue(v: string, name: string): { scale: number } | { px: number } {
  const named = Object.hasOwn(NAMED_SIZES, v) ? NAMED_SIZES[v] : undefined;
  if (named !== undefined) return { scale: named };
  if (v === 'larger') return { scale: 1.2 };
  if (v === 'smaller') return { scale: 1 / 1.2 };
  let m = /^(\d{1,9})$/.exec(v);
  if (m) return { px: Number(m[1]) / PANGO_UNITS };
  m = /^(\d{1,6}(?:\.\d{1,3})?)(pt|px)$/.exec(v);
  if (m) return { px: Number(m[1]) };
  m = /^(\d{1,4}(?:\.\d{1,3})?)%$/.exec(v);
  if (m) return { scale: Number(m[1]) / 100 };
  throw new MarkupError(`${name}="${v}": expected a size (1024ths of a point, Npt, Npx, N%, or xx-small…xx-large, smaller, larger)`);
}

/** The size at the end of a font description, if any (`Sans Bold 12` → 12 px at 72 dpi). */
function descriptionSize(v: string): number | null {
  const m = /(?:^|[\s,])(\d{1,6}(?:\.\d{1,3})?)(px)?\s*$/.exec(v);
  return m ? Number(m[1]) : null;
}

/**
 * Escaped for Pango's markup parser (GMarkup), control characters as spaces: GMarkup refuses
 * most of them, and a tab or carriage return has no glyph to draw.
 */
function escapeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0009\u000B-\u001F\u007F]/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Counts {
  chars: number;
  lines: number;
  /** Characters on the current (last) line, and on the longest one. */
  line: number;
  longestLine: number;
  marks: number;
}

const MARK = /\p{M}/u;

function count(c: Counts, s: string): void {
  for (const ch of s) {
    c.chars++;
    if (ch === '\n') {
      c.lines++;
      c.line = 0;
      continue;
    }
    if (MARK.test(ch)) c.marks++;
    c.line++;
    c.longestLine = Math.max(c.longestLine, c.line);
  }
}

interface Level {
  name: string;
  /** Factor of the base size, or null once an absolute size was set. */
  scale: number;
  px: number | null;
}

/**
 * Checks `text` as Pango markup and writes it back from the checked parts. Throws
 * MarkupError naming what is outside the subset.
 */
export function parsePangoMarkup(text: string): Markup {
  let out = '';
  const c: Counts = { chars: 0, lines: 1, line: 0, longestLine: 0, marks: 0 };
  let maxScale = 1;
  let maxAbsolutePx = 0;
  let maxRisePx = 0;
  const stack: Level[] = [];
  const wrapped = `<markup>${text}</markup>`;
  const offset = '<markup>'.length;
  try {
    for (const t of lexXml(wrapped)) {
      if (t.kind === 'text') {
        const decoded = decodeXmlText(wrapped.slice(t.start, t.end));
        count(c, decoded);
        out += escapeText(decoded);
        continue;
      }
      if (t.kind === 'open' && t.name === 'markup' && t.depth === 0) continue;
      if (t.kind === 'close' && t.name === 'markup' && t.depth === 0) continue;
      if (t.kind === 'open') {
        const factor = Object.hasOwn(TAG_SCALE, t.name) ? TAG_SCALE[t.name] : undefined;
        if (factor === undefined) throw new MarkupError(`<${t.name}> is not supported (allowed: ${Object.keys(TAG_SCALE).map((n) => `<${n}>`).join(' ')})`);
        if (stack.length >= MAX_DEPTH) throw new MarkupError(`tags nested deeper than ${MAX_DEPTH}`);
        const parent = stack.at(-1) ?? { name: '', scale: 1, px: null };
        let level: Level = { name: t.name, scale: parent.scale * factor, px: parent.px === null ? null : parent.px * factor };
        let attrs = '';
        for (const a of t.attrs) {
          const value = decodeXmlText(a.raw);
          if (t.name !== 'span') throw new MarkupError(`<${t.name}> takes no attributes (got ${a.name})`);
          if (a.name === 'size' || a.name === 'font_size') {
            const s = sizeValue(value, a.name);
            level = 'px' in s ? { ...level, scale: 1, px: s.px } : { ...level, scale: parent.scale * s.scale, px: parent.px === null ? null : parent.px * s.scale };
          } else if (a.name === 'font' || a.name === 'font_desc') {
            if (!FONT_DESC.test(value)) throw new MarkupError(`${a.name}="${value}": expected a font description (families, style words, a size)`);
            const px = descriptionSize(value);
            if (px !== null) level = { ...level, scale: 1, px };
          } else if (a.name === 'rise') {
            if (!/^-?\d{1,7}$/.test(value) || Math.abs(Number(value)) > MAX_FONT_PX * PANGO_UNITS) throw new MarkupError(`rise="${value}": expected ±${MAX_FONT_PX * PANGO_UNITS} (1024ths of a point)`);
            maxRisePx = Math.max(maxRisePx, Math.abs(Number(value)) / PANGO_UNITS);
          } else {
            const check = Object.hasOwn(SPAN_ATTRS, a.name) ? SPAN_ATTRS[a.name] : undefined;
            if (check === undefined) throw new MarkupError(`<span ${a.name}> is not supported`);
            check(value, a.name);
          }
          attrs += ` ${a.name}="${value}"`;
        }
        if (level.px === null) maxScale = Math.max(maxScale, level.scale);
        else maxAbsolutePx = Math.max(maxAbsolutePx, level.px);
        if (maxScale > MAX_SCALE) throw new MarkupError(`a font size over ${MAX_SCALE} times the base size`);
        if (maxAbsolutePx > MAX_FONT_PX) throw new MarkupError(`a font size over ${MAX_FONT_PX} px`);
        out += `<${t.name}${attrs}${t.selfClosing ? '/' : ''}>`;
        if (!t.selfClosing) stack.push(level);
        continue;
      }
      if (t.kind === 'close') {
        stack.pop();
        out += `</${t.name}>`;
        continue;
      }
      throw new MarkupError(`${t.kind === 'cdata' ? 'CDATA sections' : t.kind === 'comment' ? 'comments' : t.kind === 'pi' ? 'processing instructions' : 'DOCTYPE'} are not supported`);
    }
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw new MarkupError(`not well-formed markup: ${err.message.replace(/at offset (\d+)/, (_m, at: string) => `at offset ${Math.max(0, Number(at) - offset)}`)}`);
    throw err;
  }
  if (c.chars > MAX_TEXT_CHARS) throw new MarkupError(`${c.chars} characters, more than ${MAX_TEXT_CHARS}`);
  return { markup: out, chars: c.chars, lines: c.lines, longestLine: c.longestLine, marks: c.marks, maxScale, maxAbsolutePx, maxRisePx };
}

/** Plain text as markup: every character drawn as it is, on one line (PreviewProxy draws one). */
export function plainMarkup(text: string): string {
  const chars = [...text].length;
  if (chars > MAX_TEXT_CHARS) throw new MarkupError(`${chars} characters, more than ${MAX_TEXT_CHARS}`);
  return escapeText(text.replace(/\n/g, ' '));
}

/** Markup drawn in one colour (`rrggbb`), unless its own spans say otherwise. */
export function colouredMarkup(markup: string, rgb: string): string {
  return `<span foreground="#${rgb}">${markup}</span>`;
}
