/**
 * `/info/%signature/%options/plain/%url` end to end: signed like image URLs, JSON with
 * orientation-corrected dimensions, alpha, blurhash and thumbhash when asked, the
 * resolution limit on the fields that decode pixels.
 */
import { createHash } from 'node:crypto';
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

/** An external entity: processing refuses it (422) before librsvg sees the document; so does /info. */
const XXE_SVG = '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&xxe;</text></svg>';
/**
 * UTF-16, with an internal entity holding markup: the sanitiser reads it by its BOM and expands
 * the entity; librsvg reading the document as sent does neither (it renders nothing red).
 */
const ENTITY_SVG = Buffer.from(
  '\ufeff<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE svg [ <!ENTITY box "<rect width=\'30\' height=\'20\' fill=\'red\'/>"> ]>\n<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20">&box;</svg>',
  'utf16le',
);

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
    '/xxe.svg': { body: Buffer.from(XXE_SVG), contentType: 'image/svg+xml' },
    '/entity.svg': { body: ENTITY_SVG, contentType: 'image/svg+xml' },
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

describe('/info of an SVG (IMGPROXY_SANITIZE_SVG)', () => {
  it('refuses an external entity with 422, as processing does', async () => {
    expect((await info(`/plain/${origin.url}/xxe.svg`)).status).toBe(422);
    const processed = await fetch(`${px.url}/${sign(`/w:5/plain/${origin.url}/xxe.svg@png`, Buffer.from(KEY, 'hex'), Buffer.from(SALT, 'hex'), 32)}/w:5/plain/${origin.url}/xxe.svg@png`);
    expect(processed.status).toBe(422);
  });

  it("answers the sanitised document's dimensions, and the size and hash sums of the bytes as sent", async () => {
    const { status, json } = await info(`/chs:sha256/avg:1/plain/${origin.url}/entity.svg`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ width: 30, height: 20, format: 'svg', size: ENTITY_SVG.length, hashsums: { sha256: createHash('sha256').update(ENTITY_SVG).digest('hex') } });
    expect(json.average).toMatchObject({ R: 255, G: 0, B: 0 });
  });
});

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
