/**
 * Hand-written encoders for the fixture variants sharp cannot write: BMP of every bit depth
 * and compression imgproxy's test images use (palette 1/4/8, RLE8 with delta escapes,
 * 16-bit bitfields, 24/32-bit with V5 headers), ICO with PNG and BMP entries, TIFF with
 * 4-bit grey and 32-bit float samples, PNG with 1-bit grey or a gAMA chunk. Formats:
 * https://learn.microsoft.com/en-us/windows/win32/gdi/bitmap-storage (BMP, ICO),
 * TIFF 6.0 §2/§8, https://www.w3.org/TR/png-3/ (PNG).
 */
import { deflateSync } from 'node:zlib';

/** 8-bit RGBA pixels, top row first. */
export interface Rgba8 {
  width: number;
  height: number;
  data: Buffer;
}

export type Palette = readonly (readonly [number, number, number])[];

export interface BmpSpec {
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  /** 40 = BITMAPINFOHEADER, 124 = BITMAPV5HEADER. */
  header?: 40 | 124;
  /** RLE8 (compression 1), 8 bpp only; `skip` columns per row are jumped with a delta escape. */
  rle8?: { skipAt: number; skip: number } | true;
  /** Palette and per-pixel indices for 1/4/8 bpp. */
  palette?: Palette;
  index?: (x: number, y: number) => number;
  /** Height stored as negative (top-down rows). */
  topDown?: boolean;
  /** Bits per pixel written in the header when it must lie (the overflow regression case). */
  declaredBpp?: number;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

const stride = (width: number, bpp: number): number => Math.ceil((width * bpp) / 32) * 4;

function bmpRows(img: Rgba8, spec: BmpSpec): Buffer {
  const { width, height, data } = img;
  const rowBytes = stride(width, spec.bpp);
  const out = Buffer.alloc(rowBytes * height);
  for (let row = 0; row < height; row++) {
    const y = spec.topDown ? row : height - 1 - row;
    const o = row * rowBytes;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const [r, g, b, a] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 255];
      switch (spec.bpp) {
        case 1:
        case 4:
        case 8: {
          const idx = spec.index?.(x, y) ?? 0;
          const perByte = 8 / spec.bpp;
          const shift = 8 - spec.bpp * ((x % perByte) + 1);
          out[o + Math.floor(x / perByte)] = (out[o + Math.floor(x / perByte)] ?? 0) | (idx << shift);
          break;
        }
        case 16:
          out.writeUInt16LE(((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3), o + x * 2);
          break;
        case 24:
          out[o + x * 3] = b;
          out[o + x * 3 + 1] = g;
          out[o + x * 3 + 2] = r;
          break;
        case 32:
          out.writeUInt32LE(((a << 24) | (r << 16) | (g << 8) | b) >>> 0, o + x * 4);
          break;
      }
    }
  }
  return out;
}

/** RLE8: runs of equal indices, an optional delta escape per row, end-of-line and end-of-bitmap. */
function rle8(img: Rgba8, spec: BmpSpec): Buffer {
  const parts: number[] = [];
  const skip = spec.rle8 === true ? undefined : spec.rle8;
  for (let row = 0; row < img.height; row++) {
    const y = img.height - 1 - row;
    let x = 0;
    while (x < img.width) {
      if (skip && x === skip.skipAt) {
        parts.push(0, 2, skip.skip, 0);
        x += skip.skip;
        continue;
      }
      const idx = spec.index?.(x, y) ?? 0;
      let n = 1;
      const limit = skip && x < skip.skipAt ? skip.skipAt : img.width;
      while (x + n < limit && n < 255 && (spec.index?.(x + n, y) ?? 0) === idx) n++;
      parts.push(n, idx);
      x += n;
    }
    parts.push(0, 0);
  }
  parts.push(0, 1);
  return Buffer.from(parts);
}

