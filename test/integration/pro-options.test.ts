/**
 * imgproxy Pro's processing options and chained pipelines through a real server, judged on the
 * pixels of the answers (https://docs.imgproxy.net/usage/processing,
 * https://docs.imgproxy.net/features/chained_pipelines): crop_aspect_ratio, background_alpha,
 * duotone, unsharp_masking, blur_areas, progressive_blur, colorize, gradient, style, dpi,
 * color_profile, objects_position, the refused object detection, and pipelines chained with `-`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { animatedGif } from '../fixtures/generate.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

interface Decoded {
  width: number;
  height: number;
  channels: number;
  pages: number;
  px(x: number, y: number): number[];
  meta: Metadata;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

async function decode(body: Buffer): Promise<Decoded> {
  const meta = await sharp(body).metadata();
  const { data, info } = await sharp(body, { pages: -1 }).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: meta.pageHeight ?? meta.height,
    channels: info.channels,
    pages: meta.pages ?? 1,
    meta,
    px: (x, y) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x + 1) * info.channels)),
  };
}

/** Raw RGB(A) pixels from a function of (x, y). */
async function image(width: number, height: number, channels: 3 | 4, f: (x: number, y: number) => number[]): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(f(x, y), (y * width + x) * channels);
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

const near = (a: readonly number[], b: readonly number[], tol = 4): boolean => a.length >= b.length && b.every((v, i) => Math.abs((a[i] ?? -999) - v) <= tol);

let origin: Origin;
let px: RunningApp;
let profiles: string;
let p3Icc: Buffer;

async function get(path: string, app: RunningApp = px): Promise<Response> {
  return fetch(`${app.url}${path.replace('ORIGIN', origin.url)}`);
}

async function fetchImage(path: string, app: RunningApp = px): Promise<Decoded> {
  const res = await get(path, app);
  const body = Buffer.from(await res.arrayBuffer());
  expect(res.status, `${path}: ${body.toString('utf8').slice(0, 200)}`).toBe(200);
  return decode(body);
}

/** Contrast between neighbouring pixels of a row: stripes are ~255 apart, a blur ~0. */
function ripple(d: Decoded, x: number, y: number): number {
  return Math.abs((d.px(x, y)[0] ?? 0) - (d.px(x + 1, y)[0] ?? 0));
}

beforeAll(async () => {
  const red = [255, 0, 0];
  const blue = [0, 0, 255];
  const p3 = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).withIccProfile('p3').jpeg().toBuffer();
  p3Icc = (await sharp(p3).metadata()).icc ?? Buffer.alloc(0);
  profiles = await mkdtemp(join(tmpdir(), 'pixproxy-icc-'));
  await writeFile(join(profiles, 'mine.icc'), p3Icc);
  origin = await startOrigin({
    '/split.png': { body: await image(200, 100, 3, (x) => (x < 100 ? red : blue)), contentType: 'image/png' },
    '/grey.png': { body: await image(100, 100, 3, () => [128, 128, 128]), contentType: 'image/png' },
    '/half.png': { body: await image(100, 100, 4, (_x, y) => (y < 50 ? [255, 255, 255, 255] : [0, 0, 0, 0])), contentType: 'image/png' },
    '/stripes.png': { body: await image(200, 100, 3, (x) => (x % 2 ? [255, 255, 255] : [0, 0, 0])), contentType: 'image/png' },
    '/edge.png': { body: await image(200, 100, 3, (x) => (x < 100 ? [64, 64, 64] : [192, 192, 192])), contentType: 'image/png' },
    '/shape.svg': { body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect class="r" width="40" height="40"/></svg>'), contentType: 'image/svg+xml' },
    '/anim.gif': { body: await animatedGif(), contentType: 'image/gif' },
  });
  px = await startApp({ IMGPROXY_COLOR_PROFILES_DIR: profiles, IMGPROXY_MAX_ANIMATION_FRAMES: '10' });
}, 60_000);

afterAll(async () => {
  await px?.stop();
  await origin?.close();
  await rm(profiles, { recursive: true, force: true });
});

