import { describe, expect, it } from 'vitest';
import { createPreviewProxyDialect } from '../../../../src/dialects/previewproxy/index.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const d = createPreviewProxyDialect(config());
const q = (s = ''): URLSearchParams => new URLSearchParams(s);
const path = (p: string, query = '') => d.parsePath(p, q(query), {});
const proxy = (query: string) => d.parseQuery(q(query), {});

describe('path style: options and source', () => {
  it('shorthand tokens and the source', () => {
    const r = path('/300x200,webp,q80/https://example.com/img.jpg');
    expect(r.source).toBe('https://example.com/img.jpg');
    expect(r.options).toMatchObject({ width: 300, height: 200, format: 'webp', quality: 80 });
    expect(r.signedPath).toBe('format=webp&h=200&q=80&w=300:https://example.com/img.jpg');
  });

  it('no options: the whole path is the source', () => {
    expect(path('/https://example.com/img.jpg').source).toBe('https://example.com/img.jpg');
    expect(path('/http://example.com/a/b.png').source).toBe('http://example.com/a/b.png');
  });

  it('splits at the right-most delimiter, so a watermark URL stays in the options', () => {
    const c = config({ IMGPROXY_WATERMARK_URL: 'https://logo.example/wm.png' });
    const r = createPreviewProxyDialect(c).parsePath('/wm:https://logo.example/wm.png,300x0/https://example.com/img.jpg', q(), {});
    expect(r.source).toBe('https://example.com/img.jpg');
    expect(r.signedPath).toBe('h=0&w=300&wm=https://logo.example/wm.png:https://example.com/img.jpg');
    expect(r.options.watermark).not.toBeNull();
  });

  it('a watermark URL with = and : is taken whole by the wm: prefix', () => {
    const c = config({ IMGPROXY_WATERMARK_URL: 'http://w.example/a.png?x=1' });
    const r = createPreviewProxyDialect(c).parsePath('/wm:http://w.example/a.png?x=1/https://example.com/i.jpg', q(), {});
    expect(r.signedPath).toBe('wm=http://w.example/a.png?x=1:https://example.com/i.jpg');
  });

  it('s3:/, local:/ and local:%2F delimiters', () => {
    const c = createPreviewProxyDialect(config({ PP_S3_ENABLED: 'true', PP_S3_BUCKET: 'bkt', PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: '/srv' }));
    expect(c.parsePath('/300x0/s3:/images/a.jpg', q(), {}).source).toBe('s3://bkt/images/a.jpg');
    expect(c.parsePath('/300x0/local:/dir/a.jpg', q(), {}).source).toBe('local:///dir/a.jpg');
    expect(c.parsePath('/300x0/local:%252Fdir/a.jpg', q(), {}).source).toBe('local:///dir/a.jpg');
    expect(c.parsePath('/s3:/images/a.jpg', q(), {}).source).toBe('s3://bkt/images/a.jpg');
  });

  it('the source is percent-decoded twice (axum Path, then urlencoding::decode)', () => {
    const r = path('/w=10/https://example.com/a%2520b.jpg%253Fv%253D1');
    expect(r.source).toBe('https://example.com/a b.jpg?v=1');
    // A lone % survives the second pass, as there.
    expect(path('/https://example.com/100%25.jpg').source).toBe('https://example.com/100%.jpg');
  });

  it('trailing slashes are trimmed (NormalizePath); empty tokens skipped', () => {
    expect(path('/,grayscale,/https://example.com/a/').source).toBe('https://example.com/a');
    expect(path('/,grayscale,/https://example.com/a').options.monochrome).not.toBeNull();
  });

  it('generic key=value and key:value, = before :, r is rotate', () => {
    const a = path('/w=300,h:200,r=90,fit:cover/https://e.com/a.jpg');
    const b = path('/300x200,r90,cover/https://e.com/a.jpg');
    expect(a).toEqual(b);
    expect(a.signedPath).toBe('fit=cover&h=200&rotate=90&w=300:https://e.com/a.jpg');
  });

  it('unknown tokens and bad values are 400', () => {
    expect(expectProxyError(() => path('/bogus/https://e.com/a.jpg'), 400, 'BAD_REQUEST').message).toMatch(/Unknown option: bogus/);
    expectProxyError(() => path('/foo=1/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/best/https://e.com/a.jpg'), 400, 'BAD_REQUEST'); // best is format=best only
    expectProxyError(() => path('/w=abc/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/w=-5/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/w=4294967296/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/fit=stretch/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/format=jpg/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/flip=x/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/blur:abc/https://e.com/a.jpg'), 400, 'BAD_REQUEST');
    expectProxyError(() => path('/https://e.com/%zz'), 400, 'BAD_REQUEST');
  });

  it('/enc/ splits only before a blob, so a source path may contain /enc/', () => {
    expect(path('/https://e.com/enc/a.jpg').source).toBe('https://e.com/enc/a.jpg');
  });
});

