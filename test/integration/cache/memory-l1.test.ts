/**
 * L1, the in-memory cache: a hit costs no disk read, PP_CACHE_MEMORY_MAX_MB (0 disables it; a
 * bound with eviction to L2), PP_CACHE_MEMORY_TTL_SECS.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, sleep, MB, get, lookups, entryFiles, useCacheOrigin } from '../../helpers/cache.js';
import { transforms } from '../../helpers/metrics.js';

const fixture = useCacheOrigin();

describe('[pp] L1 and L2', () => {
  it('L1 "a cache hit here avoids both disk I/O and recomputation": with the disk cache emptied, the second request is still HIT-L1', async () => {
    const px = await startApp(ENV);
    try {
      const p = signed(`/w:130/plain/${fixture.origin.url}/a.jpg`);
      const first = await get(px, p);
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).length).toBe(2);
      await rm(px.cacheDir, { recursive: true, force: true });
      const fetches = fixture.origin.count('/a.jpg');
      const t0 = await transforms(px);
      const l2Reads = (await lookups(px, 'l2', 'hit')) + (await lookups(px, 'l2', 'miss'));
      const second = await get(px, p);
      expect(second.cache).toBe('HIT-L1');
      expect(second.body.equals(first.body)).toBe(true);
      expect(await transforms(px)).toBe(t0);
      expect(fixture.origin.count('/a.jpg')).toBe(fetches);
      expect((await lookups(px, 'l2', 'hit')) + (await lookups(px, 'l2', 'miss'))).toBe(l2Reads);
      await px.app.ctx.cache.flush();
      expect(await entryFiles(px.cacheDir)).toEqual([]);
    } finally {
      await px.stop();
    }
  });
});

describe('[pp] Configuration reference', () => {
  it('PP_CACHE_MEMORY_MAX_MB=0 disables L1: the second request is HIT-L2', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const p = signed(`/w:161/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      expect((await get(px, p)).cache).toBe('HIT-L2');
      expect((await get(px, p)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_MEMORY_MAX_MB "Maximum size of the in-memory cache in megabytes": with 1 MB, L1 holds ≤ 1 MB, evicts the oldest, which then come from L2', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_MEMORY_MAX_MB: '1' });
    try {
      // Each result under an eighth of L1 (the largest entry L1 takes), together over 1.2 MB.
      const paths = Array.from({ length: 24 }, (_, i) => signed(`/w:${420 + i}/q:100/plain/${fixture.origin.url}/a.jpg`));
      let bytes = 0;
      for (const p of paths) {
        const size = (await get(px, p)).body.length;
        expect(size).toBeLessThan(MB / 8 - 1024);
        bytes += size;
      }
      expect(bytes).toBeGreaterThan(1.2 * MB);
      await px.app.ctx.cache.flush();
      const gauge = (await px.app.ctx.metrics.cacheBytes.get()).values.find((v) => v.labels.layer === 'memory')?.value ?? -1;
      expect(gauge).toBeGreaterThan(0);
      expect(gauge).toBeLessThanOrEqual(MB);
      expect((await px.app.ctx.metrics.cacheEvictions.get()).values.find((v) => v.labels.layer === 'memory')?.value ?? 0).toBeGreaterThan(0);
      expect((await get(px, paths[paths.length - 1] as string)).cache).toBe('HIT-L1');
      expect((await get(px, paths[0] as string)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_MEMORY_TTL_SECS "How long entries remain in the memory cache": with 2 s, HIT-L1 then, after it, HIT-L2 (and promoted again)', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_MEMORY_TTL_SECS: '2' });
    try {
      const p = signed(`/w:162/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      expect((await get(px, p)).cache).toBe('HIT-L1');
      await px.app.ctx.cache.flush();
      await sleep(2200);
      expect((await get(px, p)).cache).toBe('HIT-L2');
      expect((await get(px, p)).cache).toBe('HIT-L1');
    } finally {
      await px.stop();
    }
  });
});
