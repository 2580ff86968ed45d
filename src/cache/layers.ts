/**
 * One kind of cached answer (results, /info answers) over L1 (memory) and L2 (the cache's
 * BlobStore), the part both share: lookup with promotion to L1, and store before the response
 * with the L2 write scheduled after it (readable while in flight), so storing never delays or
 * fails an answer. Every failure of L2 degrades to "not cached" (report.ts).
 *
 * Purges (purge-records.ts) are honoured at every step: an entry computed before a purge that
 * matches it is never stored, a matching one read from L2 (another instance wrote it before it
 * heard of the purge) is a miss and is removed, and when a record arrives, the L1 entries and
 * this instance's recent L2 writes it matches are removed. Tagged entries get one index marker
 * per tag (`<tag>_t<key>`, written before the entry, so an entry is never stored unindexed),
 * which a purge by tag lists instead of the whole store.
 */
import type { Metrics } from '../observability/metrics.js';
import { type BlobMeta, type BlobStore, isNotModified } from '../storage/types.js';
import type { DiskBudget } from './budget.js';
import { tagMarker } from './key.js';
import type { MemoryCache } from './memory.js';
import { matchesEntry, type EntryFacts, type PurgeRecord, type PurgeRecords } from './purge-records.js';
import type { ErrorReporter } from './report.js';
import { readAll, withTimeout } from './util.js';

export type CacheLayerHit = 'HIT-L1' | 'HIT-L2';

/** What every cached answer has. */
export interface LayerEntry {
  data: Buffer;
  createdAt: number;
  /** When the computation that made it started; createdAt when absent. */
  bornAt?: number;
  tags?: readonly string[];
  sourceTag?: string;
}

export interface LayerCodec<V extends LayerEntry> {
  encode(value: V): { contentType: string; etag: string; extra: Record<string, string> };
  /** null: not an entry of this kind (a miss). */
  decode(meta: BlobMeta, data: Buffer): V | null;
}

export interface LayerDeps<V extends LayerEntry> {
  /** Label of its lookups: `memory`/`l2`, or `info-memory`/`info-l2`. */
  readonly labels: { l1: string; l2: string };
  readonly l1: MemoryCache<V> | null;
  readonly l2: BlobStore | null;
  readonly codec: LayerCodec<V>;
  readonly records: PurgeRecords;
  readonly metrics: Pick<Metrics, 'lookups' | 'cacheBytes' | 'cacheEntries'>;
  readonly report: ErrorReporter;
  readonly budget: DiskBudget | null;
  /** PIXPROXY_CACHE_BACKEND_TIMEOUT_MS. */
  readonly timeoutMs: number;
  /** A computation for this key is in flight: a lookup does not read L2 (the caller joins it). */
  readonly inFlight: (key: string) => boolean;
  /** How long this instance remembers its L2 writes for records that arrive later (poll interval + slack). */
  readonly recentWritesMs: number;
  /**
   * Without L1, L2 reads are asked with `reuse` and a lookup read by no one else hands its
   * caller the read's release (BlobEntry.release): the result layer's, whose caller gives the
   * buffer back once the response has gone out.
   */
  readonly reuseReads?: boolean;
}

export interface StoreLife {
  /** L1 life shorter than the L1 TTL (a fallback answer's). */
  l1Ms?: number;
  /** L2 expiry, Unix ms; none (or past) = not written to L2. */
  l2ExpiresAt?: number;
}

/** A lookup's answer; `release`: the caller alone holds `value.data` and gives it back through this once done with it. */
export interface LayerHit<V> {
  value: V;
  layer: CacheLayerHit;
  release?: (() => void) | undefined;
}

