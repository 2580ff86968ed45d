// Output-format selection (imgproxy's `determineOutputFormat`,
// https://github.com/imgproxy/imgproxy/blob/master/processing/processing.go), quality chain,
// skip_processing and the AVIF minimum size, without decoding anything.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ImageFormat, OutputFormat } from '../../../src/formats.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { chooseOutputFormat, finalFormat, preferredFormats, resolveQuality, shouldSkipProcessing, writableFormats } from '../../../src/processing/format.js';

const config = loadConfig({});
const base = defaultOptions(config);
const o = (x: Partial<ProcessingOptions> = {}): ProcessingOptions => ({ ...base, ...x });
const WITH_JXL: ReadonlySet<OutputFormat> = writableFormats();
const WITHOUT_HEIC: ReadonlySet<OutputFormat> = new Set([...writableFormats()].filter((f) => f !== 'heic'));
const WITHOUT_JXL: ReadonlySet<OutputFormat> = new Set([...writableFormats()].filter((f) => f !== 'jxl'));

type Row = [string, ImageFormat, { alpha?: boolean; animated?: boolean }, Partial<ProcessingOptions>, OutputFormat];
const rows: Row[] = [
  ['jpeg source stays jpeg', 'jpeg', {}, {}, 'jpeg'],
  ['png source stays png', 'png', { alpha: true }, {}, 'png'],
  ['gif source stays gif', 'gif', {}, {}, 'gif'],
  ['webp source (not preferred) → first preferred: jpeg', 'webp', {}, {}, 'jpeg'],
  ['webp source with alpha → first preferred with alpha: png', 'webp', { alpha: true }, {}, 'png'],
  ['animated webp → first preferred with animation: gif', 'webp', { animated: true }, {}, 'gif'],
  ['tiff with padding (alpha expected) → png', 'tiff', {}, { padding: { top: 1, right: 1, bottom: 1, left: 1 } }, 'png'],
  ['tiff with extend → png', 'tiff', {}, { extend: { enabled: true, gravity: { type: 'ce', x: 0, y: 0 } } }, 'png'],
  ['tiff with extend + background → jpeg', 'tiff', {}, { extend: { enabled: true, gravity: { type: 'ce', x: 0, y: 0 } }, background: { r: 1, g: 2, b: 3 } }, 'jpeg'],
  ['avif source → jpeg', 'avif', {}, {}, 'jpeg'],
  ['explicit png', 'jpeg', {}, { format: 'png' }, 'png'],
  ['explicit webp', 'png', {}, { format: 'webp' }, 'webp'],
  ['prefer webp', 'jpeg', {}, { preferWebp: true }, 'webp'],
  ['prefer avif', 'jpeg', {}, { preferAvif: true }, 'avif'],
  ['prefer avif + webp → avif wins', 'jpeg', {}, { preferAvif: true, preferWebp: true }, 'avif'],
  ['prefer avif, animated → webp', 'gif', { animated: true }, { preferAvif: true, preferWebp: true }, 'webp'],
  ['prefer avif only, animated → source gif', 'gif', { animated: true }, { preferAvif: true }, 'gif'],
  ['prefer jxl → jxl', 'jpeg', {}, { preferJxl: true, preferAvif: true }, 'jxl'],
  ['enforce jxl overrides explicit', 'jpeg', {}, { format: 'png', enforceJxl: true }, 'jxl'],
  ['prefer flags ignored with explicit format', 'jpeg', {}, { format: 'png', preferWebp: true, preferAvif: true }, 'png'],
  ['enforce webp overrides explicit', 'jpeg', {}, { format: 'png', enforceWebp: true }, 'webp'],
  ['enforce avif overrides explicit', 'jpeg', {}, { format: 'png', enforceAvif: true }, 'avif'],
  ['enforce avif + webp → avif', 'jpeg', {}, { format: 'png', enforceAvif: true, enforceWebp: true }, 'avif'],
  ['enforce avif, animated → webp', 'gif', { animated: true }, { format: 'gif', enforceAvif: true, enforceWebp: true }, 'webp'],
  ['enforce avif only, animated → explicit gif', 'gif', { animated: true }, { format: 'gif', enforceAvif: true }, 'gif'],
  ['enforce without explicit format acts as prefer', 'jpeg', {}, { enforceWebp: true }, 'webp'],
  ['explicit avif, animated: still avif (first frame)', 'gif', { animated: true }, { format: 'avif' }, 'avif'],
];

