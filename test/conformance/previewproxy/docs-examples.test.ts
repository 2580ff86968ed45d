/**
 * The URL examples of PreviewProxy's README (https://github.com/ViGrise/previewproxy) and of
 * its documentation site (https://platform.vigrise.com/docs/open-source-software/previewproxy/),
 * each turned into the HTTP request it shows, against a real server in the PreviewProxy path
 * dialect. `https://example.com` becomes a loopback origin serving generated stand-ins of the
 * images the examples name (`photo.jpg` is 1200×800, as the docs' resize examples assume);
 * aliases point at it, `s3:/` examples at a real S3 (Swift's s3api). Each case asserts what the
 * page says the request does: the size, the format, the frame, the colour.
 *
 * Where the docs and PreviewProxy's code disagree, the case follows the docs' intent unless
 * the code (and its README) is the one that is right; each choice is in this folder's README.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect } from 'vitest';
import { inspect, near, pixels, port, type ImageInfo } from '../harness.js';
import { docsAnimGif, GREEN, photoJpeg, RED, solidPng, videoMp4 } from './fixtures.js';
import { expectOk, get, hex, KEY_32, ppCanonical, ppEncrypt, ppServers, ppSign, type Reply, useOrigin, useTempDir } from './pp.js';
import { ppS3, s3Skip } from './s3.js';

/** A documented request: where it is documented, the path as written, what it must give. */
interface Example {
  page: string;
  path: string;
  env?: Record<string, string>;
  check: (r: Reply, info: ImageInfo) => Promise<void> | void;
  gap?: string;
}

const size = (w: number, h: number) => (_r: Reply, i: ImageInfo) => expect([i.width, i.height]).toEqual([w, h]);
const sizeAs = (format: string, w: number, h: number) => (_r: Reply, i: ImageInfo) => expect([i.format, i.width, i.height]).toEqual([format, w, h]);
const width = (w: number) => (_r: Reply, i: ImageInfo) => expect(i.width).toBe(w);
const height = (h: number) => (_r: Reply, i: ImageInfo) => expect(i.height).toBe(h);
const format = (f: string) => (_r: Reply, i: ImageInfo) => expect(i.format).toBe(f);
const frames = (n: number) => (r: Reply, i: ImageInfo) => {
  expect(r.headers.get('content-type')).toBe('image/gif');
  expect(i.pages).toBe(n);
};
/** Grey: R = G = B wherever we look. */
const grey = async (r: Reply) => {
  const px = await pixels(r.body);
  for (const [x, y] of [[10, 10], [px.width >> 1, px.height >> 1], [px.width - 10, px.height - 10]] as const) {
    const p = px.at(x, y);
    expect(Math.max(Math.abs(p.r - p.g), Math.abs(p.g - p.b)), `pixel ${x},${y}`).toBeLessThanOrEqual(2);
  }
};
/** The centre pixel's mean channel against the source's (photo.jpg: R=128, G=128, B=120 there). */
const centreMean = async (r: Reply) => {
  const px = await pixels(r.body);
  const p = px.at(px.width >> 1, px.height >> 1);
  return (p.r + p.g + p.b) / 3;
};
/** photo.jpg's red grows with x: after a horizontal flip the left edge is the red one. */
const flippedH = async (r: Reply) => {
  const px = await pixels(r.body);
  expect(px.at(5, px.height >> 1).r).toBeGreaterThan(200);
  expect(px.at(px.width - 5, px.height >> 1).r).toBeLessThan(50);
};
/** The logo (pure magenta) is drawn in the top-right corner (PreviewProxy's default place). */
const logoTopRight = async (r: Reply) => {
  const px = await pixels(r.body);
  expect(near(px.at(px.width - 3, 3), { r: 255, g: 0, b: 255 }, 40), JSON.stringify(px.at(px.width - 3, 3))).toBe(true);
};
/** A frame of video.mp4 (red, green, blue for 2 s each): its colour says where the seek landed. */
const video = (c: typeof RED) => async (r: Reply) => expect(near((await pixels(r.body)).at(16, 12), c, 24)).toBe(true);