export function encodeBmp(img: Rgba8, spec: BmpSpec): Buffer {
  const header = spec.header ?? 40;
  const palette = spec.bpp <= 8 ? (spec.palette ?? []) : [];
  const bitfields = spec.bpp === 16 || spec.bpp === 32;
  const pixels = spec.rle8 ? rle8(img, spec) : bmpRows(img, spec);
  const compression = spec.rle8 ? 1 : bitfields ? 3 : 0;
  const masks = spec.bpp === 16 ? [0xf800, 0x07e0, 0x001f, 0] : [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];
  const info: Buffer[] = [
    u32(header),
    i32(img.width),
    i32(spec.topDown ? -img.height : img.height),
    u16(1),
    u16(spec.declaredBpp ?? spec.bpp),
    u32(compression),
    u32(pixels.length),
    u32(2835),
    u32(2835),
    u32(palette.length),
    u32(0),
  ];
  let extra = Buffer.alloc(0);
  if (header === 124) {
    const v5 = Buffer.alloc(124 - 40);
    if (bitfields) masks.forEach((m, i) => v5.writeUInt32LE(m >>> 0, i * 4));
    v5.write('BGRs', 16, 'latin1'); // LCS_sRGB, stored little-endian
    v5.writeUInt32LE(4, 16 + 4 + 36 + 12); // LCS_GM_IMAGES
    info.push(v5);
  } else if (bitfields) {
    extra = Buffer.concat(masks.slice(0, 3).map(u32));
  }
  const pal = Buffer.concat(palette.map(([r, g, b]) => Buffer.from([b, g, r, 0])));
  const head = Buffer.concat([...info, extra, pal]);
  const offset = 14 + head.length;
  const file = Buffer.concat([Buffer.from('BM', 'latin1'), u32(offset + pixels.length), u32(0), u32(offset)]);
  return Buffer.concat([file, head, pixels]);
}

export type IcoEntry = { kind: 'png'; png: Buffer; width: number; height: number } | { kind: 'bmp'; image: Rgba8; bpp: 4 | 32; palette?: Palette; index?: (x: number, y: number) => number };

