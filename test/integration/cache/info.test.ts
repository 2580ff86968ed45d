/**
 * /info results cached (imgproxy does not cache them; PIXPROXY_CACHE_INFO_TTL_SECS=0 restores
 * that), purged with their source.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, entryFiles, inOrigin, useCacheOrigin } from '../../helpers/cache.js';

const fixture = useCacheOrigin();

describe('[imgproxy] Limitations', () => {
  it('"Requests to the /info endpoint are not cached" is lifted: MISS, then HIT-L1 (one fetch), an L2 entry of its own; a purge of its source shows the new bytes', async () => {
    const px = await startApp(ENV);
    fixture.origin.files.set('/info.jpg', { body: fixture.photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
    try {
      const infoPath = signed(`/plain/${fixture.origin.url}/info.jpg`);
      const first = await fetch(`${px.url}/info${infoPath}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(await first.json()).toMatchObject({ width: 800, height: 600 });
      fixture.origin.files.set('/info.jpg', { body: fixture.tall, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
      const second = await fetch(`${px.url}/info${infoPath}`);
      expect(second.headers.get('x-cache')).toBe('HIT-L1');
      expect(await second.json()).toMatchObject({ width: 800, height: 600 });
      expect(fixture.origin.count('/info.jpg')).toBe(1);
      await px.app.ctx.cache.flush();
      const files = await entryFiles(px.cacheDir);
      expect(files.filter((f) => /_i[0-9a-f]+$/.test(f.rel))).toHaveLength(1);

      const purged = await px.app.ctx.cache.purge({ target: { kind: 'source', url: `${fixture.origin.url}/info.jpg` }, origin: true });
      expect(purged.purged.l1).toBe(1);
      expect(purged.purged.l2).toBe(1);
      const third = await fetch(`${px.url}/info${infoPath}`);
      expect(third.headers.get('x-cache')).toBe('MISS');
      expect(await third.json()).toMatchObject({ width: 300, height: 500 });
    } finally {
      await px.stop();
    }
  });

  it('PIXPROXY_CACHE_INFO_TTL_SECS=0 keeps /info uncached: a changed source shows at once, nothing enters L1 or L2', async () => {
    const px = await startApp({ ...ENV, PIXPROXY_CACHE_INFO_TTL_SECS: '0' });
    fixture.origin.files.set('/info0.jpg', { body: fixture.photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
    try {
      const infoPath = signed(`/plain/${fixture.origin.url}/info0.jpg`);
      const first = await fetch(`${px.url}/info${infoPath}`);
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(await first.json()).toMatchObject({ width: 800, height: 600 });
      fixture.origin.files.set('/info0.jpg', { body: fixture.tall, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
      const second = await fetch(`${px.url}/info${infoPath}`);
      expect(second.headers.get('x-cache')).toBe('MISS');
      expect(await second.json()).toMatchObject({ width: 300, height: 500 });
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toEqual([]);
    } finally {
      await px.stop();
    }
  });
});
