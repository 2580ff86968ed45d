import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeExtra, encodeBmp, encodeIco, probeExtra, sniffExtraFormat } from '../../../src/processing/decoders.js';

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

describe('decodeExtra: BMP', () => {
  it('decodes a hand-written 24-bit bottom-up BMP', async () => {
    const bmp = handBmp24();
    expect(sniffExtraFormat(bmp)).toBe('bmp');
    expect(probeExtra(bmp, 'bmp')).toEqual({ width: 3, height: 2 });
    const img = await decodeExtra(bmp, 'bmp');
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
    const img = await decodeExtra(handBmp8TopDown(), 'bmp');
    expect(img && px(img.data, 0, img.channels)).toEqual([30, 20, 10]);
    expect(img && px(img.data, 1, img.channels)).toEqual([0, 0, 0]);
  });

  it('round-trips encodeBmp with and without alpha', async () => {
    const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 8, 7, 255]);
    const a = await decodeExtra(encodeBmp(rgba, 2, 2, 4), 'bmp');
    expect(a?.channels).toBe(4);
    expect(a?.data.equals(rgba)).toBe(true);
    const rgb = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = await decodeExtra(encodeBmp(rgb, 3, 1, 3), 'bmp');
    expect(b && { c: b.channels, same: b.data.equals(rgb) }).toEqual({ c: 3, same: true });
  });

  it('returns null for formats sharp handles', async () => {
    expect(await decodeExtra(handBmp24(), 'png')).toBeNull();
  });

  it('refuses corrupt BMPs with 422, never a 500', async () => {
    const truncated = handBmp24().subarray(0, 60);
    const huge = handBmp24();
    huge.writeInt32LE(1_000_000, 18);
    const rle = handBmp24();
    rle.writeUInt32LE(1, 30);
    const badOffset = handBmp24();
    badOffset.writeUInt32LE(0xfffffff0, 10);
    const badHeader = handBmp24();
    badHeader.writeUInt32LE(7, 14);
    for (const bad of [truncated, huge, rle, badOffset, badHeader, Buffer.from('BM')]) {
      await expect(decodeExtra(bad, 'bmp')).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 422 });
    }
  });
});

describe('decodeExtra: ICO', () => {
  it('decodes an ICO wrapping a PNG and picks the largest entry', async () => {
    const small = await sharp({ create: { width: 16, height: 16, channels: 4, background: '#0000ffff' } }).png().toBuffer();
    const large = await sharp({ create: { width: 32, height: 24, channels: 4, background: '#ff000080' } }).png().toBuffer();
    // Two-entry directory built from two single-entry files.
    const a = encodeIco(small, 16, 16);
    const b = encodeIco(large, 32, 24);
    const head = Buffer.alloc(6 + 32);
    head.writeUInt16LE(1, 2);
    head.writeUInt16LE(2, 4);
    a.copy(head, 6, 6, 22);
    b.copy(head, 22, 6, 22);
    head.writeUInt32LE(38, 6 + 12);
    head.writeUInt32LE(38 + small.length, 22 + 12);
    const ico = Buffer.concat([head, small, large]);
    expect(sniffExtraFormat(ico)).toBe('ico');
    expect(probeExtra(ico, 'ico')).toEqual({ width: 32, height: 24 });
    const img = await decodeExtra(ico, 'ico');
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
    const img = await decodeExtra(Buffer.concat([head, dib]), 'ico');
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
      await expect(decodeExtra(bad, 'ico')).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 422 });
    }
  });

  it('does not mistake an ISO-BMFF box of size 256 for an ICO', () => {
    const mp4ish = Buffer.alloc(64);
    mp4ish.writeUInt32BE(256, 0);
    mp4ish.write('ftypheic', 4, 'latin1');
    expect(sniffExtraFormat(mp4ish)).toBeNull();
  });

  it('encodeIco refuses images over 256 px', () => {
    expect(() => encodeIco(Buffer.alloc(8), 257, 10)).toThrow(RangeError);
    const ico = encodeIco(Buffer.alloc(8), 256, 256);
    expect([ico[6], ico[7], ico.readUInt32LE(18)]).toEqual([0, 0, 22]);
  });
});
