/**
 * PIXPROXY_CACHE_LEASE on object stores, through the image flow of apps sharing one bucket
 * (as instances would), against a real Swift SAIO:
 *
 * - native Swift: several apps asked for one new key at once compute it once (Swift's create is
 *   not atomic under concurrency; the lease's read-back makes it one);
 * - S3 through Swift's s3api, which refuses conditional PUTs (501): the lease says so once and
 *   steps aside; every app computes, the L2 still works, and the refusal opens no circuit.
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
import { createS3Bucket, createSwiftContainer, requireOrSkip, startSwift, type SwiftServer } from './servers.js';

const skip = requireOrSkip('swift');

describe.skipIf(skip !== undefined)(`lease on object stores${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let swift: SwiftServer;
  let origin: Origin;
  let dir: string;
  const apps: App[] = [];

  beforeAll(async () => {
    const photo = await makePhoto(600, 400);
    origin = await startOrigin(Object.fromEntries(['/s.jpg', '/t.jpg', '/u.jpg'].map((p) => [p, { body: photo, contentType: 'image/jpeg', delayMs: 200 }])));
    swift = await startSwift();
    await Promise.all([createSwiftContainer(swift, 'lease'), createS3Bucket(swift, 'lease-s3')]);
    dir = await mkdtemp(join(tmpdir(), 'pixproxy-lease-store-'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await swift?.stop();
    await origin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function instances(n: number, env: Record<string, string>): Promise<App[]> {
    const config = loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_DIR: dir, PIXPROXY_CACHE_LEASE: 'true', PIXPROXY_CACHE_BACKEND_TIMEOUT_MS: '5000', ...env });
    const made = await Promise.all(Array.from({ length: n }, () => createApp(config, { logger: silentLogger(), defaultMetrics: false })));
    apps.push(...made);
    return made;
  }

  const get = (app: App, path: string) => {
    const request = app.ctx.dialect.parseImage(path, {});
    return app.ctx.images.getImage(request, app.ctx.cache.key(request, {}));
  };
  const total = async (list: App[], f: (a: App) => Promise<number>): Promise<number> => (await Promise.all(list.map(f))).reduce((x, y) => x + y, 0);

  it('Swift: 3 instances asked for one new key at once compute it once', async () => {
    const list = await instances(3, { IMGPROXY_CACHE_USE: 'swift', IMGPROXY_CACHE_BUCKET: 'lease', IMGPROXY_CACHE_SWIFT_AUTH_URL: swift.authUrl, IMGPROXY_CACHE_SWIFT_USERNAME: swift.username, IMGPROXY_CACHE_SWIFT_API_KEY: swift.apiKey });
    for (const [i, path] of ['/s.jpg', '/t.jpg'].entries()) {
      const results = await Promise.all(list.flatMap((a) => [1, 2, 3].map(() => get(a, `/insecure/rs:fit:${150 + i}:100/plain/${origin.url}${path}@png`))));
      expect(results.filter((r) => r.outcome === 'MISS')).toHaveLength(3);
      expect(origin.count(path)).toBe(1);
    }
    expect(await total(list, (a) => counterTotal(a.ctx.metrics.transforms))).toBe(2);
    expect(await total(list, (a) => counterTotal(a.ctx.metrics.cacheErrors))).toBe(0);
  }, 60_000);

  it('S3 via s3api (conditional PUTs refused): the lease steps aside, each instance computes, the L2 still serves', async () => {
    const s3Env = {
      IMGPROXY_CACHE_USE: 's3',
      IMGPROXY_CACHE_BUCKET: 'lease-s3',
      IMGPROXY_CACHE_S3_ENDPOINT: swift.endpoint,
      IMGPROXY_CACHE_S3_REGION: swift.s3.region,
      AWS_ACCESS_KEY_ID: swift.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.s3.secretAccessKey,
    };
    const list = await instances(2, s3Env);
    const path = `/insecure/rs:fit:140:100/plain/${origin.url}/u.jpg@png`;
    const results = await Promise.all(list.map((a) => get(a, path)));
    expect(results.map((r) => r.outcome)).toEqual(['MISS', 'MISS']);
    expect(await total(list, (a) => counterTotal(a.ctx.metrics.leaseClaims, { outcome: 'unsupported' }))).toBe(2);
    // Answers, not failures: no cache error, the circuit closed; the L2 serves a third instance.
    expect(await total(list, (a) => counterTotal(a.ctx.metrics.cacheErrors))).toBe(0);
    await Promise.all(list.map((a) => a.ctx.cache.flush()));
    const [third] = await instances(1, s3Env);
    expect((await get(third as App, path)).outcome).toBe('HIT-L2');
  }, 60_000);
});
