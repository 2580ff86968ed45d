/**
 * fs BlobStore: one self-verifying file per entry, atomic publish, damaged entries are
 * misses that get removed, entries under another key's name are refused and removed, expiry
 * in meta (and mtime), temp files never listed, sweep, empty shard directories removed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdir, readdir, readFile, rename, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAll } from '../../../src/cache/util.js';
import { ForeignEntryError } from '../../../src/storage/entry-key.js';
import { createFsBackend, NO_EXPIRY_MTIME_MS, type FsBlobStore, type FsEntryStat, type FsStoreObserver } from '../../../src/storage/fs.js';
import { isNotModified } from '../../../src/storage/types.js';
import { v1Entry } from '../../helpers/fs-entries.js';
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

async function entryStats(s: FsBlobStore): Promise<FsEntryStat[]> {
  return (await collect(s.scan())).filter((e): e is FsEntryStat => e.kind === 'entry');
}

/** A pid no process has: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
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

  it('a key that is not a hex digest is stored under a hash of it: nothing of the key reaches the path', async () => {
    const keys = ['../../etc/passwd', 'a/b c/ü?x=1#f%20', 'ABCDEF0123456789', 'abc', ''];
    for (const [i, key] of keys.entries()) await store.put(key, Buffer.from(`v${i}`), {});
    for (const [i, key] of keys.entries()) {
      expect((await getBody(key))?.toString()).toBe(`v${i}`);
      const name = `${createHash('sha256').update(key).digest('hex')}.k`;
      expect((await lstat(join(store.dir, name.slice(0, 2), name.slice(2, 4), name))).isFile()).toBe(true);
    }
    // Only shard directories under the store.
    expect((await readdir(dir)).every((n) => /^[0-9a-f]{2}$/.test(n))).toBe(true);
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
    const [e] = await entryStats(store);
    expect(e?.expiresAt).toBeUndefined();
  });

  it('a read refreshes atime (recency persisted for restarts) and keeps mtime (expiry)', async () => {
    const s = createFsBackend(dir, { fsync: false, atimeThrottleMs: 0, recencyWriteBackMs: 0 }).open('r');
    const key = hexKey('atime');
    const expiresAt = Date.now() + 3_600_000;
    await s.put(key, Buffer.from('x'), { expiresAt });
    const file = join(s.dir, key.slice(0, 2), key.slice(2, 4), key);
    await utimes(file, new Date(1_000_000_000_000), new Date(expiresAt));
    await s.get(key);
    // The refresh is not awaited by get() (it runs after the response).
    await vi.waitFor(async () => expect((await stat(file)).atimeMs).toBeGreaterThan(Date.now() - 10_000));
    const st = await stat(file);
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

describe('verified files: the checksum is skipped only for the very file this process checked or wrote', () => {
  /** Writes `bytes` next to `file` and renames it over: a new inode, as another writer would. */
  async function replaceBehind(file: string, bytes: Buffer, mtime?: Date): Promise<void> {
    const tmp = `${file}.other`;
    await writeFile(tmp, bytes);
    if (mtime) await utimes(tmp, new Date(), mtime);
    await rename(tmp, file);
  }

  function flipLast(b: Buffer): Buffer {
    const c = Buffer.from(b);
    c[c.length - 1] = (c[c.length - 1] ?? 0) ^ 0xff;
    return c;
  }

  // Read a few times first so the entry is remembered and hot (sync read path).
  async function warm(key: string, body: Buffer): Promise<void> {
    for (let i = 0; i < 3; i++) expect(await getBody(key)).toEqual(body);
  }

  it('a file replaced behind the store (new inode, same size and mtime) is re-verified: a corrupted replacement is a miss and is removed', async () => {
    const key = hexKey('replaced-bad');
    const body = bodyFor(21, 50_000);
    await store.put(key, body, { expiresAt: Date.now() + 3_600_000 });
    await warm(key, body);
    const file = pathOf(key);
    const st = await stat(file);
    await replaceBehind(file, flipLast(await readFile(file)), st.mtime);
    const after = await stat(file);
    expect(after.ino).not.toBe(st.ino);
    expect(after.size).toBe(st.size);
    expect(await store.get(key)).toBeNull();
    await expect(lstat(file)).rejects.toThrow(/ENOENT/);
  });

  it('a valid file replaced behind the store is verified and served', async () => {
    const key = hexKey('replaced-good');
    const a = bodyFor(22, 40_000);
    const b = bodyFor(23, 40_000);
    await store.put(key, a, {});
    await warm(key, a);
    const other = createFsBackend(join(dir, 'elsewhere'), { fsync: false }).open('');
    await other.put(key, b, {});
    await replaceBehind(pathOf(key), await readFile(join(other.dir, key.slice(0, 2), key.slice(2, 4), key)));
    expect(await getBody(key)).toEqual(b);
  });

  it('a verified entry truncated in place is caught by the size (and length) check', async () => {
    const key = hexKey('truncated-in-place');
    const body = bodyFor(24, 30_000);
    await store.put(key, body, {});
    await warm(key, body);
    const file = pathOf(key);
    const st = await stat(file);
    await truncate(file, st.size - 100);
    await utimes(file, st.atime, st.mtime); // even with the mtime put back
    expect(await store.get(key)).toBeNull();
    await expect(lstat(file)).rejects.toThrow(/ENOENT/);
  });

  it('a verified entry rewritten in place (same size, new mtime) is re-verified', async () => {
    const key = hexKey('rewritten-in-place');
    const body = bodyFor(25, 30_000);
    await store.put(key, body, {});
    await warm(key, body);
    const file = pathOf(key);
    await writeFile(file, flipLast(await readFile(file))); // same inode, same size, mtime = now
    expect(await store.get(key)).toBeNull();
    await expect(lstat(file)).rejects.toThrow(/ENOENT/);
  });

  it('verifiedEntries: 0 checks every read, even a same-size in-place change with the mtime put back', async () => {
    const s = createFsBackend(dir, { fsync: false, verifiedEntries: 0 }).open('always');
    const key = hexKey('always');
    await s.put(key, bodyFor(26, 20_000), {});
    const file = join(s.dir, key.slice(0, 2), key.slice(2, 4), key);
    const st = await stat(file);
    const bytes = await readFile(file);
    await writeFile(file, flipLast(bytes));
    await utimes(file, st.atime, st.mtime);
    expect(await s.get(key)).toBeNull();
    // The documented trade-off of the default: such a change (inode, size and mtime kept) goes
    // unseen until the remembered verification is older than reverifyAfterMs.
    const d = createFsBackend(dir, { fsync: false, reverifyAfterMs: 0 }).open('reverify');
    await d.put(key, bodyFor(26, 20_000), {});
    const dfile = join(d.dir, key.slice(0, 2), key.slice(2, 4), key);
    const dst = await stat(dfile);
    await new Promise((r) => setTimeout(r, 2));
    await writeFile(dfile, flipLast(await readFile(dfile)));
    await utimes(dfile, dst.atime, dst.mtime);
    expect(await d.get(key)).toBeNull();
  });

  it('large bodies (hashed in slices) round-trip and a flipped byte is caught on a fresh store', async () => {
    const key = hexKey('large');
    const body = bodyFor(27, 1_500_000);
    await store.put(key, body, {});
    expect(await getBody(key)).toEqual(body);
    const file = pathOf(key);
    const st = await stat(file);
    const bytes = await readFile(file);
    bytes[bytes.length - 1_000_000] = (bytes[bytes.length - 1_000_000] ?? 0) ^ 1;
    await writeFile(file, bytes);
    await utimes(file, st.atime, st.mtime);
    // A new process (nothing remembered) checks the whole body.
    const fresh = createFsBackend(dir, { fsync: false }).open('');
    expect(await fresh.get(key)).toBeNull();
    await expect(lstat(file)).rejects.toThrow(/ENOENT/);
  });

  it('once the header memo (4,096) is full, a file read for the first time in a while joins it only at its next read', async () => {
    const n = 4_100;
    const keys = Array.from({ length: n }, (_, i) => hexKey(`memo-${i}`));
    for (const key of keys) await store.put(key, bodyFor(31, 64), {});
    const metaOf = async (key: string) => {
      const r = await store.get(key);
      if (r === null || isNotModified(r)) throw new Error('miss');
      return r.meta;
    };
    const firsts = [];
    for (const key of keys) firsts.push(await metaOf(key));
    // Read while there was room: kept, and shared by the next read.
    expect(await metaOf(keys[0]!)).toBe(firsts[0]);
    // Read when the memo was full: parsed again, then kept from that read on (a plain LRU keeps the first).
    const last = keys[n - 1]!;
    const again = await metaOf(last);
    expect(again).not.toBe(firsts[n - 1]);
    expect(again).toEqual(firsts[n - 1]);
    expect(await metaOf(last)).toBe(again);
  });

  it('a hot file\'s header is parsed once: its reads share one frozen meta, and any new file under the key brings its own', async () => {
    const key = hexKey('header-memo');
    const a = bodyFor(29, 9_000);
    await store.put(key, a, { contentType: 'image/png', extra: { w: '1' } });
    const metas = [];
    for (let i = 0; i < 3; i++) {
      const r = await store.get(key);
      if (r === null || isNotModified(r)) throw new Error('miss');
      expect(r.data).toEqual(a);
      metas.push(r.meta);
    }
    expect(metas[1]).toBe(metas[2]);
    expect(Object.isFrozen(metas[2])).toBe(true);
    expect(Object.isFrozen(metas[2]?.extra)).toBe(true);
    // A put of the same size with other meta: the next read has the new meta.
    await store.put(key, bodyFor(30, 9_000), { contentType: 'image/webp', extra: { w: '2' } });
    const r2 = await store.get(key);
    if (r2 === null || isNotModified(r2)) throw new Error('miss');
    expect(r2.meta.contentType).toBe('image/webp');
    expect(r2.meta.extra).toEqual({ w: '2' });
    // Another process's valid file renamed over it (same size): verified, its own meta.
    const other = createFsBackend(join(dir, 'elsewhere-meta'), { fsync: false }).open('');
    await other.put(key, bodyFor(31, 9_000), { contentType: 'image/avif', extra: { w: '3' } });
    const tmp = `${pathOf(key)}.other`;
    await copyFile(join(other.dir, key.slice(0, 2), key.slice(2, 4), key), tmp);
    await rename(tmp, pathOf(key));
    const r3 = await store.get(key);
    if (r3 === null || isNotModified(r3)) throw new Error('miss');
    expect(r3.meta.contentType).toBe('image/avif');
    expect(r3.data).toEqual(bodyFor(31, 9_000));
  });

  it('the body stream is built only when read, and reads the same bytes as data', async () => {
    const key = hexKey('lazy-body');
    const body = bodyFor(32, 12_000);
    await store.put(key, body, {});
    const r = await store.get(key);
    if (r === null || isNotModified(r)) throw new Error('miss');
    expect(r.data).toEqual(body);
    expect(r.body).toBe(r.body);
    expect(await readAll(r.body)).toEqual(body);
  });

  it('the sync and async read paths serve the same bytes and meta', async () => {
    const key = hexKey('paths');
    const body = bodyFor(28, 100_000);
    await store.put(key, body, { contentType: 'image/webp', extra: { w: '1' } });
    const asyncOnly = createFsBackend(dir, { fsync: false, syncReadMaxBytes: 0 }).open('');
    for (const s of [store, store, asyncOnly, asyncOnly]) {
      const r = await s.get(key);
      if (r === null || isNotModified(r)) throw new Error('miss');
      expect(r.meta.contentType).toBe('image/webp');
      expect(r.meta.extra).toEqual({ w: '1' });
      expect(await readAll(r.body)).toEqual(body);
    }
  });

  it('a read asked with `reuse` takes a pooled buffer and hands over its release, on the sync and async paths alike; one without, or of a small file, gets none', async () => {
    const big = hexKey('reuse-big');
    const other = hexKey('reuse-other');
    const small = hexKey('reuse-small');
    await store.put(big, bodyFor(40, 100_000), {});
    await store.put(other, bodyFor(41, 90_000), {});
    await store.put(small, bodyFor(42, 1_000), {});
    for (const syncReadMaxBytes of [256 * 1024, 0]) {
      const backend = createFsBackend(dir, { fsync: false, syncReadMaxBytes });
      const s = backend.open('');
      const plain = await s.get(big);
      if (plain === null || isNotModified(plain)) throw new Error('miss');
      expect(plain.release).toBeUndefined();
      const tiny = await s.get(small, { reuse: true });
      if (tiny === null || isNotModified(tiny)) throw new Error('miss');
      expect(tiny.release).toBeUndefined();
      const first = await s.get(big, { reuse: true });
      if (first === null || isNotModified(first)) throw new Error('miss');
      expect(first.data?.equals(bodyFor(40, 100_000))).toBe(true);
      expect(first.release).toBeTypeOf('function');
      // Not given back yet: the next read has its own memory.
      const second = await s.get(other, { reuse: true });
      if (second === null || isNotModified(second)) throw new Error('miss');
      expect(second.data?.buffer).not.toBe(first.data?.buffer);
      first.release?.();
      const third = await s.get(other, { reuse: true });
      if (third === null || isNotModified(third)) throw new Error('miss');
      expect(third.data?.buffer).toBe(first.data?.buffer);
      expect(third.data?.equals(bodyFor(41, 90_000))).toBe(true);
      expect(backend.readBuffers()).toMatchObject({ allocated: 2, reused: 1 });
    }
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
    // A temp of a live writer (another process), in the same shard directory as `live`.
    const temp = join(store.dir, live.slice(0, 2), live.slice(2, 4), `.${live}.${process.ppid}.deadbeef.tmp`);
    await writeFile(temp, Buffer.from('partial'));
    const listed = (await collect(store.list())).map((i) => i.key);
    expect(listed).toEqual([live]);
    // A fresh temp of a live process may belong to a write in progress: the default grace keeps it.
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

function hashedPath(root: string, key: string): string {
  const name = `${createHash('sha256').update(key).digest('hex')}.k`;
  return join(root, name.slice(0, 2), name.slice(2, 4), name);
}

describe('keys other than hex digests', () => {
  it('list() returns original keys by any prefix, with body sizes, hex and hash-named entries alike', async () => {
    const hex = hexKey('h');
    await store.put(hex, Buffer.alloc(10), {});
    await store.put('img/a b.jpg', Buffer.alloc(3), {});
    await store.put('img/sub/ü.png', Buffer.alloc(4), {});
    await store.put('other/x', Buffer.alloc(5), {});
    await store.put('img/gone', Buffer.alloc(6), { expiresAt: Date.now() - 1000 });
    const byKey = async (prefix?: string): Promise<Array<[string, number]>> =>
      (await collect(store.list(prefix))).map((i): [string, number] => [i.key, i.size]).sort((a, b) => a[0].localeCompare(b[0]));
    expect(await byKey('img/')).toEqual([
      ['img/a b.jpg', 3],
      ['img/sub/ü.png', 4],
    ]);
    expect(await byKey(hex.slice(0, 6))).toEqual([[hex, 10]]);
    expect((await byKey()).map(([k]) => k).sort()).toEqual([hex, 'img/a b.jpg', 'img/sub/ü.png', 'other/x'].sort());
  });

  it('the stat-only side (entries, observer) covers hex keys only; sweep still removes expired and stale hash-named files', async () => {
    const seen: string[] = [];
    const observer: FsStoreObserver = {
      beforePut: (k) => void seen.push(`before ${k}`),
      written: (k) => void seen.push(`written ${k}`),
      used: (k) => void seen.push(`used ${k}`),
      removed: (k) => void seen.push(`removed ${k}`),
    };
    store.setObserver(observer);
    const hex = hexKey('obs');
    await store.put(hex, Buffer.from('x'), {});
    await store.put('named/key', Buffer.from('y'), {});
    await store.put('named/old', Buffer.from('z'), { expiresAt: Date.now() + 60_000 });
    await getBody(hex);
    await getBody('named/key');
    await store.delete('named/key');
    expect(seen).toEqual([`before ${hex}`, `written ${hex}`, `used ${hex}`]);
    expect((await entryStats(store)).map((e) => e.key)).toEqual([hex]);

    const old = hashedPath(store.dir, 'named/old');
    await utimes(old, new Date(), new Date(Date.now() - 1000));
    const temp = `${join(old, '..')}/.${old.split('/').at(-1)}.999.deadbeef.tmp`;
    await writeFile(temp, Buffer.from('partial'));
    expect(await store.sweep({ tempGraceMs: 0 })).toEqual({ expired: 1, damaged: 0, temps: 1 });
    await expect(lstat(old)).rejects.toThrow(/ENOENT/);
    await expect(lstat(temp)).rejects.toThrow(/ENOENT/);
    expect(seen).toEqual([`before ${hex}`, `written ${hex}`, `used ${hex}`]);
  });

  it('a hash-named file that holds another key is refused and removed; list() leaves it out', async () => {
    await store.put('key-a', Buffer.from('A'), {});
    const b = hashedPath(store.dir, 'key-b');
    await mkdir(join(b, '..'), { recursive: true });
    await copyFile(hashedPath(store.dir, 'key-a'), b);
    expect((await collect(store.list())).map((i) => i.key)).toEqual(['key-a']);
    await expect(store.head('key-b')).rejects.toBeInstanceOf(ForeignEntryError);
    await expect(lstat(b)).rejects.toThrow(/ENOENT/);
    await mkdir(join(b, '..'), { recursive: true }); // its shard went with it
    await copyFile(hashedPath(store.dir, 'key-a'), b);
    await expect(store.get('key-b')).rejects.toBeInstanceOf(ForeignEntryError);
    await expect(lstat(b)).rejects.toThrow(/ENOENT/);
    expect((await getBody('key-a'))?.toString()).toBe('A');
  });

  it('a damaged hash-named entry is a miss and is removed', async () => {
    await store.put('dmg/x', bodyFor(3, 4096), {});
    const file = hashedPath(store.dir, 'dmg/x');
    await truncate(file, 100);
    expect(await store.get('dmg/x')).toBeNull();
    await expect(lstat(file)).rejects.toThrow(/ENOENT/);
  });
});

describe('metadata and validators', () => {
  it('without etag/lastModified an entry gets its own (body checksum, time of the put); given ones are stored as they are', async () => {
    const before = Date.now();
    await store.put('own', Buffer.from('body'), {});
    const own = await store.head('own');
    expect(own?.etag).toBe(`"${createHash('sha256').update('body').digest('hex').slice(0, 32)}"`);
    expect(Date.parse(own?.lastModified ?? '')).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(isNotModified(await store.get('own', { ifNoneMatch: `W/${own?.etag ?? ''}` }))).toBe(true);
    expect(isNotModified(await store.get('own', { ifModifiedSince: new Date(Date.now() + 60_000).toUTCString() }))).toBe(true);
    expect(isNotModified(await store.get('own', { ifModifiedSince: 'Sat, 01 Jan 2000 00:00:00 GMT' }))).toBe(false);

    await store.put('given', Buffer.from('body'), { etag: '"o"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT', cacheControl: 'max-age=60', httpExpires: 'Thu, 01 Dec 2033 16:00:00 GMT' });
    expect(await store.head('given')).toMatchObject({ etag: '"o"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT', cacheControl: 'max-age=60', httpExpires: 'Thu, 01 Dec 2033 16:00:00 GMT' });
  });

  it('every entry records its key in its header and reads it back in meta.key', async () => {
    const key = hexKey('records');
    await store.put(key, Buffer.from('x'), {});
    await store.put('named/one', Buffer.from('y'), {});
    expect((await readFile(pathOf(key))).includes(`"key":"${key}"`)).toBe(true);
    expect((await store.head(key))?.key).toBe(key);
    const r = await store.get('named/one');
    if (r === null || isNotModified(r)) throw new Error('expected an entry');
    expect(r.meta.key).toBe('named/one');
  });
});

describe('entries recorded under another key are never served', () => {
  it('16 valid entry files swapped between keys: every read is a ForeignEntryError, the files are removed, nothing is served', async () => {
    const keys = Array.from({ length: 16 }, (_, i) => hexKey(`swap${i}`));
    for (const [i, key] of keys.entries()) await store.put(key, bodyFor(100 + i, 2000), {});
    // Warm: remembered and hot, so the sync read path is the one that must refuse.
    for (const key of keys) await getBody(key);
    const bytes = await Promise.all(keys.map((k) => readFile(pathOf(k))));
    // Each file moves to the next key's name, as a bad restore or copy would leave them.
    await Promise.all(keys.map((k, i) => writeFile(pathOf(k), bytes[(i + 1) % keys.length] as Buffer)));
    const removed: string[] = [];
    store.setObserver({ written: () => undefined, used: () => undefined, removed: (k) => void removed.push(k) });
    for (const [i, key] of keys.entries()) {
      const err = await store.get(key).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ForeignEntryError);
      expect((err as ForeignEntryError).recorded).toBe(keys[(i + 1) % keys.length]);
      await expect(lstat(pathOf(key))).rejects.toThrow(/ENOENT/);
      expect(await store.get(key)).toBeNull();
    }
    expect(removed.sort()).toEqual([...keys].sort());
  });

  it('the async read path refuses a swapped file as well (a fresh store, nothing remembered)', async () => {
    const [a, b] = [hexKey('async-a'), hexKey('async-b')];
    await store.put(a, Buffer.from('A'), {});
    await mkdir(join(pathOf(b), '..'), { recursive: true });
    await copyFile(pathOf(a), pathOf(b));
    const fresh = createFsBackend(dir, { fsync: false, syncReadMaxBytes: 0 }).open('');
    await expect(fresh.get(b)).rejects.toBeInstanceOf(ForeignEntryError);
    const r = await fresh.get(a);
    if (r === null || isNotModified(r)) throw new Error('expected an entry');
    expect((await readAll(r.body)).toString()).toBe('A');
  });

  it('a version-1 file named by its own hex key records no key: refused and removed; a version-1 hash-named file with its key is served', async () => {
    const key = hexKey('legacy');
    const body = Buffer.from('legacy body');
    await mkdir(join(pathOf(key), '..'), { recursive: true });
    await writeFile(pathOf(key), v1Entry(body, { size: body.length, createdAt: 1_700_000_000_000, contentType: 'image/png' }));
    const err = await store.get(key).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ForeignEntryError);
    expect((err as ForeignEntryError).recorded).toBeUndefined();
    await expect(lstat(pathOf(key))).rejects.toThrow(/ENOENT/);

    const named = hashedPath(store.dir, 'img/old.png');
    await mkdir(join(named, '..'), { recursive: true });
    await writeFile(named, v1Entry(body, { '@key': 'img/old.png', size: body.length, createdAt: 1_700_000_000_000 }));
    expect((await getBody('img/old.png'))?.equals(body)).toBe(true);
    expect((await store.head('img/old.png'))?.key).toBe('img/old.png');
  });
});

