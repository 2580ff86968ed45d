/**
 * Purge records and what they retire. A record says "every entry matching this scope that
 * was computed before `at` is gone": the entries of a key prefix (a URL's variants, a
 * source's, any prefix, everything), of a tag, or the origin sub-store's entries of some
 * sources. Each instance keeps the records of the last RETENTION_MS (its own and those read
 * from the shared purge log, see purge-log.ts) and consults them:
 *
 * - when one arrives: its L1 entries, in-flight computations and recent L2 writes that match
 *   are dropped (listeners);
 * - before storing a result: one computed before a matching purge is not stored (a purge
 *   during a stampede never lets an old result back in);
 * - when reading L2: an entry written before a matching purge by an instance that had not
 *   heard of it yet is a miss (and removed).
 *
 * Times are wall-clock ms of the instances involved: instances sharing an L2 need their
 * clocks in sync (NTP), as any TTL shared between them already does.
 */

/** How long records are kept and read from the log: far longer than any computation (IMGPROXY_TIMEOUT) plus the poll. */
export const RETENTION_MS = 10 * 60_000;

export interface PurgeScope {
  /** Every entry of every layer named below. */
  all?: boolean;
  /** Entries whose key starts with one of these. */
  prefixes?: string[];
  /** Entries carrying one of these tags. */
  tags?: string[];
  /**
   * With `prefixes`: entries whose source tag (swr.ts) is this one are kept: they were made
   * from the source's new bytes (a refresh found it changed, only the older variants go).
   */
  keepSourceTag?: string;
  /** Origin sub-store: every entry (with `all`), or the entries of these origin keys. */
  origin?: { all?: boolean; keys?: string[]; prefixes?: string[] };
}

export interface PurgeRecord {
  /** Unique per record (the log's object name, or a local one). */
  id: string;
  /** Unix ms: entries computed before it are retired. */
  at: number;
  scope: PurgeScope;
}

/** What a record is checked against: an entry's key, tags and source tag. */
export interface EntryFacts {
  key: string;
  tags?: readonly string[] | undefined;
  sourceTag?: string | undefined;
}

export function matchesEntry(scope: PurgeScope, e: EntryFacts): boolean {
  if (scope.all) return true;
  if (scope.prefixes?.some((p) => e.key.startsWith(p))) return scope.keepSourceTag === undefined || e.sourceTag !== scope.keepSourceTag;
  return scope.tags !== undefined && e.tags !== undefined && scope.tags.some((t) => e.tags?.includes(t));
}

export function matchesOrigin(scope: PurgeScope, originKey: string): boolean {
  const o = scope.origin;
  if (!o) return false;
  return o.all === true || (o.keys?.includes(originKey) ?? false) || (o.prefixes?.some((p) => originKey.startsWith(p)) ?? false);
}

/** Whether a record of this scope could match a key-only check (in-flight computations, L1 keys). */
export function matchesKey(scope: PurgeScope, key: string): boolean {
  return scope.all === true || (scope.prefixes?.some((p) => key.startsWith(p)) ?? false);
}

export type RecordListener = (record: PurgeRecord) => void;

export interface PurgeRecords {
  /** Adds a record (once per id); listeners hear of it unless `quiet` (the caller applied it). False when it was known already. */
  add(record: PurgeRecord, opts?: { quiet?: boolean }): boolean;
  /** Listeners run for every new record, in order of arrival. */
  onRecord(listener: RecordListener): void;
  /** Whether a purge at or after `bornAt` retires this entry. */
  retires(e: EntryFacts, bornAt: number): boolean;
  /** Whether a purge at or after `bornAt` retires this origin sub-store entry. */
  retiresOrigin(originKey: string, bornAt: number): boolean;
  /**
   * Entries of key layout 1 (cache/key.ts `legacyKey`) written before this are misses: their
   * keys say nothing of their source or tags, so any purge retires every one of them.
   */
  readonly legacyFence: number;
  raiseLegacyFence(at: number): void;
  /** Records still kept (newest last). */
  recent(): readonly PurgeRecord[];
}

export function createPurgeRecords(opts: { retentionMs?: number; now?: () => number } = {}): PurgeRecords {
  const retention = opts.retentionMs ?? RETENTION_MS;
  const now = opts.now ?? Date.now;
  let records: PurgeRecord[] = [];
  const ids = new Set<string>();
  const listeners: RecordListener[] = [];
  let fence = 0;

  /** Whether a record at or after `bornAt` matches (newest last: stops at the first older one). */
  function anySince(bornAt: number, match: (r: PurgeRecord) => boolean): boolean {
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i] as PurgeRecord;
      if (r.at < bornAt) return false;
      if (match(r)) return true;
    }
    return false;
  }

  function prune(): void {
    const horizon = now() - retention;
    if (records.length === 0 || (records[0] as PurgeRecord).at >= horizon) return;
    records = records.filter((r) => r.at >= horizon || !ids.delete(r.id));
  }

  return {
    add(record, addOpts = {}) {
      prune();
      if (ids.has(record.id) || record.at < now() - retention) return false;
      ids.add(record.id);
      records.push(record);
      records.sort((a, b) => a.at - b.at);
      fence = Math.max(fence, record.at);
      if (!addOpts.quiet) for (const l of listeners) l(record);
      return true;
    },
    onRecord(listener) {
      listeners.push(listener);
    },
    retires: (e, bornAt) => anySince(bornAt, (r) => matchesEntry(r.scope, e)),
    retiresOrigin: (originKey, bornAt) => anySince(bornAt, (r) => matchesOrigin(r.scope, originKey)),
    get legacyFence() {
      return fence;
    },
    raiseLegacyFence(at) {
      fence = Math.max(fence, at);
    },
    recent: () => {
      prune();
      return records;
    },
  };
}
