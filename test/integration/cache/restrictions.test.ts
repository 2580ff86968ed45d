/**
 * A cached image is served only to a request the current restrictions allow (source allowlist,
 * resolution limit).
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, get, useCacheOrigin } from '../../helpers/cache.js';

const fixture = useCacheOrigin();

describe('[imgproxy] Why use internal cache?', () => {
  it('"The cache is protected by the same security measures as imgproxy itself, including URL signatures and processing restrictions": a cached image is not served once the restrictions exclude it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-restrict-'));
    const path = signed(`/w:99/plain/${fixture.origin.url}/a.jpg`);
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      expect((await get(one, path)).cache).toBe('MISS');
      await one.stop();
      // Source allowlist narrowed after the entry was cached: same answer as for an uncached URL.
      const narrowed = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_ALLOWED_SOURCES: 'https://images.example.com/' });
      try {
        const r = await get(narrowed, path);
        expect(r.status).toBe(404);
        expect(r.cache).toBeNull();
        expect((await get(narrowed, signed(`/w:98/plain/${fixture.origin.url}/a.jpg`))).status).toBe(404);
      } finally {
        await narrowed.stop({ keepCache: true });
      }
      // Resolution limit lowered (0.1 MP < 800×600): the limit is in the key, the entry is not reused.
      const limited = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_MAX_SRC_RESOLUTION: '0.1' });
      try {
        const r = await get(limited, path);
        expect(r.status).toBe(422);
        expect(r.cache).toBeNull();
      } finally {
        await limited.stop({ keepCache: true });
      }
      // The signature: covered in "How it works" below (a bad signature on a cached URL is 403).
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
