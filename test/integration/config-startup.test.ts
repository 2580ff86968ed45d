/**
 * Startup as an operator sees it, with the real server as a child process: a bad configuration
 * stops it with every problem listed (each refused peer variable named, with its reason) and
 * no stack trace; a good one with an unknown name starts and says so. And the listen settings
 * that only a real socket shows: IMGPROXY_KEEP_ALIVE_TIMEOUT=0 closes every connection,
 * IMGPROXY_NETWORK=unix serves on a socket path.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { unsupported } from '../../src/config/unsupported.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startApp } from '../helpers/app.js';
import { refusedValue } from '../helpers/config.js';
import { spawnServer } from '../helpers/process.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `src/main.ts` with `env` until it exits (it must: the configuration is bad). */
function startupFailure(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', IMGPROXY_BIND: '127.0.0.1:0', PP_CACHE_DIR: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // A server that starts is a failure of this test: do not leave it running.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pixproxy did not exit: ${stdout}${stderr}`));
    }, 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('startup with a bad configuration', () => {
  it('every refused peer variable set at once: exit 1, each one named with its reason, no stack trace', async () => {
    const env = Object.fromEntries(unsupported.map((u) => [u.name, refusedValue(u)]));
    const { code, stderr, stdout } = await startupFailure(env);
    expect(code).toBe(1);
    expect(stdout).not.toContain('listening');
    expect(stderr).toMatch(/^pixproxy: invalid configuration:\n/);
    for (const u of unsupported) expect(stderr, u.name).toContain(`  - ${u.name}: not supported: ${u.reason};`);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('field errors, backend combinations and listen addresses are reported together', async () => {
    const { code, stderr } = await startupFailure({
      IMGPROXY_QUALITY: '0',
      IMGPROXY_CACHE_USE: 's3',
      IMGPROXY_USE_SWIFT: '1',
      IMGPROXY_SWIFT_AUTH_URL: 'http://127.0.0.1:1/auth/v1.0',
      IMGPROXY_SWIFT_USERNAME: 'u',
      IMGPROXY_PROMETHEUS_BIND: '127.0.0.1',
      IMGPROXY_QUALTY: '70',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('pixproxy: warning: IMGPROXY_QUALTY is not a variable pixproxy knows and is ignored; did you mean IMGPROXY_QUALITY?\n');
    expect(stderr).toContain('  - IMGPROXY_QUALITY: expected an integer from 1 to 100, got "0"\n');
    expect(stderr).toContain('  - IMGPROXY_CACHE_BUCKET: required when IMGPROXY_CACHE_USE=s3, got nothing\n');
    expect(stderr).toContain('  - IMGPROXY_SWIFT_API_KEY: required when IMGPROXY_USE_SWIFT is set, got nothing\n');
    expect(stderr).toContain('  - IMGPROXY_PROMETHEUS_BIND: expected host:port or :port (the port is required), got "127.0.0.1"\n');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a storage path that would leave the cache directory is a configuration error, not a stack trace', async () => {
    const { code, stderr } = await startupFailure({ IMGPROXY_CACHE_BUCKET: '../outside' });
    expect(code).toBe(1);
    expect(stderr).toBe('pixproxy: invalid configuration: IMGPROXY_CACHE_BUCKET: expected a path inside PP_CACHE_DIR (no ".." segment), got "../outside"\n');
  }, 60_000);
});

describe('startup with warnings', () => {
  it('an unknown name is logged once, with the near name, and the server starts', async () => {
    const server = await spawnServer({ PP_CACHE_DIR: dir, PP_CACHE_MEMORY_MAX_MBS: '64' });
    try {
      const warnings = server.logs.filter((l) => l.includes('"module":"config"'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 'WARNING', msg: 'PP_CACHE_MEMORY_MAX_MBS is not a variable pixproxy knows and is ignored; did you mean PP_CACHE_MEMORY_MAX_MB?' });
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);
});

/** GET over a keep-alive agent; resolves the Connection header and whether the server then closed the socket. */
function getOnce(url: string): Promise<{ status: number; connection: string | undefined; closed: boolean }> {
  const agent = new Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    let closed = false;
    const req = request(url, { agent }, (res) => {
      res.resume();
      // The server closes right after a `Connection: close` response; give it a moment.
      res.on('end', () => setTimeout(() => {
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, closed });
        agent.destroy();
      }, 200));
    });
    req.on('socket', (socket) => socket.once('close', () => (closed = true)));
    req.on('error', reject);
    req.end();
  });
}

describe('listen settings', () => {
  it('IMGPROXY_KEEP_ALIVE_TIMEOUT=0 turns keep-alive off (imgproxy), the default keeps connections open', async () => {
    const off = await startApp({ PP_CACHE_DIR: dir, IMGPROXY_KEEP_ALIVE_TIMEOUT: '0' });
    const on = await startApp({ PP_CACHE_DIR: dir });
    try {
      expect(await getOnce(`${off.url}/health`)).toEqual({ status: 200, connection: 'close', closed: true });
      expect(await getOnce(`${on.url}/health`)).toEqual({ status: 200, connection: 'keep-alive', closed: false });
    } finally {
      await off.stop({ keepCache: true });
      await on.stop({ keepCache: true });
    }
  });

  it('IMGPROXY_NETWORK=unix listens on the socket path of IMGPROXY_BIND', async () => {
    const socketPath = join(dir, 'pixproxy.sock');
    const app = await createApp(loadConfig({ PP_CACHE_DIR: dir, IMGPROXY_NETWORK: 'unix', IMGPROXY_BIND: socketPath }), { logger: silentLogger(), defaultMetrics: false });
    try {
      expect(await app.listen()).toEqual({ host: '', port: 0, path: socketPath });
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ socketPath, path: '/health' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
