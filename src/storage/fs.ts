/**
 * Filesystem BlobStore: one file per entry under sharded directories (`ab/cd/<key>`).
 *
 * Each file is a small self-describing header followed by the body (fs-format.ts).
 *
 * Why one file: a sidecar pair (PreviewProxy's `.bin` + `.meta`) can be seen half-written.
 * Why temp + fsync + rename: readers (and a restart after `kill -9`) see either the old file
 * or the whole new one; a damaged file (short, bad magic, wrong length or checksum) can still
 * appear after a disk fault, so every read verifies the body before it is handed out, and a
 * damaged entry is a miss that gets removed.
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
import { type FileHandle, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { notModified } from './common.js';
import { BODY_HEAD, bodyDigest, DamagedEntryError, encodeEntry, FIXED_HEAD, MAGIC, MAX_META_BYTES, type ParsedHeader, parseHeader } from './fs-format.js';
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
}

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

  /** Unlinks `file` only if it is still the inode we judged (a writer may have just replaced it). */
  async function removeIfSame(key: string, loc: Location, fh: FileHandle): Promise<void> {
    const { file } = loc;
    try {
      const [mine, current] = await Promise.all([fh.stat(), lstat(file)]);
      if (mine.ino !== current.ino || mine.dev !== current.dev) return;
      await unlink(file);
      if (!loc.hashed) observer?.removed(key);
    } catch (err) {
      if (!isNoEnt(err)) throw err;
    }
  }

  async function get(key: string, getOpts: GetOptions = {}): Promise<GetResult> {
    const loc = pathOf(key);
    const { file } = loc;
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isNoEnt(err)) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      const buf = await fh.readFile();
      let parsed: ParsedHeader;
      try {
        parsed = parseHeader(buf, buf.length);
        const body = buf.subarray(parsed.bodyOffset);
        if (!bodyDigest(body).equals(parsed.digest)) throw new DamagedEntryError('checksum mismatch');
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, loc, fh);
        return null;
      }
      const { meta } = parsed;
      if (!holds(loc, key, parsed.key)) return null;
      const now = Date.now();
      if (meta.expiresAt !== undefined && meta.expiresAt <= now) {
        await removeIfSame(key, loc, fh);
        return null;
      }
      // Persist recency in atime (throttled) so LRU order survives a restart; mtime keeps the expiry.
      if (now - st.atimeMs > atimeThrottleMs) await fh.utimes(now / 1000, st.mtime).catch(() => undefined);
      if (!loc.hashed) observer?.used(key, st.size);
      if ((getOpts.ifNoneMatch !== undefined || getOpts.ifModifiedSince !== undefined) && notModified(meta, getOpts)) return { notModified: true, meta };
      return { meta, body: Readable.from([buf.subarray(parsed.bodyOffset)]) };
    } finally {
      await fh.close();
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
        await removeIfSame(key, loc, fh);
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
    const digest = bodyDigest(data);
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
        if (doFsync) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
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
          // ctime: the temp's mtime is already set to the expiry before rename.
          if (grace > 0 && now - st.ctimeMs < grace) continue;
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
