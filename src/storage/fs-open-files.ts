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
 * This process's own removals drop the descriptor at once (drop()). A descriptor is taken out
 * of the cache while a read uses it and given back only when that read served the entry.
 *
 * The bound keeps well under the usual soft RLIMIT_NOFILE of 1,024 (sockets need the rest).
 */
import { closeSync } from 'node:fs';

export interface OpenFiles {
  /** The descriptor kept for `name`, now out of the cache (give it back with keep(), or close it). */
  take(name: string): number | undefined;
  /** Keeps `fd` for the next read of `name`; the least recently kept one is closed over the bound. */
  keep(name: string, fd: number): void;
  /** Closes the descriptor kept for `name`, if any (this process removed or replaced the file). */
  drop(name: string): void;
  closeAll(): void;
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
  /** name → fd; oldest first. */
  const fds = new Map<string, number>();
  /** After closeAll (the store stopped), a read still in flight gives its descriptor back to be closed. */
  let closed = false;
  return {
    take(name) {
      const fd = fds.get(name);
      if (fd !== undefined) fds.delete(name);
      return fd;
    },
    keep(name, fd) {
      if (max <= 0 || closed) return closeQuietly(fd);
      const known = fds.get(name);
      if (known !== undefined) {
        // Two reads of one file at once each opened it: one descriptor is enough.
        fds.delete(name);
        if (known !== fd) closeQuietly(known);
      }
      fds.set(name, fd);
      if (fds.size > max) {
        const oldest = fds.entries().next();
        if (!oldest.done) {
          fds.delete(oldest.value[0]);
          closeQuietly(oldest.value[1]);
        }
      }
    },
    drop(name) {
      const fd = fds.get(name);
      if (fd === undefined) return;
      fds.delete(name);
      closeQuietly(fd);
    },
    closeAll() {
      closed = true;
      for (const fd of fds.values()) closeQuietly(fd);
      fds.clear();
    },
    get size() {
      return fds.size;
    },
  };
}
