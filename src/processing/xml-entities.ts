/**
 * Expands the internal general entities a DOCTYPE declares, as an XML processor does
 * (https://www.w3.org/TR/xml/#entproc, worked example in appendix D), so that what an entity
 * holds reaches the SVG sanitiser as ordinary markup and is sanitised like any other.
 * imgproxy's sanitiser writes the DOCTYPE back untouched and leaves the expansion to libxml2
 * inside librsvg (https://github.com/imgproxy/imgproxy/blob/master/processing/svg/svg.go, which
 * filters element nodes only); here the sanitiser drops the DOCTYPE, so it expands the entities
 * itself, and refuses what libxml2 refuses.
 *
 * What is refused (EntityError, which the sanitiser answers with 422 wherever the reference is;
 * an undeclared name is refused in text and only costs its attribute in an attribute value):
 * - an external entity (SYSTEM / PUBLIC, NDATA): nothing is ever fetched;
 * - a parameter-entity reference in a replacement text (XML's "PEs in Internal Subset"
 *   constraint); parameter entities themselves are never expanded, so whatever they would
 *   declare stays undeclared;
 * - a recursive entity, a replacement text that is not well-formed where
 *   it is referenced (unbalanced tags, a DOCTYPE or XML declaration inside it; a `<` inside an
 *   attribute value);
 * - nesting deeper than libxml2's 20 levels; expansion beyond libxml2's amplification bound
 *   (more than 1,000,000 characters and more than 5 times the document, each reference costing
 *   20 more so that empty entities cannot multiply work for free:
 *   https://gitlab.gnome.org/GNOME/libxml2/-/blob/master/parser.c, xmlParserEntityCheck);
 *   and, stricter than libxml2, text that entities produce by referring to other entities
 *   beyond 5 times the document, with no allowance: that is how every entity bomb multiplies
 *   (billion laughs), while a document's own references (the W3C suite's reused shapes) only
 *   copy. The sanitiser's output size limit bounds the rest (quadratic blow-up).
 */
import { type EntityDecl, XmlSyntaxError, decodeXmlText, isPredefinedEntity, lexXml, mapEntityRefs } from './xml-lexer.js';

/** libxml2's entity nesting limit without XML_PARSE_HUGE. */
const MAX_DEPTH = 20;
/** libxml2's XML_PARSER_ALLOWED_EXPANSION: expansion always allowed. */
const ALLOWED_EXPANSION = 1_000_000;
/** libxml2's XML_MAX_AMPLIFICATION_DEFAULT: beyond the allowance, expansion ÷ input. */
const MAX_AMPLIFICATION = 5;
/** libxml2's XML_ENT_FIXED_COST: what each reference costs on top of its text. */
const FIXED_COST = 20;

/**
 * A declared entity the document is refused for wherever it is referenced: external, not
 * well-formed where it is used, recursive, or over a bound. (An undeclared name is a plain
 * XmlSyntaxError, which in an attribute only costs the attribute, as for HTML's `&colon;`.)
 */
export class EntityError extends XmlSyntaxError {
  constructor(message: string, position: number) {
    super(message, position);
    this.name = 'EntityError';
  }
}

export interface EntityExpander {
  /**
   * A text token as written, with every declared entity replaced by its replacement text,
   * itself expanded: markup the entities hold is in the result, to be lexed and sanitised.
   */
  content(raw: string, at: number): string;
  /**
   * An attribute value as written, with every declared entity replaced by `escape` of its
   * value (predefined and character references stay as written).
   */
  attribute(raw: string, at: number, escape: (value: string) => string): string;
}

/**
 * `raw` (text or an attribute value as written) as it is, when every reference in it is a
 * predefined or character one; a custom entity here is undeclared.
 */
export function builtInReferencesOnly(raw: string, at: number): string {
  return mapEntityRefs(raw, at, (ref, name) => {
    if (name.startsWith('#') || isPredefinedEntity(name)) return ref;
    throw new XmlSyntaxError(`undeclared entity &${name};`, at);
  });
}

/** Expansion for a document without entity declarations. */
const NONE: EntityExpander = { content: builtInReferencesOnly, attribute: builtInReferencesOnly };

/**
 * The document with the entity references of its text expanded (the DOCTYPE and attribute
 * values as written: the sanitiser drops the one and expands the others with `entities`).
 * A document that declares no entity comes back as it is, lexed no further than its root.
 * `maxExpansion` (the caller's output limit) lowers the amplification bound, so nothing over
 * what the caller would refuse anyway is built.
 */
export function expandEntities(s: string, maxExpansion = Infinity): { text: string; entities: EntityExpander } {
  let entities: EntityExpander | null = null;
  const parts: string[] = [];
  let last = 0;
  for (const tok of lexXml(s)) {
    if (tok.kind === 'doctype') {
      if (tok.entities.length > 0) entities = createEntityExpander(tok.entities, s.length, maxExpansion);
    } else if (entities === null) {
      // The DOCTYPE comes before the root element: past it, there is nothing to expand.
      if (tok.kind === 'open') return { text: s, entities: NONE };
    } else if (tok.kind === 'text') {
      const raw = s.slice(tok.start, tok.end);
      const expanded = entities.content(raw, tok.start);
      if (expanded !== raw) {
        parts.push(s.slice(last, tok.start), expanded);
        last = tok.end;
      }
    }
  }
  if (entities === null) return { text: s, entities: NONE };
  parts.push(s.slice(last));
  return { text: parts.join(''), entities };
}

/** One entity expanded once: its text and what copying it costs (libxml2's expandedSize). */
interface Expanded {
  value: string;
  /** Its replacement text's length plus, for each reference inside, that entity's cost + 20. */
  cost: number;
  /** The part of `cost` that its own references add: how entity bombs multiply. */
  inherited: number;
}

