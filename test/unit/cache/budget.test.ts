/**
 * Disk budget. PreviewProxy's caching overview (https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview):
 * "PP_CACHE_DISK_MAX_MB | unlimited | Maximum total size of the disk cache in megabytes",
 * "PP_CACHE_DISK_MAX_MB is not set by default, meaning disk usage is unbounded",
 * "PP_CACHE_CLEANUP_INTERVAL_SECS | 600 | How often the background job scans for and removes
 * expired disk cache entries". Beyond that: eviction by least recent use (PreviewProxy's cleanup
 * deletes by `created_at`, oldest first, and its origin store has no bound:
 * https://github.com/ViGrise/previewproxy/blob/main/src/modules/cache/disk.rs, `cleanup`, and
 * origin.rs), the origin store bounded too, and startup without reading every file (Next.js's
 * disk LRU reads them all at init; its unbounded disk cache was GHSA-3x4c-7xq6-9pq8,
 * https://github.com/advisories/GHSA-3x4c-7xq6-9pq8).
 */
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiskBudget, type DiskBudget } from '../../../src/cache/budget.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createFsBackend, type FsBlobStore } from '../../../src/storage/fs.js';
import { captureLogger, diskUsage, hexKey, makeTempDir } from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
const budgets: DiskBudget[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('pixproxy-budget-'));
});
afterEach(async () => {
  await Promise.all(budgets.splice(0).map((b) => b.close()));
  await cleanup();
});

function stores(atimeThrottleMs = 60_000): { l2: FsBlobStore; origin: FsBlobStore } {
  const backend = createFsBackend(dir, { fsync: false, atimeThrottleMs });
  return { l2: backend.open(''), origin: backend.open('', 'origin') };
}

function budgetFor(s: { l2: FsBlobStore; origin?: FsBlobStore }, maxBytes: number | undefined, extra: Partial<Parameters<typeof createDiskBudget>[0]> = {}): DiskBudget {
  const b = createDiskBudget({ maxBytes, cleanupIntervalMs: 0, logger: silentLogger(), ...extra });
  b.attach('l2', s.l2);
  if (s.origin) b.attach('origin', s.origin);
  b.start();
  budgets.push(b);
  return b;
}

const BODY = 10_000;
/** Keys in one shard (`ab/cd`), so the tests of LRU order pay for one pair of shard directories. */
const sk = (i: number | string): string => `abcd${hexKey(i).slice(4)}`;

/** Allocated bytes of one entry with an empty-ish meta (header + body), and of the shard directories (`ab/` + `ab/cd/`) holding it. */
async function probe(store: FsBlobStore): Promise<{ size: number; dirs: number }> {
  const k = sk('probe');
  await store.put(k, Buffer.alloc(BODY), { expiresAt: Date.now() + 3_600_000 });
  let size = 0;
  let dirs = 0;
  for await (const x of store.scan()) {
    if (x.kind === 'dir') dirs += x.size;
    else if (x.key === k) size = x.size;
  }
  await store.delete(k);
  return { size, dirs };
}

async function entrySize(store: FsBlobStore): Promise<number> {
  return (await probe(store)).size;
}

async function has(store: FsBlobStore, key: string): Promise<boolean> {
  return (await store.head(key)) !== null;
}