describe('crop_aspect_ratio', () => {
  it('crops the image to the ratio, placed by the gravity', async () => {
    const centre = await fetchImage('/unsafe/car:1/plain/ORIGIN/split.png');
    expect([centre.width, centre.height]).toEqual([100, 100]);
    expect(near(centre.px(10, 50), [255, 0, 0])).toBe(true);
    expect(near(centre.px(90, 50), [0, 0, 255])).toBe(true);
    const west = await fetchImage('/unsafe/car:1/g:we/plain/ORIGIN/split.png');
    expect(near(west.px(95, 50), [255, 0, 0])).toBe(true);
  });

  it('corrects a crop area, enlarging it when asked', async () => {
    const shrunk = await fetchImage('/unsafe/c:100:100:we/car:2/plain/ORIGIN/split.png');
    expect([shrunk.width, shrunk.height]).toEqual([100, 50]);
    const grown = await fetchImage('/unsafe/c:100:50:we/car:1:1/plain/ORIGIN/split.png');
    expect([grown.width, grown.height]).toEqual([100, 100]);
  });
});

describe('background_alpha', () => {
  it('leaves the background see-through where the format holds alpha', async () => {
    const d = await fetchImage('/unsafe/bg:ff0000/bga:0.5/f:png/plain/ORIGIN/half.png');
    expect(near(d.px(50, 80), [255, 0, 0, 128], 2)).toBe(true);
    expect(near(d.px(50, 10), [255, 255, 255, 255], 1)).toBe(true);
  });

  it('is opaque in a format without alpha', async () => {
    const d = await fetchImage('/unsafe/bg:ff0000/bga:0.5/f:jpg/plain/ORIGIN/half.png');
    expect(d.channels).toBe(3);
    expect(near(d.px(50, 80), [255, 0, 0], 6)).toBe(true);
  });
});

describe('duotone', () => {
  it('maps luma from color1 to color2', async () => {
    const d = await fetchImage('/unsafe/dt:1:ff0000:0000ff/plain/ORIGIN/grey.png');
    // Luma 128/255 ≈ 0.5: halfway from red to blue.
    expect(near(d.px(50, 50), [127, 0, 128], 3)).toBe(true);
    const half = await fetchImage('/unsafe/dt:0.5:ff0000:0000ff/plain/ORIGIN/grey.png');
    expect(near(half.px(50, 50), [128, 64, 128], 3)).toBe(true);
  });
});

describe('unsharp_masking', () => {
  it('always: overshoot on both sides of an edge, flat areas unchanged', async () => {
    const plain = await fetchImage('/unsafe/f:png/plain/ORIGIN/edge.png');
    const sharp_ = await fetchImage('/unsafe/ush:always:2:8/f:png/plain/ORIGIN/edge.png');
    expect(near(plain.px(99, 50), [64, 64, 64], 1)).toBe(true);
    expect((sharp_.px(99, 50)[0] ?? 0) < 50).toBe(true);
    expect((sharp_.px(100, 50)[0] ?? 0) > 206).toBe(true);
    expect(near(sharp_.px(20, 50), [64, 64, 64], 1)).toBe(true);
  });

  it('auto: only when downscaled, and not when sharpen is set; none by default', async () => {
    const down = await fetchImage('/unsafe/w:100/ush:auto:4:4/f:png/plain/ORIGIN/edge.png');
    expect((down.px(49, 25)[0] ?? 0) < 50).toBe(true);
    const same = await fetchImage('/unsafe/ush:auto:4:4/f:png/plain/ORIGIN/edge.png');
    expect(near(same.px(99, 50), [64, 64, 64], 1)).toBe(true);
    const byDefault = await fetchImage('/unsafe/w:100/f:png/plain/ORIGIN/edge.png');
    expect((byDefault.px(48, 25)[0] ?? 0) >= 60).toBe(true);
  });
});

describe('blur_areas and progressive_blur', () => {
  it('blur_areas blurs the areas only', async () => {
    const d = await fetchImage('/unsafe/ba:3:0:0:0.5:1/f:png/plain/ORIGIN/stripes.png');
    expect(ripple(d, 50, 50)).toBeLessThan(20);
    expect(ripple(d, 150, 50)).toBeGreaterThan(200);
  });

  it('the areas follow a resize and a crop', async () => {
    const d = await fetchImage('/unsafe/c:100:100:ea/ba:3:0.5:0:0.25:1/f:png/plain/ORIGIN/stripes.png');
    // The source's 100–150 is the crop's 0–50.
    expect(ripple(d, 25, 50)).toBeLessThan(20);
    expect(ripple(d, 75, 50)).toBeGreaterThan(200);
  });

  it('progressive_blur grows from none at start to sigma at stop', async () => {
    const d = await fetchImage('/unsafe/pbl:3:right/f:png/plain/ORIGIN/stripes.png');
    expect(ripple(d, 2, 50)).toBeGreaterThan(200);
    expect(ripple(d, 196, 50)).toBeLessThan(20);
    const up = await fetchImage('/unsafe/pbl:3:left:0:0.5/f:png/plain/ORIGIN/stripes.png');
    // 90°: the right side is sharp; blurred fully from the middle leftwards.
    expect(ripple(up, 196, 50)).toBeGreaterThan(200);
    expect(ripple(up, 60, 50)).toBeLessThan(20);
  });
});

