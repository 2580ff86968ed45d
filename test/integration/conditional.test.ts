/**
 * imgproxy's conditional requests through a real server and a real origin: the client's
 * If-None-Match / If-Modified-Since reach the origin on a miss, the origin's 304 is answered
 * 304 (with its validators, without processing or a worker), the origin's ETag and
 * Last-Modified are the result's, a cached result answers the client's validators itself, the
 * busters, and the origin sub-store answering a client's validators from a fresh entry.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHandlerOrigin, type HandlerOrigin } from '../helpers/origin.js';
import { withApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';

const ETAG = '"v1-abc"';
const LM = 'Wed, 21 Oct 2015 07:28:00 GMT';
let photo: Buffer;
let origin: HandlerOrigin;
/** Requests the origin saw, per path. */
const seen = new Map<string, IncomingMessage[]>();

beforeAll(async () => {
  photo = await makePhoto(120, 80);
  // An origin that validates like a real one: 304 when the client's validators match.
  origin = await startHandlerOrigin((req, res) => {
    const path = req.url ?? '/';
    seen.set(path, [...(seen.get(path) ?? []), req]);
    const noEtag = path.startsWith('/no-etag');
    const headers: Record<string, string> = { 'Content-Type': 'image/jpeg', 'Last-Modified': LM, 'Cache-Control': 'max-age=600' };
    if (!noEtag) headers.ETag = ETAG;
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if ((inm !== undefined && !noEtag && inm === ETAG) || (inm === undefined && ims !== undefined && Date.parse(ims) >= Date.parse(LM))) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    res.end(photo);
  });
});
afterAll(async () => origin.close());

/** No result cache (L1 or L2) and no origin sub-store: every request reaches the origin. */
const NO_CACHE = { IMGPROXY_CACHE_USE: 'none', PP_CACHE_MEMORY_MAX_MB: '0' };

const requests = (path: string): IncomingMessage[] => seen.get(path) ?? [];


