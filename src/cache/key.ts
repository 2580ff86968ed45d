/**
 * Cache keys. Every result key is grouped by its source, so one source's variants can be
 * listed under one prefix (a purge by source, a refresh that retires them) in every backend:
 *
 *   result   <src>_r<url><neg>    src = 32 hex of sha256(source URL); url = 32 hex over what
 *                                 the URL alone says (normalised options, without Accept or
 *                                 client hints); neg = 32 hex over everything (negotiated
 *                                 options, IMGPROXY_CACHE_KEY_HEADERS / _COOKIES, the tags
 *                                 header). `<src>_r<url>` groups the variants of one URL.
 *   /info    <src>_i<64 hex>      over the source and the /info options
 *   tag      <tag>_t<entry key>   an index marker per tag of an entry (32 hex of the tag)
 *
 * The hashed material is a canonical (sorted-keys) JSON of the key version
 * (PIXPROXY_CACHE_KEY_VERSION), the layout version, the resolved source URL and the
 * normalised options minus NON_KEY_OPTIONS (the output format requested or negotiated is
 * part of the options). `legacyKey` is the key of layout 1 (one 64-hex digest, no grouping),
 * still read until those entries expire (see cache/index.ts).
 *
 * "URL signature is not part of the cache key, allowing key rotation without invalidating the
 * cache" (https://docs.imgproxy.net/cache/internal): the signature is not an input at all;
 * "imgproxy includes the cachebuster in the cache key": it is an ordinary option here. Because
 * the dialects normalise aliases, order and presets into one ProcessingOptions, equivalent
 * URLs share a key.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import { loadConfig } from '../config/index.js';
import { defaultOptions } from '../default-options.js';
import type { ProcessingOptions } from '../options.js';
import type { ImageRequest } from '../request.js';
import { sameData } from '../same-data.js';

type KeyConfig = Pick<Config['cache'], 'keyVersion' | 'keyHeaders' | 'keyCookies'> & Partial<Pick<Config['cache'], 'tagsHeader'>>;

/** Layout of the grouped keys (1 was the flat digest of `legacyKey`). */
const LAYOUT = 2;
/** Hex digits of a source or tag hash in a key. */
export const GROUP_HASH_LEN = 32;

/** JSON text already in canonical form: canonicalJson emits it as it is (an options object serialised once per key). */
class CanonicalText {
  constructor(readonly json: string) {}
}

/** JSON with object keys sorted at every level; `undefined` members are dropped like JSON.stringify does. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (value instanceof CanonicalText) return value.json;
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Cookie header → first value of each name (RFC 6265 §5.4: names are case-sensitive). */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const raw = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const pair of raw.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || out.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.set(name, value);
  }
  return out;
}

/** A request header as the key records it: null when absent, repeated values joined. */
export function keyHeaderValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function hex(material: string, len = 64): string {
  return createHash('sha256').update(material).digest('hex').slice(0, len);
}

/**
 * Options as they were when layout 1 was the key: its material took exactly these, so an
 * option added since (whatever its value) does not change a layout-1 key.
 */
const LAYOUT1_OPTIONS = [
  'resizingType', 'resizingAlgorithm', 'width', 'height', 'minWidth', 'minHeight', 'zoomX', 'zoomY', 'dpr', 'enlarge', 'extend',
  'extendAspectRatio', 'gravity', 'crop', 'trim', 'padding', 'autoRotate', 'rotate', 'flipHorizontal', 'flipVertical', 'background',
  'blur', 'sharpen', 'pixelate', 'brightness', 'contrast', 'saturation', 'monochrome', 'stripMetadata', 'keepCopyright',
  'stripColorProfile', 'preserveHdr', 'enforceThumbnail', 'quality', 'formatQuality', 'maxBytes', 'format', 'preferWebp', 'preferAvif',
  'preferJxl', 'enforceWebp', 'enforceAvif', 'enforceJxl', 'skipProcessingFormats', 'raw', 'cachebuster', 'watermark', 'page', 'pages',
  'disableAnimation', 'maxSrcResolution', 'maxSrcFileSize', 'maxAnimationFrames', 'maxAnimationFrameResolution', 'maxResultDimension',
] as const;

