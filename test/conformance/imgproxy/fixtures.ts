/**
 * Generated stand-ins for the images imgproxy's tests read: its `testdata/` files and the
 * `imgproxy/test-images` set (https://github.com/imgproxy/test-images), which we may not
 * commit. Each stand-in has the upstream file's name, format, dimensions, bit depth,
 * channels, alpha and orientation; its pixels are chosen so a test can tell what happened
 * to them (gradients that say where a crop came from, bands trim can find, asymmetric
 * content every rotation changes).
 *
 * Written once per run into a temp folder named after this file's and encoders.ts's
 * content (`../generated-dir.ts`), so the forks vitest runs share one copy and a changed
 * generator makes a fresh one. `ref/<path>.png` holds the 8-bit RGBA truth of every `test-images/` stand-in, for the
 * format matrix. HEIC (x265) and JPEG XL need `heif-enc` and `ffmpeg` (libjxl); without
 * them those stand-ins are absent and the matrix reports their cells as not run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { generatedDir } from '../generated-dir.js';
import { encodeBmp, encodeIco, encodePng, encodeTiff, type Palette, type Rgba8 } from './encoders.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** geometry.png: R follows x, G follows y, B = 0, so any output pixel says where it came from. */
export const GEOMETRY = { width: 200, height: 100 } as const;
export const geometryColour = (x: number, y: number): { r: number; g: number; b: number } => ({
  r: Math.round((255 * (x + 0.5)) / GEOMETRY.width),
  g: Math.round((255 * (y + 0.5)) / GEOMETRY.height),
  b: 0,
});

function rgba(width: number, height: number, f: (x: number, y: number) => [number, number, number, number]): Rgba8 {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(f(x, y), (y * width + x) * 4);
  }
  return { width, height, data };
}

const png = (img: Rgba8, channels: 3 | 4 = 4): Promise<Buffer> => {
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } });
  return (channels === 3 ? s.removeAlpha() : s).png().toBuffer();
};

/** Colourful, asymmetric, smooth enough to survive lossy codecs: used for matrix stand-ins. */
function photo(width: number, height: number, alpha = false): Rgba8 {
  return rgba(width, height, (x, y) => {
    const block = ((x * 6) / width) | 0;
    const band = ((y * 4) / height) | 0;
    const a = alpha ? Math.round(255 * Math.min(1, Math.hypot(x - width / 3, y - height / 3) / (0.6 * width))) : 255;
    return [Math.round((255 * x) / width), Math.round((255 * y) / height), ((block + band) % 3) * 110, alpha ? a : 255];
  });
}

const grey = (img: Rgba8): Rgba8 =>
  rgba(img.width, img.height, (x, y) => {
    const i = (y * img.width + x) * 4;
    const v = Math.round(0.3 * (img.data[i] ?? 0) + 0.6 * (img.data[i + 1] ?? 0) + 0.1 * (img.data[i + 2] ?? 0));
    return [v, v, v, img.data[i + 3] ?? 255];
  });

/** A 16-entry palette and a 256-entry one (6×6×6 cube + greys), and index functions over them. */
const PALETTE16: Palette = Array.from({ length: 16 }, (_, i): [number, number, number] => {
  const level = i & 8 ? 255 : 128;
  return [(i & 1) * level, ((i >> 1) & 1) * level, ((i >> 2) & 1) * level];
});
const PALETTE256: Palette = Array.from({ length: 256 }, (_, i) => (i < 216 ? [((i / 36) | 0) * 51, (((i / 6) | 0) % 6) * 51, (i % 6) * 51] : [(i - 216) * 6, (i - 216) * 6, (i - 216) * 6]) as [number, number, number]);

function indexed(width: number, height: number, palette: Palette, index: (x: number, y: number) => number): { img: Rgba8; index: (x: number, y: number) => number; palette: Palette } {
  const img = rgba(width, height, (x, y) => {
    const [r, g, b] = palette[index(x, y)] ?? [0, 0, 0];
    return [r, g, b, 255];
  });
  return { img, index, palette };
}

const cubeIndex = (width: number, height: number) => (x: number, y: number): number => Math.min(5, ((x * 6) / width) | 0) * 36 + Math.min(5, ((y * 6) / height) | 0) * 6 + (((x + y) * 3) / (width + height) | 0) * 2;

