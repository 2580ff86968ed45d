/**
 * PreviewProxy's path grammar: `/<comma-separated options>/<source>`.
 *
 * The split between options and source is PreviewProxy's (`TransformParams::from_path`): the
 * last `/enc/` followed by a blob, else the right-most of `/https://`, `/http://`, `/s3:/`, `/local:/`
 * and the alias delimiter (the `/` before a `:/` that is not `://`). Right-most wins, so a
 * watermark URL inside the options (`wm:https://…`) stays in the options. Without any
 * delimiter the path is a relative source, unless its first segment reads as options.
 */
import { ProxyError } from '../../errors.js';
import { pathUnescape } from '../imgproxy/source-url.js';
import { isPpKey, setParam, type PpKey, type PpParams } from './params.js';

export type PathSource = { readonly kind: 'plain'; readonly url: string } | { readonly kind: 'encrypted'; readonly blob: string };

export interface ParsedPath {
  readonly params: PpParams;
  readonly sig: string | undefined;
  readonly source: PathSource;
}

const BARE_WORDS: Readonly<Record<string, [PpKey, string]>> = {
  contain: ['fit', 'contain'],
  cover: ['fit', 'cover'],
  crop: ['fit', 'crop'],
  // `best` is a value of format=, never a bare word (as in PreviewProxy).
  ...Object.fromEntries(['webp', 'jpeg', 'png', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl'].map((f) => [f, ['format', f]])),
  fliph: ['flip', 'h'],
  flipv: ['flip', 'v'],
  grayscale: ['grayscale', '1'],
  gif_anim: ['gif_anim', 'all'],
  gif_af: ['gif_af', '1'],
};

/** `key:` forms whose value is everything after the prefix, `=` and `:` included (URLs). */
const PREFIX_KEYS = ['blur', 'seek', 'bright', 'contrast', 'wm', 'wm_opacity', 'wm_pos', 'wm_x', 'wm_y', 'wm_scale', 'wmt', 'wmt_color', 'wmt_size', 'wmt_font', 'sig', 'gif_anim'] as const;

const U32_RE = /^\+?\d+$/;
const isU32 = (s: string): boolean => U32_RE.test(s) && Number(s) <= 4_294_967_295;

/** One token onto `params`; returns a `sig` token's value. */
function applyToken(params: PpParams, token: string): string | undefined {
  const x = token.indexOf('x');
  if (x !== -1 && isU32(token.slice(0, x)) && isU32(token.slice(x + 1))) {
    setParam(params, 'w', token.slice(0, x));
    setParam(params, 'h', token.slice(x + 1));
    return undefined;
  }
  if (token.startsWith('q') && isU32(token.slice(1))) return void setParam(params, 'q', token.slice(1));
  if (token.startsWith('r') && isU32(token.slice(1))) return void setParam(params, 'rotate', token.slice(1));
  for (const key of PREFIX_KEYS) {
    if (!token.startsWith(`${key}:`)) continue;
    const value = token.slice(key.length + 1);
    if (key === 'sig') return value;
    return void setParam(params, key, value);
  }
  const bare = BARE_WORDS[token];
  if (bare) return void setParam(params, bare[0], bare[1]);

  // Generic key=value / key:value, `=` first (PreviewProxy PR #16).
  const eq = token.indexOf('=');
  const sep = eq !== -1 ? eq : token.indexOf(':');
  if (sep === -1) throw new ProxyError('BAD_REQUEST', `Unknown option: ${token}`);
  const name = token.slice(0, sep);
  const value = token.slice(sep + 1);
  if (name === 'sig') return value;
  const key = name === 'r' ? 'rotate' : name;
  if (!isPpKey(key)) throw new ProxyError('BAD_REQUEST', `Unknown option: ${token}`);
  setParam(params, key, value);
  return undefined;
}

/** Options part (`300x200,webp,q80`) → params; empty tokens are skipped. */
function parseOptions(options: string): { params: PpParams; sig: string | undefined } {
  const params: PpParams = {};
  let sig: string | undefined;
  for (const raw of options.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    // Later tokens win, the signature's included (PreviewProxy's parse_options).
    sig = applyToken(params, token) ?? sig;
  }
  return { params, sig };
}

/** Right-most `/` that precedes a `:/` not followed by another `/`. */
function aliasDelimiter(path: string): number {
  let last = -1;
  for (let i = path.indexOf(':/'); i !== -1; i = path.indexOf(':/', i + 1)) {
    if (path[i + 2] === '/') continue;
    last = Math.max(last, path.lastIndexOf('/', i - 1));
  }
  return last;
}

function splitIndex(path: string): number {
  // A blob is base64url, so it never holds a delimiter; PreviewProxy takes any `/enc/`, which
  // breaks sources like `https://host/enc/a.jpg`: we take it only before a blob-shaped tail.
  const enc = path.lastIndexOf('/enc/');
  if (enc !== -1 && /^[A-Za-z0-9_-]+=*$/.test(path.slice(enc + '/enc/'.length))) return enc;
  const lower = path.toLowerCase();
  return Math.max(
    path.lastIndexOf('/https://'),
    path.lastIndexOf('/http://'),
    path.lastIndexOf('/s3:/'),
    path.lastIndexOf('/local:/'),
    lower.lastIndexOf('/local:%2f'),
    aliasDelimiter(path),
  );
}

/**
 * urlencoding::decode as PreviewProxy uses it on the source: valid `%XX` decoded, anything
 * else kept, the input returned unchanged when the result is not UTF-8.
 */
function lenientUnescape(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === 0x25 ? raw.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(raw[i] ?? 0);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return s;
  }
}

/**
 * `rawPath`: the request path, still percent-encoded, query removed. Decoded once as axum's
 * `Path` does in PreviewProxy; the source is then decoded a second time, as there.
 */
export function parsePpPath(rawPath: string): ParsedPath {
  // PreviewProxy's NormalizePath layer trims trailing slashes before routing.
  const decoded = pathUnescape(rawPath.replace(/\/+$/, ''));
  if (decoded === undefined) throw new ProxyError('BAD_REQUEST', `Invalid percent-encoding in path: ${JSON.stringify(rawPath)}`);
  const path = decoded.startsWith('/') ? decoded : `/${decoded}`;
  const at = splitIndex(path);

  if (at === -1) {
    const relative = path.slice(1);
    if (relative === '') throw new ProxyError('BAD_REQUEST', 'Missing source URL');
    const slash = relative.indexOf('/');
    if (slash > 0 && readsAsOptions(relative.slice(0, slash))) {
      throw new ProxyError('BAD_REQUEST', 'transform options require an absolute source URL (e.g. /300x200/https://…); with PP_DEFAULT_SOURCE_URL pass them as query parameters');
    }
    return { params: {}, sig: undefined, source: { kind: 'plain', url: lenientUnescape(relative) } };
  }

  const { params, sig } = parseOptions(path.slice(0, at).replace(/^\/+|\/+$/g, ''));
  const rest = path.slice(at + 1);
  const source: PathSource = rest.startsWith('enc/')
    ? { kind: 'encrypted', blob: rest.slice('enc/'.length) }
    : { kind: 'plain', url: lenientUnescape(rest) };
  return { params, sig, source };
}

function readsAsOptions(segment: string): boolean {
  try {
    parseOptions(segment);
    return true;
  } catch {
    return false;
  }
}
