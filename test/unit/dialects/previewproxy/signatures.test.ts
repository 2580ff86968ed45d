// Signatures PreviewProxy makes verify here: generated parameter sets, written in every
// spelling PreviewProxy's parser accepts (path tokens `k=v`, `k:v`, shorthand and bare words,
// query keys, path and query mixed with the query winning, repeated keys, encrypted sources),
// are signed over the canonical string PreviewProxy would build — computed here from each
// generated value's known normal form, not by pixproxy's code — and must be accepted, with
// that canonical string. PreviewProxy's rules: TransformParams::canonical_string and the
// parsers in src/modules/proxy/dto/params.rs, src/modules/security/hmac.rs
// (https://github.com/ViGrise/previewproxy).
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPreviewProxyDialect, encryptSourceUrl } from '../../../../src/dialects/previewproxy/index.js';
import { ProxyError } from '../../../../src/errors.js';
import type { ImageRequest } from '../../../../src/request.js';
import { config } from '../../../helpers/dialects.js';

const KEY = 'pp-signing-key';
const ENC_HEX = '00112233445566778899aabbccddeeff';
const WM = 'http://w.example/m.png';
const SRC = 'https://e.com/photos/a.jpg';
const sign = (canonical: string): string => createHmac('sha256', Buffer.from(KEY, 'utf8')).update(canonical, 'utf8').digest('base64url');

/** The order of PreviewProxy's canonical_string (not alphabetical: wm_scale after wm_y). */
const ORDER = ['blur', 'bright', 'contrast', 'fit', 'flip', 'format', 'gif_af', 'gif_anim', 'grayscale', 'h', 'q', 'rotate', 'seek', 'w', 'wm', 'wm_opacity', 'wm_pos', 'wm_x', 'wm_y', 'wm_scale', 'wmt', 'wmt_color', 'wmt_size', 'wmt_font'] as const;
type Key = (typeof ORDER)[number];

/** One value as written in a URL, and what PreviewProxy's canonical string holds for it. */
interface Value {
  raw: string;
  norm: string;
}

// ---- numbers, in the spellings Rust's parsers take, with their normal forms ----

const pad = (digits: number): fc.Arbitrary<string> => fc.nat({ max: digits }).map((n) => '0'.repeat(n));

/** An unsigned integer: optional `+`, leading zeros; normal form is the plain number. */
function unsigned(min: number, max: number, norm: (n: number) => number = (n) => n): fc.Arbitrary<Value> {
  return fc.tuple(fc.integer({ min, max }), fc.boolean(), pad(2)).map(([n, plus, zeros]) => ({ raw: `${plus ? '+' : ''}${zeros}${n}`, norm: String(norm(n)) }));
}

function signed(min: number, max: number): fc.Arbitrary<Value> {
  return fc.tuple(fc.integer({ min, max }), fc.boolean(), pad(1)).map(([n, plus, zeros]) => ({
    raw: `${n < 0 ? '-' : plus ? '+' : ''}${zeros}${Math.abs(n)}`,
    norm: String(n),
  }));
}

/**
 * A decimal with up to `frac` fraction digits, spelled with optional `+`, leading zeros in the
 * integer part and trailing zeros in the fraction. `value` is it exactly (as a number of
 * thousandths etc.), `text` its shortest decimal: what Rust's f32 `Display` prints for it,
 * since ≤ 7 significant digits round-trip through f32.
 */
interface Decimal {
  raw: string;
  negative: boolean;
  units: number;
  scale: number;
}

function decimal(minUnits: number, maxUnits: number, frac: number): fc.Arbitrary<Decimal> {
  const scale = 10 ** frac;
  return fc.tuple(fc.integer({ min: minUnits, max: maxUnits }), fc.boolean(), pad(1), pad(2), fc.boolean()).map(([units, plus, lead, trail, negZero]) => {
    const abs = Math.abs(units);
    const int = Math.floor(abs / scale);
    const fr = String(abs % scale).padStart(frac, '0').replace(/0+$/, '');
    const negative = units < 0 || (units === 0 && negZero);
    const body = `${lead}${int}${fr === '' && trail === '' ? '' : `.${fr}${trail}`}`;
    return { raw: `${negative ? '-' : plus ? '+' : ''}${body}`, negative, units, scale };
  });
}

/** Shortest decimal of units/scale (no exponent for these magnitudes). */
function shortest(units: number, scale: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  const fr = String(abs % scale).padStart(String(scale).length - 1, '0').replace(/0+$/, '');
  return `${sign}${Math.floor(abs / scale)}${fr === '' ? '' : `.${fr}`}`;
}