/** Stand-ins of imgproxy's top-level testdata files. */
async function testdata(): Promise<Record<string, Buffer>> {
  const geometry = rgba(GEOMETRY.width, GEOMETRY.height, (x, y) => {
    const c = geometryColour(x, y);
    return [c.r, c.g, c.b, 255];
  });
  // Asymmetric RGBA content (one corner mark, an off-centre bar, transparent margin), so each
  // of the eight orientations looks different.
  const oriented = rgba(200, 100, (x, y) => {
    if (x < 8 || y < 8 || x >= 192 || y >= 92) return [0, 0, 0, 0];
    if (x < 50 && y < 40) return [255, 0, 0, 255];
    if (x > 120 && y > 60) return [0, 0, 255, 255];
    return [Math.round((x / 200) * 255), 200, 60, 255];
  });
  const orientedPng = await png(oriented);
  // trim1: grey bands 10 px wide on the top/left, 20 px on the bottom/right, black centre.
  const bands = [255, 204, 153, 102, 51];
  const band = (p: number, size: number, inner: number): number => {
    if (p < 50) return bands[(p / 10) | 0] ?? 0;
    if (p >= 50 + inner) return bands[4 - (((p - 50 - inner) / 20) | 0)] ?? 0;
    return 0;
  };
  const trim1 = rgba(350, 250, (x, y) => {
    const v = Math.max(band(x, 350, 200), band(y, 250, 100));
    return [v, v, v, 255];
  });
  const stripes = (bottom: [number, number, number, number]) => rgba(200, 200, (_x, y) => (y < 30 ? [255, 0, 0, 255] : y < 130 ? [0, 255, 0, 255] : bottom));
  const test1 = rgba(10, 10, (x, y) => [x * 25, y * 25, 128, 255]);
  const files: Record<string, Buffer> = {
    'geometry.png': await png(geometry, 3),
    'orientation-0.png': orientedPng,
    'trim1.png': await sharp(trim1.data, { raw: { width: 350, height: 250, channels: 4 } }).removeAlpha().toColourspace('b-w').png().toBuffer(),
    'trim2.png': await png(stripes([0, 0, 255, 255]), 3),
    'trim3.png': await png(stripes([0, 0, 0, 0])),
    'test1.png': await png(test1, 3),
    'test1.jpg': await sharp(test1.data, { raw: { width: 10, height: 10, channels: 4 } }).removeAlpha().toColourspace('b-w').jpeg({ quality: 95 }).toBuffer(),
    'test2.jpg': await sharp(geometry.data, { raw: { width: 200, height: 100, channels: 4 } }).removeAlpha().jpeg({ quality: 95 }).toBuffer(),
    'test1.svg': Buffer.from(TEST1_SVG),
    // The BMP loader overflow regression: an uncompressed BMP that declares 40 bits per pixel.
    'bmp-invalid-bpp.bmp': encodeBmp(rgba(512, 1, () => [0, 0, 0, 255]), { bpp: 24, declaredBpp: 40 }),
  };
  // imgproxy's orientation-1.png carries EXIF orientation 3 (as libvips reads it), the others N.
  for (let n = 1; n <= 8; n++) {
    files[`orientation-${n}.png`] = await sharp(oriented.data, { raw: { width: 200, height: 100, channels: 4 } }).withMetadata({ orientation: n === 1 ? 3 : n }).png().toBuffer();
  }
  return files;
}

/**
 * Our stand-in for imgproxy's testdata/test1.svg: the same constructs (an `onload` and an
 * `onclick` handler, a `<script>`, a `<use>` pointing at a data: document with an `onerror`,
 * HTML inside `<foreignObject>` with a javascript: form action, `<a>` with javascript: and
 * https: targets, an `<image>` with a data: GIF) on a 200×100 canvas.
 */
export const TEST1_SVG = `<svg width="200" height="100" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert('load')">
  <rect onclick="alert('click')" width="190" height="90" style="fill:rgb(0,0,255);stroke-width:5;stroke:rgb(255,255,0)" />
  <script>
    <![CDATA[
    alert('script');
    ]]>
  </script><use xlink:href="data:application/xml;base64,${Buffer.from("<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='y' onerror='alert(1)'/></svg>").toString('base64')}#x"/>
  <foreignObject>
    <div xmlns="http://www.w3.org/1999/xhtml"><form action="javascript:alert('form')">
      <input type="submit" value="Go" />
    </form></div>
  </foreignObject>
  <a href="javascript:alert('link')"><rect width="20" height="20"/></a>
  <a href="https://example.com/page"><rect x="30" width="20" height="20"/></a>
  <image href="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="/>
</svg>
`;