describe('relative sources and PP_DEFAULT_SOURCE_URL', () => {
  const rel = createPreviewProxyDialect(config({ PP_DEFAULT_SOURCE_URL: 'https://cdn.example.com/base/' }));

  it('joined onto the default, params from the query', () => {
    const r = rel.parsePath('/photos/a.jpg', q('w=300'), {});
    expect(r.source).toBe('https://cdn.example.com/base/photos/a.jpg');
    expect(r.options.width).toBe(300);
    expect(r.signedPath).toBe('w=300:https://cdn.example.com/base/photos/a.jpg');
  });

  it('a first segment that reads as options is refused (ambiguous)', () => {
    expect(expectProxyError(() => rel.parsePath('/300x200/photos/a.jpg', q(), {}), 400).message).toMatch(/absolute source URL/);
    expectProxyError(() => rel.parsePath('/crop/a.jpg', q(), {}), 400, 'BAD_REQUEST');
  });

  it('without the setting a relative source is 400', () => {
    expect(expectProxyError(() => path('/photos/a.jpg'), 400, 'BAD_REQUEST').message).toMatch(/PP_DEFAULT_SOURCE_URL/);
    expectProxyError(() => proxy('url=photos/a.jpg'), 400, 'BAD_REQUEST');
  });

  it('the default may be s3:/ or local:/', () => {
    const s3 = createPreviewProxyDialect(config({ PP_DEFAULT_SOURCE_URL: 's3:/prefix', PP_S3_ENABLED: 'true', PP_S3_BUCKET: 'b' }));
    expect(s3.parseQuery(q('url=x/y.png'), {}).source).toBe('s3://b/prefix/x/y.png');
    const local = createPreviewProxyDialect(config({ PP_DEFAULT_SOURCE_URL: 'local:/', PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: '/srv' }));
    expect(local.parsePath('/img/a.png', q(), {}).source).toBe('local:///img/a.png');
  });
});

describe('query style /proxy?url=', () => {
  it('url and params; unknown keys (and r) ignored', () => {
    const r = proxy('url=https%3A%2F%2Fe.com%2Fa.jpg&w=200&format=png&foo=bar&r=90');
    expect(r.source).toBe('https://e.com/a.jpg');
    expect(r.options).toMatchObject({ width: 200, format: 'png', rotate: 0 });
    expect(r.signedPath).toBe('format=png&w=200:https://e.com/a.jpg');
  });

  it('missing url is 400', () => {
    expect(expectProxyError(() => proxy('w=1'), 400, 'BAD_REQUEST').message).toMatch(/missing 'url'/);
    expectProxyError(() => proxy('url='), 400, 'BAD_REQUEST');
  });

  it('path and query styles agree', () => {
    const a = proxy('url=https://e.com/a.jpg&w=300&h=200&fit=cover&grayscale=true&blur=2.5');
    const b = path('/300x200,cover,grayscale,blur:2.5/https://e.com/a.jpg');
    expect(a).toEqual(b);
  });
});

describe('precedence and normalisation', () => {
  it('query parameters win over path parameters', () => {
    const r = path('/300x200,webp/https://e.com/a.jpg', 'w=500&format=png');
    expect(r.options).toMatchObject({ width: 500, height: 200, format: 'png' });
    expect(r.signedPath).toBe('format=png&h=200&w=500:https://e.com/a.jpg');
  });

  it('a query value rescues a path value we cannot honour (merge before checks)', () => {
    expect(path('/jxl/https://e.com/a.jpg', 'format=webp').options.format).toBe('webp');
    expect(path('/r45/https://e.com/a.jpg', 'rotate=90').options.rotate).toBe(90);
  });

  it('same parameters in any order give deep-equal requests', () => {
    const a = path('/300x200,webp,q80,grayscale,fliph,bright:10,contrast:20,blur:1.5/https://e.com/a.jpg');
    const b = path('/blur:1.5,contrast:20,bright:10,fliph,grayscale,q80,webp,300x200/https://e.com/a.jpg');
    expect(a).toEqual(b);
    const c = proxy('url=https://e.com/a.jpg&q=80&w=300&h=200&format=webp&flip=h&grayscale=1&bright=10&contrast=20&blur=1.5');
    const e = proxy('blur=1.5&contrast=20&bright=10&grayscale=1&flip=h&format=webp&h=200&w=300&q=80&url=https://e.com/a.jpg');
    expect(c).toEqual(e);
    expect(c).toEqual(a);
  });

  it('a repeated key keeps its last value, as PreviewProxy does (its signature covers that one)', () => {
    const flipped = path('/fliph,flipv/https://e.com/a.jpg');
    expect(flipped.options).toMatchObject({ flipVertical: true, flipHorizontal: false });
    expect(flipped.signedPath).toBe('flip=v:https://e.com/a.jpg');
    expect(proxy('url=https://e.com/a.jpg&w=1&w=2').options.width).toBe(2);
    expect(proxy('url=https://e.com/a.jpg&url=https://e.com/b.jpg').source).toBe('https://e.com/b.jpg');
    // Only the last value is parsed: an earlier bad one is never looked at (a HashMap there).
    expect(proxy('url=https://e.com/a.jpg&w=x&w=7').options.width).toBe(7);
    expect(path('/300x200,w=100/https://e.com/a.jpg').options.width).toBe(100);
  });

  it('no parameters: default options, automatic format (the source passes through untransformed)', () => {
    const r = path('/https://e.com/a.jpg');
    const dflt = createPreviewProxyDialect(config()).parseQuery(q('url=https://e.com/a.jpg'), {});
    expect(r.options.format).toBeNull();
    expect(r.options).toEqual(dflt.options);
    expect(r.options).toMatchObject({ width: 0, height: 0, rotate: 0, blur: 0, brightness: 0, contrast: 1, monochrome: null, watermark: null, quality: 0 });
    expect(r.signedPath).toBe(':https://e.com/a.jpg');
  });
});
