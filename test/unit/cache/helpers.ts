/**
 * Shared test helpers for the cache and fs-storage tests: temp dirs that are removed,
 * a config from an env map, hex keys, a logger whose lines can be inspected, and a
 * `fetch`-based source fetcher for real loopback origins.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { createLogger, type Logger } from '../../../src/observability/logger.js';
import type { SourceFetcher } from '../../../src/cache/origin.js';

export async function makeTempDir(tag = 'pixproxy-cache-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), tag));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ PP_CACHE_CLEANUP_INTERVAL_SECS: '0', ...env });
}

export function hexKey(i: number | string): string {
  return createHash('sha256').update(String(i)).digest('hex');
}

/** Deterministic pseudo-random bytes (so a child process and the test agree on content). */
export function bodyFor(i: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let seed = 0;
  for (let off = 0; off < size; off += 32) {
    createHash('sha256').update(`${i}:${seed++}`).digest().copy(out, off, 0, Math.min(32, size - off));
  }
  return out;
}

export interface CapturedLogger {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
}

export function captureLogger(level = 'debug'): CapturedLogger {
  const raw: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger(level, dest);
  return {
    logger,
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A real HTTP fetcher (global fetch) honouring the conditional headers the origin store asks for. */
export function httpFetcher(url: string): SourceFetcher {
  return async (cond) => {
    const headers: Record<string, string> = {};
    if (cond.ifNoneMatch !== undefined) headers['if-none-match'] = cond.ifNoneMatch;
    if (cond.ifModifiedSince !== undefined) headers['if-modified-since'] = cond.ifModifiedSince;
    const res = await fetch(url, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 && res.status !== 304) {
      throw res.status >= 500
        ? new ProxyError('SOURCE_BAD_GATEWAY', `origin answered ${res.status}`)
        : new ProxyError('SOURCE_CLIENT_ERROR', `origin answered ${res.status}`, { status: 404 });
    }
    const h: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      h[k] = v;
    });
    return {
      status: res.status,
      body,
      headers: h,
      ...(h['content-type'] !== undefined ? { contentType: h['content-type'] } : {}),
      ...(h.etag !== undefined ? { etag: h.etag } : {}),
      ...(h['last-modified'] !== undefined ? { lastModified: h['last-modified'] } : {}),
    };
  };
}

/** Array.fromAsync is Node 22+; the project supports Node 20. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Independent disk measure of a store dir, as `du` counts it: allocated bytes (`st_blocks ×
 * 512`) of the entry files and of the shard directories (`ab/`, `ab/cd/`), and the number of
 * entry files (walks the tree, skips temps and `origin/`).
 */
export async function diskUsage(root: string): Promise<{ bytes: number; files: number; dirs: number }> {
  const { readdir, lstat } = await import('node:fs/promises');
  let bytes = 0;
  let files = 0;
  let dirs = 0;
  async function walk(d: string, depth: number): Promise<void> {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const p = join(d, name);
      const st = await lstat(p);
      if (st.isDirectory()) {
        if (depth < 2 && /^[0-9a-f]{2}$/.test(name)) {
          bytes += st.blocks * 512;
          dirs++;
          await walk(p, depth + 1);
        }
      } else if (depth === 2 && !name.startsWith('.')) {
        bytes += st.blocks * 512;
        files++;
      }
    }
  }
  await walk(root, 0);
  return { bytes, files, dirs };
}
