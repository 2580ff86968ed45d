import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeBmp, probeBmp, type RawImage } from '../../../../src/processing/codecs/bmp-read.js';
import { encodeBmp } from '../../../../src/processing/codecs/bmp-write.js';
import { entryFor, icoEntries, largestEntry } from '../../../../src/processing/codecs/ico-read.js';
import { encodeIco } from '../../../../src/processing/codecs/ico-write.js';
import { readSource, sharpOf } from '../../../../src/processing/codecs/source.js';
import { detectImageFormat } from '../../../../src/sources/detect.js';
import { encodeIco as icoOf } from '../../../conformance/imgproxy/encoders.js';

const LIMITS = { maxPixels: 1e8, maxFrames: 1, deadline: Date.now() + 600_000 };

/** BMP or ICO → raw pixels, through the registry (worker thread for bitmaps, libvips for PNG entries). */
async function decodeExtra(buf: Buffer, size?: { width: number; height: number }): Promise<RawImage & { channels: 1 | 2 | 3 | 4 }> {
  const info = await readSource(buf, { limits: { ...LIMITS, deadline: Date.now() + 60_000 }, request: () => ({ size }) });
  const { data, info: i } = await sharpOf(info.input).raw().toBuffer({ resolveWithObject: true });
  return { data, width: i.width, height: i.height, channels: i.channels as 3 | 4 };
}

function pure(buf: Buffer): RawImage {
  const r = decodeBmp(buf, 1e8);
  if ('encoded' in r) throw new Error('expected pixels');
  return r;
}

/** 3×2 24-bit bottom-up BMP written byte by byte: top row red, green, blue; bottom row white, black, grey. */
function handBmp24(): Buffer {
  const stride = 12; // 3 px × 3 bytes = 9, padded to 4
  const buf = Buffer.alloc(54 + stride * 2);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(3, 18);
  buf.writeInt32LE(2, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  // Bottom row first (BGR).
  Buffer.from([255, 255, 255, 0, 0, 0, 128, 128, 128]).copy(buf, 54);
  Buffer.from([0, 0, 255, 0, 255, 0, 255, 0, 0]).copy(buf, 54 + stride);
  return buf;
}

/** 2×1 8-bit palette BMP, top-down (negative height). */
function handBmp8TopDown(): Buffer {
  const buf = Buffer.alloc(54 + 256 * 4 + 4);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54 + 1024, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(2, 18);
  buf.writeInt32LE(-1, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(8, 28);
  Buffer.from([10, 20, 30, 0]).copy(buf, 54 + 5 * 4); // palette[5] = rgb(30,20,10)
  buf[54 + 1024] = 5;
  buf[54 + 1025] = 0;
  return buf;
}

const px = (d: Buffer, i: number, ch: number): number[] => [...d.subarray(i * ch, i * ch + ch)];

describe('BMP', () => {
  it('decodes a hand-written 24-bit bottom-up BMP (in a worker thread)', async () => {
    const bmp = handBmp24();
    expect(detectImageFormat(bmp)).toBe('bmp');
    expect(probeBmp(bmp)).toEqual({ width: 3, height: 2, hasAlpha: false });
    const img = await decodeExtra(bmp);
    expect(img && { w: img.width, h: img.height, c: img.channels }).toEqual({ w: 3, h: 2, c: 3 });
    const d = img?.data ?? Buffer.alloc(0);
    expect([0, 1, 2, 3, 4, 5].map((i) => px(d, i, 3))).toEqual([
      [255, 0, 0], [0, 255, 0], [0, 0, 255],
      [255, 255, 255], [0, 0, 0], [128, 128, 128],
    ]);
    // And sharp takes the result as raw input.
    const png = await sharp(d, { raw: { width: 3, height: 2, channels: 3 } }).png().toBuffer();
    expect((await sharp(png).metadata()).width).toBe(3);
  });

  it('decodes palette and top-down BMPs', async () => {
    const img = pure(handBmp8TopDown());
    expect(img && px(img.data, 0, img.channels)).toEqual([30, 20, 10]);
    expect(img && px(img.data, 1, img.channels)).toEqual([0, 0, 0]);
  });

  it('round-trips encodeBmp with and without alpha', async () => {
    const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 8, 7, 255]);
    const a = pure(encodeBmp(rgba, 2, 2, 4));
    expect(a?.channels).toBe(4);
    expect(a?.data.equals(rgba)).toBe(true);
    const rgb = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = pure(encodeBmp(rgb, 3, 1, 3));
    expect(b && { c: b.channels, same: b.data.equals(rgb) }).toEqual({ c: 3, same: true });
  });

  it('refuses corrupt BMPs with 422, never a 500', async () => {
    const truncated = handBmp24().subarray(0, 60);
    const huge = handBmp24();
    huge.writeInt32LE(1_000_000, 18);
    // RLE8 is for 8-bit images only.
    const rle = handBmp24();
    rle.writeUInt32LE(1, 30);
    const badOffset = handBmp24();
    badOffset.writeUInt32LE(0xfffffff0, 10);
    const badHeader = handBmp24();
    badHeader.writeUInt32LE(7, 14);
    for (const bad of [truncated, huge, rle, badOffset, badHeader, Buffer.from('BM')]) {
      expect(() => decodeBmp(bad, 1e8)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_IMAGE', status: 422 }));
    }
    // Through the registry, too: the worker's error keeps its code.
    await expect(decodeExtra(badOffset)).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 422 });
  });
});

