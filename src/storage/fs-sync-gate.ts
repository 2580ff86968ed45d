/**
 * Whether the fs store may read a hot file on the event loop (fs-read.ts): on while sync reads
 * are fast, off for a while when they hold the loop, which is what a page cache that no longer
 * holds the hot set (or a slow disk) does. A file in the page cache is read in ~20 µs; a disk
 * read can take milliseconds, during which no other request moves.
 *
 * A slow read is not always the disk: on a loaded machine the thread is preempted in the middle
 * of one now and then (2–7 ms on the 2-core bench machine, about once in 1,000 reads). Counted
 * as disk, those turned the sync path off again and again on a busy server whose files were
 * all in memory: with 30,000 entries read at random, 4 cool-downs in 40 s, the last ones 4 and
 * 8 s long, and every hit meanwhile took the thread pool (4,500 against 6,800 hits/s). So a
 * slow read counts only when the process read from the block device since the previous slow
 * read (`blockReads`: getrusage's ru_inblock, asked on slow reads only, not on every read,
 * which cost 4.5 % of the main thread), or when it held the loop longer than SYNC_STALL_MS
 * whatever the cause (a file system whose reads are not block input: NFS, FUSE).
 */

/** A sync read (allocation excluded) slower than this may be the disk. */
export const SYNC_SLOW_MS = 2;
/** A read this slow counts without block input: the loop was held too long, whatever held it. */
export const SYNC_STALL_MS = 10;
/** Slow reads counted within one second beyond this turn the sync path off. */
export const SYNC_SLOW_BUDGET_MS = 20;
/** First cool-down; doubled on each one within SYNC_COOLDOWN_MAX_MS of the previous, up to that. */
export const SYNC_COOLDOWN_MIN_MS = 1_000;
export const SYNC_COOLDOWN_MAX_MS = 60_000;

export interface SyncGate {
  /** Sync reads are allowed at `now`. */
  open(now: number): boolean;
  /** A sync read spent `spent` ms in its system calls, ending at `now`. */
  took(spent: number, now: number): void;
}

/** `blockReads`: the process's block input operations so far (process.resourceUsage().fsRead). */
export function createSyncGate(blockReads: () => number = () => process.resourceUsage().fsRead): SyncGate {
  let offUntil = 0;
  let cooldownMs = 0;
  let lastCooldownAt = -Infinity;
  let windowStart = 0;
  let windowMs = 0;
  let blocks = blockReads();

  return {
    open: (now) => now >= offUntil,

    took(spent, now) {
      if (spent <= SYNC_SLOW_MS) return;
      const current = blockReads();
      const fromDisk = current !== blocks;
      blocks = current;
      if (!fromDisk && spent <= SYNC_STALL_MS) return;
      if (now - windowStart >= 1_000) {
        windowStart = now;
        windowMs = 0;
      }
      windowMs += spent;
      if (windowMs <= SYNC_SLOW_BUDGET_MS) return;
      windowMs = 0;
      cooldownMs = now - lastCooldownAt < SYNC_COOLDOWN_MAX_MS ? Math.min(cooldownMs * 2, SYNC_COOLDOWN_MAX_MS) : SYNC_COOLDOWN_MIN_MS;
      lastCooldownAt = now;
      offUntil = now + cooldownMs;
    },
  };
}
