/**
 * The fs cache through the real server, on the real disk:
 *
 *  - 16 transformed entries and 16 origin entries swapped between keys on disk (valid files,
 *    each under another key's name) are 16 misses with the right pictures, counted as cache
 *    errors (`foreign`), never `HIT-L2` with another request's picture;
 *  - under PP_CACHE_DISK_MAX_MB=5, many small entries keep `du -sk` of the cache directory
 *    within 1.25 × the budget (blocks, shard directories and all);
 *  - `kill -9` during a burst of writes, then a restart: no temp file is left.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../helpers/app.js';
import { counterTotal } from '../../helpers/metrics.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { spawnServer } from '../../helpers/process.js';

const COUNT = 16;
let origin: Origin;

/** A solid-colour PNG per source, so a foreign picture shows in its colour as well as its size. */
const colour = (i: number): [number, number, number] => [(i * 53) % 256, (i * 97 + 40) % 256, (i * 151 + 80) % 256];

beforeAll(async () => {
  origin = await startOrigin();
  for (let i = 0; i < COUNT; i++) {
    const [r, g, b] = colour(i);
    const body = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } }).png().toBuffer();
    origin.files.set(`/c${i}.png`, { body, contentType: 'image/png' });
  }
});
afterAll(async () => {
  await origin.close();
});

/** Entry files under `root`: the store's shard directories `ab/cd/<hex key>`, not descending into `origin/`. */
async function entryFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const a of (await readdir(root)).filter((n) => /^[0-9a-f]{2}$/.test(n)).sort()) {
    for (const b of (await readdir(join(root, a))).sort()) {
      for (const f of (await readdir(join(root, a, b))).sort()) if (/^[0-9a-f]{64}$|^[0-9a-f]{32}_[ri][0-9a-f]+$/.test(f)) out.push(join(root, a, b, f));
    }
  }
  return out;
}

