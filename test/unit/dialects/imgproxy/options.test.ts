import { describe, expect, it } from 'vitest';
import { createImgproxyDialect } from '../../../../src/dialects/imgproxy/index.js';
import { OPTION_TABLE } from '../../../../src/dialects/imgproxy/option-table.js';
import { ProxyError } from '../../../../src/errors.js';
import { defaultOptions } from '../../../../src/default-options.js';
import type { ProcessingOptions } from '../../../../src/options.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const base = config();
const dialect = createImgproxyDialect(base, { now: () => 1_700_000_000 });
const parse = (opts: string): ProcessingOptions => dialect.parseImage(`/unsafe/${opts}/plain/http://e.com/a.jpg`, {}).options;
const defaults = defaultOptions(base);

describe('option table', () => {
  it('has no duplicate names or aliases', () => {
    const names = OPTION_TABLE.flatMap((s) => [s.name, ...s.aliases]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('no options → defaults', () => {
    expect(dialect.parseImage('/unsafe/plain/http://e.com/a.jpg', {}).options).toEqual(defaults);
  });
});

describe('aliases and argument order normalise to identical options', () => {
  const pairs: [string, string][] = [
    ['resize:fill:300:400:1:1:no:5:6', 'rs:fill:300:400:t:true:no:5:6'],
    ['rs:fill:300:400', 'rt:fill/w:300/h:400'],
    ['size:300:400:1', 's:300:400:t'],
    ['s:300:400', 'height:400/width:300'],
    ['min-width:10/min-height:20', 'mh:20/mw:10'],
    ['zoom:2', 'z:2:2'],
    ['enlarge:1', 'el:t'],
    ['extend:1:so:1:2', 'ex:true:so:1:2'],
    ['extend_aspect_ratio:1:ce', 'exar:1:ce'],
    ['extend_ar:1:no', 'exar:1:no'],
    ['gravity:fp:0.5:0.25', 'g:fp:0.5:0.25'],
    ['crop:100:200:nowe:1:2', 'c:100:200:nowe:1:2'],
    ['trim:10:FF00FF:1:0', 't:10:ff00ff:t:f'],
    ['padding:10', 'pd:10:10:10:10'],
    ['pd:1:2', 'pd:1:2:1:2'],
    ['pd:1:2:3', 'pd:1:2:3:2'],
    ['auto_rotate:0', 'ar:false'],
    ['rotate:-90', 'rot:270'],
    ['rot:450', 'rot:90'],
    ['flip:1:1', 'fl:t:t'],
    ['background:255:0:0', 'bg:ff0000'],
    ['bg:f00', 'bg:FF0000'],
    ['adjust:10:1.5:0.5', 'br:10/co:1.5/sa:0.5'],
    ['a::2', 'co:2'],
    ['monochrome:0.5', 'mc:0.5:b3b3b3'],
    ['blur:2/sharpen:1/pixelate:4', 'bl:2/sh:1/pix:4'],
    ['watermark:0.5:re:1:2:0.3', 'wm:0.5:re:1:2:0.3'],
    ['strip_metadata:0/keep_copyright:0/strip_color_profile:0/preserve_hdr:1/enforce_thumbnail:1', 'sm:f/kcr:f/scp:f/ph:t/eth:t'],
    ['quality:50/format_quality:jpeg:80:webp:70', 'q:50/fq:webp:70:jpg:80'],
    ['max_bytes:1000', 'mb:1000'],
    ['format:jpg', 'f:jpeg'],
    ['ext:png', 'f:png'],
    ['page:2/pages:3/disable_animation:1', 'pg:2/pgs:3/da:t'],
    ['skip_processing:gif:svg', 'skp:svg:gif'],
    ['skp:gif/skp:gif', 'skp:gif'],
    ['sp:gif', 'skp:gif'],
    ['raw:1', 'raw:t'],
    ['cachebuster:abc', 'cb:abc'],
    ['expires:1800000000', 'exp:1800000000'],
    ['filename:cat.jpg', `fn:${Buffer.from('cat.jpg').toString('base64url')}:1`],
    ['return_attachment:1', 'att:t'],
    ['resizing_algorithm:nearest', 'ra:nearest'],
  ];
  it.each(pairs)('%s ≡ %s', (a, b) => {
    const pa = parse(a);
    expect(pa).toEqual(parse(b));
    expect(pa).not.toEqual(defaults);
  });
});

describe('parsed values', () => {
  it('resize', () => {
    const o = parse('rs:fill-down:300:0:1:1:so:2:3');
    expect(o).toMatchObject({ resizingType: 'fill-down', width: 300, height: 0, enlarge: true, extend: { enabled: true, gravity: { type: 'so', x: 2, y: 3 } } });
  });

  it('empty meta-option args leave settings unchanged', () => {
    const o = parse('w:50/h:60/rs:fill::/s::70');
    expect(o).toMatchObject({ resizingType: 'fill', width: 50, height: 70 });
    expect(parse('rt:force/rs::10').resizingType).toBe('force');
  });

  it('later options override earlier ones', () => {
    expect(parse('w:10/w:20').width).toBe(20);
  });

  it('gravity sm clears offsets; fp takes [0,1] coordinates', () => {
    expect(parse('g:no:5:6/g:sm').gravity).toEqual({ type: 'sm', x: 0, y: 0 });
    expect(parse('g:fp:0:1').gravity).toEqual({ type: 'fp', x: 0, y: 1 });
    expect(parse('g:nowe:10').gravity).toEqual({ type: 'nowe', x: 10, y: 0 });
  });

  it('crop without gravity falls back to the main gravity (null)', () => {
    expect(parse('c:0.5:100').crop).toEqual({ width: 0.5, height: 100, gravity: null });
    expect(parse('c:10:10:sm').crop?.gravity).toEqual({ type: 'sm', x: 0, y: 0 });
  });

  it('crop 0:0 is no crop at all (one normal form)', () => {
    expect(parse('c:100:100/crop:0:0:no').crop).toBeNull();
    expect(parse('c:0')).toEqual(defaults);
  });

  it('trim with empty threshold disables trimming; colour is optional', () => {
    expect(parse('t:10').trim).toEqual({ threshold: 10, color: null, equalHor: false, equalVer: false });
    expect(parse('t:10/t:').trim).toBeNull();
  });

  it('background with an empty argument is disabled', () => {
    expect(parse('bg:10:20:30').background).toEqual({ r: 10, g: 20, b: 30 });
    expect(parse('bg:10:20:30/bg:').background).toBeNull();
  });

  it('zoom with two values; dpr; quality 0 allowed', () => {
    expect(parse('z:2:3')).toMatchObject({ zoomX: 2, zoomY: 3 });
    expect(parse('dpr:2.5').dpr).toBe(2.5);
    expect(parse('q:0').quality).toBe(0);
  });

  it('watermark defaults and opacity 0 = off', () => {
    expect(parse('wm:0.7').watermark).toEqual({ opacity: 0.7, position: 'ce', x: 0, y: 0, scale: 0, layout: 'imgproxy' });
    expect(parse('wm:0.7/wm:0').watermark).toBeNull();
  });

  it('imgproxy Pro watermark options: url, text (checked markup, black sans 16), size, rotate, shadow', () => {
    const url = Buffer.from('https://cdn.example/logo.png').toString('base64url');
    expect(parse(`wm:1/wmu:${url}`).watermarkImage).toEqual({ kind: 'url', url: 'https://cdn.example/logo.png' });
    expect(parse(`wm:1/watermark_url:${url}/wmu:`).watermarkImage).toBeNull();
    const text = Buffer.from('<b>©</b> 2025 &amp; co').toString('base64url');
    expect(parse(`wm:1/wmt:${text}`).watermarkImage).toEqual({ kind: 'text', markup: '<span foreground="#000000"><b>©</b> 2025 &amp; co</span>', font: 'sans', size: 16, sizing: 'em' });
    expect(parse('wm:1/wms:40:0').watermarkSize).toEqual({ width: 40, height: 0 });
    expect(parse('wm:1/wms:40:0/wms::20').watermarkSize).toEqual({ width: 40, height: 20 });
    expect(parse('wm:1/wms:0:0').watermarkSize).toBeNull();
    expect(parse('wm:1/wmr:-90').watermarkRotate).toBe(270);
    expect(parse('wm:1/wm_rot:450').watermarkRotate).toBe(90);
    expect(parse('wm:1/watermark_shadow:2.5').watermarkShadow).toBe(2.5);
  });

  it('the Pro watermark options mean nothing without `watermark`: one cache key with or without them', () => {
    const url = Buffer.from('https://cdn.example/logo.png').toString('base64url');
    const bare = parse('w:10');
    expect(parse(`w:10/wmu:${url}/wms:5:5/wmr:90/wmsh:1`)).toEqual(bare);
  });

  it('refuses a watermark_url that is not base64 of an absolute URL, and markup outside the subset', () => {
    for (const v of ['!!!', Buffer.from('logo.png').toString('base64url')]) expectProxyError(() => parse(`wm:1/wmu:${v}`), 404, 'INVALID_URL');
    for (const m of ['<script>x</script>', '<span onclick="x">a</span>', '<span foreground="red;x">a</span>', '<b', '<!-- c -->a']) {
      const err = expectProxyError(() => parse(`wm:1/wmt:${Buffer.from(m).toString('base64url')}`), 404, 'INVALID_URL');
      expect(err.message).toMatch(/Invalid watermark_text/);
    }
  });

  it('filename: plain and base64url-encoded', () => {
    expect(parse('fn:my%20file').filename).toBe('my%20file');
    expect(parse(`fn:${Buffer.from('naïve ✓.png').toString('base64url')}:t`).filename).toBe('naïve ✓.png');
  });

  it('invalid booleans are false, not errors', () => {
    expect(parse('el:1/el:yes').enlarge).toBe(false);
    expect(parse('sm:nope').stripMetadata).toBe(false);
    expect(parse('rs:fit:10:10:maybe').enlarge).toBe(false);
  });

  it('format from the option, overridden by the extension', () => {
    expect(parse('f:webp').format).toBe('webp');
    expect(dialect.parseImage('/unsafe/f:webp/plain/http://e.com/a.jpg@avif', {}).options.format).toBe('avif');
    expect(dialect.parseImage('/unsafe/f:webp/plain/http://e.com/a.jpg@', {}).options.format).toBe('webp');
  });

  it('raw ignores the extension', () => {
    expect(dialect.parseImage('/unsafe/raw:1/plain/http://e.com/a.jpg@png', {}).options.format).toBeNull();
  });

  it('expires in the future is kept; 0 means none', () => {
    expect(parse('exp:1800000000').expires).toBe(1_800_000_000);
    expect(parse('exp:0').expires).toBe(0);
  });

  it('an expired URL is 404 "Expired URL"', () => {
    expect(expectProxyError(() => parse('exp:1600000000'), 404, 'INVALID_URL').message).toBe('Expired URL');
  });

  it('uses the configured separator', () => {
    const d = createImgproxyDialect(config({ IMGPROXY_ARGUMENTS_SEPARATOR: ',' }));
    expect(d.parseImage('/unsafe/rs,fill,10,20/plain/http://e.com/a.jpg', {}).options).toMatchObject({ resizingType: 'fill', width: 10, height: 20 });
  });
});

describe('invalid options are 404 ProxyErrors', () => {
  const bad = [
    'unknown:1', 'w:abc', 'w:-1', 'w:1.5', 'w:1:2', 'h:', 'rs:fill:1:2:1:1:ce:0:0:extra', 's:1:2:3:4:5:6:7:8',
    'rt:stretch', 'rot:45', 'g:sm:1', 'g:fp:0.5', 'g:fp:2:0.5', 'g:up', 'ex:1:sm', 'exar:1:sm',
    'c:abc', 'c:10:10:fp:1', 'bg:1:2', 'bg:256:0:0', 'bg:-1:0:0', 'bg:ggg', 't:abc', 't:10:zz', 't:1:2:3:4:5',
    'pd:-1', 'pd:1:2:3:4:5', 'z:0', 'z:1:2:3', 'dpr:0', 'dpr:abc', 'q:101', 'q:-1', 'fq:jpeg', 'fq:bogus:80',
    'f:tif', 'f:bogus', 'skp:bogus', 'mb:-5', 'sh:-1', 'pix:1.5', 'wm:2', 'wm:0.5:nowhere', 'wm:0.5:ce:0:0:0',
    'exp:soon', 'fn:!!!:1', 'fl:1:1:1', 'a:1:2:3:4', 'br:300', 'co:-1', 'mc:2', 'mc:0.5:nothex', 'pgs:0', 'pg:-1',
    'ra:bicubic', 'cb:a:b', 'pr:nope', 'preset:',
  ];
  it.each(bad)('%s', (opt) => {
    expectProxyError(() => parse(opt), 404, 'INVALID_URL');
  });

  it('deprecated basic URL format', () => {
    expect(expectProxyError(() => dialect.parseImage('/unsafe/fill/300/400/ce/0/plain/http://e.com/a.jpg', {}), 404).message).toMatch(/deprecated basic URL format/);
  });

  it('bad paths', () => {
    for (const p of ['', '/', '/unsafe', '/unsafe/', 'unsafe/', '/unsafe/w:10', '/unsafe/w:10/plain']) {
      expectProxyError(() => dialect.parseImage(p, {}), 404, 'INVALID_URL');
    }
  });

  it('never a plain Error on garbage input', () => {
    const garbage = ['/unsafe/%/plain/%zz', '/x/:::/:/plain/', '/x/w:\u0000/plain/a', '/x/plain/%E0%A4%A', '/x/////', '/x/..%2f/a.b.c', '/x/g:fp:NaN:NaN/plain/a', '/x/w:1e400/plain/a'];
    let thrown = 0;
    for (const p of garbage) {
      try {
        dialect.parseImage(p, { accept: 'image/webp' });
      } catch (err) {
        thrown++;
        expect(err).toBeInstanceOf(ProxyError);
        expect((err as ProxyError).status).toBeLessThan(500);
      }
    }
    expect(thrown).toBeGreaterThanOrEqual(garbage.length - 1);
  });
});

describe('security options', () => {
  const secOpts = ['max_src_resolution:10', 'msr:10', 'max_src_file_size:100', 'msfs:100', 'max_animation_frames:5', 'maf:5', 'max_animation_frame_resolution:2', 'mafr:2', 'max_result_dimension:100', 'mrd:100'];

  it.each(secOpts)('%s is 403 SECURITY_OPTION_FORBIDDEN by default', (opt) => {
    expectProxyError(() => parse(opt), 403, 'SECURITY_OPTION_FORBIDDEN');
  });

  it('are applied with IMGPROXY_ALLOW_SECURITY_OPTIONS', () => {
    const d = createImgproxyDialect(config({ IMGPROXY_ALLOW_SECURITY_OPTIONS: 'true' }));
    const o = d.parseImage('/unsafe/msr:10.5/msfs:100/maf:5/mafr:2/mrd:300/plain/http://e.com/a.jpg', {}).options;
    expect(o).toMatchObject({ maxSrcResolution: 10.5, maxSrcFileSize: 100, maxAnimationFrames: 5, maxAnimationFrameResolution: 2, maxResultDimension: 300 });
    expectProxyError(() => d.parseImage('/unsafe/maf:0/plain/http://e.com/a.jpg', {}), 404, 'INVALID_URL');
  });
});

describe('IMGPROXY_ALLOWED_PROCESSING_OPTIONS', () => {
  const d = createImgproxyDialect(config({ IMGPROXY_ALLOWED_PROCESSING_OPTIONS: 'rs,w,preset', IMGPROXY_PRESETS: 'big=width:1000/height:800/q:90' }));
  const p = (opts: string): ProcessingOptions => d.parseImage(`/unsafe/${opts}/plain/http://e.com/a.jpg`, {}).options;

  it('allows listed names literally', () => {
    expect(p('rs:fit:10:10/w:20').width).toBe(20);
  });

  it('rejects unlisted names, including unlisted aliases of listed options', () => {
    expectProxyError(() => p('resize:fit:10:10'), 404, 'INVALID_URL');
    expectProxyError(() => p('width:10'), 404, 'INVALID_URL');
    expectProxyError(() => p('q:80'), 404, 'INVALID_URL');
  });

  it('does not apply to options coming from presets', () => {
    expect(p('preset:big')).toMatchObject({ width: 1000, height: 800, quality: 90, usedPresets: ['big'] });
    expectProxyError(() => p('pr:big'), 404, 'INVALID_URL');
  });
});
