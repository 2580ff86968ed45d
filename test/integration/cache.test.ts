/**
 * The cache end to end, each test naming the statement of the documentation it checks:
 * [imgproxy] imgproxy's internal cache, https://docs.imgproxy.net/cache/internal;
 * [pp] PreviewProxy's caching overview, https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { transforms } from '../helpers/metrics.js';

const K1 = Buffer.from('k1');
const S1 = Buffer.from('s1');
const K2 = Buffer.from('k2');
const S2 = Buffer.from('s2');
const ENV = { IMGPROXY_KEY: `${K1.toString('hex')},${K2.toString('hex')}`, IMGPROXY_SALT: `${S1.toString('hex')},${S2.toString('hex')}` };
const signed = (path: string, key = K1, salt = S1) => `/${sign(path, key, salt, 32)}${path}`;

let origin: Origin;
let photo: Buffer;

beforeAll(async () => {
  photo = await makePhoto(800, 600);
  origin = await startOrigin({
    '/a.jpg': { body: photo, contentType: 'image/jpeg' },
    '/slow.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 300 },
    '/slow-missing.jpg': { body: Buffer.alloc(0), status: 404, delayMs: 200 },
  });
  for (let i = 0; i < 12; i++) origin.files.set(`/v${i}.jpg`, { body: photo, contentType: 'image/jpeg', delayMs: 100 });
});

afterAll(async () => {
  await origin.close();
});

describe('L1 / L2 / X-Cache', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp(ENV);
  });
  afterAll(async () => {
    await px.stop();
  });

  it('[pp] "subsequent requests for the same image and parameters are served from cache": MISS then HIT-L1', async () => {
    const path = signed(`/rs:fit:120:120/plain/${origin.url}/a.jpg`);
    const first = await fetch(px.url + path);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const b1 = Buffer.from(await first.arrayBuffer());
    await new Promise((r) => setTimeout(r, 50));
    const second = await fetch(px.url + path);
    expect(second.headers.get('x-cache')).toBe('HIT-L1');
    expect(Buffer.from(await second.arrayBuffer()).equals(b1)).toBe(true);
  });

  it('[imgproxy] "URL signature is not part of the cache key": another key/salt pair hits', async () => {
    const p = `/rs:fit:130:130/plain/${origin.url}/a.jpg`;
    expect((await fetch(px.url + signed(p, K1, S1))).headers.get('x-cache')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(px.url + signed(p, K2, S2))).headers.get('x-cache')).toBe('HIT-L1');
  });

  it('[pp] "regardless of parameter order": aliases and order share one entry', async () => {
    const a = signed(`/w:140/h:90/rt:fill/plain/${origin.url}/a.jpg`);
    const b = signed(`/resizing_type:fill/height:90/width:140/plain/${origin.url}/a.jpg`);
    expect((await fetch(px.url + a)).headers.get('x-cache')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(px.url + b)).headers.get('x-cache')).toBe('HIT-L1');
  });

  it('[imgproxy] "cachebuster in the cache key": a new cachebuster misses', async () => {
    const a = signed(`/w:150/cb:1/plain/${origin.url}/a.jpg`);
    const b = signed(`/w:150/cb:2/plain/${origin.url}/a.jpg`);
    expect((await fetch(px.url + a)).headers.get('x-cache')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(px.url + b)).headers.get('x-cache')).toBe('MISS');
  });

  it('[pp] "Inflight deduplication": 100 concurrent identical requests → 1 fetch and 1 transform', async () => {
    const before = origin.count('/slow.jpg');
    const t0 = await transforms(px);
    const path = signed(`/rs:fill:160:100/plain/${origin.url}/slow.jpg`);
    const res = await Promise.all(Array.from({ length: 100 }, () => fetch(px.url + path)));
    expect(res.every((r) => r.status === 200)).toBe(true);
    const bodies = await Promise.all(res.map(async (r) => Buffer.from(await r.arrayBuffer())));
    expect(bodies.every((b) => b.equals(bodies[0] as Buffer))).toBe(true);
    expect(origin.count('/slow.jpg') - before).toBe(1);
    expect((await transforms(px)) - t0).toBe(1);
  });

  it('[pp] "the same source file to be fetched only once": 10 concurrent variants → 1 upstream fetch', async () => {
    const res = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(px.url + signed(`/w:${50 + i}/plain/${origin.url}/v0.jpg`))));
    expect(res.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(origin.count('/v0.jpg')).toBe(1);
    // and a later new variant is served from the origin sub-store
    const later = await fetch(px.url + signed(`/w:77/plain/${origin.url}/v0.jpg`));
    expect(later.status).toBe(200);
    expect(origin.count('/v0.jpg')).toBe(1);
  });

  it('followers of a failed miss get the same status (404 stays 404)', async () => {
    const path = signed(`/w:10/plain/${origin.url}/slow-missing.jpg`);
    const res = await Promise.all(Array.from({ length: 20 }, () => fetch(px.url + path)));
    expect(res.map((r) => r.status)).toEqual(Array(20).fill(404));
  });
});

describe('origin sub-store memory tier', () => {
  it('PIXPROXY_ORIGIN_MEMORY_MAX_MB keeps a hot source in memory: new variants read no disk and fetch nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-originmem-'));
    origin.files.set('/hot.jpg', { body: photo, contentType: 'image/jpeg' });
    const px = await startApp({ ...ENV, PP_CACHE_DIR: dir });
    try {
      expect((await fetch(px.url + signed(`/w:61/plain/${origin.url}/hot.jpg`))).status).toBe(200);
      await px.app.ctx.cache.flush();
      // Remove every file of the disk cache: only memory can still answer for the source.
      await rm(dir, { recursive: true, force: true });
      const res = await fetch(px.url + signed(`/w:62/plain/${origin.url}/hot.jpg`));
      expect(res.status).toBe(200);
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(62);
      expect(origin.count('/hot.jpg')).toBe(1);
    } finally {
      await px.stop({ keepCache: true });
    }
  });

  it('with PIXPROXY_ORIGIN_MEMORY_MAX_MB=0 the source comes from the disk store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-originmem0-'));
    origin.files.set('/cold.jpg', { body: photo, contentType: 'image/jpeg' });
    const px = await startApp({ ...ENV, PP_CACHE_DIR: dir, PIXPROXY_ORIGIN_MEMORY_MAX_MB: '0' });
    try {
      expect((await fetch(px.url + signed(`/w:63/plain/${origin.url}/cold.jpg`))).status).toBe(200);
      await px.app.ctx.cache.flush();
      await rm(dir, { recursive: true, force: true });
      expect((await fetch(px.url + signed(`/w:64/plain/${origin.url}/cold.jpg`))).status).toBe(200);
      expect(origin.count('/cold.jpg')).toBe(2);
    } finally {
      await px.stop({ keepCache: true });
    }
  });
});

describe('L2 survives restarts', () => {
  it('[pp] "The L1 cache is lost when the process restarts" but L2 hits remain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-l2-'));
    const path = signed(`/rs:fit:111:111/plain/${origin.url}/a.jpg`);
    const one = await startApp({ ...ENV, PP_CACHE_DIR: dir });
    const first = await fetch(one.url + path);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const body = Buffer.from(await first.arrayBuffer());
    await new Promise((r) => setTimeout(r, 200));
    await one.stop();
    const fetchesBefore = origin.count('/a.jpg');
    const two = await startApp({ ...ENV, PP_CACHE_DIR: dir });
    try {
      const again = await fetch(two.url + path);
      expect(again.headers.get('x-cache')).toBe('HIT-L2');
      expect(Buffer.from(await again.arrayBuffer()).equals(body)).toBe(true);
      expect(origin.count('/a.jpg')).toBe(fetchesBefore);
      const third = await fetch(two.url + path);
      expect(third.headers.get('x-cache')).toBe('HIT-L1');
    } finally {
      await two.stop();
    }
  });

  it('IMGPROXY_CACHE_USE=none disables L2: a restart misses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-none-'));
    const path = signed(`/rs:fit:112:112/plain/${origin.url}/a.jpg`);
    const one = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_CACHE_USE: 'none' });
    await (await fetch(one.url + path)).arrayBuffer();
    await one.stop();
    const two = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_CACHE_USE: 'none' });
    try {
      expect((await fetch(two.url + path)).headers.get('x-cache')).toBe('MISS');
    } finally {
      await two.stop();
    }
  });
});

describe('cache key inputs', () => {
  it('[imgproxy] "Output format" is in the key and Vary: Accept is sent while negotiation is on', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_AUTO_WEBP: 'true' });
    try {
      const path = signed(`/w:90/plain/${origin.url}/a.jpg`);
      const webp = await fetch(px.url + path, { headers: { Accept: 'image/webp,*/*' } });
      expect(webp.headers.get('content-type')).toBe('image/webp');
      expect(webp.headers.get('vary')).toContain('Accept');
      const jpeg = await fetch(px.url + path, { headers: { Accept: '*/*' } });
      expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
      expect(jpeg.headers.get('x-cache')).toBe('MISS');
      expect(jpeg.headers.get('etag')).not.toBe(webp.headers.get('etag'));
    } finally {
      await px.stop();
    }
  });

  it('[imgproxy] IMGPROXY_CACHE_KEY_HEADERS and IMGPROXY_CACHE_KEY_COOKIES split entries', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_KEY_HEADERS: 'X-Tenant', IMGPROXY_CACHE_KEY_COOKIES: 'plan' });
    try {
      const path = signed(`/w:91/plain/${origin.url}/a.jpg`);
      expect((await fetch(px.url + path, { headers: { 'X-Tenant': 'a' } })).headers.get('x-cache')).toBe('MISS');
      await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(px.url + path, { headers: { 'X-Tenant': 'a' } })).headers.get('x-cache')).toBe('HIT-L1');
      expect((await fetch(px.url + path, { headers: { 'X-Tenant': 'b' } })).headers.get('x-cache')).toBe('MISS');
      expect((await fetch(px.url + path, { headers: { 'X-Tenant': 'a', Cookie: 'plan=pro' } })).headers.get('x-cache')).toBe('MISS');
    } finally {
      await px.stop();
    }
  });
});

describe('cache errors never fail a request', () => {
  it('[imgproxy] "silently falling back to processing without cache" when the cache dir is unusable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-bad-'));
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    for (const report of ['false', 'true']) {
      const px = await startApp({ ...ENV, PP_CACHE_DIR: file, IMGPROXY_CACHE_REPORT_ERRORS: report });
      try {
        const res = await fetch(px.url + signed(`/w:93/plain/${origin.url}/a.jpg`));
        expect(res.status).toBe(200);
        expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(93);
      } finally {
        await px.stop({ keepCache: true });
      }
    }
  });
});
