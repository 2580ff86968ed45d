/**
 * The two seed documents, statement by statement, through a real server (issue 3, "The cache").
 *   [imgproxy] = shared/seeds/imgproxy-internal-cache.txt
 *   [pp]       = shared/seeds/previewproxy-caching.txt
 * Each test name quotes the sentence (or its key phrase) it checks. Where a server-level check is
 * impossible the test goes through the module and says why.
 *
 * Statements proved elsewhere (not repeated here):
 *   [pp] "subsequent requests for the same image and parameters are served from cache"
 *        → cache.test.ts "MISS then HIT-L1"
 *   [pp] "The L1 cache is lost when the process restarts" → cache.test.ts "L2 survives restarts"
 *   [pp] "Inflight deduplication … only one fetch and transform" → cache.test.ts "100 concurrent
 *        identical requests → 1 fetch and 1 transform", "404 stays 404"; unit/cache/singleflight.test.ts
 *   [pp] "fetched only once" (concurrent variants) → cache.test.ts "10 concurrent variants → 1 upstream fetch"
 *   [imgproxy] "Output format" via Accept → cache.test.ts "Output format"; unit/cache/key.test.ts
 *   [imgproxy] "URL signature is not part of the cache key" (two pairs, one process) → cache.test.ts
 *   [imgproxy] "silently falling back to processing without cache" (200 with an unusable dir) → cache.test.ts
 *   crash safety ("If the cached image exists and is valid" after kill -9) → crash.test.ts,
 *        unit/storage/fs-crash.test.ts; damaged-file kinds → unit/storage/fs.test.ts
 *   origin TTL under RFC 9111 (s-maxage, Age, no-store, private, revalidation) → unit/cache/origin.test.ts
 *   PP_CACHE_DISK_MAX_MB unset → unbounded (many entries kept) → unit/cache/budget.test.ts
 *   PP_CACHE_DISK_MAX_MB bounds transformed + origin together, LRU survives restarts → unit/cache/budget.test.ts
 *
 * Statements that did not hold before these tests (fixed with them):
 *   [imgproxy] "stores the result in the cache before serving it": results were stored after the
 *        response had finished, so a request right after it (L1 off) missed, and when the client
 *        that started a computation had gone nothing was stored (its followers were served) → now
 *        stored by the computation before any waiter is answered, L2 writes in flight readable.
 *        (When every client has gone, main abandons the work on purpose: not a seed statement.)
 *   [pp] PP_CACHE_DISK_MAX_MB with the most recently USED entries kept: L1 hits did not count as
 *        uses of the disk entry, so the hottest image was evicted first → budget.noteUse().
 *   metrics: cache_entries/cache_bytes{layer="memory"} ignored the L1 TTL → purged at scrape.
 *   [imgproxy] "protected by the same security measures … processing restrictions": the source
 *        allowlist was only checked on fetch, so a cached image of a source no longer allowed was
 *        still served → checked before the cache lookup too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { canonicalString, signCanonical } from '../../src/dialects/previewproxy/index.js';
import { paramsFromQuery } from '../../src/dialects/previewproxy/params.js';
import { isOriginCacheable } from '../../src/cache/index.js';
import { originKey } from '../../src/cache/key.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { createFsBackend } from '../../src/storage/fs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { counterTotal, transforms } from '../helpers/metrics.js';
import { freePort } from '../helpers/ports.js';

const K1 = Buffer.from('seed-key-1');
const S1 = Buffer.from('seed-salt-1');
const K2 = Buffer.from('seed-key-2');
const S2 = Buffer.from('seed-salt-2');
const hex = (b: Buffer): string => b.toString('hex');
const ENV = { IMGPROXY_KEY: hex(K1), IMGPROXY_SALT: hex(S1) };
const signed = (path: string, key = K1, salt = S1): string => `/${sign(path, key, salt, 32)}${path}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

/** Polls `cond` every 100 ms for up to `ms`; the caller's assertion says what failed. */
async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await sleep(100);
}

interface Got {
  status: number;
  cache: string | null;
  body: Buffer;
  headers: Headers;
}

async function get(px: RunningApp, path: string, init?: RequestInit): Promise<Got> {
  const res = await fetch(px.url + path, init);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, cache: res.headers.get('x-cache'), body, headers: res.headers };
}

async function size(img: Buffer): Promise<[number | undefined, number | undefined]> {
  const m = await sharp(img).metadata();
  return [m.width, m.height];
}

function lookups(px: RunningApp, layer: string, outcome: string): Promise<number> {
  return counterTotal(px.app.ctx.metrics.cacheLookups, { layer, outcome });
}

