// imgproxy Pro's processing options and chained pipelines as the parser reads them: names,
// aliases, argument forms, defaults, ranges and errors
// (https://docs.imgproxy.net/usage/processing, https://docs.imgproxy.net/features/chained_pipelines).
import { describe, expect, it } from 'vitest';
import { createImgproxyDialect } from '../../../../src/dialects/imgproxy/index.js';
import { OPTION_TABLE } from '../../../../src/dialects/imgproxy/option-table.js';
import { MAX_BLUR_AREAS } from '../../../../src/dialects/imgproxy/options/effects.js';
import { defaultOptions } from '../../../../src/default-options.js';
import { MAIN_KEYS, type ProcessingOptions } from '../../../../src/options.js';
import { b64, config, expectProxyError } from '../../../helpers/dialects.js';

const base = config();
const dialect = createImgproxyDialect(base);
const parse = (opts: string, d = dialect): ProcessingOptions => d.parseImage(`/unsafe/${opts}/plain/http://e.com/a.jpg`, {}).options;
const defaults = defaultOptions(base);

describe('aliases give the same options', () => {
  it.each([
    ['crop_aspect_ratio:1.5:1', 'crop_ar:1.5:t', 'car:1.5:true'],
    ['background_alpha:0.5', 'bga:0.5', 'bga:0.50'],
    ['duotone:0.5:ff0000:00ff00', 'dt:0.5:F00:0f0', 'dt:0.5:ff0000:00FF00'],
    ['unsharp_masking:always:2:10', 'ush:always:2:10', 'ush:always:2.0:10'],
    ['blur_areas:5:0:0:0.5:0.5', 'ba:5:0:0:0.5:0.5', 'ba:5.0:0:0:.5:.5'],
    ['progressive_blur:10:down:0:1', 'pbl:10', 'pbl:10:0'],
    ['colorize:0.5:ff0000:1', 'col:0.5:f00:t', 'col:0.5:FF0000:true'],
    ['gradient:1:000000:down:0:1', 'gr:1', 'gr:1:000:0:0:1'],
    ['style:' + b64('svg{}'), 'st:' + b64('svg{}'), 'st:' + b64('svg{}') + '=='],
    ['color_profile:p3', 'cp:p3', 'icc:P3'],
    ['objects_position:fp:0.2:0.3', 'obj_pos:fp:0.2:0.3', 'op:fp:0.2:0.3'],
  ])('%s', (a, ...rest) => {
    for (const b of rest) expect(parse(b)).toEqual(parse(a));
  });
});

