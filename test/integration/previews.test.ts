/**
 * Previews of non-image sources through both dialects against a real server and a loopback
 * origin: a video (ffmpeg-made: red, green, blue for 2 s each), a two-page PDF (red, then
 * green) and a PSD (blue), each resized to WebP by imgproxy's URLs, PreviewProxy's path
 * dialect and `/proxy?url=`, cached like any image; `video_thumbnail_second` and `seek` pick
 * the frame, `page`/`pages` the PDF pages, `seek` means nothing to a still image; /info
 * reports format, size, pages and duration; and the video's own size limit.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, inspect, near, pixels, type Reply } from '../conformance/harness.js';
import { BLUE, GREEN, RED, videoMp4 } from '../conformance/previewproxy/fixtures.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { writePdf } from '../helpers/pdf.js';
import { plane8, writePsd } from '../helpers/psd.js';

let origin: Origin;
let imgproxy: RunningApp;
let pp: RunningApp;
let stillPng: Buffer;

beforeAll(async () => {
  stillPng = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
  origin = await startOrigin({
    '/video.mp4': { body: await videoMp4(), contentType: 'video/mp4' },
    '/doc.pdf': { body: writePdf([{ width: 200, height: 100, rgb: [1, 0, 0] }, { width: 100, height: 100, rgb: [0, 1, 0] }]), contentType: 'application/pdf' },
    '/art.psd': { body: writePsd({ width: 48, height: 32, mode: 3, depth: 8, compression: 1, planes: [plane8(48, 32, 0), plane8(48, 32, 0), plane8(48, 32, 255)] }), contentType: 'image/vnd.adobe.photoshop' },
    '/still.png': { body: stillPng, contentType: 'image/png' },
  });
  imgproxy = await startApp({ IMGPROXY_ENABLE_VIDEO_THUMBNAILS: 'true' });
  pp = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy' });
}, 120_000);

afterAll(async () => {
  await imgproxy.stop();
  await pp.stop();
  await origin.close();
});

const src = (name: string) => `${origin.url}/${name}`;
const ip = (opts: string, name: string, ext = '') => `/insecure/${opts}/plain/${src(name)}${ext}`;

async function expectWebp(r: Reply, width: number, colour: typeof RED): Promise<void> {
  expect(r.status, r.body.toString('utf8', 0, 200)).toBe(200);
  const i = await inspect(r.body);
  expect([i.format, i.width]).toEqual(['webp', width]);
  const px = await pixels(r.body);
  expect(near(px.at(Math.floor(px.width / 2), Math.floor(px.height / 2)), colour, 32)).toBe(true);
}

/** The same URL again is served from the cache. */
async function cachedAgain(app: RunningApp, path: string): Promise<void> {
  const again = await get(app, path);
  expect(again.status).toBe(200);
  expect(again.headers.get('x-cache') ?? '').toMatch(/^HIT-/);
}

describe.each<[string, typeof RED, string, string]>([
  ['video.mp4', RED, 'vts:0', ''],
  ['doc.pdf', RED, '', ''],
  ['art.psd', BLUE, '', ''],
])('%s', (name, colour, ipExtra, ppExtra) => {
  it('imgproxy URL: resized WebP, then a cache hit', async () => {
    const path = ip(`${ipExtra ? `${ipExtra}/` : ''}rs:fit:32:32`, name, '@webp');
    await expectWebp(await get(imgproxy, path), 32, colour);
    await cachedAgain(imgproxy, path);
  });

  it('PreviewProxy path dialect: resized WebP, then a cache hit', async () => {
    const path = `/w=32,webp${ppExtra}/${src(name)}`;
    await expectWebp(await get(pp, path), 32, colour);
    await cachedAgain(pp, path);
  });

  it('/proxy?url=: resized WebP, then a cache hit', async () => {
    const path = `/proxy?url=${encodeURIComponent(src(name))}&w=24&format=webp`;
    await expectWebp(await get(pp, path), 24, colour);
    await cachedAgain(pp, path);
  });
});

