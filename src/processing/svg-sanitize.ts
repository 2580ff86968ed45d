/**
 * SVG sanitiser: strips everything in an SVG that can run code or make the renderer (or a
 * browser the SVG is served to as-is) reach outside the document, and keeps the rest
 * byte for byte. Policy follows imgproxy (processing/svg/svg.go, href.go,
 * https://github.com/imgproxy/imgproxy/tree/master/processing/svg): `<foreignObject>` and its
 * content stay, without scripts, forms, frames and handlers; a link (`<a href>`) may point at
 * http(s), a relative or protocol-relative URL or a fragment; an `<image>` may embed raster
 * `data:` and SVG `data:`, the SVG sanitised as a document of its own. Stricter where noted:
 * nothing else may reference outside the document (imgproxy lets `<image>` load http(s) URLs), and
 * HTML that embeds, fetches or redirects is removed inside `<foreignObject>` too, because
 * nothing the renderer or a browser fetches by itself should be chosen by the image author
 * (SSRF, tracking pixels); a link is only followed when someone clicks it.
 *
 * Works on the lexer's token spans: kept tokens are copied verbatim, tags that lose
 * attributes are rebuilt from the original attribute text. Internal entities are expanded
 * first (xml-entities.ts), so markup an entity holds is sanitised like any other; the DOCTYPE
 * that declared them is dropped.
 */
import { gunzipSync } from 'node:zlib';
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { EntityError, type EntityExpander, builtInReferencesOnly, expandEntities } from './xml-entities.js';
import { type XmlAttr, XmlSyntaxError, decodeXmlText, lexXml } from './xml-lexer.js';

/** imgproxy's limit for SVG sources unless IMGPROXY_SVG_UNLIMITED. */
const DEFAULT_SVG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Elements removed with their whole subtree (compared by local name, case-insensitively, so
 * `svg:script` or `SCRIPT` do not slip through): scripts, anything embedding another document,
 * and HTML elements that fetch, submit or redirect (inside `<foreignObject>`).
 */
const DROP_ELEMENTS = new Set([
  'script', 'handler', 'listener', 'iframe', 'frame', 'frameset', 'form', 'embed', 'object', 'portal', 'fencedframe',
  'applet', 'base', 'link', 'meta', 'audio', 'video', 'source', 'track', 'input', 'button', 'textarea', 'noscript',
]);

/**
 * Attributes that make a browser fetch (or submit to) a URL by themselves: kept only when they
 * point inside the document. `href` has its own rules (attrVerdict).
 */
const URL_ATTRIBUTES = new Set([
  'src', 'srcset', 'action', 'formaction', 'poster', 'data', 'background', 'ping', 'lowsrc', 'dynsrc', 'longdesc', 'codebase', 'manifest', 'icon', 'imagesrcset',
]);

/** SMIL elements that can rewrite an attribute at render time (e.g. set href to javascript:). */
const ANIMATION_ELEMENTS = new Set(['animate', 'set', 'animatetransform', 'animatemotion', 'animatecolor']);

/** Elements whose href loads a raster or another SVG as an image. */
const IMAGE_ELEMENTS = new Set(['image', 'feimage']);

/** How many SVG documents deep `data:` images are sanitised; deeper ones lose their href. */
const MAX_NESTED_SVG = 3;

/** The size limit the configuration asks for (IMGPROXY_SVG_UNLIMITED → none). */
export function svgSanitizeOptions(config: Config): { maxBytes: number } {
  return { maxBytes: config.security.svgUnlimited ? 0 : DEFAULT_SVG_MAX_BYTES };
}

export interface SanitizeSvgOptions {
  /** Input size limit in bytes; ≤ 0 or Infinity = unlimited. Default 10 MB. */
  maxBytes?: number;
}

/** Returns the sanitised SVG. Malformed or oversized input → ProxyError UNSUPPORTED_IMAGE. */
export function sanitizeSvg(svg: Buffer, opts?: { maxBytes?: number }): Buffer {
  return sanitizeDocument(svg, opts?.maxBytes ?? DEFAULT_SVG_MAX_BYTES, 0);
}

/** What the sanitising of one document carries down to its tags. */
interface TagContext {
  entities: EntityExpander;
  /** The size limit (as sanitizeSvg's `maxBytes`), for embedded documents. */
  maxBytes: number;
  /** How many documents this one is embedded in. */
  nesting: number;
}

