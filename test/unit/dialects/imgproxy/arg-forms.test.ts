// Argument forms imgproxy accepts: empty positional arguments are skipped, an empty options
// segment is no options, `blur:0`/`sharpen:0` are "off". The URLs are the ones imgproxy's own
// tests send (processing/*_test.go build them with testutil/options_builder.go, which leaves
// unset arguments empty); the rules are options/parser/parse.go and apply.go, handlers/path.go.
import { describe, expect, it } from 'vitest';
import { createImgproxyDialect, sign } from '../../../../src/dialects/imgproxy/index.js';
import { defaultOptions } from '../../../../src/default-options.js';
import type { ProcessingOptions } from '../../../../src/options.js';
import { config, expectProxyError, hex } from '../../../helpers/dialects.js';

const base = config();
const dialect = createImgproxyDialect(base);
const SRC = 'http://images.dev/lorem/ipsum.jpg';
const parse = (opts: string): ProcessingOptions => dialect.parseImage(`/unsafe/${opts}/plain/${SRC}`, {}).options;
const defaults = defaultOptions(base);

describe('empty positional arguments are skipped (processing/*_test.go URL forms)', () => {
  it('CropTestSuite.TestResizeFill "with offsets": g:no::5 keeps x, sets y', () => {
    expect(parse('rs:fill:100:26/g:no::5').gravity).toEqual({ type: 'no', x: 0, y: 5 });
    expect(parse('rs:fill:26:100/g:no:5').gravity).toEqual({ type: 'no', x: 5, y: 0 });
    expect(parse('rs:fill:100:26/g:no::0.1/dpr:2').gravity).toEqual({ type: 'no', x: 0, y: 0.1 });
  });

  it('CropTestSuite.TestCrop "crop with offsets": crop:50:50:ce::10', () => {
    expect(parse('crop:50:50:ce::10').crop).toEqual({ width: 50, height: 50, gravity: { type: 'ce', x: 0, y: 10 } });
    expect(parse('crop:50:50:ce:10').crop).toEqual({ width: 50, height: 50, gravity: { type: 'ce', x: 10, y: 0 } });
  });

  it('ExtendTestSuite.TestExtend "with offsets": extend:1:no::5', () => {
    expect(parse('width:500/height:500/extend:1:no::5').extend).toEqual({ enabled: true, gravity: { type: 'no', x: 0, y: 5 } });
    expect(parse('ex:1:no::5')).toEqual(parse('ex:1:no:0:5'));
  });

  it('ExtendTestSuite.TestExtendAspectRatio "with offsets": extend_aspect_ratio:1:no::5', () => {
    expect(parse('width:500/height:500/extend_aspect_ratio:1:no::5').extendAspectRatio).toEqual({ enabled: true, gravity: { type: 'no', x: 0, y: 5 } });
    expect(parse('exar:1:no::5')).toEqual(parse('exar:1:no:0:5'));
  });

  it('a trailing empty argument: ex:1:ce: ≡ ex:1:ce', () => {
    expect(parse('ex:1:ce:')).toEqual(parse('ex:1:ce'));
    expect(parse('g:so:')).toEqual(parse('g:so'));
    expect(parse('c:10:10:ce:')).toEqual(parse('c:10:10:ce'));
  });

  it('an empty offset keeps the previous one (imgproxy keeps it in its key map)', () => {
    expect(parse('g:no:7:8/g:so::3').gravity).toEqual({ type: 'so', x: 7, y: 3 });
    // A kept pixel offset cannot be a focus point: it is held to [0, 1].
    expect(parse('g:no:30:0.2/g:fp::0.5').gravity).toEqual({ type: 'fp', x: 1, y: 0.5 });
  });

  it('what stays an error there stays one here', () => {
    // A gravity type is required; fp needs both coordinate slots; a crop needs a width.
    for (const opt of ['ex:1:', 'g:', 'g:fp:0.5', 'c::10', 'c:10:', 'wm::ce', 'z:']) expectProxyError(() => parse(opt), 404, 'INVALID_URL');
    expect(parse('g:fp::0.25').gravity).toEqual({ type: 'fp', x: 0, y: 0.25 });
  });
});

describe('blur:0 and sharpen:0 mean off (ApplyFiltersTestSuite.TestEffects)', () => {
  it.each([
    ['blur:10.000000/sharpen:0.000000/pixelate:0', { blur: 10, sharpen: 0, pixelate: 0 }],
    ['blur:0.000000/sharpen:10.000000/pixelate:0', { blur: 0, sharpen: 10, pixelate: 0 }],
    ['blur:0.000000/sharpen:0.000000/pixelate:10', { blur: 0, sharpen: 0, pixelate: 10 }],
    ['blur:10.000000/sharpen:10.000000/pixelate:10', { blur: 10, sharpen: 10, pixelate: 10 }],
  ])('%s', (opts, expected) => {
    expect(parse(opts)).toMatchObject(expected);
  });

  it('bl:0/sh:0 are the defaults (one cache key with no option)', () => {
    expect(parse('bl:0/sh:0')).toEqual(defaults);
    expect(parse('bl:2/bl:0')).toEqual(defaults);
  });
});

describe('an empty options segment is no options (handlers/path.go RedenormalizePath)', () => {
  it('/unsafe//plain/… ≡ /unsafe/plain/…, also for base64 sources', () => {
    const a = dialect.parseImage(`/unsafe//plain/${SRC}`, {});
    expect(a.options).toEqual(defaults);
    expect(a.source).toBe(SRC);
    const b64 = Buffer.from(SRC).toString('base64url');
    expect(dialect.parseImage(`/unsafe//${b64}`, {}).source).toBe(SRC);
    expect(dialect.parseImage(`/unsafe//rs:fit:10/plain/${SRC}`, {}).options.width).toBe(10);
  });

  it('is signed as the path without it (imgproxy signs the re-denormalised path)', () => {
    const signed = config({ IMGPROXY_KEY: hex('key'), IMGPROXY_SALT: hex('salt') });
    const d = createImgproxyDialect(signed);
    const sig = sign(`/plain/${SRC}`, Buffer.from('key'), Buffer.from('salt'));
    expect(d.parseImage(`/${sig}//plain/${SRC}`, {}).source).toBe(SRC);
    expect(d.parseImage(`/${sig}/plain/${SRC}`, {}).source).toBe(SRC);
    // Three slashes are still one path there; four are not.
    expect(d.parseImage(`/${sig}///plain/${SRC}`, {}).source).toBe(SRC);
    expectProxyError(() => d.parseImage(`/${sig}////plain/${SRC}`, {}), 403);
  });

  it('a path that is nothing but the signature is still invalid', () => {
    for (const p of ['/unsafe/', '/unsafe//', '/unsafe///']) expectProxyError(() => dialect.parseImage(p, {}), 404, 'INVALID_URL');
  });
});
