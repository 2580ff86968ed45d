/**
 * Purges on every cache backend, through a real server and its admin API: by image URL, by
 * source (one prefix listing: the source's variants share it), by tag (its index markers) and
 * by key prefix, each counted and idempotent (a second purge finds nothing, so the entries were
 * deleted from the store, not only hidden by the purge record), on fs, S3 (Swift s3api), GCS
 * (firebase emulator), Azure (Azurite) and Swift.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcePrefix } from '../../../src/cache/key.js';
import { startApp, type RunningApp } from '../../helpers/app.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  createAzureContainer,
  createS3Bucket,
  createSwiftContainer,
  requireOrSkip,
  startAzurite,
  startGcsEmulator,
  startSwift,
  type AzuriteServer,
  type GcsServer,
  type SwiftServer,
} from './servers.js';

type Env = Record<string, string>;
const SECRET = 'p'.repeat(40);
const skipSwift = requireOrSkip('swift');
const skipAzurite = requireOrSkip('azurite');
const skipGcs = requireOrSkip('gcs');

let swift: SwiftServer | undefined;
let azurite: AzuriteServer | undefined;
let gcs: GcsServer | undefined;
let origin: Origin;
let fsDir: string;

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('backend not started');
  return v;
}

interface Case {
  kind: string;
  skip: string | undefined;
  /** Creates the bucket and resolves the cache variables pointing at it. */
  env(bucket: string): Promise<Env>;
}