/** Options that change headers or validity but never the bytes: left out of the key. */
export const NON_KEY_OPTIONS = ['expires', 'filename', 'returnAttachment', 'usedPresets', 'objectsPosition', 'bypassCache'] as const satisfies readonly (keyof ProcessingOptions)[];

/** An option's value with nothing configured: as it is (primitives compare by `===`) and as canonical JSON. */
interface BaselineValue {
  raw: unknown;
  json: string;
}

let baseline: ReadonlyMap<string, BaselineValue> | undefined;

/** Each option's value with nothing configured (computed once). */
function baselineOptions(): ReadonlyMap<string, BaselineValue> {
  baseline ??= new Map(Object.entries(defaultOptions(loadConfig({}))).map(([k, v]) => [k, { raw: v, json: canonicalJson(v) }]));
  return baseline;
}

const NON_KEY = new Set<string>(NON_KEY_OPTIONS);

/** `"name":` of each option name seen, so the hot path does not re-quote them. */
const quotedNames = new Map<string, string>();

/**
 * The sorted names of an options object. The dialects build every ProcessingOptions from
 * defaultOptions(), so the same names come in the same order request after request: the last
 * sort is reused while they do.
 */
let lastNames: string[] = [];
let lastSorted: string[] = [];
function sortedNames(options: object): readonly string[] {
  const names = Object.keys(options);
  if (names.length === lastNames.length && names.every((n, i) => n === lastNames[i])) return lastSorted;
  lastNames = names;
  lastSorted = [...names].sort();
  return lastSorted;
}

/**
 * The options that enter a layout-2 key, as canonical JSON: NON_KEY_OPTIONS out, and every
 * option at the value it has with nothing configured out too, so a release that adds an option
 * (at its default) keeps every existing key. A configured default (IMGPROXY_STRIP_METADATA=false)
 * differs from that baseline, so it still changes the keys it affects. The same text as
 * canonicalJson over the kept options, built in one pass (a key is computed on every request the
 * resolve memo does not remember).
 */
function keyOptionsJson(options: ProcessingOptions): CanonicalText {
  const base = baselineOptions();
  const record = options as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of sortedNames(options)) {
    const v = record[k];
    if (v === undefined || typeof v === 'function' || NON_KEY.has(k)) continue;
    const b = base.get(k);
    if (b !== undefined && sameData(v, b.raw)) continue;
    const json = canonicalJson(v);
    if (b !== undefined && json === b.json) continue;
    let name = quotedNames.get(k);
    if (name === undefined) quotedNames.set(k, (name = `${JSON.stringify(k)}:`));
    parts.push(name + json);
  }
  return new CanonicalText(`{${parts.join(',')}}`);
}

/** The request headers and cookies that enter a key (IMGPROXY_CACHE_KEY_HEADERS / _COOKIES, the tags header). */
function keyInputs(headers: IncomingHttpHeaders, cfg: KeyConfig): { headers: Record<string, string | null>; cookies: Record<string, string | null> } {
  const h: Record<string, string | null> = {};
  for (const name of cfg.keyHeaders) h[name.toLowerCase()] = keyHeaderValue(headers, name);
  if (cfg.tagsHeader) h[cfg.tagsHeader.toLowerCase()] = keyHeaderValue(headers, cfg.tagsHeader);
  const c: Record<string, string | null> = {};
  if (cfg.keyCookies.length > 0) {
    const jar = parseCookies(headers.cookie);
    for (const name of cfg.keyCookies) c[name] = jar.get(name) ?? null;
  }
  return { headers: h, cookies: c };
}

/** The 32 hex digits that group every entry of one source. */
export function sourceHash(url: string): string {
  return hex(`source\n${url}`, GROUP_HASH_LEN);
}

/** The 32 hex digits of a tag in its index markers. */
export function tagHash(tag: string): string {
  return hex(`tag\n${tag}`, GROUP_HASH_LEN);
}

/** Every key of one source's results and /info answers starts with this. */
export function sourcePrefix(url: string): string {
  return `${sourceHash(url)}_`;
}

