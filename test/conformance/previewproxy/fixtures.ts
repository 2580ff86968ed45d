/**
 * Generated stand-ins for the inputs PreviewProxy's tests use (its `test_helpers.rs` images,
 * the wiremock bodies, the `tests/fixtures/` files it never committed) and for the images its
 * docs' examples name. Nothing binary is committed: sharp draws the images, ffmpeg makes the
 * video and the JPEG XL, libheif's `heif-enc` the HEIC, and the PDF and PSD are written
 * here byte by byte (both formats are simple enough to spell out).
 *
 * Pixels are chosen so a test can tell what happened: the video is red, then green, then
 * blue for two seconds each (a seek lands on a known colour), the animated GIF's frames are
 * red, green, blue like upstream's `tiny_gif_anim_bytes`, and `markedPng` carries a tEXt
 * chunk that only an unchanged pass-through keeps.
 *
 * Tool outputs are written once per run into a temp folder named after this file's content
 * (`../generated-dir.ts`), so the forks vitest runs share one copy.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { generatedDir } from '../generated-dir.js';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export const RED: Rgb = { r: 255, g: 0, b: 0 };
export const GREEN: Rgb = { r: 0, g: 255, b: 0 };
export const BLUE: Rgb = { r: 0, g: 0, b: 255 };
export const WHITE: Rgb = { r: 255, g: 255, b: 255 };

const memo = new Map<string, Promise<Buffer>>();
function once(name: string, make: () => Promise<Buffer>): Promise<Buffer> {
  let p = memo.get(name);
  if (!p) memo.set(name, (p = make()));
  return p;
}

export function solidPng(width: number, height: number, c: Rgb, alpha = 1): Promise<Buffer> {
  const channels = alpha === 1 ? 3 : 4;
  return sharp({ create: { width, height, channels, background: { ...c, alpha } } }).png().toBuffer();
}

/** `test_helpers::tiny_png_bytes`: a 1×1 RGB PNG (a colour, so grayscale is visible on it). */
export const tinyPng = (): Promise<Buffer> => once('tiny.png', () => solidPng(1, 1, { r: 200, g: 40, b: 90 }));

/** `test_helpers::tiny_jpeg_bytes`: a 1×1 JPEG. */
export const tinyJpeg = (): Promise<Buffer> =>
  once('tiny.jpg', () => sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 40, b: 90 } } }).jpeg().toBuffer());

/** `test_helpers::tiny_gif_anim_bytes`: three 1×1 frames, red, green, blue, 100 ms each, looping. */
export const tinyGifAnim = (): Promise<Buffer> => once('tiny-anim.gif', () => animatedGif([RED, GREEN, BLUE], 1, 1));

/** An animated GIF with one solid frame per colour. */
export async function animatedGif(colours: readonly Rgb[], width: number, height: number): Promise<Buffer> {
  const frames = await Promise.all(colours.map((c) => solidPng(width, height, c)));
  return sharp(frames, { join: { animated: true } }).gif({ loop: 0, delay: colours.map(() => 100) }).toBuffer();
}

/** Twelve 40×30 frames with distinct colours (the docs' `anim.gif`: ranges up to frame 10 exist). */
export const docsAnimGif = (): Promise<Buffer> =>
  once('anim.gif', () => animatedGif(Array.from({ length: 12 }, (_, i) => ({ r: (i * 20) % 256, g: 255 - i * 20, b: (i * 97) % 256 })), 40, 30));

/** A photo-like JPEG: R follows x, G follows y (the docs' `photo.jpg` is 1200×800). */
export function photoJpeg(width = 1200, height = 800): Promise<Buffer> {
  return once(`photo-${width}x${height}.jpg`, () => {
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) raw.set([Math.round((255 * x) / width), Math.round((255 * y) / height), 120], (y * width + x) * 3);
    }
    return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  });
}

/** The tEXt keyword `markedPng` carries. */
export const MARK = 'pp-passthrough';

/**
 * A PNG with a tEXt chunk: re-encoding drops it, so its presence in an answer means the
 * source went through unchanged (PreviewProxy's pass-through) without comparing bytes.
 */
export function markedPng(width = 8, height = 6, c: Rgb = { r: 30, g: 160, b: 220 }): Promise<Buffer> {
  return once(`marked-${width}x${height}-${c.r}.${c.g}.${c.b}.png`, async () => {
    const png = await solidPng(width, height, c);
    const data = Buffer.from(`${MARK}\0kept`, 'latin1');
    const type = Buffer.from('tEXt', 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([type, data])));
    // After the signature (8) and IHDR (4 + 4 + 13 + 4).
    const at = 8 + 25;
    return Buffer.concat([png.subarray(0, at), len, type, data, crc, png.subarray(at)]);
  });
}

