/**
 * Client hints, debug headers and format negotiation end to end, through a real server:
 * the hinted width is CSS pixels (physical / DPR) and an explicit width wins, the hints are
 * part of the cache key, `Vary` names every negotiated header, debug headers carry the
 * origin and result facts (also on cache hits), AUTO/ENFORCE pick the format from `Accept`,
 * and animations never become AVIF.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

/** A 3-frame animated GIF, 60×40, one solid colour per frame. */
async function makeAnimatedGif(): Promise<Buffer> {
  const w = 60;
  const h = 40;
  const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
  const raw = Buffer.alloc(w * h * 3 * colours.length);
  colours.forEach((c, f) => {
    for (let i = 0; i < w * h; i++) raw.set(c, (f * w * h + i) * 3);
  });
  return sharp(raw, { raw: { width: w, height: h * colours.length, channels: 3, pageHeight: h } }).gif({ delay: [100, 100, 100], loop: 0 }).toBuffer();
}

let photo: Buffer;
let origin: Origin;

beforeAll(async () => {
  photo = await makePhoto(1200, 800);
  origin = await startOrigin({
    '/photo.jpg': { body: photo, contentType: 'image/jpeg' },
    '/anim.gif': { body: await makeAnimatedGif(), contentType: 'image/gif' },
  });
});

afterAll(async () => {
  await origin.close();
});

async function get(app: RunningApp, path: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(`${app.url}/insecure${path}`, { headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('client hints and debug headers', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ IMGPROXY_ENABLE_CLIENT_HINTS: 'true', IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_ENABLE_DEBUG_HEADERS: 'true' });
  });
  afterAll(async () => {
    await px.stop();
  });

  it('Sec-CH-DPR 2 + Sec-CH-Width 400 → width 200 at dpr 2 → 400 physical pixels', async () => {
    const { res, body } = await get(px, `/plain/${origin.url}/photo.jpg`, { 'Sec-CH-DPR': '2', 'Sec-CH-Width': '400' });
    expect(res.status).toBe(200);
    const meta = await sharp(body).metadata();
    expect([meta.width, meta.height]).toEqual([400, 267]);
    expect(res.headers.get('x-result-width')).toBe('400');
    expect(res.headers.get('x-result-height')).toBe('267');
  });

  it('the legacy DPR / Width headers work too, and the Sec-CH ones win over them', async () => {
    const legacy = await get(px, `/plain/${origin.url}/photo.jpg`, { DPR: '1.5', Width: '300' });
    expect((await sharp(legacy.body).metadata()).width).toBe(300);
    const both = await get(px, `/plain/${origin.url}/photo.jpg`, { 'Sec-CH-Width': '500', Width: '300' });
    expect((await sharp(both.body).metadata()).width).toBe(500);
  });

  it('an explicit w: in the URL wins over the width hint (the DPR hint still applies)', async () => {
    const { body } = await get(px, `/w:100/plain/${origin.url}/photo.jpg`, { 'Sec-CH-DPR': '2', 'Sec-CH-Width': '400' });
    expect((await sharp(body).metadata()).width).toBe(200);
  });

  it('the hints are part of the cache key: the same URL without hints is the full-size image', async () => {
    const { body } = await get(px, `/plain/${origin.url}/photo.jpg`);
    expect((await sharp(body).metadata()).width).toBe(1200);
  });

  it('Vary lists Accept and every client-hint header, also on a 304', async () => {
    const vary = 'Accept, Sec-CH-DPR, DPR, Sec-CH-Width, Width';
    const { res } = await get(px, `/w:90/plain/${origin.url}/photo.jpg`);
    expect(res.headers.get('vary')).toBe(vary);
    const again = await get(px, `/w:90/plain/${origin.url}/photo.jpg`, { 'If-None-Match': res.headers.get('etag') ?? '' });
    expect(again.res.status).toBe(304);
    expect(again.res.headers.get('vary')).toBe(vary);
  });

  it('debug headers carry the origin size and dimensions, on a miss and on a hit', async () => {
    const path = `/rs:fill:120:90/plain/${origin.url}/photo.jpg`;
    const first = await get(px, path);
    const second = await get(px, path);
    expect(second.res.headers.get('x-cache')).toMatch(/^HIT/);
    for (const { res } of [first, second]) {
      expect(res.headers.get('x-origin-width')).toBe('1200');
      expect(res.headers.get('x-origin-height')).toBe('800');
      expect(res.headers.get('x-origin-content-length')).toBe(String(photo.length));
      expect(res.headers.get('x-result-width')).toBe('120');
      expect(res.headers.get('x-result-height')).toBe('90');
    }
  });

  it('without IMGPROXY_ENABLE_DEBUG_HEADERS there are none, and without negotiation no Vary', async () => {
    const plain = await startApp();
    try {
      const { res } = await get(plain, `/w:80/plain/${origin.url}/photo.jpg`, { 'Sec-CH-Width': '400' });
      expect(res.headers.get('x-origin-width')).toBeNull();
      expect(res.headers.get('x-result-width')).toBeNull();
      expect(res.headers.get('vary')).toBeNull();
      // Hints are ignored when client hints are off.
      const hinted = await get(plain, `/plain/${origin.url}/photo.jpg`, { 'Sec-CH-Width': '400' });
      expect((await sharp(hinted.body).metadata()).width).toBe(1200);
    } finally {
      await plain.stop();
    }
  });
});