describe('ICO', () => {
  it('decodes an ICO wrapping a PNG and picks the largest entry', async () => {
    const small = await sharp({ create: { width: 16, height: 16, channels: 4, background: '#0000ffff' } }).png().toBuffer();
    const large = await sharp({ create: { width: 32, height: 24, channels: 4, background: '#ff000080' } }).png().toBuffer();
    const ico = icoOf([
      { kind: 'png', png: small, width: 16, height: 16 },
      { kind: 'png', png: large, width: 32, height: 24 },
    ]);
    expect(detectImageFormat(ico)).toBe('ico');
    expect(largestEntry(icoEntries(ico))).toMatchObject({ width: 32, height: 24 });
    const img = await decodeExtra(ico);
    expect(img && { w: img.width, h: img.height, c: img.channels }).toEqual({ w: 32, h: 24, c: 4 });
    expect(img && px(img.data, 0, 4)).toEqual([255, 0, 0, 128]);
  });

  it('decodes a BMP-in-ICO entry with its AND mask', async () => {
    // 2×1, 24-bit DIB with doubled height, then a 1-bit AND mask making pixel 1 transparent.
    const dib = Buffer.alloc(40 + 8 + 4);
    dib.writeUInt32LE(40, 0);
    dib.writeInt32LE(2, 4);
    dib.writeInt32LE(2, 8);
    dib.writeUInt16LE(1, 12);
    dib.writeUInt16LE(24, 14);
    Buffer.from([0, 0, 255, 0, 255, 0]).copy(dib, 40);
    dib[48] = 0b0100_0000;
    const head = Buffer.alloc(22);
    head.writeUInt16LE(1, 2);
    head.writeUInt16LE(1, 4);
    head[6] = 2;
    head[7] = 1;
    head.writeUInt32LE(dib.length, 14);
    head.writeUInt32LE(22, 18);
    const img = await decodeExtra(Buffer.concat([head, dib]));
    expect(img && { w: img.width, h: img.height, c: img.channels }).toEqual({ w: 2, h: 1, c: 4 });
    expect(img && [px(img.data, 0, 4), px(img.data, 1, 4)]).toEqual([[255, 0, 0, 255], [0, 255, 0, 0]]);
  });

  it('refuses corrupt ICOs with 422', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer();
    const ico = encodeIco(png, 4, 4);
    const outOfRange = Buffer.from(ico);
    outOfRange.writeUInt32LE(1 << 30, 18);
    const brokenPng = Buffer.from(ico);
    brokenPng.fill(0, 40);
    for (const bad of [outOfRange, brokenPng, ico.subarray(0, 10)]) {
      await expect(decodeExtra(bad)).rejects.toMatchObject({ status: 422 });
    }
  });

  it('does not mistake an ISO-BMFF box of size 256 for an ICO', () => {
    const mp4ish = Buffer.alloc(64);
    mp4ish.writeUInt32BE(256, 0);
    mp4ish.write('ftypheic', 4, 'latin1');
    expect(detectImageFormat(mp4ish)).not.toBe('ico');
  });

  it('encodeIco refuses images over 256 px', () => {
    expect(() => encodeIco(Buffer.alloc(8), 257, 10)).toThrow(RangeError);
    const ico = encodeIco(Buffer.alloc(8), 256, 256);
    expect([ico[6], ico[7], ico.readUInt32LE(18)]).toEqual([0, 0, 22]);
  });
});

