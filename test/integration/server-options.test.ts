/**
 * Server-level variables through real servers: IMGPROXY_SECRET, IMGPROXY_PATH_PREFIX,
 * IMGPROXY_ALLOW_ORIGIN, IMGPROXY_HEALTH_CHECK_PATH, IMGPROXY_MAX_CLIENTS, the embeddable
 * handler, and PIXPROXY_PROCESSES (node:cluster) with a clean SIGTERM stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { connect as netConnect, type AddressInfo } from 'node:net';
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

  it('IMGPROXY_MAX_CLIENTS: a connection over the limit waits for a free slot, as in imgproxy, instead of being dropped', async () => {
    const px = await startApp({ IMGPROXY_MAX_CLIENTS: '1' });
    const { port } = new URL(px.url);
    /** A raw keep-alive connection: what it has received so far, and whether it closed. */
    const connect = async () => {
      const socket = netConnect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      const got = { text: '', closed: false };
      socket.on('data', (d: Buffer) => { got.text += d.toString('latin1'); });
      socket.on('close', () => { got.closed = true; });
      socket.on('error', () => undefined);
      return { socket, got, send: () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n') };
    };
    const until = async (cond: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
      return cond();
    };
    try {
      const a = await connect();
      a.send();
      expect(await until(() => a.got.text.includes('imgproxy is running'), 5000)).toBe(true);
      // A is idle but open (keep-alive): B connects and asks, and is neither served nor dropped.
      const b = await connect();
      b.send();
      expect(await until(() => b.got.text !== '' || b.got.closed, 500)).toBe(false);
      a.socket.destroy();
      expect(await until(() => b.got.text.includes('imgproxy is running'), 5000)).toBe(true);
      expect(b.got.text).toMatch(/^HTTP\/1\.1 200/);
      b.socket.destroy();
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_WRITE_RESPONSE_TIMEOUT: a client that reads too slowly loses the connection once the timeout has passed', async () => {
    // A big raw stream: a PNG signature, then 32 MB the kernel buffers cannot hold.
    const big = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'), Buffer.alloc(32 * 1024 * 1024)]);
    origin.files.set('/big.png', { body: big, contentType: 'image/png' });
    const px = await startApp({ IMGPROXY_WRITE_RESPONSE_TIMEOUT: '1', IMGPROXY_MAX_SRC_FILE_SIZE: String(64 * 1024 * 1024), PIXPROXY_MAX_SRC_BYTES_CEILING: '0' });
    try {
      const socket = netConnect(Number(new URL(px.url).port), '127.0.0.1');
      await once(socket, 'connect');
      let bytes = 0;
      socket.on('error', () => undefined);
      socket.write(`GET /insecure/raw:1/plain/${origin.url}/big.png HTTP/1.1\r\nHost: x\r\n\r\n`);
      await once(socket, 'readable');
      socket.pause();
      // Not reading for three times the timeout; then read what is there.
      await new Promise((r) => setTimeout(r, 3000));
      socket.on('data', (d: Buffer) => { bytes += d.length; });
      socket.resume();
      await once(socket, 'close');
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThan(big.length);
    } finally {
      await px.stop();
    }
  }, 30_000);

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
