import { describe, expect, it } from 'vitest';
import { createImgproxyDialect } from '../../../../src/dialects/imgproxy/index.js';
import { splitPath } from '../../../../src/dialects/imgproxy/path.js';
import { parseUrlReplacements, pathUnescape } from '../../../../src/dialects/imgproxy/source-url.js';
import { b64, config, expectProxyError } from '../../../helpers/dialects.js';

const d = createImgproxyDialect(config());
const src = (path: string) => d.parseImage(path, {});

describe('plain sources', () => {
  it('joins segments, splits the @extension, percent-decodes', () => {
    const r = src('/unsafe/w:1/plain/http://e.com/dir/my%20pic%40x.jpg%3Fv%3D1@png');
    expect(r.source).toBe('http://e.com/dir/my pic@x.jpg?v=1');
    expect(r.options.format).toBe('png');
  });

  it('keeps + and decodes UTF-8', () => {
    expect(src('/unsafe/plain/http://e.com/a+b%C3%A9.jpg').source).toBe('http://e.com/a+bé.jpg');
  });

  it('@jpg → jpeg; empty extension = auto', () => {
    expect(src('/unsafe/plain/http://e.com/a@jpg').options.format).toBe('jpeg');
    expect(src('/unsafe/plain/http://e.com/a@').options.format).toBeNull();
  });

  it('errors: multiple @, unknown extension, bad escapes, empty URL', () => {
    expect(expectProxyError(() => src('/unsafe/plain/http://e.com/a@b@png'), 404).message).toMatch(/Multiple formats/);
    expectProxyError(() => src('/unsafe/plain/http://e.com/a@tif'), 404, 'INVALID_URL');
    expectProxyError(() => src('/unsafe/plain/http://e.com/100%'), 404, 'INVALID_URL');
    expectProxyError(() => src('/unsafe/plain/http://e.com/%zz'), 404, 'INVALID_URL');
    expectProxyError(() => src('/unsafe/plain/http://e.com/%ff'), 404, 'INVALID_URL');
    expectProxyError(() => src('/unsafe/plain/@png'), 404, 'INVALID_URL');
  });

  it('pathUnescape mirrors Go', () => {
    expect(pathUnescape('a%2Fb%2fc')).toBe('a/b/c');
    expect(pathUnescape('a%2')).toBeUndefined();
  });
});

describe('base64 sources', () => {
  const url = 'http://example.com/images/curiosity.jpg';
  const enc = b64(url);

  it('plain, split by /, padded, with .ext', () => {
    expect(src(`/unsafe/${enc}`).source).toBe(url);
    const pieces = `${enc.slice(0, 7)}/${enc.slice(7, 20)}/${enc.slice(20)}`;
    const r = src(`/unsafe/w:10/${pieces}.webp`);
    expect(r.source).toBe(url);
    expect(r.options).toMatchObject({ width: 10, format: 'webp' });
    expect(src(`/unsafe/${Buffer.from('http://e.com/ab').toString('base64')}`).source).toBe('http://e.com/ab');
  });

  it('more than one dot, bad characters, empty → 404', () => {
    expect(expectProxyError(() => src(`/unsafe/${enc}.png.webp`), 404).message).toMatch(/Multiple formats/);
    expectProxyError(() => src('/unsafe/abc$def'), 404, 'INVALID_URL');
    expectProxyError(() => src('/unsafe/w:1/.png'), 404, 'INVALID_URL');
    expectProxyError(() => src('/unsafe/a'), 404, 'INVALID_URL');
  });

  it('IMGPROXY_BASE64_URL_INCLUDES_FILENAME drops the last segment', () => {
    const f = createImgproxyDialect(config({ IMGPROXY_BASE64_URL_INCLUDES_FILENAME: 'true' }));
    expect(f.parseImage(`/unsafe/${enc.slice(0, 10)}/${enc.slice(10)}.png/curiosity.jpg`, {}).source).toBe(url);
    expect(f.parseImage(`/unsafe/${enc}.png/curiosity.jpg`, {}).options.format).toBe('png');
    // the dropped filename's extension is not the format
    expect(f.parseImage(`/unsafe/${enc}/curiosity.jpg`, {}).options.format).toBeNull();
    // a single segment is the URL itself
    expect(f.parseImage(`/unsafe/${enc}`, {}).source).toBe(url);
  });
});

