import { describe, expect, it } from 'vitest';
import { cacheControl, contentDisposition, ifNoneMatchHits } from '../../../src/http/headers.js';

describe('Cache-Control', () => {
  const now = 1_700_000_000_000;
  it('uses the TTL in imgproxy token order', () => expect(cacheControl(3600, 0, now)).toBe('max-age=3600, public'));
  it('TTL 0 is no-cache', () => expect(cacheControl(0, 0, now)).toBe('no-cache'));
  it('expires caps max-age', () => expect(cacheControl(3600, now / 1000 + 100, now)).toBe('max-age=100, public'));
  it('a later expires does not raise max-age', () => expect(cacheControl(60, now / 1000 + 1000, now)).toBe('max-age=60, public'));
  it('expires with TTL 0 still gives the remaining time', () => expect(cacheControl(0, now / 1000 + 50, now)).toBe('max-age=50, public'));
});

describe('Content-Disposition', () => {
  it('derives the stem from the source URL and the extension from the result', () => {
    expect(contentDisposition('', 'http://x/a/b/cat%20pic.png?x=1', 'webp', false)).toBe('inline; filename="cat pic.webp"');
  });
  it('uses the filename option and attachment', () => {
    expect(contentDisposition('report', 's3://b/k.jpg', 'jpeg', true)).toBe('attachment; filename="report.jpg"');
  });
  it('falls back to image and escapes quotes', () => {
    expect(contentDisposition('', 'http://x/', 'png', false)).toBe('inline; filename="image.png"');
    expect(contentDisposition('a"b', 'http://x/', 'png', false)).toBe('inline; filename="a%22b.png"');
  });
});

describe('If-None-Match', () => {
  it('matches weakly within a list and *', () => {
    expect(ifNoneMatchHits('"x", W/"abc"', '"abc"')).toBe(true);
    expect(ifNoneMatchHits('*', '"abc"')).toBe(true);
    expect(ifNoneMatchHits('"abd"', '"abc"')).toBe(false);
    expect(ifNoneMatchHits(undefined, '"abc"')).toBe(false);
  });
});
