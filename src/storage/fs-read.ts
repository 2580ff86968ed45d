/**
 * Reading fs entry files: the whole file for get() (a synchronous hot path for small files
 * this process verified recently, else open + fstat + one read on the thread pool), the
 * header only for head() and list(), and the memo of files whose checksum this process
 * already checked (or wrote).
 *
 * The memo: a file is trusted without re-hashing its body only while it is the very file that
 * was checked (same device, inode, size and mtime) and less than `reverifyAfterMs` ago. A
 * replacement (rename: new inode), a truncation or append (size) or a write in place (mtime)
 * is checked again. What goes unseen until the re-verification: a change that keeps inode,
 * size and mtime (media corruption under a remembered file, or a writer that puts the mtime
 * back); `verifiedEntries: 0` checks every read.
 *
 * The parsed header of a recently read trusted file is kept too (HEADER_MEMO_ENTRIES), under
 * the same rule: it is the header of the very file verified, so a hot file's meta JSON is not
 * parsed again on each read. Once the memo is full, a file's header joins it only if the file
 * was read again soon enough (src/hot-tier.ts): reads spread over a large store parse each
 * time, and their parsed headers die young instead of filling the old generation.
 *
 * Closing the file happens after get() resolves (release()); the throttled atime refresh is
 * noted there and written back in the background (fs-recency.ts). A hot file's descriptor is
 * kept open instead (fs-open-files.ts) when the read served it. A cold read of a file this
 * process knows (the memo holds its size) reads that many bytes alongside the fstat: two
 * thread-pool round trips in a row instead of three.
 */
