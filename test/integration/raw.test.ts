/**
 * The `raw` option end to end: the source's bytes untouched, with the client's Range and
 * conditional headers forwarded to an http origin (which implements them itself here) or
 * evaluated by the local source, the origin's status and headers passed through, the type
 * sniffed or refused, IMGPROXY_MAX_SRC_FILE_SIZE enforced, and no worker taken.
 */
import { createServer, get as httpGet, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startHandlerOrigin, startOrigin, type Origin } from '../helpers/origin.js';

interface RangeFile {
  body: Buffer;
  type: string;
  etag: string;
  lastModified: string;
}

const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

/** An origin with single-range and conditional support, written here so it shares no code with src. */
async function startRangeOrigin(files: Record<string, RangeFile>): Promise<{ url: string; requests: IncomingMessage[]; close(): Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    const f = files[(req.url ?? '/').split('?')[0] ?? '/'];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const validators = { ETag: f.etag, 'Last-Modified': f.lastModified, 'Accept-Ranges': 'bytes' };
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if ((inm !== undefined && inm === f.etag) || (inm === undefined && ims !== undefined && Date.parse(ims) >= Date.parse(f.lastModified))) {
      res.writeHead(304, validators).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), f.body.length - 1);
      const part = f.body.subarray(start, end + 1);
      res.writeHead(206, { ...validators, 'Content-Type': f.type, 'Content-Length': part.length, 'Content-Range': `bytes ${start}-${end}/${f.body.length}` });
      res.end(part);
      return;
    }
    res.writeHead(200, { ...validators, 'Content-Type': f.type, 'Content-Length': f.body.length });
    res.end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const TEXT = Buffer.from('hello, this is plain text and certainly not an image, padded a little more.');

let photo: Buffer;
let origin: Awaited<ReturnType<typeof startRangeOrigin>>;
let dir: string;
let px: RunningApp;

beforeAll(async () => {
  photo = await makePhoto(300, 200);
  origin = await startRangeOrigin({
    '/photo.jpg': { body: photo, type: 'image/jpeg', etag: '"photo-v1"', lastModified: LAST_MODIFIED },
    '/octet.jpg': { body: photo, type: 'application/octet-stream', etag: '"octet-v1"', lastModified: LAST_MODIFIED },
    '/liar.jpg': { body: TEXT, type: 'image/jpeg', etag: '"liar"', lastModified: LAST_MODIFIED },
    '/text.txt': { body: TEXT, type: 'text/plain', etag: '"text"', lastModified: LAST_MODIFIED },
  });
  dir = await mkdtemp(join(tmpdir(), 'pixproxy-raw-'));
  await writeFile(join(dir, 'photo.jpg'), photo);
  await writeFile(join(dir, 'notes.txt'), TEXT);
  px = await startApp({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: dir });
});