describe('colorize and gradient', () => {
  it('colorize lays the colour over the image at its opacity', async () => {
    const d = await fetchImage('/unsafe/col:0.5:00ff00/plain/ORIGIN/split.png');
    expect(near(d.px(10, 50), [128, 128, 0], 3)).toBe(true);
    expect(near(d.px(190, 50), [0, 128, 128], 3)).toBe(true);
  });

  it('keep_alpha keeps the transparent areas transparent', async () => {
    const kept = await fetchImage('/unsafe/col:1:00ff00:1/f:png/plain/ORIGIN/half.png');
    expect(near(kept.px(50, 10), [0, 255, 0, 255], 1)).toBe(true);
    expect(kept.px(50, 80)[3]).toBe(0);
    const covered = await fetchImage('/unsafe/col:1:00ff00/f:png/plain/ORIGIN/half.png');
    expect(near(covered.px(50, 80), [0, 255, 0, 255], 1)).toBe(true);
  });

  it('gradient fades the colour in along the direction', async () => {
    const down = await fetchImage('/unsafe/gr:1:000000/plain/ORIGIN/grey.png');
    expect(near(down.px(50, 1), [127, 127, 127], 4)).toBe(true);
    expect(near(down.px(50, 98), [0, 0, 0], 4)).toBe(true);
    expect(near(down.px(50, 50), [64, 64, 64], 4)).toBe(true);
    const up = await fetchImage('/unsafe/gr:1:000000:up/plain/ORIGIN/grey.png');
    expect(near(up.px(50, 1), [0, 0, 0], 4)).toBe(true);
    const part = await fetchImage('/unsafe/gr:0.5:ffffff:down:0.5:1/plain/ORIGIN/grey.png');
    expect(near(part.px(50, 40), [128, 128, 128], 2)).toBe(true);
    expect(near(part.px(50, 99), [191, 191, 191], 4)).toBe(true);
  });
});

describe('style, dpi, color_profile, objects_position', () => {
  it('style: the CSS applies to the SVG', async () => {
    const styled = await fetchImage(`/unsafe/st:${b64('.r{fill:#00ff00}')}/f:png/plain/ORIGIN/shape.svg`);
    expect(near(styled.px(20, 20), [0, 255, 0], 1)).toBe(true);
    const plain = await fetchImage('/unsafe/f:png/plain/ORIGIN/shape.svg');
    expect(near(plain.px(20, 20), [0, 0, 0], 1)).toBe(true);
    // Served as SVG, the style is in the document.
    const res = await get(`/unsafe/st:${b64('.r{fill:#00ff00}')}/plain/ORIGIN/shape.svg`);
    expect(await res.text()).toContain('<style>.r{fill:#00ff00}</style>');
  });

  it('dpi sets the density; stripped metadata gets IMGPROXY_STRIP_METADATA_DPI', async () => {
    expect((await fetchImage('/unsafe/dpi:300/f:jpg/plain/ORIGIN/grey.png')).meta.density).toBe(300);
    expect((await fetchImage('/unsafe/dpi:150/f:png/plain/ORIGIN/grey.png')).meta.density).toBe(150);
    const app = await startApp({ IMGPROXY_STRIP_METADATA_DPI: '96' });
    try {
      expect((await fetchImage('/unsafe/f:jpg/plain/ORIGIN/grey.png', app)).meta.density).toBe(96);
    } finally {
      await app.stop();
    }
  });

  it('color_profile converts and embeds built-ins and files of IMGPROXY_COLOR_PROFILES_DIR', async () => {
    const res = await get('/unsafe/cp:p3/f:jpg/plain/ORIGIN/split.png');
    const body = Buffer.from(await res.arrayBuffer());
    expect((await sharp(body).metadata()).icc?.equals(p3Icc)).toBe(true);
    // The pixels are P3 numbers: sRGB's pure red is inside P3, so less saturated there.
    const [r, g, b] = await sharp(body).keepIccProfile().extract({ left: 10, top: 50, width: 1, height: 1 }).raw().toBuffer();
    expect(near([r ?? 0, g ?? 0, b ?? 0], [234, 51, 35], 6)).toBe(true);
    const mine = await fetchImage('/unsafe/cp:mine/f:jpg/plain/ORIGIN/split.png');
    expect(mine.meta.icc?.equals(p3Icc)).toBe(true);
    const cmyk = await fetchImage('/unsafe/cp:cmyk/f:jpg/plain/ORIGIN/split.png');
    expect(cmyk.meta.space).toBe('cmyk');
    // PNG holds no CMYK: ignored.
    const png = await fetchImage('/unsafe/cp:cmyk/f:png/plain/ORIGIN/split.png');
    expect(png.meta.space).toBe('srgb');
    expect((await get('/unsafe/cp:missing/f:jpg/plain/ORIGIN/split.png')).status).toBe(404);
    expect((await get('/unsafe/cp:..%2Fetc%2Fpasswd/f:jpg/plain/ORIGIN/split.png')).status).toBe(404);
  });

  it('objects_position changes nothing without detected objects', async () => {
    const a = await fetchImage('/unsafe/op:prop/rs:fill:50:50/plain/ORIGIN/split.png');
    const b = await fetchImage('/unsafe/rs:fill:50:50/plain/ORIGIN/split.png');
    expect(a.px(10, 10)).toEqual(b.px(10, 10));
  });

  it.each(['g:obj', 'g:objw:face:2', 'crop_objects:1.5', 'bd:10', 'dd:1'])('object detection %s: 422', async (opt) => {
    const res = await get(`/unsafe/${opt}/plain/ORIGIN/split.png`);
    expect(res.status).toBe(422);
  });
});