describe('shard directories', () => {
  async function shardDirs(root: string): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdir(root).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      out.push(a);
      for (const b of await readdir(join(root, a))) out.push(`${a}/${b}`);
    }
    return out.sort();
  }

  it('the scan (several shard directories at a time) reports every entry and directory once, in directory order, and prunes empty shards', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => hexKey(`scan-${i}`));
    for (const k of keys) await store.put(k, Buffer.from(k.slice(0, 8)), {});
    // Three shards with nothing in them (an older version left such behind).
    const empties = ['0f/0f', 'f0/f0', 'a5/5a'];
    for (const e of empties) await mkdir(join(store.dir, e), { recursive: true });
    const seen = await collect(store.scan({ batch: 7 }));
    const entries = seen.filter((e): e is FsEntryStat => e.kind === 'entry').map((e) => e.key);
    expect(entries).toEqual([...keys].sort());
    const dirs = seen.filter((e) => e.kind === 'dir').map((e) => (e as { path: string }).path.slice(store.dir.length + 1));
    expect(new Set(dirs).size).toBe(dirs.length);
    const shardsWithEntries = new Set(keys.map((k) => `${k.slice(0, 2)}/${k.slice(2, 4)}`));
    for (const d of shardsWithEntries) expect(dirs).toContain(d);
    for (const e of empties) expect(dirs).not.toContain(e);
    const left = await shardDirs(store.dir);
    for (const e of empties) expect(left).not.toContain(e);
  });

  it('a shard directory is removed with its last entry (delete, expiry on read, sweep), its parent too when empty', async () => {
    const [a, b] = [hexKey('dir-a'), hexKey('dir-b')];
    const sibling = `${a.slice(0, 4)}${hexKey('sib').slice(4)}`;
    await store.put(a, Buffer.from('a'), {});
    await store.put(sibling, Buffer.from('s'), { expiresAt: Date.now() + 60_000 });
    await store.put(b, Buffer.from('b'), { expiresAt: Date.now() + 60_000 });
    const shardA = `${a.slice(0, 2)}/${a.slice(2, 4)}`;
    expect(await shardDirs(store.dir)).toContain(shardA);
    await store.delete(a);
    expect(await shardDirs(store.dir)).toContain(shardA); // the sibling is still there
    await utimes(pathOf(sibling), new Date(), new Date(Date.now() - 1000));
    await store.sweep();
    expect(await shardDirs(store.dir)).not.toContain(shardA);
    expect(await shardDirs(store.dir)).not.toContain(a.slice(0, 2));
    await store.delete(b);
    expect(await shardDirs(store.dir)).toEqual([]);
  });

  it('the scan and the sweep remove empty shard directories left behind (an older version never removed them)', async () => {
    for (const d of ['00/11', '00/22', '0a/0b', 'ff']) await mkdir(join(store.dir, d), { recursive: true });
    const live = hexKey('kept');
    await store.put(live, Buffer.from('x'), {});
    const dirsSeen = (await collect(store.scan())).filter((e) => e.kind === 'dir').map((e) => e.path);
    expect(dirsSeen.sort()).toEqual([join(store.dir, live.slice(0, 2)), join(store.dir, live.slice(0, 2), live.slice(2, 4))].sort());
    expect(await shardDirs(store.dir)).toEqual([live.slice(0, 2), `${live.slice(0, 2)}/${live.slice(2, 4)}`].sort());
    await mkdir(join(store.dir, '12/34'), { recursive: true });
    await store.sweep();
    expect(await shardDirs(store.dir)).toEqual([live.slice(0, 2), `${live.slice(0, 2)}/${live.slice(2, 4)}`].sort());
  });

  it('puts racing with the removal of their shard directory all land (the shard is created again)', async () => {
    const shard = 'beef';
    const keyIn = (i: number): string => shard + hexKey(`race${i}`).slice(4);
    for (let round = 0; round < 20; round++) {
      await store.put(keyIn(0), Buffer.from('x'), {});
      // Deleting the only entry prunes the shard while the next puts are creating their temps there.
      await Promise.all([store.delete(keyIn(0)), ...Array.from({ length: 4 }, (_, i) => store.put(keyIn(i + 1), Buffer.from(`v${i}`), {}))]);
      for (let i = 1; i <= 4; i++) expect((await getBody(keyIn(i)))?.toString()).toBe(`v${i - 1}`);
      for (let i = 1; i <= 4; i++) await store.delete(keyIn(i));
    }
    expect(await shardDirs(store.dir)).toEqual([]);
  });

  it('the observer is told of every shard directory created and removed', async () => {
    const dirs = new Map<string, number>();
    store.setObserver({ written: () => undefined, used: () => undefined, removed: () => undefined, dirAdded: (p, n) => void dirs.set(p, n), dirRemoved: (p) => void dirs.delete(p) });
    const keys = Array.from({ length: 10 }, (_, i) => hexKey(`obs-dir${i}`));
    for (const k of keys) await store.put(k, Buffer.from('x'), {});
    const expected = new Set(keys.flatMap((k) => [join(store.dir, k.slice(0, 2)), join(store.dir, k.slice(0, 2), k.slice(2, 4))]));
    expect(new Set(dirs.keys())).toEqual(expected);
    for (const [p, n] of dirs) expect(n).toBe((await stat(p)).blocks * 512);
    for (const k of keys) await store.delete(k);
    expect(dirs.size).toBe(0);
  });
});

