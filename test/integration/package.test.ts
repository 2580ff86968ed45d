/**
 * The published package, as a user gets it: `npm pack` (its prepack build included) on a copy
 * of the repository, the tarball unpacked into a consumer's node_modules next to the runtime
 * dependencies only (no cloud SDK, no dev dependency), then imported, type-checked and run
 * from there. Fails when `files` misses something dist/ needs, when `exports` or the types do
 * not resolve, or when the public surface changes without this list changing with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { encodeBmp } from '../../src/processing/codecs/bmp-write.js';
import { decodeRgba } from '../../src/processing/compare.js';
import { spawnServer, stopChild } from '../helpers/process.js';

/** Each test starts child processes; on a loaded 2-core machine that takes a while. */
const SLOW = 120_000;

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

const PUBLIC_NAMES = [
  'ConfigError', 'ERROR_CODES', 'ProxyError', 'createApp', 'createImageProcessor', 'createUrlSigner',
  'encryptImgproxySourceUrl', 'encryptPreviewProxySourceUrl', 'imgproxyPath', 'loadConfig', 'previewproxyQuery', 'readEnv',
];

interface PackedFile { path: string; size: number }

let work: string;
let consumer: string;
let packed: PackedFile[];
let manifest: { dependencies: Record<string, string>; version: string };

async function exec(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pixproxy-pack-'));
  manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as typeof manifest;

  // A copy of the tree (tracked and new files, as a clone would have them), so that
  // prepack's rebuild of dist/ never touches the working tree.
  const src = join(work, 'src-copy');
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, maxBuffer: 16 << 20 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    await mkdir(dirname(join(src, file)), { recursive: true });
    await cp(join(ROOT, file), join(src, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // deleted but not yet committed
    });
  }
  await symlink(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const pack = await exec('npm', ['pack', '--json', '--pack-destination', work], src);
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string; files: PackedFile[] }];
  packed = info.files;

  consumer = join(work, 'consumer');
  const installed = join(consumer, 'node_modules', 'pixproxy');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(work, info.filename), '-C', installed, '--strip-components=1']);
  for (const dep of Object.keys(manifest.dependencies)) {
    await mkdir(dirname(join(consumer, 'node_modules', dep)), { recursive: true });
    await symlink(join(ROOT, 'node_modules', dep), join(consumer, 'node_modules', dep));
  }
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', { timeout: SLOW }, () => {
  it('ships the build, the docs and the licence, and no sources, tests or source maps', () => {
    const paths = packed.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/main.js', 'dist/cli/bin.cjs', 'dist/threadpool.cjs', 'docs/configuration.md']) {
      expect(paths, p).toContain(p);
    }
    expect(paths.filter((p) => !/^(dist|docs)\//.test(p) && !['package.json', 'README.md', 'LICENSE'].includes(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.map') || p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.endsWith('.d.cts'))).toEqual([]);
    expect(packed.reduce((n, f) => n + f.size, 0)).toBeLessThan(3 << 20);
  });
});

