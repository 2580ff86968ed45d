/**
 * Port of imgproxy's server/responsewriter/writer_test.go (TestHeaderWriter): the
 * Cache-Control priority (explicit max-age from `expires` or a fallback's TTL, passthrough of
 * the origin's Cache-Control or future Expires, the TTL, `no-cache`), the canonical Link and
 * the CSP. Upstream drives its response writer; ours are the pure rules both image responses
 * and `raw` use (src/http/headers.ts). The cases about the writer's generic header copying
 * (PassthroughHeaders, CopyFromHeaders) and its Content-Length / Content-Type setters have no
 * counterpart here: see this suite's README.
 * https://github.com/imgproxy/imgproxy/blob/master/server/responsewriter/writer_test.go
 */
import { describe, expect } from 'vitest';
import { canonicalLink, resultCacheControl, SECURITY_HEADERS, type CacheControlInput } from '../../../../../src/http/headers.js';
import { ported } from '../../harness.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
const now = Date.now();
const expires = Date.UTC(2030, 7, 1);
const seconds = (until: number) => Math.floor((until - now) / 1000);
const base: CacheControlInput = { ttl: 0, expiresUnix: 0, passthrough: false, origin: {} };
const cc = (i: Partial<CacheControlInput>) => resultCacheControl({ ...base, ...i }, now);

describe('TestHeaderWriter', () => {
  describe('TestHeaderCases', () => {
    ported('TestHeaderCases/MinimalHeaders', () => {
      expect(cc({})).toBe('no-cache');
      expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CSP);
    });
    ported('TestHeaderCases/PassthroughCacheControl', () => {
      expect(cc({ passthrough: true, ttl: 3600, origin: { cacheControl: 'no-cache, no-store, must-revalidate' } })).toBe('no-cache, no-store, must-revalidate');
    });
    ported('TestHeaderCases/PassthroughCacheControlExpires', () => {
      expect(cc({ passthrough: true, ttl: 3600, origin: { expires: new Date(expires).toUTCString() } })).toBe(`max-age=${seconds(expires)}, public`);
    });
    ported('TestHeaderCases/PassthroughCacheControlExpiredInThePast', () => {
      expect(cc({ passthrough: true, ttl: 3600, origin: { expires: new Date(now - 3600_000).toUTCString() } })).toBe('max-age=3600, public');
    });
    ported('TestHeaderCases/Canonical_ValidURL', () => {
      expect(canonicalLink(true, 'https://example.com/image.jpg')).toBe('<https://example.com/image.jpg>; rel="canonical"');
      expect(cc({ ttl: 3600 })).toBe('max-age=3600, public');
    });
    ported('TestHeaderCases/Canonical_InvalidURL', () => {
      expect(canonicalLink(true, 'local:///image.jpg')).toBeUndefined();
      expect(cc({ ttl: 3600 })).toBe('max-age=3600, public');
    });
    ported('TestHeaderCases/WriteCanonical_Disabled', () => {
      expect(canonicalLink(false, 'https://example.com/image.jpg')).toBeUndefined();
    });
    ported('TestHeaderCases/SetMaxAgeTTL', () => {
      expect(cc({ ttl: 3600, fallbackTtl: 1 })).toBe('max-age=1, public');
    });
    ported('TestHeaderCases/SetMaxAgeExpires', () => {
      expect(cc({ ttl: 2 ** 31 - 1, expiresUnix: expires / 1000 })).toBe(`max-age=${seconds(expires)}, public`);
    });
    ported('TestHeaderCases/SetMaxAgeTTLOutlivesExpires', () => {
      const short = now + 10_000;
      expect(cc({ ttl: 2 ** 31 - 1, fallbackTtl: 600, expiresUnix: short / 1000 })).toBe(`max-age=${seconds(short)}, public`);
    });
    ported('TestHeaderCases/SetMaxAgeFromExpiresZero', () => {
      expect(cc({ ttl: 3600, expiresUnix: 0 })).toBe('max-age=3600, public');
    });
  });
});
