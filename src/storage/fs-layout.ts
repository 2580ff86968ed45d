/**
 * Where the fs store keeps things: key → file (`ab/cd/<key>` for a *name key*, or
 * `ab/cd/<sha256(key)>.k` for any other key), temp names and who wrote them, and the shard
 * directories, created on demand and removed as soon as they are empty.
 *
 * A name key starts with 8 hex digits and goes on in `[0-9a-z_]`: the cache's keys (a hex
 * digest, or `<source hash>_r<variant hash>`, see cache/key.ts). The shard is its first four
 * characters, so keys that share a leading hash share a directory: every variant of one source
 * sits in one `ab/cd/`, and a purge by source reads that one directory.
 *
 * Why remove empty shards: up to 65,792 directories (256 + 256²) of one block each (4 KiB on
 * ext4) would otherwise outlive their entries, and a disk budget of a few MB would be
 * outgrown by directories alone. Removing races with a put into the same shard (in this
 * process or another one sharing the directory); rmdir only ever removes an empty directory,
 * and a put that finds its shard gone creates it again (see fs.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { FsStoreState } from './fs-types.js';

/** mtime written for entries that never expire (2100-01-01): stat readers see "not expired". */
export const NO_EXPIRY_MTIME_MS = 4_102_444_800_000;
/** A name key: its own file name (no `.`, so never a hashed name or a temp). */
export const KEY_RE = /^[0-9a-f]{8}[0-9a-z_]{0,192}$/;
/** Four leading hex digits: the shard directory `ab/cd` every name key with this prefix lives in. */
export const SHARD_PREFIX_RE = /^[0-9a-f]{4}/;
/** File of an entry whose key is not a name key: sha256 of the key + `.k` (never matches KEY_RE). */
export const HASHED_RE = /^[0-9a-f]{64}\.k$/;
export const SHARD_RE = /^[0-9a-f]{2}$/;
/** `.<entry file name>.<writer pid>.<random>.tmp`. */
const TEMP_RE = /^\.[0-9a-f]{8}[0-9a-z_]{0,192}(?:\.k)?\.(\d+)\.[0-9a-z]+\.tmp$/;

export interface Location {
  /** The shard directory, `<dir>/ab/cd`. */
  shard: string;
  file: string;
  name: string;
  /** Named by a hash of the key: the observer is not told (see FsStoreObserver). */
  hashed: boolean;
}

export function fileName(key: string): string {
  return KEY_RE.test(key) ? key : `${createHash('sha256').update(key, 'utf8').digest('hex')}.k`;
}

/** `dir` is absolute and normalised (the backend resolves it); the parts are hex digits and a file name: no join() needed (it was ~2 µs a read). */
export function locate(dir: string, key: string): Location {
  const name = fileName(key);
  const shard = `${dir.endsWith(sep) ? dir : dir + sep}${name.slice(0, 2)}${sep}${name.slice(2, 4)}`;
  return { shard, file: `${shard}${sep}${name}`, name, hashed: name !== key };
}

let tempSeq = 0;

/**
 * A hidden temp name next to the entry (rename stays within one directory); it never matches
 * KEY_RE or HASHED_RE, so walks and list() can't mistake it for an entry. The writer's pid in
 * it tells a crashed writer's leftovers from a write in progress.
 */
export function tempPath(loc: Location): string {
  return join(loc.shard, `.${loc.name}.${process.pid}.${randomBytes(4).toString('hex')}${(tempSeq++).toString(36)}.tmp`);
}

export function isTemp(name: string): boolean {
  return TEMP_RE.test(name);
}

/**
 * True when the temp file's writer is certainly gone: this very process, which is not writing
 * it (a previous process that had the same pid, as a container's pid 1 does after a restart),
 * or a process that no longer exists. A process in another pid namespace sharing the directory
 * would look gone too: its write then fails (and is not reported written), nothing is torn.
 */
export function writerGone(state: FsStoreState, name: string, path: string): boolean {
  const pid = Number(TEMP_RE.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return !state.writing.has(path);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function isNoEnt(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Bytes a file or directory takes on disk, as nginx's cache manager counts them against
 * `max_size` (`ngx_file_fs_size`, https://github.com/nginx/nginx/blob/master/src/os/unix/ngx_files.h):
 * the allocated blocks, unless they are fewer than the length (holes, inline data, no block
 * count) or more than 8 blocks beyond it (XFS's speculative preallocation, released on close).
 */
export function allocated(st: Stats): number {
  const blocks = st.blocks * 512;
  return blocks > st.size && blocks < st.size + 8 * st.blksize ? blocks : st.size;
}

/** An estimate of `allocated()` for a file of `length` bytes not written yet (whole 4 KiB blocks). */
export function allocatedEstimate(length: number): number {
  return Math.ceil(length / 4096) * 4096;
}

/** Creates the shard directory of `loc` (and its parent) when missing; the budget is told of each directory created. */
export async function ensureShard(state: FsStoreState, loc: Location): Promise<void> {
  const first = await mkdir(loc.shard, { recursive: true });
  const dirAdded = state.observer?.dirAdded;
  if (first === undefined || dirAdded === undefined) return;
  const created = first === loc.shard ? [loc.shard] : [dirname(loc.shard), loc.shard];
  for (const path of created) {
    try {
      dirAdded(path, allocated(await lstat(path)));
    } catch (err) {
      if (!isNoEnt(err)) throw err;
    }
  }
}

/** Removes `path` if it is an empty directory; true when it did. */
async function removeIfEmpty(state: FsStoreState, path: string): Promise<boolean> {
  try {
    await rmdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || isNoEnt(err)) return false;
    throw err;
  }
  state.observer?.dirRemoved?.(path);
  return true;
}

/** Removes the shard directory `shard` (`<dir>/ab/cd`) if empty, then its parent `ab` if that became empty too. */
export async function pruneShard(state: FsStoreState, shard: string): Promise<void> {
  if (await removeIfEmpty(state, shard)) await removeIfEmpty(state, dirname(shard));
}

/** Removes a top-level `ab` directory that holds nothing. */
export function pruneTop(state: FsStoreState, top: string): Promise<boolean> {
  return removeIfEmpty(state, top);
}

/**
 * Unlinks an entry or temp file and prunes its shard when that left it empty; `key` (a hex key
 * whose file it was) is reported removed. False when the file was already gone.
 */
export async function removeFile(state: FsStoreState, path: string, key?: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (err) {
    if (isNoEnt(err)) return false;
    throw err;
  }
  if (key !== undefined) state.observer?.removed(key);
  await pruneShard(state, dirname(path));
  return true;
}