const README = 'README.md';
const URLS = 'docs: transforms/url-format';
const RESIZE = 'docs: transforms/resize-fit';
const FILTERS = 'docs: transforms/filters';
const ROTATE = 'docs: transforms/rotate-flip';
const FORMATS = 'docs: transforms/format-conversion';
const GIF = 'docs: transforms/gif-animation';
const WM = 'docs: transforms/watermark';
const VIDEO = 'docs: transforms/video-thumbnails';
const ALIASES = 'docs: sources/url-aliases';
const HTTP = 'docs: sources/http-source';
const LOCAL = 'docs: sources/local-source';
const HMAC = 'docs: security/hmac-signing';


const BLOB = '{blob}';

const EXAMPLES: Example[] = [
  { page: README, path: '/300x200/https://example.com/photo.jpg', check: size(300, 200) },
  { page: README, path: '/300x200,webp/https://example.com/photo.jpg', check: sizeAs('webp', 300, 200) },
  { page: README, path: '/,grayscale/https://example.com/photo.jpg', check: grey },
  { page: README, path: '/,grayscale,blur:0.8/https://example.com/photo.jpg', check: grey },
  { page: README, path: '/proxy?url=https://example.com/photo.jpg&w=300&h=200&format=webp', check: sizeAs('webp', 300, 200) },
  { page: README, path: '/300x200,webp/https://example.com/img.jpg', check: sizeAs('webp', 300, 200) },
  { page: README, path: `/300x200,webp/enc/${BLOB}`, check: sizeAs('webp', 300, 200) },
  { page: README, path: `/proxy?url=${BLOB}&enc=1&w=300&h=200`, check: size(300, 200) },
  { page: README, path: '/300x200,webp/mycdn:/photos/dog.jpg', check: sizeAs('webp', 300, 200) },
  { page: README, path: '/proxy?url=mycdn:/photos/dog.jpg&w=300', check: width(300) },

  { page: URLS, path: '/w=400,h=300,format=webp/https://example.com/image.jpg', check: sizeAs('webp', 400, 267) },
  { page: URLS, path: '/https://example.com/image.jpg', check: sizeAs('jpeg', 1200, 800) },
  { page: URLS, path: '/proxy?url=https://example.com/image.jpg&w=400&h=300&format=webp', check: sizeAs('webp', 400, 267) },
  { page: URLS, path: '/300x200,webp,q80/https://example.com/image.jpg', check: sizeAs('webp', 300, 200) },
  { page: URLS, path: '/w=300,h=200,format=webp,q=80/https://example.com/image.jpg', check: sizeAs('webp', 300, 200) },
  { page: URLS, path: '/w:300,h:200,format:webp,q:80/https://example.com/image.jpg', check: sizeAs('webp', 300, 200) },

  { page: RESIZE, path: '/w=400/https://example.com/photo.jpg', check: size(400, 267) },
  { page: RESIZE, path: '/h=300/https://example.com/photo.jpg', check: size(450, 300) },
  { page: RESIZE, path: '/400x400/https://example.com/photo.jpg', check: size(400, 267) },
  { page: RESIZE, path: '/400x400,contain/https://example.com/photo.jpg', check: size(400, 267) },
  { page: RESIZE, path: '/400x400,cover/https://example.com/photo.jpg', check: size(400, 400) },

  { page: FILTERS, path: '/blur=5/https://example.com/img.jpg', check: size(1200, 800) },
  { page: FILTERS, path: '/grayscale=true/https://example.com/img.jpg', check: grey },
  { page: FILTERS, path: '/bright=50/https://example.com/img.jpg', check: async (r) => expect(await centreMean(r)).toBeGreaterThan(150) },
  { page: FILTERS, path: '/bright=-80/https://example.com/img.jpg', check: async (r) => expect(await centreMean(r)).toBeLessThan(80) },
  { page: FILTERS, path: '/contrast=30/https://example.com/img.jpg', check: size(1200, 800) },
  { page: FILTERS, path: '/contrast=-40/https://example.com/img.jpg', check: size(1200, 800) },

  { page: ROTATE, path: '/r90/https://example.com/img.jpg', check: size(800, 1200) },
  { page: ROTATE, path: '/flip=h/https://example.com/img.jpg', check: flippedH },
  { page: ROTATE, path: '/r90,flipv/https://example.com/img.jpg', check: size(800, 1200) },
  { page: ROTATE, path: '/w=400,webp,r180/https://example.com/img.jpg', check: sizeAs('webp', 400, 267) },
  { page: ROTATE, path: '/800x600,fliph,jpeg/https://example.com/img.jpg', check: async (r, i) => {
    expect([i.format, i.width, i.height]).toEqual(['jpeg', 800, 533]);
    await flippedH(r);
  } },

  { page: FORMATS, path: '/format=webp/https://example.com/photo.jpg', check: format('webp') },
  { page: FORMATS, path: '/webp,q85/https://example.com/photo.jpg', check: format('webp') },
  { page: FORMATS, path: '/jpeg,q70/https://example.com/photo.jpg', check: format('jpeg') },

  { page: GIF, path: '/200x200,gif_anim/https://example.com/anim.gif', check: (r, i) => {
    frames(12)(r, i);
    expect([i.width, i.height]).toEqual([200, 150]);
  } },
  { page: GIF, path: '/gif_anim:1-10/https://example.com/anim.gif', check: frames(10) },
  // The docs say "only frame N"; the code and the README say "from frame N" (and upstream's
  // tests pin that): 9 of the 12 frames.
  { page: GIF, path: '/gif_anim:3/https://example.com/anim.gif', check: frames(9) },
  { page: GIF, path: '/gif_anim:-5/https://example.com/anim.gif', check: frames(5) },
  { page: GIF, path: '/blur=3,gif_anim:-5,gif_af/https://example.com/anim.gif', check: frames(12) },

  { page: WM, path: '/wm:https://example.com/logo.png/https://example.com/photo.jpg', check: logoTopRight },
  { page: WM, path: '/proxy?url=https://example.com/photo.jpg&wm=https%3A%2F%2Fexample.com%2Flogo.png', check: logoTopRight },
  { page: WM, path: '/wm:https://example.com/logo.png,wm_scale:0.2/https://example.com/photo.jpg', check: logoTopRight },
  { page: WM, path: '/wmt:Copyright 2025/https://example.com/photo.jpg', check: size(1200, 800) },
  { page: WM, path: '/proxy?url=https://example.com/photo.jpg&wmt=Copyright+2025', check: size(1200, 800) },
  { page: WM, path: '/wmt:Copyright 2025,wmt_color:ffffff,wmt_size:32,wmt_font:sans/https://example.com/photo.jpg', check: size(1200, 800) },

  { page: VIDEO, path: '/w=640,webp,seek:auto/https://example.com/video.mp4', check: async (r, i) => {
    expect([i.format, i.width]).toEqual(['webp', 640]);
    await video(GREEN)(r);
  } },
  { page: VIDEO, path: '/seek:5.0/https://example.com/video.mp4', check: video({ r: 0, g: 0, b: 255 }) },

  { page: ALIASES, path: '/w=400/mycdn:/products/photo.jpg', check: width(400) },
  { page: ALIASES, path: '/h=200/thumbs:/avatars/user1.jpg', check: height(200) },
  { page: ALIASES, path: '/format=webp/media:/videos/poster.png', check: format('webp') },
  { page: ALIASES, path: '/w=400/cdn:/products/photo.jpg', check: width(400) },
  { page: ALIASES, path: '/w=400/assets:/logo.png', check: width(400) },

  { page: HTTP, path: '/w=400/https://example.com/photo.jpg', check: width(400) },
  { page: HTTP, path: '/w=400/https%3A%2F%2Fexample.com%2Fphoto.jpg', check: width(400) },

  { page: LOCAL, path: '/format=webp/local:/products/photo.jpg', check: format('webp') },

  { page: HMAC, path: '/w=400,format=webp,sig={sig}/https://example.com/photo.jpg', env: { PP_HMAC_KEY: 'mysecret' }, check: sizeAs('webp', 400, 267) },
];

