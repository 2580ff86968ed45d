/**
 * Disk budget for the fs stores (transformed + origin together): size bookkeeping, eviction
 * by least recent USE, and the periodic sweep of expired entries and crash leftovers.
 *
 * PreviewProxy's `PP_CACHE_DISK_MAX_MB` ("Max total size (MB) of the disk cache. Leave empty
 * for unlimited") and `PP_CACHE_CLEANUP_INTERVAL_SECS` ("How often (seconds) the background
 * cleanup task scans and evicts stale entries"), https://github.com/ViGrise/previewproxy/blob/main/.env.sample.
 * Where PreviewProxy evicts the oldest-created first, in a cleanup task that reads every meta
 * file, and leaves the origin store unbounded (src/modules/cache/disk.rs), this keeps an
 * in-memory index id → size whose Map order is recency (oldest first):
 *
 * - startup returns at once; the index is rebuilt in the background from `stat` alone
 *   (size = allocated blocks, lastUse = atime, expiry = mtime — see storage/fs-walk.ts), never
 *   by reading files, and writes are never refused meanwhile: eviction of pre-existing files
 *   starts once they are counted;
 * - reads count as use (the fs store also persists it to atime, throttled), so the LRU order
 *   survives restarts;
 * - every callback from the stores is synchronous bookkeeping; deletions run in the
 *   background, one directory walk at a time, yielding to the event loop between batches.
 *
 * A tag index marker (`<tag>_t<key>`, cache/key.ts) is never read, so it would always look
 * least recently used: markers are counted but never picked for eviction; they go with the
 * entry they index (evicted or removed), or when they expire.
 *
 * Sizes are what the disk holds, as `du` counts it: allocated blocks (`st_blocks × 512`) of
 * the entry files and of the shard directories, as nginx's `proxy_cache max_size` counts
 * (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_path): a 300-byte
 * entry takes a 4 KiB block, and its shard directory another. Directories are not evicted
 * themselves: the stores remove a shard as soon as it is empty.
 *
 * The index holds a number per entry, not an object: an id (the key, `o:<key>` for an origin
 * entry; the layer and the key are read back from it) → its size in a Map. At 100,000 entries the objects
 * `{layer, key, size, lastUse}` and the boxed doubles of their fields were 300,000 of the ~2.5
 * million objects on the heap, walked by every mark-compact.
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { FsBlobStore, FsStoreObserver, SweepResult } from '../storage/fs.js';
import { markedKey } from './key.js';

export type DiskLayer = 'l2' | 'origin';

/** What the rebuild found and has not merged yet (the atime orders it in). */
interface Found {
  size: number;
  lastUse: number;
}

/**
 * An entry's id in the index: a transformed entry's key itself, an origin entry's key after
 * `o:`. The transformed store's keys are hex digits and `_` (cache/key.ts: `…_r…`, `…_i…`,
 * markers `…_t…`, layout-1 digests), never a colon, so the two never meet; and the id of the
 * entry on the hot path (an L1 or L2 hit, `noteUse`/`used`) is the very key string the request
 * carries, its hash already computed, not a concatenation built and hashed per hit.
 */
