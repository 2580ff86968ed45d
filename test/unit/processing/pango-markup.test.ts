// The Pango markup subset of text watermarks: what passes is written back from checked parts,
// what does not is refused naming it, and the bounds the renderer sizes its canvas from.
import { describe, expect, it } from 'vitest';
import { colouredMarkup, MarkupError, MAX_TEXT_CHARS, parsePangoMarkup, plainMarkup } from '../../../src/processing/pango-markup.js';

describe('parsePangoMarkup', () => {
  it('keeps the convenience tags and styling spans, re-escaping the text', () => {
    const m = parsePangoMarkup('<b>bold</b> &amp; <i>it</i> <span foreground="#ff0000" size="20pt" weight="700" font_family="DejaVu Serif">red</span> &#169; 1 &lt; 2');
    expect(m.markup).toBe('<b>bold</b> &amp; <i>it</i> <span foreground="#ff0000" size="20pt" weight="700" font_family="DejaVu Serif">red</span> © 1 &lt; 2');
    expect(m.maxAbsolutePx).toBe(20);
  });

  it('counts what the canvas bound needs: characters, lines, the longest line, combining marks, sizes, rise', () => {
    const m = parsePangoMarkup('ab\ncde\u0301\u0301<big><big>x</big></big><span rise="10240">y</span>');
    expect([m.chars, m.lines, m.longestLine, m.marks]).toEqual([10, 2, 7, 2]);
    expect(m.maxScale).toBeCloseTo(1.44);
    expect(m.maxRisePx).toBe(10);
    expect(parsePangoMarkup('<span font="Sans Bold 48">x</span>').maxAbsolutePx).toBe(48);
    expect(parsePangoMarkup('<span size="x-large">x</span>').maxScale).toBeCloseTo(1.44);
  });

  it.each([
    ['<script>alert(1)</script>', /<script> is not supported/],
    ['<span onload="x">a</span>', /<span onload> is not supported/],
    ['<b class="x">a</b>', /takes no attributes/],
    ['<span foreground="red;background:url(x)">a</span>', /foreground=/],
    ['<span font_family="x&quot;y">a</span>', /font_family=/],
    ['<span size="2000000000">a</span>', /size=/],
    ['<span size="3000px">a</span>', /over 2000 px/],
    [`${'<big>'.repeat(17)}a${'</big>'.repeat(17)}`, /nested deeper/],
    ['<span size="9999%"><span size="9999%">a</span></span>', /times the base size/],
    ['<span letter_spacing="99999999">a</span>', /letter_spacing=/],
    ['a < b', /not well-formed/],
    ['<b>a', /not well-formed/],
    ['<!-- hidden -->a', /comments/],
    ['<![CDATA[x]]>', /CDATA/],
    ['&undeclared;', /not well-formed/],
    ['x'.repeat(MAX_TEXT_CHARS + 1), /characters, more than/],
  ])('refuses %j', (text, why) => {
    expect(() => parsePangoMarkup(text)).toThrow(MarkupError);
    expect(() => parsePangoMarkup(text)).toThrow(why);
  });

  it('turns control characters into spaces: GMarkup refuses most of them', () => {
    expect(parsePangoMarkup('a&#9;b\u0001c').markup).toBe('a b c');
  });
});

describe('plainMarkup and colouredMarkup', () => {
  it('escapes everything and draws one line (PreviewProxy draws one)', () => {
    expect(plainMarkup('<span foreground="blue">&</span>\nnext')).toBe('&lt;span foreground="blue"&gt;&amp;&lt;/span&gt; next');
    expect(() => plainMarkup('x'.repeat(MAX_TEXT_CHARS + 1))).toThrow(MarkupError);
  });

  it('wraps markup in a colour span that its own spans can override', () => {
    const m = colouredMarkup('<span foreground="#00ff00">g</span>', 'ff0000');
    expect(m).toBe('<span foreground="#ff0000"><span foreground="#00ff00">g</span></span>');
    expect(parsePangoMarkup(m).markup).toBe(m);
  });
});