describe('chooseOutputFormat', () => {
  it.each(rows)('%s', (_n, source, s, opt, expected) => {
    expect(chooseOutputFormat({ sourceFormat: source, hasAlpha: s.alpha ?? false, animated: s.animated ?? false }, o(opt), config)).toBe(expected);
  });

  it('JXL is chosen when an encoder exists (priority over AVIF)', () => {
    const f = chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o({ preferJxl: true, preferAvif: true }), config, WITH_JXL);
    expect(f).toBe('jxl');
    const anim = chooseOutputFormat({ sourceFormat: 'gif', hasAlpha: false, animated: true }, o({ preferJxl: true, preferWebp: true }), config, WITH_JXL);
    // An encoder that is not there is never negotiated: the next preference, else the source's format.
    expect(chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o({ preferJxl: true, preferAvif: true }), config, WITHOUT_JXL)).toBe('avif');
    expect(chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o({ preferJxl: true }), config, WITHOUT_JXL)).toBe('jpeg');
    expect(anim).toBe('webp');
  });

  it.each(['jxl', 'ico', 'bmp', 'heic'] as const)('explicit %s without an encoder is UNSUPPORTED_OUTPUT', (f) => {
    const without = new Set([...writableFormats()].filter((x) => x !== f));
    expect(() => chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o({ format: f }), config, without)).toThrow(ProxyError);
  });

  it.each(['jxl', 'ico', 'bmp'] as const)('explicit %s is written (its codec ships with pixproxy)', (f) => {
    expect(chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o({ format: f }), config)).toBe(f);
  });

  it('explicit svg for a raster source is UNSUPPORTED_OUTPUT', () => {
    expect(() => chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o({ format: 'svg' }), config)).toThrow(ProxyError);
  });

  it('IMGPROXY_PREFERRED_FORMATS order and encoder filtering', () => {
    const c = loadConfig({ IMGPROXY_PREFERRED_FORMATS: 'heic,webp,png' });
    expect(preferredFormats(c, WITHOUT_HEIC)).toEqual(['webp', 'png']);
    expect(chooseOutputFormat({ sourceFormat: 'tiff', hasAlpha: false, animated: false }, o(), c, WITHOUT_HEIC)).toBe('webp');
    expect(chooseOutputFormat({ sourceFormat: 'png', hasAlpha: true, animated: false }, o(), c, WITHOUT_HEIC)).toBe('png');
    expect(preferredFormats(loadConfig({ IMGPROXY_PREFERRED_FORMATS: 'heic' }), WITHOUT_HEIC)).toEqual(['jpeg']);
    // Every writable format may be preferred, JPEG XL, BMP and ICO included.
    expect(preferredFormats(loadConfig({ IMGPROXY_PREFERRED_FORMATS: 'jxl,bmp,ico' }))).toEqual(['jxl', 'bmp', 'ico']);
  });

  it('no suitable preferred format → the first preferred', () => {
    const c = loadConfig({ IMGPROXY_PREFERRED_FORMATS: 'jpeg' });
    expect(chooseOutputFormat({ sourceFormat: 'webp', hasAlpha: true, animated: true }, o(), c)).toBe('jpeg');
  });
});

describe('finalFormat (AVIF minimum 16 px, encoder size limits)', () => {
  it.each([
    ['avif', 15, 100, false, 'jpeg'],
    ['avif', 100, 15, true, 'png'],
    ['avif', 16, 16, false, 'avif'],
    ['webp', 1, 1, false, 'webp'],
  ] as const)('imgproxy: %s %ix%i alpha=%s → %s', (f, w, h, a, expected) => {
    expect(finalFormat(f, { width: w, height: h, hasAlpha: a }, o())).toBe(expected);
  });
  it('PreviewProxy keeps a small AVIF (ravif has no minimum)', () => {
    expect(finalFormat('avif', { width: 2, height: 2, hasAlpha: false }, o({ smallAvif: 'keep' }))).toBe('avif');
  });
  it('a JPEG XL result over its encoder limit: refused when asked for, another format when negotiated', () => {
    const big = { width: 5000, height: 5000, hasAlpha: false };
    expect(() => finalFormat('jxl', big, o({ format: 'jxl' }))).toThrow(expect.objectContaining({ code: 'RESULT_TOO_BIG' }));
    expect(finalFormat('jxl', big, o({ preferJxl: true, preferWebp: true }), () => 'webp')).toBe('webp');
  });
});

describe('resolveQuality', () => {
  const c = loadConfig({ IMGPROXY_QUALITY: '70', IMGPROXY_FORMAT_QUALITY: 'webp=60,avif=50' });
  it('option q wins', () => expect(resolveQuality('webp', o({ quality: 90, formatQuality: { webp: 10 } }), c)).toBe(90));
  it('then option fq', () => expect(resolveQuality('webp', o({ formatQuality: { webp: 10 } }), c)).toBe(10));
  it('then config format quality', () => expect(resolveQuality('webp', o(), c)).toBe(60));
  it('then config quality', () => expect(resolveQuality('jpeg', o(), c)).toBe(70));
  it('defaults: jpeg 80, webp 79, avif 63', () => {
    expect([resolveQuality('jpeg', o(), config), resolveQuality('webp', o(), config), resolveQuality('avif', o(), config)]).toEqual([80, 79, 63]);
  });
});

describe('shouldSkipProcessing', () => {
  const rasterize = loadConfig({ IMGPROXY_ALWAYS_RASTERIZE_SVG: 'true' });
  const cases: [string, ImageFormat, Partial<ProcessingOptions>, boolean, boolean][] = [
    ['svg auto → passthrough', 'svg', {}, false, true],
    ['svg → svg', 'svg', { format: 'svg' }, false, true],
    ['svg → png rasterises', 'svg', { format: 'png' }, false, false],
    ['svg auto with always-rasterize', 'svg', {}, true, false],
    ['svg auto with always-rasterize but listed', 'svg', { skipProcessingFormats: ['svg'] }, true, true],
    ['listed jpeg, auto', 'jpeg', { skipProcessingFormats: ['jpeg'] }, false, true],
    ['listed jpeg, explicit jpeg', 'jpeg', { skipProcessingFormats: ['jpeg'], format: 'jpeg' }, false, true],
    ['listed jpeg, explicit png', 'jpeg', { skipProcessingFormats: ['jpeg'], format: 'png' }, false, false],
    ['not listed', 'png', { skipProcessingFormats: ['jpeg'] }, false, false],
  ];
  it.each(cases)('%s', (_n, src, opt, always, expected) => {
    expect(shouldSkipProcessing(src, o(opt), always ? rasterize : config)).toBe(expected);
  });
});
