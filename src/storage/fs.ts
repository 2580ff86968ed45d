/**
 * Filesystem BlobStore: one file per entry under sharded directories (`ab/cd/<key>`).
 *
 * Each file is a small self-describing header followed by the body (fs-format.ts).
 *
 * Why one file: a sidecar pair (PreviewProxy's `.bin` + `.meta`) can be seen half-written.
 * Why temp + fsync + rename: readers (and a restart after `kill -9`) see either the old file
 * or the whole new one; a damaged file (short, bad magic, wrong length or checksum) can still
 * appear after a disk fault, so every read checks the header and lengths against what was
 * read, and the body's checksum unless this process already checked (or wrote) this very
 * file: same device, inode, size and mtime as remembered, less than `reverifyAfterMs` ago. A
 * replacement (rename: new inode), a truncation or append (size) or a write in place (mtime)
 * is checked again; a damaged entry is a miss that gets removed. What goes unseen until the
 * re-verification: a change that keeps inode, size and mtime (media corruption under a
 * remembered file, or a writer that puts the mtime back) — `verifiedEntries: 0` checks every
 * read as before.
 *
 * Reads of small hot files are synchronous (see `syncReadMaxBytes`); others take open + fstat +
 * one read on the thread pool. Closing the file and the throttled atime refresh happen after
 * get() resolves.
 *
 * The file's mtime holds the entry's expiry and its atime the last use, so a stat-only walk
 * (`entries()`) tells size, expiry and recency without reading any file: that is what the
 * cache's disk budget rebuilds its index from at startup.
 *
 * Keys: a lower-case hex digest (what the cache uses) names its own file, `ab/cd/<key>`. Any
 * other key (`/`, spaces, unicode, `..`, any length) is stored as `ab/cd/<sha256(key)>.k`,
 * `ab…` being that hash, with the original key in the header: the `.k` suffix keeps these
 * names apart from every hex key, and nothing of the key reaches the path. `list()` reads
 * headers to report original keys and body sizes (it is not on the serving path). The
 * stat-only side (`entries()`, the observer) covers hex keys only, since a hashed name does
 * not tell its key without reading the file: the disk budget governs what the cache
 * writes, and `sweep()` still removes expired and damaged hash-named files.
 *
 * Validators: an entry put without an etag gets one derived from its body checksum, and
 * without lastModified the time of the put, like the object stores' own validators; the
 * etag/lastModified given at put are stored as they are and win.
 */
