/**
 * The atime write-back (src/storage/fs-recency.ts): a read's recency reaches the file later,
 * with its mtime (the entry's expiry) exactly as it was, and never reaches a file that replaced
 * the one read.
 */
import { mkdtemp, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRecencyJournal } from '../../../src/storage/fs-recency.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-recency-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file with atime long ago and mtime (expiry) in the future. */
async function entry(name: string, expiresAt: number): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, name);
  await utimes(file, new Date(Date.now() - 86_400_000), new Date(expiresAt));
  return file;
}

describe('recency journal', () => {
  it('writes a noted atime back on the next pass, the mtime kept to the millisecond', async () => {
    const expiresAt = Date.now() + 3_600_000;
    const file = await entry('a', expiresAt);
    const before = await stat(file);
    const journal = createRecencyJournal({ intervalMs: 60_000 });
    try {
      const now = Date.now();
      journal.note(file, before, now);
      // Not on the read path: nothing written until the pass runs.
      expect((await stat(file)).atimeMs).toBe(before.atimeMs);
      expect(journal.pending).toBe(1);
      await journal.flush();
      const after = await stat(file);
      expect(after.atimeMs).toBeGreaterThanOrEqual(now - 1);
      expect(Math.round(after.mtimeMs)).toBe(Math.round(before.mtimeMs));
      expect(journal.pending).toBe(0);
    } finally {
      journal.stop();
    }
  });

  it('leaves a file that replaced the one read alone (its own atime and expiry)', async () => {
    const file = await entry('b', Date.now() + 3_600_000);
    const read = await stat(file);
    const journal = createRecencyJournal({ intervalMs: 60_000 });
    try {
      journal.note(file, read, Date.now());
      const newer = await entry('b.new', Date.now() + 7_200_000);
      const newSt = await stat(newer);
      await rename(newer, file);
      await journal.flush();
      const after = await stat(file);
      expect(after.ino).toBe(newSt.ino);
      expect(after.atimeMs).toBe(newSt.atimeMs);
      expect(after.mtimeMs).toBe(newSt.mtimeMs);
    } finally {
      journal.stop();
    }
  });

  it('holds at most `max` notes; repeated reads of one file are one note', async () => {
    const journal = createRecencyJournal({ intervalMs: 60_000, max: 2 });
    try {
      const files = [await entry('c1', Date.now() + 1000), await entry('c2', Date.now() + 1000), await entry('c3', Date.now() + 1000)];
      for (const f of [...files, files[0] ?? '']) journal.note(f, await stat(f), Date.now());
      expect(journal.pending).toBe(2);
    } finally {
      journal.stop();
    }
  });

  it('a note whose slot held another file\'s writes back its own file\'s times; a later read of a noted file keeps the latest atime', async () => {
    const journal = createRecencyJournal({ intervalMs: 60_000, max: 1 });
    try {
      const soon = Date.now() + 3_600_000;
      const later = Date.now() + 7_200_000;
      const a = await entry('r1', soon);
      const b = await entry('r2', later);
      const t = Date.now() + 10_000;
      journal.note(a, await stat(a), t);
      journal.note(a, await stat(a), t - 5_000);
      await journal.flush();
      expect(Math.round((await stat(a)).atimeMs)).toBe(t);
      // The one slot now goes to b: b's identity and expiry, not a's.
      const bSt = await stat(b);
      journal.note(b, bSt, t + 1_000);
      await journal.flush();
      const after = await stat(b);
      expect(Math.round(after.atimeMs)).toBe(t + 1_000);
      expect(Math.round(after.mtimeMs)).toBe(Math.round(bSt.mtimeMs));
      expect(Math.round((await stat(a)).mtimeMs)).toBe(Math.round(soon));
    } finally {
      journal.stop();
    }
  });

  it('writes at most `perPass` notes a pass, the oldest first; the rest wait for the next pass', async () => {
    const journal = createRecencyJournal({ intervalMs: 300, perPass: 2 });
    try {
      const files: string[] = [];
      for (let i = 0; i < 5; i++) files.push(await entry(`p${i}`, Date.now() + 3_600_000));
      const now = Date.now() + 5_000;
      for (const f of files) journal.note(f, await stat(f), now);
      // The first pass takes the two oldest notes; the next one comes 300 ms later.
      await vi.waitFor(() => expect(journal.pending).toBe(3), { timeout: 5_000, interval: 5 });
      await vi.waitFor(async () => expect((await stat(files[1] ?? '')).atimeMs).toBeGreaterThanOrEqual(now - 1), { timeout: 5_000, interval: 5 });
      expect((await stat(files[0] ?? '')).atimeMs).toBeGreaterThanOrEqual(now - 1);
      expect((await stat(files[4] ?? '')).atimeMs).toBeLessThan(now - 1);
      // Later passes take the rest.
      await vi.waitFor(() => expect(journal.pending).toBe(0), { timeout: 5_000, interval: 5 });
      await journal.flush();
      expect((await stat(files[4] ?? '')).atimeMs).toBeGreaterThanOrEqual(now - 1);
    } finally {
      journal.stop();
    }
  });

  it('a flush with a budget stops when it is spent, leaving the rest noted', async () => {
    const journal = createRecencyJournal({ intervalMs: 60_000 });
    try {
      const f = await entry('q', Date.now() + 3_600_000);
      const st = await stat(f);
      for (let i = 0; i < 50; i++) journal.note(`${f}.${i}`, st, Date.now());
      await journal.flush(0);
      expect(journal.pending).toBe(50);
      await journal.flush();
      expect(journal.pending).toBe(0);
    } finally {
      journal.stop();
    }
  });
});