describe('the installed package', { timeout: SLOW }, () => {
  it('exports exactly the public surface, and works without a server', async () => {
    await writeFile(join(consumer, 'use.mjs'), `
      import * as px from 'pixproxy';
      import sharp from 'sharp';
      const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
      const out = await px.createImageProcessor()(photo, 'rs:fill:32:16/f:png');
      const signer = px.createUrlSigner(px.loadConfig({ IMGPROXY_KEY: '6b6579', IMGPROXY_SALT: '73616c74' }));
      console.log(JSON.stringify({ names: Object.keys(px).sort(), out: [out.format, out.width, out.height], signed: signer.imgproxy(px.imgproxyPath({ source: 'local:///a.jpg' })) }));
    `);
    const r = await exec(process.execPath, ['use.mjs'], consumer);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { names: string[]; out: unknown[]; signed: string };
    expect(result.names).toEqual(PUBLIC_NAMES);
    expect(result.out).toEqual(['png', 32, 16]);
    expect(result.signed).toMatch(/^\/[A-Za-z0-9_-]{43}\/plain\/local:\/\/\/a\.jpg$/);
  });

  it('embeds: createApp answers through its handler on a listener of its own', async () => {
    await writeFile(join(consumer, 'embed.mjs'), `
      import { createServer } from 'node:http';
      import { createApp, loadConfig } from 'pixproxy';
      const app = await createApp(loadConfig({ PP_CACHE_DIR: ${JSON.stringify(join(work, 'cache'))}, IMGPROXY_LOG_LEVEL: 'silent' }), { defaultMetrics: false });
      const server = createServer(app.handler).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const res = await fetch('http://127.0.0.1:' + server.address().port + '/health');
      console.log(JSON.stringify({ status: res.status, ctx: 'ctx' in app }));
      server.close();
      await app.close();
    `);
    const r = await exec(process.execPath, ['embed.mjs'], consumer);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ status: 200, ctx: false });
  });

  it('type-checks a TypeScript consumer against its declarations', async () => {
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
      files: ['check.ts'],
    }));
    await writeFile(join(consumer, 'check.ts'), `
      import { createApp, createImageProcessor, createUrlSigner, loadConfig, type App, type ProcessResult, type UrlSigner } from 'pixproxy';
      const config = loadConfig({});
      const signer: UrlSigner = createUrlSigner(config);
      const path: string = signer.previewproxy('/proxy?url=https://example.com/a.jpg');
      const app: Promise<App> = createApp(config);
      const result: Promise<ProcessResult> = createImageProcessor(config)(Buffer.alloc(0), 'w:10');
      // @ts-expect-error the composition root's context is not public
      void app.then((a) => a.ctx);
      void path; void result;
    `);
    const r = await exec(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('runs the pixproxy command from its bin entry', async () => {
    const bin = join(consumer, 'node_modules/pixproxy/dist/cli/bin.cjs');
    const version = await exec(process.execPath, [bin, '--version'], consumer);
    expect(version.stdout.trim()).toBe(manifest.version);
    const signed = await exec(process.execPath, [bin, 'sign', '/w:10/plain/local:///a.jpg'], consumer, { IMGPROXY_KEY: '6b6579', IMGPROXY_SALT: '73616c74' });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/^\/[A-Za-z0-9_-]{43}\/w:10\/plain\/local:\/\/\/a\.jpg\n$/);
  });

  it('serves from its build: a BMP source decoded and a JPEG XL result encoded by codec workers started from dist/', async () => {
    // Without tsx in the consumer, a worker entry looked for among the sources would fail the request.
    const images = join(work, 'images');
    await mkdir(images, { recursive: true });
    await writeFile(join(images, 'red.bmp'), encodeBmp(Buffer.alloc(32 * 16 * 3, Buffer.from([200, 40, 40])), 32, 16, 3));
    const bin = join(consumer, 'node_modules/pixproxy/dist/cli/bin.cjs');
    const env = { IMGPROXY_LOCAL_FILESYSTEM_ROOT: images, IMGPROXY_CACHE_USE: 'none', PP_CACHE_DIR: join(work, 'serve-cache'), MALLOC_ARENA_MAX: '2' };
    const server = await spawnServer(env, [bin, 'serve'], { tsx: false, cwd: consumer });
    try {
      const res = await fetch(`${server.url}/insecure/rs:fit:16:8/f:jxl/plain/local:///red.bmp`);
      expect(res.status, server.logs.slice(-5).join('\n')).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jxl');
      const back = await decodeRgba(Buffer.from(await res.arrayBuffer()), { deadline: Date.now() + 30_000 });
      expect([back.width, back.height]).toEqual([16, 8]);
      const [r, g, b] = back.data;
      expect([r ?? 0, g ?? 0, b ?? 0].map((v, i) => Math.abs(v - [200, 40, 40][i]!) <= 12)).toEqual([true, true, true]);
    } finally {
      await stopChild(server);
    }
  });

  it('without a cloud SDK installed, a backend that needs it stops startup naming the package', async () => {
    const bin = join(consumer, 'node_modules/pixproxy/dist/cli/bin.cjs');
    const check = await exec(process.execPath, [bin, 'config', 'check'], consumer, { IMGPROXY_USE_S3: 'true' });
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/IMGPROXY_USE_S3: needs the optional package @aws-sdk\/client-s3, which is not installed; install it next to pixproxy \(npm install @aws-sdk\/client-s3@\^3/);
    const serve = await exec(process.execPath, [bin, 'serve'], consumer, { IMGPROXY_CACHE_USE: 'gcs', IMGPROXY_CACHE_BUCKET: 'b', MALLOC_ARENA_MAX: '2', IMGPROXY_BIND: '127.0.0.1:0' });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/invalid configuration: IMGPROXY_CACHE_USE=gcs: needs the optional package @google-cloud\/storage/);
  });
});
