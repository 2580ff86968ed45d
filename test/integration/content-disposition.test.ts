// Content-Disposition through the real server: names outside Latin-1, controls and bidi
// overrides answer 200 with a valid header, on a miss, on a cache hit and for `raw`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
let app: RunningApp;

beforeAll(async () => {
  const body = await makePhoto(32, 24);
  // The origin sees the path percent-encoded, as undici sends it.
  origin = await startOrigin({ '/%E6%97%A5%E6%9C%AC.jpg': { body, contentType: 'image/jpeg' }, '/a.jpg': { body, contentType: 'image/jpeg' } });
  app = await startApp();
});

afterAll(async () => {
  await app.stop();
  await origin.close();
});

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

describe('Content-Disposition over HTTP', () => {
  it.each([
    ['source name 日本', `/unsafe/w:10/plain/ORIGIN/%25E6%2597%25A5%25E6%259C%25AC.jpg`, `inline; filename="__.jpg"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.jpg`],
    ['fn: emoji + RLO', `/unsafe/w:11/fn:${b64('😀\u202Egpj.exe')}:1/plain/ORIGIN/a.jpg`, `inline; filename="_gpj.exe.jpg"; filename*=UTF-8''%F0%9F%98%80gpj.exe.jpg`],
    ['fn: NUL and DEL only', `/unsafe/w:12/fn:${b64('\0\x7F')}:1/att:1/plain/ORIGIN/a.jpg`, 'attachment; filename="a.jpg"'],
    ['fn: é', `/unsafe/w:13/fn:${b64('é')}:1/plain/ORIGIN/a.jpg`, `inline; filename="e.jpg"; filename*=UTF-8''%C3%A9.jpg`],
    ['raw', `/unsafe/raw:1/fn:${b64('日本')}:1/plain/ORIGIN/a.jpg`, `inline; filename="__.jpg"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.jpg`],
  ])('%s: 200 with an RFC 6266 header, miss and hit alike', async (_name, path, expected) => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(app.url + path.replace('ORIGIN', origin.url));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe(expected);
      await res.arrayBuffer();
      if (!path.includes('raw:1')) expect(res.headers.get('x-cache')).toBe(i === 0 ? 'MISS' : 'HIT-L1');
    }
  });
});
