// imgproxy Pro's `style`: the CSS lands first inside the root <svg>, cleaned and escaped.
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import { sanitizeSvg } from '../../../src/processing/svg-sanitize.js';
import { injectSvgStyle } from '../../../src/processing/svg-style.js';

const svg = (s: string): Buffer => Buffer.from(s, 'utf8');
const inject = (doc: string, css: string): string => injectSvgStyle(svg(doc), css).toString('utf8');

describe('injectSvgStyle', () => {
  it('puts a <style> first in the root element', () => {
    expect(inject('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', 'rect{fill:red}')).toBe(
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:red}</style><rect/></svg>',
    );
  });

  it('reopens a self-closing root', () => {
    expect(inject('<svg xmlns="http://www.w3.org/2000/svg"/>', 'a{}')).toBe('<svg xmlns="http://www.w3.org/2000/svg"><style>a{}</style></svg>');
  });

  it('CSS cannot close the element or fetch anything', () => {
    const out = inject('<svg xmlns="http://www.w3.org/2000/svg"></svg>', '</style><script>alert(1)</script>@import "http://evil/x.css"; rect{fill:url(http://evil/p.png)}');
    expect(out).not.toContain('<script');
    expect(out).not.toContain('http://evil');
    expect(out).toContain('&lt;/style&gt;');
    // What the sanitiser makes of it keeps the style and the escaped text.
    expect(sanitizeSvg(svg(out)).toString()).not.toContain('<script');
  });

  it('an empty style changes nothing; a document without a root is refused', () => {
    const doc = svg('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    expect(injectSvgStyle(doc, '')).toBe(doc);
    expect(() => injectSvgStyle(svg('not xml <'), 'a{}')).toThrow(ProxyError);
  });
});
