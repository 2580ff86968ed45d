/**
 * PreviewProxy's parameters as data: every key in canonical-string order, with the parser
 * that turns a raw value into PreviewProxy's normalised form (clamped w/h, `grayscale=1`,
 * f32 `Display` for blur, 4 decimals for wm_opacity/wm_scale…). The normalised strings are
 * both what is signed and what `apply-params.ts` maps onto ProcessingOptions, so the
 * signature, the options and the cache key all come from one value per key, whatever the
 * order or spelling of the request: any URL PreviewProxy signs verifies here. Syntax errors
 * here are 400s; whether we can honour a value (jxl, rotate=45, text watermarks…) is decided
 * after merging, in apply-params.ts.
 */
import { ProxyError } from '../../errors.js';
import { MAX_WATERMARK_SCALE } from '../imgproxy/arg-ranges.js';
import { checkNumber, describeRange, type NumberSpec } from '../numeric.js';
import { f32Display, f32Fixed4 } from './rust-format.js';

/** Canonical order (PreviewProxy's `canonical_string`; not alphabetical: wm_scale after wm_y). */
export const PP_KEYS = [
  'blur', 'bright', 'contrast', 'fit', 'flip', 'format', 'gif_af', 'gif_anim', 'grayscale', 'h', 'q', 'rotate',
  'seek', 'w', 'wm', 'wm_opacity', 'wm_pos', 'wm_x', 'wm_y', 'wm_scale', 'wmt', 'wmt_color', 'wmt_size', 'wmt_font',
] as const;
export type PpKey = (typeof PP_KEYS)[number];

/** Normalised values by key; absent = not given. */
export type PpParams = Partial<Record<PpKey, string>>;

/** PreviewProxy clamps w/h silently to this. */
const MAX_DIMENSION = 8192;
const U32: Pick<NumberSpec, 'kind' | 'min' | 'max'> = { kind: 'int', min: 0, max: 4_294_967_295 };
const I32: Pick<NumberSpec, 'kind' | 'min' | 'max'> = { kind: 'int', min: -2_147_483_648, max: 2_147_483_647 };
// Any finite value: these are clamped afterwards, as there (f32::clamp / max).
const F32: Pick<NumberSpec, 'kind' | 'min' | 'max'> = { kind: 'float', min: -Infinity, max: Infinity };

/**
 * The numeric parameters, their range and what PreviewProxy does with them
 * (src/modules/proxy/dto/params.rs, https://github.com/ViGrise/previewproxy). Rust's
 * `str::parse` takes an optional `+`; `-0` passes our integer syntax and is 0.
 */
export const PP_RANGES = {
  w: { ...U32, peer: 'u32, clamped to 8192' },
  h: { ...U32, peer: 'u32, clamped to 8192' },
  q: { ...U32, peer: 'u32; clamped to 1–100 when applied (PreviewProxy clamps for JPEG; AVIF would panic there)' },
  rotate: { ...U32, peer: 'u32; only 0, 90, 180, 270 do anything there (others are refused here)' },
  bright: { ...I32, peer: 'i32, not clamped there; clamped to −255…255 when applied (the same pixels)' },
  contrast: { ...I32, peer: 'i32; below −100 it is −100 when applied (flat grey)' },
  blur: { ...F32, peer: 'f32, clamped to 0–100' },
  wm_opacity: { ...F32, peer: 'f32, clamped to 0–1' },
  wm_x: { ...I32, peer: 'i32' },
  wm_y: { ...I32, peer: 'i32' },
  wmt_size: { ...U32, peer: 'u32, not bounded there (a font of 4 billion pixels)' },
  seek: { ...F32, peer: 'f32: seconds (negative = 0), or a ratio `<f32>r` clamped to 0–1, or `auto`' },
  wm_scale: {
    kind: 'float', min: -Infinity, max: MAX_WATERMARK_SCALE,
    peer: 'f32, negative = 0; no upper bound there (1e308 is `inf`, a mark of u32::MAX pixels); at most 2 here, a mark twice the image',
  },
} as const satisfies Partial<Record<string, NumberSpec>>;

function ppNum(key: keyof typeof PP_RANGES, v: string): number {
  const spec: NumberSpec = PP_RANGES[key];
  const n = checkNumber(spec, v);
  if (n === undefined) throw new ProxyError('BAD_REQUEST', `invalid ${key}: ${v} (expected ${describeRange(spec)})`);
  return n;
}

/** An f32 as Rust parses it, `-0` kept: `f32::clamp` keeps it and `Display` writes it. */
function ppFloat(key: keyof typeof PP_RANGES, v: string): number {
  const n = ppNum(key, v);
  return n === 0 && v.trimStart().startsWith('-') ? -0 : n;
}

/** Rust's `f32::clamp`: below `lo` is `lo`, above `hi` is `hi`, anything else (`-0` too) stays. */
const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

const UNSIGNED_RE = /^\+?\d+$/;
const U64_MAX = 2n ** 64n - 1n;

