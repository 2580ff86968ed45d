/**
 * `/info/%signature/%options/plain/%url` end to end: signed like image URLs, JSON with
 * orientation-corrected dimensions, alpha, blurhash and thumbhash when asked, the
 * resolution limit on the fields that decode pixels.
 */
import { isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makeAlphaPng, makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const KEY = '736563726574';
const SALT = '68656C6C6F';

function infoUrl(app: RunningApp, path: string): string {
  return `${app.url}/info/${sign(path, Buffer.from(KEY, 'hex'), Buffer.from(SALT, 'hex'), 32)}${path}`;
}

let rotated: Buffer;
let origin: Origin;
let px: RunningApp;

beforeAll(async () => {
  // Stored 300×200 with EXIF orientation 6 (rotate 90° clockwise to view): shown 200×300.
  rotated = await sharp(await makePhoto(300, 200)).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  origin = await startOrigin({
    '/rotated.jpg': { body: rotated, contentType: 'image/jpeg' },
    '/alpha.png': { body: await makeAlphaPng(), contentType: 'image/png' },
    '/opaque-alpha.png': { body: await sharp(await makePhoto(40, 30, 'png')).ensureAlpha().png().toBuffer(), contentType: 'image/png' },
    '/text.txt': { body: Buffer.from('not an image at all'), contentType: 'text/plain' },
  });
  px = await startApp({ IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT });
});

afterAll(async () => {
  await px.stop();
  await origin.close();
});

async function info(path: string, app = px): Promise<{ status: number; json: Record<string, unknown>; res: Response }> {
  const res = await fetch(infoUrl(app, path));
  const text = await res.text();
  return { status: res.status, res, json: res.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('/info', () => {
  it('answers the default fields with orientation-corrected dimensions', async () => {
    const { status, json, res } = await info(`/plain/${origin.url}/rotated.jpg`);
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(json.format).toBe('jpeg');
    expect(json.size).toBe(rotated.length);
    expect([json.width, json.height, json.orientation]).toEqual([200, 300, 6]);
    expect(json).not.toHaveProperty('blurhash');
    expect(json).not.toHaveProperty('alpha');
  });

  it('reports alpha, and with check_transparency only real transparency', async () => {
    expect((await info(`/a:1/plain/${origin.url}/alpha.png`)).json.alpha).toBe(true);
    expect((await info(`/a:1/plain/${origin.url}/rotated.jpg`)).json.alpha).toBe(false);
    expect((await info(`/a:1/plain/${origin.url}/opaque-alpha.png`)).json.alpha).toBe(true);
    expect((await info(`/a:1:1/plain/${origin.url}/opaque-alpha.png`)).json.alpha).toBe(false);
  });

  it('computes blurhash and thumbhash of the image as viewed (oriented)', async () => {
    const { status, json } = await info(`/bh:4:3/th:1/d:0/plain/${origin.url}/rotated.jpg`);
    expect(status).toBe(200);
    expect(json).not.toHaveProperty('width');
    const bh = json.blurhash as string;
    expect(isBlurhashValid(bh).result).toBe(true);
    // 1 size char + 1 max-AC char + 4 DC chars + 2 per AC component.
    expect(bh.length).toBe(6 + 2 * (4 * 3 - 1));
    const th = Buffer.from(json.thumbhash as string, 'base64');
    expect(thumbHashToApproximateAspectRatio(th)).toBeCloseTo(200 / 300, 1);
  });

  it('is signed like image URLs: a wrong signature is 403', async () => {
    const res = await fetch(`${px.url}/info/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/plain/${origin.url}/rotated.jpg`);
    expect(res.status).toBe(403);
    const unsigned = await fetch(`${px.url}/info/insecure/plain/${origin.url}/rotated.jpg`);
    expect(unsigned.status).toBe(403);
  });

  it('an unknown option is 404 and a non-image is 422', async () => {
    expect((await info(`/nonsense:1/plain/${origin.url}/rotated.jpg`)).status).toBe(404);
    expect((await info(`/plain/${origin.url}/text.txt`)).status).toBe(422);
  });

  it('pixel fields respect IMGPROXY_MAX_SRC_RESOLUTION; header fields do not decode and still answer', async () => {
    const tight = await startApp({ IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT, IMGPROXY_MAX_SRC_RESOLUTION: '0.01' });
    try {
      expect((await info(`/plain/${origin.url}/rotated.jpg`, tight)).status).toBe(200);
      expect((await info(`/bh:4:3/plain/${origin.url}/rotated.jpg`, tight)).status).toBe(422);
    } finally {
      await tight.stop();
    }
  });
});
