/**
 * The admin API (docs/admin.md) on a real server with the fs cache: authentication, purges by
 * image URL (both dialects, any spelling, no signature), source, tag (option and header),
 * key prefix and everything, with counts per layer and idempotence; `bypass_cache`; a purge
 * during a stampede; stale-while-revalidate and stale-if-error; the /info namespace.
 */
import { createHmac } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcePrefix } from '../../src/cache/key.js';
import { loadConfig } from '../../src/config/index.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const SECRET = 'a'.repeat(20) + 'b'.repeat(20);
const KEY = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const SALT = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';
const ENV = { IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT, PIXPROXY_ADMIN_PATH_PREFIX: '/_admin', PIXPROXY_ADMIN_SECRET: SECRET, PP_CACHE_MEMORY_MAX_MB: '0', IMGPROXY_AUTO_WEBP: 'true' };

let origin: Origin;
let px: RunningApp;
let photo: Buffer;
let other: Buffer;

function sign(path: string): string {
  const mac = createHmac('sha256', Buffer.from(KEY, 'hex')).update(Buffer.from(SALT, 'hex')).update(path).digest('base64url');
  return `/${mac}${path}`;
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; cache: string | null; width: number; headers: Headers }> {
  const r = await fetch(base + path, { headers });
  const body = Buffer.from(await r.arrayBuffer());
  const width = r.ok && (r.headers.get('content-type') ?? '').startsWith('image/') ? ((await sharp(body).metadata()).width ?? 0) : 0;
  return { status: r.status, cache: r.headers.get('x-cache'), width, headers: r.headers };
}

