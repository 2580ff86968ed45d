/**
 * What the cache key is made of and what it leaves out: IMGPROXY_CACHE_KEY_HEADERS/COOKIES, Accept
 * and DPR variants, signatures (rotated keys share entries), source/options/format, the
 * cachebuster; PreviewProxy's key (every parameter but sig, in any order).
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalString, signCanonical } from '../../../src/dialects/previewproxy/index.js';
import { paramsFromQuery } from '../../../src/dialects/previewproxy/params.js';
import { startApp } from '../../helpers/app.js';
import { K1, S1, K2, S2, hex, ENV, signed, get, size, entryFiles, inOrigin, keyOf, useCacheOrigin } from '../../helpers/cache.js';
import { transforms } from '../../helpers/metrics.js';

const fixture = useCacheOrigin();

describe('[imgproxy] Configuration', () => {
  it('IMGPROXY_CACHE_KEY_HEADERS "caching different versions of the same image based on request headers": one entry per value, unlisted headers do not split', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_KEY_HEADERS: 'X-Tenant,X-Region' });
    try {
      const path = signed(`/w:105/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, path, { headers: { 'X-Tenant': 'a' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { 'X-Tenant': 'a', 'X-Other': '1' } })).cache).toBe('HIT-L1');
      expect((await get(px, path, { headers: { 'X-Tenant': 'b' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { 'X-Tenant': 'a', 'X-Region': 'eu' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { 'x-tenant': 'b' } })).cache).toBe('HIT-L1');
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toHaveLength(3);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_CACHE_KEY_COOKIES "caching different versions of the same image based on cookies": one entry per value, other cookies do not split', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_KEY_COOKIES: 'plan' });
    try {
      const path = signed(`/w:106/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, path, { headers: { Cookie: 'plan=free' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { Cookie: 'session=xyz; plan=free' } })).cache).toBe('HIT-L1');
      expect((await get(px, path, { headers: { Cookie: 'plan=pro' } })).cache).toBe('MISS');
      expect((await get(px, path)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toHaveLength(3);
    } finally {
      await px.stop();
    }
  });
});

describe('[imgproxy] Why use internal cache?', () => {
  it('"working seamlessly with features like modern image format detection and client hints support": Accept and DPR each get their own entry', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_ENABLE_CLIENT_HINTS: 'true' });
    try {
      const path = signed(`/w:97/plain/${fixture.origin.url}/a.jpg`);
      const plain = await get(px, path, { headers: { Accept: 'image/jpeg' } });
      expect(plain.headers.get('vary')).toMatch(/Accept.*DPR/);
      const webp = await get(px, path, { headers: { Accept: 'image/webp' } });
      expect([webp.cache, webp.headers.get('content-type')]).toEqual(['MISS', 'image/webp']);
      const dpr2 = await get(px, path, { headers: { Accept: 'image/jpeg', DPR: '2' } });
      expect(dpr2.cache).toBe('MISS');
      expect((await size(dpr2.body))[0]).toBe(194);
      expect((await get(px, path, { headers: { Accept: 'image/jpeg', DPR: '2' } })).cache).toBe('HIT-L1');
      expect((await get(px, path, { headers: { Accept: 'image/webp' } })).cache).toBe('HIT-L1');
      expect((await size((await get(px, path, { headers: { Accept: 'image/jpeg' } })).body))[0]).toBe(97);
    } finally {
      await px.stop();
    }
  });
});

describe('[imgproxy] Cache key', () => {
  it('"URL signatures are not part of the cache key, so you can rotate keys … without invalidating cached images": restart with only the new pair → HIT-L2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-rotate-'));
    const p = `/rs:fit:108:108/plain/${fixture.origin.url}/a.jpg`;
    try {
      const one = await startApp({ PP_CACHE_DIR: dir, IMGPROXY_KEY: hex(K1), IMGPROXY_SALT: hex(S1) });
      const first = await get(one, signed(p, K1, S1));
      expect(first.cache).toBe('MISS');
      await one.stop();
      const fetches = fixture.origin.count('/a.jpg');
      const two = await startApp({ PP_CACHE_DIR: dir, IMGPROXY_KEY: hex(K2), IMGPROXY_SALT: hex(S2) });
      try {
        const again = await get(two, signed(p, K2, S2));
        expect(again.cache).toBe('HIT-L2');
        expect(again.body.equals(first.body)).toBe(true);
        expect(fixture.origin.count('/a.jpg')).toBe(fetches);
        // the retired pair no longer opens the cached entry
        expect((await get(two, signed(p, K1, S1))).status).toBe(403);
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('"Source image URL", "Processing options", "Output format" each enter the key: changing any one misses', async () => {
    const px = await startApp(ENV);
    try {
      expect((await get(px, signed(`/w:109/plain/${fixture.origin.url}/a.jpg`))).cache).toBe('MISS');
      expect((await get(px, signed(`/w:109/plain/${fixture.origin.url}/a.jpg`))).cache).toBe('HIT-L1');
      expect((await get(px, signed(`/w:109/plain/${fixture.origin.url}/b.jpg`))).cache).toBe('MISS');
      expect((await get(px, signed(`/w:110/plain/${fixture.origin.url}/a.jpg`))).cache).toBe('MISS');
      const webp = await get(px, signed(`/w:109/plain/${fixture.origin.url}/a.jpg@webp`));
      expect(webp.cache).toBe('MISS');
      expect(webp.headers.get('content-type')).toBe('image/webp');
      const png = await get(px, signed(`/w:109/plain/${fixture.origin.url}/a.jpg@png`));
      expect(png.cache).toBe('MISS');
      expect(png.headers.get('content-type')).toBe('image/png');
    } finally {
      await px.stop();
    }
  });

  it('"imgproxy includes the cachebuster in the cache key, so you can use it to force cache invalidation": the old entry keeps the old image, a new cachebuster gets the new one', async () => {
    const px = await startApp(ENV);
    // max-age=0: the origin sub-store keeps nothing, so only the transformed cache is in play.
    fixture.origin.files.set('/changing.jpg', { body: fixture.photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=0' } });
    try {
      const cb1 = signed(`/rs:fit:200:200/cb:1/plain/${fixture.origin.url}/changing.jpg`);
      expect(await size((await get(px, cb1)).body)).toEqual([200, 150]);
      fixture.origin.files.set('/changing.jpg', { body: fixture.tall, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=0' } });
      const stale = await get(px, cb1);
      expect(stale.cache).toBe('HIT-L1');
      expect(await size(stale.body)).toEqual([200, 150]);
      const cb2 = await get(px, signed(`/rs:fit:200:200/cb:2/plain/${fixture.origin.url}/changing.jpg`));
      expect(cb2.cache).toBe('MISS');
      expect(await size(cb2.body)).toEqual([120, 200]);
    } finally {
      await px.stop();
    }
  });
});

describe('[pp] Cache key', () => {
  it('"Transform parameters - all request parameters except sig": a signed /proxy URL, its parameters reordered, and a rotated PP_HMAC_KEY share one entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-ppsig-'));
    const src = `${fixture.origin.url}/a.jpg`;
    const ppUrl = (order: Array<[string, string]>, key: string): string => {
      const q = new URLSearchParams(order);
      const sig = signCanonical(canonicalString(paramsFromQuery(q).params, src), key);
      q.append('sig', sig);
      return `/proxy?${q.toString()}`;
    };
    const a: Array<[string, string]> = [['url', src], ['w', '150'], ['q', '70'], ['format', 'webp']];
    const b: Array<[string, string]> = [['format', 'webp'], ['q', '70'], ['w', '150'], ['url', src]];
    try {
      const one = await startApp({ PP_CACHE_DIR: dir, PP_HMAC_KEY: 'first-secret' });
      const first = await get(one, ppUrl(a, 'first-secret'));
      expect(first.status).toBe(200);
      expect(first.cache).toBe('MISS');
      expect((await get(one, ppUrl(b, 'first-secret'))).cache).toBe('HIT-L1');
      expect((await get(one, ppUrl(a, 'wrong-secret'))).status).toBe(403);
      await one.stop();
      const two = await startApp({ PP_CACHE_DIR: dir, PP_HMAC_KEY: 'second-secret' });
      try {
        const again = await get(two, ppUrl(b, 'second-secret'));
        expect(again.cache).toBe('HIT-L2');
        expect(again.body.equals(first.body)).toBe(true);
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('"Two requests with the same URL and parameters always resolve to the same cache key, regardless of parameter order": one file on disk for every ordering', async () => {
    const px = await startApp(ENV);
    try {
      const src = `${fixture.origin.url}/b.jpg`;
      const imgproxy = [`/w:151/h:90/rt:fill/q:70/plain/${src}`, `/q:70/rt:fill/h:90/w:151/plain/${src}`, `/resizing_type:fill/quality:70/height:90/width:151/plain/${src}`];
      for (const p of imgproxy) await get(px, signed(p));
      const pp = [`url=${encodeURIComponent(src)}&w=152&h=90&q=70`, `q=70&h=90&url=${encodeURIComponent(src)}&w=152`, `h=90&w=152&q=70&url=${encodeURIComponent(src)}`];
      const t0 = await transforms(px);
      for (const q of pp) await get(px, `/proxy?${q}`);
      expect(await transforms(px)).toBe(t0 + 1);
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toHaveLength(2);
      expect(new Set(imgproxy.map((p) => keyOf(px, signed(p)))).size).toBe(1);
    } finally {
      await px.stop();
    }
  });
});
