/**
 * The fallback image, one mechanism configured by both dialects (IMGPROXY_FALLBACK_IMAGE_* and
 * PP_FALLBACK_IMAGE_* are one setting), each answering with its peer's rules:
 * imgproxy processes it with the request's options for any download failure
 * (handlers/processing/request_methods.go, https://github.com/imgproxy/imgproxy); PreviewProxy
 * serves it as it is for a missing source, a timeout or too many redirects, with
 * `X-Fallback: true` and `public, max-age=<PP_FALLBACK_IMAGE_TTL or PP_TTL>`
 * (src/modules/proxy/controller.rs, https://github.com/ViGrise/previewproxy). Either way it
 * is cached under the request's key for its TTL.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
let fallback: Buffer;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));
const image = async (res: Response): Promise<{ width: number | undefined; height: number | undefined; format: string | undefined }> => {
  const m = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  return { width: m.width, height: m.height, format: m.format };
};

beforeAll(async () => {
  fallback = await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 250, g: 10, b: 10 } } }).png().toBuffer();
  origin = await startOrigin({
    '/p.jpg': { body: await makePhoto(80, 60), contentType: 'image/jpeg' },
    '/forbidden.jpg': { body: Buffer.from('no'), status: 403 },
  });
});
afterAll(async () => origin.close());

describe('PreviewProxy routes', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PP_FALLBACK_IMAGE_DATA: fallback.toString('base64'), PP_TTL: '120' });
  });
  afterAll(async () => px.stop());

  it('a missing source answers the fallback as it is: 200, X-Fallback, max-age PP_TTL; then from the cache', async () => {
    const url = `${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/missing.jpg`)}&w=10`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fallback')).toBe('true');
    expect(res.headers.get('cache-control')).toBe('public, max-age=120');
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(await image(res)).toEqual({ width: 40, height: 20, format: 'png' });
    await settle();
    const again = await fetch(url);
    expect(again.headers.get('x-cache')).toBe('HIT-L1');
    expect(again.headers.get('x-fallback')).toBe('true');
    expect(origin.count('/missing.jpg')).toBe(1);
  });

  it('other failures are errors, as in PreviewProxy (an origin 403 here)', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/forbidden.jpg`)}`);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-fallback')).toBeNull();
  });

  it('a source that works is not affected, with PreviewProxy\'s Cache-Control', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}&w=20`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fallback')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expect((await image(res)).width).toBe(20);
  });
});

describe('PP_FALLBACK_IMAGE_HTTP_CODE and _TTL', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PP_FALLBACK_IMAGE_DATA: fallback.toString('base64'), PP_FALLBACK_IMAGE_HTTP_CODE: '0', PP_FALLBACK_IMAGE_TTL: '30' });
  });
  afterAll(async () => px.stop());

  it('0 answers the fallback with the error\'s own status, in the route\'s dialect', async () => {
    const pp = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/gone.jpg`)}`);
    expect(pp.status).toBe(404);
    expect(pp.headers.get('cache-control')).toBe('public, max-age=30');
    expect((await image(pp)).width).toBe(40);
    // imgproxy mirrors an origin's 4xx (PreviewProxy would not use the fallback for it).
    const ip = await fetch(`${px.url}/insecure/plain/${origin.url}/forbidden.jpg`);
    expect(ip.status).toBe(403);
    expect(ip.headers.get('cache-control')).toBe('max-age=30, public');
  });
});

describe('imgproxy routes', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ IMGPROXY_FALLBACK_IMAGE_DATA: fallback.toString('base64'), IMGPROXY_FALLBACK_IMAGE_HTTP_CODE: '203', IMGPROXY_FALLBACK_IMAGE_TTL: '60' });
  });
  afterAll(async () => px.stop());

  it('any download failure answers the fallback processed with the request\'s options', async () => {
    for (const file of ['/missing.jpg', '/forbidden.jpg']) {
      const res = await fetch(`${px.url}/insecure/rs:fit:20:20/plain/${origin.url}${file}@webp`);
      expect(res.status).toBe(203);
      expect(res.headers.get('cache-control')).toBe('max-age=60, public');
      expect(res.headers.get('x-fallback')).toBeNull();
      expect(await image(res)).toEqual({ width: 20, height: 10, format: 'webp' });
    }
  });

  it('is cached under the request\'s key: the failing origin is not asked again', async () => {
    const url = `${px.url}/insecure/rs:fit:16:16/plain/${origin.url}/nothing.jpg`;
    expect((await fetch(url)).status).toBe(203);
    await settle();
    const again = await fetch(url);
    expect(again.status).toBe(203);
    expect(again.headers.get('x-cache')).toBe('HIT-L1');
    expect(origin.count('/nothing.jpg')).toBe(1);
  });
});

describe('startup', () => {
  it('a fallback that is not an image stops startup', async () => {
    await expect(startApp({ PP_FALLBACK_IMAGE_DATA: Buffer.from('hello').toString('base64') })).rejects.toThrow(/expected an image/);
    await expect(startApp({ IMGPROXY_FALLBACK_IMAGE_PATH: '/nonexistent/fallback.png' })).rejects.toThrow(/cannot read the fallback image/);
  });

  it('PP_FALLBACK_IMAGE_URL is fetched once at startup', async () => {
    const o = await startOrigin({ '/fb.png': { body: fallback, contentType: 'image/png' } });
    const px = await startApp({ PP_FALLBACK_IMAGE_URL: `${o.url}/fb.png` });
    try {
      const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/none2.jpg`)}`);
      expect(res.status).toBe(200);
      expect((await image(res)).width).toBe(40);
      expect(o.count('/fb.png')).toBe(1);
    } finally {
      await px.stop();
      await o.close();
    }
  });
});