/** `{:.4}` of units/scale (exact for ≤ 4 fraction digits). */
function fixed4(units: number, scale: number, negativeZero: boolean): string {
  const v = (units * 10_000) / scale;
  const abs = Math.abs(Math.round(v));
  const s = `${Math.floor(abs / 10_000)}.${String(abs % 10_000).padStart(4, '0')}`;
  return v < 0 || negativeZero ? `-${s}` : s;
}

/** f32 clamped into [lo, hi] as Rust's clamp does: `-0` stays `-0` and prints so. */
function clamped(d: Decimal, lo: number, hi: number, print: 'display' | 'fixed4'): string {
  const lou = lo * d.scale;
  const hiu = hi * d.scale;
  const units = d.units < lou ? lou : d.units > hiu ? hiu : d.units;
  const negZero = units === 0 && d.negative && d.units === 0;
  if (print === 'fixed4') return fixed4(units, d.scale, negZero);
  return negZero ? '-0' : shortest(units, d.scale);
}

const bool = fc.constantFrom<Value>({ raw: '1', norm: '1' }, { raw: 'true', norm: '1' }, { raw: 'TRUE', norm: '1' }, { raw: '0', norm: '0' }, { raw: 'no', norm: '0' }, { raw: 'false', norm: '0' });

const gifAnim: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom<Value>({ raw: '', norm: 'all' }, { raw: 'all', norm: 'all' }),
  unsigned(0, 40),
  fc.tuple(unsigned(0, 40), unsigned(0, 40)).map(([a, b]) => ({ raw: `${a.raw}-${b.raw}`, norm: `${a.norm}-${b.norm}` })),
  unsigned(0, 40).map((n) => ({ raw: `-${n.raw}`, norm: `-${n.norm}` })),
);

const seek: fc.Arbitrary<Value> = fc.oneof(
  fc.constant<Value>({ raw: 'auto', norm: 'auto' }),
  decimal(-500, 1500, 3).map((d) => ({ raw: `${d.raw}r`, norm: `${clamped(d, 0, 1, 'display')}r` })),
  // Seconds: max(0.0), whose sign of zero is not specified, so no `-0` here.
  decimal(-3000, 100_000, 3).filter((d) => !(d.units === 0 && d.negative)).map((d) => ({ raw: d.raw, norm: d.units < 0 ? '0' : shortest(d.units, d.scale) })),
);

const VALUES: Readonly<Record<Key, fc.Arbitrary<Value>>> = {
  w: unsigned(0, 20_000, (n) => Math.min(n, 8192)),
  h: unsigned(0, 20_000, (n) => Math.min(n, 8192)),
  fit: fc.constantFrom('contain', 'cover', 'crop').map((v) => ({ raw: v, norm: v })),
  format: fc.constantFrom('jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl', 'best').map((v) => ({ raw: v, norm: v })),
  q: unsigned(0, 120),
  // Angles other than these are refused here after the signature (a deliberate difference).
  rotate: fc.constantFrom(0, 90, 180, 270).chain((n) => unsigned(n, n)),
  flip: fc.constantFrom('h', 'v').map((v) => ({ raw: v, norm: v })),
  grayscale: bool,
  bright: signed(-300, 300),
  contrast: signed(-300, 300),
  blur: decimal(-5000, 150_000, 3).map((d) => ({ raw: d.raw, norm: clamped(d, 0, 100, 'display') })),
  wm: fc.constant({ raw: WM, norm: WM }),
  wm_opacity: decimal(-5000, 15_000, 4).map((d) => ({ raw: d.raw, norm: clamped(d, 0, 1, 'fixed4') })),
  wm_pos: fc.constantFrom('ce', 'center', 'top', 'so', 'east', 'nowe', 'top-right', 'sowe', 're', 'repeat').map((v) => ({ raw: v, norm: v })),
  wm_x: signed(-50, 50),
  wm_y: signed(-50, 50),
  // max(0.0): no `-0`; at most 2 here (a deliberate bound).
  wm_scale: decimal(-5000, 20_000, 4).filter((d) => !(d.units === 0 && d.negative)).map((d) => ({ raw: d.raw, norm: fixed4(Math.max(d.units, 0), d.scale, false) })),
  seek,
  gif_anim: gifAnim,
  gif_af: bool,
  wmt: fc.constantFrom('hello', 'Copyright', 'x1').map((v) => ({ raw: v, norm: v })),
  wmt_color: fc.constantFrom('ff0000', '#00ff00', '0a0b0c').map((v) => ({ raw: v, norm: v })),
  wmt_size: unsigned(1, 300),
  wmt_font: fc.constantFrom('sans', 'DejaVuSans').map((v) => ({ raw: v, norm: v })),
};

