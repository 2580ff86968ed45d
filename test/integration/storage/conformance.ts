/**
 * One behavioural suite for every BlobStore backend (fs, s3, gcs, abs, swift), run unchanged
 * against each. It depends on nothing but the BlobStore interface, so a new backend proves
 * itself by adding a three-line test file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys } from '../../../src/storage/delete-many.js';
import { ConditionalWriteUnsupportedError } from '../../../src/storage/common.js';
import { ForeignEntryError } from '../../../src/storage/entry-key.js';
import type { BlobEntry, BlobStore, GetResult, StorageBackend } from '../../../src/storage/types.js';
import { isNotModified } from '../../../src/storage/types.js';

/** Writes that bypass the BlobStore, with the vendor's own API (keys are the store's, without its prefix). */
export interface RawAccess {
  /** Copies the stored object `from` to `to` as it is, body and metadata: what a restore or a copy between buckets does. */
  copy(from: string, to: string): Promise<void>;
  /** Writes an object that records no key: one another writer put there, or an older pixproxy. */
  putKeyless(key: string, body: Buffer): Promise<void>;
}

export interface ConformanceFixture {
  /** A keyed store (OpenOptions.keyed), as the cache opens it. */
  store: BlobStore;
  raw: RawAccess;
  /** The same bucket and prefix opened as a source opens it (not keyed); absent for fs (a cache-only backend). */
  sourceStore?: BlobStore;
  cleanup(): Promise<void>;
  /**
   * The same store built with a wrong secret. Omitted by backends without credentials
   * (fs); the credentials test then reports itself skipped.
   */
  withWrongCredentials?: () => Promise<BlobStore>;
  /** Why withWrongCredentials is absent (shown as the skip reason). */
  noCredentialsReason?: string;
  /**
   * How the server answers a conditional create: `atomic` (one of concurrent creates wins,
   * the default), `racy` (each create checks what exists when it starts, so concurrent ones
   * can all succeed: Swift's object server), `unsupported` (refused as such: Swift's s3api), or
   * `ignored` (the test server accepts the condition and overwrites: the firebase emulator).
   */
  conditionalCreate?: 'atomic' | 'racy' | 'unsupported' | 'ignored';
}

/**
 * The fixture of a backend with credentials: its `conformance/pfx` store, the same store
 * through `bad` (built with a wrong secret), and a cleanup that closes both, then the server.
 */
export function credentialedFixture(backend: StorageBackend, bad: StorageBackend, server: { stop(): Promise<void> }, raw: RawAccess): ConformanceFixture {
  return {
    store: backend.open('conformance', CONFORMANCE_PREFIX, { keyed: true }),
    raw,
    sourceStore: backend.open('conformance', CONFORMANCE_PREFIX),
    withWrongCredentials: async () => bad.open('conformance', CONFORMANCE_PREFIX, { keyed: true }),
    async cleanup() {
      await backend.close?.();
      await bad.close?.();
      await server.stop();
    },
  };
}

/** The key prefix of the conformance stores, in bucket `conformance` (raw access prepends it). */
export const CONFORMANCE_PREFIX = 'pfx';

const LARGE = 9 * 1024 * 1024; // over 8 MiB, so chunked/multipart paths are exercised

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function entry(r: GetResult): BlobEntry {
  if (r === null) throw new Error('expected an entry, got null');
  if (isNotModified(r)) throw new Error('expected an entry, got notModified');
  return r;
}

/** A deterministic pseudo-random stream of `size` bytes, produced lazily in 64 KiB chunks. */
function generated(size: number, seed: string): { stream: () => Readable; sha256: string } {
  const block = (i: number): Buffer => createHash('sha512').update(`${seed}:${i}`).digest();
  const chunk = 64 * 1024;
  function* gen(): Generator<Buffer> {
    let sent = 0;
    let i = 0;
    while (sent < size) {
      const n = Math.min(chunk, size - sent);
      const parts: Buffer[] = [];
      for (let got = 0; got < n; got += 64) parts.push(block(i++));
      yield Buffer.concat(parts).subarray(0, n);
      sent += n;
    }
  }
  const h = createHash('sha256');
  for (const b of gen()) h.update(b);
  return { stream: () => Readable.from(gen()), sha256: h.digest('hex') };
}

