/**
 * Watermarks from any source, text watermarks and GIF frame ranges through a real server, in
 * both dialects, read back in pixels: imgproxy Pro's `watermark_url`, `watermark_text`,
 * `watermark_size`, `watermark_rotate`, `watermark_shadow`; PreviewProxy's `wm:<source>`,
 * `wmt*`, `gif_anim`, `gif_af`. The watermark image is a source like the image: allowed
 * sources, the origin sub-store, its own cache key, PreviewProxy's errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

interface Rgba { r: number; g: number; b: number; a: number }
const RED = { r: 255, g: 0, b: 0 };
const GREEN = { r: 0, g: 255, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };
const WHITE = { r: 255, g: 255, b: 255 };

const solid = (width: number, height: number, c: { r: number; g: number; b: number }): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 4, background: { ...c, alpha: 1 } } }).png().toBuffer();

async function animatedGif(colours: readonly { r: number; g: number; b: number }[], width: number, height: number): Promise<Buffer> {
  const frames = await Promise.all(colours.map((c) => solid(width, height, c)));
  return sharp(frames, { join: { animated: true } }).gif({ loop: 0, delay: colours.map(() => 100) }).toBuffer();
}

/** Frame `page` of an answer as RGBA, with a pixel reader. */
async function frame(body: Buffer, page = 0): Promise<{ width: number; height: number; at(x: number, y: number): Rgba; count(test: (p: Rgba) => boolean): number }> {
  const { data, info } = await sharp(body, { page }).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): Rgba => {
    const i = (y * info.width + x) * 4;
    return { r: data[i] ?? 0, g: data[i + 1] ?? 0, b: data[i + 2] ?? 0, a: data[i + 3] ?? 0 };
  };
  return {
    width: info.width,
    height: info.height,
    at,
    count(test) {
      let n = 0;
      for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) if (test(at(x, y))) n++;
      return n;
    },
  };
}

const near = (p: Rgba, c: { r: number; g: number; b: number }, tol = 30): boolean => Math.abs(p.r - c.r) <= tol && Math.abs(p.g - c.g) <= tol && Math.abs(p.b - c.b) <= tol;
const reddish = (p: Rgba): boolean => p.r > 150 && p.g < 110 && p.b < 110;
const dark = (p: Rgba): boolean => p.r < 100 && p.g < 100 && p.b < 100;
const b64 = (s: string): string => Buffer.from(s).toString('base64url');