describe('format negotiation', () => {
  let auto: RunningApp;
  let enforce: RunningApp;
  beforeAll(async () => {
    auto = await startApp({ IMGPROXY_AUTO_AVIF: 'true', IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_MAX_ANIMATION_FRAMES: '10' });
    enforce = await startApp({ IMGPROXY_ENFORCE_WEBP: 'true' });
  });
  afterAll(async () => {
    await auto.stop();
    await enforce.stop();
  });

  it('IMGPROXY_AUTO_AVIF + Accept image/avif → AVIF', async () => {
    const { res, body } = await get(auto, `/w:200/plain/${origin.url}/photo.jpg`, { Accept: 'image/avif,image/webp,*/*' });
    expect(res.headers.get('content-type')).toBe('image/avif');
    const meta = await sharp(body).metadata();
    expect(meta.format).toBe('heif');
    expect(meta.compression).toBe('av1');
    expect(meta.width).toBe(200);
  });

  it('Accept q-values: image/avif;q=0 is a refusal, so WebP', async () => {
    const { res } = await get(auto, `/w:200/plain/${origin.url}/photo.jpg`, { Accept: 'image/avif;q=0,image/webp' });
    expect(res.headers.get('content-type')).toBe('image/webp');
  });

  it('a wildcard Accept gets the source format', async () => {
    const { res } = await get(auto, `/w:200/plain/${origin.url}/photo.jpg`, { Accept: '*/*' });
    expect(res.headers.get('content-type')).toBe('image/jpeg');
  });

  it('an animated GIF never becomes AVIF: animated WebP instead, frames kept', async () => {
    const { res, body } = await get(auto, `/w:30/plain/${origin.url}/anim.gif`, { Accept: 'image/avif,image/webp,*/*' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(body, { animated: true }).metadata();
    expect(meta.pages).toBe(3);
    expect(meta.width).toBe(30);
  });

  it('an animated GIF without webp support stays an animated GIF', async () => {
    const { res, body } = await get(auto, `/w:30/plain/${origin.url}/anim.gif`, { Accept: 'image/avif' });
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect((await sharp(body, { animated: true }).metadata()).pages).toBe(3);
  });

  it('IMGPROXY_ENFORCE_WEBP overrides an explicit @png for a client that accepts WebP', async () => {
    const forced = await get(enforce, `/w:100/plain/${origin.url}/photo.jpg@png`, { Accept: 'image/webp,*/*' });
    expect(forced.res.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(forced.body).metadata()).format).toBe('webp');
    const kept = await get(enforce, `/w:100/plain/${origin.url}/photo.jpg@png`, { Accept: 'image/png,*/*' });
    expect(kept.res.headers.get('content-type')).toBe('image/png');
    expect(forced.res.headers.get('vary')).toBe('Accept');
  });
});