import { createHash, randomBytes } from 'node:crypto';
import { close as closeCb, closeSync, constants as fsConstants, fstatSync, futimes as futimesCb, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { notModified } from './common.js';
import { BODY_HEAD, bodyDigestSliced, DamagedEntryError, encodeEntry, FIXED_HEAD, MAGIC, MAX_META_BYTES, type ParsedHeader, parseHeader } from './fs-format.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, PutMeta, StorageBackend } from './types.js';

/** mtime written for entries that never expire (2100-01-01): stat readers see "not expired". */
export const NO_EXPIRY_MTIME_MS = 4_102_444_800_000;
const KEY_RE = /^[0-9a-f]{8,128}$/;
/** File of an entry whose key is not a hex digest: sha256 of the key + `.k` (never matches KEY_RE). */
const HASHED_RE = /^[0-9a-f]{64}\.k$/;
const SHARD_RE = /^[0-9a-f]{2}$/;
const TEMP_RE = /^\.([0-9a-f]{8,128})\.[^/]*\.tmp$/;

export interface FsBackendOptions {
  /** fsync each entry before it is renamed into place. Default true; tests filling thousands of entries turn it off. */
  fsync?: boolean;
  /** A read refreshes the file's atime (recency, persisted for restarts) at most this often. Default 60 s. */
  atimeThrottleMs?: number;
  /**
   * How many files this process has verified (checksum) or written itself are remembered by
   * identity (dev, inode, size, mtime): a read of the very same file skips the checksum. 0 =
   * verify every read. Default 16,384 (~3 MB).
   */
  verifiedEntries?: number;
  /** A remembered verification is redone after this long (bounds how long a latent media fault goes unseen). Default 10 min. */
  reverifyAfterMs?: number;
  /**
   * Files up to this size that this process verified and used in the last `SYNC_HOT_MS` are
   * read with synchronous calls on the event loop (likely in the page cache: ~20 µs instead of
   * 4 thread-pool round trips). When slow sync reads (> 2 ms each) add up to more than 20 ms
   * within a second, the sync path is off for 1 s, doubling up to 60 s while that keeps
   * happening: a slow disk holds the event loop ~20 ms (plus the last read) per cool-down at
   * most. 0 = never. Default 256 KiB.
   */
  syncReadMaxBytes?: number;
}

/** See `syncReadMaxBytes`. */
const SYNC_HOT_MS = 30_000;
/**
 * Sync reads (allocation excluded) slower than SYNC_SLOW_MS count against a budget of
 * SYNC_SLOW_BUDGET_MS per second; over it, the sync path is off for a while. One slow read is
 * not enough: on the loaded bench machine a read that took 2–7 ms because the thread was
 * preempted shows up about once in 1,000 (measured), and says nothing about the disk; what
 * matters is how long the loop is held. (Telling a disk read apart with rusage `fsRead` works
 * but cost two getrusage calls per read: 4.5 % of the main thread in the l2-hit profile.)
 */
const SYNC_SLOW_MS = 2;
const SYNC_SLOW_BUDGET_MS = 20;
/** First cool-down; doubled on each slow read within `SYNC_COOLDOWN_MAX_MS` of the previous one, up to that. */
const SYNC_COOLDOWN_MIN_MS = 1_000;
const SYNC_COOLDOWN_MAX_MS = 60_000;
/**
 * Reads don't make the kernel update atime (we persist recency ourselves, throttled): with
 * relatime and an mtime in the future (the expiry) every read would otherwise dirty the inode,
 * a journal write that a sync read on the event loop could wait for. Allowed to the file's
 * owner only: on EPERM the store opens without it from then on. Linux only (0 elsewhere).
 */
const O_NOATIME = fsConstants.O_NOATIME ?? 0;

/** What the disk budget learns from a store about hex-keyed entries (see above); every callback must not throw. */
export interface FsStoreObserver {
  /** Called before a new file is published; may evict other entries to make room. */
  beforePut?(key: string, bytes: number): Promise<void> | void;
  /** A file of `bytes` (on disk) was published under `key`, replacing any previous one. */
  written(key: string, bytes: number): void;
  /** The entry, `bytes` on disk, was read (a use, for LRU). */
  used(key: string, bytes: number): void;
  /** The entry's file was removed (delete, expiry, damage). */
  removed(key: string): void;
}

/** One entry as seen by `stat` alone. */
export interface FsEntryStat {
  key: string;
  path: string;
  /** Bytes on disk (header + body). */
  size: number;
  /** Last use (atime), Unix ms. */
  lastUse: number;
  /** Expiry (mtime), Unix ms; undefined when the entry never expires. */
  expiresAt: number | undefined;
}

export interface SweepOptions {
  now?: number;
  /** Temp files younger than this (by ctime) may belong to a write in progress. Default 10 min. */
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
  /** Stat-only walk of every hex-keyed entry file (never reads file contents; skips temp and hash-named files). */
  entries(opts?: { batch?: number }): AsyncIterable<FsEntryStat>;
  /** Removes expired entries, too-short files and stale temp files left by a crash. */
  sweep(opts?: SweepOptions): Promise<SweepResult>;
  setObserver(observer: FsStoreObserver | null): void;
}

export interface FsBackend extends StorageBackend {
  readonly kind: 'fs';
  open(bucket: string, prefix?: string): FsBlobStore;
}

export function createFsBackend(root: string, opts: FsBackendOptions = {}): FsBackend {
  const base = resolve(root);
  return {
    kind: 'fs',
    open(bucket: string, prefix = ''): FsBlobStore {
      const parts = [bucket, ...prefix.split('/')].filter((p) => p !== '' && p !== '.');
      if (parts.some((p) => p === '..')) throw new Error(`fs store: ".." is not allowed in bucket or prefix (${bucket}/${prefix})`);
      const dir = join(base, ...parts);
      if (dir !== base && !dir.startsWith(base + sep)) throw new Error(`fs store: ${dir} is outside ${base}`);
      return createFsStore(dir, opts);
    },
  };
}

function isNoEnt(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

async function toBuffer(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * What identifies one file's content for this process: a rename of another file over the path
 * changes the inode, a truncation or append the size, a write in place the mtime (which holds
 * the expiry, set by us; rounded to the ms since an atime refresh re-sets it through a double).
 */
interface Verified {
  dev: number;
  ino: number;
  size: number;
  mtime: number;
  verifiedAt: number;
  /** Last use by this process (get or put), Unix ms: the atime throttle and the sync-read heuristic. */
  lastUse: number;
}

function sameFile(v: Verified, st: Stats): boolean {
  return v.ino === st.ino && v.dev === st.dev && v.size === st.size && v.mtime === Math.round(st.mtimeMs);
}

/** Fills `buf` from `fd` (short reads continued); fewer bytes if the file turned out shorter (parseHeader then rejects it). */
function readFullSync(fd: number, buf: Buffer): Buffer {
  const size = buf.length;
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) return buf.subarray(0, off);
    off += n;
  }
  return buf;
}

async function readFull(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await fh.read(buf, off, size - off, off);
    if (bytesRead === 0) return buf.subarray(0, off);
    off += bytesRead;
  }
  return buf;
}