async function get(base: string, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(base + path);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

let origin: Origin;
let localRoot: string;

beforeAll(async () => {
  origin = await startOrigin({
    '/src/white.png': { body: await solid(200, 100, WHITE), contentType: 'image/png' },
    '/src/white2.png': { body: await solid(200, 100, WHITE), contentType: 'image/png' },
    '/src/rgb.gif': { body: await animatedGif([RED, GREEN, BLUE], 40, 30), contentType: 'image/gif' },
    '/marks/red.png': { body: await solid(20, 10, RED), contentType: 'image/png' },
    '/marks/blue.png': { body: await solid(20, 10, BLUE), contentType: 'image/png' },
    '/marks/note.txt': { body: Buffer.from('not an image at all'), contentType: 'image/png' },
    '/other/red.png': { body: await solid(20, 10, RED), contentType: 'image/png' },
  });
  localRoot = await mkdtemp(join(tmpdir(), 'pixproxy-wm-'));
  await writeFile(join(localRoot, 'blue.png'), await solid(20, 10, BLUE));
});
afterAll(async () => {
  await origin.close();
  await rm(localRoot, { recursive: true, force: true });
});

describe('imgproxy Pro watermark options', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ IMGPROXY_ALLOWED_SOURCES: `${origin.url}/src/,${origin.url}/marks/` });
  });
  afterAll(async () => px.stop());

  const src = (file = 'white.png'): string => `/plain/${origin.url}/src/${file}@png`;
  const wmu = (file: string): string => `wmu:${b64(`${origin.url}/${file}`)}`;

  it('watermark_url draws the image from that URL where `watermark` places it', async () => {
    const r = await get(px.url, `/unsafe/wm:1:nowe:5:5/${wmu('marks/red.png')}${src()}`);
    expect(r.status, r.body.toString()).toBe(200);
    const p = await frame(r.body);
    expect([p.width, p.height]).toEqual([200, 100]);
    expect(near(p.at(10, 8), RED)).toBe(true);
    expect(near(p.at(4, 4), WHITE)).toBe(true);
    expect(near(p.at(100, 50), WHITE)).toBe(true);
  });

  it('is part of the cache key, and is fetched once into the origin sub-store for every image that uses it', async () => {
    const blue = await frame((await get(px.url, `/unsafe/wm:1:nowe:5:5/${wmu('marks/blue.png')}${src()}`)).body);
    expect(near(blue.at(10, 8), BLUE)).toBe(true);
    const red = await frame((await get(px.url, `/unsafe/wm:1:nowe:5:5/${wmu('marks/red.png')}${src()}`)).body);
    expect(near(red.at(10, 8), RED)).toBe(true);
    const before = origin.count('/marks/blue.png');
    const other = await get(px.url, `/unsafe/wm:1:nowe:5:5/${wmu('marks/blue.png')}${src('white2.png')}`);
    expect(near((await frame(other.body)).at(10, 8), BLUE)).toBe(true);
    expect(origin.count('/marks/blue.png')).toBe(before);
  });

  it('each chained pipeline places its own watermark_url image; both are loaded beside the source', async () => {
    const r = await get(px.url, `/unsafe/wm:1:nowe:5:5/${wmu('marks/red.png')}/-/wm:1:soea:5:5/${wmu('marks/blue.png')}${src()}`);
    expect(r.status, r.body.toString()).toBe(200);
    const p = await frame(r.body);
    expect(near(p.at(10, 8), RED)).toBe(true);
    expect(near(p.at(185, 88), BLUE)).toBe(true);
    expect(near(p.at(100, 50), WHITE)).toBe(true);
    // A later pipeline's mark is a source too: outside the allowed sources it is refused.
    expect((await get(px.url, `/unsafe/wm:1/-/wm:1/${wmu('other/red.png')}${src()}`)).status).toBe(404);
  });

  it('without `watermark` the other options draw nothing (and share the plain result)', async () => {
    const p = await frame((await get(px.url, `/unsafe/${wmu('marks/red.png')}/wms:50:50${src()}`)).body);
    expect(near(p.at(100, 50), WHITE) && near(p.at(10, 8), WHITE)).toBe(true);
  });

  it('a watermark URL outside IMGPROXY_ALLOWED_SOURCES is refused like a source', async () => {
    const r = await get(px.url, `/unsafe/wm:1/${wmu('other/red.png')}${src()}`);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toContain('Invalid source URL');
  });

  it('a watermark the origin does not have is the origin\'s 404; one that is no image is 422', async () => {
    expect((await get(px.url, `/unsafe/wm:1/${wmu('marks/missing.png')}${src()}`)).status).toBe(404);
    expect((await get(px.url, `/unsafe/wm:1/${wmu('marks/note.txt')}${src()}`)).status).toBe(422);
  });

  it('watermark_size fits the mark (enlarging it), watermark_rotate turns it, watermark_shadow darkens around it', async () => {
    const sized = await frame((await get(px.url, `/unsafe/wm:1:nowe/${wmu('marks/red.png')}/wms:40:0${src()}`)).body);
    expect(near(sized.at(35, 15), RED)).toBe(true);
    expect(near(sized.at(45, 5), WHITE)).toBe(true);
    const turned = await frame((await get(px.url, `/unsafe/wm:1:nowe/${wmu('marks/red.png')}/wmr:90${src()}`)).body);
    expect(near(turned.at(5, 15), RED)).toBe(true);
    expect(near(turned.at(15, 5), WHITE)).toBe(true);
    const shadowed = await frame((await get(px.url, `/unsafe/wm:1:nowe/${wmu('marks/red.png')}/wmsh:3${src()}`)).body);
    // The mark sits 9 px (3 sigma) inside its shadow's margin; the shadow greys the white.
    expect(near(shadowed.at(15, 12), RED)).toBe(true);
    expect(shadowed.at(7, 14).g).toBeLessThan(230);
    expect(near(shadowed.at(100, 60), WHITE)).toBe(true);
  });

  it('watermark_text draws Pango markup, black by default, in the colour its spans ask for', async () => {
    const black = await frame((await get(px.url, `/unsafe/wm:1:ce/wmt:${b64('XXXX')}${src()}`)).body);
    expect(black.count(dark)).toBeGreaterThan(20);
    expect(near(black.at(3, 3), WHITE)).toBe(true);
    const red = await frame((await get(px.url, `/unsafe/wm:1:ce/wmt:${b64('<span foreground="#ff0000" size="20pt"><b>XX</b></span>')}${src()}`)).body);
    expect(red.count(reddish)).toBeGreaterThan(20);
    expect(red.count(dark)).toBe(0);
  });

  it('refuses markup outside the subset, naming it, instead of passing it to Pango', async () => {
    for (const text of ['<span onload="x">a</span>', '<img src="http://x/"/>', '<span font_features="liga">a</span>', 'a < b', `${'<big>'.repeat(17)}a${'</big>'.repeat(17)}`, '<span size="2000000000">a</span>']) {
      const r = await get(px.url, `/unsafe/wm:1/wmt:${b64(text)}${src()}`);
      expect(r.status, text).toBe(404);
    }
  });
});

