/**
 * Disk budget for the fs stores (transformed + origin together): size bookkeeping, eviction
 * by least recent USE, and the periodic sweep of expired entries and crash leftovers.
 *
 * Seed: "PP_CACHE_DISK_MAX_MB | unlimited | Maximum total size of the disk cache" and
 * "PP_CACHE_CLEANUP_INTERVAL_SECS | 600 | How often the background job scans for and removes
 * expired disk cache entries". Where PreviewProxy (reference §3.7) evicts first-in-first-out
 * and leaves the origin store unbounded, and Next.js (peers §B.6/B.8) reads every file at
 * boot and can't see files it has not counted, this keeps an in-memory index
 * id → {size, lastUse} whose Map order is recency (oldest first):
 *
 * - startup returns at once; the index is rebuilt in the background from `stat` alone
 *   (size = file size, lastUse = atime, expiry = mtime — see storage/fs.ts), never by
 *   reading files, and writes are never refused meanwhile: eviction of pre-existing files
 *   starts once they are counted;
 * - reads count as use (the fs store also persists it to atime, throttled), so the LRU order
 *   survives restarts;
 * - every callback from the stores is synchronous bookkeeping; deletions run in the
 *   background, one directory walk at a time, yielding to the event loop between batches.
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { FsBlobStore, FsStoreObserver, SweepResult } from '../storage/fs.js';

export type DiskLayer = 'l2' | 'origin';

interface Item {
  layer: DiskLayer;
  key: string;
  size: number;
  lastUse: number;
}

export interface DiskBudgetOptions {
  /** Bytes; undefined = unbounded (a warning is logged at start). */
  maxBytes: number | undefined;
  /** 0 = no periodic sweep. */
  cleanupIntervalMs: number;
  logger: Logger;
  metrics?: Metrics;
  /** Called on background failures (scan, sweep, eviction); the cache reports them. */
  onError?: (op: string, err: unknown) => void;
  sweep?: { tempGraceMs?: number; batch?: number };
}

export interface DiskTotals {
  bytes: number;
  entries: number;
  layers: Record<DiskLayer, { bytes: number; entries: number }>;
}

export interface DiskBudget {
  /** Registers a store; call before start(). */
  attach(layer: DiskLayer, store: FsBlobStore): void;
  /** Starts the background rebuild and the periodic sweep; returns immediately. */
  start(): void;
  /** Resolves when the background rebuild has counted every pre-existing file. */
  readonly scanned: Promise<void>;
  /** True while the rebuild is still walking the disk. */
  readonly counting: boolean;
  readonly maxBytes: number | undefined;
  /** False for an entry that could never fit (bigger than the whole budget). */
  admits(bytes: number): boolean;
  totals(): DiskTotals;
  /**
   * A use that did not read the file (an L1 hit on an entry also on disk): it becomes the
   * most recently used. In memory only: no disk I/O on the hit path.
   */
  noteUse(layer: DiskLayer, key: string): void;
  /** Runs one sweep now (the timer calls the same). */
  sweep(): Promise<SweepResult>;
  /** Resolves when pending evictions have finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export function createDiskBudget(opts: DiskBudgetOptions): DiskBudget {
  const { maxBytes, logger, metrics } = opts;
  const stores = new Map<DiskLayer, FsBlobStore>();
  /** Counted entries; insertion order = recency, oldest first. */
  let items = new Map<string, Item>();
  /** Bytes of `items` (the found-but-unmerged files are not in it). */
  let liveBytes = 0;
  /** Found by the rebuild, not yet merged (their atime order is sorted in at the end). */
  const found = new Map<string, Item>();
  /** Removed while the rebuild runs: a late discovery of these must not be counted. */
  const removedDuringScan = new Set<string>();
  const layers: DiskTotals['layers'] = { l2: { bytes: 0, entries: 0 }, origin: { bytes: 0, entries: 0 } };
  let counting = false;
  let started = false;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let sweeping: Promise<SweepResult> | null = null;
  let evicting: Promise<void> = Promise.resolve();
  let resolveScanned!: () => void;
  const scanned = new Promise<void>((r) => {
    resolveScanned = r;
  });
  let scanTask: Promise<void> = Promise.resolve();

  const idOf = (layer: DiskLayer, key: string): string => `${layer}:${key}`;

  function account(layer: DiskLayer, dBytes: number, dEntries: number): void {
    const l = layers[layer];
    l.bytes += dBytes;
    l.entries += dEntries;
    metrics?.cacheBytes.set({ layer }, l.bytes);
    metrics?.cacheEntries.set({ layer }, l.entries);
  }

  function total(): number {
    return layers.l2.bytes + layers.origin.bytes;
  }

  function forget(id: string): Item | undefined {
    const it = items.get(id) ?? found.get(id);
    if (!it) return undefined;
    if (items.delete(id)) liveBytes -= it.size;
    found.delete(id);
    account(it.layer, -it.size, -1);
    return it;
  }

  function touch(layer: DiskLayer, key: string, size: number, lastUse: number): void {
    const id = idOf(layer, key);
    forget(id);
    items.set(id, { layer, key, size, lastUse });
    liveBytes += size;
    account(layer, size, 1);
  }