describe('disk budget: LRU by use', () => {
  it('filling past PP_CACHE_DISK_MAX_MB keeps the total on disk within budget; an old entry that was READ survives', async () => {
    const s = stores();
    const { size, dirs } = await probe(s.l2);
    const max = size * 10 + dirs;
    const b = budgetFor(s, max);
    await b.scanned;
    const put = (i: number): Promise<void> => s.l2.put(sk(i), Buffer.alloc(BODY, i), { expiresAt: Date.now() + 3_600_000 });
    for (let i = 0; i < 8; i++) await put(i);
    await s.l2.get(sk(0)); // a use: 0 is now the most recent
    for (let i = 8; i < 15; i++) await put(i); // 15 entries for room for 10: five evicted
    await b.settled();
    const disk = await diskUsage(s.l2.dir);
    expect(disk.bytes).toBeLessThanOrEqual(max);
    expect(b.totals().bytes).toBe(disk.bytes);
    expect(await has(s.l2, sk(0))).toBe(true); // read → kept (FIFO would have dropped it first)
    expect(await has(s.l2, sk(1))).toBe(false);
    expect(await has(s.l2, sk(5))).toBe(false);
    expect(await has(s.l2, sk(6))).toBe(true);
    expect(await has(s.l2, sk(14))).toBe(true);
  });

  it('noteUse (an L1 hit, no file read) makes an entry the most recent without touching the disk or the totals', async () => {
    const s = stores();
    const { size, dirs } = await probe(s.l2);
    const max = size * 5 + dirs;
    const b = budgetFor(s, max);
    await b.scanned;
    const put = (i: number): Promise<void> => s.l2.put(sk(i), Buffer.alloc(BODY, i), { expiresAt: Date.now() + 3_600_000 });
    for (let i = 0; i < 5; i++) await put(i);
    const before = b.totals();
    b.noteUse('l2', sk(0));
    b.noteUse('l2', sk('never-stored'));
    expect(b.totals()).toEqual(before);
    for (let i = 5; i < 7; i++) await put(i);
    await b.settled();
    expect(await has(s.l2, sk(0))).toBe(true);
    expect(await has(s.l2, sk(1))).toBe(false);
    expect(await has(s.l2, sk(2))).toBe(false);
    expect((await diskUsage(s.l2.dir)).bytes).toBeLessThanOrEqual(max);
  });

  it('transformed + origin are bounded together (the origin store is not unbounded)', async () => {
    const s = stores();
    const size = await entrySize(s.l2);
    const max = size * 6;
    const b = budgetFor(s, max);
    await b.scanned;
    for (let i = 0; i < 10; i++) {
      await s.l2.put(hexKey(`t${i}`), Buffer.alloc(BODY), {});
      await s.origin.put(hexKey(`o${i}`), Buffer.alloc(BODY), {});
    }
    await b.settled();
    const used = (await diskUsage(s.l2.dir)).bytes + (await diskUsage(s.origin.dir)).bytes;
    expect(used).toBeLessThanOrEqual(max);
    expect(b.totals().bytes).toBe(used);
    expect(b.totals().layers.origin.entries).toBeGreaterThan(0);
  });

  it('the same key in both stores is two entries, evicted from its own store in the order of use', async () => {
    const s = stores();
    const { size, dirs } = await probe(s.l2);
    const b = budgetFor(s, 3 * size + 2 * dirs + size / 2);
    await b.scanned;
    await s.l2.put(sk(1), Buffer.alloc(BODY), {});
    await s.origin.put(sk(1), Buffer.alloc(BODY), {});
    await s.l2.put(sk(2), Buffer.alloc(BODY), {});
    await b.settled();
    expect(b.totals().layers).toEqual({ l2: { bytes: 2 * size + dirs, entries: 2 }, origin: { bytes: size + dirs, entries: 1 } });
    // The transformed sk(1) becomes the most recent: the origin sk(1) is now the oldest.
    b.noteUse('l2', sk(1));
    await s.origin.put(sk(3), Buffer.alloc(BODY), {});
    await b.settled();
    expect(await has(s.origin, sk(1))).toBe(false);
    expect(await has(s.l2, sk(1))).toBe(true);
    expect(await has(s.l2, sk(2))).toBe(true);
    expect(await has(s.origin, sk(3))).toBe(true);
    expect(b.totals().entries).toBe(3);
  });

  it('recency survives a restart (atime): after a restart the entry read before it is still preferred', async () => {
    const s = stores(0);
    const { size, dirs } = await probe(s.l2);
    const base = Date.now() - 1_000_000;
    for (let i = 0; i < 10; i++) {
      await s.l2.put(sk(i), Buffer.alloc(BODY), { expiresAt: Date.now() + 3_600_000 });
      const p = join(s.l2.dir, sk(i).slice(0, 2), sk(i).slice(2, 4), sk(i));
      await utimes(p, new Date(base + i * 1000), new Date(Date.now() + 3_600_000));
    }
    await s.l2.get(sk(0)); // noted (throttle 0), written to atime by the background pass
    await s.l2.close(); // a graceful stop writes what is still noted
    // "Restart": new stores and a new budget over the same directory.
    const s2 = stores(0);
    const b = budgetFor(s2, size * 10 + dirs);
    await b.scanned;
    expect(b.totals().entries).toBe(10);
    for (let i = 10; i < 13; i++) await s2.l2.put(sk(i), Buffer.alloc(BODY), {});
    await b.settled();
    expect(await has(s2.l2, sk(0))).toBe(true);
    expect(await has(s2.l2, sk(1))).toBe(false);
    expect(await has(s2.l2, sk(3))).toBe(false);
    expect(await has(s2.l2, sk(4))).toBe(true);
  });

  it('pre-existing files over the limit are seen (Next.js #91660) and writes are never refused while they are being counted', async () => {
    const s = stores();
    const size = await entrySize(s.l2);
    for (let i = 0; i < 300; i++) await s.l2.put(hexKey(i), Buffer.alloc(BODY), {});
    const max = size * 100;
    const b = budgetFor(s, max);
    expect(b.counting).toBe(true);
    const fresh = hexKey('fresh');
    await s.l2.put(fresh, Buffer.alloc(BODY, 7), {}); // not blocked by uncounted files
    expect(await has(s.l2, fresh)).toBe(true);
    await b.scanned;
    await b.settled();
    const disk = await diskUsage(s.l2.dir);
    expect(disk.bytes).toBeLessThanOrEqual(max);
    expect(b.totals().bytes).toBe(disk.bytes);
    expect(await has(s.l2, fresh)).toBe(true);
  });

  it('an entry bigger than the whole budget is not admitted', () => {
    const b = budgetFor(stores(), 1000);
    expect(b.admits(999)).toBe(true);
    expect(b.admits(1001)).toBe(false);
  });
});

