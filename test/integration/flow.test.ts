/**
 * After the answer the work stops, and downloads do not hold processing slots, through a real
 * server: a 503 at IMGPROXY_TIMEOUT leaves no computation behind (the server's CPU time stops
 * growing), a client that leaves mid-download closes the origin's connection, and sixteen
 * origins that drip a byte a second do not delay a miss for a fast origin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuSeconds } from '../helpers/cpu.js';
import { startDripOrigin, type DripOrigin } from '../helpers/drip-origin.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { spawnServer } from '../helpers/process.js';
import { startApp, type RunningApp } from '../helpers/app.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let photo: Buffer;
let origin: Origin;
let drip: DripOrigin;

beforeAll(async () => {
  photo = await makePhoto(400, 300);
  origin = await startOrigin({ '/p.jpg': { body: photo, contentType: 'image/jpeg' } });
  drip = await startDripOrigin(photo, 1000);
});
afterAll(async () => {
  await Promise.all([origin.close(), drip.close()]);
});

describe('after the answer, the work stops', () => {
  it('after 503s at IMGPROXY_TIMEOUT the server process stops using CPU (queued and running computations are dropped)', async () => {
    // One worker and ten transforms of most of a second of CPU each: when the 503s have gone
    // out, most computations are still queued and one is running. Left alone they would keep
    // the CPU busy for several seconds more.
    const srv = await spawnServer({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', IMGPROXY_CACHE_USE: 'none', IMGPROXY_WORKERS: '1', IMGPROXY_TIMEOUT: '1' });
    try {
      const urls = Array.from({ length: 10 }, (_, i) => `${srv.url}/insecure/rs:fill:${4000 + i}:4000:1/bl:20/f:png/plain/${origin.url}/p.jpg`);
      const statuses = await Promise.all(urls.map((u) => fetch(u).then((r) => r.status)));
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(7);
      // What was running when the deadline came may finish its current stage.
      await sleep(1500);
      const before = await cpuSeconds(srv.pid);
      await sleep(2000);
      const used = (await cpuSeconds(srv.pid)) - before;
      expect(used).toBeLessThan(0.3);
    } finally {
      srv.child.kill('SIGKILL');
      await srv.exited;
    }
  }, 60_000);

  describe('downloads', () => {
    let px: RunningApp;
    beforeAll(async () => {
      px = await startApp({ IMGPROXY_TIMEOUT: '2', IMGPROXY_DOWNLOAD_TIMEOUT: '30' });
    });
    afterAll(async () => px.stop());

    it('a client that leaves mid-download makes the origin see its connection closed', async () => {
      const before = drip.requests.length;
      const ac = new AbortController();
      const gone = fetch(`${px.url}/insecure/w:50/plain/${drip.url}/leave.jpg`, { signal: ac.signal }).catch(() => 'aborted');
      await drip.arrived(before + 1);
      await sleep(200);
      expect(drip.open).toBe(1);
      ac.abort();
      expect(await gone).toBe('aborted');
      // IMGPROXY_DOWNLOAD_TIMEOUT is 30 s: only the cancel closes it this soon.
      await drip.allClosed(2000);
    });

    it('a 503 at IMGPROXY_TIMEOUT cancels the download it was waiting for', async () => {
      const before = drip.requests.length;
      const res = await fetch(`${px.url}/insecure/w:51/plain/${drip.url}/timeout.jpg`);
      expect(res.status).toBe(503);
      expect(drip.requests.length).toBe(before + 1);
      await drip.allClosed(2000);
    });
  });
});

describe('downloads and transforms are different resources', () => {
  it('a miss for a fast origin answers promptly while 16 dripping downloads are in flight', async () => {
    // The defaults (2 workers per core, PIXPROXY_MAX_DOWNLOADS=64), with timeouts long enough
    // that a download holding a worker would hold it for the whole test.
    const px = await startApp({ IMGPROXY_TIMEOUT: '30', IMGPROXY_DOWNLOAD_TIMEOUT: '30' });
    const clients = Array.from({ length: 16 }, () => new AbortController());
    try {
      const before = drip.requests.length;
      const slow = clients.map((ac, i) =>
        fetch(`${px.url}/insecure/w:${60 + i}/plain/${drip.url}/drip${i}.jpg`, { signal: ac.signal }).then((r) => r.status, () => 'aborted'),
      );
      await drip.arrived(before + 16);
      expect(drip.open).toBe(16);
      const t = Date.now();
      const fast = await fetch(`${px.url}/insecure/w:99/plain/${origin.url}/p.jpg`);
      expect(fast.status).toBe(200);
      expect(fast.headers.get('x-cache')).toBe('MISS');
      expect(Date.now() - t).toBeLessThan(5000);
      // The dripping downloads were in flight all along, each in its download slot.
      expect(drip.open).toBe(16);
      expect(px.app.ctx.limiter.downloads.active).toBe(16);
      for (const ac of clients) ac.abort();
      expect(await Promise.all(slow)).toEqual(Array.from({ length: 16 }, () => 'aborted'));
      await drip.allClosed(3000);
    } finally {
      for (const ac of clients) ac.abort();
      await px.stop();
    }
  }, 60_000);
});
