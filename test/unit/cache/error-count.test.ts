/**
 * One cache failure is one `cache_errors_total`: an object store's failed call is reported by
 * its resilience wrapper (storage/resilient.ts) and then caught by the layer that made it
 * (cache/layers.ts), and only one of them may count it. The L2 is the Swift adapter pointed at
 * a loopback port nothing listens on (every call: connection refused).
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCacheStores, createImageCache, makeCachedImage } from '../../../src/cache/index.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { counterTotal } from '../../helpers/metrics.js';
import { hexKey, testConfig } from './helpers.js';

/** A loopback port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('cache_errors_total', () => {
  it('counts a failed L2 read and a failed L2 write once each', async () => {
    const port = await closedPort();
    const config = testConfig({
      IMGPROXY_CACHE_USE: 'swift',
      IMGPROXY_CACHE_BUCKET: 'c',
      IMGPROXY_CACHE_SWIFT_AUTH_URL: `http://127.0.0.1:${port}/auth/v1.0`,
      IMGPROXY_CACHE_SWIFT_USERNAME: 'test:tester',
      IMGPROXY_CACHE_SWIFT_API_KEY: 'testing',
      IMGPROXY_CACHE_SWIFT_AUTH_VERSION: '1',
    });
    const metrics = createMetrics('', false);
    const stores = await createCacheStores(config, silentLogger(), metrics);
    const cache = createImageCache({ config, l2: stores.l2, origin: stores.origin, purges: null, direct: stores.direct, metrics, logger: silentLogger() });
    try {
      const key = hexKey('count');
      expect(await cache.lookup(key)).toBeNull();
      expect(await counterTotal(metrics.cacheErrors, { layer: 'l2', op: 'get' })).toBe(1);
      const now = Date.now();
      const img = makeCachedImage(
        { data: Buffer.from('x'), format: 'png', contentType: 'image/png', width: 1, height: 1, originFormat: 'png', originWidth: 1, originHeight: 1 },
        { originSize: 1, createdAt: now, bornAt: now },
      );
      cache.store(key, img);
      await cache.flush();
      expect(await counterTotal(metrics.cacheErrors, { layer: 'l2', op: 'put' })).toBe(1);
      expect(await counterTotal(metrics.cacheErrors)).toBe(2);
    } finally {
      await cache.close();
      await stores.close();
    }
  });
});
