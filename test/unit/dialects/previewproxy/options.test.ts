import { describe, expect, it } from 'vitest';
import { createPreviewProxyDialect } from '../../../../src/dialects/previewproxy/index.js';
import { f32Display, f32Fixed4 } from '../../../../src/dialects/previewproxy/rust-format.js';
import { defaultOptions } from '../../../../src/default-options.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const SRC = 'https://e.com/a.jpg';
const WM = 'https://logo.example/wm.png';
const cfg = config({ IMGPROXY_WATERMARK_URL: WM });
const d = createPreviewProxyDialect(cfg);
const opts = (query: string) => d.parseQuery(new URLSearchParams(`url=${SRC}&${query}`), {}).options;
const signed = (query: string) => d.parseQuery(new URLSearchParams(`url=${SRC}&${query}`), {}).signedPath;

describe('size and fit', () => {
  it('w/h, 0 = auto, clamped to 8192 (in the options and the canonical string)', () => {
    expect(opts('w=300')).toMatchObject({ width: 300, height: 0, resizingType: 'fit', enlarge: true });
    expect(opts('w=0&h=120')).toMatchObject({ width: 0, height: 120 });
    expect(opts('w=100000&h=9000')).toMatchObject({ width: 8192, height: 8192 });
    expect(signed('w=100000')).toBe(`w=8192:${SRC}`);
  });

  it('contain (default) upscales: fit + enlarge', () => {
    expect(opts('w=300&h=200&fit=contain')).toMatchObject({ resizingType: 'fit', enlarge: true });
    expect(opts('w=300&h=200')).toEqual(opts('w=300&h=200&fit=contain'));
  });

  it('cover and crop: centre fill with enlarge (identical in PreviewProxy)', () => {
    const cover = opts('w=300&h=200&fit=cover');
    expect(cover).toMatchObject({ resizingType: 'fill', enlarge: true, gravity: { type: 'ce', x: 0, y: 0 } });
    expect(opts('w=300&h=200&fit=crop')).toEqual(cover);
  });

  it('fit without a size changes nothing', () => {
    // What every processed PreviewProxy request has: a small AVIF stays AVIF (ravif); videos
    // previewed from the first frame unless `seek` says otherwise; sources up to PP_MAX_SOURCE_BYTES.
    const none = { ...defaultOptions(cfg), maxSrcFileSize: 20 * 1024 * 1024, smallAvif: 'keep', video: { enabled: true, seek: { seconds: 0 }, keyframes: false } };
    expect(opts('fit=cover')).toEqual(none);
  });

  it('rotate 90/270 swaps the box: PreviewProxy resizes, then rotates', () => {
    expect(opts('w=300&h=200&rotate=90')).toMatchObject({ width: 200, height: 300, rotate: 90 });
    expect(opts('w=300&h=200&rotate=270')).toMatchObject({ width: 200, height: 300, rotate: 270 });
    expect(opts('w=300&h=200&rotate=180')).toMatchObject({ width: 300, height: 200, rotate: 180 });
  });
});

describe('format and quality', () => {
  it.each(['jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico'])('format=%s', (f) => {
    expect(opts(`format=${f}`).format).toBe(f);
  });

  it('best = automatic (null): source format or Accept negotiation', () => {
    expect(opts('format=best').format).toBeNull();
    const neg = createPreviewProxyDialect(config({ IMGPROXY_AUTO_WEBP: 'true' }));
    const r = neg.parseQuery(new URLSearchParams(`url=${SRC}&format=best`), { accept: 'image/webp,*/*' });
    expect(r.options).toMatchObject({ format: null, preferWebp: true });
    expect(r.signedPath).toBe(`format=best:${SRC}`);
  });

  it('jxl, bmp and ico are written, as PreviewProxy writes them', () => {
    expect(opts('format=jxl').format).toBe('jxl');
    expect(d.parsePath(`/jxl/${SRC}`, new URLSearchParams(), {}).options.format).toBe('jxl');
    expect(opts('format=bmp').format).toBe('bmp');
    expect(opts('format=ico').format).toBe('ico');
  });

  it('format=best takes PP_BEST_FORMAT_* and leaves out the disallowed outputs', () => {
    const c = config({ PP_BEST_FORMAT_PREFERRED_FORMATS: 'avif,webp,png', PP_BEST_FORMAT_COMPLEXITY_THRESHOLD: '8', PP_BEST_FORMAT_MAX_RESOLUTION: '2', PP_OUTPUT_DISALLOW_LIST: 'webp' });
    const o = createPreviewProxyDialect(c).parseQuery(new URLSearchParams(`url=${encodeURIComponent(SRC)}&format=best`), {}).options;
    expect(o.format).toBeNull();
    expect(o.bestFormat).toEqual({ candidates: ['avif', 'png'], complexityThreshold: 8, maxResolution: 2, allowSkips: false });
  });

  it('q clamped into 1–100 as PreviewProxy JPEG does; signed as given', () => {
    expect(opts('q=75').quality).toBe(75);
    expect(opts('q=0').quality).toBe(1);
    expect(opts('q=150').quality).toBe(100);
    expect(signed('q=150')).toBe(`q=150:${SRC}`);
  });
});

