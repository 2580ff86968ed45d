/**
 * Hostile origins against the real server as a child process, with IMGPROXY_MAX_SRC_FILE_SIZE=0
 * (its default: no limit asked) and a 16 MiB PIXPROXY_MAX_SRC_BYTES_CEILING (a quarter of the
 * default, to keep the decoding work small on a shared machine; the default is checked by
 * test/unit/sources): every class gets its 4xx/504 within the timeouts, nothing answers 500,
 * the process survives, its peak stays far below what the bombs would inflate to, and its RSS
 * comes back near where it started. (scripts/hostile-origins-rss.ts prints figures per class.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostileOrigin, type HostileKind, type HostileOrigin } from '../helpers/hostile-origin.js';
import { processMemory, resetPeak, spawnServer, type ChildServer } from '../helpers/process.js';

const MIB = 1024 * 1024;
/** Each bomb inflates to 1 GiB: four kinds, two requests each, would be 8 GiB without the limit. */
const BOMB = 1024 * MIB;
const CEILING = 16 * MIB;
const DOWNLOAD_TIMEOUT_S = 6;

let origin: HostileOrigin;
let server: ChildServer;
let dir: string;
let baseline: number;

beforeAll(async () => {
  origin = await startHostileOrigin();
  await Promise.all((['gzip', 'gzip-gzip', 'deflate', 'br'] as const).map((k) => origin.prepare(k, BOMB)));
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-hostile-'));
  server = await spawnServer({
    MALLOC_ARENA_MAX: '2',
    IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
    IMGPROXY_MAX_SRC_FILE_SIZE: '0',
    PIXPROXY_MAX_SRC_BYTES_CEILING: String(CEILING),
    IMGPROXY_DOWNLOAD_TIMEOUT: String(DOWNLOAD_TIMEOUT_S),
    IMGPROXY_TIMEOUT: '20',
    // Downloads still hold a processing slot here; enough of them that none waits in the queue.
    IMGPROXY_WORKERS: '64',
    PP_CACHE_DIR: dir,
    PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
  });
  // Warm: sharp and the code paths loaded, so the baseline is the serving process's.
  expect((await get('image', {}, 'warm')).status).toBe(200);
  await new Promise((r) => setTimeout(r, 500));
  baseline = (await processMemory(server.pid)).rss;
}, 120_000);

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One request through the imgproxy dialect; each `tag` makes its own source URL (no cache, no single-flight). */
async function get(kind: HostileKind, params: { size?: number; interval?: number; to?: string }, tag: string): Promise<{ status: number; ms: number }> {
  const src = `${origin.at(kind, params)}${Object.keys(params).length ? '&' : '?'}t=${tag}`;
  const started = Date.now();
  // A connection per request: a kept-alive one may be closed by the server just as it is reused.
  const res = await request(`${server.url}/insecure/rs:fit:64:64/plain/${encodeURIComponent(src)}`, { reset: true });
  await res.body.dump();
  return { status: res.statusCode, ms: Date.now() - started };
}

const CLASSES: [HostileKind, { size?: number; interval?: number; to?: string }, number][] = [
  ['gzip', { size: BOMB }, 422],
  ['gzip-gzip', { size: BOMB }, 422],
  ['deflate', { size: BOMB }, 422],
  ['br', { size: BOMB }, 422],
  ['huge-length', {}, 422],
  ['endless', {}, 422],
  ['shorter', {}, 422],
  ['chunked-cut', {}, 422],
  ['longer', {}, 200],
  ['redirect', {}, 404],
  ['redirect-drip', { interval: 200 }, 200],
  ['silent', {}, 504],
  ['drip-headers', { interval: 200 }, 504],
  ['drip', { interval: 200 }, 504],
  ['chunked-stall', {}, 504],
];

describe('hostile origins against the real server (child process)', () => {
  it('every class at once: the right status, within the timeouts, a bounded peak, RSS back near its baseline', async () => {
    await resetPeak(server.pid);
    const results = await Promise.all(
      CLASSES.flatMap(([kind, params, want]) => [0, 1].map(async (i) => ({ kind, want, ...(await get(kind, params, `${kind}-${i}`)) }))),
    );
    const peak = (await processMemory(server.pid)).peak;
    for (const r of results) {
      expect({ kind: r.kind, status: r.status }).toEqual({ kind: r.kind, status: r.want });
      expect(r.ms).toBeLessThan((DOWNLOAD_TIMEOUT_S + 6) * 1000);
    }
    // Ten bodies (the bombs and the endless stream, two of each) can be at the ceiling at once;
    // without it the bombs alone would inflate to 8 GiB.
    expect(peak - baseline).toBeLessThan(10 * CEILING + 256 * MIB);

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(server.child.exitCode).toBeNull();

    await new Promise((r) => setTimeout(r, 3000));
    const after = (await processMemory(server.pid)).rss;
    console.info(`hostile origins: RSS baseline ${(baseline / MIB).toFixed(0)} MiB, peak ${(peak / MIB).toFixed(0)} MiB, after ${(after / MIB).toFixed(0)} MiB`);
    expect(after - baseline).toBeLessThan(200 * MIB);
  }, 120_000);

  it('repeating the bombs does not ratchet RSS up', async () => {
    const rounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all((['gzip', 'deflate', 'br', 'endless'] as const).map((k) => get(k, k === 'endless' ? {} : { size: BOMB }, `again-${k}-${round}`)));
      expect(results.map((r) => r.status)).toEqual([422, 422, 422, 422]);
      await new Promise((r) => setTimeout(r, 1000));
      rounds.push((await processMemory(server.pid)).rss);
    }
    const [first = 0, , last = 0] = rounds;
    expect(last - first).toBeLessThan(100 * MIB);
    expect(last - baseline).toBeLessThan(250 * MIB);
  }, 120_000);
});