/** The `s3:/` examples: a real S3 with the docs' keys (and an alias onto its thumbnails/). */
const S3_EXAMPLES: Example[] = [
  { page: VIDEO, path: '/w=320,seek:0.25r/s3:/videos/clip.mp4', check: async (r, i) => {
    expect(i.width).toBe(320);
    await video(RED)(r);
  } },
  { page: ALIASES, path: '/w=400/thumbs:/banner.jpg', check: width(400) },
  { page: 'docs: sources/s3-source', path: '/800x600,webp/s3:/images/product/photo.jpg', check: sizeAs('webp', 800, 533) },
  { page: 'docs: sources/s3-source', path: '/w=400/s3:/banner.jpg', check: width(400) },
  { page: 'docs: sources/s3-source', path: '/format=avif/s3:/2024/uploads/avatar.png', check: format('heif') },
];

const photo = () => photoJpeg();
const logo = () => solidPng(60, 30, { r: 255, g: 0, b: 255 });
const o = useOrigin(async () => ({
  '/photo.jpg': { body: await photo(), contentType: 'image/jpeg' },
  '/image.jpg': { body: await photo(), contentType: 'image/jpeg' },
  '/img.jpg': { body: await photo(), contentType: 'image/jpeg' },
  '/photos/dog.jpg': { body: await photo(), contentType: 'image/jpeg' },
  '/products/photo.jpg': { body: await photo(), contentType: 'image/jpeg' },
  '/avatars/user1.jpg': { body: await photo(), contentType: 'image/jpeg' },
  '/videos/poster.png': { body: await sharp(await photo()).png().toBuffer(), contentType: 'image/png' },
  '/anim.gif': { body: await docsAnimGif(), contentType: 'image/gif' },
  '/logo.png': { body: await logo(), contentType: 'image/png' },
  '/video.mp4': { body: await videoMp4(), contentType: 'video/mp4' },
}));
const dir = useTempDir('pp-docs-', async (d) => {
  await mkdir(join(d, 'static'));
  await mkdir(join(d, 'products'));
  await writeFile(join(d, 'static', 'logo.png'), await logo());
  await writeFile(join(d, 'products', 'photo.jpg'), await photo());
});

