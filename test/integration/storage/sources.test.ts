/**
 * The s3:// gs:// abs:// swift:// sources and the L2 cache factory, built from Config the way
 * the app builds them, against real servers: Swift SAIO (Swift and S3 via s3api), Azurite and
 * the firebase Storage emulator.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createStorageSources, parseStorageUrl } from '../../../src/sources/storage-source.js';
import type { Source } from '../../../src/sources/types.js';
import { createCacheBackend } from '../../../src/storage/index.js';
import type { StorageBackend } from '../../../src/storage/types.js';
import { rejection } from '../../helpers/errors.js';
import { cancelInFlight, startHostileOrigin, type HostileOrigin } from '../../helpers/hostile-origin.js';
import {
  createAzureContainer,
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

const skipSwift = requireOrSkip('swift');
const skipAzurite = requireOrSkip('azurite');
const skipGcs = requireOrSkip('gcs');

const logger = silentLogger();
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const FETCH = { maxBytes: 0 };

describe('parseStorageUrl (imgproxy grammar)', () => {
  it('takes the raw key, cuts the query at the separator, and does not percent-decode', () => {
    expect(parseStorageUrl('s3://bucket/a/b%20c.jpg?v123', 's3', '?')).toEqual({ bucket: 'bucket', key: 'a/b%20c.jpg', query: 'v123' });
    expect(parseStorageUrl('s3://bucket/a?b#c.jpg', 's3', '')).toEqual({ bucket: 'bucket', key: 'a?b#c.jpg', query: '' });
    expect(parseStorageUrl('gs://bucket/k.png|||42', 'gs', '|||')).toEqual({ bucket: 'bucket', key: 'k.png', query: '42' });
    expect(parseStorageUrl('abs://container', 'abs', '?')).toEqual({ bucket: 'container', key: '', query: '' });
    expect(parseStorageUrl('http://x/y', 's3', '?')).toBeNull();
  });
});

interface Case {
  scheme: 's3' | 'gs' | 'abs' | 'swift';
  skip: string | undefined;
  env: () => Env;
  backend: () => Promise<StorageBackend>;
  versions?: boolean;
  /** Stores `body` under imgs/`key` with a Content-Encoding, through the store's own API. */
  putEncoded: (key: string, body: Buffer, encoding: string) => Promise<void>;
}

let swift: SwiftServer | undefined;
let azurite: AzuriteServer | undefined;
let gcs: GcsServer | undefined;
const startTimes: Record<string, number> = {};

beforeAll(async () => {
  await Promise.all([
    skipSwift ? undefined : startSwift().then(async (s) => {
      swift = s;
      startTimes.swift = s.startMs;
      for (const b of ['imgs', 'private', 'both', 'vbucket']) {
        await createS3Bucket(s, b);
      }
    }),
    skipAzurite ? undefined : startAzurite().then(async (a) => {
      azurite = a;
      startTimes.azurite = a.startMs;
      for (const b of ['imgs', 'private', 'both']) await createAzureContainer(a, b);
    }),
    skipGcs ? undefined : startGcsEmulator().then((g) => {
      gcs = g;
      startTimes.gcs = g.startMs;
    }),
  ]);
  console.info(`backend start times (ms): ${JSON.stringify(startTimes)}`);
}, 180_000);

afterAll(async () => {
  await Promise.all([swift?.stop(), azurite?.stop(), gcs?.stop()]);
});

const lists = (prefix: string): Env => ({ [`IMGPROXY_${prefix}_ALLOWED_BUCKETS`]: 'imgs,both', [`IMGPROXY_${prefix}_DENIED_BUCKETS`]: 'both' });

