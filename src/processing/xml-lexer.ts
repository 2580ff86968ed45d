/**
 * A small, strict XML lexer that reports byte-exact token spans, so a sanitiser can copy
 * everything it keeps verbatim and rewrite only what it must. It checks well-formedness
 * (one root, matching tags, quoted unique attributes, no `<` in values, known entity
 * references) and never expands an entity on its own: DTD handling is the caller's policy.
 * Used by the SVG sanitiser (and its entity expansion, which lexes a replacement text as a
 * fragment), the XMP reader of /info and the Pango markup reader.
 */

export class XmlSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at offset ${position}`);
    this.name = 'XmlSyntaxError';
  }
}

export interface XmlAttr {
  /** Qualified name as written (`xlink:href`). */
  name: string;
  /** Value as written between the quotes, entity references not decoded. */
  raw: string;
  /** Span of the whole attribute including the whitespace before it. */
  start: number;
  end: number;
}

/** An internal general entity from a DOCTYPE subset (external ones have `value: null`). */
export interface EntityDecl {
  name: string;
  value: string | null;
}

export type XmlToken =
  | { kind: 'text'; start: number; end: number }
  | { kind: 'cdata'; start: number; end: number }
  | { kind: 'comment'; start: number; end: number }
  | { kind: 'pi'; start: number; end: number; target: string }
  | { kind: 'doctype'; start: number; end: number; entities: EntityDecl[] }
  | { kind: 'open'; start: number; end: number; name: string; attrs: XmlAttr[]; selfClosing: boolean; depth: number }
  | { kind: 'close'; start: number; end: number; name: string; depth: number };

const NAME = /[A-Za-z_:\u00C0-\uFFFF][\w.\-:\u00B7\u00C0-\uFFFF]*/y;
const WS = /[ \t\r\n]*/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function matchAt(re: RegExp, s: string, pos: number): string | null {
  re.lastIndex = pos;
  const m = re.exec(s);
  return m ? m[0] : null;
}

export interface LexOptions {
  /**
   * Lex `s` as XML 1.0's `content` (https://www.w3.org/TR/xml/#NT-content), the shape an
   * internal entity's replacement text must have (§4.3.2): text and any number of elements at
   * the top, every element closed inside, no DOCTYPE and no XML declaration.
   */
  fragment?: boolean;
}

/** Tokenises `s`, throwing XmlSyntaxError on anything that is not well-formed XML. */
export function* lexXml(s: string, opts: LexOptions = {}): Generator<XmlToken> {
  const fragment = opts.fragment === true;
  const stack: string[] = [];
  let seenRoot = false;
  let seenDoctype = false;
  let pos = 0;
  const n = s.length;
  while (pos < n) {
    if (s.charCodeAt(pos) !== 0x3c /* < */) {
      let end = s.indexOf('<', pos);
      if (end < 0) end = n;
      const text = s.slice(pos, end);
      if (stack.length === 0 && !fragment && !/^[\s\uFEFF]*$/.test(text)) throw new XmlSyntaxError('text outside the root element', pos);
      if (text.includes(']]>')) throw new XmlSyntaxError('"]]>" in text', pos + text.indexOf(']]>'));
      yield { kind: 'text', start: pos, end };
      pos = end;
      continue;
    }
    if (s.startsWith('<!--', pos)) {
      const end = s.indexOf('-->', pos + 4);
      if (end < 0) throw new XmlSyntaxError('unterminated comment', pos);
      yield { kind: 'comment', start: pos, end: end + 3 };
      pos = end + 3;
      continue;
    }
    if (s.startsWith('<![CDATA[', pos)) {
      if (stack.length === 0 && !fragment) throw new XmlSyntaxError('CDATA outside the root element', pos);
      const end = s.indexOf(']]>', pos + 9);
      if (end < 0) throw new XmlSyntaxError('unterminated CDATA section', pos);
      yield { kind: 'cdata', start: pos, end: end + 3 };
      pos = end + 3;
      continue;
    }
    if (s.startsWith('<?', pos)) {
      const target = matchAt(NAME, s, pos + 2);
      const end = s.indexOf('?>', pos + 2);
      if (!target || end < 0) throw new XmlSyntaxError('malformed processing instruction', pos);
      if (target.toLowerCase() === 'xml' && (fragment || (pos !== 0 && !(pos === 1 && s.charCodeAt(0) === 0xfeff)))) {
        throw new XmlSyntaxError('XML declaration not at the start', pos);
      }
      yield { kind: 'pi', start: pos, end: end + 2, target };
      pos = end + 2;
      continue;
    }
    if (s.startsWith('<!DOCTYPE', pos)) {
      if (seenRoot || seenDoctype || fragment) throw new XmlSyntaxError('misplaced DOCTYPE', pos);
      seenDoctype = true;
      const { end, entities } = lexDoctype(s, pos);
      yield { kind: 'doctype', start: pos, end, entities };
      pos = end;
      continue;
    }
    if (s.startsWith('</', pos)) {
      const name = matchAt(NAME, s, pos + 2);
      if (!name) throw new XmlSyntaxError('malformed end tag', pos);
      let p = pos + 2 + name.length;
      p += matchAt(WS, s, p)?.length ?? 0;
      if (s[p] !== '>') throw new XmlSyntaxError('malformed end tag', pos);
      const open = stack.pop();
      if (open !== name) throw new XmlSyntaxError(`end tag </${name}> does not match <${open ?? ''}>`, pos);
      yield { kind: 'close', start: pos, end: p + 1, name, depth: stack.length };
      pos = p + 1;
      continue;
    }
    // Start tag.
    const name = matchAt(NAME, s, pos + 1);
    if (!name) throw new XmlSyntaxError('malformed tag', pos);
    if (stack.length === 0 && seenRoot && !fragment) throw new XmlSyntaxError('more than one root element', pos);
    let p = pos + 1 + name.length;
    const attrs: XmlAttr[] = [];
    const seen = new Set<string>();
    let selfClosing = false;
    while (true) {
      const wsLen = matchAt(WS, s, p)?.length ?? 0;
      const attrStart = p;
      p += wsLen;
      if (s[p] === '>') {
        p += 1;
        break;
      }
      if (s[p] === '/' && s[p + 1] === '>') {
        selfClosing = true;
        p += 2;
        break;
      }
      if (p >= n) throw new XmlSyntaxError(`unterminated tag <${name}>`, pos);
      const attrName = wsLen > 0 ? matchAt(NAME, s, p) : null;
      if (!attrName) throw new XmlSyntaxError(`malformed attribute in <${name}>`, p);
      p += attrName.length;
      p += matchAt(WS, s, p)?.length ?? 0;
      if (s[p] !== '=') throw new XmlSyntaxError(`attribute ${attrName} without a value`, p);
      p += 1;
      p += matchAt(WS, s, p)?.length ?? 0;
      const q = s[p];
      if (q !== '"' && q !== "'") throw new XmlSyntaxError(`unquoted value for ${attrName}`, p);
      const close = s.indexOf(q, p + 1);
      if (close < 0) throw new XmlSyntaxError(`unterminated value for ${attrName}`, p);
      const raw = s.slice(p + 1, close);
      if (raw.includes('<')) throw new XmlSyntaxError(`"<" in the value of ${attrName}`, p);
      if (seen.has(attrName)) throw new XmlSyntaxError(`duplicate attribute ${attrName}`, attrStart);
      seen.add(attrName);
      p = close + 1;
      attrs.push({ name: attrName, raw, start: attrStart, end: p });
    }
    seenRoot = true;
    yield { kind: 'open', start: pos, end: p, name, attrs, selfClosing, depth: stack.length };
    if (!selfClosing) stack.push(name);
    pos = p;
  }
  if (stack.length > 0) throw new XmlSyntaxError(`unclosed element <${stack[stack.length - 1] ?? ''}>`, n);
  if (!seenRoot && !fragment) throw new XmlSyntaxError('no root element', n);
}

/** Skips a DOCTYPE, collecting the general entities of its internal subset. */
function lexDoctype(s: string, start: number): { end: number; entities: EntityDecl[] } {
  const entities: EntityDecl[] = [];
  let p = start + 9;
  let inSubset = false;
  while (p < s.length) {
    const c = s[p];
    if (c === '"' || c === "'") {
      const close = s.indexOf(c, p + 1);
      if (close < 0) break;
      p = close + 1;
    } else if (inSubset && s.startsWith('<!--', p)) {
      const close = s.indexOf('-->', p + 4);
      if (close < 0) break;
      p = close + 3;
    } else if (inSubset && s.startsWith('<!ENTITY', p)) {
      const m = /^<!ENTITY\s+(%\s+)?([^\s%&;<>"']+)\s+(?:"([^"]*)"|'([^']*)'|(SYSTEM|PUBLIC)\b)/.exec(s.slice(p, p + 65_536));
      if (!m) throw new XmlSyntaxError('malformed ENTITY declaration', p);
      const name = m[2] ?? '';
      if (!m[1]) entities.push({ name, value: m[5] ? null : (m[3] ?? m[4] ?? '') });
      p += m[0].length;
      // The rest of the declaration (external ids, NDATA) ends at the next '>' outside quotes.
      while (p < s.length && s[p] !== '>') {
        const q = s[p];
        if (q === '"' || q === "'") {
          const close = s.indexOf(q, p + 1);
          if (close < 0) throw new XmlSyntaxError('unterminated ENTITY declaration', p);
          p = close + 1;
        } else p++;
      }
      p++;
    } else if (c === '[' && !inSubset) {
      inSubset = true;
      p++;
    } else if (c === ']' && inSubset) {
      inSubset = false;
      p++;
    } else if (c === '>' && !inSubset) {
      return { end: p + 1, entities };
    } else {
      p++;
    }
  }
  throw new XmlSyntaxError('unterminated DOCTYPE', start);
}

/**
 * Finds entity references in `raw` and hands each to `replace`, which returns the text to
 * put in its place (or the reference itself to keep it). Undeclared names throw.
 */
export function mapEntityRefs(raw: string, at: number, replace: (ref: string, name: string) => string): string {
  if (!raw.includes('&')) return raw;
  let out = '';
  let last = 0;
  for (let i = raw.indexOf('&'); i >= 0; i = raw.indexOf('&', last)) {
    const semi = raw.indexOf(';', i);
    const name = semi > i ? raw.slice(i + 1, semi) : '';
    if (!/^(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z_:][\w.\-:]*)$/.test(name)) throw new XmlSyntaxError('malformed entity reference', at + i);
    if (name.startsWith('#')) {
      const cp = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!isXmlChar(cp)) throw new XmlSyntaxError(`invalid character reference &${name};`, at + i);
    }
    out += raw.slice(last, i) + replace(raw.slice(i, semi + 1), name);
    last = semi + 1;
  }
  return out + raw.slice(last);
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Decodes predefined, numeric and (given) custom entity references to text. */
export function decodeXmlText(raw: string, custom: ReadonlyMap<string, string> = new Map()): string {
  return mapEntityRefs(raw, 0, (_ref, name) => {
    if (name.startsWith('#')) return String.fromCodePoint(name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
    const v = PREDEFINED[name] ?? custom.get(name);
    if (v === undefined) throw new XmlSyntaxError(`undeclared entity &${name};`, 0);
    return v;
  });
}

export function isPredefinedEntity(name: string): boolean {
  return name in PREDEFINED;
}