interface EntryFile {
  rel: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** Every cache entry file (64-hex name) under `root`, recursively; temp files are not entries. */
async function entryFiles(root: string): Promise<EntryFile[]> {
  const out: EntryFile[] = [];
  async function walk(d: string): Promise<void> {
    let ents;
    try {
      ents = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /^[0-9a-f]{64}$|^[0-9a-f]{32}_[ri][0-9a-f]+$/.test(e.name)) {
        const st = await stat(p);
        out.push({ rel: relative(root, p), path: p, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

/** Every file of any kind under `root` (sizes included): what "disk usage" means. */
async function diskBytes(root: string): Promise<number> {
  let total = 0;
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else total += (await stat(p)).size;
    }
  }
  await walk(root);
  return total;
}

const inOrigin = (f: EntryFile): boolean => f.rel.split(sep).includes('origin');
const shardOf = (key: string): string => join(key.slice(0, 2), key.slice(2, 4), key);

/** The transformed-store key of an imgproxy path, computed by the running app itself. */
function keyOf(px: RunningApp, path: string, headers: Record<string, string> = {}): string {
  return px.app.ctx.cache.key(px.app.ctx.dialect.parseImage(path, headers), headers);
}

function captureLogger(level = 'debug'): { logger: Logger; lines: Array<{ level: number; msg?: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as { level: number; msg?: string });
      cb();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

type Samples = Map<string, number>;

/** Prometheus text → `name{a="x",b="y"}` (labels sorted) → value. */
function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    out.set(labels.length ? `${m[1]}{${labels.join(',')}}` : (m[1] as string), Number(m[3]));
  }
  return out;
}

function sample(s: Samples, name: string, labels: Record<string, string> = {}): number {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
  return s.get(l.length ? `${name}{${l.join(',')}}` : name) ?? 0;
}

async function scrape(url: string): Promise<Samples> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

let origin: Origin;
let photo: Buffer;
let tall: Buffer;

beforeAll(async () => {
  photo = await makePhoto(800, 600);
  tall = await makePhoto(300, 500);
  origin = await startOrigin({
    '/a.jpg': { body: photo, contentType: 'image/jpeg' },
    '/b.jpg': { body: photo, contentType: 'image/jpeg' },
    '/slow.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 400 },
    '/maxage.jpg': { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=1000' } },
    '/maxage2.jpg': { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=2' } },
    '/noheaders.jpg': { body: photo, contentType: 'image/jpeg' },
  });
});

afterAll(async () => {
  await origin.close();
});

describe('[imgproxy] Configuration', () => {
  it('IMGPROXY_CACHE_USE "When blank, the cache is disabled": explicitly empty → nothing stored, a restart misses', async () => {
    expect(loadConfig({ IMGPROXY_CACHE_USE: '' }).cache.use).toBe('none');
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-blank-'));
    const path = signed(`/w:101/plain/${origin.url}/a.jpg`);
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_CACHE_USE: '' });
      expect((await get(one, path)).cache).toBe('MISS');
      await one.app.ctx.cache.flush();
      // Neither transformed results nor the origin sub-store are written anywhere.
      expect(await entryFiles(dir)).toEqual([]);
      await one.stop();
      const two = await startApp({ ...ENV, PP_CACHE_DIR: dir, IMGPROXY_CACHE_USE: '' });
      try {
        const again = await get(two, path);
        expect(again.status).toBe(200);
        expect(again.cache).toBe('MISS');
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('IMGPROXY_CACHE_USE unset → fs (our documented default: the embedded cache is on), a restart hits L2', async () => {
    expect(loadConfig({}).cache.use).toBe('fs');
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-unset-'));
    const path = signed(`/w:102/plain/${origin.url}/a.jpg`);
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      expect((await get(one, path)).cache).toBe('MISS');
      await one.app.ctx.cache.flush();
      const files = await entryFiles(dir);
      expect(files.filter((f) => !inOrigin(f))).toHaveLength(1);
      expect(files.filter(inOrigin)).toHaveLength(1);
      await one.stop();
      const two = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      try {
        expect((await get(two, path)).cache).toBe('HIT-L2');
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('IMGPROXY_CACHE_PATH_PREFIX "a path prefix for the cache files": every file lands under <dir>/<prefix>/', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_PATH_PREFIX: 'imgs/v1', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const path = signed(`/w:103/plain/${origin.url}/a.jpg`);
      expect((await get(px, path)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      const files = (await entryFiles(px.cacheDir)).map((f) => f.rel);
      expect(files.sort()).toEqual(
        [join('imgs', 'v1', shardOf(keyOf(px, path))), join('imgs', 'v1', 'origin', shardOf(originKey(`${origin.url}/a.jpg`)))].sort(),
      );
      // …and that is where reads come from: L1 is off, so this hit is the prefixed file.
      expect((await get(px, path)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_CACHE_BUCKET "When using the filesystem adapter, this can be used as an additional path component": <dir>/<bucket>/<prefix>/', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_BUCKET: 'bkt', IMGPROXY_CACHE_PATH_PREFIX: 'pre', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const path = signed(`/w:104/plain/${origin.url}/a.jpg`);
      await get(px, path);
      await px.app.ctx.cache.flush();
      const files = (await entryFiles(px.cacheDir)).map((f) => f.rel);
      expect(files.sort()).toEqual(
        [join('bkt', 'pre', shardOf(keyOf(px, path))), join('bkt', 'pre', 'origin', shardOf(originKey(`${origin.url}/a.jpg`)))].sort(),
      );
      expect((await get(px, path)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_CACHE_KEY_HEADERS "caching different versions of the same image based on request headers": one entry per value, unlisted headers do not split', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_KEY_HEADERS: 'X-Tenant,X-Region' });
    try {
      const path = signed(`/w:105/plain/${origin.url}/a.jpg`);
      expect((await get(px, path, { headers: { 'X-Tenant': 'a' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { 'X-Tenant': 'a', 'X-Other': '1' } })).cache).toBe('HIT-L1');
      expect((await get(px, path, { headers: { 'X-Tenant': 'b' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { 'X-Tenant': 'a', 'X-Region': 'eu' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { 'x-tenant': 'b' } })).cache).toBe('HIT-L1');
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toHaveLength(3);
    } finally {
      await px.stop();
    }
  });

  it('IMGPROXY_CACHE_KEY_COOKIES "caching different versions of the same image based on cookies": one entry per value, other cookies do not split', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_CACHE_KEY_COOKIES: 'plan' });
    try {
      const path = signed(`/w:106/plain/${origin.url}/a.jpg`);
      expect((await get(px, path, { headers: { Cookie: 'plan=free' } })).cache).toBe('MISS');
      expect((await get(px, path, { headers: { Cookie: 'session=xyz; plan=free' } })).cache).toBe('HIT-L1');
      expect((await get(px, path, { headers: { Cookie: 'plan=pro' } })).cache).toBe('MISS');
      expect((await get(px, path)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toHaveLength(3);
    } finally {
      await px.stop();
    }
  });

  for (const report of [true, false]) {
    it(`IMGPROXY_CACHE_REPORT_ERRORS=${report}: "${report ? 'report cache errors instead of silently falling back' : 'silently falling back to processing without cache'}" (${report ? 'error-level log with detail' : 'counted, no error log'}), the request still succeeds`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-report-'));
      const notADir = join(dir, 'file');
      await writeFile(notADir, 'x');
      const cap = captureLogger('debug');
      const px = await startApp({ ...ENV, PP_CACHE_DIR: notADir, IMGPROXY_CACHE_REPORT_ERRORS: String(report) }, { logger: cap.logger });
      try {
        const r = await get(px, signed(`/w:107/plain/${origin.url}/a.jpg`));
        expect(r.status).toBe(200);
        expect(await size(r.body)).toEqual([107, 80]);
        await px.app.ctx.cache.flush();
        const errs = await counterTotal(px.app.ctx.metrics.cacheErrors);
        expect(errs).toBeGreaterThan(0);
        const cacheErrorLines = cap.lines.filter((l) => l.level >= 50 && /^cache .* failed$/.test(l.msg ?? ''));
        if (report) {
          expect(cacheErrorLines.length).toBeGreaterThan(0);
          expect(cacheErrorLines[0]).toMatchObject({ layer: expect.any(String) as unknown, op: expect.any(String) as unknown, err: { code: expect.any(String) as unknown } });
        } else {
          expect(cacheErrorLines).toEqual([]);
          expect(cap.lines.some((l) => l.level === 20 && /^cache .* failed$/.test(l.msg ?? ''))).toBe(true);
        }
      } finally {
        await px.stop({ keepCache: true });
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('[imgproxy] Why use internal cache?', () => {
  it('"working seamlessly with features like modern image format detection and client hints support": Accept and DPR each get their own entry', async () => {
    const px = await startApp({ ...ENV, IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_ENABLE_CLIENT_HINTS: 'true' });
    try {
      const path = signed(`/w:97/plain/${origin.url}/a.jpg`);
      const plain = await get(px, path, { headers: { Accept: 'image/jpeg' } });
      expect(plain.headers.get('vary')).toMatch(/Accept.*DPR/);
      const webp = await get(px, path, { headers: { Accept: 'image/webp' } });
      expect([webp.cache, webp.headers.get('content-type')]).toEqual(['MISS', 'image/webp']);
      const dpr2 = await get(px, path, { headers: { Accept: 'image/jpeg', DPR: '2' } });
      expect(dpr2.cache).toBe('MISS');
      expect((await size(dpr2.body))[0]).toBe(194);
      expect((await get(px, path, { headers: { Accept: 'image/jpeg', DPR: '2' } })).cache).toBe('HIT-L1');
      expect((await get(px, path, { headers: { Accept: 'image/webp' } })).cache).toBe('HIT-L1');
      expect((await size((await get(px, path, { headers: { Accept: 'image/jpeg' } })).body))[0]).toBe(97);
    } finally {
      await px.stop();
    }
  });

  it('"The cache is protected by the same security measures as imgproxy itself, including URL signatures and processing restrictions": a cached image is not served once the restrictions exclude it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-restrict-'));
    const path = signed(`/w:99/plain/${origin.url}/a.jpg`);
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
        expect((await get(narrowed, signed(`/w:98/plain/${origin.url}/a.jpg`))).status).toBe(404);
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

describe('[imgproxy] Cache key', () => {
  it('"URL signatures are not part of the cache key, so you can rotate keys … without invalidating cached images": restart with only the new pair → HIT-L2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-rotate-'));
    const p = `/rs:fit:108:108/plain/${origin.url}/a.jpg`;
    try {
      const one = await startApp({ PP_CACHE_DIR: dir, IMGPROXY_KEY: hex(K1), IMGPROXY_SALT: hex(S1) });
      const first = await get(one, signed(p, K1, S1));
      expect(first.cache).toBe('MISS');
      await one.stop();
      const fetches = origin.count('/a.jpg');
      const two = await startApp({ PP_CACHE_DIR: dir, IMGPROXY_KEY: hex(K2), IMGPROXY_SALT: hex(S2) });
      try {
        const again = await get(two, signed(p, K2, S2));
        expect(again.cache).toBe('HIT-L2');
        expect(again.body.equals(first.body)).toBe(true);
        expect(origin.count('/a.jpg')).toBe(fetches);
        // the retired pair no longer opens the cached entry
        expect((await get(two, signed(p, K1, S1))).status).toBe(403);
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('"Source image URL", "Processing options", "Output format" each enter the key: changing any one misses', async () => {
    const px = await startApp(ENV);
    try {
      expect((await get(px, signed(`/w:109/plain/${origin.url}/a.jpg`))).cache).toBe('MISS');
      expect((await get(px, signed(`/w:109/plain/${origin.url}/a.jpg`))).cache).toBe('HIT-L1');
      expect((await get(px, signed(`/w:109/plain/${origin.url}/b.jpg`))).cache).toBe('MISS');
      expect((await get(px, signed(`/w:110/plain/${origin.url}/a.jpg`))).cache).toBe('MISS');
      const webp = await get(px, signed(`/w:109/plain/${origin.url}/a.jpg@webp`));
      expect(webp.cache).toBe('MISS');
      expect(webp.headers.get('content-type')).toBe('image/webp');
      const png = await get(px, signed(`/w:109/plain/${origin.url}/a.jpg@png`));
      expect(png.cache).toBe('MISS');
      expect(png.headers.get('content-type')).toBe('image/png');
    } finally {
      await px.stop();
    }
  });

  it('"imgproxy includes the cachebuster in the cache key, so you can use it to force cache invalidation": the old entry keeps the old image, a new cachebuster gets the new one', async () => {
    const px = await startApp(ENV);
    // max-age=0: the origin sub-store keeps nothing, so only the transformed cache is in play.
    origin.files.set('/changing.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=0' } });
    try {
      const cb1 = signed(`/rs:fit:200:200/cb:1/plain/${origin.url}/changing.jpg`);
      expect(await size((await get(px, cb1)).body)).toEqual([200, 150]);
      origin.files.set('/changing.jpg', { body: tall, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=0' } });
      const stale = await get(px, cb1);
      expect(stale.cache).toBe('HIT-L1');
      expect(await size(stale.body)).toEqual([200, 150]);
      const cb2 = await get(px, signed(`/rs:fit:200:200/cb:2/plain/${origin.url}/changing.jpg`));
      expect(cb2.cache).toBe('MISS');
      expect(await size(cb2.body)).toEqual([120, 200]);
    } finally {
      await px.stop();
    }
  });
});

describe('[imgproxy] Limitations', () => {
  it('"Requests to the /info endpoint are not cached" is lifted: MISS, then HIT-L1 (one fetch), an L2 entry of its own; a purge of its source shows the new bytes', async () => {
    const px = await startApp(ENV);
    origin.files.set('/info.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
    try {
      const infoPath = signed(`/plain/${origin.url}/info.jpg`);
      const first = await fetch(`${px.url}/info${infoPath}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(await first.json()).toMatchObject({ width: 800, height: 600 });
      origin.files.set('/info.jpg', { body: tall, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
      const second = await fetch(`${px.url}/info${infoPath}`);
      expect(second.headers.get('x-cache')).toBe('HIT-L1');
      expect(await second.json()).toMatchObject({ width: 800, height: 600 });
      expect(origin.count('/info.jpg')).toBe(1);
      await px.app.ctx.cache.flush();
      const files = await entryFiles(px.cacheDir);
      expect(files.filter((f) => /_i[0-9a-f]+$/.test(f.rel))).toHaveLength(1);

      const purged = await px.app.ctx.cache.purge({ target: { kind: 'source', url: `${origin.url}/info.jpg` }, origin: true });
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
    origin.files.set('/info0.jpg', { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
    try {
      const infoPath = signed(`/plain/${origin.url}/info0.jpg`);
      const first = await fetch(`${px.url}/info${infoPath}`);
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(await first.json()).toMatchObject({ width: 800, height: 600 });
      origin.files.set('/info0.jpg', { body: tall, contentType: 'image/jpeg', headers: { 'Cache-Control': 'no-store' } });
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

describe('[imgproxy] How it works', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ ...ENV, PP_CACHE_MEMORY_MAX_MB: '0' });
  });
  afterAll(async () => {
    await px.stop();
  });

  it('"1. imgproxy checks the URL signature" first: a cached URL with a bad or missing signature is 403, never served from cache', async () => {
    const p = `/w:111/plain/${origin.url}/a.jpg`;
    expect((await get(px, signed(p))).cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    expect((await get(px, signed(p))).cache).toBe('HIT-L2');
    const looked = await lookups(px, 'l2', 'hit');
    for (const bad of [`/${'A'.repeat(43)}${p}`, `/insecure${p}`, signed(p, K2, S2)]) {
      const r = await get(px, bad);
      expect(r.status).toBe(403);
      expect(r.cache).toBeNull();
      expect(r.headers.get('content-type')).not.toMatch(/^image\//);
    }
    // the cache was not even consulted
    expect(await lookups(px, 'l2', 'hit')).toBe(looked);
  });

  it('"2. generates the cache key from the request parameters" and "3. checks if a cached image exists in the configured storage": the entry sits at <PP_CACHE_DIR>/ab/cd/<key>', async () => {
    const p = signed(`/w:112/plain/${origin.url}/a.jpg`);
    await get(px, p);
    await px.app.ctx.cache.flush();
    const file = join(px.cacheDir, shardOf(keyOf(px, p)));
    expect((await stat(file)).isFile()).toBe(true);
    await rm(file);
    // nothing in storage (and L1 is off) → processed again
    expect((await get(px, p)).cache).toBe('MISS');
  });

  it('"4. If the cached image exists and is valid, imgproxy serves it directly": HIT-L2 with no upstream fetch and no transform', async () => {
    const p = signed(`/w:113/plain/${origin.url}/b.jpg`);
    const first = await get(px, p);
    expect(first.cache).toBe('MISS');
    await px.app.ctx.cache.flush();
    const fetches = origin.count('/b.jpg');
    const t0 = await transforms(px);
    const second = await get(px, p);
    expect(second.cache).toBe('HIT-L2');
    expect(second.body.equals(first.body)).toBe(true);
    expect(origin.count('/b.jpg')).toBe(fetches);
    expect(await transforms(px)).toBe(t0);
  });

  for (const [name, damage] of [
    ['a flipped body byte', async (f: string) => {
      const b = await readFile(f);
      b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0xff;
      await writeFile(f, b);
    }],
    ['a truncated file', async (f: string) => truncate(f, Math.floor((await stat(f)).size / 2))],
  ] as const) {
    it(`"4. … exists and is valid": an invalid entry (${name}) is not served: MISS, 200, the right image, the file replaced`, async () => {
      const w = name.startsWith('a flipped') ? 114 : 115;
      const p = signed(`/w:${w}/plain/${origin.url}/a.jpg`);
      const good = await get(px, p);
      await px.app.ctx.cache.flush();
      const file = join(px.cacheDir, shardOf(keyOf(px, p)));
      await damage(file);
      const damaged = await readFile(file);
      const r = await get(px, p);
      expect(r.status).toBe(200);
      expect(r.cache).toBe('MISS');
      expect(await size(r.body)).toEqual([w, Math.round((w * 600) / 800)]);
      expect(r.body.equals(good.body)).toBe(true);
      await px.app.ctx.cache.flush();
      expect((await readFile(file)).equals(damaged)).toBe(false);
      const again = await get(px, p);
      expect(again.cache).toBe('HIT-L2');
      expect(again.body.equals(good.body)).toBe(true);
    });
  }

  it('"5. If not, imgproxy processes the image and stores the result in the cache before serving it": the request right after the response hits', async () => {
    for (let i = 0; i < 5; i++) {
      const p = signed(`/w:${120 + i}/plain/${origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      // no pause, no flush: the entry must already be there (L1 is off in this server)
      expect((await get(px, p)).cache).toBe('HIT-L2');
    }
  });

  it('"5. … stores the result in the cache before serving it": stored by the computation, even when the client that started it has gone (a follower still waits)', async () => {
    const p = signed(`/w:126/plain/${origin.url}/slow.jpg`);
    const before = origin.count('/slow.jpg');
    const ctl = new AbortController();
    const leader = fetch(px.url + p, { signal: ctl.signal }).catch(() => null);
    await sleep(50);
    const follower = get(px, p);
    await sleep(50);
    ctl.abort();
    await leader;
    const f = await follower;
    expect([f.status, f.cache]).toEqual([200, 'MISS']);
    // no pause, no flush: L1 is off, so this hit is the stored L2 entry
    const r = await get(px, p);
    expect(r.cache).toBe('HIT-L2');
    expect(r.body.equals(f.body)).toBe(true);
    expect(origin.count('/slow.jpg') - before).toBe(1);
  });
});

describe('[pp] L1 and L2', () => {
  it('L1 "a cache hit here avoids both disk I/O and recomputation": with the disk cache emptied, the second request is still HIT-L1', async () => {
    const px = await startApp(ENV);
    try {
      const p = signed(`/w:130/plain/${origin.url}/a.jpg`);
      const first = await get(px, p);
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).length).toBe(2);
      await rm(px.cacheDir, { recursive: true, force: true });
      const fetches = origin.count('/a.jpg');
      const t0 = await transforms(px);
      const l2Reads = (await lookups(px, 'l2', 'hit')) + (await lookups(px, 'l2', 'miss'));
      const second = await get(px, p);
      expect(second.cache).toBe('HIT-L1');
      expect(second.body.equals(first.body)).toBe(true);
      expect(await transforms(px)).toBe(t0);
      expect(origin.count('/a.jpg')).toBe(fetches);
      expect((await lookups(px, 'l2', 'hit')) + (await lookups(px, 'l2', 'miss'))).toBe(l2Reads);
      await px.app.ctx.cache.flush();
      expect(await entryFiles(px.cacheDir)).toEqual([]);
    } finally {
      await px.stop();
    }
  });

  it('L2 sub-stores: "Transformed <PP_CACHE_DIR>/ Final transformed image (the result sent to clients)", "Origin <PP_CACHE_DIR>/origin/ Raw fetched bytes before any transform"; "The origin cache key is derived from the source URL only"', async () => {
    const px = await startApp(ENV);
    try {
      const src = `${origin.url}/a.jpg`;
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
      expect((await read('origin', originKey(src))).equals(photo)).toBe(true);
    } finally {
      await px.stop();
    }
  });

  it('"If the same URL is later requested with different transform parameters, PreviewProxy reads the raw bytes from the origin sub-store … skipping the upstream fetch entirely" (after a restart too)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-origin-'));
    try {
      const one = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      origin.files.set('/once.jpg', { body: photo, contentType: 'image/jpeg' });
      await get(one, signed(`/w:133/plain/${origin.url}/once.jpg`));
      await one.stop();
      expect(origin.count('/once.jpg')).toBe(1);
      const two = await startApp({ ...ENV, PP_CACHE_DIR: dir });
      try {
        const r = await get(two, signed(`/w:134/plain/${origin.url}/once.jpg`));
        expect(r.cache).toBe('MISS');
        expect((await size(r.body))[0]).toBe(134);
        expect(origin.count('/once.jpg')).toBe(1);
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
      await get(px, signed(`/w:140/plain/${origin.url}/${file}`));
      await px.app.ctx.cache.flush();
      // fs layout: the entry file's mtime holds its expiry (src/storage/fs.ts)
      return (await stat(join(px.cacheDir, 'origin', shardOf(originKey(`${origin.url}/${file}`))))).mtimeMs;
    };
    it('Cache-Control: max-age=1000 → expires in 1000 s', async () => {
      expect(Math.abs((await originExpiry('maxage.jpg')) - (Date.now() + 1_000_000))).toBeLessThan(3000);
    });
    it('Expires: now + 2000 s → expires then', async () => {
      origin.files.set('/expires.jpg', { body: photo, contentType: 'image/jpeg', headers: { Expires: new Date(Date.now() + 2_000_000).toUTCString() } });
      expect(Math.abs((await originExpiry('expires.jpg')) - (Date.now() + 2_000_000))).toBeLessThan(3000);
    });
    it('no headers → PP_CACHE_DISK_TTL_SECS (5000 s)', async () => {
      expect(Math.abs((await originExpiry('noheaders.jpg')) - (Date.now() + 5_000_000))).toBeLessThan(3000);
    });
    it('max-age=2: once it has passed, a new variant fetches the source again', async () => {
      await get(px, signed(`/w:141/plain/${origin.url}/maxage2.jpg`));
      await get(px, signed(`/w:142/plain/${origin.url}/maxage2.jpg`));
      expect(origin.count('/maxage2.jpg')).toBe(1);
      await sleep(2200);
      await get(px, signed(`/w:143/plain/${origin.url}/maxage2.jpg`));
      expect(origin.count('/maxage2.jpg')).toBe(2);
    });
  });
});

describe('[pp] Cache key', () => {
  it('"Transform parameters - all request parameters except sig": a signed /proxy URL, its parameters reordered, and a rotated PP_HMAC_KEY share one entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-ppsig-'));
    const src = `${origin.url}/a.jpg`;
    const ppUrl = (order: Array<[string, string]>, key: string): string => {
      const q = new URLSearchParams(order);
      const sig = signCanonical(canonicalString(paramsFromQuery(q).params, src), key);
      q.append('sig', sig);
      return `/proxy?${q.toString()}`;
    };
    const a: Array<[string, string]> = [['url', src], ['w', '150'], ['q', '70'], ['format', 'webp']];
    const b: Array<[string, string]> = [['format', 'webp'], ['q', '70'], ['w', '150'], ['url', src]];
    try {
      const one = await startApp({ PP_CACHE_DIR: dir, PP_HMAC_KEY: 'first-secret' });
      const first = await get(one, ppUrl(a, 'first-secret'));
      expect(first.status).toBe(200);
      expect(first.cache).toBe('MISS');
      expect((await get(one, ppUrl(b, 'first-secret'))).cache).toBe('HIT-L1');
      expect((await get(one, ppUrl(a, 'wrong-secret'))).status).toBe(403);
      await one.stop();
      const two = await startApp({ PP_CACHE_DIR: dir, PP_HMAC_KEY: 'second-secret' });
      try {
        const again = await get(two, ppUrl(b, 'second-secret'));
        expect(again.cache).toBe('HIT-L2');
        expect(again.body.equals(first.body)).toBe(true);
      } finally {
        await two.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('"Two requests with the same URL and parameters always resolve to the same cache key, regardless of parameter order": one file on disk for every ordering', async () => {
    const px = await startApp(ENV);
    try {
      const src = `${origin.url}/b.jpg`;
      const imgproxy = [`/w:151/h:90/rt:fill/q:70/plain/${src}`, `/q:70/rt:fill/h:90/w:151/plain/${src}`, `/resizing_type:fill/quality:70/height:90/width:151/plain/${src}`];
      for (const p of imgproxy) await get(px, signed(p));
      const pp = [`url=${encodeURIComponent(src)}&w=152&h=90&q=70`, `q=70&h=90&url=${encodeURIComponent(src)}&w=152`, `h=90&w=152&q=70&url=${encodeURIComponent(src)}`];
      const t0 = await transforms(px);
      for (const q of pp) await get(px, `/proxy?${q}`);
      expect(await transforms(px)).toBe(t0 + 1);
      await px.app.ctx.cache.flush();
      expect((await entryFiles(px.cacheDir)).filter((f) => !inOrigin(f))).toHaveLength(2);
      expect(new Set(imgproxy.map((p) => keyOf(px, signed(p)))).size).toBe(1);
    } finally {
      await px.stop();
    }
  });
});

describe('[pp] Configuration reference', () => {
  it('defaults: PP_CACHE_MEMORY_MAX_MB 256, PP_CACHE_MEMORY_TTL_SECS 3600, PP_CACHE_DIR /tmp/previewproxy, PP_CACHE_DISK_TTL_SECS 86400, PP_CACHE_DISK_MAX_MB unlimited, PP_CACHE_CLEANUP_INTERVAL_SECS 600 (module level: the config is what a server would get)', () => {
    const c = loadConfig({}).cache;
    expect([c.memoryMaxMb, c.memoryTtlSecs, c.dir, c.diskTtlSecs, c.diskMaxMb, c.cleanupIntervalSecs]).toEqual([256, 3600, '/tmp/previewproxy', 86_400, undefined, 600]);
    expect([c.pathPrefix, c.bucket, c.keyHeaders, c.keyCookies, c.reportErrors]).toEqual(['', '', [], [], false]);
  });

  it('PP_CACHE_DISK_TTL_SECS default 86400: a transformed entry on disk expires a day after it was written', async () => {
    const px = await startApp(ENV);
    try {
      const p = signed(`/w:160/plain/${origin.url}/a.jpg`);
      await get(px, p);
      await px.app.ctx.cache.flush();
      const st = await stat(join(px.cacheDir, shardOf(keyOf(px, p))));
      expect(Math.abs(st.mtimeMs - (Date.now() + 86_400_000))).toBeLessThan(3000);
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_MEMORY_MAX_MB=0 disables L1: the second request is HIT-L2', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const p = signed(`/w:161/plain/${origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      expect((await get(px, p)).cache).toBe('HIT-L2');
      expect((await get(px, p)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_MEMORY_MAX_MB "Maximum size of the in-memory cache in megabytes": with 1 MB, L1 holds ≤ 1 MB, evicts the oldest, which then come from L2', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_MEMORY_MAX_MB: '1' });
    try {
      // Each result under an eighth of L1 (the largest entry L1 takes), together over 1.2 MB.
      const paths = Array.from({ length: 24 }, (_, i) => signed(`/w:${420 + i}/q:100/plain/${origin.url}/a.jpg`));
      let bytes = 0;
      for (const p of paths) {
        const size = (await get(px, p)).body.length;
        expect(size).toBeLessThan(MB / 8 - 1024);
        bytes += size;
      }
      expect(bytes).toBeGreaterThan(1.2 * MB);
      await px.app.ctx.cache.flush();
      const gauge = (await px.app.ctx.metrics.cacheBytes.get()).values.find((v) => v.labels.layer === 'memory')?.value ?? -1;
      expect(gauge).toBeGreaterThan(0);
      expect(gauge).toBeLessThanOrEqual(MB);
      expect((await px.app.ctx.metrics.cacheEvictions.get()).values.find((v) => v.labels.layer === 'memory')?.value ?? 0).toBeGreaterThan(0);
      expect((await get(px, paths[paths.length - 1] as string)).cache).toBe('HIT-L1');
      expect((await get(px, paths[0] as string)).cache).toBe('HIT-L2');
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_MEMORY_TTL_SECS "How long entries remain in the memory cache": with 2 s, HIT-L1 then, after it, HIT-L2 (and promoted again)', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_MEMORY_TTL_SECS: '2' });
    try {
      const p = signed(`/w:162/plain/${origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      expect((await get(px, p)).cache).toBe('HIT-L1');
      await px.app.ctx.cache.flush();
      await sleep(2200);
      expect((await get(px, p)).cache).toBe('HIT-L2');
      expect((await get(px, p)).cache).toBe('HIT-L1');
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_DISK_TTL_SECS "How long entries remain on disk before expiry": with 2 s (L1 off), HIT-L2 then, after it, MISS', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '2', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const p = signed(`/w:163/plain/${origin.url}/a.jpg`);
      expect((await get(px, p)).cache).toBe('MISS');
      await px.app.ctx.cache.flush();
      expect((await get(px, p)).cache).toBe('HIT-L2');
      await sleep(2200);
      const t0 = await transforms(px);
      expect((await get(px, p)).cache).toBe('MISS');
      expect(await transforms(px)).toBe(t0 + 1);
    } finally {
      await px.stop();
    }
  });

  it('PP_CACHE_DISK_MAX_MB "Maximum total size of the disk cache": filled past 1 MB through the server, the cache dir stays within 1 MB and the most recently USED entry survives', async () => {
    const px = await startApp({ ...ENV, PP_CACHE_DISK_MAX_MB: '1' });
    let stopped = false;
    try {
      const hot = signed(`/w:600/q:100/plain/${origin.url}/a.jpg`);
      const hotBody = (await get(px, hot)).body;
      let written = hotBody.length;
      const variants: string[] = [];
      for (let i = 0; i < 20; i++) {
        const p = signed(`/w:${560 + i}/q:100/plain/${origin.url}/a.jpg`);
        variants.push(p);
        written += (await get(px, p)).body.length;
        await px.app.ctx.cache.flush();
        // the hot entry is used between every two new entries (served by L1: a use all the same)
        expect((await get(px, hot)).status).toBe(200);
        expect(await diskBytes(px.cacheDir)).toBeLessThanOrEqual(MB);
      }
      expect(written).toBeGreaterThan(1.8 * MB);
      await px.app.ctx.cache.flush();
      const files = (await entryFiles(px.cacheDir)).map((f) => f.rel);
      expect(files).toContain(shardOf(keyOf(px, hot)));
      expect(files).toContain(shardOf(keyOf(px, variants[variants.length - 1] as string)));
      expect(files).not.toContain(shardOf(keyOf(px, variants[0] as string)));
      expect((await px.app.ctx.metrics.cacheEvictions.get()).values.find((v) => v.labels.layer === 'l2')?.value ?? 0).toBeGreaterThan(0);
      // …and after a restart (L1 gone) the hot entry is a disk hit.
      stopped = true;
      await px.stop({ keepCache: true });
      const again = await startApp({ ...ENV, PP_CACHE_DIR: px.cacheDir, PP_CACHE_DISK_MAX_MB: '1' });
      try {
        const r = await get(again, hot);
        expect(r.cache).toBe('HIT-L2');
        expect(r.body.equals(hotBody)).toBe(true);
      } finally {
        await again.stop();
      }
    } finally {
      if (!stopped) await px.stop({ keepCache: true });
      await rm(px.cacheDir, { recursive: true, force: true });
    }
  });

  it('PP_CACHE_CLEANUP_INTERVAL_SECS "How often the background job scans for and removes expired disk cache entries": 1 s removes them with no request touching them; 0 leaves them', async () => {
    // A 2 s TTL leaves room (on a loaded machine) to see the files before they expire.
    const swept = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '2', PP_CACHE_CLEANUP_INTERVAL_SECS: '1' });
    const unswept = await startApp({ ...ENV, PP_CACHE_DISK_TTL_SECS: '2', PP_CACHE_CLEANUP_INTERVAL_SECS: '0' });
    try {
      for (const px of [swept, unswept]) {
        await get(px, signed(`/w:164/plain/${origin.url}/a.jpg`));
        await px.app.ctx.cache.flush();
        expect(await entryFiles(px.cacheDir)).toHaveLength(2);
      }
      await until(async () => (await entryFiles(swept.cacheDir)).length === 0, 8000);
      expect(await entryFiles(swept.cacheDir)).toEqual([]);
      expect(await entryFiles(unswept.cacheDir)).toHaveLength(2);
    } finally {
      await swept.stop();
      await unswept.stop();
    }
  });

  it('"PP_CACHE_DISK_MAX_MB is not set by default, meaning disk usage is unbounded. In production it is strongly recommended to set this": a warning is logged when unset, not when set', async () => {
    const unset = captureLogger('info');
    const set = captureLogger('info');
    const a = await startApp(ENV, { logger: unset.logger });
    const b = await startApp({ ...ENV, PP_CACHE_DISK_MAX_MB: '64' }, { logger: set.logger });
    try {
      const warn = (lines: Array<{ level: number; msg?: string }>) => lines.filter((l) => l.level === 40 && /PP_CACHE_DISK_MAX_MB/.test(l.msg ?? ''));
      expect(warn(unset.lines)).toHaveLength(1);
      expect(warn(unset.lines)[0]?.msg).toMatch(/unbounded/);
      expect(warn(set.lines)).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

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

      const p = signed(`/w:170/plain/${origin.url}/a.jpg`);
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
      expect(sample(m1, 'cache_bytes', { layer: 'origin' })).toBeGreaterThan(photo.length);

      expect((await get(px, p)).cache).toBe('HIT-L1');
      const m2 = await scrape(`${px.url}/metrics`);
      expect(d(m2, 'cache_lookups_total', { layer: 'memory', outcome: 'hit' })).toBe(1);
      expect(d(m2, 'cache_lookups_total', { layer: 'l2', outcome: 'miss' })).toBe(1);

      // a new variant of the same source: origin hit, no upstream fetch
      await get(px, signed(`/w:171/plain/${origin.url}/a.jpg`));
      await px.app.ctx.cache.flush();
      const m3 = await scrape(`${px.url}/metrics`);
      expect(d(m3, 'cache_lookups_total', { layer: 'origin', outcome: 'hit' })).toBe(1);
      expect(d(m3, 'upstream_fetches_total', { scheme: 'http', outcome: 'ok' })).toBe(1);
      expect(sample(m3, 'cache_entries', { layer: 'memory' })).toBe(2);
      expect(sample(m3, 'cache_entries', { layer: 'l2' })).toBe(2);

      // 10 concurrent identical misses: 9 join
      const slow = signed(`/w:172/plain/${origin.url}/slow.jpg`);
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
      const p = signed(`/w:173/plain/${origin.url}/a.jpg`);
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
      for (let i = 0; i < 14; i++) await get(px, signed(`/w:${540 + i}/q:100/plain/${origin.url}/a.jpg`));
      await px.app.ctx.cache.flush();
      const m = await scrape(`${px.url}/metrics`);
      expect(sample(m, 'cache_evictions_total', { layer: 'memory' })).toBeGreaterThan(0);
      expect(sample(m, 'cache_evictions_total', { layer: 'l2' })).toBeGreaterThan(0);
      expect(sample(m, 'cache_bytes', { layer: 'l2' }) + sample(m, 'cache_bytes', { layer: 'origin' })).toBeLessThanOrEqual(MB);

      expect((await get(broken, signed(`/w:174/plain/${origin.url}/a.jpg`))).status).toBe(200);
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
      await get(px, signed(`/w:175/plain/${origin.url}/a.jpg`));
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
