/**
 * Storage backends end to end, through real pixproxy servers configured by environment
 * variables only, against real storage servers (Swift SAIO — also S3 through s3api —,
 * Azurite, the firebase Storage emulator), for each of s3, gcs, abs and swift:
 *
 *  a. as a source: `/insecure/rs:fit:100:100/plain/<scheme>://bucket/photo.jpg@png` → 200,
 *     100 px PNG; a scheme that is not enabled and a denied bucket answer 404;
 *  b. as the L2 cache: a first server computes a result from a loopback http origin (MISS);
 *     a second server *process* sharing the backend answers HIT-L2 with the same pixels,
 *     without touching the origin;
 *  c. a dead cache backend (a server that accepts connections and never answers, and for
 *     abs an Azurite stopped mid-test) never fails an image request, and once the circuit
 *     breaker is open it adds no noticeable latency.
 *
 * Objects are put and listed with each vendor's own SDK (or plain Swift HTTP), not with
 * pixproxy's adapters, so an adapter bug cannot hide behind a matching one.
 */
import { createServer, type Server, type Socket } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../helpers/app.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { spawnServer, stopChild, type ChildServer } from '../../helpers/process.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  createS3Bucket,
  createSwiftContainer,
  requireOrSkip,
  startAzurite,
  startGcsEmulator,
  startSwift,
  swiftSession,
  type AzuriteServer,
  type GcsServer,
  type SwiftServer,
} from './servers.js';

type Env = Record<string, string>;
type Kind = 's3' | 'gcs' | 'abs' | 'swift';

const skipSwift = requireOrSkip('swift');
const skipAzurite = requireOrSkip('azurite');
const skipGcs = requireOrSkip('gcs');

/** The time box of one cache call in the dead-backend tests: two in a row per request (L2, origin sub-store). */
const DEAD_TIMEOUT_MS = 400;
/** "No noticeable latency" once the breaker is open; without it a request pays ≥ 2 × DEAD_TIMEOUT_MS. */
const FAST_MS = 300;
/** Cache prefix, so the test can see where entries land. */
const PREFIX = 'e2e';

let swift: SwiftServer | undefined;
let azurite: AzuriteServer | undefined;
let gcs: GcsServer | undefined;
let origin: Origin;
/** No storage scheme enabled, no L2: the "disabled scheme" server. */
let bare: RunningApp | undefined;
let photo: Buffer;
const timings: Record<string, Record<string, number>> = {};

function timing(kind: string, what: string, ms: number): void {
  (timings[kind] ??= {})[what] = Math.round(ms);
}

/** Write, list and bucket creation with the vendor's SDK (Swift: plain HTTP, as its docs show). */
interface Admin {
  createBucket(bucket: string): Promise<void>;
  put(bucket: string, key: string, body: Buffer, contentType: string): Promise<void>;
  list(bucket: string, prefix: string): Promise<string[]>;
  close(): void;
}

