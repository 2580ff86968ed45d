/**
 * With L1 off, an L2 hit reads its entry into a pooled buffer that the image handler gives
 * back once the response has finished (src/buffer-pool.ts): the pool must never let a buffer
 * serve a second read while a response still sends it. Through a real server and a real
 * origin: results of four sizes, two of them in one size class, read by many connections at
 * once, some of them reading slowly and some cut off half-way, with conditional requests
 * among them; every body must be its own entry's, byte for byte, and the pool must have
 * been used (cache_read_buffers_total). Loopback takes a megabyte or more into the kernel
 * before a write waits, so one client pipelines eight ~900 KB answers of eight entries (one
 * size class, reads nobody shares) without reading: most of them wait in the server with
 * their buffers while another client reads entries of that class one after the other (a
 * buffer given back at res.end() instead of at 'finish' fails this test).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../helpers/app.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { sample, scrape, sleep } from '../../helpers/cache.js';

/** Noise does not compress: a PNG of side² × 3 bytes or so. 380 and 400 share the 512 KB class; the big ones, the 1 MB class. */
const SIDES = [150, 250, 380, 400];
const BIG_SIDES = [540, 542, 544, 546, 548, 550, 552, 554];
let origin: Origin;
let px: RunningApp;
const paths: string[] = [];
const bigPaths: string[] = [];
const digests = new Map<string, string>();

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function noisePng(side: number): Promise<Buffer> {
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

interface Answer {
  status: number;
  cache: string;
  etag: string;
  body: Buffer;
}

function get(agent: Agent, path: string, opts: { pauseMs?: number; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${px.url}${path}`, { agent, headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cache: String(res.headers['x-cache'] ?? ''), etag: String(res.headers.etag ?? ''), body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
      if (opts.pauseMs !== undefined) {
        res.pause();
        setTimeout(() => res.resume(), opts.pauseMs);
      }
    });
    req.on('error', reject);
    req.end();
  });
}

/** A client that asks for `path` and hangs up after the first bytes of the answer. */
function cutOff(path: string): Promise<void> {
  const { port } = new URL(px.url);
  return new Promise((resolve) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    sock.once('data', () => sock.destroy());
    sock.on('close', () => resolve());
    sock.on('error', () => undefined);
  });
}

beforeAll(async () => {
  const files: Record<string, { body: Buffer; contentType: string }> = {};
  const sides = [...SIDES, ...BIG_SIDES];
  for (const [i, side] of sides.entries()) files[`/n${i}.png`] = { body: await noisePng(side), contentType: 'image/png' };
  origin = await startOrigin(files);
  px = await startApp({ PP_CACHE_MEMORY_MAX_MB: '0', PIXPROXY_METRICS_ON_MAIN_PORT: 'true' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (const [i, side] of sides.entries()) {
    const path = `/insecure/plain/${origin.url}/n${i}.png@png`;
    const miss = await get(agent, path);
    expect(miss.status).toBe(200);
    // Noise does not compress: the result is about as big as the pixels (its size class is the point).
    expect(miss.body.length).toBeGreaterThan(side ** 2 * 3 * 0.95);
    await px.app.ctx.cache.flush();
    const hit = await get(agent, path);
    expect(hit.cache).toBe('HIT-L2');
    expect(hit.body.equals(miss.body)).toBe(true);
    (i < SIDES.length ? paths : bigPaths).push(path);
    digests.set(path, sha(miss.body));
  }
  agent.destroy();
}, 60_000);

afterAll(async () => {
  await px?.stop();
  await origin?.close();
});

/** The answers to `count` GETs of `pathsAsked` sent at once on one connection that reads nothing for `waitMs`. */
function pipelined(pathsAsked: string[], waitMs: number): Promise<Buffer[]> {
  const { port } = new URL(px.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(Number(port), '127.0.0.1', () => {
      sock.pause();
      sock.write(pathsAsked.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
      setTimeout(() => sock.resume(), waitMs);
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const bodies = parseAnswers(Buffer.concat(chunks));
      if (bodies !== null && bodies.length === pathsAsked.length) {
        sock.destroy();
        resolve(bodies);
      }
    });
    sock.on('error', reject);
  });
}

/** The bodies of the complete HTTP/1.1 answers in `buf` (Content-Length framing); null while one is incomplete. */
function parseAnswers(buf: Buffer): Buffer[] | null {
  const bodies: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) return null;
    const head = buf.subarray(off, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!head.startsWith('HTTP/1.1 200') || !Number.isFinite(length)) throw new Error(`unexpected answer: ${head.split('\r\n')[0]}`);
    if (end + 4 + length > buf.length) return null;
    bodies.push(buf.subarray(end + 4, end + 4 + length));
    off = end + 4 + length;
  }
  return bodies;
}

describe('L2 read buffers given back for reuse (L1 off)', () => {
  it('every answer carries its own entry, byte for byte, under concurrent, slow, cut-off and conditional reads, and the buffers were reused', async () => {
    const before = await scrape(`${px.url}/metrics`);
    const agent = new Agent({ keepAlive: true, maxSockets: 24 });
    const etags = new Map<string, string>();
    let seed = 7;
    const pick = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    for (let round = 0; round < 6; round++) {
      const asked: Array<Promise<void>> = [];
      for (let j = 0; j < 48; j++) {
        const path = paths[pick(paths.length)] ?? '';
        const kind = pick(8);
        if (kind === 0) {
          asked.push(cutOff(path));
          continue;
        }
        const etag = etags.get(path);
        const conditional = kind === 1 && etag !== undefined;
        const pauseMs = kind === 2 ? 10 + pick(40) : undefined;
        asked.push(
          get(agent, path, { ...(pauseMs !== undefined ? { pauseMs } : {}), ...(conditional ? { headers: { 'If-None-Match': etag } } : {}) }).then((a) => {
            if (conditional) {
              expect(a.status).toBe(304);
              return;
            }
            expect(a.status).toBe(200);
            expect(a.cache).toBe('HIT-L2');
            expect(sha(a.body), path).toBe(digests.get(path));
            etags.set(path, a.etag);
          }),
        );
      }
      await Promise.all(asked);
    }
    agent.destroy();
    const after = await scrape(`${px.url}/metrics`);
    const reused = sample(after, 'cache_read_buffers_total', { outcome: 'reused' }) - sample(before, 'cache_read_buffers_total', { outcome: 'reused' });
    const allocated = sample(after, 'cache_read_buffers_total', { outcome: 'allocated' }) - sample(before, 'cache_read_buffers_total', { outcome: 'allocated' });
    // 288 reads, ~250 of them answered: most from a buffer given back by an earlier answer.
    expect(reused).toBeGreaterThan(100);
    expect(allocated).toBeLessThan(reused);
  }, 60_000);

  it('answers waiting behind a full socket keep their buffers while other reads of their size class go on', async () => {
    const before = await scrape(`${px.url}/metrics`);
    const slow = pipelined(bigPaths, 600);
    // Once the pipelined answers wait, another client reads entries of the same 1 MB class,
    // three at a time (the free list is last-in first-out: the buffers released last go first).
    await sleep(150);
    const agent = new Agent({ keepAlive: true, maxSockets: 3 });
    await Promise.all(
      Array.from({ length: 30 }, async (_, j) => {
        const path = bigPaths[(j * 3) % bigPaths.length] ?? '';
        const a = await get(agent, path);
        expect(sha(a.body), path).toBe(digests.get(path));
      }),
    );
    agent.destroy();
    const bodies = await slow;
    bodies.forEach((b, j) => expect(sha(b), `answer ${j} on the pipelined connection`).toBe(digests.get(bigPaths[j] ?? '')));
    const after = await scrape(`${px.url}/metrics`);
    expect(sample(after, 'cache_read_buffers_total', { outcome: 'reused' }) - sample(before, 'cache_read_buffers_total', { outcome: 'reused' })).toBeGreaterThan(10);
  }, 60_000);
});
