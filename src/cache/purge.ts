/**
 * Purges: what one purge removes, layer by layer, and the record that makes every instance
 * (and every computation in flight) honour it. A purge
 *
 * 1. applies its record here: L1 entries, in-flight computations (no new caller joins one begun
 *    before), the origin memory tier; a result computed before it is never stored after it;
 * 2. shares the record through the purge log (purge-log.ts), before touching L2, so the other
 *    instances start refusing the purged entries as soon as possible;
 * 3. deletes the L2 entries: a key prefix is one listing (a source's variants share one, see
 *    key.ts; on fs one shard directory), a tag is a listing of its index markers, everything
 *    is the whole store; then, when asked, the origin sub-store's entries.
 *
 * It answers how many entries each layer lost; running it again finds nothing and answers
 * zeros. Layout-1 entries (key.ts `legacyKey`) cannot be found by source or tag: every purge
 * raises the fence that turns all of them older than it into misses.
 */
import { DELETE_CONCURRENCY, deleteKeys, forEachLimited } from '../storage/delete-many.js';
import type { BlobStore } from '../storage/types.js';
import { markedKey, originKey, sourcePrefix, tagMarkerPrefix } from './key.js';
import type { Applied } from './layers.js';
import type { PurgeLog } from './purge-log.js';
import { newRecord } from './purge-log.js';
import type { PurgeRecord, PurgeRecords, PurgeScope } from './purge-records.js';

/** What to purge. `group` is a URL's variants (key.ts resultGroup, or an /info key). */
export type PurgeTarget =
  | { kind: 'url'; group: string; source: string }
  | { kind: 'source'; url: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'all' };

export interface PurgeRequest {
  target: PurgeTarget;
  /** Also the origin sub-store's entries (url, source, all: its source(s); prefix: origin keys with that prefix). */
  origin: boolean;
}

export interface PurgeCounts {
  l1: number;
  l2: number;
  origin: number;
}

export interface PurgeResult {
  id: string;
  /** Unix ms: entries computed before it are gone. */
  at: number;
  purged: PurgeCounts;
}

export interface PurgeDeps {
  /** Applies a purge made here to this instance's memory (L1s, flights, origin memory tier). */
  readonly apply: (record: PurgeRecord, local: true) => Applied;
  /** The stores as they are (no time box: a purge may list and delete for a while, and its failures are answered). */
  readonly l2: BlobStore | null;
  readonly originStore: BlobStore | null;
  readonly records: PurgeRecords;
  readonly log: Pick<PurgeLog, 'append'>;
  /** Whether this instance wrote `key` from source bytes tagged `keepTag` (a retire of changed bytes spares it). */
  readonly wroteFrom?: (key: string, keepTag: string) => boolean;
}

export interface Purger {
  purge(request: PurgeRequest): Promise<PurgeResult>;
  /**
   * A source changed under its results (a stale entry's source brought new bytes): results
   * not made from `keepTag` go, here and on every instance; in the background.
   */
  retireChanged(url: string, keepTag: string, onError: (err: unknown) => void): void;
}

function scopeOf({ target, origin }: PurgeRequest): PurgeScope {
  switch (target.kind) {
    case 'url':
      return { prefixes: [target.group], ...(origin ? { origin: { keys: [originKey(target.source)] } } : {}) };
    case 'source':
      return { prefixes: [sourcePrefix(target.url)], ...(origin ? { origin: { keys: [originKey(target.url)] } } : {}) };
    case 'tag':
      return { tags: [target.tag] };
    case 'prefix':
      return { prefixes: [target.prefix], ...(origin ? { origin: { prefixes: [target.prefix] } } : {}) };
    case 'all':
      return { all: true, ...(origin ? { origin: { all: true } } : {}) };
  }
}

async function listKeys(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  // A key with `/` is not an entry of this store: on object stores, the origin sub-store and
  // the purge log live under the cache's prefix too (`origin/…`, `purges/…`).
  for await (const item of store.list(prefix, { keysOnly: true })) if (!item.key.includes('/')) keys.push(item.key);
  return keys;
}

/**
 * Deletes the L2 entries of a scope; resolves how many entries (not markers) went. Which
 * entries a `keepSourceTag` spares is in their metadata, not their keys: the listing takes
 * them all (a result of the new bytes computed meanwhile is computed again once).
 */
async function purgeL2(store: BlobStore, scope: PurgeScope, spare: (key: string) => boolean = () => false): Promise<number> {
  let entries = 0;
  const prefixes = scope.all ? [''] : (scope.prefixes ?? []);
  for (const prefix of prefixes) {
    const keys = (await listKeys(store, prefix)).filter((k) => !spare(k));
    entries += keys.filter((k) => markedKey(k) === null).length;
    await deleteKeys(store, keys);
  }
  for (const tag of scope.tags ?? []) {
    const markers = await listKeys(store, tagMarkerPrefix(tag));
    const keys = markers.map(markedKey).filter((k): k is string => k !== null);
    // Markers outlive an entry purged by another tag or prefix: count the entries still there.
    entries += await countPresent(store, keys);
    // Entries first: a marker without its entry is harmless, an entry without its marker is not.
    await deleteKeys(store, keys);
    await deleteKeys(store, markers);
  }
  return entries;
}

async function countPresent(store: BlobStore, keys: readonly string[]): Promise<number> {
  let n = 0;
  await forEachLimited(keys, DELETE_CONCURRENCY, async (k) => {
    if ((await store.head(k).catch(() => null)) !== null) n++;
  });
  return n;
}

async function purgeOrigin(store: BlobStore, scope: PurgeScope): Promise<number> {
  const o = scope.origin;
  if (!o) return 0;
  const keys = o.all ? await listKeys(store, '') : [...(o.keys ?? [])];
  for (const p of o.prefixes ?? []) keys.push(...(await listKeys(store, p)));
  // Named keys: count the ones that are there.
  const found = !o.all && o.prefixes === undefined ? await countPresent(store, keys) : keys.length;
  await deleteKeys(store, keys);
  return found;
}

export function createPurger(deps: PurgeDeps): Purger {
  /** Applies a record to this instance's memory. */
  function applyHere(record: PurgeRecord): Applied {
    const applied = deps.apply(record, true);
    // Quiet: applied just now (listeners run for the records read from the log).
    deps.records.add(record, { quiet: true });
    return applied;
  }

  return {
    async purge(request) {
      const record = newRecord(scopeOf(request));
      const { l1, settled } = applyHere(record);
      await deps.log.append(record);
      // This instance's writes of purged entries land first, so the listing below finds them.
      await settled;
      const l2 = deps.l2 ? await purgeL2(deps.l2, record.scope) : 0;
      const origin = deps.originStore ? await purgeOrigin(deps.originStore, record.scope) : 0;
      return { id: record.id, at: record.at, purged: { l1, l2, origin } };
    },

    retireChanged(url, keepTag, onError) {
      const record = newRecord({ prefixes: [sourcePrefix(url)], keepSourceTag: keepTag });
      const { settled } = applyHere(record);
      void (async () => {
        await deps.log.append(record);
        await settled;
        // The result of the new bytes this instance stored meanwhile stays (its metadata says so; the listing does not).
        if (deps.l2) await purgeL2(deps.l2, record.scope, (key) => deps.wroteFrom?.(key, keepTag) ?? false);
      })().catch(onError);
    },
  };
}