describe('PreviewProxy watermarks and frame ranges', () => {
  let px: RunningApp;
  beforeAll(async () => {
    px = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy', IMGPROXY_LOCAL_FILESYSTEM_ROOT: localRoot, PP_LOCAL_ENABLED: 'true' });
  });
  afterAll(async () => px.stop());

  const q = (file: string, query: string): string => `/proxy?url=${encodeURIComponent(`${origin.url}/src/${file}`)}&format=png${query}`;
  const wm = (file: string): string => `&wm=${encodeURIComponent(`${origin.url}/marks/${file}`)}`;
  const ppError = (r: { body: Buffer }): { error?: string; detail?: string } => JSON.parse(r.body.toString()) as { error?: string; detail?: string };

  it('wm from a URL: top-right at natural size with wm_scale=0, 15 % of the width by default', async () => {
    const natural = await frame((await get(px.url, q('white.png', `${wm('red.png')}&wm_scale=0`))).body);
    expect(near(natural.at(190, 5), RED) && near(natural.at(175, 5), WHITE)).toBe(true);
    const scaled = await frame((await get(px.url, q('white.png', wm('red.png')))).body);
    // 15 % of 200 = 30 px wide.
    expect(near(scaled.at(172, 3), RED) && near(scaled.at(168, 3), WHITE)).toBe(true);
  });

  it('wm from local:/ and from the path form', async () => {
    const local = await frame((await get(px.url, q('white.png', `&wm=local:/blue.png&wm_scale=0&wm_pos=sowe`))).body);
    expect(near(local.at(5, 95), BLUE)).toBe(true);
    const path = await frame((await get(px.url, `/wm:${origin.url}/marks/red.png,wm_scale:0,wm_pos:nowe,png/${origin.url}/src/white.png`)).body);
    expect(near(path.at(5, 5), RED)).toBe(true);
  });

  it('PreviewProxy\'s errors: a watermark that cannot be fetched is 502 watermark_fetch_failed, one that is no image 422', async () => {
    const missing = await get(px.url, q('white.png', wm('missing.png')));
    expect(missing.status).toBe(502);
    expect(ppError(missing).error).toBe('watermark_fetch_failed');
    const unknown = await get(px.url, q('white.png', '&wm=nosuchalias:/x.png'));
    expect([unknown.status, ppError(unknown).error]).toEqual([502, 'watermark_fetch_failed']);
    const text = await get(px.url, q('white.png', wm('note.txt')));
    expect([text.status, ppError(text).error]).toEqual([422, 'not_an_image']);
  });

  it('a watermark host outside PP_ALLOWED_HOSTS is 403 host_not_allowed', async () => {
    const strict = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy', PP_ALLOWED_HOSTS: '127.0.0.1' });
    try {
      const r = await get(strict.url, q('white.png', `&wm=${encodeURIComponent(`http://localhost:${origin.port}/marks/red.png`)}`));
      expect([r.status, ppError(r).error]).toEqual([403, 'host_not_allowed']);
    } finally {
      await strict.stop();
    }
  });

  it('wmt draws the text in wmt_color at wmt_size, with wm_opacity', async () => {
    const small = await frame((await get(px.url, q('white.png', '&wmt=Hello&wmt_color=ff0000&wmt_size=16&wm_pos=ce'))).body);
    const large = await frame((await get(px.url, q('white.png', '&wmt=Hello&wmt_color=%23ff0000&wmt_size=40&wm_pos=ce'))).body);
    expect([large.width, large.height]).toEqual([200, 100]);
    expect(small.count(reddish)).toBeGreaterThan(10);
    expect(large.count(reddish)).toBeGreaterThan(small.count(reddish) * 3);
    const faint = await frame((await get(px.url, q('white.png', '&wmt=Hello&wmt_color=ff0000&wmt_size=40&wm_pos=ce&wm_opacity=0.3'))).body);
    expect(faint.count(reddish)).toBe(0);
    expect(faint.count((p) => p.g < 240)).toBeGreaterThan(10);
    // An unknown font falls back to the bundled one, as PreviewProxy does.
    const fallback = await frame((await get(px.url, q('white.png', '&wmt=Hello&wmt_color=ff0000&wmt_size=40&wm_pos=ce&wmt_font=../../etc/passwd'))).body);
    expect(fallback.count(reddish)).toBe(large.count(reddish));
  });

  it('text is drawn as text, never read as markup; an unbounded size is refused', async () => {
    const r = await get(px.url, q('white.png', `&wmt=${encodeURIComponent('<span foreground="blue">&amp;</span>')}&wmt_color=ff0000&wmt_size=20&wm_pos=ce`));
    expect(r.status).toBe(200);
    const p = await frame(r.body);
    expect(p.count(reddish)).toBeGreaterThan(50);
    expect(p.count((c) => c.b > 150 && c.r < 100)).toBe(0);
    const huge = await get(px.url, q('white.png', '&wmt=Hello&wmt_size=4000000000'));
    expect([huge.status, ppError(huge).error]).toEqual([400, 'invalid_params']);
  });

  it('gif_anim ranges: all, from N, N-M, last N; frames out of range are errors', async () => {
    const frames = async (query: string): Promise<number> => {
      const r = await get(px.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}${query}`);
      expect(r.status, r.body.toString()).toBe(200);
      expect(r.type).toBe('image/gif');
      return (await sharp(r.body).metadata()).pages ?? 1;
    };
    expect(await frames('&gif_anim=all')).toBe(3);
    expect(await frames('&gif_anim=1&format=webp')).toBe(2);
    expect(await frames('&gif_anim=0-1')).toBe(2);
    expect(await frames('&gif_anim=-1')).toBe(1);
    const last = await get(px.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}&gif_anim=-1`);
    expect(near((await frame(last.body)).at(5, 5), BLUE)).toBe(true);
    for (const bad of ['3', '2-1', '-0']) {
      const r = await get(px.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}&gif_anim=${bad}`);
      expect([r.status, ppError(r).error], bad).toEqual([400, 'invalid_params']);
    }
  });

  it('gif_af keeps the other frames with the geometric steps only: resized, not watermarked', async () => {
    const r = await get(px.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}&gif_anim=2&gif_af=1&w=20&h=15${wm('blue.png')}&wm_scale=0&wm_pos=nowe`);
    expect(r.status, r.body.toString()).toBe(200);
    expect((await sharp(r.body).metadata()).pages).toBe(3);
    const [f0, f2] = [await frame(r.body, 0), await frame(r.body, 2)];
    expect([f0.width, f0.height]).toEqual([20, 15]);
    expect(near(f0.at(2, 2), RED)).toBe(true);
    expect(near(f2.at(2, 2), BLUE) && near(f2.at(18, 13), BLUE)).toBe(true);
    // Only frame 0 in range: it gets the (blue) mark, the green frame after it does not.
    const first = await get(px.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}&gif_anim=0-0&gif_af=1${wm('blue.png')}&wm_scale=0&wm_pos=nowe`);
    const [m0, m1] = [await frame(first.body, 0), await frame(first.body, 1)];
    expect(near(m0.at(2, 2), BLUE) && near(m0.at(30, 20), RED)).toBe(true);
    expect(near(m1.at(2, 2), GREEN)).toBe(true);
  });

  it('IMGPROXY_MAX_ANIMATION_FRAMES bounds the frames decoded, and ranges are resolved against them', async () => {
    const bounded = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy', IMGPROXY_MAX_ANIMATION_FRAMES: '2' });
    try {
      const all = await get(bounded.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}&gif_anim=all`);
      expect((await sharp(all.body).metadata()).pages).toBe(2);
      const past = await get(bounded.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/rgb.gif`)}&gif_anim=2`);
      expect(past.status).toBe(400);
    } finally {
      await bounded.stop();
    }
  });

  it('gif_anim on a still image is ignored: the static path, in the source format', async () => {
    const r = await get(px.url, `/proxy?url=${encodeURIComponent(`${origin.url}/src/white.png`)}&gif_anim=5-2`);
    expect([r.status, r.type]).toEqual([200, 'image/png']);
  });
});