/** PreviewProxy's canonical string: `k=v` in its order (gif_af only when true), `:`, the URL. */
function canonical(values: Partial<Record<Key, string>>, url: string): string {
  const parts: string[] = [];
  for (const k of ORDER) {
    const v = values[k];
    if (v === undefined || (k === 'gif_af' && v !== '1')) continue;
    parts.push(`${k}=${v}`);
  }
  return `${parts.join('&')}:${url}`;
}

// ---- spellings ----

const BARE_FORMATS = new Set(['jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl']);

/** Path tokens that say key = value: generic forms, plus each key's short forms. */
function pathTokens(key: Key, v: Value, all: Partial<Record<Key, Value>>): string[] {
  const forms = [`${key}=${v.raw}`];
  // `k:v` is the generic form too, except where a value would start another split.
  if (!(key === 'wm' || v.raw.includes('='))) forms.push(`${key}:${v.raw}`);
  if (key === 'q' && !v.raw.startsWith('-')) forms.push(`q${v.raw}`);
  if (key === 'rotate') forms.push(`r${v.raw}`, `r=${v.raw}`, `r:${v.raw}`);
  if (key === 'fit') forms.push(v.raw);
  if (key === 'format' && BARE_FORMATS.has(v.raw)) forms.push(v.raw);
  if (key === 'flip') forms.push(`flip${v.raw}`);
  if (key === 'grayscale' && v.norm === '1') forms.push('grayscale');
  if (key === 'gif_anim' && v.norm === 'all') forms.push('gif_anim');
  if (key === 'gif_af' && v.norm === '1') forms.push('gif_af');
  if (key === 'wm') forms.push(`wm:${v.raw}`);
  void all;
  return forms;
}

interface Case {
  values: Partial<Record<Key, Value>>;
  /** Per key: 0 = path, 1 = query, 2 = both (a different path value, the query's wins). */
  where: Partial<Record<Key, number>>;
  /** Index of the path spelling to use, per key. */
  form: Partial<Record<Key, number>>;
  wh: boolean;
  style: 'path' | 'query';
  sigIn: 'query' | 'path-colon' | 'path-eq';
  encrypted: boolean;
  decoy: Partial<Record<Key, Value>>;
}

const keySet = fc.subarray([...ORDER], { minLength: 0, maxLength: 8 });

const caseArb: fc.Arbitrary<Case> = keySet.chain((keys) =>
  fc.record({
    values: fc.record(Object.fromEntries(keys.map((k) => [k, VALUES[k]])) as Record<Key, fc.Arbitrary<Value>>),
    decoy: fc.record(Object.fromEntries(keys.map((k) => [k, VALUES[k]])) as Record<Key, fc.Arbitrary<Value>>),
    where: fc.record(Object.fromEntries(keys.map((k) => [k, fc.nat({ max: 2 })])) as Record<Key, fc.Arbitrary<number>>),
    form: fc.record(Object.fromEntries(keys.map((k) => [k, fc.nat({ max: 5 })])) as Record<Key, fc.Arbitrary<number>>),
    wh: fc.boolean(),
    style: fc.constantFrom<'path' | 'query'>('path', 'query'),
    sigIn: fc.constantFrom<'query' | 'path-colon' | 'path-eq'>('query', 'path-colon', 'path-eq'),
    encrypted: fc.boolean(),
  }),
);

const encKey = Buffer.from(ENC_HEX, 'hex');

