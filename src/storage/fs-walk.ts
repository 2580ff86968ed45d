/**
 * Walks over an fs store's directory tree: the startup scan (stat only), list() (headers only)
 * and the periodic sweep. list() and the sweep go one directory at a time, the scan
 * SCAN_PARALLEL at a time; all yield to the event loop between batches, so a walk never crowds
 * out serving I/O on the libuv pool.
 *
 * The file's mtime holds the entry's expiry and its atime the last use, so a stat-only walk
 * tells size, expiry and recency without reading any file: that is what the disk budget
 * rebuilds its index from at startup.
 */
import type { Stats } from 'node:fs';
import { lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BODY_HEAD, DamagedEntryError, FIXED_HEAD, type ParsedHeader } from './fs-format.js';
import { allocated, fileName, HASHED_RE, isNoEnt, isTemp, KEY_RE, NO_EXPIRY_MTIME_MS, pruneShard, pruneTop, removeFile, SHARD_PREFIX_RE, SHARD_RE, writerGone } from './fs-layout.js';
import { readHeader } from './fs-read.js';
import type { FsDirStat, FsEntryStat, FsStoreState, SweepOptions, SweepResult } from './fs-types.js';
import type { ListItem, ListOptions } from './types.js';

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isNoEnt(err)) return [];
    throw err;
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A shard directory `ab/cd` with the names in it, or, after its shards, a top-level `ab`. */
type WalkStep = { kind: 'shard'; path: string; shard: string; names: string[] } | { kind: 'top'; path: string; shards: number };

/**
 * `parallel`: shard directories listed at once (the startup scan's; list() and the sweep go one
 * at a time). Steps come in the same order either way.
 */
async function* walk(dir: string, batch: number, parallel = 1): AsyncGenerator<WalkStep> {
  let seen = 0;
  for (const a of (await readdirOrEmpty(dir)).sort()) {
    if (!SHARD_RE.test(a)) continue;
    const top = join(dir, a);
    const bs = (await readdirOrEmpty(top)).sort().filter((b) => SHARD_RE.test(b));
    for (let i = 0; i < bs.length; i += parallel) {
      const chunk = bs.slice(i, i + parallel);
      const lists = await Promise.all(chunk.map((b) => readdirOrEmpty(join(top, b))));
      for (const [j, b] of chunk.entries()) {
        const names = lists[j] ?? [];
        yield { kind: 'shard', path: join(top, b), shard: a + b, names };
        seen += names.length + 1;
        if (seen >= batch) {
          seen = 0;
          await yieldToLoop();
        }
      }
    }
    yield { kind: 'top', path: top, shards: bs.length };
  }
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isNoEnt(err)) return null;
    throw err;
  }
}

/** A name key's file, or a hash-named one, in its own shard (anything else is not an entry). */
function isEntryName(name: string, shard: string): boolean {
  return (KEY_RE.test(name) || HASHED_RE.test(name)) && name.startsWith(shard);
}

/**
 * Shard directories the startup scan works on at once, each one file after another: at most
 * this many stat calls in flight. One at a time, the scan of a 100,000-entry store on a busy
 * server (~230,000 calls, each waiting for its turn of the event loop) ran for minutes, and the
 * disk budget's index with it; 16 still leave most of the thread pool to serving reads.
 */
export const SCAN_PARALLEL = 16;

/** See FsBlobStore.scan. */
export async function* scan(state: FsStoreState, batch: number): AsyncGenerator<FsEntryStat | FsDirStat> {
  let chunk: WalkStep[] = [];
  const flush = async (): Promise<Array<FsEntryStat | FsDirStat>> => {
    const out = await Promise.all(chunk.map((step) => scanStep(state, step)));
    chunk = [];
    return out.flat();
  };
  for await (const step of walk(state.dir, batch, SCAN_PARALLEL)) {
    if (step.kind === 'top') {
      // A top-level directory is judged after its shards are done (they may have removed it).
      yield* await flush();
      yield* await scanStep(state, step);
      continue;
    }
    chunk.push(step);
    if (chunk.length >= SCAN_PARALLEL) yield* await flush();
  }
  yield* await flush();
}

