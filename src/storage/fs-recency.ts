/**
 * Recency of fs entries written back to their atime off the hit path. The disk budget rebuilds
 * its LRU order from atime after a restart (src/cache/budget.ts), so reads must reach the
 * files' atime sooner or later; but a `futimes` per read was 10 % of the main thread in the
 * 100,000-entry L2-hit profile. Reads only note (file, identity, atime) here, in memory; a
 * background pass writes the notes back, one file at a time, every `intervalMs`.
 *
 * Each write-back opens the path and checks it is still the very file that was read (device,
 * inode, mtime): a file replaced meanwhile keeps its own times, and the mtime (which holds the
 * expiry) is re-set exactly as read. What can be lost: the notes of the last interval when the
 * process stops, and notes beyond `max` (dropped, oldest kept) — an LRU order slightly off
 * after a restart, never an entry.
 *
 * The write-back is bounded so that it does not grow with the store: a store of 100,000 entries
 * read at random (every file noted once per atime throttle) made ~1,700 notes a second, four
 * thread-pool calls each, next to the reads they competed with, and a graceful stop that wrote
 * back 65,536 notes one by one took longer than the grace period (the process was killed). A
 * pass writes at most `perPass` notes (the oldest; the rest wait for the next pass), and the
 * flush of a stop gives up after `flushBudgetMs`.
 *
 * Under such traffic the journal sits at `max` notes, so they are kept in typed columns (a
 * slot per note, the file name → slot in a Map), not an object per note: as objects, the
 * 65,536 notes and the boxed doubles of their four fields were ~330,000 of the ~2.5 million
 * objects the collector walked at 100,000 entries.
 */
import { constants as fsConstants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

const O_NOATIME = fsConstants.O_NOATIME ?? 0;

interface Note {
  dev: number;
  ino: number;
  /** Rounded to the ms, as the read saw it. */
  mtime: number;
  atime: number;
}

/** A note's columns: device, inode, mtime (rounded to the ms, as the read saw it), atime. */
const FIELDS = 4;
const DEV = 0;
const INO = 1;
const MTIME = 2;
const ATIME = 3;

export interface RecencyJournal {
  /** A read of `file` (described by `st`) at `atime` (Unix ms), to write back later. */
  note(file: string, st: Stats, atime: number): void;
  /** Writes back the notes now, for at most `budgetMs` when given (resolves when done; notes made meanwhile wait for the next pass). */
  flush(budgetMs?: number): Promise<void>;
  readonly pending: number;
  /** Stops the background pass (pending notes are dropped). */
  stop(): void;
}

export interface RecencyOptions {
  /** Time between two write-back passes; 0 = a pass right after each note (tests). Default 5 s. */
  intervalMs?: number;
  /** Notes kept at most (32 bytes each in columns allocated up front, and the file name). Default 65,536. */
  max?: number;
  /** Notes written back per pass at most (the oldest first). Default 500 (100 a second at the default interval). */
  perPass?: number;
}

export function createRecencyJournal(opts: RecencyOptions = {}): RecencyJournal {
  const intervalMs = opts.intervalMs ?? 5_000;
  const max = opts.max ?? 65_536;
  const perPass = opts.perPass ?? 500;
  /** File → its note's slot, oldest note first. */
  const notes = new Map<string, number>();
  const columns = new Float64Array(Math.max(0, max) * FIELDS);
  const free: number[] = [];
  let used = 0;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let flags = fsConstants.O_RDONLY | O_NOATIME;

  async function writeBack(file: string, n: Note): Promise<void> {
    let fh;
    try {
      fh = await open(file, flags);
    } catch (err) {
      // O_NOATIME is allowed to the file's owner only.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || flags === fsConstants.O_RDONLY) return;
      flags = fsConstants.O_RDONLY;
      return writeBack(file, n);
    }
    try {
      const st = await fh.stat();
      if (st.dev !== n.dev || st.ino !== n.ino || Math.round(st.mtimeMs) !== n.mtime) return;
      if (st.atimeMs >= n.atime) return;
      await fh.utimes(n.atime / 1000, st.mtimeMs / 1000);
    } catch {
      // The file went away or cannot be touched: recency is a hint, nothing to report.
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async function writeSome(limit: number, until: number): Promise<void> {
    let written = 0;
    while (notes.size > 0 && !stopped && written < limit && performance.now() < until) {
      const first = notes.entries().next();
      if (first.done) break;
      const [file, slot] = first.value;
      notes.delete(file);
      const at = slot * FIELDS;
      const n: Note = { dev: columns[at + DEV] ?? 0, ino: columns[at + INO] ?? 0, mtime: columns[at + MTIME] ?? 0, atime: columns[at + ATIME] ?? 0 };
      free.push(slot);
      await writeBack(file, n);
      written++;
    }
  }

  /**
   * Writes back up to `limit` notes, oldest first, stopping at `until` (performance.now());
   * what is left waits for the next pass. `.finally` always runs after this returns, so a pass
   * that had nothing to do cannot leave `running` set.
   */
  function pass(limit: number, until = Infinity): Promise<void> {
    running ??= writeSome(limit, until).finally(() => {
      running = null;
      if (notes.size > 0) schedule();
    });
    return running;
  }

  function schedule(): void {
    if (stopped || timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void pass(intervalMs === 0 ? Infinity : perPass);
    }, intervalMs);
    timer.unref();
  }

  return {
    note(file, st, atime) {
      if (stopped) return;
      let slot = notes.get(file);
      if (slot === undefined) {
        if (notes.size >= max) return;
        slot = free.pop() ?? used++;
        notes.set(file, slot);
        columns[slot * FIELDS + ATIME] = 0;
      }
      const at = slot * FIELDS;
      columns[at + DEV] = st.dev;
      columns[at + INO] = st.ino;
      columns[at + MTIME] = Math.round(st.mtimeMs);
      columns[at + ATIME] = Math.max(atime, columns[at + ATIME] ?? 0);
      schedule();
    },
    async flush(budgetMs) {
      const until = budgetMs === undefined ? Infinity : performance.now() + budgetMs;
      await running;
      await pass(Infinity, until);
    },
    get pending() {
      return notes.size;
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      notes.clear();
    },
  };
}
