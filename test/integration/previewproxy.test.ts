/**
 * PreviewProxy's URL API through a real server: `/proxy?url=` always, path style when
 * PIXPROXY_PATH_DIALECT=previewproxy; both share the imgproxy dialect's cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin({ '/p.jpg': { body: await makePhoto(600, 400), contentType: 'image/jpeg' } });
});
afterAll(async () => origin.close());

describe('PreviewProxy dialect', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy' });
  });
  afterAll(async () => px.stop());

  it('/proxy?url=…&w=…&format=webp resizes and converts', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}&w=150&format=webp`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([150, 100]);
  });

  it('path style /WxH,cover/<url> fills the box and is cached like any request', async () => {
    const url = `${px.url}/200x200,cover/${origin.url}/p.jpg`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const meta = await sharp(Buffer.from(await first.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([200, 200]);
    expect(first.headers.get('x-cache')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(url)).headers.get('x-cache')).toBe('HIT-L1');
  });

  it('query order does not split the cache', async () => {
    const a = `${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}&w=120&q=70`;
    const b = `${px.url}/proxy?q=70&w=120&url=${encodeURIComponent(`${origin.url}/p.jpg`)}`;
    expect((await fetch(a)).headers.get('x-cache')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(b)).headers.get('x-cache')).toBe('HIT-L1');
  });

  it('bad parameters are 400, never 500', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}&rotate=45`);
    expect(res.status).toBe(400);
    const missing = await fetch(`${px.url}/proxy?w=10`);
    expect(missing.status).toBe(400);
  });
});