describe('argument forms and defaults', () => {
  it('crop_aspect_ratio: 0 is off, an empty argument keeps the previous one', () => {
    expect(parse('car:1.5').cropAspectRatio).toEqual({ ratio: 1.5, enlarge: false });
    expect(parse('car:1.5:1/car::0').cropAspectRatio).toEqual({ ratio: 1.5, enlarge: false });
    expect(parse('car:2/car:0').cropAspectRatio).toBeNull();
  });

  it('background_alpha defaults to 1', () => {
    expect(defaults.backgroundAlpha).toBe(1);
    expect(parse('bga:0').backgroundAlpha).toBe(0);
  });

  it('duotone: default colours black and white, intensity 0 is off', () => {
    expect(parse('dt:1').duotone).toEqual({ intensity: 1, dark: '000000', light: 'ffffff' });
    expect(parse('dt:1:f00/dt:0.5').duotone).toEqual({ intensity: 0.5, dark: 'ff0000', light: 'ffffff' });
    expect(parse('dt:1/dt:0').duotone).toBeNull();
  });

  it('unsharp_masking: configured defaults, every argument optional', () => {
    expect(defaults.unsharpMasking).toEqual({ mode: 'none', weight: 1, divider: 24 });
    const cfg = config({ IMGPROXY_UNSHARP_MASKING_MODE: 'auto', IMGPROXY_UNSHARP_MASKING_WEIGHT: '2', IMGPROXY_UNSHARP_MASKING_DIVIDER: '12' });
    expect(defaultOptions(cfg).unsharpMasking).toEqual({ mode: 'auto', weight: 2, divider: 12 });
    expect(parse('ush::3').unsharpMasking).toEqual({ mode: 'none', weight: 3, divider: 24 });
    expect(parse('ush:always::8').unsharpMasking).toEqual({ mode: 'always', weight: 1, divider: 8 });
    expectProxyError(() => parse('ush:sometimes'), 404, 'INVALID_URL');
    expectProxyError(() => parse('ush:auto:0'), 404, 'INVALID_URL');
  });

  it('blur_areas: sigma then groups of four fractions', () => {
    expect(parse('ba:5:0.1:0.2:0.3:0.4:0:0:1:1').blurAreas).toEqual({
      sigma: 5,
      areas: [{ left: 0.1, top: 0.2, width: 0.3, height: 0.4 }, { left: 0, top: 0, width: 1, height: 1 }],
    });
    // sigma 0 or only empty areas: off.
    expect(parse('ba:0:0:0:1:1').blurAreas).toBeNull();
    expect(parse('ba:5:0:0:0:1').blurAreas).toBeNull();
    expectProxyError(() => parse('ba:5:0:0:1'), 404, 'INVALID_URL');
    expectProxyError(() => parse('ba:5:0:0:1:1.5'), 404, 'INVALID_URL');
    const many = Array.from({ length: MAX_BLUR_AREAS + 1 }, () => '0:0:0.1:0.1').join(':');
    expect(expectProxyError(() => parse(`ba:5:${many}`), 404, 'INVALID_URL').message).toContain(`at most ${MAX_BLUR_AREAS}`);
  });

  it('progressive_blur and gradient: named directions are angles, angles wrap', () => {
    expect(parse('pbl:4').progressiveBlur).toEqual({ sigma: 4, angle: 0, start: 0, stop: 1 });
    expect(parse('pbl:4:left:0.2:0.8').progressiveBlur).toEqual({ sigma: 4, angle: 90, start: 0.2, stop: 0.8 });
    expect(parse('pbl:4:up').progressiveBlur?.angle).toBe(180);
    expect(parse('pbl:4:right').progressiveBlur?.angle).toBe(270);
    expect(parse('pbl:4:-90').progressiveBlur?.angle).toBe(270);
    expect(parse('pbl:4:450').progressiveBlur?.angle).toBe(90);
    expect(parse('pbl:0:left').progressiveBlur).toBeNull();
    expect(parse('gr:0.5').gradient).toEqual({ opacity: 0.5, color: '000000', angle: 0, start: 0, stop: 1 });
    expect(parse('gr:0.5:fff:left/gr:1').gradient).toEqual({ opacity: 1, color: 'ffffff', angle: 90, start: 0, stop: 1 });
    expect(parse('gr:0').gradient).toBeNull();
    expectProxyError(() => parse('gr:1:000:sideways'), 404, 'INVALID_URL');
    expectProxyError(() => parse('gr:1.5'), 404, 'INVALID_URL');
  });

  it('colorize: black and keep_alpha off by default, opacity 0 is off', () => {
    expect(parse('col:0.3').colorize).toEqual({ opacity: 0.3, color: '000000', keepAlpha: false });
    expect(parse('col:0').colorize).toBeNull();
    expectProxyError(() => parse('col:0.3:xyz'), 404, 'INVALID_URL');
  });

  it('style: URL-safe base64 CSS; not base64 or not UTF-8 is refused', () => {
    expect(parse(`st:${b64('rect { fill: red }')}`).style).toBe('rect { fill: red }');
    expect(parse('st:').style).toBe('');
    expectProxyError(() => parse('st:a+b'), 404, 'INVALID_URL');
    expectProxyError(() => parse(`st:${Buffer.from([0xff, 0xfe]).toString('base64url')}`), 404, 'INVALID_URL');
  });

  it('dpi: a number ≥ 0', () => {
    expect(parse('dpi:300').dpi).toBe(300);
    expect(parse('dpi:72.5').dpi).toBe(72.5);
    expectProxyError(() => parse('dpi:-1'), 404, 'INVALID_URL');
  });

  it('color_profile: built-ins in any case, percent-encoded file names, never a path', () => {
    expect(parse('cp:SRGB').colorProfile).toBe('srgb');
    expect(parse('cp:cmyk').colorProfile).toBe('cmyk');
    expect(parse('cp:Display%20P3.icc').colorProfile).toBe('Display P3.icc');
    expect(parse('cp:p3/cp:').colorProfile).toBeNull();
    for (const bad of ['..', '%2E%2E', 'a%2Fb', '..%2Fetc%2Fpasswd', 'a%5Cb', '%00', '%E0%A4%A']) expectProxyError(() => parse(`cp:${bad}`), 404, 'INVALID_URL');
  });

  it('objects_position: compass, fp and prop', () => {
    expect(parse('op:soea:5:6').objectsPosition).toEqual({ type: 'soea', x: 5, y: 6 });
    expect(parse('op:prop').objectsPosition).toEqual({ type: 'prop', x: 0, y: 0 });
    expectProxyError(() => parse('op:prop:1'), 404, 'INVALID_URL');
    expectProxyError(() => parse('op:fp:2:0.5'), 404, 'INVALID_URL');
    expectProxyError(() => parse('op:sm'), 404, 'INVALID_URL');
  });
});