describe('disk budget: background rebuild', () => {
  it('with 20,000 entries on disk, start returns at once, lookups work before the scan finishes, and the totals match the disk', async () => {
    const s = stores();
    const N = 20_000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < N) {
        const i = next++;
        await s.l2.put(hexKey(i), Buffer.alloc(100 + (i % 50), i % 256), { expiresAt: Date.now() + 3_600_000 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const metrics = createMetrics('', false);
    const t0 = performance.now();
    const b = budgetFor(s, undefined, { metrics, logger: silentLogger() });
    expect(performance.now() - t0).toBeLessThan(50);
    const r = await s.l2.get(hexKey(12_345));
    expect(r).not.toBeNull();
    expect(b.counting).toBe(true); // served before the index was rebuilt
    // A write during the scan is counted exactly once.
    await s.l2.put(hexKey('during'), Buffer.alloc(500), {});
    await b.scanned;
    const disk = await diskUsage(s.l2.dir);
    expect(disk.files).toBe(N + 1);
    expect(b.totals().entries).toBe(N + 1);
    expect(b.totals().bytes).toBe(disk.bytes);
    const gauge = await metrics.cacheBytes.get();
    expect(gauge.values.find((v) => v.labels.layer === 'l2')?.value).toBe(disk.bytes);
  }, 120_000);

  it('a zero-byte file left by a crash does not poison the index (Next.js #93757): writes go on, the sweep removes it', async () => {
    const s = stores();
    const poison = hexKey('poison');
    const shard = join(s.l2.dir, poison.slice(0, 2), poison.slice(2, 4));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(shard, { recursive: true });
    await writeFile(join(shard, poison), '');
    const future = new Date(Date.now() + 3_600_000); // mtime = expiry: looks live to a stat-only scan
    await utimes(join(shard, poison), future, future);
    const b = budgetFor(s, 1_000_000);
    await b.scanned;
    expect(b.totals().entries).toBe(1);
    await s.l2.put(hexKey('ok'), Buffer.alloc(100), {});
    expect(await has(s.l2, hexKey('ok'))).toBe(true);
    expect(await s.l2.get(poison)).toBeNull();
    expect(await b.sweep()).toMatchObject({ damaged: 0 }); // already removed by the read above
    await mkdir(shard, { recursive: true }); // its shard directory went with it
    await writeFile(join(shard, poison), '');
    await utimes(join(shard, poison), future, future);
    expect(await b.sweep()).toMatchObject({ damaged: 1 });
    expect((await diskUsage(s.l2.dir)).files).toBe(1);
  });

  it('PP_CACHE_DISK_MAX_MB unset → unbounded, with a startup warning', async () => {
    const cap = captureLogger('info');
    const b = budgetFor(stores(), undefined, { logger: cap.logger });
    await b.scanned;
    expect(cap.lines().some((l) => l.level === 40 && String(l.msg).includes('PP_CACHE_DISK_MAX_MB'))).toBe(true);
    expect(b.admits(Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

describe('disk budget: periodic sweep', () => {
  it('"the background job scans for and removes expired disk cache entries", and stray temp files; close() stops it', async () => {
    const s = stores();
    const b = budgetFor(s, undefined, { cleanupIntervalMs: 50, sweep: { tempGraceMs: 0 } });
    await b.scanned;
    const live = hexKey('live');
    await s.l2.put(live, Buffer.alloc(100), { expiresAt: Date.now() + 3_600_000 });
    for (let i = 0; i < 5; i++) await s.l2.put(hexKey(i), Buffer.alloc(100), { expiresAt: Date.now() + 100 });
    await s.origin.put(hexKey('o'), Buffer.alloc(100), { expiresAt: Date.now() + 100 });
    const temp = join(s.l2.dir, live.slice(0, 2), live.slice(2, 4), `.${live}.1.x.tmp`);
    await writeFile(temp, 'partial');
    expect(b.totals().entries).toBe(7);
    await new Promise((r) => setTimeout(r, 400));
    expect((await diskUsage(s.l2.dir)).files).toBe(1);
    expect((await diskUsage(s.origin.dir)).files).toBe(0);
    expect(b.totals().entries).toBe(1);
    expect(await has(s.l2, live)).toBe(true);
    const { lstat } = await import('node:fs/promises');
    await expect(lstat(temp)).rejects.toThrow(/ENOENT/);
    await b.close();
    await s.l2.put(hexKey('after'), Buffer.alloc(100), { expiresAt: Date.now() + 50 });
    await new Promise((r) => setTimeout(r, 200));
    expect((await diskUsage(s.l2.dir)).files).toBe(2); // no sweep after close()
  });
});