describe('video frames', () => {
  it.each<[string, typeof RED]>([['vts:1', RED], ['vts:3', GREEN], ['vts:5', BLUE], ['vts:99', BLUE], ['vts:3/vtk:1', GREEN]])('imgproxy %s', async (opts, colour) => {
    const px = await pixels((await get(imgproxy, ip(`${opts}/rs:fit:16:16`, 'video.mp4', '@png'))).body);
    expect(near(px.at(8, 6), colour, 32)).toBe(true);
  });

  it('imgproxy without an explicit second takes IMGPROXY_VIDEO_THUMBNAIL_SECOND (1 s: red), in JPEG (mp4 is no preferred format)', async () => {
    const r = await get(imgproxy, ip('rs:fit:16:16', 'video.mp4'));
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(near((await pixels(r.body)).at(8, 6), RED, 40)).toBe(true);
  });

  it.each<[string, typeof RED]>([['seek=2.5', GREEN], ['seek=0.9r', BLUE], ['seek=auto', GREEN], ['', RED]])('PreviewProxy %s', async (q, colour) => {
    const r = await get(pp, `/proxy?url=${encodeURIComponent(src('video.mp4'))}&format=png&${q}`);
    expect(near((await pixels(r.body)).at(32, 24), colour, 32)).toBe(true);
  });

  it('PreviewProxy without transforms answers the frame as PNG', async () => {
    const r = await get(pp, `/proxy?url=${encodeURIComponent(src('video.mp4'))}`);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect((await inspect(r.body)).width).toBe(64);
  });

  it('imgproxy routes refuse videos unless IMGPROXY_ENABLE_VIDEO_THUMBNAILS (imgproxy Pro\'s default)', async () => {
    const off = await startApp();
    try {
      expect((await get(off, ip('rs:fit:16:16', 'video.mp4'))).status).toBe(422);
      // PreviewProxy's routes preview videos whatever it says, as PreviewProxy does.
      expect((await get(off, `/proxy?url=${encodeURIComponent(src('video.mp4'))}&w=16`)).status).toBe(200);
    } finally {
      await off.stop();
    }
  });

  it('the video has its own size limit (PIXPROXY_MAX_VIDEO_SRC_FILE_SIZE)', async () => {
    const video = (await videoMp4()).length;
    const app = await startApp({ IMGPROXY_ENABLE_VIDEO_THUMBNAILS: 'true', IMGPROXY_MAX_SRC_FILE_SIZE: String(video - 1), PIXPROXY_MAX_VIDEO_SRC_FILE_SIZE: String(video) });
    const tight = await startApp({ IMGPROXY_ENABLE_VIDEO_THUMBNAILS: 'true', PIXPROXY_MAX_VIDEO_SRC_FILE_SIZE: String(video - 1) });
    try {
      expect((await get(app, ip('rs:fit:16:16', 'video.mp4'))).status).toBe(200);
      expect((await get(tight, ip('rs:fit:16:16', 'video.mp4'))).status).toBe(422);
      // Images keep IMGPROXY_MAX_SRC_FILE_SIZE.
      expect((await get(tight, ip('rs:fit:16:16', 'still.png'))).status).toBe(200);
    } finally {
      await app.stop();
      await tight.stop();
    }
  });

  it('a video longer than PIXPROXY_MAX_VIDEO_DURATION is refused before a frame is decoded', async () => {
    const app = await startApp({ IMGPROXY_ENABLE_VIDEO_THUMBNAILS: 'true', PIXPROXY_MAX_VIDEO_DURATION: '5' });
    try {
      expect((await get(app, ip('rs:fit:16:16', 'video.mp4'))).status).toBe(422);
    } finally {
      await app.stop();
    }
  });
});

describe('PDF pages', () => {
  it('page picks the page; pages stacks them (left-aligned on white)', async () => {
    const second = await pixels((await get(imgproxy, ip('pg:1', 'doc.pdf', '@png'))).body);
    expect([second.width, second.height]).toEqual([100, 100]);
    expect(near(second.at(50, 50), GREEN)).toBe(true);
    const both = await pixels((await get(imgproxy, ip('pgs:2', 'doc.pdf', '@png'))).body);
    expect([both.width, both.height]).toEqual([200, 200]);
    expect(near(both.at(50, 50), RED)).toBe(true);
    expect(near(both.at(50, 150), GREEN)).toBe(true);
    expect(near(both.at(150, 150), { r: 255, g: 255, b: 255 })).toBe(true);
  });

  it('is rendered at the size asked (a vector: sharp at 10× its 72-DPI size)', async () => {
    const r = await get(imgproxy, ip('rs:fit:2000:2000', 'doc.pdf', '@png'));
    expect([(await inspect(r.body)).width, (await inspect(r.body)).height]).toEqual([2000, 1000]);
  });
});

describe('seek on a still image', () => {
  it('is ignored: the same pixels as without it', async () => {
    const a = await pixels((await get(pp, `/proxy?url=${encodeURIComponent(src('still.png'))}&seek=3&format=png`)).body);
    expect([a.width, a.height]).toEqual([40, 30]);
    expect(near(a.at(20, 15), { r: 200, g: 40, b: 90 }, 4)).toBe(true);
  });
});

describe('/info', () => {
  const info = async (opts: string, name: string): Promise<Record<string, unknown>> => {
    const r = await get(imgproxy, `/info/insecure/${opts ? `${opts}/` : ''}plain/${src(name)}`);
    expect(r.status, r.body.toString()).toBe(200);
    return JSON.parse(r.body.toString()) as Record<string, unknown>;
  };

  it('video: format, size, duration and streams', async () => {
    const i = await info('', 'video.mp4');
    expect(i).toMatchObject({ format: 'mp4', width: 64, height: 48 });
    expect(i.duration as number).toBeCloseTo(6, 0);
    expect(i.video_streams).toEqual([expect.objectContaining({ type: 'video', codec: 'h264', fps: 10 })]);
  });

  it('PDF: format, the page\'s size at 72 DPI, pages', async () => {
    expect(await info('pn:1', 'doc.pdf')).toMatchObject({ format: 'pdf', width: 200, height: 100, pages_number: 2 });
    expect(await info('pg:1', 'doc.pdf')).toMatchObject({ width: 100, height: 100 });
  });

  it('PSD: format, size, and pixel fields from the composite', async () => {
    const i = await info('avg:1', 'art.psd');
    expect(i).toMatchObject({ format: 'psd', width: 48, height: 32, average: { R: 0, G: 0, B: 255, A: 255 } });
  });
});