import { close, closeSync, constants as fsConstants, fstat, fstatSync, open, openSync, read, readSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { bodyDigestSliced } from '../body-digest.js';
import { BODY_HEAD, DamagedEntryError, FIXED_HEAD, MAGIC, MAX_META_BYTES, type ParsedHeader, parseHeader } from './fs-format.js';
import { isNoEnt, type Location } from './fs-layout.js';
import type { OpenFiles } from './fs-open-files.js';
import { createSyncGate } from './fs-sync-gate.js';
import { createRecencyJournal, type RecencyJournal } from './fs-recency.js';
import { createVerifiedFiles, type Verified } from './fs-verified.js';
import { createHotTier } from '../hot-tier.js';
import type { BufferPool, Taken } from '../buffer-pool.js';
import type { FsBackendOptions } from './fs-types.js';
import type { BlobMeta } from './types.js';

export type { Verified } from './fs-verified.js';

/**
 * See `syncReadMaxBytes`: a file used within this long is read on the sync path. Long enough
 * that a store of 100,000 entries read at a few thousand hits per second (each file every
 * ~30 s) stays on it: with 30 s, latency grew with the entry count as files fell off the
 * sync path one by one. A file the page cache no longer holds is what the slow-read gate
 * (fs-sync-gate.ts) is for.
 */
const SYNC_HOT_MS = 5 * 60_000;
/**
 * Reads don't make the kernel update atime (we persist recency ourselves, throttled): with
 * relatime and an mtime in the future (the expiry) every read would otherwise dirty the inode,
 * a journal write that a sync read on the event loop could wait for. Allowed to the file's
 * owner only: on EPERM the store opens without it from then on. Linux only (0 elsewhere).
 */
const O_NOATIME = fsConstants.O_NOATIME ?? 0;

/**
 * What identifies one file's content for this process: a rename of another file over the path
 * changes the inode, a truncation or append the size, a write in place the mtime (which holds
 * the expiry, set by us; rounded to the ms since an atime refresh re-sets it through a double).
 */
/** An open entry file, read whole. */
export interface Loaded {
  buf: Buffer;
  /** `buf` came from the read-buffer pool (asked with `reuse`): how to give it back. */
  release: (() => void) | undefined;
  st: Stats;
  /** The path it was opened at (the recency note's target, the kept descriptor's key). */
  file: string;
  /** The descriptor read; closed (or kept open) by release() off the response path. */
  fd: number;
}

export interface EntryReader {
  /** The hot path, or undefined when it does not apply (then cold()). `reuse`: read into a pooled buffer. */
  hot(loc: Location, now: number, reuse: boolean): Loaded | undefined;
  /** open, then fstat + one read (of the remembered size, alongside; else sized from fstat); close is not awaited. Null when there is no file. */
  cold(loc: Location, reuse: boolean): Promise<Loaded | null>;
  /** The remembered verification of the very file `st` describes, still recent enough; else forgotten. */
  trusted(name: string, st: Stats, now: number): Verified | undefined;
  /**
   * The header of `buf`, the whole file of a trusted file (`v`) as read: remembered when this
   * process parsed it since the file's verification (`meta` is then shared by those reads, and
   * frozen), else parsed and remembered. Throws DamagedEntryError as parseHeader does.
   */
  header(name: string, buf: Buffer, v: Verified): EntryHeader;
  /** Checks the body against the header's checksum (throws DamagedEntryError), then remembers the file. */
  verify(name: string, loaded: Loaded, parsed: ParsedHeader, now: number): Promise<void>;
  /** This process wrote these very bytes (a put): its reads of the file need not check them. */
  remember(name: string, st: Stats, now: number): Verified | undefined;
  /** This process removed or replaced the file: its verification and any kept descriptor go. */
  forget(loc: Location): void;
  /** A use at `now`: the atime to persist (throttled), or undefined when not due yet. */
  touchDue(v: Verified | undefined, st: Stats, now: number): number | undefined;
  /**
   * Closes a loaded file without holding up the response (`served`: the read answered the
   * entry, so a hot descriptor is kept open for the next read); its atime, when due, is noted
   * for the background write-back.
   */
  release(l: Loaded, atime: number | undefined, served: boolean): void;
  /** Closes the kept descriptors (the store stops). */
  closeAll(): void;
  /** The background write-back of atimes (flushed by tests; stopped with the store). */
  readonly recency: RecencyJournal;
}

/** What get() needs of a parsed header once the body is trusted (no digest: it would keep the read's buffer alive). */
export type EntryHeader = Pick<ParsedHeader, 'meta' | 'bodyOffset'>;

/**
 * Parsed headers kept for the most recently read trusted files: a hot file's meta JSON was
 * parsed on every read (8 % of the main thread in the l2-hit profile). ~1.5 KB each: a few MB
 * at most, and a store read at random over 100,000 entries mostly parses, as before.
 */
const HEADER_MEMO_ENTRIES = 4_096;

function freezeMeta(meta: BlobMeta): BlobMeta {
  if (meta.extra !== undefined) Object.freeze(meta.extra);
  return Object.freeze(meta);
}

const noop = (): void => undefined;

/** Fills `buf` from `fd` at offset 0 (short reads continued); fewer bytes if the file turned out shorter (parseHeader then rejects it). */
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

/**
 * The cold path's calls on numeric descriptors through the callback API: one thread-pool job
 * each, without a FileHandle (its open alone was 10 % of the main thread in the l2-hit profile,
 * against 1 % for the plain open).
 */
function openAsync(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function fstatAsync(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
}

function readAt(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, off, buf.length - off, off, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Reads `size` bytes from offset 0 (short reads continued) into `taken`; fewer if the file turned out shorter. */
async function readFull(fd: number, size: number, taken: Taken): Promise<Taken> {
  const { buf } = taken;
  let off = 0;
  while (off < size) {
    const n = await readAt(fd, buf, off);
    if (n === 0) return { buf: buf.subarray(0, off), release: taken.release };
    off += n;
  }
  return taken;
}

function closeAsync(fd: number): void {
  close(fd, noop);
}

/** Reads and parses the header only (lengths checked against the file size; not the checksum). */
export async function readHeader(fh: FileHandle, size: number): Promise<ParsedHeader> {
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

/**
 * `openFiles`: the backend's kept descriptors, shared by its stores; `dir` is this store's
 * directory; `pool`: the backend's read buffers, for reads asked with `reuse`.
 */
export function createEntryReader(opts: FsBackendOptions, openFiles: OpenFiles, dir: string, pool: BufferPool): EntryReader {
  const atimeThrottleMs = opts.atimeThrottleMs ?? 60_000;
  const recency = createRecencyJournal(opts.recencyWriteBackMs !== undefined ? { intervalMs: opts.recencyWriteBackMs } : {});
  /** Files whose content this process checked (or wrote), by file name; oldest use first. */
  // ~150 bytes each (the name, its Map slot, 56 bytes of columns): 20 MB at most, and a hit on a
  // store of 100,000 entries checks each body once.
  const verified = createVerifiedFiles(opts.verifiedEntries ?? 131_072);
  /** By file name: valid while its `v` is the file's current verification (remember() makes a new one). */
  const headers = createHotTier<string, { v: Verified; header: EntryHeader }>(HEADER_MEMO_ENTRIES);
  const reverifyAfterMs = opts.reverifyAfterMs ?? 10 * 60_000;
  const syncReadMax = opts.syncReadMaxBytes ?? 256 * 1024;
  /** The store stopped: a read still in flight closes its descriptor instead of keeping it. */
  let closed = false;
  /** Off for a while when sync reads hold the loop (the page cache may not hold the hot set, or the disk is slow). */
  const syncGate = createSyncGate();
  let readFlags = fsConstants.O_RDONLY | O_NOATIME;
  const plain = (size: number): Taken => ({ buf: Buffer.allocUnsafe(size), release: undefined });
  const bufferFor = (size: number, reuse: boolean): Taken => (reuse ? pool.take(size) : plain(size));

  function openSyncForRead(file: string): number {
    try {
      return openSync(file, readFlags);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || readFlags === fsConstants.O_RDONLY) throw err;
      readFlags = fsConstants.O_RDONLY;
      return openSync(file, readFlags);
    }
  }

  async function openForRead(file: string): Promise<number> {
    try {
      return await openAsync(file, readFlags);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || readFlags === fsConstants.O_RDONLY) throw err;
      readFlags = fsConstants.O_RDONLY;
      return openAsync(file, readFlags);
    }
  }

  function remember(name: string, st: Stats, now: number): Verified | undefined {
    return verified.remember(name, st, now);
  }

  /**
   * Offers the memo the header parsed from the file `v` verified (kept until the next
   * verification makes a new `v`); `seenAt`: the memo's clock at the previous parse of it.
   */
  function keepHeader(name: string, v: Verified, parsed: ParsedHeader, seenAt: number | undefined): EntryHeader {
    const header: EntryHeader = { meta: freezeMeta(parsed.meta), bodyOffset: parsed.bodyOffset };
    verified.setHeaderSeenAt(v, headers.clock);
    headers.offer(name, { v, header }, seenAt);
    return header;
  }

  function closeQuietly(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // nothing to do
    }
  }

  return {
    /**
     * A small file this process verified and used recently is most likely in the page cache,
     * where open + fstat + read + close take ~20 µs on the event loop, against four thread-pool
     * round trips. Only the very file remembered (same identity) is read this way; anything
     * else (and any error) falls back to the async path. Slow sync reads (the page cache did
     * not have them, or the disk is slow) turn the sync path off for a while (fs-sync-gate.ts),
     * so a bad disk costs at most a few such stalls per cool-down, not one per request.
     */
    hot(loc, now, reuse) {
      if (syncReadMax <= 0 || !syncGate.open(now)) return undefined;
      const v = verified.get(loc.name);
      if (v === undefined || verified.size(v) > syncReadMax || now - verified.lastUse(v) > SYNC_HOT_MS || now - verified.verifiedAt(v) > reverifyAfterMs) return undefined;
      // Time spent in the system calls only: the buffer allocation (which may run a GC) is left out.
      let t = performance.now();
      let spent = 0;
      let fd = openFiles.take(loc.file);
      let loaded: Loaded | undefined;
      try {
        let st: Stats | undefined;
        if (fd !== undefined) {
          // A kept descriptor: still the file the path names (nlink 1) and the one verified?
          st = fstatSync(fd);
          if (st.nlink !== 1 || !verified.same(v, st)) {
            closeQuietly(fd);
            fd = undefined;
          }
        }
        if (fd === undefined) {
          fd = openSyncForRead(loc.file);
          st = fstatSync(fd);
        }
        if (st !== undefined && verified.same(v, st)) {
          const taken = bufferFor(st.size, reuse);
          spent += performance.now() - t;
          t = performance.now();
          loaded = { buf: readFullSync(fd, taken.buf), release: taken.release, st, fd, file: loc.file };
        }
      } catch {
        loaded = undefined;
      } finally {
        if (loaded === undefined && fd !== undefined) closeQuietly(fd);
        spent += performance.now() - t;
        syncGate.took(spent, now);
      }
      return loaded;
    },

    async cold(loc, reuse) {
      const v = verified.get(loc.name);
      // Read now: the record may be gone once the reads below are done.
      const size = v === undefined ? undefined : verified.size(v);
      // A kept descriptor of the file verified: fstat and the read of its size side by side.
      const kept = openFiles.take(loc.file);
      if (kept !== undefined) {
        try {
          if (v !== undefined && size !== undefined) {
            const [st, { buf, release }] = await Promise.all([fstatAsync(kept), readFull(kept, size, bufferFor(size, reuse))]);
            if (st.nlink === 1 && verified.same(v, st) && buf.length === size) return { buf, release, st, fd: kept, file: loc.file };
            release?.();
          }
        } catch {
          // read it from its path below
        }
        closeAsync(kept);
      }
      let fd: number;
      try {
        fd = await openForRead(loc.file);
      } catch (err) {
        if (isNoEnt(err)) return null;
        throw err;
      }
      try {
        if (size !== undefined) {
          // The size this process last saw: read it while fstat runs; used only if fstat agrees.
          const [st, guess] = await Promise.all([fstatAsync(fd), readFull(fd, size, bufferFor(size, reuse))]);
          if (st.size === size && guess.buf.length === size) return { ...guess, st, fd, file: loc.file };
          // Nobody saw the guess's buffer: it can go back.
          guess.release?.();
          return { ...(await readFull(fd, st.size, bufferFor(st.size, reuse))), st, fd, file: loc.file };
        }
        const st = await fstatAsync(fd);
        return { ...(await readFull(fd, st.size, bufferFor(st.size, reuse))), st, fd, file: loc.file };
      } catch (err) {
        closeAsync(fd);
        throw err;
      }
    },

    trusted(name, st, now) {
      const v = verified.get(name);
      if (v === undefined) return undefined;
      if (!verified.same(v, st) || now - verified.verifiedAt(v) > reverifyAfterMs) {
        verified.forget(name);
        return undefined;
      }
      // Most recently used last (eviction takes the first).
      verified.touch(name);
      return v;
    },

    header(name, buf, v) {
      const known = headers.get(name);
      if (known !== undefined && known.v === v && buf.length === verified.size(v)) return known.header;
      return keepHeader(name, v, parseHeader(buf, buf.length), verified.headerSeenAt(v));
    },

    async verify(name, loaded, parsed, now) {
      if (!(await bodyDigestSliced(loaded.buf.subarray(parsed.bodyOffset))).equals(parsed.digest)) throw new DamagedEntryError('checksum mismatch');
      const v = remember(name, loaded.st, now);
      // A file read for the first time joins the memo only while it has room; else at its next read.
      if (v !== undefined) keepHeader(name, v, parsed, undefined);
    },

    remember,

    recency,

    forget(loc) {
      verified.forget(loc.name);
      headers.delete(loc.name);
      openFiles.drop(loc.file);
    },

    touchDue(v, st, now) {
      // Decided from this process's own last use when it has one.
      const last = Math.max(v === undefined ? 0 : verified.lastUse(v), st.atimeMs);
      if (v !== undefined) verified.setLastUse(v, now);
      return now - last >= atimeThrottleMs ? now : undefined;
    },

    release(l, atime, served) {
      if (served && !closed && l.st.nlink === 1) openFiles.keep(l.file, l.fd);
      else closeAsync(l.fd);
      // The atime is written back later, in the background (fs-recency.ts): no futimes per hit.
      if (atime !== undefined) recency.note(l.file, l.st, atime);
    },

    closeAll() {
      closed = true;
      openFiles.dropUnder(dir);
    },
  };
}
