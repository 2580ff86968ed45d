/**
 * BMP and ICO, which libvips as shipped with sharp cannot load or save (`sharp.format` has
 * no bmp/ico). Decoding is done here to raw pixels that sharp then takes as
 * `{ raw: { width, height, channels } }`; encoding wraps raw pixels (BMP) or a PNG (ICO).
 *
 * Every offset and size read from the file is checked against the buffer before use: these
 * bytes come from the network, and a header that lies about sizes must end in a 422, never
 * in a RangeError (500) or a huge allocation.
 */
import sharp from 'sharp';
import { ProxyError } from '../errors.js';
import type { ImageFormat } from '../options.js';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  /** 16-bit samples (a 16-bit PSD under preserve_hdr); 8-bit when absent. */
  depth?: 'uchar' | 'ushort';
}

/** No real BMP or ICO gets near this; it bounds what a forged header can make us allocate. */
const MAX_SIDE = 32_768;
const MAX_PIXELS = 268_435_456; // 2^28, libvips' own default pixel limit for sharp

function bad(detail: string): ProxyError {
  return new ProxyError('UNSUPPORTED_IMAGE', detail);
}

/** 'bmp' or 'ico' from the magic bytes, else null. */
export function sniffExtraFormat(buf: Buffer): 'bmp' | 'ico' | null {
  if (buf.length >= 26 && buf[0] === 0x42 && buf[1] === 0x4d) return 'bmp';
  if (buf.length >= 22 && buf.readUInt16LE(0) === 0) {
    // "00 00 01 00" alone also starts e.g. an ISO-BMFF box of size 256: require a directory
    // that fits and a first entry with a zero reserved byte (and sane planes for icons).
    const type = buf.readUInt16LE(2);
    const count = buf.readUInt16LE(4);
    const planes = buf.readUInt16LE(10);
    if ((type === 1 || type === 2) && count > 0 && 6 + count * 16 <= buf.length && buf[9] === 0 && (type === 2 || planes <= 1)) return 'ico';
  }
  return null;
}

/**
 * Decodes BMP or ICO to raw pixels; null for any other format (sharp handles those).
 * Corrupt or unsupported variants throw ProxyError UNSUPPORTED_IMAGE.
 */
export async function decodeExtra(buf: Buffer, format: ImageFormat): Promise<RawImage | null> {
  if (format === 'bmp') return decodeBmp(buf);
  if (format === 'ico') return decodeIco(buf);
  return null;
}

