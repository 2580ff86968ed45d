/**
 * The fs store's kept descriptors (src/storage/fs-open-files.ts): a hot file is read through
 * one descriptor kept open, and that descriptor never serves what the path no longer names: a
 * file replaced or removed behind the store's back (another process) is read again from its
 * path, a removal here closes it, a file with two links is never kept, and a stop closes all.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAll } from '../../../src/cache/util.js';
import { createOpenFiles } from '../../../src/storage/fs-open-files.js';
import { createFsBackend, type FsBlobStore } from '../../../src/storage/fs.js';
import { isNotModified } from '../../../src/storage/types.js';
import { hexKey, makeTempDir } from '../cache/helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let store: FsBlobStore;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('pixproxy-fs-fds-'));
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

const pathOf = (key: string): string => join(store.dir, key.slice(0, 2), key.slice(2, 4), key);

/** How many of this process's descriptors are open on `file` (Linux: /proc/self/fd). */
function descriptorsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return n;
}

async function body(key: string): Promise<string | null> {
  const r = await store.get(key);
  if (r === null || isNotModified(r)) return null;
  return (await readAll(r.body)).toString();
}

/** An entry file written by another store on the same directory (another process, for this store). */
async function writeBehind(key: string, data: string): Promise<void> {
  const other = createFsBackend(dir, { fsync: false }).open('');
  await other.put(key, Buffer.from(data), { contentType: 'text/plain' });
  await other.close();
}

// The sync hot path, and the cold path alone (every read on the thread pool).
describe.runIf(process.platform === 'linux').each([
  ['sync reads', {}],
  ['thread-pool reads', { syncReadMaxBytes: 0 }],
])('kept descriptors, %s', (_, options) => {
  beforeEach(() => {
    store = createFsBackend(dir, { fsync: false, ...options }).open('');
  });

  it('reads a hot file through one descriptor kept open', async () => {
    const key = hexKey('hot');
    await store.put(key, Buffer.from('one'), {});
    for (let i = 0; i < 5; i++) expect(await body(key)).toBe('one');
    expect(descriptorsOn(pathOf(key))).toBe(1);
  });

  it('never serves a file replaced behind its back from the old descriptor', async () => {
    const key = hexKey('replaced');
    await store.put(key, Buffer.from('old'), {});
    expect(await body(key)).toBe('old');
    expect(descriptorsOn(pathOf(key))).toBe(1);
    await writeBehind(key, 'new');
    expect(await body(key)).toBe('new');
  });

  it('never serves a file removed behind its back', async () => {
    const key = hexKey('removed');
    await store.put(key, Buffer.from('gone'), {});
    expect(await body(key)).toBe('gone');
    await unlink(pathOf(key));
    expect(await body(key)).toBeNull();
  });

  it('closes the descriptor of a file it deletes or replaces', async () => {
    const a = hexKey('deleted');
    const b = hexKey('put-over');
    await store.put(a, Buffer.from('a'), {});
    await store.put(b, Buffer.from('b'), {});
    expect([await body(a), await body(b)]).toEqual(['a', 'b']);
    const fileA = pathOf(a);
    await store.delete(a);
    expect(descriptorsOn(fileA)).toBe(0);
    await store.put(b, Buffer.from('b2'), {});
    expect(await body(b)).toBe('b2');
    expect(descriptorsOn(pathOf(b))).toBe(1);
  });

  it('keeps no descriptor for a file with another link, and none after close()', async () => {
    const linked = hexKey('linked');
    const plain = hexKey('plain');
    await store.put(linked, Buffer.from('l'), {});
    await store.put(plain, Buffer.from('p'), {});
    await link(pathOf(linked), join(dir, 'backup-copy'));
    expect(await body(linked)).toBe('l');
    expect(await body(plain)).toBe('p');
    // Not kept: closed off the response path (on the thread pool for a pool read).
    await vi.waitFor(() => expect(descriptorsOn(pathOf(linked))).toBe(0), { timeout: 5_000, interval: 5 });
    expect(descriptorsOn(pathOf(plain))).toBe(1);
    // Written over through its other link: still read from the path (and verified again).
    await writeFile(join(dir, 'x'), 'x');
    await rename(join(dir, 'x'), join(dir, 'backup-copy'));
    expect(await body(linked)).toBe('l');
    await store.close();
    expect(descriptorsOn(pathOf(plain))).toBe(0);
  });
});

describe.runIf(process.platform === 'linux')('one bound per backend', () => {
  it('counts the descriptors of all its stores together, and a store that stops closes only its own', async () => {
    const backend = createFsBackend(dir, { fsync: false, openFiles: 2 });
    const a = backend.open('a');
    const b = backend.open('b');
    store = a;
    const keys = [hexKey('x'), hexKey('y')];
    for (const k of keys) {
      await a.put(k, Buffer.from('a'), {});
      await b.put(k, Buffer.from('b'), {});
    }
    const inA = (k: string): string => join(a.dir, k.slice(0, 2), k.slice(2, 4), k);
    const inB = (k: string): string => join(b.dir, k.slice(0, 2), k.slice(2, 4), k);
    for (const k of keys) await a.get(k);
    await b.get(keys[0] ?? '');
    // Three files read, two kept: the oldest (a's first) was closed.
    expect(keys.map((k) => descriptorsOn(inA(k))).concat(descriptorsOn(inB(keys[0] ?? '')))).toEqual([0, 1, 1]);
    await b.close();
    expect([descriptorsOn(inA(keys[1] ?? '')), descriptorsOn(inB(keys[0] ?? ''))]).toEqual([1, 0]);
  });
});

describe('createOpenFiles', () => {
  beforeEach(() => {
    store = createFsBackend(dir, { fsync: false }).open('');
  });

  it('holds at most `max` descriptors, closing the least recently kept', async () => {
    const { closeSync, openSync } = await import('node:fs');
    const files = createOpenFiles(2);
    const names = ['a', 'b', 'c'];
    for (const n of names) files.keep(join(dir, n), openSync(join(dir, n), 'w'));
    expect(files.size).toBe(2);
    expect(files.take(join(dir, 'a'))).toBeUndefined();
    expect(descriptorsOn(join(dir, 'a'))).toBe(0);
    const c = files.take(join(dir, 'c'));
    expect(c).toBeDefined();
    closeSync(c ?? -1);
    files.keep(join(dir, 'c'), openSync(join(dir, 'c'), 'r'));
    files.dropUnder(join(dir, 'elsewhere'));
    expect(files.size).toBe(2);
    files.dropUnder(dir);
    expect(descriptorsOn(join(dir, 'b'))).toBe(0);
    expect(files.size).toBe(0);
  });
});