async function tempFiles(root: string): Promise<string[]> {
  return execFileSync('find', [root, '-name', '*.tmp'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '');
}

/** Moves each file's bytes to the next file's name: 16 valid entries, each under another key. */
async function rotate(files: string[]): Promise<void> {
  const bytes = await Promise.all(files.map((f) => readFile(f)));
  await Promise.all(files.map((f, i) => writeFile(f, bytes[(i + 1) % files.length] as Buffer)));
}

describe('fs cache end to end', () => {
  it('16 transformed and 16 origin entries swapped on disk: 16 misses with the right pictures, 32 foreign entries counted, none served', async () => {
    // No L1 and no origin memory: every lookup reads the disk.
    const px = await startApp({ PP_CACHE_MEMORY_MAX_MB: '0', PIXPROXY_ORIGIN_MEMORY_MAX_MB: '0' });
    try {
      const path = (i: number): string => `/insecure/rs:fit:${20 + i}:${20 + i}/plain/${origin.url}/c${i}.png@png`;
      const fetchAll = async (): Promise<Array<{ xcache: string | null; width: number; rgb: number[] }>> =>
        Promise.all(
          Array.from({ length: COUNT }, async (_, i) => {
            const res = await fetch(px.url + path(i));
            expect(res.status).toBe(200);
            const img = sharp(Buffer.from(await res.arrayBuffer()));
            const [{ width }, stats] = await Promise.all([img.metadata(), img.stats()]);
            return { xcache: res.headers.get('x-cache'), width: width ?? 0, rgb: stats.channels.slice(0, 3).map((c) => Math.round(c.mean)) };
          }),
        );
      const right = (i: number): { width: number; rgb: number[] } => ({ width: 20 + i, rgb: colour(i) });

      const first = await fetchAll();
      first.forEach((r, i) => expect(r).toMatchObject({ xcache: 'MISS', ...right(i) }));
      await px.app.ctx.cache.flush();
      const transformed = await entryFiles(px.cacheDir);
      const originals = await entryFiles(join(px.cacheDir, 'origin'));
      expect([transformed.length, originals.length]).toEqual([COUNT, COUNT]);
      const fetchedBefore = [...origin.hits.values()].reduce((a, b) => a + b, 0);

      await rotate(transformed);
      await rotate(originals);
      const second = await fetchAll();
      second.forEach((r, i) => expect(r).toMatchObject({ xcache: 'MISS', ...right(i) }));
      // Each source was fetched again: its origin entry was foreign too.
      expect([...origin.hits.values()].reduce((a, b) => a + b, 0) - fetchedBefore).toBe(COUNT);
      const metrics = px.app.ctx.metrics;
      expect(await counterTotal(metrics.cacheErrors, { layer: 'l2', op: 'foreign' })).toBe(COUNT);
      expect(await counterTotal(metrics.cacheErrors, { layer: 'origin', op: 'foreign' })).toBe(COUNT);

      // Stored again under their own keys: hits with the right pictures.
      await px.app.ctx.cache.flush();
      const third = await fetchAll();
      third.forEach((r, i) => expect(r).toMatchObject({ xcache: 'HIT-L2', ...right(i) }));
    } finally {
      await px.stop();
    }
  }, 120_000);

  it('PP_CACHE_DISK_MAX_MB=5 filled with 1,500 small entries: du -sk of the cache directory stays within 1.25 × 5 MB', async () => {
    const px = await startApp({ PP_CACHE_DISK_MAX_MB: '5', PP_CACHE_MEMORY_MAX_MB: '0' });
    try {
      const N = 1500;
      let next = 0;
      // Tiny results (a few hundred bytes each): what the budget used to count while the disk held 4 KiB per file plus a shard directory.
      const worker = async (): Promise<void> => {
        while (next < N) {
          const i = next++;
          const res = await fetch(`${px.url}/insecure/rs:fit:${1 + (i % 60)}:${1 + Math.floor(i / 60)}/plain/${origin.url}/c${i % COUNT}.png@png`);
          expect(res.status).toBe(200);
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      await px.app.ctx.cache.flush();
      const duKb = Number(execFileSync('du', ['-sk', px.cacheDir], { encoding: 'utf8' }).split('\t')[0]);
      const entries = (await entryFiles(px.cacheDir)).length;
      console.info(`disk budget: ${N} results written, ${entries} kept, du -sk ${duKb} KB for a budget of ${5 * 1024} KB`);
      expect(duKb).toBeLessThanOrEqual(1.25 * 5 * 1024);
      // The budget was used, not emptied: entries were kept.
      expect(entries).toBeGreaterThan(200);
    } finally {
      await px.stop();
    }
  }, 300_000);

  it('kill -9 during a burst of writes, then a restart: no temp file is left in the cache directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-fs-e2e-'));
    const env = { PP_CACHE_DIR: dir, IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_CLEANUP_INTERVAL_SECS: '0' };
    try {
      let leftovers = 0;
      // Several kills at different points; a temp left by the killed writer is planted as well,
      // so the restart has one to remove whatever the timing of the kill.
      for (const after of [3, 15, 40]) {
        const srv = await spawnServer(env);
        let done = 0;
        const burst = Array.from({ length: 80 }, (_, i) =>
          fetch(`${srv.url}/insecure/rs:fit:${after + i}:${after + i}/plain/${origin.url}/c${i % COUNT}.png@png`)
            .then(async (r) => {
              await r.arrayBuffer();
              done++;
            })
            .catch(() => undefined),
        );
        while (done < after) await new Promise((r) => setTimeout(r, 5));
        srv.child.kill('SIGKILL');
        await srv.exited;
        await Promise.all(burst);
        const shard = join(dir, 'ab', 'cd');
        await mkdir(shard, { recursive: true });
        await writeFile(join(shard, `.abcd${'0'.repeat(60)}.${srv.pid}.0badc0de0.tmp`), 'partial');
        leftovers += (await tempFiles(dir)).length;
      }
      expect(leftovers).toBeGreaterThanOrEqual(3);
      const restarted = await spawnServer(env);
      try {
        // The startup scan runs in the background; it logs when the index is rebuilt.
        const t0 = Date.now();
        while (!restarted.logs.some((l) => l.includes('disk cache index rebuilt')) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
        console.info(`kill -9: ${leftovers} temp files before the restart, ${(await tempFiles(dir)).length} after`);
        expect(await tempFiles(dir)).toEqual([]);
      } finally {
        restarted.child.kill('SIGTERM');
        await restarted.exited;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
