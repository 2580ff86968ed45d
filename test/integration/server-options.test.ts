/**
 * Server-level variables through real servers: IMGPROXY_SECRET, IMGPROXY_PATH_PREFIX,
 * IMGPROXY_ALLOW_ORIGIN, IMGPROXY_HEALTH_CHECK_PATH, IMGPROXY_MAX_CLIENTS, the embeddable
 * handler, and PIXPROXY_PROCESSES (node:cluster) with a clean SIGTERM stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp } from '../helpers/app.js';
import { spawnServer } from '../helpers/process.js';
import { makePhoto } from '../helpers/images.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin({ '/p.jpg': { body: await makePhoto(200, 100), contentType: 'image/jpeg', delayMs: 0 } });
  origin.files.set('/slow.jpg', { body: await makePhoto(200, 100), contentType: 'image/jpeg', delayMs: 600 });
});
afterAll(async () => origin.close());

describe('server options', () => {
  it('IMGPROXY_SECRET requires Authorization: Bearer on image routes, not on /health', async () => {
    const px = await startApp({ IMGPROXY_SECRET: 's3cr3t' });
    try {
      const url = `${px.url}/insecure/w:20/plain/${origin.url}/p.jpg`;
      expect((await fetch(url)).status).toBe(403);
      expect((await fetch(url, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(403);
      expect((await fetch(url, { headers: { Authorization: 'Bearer s3cr3t' } })).status).toBe(200);
      expect((await fetch(`${px.url}/health`)).status).toBe(200);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_PATH_PREFIX prefixes every route; other paths are 404', async () => {
    const px = await startApp({ IMGPROXY_PATH_PREFIX: '/img/', IMGPROXY_HEALTH_CHECK_PATH: '/ping' });
    try {
      expect((await fetch(`${px.url}/img/insecure/w:20/plain/${origin.url}/p.jpg`)).status).toBe(200);
      expect((await fetch(`${px.url}/insecure/w:20/plain/${origin.url}/p.jpg`)).status).toBe(404);
      expect((await fetch(`${px.url}/img/health`)).status).toBe(200);
      expect((await fetch(`${px.url}/img/ping`)).status).toBe(200);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_ALLOW_ORIGIN adds CORS headers', async () => {
    const px = await startApp({ IMGPROXY_ALLOW_ORIGIN: 'https://app.example' });
    try {
      const res = await fetch(`${px.url}/insecure/w:20/plain/${origin.url}/p.jpg`, { method: 'OPTIONS' });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_MAX_CLIENTS caps open connections', async () => {
    const px = await startApp({ IMGPROXY_MAX_CLIENTS: '1' });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    try {
      const get = (path: string) => new Promise<number>((resolve) => {
        const req = httpRequest(`${px.url}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(-1));
        req.end();
      });
      const slow = get(`/insecure/w:21/plain/${origin.url}/slow.jpg`);
      await new Promise((r) => setTimeout(r, 100));
      // A second connection while the first is open is refused by the listener.
      expect(await get('/health')).toBe(-1);
      expect(await slow).toBe(200);
    } finally {
      agent.destroy();
      await px.stop();
    }
  });

  it('the exported handler serves images when mounted in a plain node:http server', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-embed-'));
    const app = await createApp(loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_DIR: dir, PP_CACHE_CLEANUP_INTERVAL_SECS: '0' }), { logger: silentLogger(), defaultMetrics: false });
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/own')) res.end('mine');
      else app.handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/own`)).text()).toBe('mine');
      const res = await fetch(`${base}/insecure/w:30/plain/${origin.url}/p.jpg@png`);
      expect(res.status).toBe(200);
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe('png');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('PIXPROXY_PROCESSES=2 starts two cluster workers on one port that serve requests, and stops cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-cluster-'));
    const srv = await spawnServer({ PIXPROXY_PROCESSES: '2', PP_CACHE_DIR: dir, IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_CLEANUP_INTERVAL_SECS: '0' });
    try {
      const statuses = await Promise.all(Array.from({ length: 6 }, (_, i) => fetch(`${srv.url}/insecure/w:${50 + i}/plain/${origin.url}/p.jpg`).then((r) => r.status)));
      expect(statuses).toEqual(Array(6).fill(200));
      const listening = () => srv.logs.filter((l) => l.includes('"msg":"listening"')).length;
      for (let i = 0; i < 50 && listening() < 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(listening()).toBe(2);
    } finally {
      srv.child.kill('SIGTERM');
      expect(await srv.exited).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