async function s3Admin(s: SwiftServer): Promise<Admin> {
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({ endpoint: s.endpoint, region: s.s3.region, forcePathStyle: true, credentials: s.s3, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    createBucket: (bucket) => createS3Bucket(s, bucket),
    async put(bucket, key, body, contentType) {
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async list(bucket, prefix) {
      const r = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (r.Contents ?? []).map((o) => o.Key ?? '');
    },
    close: () => client.destroy(),
  };
}

async function gcsAdmin(g: GcsServer): Promise<Admin> {
  const { Storage } = await import('@google-cloud/storage');
  const storage = new Storage({ apiEndpoint: g.endpoint, projectId: g.projectId, useAuthWithCustomEndpoint: false });
  return {
    // The emulator has no createBucket (501): a bucket appears with its first object.
    createBucket: async () => undefined,
    async put(bucket, key, body, contentType) {
      await storage.bucket(bucket).file(key).save(body, { resumable: false, contentType });
    },
    async list(bucket, prefix) {
      const [files] = await storage.bucket(bucket).getFiles({ prefix });
      return files.map((f) => f.name);
    },
    close: () => undefined,
  };
}

async function absAdmin(a: AzuriteServer): Promise<Admin> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const svc = new BlobServiceClient(a.endpoint, new StorageSharedKeyCredential(a.accountName, a.accountKey));
  return {
    async createBucket(bucket) {
      await svc.getContainerClient(bucket).createIfNotExists();
    },
    async put(bucket, key, body, contentType) {
      await svc.getContainerClient(bucket).getBlockBlobClient(key).uploadData(body, { blobHTTPHeaders: { blobContentType: contentType } });
    },
    async list(bucket, prefix) {
      const out: string[] = [];
      for await (const b of svc.getContainerClient(bucket).listBlobsFlat({ prefix })) out.push(b.name);
      return out;
    },
    close: () => undefined,
  };
}

function swiftAdmin(s: SwiftServer): Admin {
  const call = async (method: string, path: string, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Response> => {
    const { token, storageUrl } = await swiftSession(s);
    return fetch(`${storageUrl}/${path}`, { method, headers: { 'x-auth-token': token, ...init.headers }, ...(init.body ? { body: init.body } : {}) });
  };
  return {
    createBucket: (bucket) => createSwiftContainer(s, bucket),
    async put(bucket, key, body, contentType) {
      const r = await call('PUT', `${encodeURIComponent(bucket)}/${key}`, { body, headers: { 'content-type': contentType } });
      if (!r.ok) throw new Error(`swift PUT ${bucket}/${key}: ${r.status}`);
    },
    async list(bucket, prefix) {
      const r = await call('GET', `${encodeURIComponent(bucket)}?format=json&prefix=${encodeURIComponent(prefix)}`);
      if (!r.ok) throw new Error(`swift list ${bucket}: ${r.status}`);
      return ((await r.json()) as { name: string }[]).map((o) => o.name);
    },
    close: () => undefined,
  };
}

/** Accepts TCP connections and never answers: the worst kind of dead backend. */
interface Silent {
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function startSilent(): Promise<Silent> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    port,
    get connections() {
      return state.connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Case {
  kind: Kind;
  scheme: string;
  skip: string | undefined;
  /** Variable names' middle part: IMGPROXY_<V>_ALLOWED_BUCKETS. */
  varName: string;
  admin(): Promise<Admin>;
  /** IMGPROXY_USE_* and the source variables, pointing at the real server. */
  sourceEnv(): Env;
  /** IMGPROXY_CACHE_* for this backend at `endpoint` (the real server or a dead one). */
  cacheEnv(endpoint: string): Env;
  realEndpoint(): string;
}

const cases: Case[] = [
  {
    kind: 's3',
    scheme: 's3',
    skip: skipSwift,
    varName: 'S3',
    admin: () => s3Admin(need(swift)),
    // Host:port without a scheme, as imgproxy users write it; keys and region through the AWS variables.
    sourceEnv: () => ({ IMGPROXY_USE_S3: 'true', IMGPROXY_S3_ENDPOINT: need(swift).endpoint.replace(/^http:\/\//, ''), AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' }),
    cacheEnv: (endpoint) => ({ IMGPROXY_CACHE_USE: 's3', IMGPROXY_CACHE_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' }),
    realEndpoint: () => need(swift).endpoint,
  },
  {
    kind: 'gcs',
    scheme: 'gs',
    skip: skipGcs,
    varName: 'GCS',
    admin: () => gcsAdmin(need(gcs)),
    sourceEnv: () => ({ IMGPROXY_USE_GCS: 'true', IMGPROXY_GCS_ENDPOINT: need(gcs).endpoint }),
    cacheEnv: (endpoint) => ({ IMGPROXY_CACHE_USE: 'gcs', IMGPROXY_CACHE_GCS_ENDPOINT: endpoint }),
    realEndpoint: () => need(gcs).endpoint,
  },
  {
    kind: 'abs',
    scheme: 'abs',
    skip: skipAzurite,
    varName: 'ABS',
    admin: () => absAdmin(need(azurite)),
    sourceEnv: () => ({ IMGPROXY_USE_ABS: 'true', IMGPROXY_ABS_NAME: AZURITE_ACCOUNT, IMGPROXY_ABS_KEY: AZURITE_KEY, IMGPROXY_ABS_ENDPOINT: need(azurite).endpoint }),
    cacheEnv: (endpoint) => ({ IMGPROXY_CACHE_USE: 'abs', IMGPROXY_CACHE_ABS_NAME: AZURITE_ACCOUNT, IMGPROXY_CACHE_ABS_KEY: AZURITE_KEY, IMGPROXY_CACHE_ABS_ENDPOINT: endpoint }),
    realEndpoint: () => need(azurite).endpoint,
  },
  {
    kind: 'swift',
    scheme: 'swift',
    skip: skipSwift,
    varName: 'SWIFT',
    admin: async () => swiftAdmin(need(swift)),
    sourceEnv: () => ({ IMGPROXY_USE_SWIFT: 'true', IMGPROXY_SWIFT_AUTH_URL: need(swift).authUrl, IMGPROXY_SWIFT_USERNAME: 'test:tester', IMGPROXY_SWIFT_API_KEY: 'testing', IMGPROXY_SWIFT_AUTH_VERSION: '1' }),
    cacheEnv: (authUrl) => ({ IMGPROXY_CACHE_USE: 'swift', IMGPROXY_CACHE_SWIFT_AUTH_URL: authUrl, IMGPROXY_CACHE_SWIFT_USERNAME: 'test:tester', IMGPROXY_CACHE_SWIFT_API_KEY: 'testing', IMGPROXY_CACHE_SWIFT_AUTH_VERSION: '1' }),
    realEndpoint: () => need(swift).authUrl,
  },
];

/** The dead-backend address for a case: same shape as the real one, on the silent port. */
function deadEndpoint(c: Case, port: number): string {
  const base = `http://127.0.0.1:${port}`;
  if (c.kind === 'abs') return `${base}/${AZURITE_ACCOUNT}`;
  if (c.kind === 'swift') return `${base}/auth/v1.0`;
  return base;
}

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('backend not started');
  return v;
}

const buckets = (c: Case) => ({ imgs: `e2e-${c.kind}-imgs`, denied: `e2e-${c.kind}-denied`, cache: `e2e-${c.kind}-cache` });

async function get(base: string, path: string): Promise<{ status: number; headers: Headers; body: Buffer; ms: number }> {
  const t = performance.now();
  const r = await fetch(base + path);
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, ms: performance.now() - t };
}

async function pixels(b: Buffer): Promise<{ width: number; height: number; format: string; raw: Buffer }> {
  const meta = await sharp(b).metadata();
  const { data, info } = await sharp(b).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, format: meta.format, raw: data };
}

beforeAll(async () => {
  const t0 = performance.now();
  const [, , , o, b, p] = await Promise.all([
    skipSwift ? undefined : startSwift().then((s) => (swift = s)),
    skipAzurite ? undefined : startAzurite().then((a) => (azurite = a)),
    skipGcs ? undefined : startGcsEmulator().then((g) => (gcs = g)),
    startOrigin(),
    startApp({ IMGPROXY_CACHE_USE: 'none' }),
    makePhoto(400, 300),
  ]);
  origin = o;
  bare = b;
  photo = p;
  console.info(`e2e: backends up in ${Math.round(performance.now() - t0)} ms (swift ${swift?.startMs ?? '-'}, azurite ${azurite?.startMs ?? '-'}, gcs ${gcs?.startMs ?? '-'})`);
}, 120_000);

afterAll(async () => {
  await Promise.all([bare?.stop(), origin?.close()]);
  await Promise.all([swift?.stop(), azurite?.stop(), gcs?.stop()]);
  console.info(`e2e timings (ms): ${JSON.stringify(timings)}`);
});

for (const c of cases) {
  describe.skipIf(c.skip !== undefined)(`${c.kind} end to end${c.skip ? ` (skipped: ${c.skip})` : ''}`, () => {
    let admin: Admin;
    /** Source scheme enabled + this backend as L2: the first server. */
    let first: RunningApp;
    /** A second process sharing the L2, started early (its start-up overlaps the other work). */
    let second: Promise<ChildServer>;
    let env: Env;
    const b = buckets(c);
    const originPath = `/${c.kind}-origin.jpg`;

    beforeAll(async () => {
      const t = performance.now();
      admin = await c.admin();
      for (const bucket of [b.imgs, b.denied, b.cache]) await admin.createBucket(bucket);
      await admin.put(b.imgs, 'photo.jpg', photo, 'image/jpeg');
      await admin.put(b.denied, 'photo.jpg', photo, 'image/jpeg');
      origin.files.set(originPath, { body: photo, contentType: 'image/jpeg' });
      env = {
        ...c.sourceEnv(),
        // Deny wins over allow.
        [`IMGPROXY_${c.varName}_ALLOWED_BUCKETS`]: `${b.imgs},${b.denied}`,
        [`IMGPROXY_${c.varName}_DENIED_BUCKETS`]: b.denied,
        ...c.cacheEnv(c.realEndpoint()),
        IMGPROXY_CACHE_BUCKET: b.cache,
        IMGPROXY_CACHE_PATH_PREFIX: PREFIX,
        IMGPROXY_CACHE_REPORT_ERRORS: 'true',
      };
      second = spawnServer({ ...env, IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' });
      // Not awaited here; a rejection surfaces in the test that awaits it.
      second.catch(() => undefined);
      first = await startApp(env);
      timing(c.kind, 'setup', performance.now() - t);
    }, 60_000);

    afterAll(async () => {
      await first?.stop();
      await stopChild(await second?.catch(() => undefined));
      admin?.close();
    });

    it(`serves ${c.scheme}://bucket/photo.jpg as a 100 px PNG`, async () => {
      const r = await get(first.url, `/insecure/rs:fit:100:100/plain/${c.scheme}://${b.imgs}/photo.jpg@png`);
      timing(c.kind, 'source', r.ms);
      expect(r.status, r.body.toString().slice(0, 200)).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/png');
      const px = await pixels(r.body);
      expect([px.format, px.width, px.height]).toEqual(['png', 100, 75]);
    });

    it('answers 404 for a missing object, a denied bucket (even when allowed) and a scheme that is not enabled', async () => {
      const missing = await get(first.url, `/insecure/rs:fit:100:100/plain/${c.scheme}://${b.imgs}/nope.jpg@png`);
      expect(missing.status).toBe(404);
      const denied = await get(first.url, `/insecure/rs:fit:100:100/plain/${c.scheme}://${b.denied}/photo.jpg@png`);
      expect(denied.status).toBe(404);
      const disabled = await get(need(bare).url, `/insecure/rs:fit:100:100/plain/${c.scheme}://${b.imgs}/photo.jpg@png`);
      expect(disabled.status).toBe(404);
    });

    it('shares the L2: a second server process answers HIT-L2 with the same pixels without fetching the origin', async () => {
      const path = `/insecure/rs:fit:120:120/plain/${origin.url}${originPath}@webp`;
      const a = await get(first.url, path);
      timing(c.kind, 'miss', a.ms);
      expect(a.status, a.body.toString().slice(0, 200)).toBe(200);
      expect(a.headers.get('x-cache')).toBe('MISS');
      expect(origin.count(originPath)).toBe(1);
      await first.app.ctx.cache.flush();

      // The entries are in the bucket, under the prefix (results) and its origin/ (source bytes).
      const keys = await admin.list(b.cache, `${PREFIX}/`);
      expect(keys.some((k) => !k.startsWith(`${PREFIX}/origin/`)), keys.join(' ')).toBe(true);
      expect(keys.some((k) => k.startsWith(`${PREFIX}/origin/`)), keys.join(' ')).toBe(true);

      const t = performance.now();
      const srv = await second;
      timing(c.kind, 'second-process-wait', performance.now() - t);
      const h = await get(srv.url, path);
      timing(c.kind, 'hit-l2', h.ms);
      expect(h.status, srv.logs.join('\n').slice(-2000)).toBe(200);
      expect(h.headers.get('x-cache'), srv.logs.join('\n').slice(-2000)).toBe('HIT-L2');
      expect(h.headers.get('etag')).toBe(a.headers.get('etag'));
      expect(h.headers.get('content-type')).toBe('image/webp');
      const [pa, ph] = await Promise.all([pixels(a.body), pixels(h.body)]);
      expect([ph.width, ph.height, ph.format]).toEqual([120, 90, 'webp']);
      expect([ph.width, ph.height]).toEqual([pa.width, pa.height]);
      expect(ph.raw.equals(pa.raw)).toBe(true);
      expect(origin.count(originPath)).toBe(1);

      // Promoted to the second process's L1.
      const again = await get(srv.url, path);
      expect(again.headers.get('x-cache')).toBe('HIT-L1');
      expect(origin.count(originPath)).toBe(1);
    });

    it('keeps serving with a dead cache backend, and adds no latency once the breaker is open', async () => {
      const silent = await startSilent();
      const deadPath = `/${c.kind}-dead.jpg`;
      origin.files.set(deadPath, { body: await makePhoto(200, 150), contentType: 'image/jpeg' });
      const dead = await startApp({
        ...c.cacheEnv(deadEndpoint(c, silent.port)),
        IMGPROXY_CACHE_BUCKET: b.cache,
        PIXPROXY_CACHE_BACKEND_TIMEOUT_MS: String(DEAD_TIMEOUT_MS),
      });
      let stopped = false;
      try {
        const t = performance.now();
        // Distinct options per request: every one goes past L1 to the (dead) L2.
        const url = (w: number): string => `/insecure/rs:fit:${w}:${w}/plain/${origin.url}${deadPath}`;
        const warm: number[] = [];
        // Five requests give each guarded store (L2, origin sub-store) ≥ 5 consecutive failures.
        for (let i = 0; i < 5; i++) {
          const r = await get(dead.url, url(40 + i));
          expect(r.status).toBe(200);
          expect(r.headers.get('x-cache')).toBe('MISS');
          warm.push(Math.round(r.ms));
        }
        // The backend really was tried: this is not a server without L2.
        expect(silent.connections).toBeGreaterThan(0);
        // Let the background puts of the last request fail too.
        await new Promise((r) => setTimeout(r, DEAD_TIMEOUT_MS));
        const fast: number[] = [];
        for (let i = 0; i < 5; i++) {
          const r = await get(dead.url, url(60 + i));
          expect(r.status).toBe(200);
          expect((await pixels(r.body)).width).toBe(60 + i);
          fast.push(Math.round(r.ms));
        }
        timing(c.kind, 'dead-total', performance.now() - t);
        timing(c.kind, 'dead-warm-max', Math.max(...warm));
        timing(c.kind, 'dead-open-max', Math.max(...fast));
        // Before the breaker opened the time box was paid (≥ one DEAD_TIMEOUT_MS per request)…
        expect(warm[0]).toBeGreaterThanOrEqual(DEAD_TIMEOUT_MS);
        // …after, nothing: each answer as fast as without a cache.
        for (const ms of fast) expect(ms, `open-circuit latencies ${fast.join(', ')} ms`).toBeLessThan(FAST_MS);

        // A graceful stop is not held up by the calls the backend never answers.
        const s = performance.now();
        stopped = true;
        await dead.stop();
        timing(c.kind, 'dead-stop', performance.now() - s);
        expect(performance.now() - s).toBeLessThan(5000);
      } finally {
        if (!stopped) await dead.stop();
        await silent.close();
      }
    });
  });
}

describe.skipIf(skipAzurite !== undefined)(`abs L2 stopped mid-test${skipAzurite ? ` (skipped: ${skipAzurite})` : ''}`, () => {
  it('serves from the L2 while it runs, and keeps answering 200 quickly after it is stopped', async () => {
    // A dedicated Azurite: stopping the shared one would break the other tests.
    const own = await startAzurite();
    const app = await (async () => {
      const admin = await absAdmin(own);
      await admin.createBucket('midtest');
      return startApp({
        IMGPROXY_CACHE_USE: 'abs',
        IMGPROXY_CACHE_BUCKET: 'midtest',
        IMGPROXY_CACHE_ABS_NAME: own.accountName,
        IMGPROXY_CACHE_ABS_KEY: own.accountKey,
        IMGPROXY_CACHE_ABS_ENDPOINT: own.endpoint,
        PIXPROXY_CACHE_BACKEND_TIMEOUT_MS: String(DEAD_TIMEOUT_MS),
        // No L1, so every repeat goes to the L2.
        PP_CACHE_MEMORY_MAX_MB: '0',
      });
    })();
    try {
      const t = performance.now();
      origin.files.set('/mid.jpg', { body: await makePhoto(200, 150), contentType: 'image/jpeg' });
      const url = (w: number): string => `/insecure/rs:fit:${w}:${w}/plain/${origin.url}/mid.jpg`;
      expect((await get(app.url, url(50))).headers.get('x-cache')).toBe('MISS');
      await app.app.ctx.cache.flush();
      expect((await get(app.url, url(50))).headers.get('x-cache')).toBe('HIT-L2');

      await own.stop();
      const warm: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await get(app.url, url(70 + i));
        expect(r.status).toBe(200);
        warm.push(Math.round(r.ms));
      }
      await new Promise((r) => setTimeout(r, DEAD_TIMEOUT_MS));
      const fast: number[] = [];
      // The entry stored before the stop is now unreachable: a MISS, recomputed, still 200.
      for (const w of [50, 80, 81, 82, 83]) {
        const r = await get(app.url, url(w));
        expect(r.status).toBe(200);
        expect(r.headers.get('x-cache')).toBe('MISS');
        fast.push(Math.round(r.ms));
      }
      timing('abs-stopped', 'total', performance.now() - t);
      timing('abs-stopped', 'warm-max', Math.max(...warm));
      timing('abs-stopped', 'open-max', Math.max(...fast));
      for (const ms of fast) expect(ms, `open-circuit latencies ${fast.join(', ')} ms (before: ${warm.join(', ')})`).toBeLessThan(FAST_MS);
    } finally {
      await app.stop();
      await own.stop();
    }
  });
});
