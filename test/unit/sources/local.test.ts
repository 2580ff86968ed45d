import { mkdir, mkdtemp, readdir, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { checkLocalFilesystemRoot, createLocalSource, localPathOf } from '../../../src/sources/local.js';
import type { Source } from '../../../src/sources/types.js';
import { rejection } from '../../helpers/errors.js';

let base: string;
let root: string;
let src: Source;
const IMAGE = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const MTIME = new Date('2024-03-01T12:00:00Z');

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'pixproxy-local-'));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'img', 'sub'), { recursive: true });
  await writeFile(path.join(root, 'img', 'a.png'), IMAGE);
  await utimes(path.join(root, 'img', 'a.png'), MTIME, MTIME);
  await writeFile(path.join(root, 'img', 'name with space?.png'), IMAGE);
  await writeFile(path.join(base, 'secret.txt'), 'secret');
  // A sibling whose name starts with the root's: the CVE-2025-54387 prefix trap.
  await mkdir(path.join(base, 'root-evil'));
  await writeFile(path.join(base, 'root-evil', 'x.png'), 'evil');
  await symlink(path.join(base, 'secret.txt'), path.join(root, 'img', 'escape.png'));
  await symlink(path.join(root, 'img', 'a.png'), path.join(root, 'img', 'inside-link.png'));
  await symlink(base, path.join(root, 'updir'));
  src = createLocalSource(loadConfig({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: root }));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('local source', () => {
  it('reads a file with ETag and Last-Modified', async () => {
    const res = await src.fetch('local:///img/a.png', { maxBytes: 0 });
    expect(res.status).toBe(200);
    expect(res.body.equals(IMAGE)).toBe(true);
    expect(res.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(res.lastModified).toBe(MTIME.toUTCString());
    expect(res.headers.etag).toBe(res.etag);
    expect(res.headers['last-modified']).toBe(res.lastModified);
  });

  it('percent-decodes the path and ignores a query', async () => {
    const res = await src.fetch('local:///img/name%20with%20space%3F.png?v=2', { maxBytes: 0 });
    expect(res.body.equals(IMAGE)).toBe(true);
  });

  it('follows a symlink that stays inside the root', async () => {
    const res = await src.fetch('local:///img/inside-link.png', { maxBytes: 0 });
    expect(res.body.equals(IMAGE)).toBe(true);
  });

  it.each(['local:///../secret.txt', 'local:///img/../../secret.txt', 'local:///%2e%2e/secret.txt', 'local:///img/%2E%2E%2F%2E%2E%2Fsecret.txt', 'local:///../root-evil/x.png'])(
    'refuses traversal %s',
    async (url) => {
      const err = await rejection(src.fetch(url, { maxBytes: 0 }));
      expect(err.code).toBe('SOURCE_PATH_FORBIDDEN');
      expect(err.status).toBe(404);
    },
  );

  it('allows .. that stays inside the root', async () => {
    const res = await src.fetch('local:///img/sub/../a.png', { maxBytes: 0 });
    expect(res.body.equals(IMAGE)).toBe(true);
  });

  it.each(['local:///img/escape.png', 'local:///updir/secret.txt'])('refuses a symlink escape %s', async (url) => {
    const err = await rejection(src.fetch(url, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_PATH_FORBIDDEN');
    expect(err.status).toBe(404);
    expect(err.message).toContain('symlink');
  });

  it('a missing file is SOURCE_CLIENT_ERROR 404', async () => {
    const err = await rejection(src.fetch('local:///img/nope.png', { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_CLIENT_ERROR');
    expect(err.status).toBe(404);
  });

  it.each(['local:///img', 'local:///img/', 'local:///'])('a directory (%s) is SOURCE_NOT_A_FILE 404', async (url) => {
    const err = await rejection(src.fetch(url, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_NOT_A_FILE');
    expect(err.status).toBe(404);
  });

  it('refuses a file over maxBytes from its size', async () => {
    const err = await rejection(src.fetch('local:///img/a.png', { maxBytes: IMAGE.length - 1 }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    expect(err.status).toBe(422);
    const ok = await src.fetch('local:///img/a.png', { maxBytes: IMAGE.length });
    expect(ok.status).toBe(200);
  });

  it('answers 304 to a matching If-None-Match and 200 to a stale one', async () => {
    const first = await src.fetch('local:///img/a.png', { maxBytes: 0 });
    const etag = first.etag as string;
    const hit = await src.fetch('local:///img/a.png', { maxBytes: 0, ifNoneMatch: `"other", W/${etag}` });
    expect(hit.status).toBe(304);
    expect(hit.body.length).toBe(0);
    expect(hit.etag).toBe(etag);
    const miss = await src.fetch('local:///img/a.png', { maxBytes: 0, ifNoneMatch: '"other"' });
    expect(miss.status).toBe(200);
  });

  it('serves a single byte range as 206 with Content-Range and the type sniffed from the head', async () => {
    const res = await src.fetch('local:///img/a.png', { maxBytes: 0, range: 'bytes=4-9' });
    expect(res.status).toBe(206);
    expect(res.body.equals(IMAGE.subarray(4, 10))).toBe(true);
    expect(res.contentRange).toBe(`bytes 4-9/${IMAGE.length}`);
    expect(res.acceptRanges).toBe('bytes');
    expect(res.contentType).toBe('image/png');
    // A multi-range request is answered with the whole file, as HTTP allows.
    const multi = await src.fetch('local:///img/a.png', { maxBytes: 0, range: 'bytes=0-1,4-5' });
    expect(multi.status).toBe(200);
    expect(multi.body.equals(IMAGE)).toBe(true);
  });

  it('a range past the end is 416; a matching If-None-Match wins over the range', async () => {
    const err = await rejection(src.fetch('local:///img/a.png', { maxBytes: 0, range: `bytes=${IMAGE.length}-` }));
    expect(err.status).toBe(416);
    const first = await src.fetch('local:///img/a.png', { maxBytes: 0 });
    const hit = await src.fetch('local:///img/a.png', { maxBytes: 0, range: 'bytes=0-3', ifNoneMatch: first.etag as string });
    expect(hit.status).toBe(304);
  });

  it('maxBytes bounds the file, not the range', async () => {
    const err = await rejection(src.fetch('local:///img/a.png', { maxBytes: IMAGE.length - 1, range: 'bytes=0-1' }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
  });

  it('answers 304 to If-Modified-Since at or after the mtime', async () => {
    const at = await src.fetch('local:///img/a.png', { maxBytes: 0, ifModifiedSince: MTIME.toUTCString() });
    expect(at.status).toBe(304);
    const before = await src.fetch('local:///img/a.png', { maxBytes: 0, ifModifiedSince: new Date(MTIME.getTime() - 1000).toUTCString() });
    expect(before.status).toBe(200);
    const garbage = await src.fetch('local:///img/a.png', { maxBytes: 0, ifModifiedSince: 'yesterday' });
    expect(garbage.status).toBe(200);
  });

  it('a changed file gets a new ETag', async () => {
    const p = path.join(root, 'img', 'changing.png');
    await writeFile(p, IMAGE);
    await utimes(p, MTIME, MTIME);
    const a = await src.fetch('local:///img/changing.png', { maxBytes: 0 });
    await writeFile(p, Buffer.concat([IMAGE, IMAGE]));
    await utimes(p, MTIME, MTIME);
    const b = await src.fetch('local:///img/changing.png', { maxBytes: 0 });
    expect(b.etag).not.toBe(a.etag);
  });

  it('refuses malformed URLs with INVALID_SOURCE_URL', async () => {
    for (const url of ['local://host/img/a.png', 'local:///img/%E0%A4%A.png', 'local:///img/a%00.png']) {
      const err = await rejection(src.fetch(url, { maxBytes: 0 }));
      expect(err.code, url).toBe('INVALID_SOURCE_URL');
    }
  });

  it('a root that does not exist is SOURCE_UNREACHABLE or 404, never a 500', async () => {
    const gone = createLocalSource(loadConfig({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: path.join(base, 'missing-root') }));
    const err = await rejection(gone.fetch('local:///a.png', { maxBytes: 0 }));
    expect(err.status).toBe(404);
  });

  it('localPathOf decodes and strips query and fragment', () => {
    expect(localPathOf('local:///a%20b/c.png?x#y')).toBe('/a b/c.png');
  });

  it('checkLocalFilesystemRoot: directory ok, / warns, missing or a file refuses', async () => {
    expect(await checkLocalFilesystemRoot(loadConfig({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: root }))).toBeUndefined();
    expect(await checkLocalFilesystemRoot(loadConfig({}))).toBeUndefined();
    expect(await checkLocalFilesystemRoot(loadConfig({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: '/' }))).toMatch(/filesystem root/);
    await expect(checkLocalFilesystemRoot(loadConfig({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: path.join(base, 'nope') }))).rejects.toBeInstanceOf(ConfigError);
    await expect(checkLocalFilesystemRoot(loadConfig({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: path.join(base, 'secret.txt') }))).rejects.toThrow(/expected a directory/);
  });
});

describe('local source: stream()', () => {
  async function read(body: NodeJS.ReadableStream): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }

  it('streams the whole file with its validators and length', async () => {
    const whole = await src.fetch('local:///img/a.png', { maxBytes: 0 });
    const res = await src.stream!('local:///img/a.png', { maxBytes: 0 });
    expect(res.status).toBe(200);
    expect(res.etag).toBe(whole.etag);
    expect(res.contentLength).toBe(IMAGE.length);
    expect((await read(res.body)).equals(IMAGE)).toBe(true);
  });

  it('streams a byte range as 206 with the sniffed type, and answers 304 and 416 like fetch', async () => {
    const res = await src.stream!('local:///img/a.png', { maxBytes: 0, range: 'bytes=4-9' });
    expect(res.status).toBe(206);
    expect(res.contentRange).toBe(`bytes 4-9/${IMAGE.length}`);
    expect(res.contentLength).toBe(6);
    expect(res.contentType).toBe('image/png');
    expect((await read(res.body)).equals(IMAGE.subarray(4, 10))).toBe(true);

    const again = await src.stream!('local:///img/a.png', { maxBytes: 0, ifNoneMatch: res.etag ?? '' });
    expect(again.status).toBe(304);
    expect((await rejection(src.stream!('local:///img/a.png', { maxBytes: 0, range: 'bytes=999-' }))).status).toBe(416);
  });

  it('keeps the path checks and the size limit', async () => {
    expect((await rejection(src.stream!('local:///img/escape.png', { maxBytes: 0 }))).code).toBe('SOURCE_PATH_FORBIDDEN');
    expect((await rejection(src.stream!('local:///missing.png', { maxBytes: 0 }))).status).toBe(404);
    expect((await rejection(src.stream!('local:///img/a.png', { maxBytes: 4 }))).code).toBe('SOURCE_TOO_BIG');
  });
});

describe('local source: cancellation', () => {
  const openFds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

  it('the signal stops a read in progress with CANCELLED and the file is closed', async () => {
    // Sparse: 512 MiB to read, none of it on disk.
    const big = path.join(root, 'img', 'big.bin');
    await writeFile(big, '');
    await truncate(big, 512 * 1024 * 1024);
    try {
      const fds = await openFds();
      const ac = new AbortController();
      const pending = rejection(src.fetch('local:///img/big.bin', { maxBytes: 0, signal: ac.signal }));
      setTimeout(() => ac.abort(), 5);
      const started = Date.now();
      const err = await pending;
      expect(err.code).toBe('CANCELLED');
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await openFds()).toBe(fds);

      const s = await src.stream!('local:///img/big.bin', { maxBytes: 0, signal: ac.signal }).catch((e: unknown) => e);
      expect(s).toMatchObject({ code: 'CANCELLED' });
      expect(await openFds()).toBe(fds);
    } finally {
      await rm(big);
    }
  });
});