describe('object detection is refused with 422', () => {
  it.each(['crop_objects:1.2', 'crop_objects:1:face', 'g:obj', 'g:obj:face:cat', 'g:objw:all:2', 'c:100:100:obj:face', 'bd:10', 'bd:10:face', 'dd:1', 'dd:true:person'])('%s', (opt) => {
    const err = expectProxyError(() => parse(opt), 422, 'UNSUPPORTED_OPTION');
    expect(err.message).toContain('object detection');
  });

  it('what asks for no detection is accepted', () => {
    expect(parse('bd:0:face')).toEqual(parse(''));
    expect(parse('dd:0')).toEqual(parse(''));
  });

  it('extend never takes object gravities (unknown type, 404 as in imgproxy)', () => {
    expectProxyError(() => parse('ex:1:obj'), 404, 'INVALID_URL');
  });
});

describe('chained pipelines', () => {
  it('the docs example: presets merge into the URL pipelines', () => {
    const d = createImgproxyDialect(config({ IMGPROXY_PRESETS: 'test=width:300/height:300/-/width:200/height:200/-/width:100/height:200' }));
    const o = parse('width:400/-/preset:test/width:500/-/width:600', d);
    expect([o.width, o.height]).toEqual([400, 0]);
    expect(o.chain.map((p) => [p.width, p.height])).toEqual([[500, 300], [600, 200], [100, 200]]);
    expect(o.usedPresets).toEqual(['test']);
  });

  it('request-wide options written in any pipeline set the main options', () => {
    const o = parse('rs:fit:100:100/-/q:50/f:png/sm:0/dpi:300/mb:1000/trim:10');
    expect([o.quality, o.format, o.stripMetadata, o.dpi, o.maxBytes]).toEqual([50, 'png', false, 300, 1000]);
    expect(o.chain).toHaveLength(1);
    expect(o.chain[0]?.trim?.threshold).toBe(10);
    // Only pipeline options are kept per pipeline.
    for (const key of MAIN_KEYS) expect(Object.keys(o.chain[0] ?? {})).not.toContain(key);
    // The first pipeline keeps its own size; the second starts from the defaults.
    expect([o.width, o.chain[0]?.width, o.chain[0]?.resizingType]).toEqual([100, 0, 'fit']);
  });

  it('every option of the table knows whether it is request-wide', () => {
    const main = OPTION_TABLE.filter((s) => s.main === true).map((s) => s.name);
    expect(main).toEqual(expect.arrayContaining(['quality', 'format', 'style', 'dpi', 'color_profile', 'raw', 'max_result_dimension']));
    expect(main).not.toContain('watermark');
    expect(main).not.toContain('resize');
  });

  it('pipelines that change nothing are left out: one cache key', () => {
    expect(parse('w:100/-')).toEqual(parse('w:100'));
    expect(parse('w:100/-/-/bl:0')).toEqual(parse('w:100'));
    expect(parse('-/w:100').chain).toHaveLength(1);
  });

  it('IMGPROXY_MAX_CHAINED_PIPELINES counts the URL pipelines, not those of presets', () => {
    const d = createImgproxyDialect(config({ IMGPROXY_MAX_CHAINED_PIPELINES: '2', IMGPROXY_PRESETS: 'p=w:10/-/w:5/-/w:2' }));
    expect(parse('w:100/-/w:50', d).chain).toHaveLength(1);
    expect(expectProxyError(() => parse('w:100/-/w:50/-/w:20', d), 404, 'INVALID_URL').message).toContain('IMGPROXY_MAX_CHAINED_PIPELINES');
    expect(parse('pr:p', d).chain).toHaveLength(2);
    // 0 = no limit.
    expect(parse('w:9/-/w:8/-/w:7/-/w:6').chain).toHaveLength(3);
  });

  it('IMGPROXY_ALLOWED_PROCESSING_OPTIONS does not list `-`', () => {
    const d = createImgproxyDialect(config({ IMGPROXY_ALLOWED_PROCESSING_OPTIONS: 'w,h' }));
    expect(parse('w:100/-/h:10', d).chain[0]?.height).toBe(10);
    expectProxyError(() => parse('w:100/-/bl:1', d), 404, 'INVALID_URL');
  });

  it('the source URL after the options is untouched by `-`', () => {
    const r = dialect.parseImage('/unsafe/w:10/-/h:5/plain/http://e.com/-/a.jpg', {});
    expect(r.source).toBe('http://e.com/-/a.jpg');
    expect(r.options.chain[0]?.height).toBe(5);
  });
});