/** Dimensions without decoding, so the caller can apply its resolution limit first. */
export function probeExtra(buf: Buffer, format: ImageFormat): { width: number; height: number } | null {
  if (format === 'bmp') {
    if (buf.length < 26 || buf.toString('latin1', 0, 2) !== 'BM') throw bad('not a BMP file');
    const h = readDibHeader(buf, 14, false);
    return { width: h.width, height: h.height };
  }
  if (format === 'ico') {
    const e = pickIcoEntry(buf);
    if (isPng(buf, e.offset)) {
      if (e.offset + 24 > buf.length) throw bad('ICO: truncated PNG entry');
      return { width: buf.readUInt32BE(e.offset + 16), height: buf.readUInt32BE(e.offset + 20) };
    }
    const h = readDibHeader(buf, e.offset, true);
    return { width: h.width, height: h.height };
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// BMP

interface DibHeader {
  headerSize: number;
  width: number;
  height: number;
  topDown: boolean;
  bpp: number;
  compression: number;
  colorsUsed: number;
  masks: { r: number; g: number; b: number; a: number } | null;
  /** Where the palette (or, for BI_BITFIELDS with a 40-byte header, the masks) starts. */
  afterHeader: number;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

function readDibHeader(buf: Buffer, at: number, ico: boolean): DibHeader {
  if (at < 0 || at + 12 > buf.length) throw bad('BMP: truncated header');
  const headerSize = buf.readUInt32LE(at);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  if (headerSize === 12) {
    width = buf.readUInt16LE(at + 4);
    rawHeight = buf.readInt16LE(at + 6);
    bpp = buf.readUInt16LE(at + 10);
  } else if (headerSize >= 40 && headerSize <= 256) {
    if (at + headerSize > buf.length) throw bad('BMP: truncated header');
    width = buf.readInt32LE(at + 4);
    rawHeight = buf.readInt32LE(at + 8);
    bpp = buf.readUInt16LE(at + 14);
    compression = buf.readUInt32LE(at + 16);
    colorsUsed = buf.readUInt32LE(at + 32);
  } else {
    throw bad(`BMP: unknown header size ${headerSize}`);
  }
  const topDown = rawHeight < 0;
  let height = Math.abs(rawHeight);
  // ICO bitmaps store XOR + AND masks and declare the sum of both heights.
  if (ico) height = Math.floor(height / 2);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw bad(`BMP: unsupported dimensions ${width}x${height}`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw bad(`BMP: unsupported bit depth ${bpp}`);
  let masks: DibHeader['masks'] = null;
  let afterHeader = at + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 16 && bpp !== 32) throw bad('BMP: bitfields need 16 or 32 bits per pixel');
    const withAlpha = compression === BI_ALPHABITFIELDS || headerSize >= 56;
    // Masks live inside V2+ headers (≥ 52 bytes), after a plain 40-byte header otherwise.
    const m = headerSize >= 52 ? at + 40 : afterHeader;
    const n = withAlpha ? 16 : 12;
    if (m + n > buf.length) throw bad('BMP: truncated bitfield masks');
    masks = { r: buf.readUInt32LE(m), g: buf.readUInt32LE(m + 4), b: buf.readUInt32LE(m + 8), a: withAlpha ? buf.readUInt32LE(m + 12) : 0 };
    if (headerSize < 52) afterHeader += n;
  } else if (compression !== BI_RGB) {
    throw bad(`BMP: compression ${compression} (RLE/JPEG/PNG) is not supported`);
  } else if (bpp === 16) {
    masks = { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 };
  }
  return { headerSize, width, height, topDown, bpp, compression, colorsUsed, masks, afterHeader };
}

function decodeBmp(buf: Buffer): RawImage {
  if (buf.length < 26 || buf.toString('latin1', 0, 2) !== 'BM') throw bad('not a BMP file');
  const pixelOffset = buf.readUInt32LE(10);
  return decodeDib(buf, 14, pixelOffset, false);
}

/** Decodes a DIB (BMP minus its 14-byte file header). `pixelOffset` undefined → right after the palette (ICO). */
function decodeDib(buf: Buffer, at: number, pixelOffset: number | undefined, ico: boolean): RawImage {
  const h = readDibHeader(buf, at, ico);
  const { width: w, height: ht, bpp } = h;

  let palette: Uint8Array | null = null;
  let pos = h.afterHeader;
  if (bpp <= 8) {
    const maxColors = 1 << bpp;
    const count = h.colorsUsed > 0 && h.colorsUsed <= maxColors ? h.colorsUsed : maxColors;
    const entry = h.headerSize === 12 ? 3 : 4;
    if (pos + count * entry > buf.length) throw bad('BMP: truncated palette');
    // Always 256 entries so an out-of-range index reads black instead of out of bounds.
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < count; i++) {
      palette[i * 3] = buf[pos + i * entry + 2] ?? 0;
      palette[i * 3 + 1] = buf[pos + i * entry + 1] ?? 0;
      palette[i * 3 + 2] = buf[pos + i * entry] ?? 0;
    }
    pos += count * entry;
  }
  const start = pixelOffset ?? pos;
  const stride = Math.floor((w * bpp + 31) / 32) * 4;
  if (start < 0 || start + stride * ht > buf.length) throw bad('BMP: truncated pixel data');

  const out = Buffer.alloc(w * ht * 4);
  const masks = h.masks ?? (bpp === 32 ? { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: 0xff000000 } : null);
  // Plain 32-bit BI_RGB files often leave the 4th byte at 0 meaning "unused": only treat it
  // as alpha if some pixel has a non-zero value there.
  let alphaSeen = false;
  for (let y = 0; y < ht; y++) {
    const srcRow = start + (h.topDown ? y : ht - 1 - y) * stride;
    const dstRow = y * w * 4;
    for (let x = 0; x < w; x++) {
      const d = dstRow + x * 4;
      if (palette) {
        const bitPos = x * bpp;
        const byte = buf[srcRow + (bitPos >> 3)] ?? 0;
        const idx = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        out[d] = palette[idx * 3] ?? 0;
        out[d + 1] = palette[idx * 3 + 1] ?? 0;
        out[d + 2] = palette[idx * 3 + 2] ?? 0;
        out[d + 3] = 255;
      } else if (bpp === 24) {
        const s = srcRow + x * 3;
        out[d] = buf[s + 2] ?? 0;
        out[d + 1] = buf[s + 1] ?? 0;
        out[d + 2] = buf[s] ?? 0;
        out[d + 3] = 255;
      } else if (masks) {
        const v = bpp === 16 ? buf.readUInt16LE(srcRow + x * 2) : buf.readUInt32LE(srcRow + x * 4);
        out[d] = channel(v, masks.r);
        out[d + 1] = channel(v, masks.g);
        out[d + 2] = channel(v, masks.b);
        const a = masks.a ? channel(v, masks.a) : 255;
        out[d + 3] = a;
        if (masks.a && a !== 0) alphaSeen = true;
      }
    }
  }
  const hasAlphaChannel = masks !== null && masks.a !== 0;
  if (hasAlphaChannel && !alphaSeen) for (let i = 3; i < out.length; i += 4) out[i] = 255;

  if (ico) {
    // The 1-bit AND mask follows the colour bitmap; it is the only transparency for
    // images without a usable alpha channel.
    const useMask = !(hasAlphaChannel && alphaSeen);
    const maskStride = Math.floor((w + 31) / 32) * 4;
    const maskStart = start + stride * ht;
    if (useMask && maskStart + maskStride * ht <= buf.length) {
      for (let y = 0; y < ht; y++) {
        const row = maskStart + (h.topDown ? y : ht - 1 - y) * maskStride;
        for (let x = 0; x < w; x++) {
          if ((((buf[row + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1) === 1) out[(y * w + x) * 4 + 3] = 0;
        }
      }
      return { data: out, width: w, height: ht, channels: 4 };
    }
  }
  if (hasAlphaChannel && alphaSeen) return { data: out, width: w, height: ht, channels: 4 };
  return { data: dropAlpha(out, w * ht), width: w, height: ht, channels: 3 };
}

function channel(v: number, mask: number): number {
  if (mask === 0) return 0;
  let m = mask >>> 0;
  let shift = 0;
  while ((m & 1) === 0) {
    m >>>= 1;
    shift++;
  }
  const val = ((v >>> 0) & (mask >>> 0)) >>> shift;
  return Math.round((val * 255) / m);
}

function dropAlpha(rgba: Buffer, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    out[j] = rgba[i * 4] ?? 0;
    out[j + 1] = rgba[i * 4 + 1] ?? 0;
    out[j + 2] = rgba[i * 4 + 2] ?? 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// ICO

interface IcoEntry {
  width: number;
  height: number;
  bpp: number;
  size: number;
  offset: number;
}

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(buf: Buffer, at: number): boolean {
  return at + 8 <= buf.length && buf.subarray(at, at + 8).equals(PNG_SIG);
}

/** The largest image in the directory (ties: deepest colour), as browsers pick for big renders. */
function pickIcoEntry(buf: Buffer): IcoEntry {
  if (buf.length < 6 || buf.readUInt16LE(0) !== 0) throw bad('not an ICO file');
  const type = buf.readUInt16LE(2);
  const count = buf.readUInt16LE(4);
  if ((type !== 1 && type !== 2) || count === 0) throw bad('not an ICO file');
  if (6 + count * 16 > buf.length) throw bad('ICO: truncated directory');
  let best: IcoEntry | null = null;
  for (let i = 0; i < count; i++) {
    const e = 6 + i * 16;
    const entry: IcoEntry = {
      width: buf[e] || 256,
      height: buf[e + 1] || 256,
      // Cursors (type 2) keep the hotspot where icons keep planes/bpp.
      bpp: type === 1 ? buf.readUInt16LE(e + 6) : 0,
      size: buf.readUInt32LE(e + 8),
      offset: buf.readUInt32LE(e + 12),
    };
    if (entry.size === 0 || entry.offset < 6 + count * 16 || entry.offset + entry.size > buf.length) continue;
    if (!best || entry.width * entry.height > best.width * best.height || (entry.width * entry.height === best.width * best.height && entry.bpp > best.bpp)) best = entry;
  }
  if (!best) throw bad('ICO: no readable image entry');
  return best;
}

async function decodeIco(buf: Buffer): Promise<RawImage> {
  const e = pickIcoEntry(buf);
  const body = buf.subarray(e.offset, e.offset + e.size);
  if (isPng(body, 0)) {
    try {
      const { data, info } = await sharp(body, { limitInputPixels: MAX_PIXELS }).ensureAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: 4 };
    } catch (err) {
      throw new ProxyError('UNSUPPORTED_IMAGE', `ICO: embedded PNG cannot be decoded: ${(err as Error).message}`, { cause: err });
    }
  }
  return decodeDib(body, 0, undefined, true);
}

// ---------------------------------------------------------------------------------------
// Encoders

/**
 * Raw pixels → BMP. Opaque input (1 or 3 channels) gives a 24-bit BI_RGB file, the most
 * widely readable; input with alpha gives a 32-bit BITMAPV4 file with an alpha mask.
 */
export function encodeBmp(raw: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4): Buffer {
  if (raw.length < width * height * channels) throw new RangeError('encodeBmp: raw buffer smaller than width × height × channels');
  const alpha = channels === 2 || channels === 4;
  const bpp = alpha ? 32 : 24;
  const headerSize = alpha ? 108 : 40;
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  const dataOffset = 14 + headerSize;
  const out = Buffer.alloc(dataOffset + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(dataOffset, 10);
  out.writeUInt32LE(headerSize, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22); // positive: bottom-up, the form every reader supports
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bpp, 28);
  out.writeUInt32LE(alpha ? BI_BITFIELDS : BI_RGB, 30);
  out.writeUInt32LE(stride * height, 34);
  out.writeInt32LE(2835, 38); // 72 dpi
  out.writeInt32LE(2835, 42);
  if (alpha) {
    out.writeUInt32LE(0x00ff0000, 54);
    out.writeUInt32LE(0x0000ff00, 58);
    out.writeUInt32LE(0x000000ff, 62);
    out.writeUInt32LE(0xff000000, 66);
    out.write('BGRs', 70, 'latin1'); // LCS_sRGB, stored little-endian
  }
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * channels;
      const grey = channels <= 2;
      const r = raw[s] ?? 0;
      const g = grey ? r : (raw[s + 1] ?? 0);
      const b = grey ? r : (raw[s + 2] ?? 0);
      const d = row + x * (bpp / 8);
      out[d] = b;
      out[d + 1] = g;
      out[d + 2] = r;
      if (alpha) out[d + 3] = raw[s + channels - 1] ?? 255;
    }
  }
  return out;
}

/** Wraps a PNG (≤ 256 px per side, as ICO requires) in a one-entry ICO container. */
export function encodeIco(png: Buffer, width: number, height: number): Buffer {
  if (width < 1 || height < 1 || width > 256 || height > 256) throw new RangeError(`encodeIco: ICO images are at most 256x256, got ${width}x${height}`);
  const head = Buffer.alloc(22);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(1, 4);
  head[6] = width === 256 ? 0 : width;
  head[7] = height === 256 ? 0 : height;
  head.writeUInt16LE(1, 10);
  head.writeUInt16LE(32, 12);
  head.writeUInt32LE(png.length, 14);
  head.writeUInt32LE(22, 18);
  return Buffer.concat([head, png]);
}
