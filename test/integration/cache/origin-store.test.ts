/**
 * The origin sub-store: raw source bytes under <dir>/origin/ keyed by the source URL, reused by
 * other variants (after a restart too), for remote schemes only, with a TTL from the origin's
 * Cache-Control/Expires or PP_CACHE_DISK_TTL_SECS.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOriginCacheable } from '../../../src/cache/index.js';
import { originKey } from '../../../src/cache/key.js';
import { createFsBackend } from '../../../src/storage/fs.js';
import { startApp, type RunningApp } from '../../helpers/app.js';
import { ENV, signed, sleep, get, size, lookups, entryFiles, shardOf, keyOf, useCacheOrigin } from '../../helpers/cache.js';
import { transforms } from '../../helpers/metrics.js';

const fixture = useCacheOrigin();

describe('[pp] L1 and L2', () => {
  it('L2 sub-stores: "Transformed <PP_CACHE_DIR>/ Final transformed image (the result sent to clients)", "Origin <PP_CACHE_DIR>/origin/ Raw fetched bytes before any transform"; "The origin cache key is derived from the source URL only"', async () => {
    const px = await startApp(ENV);
    try {
      const src = `${fixture.origin.url}/a.jpg`;
      const paths = [signed(`/w:131/plain/${src}`), signed(`/w:132/plain/${src}@png`)];
      const sent = [];
      for (const p of paths) sent.push((await get(px, p)).body);
      await px.app.ctx.cache.flush();
      const files = await entryFiles(px.cacheDir);
      expect(files.map((f) => f.rel).sort()).toEqual([...paths.map((p) => shardOf(keyOf(px, p))), join('origin', shardOf(originKey(src)))].sort());
      const fs = createFsBackend(px.cacheDir);
      const read = async (prefix: string, key: string): Promise<Buffer> => {
        const r = await fs.open('', prefix).get(key);
        if (r === null || !('body' in r)) throw new Error('entry missing');
        const chunks: Buffer[] = [];
        for await (const c of r.body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };
      for (const [i, p] of paths.entries()) expect((await read('', keyOf(px, p))).equals(sent[i] as Buffer)).toBe(true);
      expect((await read('origin', originKey(src))).equals(fixture.photo)).toBe(true);
    } finally {
      await px.stop();
    }
  });

  it('"If the same URL is later requested with different transform parameters, PreviewProxy reads the raw bytes from the origin sub-store … skipping the upstream fetch entirely" (after a restart too)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-origin-'));
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      fixture.origin.files.set('/once.jpg', { body: fixture.photo, contentType: 'image/jpeg' });
      await get(one, signed(`/w:133/plain/${fixture.origin.url}/once.jpg`));
      await one.stop();
      expect(fixture.origin.count('/once.jpg')).toBe(1);
      const two = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      try {
        const r = await get(two, signed(`/w:134/plain/${fixture.origin.url}/once.jpg`));
        expect(r.cache).toBe('MISS');
        expect((await size(r.body))[0]).toBe(134);
        expect(fixture.origin.count('/once.jpg')).toBe(1);
        expect(await lookups(two, 'origin', 'hit')).toBe(1);
        expect(await transforms(two)).toBe(1);
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('"This applies to HTTP and S3 sources" (module level: no S3 server in this suite): remote schemes are stored, local:// is not', () => {
    for (const u of ['http://h/a.jpg', 'https://h/a.jpg', 's3://bucket/a.jpg']) expect(isOriginCacheable(u)).toBe(true);
    expect(isOriginCacheable('local:///a.jpg')).toBe(false);
  });

  describe('"the TTL of an origin entry is derived from the upstream response headers (Cache-Control: max-age or Expires), falling back to PP_CACHE_DISK_TTL_SECS"', () => {
    let px: RunningApp;
    beforeAll(async () => {
      px = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '5000' });
    });
    afterAll(async () => {
      await px.stop();
    });
    const originExpiry = async (file: string): Promise<number> => {
      await get(px, signed(`/w:140/plain/${fixture.origin.url}/${file}`));
      await px.app.ctx.cache.flush();
      // fs layout: the entry file's mtime holds its expiry (src/storage/fs.ts)
      return (await stat(join(px.cacheDir, 'origin', shardOf(originKey(`${fixture.origin.url}/${file}`))))).mtimeMs;
    };
    it('Cache-Control: max-age=1000 → expires in 1000 s', async () => {
      expect(Math.abs((await originExpiry('maxage.jpg')) - (Date.now() + 1_000_000))).toBeLessThan(3000);
    });
    it('Expires: now + 2000 s → expires then', async () => {
      fixture.origin.files.set('/expires.jpg', { body: fixture.photo, contentType: 'image/jpeg', headers: { Expires: new Date(Date.now() + 2_000_000).toUTCString() } });
      expect(Math.abs((await originExpiry('expires.jpg')) - (Date.now() + 2_000_000))).toBeLessThan(3000);
    });
    it('no headers → PP_CACHE_DISK_TTL_SECS (5000 s)', async () => {
      expect(Math.abs((await originExpiry('noheaders.jpg')) - (Date.now() + 5_000_000))).toBeLessThan(3000);
    });
    it('max-age=2: once it has passed, a new variant fetches the source again', async () => {
      await get(px, signed(`/w:141/plain/${fixture.origin.url}/maxage2.jpg`));
      await get(px, signed(`/w:142/plain/${fixture.origin.url}/maxage2.jpg`));
      expect(fixture.origin.count('/maxage2.jpg')).toBe(1);
      await sleep(2200);
      await get(px, signed(`/w:143/plain/${fixture.origin.url}/maxage2.jpg`));
      expect(fixture.origin.count('/maxage2.jpg')).toBe(2);
    });
  });
});
