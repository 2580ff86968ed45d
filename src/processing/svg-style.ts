/**
 * imgproxy Pro's `style` (https://docs.imgproxy.net/usage/processing#style): a `<style>`
 * element with the URL's CSS put first inside the root `<svg>` of an SVG source. The CSS comes
 * from the URL, so it is cleaned like a source's own style (no @import, no external url(), no
 * script URLs) whether or not IMGPROXY_SANITIZE_SVG is on, and escaped so it cannot close the
 * element; the sanitiser, when on, then sees it as part of the document.
 */
import { ProxyError } from '../errors.js';
import { decodeSvgText, escapeText, sanitizeCss } from './svg-sanitize.js';
import { lexXml, XmlSyntaxError } from './xml-lexer.js';

export function injectSvgStyle(svg: Buffer, css: string): Buffer {
  if (css === '') return svg;
  const decoded = decodeSvgText(svg);
  // The output is UTF-8, whatever the declaration said before.
  const text = decoded.reencoded ? decoded.text.replace(/^(\uFEFF?<\?xml[^>]*?)\sencoding\s*=\s*("[^"]*"|'[^']*')/, '$1 encoding="UTF-8"') : decoded.text;
  const style = `<style>${escapeText(sanitizeCss(css))}</style>`;
  try {
    for (const tok of lexXml(text)) {
      if (tok.kind !== 'open' || tok.depth !== 0) continue;
      if (tok.selfClosing) {
        // `<svg …/>`: reopened to hold the style.
        const tag = text.slice(tok.start, tok.end).replace(/\s*\/>$/, '>');
        return Buffer.from(`${text.slice(0, tok.start)}${tag}${style}</${tok.name}>${text.slice(tok.end)}`, 'utf8');
      }
      return Buffer.from(`${text.slice(0, tok.end)}${style}${text.slice(tok.end)}`, 'utf8');
    }
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw new ProxyError('UNSUPPORTED_IMAGE', `malformed SVG: ${err.message}`, { cause: err });
    throw err;
  }
  throw new ProxyError('UNSUPPORTED_IMAGE', 'malformed SVG: no root element');
}
