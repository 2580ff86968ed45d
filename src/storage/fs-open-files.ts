/**
 * Descriptors of recently read entry files kept open, a small LRU with a bounded count, so a
 * hit on a hot file is `fstat` + `pread` on the descriptor instead of open + fstat + read +
 * close: no path lookup, two system calls fewer (open and close were ~9 % of the main thread
 * in the l2-hit profile). nginx keeps an `open_file_cache` for the same reason
 * (https://nginx.org/en/docs/http/ngx_http_core_module.html#open_file_cache).
 *
 * Both read paths use them: the sync hot path, and the cold one, which then runs fstat and the
 * read side by side (one thread-pool round trip).
 *
 * A kept descriptor names an inode, not a path, so the reader checks on every use that it is
 * still the file the path names: a replacement (rename over it, this process's put or another
 * process's) or a removal (delete, eviction, purge, here or elsewhere) leaves the old inode with
 * no link, `nlink` 0, and the descriptor is closed and the path opened again; a file with more
 * than one link (a backup made with hard links) is never kept, since its `nlink` cannot tell.
 * (A file moved to another name keeps its one link and is still read through the descriptor until
 * it is dropped; nothing moves entry files: they are written as temp files and renamed into place
 * once.) This process's own removals drop the descriptor at once (drop()). A descriptor is taken out
 * of the cache while a read uses it and given back only when that read served the entry.
 *
 * One cache per fs backend, shared by its stores (results, origin sub-store, purge log) and keyed
 * by path, so the bound holds for the process's cache directory as a whole: it keeps well under
 * the usual soft RLIMIT_NOFILE of 1,024 (sockets need the rest).
 */
import { closeSync } from 'node:fs';
import { sep } from 'node:path';

export interface OpenFiles {
  /** The descriptor kept for `file`, now out of the cache (give it back with keep(), or close it). */
  take(file: string): number | undefined;
  /** Keeps `fd` for the next read of `file`; the least recently kept one is closed over the bound. */
  keep(file: string, fd: number): void;
  /** Closes the descriptor kept for `file`, if any (this process removed or replaced the file). */
  drop(file: string): void;
  /** Closes the descriptors kept for files under `dir` (a store stops). */
  dropUnder(dir: string): void;
  readonly size: number;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to do: it was ours, and it is gone either way
  }
}

export function createOpenFiles(max: number): OpenFiles {
  /** path → fd; oldest first. */
  const fds = new Map<string, number>();
  return {
    take(file) {
      const fd = fds.get(file);
      if (fd !== undefined) fds.delete(file);
      return fd;
    },
    keep(file, fd) {
      if (max <= 0) return closeQuietly(fd);
      const known = fds.get(file);
      if (known !== undefined) {
        // Two reads of one file at once each opened it: one descriptor is enough.
        fds.delete(file);
        if (known !== fd) closeQuietly(known);
      }
      fds.set(file, fd);
      if (fds.size > max) {
        const oldest = fds.entries().next();
        if (!oldest.done) {
          fds.delete(oldest.value[0]);
          closeQuietly(oldest.value[1]);
        }
      }
    },
    drop(file) {
      const fd = fds.get(file);
      if (fd === undefined) return;
      fds.delete(file);
      closeQuietly(fd);
    },
    dropUnder(dir) {
      const prefix = dir.endsWith(sep) ? dir : dir + sep;
      for (const [file, fd] of fds) {
        if (!file.startsWith(prefix)) continue;
        fds.delete(file);
        closeQuietly(fd);
      }
    },
    get size() {
      return fds.size;
    },
  };
}
