import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../../src/config/index.js';
import { createHttpSource, type HttpSource, type HttpSourceOptions } from '../../../src/sources/http.js';
import { VERSION } from '../../../src/version.js';
import { rejection } from '../../helpers/errors.js';
import { startHandlerOrigin, type HandlerOrigin, type OriginHandler } from '../../helpers/origin.js';

const LOOPBACK: Env = { IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function origin(handler: OriginHandler): Promise<HandlerOrigin> {
  const o = await startHandlerOrigin(handler);
  cleanups.push(() => o.close());
  return o;
}

function source(env: Env = LOOPBACK, opts: HttpSourceOptions = {}): HttpSource {
  const s = createHttpSource(loadConfig({ ...env }), opts);
  cleanups.push(() => s.close());
  return s;
}

const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe('http source: a working fetch', () => {
  it('returns the body, lower-cased caching headers and validators, and sends the User-Agent', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'image/png',
        'Cache-Control': 'public, max-age=60',
        ETag: '"abc"',
        'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
        Vary: 'Accept',
        'X-Other': 'dropped',
      });
      res.end(PNG_BYTES);
    });
    const s = source({ ...LOOPBACK, IMGPROXY_USER_AGENT: 'pixproxy-test/7' });
    const res = await s.fetch(`${o.url}/a.png?x=1#frag`, { maxBytes: 0 });
    expect(res.status).toBe(200);
    expect(res.body.equals(PNG_BYTES)).toBe(true);
    expect(res.contentType).toBe('image/png');
    expect(res.etag).toBe('"abc"');
    expect(res.lastModified).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers.vary).toBe('Accept');
    expect(res.headers['x-other']).toBeUndefined();
    expect(o.requests[0]?.headers['user-agent']).toBe('pixproxy-test/7');
    expect(o.requests[0]?.url).toBe('/a.png?x=1');
  });

  it('decodes a gzip body the origin sends anyway', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gzipSync(PNG_BYTES));
    });
    const res = await source().fetch(`${o.url}/`, { maxBytes: 0 });
    expect(res.body.equals(PNG_BYTES)).toBe(true);
  });

  it.each([
    ['gzip, gzip', (b: Buffer) => gzipSync(gzipSync(b))],
    ['x-gzip', (b: Buffer) => gzipSync(b)],
    ['GZIP', (b: Buffer) => gzipSync(b)],
    ['deflate', (b: Buffer) => deflateSync(b)],
    ['br', (b: Buffer) => brotliCompressSync(b)],
    ['gzip, br', (b: Buffer) => brotliCompressSync(gzipSync(b))],
    ['identity, gzip', (b: Buffer) => gzipSync(b)],
    ['identity', (b: Buffer) => b],
  ])('undoes Content-Encoding: %s, last coding first (RFC 9110 §8.4)', async (encoding, encode) => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': encoding });
      res.end(encode(PNG_BYTES));
    });
    const res = await source().fetch(`${o.url}/`, { maxBytes: 0 });
    expect(res.body.equals(PNG_BYTES)).toBe(true);
  });

  it('passes a body with a coding it does not know through untouched, as imgproxy does', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip, zstd' });
      res.end(PNG_BYTES);
    });
    const res = await source().fetch(`${o.url}/`, { maxBytes: 0 });
    expect(res.body.equals(PNG_BYTES)).toBe(true);
  });

  it('refuses more than five stacked codings (curl\'s bound) with a 422, and corrupt compressed data too', async () => {
    let n = 0;
    const o = await origin((req, res) => {
      n++;
      if (req.url === '/six') {
        let b = PNG_BYTES;
        for (let i = 0; i < 6; i++) b = gzipSync(b);
        res.writeHead(200, { 'Content-Encoding': Array(6).fill('gzip').join(', ') });
        res.end(b);
      } else {
        res.writeHead(200, { 'Content-Encoding': 'gzip' });
        res.end(Buffer.concat([gzipSync(PNG_BYTES).subarray(0, 12), Buffer.alloc(40, 0xff)]));
      }
    });
    const six = await rejection(source().fetch(`${o.url}/six`, { maxBytes: 0 }));
    expect(six.code).toBe('UNSUPPORTED_IMAGE');
    expect(six.message).toContain('6 content codings');
    const corrupt = await rejection(source().fetch(`${o.url}/corrupt`, { maxBytes: 0 }));
    expect(corrupt.code).toBe('UNSUPPORTED_IMAGE');
    expect(corrupt.status).toBe(422);
    expect(n).toBe(2);
  });

  it('sends Connection: close when IMGPROXY_CLIENT_KEEP_ALIVE_TIMEOUT=0', async () => {
    const o = await origin((_req, res) => res.end('x'));
    await source({ ...LOOPBACK, IMGPROXY_CLIENT_KEEP_ALIVE_TIMEOUT: '0' }).fetch(`${o.url}/`, { maxBytes: 0 });
    expect(o.requests[0]?.headers.connection).toBe('close');
  });
});

