/**
 * PreviewProxy's parameters as data: every key in canonical-string order, with the parser
 * that turns a raw value into PreviewProxy's normalised form (clamped w/h, `grayscale=1`,
 * f32 `Display` for blur, 4 decimals for wm_opacity/wm_scale…). The normalised strings are
 * both what is signed and what `apply-params.ts` maps onto ProcessingOptions, so the
 * signature, the options and the cache key all come from one value per key, whatever the
 * order or spelling of the request. Syntax errors here are 400s; whether we can honour a
 * value (jxl, rotate=45, text watermarks…) is decided after merging, in apply-params.ts.
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

function oneOf(key: string, allowed: readonly string[]): (v: string) => string {
  return (v) => {
    if (!allowed.includes(v)) throw new ProxyError('BAD_REQUEST', `Invalid ${key}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v;
  };
}

const ppBool = (v: string): string => (v === '1' || v.toLowerCase() === 'true' ? '1' : '0');
const text = (v: string): string => v;

const PP_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl', 'best'] as const;

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
  blur: (v) => f32Display(Math.min(Math.max(ppNum('blur', v), 0), 100)),
  wm: text,
  wm_opacity: (v) => f32Fixed4(Math.min(Math.max(ppNum('wm_opacity', v), 0), 1)),
  wm_pos: text,
  wm_x: (v) => String(ppNum('wm_x', v)),
  wm_y: (v) => String(ppNum('wm_y', v)),
  wm_scale: (v) => f32Fixed4(Math.max(ppNum('wm_scale', v), 0)),
  // Not implemented here (apply-params.ts answers 400): kept verbatim, never signed or applied.
  seek: text,
  gif_anim: text,
  gif_af: ppBool,
  wmt: text,
  wmt_color: text,
  wmt_size: text,
  wmt_font: text,
};

export function isPpKey(key: string): key is PpKey {
  return Object.hasOwn(PARAM_PARSERS, key);
}

/**
 * Sets `key` once. PreviewProxy keeps the last of two values; we refuse two different ones
 * so that the order of a request's parameters can never change its result.
 */
export function setParam(params: PpParams, key: PpKey, raw: string): void {
  const value = PARAM_PARSERS[key](raw);
  const prev = params[key];
  if (prev !== undefined && prev !== value) {
    throw new ProxyError('BAD_REQUEST', `${key} is given twice with different values (${JSON.stringify(prev)}, ${JSON.stringify(value)})`);
  }
  params[key] = value;
}

/** Query parameters: known keys only (PreviewProxy ignores the rest, `r` included). */
export function paramsFromQuery(query: URLSearchParams): { params: PpParams; sig: string | undefined } {
  const params: PpParams = {};
  for (const key of PP_KEYS) for (const v of query.getAll(key)) setParam(params, key, v);
  const sigs = new Set(query.getAll('sig'));
  if (sigs.size > 1) throw new ProxyError('BAD_REQUEST', 'sig is given twice with different values');
  return { params, sig: [...sigs][0] };
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