describe('rotate and flip', () => {
  it('0/90/180/270; anything else 400 (PreviewProxy ignores it silently)', () => {
    expect(opts('rotate=0').rotate).toBe(0);
    expect(opts('rotate=180').rotate).toBe(180);
    expect(expectProxyError(() => opts('rotate=45'), 400, 'BAD_REQUEST').message).toMatch(/rotate/);
    expectProxyError(() => opts('rotate=360'), 400, 'BAD_REQUEST');
  });

  it('flip h/v', () => {
    expect(opts('flip=h')).toMatchObject({ flipHorizontal: true, flipVertical: false });
    expect(opts('flip=v')).toMatchObject({ flipHorizontal: false, flipVertical: true });
  });
});

describe('colour and blur', () => {
  it('grayscale → full-intensity neutral monochrome; other values → off', () => {
    expect(opts('grayscale=1').monochrome).toEqual({ intensity: 1, color: '808080' });
    expect(opts('grayscale=TRUE').monochrome).toEqual({ intensity: 1, color: '808080' });
    expect(opts('grayscale=yes').monochrome).toBeNull();
    expect(signed('grayscale=true')).toBe(`grayscale=1:${SRC}`);
    expect(signed('grayscale=no')).toBe(`grayscale=0:${SRC}`);
  });

  it('bright: additive 8-bit offset, clamped to ±255', () => {
    expect(opts('bright=40').brightness).toBe(40);
    expect(opts('bright=-300').brightness).toBe(-255);
    expectProxyError(() => opts('bright=1.5'), 400, 'BAD_REQUEST');
  });

  it('contrast: image::contrast percent → multiplier ((100 + c) / 100)², floor at −100', () => {
    expect(opts('contrast=0').contrast).toBe(1);
    expect(opts('contrast=50').contrast).toBeCloseTo(2.25, 10);
    expect(opts('contrast=-50').contrast).toBeCloseTo(0.25, 10);
    expect(opts('contrast=-250').contrast).toBe(0);
  });

  it('blur: sigma clamped to 0–100, signed in Rust f32 Display form', () => {
    expect(opts('blur=2.5').blur).toBe(2.5);
    expect(opts('blur=500').blur).toBe(100);
    expect(opts('blur=-3').blur).toBe(0);
    expect(signed('blur=3.0')).toBe(`blur=3:${SRC}`);
    expect(signed('blur=0.8')).toBe(`blur=0.8:${SRC}`);
    expectProxyError(() => opts('blur=NaN'), 400, 'BAD_REQUEST');
  });
});

