/**
 * The fs store's public types: its options, the store and backend interfaces, and what the
 * disk budget (cache/budget.ts) learns from a store, by callbacks and by the startup scan.
 * Kept apart so the fs modules (fs.ts, fs-read.ts, fs-walk.ts, fs-layout.ts) share them
 * without importing one another in a circle.
 */
import type { BufferPoolStats } from '../buffer-pool.js';
import type { BlobStore, StorageBackend } from './types.js';

export interface FsBackendOptions {
  /** fsync each entry before it is renamed into place. Default true; tests filling thousands of entries turn it off. */
  fsync?: boolean;
  /** A read refreshes the file's atime (recency, persisted for restarts) at most this often. Default 60 s. */
  atimeThrottleMs?: number;
  /** How often noted atimes are written back to the files, off the hit path (fs-recency.ts); 0 = right after each read (tests). Default 5 s. */
  recencyWriteBackMs?: number;
  /**
   * How many files this process has verified (checksum) or written itself are remembered by
   * identity (dev, inode, size, mtime): a read of the very same file skips the checksum. 0 =
   * verify every read. Default 131,072 (~32 MB when that many files are read).
   */
  verifiedEntries?: number;
  /** A remembered verification is redone after this long (bounds how long a latent media fault goes unseen). Default 10 min. */
  reverifyAfterMs?: number;
  /**
   * Files up to this size that this process verified and used in the last 5 min are read with
   * synchronous calls on the event loop (likely in the page cache: ~20 µs instead of 4
   * thread-pool round trips). When slow sync reads (> 2 ms each) add up to more than 20 ms
   * within a second, the sync path is off for 1 s, doubling up to 60 s while that keeps
   * happening: a slow disk holds the event loop ~20 ms (plus the last read) per cool-down at
   * most. 0 = never. Default 256 KiB.
   */
  syncReadMaxBytes?: number;
  /**
   * Descriptors of hot files kept open (fs-open-files.ts), for every store of the backend
   * together, read without a path lookup; each use checks it is still the file the path names.
   * 0 = none. Default 256.
   */
  openFiles?: number;
}

/**
 * What the disk budget learns from a store; every callback must not throw. Sizes are
 * allocated bytes (`st_blocks × 512`, what `du` counts), not lengths. Entry callbacks cover
 * name keys only (a hash-named file does not tell its key without reading it).
 */
export interface FsStoreObserver {
  /** Called before a new file is published, with an estimate of its size; may evict other entries to make room. */
  beforePut?(key: string, bytes: number): Promise<void> | void;
  /** A file of `bytes` was published under `key`, replacing any previous one. */
  written(key: string, bytes: number): void;
  /** The entry, `bytes` on disk, was read (a use, for LRU). */
  used(key: string, bytes: number): void;
  /** The entry's file was removed (delete, expiry, damage, foreign). */
  removed(key: string): void;
  /** A shard directory of `bytes` was created. */
  dirAdded?(path: string, bytes: number): void;
  /** A shard directory was removed (it had become empty). */
  dirRemoved?(path: string): void;
}

/** One entry as seen by `stat` alone. */
export interface FsEntryStat {
  kind: 'entry';
  key: string;
  path: string;
  /** Allocated bytes on disk (header + body, rounded up to whole blocks). */
  size: number;
  /** Last use (atime), Unix ms. */
  lastUse: number;
  /** Expiry (mtime), Unix ms; undefined when the entry never expires. */
  expiresAt: number | undefined;
}

/** One shard directory (`ab/` or `ab/cd/`) and its allocated bytes. */
export interface FsDirStat {
  kind: 'dir';
  path: string;
  size: number;
}

export interface SweepOptions {
  now?: number;
  /** Temp files younger than this (by ctime) may belong to a write in progress in a live process. Default 10 min. */
  tempGraceMs?: number;
  /** Entries handled between two yields to the event loop. Default 256. */
  batch?: number;
}

export interface SweepResult {
  expired: number;
  damaged: number;
  temps: number;
}

export interface FsBlobStore extends BlobStore {
  readonly dir: string;
  /**
   * The startup scan, by `stat` alone (never reads file contents): every name-keyed entry file
   * and every shard directory. On its way it removes temp files whose writer is gone (a crash,
   * `kill -9`) and shard directories left empty.
   */
  scan(opts?: { batch?: number }): AsyncIterable<FsEntryStat | FsDirStat>;
  /** Removes expired entries, too-short files, stale temp files and empty shard directories. */
  sweep(opts?: SweepOptions): Promise<SweepResult>;
  setObserver(observer: FsStoreObserver | null): void;
  /** Writes back the reads' recency still noted (fs-recency.ts), then stops its background pass. */
  close(): Promise<void>;
}

export interface FsBackend extends StorageBackend {
  readonly kind: 'fs';
  /** fs stores are always keyed (OpenOptions.keyed): the fs backend serves the cache only. */
  open(bucket: string, prefix?: string): FsBlobStore;
  /** The read-buffer pool its stores share (reads asked with `reuse`). */
  readBuffers(): BufferPoolStats;
}

/** What the fs modules share about one open store. */
export interface FsStoreState {
  readonly dir: string;
  readonly name: string;
  observer: FsStoreObserver | null;
  /** Temp files this process is writing now: never removed by the scan or the sweep. */
  readonly writing: Set<string>;
}