/** What one walk step tells the scan, in walk order (shards and tops are independent directories). */
async function scanStep(state: FsStoreState, step: WalkStep): Promise<Array<FsEntryStat | FsDirStat>> {
  const out: Array<FsEntryStat | FsDirStat> = [];
  if (step.kind === 'top') {
    if (step.shards === 0 && (await pruneTop(state, step.path))) return out;
    const st = await lstatOrNull(step.path);
    if (st) out.push({ kind: 'dir', path: step.path, size: allocated(st) });
    return out;
  }
  let left = step.names.length;
  for (const name of step.names) {
    const path = join(step.path, name);
    if (isTemp(name)) {
      if (writerGone(state, name, path) && (await removeFile(state, path))) left--;
      continue;
    }
    if (!KEY_RE.test(name) || !name.startsWith(step.shard)) continue;
    const st = await lstatOrNull(path);
    if (!st?.isFile()) continue;
    const mt = st.mtimeMs;
    out.push({ kind: 'entry', key: name, path, size: allocated(st), lastUse: st.atimeMs, expiresAt: mt >= NO_EXPIRY_MTIME_MS ? undefined : mt });
  }
  if (left === 0) {
    await pruneShard(state, step.path);
    return out;
  }
  const st = await lstatOrNull(step.path);
  if (st) out.push({ kind: 'dir', path: step.path, size: allocated(st) });
  return out;
}

/**
 * Reads headers (not bodies): the original key of a hash-named file is only there, and so
 * is the body size. Damaged, foreign and expired files are left out (get() and the sweep
 * deal with them). With `keysOnly` and a prefix of 4+ hex digits, only that prefix's shard
 * directory is read, by name and stat (ListOptions.keysOnly).
 */
export async function* list(state: FsStoreState, prefix: string, opts: ListOptions = {}, batch = 256): AsyncGenerator<ListItem> {
  if (opts.keysOnly && SHARD_PREFIX_RE.test(prefix)) {
    yield* listShard(state, prefix);
    return;
  }
  const now = Date.now();
  for await (const step of walk(state.dir, batch)) {
    if (step.kind === 'top') continue;
    for (const name of step.names) {
      if (!isEntryName(name, step.shard)) continue;
      // A name key's file tells its key; a hashed name can hold any key (read its header).
      if (KEY_RE.test(name) && !name.startsWith(prefix)) continue;
      const item = await listItem(join(step.path, name), name, prefix, now);
      if (item) yield item;
    }
  }
}

/** The name keys under `prefix` (4+ hex digits) in its one shard directory, by stat; expired files are left out. */
async function* listShard(state: FsStoreState, prefix: string): AsyncGenerator<ListItem> {
  const shard = join(state.dir, prefix.slice(0, 2), prefix.slice(2, 4));
  const now = Date.now();
  for (const name of (await readdirOrEmpty(shard)).sort()) {
    if (!KEY_RE.test(name) || !name.startsWith(prefix)) continue;
    const st = await lstatOrNull(join(shard, name));
    if (!st?.isFile() || (st.mtimeMs < NO_EXPIRY_MTIME_MS && st.mtimeMs <= now)) continue;
    yield { key: name, size: st.size, mtime: st.atimeMs };
  }
}

/** One list() candidate, or null when it is gone, damaged, expired, foreign or out of the prefix. */
async function listItem(path: string, name: string, prefix: string, now: number): Promise<ListItem | null> {
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
    const { key, expiresAt, size } = parsed.meta;
    if (key === undefined || !key.startsWith(prefix) || fileName(key) !== name) return null;
    if (expiresAt !== undefined && expiresAt <= now) return null;
    return { key, size, mtime: st.atimeMs };
  } finally {
    await fh.close();
  }
}

/** See FsBlobStore.sweep. */
export async function sweep(state: FsStoreState, o: SweepOptions = {}): Promise<SweepResult> {
  const now = o.now ?? Date.now();
  const grace = o.tempGraceMs ?? 10 * 60_000;
  const res: SweepResult = { expired: 0, damaged: 0, temps: 0 };
  for await (const step of walk(state.dir, o.batch ?? 256)) {
    if (step.kind === 'top') {
      if (step.shards === 0) await pruneTop(state, step.path);
      continue;
    }
    let left = step.names.length;
    for (const name of step.names) {
      const path = join(step.path, name);
      if (isTemp(name)) {
        if (state.writing.has(path)) continue;
        const st = await lstatOrNull(path);
        // ctime: the temp's mtime is already set to the expiry before rename. Whole ms: with
        // fine-grained timestamps ctime can be a fraction of a ms past Date.now().
        if (st === null || (now - Math.floor(st.ctimeMs) < grace && !writerGone(state, name, path))) continue;
        if (await removeFile(state, path)) {
          res.temps++;
          left--;
        }
        continue;
      }
      if (!isEntryName(name, step.shard)) continue;
      const st = await lstatOrNull(path);
      if (!st?.isFile()) continue;
      const damaged = st.size < FIXED_HEAD + BODY_HEAD;
      if (!damaged && (st.mtimeMs >= NO_EXPIRY_MTIME_MS || st.mtimeMs > now)) continue;
      if (await removeFile(state, path, KEY_RE.test(name) ? name : undefined)) {
        res[damaged ? 'damaged' : 'expired']++;
        left--;
      }
    }
    if (left === 0) await pruneShard(state, step.path);
  }
  return res;
}