describe('chained pipelines', () => {
  it('each pipeline works on the result of the one before', async () => {
    const d = await fetchImage('/unsafe/rs:fit:100:100/-/c:50:50:we/plain/ORIGIN/split.png');
    expect([d.width, d.height]).toEqual([50, 50]);
    expect(near(d.px(45, 25), [255, 0, 0])).toBe(true);
  });

  it('fast trim: trimming after the resize', async () => {
    const d = await fetchImage('/unsafe/pd:20/bg:00ff00/rs:fit:100:100/-/trim:10/plain/ORIGIN/split.png');
    expect([d.width, d.height]).toEqual([100, 50]);
  });

  it('only the last pipeline flattens for a format without alpha', async () => {
    const d = await fetchImage('/unsafe/pd:10/f:jpg/-/bg:ff0000/plain/ORIGIN/grey.png');
    expect([d.width, d.height]).toEqual([120, 120]);
    expect(near(d.px(2, 2), [255, 0, 0], 8)).toBe(true);
    expect(near(d.px(60, 60), [128, 128, 128], 4)).toBe(true);
  });

  it('a watermark per pipeline (the docs example)', async () => {
    const mark = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#00ff00' } }).png().toBuffer();
    const app = await startApp({ IMGPROXY_WATERMARK_DATA: mark.toString('base64') });
    try {
      const d = await fetchImage('/unsafe/rs:fit:100:100/wm:1:nowe:0:0/-/wm:1:soea:0:0/f:png/plain/ORIGIN/grey.png', app);
      expect(near(d.px(2, 2), [0, 255, 0], 2)).toBe(true);
      expect(near(d.px(97, 97), [0, 255, 0], 2)).toBe(true);
      expect(near(d.px(50, 50), [128, 128, 128], 2)).toBe(true);
    } finally {
      await app.stop();
    }
  });

  it('animation frames go through every pipeline', async () => {
    const res = await get('/unsafe/rs:fit:20:20/-/pd:2/bg:ff0000/plain/ORIGIN/anim.gif');
    expect(res.status).toBe(200);
    const d = await decode(Buffer.from(await res.arrayBuffer()));
    // 60×40 → 20×13, then 2 px of red around each of the 3 frames.
    expect([d.width, d.height, d.pages]).toEqual([24, 17, 3]);
    expect(near(d.px(0, 0), [255, 0, 0], 40)).toBe(true);
  });

  it('IMGPROXY_MAX_CHAINED_PIPELINES refuses longer chains', async () => {
    const app = await startApp({ IMGPROXY_MAX_CHAINED_PIPELINES: '2' });
    try {
      expect((await get('/unsafe/w:100/-/w:50/plain/ORIGIN/split.png', app)).status).toBe(200);
      expect((await get('/unsafe/w:100/-/w:50/-/w:20/plain/ORIGIN/split.png', app)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });
});