/** The canonical string a result's `neg` part hashes (exported for tests and debugging). */
export function keyMaterial(req: ImageRequest, headers: IncomingHttpHeaders, cfg: KeyConfig, options = keyOptionsJson(req.options)): string {
  return canonicalJson({ layout: LAYOUT, v: cfg.keyVersion, kind: req.kind, source: req.source, options, ...keyInputs(headers, cfg) });
}

/**
 * `<src>_r<url>`: every negotiated variant of one URL (any Accept, client hints, key headers)
 * starts with it. `req.urlOptions`, when the dialect set it, are the options of the URL alone.
 */
export function resultGroup(req: ImageRequest, cfg: Pick<KeyConfig, 'keyVersion'>, urlOptions = keyOptionsJson(req.urlOptions ?? req.options)): string {
  const url = canonicalJson({ layout: LAYOUT, v: cfg.keyVersion, kind: req.kind, source: req.source, options: urlOptions });
  return `${sourceHash(req.source)}_r${hex(url, GROUP_HASH_LEN)}`;
}

/** The key of a transformed result: `<src>_r<url><neg>` (the options serialised once when the URL's are the negotiated ones). */
export function transformedKey(req: ImageRequest, headers: IncomingHttpHeaders, cfg: KeyConfig): string {
  const options = keyOptionsJson(req.options);
  const urlOptions = req.urlOptions === undefined || req.urlOptions === req.options ? options : keyOptionsJson(req.urlOptions);
  return `${resultGroup(req, cfg, urlOptions)}${hex(keyMaterial(req, headers, cfg, options), GROUP_HASH_LEN)}`;
}

/**
 * The key of a request that forwards the client's cookies (IMGPROXY_COOKIE_PASSTHROUGH): the
 * shared key made private to that Cookie header, so no other client is served what these
 * cookies fetched. Its last 32 hex digits are replaced, its group is kept: a purge by URL or
 * by source finds the cookie variants with the others.
 */
export function withCookies(key: string, cookie: string): string {
  const digest = createHash('sha256').update(key).update('\0cookie\0').update(cookie).digest('hex').slice(0, GROUP_HASH_LEN);
  return `${key.slice(0, key.length - GROUP_HASH_LEN)}${digest}`;
}

/** The key of an /info answer: `<src>_i<hash>`; `options` without the ones that never change the answer. */
export function infoKey(source: string, options: Readonly<Record<string, unknown>>, cfg: Pick<KeyConfig, 'keyVersion'>): string {
  return `${sourceHash(source)}_i${hex(canonicalJson({ layout: LAYOUT, v: cfg.keyVersion, kind: 'info', source, options }))}`;
}

/** The index marker of `tag` on the entry `key`. */
export function tagMarker(tag: string, key: string): string {
  return `${tagHash(tag)}_t${key}`;
}

/** The prefix of every index marker of `tag`. */
export function tagMarkerPrefix(tag: string): string {
  return `${tagHash(tag)}_t`;
}

/** The entry key an index marker points at, or null when `marker` is not one. */
export function markedKey(marker: string): string | null {
  const at = GROUP_HASH_LEN + 2;
  return marker.length > at && marker.slice(GROUP_HASH_LEN, at) === '_t' ? marker.slice(at) : null;
}

/**
 * The layout-1 key of a result: one sha256 hex digest over the same inputs without grouping
 * (the `v` field first hashed by pixproxy before grouped keys), read until such entries expire.
 */
export function legacyKey(req: ImageRequest, headers: IncomingHttpHeaders, cfg: Pick<Config['cache'], 'keyVersion' | 'keyHeaders' | 'keyCookies'>): string {
  const { headers: h, cookies: c } = keyInputs(headers, { ...cfg, tagsHeader: '' });
  const options: Record<string, unknown> = {};
  for (const k of LAYOUT1_OPTIONS) options[k] = req.options[k];
  return hex(canonicalJson({ v: cfg.keyVersion, kind: req.kind, source: req.source, options, headers: h, cookies: c }));
}

/** Origin sub-store key: "derived from the source URL only (no transform parameters)". */
export function originKey(url: string): string {
  return createHash('sha256').update(`origin\n${url}`).digest('hex');
}
