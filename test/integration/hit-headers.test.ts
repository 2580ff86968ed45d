/**
 * The headers an image answer carries are prepared once per (request, entry) and reused on
 * later hits (src/http/image-handler.ts): these tests prove the reused lists are the very
 * headers a fresh answer gets — same names, same order, same values — on a miss, an L1 hit,
 * an L2 hit after a restart, a 304, a clock-dependent Cache-Control, an origin's ETag and
 * Last-Modified carried by the result (imgproxy's conditional requests, with the origin's own
 * 304 answered per request), and a PreviewProxy route whose CORS Vary is merged with ours.
 * Only the request id differs, and it is new every time.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { makePhoto } from '../helpers/images.js';

const LM = 'Wed, 21 Oct 2026 07:28:00 GMT';
const ORIGIN_ETAG = '"origin-v1"';
let origin: Origin;

interface Answer {
  status: number;
  /** Name/value pairs in wire order, Date and connection fields left out. */
  pairs: Array<[string, string]>;
}

/** GET with the raw header list as the server wrote it. */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i] ?? '';
          if (!['date', 'connection', 'keep-alive'].includes(name.toLowerCase())) pairs.push([name, res.rawHeaders[i + 1] ?? '']);
        }
        resolve({ status: res.statusCode ?? 0, pairs });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const value = (a: Answer, name: string): string | undefined => a.pairs.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
/** The pairs with the per-request fields (id, X-Cache) blanked. */
const shape = (a: Answer): Array<[string, string]> => a.pairs.map(([n, v]) => [n, ['x-request-id', 'x-cache'].includes(n.toLowerCase()) ? '*' : v]);

beforeAll(async () => {
  const body = await makePhoto(300, 200);
  origin = await startOrigin({
    '/lm.jpg': { body, contentType: 'image/jpeg', headers: { 'Last-Modified': LM } },
    '/etag.jpg': { body, contentType: 'image/jpeg', headers: { etag: ORIGIN_ETAG, 'Last-Modified': LM } },
  });
});
afterAll(async () => origin.close());

