/**
 * Filesystem BlobStore: one file per entry under sharded directories (`ab/cd/<key>`); this
 * module is its core, get/head/put/delete. The entry format is fs-format.ts, paths and shard
 * directories fs-layout.ts, reading and the verification memo fs-read.ts, the scan, list and
 * sweep fs-walk.ts.
 *
 * Why one file: a sidecar pair (PreviewProxy's `.bin` + `.meta`) can be seen half-written.
 * Why temp + fsync + rename: readers (and a restart after `kill -9`) see either the old file
 * or the whole new one. A damaged file (short, bad magic, wrong length or checksum) can still
 * appear after a disk fault, so every read checks the header and lengths against what was
 * read, and the body's checksum unless this process already checked (or wrote) this very
 * file (fs-read.ts); a damaged entry is a miss that gets removed.
 *
 * Every entry records its key in its header, and a read answers it only under that key
 * (./entry-key.ts): a valid file found under another entry's name (a bug, a restore, a copy
 * between machines) is removed and the read rejects with ForeignEntryError, which the cache
 * counts as an error and treats as a miss.
 *
 * Keys: a name key (8 hex digits, then `[0-9a-z_]`: what the cache uses, fs-layout.ts) names
 * its own file, `ab/cd/<key>`. Any other key (`/`, spaces, unicode, `..`, any length) is
 * stored as `ab/cd/<sha256(key)>.k`: the `.k` suffix keeps these names apart from every name
 * key, and nothing of the key reaches the path. The stat-only side (the scan, the observer)
 * covers name keys only, since a hashed name does not tell its key without reading the file:
 * the disk budget governs what the cache writes, and the sweep still removes expired and
 * damaged hash-named files.
 *
 * Validators: an entry put without an etag gets one derived from its body checksum, and
 * without lastModified the time of the put, like the object stores' own validators; the
 * etag/lastModified given at put are stored as they are and win.
 */