  /**
   * Picks victims synchronously (oldest first) so concurrent calls never choose the same
   * entry, then deletes them in the background. `room` is space to keep free for a write.
   */
  function evict(room: number, keep?: string): Promise<void> {
    if (maxBytes === undefined || closed) return Promise.resolve();
    // While counting, only entries written or read since start are ordered; evict among
    // them only if they alone are over budget (pre-existing files wait to be counted).
    const over = (counting ? liveBytes : total()) + room - maxBytes;
    if (over <= 0) return Promise.resolve();
    const victims: Item[] = [];
    let freed = 0;
    for (const [id, it] of items) {
      if (freed >= over) break;
      if (id === keep) continue;
      victims.push(it);
      freed += it.size;
    }
    for (const v of victims) forget(idOf(v.layer, v.key));
    const run = evicting.then(async () => {
      for (const v of victims) {
        try {
          await stores.get(v.layer)?.delete(v.key);
          metrics?.cacheEvictions.inc({ layer: v.layer });
        } catch (err) {
          opts.onError?.('evict', err);
        }
      }
    });
    evicting = run;
    return run;
  }

  function observerFor(layer: DiskLayer): FsStoreObserver {
    return {
      beforePut(key, bytes) {
        const id = idOf(layer, key);
        const existing = items.get(id)?.size ?? found.get(id)?.size ?? 0;
        return evict(bytes - existing, id);
      },
      written(key, bytes) {
        touch(layer, key, bytes, Date.now());
        void evict(0, idOf(layer, key));
      },
      used(key, bytes) {
        touch(layer, key, bytes, Date.now());
      },
      removed(key) {
        const id = idOf(layer, key);
        forget(id);
        if (counting) removedDuringScan.add(id);
      },
    };
  }

  async function rebuild(): Promise<void> {
    const now = Date.now();
    for (const [layer, store] of stores) {
      for await (const e of store.entries({ batch: opts.sweep?.batch ?? 256 })) {
        if (closed) return;
        const id = idOf(layer, e.key);
        if (items.has(id) || found.has(id) || removedDuringScan.has(id)) continue;
        if (e.expiresAt !== undefined && e.expiresAt <= now) {
          // Expired files are not worth counting; removing them is free here.
          await store.delete(e.key).catch((err: unknown) => opts.onError?.('sweep', err));
          continue;
        }
        found.set(id, { layer, key: e.key, size: e.size, lastUse: e.lastUse });
        account(layer, e.size, 1);
      }
    }
  }

  /** Files found on disk are older than anything touched since start: they go first, by atime. */
  function merge(): void {
    const merged = new Map<string, Item>();
    for (const it of [...found.values()].sort((a, b) => a.lastUse - b.lastUse)) merged.set(idOf(it.layer, it.key), it);
    found.clear();
    for (const [id, it] of items) {
      merged.delete(id);
      merged.set(id, it);
    }
    items = merged;
    liveBytes = total();
  }

  async function runSweep(): Promise<SweepResult> {
    const sum: SweepResult = { expired: 0, damaged: 0, temps: 0 };
    for (const store of stores.values()) {
      if (closed) break;
      const r = await store.sweep({ ...opts.sweep });
      sum.expired += r.expired;
      sum.damaged += r.damaged;
      sum.temps += r.temps;
    }
    if (sum.expired + sum.damaged + sum.temps > 0) logger.debug({ ...sum }, 'disk cache sweep');
    return sum;
  }

  function sweep(): Promise<SweepResult> {
    if (!sweeping) {
      sweeping = runSweep().finally(() => {
        sweeping = null;
      });
    }
    return sweeping;
  }

  return {
    attach(layer, store) {
      if (started) throw new Error('disk budget: attach() after start()');
      stores.set(layer, store);
      store.setObserver(observerFor(layer));
    },
    start() {
      if (started) return;
      started = true;
      if (maxBytes === undefined) {
        logger.warn('PP_CACHE_DISK_MAX_MB is not set: the disk cache is unbounded; set it in production to prevent disk exhaustion');
      }
      counting = true;
      scanTask = (async () => {
        const t0 = Date.now();
        try {
          await rebuild();
          logger.info({ ms: Date.now() - t0, ...totalsOf() }, 'disk cache index rebuilt');
        } catch (err) {
          // Whatever was found still counts; unseen files are left to the sweep.
          opts.onError?.('scan', err);
        } finally {
          merge();
          counting = false;
          removedDuringScan.clear();
          resolveScanned();
        }
        await evict(0);
      })();
      if (opts.cleanupIntervalMs > 0) {
        timer = setInterval(() => {
          sweep().catch((err: unknown) => opts.onError?.('sweep', err));
        }, opts.cleanupIntervalMs);
        timer.unref();
      }
    },
    scanned,
    get counting() {
      return counting;
    },
    maxBytes,
    admits: (bytes) => maxBytes === undefined || bytes <= maxBytes,
    totals: totalsOf,
    noteUse(layer, key) {
      const id = idOf(layer, key);
      let it = items.get(id);
      if (it) {
        items.delete(id);
      } else {
        // Found by the rebuild, not merged yet: it joins the ordered (counted) entries.
        it = found.get(id);
        if (!it) return;
        found.delete(id);
        liveBytes += it.size;
      }
      it.lastUse = Date.now();
      items.set(id, it);
    },
    sweep,
    async settled() {
      let last: Promise<void> | null = null;
      while (last !== evicting) {
        last = evicting;
        await last;
      }
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      await Promise.allSettled([scanTask, sweeping ?? Promise.resolve(), evicting]);
      if (!started) resolveScanned();
    },
  };

  function totalsOf(): DiskTotals {
    return {
      bytes: total(),
      entries: layers.l2.entries + layers.origin.entries,
      layers: { l2: { ...layers.l2 }, origin: { ...layers.origin } },
    };
  }
}