async function sha256Of(body: Readable): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of body) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    size += b.length;
    h.update(b);
  }
  return { sha256: h.digest('hex'), size };
}

async function keys(store: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const item of store.list(prefix)) out.push(item.key);
  return out.sort();
}

export function describeConformance(name: string, makeStore: () => Promise<ConformanceFixture>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let fx: ConformanceFixture;
    let store: BlobStore;
    // Every run writes under its own namespace so reruns against a shared store are clean.
    const ns = `conf-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const k = (s: string): string => `${ns}/${s}`;

    beforeAll(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    it('put then get returns the same bytes', async () => {
      const data = randomBytes(100_000);
      await store.put(k('bytes'), data, { contentType: 'application/octet-stream' });
      const e = entry(await store.get(k('bytes')));
      expect((await collect(e.body)).equals(data)).toBe(true);
      expect(e.meta.size).toBe(data.length);
    });

    it('round-trips metadata: contentType, expiresAt, extra, createdAt', async () => {
      const before = Date.now();
      const expiresAt = Date.now() + 3_600_000;
      const extra = { 'source-etag': '"abc-123"', Width: '640', note: 'é ü / ? # % ;', empty: '' };
      await store.put(k('meta'), Buffer.from('meta body'), { contentType: 'image/webp', expiresAt, extra });
      const after = Date.now();
      const m = await store.head(k('meta'));
      expect(m).not.toBeNull();
      expect(m?.contentType).toBe('image/webp');
      expect(m?.expiresAt).toBe(expiresAt);
      expect(m?.extra).toEqual(extra);
      expect(m?.size).toBe(9);
      // Clock resolution of stores is 1 s at best when they derive it themselves.
      expect(m?.createdAt).toBeGreaterThanOrEqual(before - 1000);
      expect(m?.createdAt).toBeLessThanOrEqual(after + 1000);
      const e = entry(await store.get(k('meta')));
      expect(e.meta.contentType).toBe('image/webp');
      expect(e.meta.extra).toEqual(extra);
      expect((await collect(e.body)).toString()).toBe('meta body');
    });

    it(`streams a large object (${LARGE} bytes) in and out`, async () => {
      const g = generated(LARGE, ns);
      await store.put(k('large'), g.stream(), { contentType: 'application/octet-stream' });
      const e = entry(await store.get(k('large')));
      expect(e.meta.size).toBe(LARGE);
      expect(await sha256Of(e.body)).toEqual({ sha256: g.sha256, size: LARGE });
    }, 120_000);

    it('keeps keys with spaces, unicode, ?, # and % intact', async () => {
      const key = k('odd/na me ü?x=1#frag%20%.jpg');
      await store.put(key, Buffer.from('odd'), {});
      expect((await collect(entry(await store.get(key)).body)).toString()).toBe('odd');
      expect(await keys(store, k('odd/'))).toEqual([key]);
    });

    it('head returns metadata without a body, and null for a missing key', async () => {
      await store.put(k('head'), Buffer.alloc(1234, 7), { contentType: 'image/png' });
      const m = await store.head(k('head'));
      expect(m?.size).toBe(1234);
      expect(m?.contentType).toBe('image/png');
      expect(typeof m?.etag).toBe('string');
      expect(await store.head(k('missing'))).toBeNull();
    });

    it('get of a missing key resolves null', async () => {
      expect(await store.get(k('nope/nothing'))).toBeNull();
    });

    it('delete removes the object; deleting a missing key is not an error', async () => {
      await store.put(k('del'), Buffer.from('x'), {});
      expect(await store.head(k('del'))).not.toBeNull();
      await store.delete(k('del'));
      expect(await store.get(k('del'))).toBeNull();
      expect(await store.head(k('del'))).toBeNull();
      await expect(store.delete(k('del'))).resolves.toBeUndefined();
    });

    it('lists by prefix across pages', async () => {
      const names = ['list/a', 'list/b', 'list/c', 'list/d', 'list/e', 'list/sub/f', 'list/sub/g'].map(k);
      await Promise.all(names.map((n, i) => store.put(n, Buffer.alloc(i + 1), {})));
      await store.put(k('lost/x'), Buffer.from('x'), {});
      const items: { key: string; size: number }[] = [];
      for await (const it of store.list(k('list/'))) items.push({ key: it.key, size: it.size });
      items.sort((a, b) => a.key.localeCompare(b.key));
      expect(items).toEqual(names.map((n, i) => ({ key: n, size: i + 1 })).sort((a, b) => a.key.localeCompare(b.key)));
      expect(await keys(store, k('list/sub/'))).toEqual([k('list/sub/f'), k('list/sub/g')]);
      expect(await keys(store, k('nothing-here/'))).toEqual([]);
    });

    it('lists the cache\'s name keys by a hashed group prefix (keysOnly), as a purge by source lists them', async () => {
      // Name keys (8 hex digits, then [0-9a-z_]) at the store's root, as cache/key.ts makes them.
      const group = randomBytes(16).toString('hex');
      const members = [`${group}_ra`, `${group}_rb`, `${group}_ic`];
      const other = `${group.slice(0, 31)}${group.endsWith('0') ? '1' : '0'}_rz`;
      await Promise.all([...members, other].map((n) => store.put(n, Buffer.from(n), {})));
      const listed: string[] = [];
      for await (const it of store.list(`${group}_`, { keysOnly: true })) listed.push(it.key);
      expect(listed.sort()).toEqual([...members].sort());
      const results: string[] = [];
      for await (const it of store.list(`${group}_r`, { keysOnly: true })) results.push(it.key);
      expect(results.sort()).toEqual([`${group}_ra`, `${group}_rb`]);
      await deleteKeys(store, [...members, other]);
    });

    it('deletes many keys at once (the backend\'s batch call where it has one); missing keys are no error', async () => {
      const names = Array.from({ length: 300 }, (_, i) => k(`many/${String(i).padStart(3, '0')}`));
      const kept = k('many-kept');
      await Promise.all([...names, kept].map((n) => store.put(n, Buffer.from('x'), {})));
      await deleteKeys(store, [...names, k('many/never-written')]);
      expect(await keys(store, k('many/'))).toEqual([]);
      expect(await store.head(names[0] as string)).toBeNull();
      expect(await store.head(kept)).not.toBeNull();
      // Idempotent: the same call again finds nothing to delete and still succeeds.
      await expect(deleteKeys(store, names.slice(0, 10))).resolves.toBeUndefined();
    });

    it('treats an expired entry as a miss', async () => {
      await store.put(k('expired'), Buffer.from('old'), { expiresAt: Date.now() - 1000 });
      expect(await store.get(k('expired'))).toBeNull();
      expect(await store.head(k('expired'))).toBeNull();
      await store.put(k('fresh'), Buffer.from('new'), { expiresAt: Date.now() + 60_000 });
      expect(await store.head(k('fresh'))).not.toBeNull();
    });

    it('concurrent puts of one key leave one whole version, body and metadata together', async () => {
      const bodies = Array.from({ length: 5 }, () => randomBytes(300_000));
      await Promise.all(bodies.map((b, i) => store.put(k('race'), b, { extra: { n: String(i) } })));
      const e = entry(await store.get(k('race')));
      const got = await collect(e.body);
      const idx = bodies.findIndex((b) => b.equals(got));
      expect(idx).toBeGreaterThanOrEqual(0);
      expect(e.meta.extra?.n).toBe(String(idx));
    });

    it('answers a conditional get with notModified when the validator matches', async () => {
      await store.put(k('cond'), Buffer.from('conditional'), { contentType: 'text/plain' });
      const m = await store.head(k('cond'));
      expect(m?.etag).toBeTruthy();
      const nm = await store.get(k('cond'), { ifNoneMatch: m?.etag ?? '' });
      expect(nm !== null && isNotModified(nm)).toBe(true);
      if (nm !== null && isNotModified(nm)) expect(nm.meta.size).toBe(11);

      const other = entry(await store.get(k('cond'), { ifNoneMatch: '"definitely-not-this"' }));
      expect((await collect(other.body)).toString()).toBe('conditional');

      const future = new Date(Date.now() + 3_600_000).toUTCString();
      const ims = await store.get(k('cond'), { ifModifiedSince: future });
      expect(ims !== null && isNotModified(ims)).toBe(true);
      const past = entry(await store.get(k('cond'), { ifModifiedSince: new Date('2000-01-01T00:00:00Z').toUTCString() }));
      expect((await collect(past.body)).toString()).toBe('conditional');
    });

    it('stores the original validators it is given', async () => {
      const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT';
      await store.put(k('validators'), Buffer.from('v'), { etag: '"origin-etag"', lastModified });
      const m = await store.head(k('validators'));
      expect(m?.etag).toBe('"origin-etag"');
      expect(m?.lastModified).toBe(lastModified);
      const nm = await store.get(k('validators'), { ifNoneMatch: '"origin-etag"' });
      expect(nm !== null && isNotModified(nm)).toBe(true);
    });

    /** What a keyed store answers for a foreign entry: the rejection, or (a store that removed it) a miss; never the entry. */
    async function refused(p: Promise<unknown>): Promise<ForeignEntryError | null> {
      const r = await p.then(
        (v) => v,
        (e: unknown) => e,
      );
      if (r === null || r instanceof ForeignEntryError) return r;
      throw new Error(`a foreign entry was answered: ${String(r instanceof Error ? r.message : JSON.stringify(r))}`);
    }

    it('records the key an entry was put under, and reads it back', async () => {
      await store.put(k('recorded'), Buffer.from('r'), {});
      expect((await store.head(k('recorded')))?.key).toBe(k('recorded'));
      expect(entry(await store.get(k('recorded'))).meta.key).toBe(k('recorded'));
    });

    it('entries swapped under each other\'s keys are refused (ForeignEntryError), never served', async () => {
      const names = Array.from({ length: 4 }, (_, i) => k(`swap/${i}`));
      await Promise.all(names.map((n, i) => store.put(n, Buffer.from(`body ${i}`), { contentType: 'image/png', extra: { i: String(i) } })));
      const etags = await Promise.all(names.map(async (n) => (await store.head(n))?.etag ?? ''));
      // Each object is copied, body and metadata, over the next one's name (through a spare name: a swap).
      await fx.raw.copy(names[0] as string, k('swap/spare'));
      for (let i = 0; i < names.length - 1; i++) await fx.raw.copy(names[i + 1] as string, names[i] as string);
      await fx.raw.copy(k('swap/spare'), names[names.length - 1] as string);
      for (const [i, n] of names.entries()) {
        const got = await refused(store.get(n));
        expect(got).toBeInstanceOf(ForeignEntryError);
        expect(got?.recorded).toBe(names[(i + 1) % names.length]);
        // Afterwards: still refused (left in place) or gone (removed): never served.
        await refused(store.get(n));
        await refused(store.head(n));
        // Not even "not modified" for the validator of the entry that now lies there.
        await refused(store.get(n, { ifNoneMatch: etags[(i + 1) % names.length] as string }));
      }
    });

    it('an object that records no key is refused by a keyed store; a source reads it', async () => {
      await fx.raw.putKeyless(k('keyless'), Buffer.from('written by another'));
      const got = await refused(store.get(k('keyless')));
      expect(got).toBeInstanceOf(ForeignEntryError);
      expect(got?.recorded).toBeUndefined();
      await refused(store.head(k('keyless')));
      if (fx.sourceStore) {
        await fx.raw.putKeyless(k('keyless'), Buffer.from('written by another'));
        expect((await collect(entry(await fx.sourceStore.get(k('keyless'))).body)).toString()).toBe('written by another');
        // A source reads whatever is under the name, recorded under another key or not.
        await store.put(k('keyless-other'), Buffer.from('r'), {});
        await fx.raw.copy(k('keyless-other'), k('keyless'));
        expect((await collect(entry(await fx.sourceStore.get(k('keyless'))).body)).toString()).toBe('r');
      }
    });

    it('putIfAbsent creates an entry only where nothing lies, expired entries included', async (ctx) => {
      if (fx.conditionalCreate === 'ignored') return ctx.skip('the test server ignores the condition');
      const key = k('create-once');
      if (fx.conditionalCreate === 'unsupported') {
        await expect(store.putIfAbsent(key, Buffer.from('first'), {})).rejects.toBeInstanceOf(ConditionalWriteUnsupportedError);
        expect(await store.head(key)).toBeNull();
        return;
      }
      expect(await store.putIfAbsent(key, Buffer.from('first'), { contentType: 'text/plain', extra: { owner: 'a' }, expiresAt: Date.now() + 60_000 })).toBe(true);
      expect(await store.putIfAbsent(key, Buffer.from('second'), { extra: { owner: 'b' } })).toBe(false);
      const e = entry(await store.get(key));
      expect((await collect(e.body)).toString()).toBe('first');
      expect(e.meta.extra).toEqual({ owner: 'a' });
      expect(e.meta.key).toBe(key);
      await store.delete(key);
      expect(await store.putIfAbsent(key, Buffer.from('third'), {})).toBe(true);
      expect((await collect(entry(await store.get(key)).body)).toString()).toBe('third');
      // An expired entry is a miss for get and head, but it is still there: no create over it.
      await store.put(k('create-expired'), Buffer.from('old'), { expiresAt: Date.now() - 1000 });
      expect(await store.head(k('create-expired'))).toBeNull();
      expect(await store.putIfAbsent(k('create-expired'), Buffer.from('new'), {})).toBe(false);
    });

    it('concurrent putIfAbsent of one key: one whole entry is left, and it belongs to a winner', async (ctx) => {
      if (fx.conditionalCreate === 'unsupported' || fx.conditionalCreate === 'ignored') return ctx.skip(`the test server's conditional create is ${fx.conditionalCreate}`);
      const key = k('create-race');
      const won = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent(key, Buffer.from(`body ${i}`), { extra: { n: String(i) } })));
      const winners = won.flatMap((w, i) => (w ? [i] : []));
      if ((fx.conditionalCreate ?? 'atomic') === 'atomic') expect(winners).toHaveLength(1);
      else expect(winners.length).toBeGreaterThanOrEqual(1);
      const e = entry(await store.get(key));
      const n = Number(e.meta.extra?.n);
      expect(winners).toContain(n);
      expect((await collect(e.body)).toString()).toBe(`body ${n}`);
    });

    it('rejects wrong credentials with a clear error, quickly', async (ctx) => {
      if (!fx.withWrongCredentials) {
        ctx.skip(fx.noCredentialsReason ?? 'backend has no credentials');
        return;
      }
      const bad = await fx.withWrongCredentials();
      const started = Date.now();
      const err = await bad.get(k('bytes')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/credential|auth|denied|forbidden|signature|unauthori[sz]ed|40[13]/i);
      await expect(bad.put(k('bad-put'), Buffer.from('x'), {})).rejects.toThrow(/credential|auth|denied|forbidden|signature|unauthori[sz]ed|40[13]/i);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await store.head(k('bad-put'))).toBeNull();
    });
  });
}