describe('temp files left by a writer that is gone', () => {
  it('the scan removes temps of dead processes and of this pid that this process is not writing, and keeps a live writer\'s', async () => {
    const key = hexKey('temps');
    await store.put(key, Buffer.from('x'), {});
    const shard = join(store.dir, key.slice(0, 2), key.slice(2, 4));
    const dead = join(shard, `.${key}.${deadPid()}.0a1b2c3d0.tmp`);
    const mine = join(shard, `.${key}.${process.pid}.0a1b2c3d1.tmp`);
    const live = join(shard, `.${key}.${process.ppid}.0a1b2c3d2.tmp`);
    for (const t of [dead, mine, live]) await writeFile(t, 'partial');
    await collect(store.scan());
    await expect(lstat(dead)).rejects.toThrow(/ENOENT/);
    await expect(lstat(mine)).rejects.toThrow(/ENOENT/);
    expect((await lstat(live)).isFile()).toBe(true);
    // A shard holding only a dead writer's temp goes with it.
    const lone = join(store.dir, '77', '88');
    await mkdir(lone, { recursive: true });
    await writeFile(join(lone, `.${'7788'.padEnd(64, '0')}.${deadPid()}.ff.tmp`), 'x');
    expect(await store.sweep()).toMatchObject({ temps: 1 });
    await expect(lstat(join(store.dir, '77'))).rejects.toThrow(/ENOENT/);
  });
});
