/**
 * The image cache facade: L1 → L2 with promotion, fire-and-forget store, ETag per result,
 * error reporting, and the store factory. An L2 hit is copied into L1, as PreviewProxy does
 * (https://github.com/ViGrise/previewproxy/blob/main/src/modules/cache/manager.rs, `get`;
 * its caching overview, https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview:
 * "Once an image has been fetched and processed, subsequent requests for the same image and
 * parameters are served from cache"). imgproxy's internal cache
 * (https://docs.imgproxy.net/cache/internal): "IMGPROXY_CACHE_REPORT_ERRORS: When true,
 * imgproxy will report cache errors instead of silently falling back to processing without
 * cache"; "IMGPROXY_CACHE_USE … When blank, the cache is disabled"; "IMGPROXY_CACHE_BUCKET …
 * When using the filesystem adapter, this can be used as an additional path component".
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeEtag, createCacheStores, createImageCache, makeCachedImage, type CachedImage } from '../../../src/cache/index.js';
import { encodeImageMeta } from '../../../src/cache/image-entry.js';
import { legacyKey } from '../../../src/cache/key.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ImageRequest } from '../../../src/request.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { createFsBackend } from '../../../src/storage/fs.js';
import type { BlobStore } from '../../../src/storage/types.js';
import { counterTotal } from '../../helpers/metrics.js';
import { bodyFor, captureLogger, collect, hexKey, makeTempDir, testConfig } from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('pixproxy-imgcache-'));
});
afterEach(async () => cleanup());

function image(data: Buffer): CachedImage {
  const now = Date.now();
  return makeCachedImage(
    { data, format: 'webp', contentType: 'image/webp', width: 10, height: 20, originFormat: 'jpeg', originWidth: 100, originHeight: 200 },
    { originSize: 12345, createdAt: now, bornAt: now },
  );
}

function counter(metrics: Metrics, layer: string, outcome: string): Promise<number> {
  return counterTotal(metrics.cacheLookups, { layer, outcome });
}

function errorsCount(metrics: Metrics): Promise<number> {
  return counterTotal(metrics.cacheErrors);
}

describe('lookup and store', () => {
  it('miss → null; store → HIT-L1; a fresh process (empty L1) → HIT-L2, promoted → HIT-L1', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    const config = testConfig({ PP_CACHE_DIR: dir });
    const metrics = createMetrics('', false);
    const a = createImageCache({ config, l2, origin: null, metrics, logger: silentLogger() });
    const key = hexKey('img');
    expect(await a.lookup(key)).toBeNull();
    const img = image(Buffer.from('result-bytes'));
    a.store(key, img);
    expect((await a.lookup(key))?.layer).toBe('HIT-L1');
    await a.close();

    const b = createImageCache({ config, l2, origin: null, metrics, logger: silentLogger() });
    const fromL2 = await b.lookup(key);
    expect(fromL2?.layer).toBe('HIT-L2');
    expect(fromL2?.image).toEqual(img); // every field survives the round trip, etag included
    expect((await b.lookup(key))?.layer).toBe('HIT-L1');
    expect(await counter(metrics, 'l2', 'hit')).toBe(1);
    expect(await counter(metrics, 'l2', 'miss')).toBe(1);
    expect(await counter(metrics, 'memory', 'hit')).toBe(2);
    await b.close();
  });

  it('with L1 disabled (PP_CACHE_MEMORY_MAX_MB=0) every hit comes from L2', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    const c = createImageCache({ config: testConfig({ PP_CACHE_MEMORY_MAX_MB: '0' }), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const key = hexKey('no-l1');
    c.store(key, image(Buffer.from('x')));
    await c.flush();
    expect((await c.lookup(key))?.layer).toBe('HIT-L2');
    expect((await c.lookup(key))?.layer).toBe('HIT-L2');
    await c.close();
  });

  it('L1 off: repeated L2 hits of a hot file decode it once and each carries its own bytes; a new entry under the key decodes anew', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    const c = createImageCache({ config: testConfig({ PP_CACHE_MEMORY_MAX_MB: '0' }), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const key = hexKey('decode-memo');
    const now = Date.now();
    const first = makeCachedImage(
      { data: Buffer.from('aaaa'), format: 'webp', contentType: 'image/webp', width: 10, height: 20, originFormat: 'jpeg', originWidth: 100, originHeight: 200 },
      { originSize: 12345, createdAt: now, bornAt: now, tags: ['t1', 't2'] },
    );
    c.store(key, first);
    await c.flush();
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push((await c.lookup(key))?.image);
    for (const h of hits) expect(h).toEqual(first);
    expect(hits[1]).not.toBe(hits[2]);
    expect(hits[1]?.data).not.toBe(hits[2]?.data);
    // Decoded once: the fields a decode builds (the tags split from the stored meta) are the same objects.
    expect(hits[0]?.tags).toEqual(['t1', 't2']);
    expect(hits[2]?.tags).toBe(hits[0]?.tags);
    const second = makeCachedImage(
      { data: Buffer.from('bbbb'), format: 'png', contentType: 'image/png', width: 7, height: 9, originFormat: 'jpeg', originWidth: 70, originHeight: 90 },
      { originSize: 1, createdAt: Date.now(), bornAt: Date.now() },
    );
    c.store(key, second);
    await c.flush();
    expect((await c.lookup(key))?.image).toEqual(second);
    await c.close();
  });

  it("L1 off: an L2 hit read by its lookup alone carries the read buffer's release, and the buffer given back serves the next read; a read two lookups share, or one promoted to L1, carries none", async () => {
    const backend = createFsBackend(dir, { fsync: false });
    const l2 = backend.open('');
    const c = createImageCache({ config: testConfig({ PP_CACHE_MEMORY_MAX_MB: '0' }), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const a = hexKey('pool-a');
    const b = hexKey('pool-b');
    c.store(a, image(bodyFor(1, 100_000)));
    c.store(b, image(bodyFor(2, 100_000)));
    await c.flush();
    const first = await c.lookup(a);
    expect(first?.image.data.equals(bodyFor(1, 100_000))).toBe(true);
    expect(first?.release).toBeTypeOf('function');
    first?.release?.();
    const next = await c.lookup(b);
    expect(next?.image.data.buffer).toBe(first?.image.data.buffer);
    expect(next?.image.data.equals(bodyFor(2, 100_000))).toBe(true);
    next?.release?.();
    // Two lookups at once share one read: neither holds the bytes alone.
    const [x, y] = await Promise.all([c.lookup(a), c.lookup(a)]);
    expect(x?.image.data).toBe(y?.image.data);
    expect(x?.release).toBeUndefined();
    expect(y?.release).toBeUndefined();
    expect(backend.readBuffers()).toMatchObject({ allocated: 1, reused: 2 });
    await c.close();

    const withL1 = createImageCache({ config: testConfig(), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const promoted = await withL1.lookup(a);
    expect(promoted?.layer).toBe('HIT-L2');
    expect(promoted?.release).toBeUndefined();
    await withL1.close();
  });

  it('L2 entries get PP_CACHE_DISK_TTL_SECS as expiry; 0 writes nothing', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    const c = createImageCache({ config: testConfig({ PP_CACHE_DISK_TTL_SECS: '120' }), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    c.store(hexKey(1), image(Buffer.from('x')));
    await c.flush();
    const meta = await l2.head(hexKey(1));
    expect(Math.abs((meta?.expiresAt ?? 0) - (Date.now() + 120_000))).toBeLessThan(2000);
    const zero = createImageCache({ config: testConfig({ PP_CACHE_DISK_TTL_SECS: '0' }), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    zero.store(hexKey(2), image(Buffer.from('y')));
    await zero.flush();
    expect(await l2.head(hexKey(2))).toBeNull();
    await Promise.all([c.close(), zero.close()]);
  });

  it('an L2 object that is not one of ours is a miss and is dropped', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    await l2.put(hexKey('foreign'), Buffer.from('zzz'), { contentType: 'text/plain' });
    const c = createImageCache({ config: testConfig(), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    expect(await c.lookup(hexKey('foreign'))).toBeNull();
    await new Promise((r) => setTimeout(r, 20));
    expect(await l2.head(hexKey('foreign'))).toBeNull();
    await c.close();
  });

  it('the ETag is derived from the result bytes: equal bytes → equal ETag, different → different', () => {
    expect(computeEtag(Buffer.from('a'))).toBe(computeEtag(Buffer.from('a')));
    expect(computeEtag(Buffer.from('a'))).not.toBe(computeEtag(Buffer.from('b')));
    expect(computeEtag(Buffer.from('a'))).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(image(Buffer.from('a')).etag).toBe(computeEtag(Buffer.from('a')));
  });

  it('the key is grouped by source, hashed over the request (no signature), exposed as cache.key()', () => {
    const config = testConfig();
    const c = createImageCache({ config, l2: null, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const req = { kind: 'image' as const, source: 'https://e.com/a.jpg', options: {} as never, signedPath: '/x' };
    expect(c.key(req, {})).toMatch(/^[0-9a-f]{32}_r[0-9a-f]{64}$/);
    expect(c.key({ ...req, signedPath: '/y' }, {})).toBe(c.key(req, {}));
  });

  it('singleflight on the facade coalesces and counts joins', async () => {
    const metrics = createMetrics('', false);
    const c = createImageCache({ config: testConfig(), l2: null, origin: null, metrics, logger: silentLogger() });
    let calls = 0;
    const runs = await Promise.all(Array.from({ length: 5 }, () => c.singleflight.run('k', async () => ++calls)));
    expect(calls).toBe(1);
    expect(runs.every((r) => r.value === 1)).toBe(true);
    expect((await metrics.singleflightJoins.get()).values[0]?.value).toBe(4);
  });
});

describe('cache errors fall back to working without the cache', () => {
  async function unwritableStore(): Promise<BlobStore> {
    // The cache root is a regular file: every mkdir/open under it fails (works as root too).
    const root = join(dir, 'not-a-dir');
    await writeFile(root, 'x');
    return createFsBackend(root).open('');
  }

  for (const reportErrors of [true, false]) {
    it(`IMGPROXY_CACHE_REPORT_ERRORS=${reportErrors}: store never throws, the error is counted${reportErrors ? ' and logged at error level with detail' : ', no error-level log'}`, async () => {
      const cap = captureLogger('debug');
      const metrics = createMetrics('', false);
      const c = createImageCache({
        config: testConfig({ IMGPROXY_CACHE_REPORT_ERRORS: String(reportErrors) }),
        l2: await unwritableStore(),
        origin: null,
        metrics,
        logger: cap.logger,
      });
      const key = hexKey('e');
      expect(() => c.store(key, image(Buffer.from('data')))).not.toThrow();
      await c.flush();
      expect(await errorsCount(metrics)).toBe(1);
      const errorLines = cap.lines().filter((l) => l.level === 50);
      if (reportErrors) {
        expect(errorLines.length).toBe(1);
        expect(JSON.stringify(errorLines[0])).toMatch(/ENOTDIR|EEXIST/);
      } else {
        expect(errorLines.length).toBe(0);
        expect(cap.lines().some((l) => l.level === 20 && String(l.msg).includes('cache'))).toBe(true);
      }
      // The request path still works: L1 serves the result.
      expect((await c.lookup(key))?.layer).toBe('HIT-L1');
      await c.close();
    });
  }

  it('an L2 read error is a miss (and counted), not a failure', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    const key = hexKey('eisdir');
    // A directory where the entry file should be: open() works, reading fails with EISDIR.
    await mkdir(join(l2.dir, key.slice(0, 2), key.slice(2, 4), key), { recursive: true });
    const metrics = createMetrics('', false);
    const c = createImageCache({ config: testConfig({ IMGPROXY_CACHE_REPORT_ERRORS: 'true' }), l2, origin: null, metrics, logger: silentLogger() });
    expect(await c.lookup(key)).toBeNull();
    expect(await errorsCount(metrics)).toBe(1);
    await c.close();
  });
});

describe('createCacheStores', () => {
  it('IMGPROXY_CACHE_USE empty/none → no L2 and no origin store', async () => {
    const s = await createCacheStores(testConfig({ IMGPROXY_CACHE_USE: '' }), silentLogger());
    expect([s.l2, s.origin, s.budget]).toEqual([null, null, null]);
    await s.close();
  });

  it('unset → fs at <PP_CACHE_DIR>/<bucket>/<prefix>/ with the origin sub-store in origin/', async () => {
    const config = testConfig({ PP_CACHE_DIR: dir, IMGPROXY_CACHE_BUCKET: 'bkt', IMGPROXY_CACHE_PATH_PREFIX: 'img/v1', PP_CACHE_DISK_MAX_MB: '10' });
    const s = await createCacheStores(config, silentLogger(), createMetrics('', false));
    expect(s.budget?.maxBytes).toBe(10 * 1024 * 1024);
    const c = createImageCache({ config, l2: s.l2, origin: s.origin, metrics: createMetrics('', false), logger: silentLogger(), budget: s.budget });
    c.store(hexKey('t'), image(Buffer.from('t')));
    await c.flush();
    const key = hexKey('t');
    const { stat } = await import('node:fs/promises');
    expect((await stat(join(dir, 'bkt', 'img', 'v1', key.slice(0, 2), key.slice(2, 4), key))).isFile()).toBe(true);
    expect(s.origin && (await collect(s.origin.list())).length).toBe(0);
    await s.origin?.put(hexKey('o'), Buffer.from('o'), {});
    const ok = hexKey('o');
    expect((await stat(join(dir, 'bkt', 'img', 'v1', 'origin', ok.slice(0, 2), ok.slice(2, 4), ok))).isFile()).toBe(true);
    // The transformed store's walk does not count the nested origin store.
    expect(s.l2 && (await collect(s.l2.list())).map((i) => i.key)).toEqual([key]);
    await c.close();
    await s.close();
  });
});

describe('key layout migration (layout 1: one flat digest, before grouping by source)', () => {
  const req = (): ImageRequest => ({ kind: 'image', source: 'https://e.com/m.jpg', options: { ...defaultOptions(testConfig()), width: 40 }, signedPath: '/x' });

  async function writeLegacy(l2: BlobStore, bornAt: number): Promise<string> {
    const config = testConfig();
    const legacy = legacyKey(req(), {}, config.cache);
    const img = { ...image(Buffer.from('layout-1')), createdAt: bornAt, bornAt };
    const meta = encodeImageMeta(img);
    // What layout 1 wrote: meta version 1, no bornAt.
    const extra: Record<string, string> = { ...meta.extra, v: '1' };
    delete extra.bornAt;
    await l2.put(legacy, img.data, { contentType: meta.contentType, etag: meta.etag, extra, expiresAt: Date.now() + 60_000 });
    return legacy;
  }

  it('a layout-1 entry is served (HIT-L2) and moved to its grouped key; PIXPROXY_CACHE_READ_LAYOUT1=false does not read it', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    const legacy = await writeLegacy(l2, Date.now() - 1000);
    const off = createImageCache({ config: testConfig({ PIXPROXY_CACHE_READ_LAYOUT1: 'false' }), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    expect(await off.lookup(off.key(req(), {}))).toBeNull();
    await off.close();
    const c = createImageCache({ config: testConfig(), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const key = c.key(req(), {});
    expect(key).not.toBe(legacy);
    const hit = await c.lookup(key);
    expect(hit?.layer).toBe('HIT-L2');
    expect(hit?.image.data.toString()).toBe('layout-1');
    await c.flush();
    expect(await l2.head(key)).not.toBeNull();
    expect(await l2.head(legacy)).toBeNull();
    await c.close();
  });

  it('any purge retires every layout-1 entry older than it (their keys tell neither source nor tags)', async () => {
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    await writeLegacy(l2, Date.now() - 1000);
    const c = createImageCache({ config: testConfig(), l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    await c.purge({ target: { kind: 'tag', tag: 'unrelated' }, origin: false });
    expect(await c.lookup(c.key(req(), {}))).toBeNull();
    await c.close();
  });
});

describe('the lease and purges', () => {
  const req = (): ImageRequest => ({ kind: 'image', source: 'https://e.com/leased.jpg', options: { ...defaultOptions(testConfig()), width: 40 }, signedPath: '/x' });

  it("a follower does not take a result the leader computed before a purge the follower knows of (the lease's shared result gets the purge check)", async () => {
    const config = testConfig({ PP_CACHE_DIR: dir, PIXPROXY_CACHE_LEASE: 'true', PIXPROXY_CACHE_PURGE_POLL_MS: '0' });
    const l2 = createFsBackend(dir, { fsync: false }).open('');
    // Two instances on one L2; without a shared purge log, B never hears of A's purge.
    const a = createImageCache({ config, l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const b = createImageCache({ config, l2, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    const key = a.key(req(), {});
    const bornAt = Date.now() - 50;
    await a.purge({ target: { kind: 'source', url: req().source }, origin: false });

    const signal = new AbortController().signal;
    const led = await b.lease?.claim(key, signal);
    expect(led?.kind).toBe('lead');
    // A follows B's lease while B stores what it computed before the purge, then releases.
    const following = a.lease?.claim(key, signal);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(b.store(key, { ...image(Buffer.from('before-the-purge')), bornAt, createdAt: Date.now() })).toBe(true);
    if (led?.kind === 'lead') led.release();
    const claim = await following;
    // Not B's result: A leads the key itself (and a lookup misses too).
    expect(claim?.kind).toBe('lead');
    expect(await a.lookup(key)).toBeNull();
    if (claim?.kind === 'lead') claim.release();
    await a.flush(); // A's release has deleted its lease

    // The same sequence for a result computed after the purge: the follower takes it.
    const again = await b.lease?.claim(key, signal);
    expect(again?.kind).toBe('lead');
    const follower = a.lease?.claim(key, signal);
    await new Promise((resolve) => setTimeout(resolve, 60));
    b.store(key, { ...image(Buffer.from('after-the-purge')), bornAt: Date.now(), createdAt: Date.now() });
    if (again?.kind === 'lead') again.release();
    const shared = await follower;
    expect(shared?.kind).toBe('result');
    if (shared?.kind === 'result') expect(shared.value.data.toString()).toBe('after-the-purge');
    await a.close();
    await b.close();
  });
});