export interface Layer<V extends LayerEntry> {
  /**
   * The L1 entry of `key`, when `accept` takes it (counted as an L1 hit then, and nothing
   * counted otherwise: the caller's lookup() counts its own): a hit without a promise.
   */
  l1Hit(key: string, accept: (value: V) => boolean): V | undefined;
  /** L1 → L2 (→ the layout-1 key `legacy`, when given); never rejects: errors are misses. */
  lookup(key: string, legacy?: { key: string; migrate: boolean }): Promise<LayerHit<V> | null>;
  /** False when a purge since its computation began retires it (not stored). Never throws. */
  store(key: string, value: V, life: StoreLife): boolean;
  /**
   * Applies a purge record: its L1 entries go; its recent L2 writes are deleted once written
   * (a record from another instance, whose listing may have run before they landed), or, for
   * a purge made here (`local`), awaited in `settled` so that its own listing finds them.
   */
  apply(record: PurgeRecord, local?: boolean): Applied;
  /** The source tag of this instance's recent write of `key`, if any (a purge that keeps a source tag spares it). */
  recentSourceTag(key: string): string | undefined;
  /**
   * L2 only, promoted to L1 like any L2 hit: another instance's result, read by a follower of
   * the lease (lease.ts). A purge this instance knows of retires it as it does any L2 read.
   */
  readShared(key: string): Promise<V | null>;
  /** Resolves once this instance's L2 write of `key` (if any) has settled (a lease is released then). */
  written(key: string): Promise<void>;
  flush(): Promise<void>;
  clear(): void;
}

/** What applying a record did: L1 entries dropped, and when this instance's matching writes have landed. */
export interface Applied {
  l1: number;
  settled: Promise<void>;
}

/** An L2 read's value and, when the store pooled its buffer, how to give the buffer back. */
interface Read<V> {
  value: V;
  release: (() => void) | undefined;
}

/** One L2 read shared by the lookups of its key that arrived while it ran. */
interface SharedRead<V> {
  p: Promise<Read<V> | null>;
  /** A second lookup joined: the bytes are not one caller's to give back. */
  shared: boolean;
}

/** Recent writes remembered at most (a purge record arriving late deletes the matching ones). */
const MAX_RECENT_WRITES = 100_000;

interface RecentWrite {
  at: number;
  bornAt: number;
  tags: readonly string[] | undefined;
  sourceTag: string | undefined;
  done: Promise<void>;
}

/** The bytes of a remembered decode (never served: each read gets its own). */
const EMPTY = Buffer.alloc(0);

const bornOf = (v: LayerEntry): number => v.bornAt ?? v.createdAt;
const factsOf = (key: string, v: Pick<LayerEntry, 'tags' | 'sourceTag'>): EntryFacts => ({ key, tags: v.tags, sourceTag: v.sourceTag });

