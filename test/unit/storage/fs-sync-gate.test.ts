import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncGate, SHARE_READS, SLOW_SHARE, SYNC_COOLDOWN_MAX_MS, SYNC_COOLDOWN_MIN_MS, SYNC_SLOW_BUDGET_MS } from '../../../src/storage/fs-sync-gate.js';

/** A gate whose block-input counter the test moves. */
function gate() {
  let blocks = 0;
  const g = createSyncGate(() => blocks);
  return { g, disk: (n = 1) => void (blocks += n) };
}

describe('fs sync-read gate', () => {
  it('stays open for rare slow reads without block input (a preempted thread), however long', () => {
    const { g } = gate();
    // One read in 100 held 30 ms, for 20 s: 6 s of slow reads, none of them the disk.
    for (let i = 0; i < 100_000; i++) g.took(i % 100 === 0 ? 30 : 0.02, i / 5);
    expect(g.open(20_000)).toBe(true);
  });

  it('closes when most reads are slow without block input (a network file system)', () => {
    const { g } = gate();
    let now = 1_000;
    let reads = 0;
    while (g.open(now) && reads < 1_000) {
      g.took(3, now);
      now += 3;
      reads++;
    }
    expect(g.open(now)).toBe(false);
    // The share passes SLOW_SHARE after a dozen reads; then the budget's 20 ms: about 20 reads of 3 ms held the loop.
    expect(reads).toBeLessThan(Math.ceil(SLOW_SHARE * SHARE_READS) + SYNC_SLOW_BUDGET_MS / 3 + 2);
  });

  it('closes for the first cool-down when slow reads from the disk pass the budget within a second, then reopens', () => {
    const { g, disk } = gate();
    let now = 10_000;
    let spent = 0;
    while (spent <= SYNC_SLOW_BUDGET_MS) {
      disk();
      g.took(3, now);
      spent += 3;
      now += 5;
    }
    expect(g.open(now)).toBe(false);
    expect(g.open(now - 5 + SYNC_COOLDOWN_MIN_MS - 1)).toBe(false);
    expect(g.open(now - 5 + SYNC_COOLDOWN_MIN_MS)).toBe(true);
  });

  it('counts a slow read only when block input happened since the previous slow read', () => {
    const { g, disk } = gate();
    disk();
    // One read from the disk, then preempted ones among fast reads: the budget is not reached.
    for (let i = 0; i < 2_000; i++) g.took(i % 100 === 0 ? 15 : 0.02, 1_000 + i / 10);
    expect(g.open(1_200)).toBe(true);
    // Block input again: the next slow reads count.
    disk();
    g.took(15, 1_300);
    disk();
    g.took(15, 1_301);
    expect(g.open(1_302)).toBe(false);
  });

  it('fast reads never count, and the budget is per second', () => {
    const { g, disk } = gate();
    for (let i = 0; i < 1_000; i++) g.took(2, i);
    expect(g.open(1_000)).toBe(true);
    // 15 ms of disk reads per second for 5 seconds: under the budget of each second.
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 5; i++) {
        disk();
        g.took(3, 2_000 + s * 1_000 + i * 100);
      }
    }
    expect(g.open(7_000)).toBe(true);
  });

  it('doubles the cool-down when the disk stays slow, up to the maximum, and starts over after a quiet spell', () => {
    const { g, disk } = gate();
    const trip = (at: number): number => {
      disk();
      g.took(SYNC_SLOW_BUDGET_MS + 1, at);
      let until = at;
      while (!g.open(until)) until += 100;
      return until - at;
    };
    let at = 100_000;
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      const off = trip(at);
      seen.push(off);
      at += off + 1_000;
    }
    expect(seen.slice(0, 4)).toEqual([SYNC_COOLDOWN_MIN_MS, 2 * SYNC_COOLDOWN_MIN_MS, 4 * SYNC_COOLDOWN_MIN_MS, 8 * SYNC_COOLDOWN_MIN_MS]);
    expect(Math.max(...seen)).toBe(SYNC_COOLDOWN_MAX_MS);
    expect(trip(at + 2 * SYNC_COOLDOWN_MAX_MS)).toBe(SYNC_COOLDOWN_MIN_MS);
  });

  describe('the default counter', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pixproxy-gate-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('is block input: a page-cache read adds none, so slow reads around it do not count', () => {
      const file = join(dir, 'f');
      writeFileSync(file, Buffer.alloc(1 << 20, 1));
      readFileSync(file);
      const g = createSyncGate();
      const before = process.resourceUsage().fsRead;
      const fd = openSync(file, 'r');
      try {
        readSync(fd, Buffer.alloc(1 << 20), 0, 1 << 20, 0);
      } finally {
        closeSync(fd);
      }
      // Read from the disk, the MiB would be 2,048 blocks of 512 bytes.
      expect(process.resourceUsage().fsRead - before).toBeLessThan(256);
      // Preempted reads (slow, rare) around a page-cache read: the real counter has not moved, so none counts.
      for (let i = 0; i < 3; i++) g.took(SYNC_SLOW_BUDGET_MS, 1_000 + i);
      expect(g.open(1_003)).toBe(true);
    });
  });
});
