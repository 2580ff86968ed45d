/**
 * imgproxy's response-header variables through a real server: IMGPROXY_USE_ETAG,
 * IMGPROXY_ETAG_BUSTER, IMGPROXY_USE_LAST_MODIFIED, IMGPROXY_CACHE_CONTROL_PASSTHROUGH,
 * IMGPROXY_SET_CANONICAL_HEADER — on a miss and on a cache hit alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';

const LM = 'Wed, 21 Oct 2026 07:28:00 GMT';
let origin: Origin;

beforeAll(async () => {
  const body = await makePhoto(300, 200);
  origin = await startOrigin({
    '/cc.jpg': { body, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=120, public', 'Last-Modified': LM } },
    '/exp.jpg': { body, contentType: 'image/jpeg', headers: { Expires: new Date(Date.now() + 600_000).toUTCString() } },
  });
});
afterAll(async () => origin.close());

describe('response header variables', () => {
  it('defaults: ETag on, Last-Modified passed through, TTL Cache-Control, no Link', async () => {
    const px = await startApp({ IMGPROXY_TTL: '3600' });
    try {
      for (const expected of ['MISS', 'HIT-L1']) {
        const res = await fetch(`${px.url}/insecure/w:40/plain/${origin.url}/cc.jpg`);
        expect(res.headers.get('x-cache')).toBe(expected);
        expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
        expect(res.headers.get('last-modified')).toBe(LM);
        expect(res.headers.get('cache-control')).toBe('max-age=3600, public');
        expect(res.headers.get('link')).toBeNull();
        await new Promise((r) => setTimeout(r, 30));
      }
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_USE_ETAG=false and IMGPROXY_USE_LAST_MODIFIED=false send neither and never 304', async () => {
    const px = await startApp({ IMGPROXY_USE_ETAG: 'false', IMGPROXY_USE_LAST_MODIFIED: 'false' });
    try {
      const res = await fetch(`${px.url}/insecure/w:41/plain/${origin.url}/cc.jpg`, { headers: { 'If-None-Match': '*' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBeNull();
      expect(res.headers.get('last-modified')).toBeNull();
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_ETAG_BUSTER changes every ETag (imgproxy\'s `"<buster>/<base64url(ETag)>"`), and 304 follows the busted one', async () => {
    const plain = await startApp({});
    const busted = await startApp({ IMGPROXY_ETAG_BUSTER: 'v2' });
    try {
      const a = (await fetch(`${plain.url}/insecure/w:42/plain/${origin.url}/cc.jpg`)).headers.get('etag') ?? '';
      const b = (await fetch(`${busted.url}/insecure/w:42/plain/${origin.url}/cc.jpg`)).headers.get('etag') ?? '';
      expect(a).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(b).toBe(`"v2/${Buffer.from(a).toString('base64url')}"`);
      expect((await fetch(`${busted.url}/insecure/w:42/plain/${origin.url}/cc.jpg`, { headers: { 'If-None-Match': b } })).status).toBe(304);
      expect((await fetch(`${busted.url}/insecure/w:42/plain/${origin.url}/cc.jpg`, { headers: { 'If-None-Match': a } })).status).toBe(200);
    } finally {
      await plain.stop();
      await busted.stop();
    }
  });

  it('IMGPROXY_CACHE_CONTROL_PASSTHROUGH uses the origin Cache-Control, or its Expires, on misses and hits', async () => {
    const px = await startApp({ IMGPROXY_CACHE_CONTROL_PASSTHROUGH: 'true' });
    try {
      for (let i = 0; i < 2; i++) {
        expect((await fetch(`${px.url}/insecure/w:43/plain/${origin.url}/cc.jpg`)).headers.get('cache-control')).toBe('max-age=120, public');
        const exp = (await fetch(`${px.url}/insecure/w:43/plain/${origin.url}/exp.jpg`)).headers.get('cache-control') ?? '';
        const age = Number(/max-age=(\d+)/.exec(exp)?.[1]);
        expect(age).toBeGreaterThan(500);
        expect(age).toBeLessThanOrEqual(600);
        await new Promise((r) => setTimeout(r, 30));
      }
      const soon = Math.floor(Date.now() / 1000) + 30;
      const capped = await fetch(`${px.url}/insecure/w:43/exp:${soon}/plain/${origin.url}/cc.jpg`);
      expect(Number(/max-age=(\d+)/.exec(capped.headers.get('cache-control') ?? '')?.[1])).toBeLessThanOrEqual(30);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_SET_CANONICAL_HEADER sends Link rel=canonical for http sources', async () => {
    const px = await startApp({ IMGPROXY_SET_CANONICAL_HEADER: 'true' });
    try {
      const res = await fetch(`${px.url}/insecure/w:44/plain/${origin.url}/cc.jpg`);
      expect(res.headers.get('link')).toBe(`<${origin.url}/cc.jpg>; rel="canonical"`);
    } finally {
      await px.stop();
    }
  });
});
