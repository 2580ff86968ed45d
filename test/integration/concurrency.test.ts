/**
 * The concurrency model through a real server: workers, queue overflow (429), whole-request
 * timeout (503), cache hits bypassing workers, and clients that go away stopping their work
 * (download included) unless a single-flight follower still waits for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { transforms } from '../helpers/metrics.js';

let origin: Origin;
let photo: Buffer;

beforeAll(async () => {
  photo = await makePhoto(400, 300);
  origin = await startOrigin({ '/fast.jpg': { body: photo, contentType: 'image/jpeg' } });
  for (let i = 0; i < 10; i++) origin.files.set(`/slow${i}.jpg`, { body: photo, contentType: 'image/jpeg', delayMs: 700 });
});
afterAll(async () => origin.close());

describe('workers and queue', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ IMGPROXY_WORKERS: '1', IMGPROXY_REQUESTS_QUEUE_SIZE: '1', IMGPROXY_TIMEOUT: '5' });
  });
  afterAll(async () => px.stop());

  it('IMGPROXY_REQUESTS_QUEUE_SIZE overflow answers 429 at once', async () => {
    const started = Date.now();
    const all = await Promise.all([0, 1, 2].map((i) => fetch(`${px.url}/insecure/w:50/plain/${origin.url}/slow${i}.jpg`).then((r) => ({ status: r.status, at: Date.now() - started }))));
    const statuses = all.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429]);
    const rejected = all.find((r) => r.status === 429);
    expect(rejected?.at).toBeLessThan(500);
  });

  it('cache hits never wait for a worker', async () => {
    const cachedUrl = `${px.url}/insecure/w:40/plain/${origin.url}/fast.jpg`;
    expect((await fetch(cachedUrl)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const busy = fetch(`${px.url}/insecure/w:51/plain/${origin.url}/slow3.jpg`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const hit = await fetch(cachedUrl);
    expect(hit.headers.get('x-cache')).toBe('HIT-L1');
    expect(Date.now() - t0).toBeLessThan(300);
    expect((await busy).status).toBe(200);
  });

  it('a request whose client leaves during its download is dropped: the download is cancelled, nothing is processed', async () => {
    const t0 = await transforms(px);
    const ac = new AbortController();
    const gone = fetch(`${px.url}/insecure/w:53/plain/${origin.url}/slow5.jpg`, { signal: ac.signal }).catch(() => 'aborted');
    while (origin.count('/slow5.jpg') === 0) await new Promise((r) => setTimeout(r, 10));
    const upstream = origin.requests.find((r) => r.url === '/slow5.jpg');
    const closed = new Promise<void>((resolve) => {
      if (upstream?.socket.destroyed) resolve();
      else upstream?.socket.once('close', () => resolve());
    });
    // Downloads hold no worker: the only one is free while the source is on its way.
    expect(px.app.ctx.limiter.workers.active).toBe(0);
    ac.abort();
    expect(await gone).toBe('aborted');
    // The origin answers after 700 ms; its connection closes well before.
    const t = Date.now();
    await closed;
    expect(Date.now() - t).toBeLessThan(600);
    await new Promise((r) => setTimeout(r, 800));
    expect(px.app.ctx.limiter.admitted).toBe(0);
    expect((await transforms(px)) - t0).toBe(0);
  });

  it('a leader that leaves does not cancel the work a follower waits for', async () => {
    const url = `${px.url}/insecure/w:54/plain/${origin.url}/slow6.jpg`;
    const ac = new AbortController();
    const leader = fetch(url, { signal: ac.signal }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 50));
    const follower = fetch(url);
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    expect(await leader).toBe('aborted');
    const res = await follower;
    expect(res.status).toBe(200);
    expect(origin.count('/slow6.jpg')).toBe(1);
  });
});

describe('timeouts', () => {
  it('IMGPROXY_TIMEOUT bounds the whole request with 503', async () => {
    origin.files.set('/very-slow.jpg', { body: photo, contentType: 'image/jpeg', delayMs: 3000 });
    const px = await startApp({ IMGPROXY_TIMEOUT: '1', IMGPROXY_DOWNLOAD_TIMEOUT: '10' });
    try {
      const t0 = Date.now();
      const res = await fetch(`${px.url}/insecure/w:50/plain/${origin.url}/very-slow.jpg`);
      expect(res.status).toBe(503);
      expect(await res.text()).toBe('Timeout');
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_DOWNLOAD_TIMEOUT answers 504', async () => {
    origin.files.set('/stall.jpg', { body: photo, contentType: 'image/jpeg', delayMs: 2500 });
    const px = await startApp({ IMGPROXY_TIMEOUT: '10', IMGPROXY_DOWNLOAD_TIMEOUT: '1' });
    try {
      const res = await fetch(`${px.url}/insecure/w:50/plain/${origin.url}/stall.jpg`);
      expect(res.status).toBe(504);
    } finally {
      await px.stop();
    }
  });
});
