/**
 * fs BlobStore: one self-verifying file per entry, atomic publish, damaged entries are
 * misses that get removed, expiry in meta (and mtime), temp files never listed, sweep.
 */
import { lstat, readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../../src/cache/util.js';
import { createFsBackend, NO_EXPIRY_MTIME_MS, type FsBlobStore } from '../../../src/storage/fs.js';
import { isNotModified } from '../../../src/storage/types.js';
import { bodyFor, collect, hexKey, makeTempDir } from '../cache/helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let store: FsBlobStore;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('pixproxy-fs-'));
  store = createFsBackend(dir, { fsync: false }).open('');
});
afterEach(async () => cleanup());

async function getBody(key: string): Promise<Buffer | null> {
  const r = await store.get(key);
  if (r === null || isNotModified(r)) return null;
  return readAll(r.body);
}

function pathOf(key: string): string {
  return join(store.dir, key.slice(0, 2), key.slice(2, 4), key);
}

describe('fs store layout and round trip', () => {
  it('stores one file per entry at <root>/<bucket>/<prefix>/ab/cd/<key> and reads it back byte-identical with its meta', async () => {
    const s = createFsBackend(dir).open('bkt', 'pre/fix');
    const key = hexKey('a');
    const body = bodyFor(1, 5000);
    await s.put(key, body, { contentType: 'image/webp', etag: '"e1"', expiresAt: Date.now() + 60_000, extra: { w: '10' } });
    const file = join(dir, 'bkt', 'pre', 'fix', key.slice(0, 2), key.slice(2, 4), key);
    const files = await readdir(join(dir, 'bkt', 'pre', 'fix', key.slice(0, 2), key.slice(2, 4)));
    expect(files).toEqual([key]);
    expect((await stat(file)).size).toBeGreaterThan(body.length);
    const r = await s.get(key);
    expect(r).not.toBeNull();
    if (r === null || isNotModified(r)) throw new Error('unreachable');
    expect((await readAll(r.body)).equals(body)).toBe(true);
    expect(r.meta).toMatchObject({ size: 5000, contentType: 'image/webp', etag: '"e1"', extra: { w: '10' } });
    expect(await s.head(key)).toMatchObject({ size: 5000, etag: '"e1"' });
  });

  it('rejects keys that are not hex digests (no path traversal through keys)', async () => {
    await expect(store.put('../../etc/passwd', Buffer.from('x'), {})).rejects.toThrow(/hex digest/);
    expect(() => createFsBackend(dir).open('..', 'x')).toThrow();
  });

  it('a missing key is a miss, delete is idempotent', async () => {
    expect(await store.get(hexKey('nope'))).toBeNull();
    const key = hexKey('d');
    await store.put(key, Buffer.from('abc'), {});
    await store.delete(key);
    await store.delete(key);
    expect(await store.get(key)).toBeNull();
  });

  it('conditional get: matching If-None-Match → notModified', async () => {
    const key = hexKey('cond');
    await store.put(key, Buffer.from('abc'), { etag: '"x"' });
    expect(isNotModified(await store.get(key, { ifNoneMatch: '"x"' }))).toBe(true);
    expect(isNotModified(await store.get(key, { ifNoneMatch: '"y"' }))).toBe(false);
  });
});

describe('expiry', () => {
  it('an entry whose meta.expiresAt has passed is a miss and is removed; expiry is mirrored in mtime for stat-only readers', async () => {
    const key = hexKey('exp');
    const expiresAt = Date.now() + 200;
    await store.put(key, Buffer.from('soon gone'), { expiresAt });
    expect(Math.abs((await stat(pathOf(key))).mtimeMs - expiresAt)).toBeLessThan(5);
    expect(await getBody(key)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 250));
    expect(await store.get(key)).toBeNull();
    await expect(lstat(pathOf(key))).rejects.toThrow(/ENOENT/);
  });

  it('an entry without expiry gets the far-future mtime sentinel', async () => {
    const key = hexKey('forever');
    await store.put(key, Buffer.from('x'), {});
    expect((await stat(pathOf(key))).mtimeMs).toBe(NO_EXPIRY_MTIME_MS);
    const [e] = await collect(store.entries());
    expect(e?.expiresAt).toBeUndefined();
  });

  it('a read refreshes atime (recency persisted for restarts) and keeps mtime (expiry)', async () => {
    const s = createFsBackend(dir, { fsync: false, atimeThrottleMs: 0 }).open('r');
    const key = hexKey('atime');
    const expiresAt = Date.now() + 3_600_000;
    await s.put(key, Buffer.from('x'), { expiresAt });
    const file = join(s.dir, key.slice(0, 2), key.slice(2, 4), key);
    await utimes(file, new Date(1_000_000_000_000), new Date(expiresAt));
    await s.get(key);
    const st = await stat(file);
    expect(st.atimeMs).toBeGreaterThan(Date.now() - 10_000);
    expect(Math.abs(st.mtimeMs - expiresAt)).toBeLessThan(5);
  });
});

