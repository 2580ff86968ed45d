/**
 * imgproxy's "How it works", step by step (L1 off, so every hit is L2): signature checked before
 * the cache, the entry at <dir>/ab/cd/<key>, a valid entry served without fetch or transform, a
 * damaged one never served, the result stored before any waiter is answered.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../helpers/app.js';
import { K2, S2, ENV, signed, sleep, get, size, lookups, shardOf, keyOf, useCacheOrigin } from '../../helpers/cache.js';
import { transforms } from '../../helpers/metrics.js';

const fixture = useCacheOrigin();

describe('[imgproxy] How it works', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ ...ENV, PP_CACHE_MEMORY_MAX_MB: '0' });
  });
  afterAll(async () => {
    await px.stop();
  });

  it('"1. imgproxy checks the URL signature" first: a cached URL with a bad or missing signature is 403, never served from cache', async () => {
    const p = `/w:111/plain/${fixture.origin.url}/a.jpg`;
    expect((await get(px, signed(p))).cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    expect((await get(px, signed(p))).cache).toBe('HIT-L2');
    const looked = await lookups(px, 'l2', 'hit');
    for (const bad of [`/${'A'.repeat(43)}${p}`, `/insecure${p}`, signed(p, K2, S2)]) {
      const r = await get(px, bad);
      expect(r.status).toBe(403);
      expect(r.cache).toBeNull();
      expect(r.headers.get('content-type')).not.toMatch(/^image\//);
    }
    // the cache was not even consulted
    expect(await lookups(px, 'l2', 'hit')).toBe(looked);
  });

  it('"2. generates the cache key from the request parameters" and "3. checks if a cached image exists in the configured storage": the entry sits at <PP_CACHE_DIR>/ab/cd/<key>', async () => {
    const p = signed(`/w:112/plain/${fixture.origin.url}/a.jpg`);
    await get(px, p);
    await px.app.ctx.cache.flush();
    const file = join(px.cacheDir, shardOf(keyOf(px, p)));
    expect((await stat(file)).isFile()).toBe(true);
    await rm(file);
    // nothing in storage (and L1 is off) → processed again
    expect((await get(px, p)).cache).toBe('MISS');
  });

  it('"4. If the cached image exists and is valid, imgproxy serves it directly": HIT-L2 with no upstream fetch and no transform', async () => {
    const p = signed(`/w:113/plain/${fixture.origin.url}/b.jpg`);
    const first = await get(px, p);
    expect(first.cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    const fetches = fixture.origin.count('/b.jpg');
    const t0 = await transforms(px);
    const second = await get(px, p);
    expect(second.cache).toBe('HIT-L2');
    expect(second.body.equals(first.body)).toBe(true);
    expect(fixture.origin.count('/b.jpg')).toBe(fetches);
    expect(await transforms(px)).toBe(t0);
  });

  for (const [name, damage] of [
    ['a flipped body byte', async (f: string) => {
      const b = await readFile(f);
      b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0xff;
      await writeFile(f, b);
    }],
    ['a truncated file', async (f: string) => truncate(f, Math.floor((await stat(f)).size / 2))],
  ] as const) {
    it(`"4. … exists and is valid": an invalid entry (${name}) is not served: MISS, 200, the right image, the file replaced`, async () => {
      const w = name.startsWith('a flipped') ? 114 : 115;
      const p = signed(`/w:${w}/plain/${fixture.origin.url}/a.jpg`);
      const good = await get(px, p);
      await px.app.ctx.cache.flush();
      const file = join(px.cacheDir, shardOf(keyOf(px, p)));
      await damage(file);
      const damaged = await readFile(file);
      const r = await get(px, p);
      expect(r.status).toBe(200);
      expect(r.cache).toBe('MISS');
      expect(await size(r.body)).toEqual([w, Math.round((w * 600) / 800)]);
      expect(r.body.equals(good.body)).toBe(true);
      await px.app.ctx.cache.flush();
      expect((await readFile(file)).equals(damaged)).toBe(false);
      const again = await get(px, p);
      expect(again.cache).toBe('HIT-L2');
      expect(again.body.equals(good.body)).toBe(true);
    });
  }

  it('"5. If not, imgproxy processes the image and stores the result in the cache before serving it": the request right after the response hits', async () => {
    for (let i = 0; i < 5; i++) {
      const p = signed(`/w:${120 + i}/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      // no pause, no flush: the entry must already be there (L1 is off in this server)
      expect((await get(px, p)).cache).toBe('HIT-L2');
    }
  });

  it('"5. … stores the result in the cache before serving it": stored by the computation, even when the client that started it has gone (a follower still waits)', async () => {
    const p = signed(`/w:126/plain/${fixture.origin.url}/slow.jpg`);
    const before = fixture.origin.count('/slow.jpg');
    const ctl = new AbortController();
    const leader = fetch(px.url + p, { signal: ctl.signal }).catch(() => null);
    await sleep(50);
    const follower = get(px, p);
    await sleep(50);
    ctl.abort();
    await leader;
    const f = await follower;
    expect([f.status, f.cache]).toEqual([200, 'MISS']);
    // no pause, no flush: L1 is off, so this hit is the stored L2 entry
    const r = await get(px, p);
    expect(r.cache).toBe('HIT-L2');
    expect(r.body.equals(f.body)).toBe(true);
    expect(fixture.origin.count('/slow.jpg') - before).toBe(1);
  });
});