/** The documented path with example.com, the blob and the signature filled in. */
function request(path: string): string {
  const source = `${o.url}/photo.jpg`;
  const withHost = path.replaceAll('https://example.com', o.url).replaceAll('https%3A%2F%2Fexample.com', encodeURIComponent(o.url));
  // The signed example, signed as PreviewProxy's code builds the message (for these two params
  // the same as the docs' steps 1–3: sorted, `&`-joined, then `:` and the image URL).
  return withHost.replace(BLOB, ppEncrypt(KEY_32, source)).replace('{sig}', ppSign('mysecret', ppCanonical({ w: 400, format: 'webp' }, source)));
}

function run(examples: Example[], servers: ReturnType<typeof ppServers>): void {
  for (const ex of examples) {
    port(`${ex.page} GET ${ex.path}`, ex.gap, async () => {
      const r = await get(await servers.get(ex.env), request(ex.path));
      expectOk(r);
      await ex.check(r, await inspect(r.body));
    });
  }
}

describe('PreviewProxy README and docs: URL examples', () => {
  const servers = ppServers(() => ({
    PP_URL_ALIASES: `mycdn=${o.url},cdn=${o.url},thumbs=${o.url},media=${o.url},assets=local:/static`,
    PP_SOURCE_URL_ENCRYPTION_KEY: hex(KEY_32),
    PP_LOCAL_ENABLED: 'true',
    PP_LOCAL_BASE_DIR: dir.path,
  }));
  run(EXAMPLES, servers);
});

describe.skipIf(s3Skip !== undefined)(`PreviewProxy docs: s3:/ URL examples${s3Skip ? ` (skipped: ${s3Skip})` : ''}`, () => {
  const s3 = ppS3('my-assets');
  const servers = ppServers(() => ({ ...s3.env(), PP_URL_ALIASES: 'thumbs=s3:/thumbnails' }));
  beforeAll(async () => {
    const photo = await photoJpeg();
    await s3.put('videos/clip.mp4', await videoMp4(), 'video/mp4');
    await s3.put('thumbnails/banner.jpg', photo, 'image/jpeg');
    await s3.put('images/product/photo.jpg', photo, 'image/jpeg');
    await s3.put('banner.jpg', photo, 'image/jpeg');
    await s3.put('2024/uploads/avatar.png', await sharp(photo).png().toBuffer(), 'image/png');
  });
  run(S3_EXAMPLES, servers);
});