import type { Stats } from 'node:fs';
import { type FileHandle, link, lstat, open, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { notModified } from './common.js';
import { ForeignEntryError } from './entry-key.js';
import { bodyDigestSliced } from '../body-digest.js';
import { type BufferPool, createBufferPool } from '../buffer-pool.js';
import { DamagedEntryError, encodeEntry, parseHeader } from './fs-format.js';
import { allocated, allocatedEstimate, ensureShard, isNoEnt, locate, type Location, NO_EXPIRY_MTIME_MS, removeFile, tempPath } from './fs-layout.js';
import { createOpenFiles, type OpenFiles } from './fs-open-files.js';
import { createEntryReader, type EntryHeader, readHeader, type Verified } from './fs-read.js';
import type { FsBackend, FsBackendOptions, FsBlobStore, FsStoreState } from './fs-types.js';
import { list, scan, sweep } from './fs-walk.js';
import type { BlobMeta, GetOptions, GetResult, PutMeta } from './types.js';

export { NO_EXPIRY_MTIME_MS } from './fs-layout.js';
export { DamagedEntryError } from './fs-format.js';
export type { FsBackend, FsBackendOptions, FsBlobStore, FsDirStat, FsEntryStat, FsStoreObserver, SweepOptions, SweepResult } from './fs-types.js';

/**
 * How long a graceful stop spends writing back the recency noted since the last pass: a hint
 * for the LRU order after a restart, not worth holding a stop (Docker's default grace is 10 s)
 * with thousands of notes left.
 */
const STOP_FLUSH_MS = 1_000;

/** Attempts at creating a temp file: a concurrent removal of the (empty) shard may take it away in between. */
const TEMP_OPEN_ATTEMPTS = 4;

/**
 * Reads asked with `reuse` (the result layer's, with L1 off) take their buffer from a pool
 * (src/buffer-pool.ts) up to this size, and the pool keeps at most READ_POOL_FREE_BYTES of
 * given-back buffers: a few dozen responses in flight of the usual result sizes.
 */
const READ_POOL_MAX_SIZE = 1024 * 1024;
const READ_POOL_FREE_BYTES = 16 * 1024 * 1024;

export function createFsBackend(root: string, opts: FsBackendOptions = {}): FsBackend {
  const base = resolve(root);
  // One bound for every store of the backend (fs-open-files.ts), and one set of read buffers.
  const openFiles = createOpenFiles(opts.openFiles ?? 256);
  const pool = createBufferPool({ maxSize: READ_POOL_MAX_SIZE, maxFreeBytes: READ_POOL_FREE_BYTES });
  return {
    kind: 'fs',
    open(bucket: string, prefix = ''): FsBlobStore {
      const parts = [bucket, ...prefix.split('/')].filter((p) => p !== '' && p !== '.');
      if (parts.some((p) => p === '..')) throw new Error(`fs store: ".." is not allowed in bucket or prefix (${bucket}/${prefix})`);
      const dir = join(base, ...parts);
      if (dir !== base && !dir.startsWith(base + sep)) throw new Error(`fs store: ${dir} is outside ${base}`);
      return createFsStore(dir, opts, openFiles, pool);
    },
    readBuffers: () => pool.stats(),
  };
}

async function toBuffer(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Writes all of `parts` (a short writev continues with what remains). */
async function writeAll(fh: FileHandle, parts: Buffer[]): Promise<void> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  let written = 0;
  while (written < total) {
    const { bytesWritten } = await fh.writev(parts);
    written += bytesWritten;
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

function createFsStore(dir: string, opts: FsBackendOptions, openFiles: OpenFiles, pool: BufferPool): FsBlobStore {
  const doFsync = opts.fsync ?? true;
  const state: FsStoreState = { dir, name: `fs:${dir}`, observer: null, writing: new Set() };
  const reader = createEntryReader(opts, openFiles, dir, pool);

  /** A name key's file is reported to the observer; a hash-named one is not. */
  const observed = (loc: Location, key: string): string | undefined => (loc.hashed ? undefined : key);

  /** Removes `loc`'s file only if it is still the inode we judged (`mine`: a writer may have just replaced it). */
  async function removeIfSame(key: string, loc: Location, mine: Stats): Promise<void> {
    reader.forget(loc);
    const current = await lstat(loc.file).catch((err: unknown) => {
      if (isNoEnt(err)) return null;
      throw err;
    });
    if (current === null || mine.ino !== current.ino || mine.dev !== current.dev) return;
    await removeFile(state, loc.file, observed(loc, key));
  }

  /** The entry read under `key` records another key (or none): removed, then ForeignEntryError. */
  async function refuse(key: string, loc: Location, meta: BlobMeta, st: Stats): Promise<never> {
    await removeIfSame(key, loc, st);
    throw new ForeignEntryError(state.name, key, meta.key);
  }

  async function get(key: string, getOpts: GetOptions = {}): Promise<GetResult> {
    const loc = locate(dir, key);
    const now = Date.now();
    const reuse = getOpts.reuse === true;
    const loaded = reader.hot(loc, now, reuse) ?? (await reader.cold(loc, reuse));
    if (loaded === null) return null;
    const { buf, st } = loaded;
    let touch: number | undefined;
    let served = false;
    try {
      let parsed: EntryHeader;
      let v: Verified | undefined;
      try {
        v = reader.trusted(loc.name, st, now);
        if (v !== undefined) parsed = reader.header(loc.name, buf, v);
        else {
          // Against what was read, not st.size: a file shortened after the fstat fails the length check.
          const full = parseHeader(buf, buf.length);
          // First read of this file by this process (or it changed): check the body, then remember it.
          await reader.verify(loc.name, loaded, full, now);
          parsed = full;
        }
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, loc, st);
        return null;
      }
      const { meta } = parsed;
      if (meta.key !== key) await refuse(key, loc, meta, st);
      if (meta.expiresAt !== undefined && meta.expiresAt <= now) {
        await removeIfSame(key, loc, st);
        return null;
      }
      // Persist recency in atime (throttled) so LRU order survives a restart; mtime keeps the expiry. Not awaited.
      touch = reader.touchDue(v, st, now);
      if (!loc.hashed) state.observer?.used(key, allocated(st));
      served = true;
      if ((getOpts.ifNoneMatch !== undefined || getOpts.ifModifiedSince !== undefined) && notModified(meta, getOpts)) return { notModified: true, meta };
      const data = buf.subarray(parsed.bodyOffset);
      // The stream only for a caller that reads one (the cache takes `data`): building it was ~2 µs a hit.
      let body: Readable | undefined;
      return {
        meta,
        get body() {
          return (body ??= Readable.from([data]));
        },
        data,
        release: loaded.release,
      };
    } finally {
      reader.release(loaded, touch, served);
    }
  }

  async function head(key: string): Promise<BlobMeta | null> {
    const loc = locate(dir, key);
    let fh: FileHandle;
    try {
      fh = await open(loc.file, 'r');
    } catch (err) {
      if (isNoEnt(err)) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      let meta: BlobMeta;
      try {
        // Lengths are checked against the file size; the checksum is left to get().
        ({ meta } = await readHeader(fh, st.size));
      } catch (err) {
        if (!(err instanceof DamagedEntryError)) throw err;
        await removeIfSame(key, loc, st);
        return null;
      }
      if (meta.key !== key) await refuse(key, loc, meta, st);
      if (meta.expiresAt !== undefined && meta.expiresAt <= Date.now()) return null;
      return meta;
    } finally {
      await fh.close();
    }
  }

  /** Creates the temp file, creating the shard directory when missing (or removed meanwhile). */
  async function openTemp(loc: Location, tmp: string): Promise<FileHandle> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await open(tmp, 'wx', 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= TEMP_OPEN_ATTEMPTS) throw err;
        await ensureShard(state, loc);
      }
    }
  }

  /**
   * Writes the entry to a temp file (fsynced), then publishes it under its name: `rename`
   * replaces what is there (put), `link` fails with EEXIST when something is (putIfAbsent:
   * link(2) is the atomic create-if-absent of POSIX file systems, NFS included, where
   * O_EXCL on the final name would show a half-written file). Resolves whether it was published.
   */
  async function write(key: string, body: Buffer | Readable, putMeta: PutMeta, publish: 'replace' | 'if-absent'): Promise<boolean> {
    const loc = locate(dir, key);
    const data = await toBuffer(body);
    const digest = await bodyDigestSliced(data);
    const createdAt = Date.now();
    const meta: BlobMeta & { key: string } = {
      key,
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
    const parts = encodeEntry(data, meta, digest);
    if (!loc.hashed) await state.observer?.beforePut?.(key, allocatedEstimate(parts.reduce((n, p) => n + p.length, 0)));

    const tmp = tempPath(loc);
    state.writing.add(tmp);
    try {
      const fh = await openTemp(loc, tmp);
      let st: Stats;
      try {
        await writeAll(fh, parts);
        const now = Date.now();
        await fh.utimes(now / 1000, (meta.expiresAt ?? NO_EXPIRY_MTIME_MS) / 1000);
        // The identity (and blocks) of what we just wrote (rename keeps the inode), fetched alongside the fsync.
        [st] = await Promise.all([fh.stat(), doFsync ? fh.sync() : undefined]);
      } finally {
        await fh.close();
      }
      if (publish === 'replace') await rename(tmp, loc.file);
      else {
        try {
          await link(tmp, loc.file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw err;
        } finally {
          await unlink(tmp).catch(() => undefined);
        }
      }
      // We hashed these very bytes: our own reads of this file need not check them again (a
      // descriptor kept for the file it replaced goes).
      reader.forget(loc);
      reader.remember(loc.name, st, Date.now());
      if (!loc.hashed) state.observer?.written(key, allocated(st));
      return true;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    } finally {
      state.writing.delete(tmp);
    }
  }

  async function del(key: string): Promise<void> {
    const loc = locate(dir, key);
    reader.forget(loc);
    await removeFile(state, loc.file, observed(loc, key));
  }

  return {
    name: state.name,
    dir,
    get,
    head,
    put: async (key, body, meta) => void (await write(key, body, meta, 'replace')),
    putIfAbsent: (key, body, meta) => write(key, body, meta, 'if-absent'),
    delete: del,
    list: (prefix = '', listOpts = {}) => list(state, prefix, listOpts),
    scan: (o = {}) => scan(state, o.batch ?? 256),
    sweep: (o) => sweep(state, o),
    setObserver(o) {
      state.observer = o;
    },
    /** A graceful stop: the reads' recency noted since the last write-back reaches the files, for STOP_FLUSH_MS at most. */
    async close() {
      await reader.recency.flush(STOP_FLUSH_MS);
      reader.recency.stop();
      reader.closeAll();
    },
  };
}