const noop = (): void => undefined;

function hashedName(key: string): string {
  return `${createHash('sha256').update(key, 'utf8').digest('hex')}.k`;
}

/** Reads and parses the header only (lengths checked against the file size; not the checksum). */
async function readHeader(fh: FileHandle, size: number): Promise<ParsedHeader> {
  const first = Buffer.alloc(Math.min(size, 64 * 1024));
  await fh.read(first, 0, first.length, 0);
  let buf = first;
  if (first.length >= FIXED_HEAD && first.subarray(0, 4).equals(MAGIC)) {
    const need = FIXED_HEAD + first.readUInt32BE(8) + BODY_HEAD;
    if (need > first.length && need <= size && need <= MAX_META_BYTES + FIXED_HEAD + BODY_HEAD) {
      buf = Buffer.alloc(need);
      await fh.read(buf, 0, need, 0);
    }
  }
  return parseHeader(buf, size);
}

function createFsStore(dir: string, opts: FsBackendOptions): FsBlobStore {
  const doFsync = opts.fsync ?? true;
  const atimeThrottleMs = opts.atimeThrottleMs ?? 60_000;
  let observer: FsStoreObserver | null = null;
  /** Temp files this process is writing now: never swept whatever their age. */
  const writing = new Set<string>();
  let tempSeq = 0;
  /** Files whose content this process checked (or wrote), by file name; oldest use first. */
  const verified = new Map<string, Verified>();
  const maxVerified = opts.verifiedEntries ?? 16_384;
  const reverifyAfterMs = opts.reverifyAfterMs ?? 10 * 60_000;
  const syncReadMax = opts.syncReadMaxBytes ?? 256 * 1024;
  /** The sync read path is off until then (a sync read was slow: the page cache may not hold the hot set, or the disk is slow). */
  let syncOffUntil = 0;
  let syncCooldownMs = 0;
  let lastSlowSyncAt = -Infinity;
  let slowWindowStart = 0;
  let slowWindowMs = 0;
  let readFlags = fsConstants.O_RDONLY | O_NOATIME;

  function openSyncForRead(file: string): number {
    try {
      return openSync(file, readFlags);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || readFlags === fsConstants.O_RDONLY) throw err;
      readFlags = fsConstants.O_RDONLY;
      return openSync(file, readFlags);
    }
  }

  async function openForRead(file: string): Promise<FileHandle> {
    try {
      return await open(file, readFlags);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || readFlags === fsConstants.O_RDONLY) throw err;
      readFlags = fsConstants.O_RDONLY;
      return open(file, readFlags);
    }
  }

  /** Accounts a sync read of `spent` ms; turns the sync path off when slow reads held the loop too long this second. */
  function syncReadTook(spent: number, now: number): void {
    if (spent <= SYNC_SLOW_MS) return;
    if (now - slowWindowStart >= 1_000) {
      slowWindowStart = now;
      slowWindowMs = 0;
    }
    slowWindowMs += spent;
    if (slowWindowMs > SYNC_SLOW_BUDGET_MS) {
      slowWindowMs = 0;
      syncOff(now);
    }
  }

  function syncOff(now: number): void {
    syncCooldownMs = now - lastSlowSyncAt < SYNC_COOLDOWN_MAX_MS ? Math.min(syncCooldownMs * 2, SYNC_COOLDOWN_MAX_MS) : SYNC_COOLDOWN_MIN_MS;
    lastSlowSyncAt = now;
    syncOffUntil = now + syncCooldownMs;
  }

  function remember(name: string, st: Stats, now: number): void {
    if (maxVerified <= 0) return;
    verified.delete(name);
    verified.set(name, { dev: st.dev, ino: st.ino, size: st.size, mtime: Math.round(st.mtimeMs), verifiedAt: now, lastUse: now });
    if (verified.size > maxVerified) {
      const oldest = verified.keys().next();
      if (!oldest.done) verified.delete(oldest.value);
    }
  }

  /** The remembered verification of the very file `st` describes, still recent enough; else forgotten. */
  function trusted(name: string, st: Stats, now: number): Verified | undefined {
    const v = verified.get(name);
    if (v === undefined) return undefined;
    if (!sameFile(v, st) || now - v.verifiedAt > reverifyAfterMs) {
      verified.delete(name);
      return undefined;
    }
    // Most recently used last (eviction takes the first).
    verified.delete(name);
    verified.set(name, v);
    return v;
  }

  /** An open entry file, read whole. */
  interface Loaded {
    buf: Buffer;
    st: Stats;
    /** A sync-opened fd (hot path) or a FileHandle; closed by release() off the response path. */
    fd: number | FileHandle;
  }

  /**
   * Hot path: a small file this process verified and used recently is most likely in the page
   * cache, where open + fstat + read + close take ~20 µs on the event loop, against four
   * thread-pool round trips. Only the very file remembered (same identity) is read this way;
   * anything else (and any error) falls back to the async path. A slow sync read (the page
   * cache did not have it, or the disk is slow) turns the sync path off for a while, so a bad
   * disk costs at most one such stall per cool-down, not one per request.
   */
  function loadHot(loc: Location, now: number): Loaded | undefined {
    if (syncReadMax <= 0 || now < syncOffUntil) return undefined;
    const v = verified.get(loc.name);
    if (v === undefined || v.size > syncReadMax || now - v.lastUse > SYNC_HOT_MS || now - v.verifiedAt > reverifyAfterMs) return undefined;
    // Time spent in the system calls only: the buffer allocation (which may run a GC) is left out.
    let t = performance.now();
    let spent = 0;
    let fd: number;
    try {
      fd = openSyncForRead(loc.file);
    } catch {
      return undefined;
    }
    let loaded: Loaded | undefined;
    try {
      const st = fstatSync(fd);
      if (sameFile(v, st)) {
        const buf = Buffer.allocUnsafe(st.size);
        spent += performance.now() - t;
        t = performance.now();
        loaded = { buf: readFullSync(fd, buf), st, fd };
      }
    } catch {
      loaded = undefined;
    } finally {
      if (loaded === undefined) {
        try {
          closeSync(fd);
        } catch {
          // nothing to do
        }
      }
      spent += performance.now() - t;
      syncReadTook(spent, Date.now());
    }
    return loaded;
  }

  /** open + fstat + one read sized from fstat (3 thread-pool round trips; close is not awaited). */
  async function loadCold(loc: Location): Promise<Loaded | null> {
    let fh: FileHandle;
    try {
      fh = await openForRead(loc.file);
    } catch (err) {
      if (isNoEnt(err)) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      return { buf: await readFull(fh, st.size), st, fd: fh };
    } catch (err) {
      void fh.close().catch(noop);
      throw err;
    }
  }

  /** Closes a loaded file without holding up the response; first refreshes its atime (same inode) when asked. */
  function release(l: Loaded, atime: number | undefined): void {
    const { fd } = l;
    // mtime holds the expiry: re-set as read (the fingerprint compares it rounded to the ms).
    const mtime = l.st.mtimeMs / 1000;
    if (typeof fd === 'number') {
      if (atime === undefined) {
        try {
          closeSync(fd);
        } catch {
          // nothing to do
        }
      } else futimesCb(fd, atime / 1000, mtime, () => closeCb(fd, noop));
    } else if (atime === undefined) void fd.close().catch(noop);
    else
      void fd
        .utimes(atime / 1000, mtime)
        .catch(noop)
        .finally(() => fd.close().catch(noop));
  }

  interface Location {
    shard: string;
    file: string;
    name: string;
    /** Named by a hash of the key: the key is in the header, the observer is not told. */
    hashed: boolean;
  }

  function pathOf(key: string): Location {
    const hashed = !KEY_RE.test(key);
    const name = hashed ? hashedName(key) : key;
    const shard = join(dir, name.slice(0, 2), name.slice(2, 4));
    return { shard, file: join(shard, name), name, hashed };
  }

  /** A hash-named file must hold this very key (else it is another key's: a miss, left alone). */
  function holds(loc: Location, key: string, stored: string | undefined): boolean {
    return !loc.hashed || stored === key;
  }

  /** Unlinks `file` only if it is still the inode we judged (`mine`: a writer may have just replaced it). */
  async function removeIfSame(key: string, loc: Location, mine: Stats): Promise<void> {
    const { file } = loc;
    verified.delete(loc.name);
    try {
      const current = await lstat(file);
      if (mine.ino !== current.ino || mine.dev !== current.dev) return;
      await unlink(file);
      if (!loc.hashed) observer?.removed(key);
    } catch (err) {
      if (!isNoEnt(err)) throw err;
    }
  }

  async function get(key: string, getOpts: GetOptions = {}): Promise<GetResult> {
    const loc = pathOf(key);
    const now = Date.now();
    const loaded = loadHot(loc, now) ?? (await loadCold(loc));
    if (loaded === null) return null;
    const { buf, st } = loaded;
    let touch: number | undefined;
    try {
      let parsed: ParsedHeader;
      let v: Verified | undefined;
      try {
        // Against what was read, not st.size: a file shortened after the fstat fails the length check.
        parsed = parseHeader(buf, buf.length);
        v = trusted(loc.name, st, now);
        if (v === undefined) {
          // First read of this file by this process (or it changed): check the body, then remember it.
          if (!(await bodyDigestSliced(buf.subarray(parsed.bodyOffset))).equals(parsed.digest)) throw new DamagedEntryError('checksum mismatch');
          remember(loc.name, st, now);
        }
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, loc, st);
        return null;
      }
      const { meta } = parsed;
      if (!holds(loc, key, parsed.key)) return null;
      if (meta.expiresAt !== undefined && meta.expiresAt <= now) {
        await removeIfSame(key, loc, st);
        return null;
      }
      // Persist recency in atime (throttled, decided from this process's own last use when it
      // has one) so LRU order survives a restart; mtime keeps the expiry. Not awaited.
      const last = Math.max(v?.lastUse ?? 0, st.atimeMs);
      if (now - last >= atimeThrottleMs) touch = now;
      if (v !== undefined) v.lastUse = now;
      if (!loc.hashed) observer?.used(key, st.size);
      if ((getOpts.ifNoneMatch !== undefined || getOpts.ifModifiedSince !== undefined) && notModified(meta, getOpts)) return { notModified: true, meta };
      const data = buf.subarray(parsed.bodyOffset);
      return { meta, body: Readable.from([data]), data };
    } finally {
      release(loaded, touch);
    }
  }

  async function head(key: string): Promise<BlobMeta | null> {
    const loc = pathOf(key);
    let fh: FileHandle;
    try {
      fh = await open(loc.file, 'r');
    } catch (err) {
      if (isNoEnt(err)) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      try {
        // Lengths are checked against the file size; the checksum is left to get().
        const parsed = await readHeader(fh, st.size);
        const { meta } = parsed;
        if (!holds(loc, key, parsed.key)) return null;
        if (meta.expiresAt !== undefined && meta.expiresAt <= Date.now()) return null;
        return meta;
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, loc, st);
        return null;
      }
    } finally {
      await fh.close();
    }
  }

  async function put(key: string, body: Buffer | Readable, putMeta: PutMeta): Promise<void> {
    const loc = pathOf(key);
    const { shard, file, name } = loc;
    const data = await toBuffer(body);
    const digest = await bodyDigestSliced(data);
    const createdAt = Date.now();
    const meta: BlobMeta = {
      size: data.length,
      createdAt,
      ...(putMeta.contentType !== undefined ? { contentType: putMeta.contentType } : {}),
      ...(putMeta.expiresAt !== undefined ? { expiresAt: putMeta.expiresAt } : {}),
      // Validators given at put are kept as they are; otherwise our own, as object stores have.
      etag: putMeta.etag ?? `"${digest.subarray(0, 16).toString('hex')}"`,
      lastModified: putMeta.lastModified ?? new Date(createdAt).toUTCString(),
      ...(putMeta.extra !== undefined ? { extra: putMeta.extra } : {}),
      ...(putMeta.cacheControl !== undefined ? { cacheControl: putMeta.cacheControl } : {}),
      ...(putMeta.httpExpires !== undefined ? { httpExpires: putMeta.httpExpires } : {}),
    };
    const parts = encodeEntry(data, meta, { digest, ...(loc.hashed ? { key } : {}) });
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (!loc.hashed) await observer?.beforePut?.(key, total);

    // Hidden temp name in the same directory (rename stays within one filesystem); it never
    // matches KEY_RE or HASHED_RE, so walks and list() can't mistake it for an entry.
    const tmp = join(shard, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}${(tempSeq++).toString(36)}.tmp`);
    writing.add(tmp);
    try {
      let fh: FileHandle;
      try {
        fh = await open(tmp, 'wx', 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(shard, { recursive: true });
        fh = await open(tmp, 'wx', 0o644);
      }
      let st: Stats;
      try {
        let written = 0;
        while (written < total) {
          const { bytesWritten } = await fh.writev(parts);
          written += bytesWritten;
          if (written < total) {
            // Short writev: continue with what remains.
            let skip = bytesWritten;
            while (skip > 0 && parts.length > 0) {
              const p = parts[0] as Buffer;
              if (p.length <= skip) {
                skip -= p.length;
                parts.shift();
              } else {
                parts[0] = p.subarray(skip);
                skip = 0;
              }
            }
          }
        }
        const now = Date.now();
        await fh.utimes(now / 1000, (meta.expiresAt ?? NO_EXPIRY_MTIME_MS) / 1000);
        // The identity of what we just wrote (rename keeps the inode), fetched alongside the fsync.
        [st] = await Promise.all([fh.stat(), doFsync ? fh.sync() : undefined]);
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      // We hashed these very bytes: our own reads of this file need not check them again.
      remember(name, st, Date.now());
      if (!loc.hashed) observer?.written(key, total);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    } finally {
      writing.delete(tmp);
    }
  }

  async function del(key: string): Promise<void> {
    const loc = pathOf(key);
    verified.delete(loc.name);
    try {
      await unlink(loc.file);
    } catch (err) {
      if (!isNoEnt(err)) throw err;
      return;
    }
    if (!loc.hashed) observer?.removed(key);
  }

  async function readdirOrEmpty(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch (err) {
      if (isNoEnt(err)) return [];
      throw err;
    }
  }

  /** Sequential walk (one directory at a time) so a scan never crowds out serving I/O on the libuv pool. */
  async function* walk(batch: number): AsyncGenerator<{ name: string; path: string; shard: string }> {
    let seen = 0;
    for (const a of (await readdirOrEmpty(dir)).sort()) {
      if (!SHARD_RE.test(a)) continue;
      for (const b of (await readdirOrEmpty(join(dir, a))).sort()) {
        if (!SHARD_RE.test(b)) continue;
        const shard = join(dir, a, b);
        for (const name of await readdirOrEmpty(shard)) {
          yield { name, path: join(shard, name), shard: a + b };
          if (++seen % batch === 0) await yieldToLoop();
        }
      }
    }
  }

  async function* entries(o: { batch?: number } = {}): AsyncGenerator<FsEntryStat> {
    for await (const { name, path, shard } of walk(o.batch ?? 256)) {
      if (!KEY_RE.test(name) || !name.startsWith(shard)) continue;
      let st;
      try {
        st = await lstat(path);
      } catch (err) {
        if (isNoEnt(err)) continue;
        throw err;
      }
      if (!st.isFile()) continue;
      const mt = st.mtimeMs;
      yield { key: name, path, size: st.size, lastUse: st.atimeMs, expiresAt: mt >= NO_EXPIRY_MTIME_MS ? undefined : mt };
    }
  }

  /**
   * Reads headers (not bodies): the original key of a hash-named file is only there, and so
   * is the body size. Damaged, foreign and expired files are left out (get() and the sweep
   * deal with them).
   */
  async function* list(prefix = ''): AsyncGenerator<ListItem> {
    const now = Date.now();
    // Hex keys can only match a prefix that is itself a hex string; hashed names can match any.
    const hexPrefix = /^[0-9a-f]*$/.test(prefix);
    for await (const { name, path, shard } of walk(256)) {
      const hashed = HASHED_RE.test(name);
      if (!name.startsWith(shard) || !(hashed || (KEY_RE.test(name) && hexPrefix && name.startsWith(prefix)))) continue;
      const item = await listItem(path, name, hashed, prefix, now);
      if (item) yield item;
    }
  }

  /** One list() candidate, or null when it is gone, damaged, expired, foreign or out of the prefix. */
  async function listItem(path: string, name: string, hashed: boolean, prefix: string, now: number): Promise<ListItem | null> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (isNoEnt(err)) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile() || (st.mtimeMs < NO_EXPIRY_MTIME_MS && st.mtimeMs <= now)) return null;
      let parsed: ParsedHeader;
      try {
        parsed = await readHeader(fh, st.size);
      } catch (err) {
        if (err instanceof DamagedEntryError) return null;
        throw err;
      }
      const key = hashed ? parsed.key : name;
      if (key === undefined || !key.startsWith(prefix) || (hashed && hashedName(key) !== name)) return null;
      if (parsed.meta.expiresAt !== undefined && parsed.meta.expiresAt <= now) return null;
      return { key, size: parsed.meta.size, mtime: st.atimeMs };
    } finally {
      await fh.close();
    }
  }

  async function sweep(o: SweepOptions = {}): Promise<SweepResult> {
    const now = o.now ?? Date.now();
    const grace = o.tempGraceMs ?? 10 * 60_000;
    const res: SweepResult = { expired: 0, damaged: 0, temps: 0 };
    for await (const { name, path, shard } of walk(o.batch ?? 256)) {
      try {
        const tm = TEMP_RE.exec(name);
        if (tm) {
          if (writing.has(path)) continue;
          const st = await lstat(path);
          // ctime: the temp's mtime is already set to the expiry before rename. Whole ms: with
          // fine-grained timestamps ctime can be a fraction of a ms past Date.now().
          if (now - Math.floor(st.ctimeMs) < grace) continue;
          await unlink(path);
          res.temps++;
          continue;
        }
        const hashed = HASHED_RE.test(name);
        if (!(hashed || KEY_RE.test(name)) || !name.startsWith(shard)) continue;
        const st = await lstat(path);
        if (!st.isFile()) continue;
        if (st.size < FIXED_HEAD + BODY_HEAD) {
          await unlink(path);
          if (!hashed) observer?.removed(name);
          res.damaged++;
        } else if (st.mtimeMs < NO_EXPIRY_MTIME_MS && st.mtimeMs <= now) {
          await unlink(path);
          if (!hashed) observer?.removed(name);
          res.expired++;
        }
      } catch (err) {
        if (!isNoEnt(err)) throw err;
      }
    }
    return res;
  }

  return {
    name: `fs:${dir}`,
    dir,
    get,
    head,
    put,
    delete: del,
    list,
    entries,
    sweep,
    setObserver(o) {
      observer = o;
    },
  };
}

export { DamagedEntryError } from './fs-format.js';
