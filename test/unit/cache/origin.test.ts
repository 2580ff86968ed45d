/**
 * Origin sub-store. PreviewProxy's caching overview (https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview):
 * "The origin sub-store allows the same source file to be fetched only once. If the same URL is later requested with different transform parameters, PreviewProxy
 * reads the raw bytes from the origin sub-store … This applies to HTTP and S3 sources." and
 * "For HTTP sources the TTL of an origin entry is derived from the upstream response headers
 * (Cache-Control: max-age or Expires), falling back to PP_CACHE_DISK_TTL_SECS when no headers
 * are present." Tested against a real loopback origin (node:http on 127.0.0.1:0) via fetch.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createImageCache, type ImageCache } from '../../../src/cache/index.js';
import { originKey } from '../../../src/cache/key.js';
import { originFreshness } from '../../../src/cache/origin-policy.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createFsBackend, type FsBlobStore } from '../../../src/storage/fs.js';
import type { SourceResponse } from '../../../src/sources/types.js';
import { httpFetcher, makeTempDir, testConfig } from './helpers.js';

const DAY = 86_400_000;

describe('origin TTL per RFC 9111 (shared cache), fallback PP_CACHE_DISK_TTL_SECS', () => {
  const now = (): string => new Date().toUTCString();
  const rows: Array<[string, Record<string, string>, { storable: boolean; freshMs?: number; explicit?: boolean }]> = [
    ['"Cache-Control: max-age"', { 'cache-control': 'max-age=60' }, { storable: true, freshMs: 60_000, explicit: true }],
    ['s-maxage beats max-age for a shared cache', { 'cache-control': 'max-age=60, s-maxage=120' }, { storable: true, freshMs: 120_000 }],
    ['"Expires" (relative to Date)', { date: now(), expires: new Date(Date.now() + 300_000).toUTCString() }, { storable: true, freshMs: 300_000 }],
    ['max-age beats Expires', { 'cache-control': 'max-age=60', expires: new Date(Date.now() + 999_000).toUTCString() }, { storable: true, freshMs: 60_000 }],
    ['Age is subtracted', { 'cache-control': 'max-age=100', age: '40' }, { storable: true, freshMs: 60_000 }],
    ['Expires in the past → stale at once', { date: now(), expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }, { storable: true, freshMs: 0 }],
    ['no-cache → must revalidate every time', { 'cache-control': 'no-cache' }, { storable: true, freshMs: 0, explicit: true }],
    ['no-store → not stored', { 'cache-control': 'no-store, max-age=60' }, { storable: false }],
    ['private → not stored in a shared cache', { 'cache-control': 'private, max-age=60' }, { storable: false }],
    ['"when no headers are present" → PP_CACHE_DISK_TTL_SECS', {}, { storable: true, freshMs: DAY, explicit: false }],
    ['Last-Modified alone is not freshness → fallback, not the 10% heuristic', { 'last-modified': 'Thu, 01 Jan 2015 00:00:00 GMT' }, { storable: true, freshMs: DAY, explicit: false }],
  ];
  for (const [name, headers, want] of rows) {
    it(name, () => {
      const f = originFreshness(headers, DAY);
      expect(f.storable).toBe(want.storable);
      if (want.freshMs !== undefined) expect(Math.abs(f.freshMs - want.freshMs)).toBeLessThanOrEqual(1500);
      if (want.explicit !== undefined) expect(f.explicit).toBe(want.explicit);
    });
  }
});

interface Resource {
  body: Buffer;
  etag?: string;
  lastModified?: string;
  cacheControl?: string;
  delayMs?: number;
}

describe('origin sub-store against a loopback origin', () => {
  let server: Server;
  let base = '';
  const resources = new Map<string, Resource>();
  const log: Array<{ path: string; ifNoneMatch?: string; ifModifiedSince?: string; status: number }> = [];
  let dir = '';
  let cleanup: () => Promise<void> = async () => undefined;
  let cache: ImageCache;
  let originStore: FsBlobStore;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '/';
      const r = resources.get(path);
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      const send = (): void => {
        if (!r) {
          res.writeHead(404).end();
          log.push({ path, status: 404 });
          return;
        }
        const headers: Record<string, string> = { 'content-type': 'image/png' };
        if (r.etag) headers.etag = r.etag;
        if (r.lastModified) headers['last-modified'] = r.lastModified;
        if (r.cacheControl) headers['cache-control'] = r.cacheControl;
        const notModified = (inm !== undefined && inm === r.etag) || (inm === undefined && ims !== undefined && ims === r.lastModified);
        const status = notModified ? 304 : 200;
        log.push({ path, status, ...(inm !== undefined ? { ifNoneMatch: inm } : {}), ...(ims !== undefined ? { ifModifiedSince: ims } : {}) });
        res.writeHead(status, headers).end(notModified ? undefined : r.body);
      };
      if (r?.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('pixproxy-origin-'));
    resources.clear();
    log.length = 0;
    const backend = createFsBackend(dir, { fsync: false });
    originStore = backend.open('', 'origin');
    cache = createImageCache({ config: testConfig({ PP_CACHE_DIR: dir }), l2: backend.open(''), origin: originStore, metrics: createMetrics('', false), logger: silentLogger() });
  });
  afterEach(async () => {
    await cache.close();
    await cleanup();
  });

  const get = async (path: string): Promise<{ response: SourceResponse; outcome: string }> => {
    const r = await cache.getSource(base + path, httpFetcher(base + path));
    await cache.flush();
    return r;
  };

  it('"fetched only once": a second request for the same URL is served from the origin store', async () => {
    resources.set('/a.png', { body: Buffer.from('PNG-A'), cacheControl: 'max-age=3600' });
    expect((await get('/a.png')).outcome).toBe('miss');
    const second = await get('/a.png');
    expect(second.outcome).toBe('hit');
    expect(second.response.body.toString()).toBe('PNG-A');
    expect(second.response.contentType).toBe('image/png');
    expect(log.length).toBe(1);
    const meta = await originStore.head(originKey(base + '/a.png'));
    expect(meta?.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('validators and headers are stored in meta', async () => {
    resources.set('/v.png', { body: Buffer.from('V'), etag: '"v1"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT', cacheControl: 'max-age=60' });
    await get('/v.png');
    const meta = await originStore.head(originKey(base + '/v.png'));
    expect(meta?.etag).toBe('"v1"');
    expect(meta?.lastModified).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(JSON.parse(meta?.extra?.headers ?? '{}')['cache-control']).toBe('max-age=60');
  });

  it('stale + ETag → If-None-Match; a 304 refreshes the expiry without a download (body reused)', async () => {
    resources.set('/e.png', { body: Buffer.from('E-BODY'), etag: '"e1"', cacheControl: 'max-age=0' });
    expect((await get('/e.png')).outcome).toBe('miss');
    // The origin now says "fresh for an hour" on its 304s.
    resources.set('/e.png', { body: Buffer.from('E-BODY'), etag: '"e1"', cacheControl: 'max-age=3600' });
    const reval = await get('/e.png');
    expect(reval.outcome).toBe('revalidated');
    expect(reval.response.status).toBe(200);
    expect(reval.response.body.toString()).toBe('E-BODY');
    expect(log[1]).toMatchObject({ ifNoneMatch: '"e1"', status: 304 });
    // Expiry refreshed from the 304's headers: the next request is a plain hit.
    expect((await get('/e.png')).outcome).toBe('hit');
    expect(log.length).toBe(2);
  });

  it('stale + ETag, but the source changed → 200 replaces the entry', async () => {
    resources.set('/c.png', { body: Buffer.from('OLD'), etag: '"a"', cacheControl: 'max-age=0' });
    await get('/c.png');
    resources.set('/c.png', { body: Buffer.from('NEW'), etag: '"b"', cacheControl: 'max-age=0' });
    const changed = await get('/c.png');
    expect(changed.outcome).toBe('miss');
    expect(changed.response.body.toString()).toBe('NEW');
    expect(log[1]).toMatchObject({ ifNoneMatch: '"a"', status: 200 });
    // The replacement is what gets revalidated next.
    const again = await get('/c.png');
    expect(again.outcome).toBe('revalidated');
    expect(again.response.body.toString()).toBe('NEW');
    expect(log[2]).toMatchObject({ ifNoneMatch: '"b"', status: 304 });
  });

  it('stale + Last-Modified only → If-Modified-Since', async () => {
    const lm = 'Wed, 21 Oct 2015 07:28:00 GMT';
    resources.set('/l.png', { body: Buffer.from('L'), lastModified: lm, cacheControl: 'no-cache' });
    await get('/l.png');
    const r = await get('/l.png');
    expect(r.outcome).toBe('revalidated');
    expect(log[1]).toMatchObject({ ifModifiedSince: lm, status: 304 });
  });

  it("the store's own validators are never taken for the origin's (no conditional headers upstream, none in the response)", async () => {
    // The fs store (like the object stores) gives every entry an etag and a Last-Modified of
    // its own when the origin sent none.
    resources.set('/nv.png', { body: Buffer.from('NV'), cacheControl: 'max-age=3600' });
    await get('/nv.png');
    const meta = await originStore.head(originKey(base + '/nv.png'));
    expect(meta?.etag).toBeTruthy();
    const hit = await get('/nv.png');
    expect(hit.outcome).toBe('hit');
    expect(hit.response.etag).toBeUndefined();
    expect(hit.response.lastModified).toBeUndefined();
    // ETag only: the store's Last-Modified must not turn into an If-Modified-Since either.
    resources.set('/eo.png', { body: Buffer.from('EO'), etag: '"eo"', cacheControl: 'no-cache' });
    await get('/eo.png');
    expect((await get('/eo.png')).outcome).toBe('revalidated');
    expect(log.at(-1)).toEqual({ path: '/eo.png', ifNoneMatch: '"eo"', status: 304 });
  });

  it('an entry written before validators were kept in extra revalidates with the ones in its meta', async () => {
    const url = base + '/old.png';
    const lm = 'Wed, 21 Oct 2015 07:28:00 GMT';
    resources.set('/old.png', { body: Buffer.from('OLD'), etag: '"old"', lastModified: lm, cacheControl: 'max-age=3600' });
    const extra = { url, freshUntil: String(Date.now() - 1000), headers: JSON.stringify({ 'content-type': 'image/png' }) };
    await originStore.put(originKey(url), Buffer.from('OLD'), { expiresAt: Date.now() + DAY, etag: '"old"', lastModified: lm, contentType: 'image/png', extra });
    const r = await get('/old.png');
    expect(r.outcome).toBe('revalidated');
    expect(r.response.body.toString()).toBe('OLD');
    expect(log[0]).toMatchObject({ ifNoneMatch: '"old"', status: 304 });
  });

  it('no-store and private responses are not stored: every request goes upstream', async () => {
    resources.set('/ns.png', { body: Buffer.from('N'), cacheControl: 'no-store' });
    resources.set('/p.png', { body: Buffer.from('P'), cacheControl: 'private, max-age=600' });
    for (const p of ['/ns.png', '/ns.png', '/p.png', '/p.png']) expect((await get(p)).outcome).toBe('miss');
    expect(log.length).toBe(4);
    expect(await originStore.head(originKey(base + '/ns.png'))).toBeNull();
  });

  it('10 concurrent getSource for one URL → 1 upstream request (per-URL single-flight)', async () => {
    resources.set('/slow.png', { body: Buffer.from('SLOW'), cacheControl: 'max-age=60', delayMs: 80 });
    const url = base + '/slow.png';
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.getSource(url, httpFetcher(url))));
    expect(log.filter((l) => l.path === '/slow.png').length).toBe(1);
    expect(results.every((r) => r.response.body.toString() === 'SLOW')).toBe(true);
  });

  it('followers of a failed fetch get the same error status (404 stays 404, not 500)', async () => {
    const url = base + '/missing.png';
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getSource(url, httpFetcher(url))));
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as { status: number }).status === 404)).toBe(true);
    expect(log.length).toBe(1);
  });

  it('local:// sources are not stored (already on disk)', async () => {
    let calls = 0;
    const fetcher = async (): Promise<SourceResponse> => {
      calls++;
      return { status: 200, body: Buffer.from('LOCAL'), headers: {} };
    };
    expect((await cache.getSource('local:///x.png', fetcher)).outcome).toBe('miss');
    await cache.flush();
    expect((await cache.getSource('local:///x.png', fetcher)).outcome).toBe('miss');
    expect(calls).toBe(2);
    expect(await originStore.head(originKey('local:///x.png'))).toBeNull();
  });

  it('with the origin store off, getSource fetches directly', async () => {
    const direct = createImageCache({ config: testConfig({ PP_CACHE_DIR: dir }), l2: null, origin: null, metrics: createMetrics('', false), logger: silentLogger() });
    resources.set('/d.png', { body: Buffer.from('D'), cacheControl: 'max-age=600' });
    const url = base + '/d.png';
    expect((await direct.getSource(url, httpFetcher(url))).outcome).toBe('miss');
    expect((await direct.getSource(url, httpFetcher(url))).outcome).toBe('miss');
    expect(log.length).toBe(2);
    await direct.close();
  });
});