const cases: Case[] = [
  {
    scheme: 's3',
    skip: skipSwift,
    versions: true,
    env: () => ({ IMGPROXY_USE_S3: '1', IMGPROXY_S3_ENDPOINT: swift?.endpoint.replace('http://', ''), IMGPROXY_S3_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing', ...lists('S3') }),
    backend: async () => (await import('../../../src/storage/s3.js')).createS3Backend({ endpoint: swift?.endpoint ?? '', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'testing' } }),
    putEncoded: async (key, body, encoding) => {
      const s3 = await import('@aws-sdk/client-s3');
      const client = new s3.S3Client({ endpoint: swift?.endpoint ?? '', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'testing' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
      await client.send(new s3.PutObjectCommand({ Bucket: 'imgs', Key: key, Body: body, ContentEncoding: encoding, ContentType: 'image/png' }));
      client.destroy();
    },
  },
  {
    scheme: 'gs',
    skip: skipGcs,
    env: () => ({ IMGPROXY_USE_GCS: '1', IMGPROXY_GCS_ENDPOINT: gcs?.endpoint, ...lists('GCS') }),
    backend: async () => (await import('../../../src/storage/gcs.js')).createGcsBackend({ endpoint: gcs?.endpoint ?? '' }),
    putEncoded: async (key, body, encoding) => {
      const { Storage } = await import('@google-cloud/storage');
      const storage = new Storage({ apiEndpoint: gcs?.endpoint ?? '', useAuthWithCustomEndpoint: false });
      await storage.bucket('imgs').file(key).save(body, { resumable: false, metadata: { contentEncoding: encoding, contentType: 'image/png' } });
    },
  },
  {
    scheme: 'abs',
    skip: skipAzurite,
    env: () => ({ IMGPROXY_USE_ABS: '1', IMGPROXY_ABS_NAME: azurite?.accountName, IMGPROXY_ABS_KEY: azurite?.accountKey, IMGPROXY_ABS_ENDPOINT: azurite?.endpoint, ...lists('ABS') }),
    backend: async () => (await import('../../../src/storage/abs.js')).createAbsBackend({ accountName: azurite?.accountName ?? '', accountKey: azurite?.accountKey ?? '', endpoint: azurite?.endpoint ?? '' }),
    putEncoded: async (key, body, encoding) => {
      const az = await import('@azure/storage-blob');
      const svc = new az.BlobServiceClient(azurite?.endpoint ?? '', new az.StorageSharedKeyCredential(azurite?.accountName ?? '', azurite?.accountKey ?? ''));
      await svc.getContainerClient('imgs').getBlockBlobClient(key).upload(body, body.length, { blobHTTPHeaders: { blobContentEncoding: encoding, blobContentType: 'image/png' } });
    },
  },
  {
    scheme: 'swift',
    skip: skipSwift,
    env: () => ({ IMGPROXY_USE_SWIFT: '1', IMGPROXY_SWIFT_AUTH_URL: swift?.authUrl, IMGPROXY_SWIFT_USERNAME: 'test:tester', IMGPROXY_SWIFT_API_KEY: 'testing', ...lists('SWIFT') }),
    backend: async () => (await import('../../../src/storage/swift.js')).createSwiftBackend({ authUrl: swift?.authUrl ?? '', username: 'test:tester', apiKey: 'testing' }),
    putEncoded: async (key, body, encoding) => {
      if (!swift) return;
      const { token, storageUrl } = await swiftSession(swift);
      const res = await fetch(`${storageUrl}/imgs/${key}`, { method: 'PUT', body, headers: { 'x-auth-token': token, 'content-encoding': encoding, 'content-type': 'image/png' } });
      expect(res.ok).toBe(true);
    },
  },
];

for (const c of cases) {
  describe.skipIf(c.skip !== undefined)(`${c.scheme}:// source${c.skip ? ` (skipped: ${c.skip})` : ''}`, () => {
    let source: Source;
    let backend: StorageBackend;

    beforeAll(async () => {
      if (c.scheme === 'swift' && swift) for (const b of ['imgs', 'private', 'both']) await createSwiftContainer(swift, b);
      const sources = createStorageSources(loadConfig(c.env()), logger);
      expect(sources.map((s) => s.schemes)).toEqual([[c.scheme]]);
      source = sources[0] as Source;
      backend = await c.backend();
      const imgs = backend.open('imgs');
      await imgs.put('dir/pic.png', PNG, { contentType: 'image/png', cacheControl: 'public, max-age=600', ...(c.scheme === 's3' || c.scheme === 'swift' ? { httpExpires: 'Thu, 01 Jan 2037 00:00:00 GMT' } : {}) });
      await imgs.put('odd/a b%20c#d.png', PNG, { contentType: 'image/png' });
      await backend.open('both').put('pic.png', PNG, {});
      await backend.open('private').put('pic.png', PNG, {});
    });
    afterAll(async () => {
      await backend?.close?.();
    });

    it('serves an object with its validators and caching headers', async () => {
      const r = await source.fetch(`${c.scheme}://imgs/dir/pic.png`, FETCH);
      expect(r.status).toBe(200);
      expect(r.body.equals(PNG)).toBe(true);
      expect(r.contentType).toBe('image/png');
      expect(r.etag).toMatch(/^"/);
      expect(r.headers.etag).toBe(r.etag);
      expect(r.lastModified).toBeTruthy();
      expect(r.headers['last-modified']).toBe(r.lastModified);
      expect(r.headers['cache-control']).toBe('public, max-age=600');
      if (c.scheme === 's3' || c.scheme === 'swift') expect(r.headers.expires).toBe('Thu, 01 Jan 2037 00:00:00 GMT');
    });

    it('answers 304 with an empty body when the ETag matches', async () => {
      const first = await source.fetch(`${c.scheme}://imgs/dir/pic.png`, FETCH);
      const r = await source.fetch(`${c.scheme}://imgs/dir/pic.png`, { ...FETCH, ifNoneMatch: first.etag ?? '' });
      expect(r.status).toBe(304);
      expect(r.body.length).toBe(0);
      expect(r.etag).toBe(first.etag);
      const changed = await source.fetch(`${c.scheme}://imgs/dir/pic.png`, { ...FETCH, ifNoneMatch: '"stale"' });
      expect(changed.status).toBe(200);
      const ims = await source.fetch(`${c.scheme}://imgs/dir/pic.png`, { ...FETCH, ifModifiedSince: new Date(Date.now() + 60_000).toUTCString() });
      expect(ims.status).toBe(304);
    });

    it('keeps %, # and spaces in keys as imgproxy does', async () => {
      const sep = loadConfig({ ...c.env(), IMGPROXY_SOURCE_URL_QUERY_SEPARATOR: '' });
      const raw = createStorageSources(sep, logger)[0] as Source;
      const r = await raw.fetch(`${c.scheme}://imgs/odd/a b%20c#d.png`, FETCH);
      expect(r.body.equals(PNG)).toBe(true);
    });

    it('refuses buckets not allowed, and denied ones even when allowed (deny wins)', async () => {
      const other = await rejection(source.fetch(`${c.scheme}://private/pic.png`, FETCH));
      expect(other.code).toBe('INVALID_SOURCE_URL');
      expect(other.status).toBe(404);
      const both = await rejection(source.fetch(`${c.scheme}://both/pic.png`, FETCH));
      expect(both.code).toBe('INVALID_SOURCE_URL');
      expect(both.message).toMatch(/not allowed/);
    });

    it('undoes a stored Content-Encoding, and limits the decoded bytes (a stored gzip bomb)', async () => {
      await c.putEncoded('enc/pic.png', gzipSync(PNG), 'gzip');
      const r = await source.fetch(`${c.scheme}://imgs/enc/pic.png`, FETCH);
      expect(r.body.equals(PNG)).toBe(true);
      // 64 MiB of zeros stored as about 64 KB.
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      await c.putEncoded('enc/bomb.png', bomb, 'gzip');
      const big = await rejection(source.fetch(`${c.scheme}://imgs/enc/bomb.png`, { maxBytes: 1024 * 1024 }));
      expect(big.code).toBe('SOURCE_TOO_BIG');
      expect(big.status).toBe(422);
    });

    it('maps a missing object to 404 and an oversized one to 422', async () => {
      const missing = await rejection(source.fetch(`${c.scheme}://imgs/nope.png`, FETCH));
      expect(missing.code).toBe('SOURCE_CLIENT_ERROR');
      expect(missing.status).toBe(404);
      const big = await rejection(source.fetch(`${c.scheme}://imgs/dir/pic.png`, { maxBytes: 10 }));
      expect(big.code).toBe('SOURCE_TOO_BIG');
      expect(big.status).toBe(422);
      const bad = await rejection(source.fetch(`${c.scheme}://imgs`, FETCH));
      expect(bad.code).toBe('INVALID_SOURCE_URL');
    });
  });
}

describe.skipIf(skipSwift !== undefined)('s3:// versions (Swift s3api object versioning)', () => {
  it('fetches an older version by id after the separator', async () => {
    const s3 = await import('@aws-sdk/client-s3');
    const client = new s3.S3Client({ endpoint: swift?.endpoint ?? '', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'testing' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await client.send(new s3.PutBucketVersioningCommand({ Bucket: 'vbucket', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await client.send(new s3.PutObjectCommand({ Bucket: 'vbucket', Key: 'v.png', Body: Buffer.from('one') }));
    await client.send(new s3.PutObjectCommand({ Bucket: 'vbucket', Key: 'v.png', Body: Buffer.from('two') }));
    client.destroy();
    expect(v1.VersionId).toBeTruthy();
    const [source] = createStorageSources(loadConfig({ ...(cases[0]?.env() ?? {}), IMGPROXY_S3_ALLOWED_BUCKETS: '', IMGPROXY_S3_DENIED_BUCKETS: '' }), logger);
    expect((await source?.fetch('s3://vbucket/v.png', FETCH))?.body.toString()).toBe('two');
    expect((await source?.fetch(`s3://vbucket/v.png?${v1.VersionId}`, FETCH))?.body.toString()).toBe('one');
    const custom = createStorageSources(loadConfig({ ...(cases[0]?.env() ?? {}), IMGPROXY_S3_ALLOWED_BUCKETS: '', IMGPROXY_SOURCE_URL_QUERY_SEPARATOR: '@@' }), logger)[0];
    expect((await custom?.fetch(`s3://vbucket/v.png@@${v1.VersionId}`, FETCH))?.body.toString()).toBe('one');
  });
});

describe.skipIf(skipGcs !== undefined)('gs:// generations (firebase emulator)', () => {
  // Emulator gap: it ignores `generation` and always serves the latest, so only the split of
  // the generation off the key (and its pass-through) is provable here.
  it('cuts the generation off the key and fetches by it', async () => {
    const { createGcsBackend } = await import('../../../src/storage/gcs.js');
    const b = await createGcsBackend({ endpoint: gcs?.endpoint ?? '' });
    await b.open('gens').put('g.png', Buffer.from('current'), {});
    const { Storage } = await import('@google-cloud/storage');
    const [meta] = await new Storage({ apiEndpoint: gcs?.endpoint ?? '', useAuthWithCustomEndpoint: false }).bucket('gens').file('g.png').getMetadata();
    expect(meta.generation).toBeTruthy();
    const [source] = createStorageSources(loadConfig({ IMGPROXY_USE_GCS: '1', IMGPROXY_GCS_ENDPOINT: gcs?.endpoint }), logger);
    expect((await source?.fetch(`gs://gens/g.png?${String(meta.generation)}`, FETCH))?.body.toString()).toBe('current');
  });
});

describe('createStorageSources / createCacheBackend configuration', () => {
  it('registers only the enabled schemes', () => {
    expect(createStorageSources(loadConfig({}), logger)).toEqual([]);
    const all = createStorageSources(
      loadConfig({ IMGPROXY_USE_S3: '1', IMGPROXY_USE_GCS: '1', IMGPROXY_USE_ABS: '1', IMGPROXY_ABS_NAME: 'acct', IMGPROXY_USE_SWIFT: '1', IMGPROXY_SWIFT_AUTH_URL: 'http://127.0.0.1:1/auth/v1.0', IMGPROXY_SWIFT_USERNAME: 'u', IMGPROXY_SWIFT_API_KEY: 'k' }),
      logger,
    );
    expect(all.flatMap((s) => s.schemes)).toEqual(['s3', 'gs', 'abs', 'swift']);
  });

  it('stops startup with the variable name when a required one is missing (loadConfig checks it, before any backend is built)', () => {
    expect(() => loadConfig({ IMGPROXY_USE_ABS: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ IMGPROXY_USE_ABS: '1' })).toThrow(/IMGPROXY_ABS_NAME/);
    expect(() => loadConfig({ IMGPROXY_CACHE_USE: 's3' })).toThrow(/IMGPROXY_CACHE_BUCKET/);
    expect(() => loadConfig({ IMGPROXY_CACHE_USE: 'swift', IMGPROXY_CACHE_BUCKET: 'b' })).toThrow(/IMGPROXY_CACHE_SWIFT_AUTH_URL/);
  });

  it('returns null for fs and none', async () => {
    expect(await createCacheBackend(loadConfig({ IMGPROXY_CACHE_USE: 'fs' }), logger)).toBeNull();
    expect(await createCacheBackend(loadConfig({ IMGPROXY_CACHE_USE: '' }), logger)).toBeNull();
  });

  const cacheEnvs: { use: string; skip: string | undefined; env: () => Env }[] = [
    { use: 's3', skip: skipSwift, env: () => ({ IMGPROXY_CACHE_S3_ENDPOINT: swift?.endpoint, IMGPROXY_CACHE_S3_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing' }) },
    { use: 'gcs', skip: skipGcs, env: () => ({ IMGPROXY_CACHE_GCS_ENDPOINT: gcs?.endpoint }) },
    { use: 'abs', skip: skipAzurite, env: () => ({ IMGPROXY_CACHE_ABS_NAME: azurite?.accountName, IMGPROXY_CACHE_ABS_KEY: azurite?.accountKey, IMGPROXY_CACHE_ABS_ENDPOINT: azurite?.endpoint }) },
    { use: 'swift', skip: skipSwift, env: () => ({ IMGPROXY_CACHE_SWIFT_AUTH_URL: swift?.authUrl, IMGPROXY_CACHE_SWIFT_USERNAME: 'test:tester', IMGPROXY_CACHE_SWIFT_API_KEY: 'testing' }) },
  ];
  for (const ce of cacheEnvs) {
    it.skipIf(ce.skip !== undefined)(`builds the ${ce.use} cache backend from IMGPROXY_CACHE_* with bucket and prefix${ce.skip ? ` (skipped: ${ce.skip})` : ''}`, async () => {
      const made = await createCacheBackend(loadConfig({ IMGPROXY_CACHE_USE: ce.use, IMGPROXY_CACHE_BUCKET: 'imgs', IMGPROXY_CACHE_PATH_PREFIX: 'l2cache', ...ce.env() }), logger);
      expect(made).not.toBeNull();
      if (!made) return;
      expect(made.backend.kind).toBe(ce.use);
      expect([made.bucket, made.prefix]).toEqual(['imgs', 'l2cache']);
      if (ce.use === 'swift' && swift) await createSwiftContainer(swift, 'imgs');
      const store = made.backend.open(made.bucket, made.prefix);
      await store.put('k1', Buffer.from('cached'), { contentType: 'image/webp', expiresAt: Date.now() + 60_000 });
      expect((await store.head('k1'))?.contentType).toBe('image/webp');
      const keys: string[] = [];
      for await (const it of store.list()) keys.push(it.key);
      expect(keys).toEqual(['k1']);
      // The prefix is a path segment in the bucket: visible to an un-prefixed store.
      expect(await made.backend.open(made.bucket).head('l2cache/k1')).not.toBeNull();
      await made.backend.close?.();
    });
  }
});

describe.skipIf(skipSwift !== undefined)('swift auth: Keystone v3 catalog and one re-auth on 401', () => {
  // Identity is a small loopback Keystone stand-in; storage is the real SAIO behind it.
  let identity: Server;
  let url = '';
  const bodies: unknown[] = [];
  let issued = 0;

  beforeAll(async () => {
    identity = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        void (async () => {
          const body = JSON.parse(raw || '{}') as { auth?: { identity?: { password?: { user?: { name?: string; password?: string } } } } };
          bodies.push(body);
          const user = body.auth?.identity?.password?.user;
          if (req.method !== 'POST' || req.url !== '/v3/auth/tokens' || user?.name !== 'demo' || user.password !== 'secret') {
            res.writeHead(401).end('{"error":{"code":401}}');
            return;
          }
          issued++;
          const real = await fetch(swift?.authUrl ?? '', { headers: { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' } });
          // The first token handed out is already revoked: the adapter must re-auth once.
          const token = issued === 1 ? 'AUTH_tkrevoked0000000000000000000000' : (real.headers.get('x-auth-token') ?? '');
          const storage = real.headers.get('x-storage-url') ?? '';
          res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': token });
          res.end(JSON.stringify({ token: { expires_at: new Date(Date.now() + 3_600_000).toISOString(), catalog: [{ type: 'identity', endpoints: [] }, { type: 'object-store', endpoints: [{ interface: 'internal', url: 'http://127.0.0.1:1/nope' }, { interface: 'public', url: storage }] }] } }));
        })();
      });
    });
    await new Promise<void>((r) => identity.listen(0, '127.0.0.1', r));
    const a = identity.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/v3`;
  });
  afterAll(async () => {
    await new Promise((r) => identity?.close(r));
  });

  it('authenticates with v3 (auto-detected from the URL), uses the public object-store endpoint, re-auths on 401', async () => {
    if (swift) await createSwiftContainer(swift, 'keystone');
    const { createSwiftBackend } = await import('../../../src/storage/swift.js');
    const b = createSwiftBackend({ authUrl: url, username: 'demo', apiKey: 'secret', tenant: 'proj', domain: 'Default' });
    const store = b.open('keystone');
    await store.put('k', Buffer.from('via keystone'), {});
    expect(issued).toBe(2);
    expect((await store.head('k'))?.size).toBe(12);
    expect(bodies[0]).toMatchObject({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { name: 'Default' } } } }, scope: { project: { name: 'proj', domain: { name: 'Default' } } } } });
    await b.close?.();

    const bad = createSwiftBackend({ authUrl: url, username: 'demo', apiKey: 'wrong' });
    const err = await rejection(bad.open('keystone').head('k'));
    expect(err.message).toMatch(/authentication failed/);
    expect(err.status).toBe(403);
    await bad.close?.();
  });
});

describe.skipIf(skipSwift !== undefined)('swift native expiry', () => {
  it('sets X-Delete-At from expiresAt, so Swift itself stops serving the object', async () => {
    if (!swift) return;
    await createSwiftContainer(swift, 'ttl');
    const { createSwiftBackend } = await import('../../../src/storage/swift.js');
    const b = createSwiftBackend({ authUrl: swift.authUrl, username: swift.username, apiKey: swift.apiKey });
    const expiresAt = Date.now() + 2500;
    await b.open('ttl').put('short', Buffer.from('x'), { expiresAt });
    const { token, storageUrl } = await swiftSession(swift);
    const raw = (): Promise<Response> => fetch(`${storageUrl}/ttl/short`, { method: 'HEAD', headers: { 'x-auth-token': token } });
    const before = await raw();
    expect(before.status).toBe(200);
    expect(before.headers.get('x-delete-at')).toBe(String(Math.ceil(expiresAt / 1000)));
    await new Promise((r) => setTimeout(r, 4000));
    expect((await raw()).status).toBe(404);
    await b.close?.();
  });
});

describe('source download timeout', () => {
  it('answers SOURCE_TIMEOUT (504) when the backend never answers within IMGPROXY_DOWNLOAD_TIMEOUT', async () => {
    const silent = createServer(() => undefined);
    const sockets = new Set<Socket>();
    silent.on('connection', (s) => {
      sockets.add(s);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const a = silent.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    try {
      const [source] = createStorageSources(
        loadConfig({ IMGPROXY_USE_SWIFT: '1', IMGPROXY_SWIFT_AUTH_URL: `http://127.0.0.1:${port}/auth/v1.0`, IMGPROXY_SWIFT_USERNAME: 'u', IMGPROXY_SWIFT_API_KEY: 'k', IMGPROXY_DOWNLOAD_TIMEOUT: '1' }),
        logger,
      );
      const started = Date.now();
      const err = await rejection(source?.fetch('swift://c/k.png', FETCH) ?? Promise.resolve());
      expect(err.code).toBe('SOURCE_TIMEOUT');
      expect(err.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('storage sources against an endpoint that never answers or drips (hostile origin)', () => {
  let origin: HostileOrigin;
  beforeAll(async () => {
    origin = await startHostileOrigin();
  });
  afterAll(async () => {
    await origin.close();
  });

  /** Each scheme pointed at the origin so that its first request's path starts with `kind`. */
  const schemes: [string, (kind: string) => Env, (kind: string) => string, boolean][] = [
    ['s3', () => ({ IMGPROXY_USE_S3: '1', IMGPROXY_S3_ENDPOINT: origin.url, IMGPROXY_S3_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }), (k) => `s3://${k}/key.png`, true],
    ['abs', (k) => ({ IMGPROXY_USE_ABS: '1', IMGPROXY_ABS_NAME: 'acct', IMGPROXY_ABS_KEY: Buffer.from('key').toString('base64'), IMGPROXY_ABS_ENDPOINT: `${origin.url}/${k}` }), () => 'abs://c/blob.png', true],
    // GCS's metadata request and Swift's shared authentication take no signal: they are not
    // closed by the abort, but the answer does not wait for them.
    ['gs', (k) => ({ IMGPROXY_USE_GCS: '1', IMGPROXY_GCS_ENDPOINT: `${origin.url}/${k}` }), () => 'gs://b/obj.png', false],
    ['swift', (k) => ({ IMGPROXY_USE_SWIFT: '1', IMGPROXY_SWIFT_AUTH_URL: `${origin.url}/${k}/auth/v1.0`, IMGPROXY_SWIFT_USERNAME: 'u', IMGPROXY_SWIFT_API_KEY: 'k' }), () => 'swift://c/o.png', false],
  ];

  it.each(schemes)('%s: the caller\'s signal answers CANCELLED at once', async (_scheme, env, url, closes) => {
    const [source] = createStorageSources(loadConfig({ ...env('silent'), IMGPROXY_DOWNLOAD_TIMEOUT: '30' }), logger);
    const ac = new AbortController();
    const next = origin.nextRequest();
    const c = await cancelInFlight(next, ac, source?.fetch(url('silent'), { maxBytes: 0, signal: ac.signal }) ?? Promise.resolve(), 100);
    expect(c.error).toMatchObject({ code: 'CANCELLED' });
    expect(c.answeredMs).toBeLessThan(500);
    if (closes) expect(c.closedMs ?? Infinity).toBeLessThan(1000);
  });

  it.each(schemes)('%s: IMGPROXY_DOWNLOAD_TIMEOUT answers 504 for a silent endpoint', async (_scheme, env, url) => {
    const [source] = createStorageSources(loadConfig({ ...env('silent'), IMGPROXY_DOWNLOAD_TIMEOUT: '1' }), logger);
    const started = Date.now();
    const err = await rejection(source?.fetch(url('silent'), { maxBytes: 0 }) ?? Promise.resolve());
    expect(err.code).toBe('SOURCE_TIMEOUT');
    expect(err.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('s3: a body that drips is cut off by the signal and its connection closed', async () => {
    const [source] = createStorageSources(loadConfig({ ...schemes[0]?.[1]('drip'), IMGPROXY_DOWNLOAD_TIMEOUT: '30' }), logger);
    const ac = new AbortController();
    const next = origin.nextRequest();
    const c = await cancelInFlight(next, ac, source?.fetch('s3://drip/key.png', { maxBytes: 0, signal: ac.signal }) ?? Promise.resolve(), 300);
    expect(c.error).toMatchObject({ code: 'CANCELLED' });
    expect(c.closedMs ?? Infinity).toBeLessThan(1000);
  });
});