describe('prepared hit headers', () => {
  it('a miss, L1 hits and L2 hits after a restart answer the same header list; ids are new each time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-hith-'));
    const url = (base: string) => `${base}/insecure/rs:fit:50:50/plain/${origin.url}/lm.jpg`;
    try {
      const px = await startApp({ PP_CACHE_DIR: dir, IMGPROXY_ENABLE_DEBUG_HEADERS: 'true' });
      const answers: Answer[] = [];
      try {
        for (let i = 0; i < 3; i++) answers.push(await get(url(px.url)));
      } finally {
        await px.stop({ keepCache: true });
      }
      const l2 = await startApp({ PP_CACHE_DIR: dir, PP_CACHE_MEMORY_MAX_MB: '0', IMGPROXY_ENABLE_DEBUG_HEADERS: 'true' });
      try {
        for (let i = 0; i < 2; i++) answers.push(await get(url(l2.url)));
      } finally {
        await l2.stop({ keepCache: true });
      }
      expect(answers.map((a) => value(a, 'x-cache'))).toEqual(['MISS', 'HIT-L1', 'HIT-L1', 'HIT-L2', 'HIT-L2']);
      const names = answers[0]?.pairs.map(([n]) => n);
      expect(names).toEqual([
        'X-Request-ID',
        'Server',
        'Content-Security-Policy',
        'X-Content-Type-Options',
        'Cache-Control',
        'X-Cache',
        'ETag',
        'Last-Modified',
        'X-Origin-Width',
        'X-Origin-Height',
        'X-Origin-Content-Length',
        'X-Result-Width',
        'X-Result-Height',
        'Content-Type',
        'Content-Length',
        'Content-Disposition',
      ]);
      for (const a of answers) expect(shape(a)).toEqual(shape(answers[0] ?? a));
      expect(new Set(answers.map((a) => value(a, 'x-request-id'))).size).toBe(answers.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an origin's ETag and Last-Modified: the same list on a miss, L1 and L2 hits; its 304s carry it minus the body", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-hith-'));
    const url = (base: string) => `${base}/insecure/rs:fit:54:54/plain/${origin.url}/etag.jpg`;
    const body = ['content-type', 'content-length', 'content-disposition'];
    const minusBody = (a: Answer) => shape(a).filter(([n]) => !body.includes(n.toLowerCase()));
    try {
      const px = await startApp({ PP_CACHE_DIR: dir });
      const answers: Answer[] = [];
      try {
        // The client's own validator goes to the origin on a miss, which answers 304: that
        // answer is this request's, and the next one without validators gets the image.
        const originSaid = await get(url(px.url), { 'If-None-Match': ORIGIN_ETAG });
        expect(originSaid.status).toBe(304);
        expect(value(originSaid, 'etag')).toBe(ORIGIN_ETAG);
        expect(value(originSaid, 'x-cache')).toBe('MISS');
        for (let i = 0; i < 2; i++) answers.push(await get(url(px.url)));
        expect(minusBody(originSaid)).toEqual(minusBody(answers[0] ?? originSaid));
        // A cached result answers the validators itself, with the same headers.
        const byEtag = await get(url(px.url), { 'If-None-Match': ORIGIN_ETAG });
        const byDate = await get(url(px.url), { 'If-Modified-Since': LM });
        for (const a of [byEtag, byDate]) {
          expect(a.status).toBe(304);
          expect(minusBody(a)).toEqual(minusBody(answers[1] ?? a));
        }
        expect((await get(url(px.url), { 'If-None-Match': '"other"' })).status).toBe(200);
      } finally {
        await px.stop({ keepCache: true });
      }
      const l2 = await startApp({ PP_CACHE_DIR: dir, PP_CACHE_MEMORY_MAX_MB: '0' });
      try {
        for (let i = 0; i < 2; i++) answers.push(await get(url(l2.url)));
      } finally {
        await l2.stop({ keepCache: true });
      }
      expect(answers.map((a) => [a.status, value(a, 'x-cache')])).toEqual([
        [200, 'MISS'],
        [200, 'HIT-L1'],
        [200, 'HIT-L2'],
        [200, 'HIT-L2'],
      ]);
      for (const a of answers) {
        expect(value(a, 'etag')).toBe(ORIGIN_ETAG);
        expect(value(a, 'last-modified')).toBe(LM);
        expect(shape(a)).toEqual(shape(answers[0] ?? a));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a 304 on a hit carries the 200s headers minus the body fields', async () => {
    const px = await startApp({});
    try {
      const url = `${px.url}/insecure/rs:fit:51:51/plain/${origin.url}/lm.jpg`;
      await get(url);
      const full = await get(url);
      const etag = value(full, 'etag') ?? '';
      const notModified = await get(url, { 'If-None-Match': etag });
      expect(notModified.status).toBe(304);
      const body = ['content-type', 'content-length', 'content-disposition'];
      expect(shape(notModified)).toEqual(shape(full).filter(([n]) => !body.includes(n.toLowerCase())));
      // And the next 200 is whole again.
      expect(shape(await get(url))).toEqual(shape(full));
    } finally {
      await px.stop();
    }
  });

  it('a Cache-Control capped by `expires` follows the clock on every hit', async () => {
    const px = await startApp({ IMGPROXY_TTL: '31536000' });
    try {
      const url = `${px.url}/insecure/rs:fit:52:52/exp:${Math.floor(Date.now() / 1000) + 1000}/plain/${origin.url}/lm.jpg`;
      await get(url);
      const first = Number(/max-age=(\d+)/.exec(value(await get(url), 'cache-control') ?? '')?.[1]);
      await new Promise((r) => setTimeout(r, 2100));
      const later = Number(/max-age=(\d+)/.exec(value(await get(url), 'cache-control') ?? '')?.[1]);
      expect(first).toBeLessThanOrEqual(1000);
      expect(later).toBeLessThan(first);
    } finally {
      await px.stop();
    }
  });

  it("a PreviewProxy route sends one Vary: its CORS fields and ours, on the miss and the hit", async () => {
    const px = await startApp({ IMGPROXY_AUTO_WEBP: 'true', PP_ALLOWED_HOSTS: '127.0.0.1' });
    try {
      const url = `${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/lm.jpg`)}&w=53`;
      const miss = await get(url);
      const hit = await get(url);
      expect(miss.status).toBe(200);
      for (const a of [miss, hit]) {
        const varies = a.pairs.filter(([n]) => n.toLowerCase() === 'vary').map(([, v]) => v);
        expect(varies).toEqual(['origin, access-control-request-method, access-control-request-headers, Accept']);
      }
      expect(value(hit, 'x-cache')).toBe('HIT-L1');
      expect(shape(hit)).toEqual(shape(miss));
    } finally {
      await px.stop();
    }
  });
});