const cases: Case[] = [
  { kind: 'fs', skip: undefined, env: async (bucket) => ({ IMGPROXY_CACHE_USE: 'fs', PP_CACHE_DIR: join(fsDir, bucket) }) },
  {
    kind: 's3',
    skip: skipSwift,
    async env(bucket) {
      await createS3Bucket(need(swift), bucket);
      return { IMGPROXY_CACHE_USE: 's3', IMGPROXY_CACHE_S3_ENDPOINT: need(swift).endpoint, AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', IMGPROXY_CACHE_BUCKET: bucket };
    },
  },
  {
    kind: 'gcs',
    skip: skipGcs,
    env: async (bucket) => ({ IMGPROXY_CACHE_USE: 'gcs', IMGPROXY_CACHE_GCS_ENDPOINT: need(gcs).endpoint, IMGPROXY_CACHE_BUCKET: bucket }),
  },
  {
    kind: 'abs',
    skip: skipAzurite,
    async env(bucket) {
      await createAzureContainer(need(azurite), bucket);
      return { IMGPROXY_CACHE_USE: 'abs', IMGPROXY_CACHE_ABS_NAME: AZURITE_ACCOUNT, IMGPROXY_CACHE_ABS_KEY: AZURITE_KEY, IMGPROXY_CACHE_ABS_ENDPOINT: need(azurite).endpoint, IMGPROXY_CACHE_BUCKET: bucket };
    },
  },
  {
    kind: 'swift',
    skip: skipSwift,
    async env(bucket) {
      await createSwiftContainer(need(swift), bucket);
      return { IMGPROXY_CACHE_USE: 'swift', IMGPROXY_CACHE_SWIFT_AUTH_URL: need(swift).authUrl, IMGPROXY_CACHE_SWIFT_USERNAME: 'test:tester', IMGPROXY_CACHE_SWIFT_API_KEY: 'testing', IMGPROXY_CACHE_SWIFT_AUTH_VERSION: '1', IMGPROXY_CACHE_BUCKET: bucket };
    },
  },
];

beforeAll(async () => {
  const [, , , o, d, photo] = await Promise.all([
    skipSwift ? undefined : startSwift().then((s) => (swift = s)),
    skipAzurite ? undefined : startAzurite().then((a) => (azurite = a)),
    skipGcs ? undefined : startGcsEmulator().then((g) => (gcs = g)),
    startOrigin(),
    mkdtemp(join(tmpdir(), 'pixproxy-purge-')),
    makePhoto(200, 150),
  ]);
  origin = o;
  fsDir = d;
  for (const name of ['a', 'b', 'c']) origin.files.set(`/${name}.jpg`, { body: photo, contentType: 'image/jpeg' });
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await Promise.all([swift?.stop(), azurite?.stop(), gcs?.stop()]);
  if (fsDir) await rm(fsDir, { recursive: true, force: true });
});

for (const c of cases) {
  describe.skipIf(c.skip !== undefined)(`purge on ${c.kind}${c.skip ? ` (skipped: ${c.skip})` : ''}`, () => {
    let px: RunningApp;
    beforeAll(async () => {
      const env = await c.env(`purge-${c.kind}`);
      px = await startApp({ ...env, PP_CACHE_MEMORY_MAX_MB: '0', PIXPROXY_ADMIN_PATH_PREFIX: '/_admin', PIXPROXY_ADMIN_SECRET: SECRET, IMGPROXY_CACHE_REPORT_ERRORS: 'true' });
    }, 60_000);
    afterAll(async () => {
      await px?.stop();
    });

    const url = (name: string, opts: string): string => `/insecure/${opts}/plain/${origin.url}/${name}.jpg`;
    async function fill(paths: string[]): Promise<void> {
      for (const p of paths) {
        const r = await fetch(px.url + p);
        await r.arrayBuffer();
        expect(r.status, p).toBe(200);
      }
      await px.app.ctx.cache.flush();
      for (const p of paths) {
        const r = await fetch(px.url + p);
        await r.arrayBuffer();
        expect(r.headers.get('x-cache'), p).toBe('HIT-L2');
      }
    }
    async function purge(body: unknown): Promise<{ l1: number; l2: number; origin: number }> {
      const r = await fetch(`${px.url}/_admin/purge`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
      return ((await r.json()) as { purged: { l1: number; l2: number; origin: number } }).purged;
    }
    const cacheOf = async (p: string): Promise<string | null> => {
      const r = await fetch(px.url + p);
      await r.arrayBuffer();
      return r.headers.get('x-cache');
    };

    it('by URL, source, tag and prefix: counted per layer, gone from the store (a second purge finds nothing), the rest kept', async () => {
      const a1 = url('a', 'rs:fit:10:10');
      const a2 = url('a', 'rs:fit:20:20');
      const a3 = url('a', 'rs:fit:30:30/ct:blue');
      const b1 = url('b', 'rs:fit:10:10/ct:blue:green');
      const c1 = url('c', 'rs:fit:10:10');
      await fill([a1, a2, a3, b1, c1]);

      expect(await purge({ url: a1 })).toEqual({ l1: 0, l2: 1, origin: 0 });
      expect(await purge({ url: a1 })).toEqual({ l1: 0, l2: 0, origin: 0 });
      expect(await cacheOf(a2)).toBe('HIT-L2');

      expect(await purge({ tag: 'green' })).toEqual({ l1: 0, l2: 1, origin: 0 });
      expect(await purge({ tag: 'green' })).toEqual({ l1: 0, l2: 0, origin: 0 });
      expect(await cacheOf(a3)).toBe('HIT-L2');

      expect(await purge({ source: `${origin.url}/a.jpg`, origin: true })).toEqual({ l1: 0, l2: 2, origin: 1 });
      expect(await purge({ source: `${origin.url}/a.jpg`, origin: true })).toEqual({ l1: 0, l2: 0, origin: 0 });

      expect(await purge({ prefix: sourcePrefix(`${origin.url}/c.jpg`) })).toEqual({ l1: 0, l2: 1, origin: 0 });
      expect(await purge({ prefix: sourcePrefix(`${origin.url}/c.jpg`) })).toEqual({ l1: 0, l2: 0, origin: 0 });
      for (const p of [a1, a2, a3, c1]) expect(await cacheOf(p), p).toBe('MISS');
    }, 60_000);
  });
}