const idOf = (layer: DiskLayer, key: string): string => (layer === 'l2' ? key : `o:${key}`);
const layerOf = (id: string): DiskLayer => (id.startsWith('o:') ? 'origin' : 'l2');
const keyOf = (id: string): string => (id.startsWith('o:') ? id.slice(2) : id);

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
  /** Allocated bytes of entries and shard directories. */
  bytes: number;
  entries: number;
  /** Shard directories counted. */
  dirs: number;
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
  /** Counted entries, id → size; insertion order = recency, oldest first. */
  let items = new Map<string, number>();
  /** Counted tag index markers, id → size (never eviction victims). */
  const markers = new Map<string, number>();
  /** The markers of each indexed entry, by the entry's id. */
  const markersOf = new Map<string, Set<string>>();
  /** Bytes of `items` (the found-but-unmerged files are not in it). */
  let liveBytes = 0;
  /** Found by the rebuild, not yet merged (their atime order is sorted in at the end). */
  const found = new Map<string, Found>();
  /** Removed while the rebuild runs: a late discovery of these must not be counted. */
  const removedDuringScan = new Set<string>();
  const layers: DiskTotals['layers'] = { l2: { bytes: 0, entries: 0 }, origin: { bytes: 0, entries: 0 } };
  /** Shard directories, path → size, by layer (not in the LRU: they go when their last entry goes). */
  const dirs: Record<DiskLayer, Map<string, number>> = { l2: new Map(), origin: new Map() };
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

  function forget(id: string): void {
    const size = items.get(id) ?? found.get(id)?.size ?? markers.get(id);
    if (size === undefined) return;
    if (items.delete(id) || markers.delete(id)) liveBytes -= size;
    found.delete(id);
    const layer = layerOf(id);
    account(layer, -size, -1);
    const owner = markedKey(keyOf(id));
    if (owner !== null) markersOf.get(idOf(layer, owner))?.delete(id);
  }

  /** Counts a marker (always live: it is written, never evicted on its own). */
  function addMarker(layer: DiskLayer, key: string, size: number, owner: string): void {
    const id = idOf(layer, key);
    markers.set(id, size);
    liveBytes += size;
    account(layer, size, 1);
    const ownerId = idOf(layer, owner);
    let set = markersOf.get(ownerId);
    if (!set) markersOf.set(ownerId, (set = new Set()));
    set.add(id);
  }

  function addDir(layer: DiskLayer, path: string, size: number): void {
    dropDir(layer, path);
    dirs[layer].set(path, size);
    account(layer, size, 0);
  }

  function dropDir(layer: DiskLayer, path: string): void {
    const size = dirs[layer].get(path);
    if (size === undefined) return;
    dirs[layer].delete(path);
    account(layer, -size, 0);
  }

  function touch(layer: DiskLayer, key: string, size: number): void {
    const id = idOf(layer, key);
    forget(id);
    const owner = markedKey(key);
    if (owner !== null) return addMarker(layer, key, size, owner);
    items.set(id, size);
    liveBytes += size;
    account(layer, size, 1);
  }

  /** Bytes over the budget, were `room` more bytes written. */
  function overBy(room: number): number {
    if (maxBytes === undefined) return 0;
    // While counting, only entries written or read since start are ordered; evict among
    // them only if they alone are over budget (pre-existing files wait to be counted).
    return (counting ? liveBytes : total()) + room - maxBytes;
  }

  /**
   * Deletes the least recently used entries (never `keep`) until `room` more bytes fit. One
   * victim at a time, the excess measured again after each: a victim frees its file and, when
   * it was the last entry of its shard, the shard directories too, which only the store's
   * removal tells. A victim leaves the index when it is picked, so concurrent evictions never
   * pick the same one.
   */
  function evict(room: number, keep?: string): Promise<void> {
    if (maxBytes === undefined || closed || overBy(room) <= 0) return Promise.resolve();
    const run = evicting.then(async () => {
      while (!closed && overBy(room) > 0) {
        let victimId: string | undefined;
        for (const id of items.keys()) {
          if (id === keep) continue;
          victimId = id;
          break;
        }
        if (victimId === undefined) return;
        const layer = layerOf(victimId);
        const its = [...(markersOf.get(victimId) ?? [])].filter((id) => markers.has(id));
        markersOf.delete(victimId);
        for (const id of [victimId, ...its]) forget(id);
        try {
          await stores.get(layer)?.delete(keyOf(victimId));
          metrics?.cacheEvictions.inc({ layer });
          for (const id of its) await stores.get(layerOf(id))?.delete(keyOf(id));
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
        const existing = items.get(id) ?? found.get(id)?.size ?? 0;
        return evict(bytes - existing, id);
      },
      written(key, bytes) {
        touch(layer, key, bytes);
        void evict(0, idOf(layer, key));
      },
      used(key, bytes) {
        // Every fs hit: an entry already counted at this size only moves to the recent end (no
        // accounting, no gauge update); anything else is counted afresh.
        const id = idOf(layer, key);
        if (items.get(id) === bytes) {
          items.delete(id);
          items.set(id, bytes);
          return;
        }
        touch(layer, key, bytes);
      },
      removed(key) {
        const id = idOf(layer, key);
        forget(id);
        if (counting) removedDuringScan.add(id);
      },
      dirAdded(path, bytes) {
        addDir(layer, path, bytes);
        void evict(0);
      },
      dirRemoved(path) {
        dropDir(layer, path);
        if (counting) removedDuringScan.add(`dir:${path}`);
      },
    };
  }

  async function rebuild(): Promise<void> {
    const now = Date.now();
    for (const [layer, store] of stores) {
      for await (const e of store.scan({ batch: opts.sweep?.batch ?? 256 })) {
        if (closed) return;
        if (e.kind === 'dir') {
          if (!dirs[layer].has(e.path) && !removedDuringScan.has(`dir:${e.path}`)) addDir(layer, e.path, e.size);
          continue;
        }
        const id = idOf(layer, e.key);
        if (items.has(id) || found.has(id) || markers.has(id) || removedDuringScan.has(id)) continue;
        if (e.expiresAt !== undefined && e.expiresAt <= now) {
          // Expired files are not worth counting; removing them is free here.
          await store.delete(e.key).catch((err: unknown) => opts.onError?.('sweep', err));
          continue;
        }
        const owner = markedKey(e.key);
        if (owner !== null) {
          addMarker(layer, e.key, e.size, owner);
          continue;
        }
        found.set(id, { size: e.size, lastUse: e.lastUse });
        account(layer, e.size, 1);
      }
    }
  }

  /** Files found on disk are older than anything touched since start: they go first, by atime. */
  function merge(): void {
    const merged = new Map<string, number>();
    for (const [id, f] of [...found].sort((a, b) => a[1].lastUse - b[1].lastUse)) merged.set(id, f.size);
    found.clear();
    for (const [id, size] of items) {
      merged.delete(id);
      merged.set(id, size);
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
      let size = items.get(id);
      if (size !== undefined) {
        items.delete(id);
      } else {
        // Found by the rebuild, not merged yet: it joins the ordered (counted) entries.
        size = found.get(id)?.size;
        if (size === undefined) return;
        found.delete(id);
        liveBytes += size;
      }
      items.set(id, size);
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
      dirs: dirs.l2.size + dirs.origin.size,
      layers: { l2: { ...layers.l2 }, origin: { ...layers.origin } },
    };
  }
}
