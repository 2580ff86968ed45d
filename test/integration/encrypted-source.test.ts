/**
 * imgproxy Pro's encrypted source URLs (`/enc/…`, IMGPROXY_SOURCE_URL_ENCRYPTION_KEY) through a
 * real server: images and /info, split blobs and extensions, one cache entry per decrypted
 * source whatever the IV, the signature checked before anything is decrypted, every bad blob
 * answered alike, and no response header revealing the source.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptSourceUrl } from '../../src/dialects/imgproxy/encryption.js';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const KEY_HEX = '1eb5b0e971ad7f45324c1bb15c947cb207c43152fa5c6c7f35c4f36e0c18e0f1';
const KEY = Buffer.from(KEY_HEX, 'hex');
const SIGN_KEY = Buffer.from('secret');
const SALT = Buffer.from('hello');

let origin: Origin;
let px: RunningApp;
let dev: RunningApp;

beforeAll(async () => {
  origin = await startOrigin({ '/secret/photo.jpg': { body: await makePhoto(200, 100), contentType: 'image/jpeg' } });
  const env = { IMGPROXY_SOURCE_URL_ENCRYPTION_KEY: KEY_HEX, IMGPROXY_KEY: SIGN_KEY.toString('hex'), IMGPROXY_SALT: SALT.toString('hex'), IMGPROXY_SET_CANONICAL_HEADER: 'true' };
  px = await startApp(env);
  dev = await startApp({ ...env, IMGPROXY_DEVELOPMENT_ERRORS_MODE: 'true' });
});
afterAll(async () => {
  await px.stop();
  await dev.stop();
  await origin.close();
});

const signed = (path: string) => `/${sign(path, SIGN_KEY, SALT, 32)}${path}`;
const source = () => `${origin.url}/secret/photo.jpg`;

describe('/enc/ sources', () => {
  it('serves the decrypted source, with or without an extension and split by /', async () => {
    const blob = encryptSourceUrl(source(), KEY);
    const plain = await fetch(`${px.url}${signed(`/rs:fit:50:50/enc/${blob}`)}`);
    expect(plain.status).toBe(200);
    expect((await sharp(Buffer.from(await plain.arrayBuffer())).metadata()).width).toBe(50);
    const split = await fetch(`${px.url}${signed(`/rs:fit:40:40/enc/${blob.slice(0, 10)}/${blob.slice(10)}.png`)}`);
    expect(split.status).toBe(200);
    expect(split.headers.get('content-type')).toBe('image/png');
    // The source stays secret: no canonical Link, no file name taken from it.
    expect(split.headers.get('link')).toBeNull();
    expect(split.headers.get('content-disposition')).toBe('inline; filename="image.png"');
  });

  it('keys the cache on the decrypted source: another IV for the same URL is a hit', async () => {
    const a = encryptSourceUrl(source(), KEY, Buffer.alloc(16, 1));
    const b = encryptSourceUrl(source(), KEY, Buffer.alloc(16, 2));
    expect(a).not.toBe(b);
    const first = await fetch(`${px.url}${signed(`/w:33/enc/${a}`)}`);
    expect(first.headers.get('x-cache')).toBe('MISS');
    await first.arrayBuffer();
    await new Promise((r) => setTimeout(r, 30));
    const second = await fetch(`${px.url}${signed(`/w:33/enc/${b}`)}`);
    expect(second.headers.get('x-cache')).toMatch(/^HIT/);
  });

  it('answers /info for an encrypted source', async () => {
    const res = await fetch(`${px.url}/info${signed(`/enc/${encryptSourceUrl(source(), KEY)}`)}`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { width?: number; height?: number };
    expect([json.width, json.height]).toEqual([200, 100]);
  });

  it('checks the signature before decrypting anything', async () => {
    expect((await fetch(`${px.url}/bad-signature/enc/${'A'.repeat(64)}`)).status).toBe(403);
    expect((await fetch(`${px.url}/bad-signature/enc/${encryptSourceUrl(source(), KEY)}`)).status).toBe(403);
  });

  it('answers every bad blob alike (status, body, even the development-mode detail): no padding oracle', async () => {
    const good = Buffer.from(encryptSourceUrl(source(), KEY), 'base64url');
    const badPadding = Buffer.from(good);
    badPadding[badPadding.length - 17] = (badPadding[badPadding.length - 17] ?? 0) ^ 0x01;
    const blobs = [
      'not-base64!',
      good.subarray(0, 24).toString('base64url'),
      badPadding.toString('base64url'),
      encryptSourceUrl(source(), Buffer.alloc(32, 7)),
      encryptSourceUrl('http://x/\u0001', KEY),
    ];
    for (const app of [px, dev]) {
      const answers = new Set<string>();
      for (const blob of blobs) {
        const res = await fetch(`${app.url}${signed(`/enc/${blob}`)}`);
        answers.add(`${res.status} ${await res.text()}`);
      }
      expect([...answers]).toHaveLength(1);
      expect([...answers][0]).toMatch(/^404 /);
    }
  });

  it('without IMGPROXY_SOURCE_URL_ENCRYPTION_KEY an /enc/ source is a 404', async () => {
    const plain = await startApp({});
    try {
      expect((await fetch(`${plain.url}/unsafe/enc/${encryptSourceUrl(source(), KEY)}`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
