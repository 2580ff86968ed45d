/**
 * Whether the fs store may read a hot file on the event loop (fs-read.ts): on while sync reads
 * are fast, off for a while when they hold the loop, which is what a page cache that no longer
 * holds the hot set (or a slow disk) does. A file in the page cache is read in ~20 µs; a disk
 * read can take milliseconds, during which no other request moves.
 *
 * A slow read is not always the disk: on a loaded machine the thread is preempted in the middle
 * of one now and then (2–22 ms on the 2-core bench machine, about once in 3,000 reads, with no
 * block input at all). Counted as disk, those turned the sync path off again and again on a
 * busy server whose files were all in memory: with 30,000 entries read at random, 4 cool-downs
 * in 40 s, the last ones 4 and 8 s long, and every hit meanwhile took the thread pool (4,500
 * against 7,900 hits/s). So a slow read counts only
 * - when the process read from the block device since the previous slow read (`blockReads`:
 *   getrusage's ru_inblock, asked on slow reads only: asked on every read it cost 4.5 % of the
 *   main thread), or
 * - when slow reads are no exception (SLOW_SHARE of recent sync reads, a moving average): a
 *   file system whose misses are not block input (NFS, FUSE) makes most reads slow, a
 *   preempted thread a rare one.
 * Counted slow reads past a budget per second turn the sync path off for a cool-down.
 */

/** A sync read (allocation excluded) slower than this may be the disk. */
export const SYNC_SLOW_MS = 2;
/** Share of recent sync reads that were slow from which a slow read counts without block input. */
export const SLOW_SHARE = 0.05;
/** The share is a moving average over about this many reads. */
export const SHARE_READS = 256;
/** Slow reads counted within one second beyond this turn the sync path off. */
export const SYNC_SLOW_BUDGET_MS = 20;
/** First cool-down; doubled on each one within SYNC_COOLDOWN_MAX_MS of the previous, up to that. */
export const SYNC_COOLDOWN_MIN_MS = 1_000;
export const SYNC_COOLDOWN_MAX_MS = 60_000;

export interface SyncGate {
  /** Sync reads are allowed at `now`. */
  open(now: number): boolean;
  /** A sync read (every one, fast or slow) spent `spent` ms in its system calls, ending at `now`. */
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
  let slowShare = 0;

  return {
    open: (now) => now >= offUntil,

    took(spent, now) {
      const slow = spent > SYNC_SLOW_MS;
      slowShare += ((slow ? 1 : 0) - slowShare) / SHARE_READS;
      if (!slow) return;
      const current = blockReads();
      const fromDisk = current !== blocks;
      blocks = current;
      if (!fromDisk && slowShare < SLOW_SHARE) return;
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
