/**
 * Decodes any result the format matrix can produce into 8-bit RGBA, to compare it with the
 * truth of its source: sharp for what libvips reads, pixproxy's own BMP/ICO decoder, and
 * ffmpeg (JPEG XL) or libheif's heif-convert (HEIC) when they are installed. Also sniffs the
 * format from magic bytes, independently of the server's detector.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openImage } from '../../../src/processing/codecs/source.js';

export type MatrixFormat = 'gif' | 'jpeg' | 'heic' | 'jxl' | 'svg' | 'tiff' | 'webp' | 'bmp' | 'ico' | 'png' | 'avif';

export function sniff(b: Buffer): MatrixFormat | 'unknown' {
  const ascii = (o: number, n: number) => b.subarray(o, o + n).toString('latin1');
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (ascii(1, 3) === 'PNG') return 'png';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'webp';
  if (ascii(0, 2) === 'BM') return 'bmp';
  if (b.readUInt32LE(0) === 0x00010000) return 'ico';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if ((b[0] === 0xff && b[1] === 0x0a) || ascii(4, 4) === 'JXL ') return 'jxl';
  if (ascii(4, 4) === 'ftyp') return ['avif', 'avis'].includes(ascii(8, 4)) ? 'avif' : 'heic';
  if (/<svg[\s>]/.test(b.subarray(0, 4096).toString('utf8'))) return 'svg';
  return 'unknown';
}

function viaTool(input: Buffer, ext: string, run: (i: string, o: string) => [string, string[]]): Buffer | null {
  const dir = mkdtempSync(join(tmpdir(), 'imgport-decode-'));
  try {
    const i = join(dir, `in.${ext}`);
    const o = join(dir, 'out.png');
    writeFileSync(i, input);
    const [cmd, args] = run(i, o);
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    return readFileSync(o);
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PNG of the first frame, or null when nothing here can decode it. */
export async function toPng(b: Buffer): Promise<Buffer | null> {
  try {
    return await sharp(b, { pages: 1 }).png().toBuffer();
  } catch {
    // not for libvips: try the others
  }
  const f = sniff(b);
  if (f === 'bmp' || f === 'ico') {
    return openImage(b, { maxPixels: 2 ** 28, maxFrames: 1, deadline: Date.now() + 60_000 })
      .then((img) => img.png().toBuffer())
      .catch(() => null);
  }
  if (f === 'jxl') return viaTool(b, 'jxl', (i, o) => ['ffmpeg', ['-v', 'error', '-y', '-i', i, '-frames:v', '1', o]]);
  if (f === 'heic') return viaTool(b, 'heic', (i, o) => ['heif-convert', [i, o]]);
  return null;
}