describe('path normalisation', () => {
  it('%3A in options becomes :, but not in the plain source', () => {
    const s = splitPath('/sig/rs%3Afill%3a10/g%3Asm/plain/http://e.com/a%3Ab.jpg');
    expect(s.signature).toBe('sig');
    expect(s.signedPath).toBe('/rs:fill:10/g:sm/plain/http://e.com/a%3Ab.jpg');
    expect(src('/unsafe/w%3A10/plain/http://e.com/a%3Ab.jpg').source).toBe('http://e.com/a:b.jpg');
  });

  it('restores collapsed scheme slashes', () => {
    expect(src('/unsafe/w:10/plain/http:/e.com/a.jpg').source).toBe('http://e.com/a.jpg');
    expect(src('/unsafe/plain/https:/e.com/a.jpg').source).toBe('https://e.com/a.jpg');
    expect(src('/unsafe/plain/local:/img/a.jpg').source).toBe('local:///img/a.jpg');
    expect(src('/unsafe/plain/s3:/bucket/key.png').source).toBe('s3://bucket/key.png');
    expect(src('/unsafe/plain/http://e.com/a.jpg').source).toBe('http://e.com/a.jpg');
    expect(splitPath('/s/plain/http:/e.com/x').signedPath).toBe('/plain/http://e.com/x');
  });

  it('signedPath is everything after the signature, with its slash', () => {
    expect(src('/abc/w:1/plain/http://e.com/a.jpg').signedPath).toBe('/w:1/plain/http://e.com/a.jpg');
    expect(splitPath('abc/x').signedPath).toBe('/x');
  });
});

describe('base URL and replacements', () => {
  it('prepends IMGPROXY_BASE_URL unless already present', () => {
    const b = createImgproxyDialect(config({ IMGPROXY_BASE_URL: 'http://origin.test/img/' }));
    expect(b.parseImage('/unsafe/plain/a.jpg', {}).source).toBe('http://origin.test/img/a.jpg');
    expect(b.parseImage('/unsafe/plain/http://origin.test/img/b.jpg', {}).source).toBe('http://origin.test/img/b.jpg');
    expect(b.parseImage(`/unsafe/${b64('c d.jpg')}`, {}).source).toBe('http://origin.test/img/c d.jpg');
  });

  it('applies IMGPROXY_URL_REPLACEMENTS with wildcards, before the base URL', () => {
    const r = createImgproxyDialect(config({
      IMGPROXY_URL_REPLACEMENTS: 'mys3://=s3://my-bucket/;bucket-*://=s3://${1}-prod/;cdn://*/*/=https://$2.example.com/${1}/',
      IMGPROXY_BASE_URL: 'https://base.test/',
    }));
    expect(r.parseImage('/unsafe/plain/mys3://a/b.jpg', {}).source).toBe('https://base.test/s3://my-bucket/a/b.jpg');
    const noBase = createImgproxyDialect(config({ IMGPROXY_URL_REPLACEMENTS: 'mys3://=s3://my-bucket/;bucket-*://=s3://${1}-prod/;cdn://*/*/=https://$2.example.com/${1}/' }));
    expect(noBase.parseImage('/unsafe/plain/mys3://a/b.jpg', {}).source).toBe('s3://my-bucket/a/b.jpg');
    expect(noBase.parseImage('/unsafe/plain/bucket-photos://x.png', {}).source).toBe('s3://photos-prod/x.png');
    expect(noBase.parseImage('/unsafe/plain/cdn://v1/eu/p.png', {}).source).toBe('https://eu.example.com/v1/p.png');
    // prefix match only, and regex metacharacters are literal
    expect(noBase.parseImage('/unsafe/plain/http://x/mys3://a', {}).source).toBe('http://x/mys3://a');
  });

  it('JS replacement patterns are not special', () => {
    const [r] = parseUrlReplacements('a.b=$&-$`');
    expect(r && 'a.b/x'.replace(r.pattern, r.replacement)).toBe('a.b-/x');
    const d2 = createImgproxyDialect(config({ IMGPROXY_URL_REPLACEMENTS: 'x://=$&y://' }));
    expect(d2.parseImage('/unsafe/plain/x://z', {}).source).toBe('$&y://z');
  });

  it('an invalid IMGPROXY_URL_REPLACEMENTS fails at creation', () => {
    expect(() => createImgproxyDialect(config({ IMGPROXY_URL_REPLACEMENTS: 'no-equals-sign' }))).toThrow(/IMGPROXY_URL_REPLACEMENTS/);
  });
});

describe('parseInfo', () => {
  it('returns raw segments, source and signed path', () => {
    const info = d.parseInfo('/unsafe/size:1/dc:1:2/plain/http://e.com/a.jpg', {});
    expect(info).toEqual({ source: 'http://e.com/a.jpg', signedPath: '/size:1/dc:1:2/plain/http://e.com/a.jpg', segments: [{ name: 'size', args: ['1'] }, { name: 'dc', args: ['1', '2'] }] });
    expect(d.parseInfo(`/unsafe/${b64('http://e.com/b.png')}`, {}).source).toBe('http://e.com/b.png');
  });
});
