/**
 * The `pixproxy` command as a user runs it: a child process per command, against a server
 * started by `pixproxy serve` (the container's command). What `sign` and `encrypt-url` print
 * is requested from that server, so a signature the server would not accept fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLI_ENTRY, runCli } from '../helpers/cli.js';
import { makePhoto } from '../helpers/images.js';
import { isAlive, spawnServer, type ChildServer } from '../helpers/process.js';

/** Each test starts child processes; on a loaded 2-core machine that takes a while. */
const SLOW = 120_000;

const KEY = '736563726574';
const SALT = '68656C6C6F';
const PP_KEY = 'pp-signing-key';
const PP_ENC_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

let root: string;
let cacheDir: string;
let server: ChildServer;
let env: Record<string, string>;

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function fetchImage(path: string): Promise<{ status: number; width?: number; height?: number; format?: string }> {
  const res = await fetch(`${server.url}${path}`);
  if (res.status !== 200) return { status: res.status };
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  return { status: res.status, width: meta.width, height: meta.height, format: meta.format };
}

async function stdoutOf(args: string[], extra: Record<string, string> = {}): Promise<string> {
  const r = await runCli(args, { ...env, ...extra });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pixproxy-cli-src-'));
  cacheDir = await mkdtemp(join(tmpdir(), 'pixproxy-cli-cache-'));
  await writeFile(join(root, 'photo.jpg'), await makePhoto(400, 300));
  env = {
    IMGPROXY_KEY: KEY,
    IMGPROXY_SALT: SALT,
    PP_HMAC_KEY: PP_KEY,
    PP_SOURCE_URL_ENCRYPTION_KEY: PP_ENC_KEY,
    IMGPROXY_LOCAL_FILESYSTEM_ROOT: root,
    PP_LOCAL_ENABLED: 'true',
    PP_CACHE_DIR: cacheDir,
    PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
    // Already set as a container sets it: `serve` runs the server in its own process.
    MALLOC_ARENA_MAX: '2',
  };
  server = await spawnServer(env, [...CLI_ENTRY, 'serve']);
});