describe('http source: SSRF guard', () => {
  it('refuses a loopback IP literal by default, before any request', async () => {
    const o = await origin((_req, res) => res.end('secret'));
    const err = await rejection(source({}).fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_ADDRESS_FORBIDDEN');
    expect(err.status).toBe(404);
    expect(o.requests).toHaveLength(0);
  });

  it('refuses an IPv6 loopback literal', async () => {
    const err = await rejection(source({}).fetch('http://[::1]:9/', { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_ADDRESS_FORBIDDEN');
  });

  it('refuses an IPv4-mapped loopback literal even with private addresses allowed', async () => {
    const err = await rejection(source({ IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES: 'true' }).fetch('http://[::ffff:127.0.0.1]:9/', { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_ADDRESS_FORBIDDEN');
    expect(err.message).toContain('IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES');
  });

  it('refuses a hostname that resolves to loopback at connect time (localhost)', async () => {
    const o = await origin((_req, res) => res.end('secret'));
    const err = await rejection(source({}).fetch(`http://localhost:${o.port}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_ADDRESS_FORBIDDEN');
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/localhost resolves to a forbidden address/);
    expect(o.requests).toHaveLength(0);
  });

  it('connects to the address the guard checked, keeping the original Host', async () => {
    const o = await origin((req, res) => res.end(req.headers.host));
    const resolved: string[] = [];
    const s = source(LOOPBACK, {
      resolve: async (hostname) => {
        resolved.push(hostname);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const res = await s.fetch(`http://images.invalid:${o.port}/x`, { maxBytes: 0 });
    expect(res.body.toString()).toBe(`images.invalid:${o.port}`);
    expect(resolved).toEqual(['images.invalid']);
  });

  it('refuses a hostname when any of its addresses is forbidden', async () => {
    const o = await origin((_req, res) => res.end('x'));
    const s = source({}, { resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }] });
    const err = await rejection(s.fetch(`http://mixed.invalid:${o.port}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_ADDRESS_FORBIDDEN');
    expect(err.message).toContain('10.0.0.7');
  });

  it('allows a loopback origin with IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES=true', async () => {
    const o = await origin((_req, res) => res.end('ok'));
    const res = await source(LOOPBACK).fetch(`http://localhost:${o.port}/`, { maxBytes: 0 });
    expect(res.body.toString()).toBe('ok');
  });

  it('a connection refused is SOURCE_CONNECTION', async () => {
    const o = await origin((_req, res) => res.end('x'));
    const url = o.url;
    await o.close();
    const err = await rejection(source().fetch(`${url}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_CONNECTION');
    expect(err.status).toBe(404);
  });
});

describe('http source: redirects', () => {
  function redirector(o: { url: string }, to: (n: number) => string): OriginHandler {
    return (req, res) => {
      const m = /^\/r\/(\d+)$/.exec(req.url ?? '');
      if (m) {
        const n = Number(m[1]);
        res.writeHead(302, { Location: n > 0 ? to(n - 1) : '/final' });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(PNG_BYTES);
      void o;
    };
  }

  it('follows a chain (relative and absolute Locations) up to the limit', async () => {
    const holder = { url: '' };
    const o = await origin(redirector(holder, (n) => (n % 2 ? `/r/${n}` : `${holder.url}/r/${n}`)));
    holder.url = o.url;
    const res = await source({ ...LOOPBACK, IMGPROXY_MAX_REDIRECTS: '3' }).fetch(`${o.url}/r/2`, { maxBytes: 0 });
    expect(res.body.equals(PNG_BYTES)).toBe(true);
    expect(o.requests.map((r) => r.url)).toEqual(['/r/2', '/r/1', '/r/0', '/final']);
  });

  it('more hops than IMGPROXY_MAX_REDIRECTS is SOURCE_REDIRECTS', async () => {
    const o = await origin(redirector({ url: '' }, (n) => `/r/${n}`));
    const err = await rejection(source({ ...LOOPBACK, IMGPROXY_MAX_REDIRECTS: '2' }).fetch(`${o.url}/r/5`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_REDIRECTS');
    expect(err.message).toContain('too many redirects');
    expect(o.requests).toHaveLength(3);
  });

  it('IMGPROXY_MAX_REDIRECTS=0 follows none', async () => {
    const o = await origin(redirector({ url: '' }, (n) => `/r/${n}`));
    const err = await rejection(source({ ...LOOPBACK, IMGPROXY_MAX_REDIRECTS: '0' }).fetch(`${o.url}/r/0`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_REDIRECTS');
    expect(o.requests).toHaveLength(1);
  });

  it('re-checks IMGPROXY_ALLOWED_SOURCES on every hop', async () => {
    const o = await origin((req, res) => {
      if (req.url === '/ok/start') {
        res.writeHead(301, { Location: '/secret/data' });
        res.end();
        return;
      }
      res.end('should not be fetched');
    });
    const s = source({ ...LOOPBACK, IMGPROXY_ALLOWED_SOURCES: `${o.url}/ok/` });
    const err = await rejection(s.fetch(`${o.url}/ok/start`, { maxBytes: 0 }));
    expect(err.code).toBe('INVALID_SOURCE_URL');
    expect(err.message).toContain('redirect');
    expect(o.requests.map((r) => r.url)).toEqual(['/ok/start']);
  });

  it.each(['file:///etc/passwd', 'local:///etc/passwd', 'ftp://127.0.0.1/x', 'gopher://127.0.0.1:6379/_x'])('refuses a redirect to %s', async (location) => {
    const o = await origin((_req, res) => {
      res.writeHead(307, { Location: location });
      res.end();
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_UNREACHABLE');
    expect(err.status).toBe(404);
  });

  it('a redirect hop to a forbidden address is refused by the guard', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_ADDRESS_FORBIDDEN');
    expect(err.message).toContain('link-local');
  });

  it('a redirect without Location is SOURCE_UNREACHABLE', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(302);
      res.end();
    });
    expect((await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }))).code).toBe('SOURCE_UNREACHABLE');
  });
});

describe('http source: origin statuses', () => {
  it.each([
    [404, 'SOURCE_CLIENT_ERROR', 404],
    [403, 'SOURCE_CLIENT_ERROR', 403],
    [410, 'SOURCE_CLIENT_ERROR', 410],
    [500, 'SOURCE_BAD_GATEWAY', 502],
    [503, 'SOURCE_BAD_GATEWAY', 502],
    [204, 'SOURCE_UNREACHABLE', 404],
    [206, 'SOURCE_UNREACHABLE', 404],
  ])('origin %i → %s %i', async (originStatus, code, status) => {
    const o = await origin((_req, res) => {
      res.writeHead(originStatus);
      res.end();
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
  });

  it('forwards conditional headers and maps a 304 to an empty not-modified response', async () => {
    const o = await origin((req, res) => {
      if (req.headers['if-none-match'] === '"v1"' && req.headers['if-modified-since'] === 'Wed, 21 Oct 2015 07:28:00 GMT') {
        res.writeHead(304, { ETag: '"v1"', 'Cache-Control': 'max-age=30' });
        res.end();
        return;
      }
      res.writeHead(200, { ETag: '"v1"' });
      res.end(PNG_BYTES);
    });
    const res = await source().fetch(`${o.url}/`, { maxBytes: 0, ifNoneMatch: '"v1"', ifModifiedSince: 'Wed, 21 Oct 2015 07:28:00 GMT' });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.etag).toBe('"v1"');
    expect(res.headers['cache-control']).toBe('max-age=30');
    const full = await source().fetch(`${o.url}/`, { maxBytes: 0, ifNoneMatch: '"v0"' });
    expect(full.status).toBe(200);
  });

  it('forwards a Range and returns a 206 with its Content-Range and Accept-Ranges', async () => {
    const o = await origin((req, res) => {
      if (req.headers.range === 'bytes=2-5') {
        res.writeHead(206, { 'Content-Range': `bytes 2-5/${PNG_BYTES.length}`, 'Accept-Ranges': 'bytes', 'Content-Type': 'image/png' });
        res.end(PNG_BYTES.subarray(2, 6));
        return;
      }
      res.writeHead(200);
      res.end(PNG_BYTES);
    });
    const res = await source().fetch(`${o.url}/`, { maxBytes: 0, range: 'bytes=2-5' });
    expect(res.status).toBe(206);
    expect(res.body.equals(PNG_BYTES.subarray(2, 6))).toBe(true);
    expect(res.contentRange).toBe(`bytes 2-5/${PNG_BYTES.length}`);
    expect(res.acceptRanges).toBe('bytes');
    // The complete length counts against maxBytes, not the part.
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: PNG_BYTES.length - 1, range: 'bytes=2-5' }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
  });

  it('a 206 without a valid Content-Range, or to a request without Range, is refused', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(206);
      res.end(PNG_BYTES);
    });
    expect((await rejection(source().fetch(`${o.url}/`, { maxBytes: 0, range: 'bytes=0-1' }))).code).toBe('SOURCE_BAD_GATEWAY');
    expect((await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }))).code).toBe('SOURCE_UNREACHABLE');
  });

  it('a 304 to an unconditional request is SOURCE_UNREACHABLE', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(304);
      res.end();
    });
    expect((await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }))).code).toBe('SOURCE_UNREACHABLE');
  });
});

describe('http source: limits', () => {
  it('a stalled origin is SOURCE_TIMEOUT 504 after IMGPROXY_DOWNLOAD_TIMEOUT', async () => {
    const o = await origin(() => {
      /* never answers */
    });
    const started = Date.now();
    const err = await rejection(source({ ...LOOPBACK, IMGPROXY_DOWNLOAD_TIMEOUT: '1' }).fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_TIMEOUT');
    expect(err.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a body that stalls after the headers is SOURCE_TIMEOUT too', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write(Buffer.alloc(10));
    });
    const err = await rejection(source({ ...LOOPBACK, IMGPROXY_DOWNLOAD_TIMEOUT: '1' }).fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_TIMEOUT');
  });

  it('refuses a Content-Length over maxBytes before reading the body', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.end(Buffer.alloc(1000));
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 999 }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    expect(err.status).toBe(422);
    expect(err.message).toContain('Content-Length');
  });

  it('stops a chunked body without length once it passes maxBytes', async () => {
    let written = 0;
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      const timer = setInterval(() => {
        if (res.destroyed || written > 10_000_000) {
          clearInterval(timer);
          res.end();
          return;
        }
        written += 64 * 1024;
        res.write(Buffer.alloc(64 * 1024));
      }, 1);
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 100_000 }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    expect(err.message).not.toContain('Content-Length');
    expect(o.requests[0]?.headers['content-length']).toBeUndefined();
    expect(written).toBeLessThan(10_000_000);
  });

  it('a body of exactly maxBytes passes', async () => {
    const o = await origin((_req, res) => res.end(Buffer.alloc(500, 1)));
    const res = await source().fetch(`${o.url}/`, { maxBytes: 500 });
    expect(res.body.length).toBe(500);
  });

  it('caps the decoded size of a compressed body (gzip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(5_000_000));
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': String(bomb.length) });
      res.end(bomb);
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 100_000 }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
  });

  it('a body cut before its Content-Length is a 4xx, never a 500', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(100), () => res.socket?.destroy());
    });
    const err = await rejection(source().fetch(`${o.url}/`, { maxBytes: 0 }));
    expect(['SOURCE_BODY_INCOMPLETE', 'SOURCE_CONNECTION']).toContain(err.code);
    expect([422, 404]).toContain(err.status);
  });

  it('the caller signal cancels the download', async () => {
    const o = await origin(() => {
      /* never answers */
    });
    const ac = new AbortController();
    const p = source().fetch(`${o.url}/`, { maxBytes: 0, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const err = await rejection(p);
    expect(err.code).toBe('CANCELLED');
  });
});

/** Reads a stream to the end: its bytes, or the error it failed with. */
async function drainStream(body: NodeJS.ReadableStream): Promise<{ bytes: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    return { bytes: Buffer.concat(chunks) };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

describe('http source: stream()', () => {
  it('returns the status, validators, Content-Length and the body as a stream', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png', ETag: '"s"', 'Content-Length': String(PNG_BYTES.length), 'Accept-Ranges': 'bytes' });
      res.end(PNG_BYTES);
    });
    const res = await source().stream(`${o.url}/a.png`, { maxBytes: 0 });
    expect(res.status).toBe(200);
    expect(res.etag).toBe('"s"');
    expect(res.acceptRanges).toBe('bytes');
    expect(res.contentLength).toBe(PNG_BYTES.length);
    const { bytes, error } = await drainStream(res.body);
    expect(error).toBeUndefined();
    expect(bytes.equals(PNG_BYTES)).toBe(true);
  });

  it('refuses a Content-Length over maxBytes before any body, as fetch does', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.end(Buffer.alloc(1000));
    });
    const err = await rejection(source().stream(`${o.url}/big`, { maxBytes: 100 }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
  });

  it('errors mid-stream with SOURCE_TOO_BIG for a chunked body past maxBytes, and closes the upstream', async () => {
    let upstreamClosed = false;
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.once('close', () => (upstreamClosed = !res.writableFinished));
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 5);
      res.once('close', () => clearInterval(timer));
    });
    const res = await source().stream(`${o.url}/endless`, { maxBytes: 256 * 1024 });
    expect(res.contentLength).toBeUndefined();
    const { bytes, error } = await drainStream(res.body);
    expect(error).toMatchObject({ code: 'SOURCE_TOO_BIG' });
    expect(bytes.length).toBeLessThanOrEqual(256 * 1024);
    for (let i = 0; i < 100 && !upstreamClosed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(upstreamClosed).toBe(true);
  });

  it('a body cut before its Content-Length errors the stream instead of ending it short', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 20);
    });
    const res = await source().stream(`${o.url}/cut`, { maxBytes: 0 });
    const { error } = await drainStream(res.body);
    expect(error).toMatchObject({ code: 'SOURCE_BODY_INCOMPLETE' });
  });

  it('keeps IMGPROXY_DOWNLOAD_TIMEOUT over the whole transfer: a body that stalls errors with SOURCE_TIMEOUT', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(10));
    });
    const res = await source({ ...LOOPBACK, IMGPROXY_DOWNLOAD_TIMEOUT: '1' }).stream(`${o.url}/stall`, { maxBytes: 0 });
    const { error } = await drainStream(res.body);
    expect(error).toMatchObject({ code: 'SOURCE_TIMEOUT' });
  });

  it('the caller\'s signal cancels a stream in progress', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(10));
    });
    const controller = new AbortController();
    const res = await source().stream(`${o.url}/slow`, { maxBytes: 0, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const { error } = await drainStream(res.body);
    expect(error).toMatchObject({ code: 'CANCELLED' });
  });

  it('passes a 304 through with an empty body', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(304, { ETag: '"v"' });
      res.end();
    });
    const res = await source().stream(`${o.url}/a`, { maxBytes: 0, ifNoneMatch: '"v"' });
    expect(res.status).toBe(304);
    expect(res.etag).toBe('"v"');
    expect((await drainStream(res.body)).bytes.length).toBe(0);
  });
});

describe('http source: imgproxy parity', () => {
  it('replaces %current_version in IMGPROXY_USER_AGENT with pixproxy\'s version (the default is pixproxy/%current_version)', async () => {
    const o = await origin((_req, res) => res.end(PNG_BYTES));
    await source({ ...LOOPBACK, IMGPROXY_USER_AGENT: 'img/%current_version (x)' }).fetch(`${o.url}/a.png`, { maxBytes: 0 });
    await source().fetch(`${o.url}/b.png`, { maxBytes: 0 });
    expect(o.requests[0]?.headers['user-agent']).toBe(`img/${VERSION} (x)`);
    expect(o.requests[1]?.headers['user-agent']).toBe(`pixproxy/${VERSION}`);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('takes a 206 nobody asked for as the whole file only when its Content-Range covers it (imgproxy checkPartialContentResponse)', async () => {
    let range = '';
    const o = await origin((_req, res) => {
      res.writeHead(206, { 'Content-Range': range, 'Content-Length': String(PNG_BYTES.length) });
      res.end(PNG_BYTES);
    });
    const s = source();
    const n = PNG_BYTES.length;
    for (const whole of [`bytes 0-${n - 1}/${n}`, `bytes 0-${n - 1}/*`]) {
      range = whole;
      const res = await s.fetch(`${o.url}/w.png`, { maxBytes: 0 });
      expect(res.status).toBe(200);
      expect(res.body.equals(PNG_BYTES)).toBe(true);
    }
    for (const part of [`bytes 0-${n - 2}/${n}`, `bytes 1-${n - 1}/${n}`, 'bytes 0-0/0', `bytes */${n}`, 'nonsense']) {
      range = part;
      expect(await rejection(s.fetch(`${o.url}/p.png`, { maxBytes: 0 }))).toMatchObject({ code: 'SOURCE_UNREACHABLE', status: 404 });
    }
  });

  it('sends the forwarded Cookie to the source and to redirects on its host or a subdomain, not elsewhere', async () => {
    const target = await origin((_req, res) => res.end(PNG_BYTES));
    const o = await origin((req, res) => {
      const to = req.url === '/same' ? '/final' : req.url === '/away' ? `http://localhost:${target.port}/final` : null;
      if (to) {
        res.writeHead(302, { Location: to });
        res.end();
      } else res.end(PNG_BYTES);
    });
    const s = source();
    await s.fetch(`${o.url}/same`, { maxBytes: 0, cookie: 'a=1; b=2' });
    expect(o.requests.map((r) => r.headers.cookie)).toEqual(['a=1; b=2', 'a=1; b=2']);
    await s.fetch(`${o.url}/away`, { maxBytes: 0, cookie: 'a=1' });
    expect(o.requests[2]?.headers.cookie).toBe('a=1');
    expect(target.requests.map((r) => r.headers.cookie)).toEqual([undefined]);
  });
});
