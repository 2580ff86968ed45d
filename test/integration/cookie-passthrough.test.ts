/**
 * IMGPROXY_COOKIE_PASSTHROUGH (with _ALL and IMGPROXY_COOKIE_BASE_URL) through a real server:
 * the client's cookies go to http(s) sources on the request's own host (Host or
 * X-Forwarded-Host) and path scope, or everywhere with _ALL; results fetched with cookies are
 * cached per cookie set only, so one client never gets what another's cookies fetched; /info
 * and raw forward them too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHandlerOrigin, type HandlerOrigin } from '../helpers/origin.js';
import { startApp, withApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';

let photo: Buffer;
let origin: HandlerOrigin;

beforeAll(async () => {
  photo = await makePhoto(60, 40);
  origin = await startHandlerOrigin((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'image/jpeg' });
    res.end(photo);
  });
});
afterAll(async () => origin.close());

/** Cookies the origin saw for requests to `path`. */
const cookiesAt = (path: string) => origin.requests.filter((r) => r.url === path).map((r) => r.headers.cookie);

const withPassthrough = (env: Record<string, string>, fn: (px: RunningApp) => Promise<void>) => withApp({ IMGPROXY_COOKIE_PASSTHROUGH: 'true', ...env }, fn);

describe('IMGPROXY_COOKIE_PASSTHROUGH', () => {
  it('forwards the cookies to sources on the request host only (Host, then X-Forwarded-Host)', async () => {
    await withPassthrough({}, async (px) => {
      const local = `http://localhost:${origin.port}`;
      // The client asks 127.0.0.1: its cookies belong to that host, whatever the port.
      expect((await fetch(`${px.url}/insecure/w:10/plain/${origin.url}/host-a.jpg`, { headers: { Cookie: 'sid=1; theme=dark' } })).status).toBe(200);
      expect((await fetch(`${px.url}/insecure/w:10/plain/${local}/host-b.jpg`, { headers: { Cookie: 'sid=1' } })).status).toBe(200);
      expect(cookiesAt('/host-a.jpg')).toEqual(['sid=1; theme=dark']);
      expect(cookiesAt('/host-b.jpg')).toEqual([undefined]);
      // Behind a proxy that names the public host.
      await fetch(`${px.url}/insecure/w:10/plain/${local}/host-c.jpg`, { headers: { Cookie: 'sid=2', 'X-Forwarded-Host': 'localhost' } });
      expect(cookiesAt('/host-c.jpg')).toEqual(['sid=2']);
    });
  });

  it('caches what cookies fetched per cookie set: another client asks the origin itself', async () => {
    await withPassthrough({}, async (px) => {
      const url = `${px.url}/insecure/w:11/plain/${origin.url}/private.jpg`;
      const a = await fetch(url, { headers: { Cookie: 'sid=alice' } });
      expect(a.headers.get('x-cache')).toBe('MISS');
      await a.arrayBuffer();
      await new Promise((r) => setTimeout(r, 30));
      const b = await fetch(url, { headers: { Cookie: 'sid=bob' } });
      expect(b.headers.get('x-cache')).toBe('MISS');
      const anonymous = await fetch(url);
      expect(anonymous.headers.get('x-cache')).toBe('MISS');
      await Promise.all([b.arrayBuffer(), anonymous.arrayBuffer()]);
      await new Promise((r) => setTimeout(r, 30));
      expect((await fetch(url, { headers: { Cookie: 'sid=alice' } })).headers.get('x-cache')).toMatch(/^HIT/);
      expect(cookiesAt('/private.jpg')).toEqual(['sid=alice', 'sid=bob', undefined]);
    });
  });

  it('IMGPROXY_COOKIE_BASE_URL scopes them to its host and directory', async () => {
    await withPassthrough({ IMGPROXY_COOKIE_BASE_URL: `http://127.0.0.1/images/` }, async (px) => {
      await fetch(`${px.url}/insecure/w:12/plain/${origin.url}/images/in.jpg`, { headers: { Cookie: 'sid=3', Host: 'elsewhere.example' } });
      await fetch(`${px.url}/insecure/w:12/plain/${origin.url}/imagesx/out.jpg`, { headers: { Cookie: 'sid=3' } });
      await fetch(`${px.url}/insecure/w:12/plain/${origin.url}/other/out.jpg`, { headers: { Cookie: 'sid=3' } });
      expect(cookiesAt('/images/in.jpg')).toEqual(['sid=3']);
      expect(cookiesAt('/imagesx/out.jpg')).toEqual([undefined]);
      expect(cookiesAt('/other/out.jpg')).toEqual([undefined]);
    });
  });

  it('IMGPROXY_COOKIE_PASSTHROUGH_ALL forwards them to every http source; /info and raw forward them too', async () => {
    await withPassthrough({ IMGPROXY_COOKIE_PASSTHROUGH_ALL: 'true' }, async (px) => {
      const local = `http://localhost:${origin.port}`;
      await fetch(`${px.url}/insecure/w:13/plain/${local}/all.jpg`, { headers: { Cookie: 'sid=4' } });
      expect(cookiesAt('/all.jpg')).toEqual(['sid=4']);
      expect((await fetch(`${px.url}/info/insecure/plain/${local}/info.jpg`, { headers: { Cookie: 'sid=5' } })).status).toBe(200);
      expect(cookiesAt('/info.jpg')).toEqual(['sid=5']);
      expect((await fetch(`${px.url}/insecure/raw:1/plain/${local}/raw.jpg`, { headers: { Cookie: 'sid=6' } })).status).toBe(200);
      expect(cookiesAt('/raw.jpg')).toEqual(['sid=6']);
    });
  });

  it('off by default: no cookie reaches a source', async () => {
    const px = await startApp({});
    try {
      await fetch(`${px.url}/insecure/w:14/plain/${origin.url}/off.jpg`, { headers: { Cookie: 'sid=7' } });
      expect(cookiesAt('/off.jpg')).toEqual([undefined]);
    } finally {
      await px.stop();
    }
  });
});