/** An ICO whose BMP entries carry the doubled height and the 1-bit AND mask the format requires. */
export function encodeIco(entries: readonly IcoEntry[]): Buffer {
  const blobs = entries.map((e) => {
    if (e.kind === 'png') return e.png;
    const spec: BmpSpec = { bpp: e.bpp, palette: e.palette, index: e.index };
    const xor = bmpRows(e.image, spec);
    const maskStride = stride(e.image.width, 1);
    const and = Buffer.alloc(maskStride * e.image.height);
    for (let row = 0; row < e.image.height; row++) {
      const y = e.image.height - 1 - row;
      for (let x = 0; x < e.image.width; x++) {
        if ((e.image.data[(y * e.image.width + x) * 4 + 3] ?? 255) < 128) and[row * maskStride + (x >> 3)] = (and[row * maskStride + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
      }
    }
    const pal = Buffer.concat((e.palette ?? []).map(([r, g, b]) => Buffer.from([b, g, r, 0])));
    const info = Buffer.concat([u32(40), i32(e.image.width), i32(e.image.height * 2), u16(1), u16(e.bpp), u32(0), u32(xor.length + and.length), u32(0), u32(0), u32(e.palette?.length ?? 0), u32(0)]);
    return Buffer.concat([info, pal, xor, and]);
  });
  const dir = Buffer.concat([u16(0), u16(1), u16(entries.length)]);
  let offset = 6 + 16 * entries.length;
  const rows = entries.map((e, i) => {
    const w = e.kind === 'png' ? e.width : e.image.width;
    const h = e.kind === 'png' ? e.height : e.image.height;
    const bpp = e.kind === 'png' ? 32 : e.bpp;
    const size = blobs[i]?.length ?? 0;
    const row = Buffer.concat([Buffer.from([w >= 256 ? 0 : w, h >= 256 ? 0 : h, bpp === 4 ? 16 : 0, 0]), u16(1), u16(bpp), u32(size), u32(offset)]);
    offset += size;
    return row;
  });
  return Buffer.concat([dir, ...rows, ...blobs]);
}

/**
 * Little-endian baseline TIFF, one uncompressed strip: grey, RGB or RGBA (unassociated
 * alpha), 4/8/16-bit integer or 32-bit float samples.
 */
export function encodeTiff(width: number, height: number, channels: 1 | 3 | 4, bits: 4 | 8 | 16 | 32, samples: (x: number, y: number, c: number) => number): Buffer {
  const rowBytes = Math.ceil((width * channels * bits) / 8);
  const pixels = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = samples(x, y, c);
        const n = x * channels + c;
        const o = y * rowBytes;
        if (bits === 32) pixels.writeFloatLE(v, o + n * 4);
        else if (bits === 16) pixels.writeUInt16LE(Math.round(v), o + n * 2);
        else if (bits === 8) pixels[o + n] = Math.round(v);
        else pixels[o + (n >> 1)] = (pixels[o + (n >> 1)] ?? 0) | ((Math.round(v) & 15) << (n % 2 === 0 ? 4 : 0));
      }
    }
  }
  // Arrays of `channels` shorts live after the header when they do not fit in a tag.
  const arrays = Buffer.alloc(16);
  for (let c = 0; c < 4; c++) {
    arrays.writeUInt16LE(bits, c * 2);
    arrays.writeUInt16LE(bits === 32 ? 3 : 1, 8 + c * 2);
  }
  const inline = channels <= 2;
  const tags: [number, number, number, number][] = [
    [256, 3, 1, width],
    [257, 3, 1, height],
    [258, 3, channels, inline ? bits : 8],
    [259, 3, 1, 1],
    [262, 3, 1, channels === 1 ? 1 : 2],
    [273, 4, 1, 0],
    [277, 3, 1, channels],
    [278, 3, 1, height],
    [279, 4, 1, pixels.length],
    [284, 3, 1, 1],
    ...(channels === 4 ? [[338, 3, 1, 2] as [number, number, number, number]] : []),
    [339, 3, channels, inline ? (bits === 32 ? 3 : 1) : 16],
  ];
  const ifdSize = 2 + tags.length * 12 + 4;
  const dataStart = 8 + arrays.length + ifdSize;
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(tags.length, 0);
  tags.forEach(([tag, type, count, value], i) => {
    const o = 2 + i * 12;
    ifd.writeUInt16LE(tag, o);
    ifd.writeUInt16LE(type, o + 2);
    ifd.writeUInt32LE(count, o + 4);
    const v = tag === 273 ? dataStart : value;
    if (type === 3 && count === 1) ifd.writeUInt16LE(v, o + 8);
    else ifd.writeUInt32LE(v, o + 8);
  });
  const head = Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0]);
  head.writeUInt32LE(8 + arrays.length, 4);
  return Buffer.concat([head, arrays, ifd, pixels]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([t, data])));
  return Buffer.concat([len, t, data, crc]);
}

/** PNG: 1-bit grey from `grey(x, y) ∈ {0,1}`, or 16-bit RGB with an optional gAMA (1.0 = linear). */
export function encodePng(width: number, height: number, kind: { grey1: (x: number, y: number) => number } | { rgb16: (x: number, y: number, c: number) => number; gamma?: number }): Buffer {
  const grey = 'grey1' in kind;
  const rowBytes = grey ? Math.ceil(width / 8) : width * 6;
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (rowBytes + 1) + 1;
    for (let x = 0; x < width; x++) {
      if ('grey1' in kind) {
        if (kind.grey1(x, y)) raw[o + (x >> 3)] = (raw[o + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
      } else {
        for (let c = 0; c < 3; c++) raw.writeUInt16BE(kind.rgb16(x, y, c), o + x * 6 + c * 2);
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = grey ? 1 : 16;
  ihdr[9] = grey ? 0 : 2;
  const chunks = [chunk('IHDR', ihdr)];
  if (!grey && kind.gamma !== undefined) {
    const g = Buffer.alloc(4);
    g.writeUInt32BE(Math.round(100000 / kind.gamma));
    chunks.push(chunk('gAMA', g));
  }
  chunks.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}
