/**
 * Health checks as each peer answers them: imgproxy's text on its path and on
 * IMGPROXY_HEALTH_CHECK_PATH; PreviewProxy's JSON with the cache figures in its dialect;
 * neither counted as an image request nor logged; the Server header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../helpers/app.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin({ '/a.jpg': { body: await makePhoto(120, 90), contentType: 'image/jpeg' } });
});
afterAll(async () => {
  await origin.close();
});

describe('health', () => {
  it('imgproxy: 200 text/plain "imgproxy is running", no-cache, on /health and IMGPROXY_HEALTH_CHECK_PATH; Server: imgproxy', async () => {
    const px = await startApp({ IMGPROXY_HEALTH_CHECK_PATH: '/healthz' });
    try {
      for (const path of ['/health', '/healthz']) {
        const r = await fetch(`${px.url}${path}`);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toBe('text/plain');
        expect(r.headers.get('cache-control')).toBe('no-cache');
        expect(r.headers.get('server')).toBe('imgproxy');
        expect(await r.text()).toBe('imgproxy is running');
      }
      expect(px.app.ctx.metrics.requestsInProgress).toBe(0);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_HEALTH_CHECK_MESSAGE and IMGPROXY_SERVER_NAME (imgproxy Pro) change the body and the Server header', async () => {
    const px = await startApp({ IMGPROXY_HEALTH_CHECK_MESSAGE: 'all good', IMGPROXY_SERVER_NAME: 'pixproxy' });
    try {
      const r = await fetch(`${px.url}/health`);
      expect(await r.text()).toBe('all good');
      expect(r.headers.get('server')).toBe('pixproxy');
    } finally {
      await px.stop();
    }
  });

  it('PreviewProxy dialect: /health is its JSON with the L1 item count and the disk bytes as of now', async () => {
    const px = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy', IMGPROXY_HEALTH_CHECK_PATH: '/healthz' });
    try {
      const empty = (await (await fetch(`${px.url}/health`)).json()) as Record<string, unknown>;
      expect(empty).toMatchObject({ status: 'ok', cache_memory_items: 0, cache_disk_bytes: 0 });
      const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/a.jpg`)}&w=40`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await px.app.ctx.cache.flush();
      const r = await fetch(`${px.url}/health`);
      expect(r.headers.get('content-type')).toBe('application/json');
      const body = (await r.json()) as Record<string, number | string>;
      expect(Object.keys(body)).toEqual(['status', 'cache_memory_items', 'cache_disk_bytes', 'cache_disk_bytes_as_of']);
      expect(body.status).toBe('ok');
      expect(body.cache_memory_items).toBe(1);
      expect(body.cache_disk_bytes).toBeGreaterThan(0);
      expect(Math.abs(Number(body.cache_disk_bytes_as_of) - Date.now() / 1000)).toBeLessThan(60);
      // IMGPROXY_HEALTH_CHECK_PATH is imgproxy's variable: imgproxy's answer.
      expect(await (await fetch(`${px.url}/healthz`)).text()).toBe('imgproxy is running');
    } finally {
      await px.stop();
    }
  });
});
