/**
 * deploy/Dockerfile and deploy/compose.yaml without a container engine (none runs where the
 * tests run): the image's final stage is read, its ENTRYPOINT + CMD is started with its ENV
 * exactly as the container would start it, and its HEALTHCHECK command is run against it.
 * Also the image's promises a reader relies on: a non-root user, the fs cache on the volume
 * that compose mounts, `pixproxy` being the package's bin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ENTRY, runCli } from '../helpers/cli.js';
import { spawnServer, type ChildServer } from '../helpers/process.js';

/** Each test starts child processes; on a loaded 2-core machine that takes a while. */
const SLOW = 120_000;

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

interface FinalStage {
  env: Record<string, string>;
  user: string;
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  links: string[];
}

/** The instructions of the last stage, continuation lines joined; exec (JSON) forms only. */
function finalStage(dockerfile: string): FinalStage {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const stage = lines.slice(lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
  const json = (text: string | undefined): string[] => JSON.parse(text ?? '[]') as string[];
  const out: FinalStage = { env: {}, user: 'root', volumes: [], entrypoint: [], cmd: [], healthcheck: [], links: [] };
  for (const line of stage) {
    const [, op = '', rest = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    switch (op.toUpperCase()) {
      case 'ENV':
        for (const m of rest.matchAll(/([A-Z0-9_]+)=(\S+)/g)) out.env[m[1] ?? ''] = m[2] ?? '';
        break;
      case 'USER': out.user = rest; break;
      case 'VOLUME': out.volumes = json(rest); break;
      case 'ENTRYPOINT': out.entrypoint = json(rest); break;
      case 'CMD': out.cmd = json(rest); break;
      case 'HEALTHCHECK': out.healthcheck = json(/\bCMD\s+(\[.*\])$/.exec(rest)?.[1]); break;
      case 'RUN': for (const m of rest.matchAll(/ln -s (\S+) (\S+)/g)) out.links.push(`${m[2]} -> ${m[1]}`); break;
    }
  }
  return out;
}

const image = finalStage(read('deploy/Dockerfile'));
const compose = read('deploy/compose.yaml');
const manifest = JSON.parse(read('package.json')) as { bin: Record<string, string> };

describe('deploy/Dockerfile and compose.yaml', { timeout: SLOW }, () => {
  it('runs the pixproxy bin as a non-root user, with its health check, the cache on a volume', () => {
    expect(image.user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.entrypoint).toEqual(['pixproxy']);
    expect(image.cmd).toEqual(['serve']);
    expect(image.healthcheck).toEqual(['pixproxy', 'health']);
    expect(image.links).toContain(`/usr/local/bin/pixproxy -> /app/${manifest.bin.pixproxy}`);
    expect(image.env.MALLOC_ARENA_MAX).toBe('2');
    expect(image.volumes).toEqual([image.env.PP_CACHE_DIR]);
  });

  it('compose builds that Dockerfile and mounts a named volume on the cache directory', () => {
    expect(compose).toMatch(/dockerfile: deploy\/Dockerfile/);
    expect(compose).toContain(`- pixproxy-cache:${image.env.PP_CACHE_DIR}\n`);
    expect(compose).toMatch(/^volumes:\n {2}pixproxy-cache:/m);
  });
});

describe('the image command, started as the container starts it', { timeout: SLOW }, () => {
  let server: ChildServer;
  let env: Record<string, string>;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'pixproxy-container-'));
    // The image's environment; only the cache directory and the port differ from the container.
    env = { ...image.env, PP_CACHE_DIR: cacheDir, IMGPROXY_BIND: '127.0.0.1:0' };
    server = await spawnServer(env, [...CLI_ENTRY, ...image.entrypoint.slice(1), ...image.cmd]);
  });

  afterAll(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('serves in the process the container runs (MALLOC_ARENA_MAX is set: no second process)', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    if (existsSync('/proc/self/task')) expect(readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim()).toBe('');
  });

  it('passes its HEALTHCHECK command, which fails once the server is gone', async () => {
    // The container's IMGPROXY_BIND form (`:port`, every interface) on the port bound here.
    const healthEnv = { ...env, IMGPROXY_BIND: `:${new URL(server.url).port}` };
    const up = await runCli(image.healthcheck.slice(1), healthEnv);
    expect(up.code, up.stderr).toBe(0);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect((await runCli(image.healthcheck.slice(1), healthEnv)).code).toBe(1);
  });
});
