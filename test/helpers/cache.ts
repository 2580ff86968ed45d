/**
 * Shared setup of the cache integration tests (test/integration/cache/): an imgproxy key/salt
 * pair and a second one for rotations, requests with their X-Cache answer, the cache entry files
 * under a directory (and their sizes), the transformed-store key of a path as the running app
 * computes it, a logger whose lines can be inspected, a scraped /metrics, and the loopback origin
 * with the images those tests fetch (`useCacheOrigin`: started before a file's tests, closed after).
 */
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, expect } from 'vitest';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { RunningApp } from './app.js';
import { makePhoto } from './images.js';
import { counterTotal } from './metrics.js';
import { startOrigin, type Origin } from './origin.js';

export const K1 = Buffer.from('seed-key-1');
export const S1 = Buffer.from('seed-salt-1');
export const K2 = Buffer.from('seed-key-2');
export const S2 = Buffer.from('seed-salt-2');
export const hex = (b: Buffer): string => b.toString('hex');
export const ENV = { IMGPROXY_KEY: hex(K1), IMGPROXY_SALT: hex(S1) };
export const signed = (path: string, key = K1, salt = S1): string => `/${sign(path, key, salt, 32)}${path}`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const MB = 1024 * 1024;

/** Polls `cond` every 100 ms for up to `ms`; the caller's assertion says what failed. */
export async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await sleep(100);
}

export interface Got {
  status: number;
  cache: string | null;
  body: Buffer;
  headers: Headers;
}

export async function get(px: RunningApp, path: string, init?: RequestInit): Promise<Got> {
  const res = await fetch(px.url + path, init);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, cache: res.headers.get('x-cache'), body, headers: res.headers };
}

export async function size(img: Buffer): Promise<[number | undefined, number | undefined]> {
  const m = await sharp(img).metadata();
  return [m.width, m.height];
}

export function lookups(px: RunningApp, layer: string, outcome: string): Promise<number> {
  return counterTotal(px.app.ctx.metrics.cacheLookups, { layer, outcome });
}

export interface EntryFile {
  rel: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** A file removed between the listing and the stat (a sweep or an eviction running meanwhile) is not there any more: null. */
async function statIfThere(p: string): Promise<Stats | null> {
  return stat(p).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  });
}

/** Every cache entry file (64-hex name) under `root`, recursively; temp files are not entries. */
export async function entryFiles(root: string): Promise<EntryFile[]> {
  const out: EntryFile[] = [];
  async function walk(d: string): Promise<void> {
    let ents;
    try {
      ents = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /^[0-9a-f]{64}$|^[0-9a-f]{32}_[ri][0-9a-f]+$/.test(e.name)) {
        const st = await statIfThere(p);
        if (st) out.push({ rel: relative(root, p), path: p, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

/** Every file of any kind under `root` (sizes included): what "disk usage" means. */
export async function diskBytes(root: string): Promise<number> {
  let total = 0;
  async function walk(d: string): Promise<void> {
    // A shard directory removed meanwhile holds nothing; the root itself must be there.
    const ents = await readdir(d, { withFileTypes: true }).catch((err: unknown) => {
      if (d !== root && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    });
    for (const e of ents) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else total += (await statIfThere(p))?.size ?? 0;
    }
  }
  await walk(root);
  return total;
}

export const inOrigin = (f: EntryFile): boolean => f.rel.split(sep).includes('origin');
export const shardOf = (key: string): string => join(key.slice(0, 2), key.slice(2, 4), key);

/** The transformed-store key of an imgproxy path, computed by the running app itself. */
export function keyOf(px: RunningApp, path: string, headers: Record<string, string> = {}): string {
  return px.app.ctx.cache.key(px.app.ctx.dialect.parseImage(path, headers), headers);
}

export function captureLogger(level = 'debug'): { logger: Logger; lines: Array<{ level: number; msg?: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as { level: number; msg?: string });
      cb();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

export type Samples = Map<string, number>;

/** Prometheus text → `name{a="x",b="y"}` (labels sorted) → value. */
export function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    out.set(labels.length ? `${m[1]}{${labels.join(',')}}` : (m[1] as string), Number(m[3]));
  }
  return out;
}

export function sample(s: Samples, name: string, labels: Record<string, string> = {}): number {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
  return s.get(l.length ? `${name}{${l.join(',')}}` : name) ?? 0;
}

export async function scrape(url: string): Promise<Samples> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

export interface CacheOrigin {
  origin: Origin;
  /** 800×600: what most paths fetch. */
  photo: Buffer;
  /** 300×500: what a changed source becomes. */
  tall: Buffer;
}

/** The loopback origin of the cache tests: /a.jpg, /b.jpg, a slow one, and three with cache headers. */
export async function startCacheOrigin(): Promise<CacheOrigin> {
  const photo = await makePhoto(800, 600);
  const tall = await makePhoto(300, 500);
  const origin = await startOrigin({
    '/a.jpg': { body: photo, contentType: 'image/jpeg' },
    '/b.jpg': { body: photo, contentType: 'image/jpeg' },
    '/slow.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 400 },
    '/maxage.jpg': { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=1000' } },
    '/maxage2.jpg': { body: photo, contentType: 'image/jpeg', headers: { 'Cache-Control': 'max-age=2' } },
    '/noheaders.jpg': { body: photo, contentType: 'image/jpeg' },
  });
  return { origin, photo, tall };
}

/** The cache tests' origin for one test file: started in its beforeAll, closed in its afterAll. */
export function useCacheOrigin(): CacheOrigin {
  const fixture = {} as CacheOrigin;
  beforeAll(async () => {
    Object.assign(fixture, await startCacheOrigin());
  });
  afterAll(async () => {
    await fixture.origin.close();
  });
  return fixture;
}