describe('watermark', () => {
  const PP = { layout: 'previewproxy' } as const;

  it('wm from any source → WatermarkOptions with PreviewProxy defaults, the source resolved', () => {
    const o = opts(`wm=${WM}`);
    expect(o.watermark).toEqual({ opacity: 1, position: 'noea', x: 0, y: 0, scale: 0.15, ...PP });
    expect(o.watermarkImage).toEqual({ kind: 'url', url: WM });
    expect(opts('wm=https://other.example/x.png').watermarkImage).toEqual({ kind: 'url', url: 'https://other.example/x.png' });
  });

  it('opacity, scale (4 decimals in the signature), offsets as given (added to the top-left corner)', () => {
    const w = opts(`wm=${WM}&wm_opacity=0.5&wm_scale=0.25&wm_pos=nowe&wm_x=10&wm_y=5`).watermark;
    expect(w).toEqual({ opacity: 0.5, position: 'nowe', x: 10, y: 5, scale: 0.25, ...PP });
    expect(signed(`wm=${WM}&wm_opacity=0.5&wm_scale=0.25&wm_x=10`)).toBe(`wm=${WM}&wm_opacity=0.5000&wm_x=10&wm_scale=0.2500:${SRC}`);
    expect(opts(`wm=${WM}&wm_opacity=7`).watermark?.opacity).toBe(1);
    expect(opts(`wm=${WM}&wm_opacity=0`).watermark).toBeNull();
    expect(opts(`wm=${WM}&wm_pos=soea&wm_x=10&wm_y=-5`).watermark).toMatchObject({ position: 'soea', x: 10, y: -5 });
  });

  it.each([
    ['ce', 'ce'], ['center', 'ce'], ['c', 'ce'],
    ['no', 'no'], ['top', 'no'], ['t', 'no'], ['north', 'no'],
    ['so', 'so'], ['bottom', 'so'], ['b', 'so'], ['south', 'so'],
    ['ea', 'ea'], ['right', 'ea'], ['r', 'ea'], ['east', 'ea'],
    ['we', 'we'], ['left', 'we'], ['l', 'we'], ['west', 'we'],
    ['noea', 'noea'], ['top-right', 'noea'], ['tr', 'noea'], ['north_east', 'noea'],
    ['nowe', 'nowe'], ['top-left', 'nowe'], ['tl', 'nowe'], ['north_west', 'nowe'],
    ['soea', 'soea'], ['bottom-right', 'soea'], ['br', 'soea'], ['south_east', 'soea'],
    ['sowe', 'sowe'], ['bottom-left', 'sowe'], ['bl', 'sowe'], ['south_west', 'sowe'],
    ['re', 're'], ['repeat', 're'], ['rep', 're'],
  ])('wm_pos=%s → %s', (spelling, pos) => {
    expect(opts(`wm=${WM}&wm_pos=${spelling}`).watermark?.position).toBe(pos);
  });

  it('unknown wm_pos is 400 (PreviewProxy falls back to top-right)', () => {
    expectProxyError(() => opts(`wm=${WM}&wm_pos=middle`), 400, 'BAD_REQUEST');
  });

  it('a wm PreviewProxy cannot fetch is its watermark_fetch_failed; a host off PP_ALLOWED_HOSTS is host_not_allowed', () => {
    expectProxyError(() => opts('wm=nosuch:/x.png'), 502, 'WATERMARK_UNREACHABLE');
    expectProxyError(() => opts('wm=logo.png'), 502, 'WATERMARK_UNREACHABLE');
    const strict = createPreviewProxyDialect(config({ PP_ALLOWED_HOSTS: 'e.com' }));
    expectProxyError(() => strict.parseQuery(new URLSearchParams(`url=${SRC}&wm=${WM}`), {}), 403, 'HOST_NOT_ALLOWED');
  });

  it('wm_* without wm or wmt do nothing, as in PreviewProxy', () => {
    expect(opts('wm_opacity=0.5&wm_pos=ce').watermark).toBeNull();
  });

  it('wmt: escaped text in wmt_color (default black), wmt_size as the line height (default 24), wmt_font (default sans), no scale', () => {
    const o = opts(`wmt=${encodeURIComponent('a<b&c')}`);
    expect(o.watermarkImage).toEqual({ kind: 'text', markup: '<span foreground="#000000">a&lt;b&amp;c</span>', font: 'sans', size: 24, sizing: 'line' });
    expect(o.watermark).toEqual({ opacity: 1, position: 'noea', x: 0, y: 0, scale: 0, ...PP });
    expect(opts('wmt=x&wmt_color=%23FF0000&wmt_size=40&wmt_font=DejaVuSerif').watermarkImage).toMatchObject({ markup: '<span foreground="#ff0000">x</span>', size: 40, font: 'DejaVuSerif' });
    // wm wins over wmt.
    expect(opts(`wm=${WM}&wmt=x`).watermarkImage).toEqual({ kind: 'url', url: WM });
  });

  it('wmt_color as parse_hex_color reads it: # prefixes dropped, three pairs, else 400 invalid wmt_color', () => {
    expect(opts('wmt=x&wmt_color=##00ff00').watermarkImage).toMatchObject({ markup: '<span foreground="#00ff00">x</span>' });
    expect(opts('wmt=x&wmt_color=%2Bf%2Bf%2Bf').watermarkImage).toMatchObject({ markup: '<span foreground="#0f0f0f">x</span>' });
    for (const bad of ['gg0000', 'fff', 'ff00000', 'aé000']) {
      expect(expectProxyError(() => opts(`wmt=x&wmt_color=${encodeURIComponent(bad)}`), 400, 'BAD_REQUEST').message).toContain('invalid wmt_color');
    }
  });
});