afterAll(async () => {
  if (server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await rm(root, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

describe('pixproxy sign', { timeout: SLOW }, () => {
  it('prints an imgproxy path the server accepts; changing the signed part makes it 403', async () => {
    const path = await stdoutOf(['sign', '/rs:fill:120:80/plain/local:///photo.jpg@png']);
    expect(path).toMatch(/^\/[A-Za-z0-9_-]{43}\/rs:fill:120:80\/plain\/local:\/\/\/photo\.jpg@png$/);
    expect(await fetchImage(path)).toEqual({ status: 200, width: 120, height: 80, format: 'png' });
    expect((await fetchImage(path.replace('120:80', '121:80'))).status).toBe(403);
  });

  it('signs the path the server verifies, after its normalisation (%3A in options)', async () => {
    const path = await stdoutOf(['sign', '/rs%3Afit%3A64%3A64/plain/local:///photo.jpg']);
    expect((await fetchImage(path)).status).toBe(200);
  });

  it('prints a PreviewProxy /proxy query with sig the server accepts', async () => {
    const path = await stdoutOf(['sign', '/proxy?url=local:/photo.jpg&w=100&format=webp']);
    expect(path).toMatch(/&sig=[A-Za-z0-9_-]{43}$/);
    expect(await fetchImage(path)).toMatchObject({ status: 200, width: 100, format: 'webp' });
    expect((await fetchImage(path.replace('w=100', 'w=101'))).status).toBe(403);
  });

  it('--base prints an absolute URL', async () => {
    const url = await stdoutOf(['sign', '--base', 'http://localhost:8080/', '/rs:fit:10:10/plain/local:///photo.jpg']);
    expect(url).toMatch(/^http:\/\/localhost:8080\/[A-Za-z0-9_-]{43}\/rs:fit:10:10\//);
  });

  it('without keys prints an insecure path and says why on stderr', async () => {
    const r = await runCli(['sign', '/rs:fit:10:10/plain/local:///photo.jpg']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('/insecure/rs:fit:10:10/plain/local:///photo.jpg');
    expect(r.stderr).toMatch(/IMGPROXY_KEY and IMGPROXY_SALT are not set/);
  });
});

describe('pixproxy encrypt-url', { timeout: SLOW }, () => {
  it('PreviewProxy: a blob the server decrypts, with the /enc/ path on stderr', async () => {
    const r = await runCli(['encrypt-url', '--dialect', 'previewproxy', 'local:/photo.jpg'], env);
    expect(r.code, r.stderr).toBe(0);
    const blob = r.stdout.trim();
    expect(r.stderr.trim()).toBe(`/enc/${blob}`);
    const path = await stdoutOf(['sign', `/proxy?url=${blob}&enc=1&w=90`]);
    expect(await fetchImage(path)).toMatchObject({ status: 200, width: 90 });
  });

  it("imgproxy Pro: the blob of imgproxy's documented example for its key and IV", async () => {
    const blob = await stdoutOf([
      'encrypt-url', '--dialect', 'imgproxy',
      '--key', '1eb5b0e971ad7f45324c1bb15c947cb207c43152fa5c6c7f35c4f36e0c18e0f1',
      '--iv', 'A79563A2B35D86CEE6451C3C800F535A',
      'http://example.com/images/curiosity.jpg',
    ]);
    expect(blob).toBe('p5VjorNdhs7mRRw8gA9TWoRlGci3l1kuzqN43UQlRaRIQ0qtBKW3qFABIsx-ZRz_cVc8iVTYbhsNsxNBL1BHaQ');
  });

  it('refuses a key of the wrong length (exit 2) and a missing key (exit 1)', async () => {
    const bad = await runCli(['encrypt-url', '--dialect', 'imgproxy', '--key', 'abcd', 'http://x/a.jpg']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--key: expected a hex-encoded key of 16, 24 or 32 bytes/);
    const none = await runCli(['encrypt-url', '--dialect', 'imgproxy', 'http://x/a.jpg']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/IMGPROXY_SOURCE_URL_ENCRYPTION_KEY/);
  });
});

describe('pixproxy health', { timeout: SLOW }, () => {
  it('exits 0 when /health answers on the configured address, 1 when nothing listens', async () => {
    const port = new URL(server.url).port;
    const up = await runCli(['health'], { IMGPROXY_BIND: `:${port}` });
    expect(up.code, up.stderr).toBe(0);
    const down = await runCli(['health'], { IMGPROXY_BIND: `127.0.0.1:${await closedPort()}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/ECONNREFUSED/);
  });

  it('exits 1 on an answer other than 200 (the path prefix is part of the URL)', async () => {
    const port = new URL(server.url).port;
    const r = await runCli(['health'], { IMGPROXY_BIND: `127.0.0.1:${port}`, IMGPROXY_PATH_PREFIX: '/img' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/img\/health: status [45]\d\d/);
  });
});

describe('pixproxy config check', { timeout: SLOW }, () => {
  it('prints the effective configuration with secrets masked and exits 0', async () => {
    const r = await runCli(['config', 'check'], { ...env, AWS_SECRET_ACCESS_KEY: 'aws-secret-value', IMGPROXY_BINDD: ':1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^IMGPROXY_KEY=\*{8}$/m);
    expect(r.stdout).toMatch(/^PP_HMAC_KEY=\*{8}$/m);
    expect(r.stdout).toMatch(/^AWS_SECRET_ACCESS_KEY=\*{8}$/m);
    expect(r.stdout).toMatch(/^IMGPROXY_WORKERS=0 {2}# default$/m);
    expect(r.stdout).toContain(`IMGPROXY_LOCAL_FILESYSTEM_ROOT=${root}`);
    for (const secret of [KEY, SALT, PP_KEY, PP_ENC_KEY, 'aws-secret-value']) expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stderr).toMatch(/IMGPROXY_BINDD is not a variable pixproxy knows and is ignored; did you mean IMGPROXY_BIND\?/);
  });

  it('exits 1 naming the variable when the server would refuse to start', async () => {
    const bad = await runCli(['config', 'check'], { IMGPROXY_WORKERS: 'many' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid configuration: IMGPROXY_WORKERS: expected an integer/);
    const bucket = await runCli(['config', 'check'], { IMGPROXY_CACHE_USE: 'swift' });
    expect(bucket.code).toBe(1);
    expect(bucket.stderr).toMatch(/IMGPROXY_CACHE_BUCKET: required when IMGPROXY_CACHE_USE=swift/);
  });
});

describe('pixproxy command line', { timeout: SLOW }, () => {
  it('exits 2 with the usage on an unknown command or a missing argument', async () => {
    const unknown = await runCli(['purge']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "purge"[\s\S]*usage: pixproxy <command>/);
    const missing = await runCli(['sign']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/usage: pixproxy sign <path>/);
  });

  it('--version prints the package version', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await runCli(['--version'])).stdout.trim()).toBe(manifest.version);
  });
});

describe('pixproxy serve', { timeout: SLOW }, () => {
  it('stops on SIGTERM with exit code 0', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  const glibc = typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string';
  it.skipIf(!glibc)('without MALLOC_ARENA_MAX runs the server in a child that has it, and passes SIGTERM on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-cli-serve-'));
    const parent = await spawnServer({ PP_CACHE_DIR: dir, PP_CACHE_CLEANUP_INTERVAL_SECS: '0' }, [...CLI_ENTRY, 'serve']);
    const [child] = childrenOf(parent.pid);
    try {
      expect(child).toBeDefined();
      const childEnv = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0');
      expect(childEnv).toContain('MALLOC_ARENA_MAX=2');
      expect(childEnv.some((e) => /^UV_THREADPOOL_SIZE=\d+$/.test(e))).toBe(true);
      expect((await fetch(`${parent.url}/health`)).status).toBe(200);
      parent.child.kill('SIGTERM');
      expect(await parent.exited).toBe(0);
      expect(isAlive(child ?? 0)).toBe(false);
    } finally {
      if (child !== undefined && isAlive(child)) process.kill(child, 'SIGKILL');
      if (parent.child.exitCode === null) parent.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
