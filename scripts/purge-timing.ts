/**
 * How long a purge by source takes for N variants of one source (docs/cache.md#purge):
 * writes N result entries under one source's key prefix through the cache's own store, then
 * times `purge({ source })` (one prefix listing + batched deletes) and checks it found them all.
 *   npx tsx scripts/purge-timing.ts [fs|s3] [--variants N]      (default: fs and s3, 10,000)
 * s3 runs against a Swift SAIO with s3api started for the run (scripts/swift-saio.sh).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCacheStores, createImageCache } from '../src/cache/index.js';
import { sourcePrefix } from '../src/cache/key.js';
import { loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { forEachLimited } from '../src/storage/delete-many.js';
import { createS3Bucket, startSwift, type SwiftServer } from '../test/integration/storage/servers.js';

const args = process.argv.slice(2);
const at = args.indexOf('--variants');
const variants = at >= 0 ? Number(args[at + 1]) : 10_000;
const kinds = args.filter((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
const wanted = kinds.length > 0 ? kinds : ['fs', 's3'];

async function time(kind: string, env: Record<string, string>): Promise<void> {
  const config = loadConfig({ PP_CACHE_CLEANUP_INTERVAL_SECS: '0', PIXPROXY_CACHE_PURGE_POLL_MS: '0', ...env });
  const logger = silentLogger();
  const metrics = createMetrics('', false);
  const stores = await createCacheStores(config, logger, metrics);
  const cache = createImageCache({ config, l2: stores.l2, origin: stores.origin, purges: stores.purges, direct: stores.direct, metrics, logger, budget: stores.budget });
  await cache.start();
  const source = `https://example.com/${randomBytes(4).toString('hex')}.jpg`;
  const prefix = sourcePrefix(source);
  const store = stores.direct.l2;
  if (!store) throw new Error('no L2');
  const body = Buffer.alloc(2048, 1);
  const t0 = performance.now();
  await forEachLimited(Array.from({ length: variants }, (_, i) => i), 32, async (i) => {
    const key = `${prefix}r${i.toString(16).padStart(32, '0')}${randomBytes(16).toString('hex')}`;
    await store.put(key, body, { contentType: 'image/webp', expiresAt: Date.now() + 3_600_000, extra: { v: '2', format: 'webp', width: '1', height: '1', createdAt: '0', bornAt: '0' } });
  });
  const wrote = performance.now() - t0;
  const t1 = performance.now();
  const result = await cache.purge({ target: { kind: 'source', url: source }, origin: false });
  const purged = performance.now() - t1;
  console.log(`${kind}: ${variants} variants written in ${(wrote / 1000).toFixed(1)} s; purge by source ${purged.toFixed(0)} ms, l2 ${result.purged.l2} entries`);
  if (result.purged.l2 !== variants) process.exitCode = 1;
  await cache.close();
  await stores.close();
}

let swift: SwiftServer | undefined;
const dir = await mkdtemp(join(tmpdir(), 'pixproxy-purge-timing-'));
try {
  if (wanted.includes('fs')) await time('fs', { IMGPROXY_CACHE_USE: 'fs', PP_CACHE_DIR: dir });
  if (wanted.includes('s3')) {
    swift = await startSwift();
    await createS3Bucket(swift, 'timing');
    await time('s3 (Swift s3api)', { IMGPROXY_CACHE_USE: 's3', IMGPROXY_CACHE_S3_ENDPOINT: swift.endpoint, AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', IMGPROXY_CACHE_BUCKET: 'timing' });
  }
} finally {
  await swift?.stop();
  await rm(dir, { recursive: true, force: true });
}