export function createLayer<V extends LayerEntry>(deps: LayerDeps<V>): Layer<V> {
  const { l1, l2, codec, records, metrics, report, budget, labels } = deps;
  const l1Lookups = metrics.lookups(labels.l1);
  const l2Lookups = metrics.lookups(labels.l2);
  const pending = new Set<Promise<void>>();
  /** L2 writes in flight: readable before the write ends (the entry is already "in the cache"). */
  const writing = new Map<string, V>();
  const recent = new Map<string, RecentWrite>();
  let closed = false;

  const updateL1Gauges = (): void => {
    if (!l1) return;
    metrics.cacheBytes.set({ layer: labels.l1 }, l1.bytes);
    metrics.cacheEntries.set({ layer: labels.l1 }, l1.entries);
  };

  function track(p: Promise<void>): void {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  function dropL2(key: string): void {
    if (!l2) return;
    track(l2.delete(key).catch((err: unknown) => report('l2', 'delete', err)));
  }

  /**
   * Entries decoded from a stored meta object, without their bytes: a store that hands out the
   * same (frozen) meta for the same stored entry (the fs store does for a hot file) has it
   * decoded once. Decoding depends on the meta and the body's length only.
   */
  const decoded = new WeakMap<BlobMeta, { value: V; size: number }>();
  function decode(meta: BlobMeta, data: Buffer): V | null {
    const known = decoded.get(meta);
    if (known !== undefined && known.size === data.length) return { ...known.value, data };
    const value = codec.decode(meta, data);
    if (value !== null && Object.isFrozen(meta)) decoded.set(meta, { value: { ...value, data: EMPTY }, size: data.length });
    return value;
  }

  const reuse = deps.reuseReads === true && l1 === null;
  const getOptions = reuse ? { reuse: true } : {};

  /** An L2 read: its value, and the release of its buffer when the store gave one (`getOptions.reuse`). */
  async function readL2(key: string): Promise<Read<V> | null> {
    if (!l2) return null;
    const r = await withTimeout(l2.get(key, getOptions), deps.timeoutMs, 'l2 get');
    if (r === null || isNotModified(r)) return null;
    const data = r.data ?? (await withTimeout(readAll(r.body), deps.timeoutMs, 'l2 read'));
    const value = decode(r.meta, data);
    // Not one of ours (or an older layout), or written by an instance that had not heard of a
    // purge since: drop it so the next store replaces it cleanly.
    if (!value || records.retires(factsOf(key, value), bornOf(value))) {
      dropL2(key);
      return null;
    }
    return { value, release: r.data !== undefined ? r.release : undefined };
  }

  /** A layout-1 entry: served unless a purge came after it, then moved to its grouped key (when asked). */
  async function readLegacy(key: string, legacy: { key: string; migrate: boolean }): Promise<V | null> {
    if (!l2) return null;
    const r = await withTimeout(l2.get(legacy.key), deps.timeoutMs, 'l2 get');
    if (r === null || isNotModified(r)) return null;
    const data = r.data ?? (await withTimeout(readAll(r.body), deps.timeoutMs, 'l2 read'));
    const value = decode(r.meta, data);
    if (!value || bornOf(value) <= records.legacyFence) {
      dropL2(legacy.key);
      return null;
    }
    if (legacy.migrate && r.meta.expiresAt !== undefined && store(key, value, { l2ExpiresAt: r.meta.expiresAt })) dropL2(legacy.key);
    return value;
  }

  /**
   * Concurrent lookups of one key share one L2 read (and its layout-1 read): a stampede
   * arrives before its first request has started the computation the others join, and 300
   * reads of one missing key at once would queue in front of everything else at an object
   * store (and time out into its circuit breaker). A lookup of its own that outlasted the
   * computation would also miss what that computation has stored meanwhile, and compute again.
   */
  const reads = new Map<string, SharedRead<V>>();
  function readOnce(key: string, legacy: { key: string; migrate: boolean } | undefined): SharedRead<V> {
    let read = reads.get(key);
    if (read) {
      // Two lookups hold the bytes now: neither may give them back.
      read.shared = true;
      return read;
    }
    const p = (async (): Promise<Read<V> | null> => {
      const r = await readL2(key);
      if (r !== null || !legacy) return r;
      const old = await readLegacy(key, legacy);
      return old === null ? null : { value: old, release: undefined };
    })()
      .catch((err: unknown) => {
        report('l2', 'get', err);
        return null;
      })
      // Before any waiter resumes: a lookup arriving after the settlement reads again.
      .finally(() => reads.delete(key));
    read = { p, shared: false };
    reads.set(key, read);
    return read;
  }

  function promote(key: string, value: V): void {
    if (!l1) return;
    // Promotion restarts the L1 TTL, as PreviewProxy's does.
    l1.set(key, value);
    updateL1Gauges();
  }

  function store(key: string, value: V, life: StoreLife): boolean {
    try {
      if (closed) return false;
      if (records.retires(factsOf(key, value), bornOf(value))) return false;
      if (l1) {
        l1.set(key, value, life.l1Ms);
        updateL1Gauges();
      }
      const expiresAt = life.l2ExpiresAt;
      const now = Date.now();
      if (!l2 || expiresAt === undefined || expiresAt <= now || !(budget?.admits(value.data.length) ?? true)) return true;
      writing.set(key, value);
      const meta = codec.encode(value);
      // The entry is visible from here on; the write (checksum, file I/O) starts once the
      // current responses have been written. Markers first: an entry is never unindexed.
      const p = new Promise<void>((resolve) => setImmediate(resolve))
        .then(async () => {
          for (const tag of value.tags ?? []) await l2.put(tagMarker(tag, key), Buffer.alloc(0), { expiresAt });
          await l2.put(key, value.data, { ...meta, expiresAt });
        })
        .catch((err: unknown) => report('l2', 'put', err))
        .finally(() => {
          if (writing.get(key) === value) writing.delete(key);
        });
      track(p);
      remember(key, { at: now, bornAt: bornOf(value), tags: value.tags, sourceTag: value.sourceTag, done: p });
      return true;
    } catch (err) {
      report('l2', 'put', err);
      return false;
    }
  }

  function remember(key: string, w: RecentWrite): void {
    recent.delete(key);
    recent.set(key, w);
    const horizon = w.at - deps.recentWritesMs;
    for (const [k, old] of recent) {
      if (old.at >= horizon && recent.size <= MAX_RECENT_WRITES) break;
      recent.delete(k);
    }
  }

  return {
    l1Hit(key, accept) {
      const hit = l1?.get(key);
      if (hit === undefined || !accept(hit)) return undefined;
      l1Lookups.count(true);
      // A use all the same: the disk LRU must not evict what L1 keeps serving.
      budget?.noteUse('l2', key);
      return hit;
    },

    async lookup(key, legacy) {
      if (l1) {
        const hit = l1.get(key);
        l1Lookups.count(hit !== undefined);
        if (hit) {
          budget?.noteUse('l2', key);
          return { value: hit, layer: 'HIT-L1' };
        }
      }
      if (!l2) return null;
      let value: V | null = writing.get(key) ?? null;
      // The key is being computed: the caller will join that computation, so reading L2
      // (which cannot hold it yet) would only queue a file operation per waiting request —
      // 200 of them in a stampede — in front of the leader's own I/O and transform.
      if (value === null && deps.inFlight(key)) return null;
      let release: (() => void) | undefined;
      if (value === null) {
        const read = readOnce(key, legacy);
        const r = await read.p;
        value = r?.value ?? null;
        // The read's buffer is this lookup's alone unless another lookup joined the read.
        if (!read.shared) release = r?.release;
      }
      l2Lookups.count(value !== null);
      if (!value) {
        // Stored while this lookup read the L2 (a computation that ended meanwhile): the caller
        // would otherwise start the computation again.
        const since = writing.get(key) ?? l1?.get(key);
        return since === undefined ? null : { value: since, layer: 'HIT-L1' };
      }
      promote(key, value);
      return { value, layer: 'HIT-L2', release };
    },

    async readShared(key) {
      // The followers of a lease share what it reads: its buffer is never given back.
      const value = await readL2(key).then(
        (r) => r?.value ?? null,
        (err: unknown) => {
          report('l2', 'get', err);
          return null;
        },
      );
      l2Lookups.count(value !== null);
      if (value) promote(key, value);
      return value;
    },

    written: (key) => recent.get(key)?.done ?? Promise.resolve(),

    store,

    apply(record, local = false) {
      const retired = (key: string, v: Pick<LayerEntry, 'tags' | 'sourceTag'>, bornAt: number): boolean => bornAt <= record.at && matchesEntry(record.scope, factsOf(key, v));
      const dropped = l1?.deleteWhere((k, v) => retired(k, v, bornOf(v))) ?? 0;
      if (dropped > 0) updateL1Gauges();
      for (const [k, v] of writing) if (retired(k, v, bornOf(v))) writing.delete(k);
      const landing: Promise<void>[] = [];
      for (const [k, w] of recent) {
        if (!retired(k, w, w.bornAt)) continue;
        recent.delete(k);
        if (local) landing.push(w.done);
        // Written (or being written) before this instance heard of the purge: delete it once it lands.
        else track(w.done.then(() => l2?.delete(k)).catch((err: unknown) => report('l2', 'delete', err)));
      }
      return { l1: dropped, settled: Promise.all(landing).then(() => undefined) };
    },

    recentSourceTag: (key) => recent.get(key)?.sourceTag,

    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },

    clear() {
      closed = true;
      l1?.clear();
      updateL1Gauges();
    },
  };
}