/** `usize::from_str` (64-bit): digits with an optional `+`, written back without zeros or sign. */
function usize(key: string, v: string): string {
  const n = UNSIGNED_RE.test(v) ? BigInt(v.replace(/^\+/, '')) : -1n;
  if (n < 0n || n > U64_MAX) throw new ProxyError('BAD_REQUEST', `invalid ${key}`);
  return n.toString();
}

/**
 * `seek` as PreviewProxy's SeekMode (dto/params.rs): `auto`, a ratio `<f32>r` clamped to 0–1,
 * or seconds ≥ 0, written back in its canonical form (`5.0` → `5`, `.50r` → `0.5r`).
 */
function seek(v: string): string {
  if (v === 'auto') return v;
  if (v.endsWith('r')) return `${f32Display(clamp(ppFloat('seek', v.slice(0, -1)), 0, 1))}r`;
  return f32Display(Math.max(ppFloat('seek', v), 0));
}

/** `gif_anim` as GifAnimRange: `all` (or empty), `N`, `N-M` or `-N`, numbers as usize. */
function gifAnim(v: string): string {
  if (v === '' || v === 'all') return 'all';
  if (v.startsWith('-')) return `-${usize('gif_anim', v.slice(1))}`;
  const dash = v.indexOf('-');
  if (dash !== -1) return `${usize('gif_anim', v.slice(0, dash))}-${usize('gif_anim', v.slice(dash + 1))}`;
  return usize('gif_anim', v);
}

function oneOf(key: string, allowed: readonly string[]): (v: string) => string {
  return (v) => {
    if (!allowed.includes(v)) throw new ProxyError('BAD_REQUEST', `Invalid ${key}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v;
  };
}

const ppBool = (v: string): string => (v === '1' || v.toLowerCase() === 'true' ? '1' : '0');
const text = (v: string): string => v;

const PP_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl', 'best'] as const;

/**
 * Raw value → PreviewProxy's normalised value, the text its canonical string holds for the key
 * (`format!` of the parsed field: u32/i32 without sign or zeros, f32 `Display`, `{:.4}` for
 * wm_opacity and wm_scale, booleans as 1/0).
 */
const PARAM_PARSERS: Readonly<Record<PpKey, (raw: string) => string>> = {
  w: (v) => String(Math.min(ppNum('w', v), MAX_DIMENSION)),
  h: (v) => String(Math.min(ppNum('h', v), MAX_DIMENSION)),
  fit: oneOf('fit', ['contain', 'cover', 'crop']),
  format: oneOf('format', PP_FORMATS),
  q: (v) => String(ppNum('q', v)),
  rotate: (v) => String(ppNum('rotate', v)),
  flip: oneOf('flip', ['h', 'v']),
  grayscale: ppBool,
  bright: (v) => String(ppNum('bright', v)),
  contrast: (v) => String(ppNum('contrast', v)),
  blur: (v) => f32Display(clamp(ppFloat('blur', v), 0, 100)),
  wm: text,
  wm_opacity: (v) => f32Fixed4(clamp(ppFloat('wm_opacity', v), 0, 1)),
  wm_pos: text,
  wm_x: (v) => String(ppNum('wm_x', v)),
  wm_y: (v) => String(ppNum('wm_y', v)),
  wm_scale: (v) => f32Fixed4(Math.max(ppNum('wm_scale', v), 0)),
  seek,
  gif_anim: gifAnim,
  gif_af: ppBool,
  wmt: text,
  wmt_color: text,
  wmt_size: (v) => String(ppNum('wmt_size', v)),
  wmt_font: text,
};

export function isPpKey(key: string): key is PpKey {
  return Object.hasOwn(PARAM_PARSERS, key);
}

/**
 * Sets `key`; a later value replaces an earlier one, as PreviewProxy's parser does (its
 * signature covers the value that won, so a signed URL means one result whatever the order).
 */
export function setParam(params: PpParams, key: PpKey, raw: string): void {
  params[key] = PARAM_PARSERS[key](raw);
}

/**
 * Query parameters: known keys only (PreviewProxy ignores the rest, `r` included). A repeated
 * key counts with its last value only, as the HashMap PreviewProxy collects the query into.
 */
export function paramsFromQuery(query: URLSearchParams): { params: PpParams; sig: string | undefined } {
  const params: PpParams = {};
  for (const key of PP_KEYS) {
    const values = query.getAll(key);
    const last = values[values.length - 1];
    if (last !== undefined) setParam(params, key, last);
  }
  return { params, sig: query.getAll('sig').at(-1) };
}

/** `<k=v joined by &>:<url>` over the normalised values; `gif_af` only when true. */
export function canonicalString(params: PpParams, url: string): string {
  const parts: string[] = [];
  for (const key of PP_KEYS) {
    const v = params[key];
    if (v === undefined || (key === 'gif_af' && v !== '1')) continue;
    parts.push(`${key}=${v}`);
  }
  return `${parts.join('&')}:${url}`;
}