/** A BMP with a 40-byte header, `palette` (RGB triples) and `pixels` as they are stored. */
function handBmp(width: number, height: number, bpp: number, compression: number, palette: [number, number, number][], pixels: Buffer): Buffer {
  const offset = 54 + palette.length * 4;
  const buf = Buffer.alloc(offset + pixels.length);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(compression, 30);
  buf.writeUInt32LE(palette.length, 46);
  palette.forEach(([r, g, b], i) => Buffer.from([b, g, r, 0]).copy(buf, 54 + i * 4));
  pixels.copy(buf, offset);
  return buf;
}

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];
const WHITE: [number, number, number] = [255, 255, 255];
const rows = (img: RawImage): number[][][] =>
  Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => px(img.data, y * img.width + x, img.channels)));

describe('BMP: RLE and bit depths', () => {
  it('RLE8: runs, literal runs with padding, end of line, delta (skipped pixels stay black) and end of image', () => {
    // 4×3, bottom row first. Row 2 (bottom): run of 4 × index 1. Row 1: literal [2,3,1] (padded), then EOL.
    // Row 0 (top): delta right 2 (and down 0), run of 2 × index 2, EOF.
    const stream = Buffer.from([4, 1, 0, 0, 0, 3, 2, 3, 1, 0, 0, 0, 0, 2, 2, 0, 2, 2, 0, 1]);
    const img = pure(handBmp(4, 3, 8, 1, [WHITE, RED, GREEN, BLUE], stream));
    expect(rows(img)).toEqual([
      [[0, 0, 0], [0, 0, 0], GREEN, GREEN],
      [GREEN, BLUE, RED, [0, 0, 0]],
      [RED, RED, RED, RED],
    ]);
  });

  it('RLE8: a run longer than the row is cut, a delta down skips rows', () => {
    // 3×3: bottom row a run of 9 (cut at 3), EOL; delta (0, 1) skips the middle row; top row run of 3.
    const stream = Buffer.from([9, 1, 0, 0, 0, 2, 0, 1, 3, 3, 0, 1]);
    const img = pure(handBmp(3, 3, 8, 1, [WHITE, RED, GREEN, BLUE], stream));
    expect(rows(img)).toEqual([
      [BLUE, BLUE, BLUE],
      [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
      [RED, RED, RED],
    ]);
  });

  it('RLE4: runs alternate their two nibbles, literal runs read nibbles', () => {
    // 6×1: run of 3 with nibbles (1, 2) → 1 2 1; literal of 3 (the shortest: 2 is the delta
    // escape): nibbles 3 0 1 in two bytes, already 16-bit aligned; EOF.
    const stream = Buffer.from([3, 0x12, 0, 3, 0x30, 0x10, 0, 1]);
    const img = pure(handBmp(6, 1, 4, 2, [WHITE, RED, GREEN, BLUE], stream));
    expect(rows(img)).toEqual([[RED, GREEN, RED, BLUE, WHITE, RED]]);
  });

  it('RLE data that ends before the image is a 422', () => {
    const stream = Buffer.from([4, 1, 0, 0]);
    expect(() => decodeBmp(handBmp(4, 3, 8, 1, [WHITE, RED], stream), 1e8)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_IMAGE' }));
  });

  it('2-bit palettes and 16-bit 5-6-5 bit fields', () => {
    // 2-bit: 4 pixels in one byte, indices 0 1 2 3.
    const two = pure(handBmp(4, 1, 2, 0, [WHITE, RED, GREEN, BLUE], Buffer.from([0b00_01_10_11, 0, 0, 0])));
    expect(rows(two)).toEqual([[WHITE, RED, GREEN, BLUE]]);
    // 16-bit BI_BITFIELDS with 565 masks after the 40-byte header: pure red, pure green.
    const pixels = Buffer.alloc(4);
    pixels.writeUInt16LE(0xf800, 0);
    pixels.writeUInt16LE(0x07e0, 2);
    const bmp = handBmp(2, 1, 16, 3, [], Buffer.concat([Buffer.from([0x00, 0xf8, 0, 0, 0xe0, 0x07, 0, 0, 0x1f, 0, 0, 0]), pixels]));
    // The masks sit where handBmp put pixels: pixel data starts after them.
    bmp.writeUInt32LE(54 + 12, 10);
    expect(rows(pure(bmp))).toEqual([[RED, GREEN]]);
  });

  it('refuses a size over the limit before allocating, with the limit\'s own error', () => {
    const bmp = handBmp(4, 3, 8, 1, [WHITE], Buffer.from([0, 1]));
    expect(() => decodeBmp(bmp, 11)).toThrow(expect.objectContaining({ code: 'SOURCE_RESOLUTION_TOO_BIG' }));
  });
});

describe('ICO: the entry for the size', () => {
  async function threeSizes(): Promise<Buffer> {
    const png = (s: number, colour: string) => sharp({ create: { width: s, height: s, channels: 4, background: colour } }).png().toBuffer();
    return icoOf([
      { kind: 'png', png: await png(16, '#ff0000ff'), width: 16, height: 16 },
      { kind: 'png', png: await png(48, '#00ff00ff'), width: 48, height: 48 },
      { kind: 'png', png: await png(32, '#0000ffff'), width: 32, height: 32 },
    ]);
  }

  it('picks the smallest entry that covers the size, else the largest', async () => {
    const entries = icoEntries(await threeSizes());
    expect(entryFor(entries, undefined).width).toBe(48);
    expect(entryFor(entries, { width: 20, height: 20 }).width).toBe(32);
    expect(entryFor(entries, { width: 16, height: 16 }).width).toBe(16);
    expect(entryFor(entries, { width: 100, height: 100 }).width).toBe(48);
  });

  it('reads that entry, and reports the largest entry\'s size for the plan', async () => {
    const ico = await threeSizes();
    const info = await readSource(ico, { limits: LIMITS, request: () => ({ size: { width: 30, height: 30 } }) });
    expect([info.width, info.height]).toEqual([48, 48]);
    const { data, info: i } = await sharpOf(info.input).raw().toBuffer({ resolveWithObject: true });
    expect([i.width, [...data.subarray(0, 4)]]).toEqual([32, [0, 0, 255, 255]]);
  });
});

describe('decoding off the main thread', () => {
  it('stops at the deadline and when aborted, with TIMEOUT and the abort reason', async () => {
    const big = encodeBmp(Buffer.alloc(2000 * 2000 * 3, 7), 2000, 2000, 3);
    await expect(readSource(big, { limits: { ...LIMITS, deadline: Date.now() - 1 } })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await expect(readSource(big, { limits: { ...LIMITS, signal: ac.signal } })).rejects.toMatchObject({ code: 'CANCELLED' });
    // And the pool still decodes afterwards.
    const info = await readSource(big, { limits: { ...LIMITS, deadline: Date.now() + 60_000 } });
    expect(info.input.raw).toMatchObject({ width: 2000, height: 2000, channels: 3 });
  });
});
