/**
 * The disk cache's lifetime and size: the PreviewProxy defaults, PP_CACHE_DISK_TTL_SECS,
 * PP_CACHE_DISK_MAX_MB (least recently used evicted, kept across restarts, a warning when unset),
 * PP_CACHE_CLEANUP_INTERVAL_SECS.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.js';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, sleep, MB, until, get, entryFiles, diskBytes, shardOf, keyOf, captureLogger, useCacheOrigin } from '../../helpers/cache.js';
import { transforms } from '../../helpers/metrics.js';

const fixture = useCacheOrigin();

describe('[pp] Configuration reference', () => {
  it('defaults: PP_CACHE_MEMORY_MAX_MB 256, PP_CACHE_MEMORY_TTL_SECS 3600, PP_CACHE_DIR /tmp/previewproxy, PP_CACHE_DISK_TTL_SECS 86400, PP_CACHE_DISK_MAX_MB unlimited, PP_CACHE_CLEANUP_INTERVAL_SECS 600 (module level: the config is what a server would get)', () => {
    const c = loadConfig({}).cache;
    expect([c.memoryMaxMb, c.memoryTtlSecs, c.dir, c.diskTtlSecs, c.diskMaxMb, c.cleanupIntervalSecs]).toEqual([256, 3600, '/tmp/previewproxy', 86_400, undefined, 600]);
    expect([c.pathPrefix, c.bucket, c.keyHeaders, c.keyCookies, c.reportErrors]).toEqual(['', '', [], [], false]);
  });

  it('PP_CACHE_DISK_TTL_SECS default 86400: a transformed entry on disk expires a day after it was written', async () => {
    const px = await startApp(ENV);
    try {
      const p = signed(`/w:160/plain/${fixture.origin.url}/a.jpg`);
      await get(px, p);
      await px.app.ctx.cache.flush();
      const st = await stat(join(px.cacheDir, shardOf(keyOf(px, p))));
      expect(Math.abs(st.mtimeMs - (Date.now() + 86_400_000))).toBeLessThan(3000);
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_DISK_TTL_SECS "How long entries remain on disk before expiry": with 2 s (L1 off), HIT-L2 then, after it, MISS', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '2', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const p = signed(`/w:163/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      expect((await get(px, p)).cache).toBe('HIT-L2');
      await sleep(2200);
      const t0 = await transforms(px);
      expect((await get(px, p)).cache).toBe('MISS');
      expect(await transforms(px)).toBe(t0 + 1);
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_DISK_MAX_MB "Maximum total size of the disk cache": filled past 1 MB through the server, the cache dir stays within 1 MB and the most recently USED entry survives', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_DISK_MAX_MB: '1' });
    let stopped = false;
    try {
      const hot = signed(`/w:600/q:100/plain/${fixture.origin.url}/a.jpg`);
      const hotBody = (await get(px, hot)).body;
      let written = hotBody.length;
      const variants: string[] = [];
      for (let i = 0; i < 20; i++) {
        const p = signed(`/w:${560 + i}/q:100/plain/${fixture.origin.url}/a.jpg`);
        variants.push(p);
        written += (await get(px, p)).body.length;
        await px.app.ctx.cache.flush();
        // the hot entry is used between every two new entries (served by L1: a use all the same)
        expect((await get(px, hot)).status).toBe(200);
        expect(await diskBytes(px.cacheDir)).toBeLessThanOrEqual(MB);
      }
      expect(written).toBeGreaterThan(1.8 * MB);
      await px.app.ctx.cache.flush();
      const files = (await entryFiles(px.cacheDir)).map((f) => f.rel);
      expect(files).toContain(shardOf(keyOf(px, hot)));
      expect(files).toContain(shardOf(keyOf(px, variants[variants.length - 1] as string)));
      expect(files).not.toContain(shardOf(keyOf(px, variants[0] as string)));
      expect((await px.app.ctx.metrics.cacheEvictions.get()).values.find((v) => v.labels.layer === 'l2')?.value ?? 0).toBeGreaterThan(0);
      // …and after a restart (L1 gone) the hot entry is a disk hit.
      stopped = true;
      await px.stop({ keepCache: true });
      const again = await startApp({ ...ENV, PP_CACHE_DIR: px.cacheDir, PP_CACHE_DISK_MAX_MB: '1' });
      try {
        const r = await get(again, hot);
        expect(r.cache).toBe('HIT-L2');
        expect(r.body.equals(hotBody)).toBe(true);
      } finally {
        await again.stop();
      }
    } finally {
      if (!stopped) await px.stop({ keepCache: true });
      await rm(px.cacheDir, { recursive: true, force: true });
    }
  });

  it('PP_CACHE_CLEANUP_INTERVAL_SECS "How often the background job scans for and removes expired disk cache entries": 1 s removes them with no request touching them; 0 leaves them', async () => {
    // A 2 s TTL leaves room (on a loaded machine) to see the files before they expire.
    const swept = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '2', PP_CACHE_CLEANUP_INTERVAL_SECS: '1' });
    const unswept = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '2', PP_CACHE_CLEANUP_INTERVAL_SECS: '0' });
    try {
      for (const px of [swept, unswept]) {
        await get(px, signed(`/w:164/plain/${fixture.origin.url}/a.jpg`));
        await px.app.ctx.cache.flush();
        expect(await entryFiles(px.cacheDir)).toHaveLength(2);
      }
      await until(async () => (await entryFiles(swept.cacheDir)).length === 0, 8000);
      expect(await entryFiles(swept.cacheDir)).toEqual([]);
      expect(await entryFiles(unswept.cacheDir)).toHaveLength(2);
    } finally {
      await swept.stop();
      await unswept.stop();
    }
  });

  it('"PP_CACHE_DISK_MAX_MB is not set by default, meaning disk usage is unbounded. In production it is strongly recommended to set this": a warning is logged when unset, not when set', async () => {
    const unset = captureLogger('info');
    const set = captureLogger('info');
    const a = await startApp(ENV, { logger: unset.logger });
    const b = await startApp({ ...ENV, PP_CACHE_DISK_MAX_MB: '64' }, { logger: set.logger });
    try {
      const warn = (lines: Array<{ level: number; msg?: string }>) => lines.filter((l) => l.level === 40 && /PP_CACHE_DISK_MAX_MB/.test(l.msg ?? ''));
      expect(warn(unset.lines)).toHaveLength(1);
      expect(warn(unset.lines)[0]?.msg).toMatch(/unbounded/);
      expect(warn(set.lines)).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