/** The request a PreviewProxy client would send for `c`, with its signature. */
function build(c: Case): { path: string; query: URLSearchParams; style: 'path' | 'query'; expected: string } {
  const keys = Object.keys(c.values) as Key[];
  const expected = canonical(Object.fromEntries(keys.map((k) => [k, c.values[k]?.norm])), SRC);
  const query = new URLSearchParams();
  const tokens: string[] = [];
  const sig = sign(expected);
  if (c.style === 'query') {
    for (const k of keys) query.append(k, c.values[k]?.raw ?? '');
    query.set('url', c.encrypted ? encryptSourceUrl(SRC, encKey) : SRC);
    if (c.encrypted) query.set('enc', '');
    query.set('sig', sig);
    return { path: '/proxy', query, style: 'query', expected };
  }
  const inPath = keys.filter((k) => (c.where[k] ?? 0) !== 1);
  const w = c.values.w;
  const h = c.values.h;
  const shorthand = c.wh && w && h && inPath.includes('w') && inPath.includes('h') && c.where.w === 0 && c.where.h === 0;
  if (shorthand) tokens.push(`${w.raw}x${h.raw}`);
  for (const k of keys) {
    const where = c.where[k] ?? 0;
    const v = c.values[k];
    if (!v) continue;
    if (where !== 0 && where !== 2) {
      query.append(k, v.raw);
      continue;
    }
    if (where === 2) {
      // A decoy in the path, the real value in the query: the query wins (merge_from).
      const d = c.decoy[k] ?? v;
      const forms = pathTokens(k, d, c.values);
      tokens.push(forms[(c.form[k] ?? 0) % forms.length] ?? `${k}=${d.raw}`);
      query.append(k, v.raw);
      continue;
    }
    if (shorthand && (k === 'w' || k === 'h')) continue;
    const forms = pathTokens(k, v, c.values);
    tokens.push(forms[(c.form[k] ?? 0) % forms.length] ?? `${k}=${v.raw}`);
  }
  if (c.sigIn === 'query') query.set('sig', sig);
  else tokens.push(c.sigIn === 'path-colon' ? `sig:${sig}` : `sig=${sig}`);
  const source = c.encrypted ? `enc/${encryptSourceUrl(SRC, encKey)}` : SRC;
  const opts = tokens.map((t) => encodeURIComponent(t).replace(/%3A/gi, ':').replace(/%3D/gi, '=').replace(/%2B/gi, '+')).join(',');
  return { path: opts === '' ? `/${source}` : `/${opts}/${source}`, query, style: 'path', expected };
}

/** Errors raised after the signature was accepted: parameters this server does not do. */
const AFTER_SIGNATURE = new Set(['UNSUPPORTED_PARAM', 'UNSUPPORTED_OUTPUT']);

describe('PreviewProxy-made signatures', () => {
  const d = createPreviewProxyDialect(config({ PP_HMAC_KEY: KEY, PP_SOURCE_URL_ENCRYPTION_KEY: ENC_HEX, IMGPROXY_WATERMARK_URL: WM }));
  const parse = (r: ReturnType<typeof build>): ImageRequest => (r.style === 'query' ? d.parseQuery(r.query, {}) : d.parsePath(r.path, r.query, {}));

  it('generated parameter sets in every spelling verify, with PreviewProxy\'s canonical string', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const r = build(c);
        try {
          expect(parse(r).signedPath).toBe(r.expected);
        } catch (err) {
          if (!(err instanceof ProxyError) || !AFTER_SIGNATURE.has(err.code)) throw err;
        }
      }),
      { seed: 20_260_512, numRuns: 3000 },
    );
  });

  it('a changed value or a dropped parameter does not verify', () => {
    fc.assert(
      fc.property(caseArb.filter((c) => Object.keys(c.values).length > 0 && c.style === 'query'), (c) => {
        const r = build(c);
        const key = Object.keys(c.values)[0] as Key;
        r.query.delete(key);
        let code: string | undefined;
        try {
          parse(r);
        } catch (err) {
          code = (err as ProxyError).code;
        }
        // Dropping gif_af=0 (or grayscale's false being absent) changes nothing signed only for gif_af.
        if (!(key === 'gif_af' && c.values.gif_af?.norm === '0')) expect(code).toBe('FORBIDDEN');
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it.each([
    // PreviewProxy's own canonical forms of the spellings the issue names.
    ['/seek:5.0/https://e.com/photos/a.jpg', 'seek=5'],
    ['/seek:0.50r/https://e.com/photos/a.jpg', 'seek=0.5r'],
    ['/gif_anim/https://e.com/photos/a.jpg', 'gif_anim=all'],
    ['/gif_anim:/https://e.com/photos/a.jpg', 'gif_anim=all'],
    ['/gif_anim:+02-7/https://e.com/photos/a.jpg', 'gif_anim=2-7'],
    ['/wmt_size:024,wmt:hi/https://e.com/photos/a.jpg', 'wmt=hi&wmt_size=24'],
    ['/blur:-0/https://e.com/photos/a.jpg', 'blur=-0'],
    ['/wm_opacity:-0.0,wm:http://w.example/m.png/https://e.com/photos/a.jpg', 'wm=http://w.example/m.png&wm_opacity=-0.0000'],
    ['/fliph,flipv/https://e.com/photos/a.jpg', 'flip=v'],
  ])('%s signs as %s', (path, params) => {
    const expected = `${params}:${SRC}`;
    try {
      expect(d.parsePath(path, new URLSearchParams({ sig: sign(expected) }), {}).signedPath).toBe(expected);
    } catch (err) {
      expect(AFTER_SIGNATURE.has((err as ProxyError).code)).toBe(true);
    }
  });
});