function sanitizeDocument(svg: Buffer, maxBytes: number, nesting: number): Buffer {
  const limited = maxBytes > 0 && Number.isFinite(maxBytes);
  if (limited && svg.length > maxBytes) throw new ProxyError('UNSUPPORTED_IMAGE', `SVG is ${svg.length} bytes, over the ${maxBytes}-byte limit (IMGPROXY_SVG_UNLIMITED lifts it)`);
  const { text, reencoded } = decodeSvgText(svg);
  try {
    // Entity expansion may grow the document; the same limit bounds the output so a
    // declared entity referenced many times cannot turn a small file into a huge one.
    return Buffer.from(sanitizeText(text, reencoded, limited ? Math.max(maxBytes, svg.length) : Infinity, maxBytes, nesting), 'utf8');
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw new ProxyError('UNSUPPORTED_IMAGE', `malformed SVG: ${err.message}`, { cause: err });
    throw err;
  }
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return (i >= 0 ? qname.slice(i + 1) : qname).toLowerCase();
}

function sanitizeText(source: string, reencoded: boolean, budget: number, maxBytes: number, nesting: number): string {
  const { text: s, entities } = expandEntities(source, budget);
  const ctx: TagContext = { entities, maxBytes, nesting };
  let skipDepth = -1; // depth of the dropped element whose subtree we are inside, or -1
  let styleDepth = -1;
  let textDepth = -1; // depth of the outermost <text> we are inside, or -1
  const parts: string[] = [];
  let size = 0;
  const emit = (t: string): void => {
    size += t.length;
    if (size > budget) throw new ProxyError('UNSUPPORTED_IMAGE', 'SVG grows over the size limit when its entities are expanded');
    parts.push(t);
  };

  for (const tok of lexXml(s)) {
    const src = s.slice(tok.start, tok.end);
    switch (tok.kind) {
      case 'doctype':
        // Dropped whole (its entities are expanded already): SVG needs no DTD, and keeping
        // one would let a browser given the file as-is expand entities or fetch an external
        // subset.
        break;
      case 'pi':
        // Only the XML declaration survives; <?xml-stylesheet?> would load external CSS.
        if (tok.target.toLowerCase() === 'xml') emit(reencoded ? src.replace(/\sencoding\s*=\s*("[^"]*"|'[^']*')/, ' encoding="UTF-8"') : src);
        break;
      case 'comment':
        if (skipDepth < 0) emit(src);
        break;
      case 'text':
      case 'cdata': {
        if (skipDepth >= 0) break;
        // Text holds no custom reference any more: expandEntities replaced them all.
        if (tok.kind === 'text') emit(styleDepth >= 0 ? sanitizeCss(builtInReferencesOnly(src, tok.start)) : builtInReferencesOnly(src, tok.start));
        // CSS is cleaned inside the CDATA markers only, so a rule cannot swallow the "]]>".
        else emit(styleDepth >= 0 ? `<![CDATA[${sanitizeCss(src.slice(9, -3))}]]>` : src);
        break;
      }
      case 'open': {
        if (skipDepth >= 0) break;
        const local = localName(tok.name);
        if (DROP_ELEMENTS.has(local) || (ANIMATION_ELEMENTS.has(local) && isDangerousAnimation(tok.attrs, entities))) {
          if (!tok.selfClosing) skipDepth = tok.depth;
          // Inside text an element boundary splits the whitespace around it, which librsvg
          // then keeps as a space; an empty <desc/> (allowed in text, never rendered) keeps
          // the boundary where the dropped element was, so the text still lines up.
          if (textDepth >= 0) emit('<desc/>');
          break;
        }
        if (local === 'style' && !tok.selfClosing) styleDepth = tok.depth;
        if (local === 'text' && !tok.selfClosing && textDepth < 0) textDepth = tok.depth;
        emit(rebuildTag(s, tok.start, tok.end, tok.name, local, tok.attrs, tok.selfClosing, ctx));
        break;
      }
      case 'close':
        if (skipDepth >= 0) {
          if (tok.depth === skipDepth) skipDepth = -1;
          break;
        }
        if (tok.depth === styleDepth) styleDepth = -1;
        if (tok.depth === textDepth) textDepth = -1;
        emit(src);
        break;
    }
  }
  return parts.join('');
}

/** The start tag with unsafe attributes removed; verbatim when nothing changes. */
function rebuildTag(s: string, start: number, end: number, qname: string, local: string, attrs: XmlAttr[], selfClosing: boolean, ctx: TagContext): string {
  let changed = false;
  const kept: string[] = [];
  for (const a of attrs) {
    const valueStart = a.end - 1 - a.raw.length; // raw sits right before the closing quote
    let expanded: string;
    let value: string;
    try {
      expanded = ctx.entities.attribute(a.raw, a.start, escapeAttr);
      value = decodeXmlText(expanded);
    } catch (err) {
      // A value we cannot read (an undeclared entity such as HTML's `&colon;`, one with markup)
      // is no value we can vouch for: the attribute goes, as imgproxy drops such an href.
      // A declared entity that cannot be expanded (external, markup, a bomb) refuses the
      // document wherever it is referenced.
      if (!(err instanceof XmlSyntaxError) || err instanceof EntityError) throw err;
      changed = true;
      continue;
    }
    const verdict = attrVerdict(a.name, local, value);
    if (verdict === 'drop') {
      changed = true;
      continue;
    }
    let text = s.slice(a.start, a.end);
    let newRaw = expanded;
    if (verdict === 'css') {
      // Cleaned in decoded form so character references cannot hide a URL, then re-escaped.
      const cleaned = sanitizeCss(value);
      if (cleaned !== value) newRaw = escapeAttr(cleaned);
    } else if (verdict === 'svg') {
      const uri = sanitizeDataSvg(value, ctx);
      if (uri === null) {
        changed = true;
        continue;
      }
      newRaw = escapeAttr(uri);
    }
    if (newRaw !== a.raw) {
      const quote = s[a.end - 1] ?? '"';
      text = s.slice(a.start, valueStart) + newRaw + quote;
      changed = true;
    }
    kept.push(text);
  }
  if (!changed) return s.slice(start, end);
  return `<${qname}${kept.join('')}${selfClosing ? '/>' : '>'}`;
}

type Verdict = 'keep' | 'drop' | 'css' | 'svg';

function attrVerdict(qname: string, element: string, value: string): Verdict {
  const name = qname.toLowerCase();
  const local = localName(qname);
  // Event handlers: imgproxy keeps a list of ~111 names; every on* is stricter and covers
  // names added to browsers later. No SVG presentation attribute starts with "on".
  if (local.startsWith('on')) return 'drop';
  // xml:base would re-anchor every relative reference onto an attacker's origin.
  if (name === 'xml:base') return 'drop';
  if (local === 'href' || URL_ATTRIBUTES.has(local)) {
    const v = normaliseUrl(value);
    if (v === '' || v.startsWith('#')) return 'keep';
    if (local !== 'href') return 'drop';
    if (IMAGE_ELEMENTS.has(element)) return isDataImage(v) || isRelative(v) ? 'keep' : v.startsWith('data:image/svg+xml') ? 'svg' : 'drop';
    // imgproxy's isSafeHref with http and https: a link is only followed when clicked.
    if (element === 'a') return isLink(v) ? 'keep' : 'drop';
    return 'drop';
  }
  if (/url\(|@import|expression\(|(?:java|vb)script:/.test(normaliseUrl(value).replace(/\\/g, ''))) return 'css';
  return 'keep';
}

/**
 * SMIL can set href (or an on* attribute) to any value at render time, bypassing the
 * attribute checks above: such animation elements are dropped.
 */
function isDangerousAnimation(attrs: XmlAttr[], entities: EntityExpander): boolean {
  for (const a of attrs) {
    let v: string;
    try {
      v = decodeXmlText(entities.attribute(a.raw, a.start, escapeAttr));
    } catch (err) {
      if (!(err instanceof XmlSyntaxError) || err instanceof EntityError) throw err;
      return true;
    }
    const local = localName(a.name);
    if (local === 'attributename') {
      const target = localName(v.trim());
      if (target === 'href' || target === 'src' || target.startsWith('on') || v.trim().toLowerCase() === 'xml:base') return true;
    }
    if (['values', 'from', 'to', 'by'].includes(local) && /(?:java|vb)script:/.test(normaliseUrl(v))) return true;
  }
  return false;
}

/** What a browser would see as the URL: entities decoded already; whitespace and controls removed, lower-cased. */
function normaliseUrl(v: string): string {
  // Browsers drop tabs/newlines inside URLs and trim controls, so "java\tscript:" is javascript:.
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
}

/**
 * An SVG embedded as `data:image/svg+xml` (RFC 2397; base64 or percent-encoded, gzipped or
 * not, as librsvg reads it: W3C conform-viewers-02-f) sanitised as a document of its own and
 * embedded again as base64; null, and the href goes, when it cannot be read, is too deep or
 * unpacks over the size limit (the default limit when IMGPROXY_SVG_UNLIMITED lifts it).
 */
function sanitizeDataSvg(value: string, ctx: TagContext): string | null {
  if (ctx.nesting + 1 >= MAX_NESTED_SVG) return null;
  // URL parsers drop tabs and newlines anywhere and spaces around.
  const uri = value.replace(/[\t\n\r]/g, '').trim();
  const comma = uri.indexOf(',');
  if (comma < 0) return null;
  const limit = ctx.maxBytes > 0 && Number.isFinite(ctx.maxBytes) ? ctx.maxBytes : DEFAULT_SVG_MAX_BYTES;
  let bytes: Buffer;
  try {
    const data = uri.slice(comma + 1);
    bytes = /;base64$/i.test(uri.slice(0, comma)) ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data), 'utf8');
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes, { maxOutputLength: limit });
  } catch {
    return null; // a malformed escape, a broken or oversized gzip stream
  }
  try {
    return `data:image/svg+xml;base64,${sanitizeDocument(bytes, ctx.maxBytes, ctx.nesting + 1).toString('base64')}`;
  } catch (err) {
    if (err instanceof ProxyError) return null;
    throw err;
  }
}

function isDataImage(v: string): boolean {
  // Raster data only: an SVG is sanitised first (sanitizeDataSvg).
  return /^data:image\/(?:png|jpeg|jpg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)[;,]/.test(v);
}

/** http(s), or no scheme at all (relative and protocol-relative references). */
function isLink(v: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(v)?.[1];
  return scheme === undefined || scheme === 'http' || scheme === 'https';
}

function isRelative(v: string): boolean {
  // No scheme and not network-path (`//host/…`, which inherits http(s)); backslashes count as
  // slashes to URL parsers.
  return !/^[a-z][a-z0-9+.-]*:/.test(v) && !/^[/\\]{2}/.test(v);
}

/**
 * CSS (a <style> element or a style/presentation attribute) may pull external resources
 * through @import and url(); both are neutralised, fragment and raster data: URLs stay.
 */
export function sanitizeCss(css: string): string {
  return css
    .replace(/@import\b[^;]*;?/gi, '')
    .replace(/url\s*\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\s*\)/gi, (whole: string, dq?: string, sq?: string, bare?: string) => {
      const v = normaliseUrl(decodeCssEscapes(dq ?? sq ?? bare ?? ''));
      return v.startsWith('#') || isDataImage(v) ? whole : 'none';
    })
    .replace(/expression\s*\(/gi, 'none(')
    .replace(/(?:java|vb)script\s*:/gi, 'blocked:');
}

function decodeCssEscapes(v: string): string {
  return v.replace(/\\([0-9a-fA-F]{1,6})\s?/g, (_m, hex: string) => String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff))).replace(/\\(.)/g, '$1');
}

export function escapeText(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(v: string): string {
  return escapeText(v).replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * Bytes → text. UTF-8 (with or without BOM) is kept as is; UTF-16 and single-byte
 * encodings named in the XML declaration are converted, and the output is UTF-8 with the
 * declaration rewritten to say so.
 */
export function decodeSvgText(buf: Buffer): { text: string; reencoded: boolean } {
  try {
    if (buf[0] === 0xff && buf[1] === 0xfe) return { text: new TextDecoder('utf-16le', { fatal: true }).decode(buf), reencoded: true };
    if (buf[0] === 0xfe && buf[1] === 0xff) return { text: new TextDecoder('utf-16be', { fatal: true }).decode(buf), reencoded: true };
    const head = buf.subarray(0, 256).toString('latin1');
    const declared = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
    if (declared && declared !== 'utf-8' && declared !== 'utf8' && declared !== 'us-ascii' && declared !== 'ascii') {
      return { text: new TextDecoder(declared, { fatal: true }).decode(buf), reencoded: true };
    }
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf), reencoded: false };
  } catch (err) {
    throw new ProxyError('UNSUPPORTED_IMAGE', `SVG text cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}