afterAll(async () => {
  await px.stop();
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

const raw = (src: string): string => `${px.url}/insecure/raw:1/plain/${src}`;

describe('raw over http', () => {
  it('serves the whole source with its validators and the sniffed type', async () => {
    const res = await fetch(raw(`${origin.url}/octet.jpg`));
    expect(res.status).toBe(200);
    // application/octet-stream is not echoed: the bytes say JPEG.
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('etag')).toBe('"octet-v1"');
    expect(res.headers.get('last-modified')).toBe(LAST_MODIFIED);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('x-cache')).toBeNull();
    const body = Buffer.from(await res.arrayBuffer());
    // raw is byte-for-byte by definition.
    expect(body.equals(photo)).toBe(true);
    expect(Number(res.headers.get('content-length'))).toBe(photo.length);
  });

  it('forwards Range and answers 206 with the right bytes', async () => {
    const res = await fetch(raw(`${origin.url}/photo.jpg`), { headers: { Range: 'bytes=100-199' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 100-199/${photo.length}`);
    expect(res.headers.get('content-length')).toBe('100');
    // A part from the middle cannot be sniffed; the origin's image type is kept.
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(photo.subarray(100, 200))).toBe(true);
    expect(origin.requests.at(-1)?.headers.range).toBe('bytes=100-199');
  });

  it('sniffs a part that starts at byte 0 instead of echoing a foreign type', async () => {
    const res = await fetch(raw(`${origin.url}/octet.jpg`), { headers: { Range: 'bytes=0-63' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer()).equals(photo.subarray(0, 64))).toBe(true);
  });

  it('forwards If-None-Match and passes the origin 304 through', async () => {
    const res = await fetch(raw(`${origin.url}/photo.jpg`), { headers: { 'If-None-Match': '"photo-v1"' } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe('"photo-v1"');
    expect(origin.requests.at(-1)?.headers['if-none-match']).toBe('"photo-v1"');
    const stale = await fetch(raw(`${origin.url}/photo.jpg`), { headers: { 'If-None-Match': '"photo-v0"' } });
    expect(stale.status).toBe(200);
  });

  it('forwards If-Modified-Since', async () => {
    const res = await fetch(raw(`${origin.url}/photo.jpg`), { headers: { 'If-Modified-Since': LAST_MODIFIED } });
    expect(res.status).toBe(304);
    expect(origin.requests.at(-1)?.headers['if-modified-since']).toBe(LAST_MODIFIED);
  });

  it.each([
    ['a text file', '/text.txt', undefined],
    ['a text file the origin calls image/jpeg', '/liar.jpg', undefined],
    ['a middle part of a text/plain file', '/text.txt', 'bytes=10-20'],
  ])('refuses %s with 422', async (_name, path, range) => {
    const res = await fetch(raw(`${origin.url}${path}`), range ? { headers: { Range: range } } : {});
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('keeps IMGPROXY_MAX_SRC_FILE_SIZE, also for a range of a bigger file', async () => {
    const small = await startApp({ IMGPROXY_MAX_SRC_FILE_SIZE: String(photo.length - 1) });
    try {
      const whole = await fetch(`${small.url}/insecure/raw:1/plain/${origin.url}/photo.jpg`);
      expect(whole.status).toBe(422);
      const part = await fetch(`${small.url}/insecure/raw:1/plain/${origin.url}/photo.jpg`, { headers: { Range: 'bytes=0-9' } });
      expect(part.status).toBe(422);
    } finally {
      await small.stop();
    }
  });
});

describe('raw from local://', () => {
  it('reads a byte range from the file (206) and answers If-None-Match with 304', async () => {
    const res = await fetch(raw('local:///photo.jpg'), { headers: { Range: 'bytes=10-29' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 10-29/${photo.length}`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer()).equals(photo.subarray(10, 30))).toBe(true);

    const suffix = await fetch(raw('local:///photo.jpg'), { headers: { Range: 'bytes=-16' } });
    expect(suffix.status).toBe(206);
    expect(Buffer.from(await suffix.arrayBuffer()).equals(photo.subarray(photo.length - 16))).toBe(true);

    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^".+"$/);
    const again = await fetch(raw('local:///photo.jpg'), { headers: { 'If-None-Match': etag, Range: 'bytes=10-29' } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
  });

  it('answers 416 to a range past the end and 422 to a text file', async () => {
    const past = await fetch(raw('local:///photo.jpg'), { headers: { Range: `bytes=${photo.length}-` } });
    expect(past.status).toBe(416);
    const text = await fetch(raw('local:///notes.txt'));
    expect(text.status).toBe(422);
  });
});

describe('raw and the worker limit', () => {
  let slow: Origin;
  let one: RunningApp;

  beforeAll(async () => {
    slow = await startOrigin({
      '/slow.jpg': { body: photo, contentType: 'image/jpeg', delayMs: 1500 },
      '/fast.jpg': { body: photo, contentType: 'image/jpeg' },
    });
    one = await startApp({ IMGPROXY_WORKERS: '1' });
  });

  afterAll(async () => {
    await one.stop();
    await slow.close();
  });

  it('is served while the only worker is busy', async () => {
    let slowDone = false;
    const busy = fetch(`${one.url}/insecure/w:50/plain/${slow.url}/slow.jpg`).then(async (r) => {
      slowDone = true;
      return r.status;
    });
    // Let the processing request take the worker before the raw one starts.
    while (slow.count('/slow.jpg') === 0) await new Promise((r) => setTimeout(r, 10));
    const res = await fetch(`${one.url}/insecure/raw:1/plain/${slow.url}/fast.jpg`);
    expect(res.status).toBe(200);
    expect(slowDone).toBe(false);
    expect(await busy).toBe(200);
  });
});

describe('raw is streamed, not buffered', () => {
  const MB = 1024 * 1024;
  let big: Buffer;
  let gate: { open(): void; wait: Promise<void> };
  let originFinished = false;
  let upstreamAborted = 0;
  let streaming: Awaited<ReturnType<typeof startHandlerOrigin>>;
  let limited: RunningApp;

  function newGate(): typeof gate {
    let open!: () => void;
    const wait = new Promise<void>((r) => (open = r));
    return { open, wait };
  }

  beforeAll(async () => {
    // A JPEG head followed by filler: raw never decodes, it only sniffs the head.
    big = Buffer.concat([photo, Buffer.alloc(6 * MB - photo.length, 0x5a)]);
    gate = newGate();
    streaming = await startHandlerOrigin((req, res) => {
      res.once('close', () => {
        if (!res.writableFinished) upstreamAborted++;
      });
      if (req.url === '/half-then-rest.jpg') {
        // Half now; the rest once the client has seen bytes (or after 3 s, so a buffering proxy fails the assertion rather than deadlocking).
        originFinished = false;
        res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': big.length });
        res.write(big.subarray(0, big.length / 2));
        void Promise.race([gate.wait, new Promise((r) => setTimeout(r, 3000))]).then(() => {
          originFinished = true;
          res.end(big.subarray(big.length / 2));
        });
        return;
      }
      if (req.url === '/never-ends.jpg') {
        // 1 MB, then nothing more: only a client abort ends this transfer.
        res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': big.length });
        res.write(big.subarray(0, MB));
        return;
      }
      if (req.url === '/chunked.jpg') {
        // No Content-Length: chunks keep coming until someone hangs up.
        res.writeHead(200, { 'Content-Type': 'image/jpeg' });
        res.write(photo);
        const timer = setInterval(() => res.write(Buffer.alloc(128 * 1024, 0x5a)), 5);
        res.once('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(404).end();
    });
    limited = await startApp({ IMGPROXY_MAX_SRC_FILE_SIZE: String(MB) });
  });

  afterAll(async () => {
    await limited.stop();
    await streaming.close();
  });

  async function until(cond: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  it('sends the first bytes of a large source before the origin has sent the rest', async () => {
    const res = await fetch(raw(`${streaming.url}/half-then-rest.jpg`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(res.headers.get('content-length'))).toBe(big.length);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    const first = await reader.read();
    expect(first.done).toBe(false);
    chunks.push(first.value!);
    // The proxy forwarded bytes while the origin was still holding back its second half.
    expect(originFinished).toBe(false);
    gate.open();
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });

  it('closes the upstream connection when the client goes away mid-stream', async () => {
    const before = upstreamAborted;
    const got = await new Promise<number>((resolve, reject) => {
      const req = httpGet(raw(`${streaming.url}/never-ends.jpg`), (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n >= 64 * 1024) {
            req.destroy();
            resolve(n);
          }
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no bytes within 3 s')), 3000).unref();
    });
    expect(got).toBeGreaterThan(0);
    await until(() => upstreamAborted > before);
    expect(upstreamAborted).toBe(before + 1);
    // The proxy is fine afterwards.
    expect((await fetch(raw(`${origin.url}/photo.jpg`))).status).toBe(200);
  });

  it('aborts mid-stream when a chunked origin passes IMGPROXY_MAX_SRC_FILE_SIZE', async () => {
    const before = upstreamAborted;
    const res = await fetch(`${limited.url}/insecure/raw:1/plain/${streaming.url}/chunked.jpg`);
    // Nothing announced the size: the headers went out before the limit was reached.
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    let received = 0;
    const outcome = await (async () => {
      try {
        for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) received += c.length;
        return 'ended';
      } catch {
        return 'cut';
      }
    })();
    // Cut, never a clean end that would pass for the whole file.
    expect(outcome).toBe('cut');
    expect(received).toBeLessThanOrEqual(MB);
    await until(() => upstreamAborted > before);
    expect(upstreamAborted).toBe(before + 1);
  });
});
