/**
 * The fs store's record of the files it checked (src/storage/fs-verified.ts): typed columns
 * behind handles that die with their record, least recently used out first.
 */
import type { Stats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createVerifiedFiles } from '../../../src/storage/fs-verified.js';

/** The fields of a Stats the record reads (an inode and an mtime past 2^31, as on a real disk). */
const stat = (ino: number, size = 100, mtimeMs = 1_780_000_000_123.4, dev = 2049): Stats => ({ ino, size, mtimeMs, dev }) as Stats;

describe('verified files', () => {
  it('remembers a file: its size, when, its last use; the very file only is the same', () => {
    const files = createVerifiedFiles(4);
    const st = stat(3_000_000_001);
    const v = files.remember('a', st, 1_000) as number;
    expect(files.get('a')).toBe(v);
    expect([files.size(v), files.verifiedAt(v), files.lastUse(v), files.headerSeenAt(v)]).toEqual([100, 1_000, 1_000, undefined]);
    expect(files.same(v, st)).toBe(true);
    expect(files.same(v, stat(3_000_000_001, 100, 1_780_000_000_123.2))).toBe(true);
    expect(files.same(v, stat(3_000_000_002))).toBe(false);
    expect(files.same(v, stat(3_000_000_001, 101))).toBe(false);
    expect(files.same(v, stat(3_000_000_001, 100, 1_780_000_001_000))).toBe(false);
    expect(files.same(v, stat(3_000_000_001, 100, 1_780_000_000_123.4, 2050))).toBe(false);
    files.setLastUse(v, 2_000);
    files.setHeaderSeenAt(v, 7);
    expect([files.lastUse(v), files.headerSeenAt(v)]).toEqual([2_000, 7]);
  });

  it('a handle dies with its record: forgotten, replaced, or its slot taken by another file', () => {
    const files = createVerifiedFiles(2);
    const a = files.remember('a', stat(1), 1) as number;
    files.forget('a');
    expect(files.get('a')).toBeUndefined();
    expect(files.valid(a)).toBe(false);
    // The slot goes to b: a's old handle reads and writes nothing of b's.
    const b = files.remember('b', stat(2, 555), 2) as number;
    expect(files.valid(b)).toBe(true);
    expect(files.same(a, stat(2, 555))).toBe(false);
    expect(Number.isNaN(files.size(a))).toBe(true);
    files.setLastUse(a, 99);
    expect(files.lastUse(b)).toBe(2);
    const b2 = files.remember('b', stat(2, 556), 3) as number;
    expect(b2).not.toBe(b);
    expect(files.valid(b)).toBe(false);
    expect(files.size(b2)).toBe(556);
    expect(files.entries).toBe(1);
  });

  it('holds at most max records, the least recently used out first (touch makes one the most recent)', () => {
    const files = createVerifiedFiles(3);
    for (const [i, name] of ['a', 'b', 'c'].entries()) files.remember(name, stat(i + 1), i);
    files.touch('a');
    files.remember('d', stat(4), 4);
    expect(['a', 'b', 'c', 'd'].map((n) => files.get(n) !== undefined)).toEqual([true, false, true, true]);
    files.remember('e', stat(5), 5);
    expect(['a', 'c', 'd', 'e'].map((n) => files.get(n) !== undefined)).toEqual([true, false, true, true]);
    expect(files.entries).toBe(3);
    for (const n of ['a', 'd', 'e']) expect(files.size(files.get(n) as number)).toBe(100);
  });

  it('max 0 remembers nothing (every read is checked)', () => {
    const files = createVerifiedFiles(0);
    expect(files.remember('a', stat(1), 1)).toBeUndefined();
    expect(files.get('a')).toBeUndefined();
    expect(files.valid(0)).toBe(false);
  });
});