describe('damaged entries are misses and get removed', () => {
  const cases: Array<[string, (file: string, size: number) => Promise<void>]> = [
    ['truncated body', async (f, size) => truncate(f, size - 10)],
    ['truncated inside the header', async (f) => truncate(f, 20)],
    ['zero-byte file (Next.js #93757 poison)', async (f) => truncate(f, 0)],
    [
      'flipped body byte (checksum mismatch)',
      async (f) => {
        const b = await readFile(f);
        b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0xff;
        await writeFile(f, b);
      },
    ],
    [
      'bad magic',
      async (f) => {
        const b = await readFile(f);
        b[0] = 0x41;
        await writeFile(f, b);
      },
    ],
    [
      'extra trailing bytes (length mismatch)',
      async (f) => {
        const b = await readFile(f);
        await writeFile(f, Buffer.concat([b, Buffer.from('junk')]));
      },
    ],
  ];
  for (const [name, damage] of cases) {
    it(name, async () => {
      const key = hexKey(name);
      await store.put(key, bodyFor(7, 4096), { contentType: 'image/png' });
      const file = pathOf(key);
      await damage(file, (await stat(file)).size);
      expect(await store.get(key)).toBeNull();
      await expect(lstat(file)).rejects.toThrow(/ENOENT/);
    });
  }

  it('head() on a short file is a miss too', async () => {
    const key = hexKey('head-short');
    await store.put(key, bodyFor(8, 1000), {});
    await truncate(pathOf(key), 500);
    expect(await store.head(key)).toBeNull();
  });
});

describe('temp files and the sweep', () => {
  it('stale temp names are never listed as entries; the sweep removes them and expired entries, keeps live ones', async () => {
    const live = hexKey('live');
    const dead = hexKey('dead');
    await store.put(live, Buffer.from('live'), { expiresAt: Date.now() + 60_000 });
    await store.put(dead, Buffer.from('dead'), { expiresAt: Date.now() + 60_000 });
    // Make `dead` expired in its mtime (what a stat-only sweep sees).
    await utimes(pathOf(dead), new Date(), new Date(Date.now() - 1000));
    // A temp left by a crashed writer, in the same shard directory as `live`.
    const temp = join(store.dir, live.slice(0, 2), live.slice(2, 4), `.${live}.999.deadbeef.tmp`);
    await writeFile(temp, Buffer.from('partial'));
    const listed = (await collect(store.list())).map((i) => i.key);
    expect(listed).toEqual([live]);
    // A fresh temp may belong to a write in progress: the default grace keeps it.
    expect(await store.sweep()).toEqual({ expired: 1, damaged: 0, temps: 0 });
    expect(await store.sweep({ tempGraceMs: 0 })).toEqual({ expired: 0, damaged: 0, temps: 1 });
    await expect(lstat(temp)).rejects.toThrow(/ENOENT/);
    await expect(lstat(pathOf(dead))).rejects.toThrow(/ENOENT/);
    expect(await getBody(live)).toEqual(Buffer.from('live'));
  });

  it('the transformed store does not see the origin sub-store nested in it', async () => {
    const backend = createFsBackend(dir, { fsync: false });
    const l2 = backend.open('', 'c');
    const origin = backend.open('', 'c/origin');
    await origin.put(hexKey('o'), Buffer.from('o'), {});
    await l2.put(hexKey('t'), Buffer.from('t'), {});
    expect((await collect(l2.list())).map((i) => i.key)).toEqual([hexKey('t')]);
    expect((await collect(origin.list())).map((i) => i.key)).toEqual([hexKey('o')]);
  });

  it('overwriting a key replaces the entry atomically (readers see the old or the new body)', async () => {
    const key = hexKey('over');
    const a = bodyFor(1, 200_000);
    const b = bodyFor(2, 300_000);
    await store.put(key, a, {});
    const reads: Array<Promise<Buffer | null>> = [];
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++) {
      writes.push(store.put(key, i % 2 ? a : b, {}));
      reads.push(getBody(key));
    }
    await Promise.all(writes);
    for (const r of await Promise.all(reads)) {
      expect(r === null || r.equals(a) || r.equals(b)).toBe(true);
    }
    const files = await readdir(join(store.dir, key.slice(0, 2), key.slice(2, 4)));
    expect(files).toEqual([key]);
  });
});