describe('conditional requests (imgproxy)', () => {
  it('forwards If-None-Match on a miss and answers the origin 304 with 304 and its validators', async () => {
    await withApp(NO_CACHE, async (px) => {
      const res = await fetch(`${px.url}/insecure/w:30/plain/${origin.url}/a.jpg`, { headers: { 'If-None-Match': ETAG } });
      expect(res.status).toBe(304);
      expect(res.headers.get('etag')).toBe(ETAG);
      expect(res.headers.get('last-modified')).toBe(LM);
      expect(res.headers.get('cache-control')).toBe('max-age=31536000, public');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(requests('/a.jpg').map((r) => r.headers['if-none-match'])).toEqual([ETAG]);
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    });
  });

  it('a result carries the origin ETag and Last-Modified; a hit answers If-None-Match and If-Modified-Since itself', async () => {
    await withApp({}, async (px) => {
      const url = `${px.url}/insecure/w:31/plain/${origin.url}/b.jpg`;
      const first = await fetch(url);
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).toBe(ETAG);
      expect(first.headers.get('last-modified')).toBe(LM);
      await first.arrayBuffer();
      await new Promise((r) => setTimeout(r, 30));
      const hit = await fetch(url, { headers: { 'If-None-Match': ETAG } });
      expect(hit.status).toBe(304);
      expect(hit.headers.get('x-cache')).toMatch(/^HIT/);
      const ims = await fetch(url, { headers: { 'If-Modified-Since': LM } });
      expect(ims.status).toBe(304);
      const older = await fetch(url, { headers: { 'If-Modified-Since': 'Tue, 20 Oct 2015 07:28:00 GMT' } });
      expect(older.status).toBe(200);
      // If-None-Match decides when both are sent (RFC 9110 §13.2.2).
      const other = await fetch(url, { headers: { 'If-None-Match': '"other"', 'If-Modified-Since': LM } });
      expect(other.status).toBe(200);
      // The hits did not ask the origin.
      expect(requests('/b.jpg')).toHaveLength(1);
    });
  });

  it('with IMGPROXY_CACHE_CONTROL_PASSTHROUGH the 304 carries the origin Cache-Control', async () => {
    await withApp({ ...NO_CACHE, IMGPROXY_CACHE_CONTROL_PASSTHROUGH: 'true' }, async (px) => {
      const res = await fetch(`${px.url}/insecure/w:32/plain/${origin.url}/c.jpg`, { headers: { 'If-None-Match': ETAG } });
      expect(res.status).toBe(304);
      expect(res.headers.get('cache-control')).toBe('max-age=600');
    });
  });

  it('a source without an ETag gets the result bytes\' ETag, validated by the cache', async () => {
    await withApp({}, async (px) => {
      const url = `${px.url}/insecure/w:33/plain/${origin.url}/no-etag.jpg`;
      const first = await fetch(url);
      const etag = first.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      await first.arrayBuffer();
      await new Promise((r) => setTimeout(r, 30));
      expect((await fetch(url, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    });
  });

  it('the ETag buster wraps the origin ETag and is unwrapped on the way to the origin; a stale buster sends nothing', async () => {
    await withApp({ ...NO_CACHE, IMGPROXY_ETAG_BUSTER: 'b2' }, async (px) => {
      const url = `${px.url}/insecure/w:34/plain/${origin.url}/d.jpg`;
      const first = await fetch(url);
      const busted = `"b2/${Buffer.from(ETAG).toString('base64url')}"`;
      expect(first.headers.get('etag')).toBe(busted);
      await first.arrayBuffer();
      const again = await fetch(url, { headers: { 'If-None-Match': busted } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(busted);
      const stale = await fetch(url, { headers: { 'If-None-Match': `"b1/${Buffer.from(ETAG).toString('base64url')}"`, 'If-Modified-Since': LM } });
      expect(stale.status).toBe(200);
      expect(requests('/d.jpg').map((r) => [r.headers['if-none-match'], r.headers['if-modified-since']])).toEqual([[undefined, undefined], [ETAG, undefined], [undefined, undefined]]);
    });
  });

  it('IMGPROXY_LAST_MODIFIED_BUSTER raises an older Last-Modified and holds back an older If-Modified-Since', async () => {
    const buster = '2020-01-01T00:00:00Z';
    await withApp({ ...NO_CACHE, IMGPROXY_LAST_MODIFIED_BUSTER: buster }, async (px) => {
      const url = `${px.url}/insecure/w:35/plain/${origin.url}/no-etag-e.jpg`;
      const first = await fetch(url, { headers: { 'If-Modified-Since': LM } });
      expect(first.status).toBe(200);
      expect(first.headers.get('last-modified')).toBe('Wed, 01 Jan 2020 00:00:00 GMT');
      expect(requests('/no-etag-e.jpg')[0]?.headers['if-modified-since']).toBeUndefined();
      const later = await fetch(url, { headers: { 'If-Modified-Since': 'Thu, 02 Jan 2020 00:00:00 GMT' } });
      expect(later.status).toBe(304);
      expect(requests('/no-etag-e.jpg')[1]?.headers['if-modified-since']).toBe('Thu, 02 Jan 2020 00:00:00 GMT');
    });
  });

  it('with IMGPROXY_USE_ETAG and IMGPROXY_USE_LAST_MODIFIED off nothing is forwarded and nothing is 304', async () => {
    await withApp({ ...NO_CACHE, IMGPROXY_USE_ETAG: 'false', IMGPROXY_USE_LAST_MODIFIED: 'false' }, async (px) => {
      const res = await fetch(`${px.url}/insecure/w:36/plain/${origin.url}/f.jpg`, { headers: { 'If-None-Match': ETAG, 'If-Modified-Since': LM } });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBeNull();
      expect(requests('/f.jpg').map((r) => [r.headers['if-none-match'], r.headers['if-modified-since']])).toEqual([[undefined, undefined]]);
    });
  });

  it('a fresh origin sub-store entry answers the client\'s validators for a new variant without asking the origin', async () => {
    await withApp({}, async (px) => {
      const first = await fetch(`${px.url}/insecure/w:37/plain/${origin.url}/g.jpg`);
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      await new Promise((r) => setTimeout(r, 50));
      // Another variant: a result-cache miss, but the source is stored and fresh (max-age=600).
      const variant = await fetch(`${px.url}/insecure/w:38/plain/${origin.url}/g.jpg`, { headers: { 'If-None-Match': ETAG } });
      expect(variant.status).toBe(304);
      const other = await fetch(`${px.url}/insecure/w:39/plain/${origin.url}/g.jpg`, { headers: { 'If-None-Match': '"nope"' } });
      expect(other.status).toBe(200);
      expect(requests('/g.jpg')).toHaveLength(1);
    });
  });

  it('an origin 304 to a request we did not make conditional is an error, not a 304', async () => {
    const odd = await startHandlerOrigin((_req, res) => {
      res.writeHead(304, { ETag: ETAG });
      res.end();
    });
    try {
      await withApp(NO_CACHE, async (px) => {
        expect((await fetch(`${px.url}/insecure/w:40/plain/${odd.url}/h.jpg`)).status).toBe(404);
      });
    } finally {
      await odd.close();
    }
  });
});
