/**
 * The image and /info services called directly, without a socket of pixproxy's own: a real
 * app (createApp, never listening) against real loopback origins. Misses, hits and joins;
 * a caller that leaves or times out stops its download; a download holds no worker.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { parseInfoOptions } from '../../../src/processing/info.js';
import { startDripOrigin, type DripOrigin } from '../../helpers/drip-origin.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';

let photo: Buffer;
let origin: Origin;
let drip: DripOrigin;
let app: App;
let dir: string;

beforeAll(async () => {
  photo = await makePhoto(300, 200);
  origin = await startOrigin({
    '/p.jpg': { body: photo, contentType: 'image/jpeg' },
    '/slow.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 300 },
  });
  drip = await startDripOrigin(photo, 200);
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-service-'));
  const config = loadConfig({
    IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
    PP_CACHE_DIR: dir,
    PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
    IMGPROXY_WORKERS: '1',
    IMGPROXY_TIMEOUT: '2',
    IMGPROXY_DOWNLOAD_TIMEOUT: '30',
  });
  app = await createApp(config, { logger: silentLogger(), defaultMetrics: false });
});

afterAll(async () => {
  await app.close();
  await Promise.all([origin.close(), drip.close()]);
  await rm(dir, { recursive: true, force: true });
});

function request(path: string): { request: ReturnType<App['ctx']['dialect']['parseImage']>; key: string } {
  const request = app.ctx.dialect.parseImage(path, {});
  return { request, key: app.ctx.cache.key(request, {}) };
}

describe('image service', () => {
  it('a miss processes and stores; the next call is an L1 hit of the same image', async () => {
    const { request: r, key } = request(`/insecure/w:60/plain/${origin.url}/p.jpg`);
    const miss = await app.ctx.images.getImage(r, key);
    expect([miss.outcome, miss.joined]).toEqual(['MISS', false]);
    expect((await sharp(miss.image.data).metadata()).width).toBe(60);
    const hit = await app.ctx.images.getImage(r, key);
    expect(hit.outcome).toBe('HIT-L1');
    expect(hit.image.etag).toBe(miss.image.etag);
  });

  it('concurrent misses of one key share one computation and one download', async () => {
    const before = origin.count('/slow.jpg');
    const { request: r, key } = request(`/insecure/w:61/plain/${origin.url}/slow.jpg`);
    const all = await Promise.all(Array.from({ length: 5 }, () => app.ctx.images.getImage(r, key)));
    expect(all.filter((x) => x.joined)).toHaveLength(4);
    expect(new Set(all.map((x) => x.image.etag)).size).toBe(1);
    expect(origin.count('/slow.jpg') - before).toBe(1);
  });

  it('a caller that gives up mid-download is rejected at once and the origin sees its connection closed', async () => {
    const { request: r, key } = request(`/insecure/w:62/plain/${drip.url}/leave.jpg`);
    const ac = new AbortController();
    const pending = app.ctx.images.getImage(r, key, ac.signal);
    await drip.arrived(1);
    // The download holds a download slot, not the only worker.
    expect([app.ctx.limiter.downloads.active, app.ctx.limiter.workers.active]).toEqual([1, 0]);
    ac.abort(new ProxyError('CANCELLED', 'test client left'));
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await drip.allClosed();
    expect(app.ctx.limiter.admitted).toBe(0);
  });

  it('past IMGPROXY_TIMEOUT the call rejects with TIMEOUT (503) and the download is cancelled', async () => {
    const before = drip.requests.length;
    const { request: r, key } = request(`/insecure/w:63/plain/${drip.url}/timeout.jpg`);
    const started = Date.now();
    await expect(app.ctx.images.getImage(r, key)).rejects.toMatchObject({ code: 'TIMEOUT', status: 503 });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(drip.requests.length).toBe(before + 1);
    await drip.allClosed();
  });

  it('a follower still waiting keeps the download going after the leader left', async () => {
    const before = origin.count('/slow.jpg');
    const { request: r, key } = request(`/insecure/w:64/plain/${origin.url}/slow.jpg?follower`);
    const leader = new AbortController();
    const first = app.ctx.images.getImage(r, key, leader.signal);
    // The second caller starts once the first one's computation exists, so it is the follower
    // (both look the key up in the cache first, and either lookup may finish first).
    while (app.ctx.cache.singleflight.waiters(key) < 1) await new Promise((r) => setTimeout(r, 2));
    const second = app.ctx.images.getImage(r, key);
    // Both wait for the one download (the origin answers after 300 ms) when the leader leaves:
    // the follower has joined (its cache lookup may take a while on a loaded machine) and the
    // download has started.
    while (origin.count('/slow.jpg') === before || app.ctx.cache.singleflight.waiters(key) < 2) await new Promise((r) => setTimeout(r, 5));
    leader.abort();
    await expect(first).rejects.toBeInstanceOf(ProxyError);
    const res = await second;
    expect([res.outcome, res.joined]).toEqual(['MISS', true]);
    expect((await sharp(res.image.data).metadata()).width).toBe(64);
    expect(origin.count('/slow.jpg') - before).toBe(1);
  });

  it('hit() answers a fresh L1 entry at once (counted as an L1 hit), and nothing for a miss, a bypass or a stale entry, which getImage answers', async () => {
    const l1Hits = async (): Promise<number> => (await app.ctx.metrics.registry.getSingleMetric('cache_lookups_total')?.get())?.values.find((v) => v.labels.layer === 'memory' && v.labels.outcome === 'hit')?.value ?? 0;
    origin.files.set('/swr-l1.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=1, stale-while-revalidate=60' } });
    const { request: r, key } = request(`/insecure/w:64/plain/${origin.url}/swr-l1.jpg`);
    expect(app.ctx.images.hit(r, key)).toBeNull();
    const miss = await app.ctx.images.getImage(r, key);
    expect(miss.outcome).toBe('MISS');
    const before = await l1Hits();
    const hit = app.ctx.images.hit(r, key);
    expect(hit?.outcome).toBe('HIT-L1');
    expect(hit?.image.etag).toBe(miss.image.etag);
    expect(await l1Hits()).toBe(before + 1);
    // bypass_cache (behind IMGPROXY_ALLOW_BYPASS_CACHE) recomputes whatever the cache holds.
    expect(app.ctx.images.hit({ ...r, options: { ...r.options, bypassCache: true } }, key)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(app.ctx.images.hit(r, key)).toBeNull();
    expect(await l1Hits()).toBe(before + 1);
    expect((await app.ctx.images.getImage(r, key)).outcome).toBe('STALE');
    await app.ctx.cache.flush();
  });

  it("with L1 off a fresh L2 hit hands over its read buffer's release; a stale hit, whose bytes its refresh may keep, does not", async () => {
    // Noise keeps the PNG result above the pool's 16 KB floor.
    const noise = await sharp(randomBytes(120 * 120 * 3), { raw: { width: 120, height: 120, channels: 3 } }).png().toBuffer();
    origin.files.set('/swr.png', { body: noise, contentType: 'image/png', headers: { 'Cache-Control': 'max-age=1, stale-while-revalidate=60' } });
    const noL1 = await createApp(
      loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_DIR: dir, PP_CACHE_CLEANUP_INTERVAL_SECS: '0', PP_CACHE_MEMORY_MAX_MB: '0' }),
      { logger: silentLogger(), defaultMetrics: false },
    );
    try {
      const r = noL1.ctx.dialect.parseImage(`/insecure/plain/${origin.url}/swr.png@png`, {});
      const key = noL1.ctx.cache.key(r, {});
      const miss = await noL1.ctx.images.getImage(r, key);
      expect(miss.outcome).toBe('MISS');
      expect(miss.image.data.length).toBeGreaterThan(16 * 1024);
      expect(miss.release).toBeUndefined();
      await noL1.ctx.cache.flush();
      const fresh = await noL1.ctx.images.getImage(r, key);
      expect(fresh.outcome).toBe('HIT-L2');
      expect(fresh.release).toBeTypeOf('function');
      fresh.release?.();
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const stale = await noL1.ctx.images.getImage(r, key);
      expect(stale.outcome).toBe('STALE');
      expect(stale.image.data.equals(miss.image.data)).toBe(true);
      expect(stale.release).toBeUndefined();
      await noL1.ctx.cache.flush();
    } finally {
      await noL1.close();
    }
  });
});

describe('info service', () => {
  it('concurrent /info queries for one source and options share one download', async () => {
    const before = origin.count('/slow.jpg');
    const query = { source: `${origin.url}/slow.jpg?info`, options: parseInfoOptions([], app.ctx.config) };
    const all = await Promise.all(Array.from({ length: 4 }, () => app.ctx.info.getInfo(query)));
    const answers = all.map((i) => JSON.parse(i.body.toString()) as { width: number; height: number });
    expect(answers.map((i) => [i.width, i.height])).toEqual(Array.from({ length: 4 }, () => [300, 200]));
    expect(origin.count('/slow.jpg') - before).toBe(1);
  });

  it('/info is bounded by IMGPROXY_TIMEOUT and its download cancelled, as images are', async () => {
    const query = { source: `${drip.url}/info.jpg`, options: parseInfoOptions([], app.ctx.config) };
    await expect(app.ctx.info.getInfo(query)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await drip.allClosed();
  });

  it('/info checks IMGPROXY_ALLOWED_SOURCES even for a source in the origin sub-store', async () => {
    // p.jpg is in the origin sub-store on disk (the first test fetched it); the stricter app shares the directory.
    await app.ctx.cache.flush();
    const strict = await createApp(
      loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_DIR: dir, PP_CACHE_CLEANUP_INTERVAL_SECS: '0', IMGPROXY_ALLOWED_SOURCES: 'https://example.com/' }),
      { logger: silentLogger(), defaultMetrics: false },
    );
    try {
      const query = { source: `${origin.url}/p.jpg`, options: parseInfoOptions([], strict.ctx.config) };
      await expect(strict.ctx.info.getInfo(query)).rejects.toMatchObject({ code: 'INVALID_SOURCE_URL' });
    } finally {
      await strict.close();
    }
  });
});
