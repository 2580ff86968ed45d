/**
 * The cache's Prometheus series: lookups per layer and outcome, bytes and entries per layer (L1
 * TTL included), evictions, errors, single-flight joins, upstream fetches;
 * IMGPROXY_PROMETHEUS_BIND.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, sleep, MB, get, sample, scrape, type Samples, useCacheOrigin } from '../../helpers/cache.js';
import { freePort } from '../../helpers/ports.js';

const fixture = useCacheOrigin();

describe('metrics (issue item 10)', () => {
  // /metrics is on the main port only when asked (imgproxy serves it on IMGPROXY_PROMETHEUS_BIND alone).
  const METRICS_ENV = { ...ENV, PIXPROXY_METRICS_ON_MAIN_PORT: 'true' };
  const NAMES = [
    'cache_lookups_total',
    'cache_bytes',
    'cache_entries',
    'cache_evictions_total',
    'cache_errors_total',
    'singleflight_joins_total',
    'upstream_fetches_total',
    'transforms_total',
  ];

  it('GET /metrics: hits and misses per layer, bytes and entries per layer, upstream fetches, single-flight joins move as requests go', async () => {
    const px = await startApp({ ...METRICS_ENV, PP_CACHE_DISK_MAX_MB: '64' });
    try {
      const m0 = await scrape(`${px.url}/metrics`);
      const res = await fetch(`${px.url}/metrics`);
      const text = await res.text();
      for (const n of NAMES) expect(text).toContain(`# TYPE ${n} `);

      const p = signed(`/w:170/plain/${fixture.origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      const m1 = await scrape(`${px.url}/metrics`);
      const d = (m: Samples, name: string, labels: Record<string, string> = {}): number => sample(m, name, labels) - sample(m0, name, labels);
      expect(d(m1, 'cache_lookups_total', { layer: 'memory', outcome: 'miss' })).toBe(1);
      expect(d(m1, 'cache_lookups_total', { layer: 'l2', outcome: 'miss' })).toBe(1);
      expect(d(m1, 'cache_lookups_total', { layer: 'origin', outcome: 'miss' })).toBe(1);
      expect(d(m1, 'upstream_fetches_total', { scheme: 'http', outcome: 'ok' })).toBe(1);
      expect(sample(m1, 'cache_entries', { layer: 'memory' })).toBe(1);
      expect(sample(m1, 'cache_entries', { layer: 'l2' })).toBe(1);
      expect(sample(m1, 'cache_entries', { layer: 'origin' })).toBe(1);
      for (const layer of ['memory', 'l2', 'origin']) expect(sample(m1, 'cache_bytes', { layer })).toBeGreaterThan(0);
      expect(sample(m1, 'cache_bytes', { layer: 'origin' })).toBeGreaterThan(fixture.photo.length);

      expect((await get(px, p)).cache).toBe('HIT-L1');
      const m2 = await scrape(`${px.url}/metrics`);
      expect(d(m2, 'cache_lookups_total', { layer: 'memory', outcome: 'hit' })).toBe(1);
      expect(d(m2, 'cache_lookups_total', { layer: 'l2', outcome: 'miss' })).toBe(1);

      // a new variant of the same source: origin hit, no upstream fetch
      await get(px, signed(`/w:171/plain/${fixture.origin.url}/a.jpg`));
      await px.app.ctx.cache.flush();
      const m3 = await scrape(`${px.url}/metrics`);
      expect(d(m3, 'cache_lookups_total', { layer: 'origin', outcome: 'hit' })).toBe(1);
      expect(d(m3, 'upstream_fetches_total', { scheme: 'http', outcome: 'ok' })).toBe(1);
      expect(sample(m3, 'cache_entries', { layer: 'memory' })).toBe(2);
      expect(sample(m3, 'cache_entries', { layer: 'l2' })).toBe(2);

      // 10 concurrent identical misses: 9 join
      const slow = signed(`/w:172/plain/${fixture.origin.url}/slow.jpg`);
      await Promise.all(Array.from({ length: 10 }, () => get(px, slow)));
      const m4 = await scrape(`${px.url}/metrics`);
      expect(d(m4, 'singleflight_joins_total', { kind: 'image' })).toBe(9);
    } finally {
      await px.stop();
    }
  });

  it('GET /metrics: an L2 hit after L1 expiry counts l2 hit, and cache_entries{memory} follows the L1 TTL', async () => {
    const px = await startApp({ ...METRICS_ENV, PP_CACHE_MEMORY_TTL_SECS: '2' });
    try {
      const p = signed(`/w:173/plain/${fixture.origin.url}/a.jpg`);
      await get(px, p);
      await px.app.ctx.cache.flush();
      expect(sample(await scrape(`${px.url}/metrics`), 'cache_entries', { layer: 'memory' })).toBe(1);
      await sleep(2200);
      const m = await scrape(`${px.url}/metrics`);
      expect(sample(m, 'cache_entries', { layer: 'memory' })).toBe(0);
      expect(sample(m, 'cache_bytes', { layer: 'memory' })).toBe(0);
      expect((await get(px, p)).cache).toBe('HIT-L2');
      const m2 = await scrape(`${px.url}/metrics`);
      expect(sample(m2, 'cache_lookups_total', { layer: 'l2', outcome: 'hit' })).toBe(1);
      expect(sample(m2, 'cache_entries', { layer: 'memory' })).toBe(1);
    } finally {
      await px.stop();
    }
  });

  it('GET /metrics: evictions per layer (memory and l2) and cache errors', async () => {
    const px = await startApp({ ...METRICS_ENV, PP_CACHE_MEMORY_MAX_MB: '1', PP_CACHE_DISK_MAX_MB: '1' });
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-err-'));
    const notADir = join(dir, 'file');
    await writeFile(notADir, 'x');
    const broken = await startApp({ ...METRICS_ENV, PP_CACHE_DIR: notADir });
    try {
      for (let i = 0; i < 14; i++) await get(px, signed(`/w:${540 + i}/q:100/plain/${fixture.origin.url}/a.jpg`));
      await px.app.ctx.cache.flush();
      const m = await scrape(`${px.url}/metrics`);
      expect(sample(m, 'cache_evictions_total', { layer: 'memory' })).toBeGreaterThan(0);
      expect(sample(m, 'cache_evictions_total', { layer: 'l2' })).toBeGreaterThan(0);
      expect(sample(m, 'cache_bytes', { layer: 'l2' }) + sample(m, 'cache_bytes', { layer: 'origin' })).toBeLessThanOrEqual(MB);

      expect((await get(broken, signed(`/w:174/plain/${fixture.origin.url}/a.jpg`))).status).toBe(200);
      await broken.app.ctx.cache.flush();
      const e = await scrape(`${broken.url}/metrics`);
      expect(sample(e, 'cache_errors_total', { layer: 'l2', op: 'put' })).toBeGreaterThan(0);
    } finally {
      await px.stop();
      await broken.stop({ keepCache: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('IMGPROXY_PROMETHEUS_BIND: metrics on their own listener, and not on the main port', async () => {
    const port = await freePort();
    const px = await startApp({ ...ENV, IMGPROXY_PROMETHEUS_BIND: `127.0.0.1:${port}` });
    try {
      await get(px, signed(`/w:175/plain/${fixture.origin.url}/a.jpg`));
      const m = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(sample(m, 'cache_lookups_total', { layer: 'memory', outcome: 'miss' })).toBe(1);
      const main = await fetch(`${px.url}/metrics`);
      const body = await main.text();
      expect(main.status).not.toBe(200);
      expect(body).not.toContain('cache_lookups_total');
    } finally {
      await px.stop();
    }
  });
});
