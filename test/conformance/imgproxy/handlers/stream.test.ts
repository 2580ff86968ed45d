/**
 * Port of imgproxy's handlers/stream/handler_test.go (TestHandler): the `raw` option streams
 * the source through — its type, length, validators and ranges come back, the client's
 * If-None-Match, Accept-Encoding and Range go to the origin, with imgproxy's Cache-Control
 * (TTL, passthrough, `expires`), Content-Disposition, CSP, canonical Link, the origin's error
 * status and cookie passthrough. Upstream calls the handler with a recorder; here every case
 * is a `raw:1` request to a real server, with a loopback origin.
 * https://github.com/imgproxy/imgproxy/blob/master/handlers/stream/handler_test.go
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startHandlerOrigin, type HandlerOrigin } from '../../../helpers/origin.js';
import { fixturesRoot } from '../fixtures.js';
import { get, ported, serverPool } from '../harness.js';

let png: Buffer;
interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer;
}
let answer: Answer = {};
let seen: IncomingMessage | undefined;
let origin: HandlerOrigin;

beforeAll(async () => {
  png = readFileSync(join(await fixturesRoot(), 'test1.png'));
  origin = await startHandlerOrigin((req, res) => {
    seen = req;
    res.writeHead(answer.status ?? 200, answer.headers ?? {});
    res.end(answer.body ?? png);
  });
}, 300_000);
afterAll(async () => origin.close());

const servers = serverPool(() => ({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' }));
let n = 0;
/** A raw request for the origin (a fresh path each time: nothing is cached, but logs stay readable). */
async function stream(a: Answer, opts: { env?: Record<string, string>; headers?: Record<string, string>; options?: string; path?: string } = {}) {
  answer = a;
  seen = undefined;
  const path = opts.path ?? `/img${n++}`;
  return get(await servers.get(opts.env), `/unsafe/raw:1${opts.options ?? ''}/plain/${origin.url}${path}`, opts.headers);
}
const maxAge = (cc: string | null) => Number(/max-age=(\d+)/.exec(cc ?? '')?.[1] ?? 0);

