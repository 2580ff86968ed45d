import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { isSourceAllowed } from '../../../src/security/allowed-sources.js';

describe('isSourceAllowed', () => {
  it('an empty list allows everything', () => {
    const cfg = loadConfig({});
    expect(isSourceAllowed('http://anything.example/x.png', cfg)).toBe(true);
    expect(isSourceAllowed('local:///x.png', cfg)).toBe(true);
  });

  it('matches prefixes; * matches within one path segment only', () => {
    const cfg = loadConfig({ IMGPROXY_ALLOWED_SOURCES: 'https://*.cdn.dev/, local:///images/, s3://bucket/' });
    expect(isSourceAllowed('https://img.cdn.dev/a.png', cfg)).toBe(true);
    expect(isSourceAllowed('https://a.b.cdn.dev/a.png', cfg)).toBe(true);
    expect(isSourceAllowed('local:///images/x/y.png', cfg)).toBe(true);
    expect(isSourceAllowed('s3://bucket/key', cfg)).toBe(true);
    expect(isSourceAllowed('http://img.cdn.dev/a.png', cfg)).toBe(false);
    expect(isSourceAllowed('https://evil.dev/x.cdn.dev/a.png', cfg)).toBe(false);
    expect(isSourceAllowed('https://img.cdn.dev.evil.com/a.png', cfg)).toBe(false);
    expect(isSourceAllowed('local:///etc/passwd', cfg)).toBe(false);
    expect(isSourceAllowed('s3://bucket2/key', cfg)).toBe(false);
  });

  it('treats regex metacharacters in patterns literally', () => {
    const cfg = loadConfig({ IMGPROXY_ALLOWED_SOURCES: 'https://a.b/(x)/' });
    expect(isSourceAllowed('https://a.b/(x)/1.png', cfg)).toBe(true);
    expect(isSourceAllowed('https://aXb/(x)/1.png', cfg)).toBe(false);
    expect(isSourceAllowed('https://a.b/x/1.png', cfg)).toBe(false);
  });

  it('a pattern without a trailing slash is a plain prefix (documented trap)', () => {
    const cfg = loadConfig({ IMGPROXY_ALLOWED_SOURCES: 'http://example.com' });
    expect(isSourceAllowed('http://example.com.evil.net/', cfg)).toBe(true);
    const safe = loadConfig({ IMGPROXY_ALLOWED_SOURCES: 'http://example.com/' });
    expect(isSourceAllowed('http://example.com.evil.net/', safe)).toBe(false);
    expect(isSourceAllowed('http://example.com/a.png', safe)).toBe(true);
  });
});
