/**
 * PreviewProxy's operational behaviour through a real server, as its users rely on it:
 * passthrough of an untransformed source, grayscale, CORS (tower-http's CorsLayer as
 * PreviewProxy configures it), PP_MAX_CONCURRENT_REQUESTS, the disallow lists, fetch retries
 * on connection errors and PP_FETCH_TIMEOUT_SECS (https://github.com/ViGrise/previewproxy).
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
let jpeg: Buffer;
let webp: Buffer;
let png: Buffer;
let gif: Buffer;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const body = async (res: Response): Promise<Buffer> => Buffer.from(await res.arrayBuffer());
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

beforeAll(async () => {
  jpeg = await sharp(await makePhoto(300, 200)).jpeg({ quality: 97 }).toBuffer();
  webp = await makePhoto(300, 200, 'webp');
  png = await makePhoto(120, 80, 'png');
  gif = await sharp(await makePhoto(40, 30)).gif().toBuffer();
  origin = await startOrigin({
    '/p.jpg': { body: jpeg, contentType: 'image/jpeg' },
    '/p.webp': { body: webp, contentType: 'image/webp' },
    '/p.png': { body: png, contentType: 'image/png' },
    '/p.gif': { body: gif, contentType: 'image/gif' },
    // The origin's label is not what decides the type.
    '/mislabelled.png': { body: jpeg, contentType: 'image/png' },
    '/slow.jpg': { body: jpeg, contentType: 'image/jpeg', delayMs: 1500 },
  });
});
afterAll(async () => origin.close());

describe('passthrough: no transform serves the source unchanged', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy' });
  });
  afterAll(async () => px.stop());

  // Passthrough's contract is the source's own bytes, so here bytes are what is compared.
  it.each([
    ['JPEG', '/p.jpg', 'image/jpeg'],
    ['WebP', '/p.webp', 'image/webp'],
  ])('%s: same bytes, its own Content-Type, path and query style, then cached', async (_what, file, type) => {
    const source = origin.files.get(file)?.body ?? Buffer.alloc(0);
    const byQuery = await fetch(`${px.url}/proxy?url=${encodeURIComponent(origin.url + file)}`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get('content-type')).toBe(type);
    expect(byQuery.headers.get('x-cache')).toBe('MISS');
    expect(sha(await body(byQuery))).toBe(sha(source));
    const byPath = await fetch(`${px.url}/${origin.url}${file}`);
    expect(sha(await body(byPath))).toBe(sha(source));
    await settle();
    expect((await fetch(`${px.url}/proxy?url=${encodeURIComponent(origin.url + file)}`)).headers.get('x-cache')).toBe('HIT-L1');
    expect(origin.count(file)).toBe(1);
  });

  it('the Content-Type is the detected one, not the origin\'s label; the source lands in the origin sub-store', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/mislabelled.png`)}`);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(sha(await body(res))).toBe(sha(jpeg));
    // A transform of the same source reads it from the origin sub-store.
    const resized = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/mislabelled.png`)}&w=30`);
    expect((await sharp(await body(resized)).metadata()).width).toBe(30);
    expect(origin.count('/mislabelled.png')).toBe(1);
  });

  it('a modifier alone (gif_af, wm_pos) is no transform; a transform re-encodes', async () => {
    const url = encodeURIComponent(`${origin.url}/p.jpg`);
    expect(sha(await body(await fetch(`${px.url}/proxy?url=${url}&gif_af=1&wm_pos=ce`)))).toBe(sha(jpeg));
    const q = await body(await fetch(`${px.url}/proxy?url=${url}&q=50`));
    expect(q.length).toBeLessThan(jpeg.length);
    expect((await sharp(q).metadata()).width).toBe(300);
  });
});

describe('grayscale', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({});
  });
  afterAll(async () => px.stop());

  it('a colour PNG comes back one grey channel, a JPEG grey everywhere', async () => {
    const p = await body(await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.png`)}&grayscale=1&format=png`));
    const pm = await sharp(p).metadata();
    expect([pm.format, pm.channels]).toEqual(['png', 1]);
    const j = await body(await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}&grayscale=true`));
    const { data, info } = await sharp(j).raw().toBuffer({ resolveWithObject: true });
    if (info.channels === 3) {
      for (let i = 0; i < data.length; i += 3) expect(Math.max(Math.abs((data[i] ?? 0) - (data[i + 1] ?? 0)), Math.abs((data[i] ?? 0) - (data[i + 2] ?? 0)))).toBeLessThanOrEqual(1);
    } else {
      expect(info.channels).toBe(1);
    }
    // The source was colourful: the greyscale is the transform's doing.
    const colour = await sharp(jpeg).raw().toBuffer();
    expect(Math.abs((colour[0] ?? 0) - (colour[1] ?? 0)) + Math.abs((colour[3000] ?? 0) - (colour[3002] ?? 0))).toBeGreaterThan(20);
  });
});

describe('CORS on PreviewProxy routes', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PP_CORS_ALLOW_ORIGIN: 'https://app.example,*.cdn.example', PP_CORS_MAX_AGE_SECS: '120', IMGPROXY_ALLOW_ORIGIN: 'https://imgproxy.example' });
  });
  afterAll(async () => px.stop());

  it('OPTIONS is a preflight: 200, empty, any method, the requested headers, the max age', async () => {
    const res = await fetch(`${px.url}/proxy?url=x`, { method: 'OPTIONS', headers: { Origin: 'https://a.cdn.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-custom' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(Object.fromEntries(['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'vary'].map((h) => [h, res.headers.get(h)]))).toEqual({
      'access-control-allow-origin': 'https://a.cdn.example',
      'access-control-allow-methods': '*',
      'access-control-allow-headers': 'x-custom',
      'access-control-max-age': '120',
      vary: 'origin, access-control-request-method, access-control-request-headers',
    });
  });

  it('answers (errors too) carry the allowed Origin and Vary; other origins get none', async () => {
    const ok = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.png`)}&w=10`, { headers: { Origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('vary')).toContain('origin');
    const bad = await fetch(`${px.url}/proxy?w=1`, { headers: { Origin: 'https://evil.example' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('imgproxy routes keep IMGPROXY_ALLOW_ORIGIN', async () => {
    const res = await fetch(`${px.url}/insecure/rs:fit:10:10/plain/${origin.url}/p.png`, { headers: { Origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://imgproxy.example');
    expect(res.headers.get('vary')).toBeNull();
    const options = await fetch(`${px.url}/insecure/plain/x`, { method: 'OPTIONS' });
    expect(await options.text()).toBe(' ');
  });
});

describe('PP_MAX_CONCURRENT_REQUESTS', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PP_MAX_CONCURRENT_REQUESTS: '1' });
  });
  afterAll(async () => px.stop());

  it('one more request than the limit is 503 with Retry-After: 1 and no body, at once; imgproxy routes are not counted', async () => {
    const slow = fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/slow.jpg`)}`);
    await new Promise((r) => setTimeout(r, 300));
    const refused = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.text()).toBe('');
    expect((await fetch(`${px.url}/insecure/plain/${origin.url}/p.jpg`)).status).toBe(200);
    expect((await slow).status).toBe(200);
    await settle();
    expect((await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}`)).status).toBe(200);
  });
});

describe('disallow lists', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PP_TRANSFORM_DISALLOW_LIST: 'blur,watermark', PP_OUTPUT_DISALLOW_LIST: 'webp,png', PP_INPUT_DISALLOW_LIST: 'gif' });
  });
  afterAll(async () => px.stop());

  const get = async (file: string, params: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(origin.url + file)}${params}`);
    const text = await res.text();
    return { status: res.status, body: res.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as unknown) : null };
  };

  it.each([
    ['a disallowed transform', '/p.jpg', '&blur=2', 'blur'],
    ['a disallowed output format', '/p.jpg', '&format=webp', 'webp'],
    ['an automatic output in a disallowed format', '/p.png', '&w=10', 'png'],
    ['a disallowed source format', '/p.gif', '&w=10', 'gif'],
    ['a disallowed source format, untransformed', '/p.gif', '', 'gif'],
  ])('%s → 400 transform_disabled', async (_what, file, params, token) => {
    expect(await get(file, params)).toEqual({ status: 400, body: { error: 'transform_disabled', detail: token } });
  });

  it('an untransformed PNG is served (no output was encoded), other outputs are', async () => {
    expect((await get('/p.png', '')).status).toBe(200);
    expect((await get('/p.jpg', '&w=10&format=jpeg')).status).toBe(200);
  });
});

describe('fetch retries and PP_FETCH_TIMEOUT_SECS', () => {
  let flaky: HandlerOrigin;
  const failures = new Map<string, number>();
  let px: RunningApp;
  let noRetry: RunningApp;
  beforeAll(async () => {
    // Resets the connection the first N times a path is asked for (N in the path), then serves.
    flaky = await startHandlerOrigin((req, res) => {
      const path = req.url ?? '/';
      const seen = (failures.get(path) ?? 0) + 1;
      failures.set(path, seen);
      if (seen <= Number(/\/fail(\d+)/.exec(path)?.[1] ?? 0)) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length });
      res.end(jpeg);
    });
    px = await startApp({ PP_FETCH_RETRY_COUNT: '2', PP_FETCH_RETRY_DELAY_MS: '200', PP_FETCH_TIMEOUT_SECS: '1' });
    noRetry = await startApp({ PP_FETCH_RETRY_COUNT: '0', IMGPROXY_DOWNLOAD_TIMEOUT: '1' });
  });
  afterAll(async () => Promise.all([px.stop(), noRetry.stop(), flaky.close()]));

  it('connection errors are tried again PP_FETCH_RETRY_COUNT times, PP_FETCH_RETRY_DELAY_MS apart', async () => {
    const started = Date.now();
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${flaky.url}/fail2/a.jpg`)}`);
    expect(res.status).toBe(200);
    expect(failures.get('/fail2/a.jpg')).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('past the retries the answer is the connection error', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${flaky.url}/fail5/a.jpg`)}`);
    expect(res.status).toBe(502);
    expect(failures.get('/fail5/a.jpg')).toBe(3);
  });

  it('PP_FETCH_RETRY_COUNT=0 and imgproxy routes do not retry', async () => {
    expect((await fetch(`${noRetry.url}/proxy?url=${encodeURIComponent(`${flaky.url}/fail1/b.jpg`)}`)).status).toBe(502);
    expect(failures.get('/fail1/b.jpg')).toBe(1);
    expect((await fetch(`${px.url}/insecure/plain/${flaky.url}/fail1/c.jpg`)).status).toBe(404);
    expect(failures.get('/fail1/c.jpg')).toBe(1);
  });

  it('a source slower than PP_FETCH_TIMEOUT_SECS is 502 upstream_timeout, not retried', async () => {
    const res = await fetch(`${px.url}/proxy?url=${encodeURIComponent(`${origin.url}/slow.jpg`)}&w=11`);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'upstream_timeout' });
  });

  it('each dialect has its own timeout: PP_FETCH_TIMEOUT_SECS (default 10 s) on PreviewProxy routes, IMGPROXY_DOWNLOAD_TIMEOUT (5 s) on imgproxy routes', async () => {
    // The source takes 1.5 s. px: PP 1 s, imgproxy 5 s (default); noRetry: PP 10 s (default), imgproxy 1 s.
    expect((await fetch(`${px.url}/insecure/w:12/plain/${origin.url}/slow.jpg`)).status).toBe(200);
    // imgproxy's first: a source fetched once is in the origin sub-store for the next request.
    expect((await fetch(`${noRetry.url}/insecure/w:14/plain/${origin.url}/slow.jpg`)).status).toBe(504);
    expect((await fetch(`${noRetry.url}/proxy?url=${encodeURIComponent(`${origin.url}/slow.jpg`)}&w=13`)).status).toBe(200);
  });

  it('each dialect has its own source size limit: PP_MAX_SOURCE_BYTES on PreviewProxy routes, IMGPROXY_MAX_SRC_FILE_SIZE on imgproxy routes', async () => {
    const small = await startApp({ PP_MAX_SOURCE_BYTES: '50' });
    try {
      expect((await fetch(`${small.url}/proxy?url=${encodeURIComponent(`${flaky.url}/limit/a.jpg`)}&w=15`)).status).toBe(413);
      expect((await fetch(`${small.url}/insecure/w:15/plain/${flaky.url}/limit/a.jpg`)).status).toBe(200);
    } finally {
      await small.stop();
    }
  });
});
