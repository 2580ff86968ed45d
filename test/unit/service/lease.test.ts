/**
 * PIXPROXY_CACHE_LEASE through the image flow: several apps (as separate instances would be)
 * sharing one fs L2 directory, asked for one new key at once. With the lease, one downloads
 * and transforms and the others answer its result from the L2; without it, each computes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { makePhoto } from '../../helpers/images.js';
import { counterTotal } from '../../helpers/metrics.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';

let origin: Origin;
const dirs: string[] = [];

beforeAll(async () => {
  const photo = await makePhoto(400, 300);
  origin = await startOrigin({
    '/a.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 200 },
    '/b.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 200 },
  });
});

afterAll(async () => {
  await origin.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function instances(n: number, lease: boolean): Promise<App[]> {
  const dir = await mkdtemp(join(tmpdir(), 'pixproxy-lease-flow-'));
  dirs.push(dir);
  const config = loadConfig({
    IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
    PP_CACHE_DIR: dir,
    PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
    PIXPROXY_CACHE_LEASE: String(lease),
  });
  return Promise.all(Array.from({ length: n }, () => createApp(config, { logger: silentLogger(), defaultMetrics: false })));
}

async function stampede(apps: App[], path: string): Promise<{ outcomes: string[]; transforms: number }> {
  const results = await Promise.all(
    apps.flatMap((app) =>
      Array.from({ length: 5 }, () => {
        const request = app.ctx.dialect.parseImage(path, {});
        return app.ctx.images.getImage(request, app.ctx.cache.key(request, {}));
      }),
    ),
  );
  const transforms = (await Promise.all(apps.map((a) => counterTotal(a.ctx.metrics.transforms)))).reduce((x, y) => x + y, 0);
  return { outcomes: results.map((r) => r.outcome), transforms };
}

describe('cross-instance lease in the image flow', () => {
  it('with the lease, 3 instances asked at once compute one key once and the others answer it from the L2', async () => {
    const apps = await instances(3, true);
    try {
      const { outcomes, transforms } = await stampede(apps, `/insecure/rs:fit:120:90/plain/${origin.url}/a.jpg@png`);
      expect(transforms).toBe(1);
      expect(origin.count('/a.jpg')).toBe(1);
      expect(outcomes.filter((o) => o === 'MISS')).toHaveLength(5);
      expect(outcomes.filter((o) => o === 'HIT-L2')).toHaveLength(10);
      const claims = await Promise.all(apps.map((a) => counterTotal(a.ctx.metrics.leaseClaims, { outcome: 'result' })));
      expect(claims.reduce((x, y) => x + y, 0)).toBe(2);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  });

  it('without it, each instance computes the key (its own single-flight only)', async () => {
    const apps = await instances(3, false);
    try {
      const { transforms } = await stampede(apps, `/insecure/rs:fit:120:90/plain/${origin.url}/b.jpg@png`);
      expect(transforms).toBe(3);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  });
});
