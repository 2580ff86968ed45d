/**
 * The purge log: how a purge made through one instance reaches every instance sharing the L2
 * (the instances of a cluster, PIXPROXY_PROCESSES workers on one fs cache). Each purge is one
 * small JSON object in the `purges/` store next to the cache, named
 * `<minute, 8 hex>_<ms, base 36>_<random>`; every instance lists the current minutes' names
 * every PIXPROXY_CACHE_PURGE_POLL_MS and applies the records it has not seen
 * (purge-records.ts). Listing a minute is one LIST call per page on an object store and one
 * directory read on fs (names of one minute share a shard directory), whatever the cache holds.
 *
 * So an instance stops serving a purged entry from its own L1 within one poll interval plus
 * one LIST (measured in docs/cache.md#purge). Records older than RETENTION_MS are removed
 * by whichever instance polls past them. A fence object (`ffffffff_fence`) keeps the time of
 * the latest purge for instances that start later (layout-1 entries older than it are misses).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { deleteKeys } from '../storage/delete-many.js';
import { isNotModified, type BlobStore } from '../storage/types.js';
import type { PurgeRecord, PurgeRecords, PurgeScope } from './purge-records.js';
import { RETENTION_MS } from './purge-records.js';
import type { ErrorReporter } from './report.js';
import { readAll } from './util.js';

const MINUTE = 60_000;
/** Records are listed this far on both sides of the last poll: writers' clocks and LIST lag differ. */
const SLACK_MS = 30_000;
const FENCE_KEY = 'ffffffff_fence';

export interface PurgeLog {
  /** Shares a record (after the caller applied it locally); rejects when the shared store fails. */
  append(record: PurgeRecord): Promise<void>;
  /** Reads the log once; resolves how many new records it applied. */
  poll(): Promise<number>;
  /** Loads the fence, then polls every `pollMs` (0: only the fence). */
  start(): Promise<void>;
  readonly lastPollAt: number;
  readonly pollMs: number;
  close(): void;
}

const minuteName = (at: number): string => Math.floor(at / MINUTE).toString(16).padStart(8, '0');

/** A record's object name: its minute first (the listing unit), then its time and a random part. */
export function recordName(at: number): string {
  return `${minuteName(at)}_${at.toString(36)}_${randomBytes(6).toString('hex')}`;
}

function parseRecord(id: string, text: string): PurgeRecord | null {
  try {
    const r = JSON.parse(text) as { at?: unknown; scope?: unknown };
    if (typeof r.at !== 'number' || !Number.isFinite(r.at) || typeof r.scope !== 'object' || r.scope === null) return null;
    return { id, at: r.at, scope: r.scope as PurgeScope };
  } catch {
    return null;
  }
}

export function createPurgeLog(deps: { store: BlobStore | null; records: PurgeRecords; pollMs: number; report: ErrorReporter; logger: Logger }): PurgeLog {
  const { store, records, pollMs } = deps;
  /** Names read already (by their minute), so each record is fetched once. */
  const seen = new Map<string, number>();
  let lastPollAt = 0;
  let lastSweptMinute = 0;
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<number> | null = null;
  let closed = false;

  async function read(key: string): Promise<string | null> {
    if (!store) return null;
    const r = await store.get(key);
    if (r === null || isNotModified(r)) return null;
    return (r.data ?? (await readAll(r.body))).toString('utf8');
  }

  /** Removes the minute that just left the retention window (any instance may: deleting is idempotent). */
  async function sweep(now: number): Promise<void> {
    if (!store) return;
    const old = Math.floor((now - RETENTION_MS) / MINUTE) - 1;
    if (old <= lastSweptMinute) return;
    lastSweptMinute = old;
    const name = old.toString(16).padStart(8, '0');
    const keys: string[] = [];
    for await (const item of store.list(`${name}_`, { keysOnly: true })) keys.push(item.key);
    await deleteKeys(store, keys);
  }

  async function pollOnce(): Promise<number> {
    if (!store) return 0;
    const now = Date.now();
    const from = Math.max(lastPollAt === 0 ? 0 : lastPollAt - SLACK_MS, now - RETENTION_MS);
    let applied = 0;
    for (let m = Math.floor(from / MINUTE); m <= Math.floor((now + SLACK_MS) / MINUTE); m++) {
      const names: string[] = [];
      for await (const item of store.list(`${m.toString(16).padStart(8, '0')}_`, { keysOnly: true })) if (!seen.has(item.key)) names.push(item.key);
      for (const name of names) {
        const text = await read(name);
        seen.set(name, m);
        const record = text === null ? null : parseRecord(name, text);
        if (record && records.add(record)) applied++;
      }
    }
    const horizon = Math.floor((now - RETENTION_MS) / MINUTE) - 1;
    for (const [name, m] of seen) if (m < horizon) seen.delete(name);
    lastPollAt = now;
    await sweep(now);
    return applied;
  }

  function poll(): Promise<number> {
    polling ??= pollOnce()
      .catch((err: unknown) => {
        deps.report('purge-log', 'poll', err);
        return 0;
      })
      .finally(() => {
        polling = null;
      });
    return polling;
  }

  return {
    async append(record) {
      if (!store) return;
      seen.set(record.id, Math.floor(record.at / MINUTE));
      await store.put(record.id, Buffer.from(JSON.stringify({ at: record.at, scope: record.scope })), { contentType: 'application/json', expiresAt: record.at + RETENTION_MS + 2 * MINUTE });
      // Read-modify-write: two purges racing may leave the earlier time; the records
      // themselves (kept RETENTION_MS) still carry the later one to every running instance.
      const fence = Number((await read(FENCE_KEY).catch(() => null)) ?? 0);
      if (!(fence >= record.at)) await store.put(FENCE_KEY, Buffer.from(String(record.at)), { contentType: 'text/plain' });
    },
    poll,
    async start() {
      if (!store) return;
      try {
        const fence = Number((await read(FENCE_KEY)) ?? 0);
        if (Number.isFinite(fence)) records.raiseLegacyFence(fence);
      } catch (err) {
        deps.report('purge-log', 'fence', err);
      }
      await poll();
      if (pollMs > 0 && !closed) {
        timer = setInterval(() => void poll(), pollMs);
        timer.unref();
      }
    },
    get lastPollAt() {
      return lastPollAt;
    },
    pollMs,
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

/** A record of a purge made here, named as the log names it. */
export function newRecord(scope: PurgeScope, at = Date.now()): PurgeRecord {
  return { id: recordName(at), at, scope };
}
