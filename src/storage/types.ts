/**
 * The storage contract shared by sources and the L2 cache. A backend knows bytes and
 * metadata, never images. Each backend (fs, s3, gcs, abs, swift) is one file in this folder
 * that exports a factory returning a `StorageBackend`.
 */
import type { Readable } from 'node:stream';

export interface BlobMeta {
  /** Body length in bytes. */
  size: number;
  contentType?: string;
  /** Unix ms when the entry was written. */
  createdAt: number;
  /** Unix ms after which the entry is expired; undefined = never. */
  expiresAt?: number;
  /** Validator of the stored object (the backend's own, or ours). */
  etag?: string;
  lastModified?: string;
  /** Small string map stored with the object (e.g. upstream validators, dimensions). */
  extra?: Record<string, string>;
  /**
   * The key the entry was put under, as the backend recorded it with the entry (fs: the file
   * header; object stores: the `ppkey` user metadata). Absent from objects pixproxy did not
   * write, and from entries written before keys were recorded. See `OpenOptions.keyed`.
   */
  key?: string;
  /** The object's own HTTP caching headers, when the backend keeps them (object stores do). */
  cacheControl?: string;
  /** HTTP `Expires` of the object (RFC 9111); unrelated to `expiresAt`. */
  httpExpires?: string;
  /**
   * The object's Content-Encoding when the body is handed over still encoded (S3, Azure Blob);
   * the storage source decodes it. Absent when the client library decodes it itself.
   */
  contentEncoding?: string;
}

export interface BlobEntry {
  meta: BlobMeta;
  body: Readable;
  /** The whole body, when the backend already holds it in memory (fs verifies before answering). */
  data?: Buffer;
  /**
   * Given only when the read was asked with `reuse`: the caller, holding the only reference to
   * `data`, calls it once nothing uses those bytes any more (src/buffer-pool.ts). Whoever keeps
   * or shares the bytes drops it instead; not calling it is always safe.
   */
  release?: (() => void) | undefined;
}

export interface GetOptions {
  signal?: AbortSignal;
  /** Conditional read: when the object's etag matches, resolves `{ notModified: true }`. */
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  /** A specific object version: S3 version id, GCS generation; backends without versions ignore it. */
  version?: string;
  /** The caller may hand `data` back for reuse (BlobEntry.release); backends that cannot ignore it. */
  reuse?: boolean;
}

export type GetResult = BlobEntry | { notModified: true; meta: BlobMeta } | null;

export interface PutMeta {
  contentType?: string;
  expiresAt?: number;
  lastModified?: string;
  etag?: string;
  extra?: Record<string, string>;
  cacheControl?: string;
  httpExpires?: string;
}

export interface ListItem {
  key: string;
  size: number;
  /** Unix ms of last modification/use when the backend knows it. */
  mtime?: number;
}

export interface ListOptions {
  /**
   * The caller lists name keys of its own (the cache's, cache/key.ts) to delete them: the fs
   * store then reads only the shard directory of a prefix of 4+ hex digits, by name and
   * `stat` (no header read), so `size` is the file's and a damaged or foreign file is listed
   * too. Object stores list the same either way.
   */
  keysOnly?: boolean;
}

export interface OpenOptions {
  /**
   * The store is a cache: get() and head() answer only an entry that records the very key it
   * is read under, and reject with ForeignEntryError (./entry-key.ts) for one that records
   * another key or none (copied or restored under another name, or written before keys were
   * recorded). Off for sources, which read objects that others wrote. fs stores are always keyed.
   */
  keyed?: boolean;
}

/** A bucket/container (plus optional key prefix) of one backend. */
export interface BlobStore {
  readonly name: string;
  /**
   * Resolves null when the key does not exist (or is expired: expired entries are misses).
   * A keyed store rejects with ForeignEntryError for an entry recorded under another key.
   */
  get(key: string, opts?: GetOptions): Promise<GetResult>;
  head(key: string): Promise<BlobMeta | null>;
  /** Atomic: readers see either the previous entry or the whole new one, never a part. Records `key` with it (BlobMeta.key). */
  put(key: string, body: Buffer | Readable, meta: PutMeta): Promise<void>;
  /**
   * Creates the entry only when nothing is stored under `key` (whatever lies there: expired,
   * foreign or ours), with the backend's own conditional write (fs: link(2), S3, Azure and
   * Swift: `If-None-Match: *`, GCS: `ifGenerationMatch=0`). Resolves true when this call
   * created it, false when something was there. Rejects with ConditionalWriteUnsupportedError
   * (./common.ts) when the server refuses conditional writes. For small bodies (leases).
   */
  putIfAbsent(key: string, body: Buffer, meta: PutMeta): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Deletes every key (a missing one is no error), in as few calls as the backend allows (S3
   * DeleteObjects, Swift bulk delete); absent = one delete() per key (./delete-many.ts).
   */
  deleteMany?(keys: readonly string[]): Promise<void>;
  list(prefix?: string, opts?: ListOptions): AsyncIterable<ListItem>;
}

export interface StorageBackend {
  readonly kind: 'fs' | 's3' | 'gcs' | 'abs' | 'swift';
  /** Opens a bucket/container; `prefix` is prepended to every key. */
  open(bucket: string, prefix?: string, opts?: OpenOptions): BlobStore;
  close?(): Promise<void>;
}

export function isNotModified(r: GetResult): r is { notModified: true; meta: BlobMeta } {
  return r !== null && 'notModified' in r;
}
