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
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { BODY_HEAD, bodyDigest, DamagedEntryError, encodeEntry, FIXED_HEAD, MAGIC, MAX_META_BYTES, parseHeader } from './fs-format.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, PutMeta, StorageBackend } from './types.js';

/** mtime written for entries that never expire (2100-01-01): stat readers see "not expired". */
export const NO_EXPIRY_MTIME_MS = 4_102_444_800_000;
const KEY_RE = /^[0-9a-f]{8,128}$/;
const SHARD_RE = /^[0-9a-f]{2}$/;
const TEMP_RE = /^\.([0-9a-f]{8,128})\.[^/]*\.tmp$/;

export interface FsBackendOptions {
  /** fsync each entry before it is renamed into place. Default true; tests filling thousands of entries turn it off. */
  fsync?: boolean;
  /** A read refreshes the file's atime (recency, persisted for restarts) at most this often. Default 60 s. */
  atimeThrottleMs?: number;
}

/** What the disk budget learns from a store; every callback must not throw. */
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
  /** Stat-only walk of every entry file (never reads file contents; skips temp files). */
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

function etagMatches(header: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  const weak = (t: string): string => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || weak(t) === weak(etag));
}

function createFsStore(dir: string, opts: FsBackendOptions): FsBlobStore {
  const doFsync = opts.fsync ?? true;
  const atimeThrottleMs = opts.atimeThrottleMs ?? 60_000;
  let observer: FsStoreObserver | null = null;
  /** Temp files this process is writing now: never swept whatever their age. */
  const writing = new Set<string>();
  let tempSeq = 0;

  function pathOf(key: string): { shard: string; file: string } {
    if (!KEY_RE.test(key)) throw new Error(`fs store: key must be a lower-case hex digest, got ${JSON.stringify(key.slice(0, 80))}`);
    const shard = join(dir, key.slice(0, 2), key.slice(2, 4));
    return { shard, file: join(shard, key) };
  }

  /** Unlinks `file` only if it is still the inode we judged (a writer may have just replaced it). */
  async function removeIfSame(key: string, file: string, fh: FileHandle): Promise<void> {
    try {
      const [mine, current] = await Promise.all([fh.stat(), lstat(file)]);
      if (mine.ino !== current.ino || mine.dev !== current.dev) return;
      await unlink(file);
      observer?.removed(key);
    } catch (err) {
      if (!isNoEnt(err)) throw err;
    }
  }

  async function get(key: string, getOpts: GetOptions = {}): Promise<GetResult> {
    const { file } = pathOf(key);
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
      let parsed: ReturnType<typeof parseHeader>;
      try {
        parsed = parseHeader(buf, buf.length);
        const body = buf.subarray(parsed.bodyOffset);
        if (!bodyDigest(body).equals(parsed.digest)) throw new DamagedEntryError('checksum mismatch');
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, file, fh);
        return null;
      }
      const { meta } = parsed;
      const now = Date.now();
      if (meta.expiresAt !== undefined && meta.expiresAt <= now) {
        await removeIfSame(key, file, fh);
        return null;
      }
      // Persist recency in atime (throttled) so LRU order survives a restart; mtime keeps the expiry.
      if (now - st.atimeMs > atimeThrottleMs) await fh.utimes(now / 1000, st.mtime).catch(() => undefined);
      observer?.used(key, st.size);
      if (getOpts.ifNoneMatch !== undefined && etagMatches(getOpts.ifNoneMatch, meta.etag)) return { notModified: true, meta };
      if (getOpts.ifNoneMatch === undefined && getOpts.ifModifiedSince !== undefined && meta.lastModified !== undefined) {
        const since = Date.parse(getOpts.ifModifiedSince);
        const lm = Date.parse(meta.lastModified);
        if (Number.isFinite(since) && Number.isFinite(lm) && lm <= since) return { notModified: true, meta };
      }
      return { meta, body: Readable.from([buf.subarray(parsed.bodyOffset)]) };
    } finally {
      await fh.close();
    }
  }

  async function head(key: string): Promise<BlobMeta | null> {
    const { file } = pathOf(key);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isNoEnt(err)) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      const first = Buffer.alloc(Math.min(st.size, 64 * 1024));
      await fh.read(first, 0, first.length, 0);
      let buf = first;
      if (first.length >= FIXED_HEAD && first.subarray(0, 4).equals(MAGIC)) {
        const need = FIXED_HEAD + first.readUInt32BE(8) + BODY_HEAD;
        if (need > first.length && need <= st.size && need <= MAX_META_BYTES + FIXED_HEAD + BODY_HEAD) {
          buf = Buffer.alloc(need);
          await fh.read(buf, 0, need, 0);
        }
      }
      try {
        // Lengths are checked against the file size; the checksum is left to get().
        const { meta } = parseHeader(buf, st.size);
        if (meta.expiresAt !== undefined && meta.expiresAt <= Date.now()) return null;
        return meta;
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, file, fh);
        return null;
      }
    } finally {
      await fh.close();
    }
  }

  async function put(key: string, body: Buffer | Readable, putMeta: PutMeta): Promise<void> {
    const { shard, file } = pathOf(key);
    const data = await toBuffer(body);
    const meta: BlobMeta = {
      size: data.length,
      createdAt: Date.now(),
      ...(putMeta.contentType !== undefined ? { contentType: putMeta.contentType } : {}),
      ...(putMeta.expiresAt !== undefined ? { expiresAt: putMeta.expiresAt } : {}),
      ...(putMeta.etag !== undefined ? { etag: putMeta.etag } : {}),
      ...(putMeta.lastModified !== undefined ? { lastModified: putMeta.lastModified } : {}),
      ...(putMeta.extra !== undefined ? { extra: putMeta.extra } : {}),
    };
    const parts = encodeEntry(data, meta);
    const total = parts.reduce((n, p) => n + p.length, 0);
    await observer?.beforePut?.(key, total);

    // Hidden temp name in the same directory (rename stays within one filesystem); it never
    // matches KEY_RE, so walks and list() can't mistake it for an entry.
    const tmp = join(shard, `.${key}.${process.pid}.${randomBytes(4).toString('hex')}${(tempSeq++).toString(36)}.tmp`);
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
      observer?.written(key, total);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    } finally {
      writing.delete(tmp);
    }
  }

  async function del(key: string): Promise<void> {
    const { file } = pathOf(key);
    try {
      await unlink(file);
    } catch (err) {
      if (!isNoEnt(err)) throw err;
      return;
    }
    observer?.removed(key);
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
  async function* walk(batch: number, keyPrefix = ''): AsyncGenerator<{ name: string; path: string; shard: string }> {
    let seen = 0;
    const p1 = keyPrefix.slice(0, 2);
    const p2 = keyPrefix.slice(2, 4);
    for (const a of (await readdirOrEmpty(dir)).sort()) {
      if (!SHARD_RE.test(a) || !a.startsWith(p1)) continue;
      for (const b of (await readdirOrEmpty(join(dir, a))).sort()) {
        if (!SHARD_RE.test(b) || !b.startsWith(p2)) continue;
        const shard = join(dir, a, b);
        for (const name of await readdirOrEmpty(shard)) {
          yield { name, path: join(shard, name), shard: a + b };
          if (++seen % batch === 0) await yieldToLoop();
        }
      }
    }
  }

  async function* entries(o: { batch?: number; prefix?: string } = {}): AsyncGenerator<FsEntryStat> {
    for await (const { name, path, shard } of walk(o.batch ?? 256, o.prefix)) {
      if (!KEY_RE.test(name) || !name.startsWith(shard) || (o.prefix !== undefined && !name.startsWith(o.prefix))) continue;
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

  async function* list(prefix?: string): AsyncGenerator<ListItem> {
    const now = Date.now();
    for await (const e of entries(prefix !== undefined ? { prefix } : {})) {
      if (e.expiresAt !== undefined && e.expiresAt <= now) continue;
      yield { key: e.key, size: e.size, mtime: e.lastUse };
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
          if (now - st.ctimeMs < grace) continue;
          await unlink(path);
          res.temps++;
          continue;
        }
        if (!KEY_RE.test(name) || !name.startsWith(shard)) continue;
        const st = await lstat(path);
        if (!st.isFile()) continue;
        if (st.size < FIXED_HEAD + BODY_HEAD) {
          await unlink(path);
          observer?.removed(name);
          res.damaged++;
        } else if (st.mtimeMs < NO_EXPIRY_MTIME_MS && st.mtimeMs <= now) {
          await unlink(path);
          observer?.removed(name);
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
