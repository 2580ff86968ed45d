import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../../src/config/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createSources, schemeOf, sourceByteLimit, type Sources } from '../../../src/sources/index.js';
import type { Source } from '../../../src/sources/types.js';
import { startHandlerOrigin } from '../../helpers/origin.js';
import { rejection } from '../../helpers/errors.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function logCapture(): { lines: { msg: string; level: number }[]; logger: ReturnType<typeof createLogger> } {
  const lines: { msg: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; level: number });
      cb();
    },
  });
  return { lines, logger: createLogger('debug', sink) };
}

function sources(env: Env, extra: Source[] = [], logger?: ReturnType<typeof createLogger>): Sources {
  const s = createSources(loadConfig({ ...env }), extra, logger, { metrics: createMetrics('', false) });
  cleanups.push(() => s.close());
  return s;
}

describe('schemeOf', () => {
  it('extracts the lower-cased scheme', () => {
    expect(schemeOf('HTTPS://x/y')).toBe('https');
    expect(schemeOf('s3://bucket/key')).toBe('s3');
    expect(schemeOf('local:///a')).toBe('local');
    expect(schemeOf('/relative')).toBeNull();
    expect(schemeOf('1http://x')).toBeNull();
  });
});

describe('createSources', () => {
  it('dispatches http to the http source', async () => {
    const o = await startHandlerOrigin((_req, res) => res.end('hello'));
    cleanups.push(() => o.close());
    const res = await sources({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' }).fetch(`${o.url}/x`, { maxBytes: 0 });
    expect(res.body.toString()).toBe('hello');
  });

  it('counts every fetch and stream once, per scheme and outcome', async () => {
    const o = await startHandlerOrigin((req, res) => {
      res.writeHead(req.url === '/ok' ? 200 : 404);
      res.end('x');
    });
    cleanups.push(() => o.close());
    const metrics = createMetrics('', false);
    const s = createSources(loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' }), [], undefined, { metrics });
    cleanups.push(() => s.close());
    await s.fetch(`${o.url}/ok`, { maxBytes: 0 });
    (await s.stream(`${o.url}/ok`, { maxBytes: 0 })).body.resume();
    await expect(s.fetch(`${o.url}/missing`, { maxBytes: 0 })).rejects.toMatchObject({ status: 404 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('upstream_fetches_total{scheme="http",outcome="ok"} 2');
    expect(text).toContain('upstream_fetches_total{scheme="http",outcome="source_client_error"} 1');
  });

  it('dispatches local:// when IMGPROXY_LOCAL_FILESYSTEM_ROOT is set', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pixproxy-idx-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'a.txt'), 'local bytes');
    const res = await sources({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: dir }).fetch('local:///a.txt', { maxBytes: 0 });
    expect(res.body.toString()).toBe('local bytes');
  });

  it.each([
    ['local:///a.png', 'local:// needs IMGPROXY_LOCAL_FILESYSTEM_ROOT'],
    ['s3://bucket/key', 's3:// needs IMGPROXY_USE_S3'],
    ['gs://bucket/key', 'gs:// needs IMGPROXY_USE_GCS'],
    ['abs://container/blob', 'abs:// needs IMGPROXY_USE_ABS'],
    ['swift://container/object', 'swift:// needs IMGPROXY_USE_SWIFT'],
    ['ftp://host/x', 'unknown source scheme ftp://'],
    ['file:///etc/passwd', 'unknown source scheme file://'],
    ['no-scheme-here', 'source URL has no scheme'],
  ])('%s is SOURCE_SCHEME_DISABLED, logged as "%s"', async (url, message) => {
    const { lines, logger } = logCapture();
    const err = await rejection(sources({}, [], logger).fetch(url, { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_SCHEME_DISABLED');
    expect(err.status).toBe(404);
    expect(lines.some((l) => l.level === 40 && l.msg === message)).toBe(true);
  });

  it('dispatches extra sources by scheme', async () => {
    const seen: string[] = [];
    const s3: Source = {
      schemes: ['s3'],
      async fetch(url) {
        seen.push(url);
        return { status: 200, body: Buffer.from('s3 bytes'), headers: {} };
      },
    };
    const res = await sources({}, [s3]).fetch('S3://bucket/key', { maxBytes: 0 });
    expect(res.body.toString()).toBe('s3 bytes');
    expect(seen).toEqual(['S3://bucket/key']);
  });

  it('stream() falls back to a buffered fetch() for a source without stream()', async () => {
    const s3: Source = {
      schemes: ['s3'],
      async fetch() {
        return { status: 200, body: Buffer.from('s3 bytes'), headers: {}, etag: '"e"' };
      },
    };
    const res = await sources({}, [s3]).stream('s3://bucket/key', { maxBytes: 0 });
    expect(res.status).toBe(200);
    expect(res.etag).toBe('"e"');
    expect(res.contentLength).toBe(8);
    const chunks: Buffer[] = [];
    for await (const c of res.body as AsyncIterable<Buffer>) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('s3 bytes');
  });

  it('checks IMGPROXY_ALLOWED_SOURCES for every scheme before any I/O', async () => {
    const seen: string[] = [];
    const s3: Source = {
      schemes: ['s3'],
      async fetch(url) {
        seen.push(url);
        return { status: 200, body: Buffer.alloc(0), headers: {} };
      },
    };
    const o = await startHandlerOrigin((_req, res) => res.end('x'));
    cleanups.push(() => o.close());
    const s = sources({ IMGPROXY_ALLOWED_SOURCES: 's3://good/', IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' }, [s3]);
    expect((await rejection(s.fetch('s3://bad/key', { maxBytes: 0 }))).code).toBe('INVALID_SOURCE_URL');
    expect((await rejection(s.fetch(`${o.url}/x`, { maxBytes: 0 }))).code).toBe('INVALID_SOURCE_URL');
    expect(seen).toEqual([]);
    expect(o.requests).toHaveLength(0);
    await s.fetch('s3://good/key', { maxBytes: 0 });
    expect(seen).toEqual(['s3://good/key']);
  });
});

describe('PIXPROXY_MAX_SRC_BYTES_CEILING', () => {
  it('sourceByteLimit: the asked limit under the ceiling, 0 meaning none on either side', () => {
    expect(sourceByteLimit(0, 1000)).toBe(1000);
    expect(sourceByteLimit(500, 1000)).toBe(500);
    expect(sourceByteLimit(5000, 1000)).toBe(1000);
    expect(sourceByteLimit(0, 0)).toBe(0);
    expect(sourceByteLimit(5000, 0)).toBe(5000);
  });

  it('defaults to 64 MiB', () => {
    expect(loadConfig({}).security.maxSrcBytesCeiling).toBe(64 * 1024 * 1024);
  });

  it('every scheme gets the ceiling as its limit, for fetch and stream, when none is asked', async () => {
    const asked: number[] = [];
    const s3: Source = {
      schemes: ['s3'],
      async fetch(_url, fo) {
        asked.push(fo.maxBytes);
        return { status: 200, body: Buffer.from('x'), headers: {} };
      },
    };
    const s = sources({ PIXPROXY_MAX_SRC_BYTES_CEILING: '1000' }, [s3]);
    await s.fetch('s3://b/k', { maxBytes: 0 });
    await s.fetch('s3://b/k', { maxBytes: 400 });
    await s.fetch('s3://b/k', { maxBytes: 4000 });
    (await s.stream('s3://b/k', { maxBytes: 0 })).body.resume();
    expect(asked).toEqual([1000, 400, 1000, 1000]);
  });

  it('stops an http body and a local file past the ceiling, and lets them through with PIXPROXY_MAX_SRC_BYTES_CEILING=0', async () => {
    const o = await startHandlerOrigin((_req, res) => res.end(Buffer.alloc(2000, 1)));
    cleanups.push(() => o.close());
    const dir = await mkdtemp(path.join(tmpdir(), 'pixproxy-idx-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(2000, 2));
    const env = { IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', IMGPROXY_LOCAL_FILESYSTEM_ROOT: dir };
    const capped = sources({ ...env, PIXPROXY_MAX_SRC_BYTES_CEILING: '1999' });
    for (const url of [`${o.url}/x`, 'local:///big.bin']) {
      const err = await rejection(capped.fetch(url, { maxBytes: 0 }));
      expect(err.code).toBe('SOURCE_TOO_BIG');
      expect(err.message).toContain('1999');
    }
    const open = sources({ ...env, PIXPROXY_MAX_SRC_BYTES_CEILING: '0' });
    expect((await open.fetch(`${o.url}/x`, { maxBytes: 0 })).body.length).toBe(2000);
    expect((await open.fetch('local:///big.bin', { maxBytes: 0 })).body.length).toBe(2000);
  });

  it('warns at startup when IMGPROXY_MAX_SRC_FILE_SIZE is over the ceiling (the ceiling wins)', () => {
    const { lines, logger } = logCapture();
    sources({ IMGPROXY_MAX_SRC_FILE_SIZE: '2000', PIXPROXY_MAX_SRC_BYTES_CEILING: '1000' }, [], logger);
    expect(lines.some((l) => l.level === 40 && l.msg.includes('PIXPROXY_MAX_SRC_BYTES_CEILING'))).toBe(true);
    const quiet = logCapture();
    sources({ IMGPROXY_MAX_SRC_FILE_SIZE: '1000', PIXPROXY_MAX_SRC_BYTES_CEILING: '1000' }, [], quiet.logger);
    expect(quiet.lines.some((l) => l.msg.includes('PIXPROXY_MAX_SRC_BYTES_CEILING'))).toBe(false);
  });
});
