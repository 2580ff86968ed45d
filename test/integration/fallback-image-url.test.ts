/**
 * imgproxy Pro's per-request fallback image (`fallback_image_url`, `fiu`) and
 * IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL through a real server: a failed download is answered
 * with that image, processed with the request's options, with the configured fallback status
 * and TTL, in place of the configured fallback; a fallback URL that fails or is not an allowed
 * source leaves the download's own error; the preprocessing (base URL, replacements) applies
 * to it and to IMGPROXY_FALLBACK_IMAGE_URL when asked.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
const size = async (res: Response) => {
  const m = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  return [m.width, m.height];
};
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const solid = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 200, b: 10 } } }).png().toBuffer();

beforeAll(async () => {
  origin = await startOrigin({
    '/ok.jpg': { body: await makePhoto(80, 40), contentType: 'image/jpeg' },
    '/fb/wide.png': { body: await solid(40, 10), contentType: 'image/png' },
    '/fb/tall.png': { body: await solid(10, 40), contentType: 'image/png' },
    '/fb/text.txt': { body: Buffer.from('not an image'), contentType: 'text/plain' },
  });
});
afterAll(async () => origin.close());

describe('fallback_image_url', () => {
  it('answers a failed download with that image processed, in place of the configured one, and caches it per URL', async () => {
    const px = await startApp({ IMGPROXY_FALLBACK_IMAGE_DATA: (await solid(30, 30)).toString('base64'), IMGPROXY_FALLBACK_IMAGE_HTTP_CODE: '203', IMGPROXY_FALLBACK_IMAGE_TTL: '77' });
    try {
      const wide = await fetch(`${px.url}/insecure/rs:fit:20:20/fiu:${b64(`${origin.url}/fb/wide.png`)}/plain/${origin.url}/missing.jpg`);
      expect(wide.status).toBe(203);
      expect(wide.headers.get('cache-control')).toBe('max-age=77, public');
      expect(await size(wide)).toEqual([20, 5]);
      // Another fallback URL is another result.
      const tall = await fetch(`${px.url}/insecure/rs:fit:20:20/fallback_image_url:${b64(`${origin.url}/fb/tall.png`)}/plain/${origin.url}/missing.jpg`);
      expect(await size(tall)).toEqual([5, 20]);
      // Without the option, the configured fallback.
      expect(await size(await fetch(`${px.url}/insecure/rs:fit:20:20/plain/${origin.url}/missing.jpg`))).toEqual([20, 20]);
      // A source that is no image is a download error too, as imgproxy detects the type while downloading.
      const text = await fetch(`${px.url}/insecure/rs:fit:20:20/fiu:${b64(`${origin.url}/fb/wide.png`)}/plain/${origin.url}/fb/text.txt`);
      expect(text.status).toBe(203);
      expect(await size(text)).toEqual([20, 5]);
      // A source that works is not touched.
      const ok = await fetch(`${px.url}/insecure/rs:fit:20:20/fiu:${b64(`${origin.url}/fb/wide.png`)}/plain/${origin.url}/ok.jpg`);
      expect(ok.status).toBe(200);
      expect(await size(ok)).toEqual([20, 10]);
      await new Promise((r) => setTimeout(r, 50));
      const again = await fetch(`${px.url}/insecure/rs:fit:20:20/fiu:${b64(`${origin.url}/fb/wide.png`)}/plain/${origin.url}/missing.jpg`);
      expect(again.headers.get('x-cache')).toMatch(/^HIT/);
      expect(origin.count('/missing.jpg')).toBe(3);
    } finally {
      await px.stop();
    }
  });

  it('works without a configured fallback; one that fails, is no image or is not an allowed source leaves the error', async () => {
    const px = await startApp({ IMGPROXY_ALLOWED_SOURCES: `${origin.url}/ok.jpg,${origin.url}/missing,${origin.url}/fb/` });
    try {
      const fb = await fetch(`${px.url}/insecure/rs:fit:20:20/fiu:${b64(`${origin.url}/fb/wide.png`)}/plain/${origin.url}/missing1.jpg`);
      expect(fb.status).toBe(200);
      expect(await size(fb)).toEqual([20, 5]);
      for (const bad of [`${origin.url}/fb/nothing.png`, `${origin.url}/fb/text.txt`, `${origin.url}/elsewhere/wide.png`]) {
        expect((await fetch(`${px.url}/insecure/fiu:${b64(bad)}/plain/${origin.url}/missing2.jpg`)).status).toBe(404);
      }
      expect(origin.count('/elsewhere/wide.png')).toBe(0);
      expect((await fetch(`${px.url}/insecure/fiu:@@@/plain/${origin.url}/ok.jpg`)).status).toBe(404);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL applies IMGPROXY_BASE_URL to fallback_image_url and IMGPROXY_FALLBACK_IMAGE_URL', async () => {
    const px = await startApp({ IMGPROXY_BASE_URL: `${origin.url}/fb/`, IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL: 'true', IMGPROXY_FALLBACK_IMAGE_URL: 'tall.png' });
    try {
      expect(await size(await fetch(`${px.url}/insecure/rs:fit:20:20/plain/missing3.jpg`))).toEqual([5, 20]);
      expect(await size(await fetch(`${px.url}/insecure/rs:fit:20:20/fiu:${b64('wide.png')}/plain/missing4.jpg`))).toEqual([20, 5]);
    } finally {
      await px.stop();
    }
    // Off (the default), the same relative URL is no URL: startup stops on it.
    await expect(startApp({ IMGPROXY_BASE_URL: `${origin.url}/fb/`, IMGPROXY_FALLBACK_IMAGE_URL: 'tall.png' })).rejects.toThrow(/IMGPROXY_FALLBACK_IMAGE_URL/);
  });
});