describe('gif_anim and gif_af', () => {
  it.each([
    ['gif_anim=all', { kind: 'all' }],
    ['gif_anim=', { kind: 'all' }],
    ['gif_anim=2', { kind: 'from', first: 2 }],
    ['gif_anim=1-3', { kind: 'range', first: 1, last: 3 }],
    ['gif_anim=5-2', { kind: 'range', first: 5, last: 2 }],
    ['gif_anim=-4', { kind: 'last', count: 4 }],
    ['gif_anim=-0', { kind: 'last', count: 0 }],
  ])('%s → frames %j (checked against the GIF when it is one)', (query, range) => {
    expect(opts(query).frames).toEqual({ range, keepOthers: false });
  });

  it('gif_af keeps the frames outside the range; alone it does nothing', () => {
    expect(opts('gif_anim=1&gif_af=1').frames).toEqual({ range: { kind: 'from', first: 1 }, keepOthers: true });
    expect(opts('gif_af=1').frames).toBeNull();
    expect(opts('gif_af=1').skipProcessingFormats).toContain('jpeg');
  });

  it('gif_anim with PP_TRANSFORM_DISALLOW_LIST=gif_anim is transform_disabled, gif_af alone too', () => {
    const off = createPreviewProxyDialect(config({ PP_TRANSFORM_DISALLOW_LIST: 'gif_anim' }));
    for (const q of ['gif_anim=1', 'gif_af=1']) expectProxyError(() => off.parseQuery(new URLSearchParams(`url=${SRC}&${q}`), {}), 400, 'TRANSFORM_DISABLED');
  });
});

describe('seek: the frame of a video source', () => {
  it.each<[string, unknown]>([
    ['', { seconds: 0 }],
    ['seek=5.0', { seconds: 5 }],
    ['seek=-1', { seconds: 0 }],
    ['seek=0.25r', { ratio: 0.25 }],
    ['seek=7r', { ratio: 1 }],
    ['seek=auto', 'auto'],
    ['seek=1e308', { seconds: 1e9 }],
  ])('%j → %j, videos on whatever IMGPROXY_ENABLE_VIDEO_THUMBNAILS says', (query, seek) => {
    expect(opts(query).video).toEqual({ enabled: true, seek, keyframes: false });
  });

  it('is a transform: the source is re-encoded (a still image ignores the seek itself)', () => {
    expect(opts('seek=3').skipProcessingFormats).toEqual([]);
    expect(opts('').skipProcessingFormats).toContain('jpeg');
  });

  it('path token seek:5 is the query seek=5', () => {
    expect(d.parsePath(`/seek:5/${SRC}`, new URLSearchParams(), {}).options.video).toEqual(opts('seek=5').video);
  });
});

describe('PreviewProxy modifiers without their parameter', () => {
  it.each(['gif_af=1', 'wmt_color=ff0000', 'wmt_size=24', 'wmt_font=sans'])('query %s alone serves the source as it is', (query) => {
    expect(opts(query).skipProcessingFormats).toContain('jpeg');
  });
});

describe('Rust float formatting', () => {
  it('f32 Display: shortest round-trip digits', () => {
    expect(f32Display(0.8)).toBe('0.8');
    expect(f32Display(3)).toBe('3');
    expect(f32Display(0.1)).toBe('0.1');
    expect(f32Display(1 / 3)).toBe('0.33333334');
    expect(f32Display(0.0000001)).toBe('0.0000001');
    expect(f32Display(-0)).toBe('-0');
  });

  it('{:.4}: exact value, ties to even', () => {
    expect(f32Fixed4(0.5)).toBe('0.5000');
    expect(f32Fixed4(0.15)).toBe('0.1500');
    expect(f32Fixed4(1 / 3)).toBe('0.3333');
    expect(f32Fixed4(0.03125)).toBe('0.0312'); // exact tie → even
    expect(f32Fixed4(0.09375)).toBe('0.0938'); // exact tie → even
    expect(f32Fixed4(0.99999)).toBe('1.0000');
    expect(f32Fixed4(12.5)).toBe('12.5000');
  });
});
