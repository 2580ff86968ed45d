/**
 * End to end through a real server and a real loopback origin: the foundation issue's
 * "done when" (signed fill to WebP, 403 on a wrong signature, 422 on a truncated JPEG),
 * response headers, health, HEAD/OPTIONS, request ids, error statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makeAlphaPng, makePhoto } from '../helpers/images.js';

const KEY = '736563726574';
const SALT = '68656C6C6F';

function signed(path: string): string {
  return `/${sign(path, Buffer.from(KEY, 'hex'), Buffer.from(SALT, 'hex'), 32)}${path}`;
}

let origin: Origin;
let px: RunningApp;

beforeAll(async () => {
  const photo = await makePhoto();
  origin = await startOrigin({
    '/photo.jpg': { body: photo, contentType: 'image/jpeg' },
    '/alpha.png': { body: await makeAlphaPng(), contentType: 'image/png' },
    '/truncated.jpg': { body: photo.subarray(0, Math.floor(photo.length / 3)), contentType: 'image/jpeg' },
    '/text.txt': { body: Buffer.from('hello, not an image'), contentType: 'image/jpeg' },
    '/boom.jpg': { body: Buffer.from('x'), status: 500 },
    '/forbidden.jpg': { body: Buffer.from('x'), status: 403 },
  });
  px = await startApp({ IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT, IMGPROXY_TTL: '3600', PIXPROXY_METRICS_ON_MAIN_PORT: 'true' });
});

afterAll(async () => {
  await px.stop();
  await origin.close();
});

describe('foundation: done-when', () => {
  it('rs:fill:300:200/g:sm … @webp returns a 300×200 WebP', async () => {
    const res = await fetch(px.url + signed(`/rs:fill:300:200/g:sm/plain/${origin.url}/photo.jpg@webp`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const meta = await sharp(body).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([300, 200]);
  });

  it('a wrong signature returns 403 Forbidden', async () => {
    const res = await fetch(`${px.url}/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/rs:fill:300:200/plain/${origin.url}/photo.jpg@webp`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('Forbidden');
    expect(res.headers.get('cache-control')).toBeNull();
  });

  it('a truncated JPEG returns 422', async () => {
    const res = await fetch(px.url + signed(`/rs:fit:100:100/plain/${origin.url}/truncated.jpg`));
    expect(res.status).toBe(422);
  });
});

describe('foundation: responses', () => {
  it('sets Content-Disposition, Cache-Control, CSP, nosniff, ETag and X-Cache', async () => {
    const res = await fetch(px.url + signed(`/w:100/plain/${origin.url}/photo.jpg`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="photo.jpg"');
    expect(res.headers.get('cache-control')).toBe('max-age=3600, public');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('etag')).toMatch(/^".+"$/);
    expect(['MISS', 'HIT-L1', 'HIT-L2']).toContain(res.headers.get('x-cache'));
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(meta.width).toBe(100);
  });

  it('filename and return_attachment shape Content-Disposition', async () => {
    const res = await fetch(px.url + signed(`/w:50/fn:holiday/att:1/plain/${origin.url}/photo.jpg@png`));
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="holiday.png"');
  });

  it('expires caps max-age and a past expires is 404', async () => {
    const soon = Math.floor(Date.now() / 1000) + 100;
    const res = await fetch(px.url + signed(`/w:60/exp:${soon}/plain/${origin.url}/photo.jpg`));
    expect(res.status).toBe(200);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(90);
    expect(maxAge).toBeLessThanOrEqual(100);
    const past = await fetch(px.url + signed(`/w:60/exp:${soon - 1000}/plain/${origin.url}/photo.jpg`));
    expect(past.status).toBe(404);
  });

  it('keeps the alpha channel of a PNG when the output is automatic', async () => {
    const res = await fetch(px.url + signed(`/rs:fit:200:200/plain/${origin.url}/alpha.png`));
    expect(res.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(meta.hasAlpha).toBe(true);
  });

  it('answers 304 to If-None-Match with the result ETag', async () => {
    const path = signed(`/w:70/plain/${origin.url}/photo.jpg`);
    const first = await fetch(px.url + path);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(px.url + path, { headers: { 'If-None-Match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
  });
});

describe('foundation: errors map to imgproxy statuses', () => {
  it.each([
    ['origin 404 is mirrored', '/missing.jpg', 404],
    ['origin 403 is mirrored', '/forbidden.jpg', 403],
    ['origin 5xx becomes 502', '/boom.jpg', 502],
    ['a non-image body is 422', '/text.txt', 422],
  ])('%s', async (_name, file, status) => {
    const res = await fetch(px.url + signed(`/w:10/plain/${origin.url}${file}`));
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('an unknown option is 404 Invalid URL', async () => {
    const res = await fetch(px.url + signed(`/nonsense:1/plain/${origin.url}/photo.jpg`));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('Invalid URL');
  });

  it('loopback sources are refused unless allowed', async () => {
    const strict = await startApp({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'false' });
    try {
      const res = await fetch(`${strict.url}/insecure/w:10/plain/${origin.url}/photo.jpg`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('Invalid source URL');
    } finally {
      await strict.stop();
    }
  });
});

describe('foundation: service routes', () => {
  it('GET /health answers 200', async () => {
    const res = await fetch(`${px.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
  });

  it('HEAD and OPTIONS answer 200 without processing', async () => {
    const before = origin.count('/photo.jpg');
    const head = await fetch(px.url + signed(`/w:33/plain/${origin.url}/photo.jpg`), { method: 'HEAD' });
    const opts = await fetch(px.url + signed(`/w:33/plain/${origin.url}/photo.jpg`), { method: 'OPTIONS' });
    expect(head.status).toBe(200);
    expect(opts.status).toBe(200);
    expect(origin.count('/photo.jpg')).toBe(before);
  });

  it('keeps a well-formed X-Request-ID and replaces a malformed one', async () => {
    const kept = await fetch(`${px.url}/health`, { headers: { 'X-Request-ID': 'abc-123_X' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123_X');
    const replaced = await fetch(`${px.url}/health`, { headers: { 'X-Request-ID': 'bad id!' } });
    expect(replaced.headers.get('x-request-id')).not.toBe('bad id!');
    expect(replaced.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('GET /metrics exposes Prometheus text', async () => {
    const res = await fetch(`${px.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('cache_lookups_total');
  });
});