/** What imgproxy's sanitiser makes of TEST1_SVG, by the rules its test1.sanitized.svg shows. */
export const TEST1_SVG_SANITIZED = `<svg width="200" height="100" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
  <rect width="190" height="90" style="fill:rgb(0,0,255);stroke-width:5;stroke:rgb(255,255,0)"/>
  <use/>
  <foreignObject>
    <div xmlns="http://www.w3.org/1999/xhtml"/>
  </foreignObject>
  <a><rect width="20" height="20"/></a>
  <a href="https://example.com/page"><rect x="30" width="20" height="20"/></a>
  <image href="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="/>
</svg>`;

const SVG_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="406" height="206" viewBox="0 0 406 206">
  <rect width="406" height="206" fill="#fff"/>
  <rect x="10" y="10" width="180" height="90" fill="#e33"/>
  <circle cx="300" cy="120" r="70" fill="#36c"/>
  <path d="M20 190 L200 120 L200 190 Z" fill="#2a4"/>
</svg>`;

export interface StandIn {
  bytes: Buffer;
  /** 8-bit RGBA truth (first frame); absent for SVG, whose truth is its rendering. */
  truth?: Rgba8;
}

function tool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 120_000 });
    return true;
  } catch {
    return false;
  }
}

/** Encodes through an external tool reading `input` (a PNG) in a scratch folder; null when the tool is missing. */
async function viaTool(scratch: string, name: string, input: Buffer, cmd: string, args: (i: string, o: string) => string[]): Promise<Buffer | null> {
  const i = join(scratch, `${name}.in.png`);
  const o = join(scratch, name);
  await writeFile(i, input);
  if (!tool(cmd, args(i, o)) || !existsSync(o)) return null;
  return readFileSync(o);
}

const raw = (img: Rgba8) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } });

/** Stand-ins of the `imgproxy/test-images` files imgproxy's processing and matrix tests read. */
async function testImages(scratch: string): Promise<Record<string, StandIn>> {
  const out: Record<string, StandIn> = {};
  const put = (path: string, bytes: Buffer | null, truth?: Rgba8) => {
    if (bytes) out[path] = { bytes, truth };
  };

  // bmp/
  const p1 = indexed(900, 600, [[0, 0, 0], [255, 255, 255]], (x, y) => (((x / 60) | 0) + ((y / 40) | 0) + (x > 600 && y < 200 ? 1 : 0)) % 2);
  put('bmp/1-bpp.bmp', encodeBmp(p1.img, { bpp: 1, palette: p1.palette, index: p1.index }), p1.img);
  const p4 = indexed(512, 512, PALETTE16, (x, y) => (((x / 64) | 0) + 3 * ((y / 128) | 0)) % 16);
  put('bmp/4-bpp.bmp', encodeBmp(p4.img, { bpp: 4, palette: p4.palette, index: p4.index }), p4.img);
  const p8 = indexed(512, 512, PALETTE256, cubeIndex(512, 512));
  put('bmp/8-bpp.bmp', encodeBmp(p8.img, { bpp: 8, palette: p8.palette, index: p8.index }), p8.img);
  put('bmp/8-bpp-rle.bmp', encodeBmp(p8.img, { bpp: 8, palette: p8.palette, index: p8.index, rle8: true }), p8.img);
  const single = indexed(1920, 1080, PALETTE256, () => 40);
  put('bmp/8-bpp-rle-single-color.bmp', encodeBmp(single.img, { bpp: 8, palette: single.palette, index: single.index, rle8: true }), single.img);
  // A delta escape jumps 4 pixels of each row; decoders leave them at index 0 (black).
  const moveIndex = (x: number, y: number): number => (x >= 300 && x < 304 ? 0 : cubeIndex(900, 700)(x, y));
  const move = indexed(900, 700, PALETTE256, moveIndex);
  put('bmp/8-bpp-rle-move-to-x.bmp', encodeBmp(move.img, { bpp: 8, palette: move.palette, index: move.index, rle8: { skipAt: 300, skip: 4 } }), move.img);
  const small = photo(32, 32);
  put('bmp/8-bpp-rle-small.bmp', encodeBmp(small, { bpp: 24 }), small);
  const p16 = photo(512, 512);
  put('bmp/16-bpp.bmp', encodeBmp(p16, { bpp: 16 }), p16);
  const p24 = photo(1080, 902);
  put('bmp/24-bpp.bmp', encodeBmp(p24, { bpp: 24 }), p24);
  put('bmp/24-bpp-no-alpha-mask.bmp', encodeBmp(p24, { bpp: 24, header: 124 }), p24);
  const p32 = photo(1080, 902, true);
  put('bmp/32-bpp-with-alpha.bmp', encodeBmp(p32, { bpp: 32, header: 124 }), p32);
  const p32s = photo(100, 84, true);
  put('bmp/32-bpp-with-alpha-self-gen.bmp', encodeBmp(p32s, { bpp: 32, header: 124 }), p32s);

  // gif/ (5 frames), jpg/, webp/
  const gifFrames = [0, 1, 2, 3, 4].map((i) => rgba(492, 229, (x, y) => (Math.hypot(x - 100 - i * 60, y - 114) < 60 ? [230, 40, 40, 255] : y > 200 ? [0, 0, 0, 0] : [40, 120 + i * 20, 200, 255])));
  put('gif/gif.gif', await sharp(await Promise.all(gifFrames.map((f) => png(f))), { join: { animated: true } }).gif({ loop: 0, delay: 100 }).toBuffer(), gifFrames[0]);
  const jpg = grey(photo(600, 800));
  put('jpg/jpg.jpg', await raw(jpg).removeAlpha().toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(), jpg);
  const webp = photo(550, 368);
  put('webp/webp.webp', await raw(webp).removeAlpha().webp({ quality: 90 }).toBuffer(), webp);

  // ico/
  const icoPng = photo(256, 256, true);
  const icoPngBytes = await png(icoPng);
  put('ico/png-256x256.ico', encodeIco([{ kind: 'png', png: icoPngBytes, width: 256, height: 256 }]), icoPng);
  put('ico/multi-png.ico', encodeIco([{ kind: 'png', png: icoPngBytes, width: 256, height: 256 }, { kind: 'png', png: await png(photo(256, 256)), width: 256, height: 256 }]), icoPng);
  const bmpSizes = [16, 32, 70, 72, 96];
  put('ico/multi-bmp.ico', encodeIco(bmpSizes.map((s) => ({ kind: 'bmp', image: photo(s, s, true), bpp: 32 }))), photo(96, 96, true));
  const ico4 = [48, 32, 16].map((s) => indexed(s, s, PALETTE16, (x, y) => (((x * 4) / s) | 0) + 4 * (((y * 4) / s) | 0)));
  put('ico/single-bmp.ico', encodeIco(ico4.map((e) => ({ kind: 'bmp', image: e.img, bpp: 4, palette: e.palette, index: e.index }))), ico4[0]?.img);

  // png/
  const png8 = photo(400, 400);
  put('png/8-bpp.png', await raw(png8).removeAlpha().png().toBuffer(), png8);
  put('png/png.png', await raw(png8).removeAlpha().png().toBuffer(), png8);
  const png8g = grey(photo(150, 200));
  put('png/8-bpp-grayscale.png', await raw(png8g).removeAlpha().toColourspace('b-w').png().toBuffer(), png8g);
  const wide = (img: Rgba8, channels: 1 | 3) => {
    const u = new Uint16Array(img.width * img.height * channels);
    for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < channels; c++) u[i * channels + c] = (img.data[i * 4 + c] ?? 0) * 257;
    return sharp(u, { raw: { width: img.width, height: img.height, channels } });
  };
  const png16 = photo(600, 600);
  put('png/16-bpp.png', await wide(png16, 3).toColourspace('rgb16').png().toBuffer(), png16);
  const png16g = grey(photo(1000, 1000));
  put('png/16-bpp-grayscale.png', await wide(png16g, 1).toColourspace('grey16').png().toBuffer(), png16g);
  put('png/16-bpp-linear.png', encodePng(600, 600, { rgb16: (x, y, c) => ((png16.data[(y * 600 + x) * 4 + c] ?? 0) / 255) ** 2.2 * 65535, gamma: 1 }), png16);
  const png1 = rgba(400, 400, (x, y) => ((((x / 50) | 0) + ((y / 50) | 0)) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
  put('png/1-bpp.png', encodePng(400, 400, { grey1: (x, y) => (((x / 50) | 0) + ((y / 50) | 0)) % 2 }), png1);

  // tiff/
  const t8 = photo(73, 43);
  put('tiff/8-bpp.tiff', await raw(t8).removeAlpha().tiff().toBuffer(), t8);
  const sample = (img: Rgba8, scale: number) => (x: number, y: number, c: number) => (img.data[(y * img.width + x) * 4 + c] ?? 0) * scale;
  put('tiff/16-bpp.tiff', encodeTiff(73, 43, 3, 16, sample(t8, 257)), t8);
  const t8g = grey(photo(73, 43));
  put('tiff/16-bpp-grayscale.tiff', encodeTiff(73, 43, 1, 16, sample(t8g, 257)), t8g);
  const t8gl = grey(photo(277, 339));
  put('tiff/8-bpp-grayscale.tiff', await raw(t8gl).removeAlpha().toColourspace('b-w').tiff().toBuffer(), t8gl);
  const t4 = rgba(1512, 359, (x, y) => {
    const v = ((((x * 16) / 1512) | 0) * 17 + (y > 180 ? 0 : 0)) & 255;
    return [v, v, v, 255];
  });
  put('tiff/4-bpp-grayscale.tiff', encodeTiff(1512, 359, 1, 4, (x) => ((x * 16) / 1512) | 0), t4);
  const tf = photo(333, 225);
  put('tiff/32-bpp-linear.tiff', encodeTiff(333, 225, 3, 32, (x, y, c) => ((tf.data[(y * 333 + x) * 4 + c] ?? 0) / 255) ** 2.2), tf);
  const tt = photo(650, 434, true);
  put('tiff/tiff.tiff', encodeTiff(650, 434, 4, 8, sample(tt, 1)), tt);

  // svg/
  put('svg/svg.svg', Buffer.from(SVG_SVG));

  // heif/ (HEVC, through libheif's heif-enc with x265)
  const heif = async (name: string, img: Rgba8) => put(`heif/${name}`, await viaTool(scratch, name, await raw(img).removeAlpha().png().toBuffer(), 'heif-enc', (i, o) => ['-q', '85', i, '-o', o]), img);
  await heif('8-bpp.heif', photo(1920, 1080));
  await heif('heif.heif', photo(640, 426));

  // jxl/ (through ffmpeg's libjxl encoder)
  const jxl = async (name: string, img: Rgba8, input: Buffer, pixFmt: string) =>
    put(`jxl/${name}`, await viaTool(scratch, name, input, 'ffmpeg', (i, o) => ['-v', 'error', '-y', '-i', i, '-pix_fmt', pixFmt, '-c:v', 'libjxl', '-distance', '1', '-f', 'image2', o]), img);
  await jxl('1-bpp.jxl', png1, await raw(png1).removeAlpha().toColourspace('b-w').png().toBuffer(), 'gray');
  await jxl('16-bpp-grayscale.jxl', png16g, await wide(png16g, 1).toColourspace('grey16').png().toBuffer(), 'gray16le');
  await jxl('16-bpp.jxl', png16, await wide(png16, 3).toColourspace('rgb16').png().toBuffer(), 'rgb48le');
  await jxl('8-bpp-grayscale.jxl', png8g, await raw(png8g).removeAlpha().toColourspace('b-w').png().toBuffer(), 'gray');
  await jxl('8-bpp.jxl', png8, await raw(png8).removeAlpha().png().toBuffer(), 'rgb24');
  // imgproxy's is an ISOBMFF-wrapped codestream; ffmpeg writes the bare codestream.
  await jxl('8-bpp-isobmff.jxl', png8, await raw(png8).removeAlpha().png().toBuffer(), 'rgb24');
  const jx = photo(924, 1386, true);
  await jxl('jxl.jxl', jx, await raw(jx).png().toBuffer(), 'rgba64le');
  return out;
}

let ready: Promise<string> | undefined;

/**
 * The fixtures folder (the local filesystem root of every conformance server): imgproxy's
 * testdata names at the top, `test-images/` below, `ref/` with matrix truths.
 */
export function fixturesRoot(): Promise<string> {
  ready ??= build();
  return ready;
}

function build(): Promise<string> {
  return generatedDir('pixproxy-imgproxy-fixtures', [fileURLToPath(import.meta.url), join(HERE, 'encoders.ts')], async (staging) => {
    for (const [name, bytes] of Object.entries(await testdata())) await writeFile(join(staging, name), bytes);
    const scratch = join(staging, '.scratch');
    await mkdir(scratch);
    for (const [path, s] of Object.entries(await testImages(scratch))) {
      await mkdir(dirname(join(staging, 'test-images', path)), { recursive: true });
      await writeFile(join(staging, 'test-images', path), s.bytes);
      if (s.truth) {
        await mkdir(dirname(join(staging, 'ref', path)), { recursive: true });
        await writeFile(join(staging, 'ref', `${path}.png`), await png(s.truth));
      }
    }
    await rm(scratch, { recursive: true, force: true });
  });
}