describe('TestHandler', () => {
  ported('TestHandlerBasicRequest', async () => {
    const r = await stream({ headers: { 'Content-Type': 'image/png' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.body.equals(png)).toBe(true);
  });

  ported('TestHandlerResponseHeadersPassthrough', async () => {
    const r = await stream({
      headers: { 'Content-Type': 'image/png', 'Content-Length': String(png.length), 'Accept-Ranges': 'bytes', ETag: 'etag', 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.headers.get('content-length')).toBe(String(png.length));
    expect(r.headers.get('accept-ranges')).toBe('bytes');
    expect(r.headers.get('etag')).toBe('etag');
    expect(r.headers.get('last-modified')).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
  });

  ported('TestHandlerRequestHeadersPassthrough', async () => {
    const etag = '"test-etag-123"';
    answer = { headers: { ETag: etag } };
    // Over node:http: fetch would add `identity` to Accept-Encoding next to a Range.
    const app = await servers.get();
    const r = await new Promise<{ status: number; etag: string | undefined }>((resolve, reject) => {
      const req = httpRequest(`${app.url}/unsafe/raw:1/plain/${origin.url}/img${n++}`, { headers: { 'If-None-Match': etag, 'Accept-Encoding': 'gzip', Range: 'bytes=*' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(seen?.headers['if-none-match']).toBe(etag);
    expect(seen?.headers['accept-encoding']).toBe('gzip');
    expect(seen?.headers.range).toBe('bytes=*');
    expect(r.status).toBe(200);
    expect(r.etag).toBe(etag);
  });

  ported('TestHandlerContentDisposition', async () => {
    const r = await stream({ headers: { 'Content-Type': 'image/png' } }, { options: '/fn:custom_name/att:1', path: '/test.png' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toContain('custom_name.png');
    expect(r.headers.get('content-disposition')).toContain('attachment');
  });

  describe('TestHandlerCacheControl', () => {
    const env = (passthrough: boolean) => ({ IMGPROXY_CACHE_CONTROL_PASSTHROUGH: String(passthrough), IMGPROXY_TTL: '4242' });
    const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toUTCString();
    const exp = (s: number) => `/exp:${Math.floor(Date.now() / 1000) + s}`;
    const near = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(60);

    ported('TestHandlerCacheControl/Passthrough', async () => {
      const r = await stream({ headers: { 'Cache-Control': 'max-age=3600, public' } }, { env: env(true) });
      expect(r.headers.get('cache-control')).toBe('max-age=3600, public');
    });
    ported('TestHandlerCacheControl/ExpiresPassthrough', async () => {
      const r = await stream({ headers: { Expires: inSeconds(3600) } }, { env: env(true) });
      expect(r.headers.get('expires')).toBeNull();
      near(maxAge(r.headers.get('cache-control')), 3600);
    });
    ported('TestHandlerCacheControl/PassthroughDisabled', async () => {
      const r = await stream({ headers: { 'Cache-Control': 'max-age=3600, public' } }, { env: env(false) });
      expect(maxAge(r.headers.get('cache-control'))).toBe(4242);
    });
    ported('TestHandlerCacheControl/WithProcessingOptionsExpires', async () => {
      const r = await stream({}, { env: env(false), options: exp(3600) });
      near(maxAge(r.headers.get('cache-control')), 3600);
    });
    ported('TestHandlerCacheControl/ProcessingOptionsOverridesOrigin', async () => {
      const r = await stream({ headers: { 'Cache-Control': 'max-age=7200, public' } }, { env: env(true), options: exp(1800) });
      near(maxAge(r.headers.get('cache-control')), 1800);
    });
    ported('TestHandlerCacheControl/BothHeadersPassthroughEnabled', async () => {
      const r = await stream({ headers: { 'Cache-Control': 'max-age=1800, public', Expires: inSeconds(3600) } }, { env: env(true) });
      near(maxAge(r.headers.get('cache-control')), 1800);
      expect(r.headers.get('expires')).toBeNull();
    });
    ported('TestHandlerCacheControl/ProcessingOptionsOverridesBothOriginHeaders', async () => {
      const r = await stream({ headers: { 'Cache-Control': 'max-age=7200, public', Expires: inSeconds(7200) } }, { env: env(true), options: exp(2700) });
      near(maxAge(r.headers.get('cache-control')), 2700);
      expect(r.headers.get('expires')).toBeNull();
    });
    ported('TestHandlerCacheControl/NoOriginHeaders', async () => {
      const r = await stream({}, { env: env(false) });
      expect(maxAge(r.headers.get('cache-control'))).toBe(4242);
    });
  });

  ported('TestHandlerSecurityHeaders', async () => {
    const r = await stream({ headers: { 'Content-Type': 'image/png' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox");
  });

  ported('TestHandlerErrorResponse', async () => {
    const r = await stream({ status: 404, body: Buffer.from('Not Found') });
    expect(r.status).toBe(404);
  });

  // Upstream's request is for example.com and its origin is 127.0.0.1, so its check (made
  // only when a cookie arrives) passes whether or not one does. Here the client asks
  // 127.0.0.1 too, so the cookie is scoped to the origin's host and must arrive.
  ported('TestHandlerCookiePassthrough', async () => {
    const r = await stream({ headers: { 'Content-Type': 'image/png' } }, { env: { IMGPROXY_COOKIE_PASSTHROUGH: 'true' }, headers: { Cookie: 'test_cookie=test_value' } });
    expect(r.status).toBe(200);
    expect(seen?.headers.cookie).toBe('test_cookie=test_value');
  });

  ported('TestHandlerCanonicalHeader', async () => {
    for (const on of [true, false]) {
      const r = await stream({ headers: { 'Content-Type': 'image/png' } }, { env: { IMGPROXY_SET_CANONICAL_HEADER: String(on) }, path: '/canonical.png' });
      expect(r.status).toBe(200);
      if (on) expect(r.headers.get('link')).toContain(`<${origin.url}/canonical.png>; rel="canonical"`);
      else expect(r.headers.get('link')).toBeNull();
    }
  });
});