/** The expander of one document's declarations (`inputLength` sets the amplification bounds). */
export function createEntityExpander(decls: readonly EntityDecl[], inputLength: number, maxExpansion = Infinity): EntityExpander {
  // The first declaration of a name binds (https://www.w3.org/TR/xml/#sec-entity-decl).
  const declared = new Map<string, EntityDecl>();
  for (const d of decls) if (!declared.has(d.name)) declared.set(d.name, d);
  const contentMemo = new Map<string, Expanded>();
  const valueMemo = new Map<string, Expanded>();
  const expanding = new Set<string>();
  const limit = Math.min(Math.max(ALLOWED_EXPANSION, MAX_AMPLIFICATION * inputLength), maxExpansion);
  const nestedLimit = MAX_AMPLIFICATION * inputLength;
  let spent = 0;
  let nested = 0;

  const check = (cost: number, inherited: number, at: number): void => {
    if (cost > limit) throw new EntityError(`entity expansion over ${limit} characters`, at);
    if (inherited > nestedLimit) throw new EntityError(`nested entities expand to over ${nestedLimit} characters (${MAX_AMPLIFICATION} times the document)`, at);
  };

  /** A reference in the document itself: what it copies counts against the document's bounds. */
  const charge = (e: Expanded, at: number): void => {
    spent += e.cost + FIXED_COST;
    nested += e.inherited;
    check(spent, nested, at);
  };

  /** The replacement text: the literal with character references decoded (§4.5). */
  const replacementOf = (name: string, at: number): string => {
    const decl = declared.get(name);
    if (!decl) throw new XmlSyntaxError(`undeclared entity &${name};`, at);
    if (decl.value === null) throw new EntityError(`external entity &${name}; is not allowed`, at);
    if (decl.value.includes('%')) throw new EntityError(`entity &${name}; refers to a parameter entity`, at);
    try {
      return mapEntityRefs(decl.value, at, (ref, n) => (n.startsWith('#') ? decodeXmlText(ref) : ref));
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw new EntityError(`entity &${name}; has a malformed value: ${err.message}`, at);
      throw err;
    }
  };

  /**
   * Expands entity `name` once (later references reuse it, so the depth bound is on the
   * recursion, which is what it protects), checking its cost as it grows so that no bomb is
   * built before it is refused.
   */
  const once = (memo: Map<string, Expanded>, name: string, depth: number, at: number, build: (replacement: string, add: (e: Expanded) => void) => string): Expanded => {
    const known = memo.get(name);
    if (known) return known;
    if (depth > MAX_DEPTH) throw new EntityError(`entities nested deeper than ${MAX_DEPTH}`, at);
    if (expanding.has(name)) throw new EntityError(`entity &${name}; refers to itself`, at);
    expanding.add(name);
    try {
      const replacement = replacementOf(name, at);
      let inherited = 0;
      const value = build(replacement, (e) => {
        inherited += e.cost + FIXED_COST;
        check(replacement.length + inherited, inherited, at);
      });
      const e: Expanded = { value, cost: replacement.length + inherited, inherited };
      memo.set(name, e);
      return e;
    } finally {
      expanding.delete(name);
    }
  };

  /** `raw` with its custom references replaced by their expansion; `use` sees each entity. */
  const expandText = (raw: string, at: number, depth: number, use: (e: Expanded) => void): string =>
    mapEntityRefs(raw, at, (ref, name) => {
      if (name.startsWith('#') || isPredefinedEntity(name)) return ref;
      const e = contentOf(name, at, depth);
      use(e);
      return e.value;
    });

  const contentOf = (name: string, at: number, depth: number): Expanded =>
    once(contentMemo, name, depth, at, (replacement, add) => {
      // Lexed as content: a replacement that would open or close an element around the
      // reference, or smuggle a DOCTYPE in, is not well-formed (§4.3.2).
      let tokens;
      try {
        tokens = [...lexXml(replacement, { fragment: true })];
      } catch (err) {
        if (err instanceof XmlSyntaxError) throw new EntityError(`entity &${name}; is not well-formed content: ${err.message}`, at);
        throw err;
      }
      const parts: string[] = [];
      let last = 0;
      for (const tok of tokens) {
        if (tok.kind !== 'text') continue;
        const t = replacement.slice(tok.start, tok.end);
        const x = expandText(t, at, depth + 1, add);
        if (x !== t) {
          parts.push(replacement.slice(last, tok.start), x);
          last = tok.end;
        }
      }
      parts.push(replacement.slice(last));
      return parts.join('');
    });

  /** An entity's value in an attribute: decoded, its own references expanded (§3.3.3). */
  const valueOf = (name: string, at: number, depth: number): Expanded =>
    once(valueMemo, name, depth, at, (replacement, add) => {
      // XML's "No < in Attribute Values", which holds for replacement texts too.
      if (replacement.includes('<')) throw new EntityError(`entity &${name}; has markup and is used in an attribute`, at);
      return mapEntityRefs(replacement, at, (ref, n) => {
        if (n.startsWith('#') || isPredefinedEntity(n)) return decodeXmlText(ref);
        const e = valueOf(n, at, depth + 1);
        add(e);
        return e.value;
      });
    });

  return {
    content: (raw, at) => expandText(raw, at, 1, (e) => charge(e, at)),
    attribute: (raw, at, escape) =>
      mapEntityRefs(raw, at, (ref, name) => {
        if (name.startsWith('#') || isPredefinedEntity(name)) return ref;
        const e = valueOf(name, at, 1);
        charge(e, at);
        return escape(e.value);
      }),
  };
}
