/**
 * SVG end to end: an SVG source asked for auto or svg output comes back as sanitised SVG
 * (no script, no event handlers), IMGPROXY_ALWAYS_RASTERIZE_SVG rasterises it instead,
 * and a raster source cannot be turned into SVG.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const HOSTILE_SVG = Buffer.from(
  `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100" onload="alert(1)">
  <script type="text/javascript">alert(document.cookie)</script>
  <rect x="0" y="0" width="200" height="100" fill="#ff0000" onclick="alert(2)"/>
  <circle cx="100" cy="50" r="30" fill="#0000ff"/>
</svg>`,
);

let origin: Origin;
let px: RunningApp;
let raster: RunningApp;

beforeAll(async () => {
  origin = await startOrigin({
    '/hostile.svg': { body: HOSTILE_SVG, contentType: 'image/svg+xml' },
    '/photo.jpg': { body: await makePhoto(300, 200), contentType: 'image/jpeg' },
  });
  px = await startApp();
  raster = await startApp({ IMGPROXY_ALWAYS_RASTERIZE_SVG: 'true' });
});

afterAll(async () => {
  await px.stop();
  await raster.stop();
  await origin.close();
});

async function get(app: RunningApp, path: string): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(`${app.url}/insecure${path}`);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('SVG sources', () => {
  it.each([
    ['auto output', '/w:50/plain/ORIGIN/hostile.svg'],
    ['explicit svg output', '/plain/ORIGIN/hostile.svg@svg'],
  ])('%s comes out as SVG without script or event handlers', async (_name, path) => {
    const { res, body } = await get(px, path.replace('ORIGIN', origin.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    const text = body.toString('utf8');
    expect(text).not.toMatch(/<script/i);
    expect(text).not.toMatch(/onload|onclick/i);
    expect(text).toContain('<circle');
    // Still the same picture: it renders at its own size, red with a blue disc in the middle.
    const { data, info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([200, 100]);
    const at = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    expect(at(5, 5)).toEqual([255, 0, 0]);
    expect(at(100, 50)).toEqual([0, 0, 255]);
  });

  it('IMGPROXY_ALWAYS_RASTERIZE_SVG rasterises (and resizes) an auto request', async () => {
    const { res, body } = await get(raster, `/w:50/plain/${origin.url}/hostile.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).not.toBe('image/svg+xml');
    const meta = await sharp(body).metadata();
    expect(['png', 'jpeg', 'webp']).toContain(meta.format);
    expect([meta.width, meta.height]).toEqual([50, 25]);
  });

  it('a raster source asked for @svg is 422', async () => {
    const { res } = await get(px, `/w:50/plain/${origin.url}/photo.jpg@svg`);
    expect(res.status).toBe(422);
  });
});
