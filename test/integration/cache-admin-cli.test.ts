/**
 * Purges across instances and the `pixproxy cache` commands, all as child processes: two
 * servers share one fs L2 (as PIXPROXY_PROCESSES workers or a cluster on a shared volume do),
 * a purge through one (by `pixproxy cache purge`) makes the other stop answering from its own
 * L1 within the bound docs/cache.md states (PIXPROXY_CACHE_PURGE_POLL_MS plus one read of the
 * purge log); `cache stats` reads the admin API; `cache warm` fills the cache from a file with
 * a progress bar and a summary.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { spawnServer, stopChild, type ChildServer } from '../helpers/process.js';

const SECRET = 'c'.repeat(48);
const POLL_MS = 250;
let dir: string;
let origin: Origin;
let a: ChildServer;
let b: ChildServer;

const xcache = async (base: string, path: string): Promise<string | null> => {
  const r = await fetch(base + path);
  await r.arrayBuffer();
  return r.headers.get('x-cache');
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-cluster-'));
  origin = await startOrigin({ '/c.jpg': { body: await makePhoto(300, 200), contentType: 'image/jpeg' }, '/w1.jpg': { body: await makePhoto(120, 80), contentType: 'image/jpeg' } });
  const env = {
    PP_CACHE_DIR: dir,
    IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
    PIXPROXY_ADMIN_PATH_PREFIX: '/_admin',
    PIXPROXY_ADMIN_SECRET: SECRET,
    PIXPROXY_CACHE_PURGE_POLL_MS: String(POLL_MS),
  };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([stopChild(a), stopChild(b)]);
  await origin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('two instances sharing one L2', () => {
  it('a purge through one (pixproxy cache purge) is honoured by the other within PIXPROXY_CACHE_PURGE_POLL_MS plus one log read', async () => {
    const path = `/insecure/rs:fit:100:100/plain/${origin.url}/c.jpg`;
    expect(await xcache(a.url, path)).toBe('MISS');
    expect(await xcache(a.url, path)).toBe('HIT-L1');
    // B reads A's entry from the shared L2 and keeps it in its own L1.
    await new Promise((r) => setTimeout(r, 100));
    expect(await xcache(b.url, path)).toMatch(/^HIT-L[12]$/);
    expect(await xcache(b.url, path)).toBe('HIT-L1');

    const purge = await runCli(['cache', 'purge', '--source', `${origin.url}/c.jpg`, '--admin', `${a.url}/_admin`], { PIXPROXY_ADMIN_SECRET: SECRET });
    expect(purge.stderr).toBe('');
    expect(purge.code).toBe(0);
    const answer = JSON.parse(purge.stdout) as { purged: { l1: number; l2: number } };
    expect(answer.purged).toMatchObject({ l1: 1, l2: 1 });
    // The command's own start-up (a second) exceeds the poll: measure the bound with a direct call.
    const bounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      await xcache(a.url, path);
      await new Promise((r) => setTimeout(r, 50));
      await xcache(b.url, path);
      expect(await xcache(b.url, path)).toBe('HIT-L1');
      const r = await fetch(`${a.url}/_admin/purge`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: JSON.stringify({ source: `${origin.url}/c.jpg` }) });
      const { at } = (await r.json()) as { at: number };
      let seen = 'HIT-L1';
      while (seen === 'HIT-L1' && Date.now() - at < 10_000) {
        seen = (await xcache(b.url, path)) ?? '';
        if (seen === 'HIT-L1') await new Promise((res) => setTimeout(res, 10));
      }
      expect(seen).toBe('MISS');
      bounds.push(Date.now() - at);
    }
    console.info(`cross-instance purge honoured after ${bounds.join(', ')} ms (poll ${POLL_MS} ms)`);
    // Generous: a loaded machine may delay one poll, never many.
    expect(Math.max(...bounds)).toBeLessThan(POLL_MS + 3000);
  });

  it('pixproxy cache stats answers the admin API\'s JSON; without the secret the command fails naming it', async () => {
    const stats = await runCli(['cache', 'stats', '--admin', `${b.url}/_admin`], { PIXPROXY_ADMIN_SECRET: SECRET });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ purges: { pollMs: POLL_MS } });
    const wrong = await runCli(['cache', 'stats', '--admin', `${b.url}/_admin`], { PIXPROXY_ADMIN_SECRET: 'w'.repeat(40) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/401 UNAUTHORIZED/);
    const none = await runCli(['cache', 'purge', '--all', '--admin', `${b.url}/_admin`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/PIXPROXY_ADMIN_SECRET/);
    const two = await runCli(['cache', 'purge', '--all', '--tag', 'x'], { PIXPROXY_ADMIN_SECRET: SECRET });
    expect(two.code).toBe(2);
  });

  it('pixproxy cache warm <file>: every URL requested, progress (done/total, rate, errors, ETA) and a summary; a failure sets the exit code', async () => {
    const file = join(dir, 'urls.txt');
    await writeFile(file, [`# warm`, `/insecure/rs:fit:50:50/plain/${origin.url}/w1.jpg`, `/insecure/rs:fit:60:60/plain/${origin.url}/w1.jpg`, '', `${b.url}/insecure/rs:fit:70:70/plain/${origin.url}/w1.jpg`].join('\n'));
    const warm = await runCli(['cache', 'warm', file, '--base', b.url, '--concurrency', '2']);
    expect(warm.code).toBe(0);
    expect(warm.stdout).toMatch(/^warmed 3\/3 in [\d.]+s \([\d.]+\/s\), errors 0; X-Cache: MISS 3/);
    expect(warm.stderr).toMatch(/\] 3\/3 +[\d.]+\/s +errors 0 +ETA 0s/);
    expect(await xcache(b.url, `/insecure/rs:fit:60:60/plain/${origin.url}/w1.jpg`)).toBe('HIT-L1');
    await writeFile(file, `/insecure/rs:fit:50:50/plain/${origin.url}/missing.jpg\n`);
    const failed = await runCli(['cache', 'warm', file, '--base', b.url]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/warmed 0\/1 .* errors 1/);
  });
});
