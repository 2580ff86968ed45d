/**
 * Cache key. Seed (imgproxy): "The cache key is generated based on: Source image URL,
 * Processing options, Output format, Optional: Request headers specified in
 * IMGPROXY_CACHE_KEY_HEADERS, Optional: Request cookies specified in IMGPROXY_CACHE_KEY_COOKIES.
 * URL signature is not part of the cache key". Seed (PreviewProxy): "Two requests with the same
 * URL and parameters always resolve to the same cache key, regardless of parameter order."
 */
import { describe, expect, it } from 'vitest';
import { keyMaterial, originKey, parseCookies, resultGroup, sourcePrefix, transformedKey, withCookies } from '../../../src/cache/key.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import type { ImageRequest } from '../../../src/request.js';
import { testConfig } from './helpers.js';

const config = testConfig({ IMGPROXY_CACHE_KEY_HEADERS: 'X-Tenant, accept-language', IMGPROXY_CACHE_KEY_COOKIES: 'session,ab' });
const cfg = config.cache;

function req(patch: Partial<ProcessingOptions> = {}, source = 'https://example.com/a.jpg', signedPath = '/sig/rs:fit:100/plain/x'): ImageRequest {
  return { kind: 'image', source, options: { ...defaultOptions(config), ...patch }, signedPath };
}

const key = (r: ImageRequest, headers = {}): string => transformedKey(r, headers, cfg);

describe('cache key', () => {
  it('is grouped by source: 32 hex of the source, `_r`, 32 hex of the URL, 32 hex of the negotiated variant', () => {
    expect(key(req())).toMatch(/^[0-9a-f]{32}_r[0-9a-f]{64}$/);
    expect(key(req()).startsWith(sourcePrefix('https://example.com/a.jpg'))).toBe(true);
    expect(key(req({ width: 10 })).startsWith(sourcePrefix('https://example.com/a.jpg'))).toBe(true);
    expect(key(req({}, 'https://example.com/b.jpg')).startsWith(sourcePrefix('https://example.com/a.jpg'))).toBe(false);
  });

  it('a cookie-keyed variant (IMGPROXY_COOKIE_PASSTHROUGH) keeps its source and URL group; one per Cookie header', () => {
    const shared = key(req());
    const a = withCookies(shared, 'session=a');
    expect(a).toMatch(/^[0-9a-f]{32}_r[0-9a-f]{64}$/);
    expect(a.startsWith(resultGroup(req(), cfg))).toBe(true);
    expect(a).not.toBe(shared);
    expect(withCookies(shared, 'session=b')).not.toBe(a);
    expect(withCookies(shared, 'session=a')).toBe(a);
  });

  it('same options → same key, whatever the property order the dialect built them in', () => {
    const a = req({ width: 100, height: 50 });
    const reversed = Object.fromEntries(Object.entries(a.options).reverse()) as unknown as ProcessingOptions;
    expect(key({ ...a, options: reversed })).toBe(key(a));
  });

  it('"URL signature is not part of the cache key": a different signed path (rotated key/salt) gives the same key', () => {
    expect(key(req({}, undefined, '/AAAA/rs:fit:100/plain/x'))).toBe(key(req({}, undefined, '/BBBB/rs:fit:100/plain/x')));
  });

  it('NON_KEY_OPTIONS (expires, filename, returnAttachment, usedPresets) do not change the key (CHANGELOG 4.0.2)', () => {
    const base = key(req());
    expect(key(req({ expires: 2_000_000_000 }))).toBe(base);
    expect(key(req({ filename: 'x.jpg', returnAttachment: true }))).toBe(base);
    expect(key(req({ usedPresets: ['thumb'] }))).toBe(base);
  });

  it('"imgproxy includes the cachebuster in the cache key"', () => {
    expect(key(req({ cachebuster: 'v2' }))).not.toBe(key(req()));
  });

  it('source URL and processing options are inputs', () => {
    expect(key(req({}, 'https://example.com/b.jpg'))).not.toBe(key(req()));
    expect(key(req({ width: 101 }))).not.toBe(key(req({ width: 100 })));
  });

  it('"Output format": explicit format and the Accept-negotiated prefer/enforce flags are inputs', () => {
    const base = key(req());
    const variants = [{ format: 'webp' as const }, { preferWebp: true }, { preferAvif: true }, { preferJxl: true }, { enforceAvif: true }];
    const keys = variants.map((v) => key(req(v)));
    expect(new Set([base, ...keys]).size).toBe(variants.length + 1);
  });

  it('headers named in IMGPROXY_CACHE_KEY_HEADERS are inputs (names case-insensitive); others are not', () => {
    const r = req();
    const a = key(r, { 'x-tenant': 'a' });
    expect(key(r, { 'x-tenant': 'b' })).not.toBe(a);
    expect(key(r, { 'x-tenant': 'a', 'user-agent': 'other' })).toBe(a);
    expect(key(r, {})).not.toBe(key(r, { 'x-tenant': '' }));
    expect(key(r, { 'accept-language': 'fr' })).not.toBe(key(r, { 'accept-language': 'de' }));
  });

  it('cookies named in IMGPROXY_CACHE_KEY_COOKIES are inputs, parsed from the Cookie header; other cookies are not', () => {
    const r = req();
    const a = key(r, { cookie: 'session=abc; other=1' });
    expect(key(r, { cookie: 'other=2; session=abc' })).toBe(a);
    expect(key(r, { cookie: 'session=xyz; other=1' })).not.toBe(a);
    expect(key(r, { cookie: 'ab=1' })).not.toBe(key(r, { cookie: 'ab=2' }));
    expect(key(r, { cookie: 'unrelated=1' })).toBe(key(r, {}));
  });

  it('without key headers/cookies configured, request headers do not matter', () => {
    const plain = testConfig().cache;
    const r = req();
    expect(transformedKey(r, { cookie: 'session=1', 'x-tenant': 'a' }, plain)).toBe(transformedKey(r, {}, plain));
  });

  it('the key version prefix changes every key', () => {
    const r = req();
    const v2 = testConfig({ PIXPROXY_CACHE_KEY_VERSION: '2' }).cache;
    expect(transformedKey(r, {}, v2)).not.toBe(transformedKey(r, {}, testConfig().cache));
  });

  it('key material is canonical JSON with sorted keys and no signature', () => {
    const m = keyMaterial(req(), {}, cfg);
    expect(m).not.toContain('signedPath');
    expect(m).not.toContain('expires');
    expect(m.indexOf('"cookies"')).toBeLessThan(m.indexOf('"headers"'));
  });

  it('origin key depends on the URL only and differs from any transformed key', () => {
    expect(originKey('https://example.com/a.jpg')).toBe(originKey('https://example.com/a.jpg'));
    expect(originKey('https://example.com/a.jpg')).not.toBe(originKey('https://example.com/b.jpg'));
    expect(originKey('https://example.com/a.jpg')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('parseCookies: first value wins, quotes removed, names case-sensitive', () => {
    const jar = parseCookies('a=1; A=2; a=3; q="x y"; bad; =v');
    expect(jar.get('a')).toBe('1');
    expect(jar.get('A')).toBe('2');
    expect(jar.get('q')).toBe('x y');
    expect(jar.size).toBe(3);
  });
});
