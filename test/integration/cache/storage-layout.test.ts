/**
 * Where the cache is and what it writes: IMGPROXY_CACHE_USE on and off, IMGPROXY_CACHE_PATH_PREFIX
 * and IMGPROXY_CACHE_BUCKET as path components of the fs cache.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.js';
import { originKey } from '../../../src/cache/key.js';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, get, entryFiles, inOrigin, shardOf, keyOf, useCacheOrigin } from '../../helpers/cache.js';

const fixture = useCacheOrigin();

describe('[imgproxy] Configuration', () => {
  it('IMGPROXY_CACHE_USE "When blank, the cache is disabled": explicitly empty → nothing stored, a restart misses', async () => {
    expect(loadConfig({ IMGPROXY_CACHE_USE: '' }).cache.use).toBe('none');
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-blank-'));
    const path = signed(`/w:101/plain/${fixture.origin.url}/a.jpg`);
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_CACHE_USE: '' });
      expect((await get(one, path)).cache).toBe('MISS');
      await one.app.ctx.cache.flush();
      // Neither transformed results nor the origin sub-store are written anywhere.
      expect(await entryFiles(dir)).toEqual([]);
      await one.stop();
      const two = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_CACHE_USE: '' });
      try {
        const again = await get(two, path);
        expect(again.status).toBe(200);
        expect(again.cache).toBe('MISS');
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('IMGPROXY_CACHE_USE unset → fs (our documented default: the embedded cache is on), a restart hits L2', async () => {
    expect(loadConfig({}).cache.use).toBe('fs');
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-unset-'));
    const path = signed(`/w:102/plain/${fixture.origin.url}/a.jpg`);
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      expect((await get(one, path)).cache).toBe('MISS');
      await one.app.ctx.cache.flush();
      const files = await entryFiles(dir);
      expect(files.filter((f) => !inOrigin(f))).toHaveLength(1);
      expect(files.filter(inOrigin)).toHaveLength(1);
      await one.stop();
      const two = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      try {
        expect((await get(two, path)).cache).toBe('HIT-L2');
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('IMGPROXY_CACHE_PATH_PREFIX "a path prefix for the cache files": every file lands under <dir>/<prefix>/', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_PATH_PREFIX: 'imgs/v1', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const path = signed(`/w:103/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, path)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      const files = (await entryFiles(px.cacheDir)).map((f) => f.rel);
      expect(files.sort()).toEqual(
        [join('imgs', 'v1', shardOf(keyOf(px, path))), join('imgs', 'v1', 'origin', shardOf(originKey(`${fixture.origin.url}/a.jpg`)))].sort(),
      );
      // …and that is where reads come from: L1 is off, so this hit is the prefixed file.
      expect((await get(px, path)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_CACHE_BUCKET "When using the filesystem adapter, this can be used as an additional path component": <dir>/<bucket>/<prefix>/', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_BUCKET: 'bkt', IMGPROXY_CACHE_PATH_PREFIX: 'pre', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const path = signed(`/w:104/plain/${fixture.origin.url}/a.jpg`);
      await get(px, path);
      await px.app.ctx.cache.flush();
      const files = (await entryFiles(px.cacheDir)).map((f) => f.rel);
      expect(files.sort()).toEqual(
        [join('bkt', 'pre', shardOf(keyOf(px, path))), join('bkt', 'pre', 'origin', shardOf(originKey(`${fixture.origin.url}/a.jpg`)))].sort(),
      );
      expect((await get(px, path)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });
});