/** True when `body` is a PNG whose chunks include the tEXt chunk `markedPng` wrote. */
export function keepsMark(body: Buffer): boolean {
  if (body.subarray(1, 4).toString('latin1') !== 'PNG') return false;
  for (let i = 8; i + 8 <= body.length; ) {
    const len = body.readUInt32BE(i);
    const type = body.subarray(i + 4, i + 8).toString('latin1');
    if (type === 'tEXt' && body.subarray(i + 8, i + 8 + len).toString('latin1').startsWith(`${MARK}\0`)) return true;
    i += 12 + len;
  }
  return false;
}

/** `best_format.rs` `solid_image`: one colour, no edges. */
export const solidImage = (size: number): Promise<Buffer> => once(`solid-${size}.png`, () => solidPng(size, size, { r: 100, g: 150, b: 200 }));

/** `best_format.rs` `checkerboard_image`: 1-pixel black/white checks, all edges. */
export function checkerboard(size: number): Promise<Buffer> {
  return once(`checker-${size}.png`, () => {
    const raw = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raw.fill((x + y) % 2 === 0 ? 255 : 0, (y * size + x) * 3, (y * size + x) * 3 + 3);
    return sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
  });
}

/** A one-page PDF (200×100 pt) filled red, written by hand. */
export function pdf(): Buffer {
  const content = '1 0 0 rg 0 0 200 100 re f\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}endstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * A flat RGB Photoshop file (https://www.adobe.com/devnet-apps/photoshop/fileformatashtml/):
 * header, empty colour-mode, resource and layer sections, then the raw planar composite.
 */
export function psd(width = 16, height = 12, c: Rgb = BLUE): Buffer {
  const header = Buffer.alloc(26);
  header.write('8BPS', 0, 'latin1');
  header.writeUInt16BE(1, 4); // version
  header.writeUInt16BE(3, 12); // channels
  header.writeUInt32BE(height, 14);
  header.writeUInt32BE(width, 18);
  header.writeUInt16BE(8, 22); // depth
  header.writeUInt16BE(3, 24); // RGB
  const empty = Buffer.alloc(4); // a zero length for each of the three sections
  const planes = [c.r, c.g, c.b].map((v) => Buffer.alloc(width * height, v));
  return Buffer.concat([header, empty, empty, empty, Buffer.from([0, 0]), ...planes]);
}

let toolDir: Promise<string> | undefined;

/** Files made by external tools (ffmpeg, heif-enc), once per version of this file. */
function tools(): Promise<string> {
  toolDir ??= generatedDir('pixproxy-previewproxy-fixtures', [fileURLToPath(import.meta.url)], async (staging) => {
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: staging });
    // 6 s of 64×48 at 10 fps: red, green, blue; a keyframe every 5 frames so any seek is close.
    run('ffmpeg', [
      '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'color=c=red:s=64x48:r=10:d=2',
      '-f', 'lavfi', '-i', 'color=c=lime:s=64x48:r=10:d=2',
      '-f', 'lavfi', '-i', 'color=c=blue:s=64x48:r=10:d=2',
      '-filter_complex', '[0][1][2]concat=n=3:v=1:a=0',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '5', '-movflags', '+faststart', 'video.mp4',
    ]);
    await writeFile(join(staging, 'still.png'), await solidPng(48, 32, { r: 240, g: 160, b: 20 }));
    run('heif-enc', ['-q', '85', 'still.png', '-o', 'still.heic']);
    run('ffmpeg', ['-v', 'error', '-y', '-i', 'still.png', '-c:v', 'libjxl', '-distance', '1', '-f', 'image2', 'still.jxl']);
  });
  return toolDir;
}

/** An H.264 MP4, 64×48, 6 s: red [0, 2) s, green [2, 4) s, blue [4, 6) s. */
export const videoMp4 = async (): Promise<Buffer> => readFile(join(await tools(), 'video.mp4'));
/** A 48×32 orange HEIC (HEVC through libheif). */
export const heic = async (): Promise<Buffer> => readFile(join(await tools(), 'still.heic'));
/** A 48×32 orange JPEG XL codestream (ffmpeg's libjxl). */
export const jxl = async (): Promise<Buffer> => readFile(join(await tools(), 'still.jxl'));

/** ISO-BMFF `ftyp` at offset 4 followed by nothing a decoder can use (`test_is_video_magic_mp4`). */
export const fakeMp4 = (): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftyp', 'latin1'), Buffer.alloc(100)]);
