/**
 * kill -9 during a burst of cache writes, then restart on the same cache directory: every
 * response must equal a freshly processed one (the cache never serves a truncated entry).
 * Also: SIGTERM lets an in-flight request finish (graceful shutdown).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { spawnServer } from '../helpers/process.js';
import { makePhoto } from '../helpers/images.js';

let origin: Origin;
let dir: string;

beforeAll(async () => {
  origin = await startOrigin({ '/p.jpg': { body: await makePhoto(640, 480), contentType: 'image/jpeg' } });
  origin.files.set('/slow.jpg', { body: await makePhoto(320, 240), contentType: 'image/jpeg', delayMs: 800 });
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-crash-'));
});

afterAll(async () => {
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ PP_CACHE_DIR: dir, IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_CLEANUP_INTERVAL_SECS: '0' });
const paths = Array.from({ length: 60 }, (_, i) => `/insecure/rs:fit:${100 + i}:${100 + i}/plain/${'ORIGIN'}/p.jpg`);

async function pixels(b: Buffer): Promise<string> {
  const { data, info } = await sharp(b).raw().toBuffer({ resolveWithObject: true });
  return `${info.width}x${info.height}:${data.toString('base64').slice(0, 64)}:${data.length}`;
}

describe('crash safety', () => {
  it('kill -9 mid-burst never leaves a servable truncated entry', async () => {
    const first = await spawnServer(env());
    const urls = paths.map((p) => first.url + p.replace('ORIGIN', origin.url));
    // Fire the burst, kill the process while responses (and so cache writes) are in progress.
    const burst = urls.map((u) => fetch(u).then((r) => r.arrayBuffer()).catch(() => null));
    // Kill as soon as the first responses are out: the remaining stores are mid-write.
    await Promise.race(burst);
    await new Promise((r) => setTimeout(r, 30));
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(burst);

    const second = await spawnServer(env());
    const fresh = await spawnServer({ ...env(), IMGPROXY_CACHE_USE: 'none', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      for (const p of paths) {
        const u = p.replace('ORIGIN', origin.url);
        const [a, b] = await Promise.all([fetch(second.url + u), fetch(fresh.url + u)]);
        expect(a.status).toBe(200);
        const [pa, pb] = await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
        expect(await pixels(Buffer.from(pa))).toBe(await pixels(Buffer.from(pb)));
      }
    } finally {
      second.child.kill('SIGTERM');
      fresh.child.kill('SIGTERM');
      await Promise.all([second.exited, fresh.exited]);
    }
  }, 120_000);

  it('SIGTERM lets an in-flight request finish', async () => {
    const srv = await spawnServer(env());
    const pending = fetch(`${srv.url}/insecure/w:50/plain/${origin.url}/slow.jpg`);
    await new Promise((r) => setTimeout(r, 200));
    srv.child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(50);
    expect(await srv.exited).toBe(0);
  }, 60_000);
});