async function admin(base: string, path: string, body?: unknown, secret = SECRET): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`${base}/_admin${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown>, headers: r.headers };
}

const purged = (r: { json: Record<string, unknown> }): { l1: number; l2: number; origin: number } => r.json.purged as { l1: number; l2: number; origin: number };

beforeAll(async () => {
  [photo, other] = await Promise.all([makePhoto(400, 300), makePhoto(200, 150)]);
  origin = await startOrigin();
  px = await startApp(ENV);
});

afterAll(async () => {
  await px?.stop();
  await origin?.close();
});

describe('authentication and errors', () => {
  it('401 with WWW-Authenticate without the secret or with a wrong one; 404 unknown route; 405 wrong method; 400 bad body; never a 500', async () => {
    const none = await fetch(`${px.url}/_admin/stats`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await admin(px.url, '/stats', undefined, `${SECRET}x`)).status).toBe(401);
    expect((await admin(px.url, '/stats', undefined, SECRET.slice(0, -1))).status).toBe(401);
    expect((await admin(px.url, '/nothing')).status).toBe(404);
    const wrong = await fetch(`${px.url}/_admin/purge`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    for (const body of ['not json', '[]', '{}', { url: 'x', tag: 'y' }, { tag: 'a,b' }, { prefix: '../x' }, { all: 1 }, { source: 's', extra: 1 }, { source: '' }, { url: '/insecure/rs:fit:10/plain/' }]) {
      const r = await admin(px.url, '/purge', body);
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(body)).toBeLessThan(500);
      expect((r.json.error as { code: string }).code).toBeTypeOf('string');
    }
    const stats = await admin(px.url, '/stats');
    expect(stats.status).toBe(200);
    expect(stats.json).toHaveProperty('purges');
  });

  it('startup is refused when the API is on and the secret is missing or shorter than 32 characters', () => {
    expect(() => loadConfig({ PIXPROXY_ADMIN_BIND: '127.0.0.1:9999' })).toThrow(/PIXPROXY_ADMIN_SECRET/);
    expect(() => loadConfig({ PIXPROXY_ADMIN_PATH_PREFIX: '/_admin', PIXPROXY_ADMIN_SECRET: 'x'.repeat(31) })).toThrow(/at least 32/);
    expect(loadConfig({ PIXPROXY_ADMIN_PATH_PREFIX: '/_admin', PIXPROXY_ADMIN_SECRET: 'x'.repeat(32) }).admin.secret).toHaveLength(32);
    expect(loadConfig({}).adminListen).toBeNull();
  });
});

describe('purge', () => {
  it('by image URL: every spelling of it in either dialect, unsigned; one result, its negotiated variants, idempotent', async () => {
    origin.files.set('/u.jpg', { body: photo, contentType: 'image/jpeg' });
    const src = `${origin.url}/u.jpg`;
    const a = sign(`/rs:fit:100:100/plain/${src}`);
    const b = sign(`/rs:fit:120:120/plain/${src}`);
    expect((await get(px.url, a)).cache).toBe('MISS');
    expect((await get(px.url, a, { accept: 'image/webp' })).cache).toBe('MISS');
    expect((await get(px.url, b)).cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    expect((await get(px.url, a)).cache).toBe('HIT-L2');
    // Another spelling (alias, no signature): the same entries, both negotiated variants.
    const r = await admin(px.url, '/purge', { url: `/insecure/resize:fit:100:100/plain/${src}` });
    expect(r.status).toBe(200);
    expect(purged(r)).toEqual({ l1: 0, l2: 2, origin: 0 });
    expect(r.json.id).toBeTypeOf('string');
    expect((await get(px.url, a)).cache).toBe('MISS');
    expect((await get(px.url, b)).cache).toBe('HIT-L2');
    await px.app.ctx.cache.flush();
    // Idempotent: the entry written since is newer than the purge and stays; the purge again finds it.
    expect(purged(await admin(px.url, '/purge', { url: `${px.url}${a}` }))).toEqual({ l1: 0, l2: 1, origin: 0 });
    expect(purged(await admin(px.url, '/purge', { url: `${px.url}${a}` }))).toEqual({ l1: 0, l2: 0, origin: 0 });
  });

  it('by image URL in the PreviewProxy dialect (/proxy?url=…)', async () => {
    origin.files.set('/pp.jpg', { body: photo, contentType: 'image/jpeg' });
    const q = `/proxy?url=${encodeURIComponent(`${origin.url}/pp.jpg`)}&w=50`;
    expect((await get(px.url, q)).cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    expect(purged(await admin(px.url, '/purge', { url: q }))).toEqual({ l1: 0, l2: 1, origin: 0 });
    expect((await get(px.url, q)).cache).toBe('MISS');
  });

  it('by source: every variant and the /info answer of one source, with the origin sub-store when asked; others stay', async () => {
    origin.files.set('/s.jpg', { body: photo, contentType: 'image/jpeg' });
    origin.files.set('/keep.jpg', { body: photo, contentType: 'image/jpeg' });
    const src = `${origin.url}/s.jpg`;
    for (const w of [30, 40, 50]) expect((await get(px.url, sign(`/rs:fit:${w}:${w}/plain/${src}`))).status).toBe(200);
    expect((await fetch(`${px.url}/info${sign(`/plain/${src}`)}`)).status).toBe(200);
    const kept = sign(`/rs:fit:30:30/plain/${origin.url}/keep.jpg`);
    await get(px.url, kept);
    await px.app.ctx.cache.flush();
    const r = await admin(px.url, '/purge', { source: src, origin: true });
    // L1 is off here (PP_CACHE_MEMORY_MAX_MB=0): the L2 holds 3 results and 1 /info answer.
    expect(purged(r)).toEqual({ l1: 0, l2: 4, origin: 1 });
    expect(purged(await admin(px.url, '/purge', { source: src, origin: true }))).toEqual({ l1: 0, l2: 0, origin: 0 });
    const before = origin.count('/s.jpg');
    origin.files.set('/s.jpg', { body: other, contentType: 'image/jpeg' });
    const again = await get(px.url, sign(`/rs:fit:300:300/plain/${src}`));
    expect(again.cache).toBe('MISS');
    expect(again.width).toBe(200); // the origin's new bytes, not the purged sub-store copy
    expect(origin.count('/s.jpg')).toBe(before + 1);
    expect((await get(px.url, kept)).cache).toBe('HIT-L2');
  });

  it('by tag: from the cache_tags option and the tags header; the tag index lists them, untagged entries stay; Cache-Tag answered', async () => {
    await px.stop();
    px = await startApp({ ...ENV, PIXPROXY_CACHE_TAGS_HEADER: 'X-Tags' });
    origin.files.set('/t.jpg', { body: photo, contentType: 'image/jpeg' });
    const src = `${origin.url}/t.jpg`;
    const tagged = await get(px.url, sign(`/rs:fit:10:10/ct:red:blue/plain/${src}`));
    expect(tagged.headers.get('cache-tag')).toBe('blue,red');
    await get(px.url, sign(`/rs:fit:20:20/plain/${src}`), { 'x-tags': 'red' });
    const untagged = sign(`/rs:fit:30:30/plain/${src}`);
    await get(px.url, untagged);
    await px.app.ctx.cache.flush();
    expect(purged(await admin(px.url, '/purge', { tag: 'red' }))).toEqual({ l1: 0, l2: 2, origin: 0 });
    expect(purged(await admin(px.url, '/purge', { tag: 'blue' }))).toEqual({ l1: 0, l2: 0, origin: 0 });
    expect((await get(px.url, sign(`/rs:fit:10:10/ct:red:blue/plain/${src}`))).cache).toBe('MISS');
    expect((await get(px.url, untagged)).cache).toBe('HIT-L2');
  });

  it('by key prefix and everything; counts per layer; idempotent', async () => {
    origin.files.set('/p1.jpg', { body: photo, contentType: 'image/jpeg' });
    origin.files.set('/p2.jpg', { body: photo, contentType: 'image/jpeg' });
    const one = sign(`/rs:fit:10:10/plain/${origin.url}/p1.jpg`);
    const two = sign(`/rs:fit:10:10/plain/${origin.url}/p2.jpg`);
    await get(px.url, one);
    await get(px.url, two);
    await px.app.ctx.cache.flush();
    expect(purged(await admin(px.url, '/purge', { prefix: sourcePrefix(`${origin.url}/p1.jpg`) }))).toEqual({ l1: 0, l2: 1, origin: 0 });
    expect((await get(px.url, one)).cache).toBe('MISS');
    expect((await get(px.url, two)).cache).toBe('HIT-L2');
    await px.app.ctx.cache.flush();
    const all = await admin(px.url, '/purge', { all: true, origin: true });
    expect(purged(all).l2).toBeGreaterThanOrEqual(2);
    expect(purged(all).origin).toBeGreaterThanOrEqual(2);
    expect(purged(await admin(px.url, '/purge', { all: true, origin: true }))).toEqual({ l1: 0, l2: 0, origin: 0 });
    expect((await get(px.url, two)).cache).toBe('MISS');
  });

  it('during a stampede: the result computed before the purge is answered to its waiters but never stored', async () => {
    origin.files.set('/slow.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' }, delayMs: 600 });
    const src = `${origin.url}/slow.jpg`;
    const path = sign(`/rs:fit:500:500/plain/${src}`);
    const stampede = Promise.all(Array.from({ length: 8 }, () => get(px.url, path)));
    await new Promise((r) => setTimeout(r, 200));
    origin.files.set('/slow.jpg', { body: other, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
    expect((await admin(px.url, '/purge', { source: src })).status).toBe(200);
    const answers = await stampede;
    expect(answers.every((a) => a.status === 200 && a.width === 400)).toBe(true);
    await px.app.ctx.cache.flush();
    const after = await get(px.url, path);
    expect(after.cache).toBe('MISS');
    expect(after.width).toBe(200);
  });
});

describe('bypass_cache', () => {
  it('403 unless IMGPROXY_ALLOW_BYPASS_CACHE; allowed: BYPASS, a fresh download, the entry replaced', async () => {
    origin.files.set('/b.jpg', { body: photo, contentType: 'image/jpeg' });
    const src = `${origin.url}/b.jpg`;
    expect((await get(px.url, sign(`/rs:fit:500:500/bc:1/plain/${src}`))).status).toBe(403);
    const allowed = await startApp({ ...ENV, IMGPROXY_ALLOW_BYPASS_CACHE: 'true' });
    try {
      const path = sign(`/rs:fit:500:500/plain/${src}`);
      expect((await get(allowed.url, path)).width).toBe(400);
      await allowed.app.ctx.cache.flush();
      origin.files.set('/b.jpg', { body: other, contentType: 'image/jpeg' });
      expect((await get(allowed.url, path)).cache).toBe('HIT-L2');
      const before = origin.count('/b.jpg');
      const bypass = await get(allowed.url, sign(`/rs:fit:500:500/bypass_cache:true/plain/${src}`));
      expect(bypass.cache).toBe('BYPASS');
      expect(bypass.width).toBe(200);
      expect(origin.count('/b.jpg')).toBe(before + 1);
      await allowed.app.ctx.cache.flush();
      const replaced = await get(allowed.url, path);
      expect(replaced.cache).toBe('HIT-L2');
      expect(replaced.width).toBe(200);
    } finally {
      await allowed.stop();
    }
  });
});

describe('stale-while-revalidate (RFC 5861)', () => {
  it('first request after expiry is STALE at once, the origin is asked once for all of them; then fresh again', async () => {
    origin.files.set('/swr.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=1, stale-while-revalidate=60' } });
    const path = sign(`/rs:fit:100:100/plain/${origin.url}/swr.jpg`);
    expect((await get(px.url, path)).cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    expect((await get(px.url, path)).cache).toBe('HIT-L2');
    await new Promise((r) => setTimeout(r, 1300));
    origin.files.set('/swr.jpg', { body: other, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=60, stale-while-revalidate=60' }, delayMs: 300 });
    const before = origin.count('/swr.jpg');
    const stale = await Promise.all(Array.from({ length: 5 }, () => get(px.url, path)));
    expect(stale.map((s) => s.cache)).toEqual(Array.from({ length: 5 }, () => 'STALE'));
    expect(stale.every((s) => s.width === 100)).toBe(true);
    await new Promise((r) => setTimeout(r, 800));
    await px.app.ctx.cache.flush();
    expect(origin.count('/swr.jpg')).toBe(before + 1);
    const fresh = await get(px.url, path);
    expect(fresh.cache).toBe('HIT-L2');
    expect(fresh.width).toBe(100);
  });

  it('stale-if-error: while the origin fails within the window, the stale result is answered', async () => {
    origin.files.set('/sie.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=1, stale-if-error=60' } });
    const path = sign(`/rs:fit:90:90/plain/${origin.url}/sie.jpg`);
    expect((await get(px.url, path)).cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    await new Promise((r) => setTimeout(r, 1300));
    origin.files.set('/sie.jpg', { body: Buffer.from('down'), status: 503, contentType: 'text/plain' });
    for (let i = 0; i < 2; i++) {
      const r = await get(px.url, path);
      expect(r.status).toBe(200);
      expect(r.cache).toBe('STALE');
      expect(r.width).toBe(90);
    }
  });
});

describe('cookie passthrough (IMGPROXY_COOKIE_PASSTHROUGH)', () => {
  it('results fetched with cookies are kept per cookie set, and a purge by URL or by source removes them with the shared ones', async () => {
    const cookies = await startApp({ ...ENV, IMGPROXY_COOKIE_PASSTHROUGH: 'true' });
    try {
      origin.files.set('/ck.jpg', { body: photo, contentType: 'image/jpeg' });
      const src = `${origin.url}/ck.jpg`;
      const path = sign(`/rs:fit:60:60/plain/${src}`);
      for (const cookie of ['session=a', 'session=b']) expect((await get(cookies.url, path, { cookie })).cache).toBe('MISS');
      expect((await get(cookies.url, path)).cache).toBe('MISS');
      await cookies.app.ctx.cache.flush();
      expect((await get(cookies.url, path, { cookie: 'session=a' })).cache).toBe('HIT-L2');
      // Each cookie set's fetch reached the origin with its own cookies.
      expect(origin.requests.filter((r) => r.url === '/ck.jpg').map((r) => r.headers.cookie ?? null).sort()).toEqual([null, 'session=a', 'session=b'].sort());
      expect(purged(await admin(cookies.url, '/purge', { url: `/insecure/rs:fit:60:60/plain/${src}` }))).toEqual({ l1: 0, l2: 3, origin: 0 });
      for (const cookie of ['session=a', 'session=b']) expect((await get(cookies.url, path, { cookie })).cache).toBe('MISS');
      await cookies.app.ctx.cache.flush();
      expect(purged(await admin(cookies.url, '/purge', { source: src }))).toEqual({ l1: 0, l2: 2, origin: 0 });
      expect((await get(cookies.url, path, { cookie: 'session=b' })).cache).toBe('MISS');
    } finally {
      await cookies.stop();
    }
  });
});
